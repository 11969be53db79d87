#include "voxseg/inference/ImportanceMap.h"

#include <torch/torch.h>

#include <cmath>

namespace voxseg::inference {
namespace {

// scipy.ndimage.gaussian_filter1d weights: radius int(4 sigma + 0.5), normalised to sum 1 (float64).
std::vector<double> scipyKernel(double sigma) {
  const int radius = static_cast<int>(4.0 * sigma + 0.5);
  std::vector<double> k(2 * std::size_t(radius) + 1);
  double sum = 0;
  for (int x = -radius; x <= radius; ++x) sum += k[std::size_t(x + radius)] = std::exp(-0.5 / (sigma * sigma) * x * x);
  for (double& v : k) v /= sum;
  return k;
}

// Blur of a unit impulse at c with mode "constant": the kernel itself, cut at the borders.
std::vector<double> blurredImpulse(std::int64_t n, double sigma) {
  const auto k = scipyKernel(sigma);
  const std::int64_t radius = std::int64_t(k.size() / 2);
  const std::int64_t c = n / 2;
  std::vector<double> out(std::size_t(n), 0.0);
  for (std::int64_t i = 0; i < n; ++i)
    if (std::llabs(i - c) <= radius) out[std::size_t(i)] = k[std::size_t(i - c + radius)];
  return out;
}

torch::Tensor nnunetGaussian(const Shape3& patch, double sigmaScale) {
  std::array<std::vector<double>, 3> g;
  // An axis of one voxel (a 2D configuration's slice axis) is left out, as nnU-Net's 2D map has no such axis.
  for (int a = 0; a < 3; ++a)
    g[a] = patch[a] == 1 ? std::vector<double>{1.0} : blurredImpulse(patch[a], double(patch[a]) * sigmaScale);
  auto map = torch::empty({patch[0], patch[1], patch[2]}, torch::kFloat64);
  double* p = map.data_ptr<double>();
  for (std::int64_t i = 0; i < patch[0]; ++i)
    for (std::int64_t j = 0; j < patch[1]; ++j)
      for (std::int64_t k = 0; k < patch[2]; ++k)
        *p++ = g[0][std::size_t(i)] * g[1][std::size_t(j)] * g[2][std::size_t(k)];
  map /= (map.max() / 10.0);
  map = map.to(torch::kHalf);
  auto zero = map == 0;
  if (zero.any().item<bool>()) map.index_put_({zero}, map.index({~zero}).min());
  return map.to(torch::kFloat32);
}

torch::Tensor monaiGaussian(const Shape3& patch, double sigmaScale) {
  torch::Tensor map;
  for (int i = 0; i < 3; ++i) {
    const double n = double(patch[i]);
    const double sigma = n * sigmaScale;
    auto x = torch::arange(-(n - 1) / 2.0, (n - 1) / 2.0 + 1, torch::TensorOptions().dtype(torch::kFloat));
    x = torch::exp(x.pow(2) / (-2 * sigma * sigma));
    if (i == 0) {
      map = x;
    } else {
      std::vector<std::int64_t> shape(std::size_t(i), 1);
      shape.push_back(patch[i]);
      map = map.unsqueeze(-1) * x.view(shape);
    }
  }
  const double minNonZero = std::max(map.min().item<double>(), 1e-3);
  return torch::clamp(map, minNonZero);
}

} // namespace

std::vector<float> importanceMap(const Shape3& patch, const ImportanceMap& spec) {
  torch::Tensor map;
  switch (spec.type) {
  case ImportanceMap::Type::Constant: map = torch::ones({patch[0], patch[1], patch[2]}, torch::kFloat32); break;
  case ImportanceMap::Type::GaussianNnUNet: map = nnunetGaussian(patch, spec.sigmaScale); break;
  case ImportanceMap::Type::GaussianMonai: map = monaiGaussian(patch, spec.sigmaScale); break;
  }
  map = map.contiguous();
  return std::vector<float>(map.data_ptr<float>(), map.data_ptr<float>() + map.numel());
}

} // namespace voxseg::inference
