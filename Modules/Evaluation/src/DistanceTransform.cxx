#include "DistanceTransform.h"

#include "voxseg/core/Parallel.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <memory>

namespace voxseg::evaluation::detail {
namespace {

constexpr double kInf = std::numeric_limits<double>::infinity();
// Columns are gathered into tiles of kTile adjacent columns: each row of a tile is one contiguous copy.
constexpr std::size_t kTile = 64;

// Lower envelope of the parabolas f(q) + ((p - q) w)^2 over the finite f(q) of one line of n values,
// evaluated at every p. Scratch for lines of up to n values.
class Envelope {
public:
  explicit Envelope(std::size_t n) : v_(n), h_(n), z_(n + 1) {}

  // out[p] = min over q of f[q] + ((p - q) w)^2, summed in that order; +inf on a line without features.
  // Element i of the line is f[i * stride] (and out[i * stride]).
  void run(const double* f, double* out, std::size_t n, std::size_t stride, double w) {
    const double w2 = w * w;
    std::ptrdiff_t k = -1;
    for (std::size_t q = 0; q < n; ++q) {
      const double fq = f[q * stride];
      if (fq == kInf) continue;
      const double hq = fq + w2 * static_cast<double>(q) * static_cast<double>(q);
      double s = -kInf;
      while (k >= 0) {
        // Where q's parabola drops below the one on top of the stack.
        s = (hq - h_[k]) / (2 * w2 * static_cast<double>(q - v_[k]));
        if (s > z_[k]) break; // z_[0] is -inf: the first parabola always stays
        --k;
      }
      ++k;
      v_[k] = q;
      h_[k] = hq;
      z_[k] = k == 0 ? -kInf : s;
      z_[k + 1] = kInf;
    }
    if (k < 0) {
      for (std::size_t p = 0; p < n; ++p) out[p * stride] = kInf;
      return;
    }
    std::size_t j = 0;
    for (std::size_t p = 0; p < n; ++p) {
      while (z_[j + 1] < static_cast<double>(p)) ++j;
      const double d = static_cast<double>(static_cast<std::ptrdiff_t>(p) - static_cast<std::ptrdiff_t>(v_[j])) * w;
      out[p * stride] = f[v_[j] * stride] + d * d;
    }
  }

private:
  std::vector<std::size_t> v_; // apex positions of the envelope's parabolas
  std::vector<double> h_;      // f(v) + (v w)^2 of those parabolas
  std::vector<double> z_;      // where each parabola starts to be the lowest
};

// Squared distances along x within each row: the nearest feature of the row.
void rowPass(const std::uint8_t* in, double* out, std::size_t n, double sx) {
  std::ptrdiff_t last = -1;
  for (std::size_t x = 0; x < n; ++x) {
    if (in[x]) last = static_cast<std::ptrdiff_t>(x);
    if (last < 0) {
      out[x] = kInf;
    } else {
      const double d = static_cast<double>(static_cast<std::ptrdiff_t>(x) - last) * sx;
      out[x] = d * d;
    }
  }
  last = -1;
  for (std::size_t i = n; i-- > 0;) {
    if (in[i]) last = static_cast<std::ptrdiff_t>(i);
    if (last >= 0) {
      const double d = static_cast<double>(last - static_cast<std::ptrdiff_t>(i)) * sx;
      if (d * d < out[i]) out[i] = d * d;
    }
  }
}

// Runs the envelope along a strided axis (n values, `stride` apart) for the columns [c0, c0 + width)
// that `use` selects, through a tile of width <= kTile columns.
template <typename Use>
void columnTile(double* g, std::size_t c0, std::size_t width, std::size_t stride, std::size_t n, double w,
                Envelope& env, std::vector<double>& in, std::vector<double>& out, Use use) {
  for (std::size_t i = 0; i < n; ++i) std::copy_n(g + c0 + i * stride, width, in.data() + i * kTile);
  for (std::size_t b = 0; b < width; ++b)
    if (use(c0 + b)) env.run(in.data() + b, out.data() + b, n, kTile, w);
  for (std::size_t i = 0; i < n; ++i)
    for (std::size_t b = 0; b < width; ++b)
      if (use(c0 + b)) g[c0 + b + i * stride] = out[i * kTile + b];
}

} // namespace

std::vector<double> distancesToFeatures(const std::vector<std::uint8_t>& features, const Size3& n, const Vec3& spacing,
                                        const std::vector<std::size_t>& queries, int threads) {
  std::vector<double> result(queries.size(), kInf);
  if (queries.empty() || std::none_of(features.begin(), features.end(), [](std::uint8_t f) { return f != 0; }))
    return result;

  const std::size_t plane = n[0] * n[1];
  std::unique_ptr<double[]> g(new double[plane * n[2]]); // every value is written by the row pass
  const unsigned rowWorkers = workerCount(threads, n[2]);
  parallelFor(n[2], rowWorkers, [&](std::size_t z) {
    for (std::size_t y = 0; y < n[1]; ++y) {
      const std::size_t row = (z * n[1] + y) * n[0];
      rowPass(features.data() + row, g.get() + row, n[0], spacing[0]);
    }
  });

  // Along y, slice by slice.
  const std::size_t chunks = std::min<std::size_t>(n[2], 4 * static_cast<std::size_t>(rowWorkers));
  parallelFor(chunks, rowWorkers, [&](std::size_t c) {
    Envelope env(n[1]);
    std::vector<double> in(kTile * n[1]), out(kTile * n[1]);
    for (std::size_t z = n[2] * c / chunks; z < n[2] * (c + 1) / chunks; ++z)
      for (std::size_t x0 = 0; x0 < n[0]; x0 += kTile)
        columnTile(g.get() + z * plane, x0, std::min(kTile, n[0] - x0), n[0], n[1], spacing[1], env, in, out,
                   [](std::size_t) { return true; });
  });

  // Along z, only the columns that hold a query.
  std::vector<std::uint8_t> wanted(plane, 0);
  for (std::size_t q : queries) wanted[q % plane] = 1;
  const std::size_t blocks = (plane + kTile - 1) / kTile;
  const unsigned colWorkers = workerCount(threads, blocks);
  const std::size_t colChunks = std::min<std::size_t>(blocks, 16 * static_cast<std::size_t>(colWorkers));
  parallelFor(colChunks, colWorkers, [&](std::size_t c) {
    Envelope env(n[2]);
    std::vector<double> in(kTile * n[2]), out(kTile * n[2]);
    for (std::size_t b = blocks * c / colChunks; b < blocks * (c + 1) / colChunks; ++b) {
      const std::size_t c0 = b * kTile, width = std::min(kTile, plane - c0);
      if (std::find(wanted.begin() + c0, wanted.begin() + c0 + width, 1) == wanted.begin() + c0 + width) continue;
      columnTile(g.get(), c0, width, plane, n[2], spacing[2], env, in, out,
                 [&](std::size_t col) { return wanted[col] != 0; });
    }
  });

  for (std::size_t i = 0; i < queries.size(); ++i) result[i] = std::sqrt(g[queries[i]]);
  return result;
}

} // namespace voxseg::evaluation::detail
