#include "ResamplingConsumer.h"

#include "voxseg/core/Error.h"
#include "voxseg/processing/Resample.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <random>

namespace voxseg::pipeline {
namespace {

// Collects the slabs it is given, in the network order of the slabs, as [K][Z][Y][X] (ITK layout).
class Collect : public inference::SlabConsumer {
public:
  explicit Collect(const Geometry& g, std::int64_t k) : g_(g), k_(k), data(std::size_t(k) * g.voxelCount(), NAN) {}
  void consume(const inference::SlabView& s) override {
    EXPECT_EQ(s.begin, next) << "slabs out of order";
    next = s.end;
    ++slabs;
    const std::size_t n = g_.voxelCount(), rows = std::size_t(s.end - s.begin);
    for (std::int64_t k = 0; k < k_; ++k)
      for (std::size_t r = 0; r < rows; ++r)
        for (std::int64_t i = 0; i < s.shape[1]; ++i)
          for (std::int64_t j = 0; j < s.shape[2]; ++j) {
            const std::size_t a = std::size_t(s.begin) + r;
            const std::size_t x = s.order == AxisOrder::ZYX ? std::size_t(j) : a, y = std::size_t(i),
                              z = s.order == AxisOrder::ZYX ? a : std::size_t(j);
            data[std::size_t(k) * n + (z * g_.size[1] + y) * g_.size[0] + x] =
                s.data[((std::size_t(k) * rows + r) * std::size_t(s.shape[1]) + std::size_t(i)) *
                           std::size_t(s.shape[2]) +
                       std::size_t(j)];
          }
  }
  Geometry g_;
  std::int64_t k_;
  std::vector<float> data;
  std::int64_t next = 0;
  int slabs = 0;
};

Geometry obliqueGrid(Size3 size, Vec3 spacing) {
  Geometry g;
  g.size = size;
  g.spacing = spacing;
  g.origin = {-12.5, 40.25, 7.0};
  const double c = std::cos(0.3), s = std::sin(0.3);
  g.direction = {c, 0, s, 0, -1, 0, s, 0, -c}; // columns: axes; a rotation about y with y flipped
  return g;
}

// Slabs of random heights (one row up to all) on a network grid whose spacing is the input's times a factor that
// rounds the size down or up (points beyond the grid take the edge value), both network orders: the streamed
// resampling equals resampleLinear of each whole channel, and lets rows go.
TEST(ResamplingConsumer, StreamedSlabsEqualTheWholeResampling) {
  const Geometry work = obliqueGrid({23, 17, 29}, {0.9, 1.1, 1.3});
  const std::int64_t k = 3;
  std::mt19937 random(7);
  for (const double factor : {1.7, 0.6, 1.0 / 0.37}) {
    const Geometry net = processing::gridWithSpacing(
        work, {work.spacing[0] * factor, work.spacing[1] * factor * 0.8, work.spacing[2] * factor * 1.3});
    std::vector<float> logits(std::size_t(k) * net.voxelCount());
    std::uniform_real_distribution<float> value(-5, 5);
    for (auto& v : logits) v = value(random);
    std::vector<float> want;
    for (std::int64_t c = 0; c < k; ++c) {
      const auto r =
          processing::resampleLinear(*imageOver(logits.data() + std::size_t(c) * net.voxelCount(), net), work);
      want.insert(want.end(), r->GetBufferPointer(), r->GetBufferPointer() + work.voxelCount());
    }
    for (const AxisOrder order : {AxisOrder::ZYX, AxisOrder::XYZ}) {
      for (const std::size_t slabBytes : {std::size_t{1}, std::size_t{64} << 20}) {
        Collect collect(work, k);
        ResamplingConsumer resample(net, work, order, slabBytes, collect);
        // the network's rows in its order, in slabs of 1..6 rows, as [K][rows][n1][n2]
        const int axis = order == AxisOrder::ZYX ? 2 : 0;
        const auto rows = std::int64_t(net.size[std::size_t(axis)]);
        const std::int64_t n1 = std::int64_t(net.size[1]), n2 = std::int64_t(net.size[order == AxisOrder::ZYX ? 0 : 2]);
        std::uniform_int_distribution<std::int64_t> height(1, 6);
        std::vector<float> slab;
        for (std::int64_t b = 0; b < rows;) {
          const std::int64_t e = std::min(rows, b + height(random));
          slab.assign(std::size_t(k * (e - b) * n1 * n2), 0);
          for (std::int64_t c = 0; c < k; ++c)
            for (std::int64_t a = b; a < e; ++a)
              for (std::int64_t i = 0; i < n1; ++i)
                for (std::int64_t j = 0; j < n2; ++j) {
                  const std::size_t x = std::size_t(order == AxisOrder::ZYX ? j : a), y = std::size_t(i),
                                    z = std::size_t(order == AxisOrder::ZYX ? a : j);
                  slab[std::size_t(((c * (e - b) + a - b) * n1 + i) * n2 + j)] =
                      logits[std::size_t(c) * net.voxelCount() + (z * net.size[1] + y) * net.size[0] + x];
                }
          inference::SlabView view;
          view.order = order;
          view.shape = order == AxisOrder::ZYX ? inference::Shape3{std::int64_t(net.size[2]), n1, n2}
                                               : inference::Shape3{std::int64_t(net.size[0]), n1, n2};
          view.begin = b;
          view.end = e;
          view.channels = k;
          view.data = slab.data();
          resample.consume(view);
          b = e;
        }
        resample.finish();
        double worst = 0;
        for (std::size_t i = 0; i < want.size(); ++i)
          worst = std::max(worst, double(std::fabs(want[i] - collect.data[i])));
        EXPECT_LT(worst, 1e-5) << "factor " << factor << ", order " << int(order) << ", slab bytes " << slabBytes;
        EXPECT_EQ(collect.next, std::int64_t(work.size[std::size_t(axis)]));
        if (slabBytes == 1) {
          EXPECT_EQ(collect.slabs, int(work.size[std::size_t(axis)])) << "one row per slab";
        }
        // held: the incoming slab (at most 6 rows) and the rows the next output row needs (at most 4 with margins)
        const std::size_t row = std::size_t(k) * net.voxelCount() / std::size_t(rows) * sizeof(float);
        EXPECT_LE(resample.peakHeldBytes(), 10 * row) << "factor " << factor << ", order " << int(order);
      }
    }
  }
}

TEST(ResamplingConsumer, RowsOutOfOrderOrMissingAreInternalErrors) {
  const Geometry work = obliqueGrid({8, 8, 12}, {1, 1, 1});
  const Geometry net = processing::gridWithSpacing(work, {2, 2, 2});
  Collect collect(work, 1);
  ResamplingConsumer resample(net, work, AxisOrder::ZYX, 1, collect);
  std::vector<float> slab(net.voxelCount(), 0.0f);
  inference::SlabView view;
  view.shape = {std::int64_t(net.size[2]), std::int64_t(net.size[1]), std::int64_t(net.size[0])};
  view.channels = 1;
  view.data = slab.data();
  view.begin = 1; // row 0 never came
  view.end = 2;
  EXPECT_THROW(resample.consume(view), Error);
  view.begin = 0;
  view.end = 2;
  resample.consume(view);
  try {
    resample.finish();
    ADD_FAILURE() << "finished with rows missing";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Internal);
  }
}

} // namespace
} // namespace voxseg::pipeline
