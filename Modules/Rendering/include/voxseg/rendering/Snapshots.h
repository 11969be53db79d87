#pragma once
// Off-screen pictures of label surfaces (VTK, OpenGL through GLX: see Display.h) and glTF export of
// the same scene.

#include "voxseg/rendering/MeshFiles.h"

#include <string>
#include <vector>

namespace voxseg::rendering {

/// Views of a 3D scene in patient terms (LPS world): the camera looks from that side at the labels.
enum class View { Anterior, Left, Superior };
std::string viewName(View view); ///< "anterior", "left", "superior"

struct SnapshotOptions {
  int width = 800, height = 800;
  std::array<double, 3> background{1.0, 1.0, 1.0};
};

/// Renders the surfaces (each in its color) once per view, camera fitted to all of them, and writes
/// `<prefix><view>.png` for each; returns the paths written.
std::vector<std::string> writeSurfaceSnapshots(const std::vector<NamedSurface>& surfaces,
                                               const std::vector<View>& views, const SnapshotOptions& options,
                                               const std::string& prefix, bool overwrite);

/// The surfaces as one glTF 2.0 file (VTK's exporter, buffers inlined), in mm of `space` (LPS or RAS; not glTF's
/// Y-up metres). Each mesh, its node and its material are named after the label; colors are the labels'.
void writeGltf(const std::vector<NamedSurface>& surfaces, const std::string& path, bool overwrite,
               MeshSpace space = MeshSpace::Lps);

/// Opens a window with the surfaces and returns when the user closes it (needs $DISPLAY).
void showInteractive(const std::vector<NamedSurface>& surfaces, const std::string& title);

} // namespace voxseg::rendering
