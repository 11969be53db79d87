#pragma once
// Slice mosaics: rows x columns of axial, coronal or sagittal slices of an image with the labels
// overlaid (semi-transparent fill, opaque outline), in radiological display convention (patient right
// on the screen's left; anterior up in axial, superior up in coronal and sagittal). Pure image
// composition: no display needed.

#include "voxseg/io/Volume.h"
#include "voxseg/rendering/Surfaces.h"

#include <array>
#include <map>
#include <string>

namespace voxseg::rendering {

enum class Plane { Axial, Coronal, Sagittal };
std::string planeName(Plane plane); ///< "axial", "coronal", "sagittal"

/// Intensity window: CT presets by level/width, MR (or anything) by percentiles of the image.
struct Window {
  enum class Kind { Auto, Fixed, Percentiles } kind = Kind::Auto;
  double lo = 0, hi = 1;        ///< Fixed: the range shown black to white
  double pLo = 0.5, pHi = 99.5; ///< Percentiles
  std::string name = "auto";
};
/// "auto" (CT soft tissue when the image looks like CT in HU, else percentiles 0.5-99.5), "ct-soft"
/// (L40/W400), "ct-bone" (L400/W1800), "ct-lung" (L-600/W1500), "ct-brain" (L40/W80), "mr"
/// (percentiles 0.5-99.5), or "lo,hi". Throws Error(Usage) otherwise.
Window parseWindow(const std::string& text);

struct MosaicOptions {
  int rows = 3, columns = 3;
  int tileSize = 256;    ///< pixels along a tile's longer physical side
  double opacity = 0.45; ///< label fill; outlines are opaque
  Window window;
};

/// Writes the mosaic of `plane` to `path` (PNG). `image` may be null (labels on black); it must share
/// the labels' grid otherwise. Slices are spread evenly over the labels' extent along the plane's
/// normal (the whole volume when there is no label). Returns the window applied, as "lo..hi".
std::string writeSliceMosaic(const io::Volume* image, const Labels& labels,
                             const std::map<int, std::array<int, 3>>& colors, Plane plane, const MosaicOptions& options,
                             const std::string& path, bool overwrite);

} // namespace voxseg::rendering
