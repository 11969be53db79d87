#include "Loss.h"

#include <ATen/ATen.h>

namespace voxseg::training {

at::Tensor diceCeLoss(const at::Tensor& logits, const at::Tensor& target, int ignoreLabel) {
  const std::vector<std::int64_t> dims{0, 2, 3, 4}; // batch Dice
  const auto probs = at::softmax(logits, 1);
  at::Tensor ce, tp, sumPred, sumTruth;
  if (ignoreLabel < 0) {
    ce = at::cross_entropy_loss(logits, target);
    const auto onehot = at::one_hot(target, logits.size(1)).permute({0, 4, 1, 2, 3}).to(probs.scalar_type());
    tp = (probs * onehot).sum(dims);
    sumPred = probs.sum(dims);
    sumTruth = onehot.sum(dims);
  } else {
    // the ignored voxels get some class for the one-hot code (0) and are masked out of every sum
    const auto annotated = target != ignoreLabel;
    const auto mask = annotated.unsqueeze(1).to(probs.scalar_type());
    const auto onehot = at::one_hot(target.masked_fill(~annotated, 0), logits.size(1))
                            .permute({0, 4, 1, 2, 3})
                            .to(probs.scalar_type()) *
                        mask;
    const auto masked = probs * mask;
    tp = (masked * onehot).sum(dims);
    sumPred = masked.sum(dims);
    sumTruth = onehot.sum(dims);
    // the mean over the annotated voxels; none annotated: no cross-entropy term (nnU-Net's rule), not NaN
    ce = annotated.any().item<bool>() ? at::cross_entropy_loss(logits, target, {}, at::Reduction::Mean, ignoreLabel)
                                      : at::zeros({}, logits.options());
  }
  const auto dice = (2 * tp + 1e-5) / (sumPred + sumTruth + 1e-5).clamp_min(1e-8);
  return ce - dice.slice(0, 1).mean();
}

at::Tensor deepSupervisionLoss(const std::vector<at::Tensor>& outputs, const at::Tensor& labels, bool deep,
                               int ignoreLabel) {
  if (!deep || outputs.size() == 1) return diceCeLoss(outputs.front(), labels, ignoreLabel);
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
    // 2x coarser level; the ignore label stays the ignore label at every resolution
    const std::vector<std::int64_t> size{o.size(2), o.size(3), o.size(4)};
    const auto t = i == 0 ? labels : at::_upsample_nearest_exact3d(l, at::IntArrayRef(size)).squeeze(1).to(at::kLong);
    const auto term = diceCeLoss(o, t, ignoreLabel) * (w[i] / sum);
    loss = loss.defined() ? loss + term : term;
  }
  return loss;
}

} // namespace voxseg::training
