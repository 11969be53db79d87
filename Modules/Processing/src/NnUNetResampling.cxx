#include "voxseg/processing/NnUNetResampling.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Parallel.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <memory>
#include <utility>

namespace voxseg::processing {
namespace {

constexpr std::int64_t kPad = 12; // scipy's _prepad_for_spline_filter for mode "nearest"

// An allocator that leaves new doubles uninitialised: the workers that fill an array touch its pages
// first, in parallel, instead of one thread zeroing a gigabyte before they start.
template <class T> struct Uninitialised : std::allocator<T> {
  template <class U> struct rebind { using other = Uninitialised<U>; };
  Uninitialised() = default;
  template <class U> Uninitialised(const Uninitialised<U>&) noexcept {}
  template <class U> void construct(U* p) noexcept { ::new (static_cast<void*>(p)) U; }
  template <class U, class... A> void construct(U* p, A&&... a) {
    ::new (static_cast<void*>(p)) U(std::forward<A>(a)...);
  }
};
using Values = std::vector<double, Uninitialised<double>>;

struct Array {
  Shape3 shape{0, 0, 0};
  Values v;
  double& at(std::int64_t a, std::int64_t b, std::int64_t c) {
    return v[std::size_t((a * shape[1] + b) * shape[2] + c)];
  }
  double at(std::int64_t a, std::int64_t b, std::int64_t c) const {
    return v[std::size_t((a * shape[1] + b) * shape[2] + c)];
  }
};

// Every loop below is split over `workers` threads by rows, lines or planes that write disjoint
// outputs, each element computed by the same operations in the same order: the result does not depend
// on the number of workers (tested).

// A copy in double, edge-padded by `pad` on the axes flagged (float to double is exact).
template <class T>
Array padEdge(const T* in, const Shape3& inShape, const std::array<bool, 3>& axes, std::int64_t pad, unsigned workers) {
  Array out;
  for (int a = 0; a < 3; ++a) out.shape[a] = inShape[a] + (axes[a] ? 2 * pad : 0);
  out.v.resize(std::size_t(out.shape[0] * out.shape[1] * out.shape[2]));
  const auto src = [&](std::int64_t i, int a) {
    const std::int64_t p = axes[a] ? pad : 0;
    return std::clamp<std::int64_t>(i - p, 0, inShape[a] - 1);
  };
  const std::int64_t nx = inShape[2], left = axes[2] ? pad : 0;
  parallelFor(std::size_t(out.shape[0]), workers, [&](std::size_t i) {
    for (std::int64_t j = 0; j < out.shape[1]; ++j) {
      const T* from = in + (src(std::int64_t(i), 0) * inShape[1] + src(j, 1)) * nx;
      double* to = out.v.data() + (std::int64_t(i) * out.shape[1] + j) * out.shape[2];
      std::fill(to, to + left, double(from[0]));
      std::copy(from, from + nx, to + left);
      std::fill(to + left + nx, to + out.shape[2], double(from[nx - 1]));
    }
  });
  return out;
}

// scipy ni_splines.c apply_filter for the cubic spline (one pole), mirror initialisation (the padding
// of 12 edge values makes the boundary rule irrelevant at the 1e-7 level), on `lines` adjacent lines at
// once: line q's samples are c[q + i * step], i < n (each line's arithmetic is that of one line alone).
void splineFilterLines(double* c, std::int64_t n, std::int64_t step, std::int64_t lines) {
  if (n < 2) return;
  const double z = std::sqrt(3.0) - 2.0;
  const double gain = (1.0 - z) * (1.0 - 1.0 / z);
  for (std::int64_t i = 0; i < n; ++i)
    for (std::int64_t q = 0; q < lines; ++q) c[i * step + q] *= gain;
  // causal init (mirror): sum_k z^k c[k] over a horizon
  {
    std::vector<double> sum(c, c + lines);
    double zn = z;
    const std::int64_t horizon = std::min<std::int64_t>(n, 64);
    for (std::int64_t k = 1; k < horizon; ++k) {
      for (std::int64_t q = 0; q < lines; ++q) sum[std::size_t(q)] += zn * c[k * step + q];
      zn *= z;
    }
    std::copy(sum.begin(), sum.end(), c);
  }
  for (std::int64_t j = 1; j < n; ++j)
    for (std::int64_t q = 0; q < lines; ++q) c[j * step + q] += z * c[(j - 1) * step + q];
  for (std::int64_t q = 0; q < lines; ++q)
    c[(n - 1) * step + q] = (z / (z * z - 1.0)) * (z * c[(n - 2) * step + q] + c[(n - 1) * step + q]);
  for (std::int64_t j = n - 2; j >= 0; --j)
    for (std::int64_t q = 0; q < lines; ++q) c[j * step + q] = z * (c[(j + 1) * step + q] - c[j * step + q]);
}

void splineFilter(Array& a, int axis, unsigned workers) {
  const std::int64_t n = a.shape[axis];
  double* v = a.v.data();
  if (axis == 2) { // rows, one line each
    parallelRanges(std::size_t(a.shape[0] * a.shape[1]), workers, 16, [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) splineFilterLines(v + std::int64_t(r) * n, n, 1, 1);
    });
  } else if (axis == 1) { // per slab a, its shape[2] lines side by side
    parallelFor(std::size_t(a.shape[0]), workers, [&](std::size_t i) {
      splineFilterLines(v + std::int64_t(i) * n * a.shape[2], n, a.shape[2], a.shape[2]);
    });
  } else { // every line of a plane side by side, in pieces
    const std::int64_t plane = a.shape[1] * a.shape[2];
    parallelRanges(std::size_t(plane), workers, 256,
                   [&](std::size_t q0, std::size_t q1) { splineFilterLines(v + q0, n, plane, std::int64_t(q1 - q0)); });
  }
}

// dst[k] = sum over taps t, in order, of w[t] * src[t][k].
template <int Taps>
void blend(const std::array<const double*, 4>& src, const std::array<double, 4>& w, double* dst, std::int64_t count) {
  for (std::int64_t k = 0; k < count; ++k) {
    double s = 0;
    for (int t = 0; t < Taps; ++t) s += w[std::size_t(t)] * src[std::size_t(t)][k];
    dst[k] = s;
  }
}

void blendTaps(int taps, const std::array<const double*, 4>& src, const std::array<double, 4>& w, double* dst,
               std::int64_t count) {
  if (taps == 1)
    blend<1>(src, w, dst, count);
  else if (taps == 2)
    blend<2>(src, w, dst, count);
  else
    blend<4>(src, w, dst, count);
}

// Interpolates along `axis` (length n incl. `pad` on each side) to `outLen` samples in scipy's grid mode:
// source coordinate (o + 0.5) * (n - 2 pad) / outLen - 0.5 + pad; indices clamped ("nearest").
Array zoomAxis(const Array& in, int axis, std::int64_t outLen, int order, std::int64_t pad, unsigned workers) {
  Array out;
  out.shape = in.shape;
  out.shape[axis] = outLen;
  out.v.resize(std::size_t(out.shape[0] * out.shape[1] * out.shape[2]));
  const std::int64_t n = in.shape[axis];
  const double zoom = double(n - 2 * pad) / double(outLen);
  const int taps = order == 3 ? 4 : order == 1 ? 2 : 1;
  std::vector<std::array<std::int64_t, 4>> at(static_cast<std::size_t>(outLen)); // clamped source indices
  std::vector<std::array<double, 4>> weights(static_cast<std::size_t>(outLen));
  for (std::int64_t o = 0; o < outLen; ++o) {
    const double cc = (double(o) + 0.5) * zoom - 0.5 + double(pad);
    auto& w = weights[std::size_t(o)];
    std::int64_t first;
    if (order == 0) {
      first = std::int64_t(std::floor(cc + 0.5));
      w = {1, 0, 0, 0};
    } else if (order == 1) {
      const double f = std::floor(cc), t = cc - f;
      first = std::int64_t(f);
      w = {1 - t, t, 0, 0};
    } else {
      const double f = std::floor(cc), t = cc - f;
      first = std::int64_t(f) - 1;
      const double u = 1 - t;
      w = {u * u * u / 6.0, (4.0 - 6.0 * t * t + 3.0 * t * t * t) / 6.0,
           (1.0 + 3.0 * t + 3.0 * t * t - 3.0 * t * t * t) / 6.0, t * t * t / 6.0};
    }
    for (std::size_t t = 0; t < 4; ++t)
      at[std::size_t(o)][t] = std::clamp<std::int64_t>(first + std::int64_t(t), 0, n - 1);
  }
  const double* src = in.v.data();
  double* dst = out.v.data();
  if (axis == 2) { // along each row
    parallelRanges(std::size_t(in.shape[0] * in.shape[1]), workers, 16, [&](std::size_t r0, std::size_t r1) {
      for (std::size_t r = r0; r < r1; ++r) {
        const double* row = src + std::int64_t(r) * n;
        double* to = dst + std::int64_t(r) * outLen;
        for (std::int64_t o = 0; o < outLen; ++o) {
          const auto& a = at[std::size_t(o)];
          const auto& w = weights[std::size_t(o)];
          double s = 0;
          for (int t = 0; t < taps; ++t) s += w[std::size_t(t)] * row[a[std::size_t(t)]];
          to[o] = s;
        }
      }
    });
  } else if (axis == 1) { // whole rows of each slab blended
    const std::int64_t nx = in.shape[2];
    parallelFor(std::size_t(in.shape[0]), workers, [&](std::size_t i) {
      for (std::int64_t o = 0; o < outLen; ++o) {
        std::array<const double*, 4> rows{};
        for (std::size_t t = 0; t < 4; ++t) rows[t] = src + (std::int64_t(i) * n + at[std::size_t(o)][t]) * nx;
        blendTaps(taps, rows, weights[std::size_t(o)], dst + (std::int64_t(i) * outLen + o) * nx, nx);
      }
    });
  } else { // whole planes blended
    const std::int64_t plane = in.shape[1] * in.shape[2];
    parallelFor(std::size_t(outLen), workers, [&](std::size_t o) {
      std::array<const double*, 4> planes{};
      for (std::size_t t = 0; t < 4; ++t) planes[t] = src + at[o][t] * plane;
      blendTaps(taps, planes, weights[o], dst + std::int64_t(o) * plane, plane);
    });
  }
  return out;
}

// Smallest and largest value, NaN skipped (0, 0 when there is none). Per piece the first of equal values (as
// std::min_element / max_element give it), the earlier piece's when pieces tie: the same value, -0 or +0
// included, as one scan of the whole array, whatever the number of pieces.
template <class T> std::pair<double, double> range(const T* v, std::size_t size, unsigned workers) {
  struct Part {
    double lo = 0, hi = 0;
    bool any = false;
  };
  const std::size_t pieces = std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(workers) * 4, size));
  std::vector<Part> part(pieces);
  parallelFor(pieces, workers, [&](std::size_t p) {
    Part r;
    for (std::size_t i = size * p / pieces, e = size * (p + 1) / pieces; i < e; ++i) {
      const double x = double(v[i]);
      if (std::isnan(x)) continue;
      if (!r.any) {
        r = {x, x, true};
      } else {
        if (x < r.lo) r.lo = x;
        if (r.hi < x) r.hi = x;
      }
    }
    part[p] = r;
  });
  Part all;
  for (const Part& r : part) {
    if (!r.any) continue;
    if (!all.any) {
      all = r;
    } else {
      if (r.lo < all.lo) all.lo = r.lo;
      if (all.hi < r.hi) all.hi = r.hi;
    }
  }
  return {all.lo, all.hi};
}

// skimage.transform.resize(image, outShape, order, mode="edge", anti_aliasing=False) on the axes flagged
// (the others keep their size), output clipped to the input's range. Reads `in` (float or double) once,
// into the padded double array: no unpadded double copy of a whole volume is made.
template <class T>
Array resize(const T* in, const Shape3& inShape, const Shape3& outShape, const std::array<bool, 3>& axes, int order,
             unsigned workers) {
  const auto [lo, hi] = range(in, std::size_t(inShape[0] * inShape[1] * inShape[2]), workers);
  const std::int64_t pad = order > 1 ? kPad : 0;
  Array a = padEdge(in, inShape, axes, pad, workers);
  if (order > 1)
    for (int ax = 0; ax < 3; ++ax)
      if (axes[ax]) splineFilter(a, ax, workers);
  for (int ax = 0; ax < 3; ++ax)
    if (axes[ax]) a = zoomAxis(a, ax, outShape[ax], order, pad, workers);
  parallelRanges(a.v.size(), workers, 1 << 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) a.v[i] = std::clamp(a.v[i], lo, hi);
  });
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

namespace {

// resample_data_or_seg of one channel in double (float32 data and uint8 masks alike); shape != newShape.
template <class T>
Array resampled(const T* data, const Shape3& shape, const Shape3& newShape, int order, const SeparateZ& sep, int orderZ,
                unsigned workers) {
  if (order != 0 && order != 1 && order != 3)
    throw Error(ExitCode::Internal, "nnunetResample: order must be 0, 1 or 3");
  if (shape[0] * shape[1] * shape[2] == 0)
    throw Error(ExitCode::Internal, "nnunetResample: nothing to resample from (an axis of length 0)");
  Array out;
  if (!sep.separate) {
    out = resize(data, shape, newShape, {true, true, true}, order, workers);
  } else {
    const int ax = sep.axis;
    // Per slice along ax: 2-D resize of the other two axes, each slice clipped to its own range; the
    // slices shared among the workers (each slice's resize on one thread), or one slice's rows.
    Shape3 mid = newShape;
    mid[ax] = shape[ax];
    Array here{mid, Values(std::size_t(mid[0] * mid[1] * mid[2]))};
    std::array<bool, 3> inPlane{true, true, true};
    inPlane[ax] = false;
    const unsigned sliceWorkers = shape[ax] > 1 ? 1 : workers;
    parallelFor(std::size_t(shape[ax]), shape[ax] > 1 ? workers : 1, [&](std::size_t sl) {
      const std::int64_t s = std::int64_t(sl);
      Shape3 sliceShape = shape;
      sliceShape[ax] = 1;
      Array slice{sliceShape, Values(std::size_t(sliceShape[0] * sliceShape[1] * sliceShape[2]))};
      for (std::int64_t i = 0; i < sliceShape[0]; ++i)
        for (std::int64_t j = 0; j < sliceShape[1]; ++j)
          for (std::int64_t k = 0; k < sliceShape[2]; ++k) {
            Shape3 src{i, j, k};
            src[ax] = s;
            slice.at(i, j, k) = double(data[std::size_t((src[0] * shape[1] + src[1]) * shape[2] + src[2])]);
          }
      Shape3 target = newShape;
      target[ax] = 1;
      const Array r = resize(slice.v.data(), sliceShape, target, inPlane, order, sliceWorkers);
      for (std::int64_t i = 0; i < target[0]; ++i)
        for (std::int64_t j = 0; j < target[1]; ++j)
          for (std::int64_t k = 0; k < target[2]; ++k) {
            Shape3 dst{i, j, k};
            dst[ax] = s;
            here.at(dst[0], dst[1], dst[2]) = r.at(i, j, k);
          }
    });
    // Along ax: scipy map_coordinates(order_z, mode "nearest") at (o + 0.5) * scale - 0.5 (no clipping).
    out = shape[ax] != newShape[ax] ? zoomAxis(here, ax, newShape[ax], orderZ, 0, workers) : std::move(here);
  }
  return out;
}

} // namespace

std::vector<float> nnunetResample(const float* data, const Shape3& shape, const Shape3& newShape, int order,
                                  const SeparateZ& sep, int orderZ, unsigned workers) {
  if (order != 0 && order != 1 && order != 3)
    throw Error(ExitCode::Internal, "nnunetResample: order must be 0, 1 or 3");
  if (shape == newShape) return std::vector<float>(data, data + std::size_t(shape[0] * shape[1] * shape[2]));
  if (newShape[0] < 1 || newShape[1] < 1 || newShape[2] < 1) return {};
  const Array out = resampled(data, shape, newShape, order, sep, orderZ, workers);
  std::vector<float> r(out.v.size());
  parallelRanges(r.size(), workers, 1 << 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) r[i] = float(out.v[i]);
  });
  return r;
}

namespace {

// One axis of scipy's zoom of order 1 (grid mode, mode "nearest") as NI_ZoomShift sets it up: the coordinate
// ((o + 0.5) * zoom - 0.5, not clamped), start floor(cc), weights 1 - x and 1 - (1 - x), source indices clamped.
// An axis that keeps its size (`keep`) gets start o and weights 1, 0.
struct LinearTaps {
  std::vector<std::int64_t> lo, hi;
  std::vector<double> wlo, whi;
};
LinearTaps linearTaps(std::int64_t n, std::int64_t outLen, bool keep) {
  LinearTaps t;
  const double zoom = double(n) / double(outLen);
  for (std::int64_t o = 0; o < outLen; ++o) {
    double cc = double(o), w0 = 1.0;
    if (!keep) {
      cc += 0.5;
      cc *= zoom;
      cc -= 0.5;
      w0 = 1.0 - (cc - std::floor(cc));
    }
    const auto start = std::int64_t(std::floor(cc));
    t.lo.push_back(std::clamp<std::int64_t>(start, 0, n - 1));
    t.hi.push_back(std::clamp<std::int64_t>(start + 1, 0, n - 1));
    t.wlo.push_back(w0);
    t.whi.push_back(1.0 - w0);
  }
  return t;
}

// Order-1 resize of the axes flagged, bit for bit as scipy computes it (a threshold at 0.5 needs the last bit):
// per output voxel the sum, over the corners with the last axis fastest, of value * w0 * w1 * w2 in that order. An
// axis not flagged has weights 1 and 0 there: the same sum as scipy's over the other axes alone (resize of a slice).
template <class T>
Array linearExact(const T* in, const Shape3& shape, const Shape3& outShape, const std::array<bool, 3>& axes,
                  unsigned workers) {
  std::array<LinearTaps, 3> taps;
  for (int a = 0; a < 3; ++a) taps[std::size_t(a)] = linearTaps(shape[a], outShape[a], !axes[std::size_t(a)]);
  Array out{outShape, Values(std::size_t(outShape[0] * outShape[1] * outShape[2]))};
  const auto at = [&](std::int64_t i, std::int64_t j, std::int64_t k) {
    return double(in[std::size_t((i * shape[1] + j) * shape[2] + k)]);
  };
  parallelFor(std::size_t(outShape[0]), workers, [&](std::size_t oi) {
    const auto& [ai, bi, wai, wbi] = taps[0];
    const auto& [aj, bj, waj, wbj] = taps[1];
    const auto& [ak, bk, wak, wbk] = taps[2];
    const std::array<std::int64_t, 2> ii{ai[oi], bi[oi]};
    const std::array<double, 2> wi{wai[oi], wbi[oi]};
    for (std::int64_t oj = 0; oj < outShape[1]; ++oj) {
      const std::array<std::int64_t, 2> jj{aj[std::size_t(oj)], bj[std::size_t(oj)]};
      const std::array<double, 2> wj{waj[std::size_t(oj)], wbj[std::size_t(oj)]};
      double* row = out.v.data() + (std::int64_t(oi) * outShape[1] + oj) * outShape[2];
      for (std::int64_t ok = 0; ok < outShape[2]; ++ok) {
        const std::array<std::int64_t, 2> kk{ak[std::size_t(ok)], bk[std::size_t(ok)]};
        const std::array<double, 2> wk{wak[std::size_t(ok)], wbk[std::size_t(ok)]};
        double t = 0.0;
        for (std::size_t a = 0; a < 2; ++a)
          for (std::size_t b = 0; b < 2; ++b)
            for (std::size_t c = 0; c < 2; ++c) {
              double coeff = at(ii[a], jj[b], kk[c]);
              coeff *= wi[a];
              coeff *= wj[b];
              coeff *= wk[c];
              t += coeff;
            }
        row[ok] = t;
      }
    }
  });
  return out;
}

} // namespace

std::vector<std::uint8_t> nnunetResampleMask(const std::uint8_t* mask, const Shape3& shape, const Shape3& newShape,
                                             int order, const SeparateZ& sep, int orderZ, unsigned workers) {
  if (shape == newShape) return std::vector<std::uint8_t>(mask, mask + std::size_t(shape[0] * shape[1] * shape[2]));
  if (newShape[0] < 1 || newShape[1] < 1 || newShape[2] < 1) return {};
  Array out;
  if (order == 1 && !sep.separate) {
    out = linearExact(mask, shape, newShape, {true, true, true}, workers);
  } else if (order == 1 && orderZ == 0) { // each slice in its plane, then the nearest slice along sep.axis
    Shape3 mid = newShape;
    mid[sep.axis] = shape[sep.axis];
    std::array<bool, 3> inPlane{true, true, true};
    inPlane[std::size_t(sep.axis)] = false;
    out = linearExact(mask, shape, mid, inPlane, workers);
    if (mid != newShape) out = zoomAxis(out, sep.axis, newShape[sep.axis], 0, 0, workers);
  } else { // orders 0 (exact) and 3 (to rounding)
    out = resampled(mask, shape, newShape, order, sep, orderZ, workers);
  }
  std::vector<std::uint8_t> r(out.v.size());
  parallelRanges(r.size(), workers, 1 << 16, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i) r[i] = out.v[i] >= 0.5;
  });
  return r;
}

std::vector<std::uint16_t> nnunetResampleLabels(const std::uint16_t* labels, const Shape3& shape,
                                                const Shape3& newShape, int order, const SeparateZ& sep, int orderZ,
                                                unsigned workers) {
  const std::size_t n = std::size_t(shape[0] * shape[1] * shape[2]);
  if (shape == newShape) return std::vector<std::uint16_t>(labels, labels + n);
  std::vector<bool> present(65536, false);
  for (std::size_t i = 0; i < n; ++i) present[labels[i]] = true;
  std::vector<std::uint16_t> out(std::size_t(std::max<std::int64_t>(0, newShape[0] * newShape[1] * newShape[2])), 0);
  std::vector<std::uint8_t> mask(n);
  for (std::size_t v = present.size() - 1; v > 0; --v) { // the largest first: it wins
    if (!present[v]) continue;
    parallelRanges(n, workers, 1 << 16, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i) mask[i] = labels[i] == v;
    });
    const std::vector<std::uint8_t> r = nnunetResampleMask(mask.data(), shape, newShape, order, sep, orderZ, workers);
    parallelRanges(out.size(), workers, 1 << 16, [&](std::size_t b, std::size_t e) {
      for (std::size_t i = b; i < e; ++i)
        if (r[i] && !out[i]) out[i] = std::uint16_t(v);
    });
  }
  return out;
}

std::vector<double> nnunetResizePlane(const double* plane, std::int64_t h, std::int64_t w, std::int64_t outH,
                                      std::int64_t outW, int order) {
  if (h == outH && w == outW) return std::vector<double>(plane, plane + h * w);
  const Array out = resize(plane, {1, h, w}, {1, outH, outW}, {false, true, true}, order, 1);
  return std::vector<double>(out.v.begin(), out.v.end());
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
                          const Spacing3& originalSpacing, const std::vector<int>& regionsClassOrder,
                          unsigned workers) {
  const Shape3 cropShape = box.size();
  const SeparateZ sep = nnunetSeparateZ(targetSpacing, originalSpacing);
  const std::size_t nNet = std::size_t(netShape[0] * netShape[1] * netShape[2]);
  const std::size_t nCrop = std::size_t(cropShape[0] * cropShape[1] * cropShape[2]);
  std::vector<float> resampled(std::size_t(channels) * nCrop);
  for (std::int64_t c = 0; c < channels; ++c) {
    const auto r = nnunetResample(logits.data() + std::size_t(c) * nNet, netShape, cropShape, 1, sep, 0, workers);
    for (std::size_t i = 0; i < nCrop; ++i) resampled[std::size_t(c) * nCrop + i] = roundToHalf(r[i]);
  }
  std::vector<float> prob(resampled.size());
  std::vector<float> lab(nCrop);
  parallelRanges(nCrop, workers, 1 << 14, [&](std::size_t b, std::size_t e) {
    for (std::size_t i = b; i < e; ++i)
      lab[i] = float(nnunetVoxelLabel(resampled.data() + i, std::int64_t(nCrop), channels, regionsClassOrder,
                                      prob.data() + i, std::int64_t(nCrop)));
  });
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
