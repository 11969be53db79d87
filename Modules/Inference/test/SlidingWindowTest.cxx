// The engine on tiny TorchScript networks defined here: axis order, memory bound, mirroring,
// fold averaging, label mapping.
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/core/Error.h"
#include "voxseg/testing/Data.h"

#include <torch/script.h>

#include <gtest/gtest.h>

#include <cmath>
#include <numeric>
#include <set>

namespace voxseg::inference {
namespace {

using voxseg::testing::TempDir;

// A scripted module with the given forward body, saved and loaded back as a voxseg Network.
Network scripted(const TempDir& dir, const std::string& name, const std::string& forwardBody) {
  torch::jit::Module m(name);
  m.define("def forward(self, x):\n" + forwardBody + "\n");
  const std::string path = dir.file(name + ".pt");
  m.save(path);
  return Network::loadTorchScript(path, DeviceSpec{"cpu"});
}

// Output channel 0 and 1: the index along the network's first spatial axis (then + 1).
const char* kAxisIndexNet = "    a = (torch.arange(x.size(2)) * 1.0).view(1, 1, -1, 1, 1)\n"
                            "    a = a.expand(x.size(0), 1, x.size(2), x.size(3), x.size(4))\n"
                            "    return torch.cat([a, a + 1.0], 1)";

InputVolume volumeOf(const std::vector<float>& data, Shape3 zyx) {
  InputVolume in;
  in.zyx = zyx;
  in.channels = {data.data()};
  return in;
}

TEST(SlidingWindow, NetworkSeesTheCardsAxisOrder) {
  TempDir dir;
  const Network net = scripted(dir, "axisindex", kAxisIndexNet);
  const Shape3 zyx{3, 4, 5};
  std::vector<float> data(60, 0.0f);
  EngineOptions o;
  o.importance.type = ImportanceMap::Type::Constant;
  for (AxisOrder order : {AxisOrder::ZYX, AxisOrder::XYZ}) {
    o.patch = order == AxisOrder::ZYX ? Shape3{3, 4, 5} : Shape3{5, 4, 3};
    LogitCollector out;
    slidingWindow({&net}, volumeOf(data, zyx), order, o, out);
    ASSERT_EQ(out.zyx, zyx);
    for (std::int64_t z = 0; z < 3; ++z)
      for (std::int64_t y = 0; y < 4; ++y)
        for (std::int64_t x = 0; x < 5; ++x)
          ASSERT_EQ(out.logits[std::size_t((z * 4 + y) * 5 + x)], float(order == AxisOrder::ZYX ? z : x))
              << axisOrderName(order);
  }
}

TEST(SlidingWindow, MemoryGrowsWithTheSlabNotTheVolume) {
  TempDir dir;
  const int K = 24;
  const Network net = scripted(dir, "repeat", "    return x.repeat([1, " + std::to_string(K) + ", 1, 1, 1])");
  const Shape3 zyx{400, 8, 8};
  std::vector<float> data(std::size_t(400 * 64));
  std::iota(data.begin(), data.end(), 0.0f);
  EngineOptions o;
  o.patch = {16, 8, 8};
  o.importance.type = ImportanceMap::Type::GaussianNnUNet;
  o.swBatch = 3;
  LogitCollector out;
  const RunStats st = slidingWindow({&net}, volumeOf(data, zyx), AxisOrder::ZYX, o, out);
  const std::int64_t full = (K + 1) * 400 * 64 * 4;
  EXPECT_GT(st.slabs, 10);
  EXPECT_LE(st.peakAccumulatorBytes, (K + 1) * (2 * 16) * 64 * 4) << "full volume would be " << full;
  for (int k = 0; k < K; ++k)
    for (std::size_t i = 0; i < data.size(); i += 97)
      ASSERT_NEAR(out.logits[std::size_t(k) * data.size() + i], data[i], 1e-3 + 1e-6 * data[i]);
}

// Staged hand-over (a GPU's copy overlap, here its CPU twin): the same slabs, in the same order, with
// the same values as handing each over at once.
TEST(SlidingWindow, StagedSlabsReachTheConsumerInOrderWithTheSameValues) {
  struct Rows : LogitCollector {
    void consume(const SlabView& s) override {
      begins.push_back(s.begin);
      ends.push_back(s.end);
      LogitCollector::consume(s);
    }
    std::vector<std::int64_t> begins, ends;
  };
  TempDir dir;
  const Network net = scripted(dir, "repeat", "    return torch.cat([x, x.sin(), x * 0.5], 1)");
  const Shape3 zyx{200, 8, 8};
  std::vector<float> data(std::size_t(200 * 64));
  std::iota(data.begin(), data.end(), 0.0f);
  for (float& v : data) v *= 0.01f; // within float16's range once windows overlap (beyond it is a model error)
  EngineOptions o;
  o.patch = {16, 8, 8};
  o.swBatch = 2;
  o.halfAccumulation = true;
  Rows immediate, staged;
  o.copyOverlap = CopyOverlap::Off;
  const RunStats a = slidingWindow({&net}, volumeOf(data, zyx), AxisOrder::ZYX, o, immediate);
  o.copyOverlap = CopyOverlap::Always;
  const RunStats b = slidingWindow({&net}, volumeOf(data, zyx), AxisOrder::ZYX, o, staged);
  ASSERT_GT(a.slabs, 10);
  EXPECT_EQ(a.overlappedSlabs, 0);
  EXPECT_EQ(b.overlappedSlabs, b.slabs);
  EXPECT_EQ(staged.begins, immediate.begins);
  EXPECT_EQ(staged.ends, immediate.ends);
  for (std::size_t i = 1; i < staged.begins.size(); ++i) ASSERT_EQ(staged.begins[i], staged.ends[i - 1]);
  EXPECT_EQ(staged.ends.back(), 200);
  EXPECT_EQ(staged.logits, immediate.logits);
  o.copyOverlap = CopyOverlap::Device; // the default: on the CPU, handed over at once
  Rows byDefault;
  EXPECT_EQ(slidingWindow({&net}, volumeOf(data, zyx), AxisOrder::ZYX, o, byDefault).overlappedSlabs, 0);
  EXPECT_EQ(byDefault.logits, immediate.logits);
}

TEST(SlidingWindow, MirroringAveragesFlippedPredictions) {
  TempDir dir;
  const Network net = scripted(dir, "axisindex", kAxisIndexNet);
  std::vector<float> data(6 * 2 * 2, 0.0f);
  EngineOptions o;
  o.patch = {6, 2, 2};
  o.importance.type = ImportanceMap::Type::Constant;
  o.mirrorAxes = {0};
  LogitCollector out;
  slidingWindow({&net}, volumeOf(data, {6, 2, 2}), AxisOrder::ZYX, o, out);
  for (std::size_t i = 0; i < data.size(); ++i) EXPECT_FLOAT_EQ(out.logits[i], 2.5f); // (z + 5 - z) / 2
  o.mirrorAxes = {1, 2}; // the net does not vary along these: unchanged
  LogitCollector same;
  slidingWindow({&net}, volumeOf(data, {6, 2, 2}), AxisOrder::ZYX, o, same);
  EXPECT_EQ(same.logits[4], 1.0f);
}

TEST(SlidingWindow, FoldsAreAveraged) {
  TempDir dir;
  const Network a = scripted(dir, "plus1", "    return torch.cat([x + 1.0, x], 1)");
  const Network b = scripted(dir, "plus3", "    return torch.cat([x + 3.0, x], 1)");
  std::vector<float> data(4 * 4 * 4, 1.0f);
  EngineOptions o;
  o.patch = {4, 4, 4};
  LogitCollector out;
  slidingWindow({&a, &b}, volumeOf(data, {4, 4, 4}), AxisOrder::ZYX, o, out);
  EXPECT_FLOAT_EQ(out.logits[0], 3.0f); // ((1+1) + (1+3)) / 2
  EXPECT_FLOAT_EQ(out.logits[64], 1.0f);
}

// Outputs beyond float16's range overflow nnU-Net's float16 accumulators: a model error, as nnU-Net stops there
// (labels were written from inf rows, probabilities as NaN); float32 accumulators hold them.
TEST(SlidingWindow, Float16AccumulatorOverflowIsAModelError) {
  TempDir dir;
  const Network net = scripted(dir, "huge", "    return torch.cat([x * 1000.0, -x], 1)");
  std::vector<float> data(4 * 4 * 4, 100.0f); // 1e5 > 65504
  EngineOptions o;
  o.patch = {4, 4, 4};
  o.halfAccumulation = true;
  LogitCollector out;
  try {
    slidingWindow({&net}, volumeOf(data, {4, 4, 4}), AxisOrder::ZYX, o, out);
    FAIL() << "inf accumulated";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_NE(std::string(e.what()).find("overflow float16 accumulators"), std::string::npos) << e.what();
  }
  o.halfAccumulation = false;
  LogitCollector wide;
  slidingWindow({&net}, volumeOf(data, {4, 4, 4}), AxisOrder::ZYX, o, wide);
  EXPECT_FLOAT_EQ(wide.logits[0], 1e5f);
}

TEST(SlidingWindow, SmallerThanThePatchIsPaddedAndCroppedBack) {
  TempDir dir;
  const Network net = scripted(dir, "ident", "    return torch.cat([x, -x], 1)");
  std::vector<float> data(3 * 5 * 2);
  std::iota(data.begin(), data.end(), 1.0f);
  EngineOptions o;
  o.patch = {8, 8, 8};
  LogitCollector out;
  slidingWindow({&net}, volumeOf(data, {3, 5, 2}), AxisOrder::ZYX, o, out);
  ASSERT_EQ(out.zyx, (Shape3{3, 5, 2}));
  for (std::size_t i = 0; i < data.size(); ++i)
    EXPECT_NEAR(out.logits[i], data[i], 1e-2) << i; // float16 accumulation off
}

// A network that runs out of memory (the message a CUDA allocator gives) above `limit` windows per call.
std::string oomAbove(int limit) {
  return "    assert x.size(0) <= " + std::to_string(limit) +
         ", 'CUDA out of memory. Tried to allocate 2.00 GiB'\n"
         "    return torch.cat([x * 2.0, x.sin()], 1)";
}

// The same volume through a network that fits and one that runs out of memory above 2 windows per call.
struct OomRuns {
  RunStats ref, st;
  LogitCollector expected, got;
};
OomRuns runFittingAndTight(const std::string& name, Shape3 zyx, const EngineOptions& o) {
  TempDir dir;
  const Network reference = scripted(dir, name + "_fits", oomAbove(1000));
  const Network tight = scripted(dir, name + "_tight", oomAbove(2));
  std::vector<float> data(std::size_t(zyx[0] * zyx[1] * zyx[2]));
  std::iota(data.begin(), data.end(), 0.0f);
  OomRuns r;
  r.ref = slidingWindow({&reference}, volumeOf(data, zyx), AxisOrder::ZYX, o, r.expected);
  r.st = slidingWindow({&tight}, volumeOf(data, zyx), AxisOrder::ZYX, o, r.got);
  return r;
}

TEST(SlidingWindow, OutOfMemoryHalvesTheWindowBatchWithTheSameResult) {
  EngineOptions o;
  o.patch = {4, 4, 4};
  o.mirrorAxes = {0, 2};
  o.swBatch = 8;
  const OomRuns r = runFittingAndTight("halves", {9, 10, 11}, o);
  EXPECT_EQ(r.ref.swBatch, 8);
  EXPECT_EQ(r.st.swBatch, 2); // 8 -> 4 -> 2
  EXPECT_EQ(r.st.windows, r.ref.windows);
  EXPECT_EQ(r.st.forwardCalls, (r.st.windows + 1) / 2); // every call after the first halvings takes two windows
  EXPECT_EQ(r.got.logits, r.expected.logits);
}

// 5 -> 2 windows per call: batches no longer start at multiples of 5 and straddle two rows of windows,
// which the accumulators must hold (they were sized for aligned batches: "accumulator rows exhausted").
TEST(SlidingWindow, OddHalvingStraddlesWindowRowsWithTheSameResult) {
  EngineOptions o;
  o.patch = {4, 4, 4};
  o.tiling.step = 1.0; // 3 rows of 5 windows, no overlap: (9, 10) straddles rows 2 and 3
  o.swBatch = 5;
  const OomRuns r = runFittingAndTight("odd", {12, 4, 20}, o);
  ASSERT_EQ(r.ref.windows, 15);
  EXPECT_EQ(r.st.swBatch, 2);
  EXPECT_EQ(r.got.logits, r.expected.logits);
}

TEST(SlidingWindow, OneWindowOutOfMemoryIsAModelErrorNamingTheNetwork) {
  TempDir dir;
  const Network net = scripted(dir, "never", oomAbove(0));
  std::vector<float> data(4 * 4 * 4, 1.0f);
  EngineOptions o;
  o.patch = {4, 4, 4};
  o.swBatch = 4;
  LogitCollector out;
  try {
    slidingWindow({&net}, volumeOf(data, {4, 4, 4}), AxisOrder::ZYX, o, out);
    FAIL() << "no error";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_NE(std::string(e.what()).find("never.pt: out of memory on cpu running one window of 4x4x4"),
              std::string::npos)
        << e.what();
  }
}

TEST(LabelConsumer, MapsChannelsToCardLabelsAndRegions) {
  TempDir dir;
  // channel 0: 0, channel 1: x - 1.5 (wins at x >= 2), channel 2: -1
  const Network net = scripted(dir, "three",
                               "    a = (torch.arange(x.size(4)) * 1.0).view(1, 1, 1, 1, -1).expand_as(x)\n"
                               "    return torch.cat([x * 0.0, a - 1.5, x * 0.0 - 1.0], 1)");
  ModelCard card;
  card.labels = {{0, "bg", {0, 0, 0}, {}, {}}, {5, "five", {1, 1, 1}, {}, {}}, {7, "seven", {2, 2, 2}, {}, {}}};
  std::vector<float> data(1 * 1 * 4, 0.0f);
  EngineOptions o;
  o.patch = {1, 1, 4};
  o.importance.type = ImportanceMap::Type::Constant;
  LabelConsumer labels(card);
  slidingWindow({&net}, volumeOf(data, {1, 1, 4}), AxisOrder::ZYX, o, labels);
  EXPECT_EQ(labels.labels, (std::vector<std::uint16_t>{0, 0, 5, 5}));

  card.regions = {{"r0", 5}, {"r1", 7}, {"r2", 5}}; // logits > 0 means sigmoid > 0.5; later regions win
  LabelConsumer regions(card);
  slidingWindow({&net}, volumeOf(data, {1, 1, 4}), AxisOrder::ZYX, o, regions);
  EXPECT_EQ(regions.labels, (std::vector<std::uint16_t>{0, 0, 7, 7}));

  ModelCard two;
  two.labels = {{0, "bg", {0, 0, 0}, {}, {}}, {1, "one", {1, 1, 1}, {}, {}}};
  LabelConsumer wrong(two);
  EXPECT_THROW(slidingWindow({&net}, volumeOf(data, {1, 1, 4}), AxisOrder::ZYX, o, wrong), Error);
}

// Labels made where the slab is (a GPU's reduction, here its CPU twin): the host's labels for argmax (ties
// to the first channel), regions, values above 32767, both axis orders, float16 accumulators, staged or not,
// a volume smaller than the patch across (padded), a two-fold ensemble.
TEST(LabelConsumer, LabelsMadeByTheEngineEqualTheHostsLabels) {
  TempDir dir;
  // four channels that cross each other along the volume, with exact ties where x == y
  const Network net = scripted(dir, "cross",
                               "    n = (torch.arange(x.size(4)) * 1.0).view(1, 1, 1, 1, -1).expand_as(x)\n"
                               "    m = (torch.arange(x.size(3)) * 1.0).view(1, 1, 1, -1, 1).expand_as(x)\n"
                               "    return torch.cat([n - m, m - n, x.sin(), 0.3 - x.abs()], 1)");
  const Network other =
      scripted(dir, "other", "    return torch.cat([x.cos() * 0.1, x * 0.05, x * -0.05, x * 0.0 + 0.01], 1)");
  std::vector<float> data(std::size_t(30 * 7 * 9));
  for (std::size_t i = 0; i < data.size(); ++i) data[i] = std::sin(0.37f * float(i));
  ModelCard card;
  card.labels = {{0, "bg", {0, 0, 0}, {}, {}},
                 {40000, "high", {1, 1, 1}, {}, {}},
                 {3, "three", {2, 2, 2}, {}, {}},
                 {65535, "top", {3, 3, 3}, {}, {}}};
  ModelCard regionsCard = card;
  regionsCard.regions = {{"a", 40000}, {"b", 3}, {"c", 7}, {"d", 65535}};
  const std::vector<std::vector<const Network*>> ensembles{{&net}, {&net, &other}};
  for (const Shape3& zyx : {Shape3{30, 7, 9}, Shape3{30, 5, 6}}) // the patch's size across, and smaller (padded)
    for (const auto& nets : ensembles)
      for (const ModelCard* c : {&card, &regionsCard})
        for (AxisOrder order : {AxisOrder::ZYX, AxisOrder::XYZ})
          for (bool half : {false, true})
            for (CopyOverlap overlap : {CopyOverlap::Off, CopyOverlap::Always}) {
              EngineOptions o;
              o.patch = order == AxisOrder::ZYX ? Shape3{8, 7, 9} : Shape3{9, 7, 8};
              o.swBatch = 2;
              o.halfAccumulation = half;
              o.copyOverlap = overlap;
              LabelConsumer host(*c), engine(*c);
              o.deviceLabels = DeviceLabels::Off;
              const RunStats a = slidingWindow(nets, volumeOf(data, zyx), order, o, host);
              o.deviceLabels = DeviceLabels::Always;
              const RunStats b = slidingWindow(nets, volumeOf(data, zyx), order, o, engine);
              const std::string what = std::string(c == &card ? "argmax" : "regions") + " " + axisOrderName(order) +
                                       (half ? " float16" : "") + (overlap == CopyOverlap::Always ? " staged" : "") +
                                       " " + std::to_string(zyx[1]) + "x" + std::to_string(zyx[2]) + " " +
                                       std::to_string(nets.size()) + " networks";
              EXPECT_EQ(a.deviceLabelSlabs, 0) << what;
              EXPECT_EQ(b.deviceLabelSlabs, b.slabs) << what;
              ASSERT_EQ(engine.zyx, zyx) << what;
              EXPECT_EQ(engine.labels, host.labels) << what;
              std::set<std::uint16_t> seen(host.labels.begin(), host.labels.end());
              EXPECT_GE(seen.size(), 3u) << what;
              EXPECT_TRUE(seen.count(c == &card ? 40000 : 65535)) << what;
            }
  // The default (Device) leaves the labels to the host on the CPU; a card that does not fit the network is
  // still refused by the consumer.
  const Shape3 zyx{30, 7, 9};
  LabelConsumer byDefault(card);
  EngineOptions o;
  o.patch = {8, 7, 9};
  EXPECT_EQ(slidingWindow({&net}, volumeOf(data, zyx), AxisOrder::ZYX, o, byDefault).deviceLabelSlabs, 0);
  ModelCard two;
  two.labels = {{0, "bg", {0, 0, 0}, {}, {}}, {1, "one", {1, 1, 1}, {}, {}}};
  LabelConsumer wrong(two);
  o.deviceLabels = DeviceLabels::Always;
  EXPECT_THROW(slidingWindow({&net}, volumeOf(data, zyx), AxisOrder::ZYX, o, wrong), Error);
}

TEST(Network, ProbeReportsShapesAndRejectsWrongChannels) {
  TempDir dir;
  const Network net = scripted(dir, "conv1", "    return torch.conv3d(x, torch.ones(2, 1, 1, 1, 1))");
  EXPECT_EQ(net.probeOutputShape(1, {4, 4, 4}), (std::vector<std::int64_t>{1, 2, 4, 4, 4}));
  try {
    net.probeOutputShape(3, {4, 4, 4});
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_NE(std::string(e.what()).find("does not accept an input of shape [1, 3, 4, 4, 4]"), std::string::npos)
        << e.what();
    EXPECT_NE(std::string(e.what()).find("channels"), std::string::npos) << e.what(); // the network's own words
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos) << e.what();
  }
}

TEST(Network, PackEmbedsTheCard) {
  TempDir dir;
  scripted(dir, "ident", "    return x");
  Network::pack(dir.file("ident.pt"), R"({"name": "x"})", dir.file("packed.pt"));
  const Network packed = Network::loadTorchScript(dir.file("packed.pt"), DeviceSpec{"cpu"});
  ASSERT_TRUE(packed.embeddedCard().has_value());
  EXPECT_EQ(*packed.embeddedCard(), R"({"name": "x"})");
  EXPECT_FALSE(Network::loadTorchScript(dir.file("ident.pt"), DeviceSpec{"cpu"}).embeddedCard().has_value());
}

TEST(Network, BadFilesAreModelErrors) {
  TempDir dir;
  std::ofstream(dir.file("junk.pt")) << "not a zip";
  for (const std::string& p : {dir.file("junk.pt"), dir.file("missing.pt")}) {
    try {
      Network::loadTorchScript(p, DeviceSpec{"cpu"});
      FAIL() << p;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Model);
      EXPECT_EQ(std::string(e.what()).rfind(p, 0), 0u) << e.what();
    }
  }
}

} // namespace
} // namespace voxseg::inference
