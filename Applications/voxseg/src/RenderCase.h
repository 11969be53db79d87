#pragma once
// `voxseg render` and `voxseg segment --render`: for one case, label surfaces and mesh files, 3D and
// slice pictures, and a self-contained review page (with evaluation metrics when a reference is given).

#include "voxseg/core/ModelCard.h"
#include "voxseg/io/Volume.h"
#include "voxseg/rendering/SurfaceOptions.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <string>
#include <vector>

namespace voxseg::cli {

struct RenderSettings {
  std::string outputDir;
  std::vector<std::string> meshFormats{"stl"}; ///< stl, obj, ply, vtp, gltf; empty: no meshes
  bool combined = false;                       ///< one mesh file with every label instead of one per label
  std::string meshSpace = "lps";
  rendering::SurfaceOptions surface;
  int size = 800; ///< 3D pictures, square
  int tile = 256; ///< slice mosaic tile
  int rows = 3, columns = 3;
  std::string window = "auto";
  bool views3d = true, slices = true, review = true;
  bool interactive = false;
  int threads = 0;
  bool force = false;

  /// Whether meshes go to <outputDir>/meshes/: a format other than gltf, one file per label.
  bool meshFolder() const {
    return !combined && std::any_of(meshFormats.begin(), meshFormats.end(), [](const auto& f) { return f != "gltf"; });
  }
};

struct RenderInputs {
  std::string caseId;
  const io::Volume* image = nullptr; ///< background of the slice pictures; may be null
  const io::Volume* labels = nullptr;
  const io::Volume* reference = nullptr; ///< optional: metrics on the review page
  std::vector<LabelInfo> known;          ///< names and colors (model card, label table, .seg.nrrd)
  std::vector<std::pair<std::string, std::string>> facts;
};

/// Every file renderCase will write for `labelsPresent` (checked before any work).
std::vector<std::string> renderDestinations(const RenderSettings& s, const std::vector<LabelInfo>& labelsPresent);

/// Writes the case's meshes, pictures and review page into settings.outputDir (created if missing);
/// returns {"files": [...], "labels": [...]} for reports.
nlohmann::ordered_json renderCase(const RenderInputs& in, const RenderSettings& s);

/// Checks the settings (formats, space, window, sizes) and that pictures can be rendered (an X
/// display or Xvfb) before any work; throws Error(Usage) or Error(Internal).
void checkRenderSettings(const RenderSettings& s);

} // namespace voxseg::cli
