#include "voxseg/rendering/SliceMosaic.h"

#include "PngOutput.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/core/ModelCard.h"

#include <vtkImageData.h>
#include <vtkNew.h>

#include <algorithm>
#include <cmath>
#include <sstream>

namespace voxseg::rendering {
namespace {

// One screen axis: which image axis it walks, in which direction, and the voxel size along it.
struct Walk {
  int axis = 0;
  int step = 1; ///< +1: index grows with the screen coordinate; -1: falls
  std::size_t n = 1;
  double spacing = 1;
  std::size_t index(std::size_t k) const { return step > 0 ? k : n - 1 - k; }
};

// For each world axis (LPS x, y, z): the image axis closest to it and the sign of their alignment.
void nearestAxes(const Geometry& g, std::array<int, 3>& axisOf, std::array<int, 3>& signOf) {
  std::array<bool, 3> used{false, false, false};
  for (int w = 0; w < 3; ++w) {
    int best = -1;
    for (int c = 0; c < 3; ++c)
      if (!used[c] && (best < 0 || std::fabs(g.direction[3 * w + c]) > std::fabs(g.direction[3 * w + best]))) best = c;
    used[best] = true;
    axisOf[w] = best;
    signOf[w] = g.direction[3 * w + best] >= 0 ? 1 : -1;
  }
}

// Screen axis along world axis w, moving towards +w (dir = +1) or -w (dir = -1).
Walk walk(const Geometry& g, const std::array<int, 3>& axisOf, const std::array<int, 3>& signOf, int w, int dir) {
  Walk k;
  k.axis = axisOf[w];
  k.step = dir * signOf[w];
  k.n = g.size[k.axis];
  k.spacing = g.spacing[k.axis];
  return k;
}

double percentile(std::vector<float>& v, double p) {
  if (v.empty()) return 0;
  const auto k = std::size_t(std::clamp(p / 100.0, 0.0, 1.0) * double(v.size() - 1));
  std::nth_element(v.begin(), v.begin() + std::ptrdiff_t(k), v.end());
  return v[k];
}

std::pair<double, double> resolveWindow(const Window& w, const float* p, std::size_t n) {
  if (w.kind == Window::Kind::Fixed) return {w.lo, w.hi};
  const std::size_t stride = std::max<std::size_t>(1, n / 2000000);
  std::vector<float> sample;
  sample.reserve(n / stride + 1);
  float mn = INFINITY, mx = -INFINITY;
  for (std::size_t i = 0; i < n; i += stride)
    if (std::isfinite(p[i])) {
      sample.push_back(p[i]);
      mn = std::min(mn, p[i]);
      mx = std::max(mx, p[i]);
    }
  if (w.kind == Window::Kind::Auto && mn <= -900 && mx >= 300) return {40 - 200, 40 + 200}; // CT in HU
  double lo = percentile(sample, w.kind == Window::Kind::Auto ? 0.5 : w.pLo);
  double hi = percentile(sample, w.kind == Window::Kind::Auto ? 99.5 : w.pHi);
  if (!(hi > lo)) hi = lo + 1;
  return {lo, hi};
}

} // namespace

std::string planeName(Plane p) { return p == Plane::Axial ? "axial" : p == Plane::Coronal ? "coronal" : "sagittal"; }

Window parseWindow(const std::string& text) {
  Window w;
  w.name = text;
  auto levelWidth = [&](double level, double width) {
    w.kind = Window::Kind::Fixed;
    w.lo = level - width / 2;
    w.hi = level + width / 2;
  };
  if (text == "auto") return w;
  if (text == "ct-soft") return levelWidth(40, 400), w;
  if (text == "ct-bone") return levelWidth(400, 1800), w;
  if (text == "ct-lung") return levelWidth(-600, 1500), w;
  if (text == "ct-brain") return levelWidth(40, 80), w;
  if (text == "mr") return w.kind = Window::Kind::Percentiles, w;
  std::istringstream s(text);
  char comma = 0;
  if (s >> w.lo >> comma >> w.hi && comma == ',' && s.peek() == EOF && w.hi > w.lo)
    return w.kind = Window::Kind::Fixed, w;
  throw usageError("--window '" + text + "': expected auto, ct-soft, ct-bone, ct-lung, ct-brain, mr or lo,hi");
}

std::string writeSliceMosaic(const io::Volume* image, const Labels& labels,
                             const std::map<int, std::array<int, 3>>& colors, Plane plane, const MosaicOptions& options,
                             const std::string& path, bool overwrite) {
  const Geometry& g = labels.geometry;
  if (image && !sameGrid(image->geometry(), g))
    throw inputError(image->source,
                     "the image and the label map are not on the same grid: " + gridDifference(image->geometry(), g));
  if (options.rows < 1 || options.columns < 1 || options.tileSize < 16)
    throw usageError(path + ": a mosaic needs at least 1x1 tiles of 16 pixels");
  std::array<int, 3> axisOf{}, signOf{};
  nearestAxes(g, axisOf, signOf);
  // screen u (right), screen v (down), slice normal; world axes LPS
  Walk u, v, normal;
  switch (plane) {
  case Plane::Axial: // seen from the feet: patient left on the right, anterior up
    u = walk(g, axisOf, signOf, 0, +1), v = walk(g, axisOf, signOf, 1, +1), normal = walk(g, axisOf, signOf, 2, +1);
    break;
  case Plane::Coronal: // seen from the front: patient left on the right, superior up
    u = walk(g, axisOf, signOf, 0, +1), v = walk(g, axisOf, signOf, 2, -1), normal = walk(g, axisOf, signOf, 1, +1);
    break;
  case Plane::Sagittal: // seen from the left: anterior on the left, superior up
    u = walk(g, axisOf, signOf, 1, +1), v = walk(g, axisOf, signOf, 2, -1), normal = walk(g, axisOf, signOf, 0, +1);
    break;
  }
  // slice positions: evenly over the labels' extent along the normal
  const std::array<std::size_t, 3> stride{1, g.size[0], g.size[0] * g.size[1]};
  std::size_t lo = SIZE_MAX, hi = 0;
  for (std::size_t i = 0; i < labels.voxels.size(); ++i)
    if (labels.voxels[i]) {
      const std::size_t k = (i / stride[normal.axis]) % g.size[normal.axis];
      lo = std::min(lo, k), hi = std::max(hi, k);
    }
  if (lo == SIZE_MAX) lo = 0, hi = normal.n - 1;
  const int tiles = options.rows * options.columns;
  std::vector<std::size_t> slices;
  for (int t = 0; t < tiles; ++t) {
    const double f = (double(t) + 1) / (double(tiles) + 1);
    std::size_t k = lo + std::size_t(std::floor(f * double(hi - lo + 1)));
    k = std::min(k, hi);
    slices.push_back(k);
  }
  std::sort(slices.begin(), slices.end()); // then along the normal's world axis
  if (normal.step < 0) std::reverse(slices.begin(), slices.end());

  const double eu = double(u.n) * u.spacing, ev = double(v.n) * v.spacing;
  const double scale = options.tileSize / std::max(eu, ev); // pixels per mm
  const int tw = std::max(1, int(std::lround(eu * scale))), th = std::max(1, int(std::lround(ev * scale)));
  const int gap = 4;
  const int width = options.columns * tw + (options.columns + 1) * gap;
  const int height = options.rows * th + (options.rows + 1) * gap;

  itk::Image<float, 3>::Pointer floatImage;
  const float* intensity = nullptr;
  std::pair<double, double> win{0, 1};
  if (image) {
    floatImage = image->toFloat();
    intensity = floatImage->GetBufferPointer();
    win = resolveWindow(options.window, intensity, g.voxelCount());
  }
  std::vector<std::array<int, 3>> palette(65536, std::array<int, 3>{-1, -1, -1});
  for (std::uint16_t l : labels.voxels)
    if (l && palette[l][0] < 0) {
      const auto it = colors.find(l);
      palette[l] = it != colors.end() ? it->second : defaultLabelColor(l);
    }

  vtkNew<vtkImageData> canvas;
  canvas->SetDimensions(width, height, 1);
  canvas->AllocateScalars(VTK_UNSIGNED_CHAR, 3);
  auto* px = static_cast<unsigned char*>(canvas->GetScalarPointer());
  std::fill(px, px + std::size_t(width) * height * 3, 24);
  std::vector<int> uIndex(tw), vIndex(th);
  for (int i = 0; i < tw; ++i) uIndex[i] = int(u.index(std::min(u.n - 1, std::size_t((i + 0.5) / scale / u.spacing))));
  for (int j = 0; j < th; ++j) vIndex[j] = int(v.index(std::min(v.n - 1, std::size_t((j + 0.5) / scale / v.spacing))));
  std::vector<std::uint16_t> tileLabels(std::size_t(tw) * th);
  for (int t = 0; t < tiles; ++t) {
    const int x0 = gap + (t % options.columns) * (tw + gap), y0 = gap + (t / options.columns) * (th + gap);
    const std::size_t base = slices[std::size_t(t)] * stride[normal.axis];
    for (int j = 0; j < th; ++j)
      for (int i = 0; i < tw; ++i)
        tileLabels[std::size_t(j) * tw + i] =
            labels.voxels[base + std::size_t(uIndex[i]) * stride[u.axis] + std::size_t(vIndex[j]) * stride[v.axis]];
    for (int j = 0; j < th; ++j)
      for (int i = 0; i < tw; ++i) {
        const std::size_t voxel =
            base + std::size_t(uIndex[i]) * stride[u.axis] + std::size_t(vIndex[j]) * stride[v.axis];
        double grey = 0;
        if (intensity) grey = std::clamp((intensity[voxel] - win.first) / (win.second - win.first), 0.0, 1.0) * 255;
        std::array<double, 3> rgb{grey, grey, grey};
        const std::uint16_t l = tileLabels[std::size_t(j) * tw + i];
        if (l) {
          auto differs = [&](int di, int dj) {
            const int a = i + di, b = j + dj;
            return a < 0 || b < 0 || a >= tw || b >= th || tileLabels[std::size_t(b) * tw + a] != l;
          };
          const bool edge = differs(-1, 0) || differs(1, 0) || differs(0, -1) || differs(0, 1);
          const double alpha = edge ? 1.0 : options.opacity;
          for (int c = 0; c < 3; ++c) rgb[c] = (1 - alpha) * rgb[c] + alpha * palette[l][c];
        }
        // vtkImageData rows run bottom-up
        unsigned char* out = px + (std::size_t(height - 1 - (y0 + j)) * width + std::size_t(x0 + i)) * 3;
        for (int c = 0; c < 3; ++c) out[c] = static_cast<unsigned char>(std::lround(rgb[c]));
      }
  }
  writeImagePng(canvas, path, overwrite);
  std::ostringstream w;
  w << win.first << ".." << win.second;
  return w.str();
}

} // namespace voxseg::rendering
