#include "voxseg/processing/NnUNetResampling.h"

#include "voxseg/core/Error.h"

#include <algorithm>
#include <cmath>
#include <cstring>

namespace voxseg::processing {
namespace {

constexpr std::int64_t kPad = 12; // scipy's _prepad_for_spline_filter for mode "nearest"

struct Array {
  Shape3 shape{0, 0, 0};
  std::vector<double> v;
  double& at(std::int64_t a, std::int64_t b, std::int64_t c) {
    return v[std::size_t((a * shape[1] + b) * shape[2] + c)];
  }
  double at(std::int64_t a, std::int64_t b, std::int64_t c) const {
    return v[std::size_t((a * shape[1] + b) * shape[2] + c)];
  }
};

std::int64_t stride(const Shape3& s, int axis) { return axis == 2 ? 1 : axis == 1 ? s[2] : s[1] * s[2]; }

// Edge padding by `pad` on the axes flagged.
Array padEdge(const Array& in, const std::array<bool, 3>& axes, std::int64_t pad) {
  Array out;
  for (int a = 0; a < 3; ++a) out.shape[a] = in.shape[a] + (axes[a] ? 2 * pad : 0);
  out.v.resize(std::size_t(out.shape[0] * out.shape[1] * out.shape[2]));
  const auto src = [&](std::int64_t i, int a) {
    const std::int64_t p = axes[a] ? pad : 0;
    return std::clamp<std::int64_t>(i - p, 0, in.shape[a] - 1);
  };
  for (std::int64_t i = 0; i < out.shape[0]; ++i)
    for (std::int64_t j = 0; j < out.shape[1]; ++j)
      for (std::int64_t k = 0; k < out.shape[2]; ++k) out.at(i, j, k) = in.at(src(i, 0), src(j, 1), src(k, 2));
  return out;
}

// scipy ni_splines.c apply_filter for the cubic spline (one pole), mirror initialisation (the padding
// of 12 edge values makes the boundary rule irrelevant at the 1e-7 level).
void splineFilterLine(double* c, std::int64_t n, std::int64_t step) {
  if (n < 2) return;
  const double z = std::sqrt(3.0) - 2.0;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);
  for (std::int64_t i = 0; i < n; ++i) c[i * step] *= gain;
  // causal init (mirror): sum_k z^k c[k] over a horizon
  {
    double zn = z, sum = c[0];
    const std::int64_t horizon = std::min<std::int64_t>(n, 64);
    for (std::int64_t k = 1; k < horizon; ++k) {
      sum += zn * c[k * step];
      zn *= z;
    }
    c[0] = sum;
  }
  for (std::int64_t j = 1; j < n; ++j) c[j * step] += z * c[(j - 1) * step];
  c[(n - 1) * step] = (z / (z * z - 1.0)) * (z * c[(n - 2) * step] + c[(n - 1) * step]);
  for (std::int64_t j = n - 2; j >= 0; --j) c[j * step] = z * (c[(j + 1) * step] - c[j * step]);
}

void splineFilter(Array& a, int axis) {
  const std::int64_t n = a.shape[axis], st = stride(a.shape, axis);
  const std::int64_t lines = std::int64_t(a.v.size()) / n;
  for (std::int64_t l = 0; l < lines; ++l) {
    // first element of line l along `axis`
    std::int64_t base;
    if (axis == 2)
      base = l * n;
    else if (axis == 1)
      base = (l / a.shape[2]) * a.shape[1] * a.shape[2] + (l % a.shape[2]);
    else
      base = l;
    splineFilterLine(a.v.data() + base, n, st);
  }
}

// Interpolates along `axis` (length n incl. `pad` on each side) to `outLen` samples in scipy's grid mode:
// source coordinate (o + 0.5) * (n - 2 pad) / outLen - 0.5 + pad; indices clamped ("nearest").
Array zoomAxis(const Array& in, int axis, std::int64_t outLen, int order, std::int64_t pad) {
  Array out;
  out.shape = in.shape;
  out.shape[axis] = outLen;
  out.v.resize(std::size_t(out.shape[0] * out.shape[1] * out.shape[2]));
  const std::int64_t n = in.shape[axis];
  const double zoom = double(n - 2 * pad) / double(outLen);
  std::vector<std::int64_t> first(static_cast<std::size_t>(outLen));
  std::vector<std::array<double, 4>> weights(static_cast<std::size_t>(outLen));
  const int taps = order == 3 ? 4 : order == 1 ? 2 : 1;
  for (std::int64_t o = 0; o < outLen; ++o) {
    const double cc = (double(o) + 0.5) * zoom - 0.5 + double(pad);
    auto& w = weights[std::size_t(o)];
    if (order == 0) {
      first[std::size_t(o)] = std::int64_t(std::floor(cc + 0.5));
      w = {1, 0, 0, 0};
    } else if (order == 1) {
      const double f = std::floor(cc), t = cc - f;
      first[std::size_t(o)] = std::int64_t(f);
      w = {1 - t, t, 0, 0};
    } else {
      const double f = std::floor(cc), t = cc - f;
      first[std::size_t(o)] = std::int64_t(f) - 1;
      const double u = 1 - t;
      w = {u * u * u / 6.0, (4.0 - 6.0 * t * t + 3.0 * t * t * t) / 6.0,
           (1.0 + 3.0 * t + 3.0 * t * t - 3.0 * t * t * t) / 6.0, t * t * t / 6.0};
    }
  }
  const std::int64_t sin = stride(in.shape, axis), sout = stride(out.shape, axis);
  for (std::int64_t i = 0; i < out.shape[0]; ++i)
    for (std::int64_t j = 0; j < out.shape[1]; ++j)
      for (std::int64_t k = 0; k < out.shape[2]; ++k) {
        Shape3 idx{i, j, k};
        const std::int64_t o = idx[axis];
        idx[axis] = 0;
        const std::int64_t baseIn = (idx[0] * in.shape[1] + idx[1]) * in.shape[2] + idx[2];
        double s = 0;
        for (int t = 0; t < taps; ++t) {
          const std::int64_t p = std::clamp<std::int64_t>(first[std::size_t(o)] + t, 0, n - 1);
          s += weights[std::size_t(o)][std::size_t(t)] * in.v[std::size_t(baseIn + p * sin)];
        }
        out.v[std::size_t((i * out.shape[1] + j) * out.shape[2] + k)] = s;
        (void)sout;
      }
  return out;
}

// skimage.transform.resize(image, outShape, order, mode="edge", anti_aliasing=False) on the axes flagged
// (the others keep their size), output clipped to the input's range.
Array resize(const Array& in, const Shape3& outShape, const std::array<bool, 3>& axes, int order) {
  double lo = in.v.empty() ? 0 : *std::min_element(in.v.begin(), in.v.end());
  double hi = in.v.empty() ? 0 : *std::max_element(in.v.begin(), in.v.end());
  const std::int64_t pad = order > 1 ? kPad : 0;
  Array a = pad ? padEdge(in, axes, pad) : in;
  if (order > 1)
    for (int ax = 0; ax < 3; ++ax)
      if (axes[ax]) splineFilter(a, ax);
  for (int ax = 0; ax < 3; ++ax)
    if (axes[ax]) a = zoomAxis(a, ax, outShape[ax], order, pad);
  for (double& x : a.v) x = std::clamp(x, lo, hi);
  return a;
}

} // namespace

Shape3 nnunetNewShape(const Shape3& shape, const Spacing3& spacing, const Spacing3& newSpacing) {
  Shape3 out{};
  for (int a = 0; a < 3; ++a) out[a] = std::int64_t(std::nearbyint(spacing[a] / newSpacing[a] * double(shape[a])));
  return out;
}

SeparateZ nnunetSeparateZ(const Spacing3& current, const Spacing3& target) {
  const auto anisotropic = [](const Spacing3& s) {
    return *std::max_element(s.begin(), s.end()) / *std::min_element(s.begin(), s.end()) > 3.0;
  };
  const auto lowres = [](const Spacing3& s) {
    const double mx = *std::max_element(s.begin(), s.end());
    std::vector<int> axes;
    for (int a = 0; a < 3; ++a)
      if (mx / s[a] == 1.0) axes.push_back(a);
    return axes;
  };
  std::vector<int> axes;
  if (anisotropic(current))
    axes = lowres(current);
  else if (anisotropic(target))
    axes = lowres(target);
  SeparateZ r;
  if (axes.size() == 1) {
    r.separate = true;
    r.axis = axes[0];
  }
  return r;
}

std::vector<float> nnunetResample(const float* data, const Shape3& shape, const Shape3& newShape, int order,
                                  const SeparateZ& sep, int orderZ) {
  if (order != 0 && order != 1 && order != 3)
    throw Error(ExitCode::Internal, "nnunetResample: order must be 0, 1 or 3");
  const std::size_t n = std::size_t(shape[0] * shape[1] * shape[2]);
  if (shape == newShape) return std::vector<float>(data, data + n);
  Array in{shape, std::vector<double>(data, data + n)};
  Array out;
  if (!sep.separate) {
    out = resize(in, newShape, {true, true, true}, order);
  } else {
    const int ax = sep.axis;
    // Per slice along ax: 2-D resize of the other two axes, each slice clipped to its own range.
    Shape3 mid = newShape;
    mid[ax] = shape[ax];
    Array here{mid, std::vector<double>(std::size_t(mid[0] * mid[1] * mid[2]))};
    std::array<bool, 3> inPlane{true, true, true};
    inPlane[ax] = false;
    for (std::int64_t s = 0; s < shape[ax]; ++s) {
      Shape3 sliceShape = shape;
      sliceShape[ax] = 1;
      Array slice{sliceShape, std::vector<double>(std::size_t(sliceShape[0] * sliceShape[1] * sliceShape[2]))};
      for (std::int64_t i = 0; i < sliceShape[0]; ++i)
        for (std::int64_t j = 0; j < sliceShape[1]; ++j)
          for (std::int64_t k = 0; k < sliceShape[2]; ++k) {
            Shape3 src{i, j, k};
            src[ax] = s;
            slice.at(i, j, k) = in.at(src[0], src[1], src[2]);
          }
      Shape3 target = newShape;
      target[ax] = 1;
      const Array r = resize(slice, target, inPlane, order);
      for (std::int64_t i = 0; i < target[0]; ++i)
        for (std::int64_t j = 0; j < target[1]; ++j)
          for (std::int64_t k = 0; k < target[2]; ++k) {
            Shape3 dst{i, j, k};
            dst[ax] = s;
            here.at(dst[0], dst[1], dst[2]) = r.at(i, j, k);
          }
    }
    // Along ax: scipy map_coordinates(order_z, mode "nearest") at (o + 0.5) * scale - 0.5 (no clipping).
    out = shape[ax] != newShape[ax] ? zoomAxis(here, ax, newShape[ax], orderZ, 0) : here;
  }
  return std::vector<float>(out.v.begin(), out.v.end());
}

std::vector<double> nnunetResizePlane(const double* plane, std::int64_t h, std::int64_t w, std::int64_t outH,
                                      std::int64_t outW, int order) {
  Array in{{1, h, w}, std::vector<double>(plane, plane + h * w)};
  if (h == outH && w == outW) return in.v;
  return resize(in, {1, outH, outW}, {false, true, true}, order).v;
}

float roundToHalf(float x) {
  std::uint32_t u;
  std::memcpy(&u, &x, 4);
  const std::uint32_t sign = u & 0x80000000u;
  u ^= sign;
  if (u >= 0x7f800000u) return x;                                     // inf, nan
  if (u >= 0x477ff000u) return std::copysign(INFINITY, x);            // |x| >= 65520: beyond float16
  if (u < 0x38800000u) return std::nearbyint(x * 0x1p24f) * 0x1p-24f; // subnormal float16: step 2^-24, ties to even
  u += 0x0fffu + ((u >> 13) & 1u);                                    // keep 10 mantissa bits, ties to even
  u = (u & ~0x1fffu) | sign;
  float r;
  std::memcpy(&r, &u, 4);
  return r;
}

int nnunetVoxelLabel(const float* logits, std::int64_t stride, std::int64_t channels,
                     const std::vector<int>& regionsClassOrder, float* probs, std::int64_t probStride) {
  if (!regionsClassOrder.empty()) { // torch.sigmoid in float32, then the regions in order
    int label = 0;
    for (std::int64_t c = 0; c < channels; ++c) {
      const float p = 1.0f / (1.0f + std::exp(-logits[c * stride]));
      if (probs) probs[c * probStride] = p;
      if (p > 0.5f && std::size_t(c) < regionsClassOrder.size()) label = regionsClassOrder[std::size_t(c)];
    }
    return label;
  }
  float mx = logits[0];
  int best = 0;
  for (std::int64_t c = 1; c < channels; ++c)
    if (logits[c * stride] > mx) {
      mx = logits[c * stride];
      best = int(c);
    }
  if (probs) { // softmax in float32
    float sum = 0;
    for (std::int64_t c = 0; c < channels; ++c) sum += std::exp(logits[c * stride] - mx);
    for (std::int64_t c = 0; c < channels; ++c) probs[c * probStride] = std::exp(logits[c * stride] - mx) / sum;
  }
  return best;
}

ExportResult nnunetExport(const std::vector<float>& logits, std::int64_t channels, const Shape3& netShape,
                          const Box& box, const Shape3& fullShape, const Spacing3& targetSpacing,
                          const Spacing3& originalSpacing, const std::vector<int>& regionsClassOrder) {
  const Shape3 cropShape = box.size();
  const SeparateZ sep = nnunetSeparateZ(targetSpacing, originalSpacing);
  const std::size_t nNet = std::size_t(netShape[0] * netShape[1] * netShape[2]);
  const std::size_t nCrop = std::size_t(cropShape[0] * cropShape[1] * cropShape[2]);
  std::vector<float> resampled(std::size_t(channels) * nCrop);
  for (std::int64_t c = 0; c < channels; ++c) {
    const auto r = nnunetResample(logits.data() + std::size_t(c) * nNet, netShape, cropShape, 1, sep, 0);
    for (std::size_t i = 0; i < nCrop; ++i) resampled[std::size_t(c) * nCrop + i] = roundToHalf(r[i]);
  }
  std::vector<float> prob(resampled.size());
  std::vector<float> lab(nCrop);
  for (std::size_t i = 0; i < nCrop; ++i)
    lab[i] = float(nnunetVoxelLabel(resampled.data() + i, std::int64_t(nCrop), channels, regionsClassOrder,
                                    prob.data() + i, std::int64_t(nCrop)));
  ExportResult out;
  const std::size_t nFull = std::size_t(fullShape[0] * fullShape[1] * fullShape[2]);
  out.probabilities.resize(std::size_t(channels) * nFull);
  for (std::int64_t c = 0; c < channels; ++c)
    uncrop(prob.data() + std::size_t(c) * nCrop, box, out.probabilities.data() + std::size_t(c) * nFull, fullShape,
           c == 0 && regionsClassOrder.empty() ? 1.0f : 0.0f);
  std::vector<float> fullF(nFull);
  uncrop(lab.data(), box, fullF.data(), fullShape, 0.0f);
  out.labels.assign(fullF.begin(), fullF.end());
  return out;
}

} // namespace voxseg::processing
