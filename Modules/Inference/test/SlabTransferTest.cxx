// Finished rows on their way to the consumer: staged slabs reach it in order, with their values, when
// finish() is called or when the budget is full. The copy stream itself runs only on a GPU
// (Testing/Device/run.sh); here the CPU's staging runs the same bookkeeping.
#include "SlabTransfer.h"

#include "voxseg/core/Error.h"

#include <gtest/gtest.h>

#include <stdexcept>
#include <vector>

namespace voxseg::inference {
namespace {

struct Recorder : SlabConsumer {
  void consume(const SlabView& s) override {
    begins.push_back(s.begin);
    const std::int64_t n = s.channels * (s.end - s.begin) * s.shape[1] * s.shape[2];
    values.emplace_back(s.data, s.data + n);
  }
  std::vector<std::int64_t> begins;
  std::vector<std::vector<float>> values;
};

// A [channels, rows, 2, 3] slab of rows [begin, begin + rows) whose values start at `first`.
torch::Tensor slabOf(std::int64_t channels, std::int64_t rows, float first) {
  return torch::arange(first, first + float(channels * rows * 6), torch::kFloat).view({channels, rows, 2, 3});
}
SlabView viewOf(std::int64_t begin, std::int64_t rows, std::int64_t channels) {
  SlabView v;
  v.shape = {100, 2, 3};
  v.begin = begin;
  v.end = begin + rows;
  v.channels = channels;
  return v;
}
std::vector<float> valuesOf(const torch::Tensor& t) {
  const auto c = t.to(torch::kFloat).contiguous();
  return {c.data_ptr<float>(), c.data_ptr<float>() + c.numel()};
}

// Labels (int16 bits of uint16 values) and values go through separate calls, each refusing the other's
// tensors; staged labels keep their kind until they are handed over.
TEST(SlabTransfer, LabelsAndValuesAreSaidApart) {
  struct LabelRecorder : SlabConsumer {
    void consume(const SlabView& s) override {
      ASSERT_EQ(s.data, nullptr);
      ASSERT_NE(s.labels, nullptr);
      labels.assign(s.labels, s.labels + (s.end - s.begin) * s.shape[1] * s.shape[2]);
    }
    std::vector<std::uint16_t> labels;
  };
  for (const bool overlapped : {false, true}) {
    SlabTransfer t(torch::kCPU, overlapped);
    LabelRecorder r;
    const auto labels = torch::tensor({1, 2, 40000 - 65536, 0, 7, 65535 - 65536}, torch::kShort).view({1, 2, 3});
    t.startLabels(labels, viewOf(0, 1, 1), r);
    t.finish(r);
    EXPECT_EQ(r.labels, (std::vector<std::uint16_t>{1, 2, 40000, 0, 7, 65535}));
    Recorder values;
    EXPECT_THROW(t.start(labels, viewOf(1, 1, 1), values), Error);
    EXPECT_THROW(t.startLabels(slabOf(1, 1, 0), viewOf(1, 1, 1), r), Error);
  }
}

TEST(SlabTransfer, ImmediateHandsEachSlabOverAtOnce) {
  SlabTransfer t(torch::kCPU, false);
  Recorder r;
  t.start(slabOf(2, 3, 0), viewOf(0, 3, 2), r);
  ASSERT_EQ(r.begins.size(), 1u);
  EXPECT_EQ(r.values[0], valuesOf(slabOf(2, 3, 0)));
  EXPECT_EQ(t.pendingBytes(), 0);
  EXPECT_EQ(t.deferred(), 0);
}

TEST(SlabTransfer, StagedSlabsWaitForFinishAndKeepTheirOrderAndValues) {
  SlabTransfer t(torch::kCPU, true);
  Recorder r;
  const auto a = slabOf(2, 3, 0), b = slabOf(2, 1, 100);
  const auto c = slabOf(2, 2, 500).to(torch::kHalf); // float16 accumulators: handed over as float32
  t.start(a, viewOf(0, 3, 2), r);
  t.start(b, viewOf(3, 1, 2), r);
  t.start(c.narrow(1, 0, 2), viewOf(4, 2, 2), r);
  EXPECT_TRUE(r.begins.empty());
  EXPECT_EQ(t.pendingBytes(), 4 * 2 * (3 + 1 + 2) * 6);
  t.finish(r);
  EXPECT_EQ(r.begins, (std::vector<std::int64_t>{0, 3, 4}));
  EXPECT_EQ(r.values[0], valuesOf(a));
  EXPECT_EQ(r.values[1], valuesOf(b));
  EXPECT_EQ(r.values[2], valuesOf(c));
  EXPECT_EQ(t.deferred(), 3);
  EXPECT_EQ(t.pendingBytes(), 0);
  // The buffers are reused: a smaller slab in a larger buffer carries only its own values.
  const auto d = slabOf(1, 1, 7);
  t.start(d, viewOf(6, 1, 1), r);
  t.finish(r);
  EXPECT_EQ(r.values[3], valuesOf(d));
}

TEST(SlabTransfer, AFullBudgetHandsThePendingSlabsOverFirst) {
  SlabTransfer t(torch::kCPU, true, /*budgetBytes=*/4 * 2 * 4 * 6); // two slabs of 2 rows fit
  Recorder r;
  t.start(slabOf(2, 2, 0), viewOf(0, 2, 2), r);
  t.start(slabOf(2, 2, 24), viewOf(2, 2, 2), r);
  EXPECT_TRUE(r.begins.empty());
  t.start(slabOf(2, 2, 48), viewOf(4, 2, 2), r);
  EXPECT_EQ(r.begins, (std::vector<std::int64_t>{0, 2}));
  t.start(slabOf(2, 9, 96), viewOf(6, 9, 2), r); // over the budget alone: still staged once nothing is pending
  EXPECT_EQ(r.begins, (std::vector<std::int64_t>{0, 2, 4}));
  t.finish(r);
  EXPECT_EQ(r.begins, (std::vector<std::int64_t>{0, 2, 4, 6}));
  EXPECT_EQ(r.values[3], valuesOf(slabOf(2, 9, 96)));
}

// A consumer that fails (a label file that cannot be written, say): the slab it failed on is not handed
// over again, the later ones stay pending.
TEST(SlabTransfer, AConsumerErrorLeavesTheLaterSlabsPending) {
  struct Failing : Recorder {
    void consume(const SlabView& s) override {
      Recorder::consume(s);
      if (s.begin == 1) throw std::runtime_error("disk full");
    }
  } r;
  SlabTransfer t(torch::kCPU, true);
  for (std::int64_t i = 0; i < 3; ++i) t.start(slabOf(1, 1, float(6 * i)), viewOf(i, 1, 1), r);
  EXPECT_THROW(t.finish(r), std::runtime_error);
  EXPECT_EQ(r.begins, (std::vector<std::int64_t>{0, 1}));
  EXPECT_EQ(t.pendingBytes(), 4 * 6);
  t.finish(r);
  EXPECT_EQ(r.begins, (std::vector<std::int64_t>{0, 1, 2}));
}

} // namespace
} // namespace voxseg::inference
