#include "Loss.h"

#include <ATen/ATen.h>

namespace voxseg::training {
namespace {

// Batch soft Dice per channel of `probs` against the 0/1 `truth`, both masked by `mask` (undefined: none).
at::Tensor softDice(const at::Tensor& probs, const at::Tensor& truth, const at::Tensor& mask) {
  const std::vector<std::int64_t> dims{0, 2, 3, 4}; // batch Dice
  const auto p = mask.defined() ? probs * mask : probs;
  const auto t = mask.defined() ? truth * mask : truth;
  const auto tp = (p * t).sum(dims), sumPred = p.sum(dims), sumTruth = t.sum(dims);
  return (2 * tp + 1e-5) / (sumPred + sumTruth + 1e-5).clamp_min(1e-8);
}

at::Tensor regionLoss(const at::Tensor& logits, const at::Tensor& target, int ignoreLabel, const Regions& regions) {
  const auto truth = regionMasks(target, regions).to(logits.scalar_type());
  const auto probs = at::sigmoid(logits);
  if (ignoreLabel < 0) return at::binary_cross_entropy_with_logits(logits, truth) - softDice(probs, truth, {}).mean();
  const auto mask = (target != ignoreLabel).unsqueeze(1).to(logits.scalar_type());
  // nnU-Net's DC_and_BCE_loss with its ignore label: the masked sum over every region's voxels, divided by the
  // annotated voxels counted once (not once per region)
  const auto bce = (at::binary_cross_entropy_with_logits(logits, truth, {}, {}, at::Reduction::None) * mask).sum() /
                   mask.sum().clamp_min(1e-8);
  return bce - softDice(probs, truth, mask).mean();
}

} // namespace

at::Tensor regionMasks(const at::Tensor& target, const Regions& regions) {
  std::vector<at::Tensor> masks;
  for (const auto& r : regions) {
    auto m = target == r.front();
    for (std::size_t i = 1; i < r.size(); ++i) m = m | (target == r[i]);
    masks.push_back(m);
  }
  return at::stack(masks, 1);
}

at::Tensor diceCeLoss(const at::Tensor& logits, const at::Tensor& target, int ignoreLabel, const Regions& regions) {
  if (!regions.empty()) return regionLoss(logits, target, ignoreLabel, regions);
  const auto probs = at::softmax(logits, 1);
  const auto onehot = [&](const at::Tensor& t) {
    return at::one_hot(t, logits.size(1)).permute({0, 4, 1, 2, 3}).to(probs.scalar_type());
  };
  if (ignoreLabel < 0)
    return at::cross_entropy_loss(logits, target) - softDice(probs, onehot(target), {}).slice(0, 1).mean();
  // the ignored voxels get some class for the one-hot code (0) and are masked out of every sum
  const auto annotated = target != ignoreLabel;
  const auto mask = annotated.unsqueeze(1).to(probs.scalar_type());
  const auto dice = softDice(probs, onehot(target.masked_fill(~annotated, 0)), mask);
  // the mean over the annotated voxels; none annotated: 0 (nnU-Net leaves the term out), not NaN, and no
  // device-to-host copy to find out
  const auto ce = at::cross_entropy_loss(logits, target, {}, at::Reduction::Sum, ignoreLabel) /
                  annotated.sum().clamp_min(1).to(logits.scalar_type());
  return ce - dice.slice(0, 1).mean();
}

at::Tensor deepSupervisionLoss(const std::vector<at::Tensor>& outputs, const at::Tensor& labels, bool deep,
                               int ignoreLabel, const Regions& regions) {
  if (!deep || outputs.size() == 1) return diceCeLoss(outputs.front(), labels, ignoreLabel, regions);
  std::vector<double> w;
  for (std::size_t i = 0; i < outputs.size(); ++i) w.push_back(i + 1 == outputs.size() ? 0.0 : 1.0 / double(1 << i));
  double sum = 0;
  for (double v : w) sum += v;
  at::Tensor loss;
  const auto l = labels.unsqueeze(1).to(at::kFloat);
  for (std::size_t i = 0; i < outputs.size(); ++i) {
    if (w[i] == 0) continue;
    const auto& o = outputs[i];
    // nearest-exact, as nnU-Net's DownsampleSegForDSTransform (batchgeneratorsv2): voxel 2i + 1 of 2i, 2i + 1 at a
    // 2x coarser level; the ignore label stays the ignore label at every resolution (and a voxel's regions are
    // those of the label picked, as nnU-Net picks region masks after converting)
    const std::vector<std::int64_t> size{o.size(2), o.size(3), o.size(4)};
    const auto t = i == 0 ? labels : at::_upsample_nearest_exact3d(l, at::IntArrayRef(size)).squeeze(1).to(at::kLong);
    const auto term = diceCeLoss(o, t, ignoreLabel, regions) * (w[i] / sum);
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

} // namespace voxseg::training
