#include "Batches.h"

#include <ATen/CPUGeneratorImpl.h>

#include <cmath>

namespace voxseg::training {
namespace {

double uniform(std::mt19937_64& rng, double lo, double hi) {
  return std::uniform_real_distribution<double>(lo, hi)(rng);
}
bool chance(std::mt19937_64& rng, double p) { return uniform(rng, 0, 1) < p; }

// Copies the patch whose first voxel is `start` (may lie outside: zero padding).
void cutPatch(const PreparedCase& c, int channels, const Shape& patch, const Shape& start, float* data,
              std::int64_t* labels) {
  const auto& s = c.shape;
  const std::int64_t plane = s[1] * s[2], volume = s[0] * plane;
  const std::int64_t pvol = patch[0] * patch[1] * patch[2];
  for (std::int64_t z = 0; z < patch[0]; ++z)
    for (std::int64_t y = 0; y < patch[1]; ++y)
      for (std::int64_t x = 0; x < patch[2]; ++x) {
        const std::int64_t sz = start[0] + z, sy = start[1] + y, sx = start[2] + x;
        const std::int64_t o = (z * patch[1] + y) * patch[2] + x;
        const bool inside = sz >= 0 && sy >= 0 && sx >= 0 && sz < s[0] && sy < s[1] && sx < s[2];
        const std::int64_t i = inside ? (sz * s[1] + sy) * s[2] + sx : 0;
        for (int ch = 0; ch < channels; ++ch)
          data[ch * pvol + o] = inside ? c.data[std::size_t(ch * volume + i)] : 0.0f;
        labels[o] = inside ? c.labels[std::size_t(i)] : 0;
      }
}

} // namespace

Batch sampleBatch(const std::vector<PreparedCase>& cases, const std::vector<std::size_t>& pool, int channels,
                  const Shape& patch, int batch, double foregroundFraction, std::mt19937_64& rng) {
  Batch b;
  b.data = torch::zeros({batch, channels, patch[0], patch[1], patch[2]});
  b.labels = torch::zeros({batch, patch[0], patch[1], patch[2]}, torch::kLong);
  const std::int64_t pvol = patch[0] * patch[1] * patch[2];
  const int regular = int(std::lround(double(batch) * (1.0 - foregroundFraction)));
  for (int i = 0; i < batch; ++i) {
    const PreparedCase& c = cases[pool[std::uniform_int_distribution<std::size_t>(0, pool.size() - 1)(rng)]];
    Shape start{};
    std::vector<std::size_t> present;
    for (std::size_t k = 0; k < c.foreground.size(); ++k)
      if (!c.foreground[k].empty()) present.push_back(k);
    const bool forced = i >= regular && !present.empty();
    if (forced || !c.annotated.empty()) { // centred on a foreground voxel, or (sparse annotations) an annotated one
      const auto& voxels =
          forced ? c.foreground[present[std::uniform_int_distribution<std::size_t>(0, present.size() - 1)(rng)]]
                 : c.annotated;
      const std::int64_t v = voxels[std::uniform_int_distribution<std::size_t>(0, voxels.size() - 1)(rng)];
      const Shape at{v / (c.shape[1] * c.shape[2]), (v / c.shape[2]) % c.shape[1], v % c.shape[2]};
      for (int a = 0; a < 3; ++a) start[a] = at[a] - patch[a] / 2;
    } else { // anywhere the patch overlaps the image by at least half
      for (int a = 0; a < 3; ++a) {
        const std::int64_t lo = -patch[a] / 2, hi = std::max<std::int64_t>(lo, c.shape[a] - patch[a] / 2 - 1);
        start[a] = std::uniform_int_distribution<std::int64_t>(lo, hi)(rng);
      }
    }
    cutPatch(c, channels, patch, start, b.data.data_ptr<float>() + i * channels * pvol,
             b.labels.data_ptr<std::int64_t>() + i * pvol);
  }
  return b;
}

void augment(Batch& b, const Augmentation& a, std::mt19937_64& rng) {
  namespace F = torch::nn::functional;
  const auto n = b.data.size(0);
  for (std::int64_t i = 0; i < n; ++i) {
    torch::Tensor x = b.data[i].unsqueeze(0), y = b.labels[i].unsqueeze(0).unsqueeze(0).to(torch::kFloat);
    // rotation and scaling about the patch centre (affine grid in normalized coordinates)
    const bool rotate = a.rotationDegrees > 0 && chance(rng, 0.2), scale = a.scaleHigh > a.scaleLow && chance(rng, 0.2);
    if (rotate || scale) {
      const double deg = M_PI / 180.0 * a.rotationDegrees;
      const double ax = rotate ? uniform(rng, -deg, deg) : 0, ay = rotate ? uniform(rng, -deg, deg) : 0,
                   az = rotate ? uniform(rng, -deg, deg) : 0;
      const double s = scale ? uniform(rng, a.scaleLow, a.scaleHigh) : 1.0;
      auto rx = torch::tensor({{1.0, 0.0, 0.0}, {0.0, std::cos(ax), -std::sin(ax)}, {0.0, std::sin(ax), std::cos(ax)}});
      auto ry = torch::tensor({{std::cos(ay), 0.0, std::sin(ay)}, {0.0, 1.0, 0.0}, {-std::sin(ay), 0.0, std::cos(ay)}});
      auto rz = torch::tensor({{std::cos(az), -std::sin(az), 0.0}, {std::sin(az), std::cos(az), 0.0}, {0.0, 0.0, 1.0}});
      auto m = torch::matmul(torch::matmul(rz, ry), rx) / s; // sampling grid: zoom in for s > 1
      auto theta = torch::cat({m, torch::zeros({3, 1}, torch::kDouble)}, 1).to(torch::kFloat).unsqueeze(0);
      auto grid = F::affine_grid(theta, x.sizes().vec(), false);
      x = F::grid_sample(
          x, grid, F::GridSampleFuncOptions().mode(torch::kBilinear).padding_mode(torch::kZeros).align_corners(false));
      y = F::grid_sample(
          y, grid, F::GridSampleFuncOptions().mode(torch::kNearest).padding_mode(torch::kZeros).align_corners(false));
    }
    if (a.mirror)
      for (int axis = 2; axis < 5; ++axis)
        if (chance(rng, 0.5)) {
          x = x.flip({axis});
          y = y.flip({axis});
        }
    if (a.noise && chance(rng, 0.1)) {
      // from a generator seeded by `rng`, whose state the checkpoint keeps (LibTorch's global generator it does
      // not: a resumed run drew other noise than an uninterrupted one)
      const double sd = std::sqrt(uniform(rng, 0, 0.1));
      at::Generator gen = at::make_generator<at::CPUGeneratorImpl>(rng());
      x = x + torch::randn(x.sizes(), gen, x.options()) * sd;
    }
    if (a.blur && chance(rng, 0.2)) { // separable Gaussian, kernel radius 3 sigma, replicate borders
      const double sigma = uniform(rng, 0.5, 1.0);
      const int r = int(std::ceil(3 * sigma));
      auto k = torch::arange(-r, r + 1, torch::kFloat);
      k = torch::exp(-k * k / float(2 * sigma * sigma));
      k = k / k.sum();
      for (int axis = 0; axis < 3; ++axis) {
        std::vector<std::int64_t> shape{1, 1, 1, 1, 1};
        shape[2 + axis] = 2 * r + 1;
        std::vector<std::int64_t> pad(6, 0); // (x, x, y, y, z, z)
        pad[2 * (2 - axis)] = pad[2 * (2 - axis) + 1] = r;
        const auto c = x.size(1);
        x = F::conv3d(F::pad(x, F::PadFuncOptions(pad).mode(torch::kReplicate)),
                      k.view(shape).expand({c, 1, shape[2], shape[3], shape[4]}).contiguous(),
                      F::Conv3dFuncOptions().groups(c));
      }
    }
    if (a.intensity && chance(rng, 0.15)) x = x * uniform(rng, 0.75, 1.25);
    if (a.intensity && chance(rng, 0.15)) {
      const auto mean = x.mean(), lo = x.min(), hi = x.max();
      x = ((x - mean) * uniform(rng, 0.75, 1.25) + mean).clamp(lo.item<float>(), hi.item<float>());
    }
    if (a.lowResolution && chance(rng, 0.25)) {
      const double f = uniform(rng, 0.5, 1.0);
      std::vector<std::int64_t> small, full{x.size(2), x.size(3), x.size(4)};
      for (auto v : full) small.push_back(std::max<std::int64_t>(1, std::int64_t(std::lround(double(v) * f))));
      x = F::interpolate(x, F::InterpolateFuncOptions().size(small).mode(torch::kNearest));
      x = F::interpolate(x, F::InterpolateFuncOptions().size(full).mode(torch::kTrilinear).align_corners(false));
    }
    if (a.intensity && chance(rng, 0.3)) {
      const float lo = x.min().item<float>(), hi = x.max().item<float>();
      if (hi > lo) x = ((x - lo) / (hi - lo)).pow(uniform(rng, 0.7, 1.5)) * (hi - lo) + lo;
    }
    b.data[i].copy_(x.squeeze(0));
    b.labels[i].copy_(y.squeeze(0).squeeze(0).round().to(torch::kLong));
  }
}

} // namespace voxseg::training
