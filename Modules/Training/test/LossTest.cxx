// The training loss against its definition written out voxel by voxel (nnU-Net's DC_and_CE_loss: mean
// cross-entropy minus the batch soft Dice of the foreground classes, smooth 1e-5), and the ignore label:
// its voxels change neither the loss nor get a gradient, at every deep-supervision resolution.
#include "Loss.h"

#include <ATen/ATen.h>
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <vector>

namespace voxseg::training {
namespace {

// The losses written out, voxel by voxel in double precision. A plain dataset (`regions` empty): the mean
// cross-entropy over the annotated voxels minus the mean batch soft Dice of the foreground classes (softmax). A
// region-based one (nnU-Net's DC_and_BCE_loss): binary cross-entropy per region and voxel, its mean, or with an
// ignore label its sum over annotated voxels divided by their count (once, not per region, as nnU-Net divides);
// minus the mean batch soft Dice of the sigmoids over every region.
double referenceLoss(const at::Tensor& logits, const at::Tensor& target, int ignore, const Regions& regions = {}) {
  const auto l = logits.to(at::kDouble).flatten(2).contiguous();
  const auto t = target.flatten(1).contiguous();
  const auto B = l.size(0), C = l.size(1), V = l.size(2);
  const auto la = l.accessor<double, 3>();
  const auto ta = t.accessor<std::int64_t, 2>();
  double ce = 0, annotated = 0;
  std::vector<double> inter(std::size_t(C), 0), pred(std::size_t(C), 0), truth(std::size_t(C), 0);
  for (std::int64_t b = 0; b < B; ++b)
    for (std::int64_t v = 0; v < V; ++v) {
      if (ta[b][v] == ignore) continue;
      annotated += 1;
      double top = la[b][0][v], sum = 0;
      for (std::int64_t c = 1; c < C; ++c) top = std::max(top, la[b][c][v]);
      for (std::int64_t c = 0; c < C; ++c) sum += std::exp(la[b][c][v] - top);
      if (regions.empty()) ce -= la[b][ta[b][v]][v] - top - std::log(sum);
      for (std::int64_t c = 0; c < C; ++c) {
        double p = std::exp(la[b][c][v] - top) / sum, y = ta[b][v] == c ? 1.0 : 0.0;
        if (!regions.empty()) {
          const auto& r = regions[std::size_t(c)];
          y = std::count(r.begin(), r.end(), int(ta[b][v])) ? 1.0 : 0.0;
          p = 1.0 / (1.0 + std::exp(-la[b][c][v]));
          ce -= y * std::log(p) + (1 - y) * std::log(1 - p);
        }
        inter[std::size_t(c)] += p * y;
        pred[std::size_t(c)] += p;
        truth[std::size_t(c)] += y;
      }
    }
  const std::int64_t first = regions.empty() ? 1 : 0; // the background has no Dice term; every region has
  double dice = 0;
  for (std::int64_t c = first; c < C; ++c) {
    const auto k = std::size_t(c);
    dice += (2 * inter[k] + 1e-5) / std::max(pred[k] + truth[k] + 1e-5, 1e-8);
  }
  const double n = !regions.empty() && ignore < 0 ? double(B * C * V) : annotated;
  return (n > 0 ? ce / n : 0.0) - dice / double(C - first);
}

struct Case {
  at::Tensor logits, target; // target: 2 x 4 x 6 x 6, about a third of the voxels ignored (3)
};

Case makeCase() {
  at::manual_seed(3);
  Case c;
  c.logits = at::randn({2, 3, 4, 6, 6}) * 2;
  c.target = at::randint(0, 3, {2, 4, 6, 6}, at::kLong).masked_fill(at::rand({2, 4, 6, 6}) < 0.35, 3);
  return c;
}

TEST(TrainingLoss, IsNnUNetsDiceAndCrossEntropyWrittenOut) {
  const Case c = makeCase();
  const auto dense = c.target.masked_fill(c.target == 3, 1);
  EXPECT_NEAR(diceCeLoss(c.logits, dense).item<double>(), referenceLoss(c.logits, dense, -1), 1e-5);
  EXPECT_NEAR(diceCeLoss(c.logits, c.target, 3).item<double>(), referenceLoss(c.logits, c.target, 3), 1e-5);
  ASSERT_GT((c.target == 3).sum().item<std::int64_t>(), 0);
  ASSERT_LT((c.target == 3).sum().item<std::int64_t>(), c.target.numel());
}

TEST(TrainingLoss, IgnoredVoxelsChangeNothingAndGetNoGradient) {
  const Case c = makeCase();
  const auto ignored = (c.target == 3).unsqueeze(1).expand_as(c.logits);
  // two resolutions: full, and half, whose labels are voxels 1, 3, 5, ... (nnU-Net's nearest-exact); the lowest is
  // left out of the sum, so a third, coarser output carries the weight 0
  auto full = c.logits.clone().requires_grad_(true);
  auto half = (at::randn({2, 3, 2, 3, 3}) * 2).requires_grad_(true);
  auto lowest = at::randn({2, 3, 1, 2, 2}).requires_grad_(true);
  const auto loss = deepSupervisionLoss({full, half, lowest}, c.target, true, 3);
  loss.backward();
  EXPECT_EQ(full.grad().masked_select(ignored).abs().max().item<float>(), 0.0f);
  EXPECT_GT(full.grad().masked_select(~ignored).abs().max().item<float>(), 0.0f);
  const auto halfTarget = c.target.slice(1, 1, 4, 2).slice(2, 1, 6, 2).slice(3, 1, 6, 2);
  const auto halfIgnored = (halfTarget == 3).unsqueeze(1).expand_as(half);
  EXPECT_EQ(half.grad().masked_select(halfIgnored).abs().max().item<float>(), 0.0f);
  EXPECT_GT(half.grad().masked_select(~halfIgnored).abs().max().item<float>(), 0.0f);
  // other logits where the labels are ignored: the same loss
  const auto noise = at::randn(c.logits.sizes()) * 5;
  const auto changed = deepSupervisionLoss({at::where(ignored, c.logits + noise, c.logits),
                                            at::where(halfIgnored, half.detach() + 3, half.detach()), lowest},
                                           c.target, true, 3);
  EXPECT_NEAR(changed.item<double>(), loss.item<double>(), 1e-6);
  // the weights 1 and 1/2 of nnU-Net, normalized
  const double want = (referenceLoss(c.logits, c.target, 3) + 0.5 * referenceLoss(half.detach(), halfTarget, 3)) / 1.5;
  EXPECT_NEAR(loss.item<double>(), want, 1e-5);
}

// BraTS-like regions over labels 1..3 (whole tumour, core, enhancing), with and without the ignore label 4.
TEST(TrainingLoss, RegionsAreNnUNetsBinaryCrossEntropyAndDiceWrittenOut) {
  at::manual_seed(5);
  const Regions regions{{1, 2, 3}, {2, 3}, {3}};
  const auto logits = at::randn({2, 3, 4, 6, 6}) * 2;
  const auto dense = at::randint(0, 4, {2, 4, 6, 6}, at::kLong);
  const auto sparse = dense.masked_fill(at::rand({2, 4, 6, 6}) < 0.4, 4);
  EXPECT_NEAR(diceCeLoss(logits, dense, kNoIgnoreLabel, regions).item<double>(),
              referenceLoss(logits, dense, -1, regions), 1e-5);
  EXPECT_NEAR(diceCeLoss(logits, sparse, 4, regions).item<double>(), referenceLoss(logits, sparse, 4, regions), 1e-5);
  // the ignored voxels: no gradient, and other logits there change nothing
  auto x = logits.clone().requires_grad_(true);
  const auto loss = diceCeLoss(x, sparse, 4, regions);
  loss.backward();
  const auto ignored = (sparse == 4).unsqueeze(1).expand_as(x);
  EXPECT_EQ(x.grad().masked_select(ignored).abs().max().item<float>(), 0.0f);
  EXPECT_GT(x.grad().masked_select(~ignored).abs().max().item<float>(), 0.0f);
  EXPECT_NEAR(diceCeLoss(at::where(ignored, logits * 3 + 1, logits), sparse, 4, regions).item<double>(),
              loss.item<double>(), 1e-6);
  // a region's mask: its labels' voxels
  const auto masks = regionMasks(dense, regions);
  EXPECT_TRUE(at::equal(masks.select(1, 1), (dense == 2) | (dense == 3)));
  EXPECT_TRUE(at::equal(masks.select(1, 2), dense == 3));
}

TEST(TrainingLoss, NoAnnotatedVoxelIsFiniteWithoutGradient) {
  auto logits = at::randn({1, 3, 2, 4, 4}).requires_grad_(true);
  const auto target = at::full({1, 2, 4, 4}, 3, at::kLong);
  const auto loss = diceCeLoss(logits, target, 3);
  ASSERT_TRUE(std::isfinite(loss.item<double>()));
  loss.backward();
  EXPECT_EQ(logits.grad().abs().max().item<float>(), 0.0f);
}

} // namespace
} // namespace voxseg::training
