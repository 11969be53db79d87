#include "voxseg/rendering/Snapshots.h"

#include "PngOutput.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/rendering/Display.h"

#include <vtkActor.h>
#include <vtkCamera.h>
#include <vtkGLTFExporter.h>
#include <vtkInteractorStyleTrackballCamera.h>
#include <vtkNew.h>
#include <vtkPolyData.h>
#include <vtkPolyDataMapper.h>
#include <vtkProperty.h>
#include <vtkRenderWindow.h>
#include <vtkRenderWindowInteractor.h>
#include <vtkRenderer.h>

#include <nlohmann/json.hpp>

#include <cstdlib>

namespace voxseg::rendering {
namespace {

struct Scene {
  vtkNew<vtkRenderer> renderer;
  vtkNew<vtkRenderWindow> window;
};

void fill(Scene& s, const std::vector<NamedSurface>& surfaces, const std::array<double, 3>& background) {
  s.renderer->SetBackground(background[0], background[1], background[2]);
  s.window->AddRenderer(s.renderer);
  for (const auto& n : surfaces) {
    vtkNew<vtkPolyDataMapper> mapper;
    mapper->SetInputData(n.surface->surface);
    mapper->ScalarVisibilityOff();
    vtkNew<vtkActor> actor;
    actor->SetMapper(mapper);
    actor->GetProperty()->SetColor(n.color[0] / 255.0, n.color[1] / 255.0, n.color[2] / 255.0);
    actor->GetProperty()->SetSpecular(0.2);
    actor->GetProperty()->SetSpecularPower(20);
    s.renderer->AddActor(actor);
  }
}

// Camera on the given side of the scene (LPS: anterior is -y, left is +x, superior is +z).
void look(vtkRenderer* renderer, View view) {
  vtkCamera* camera = renderer->GetActiveCamera();
  camera->SetFocalPoint(0, 0, 0);
  switch (view) {
  case View::Anterior:
    camera->SetPosition(0, -1, 0);
    camera->SetViewUp(0, 0, 1);
    break;
  case View::Left:
    camera->SetPosition(1, 0, 0);
    camera->SetViewUp(0, 0, 1);
    break;
  case View::Superior:
    camera->SetPosition(0, 0, 1);
    camera->SetViewUp(0, -1, 0);
    break;
  }
  renderer->ResetCamera(); // fitted to the visible actors' bounds
  camera->Zoom(1.15);
  renderer->ResetCameraClippingRange();
}

} // namespace

std::string viewName(View v) { return v == View::Anterior ? "anterior" : v == View::Left ? "left" : "superior"; }

std::vector<std::string> writeSurfaceSnapshots(const std::vector<NamedSurface>& surfaces,
                                               const std::vector<View>& views, const SnapshotOptions& options,
                                               const std::string& prefix, bool overwrite) {
  if (surfaces.empty()) throw usageError(prefix + "*.png: no surface to render");
  ensureDisplay();
  Scene s;
  fill(s, surfaces, options.background);
  s.window->SetOffScreenRendering(1);
  s.window->SetSize(options.width, options.height);
  s.window->SetMultiSamples(4);
  std::vector<std::string> written;
  for (View v : views) {
    look(s.renderer, v);
    const std::string path = prefix + viewName(v) + ".png";
    writeViewPng(s.window, path, overwrite);
    written.push_back(path);
  }
  return written;
}

namespace {

// VTK 9.1's exporter names its meshes, nodes and materials mesh0, mesh1, ... (unnamed materials): each is given its
// label's name, which viewers list. It writes one mesh per actor holding cells, in the renderer's order (fill()'s,
// the surfaces' order); a file of another shape is left as written, with a warning.
std::string withLabelNames(const std::string& gltf, const std::string& path,
                           const std::vector<NamedSurface>& surfaces) {
  std::vector<std::string> names;
  for (const auto& n : surfaces)
    if (n.surface->surface->GetNumberOfCells() > 0) names.push_back(n.name);
  auto g = nlohmann::ordered_json::parse(gltf, nullptr, false);
  if (g.is_discarded() || !g.contains("meshes") || !g["meshes"].is_array() || g["meshes"].size() != names.size()) {
    logWarning(path + ": the meshes are left unnamed (VTK's glTF file is not the one mesh per label expected)");
    return gltf;
  }
  for (std::size_t i = 0; i < names.size(); ++i) {
    auto& mesh = g["meshes"][i];
    mesh["name"] = names[i];
    for (const auto& p : mesh.value("primitives", nlohmann::ordered_json::array()))
      if (p.contains("material") && p["material"].is_number_unsigned() && g.contains("materials") &&
          p["material"].get<std::size_t>() < g["materials"].size())
        g["materials"][p["material"].get<std::size_t>()]["name"] = names[i];
  }
  if (g.contains("nodes") && g["nodes"].is_array())
    for (auto& node : g["nodes"])
      if (node.contains("mesh") && node["mesh"].is_number_unsigned() && node["mesh"].get<std::size_t>() < names.size())
        node["name"] = names[node["mesh"].get<std::size_t>()];
  return g.dump();
}

} // namespace

void writeGltf(const std::vector<NamedSurface>& surfaces, const std::string& path, bool overwrite, MeshSpace space) {
  if (surfaces.empty()) throw usageError(path + ": no surface to write");
  ensureDisplay();
  // RAS: the surfaces turned as the other mesh files are (until 2026-11-29 the glTF file stayed in LPS whatever
  // --mesh-space said)
  std::vector<LabelSurface> turned;
  std::vector<NamedSurface> named = surfaces;
  if (space == MeshSpace::Ras) {
    turned.reserve(surfaces.size());
    for (auto& n : named) {
      turned.push_back(*n.surface);
      turned.back().surface = inMeshSpace(n.surface->surface, space);
      n.surface = &turned.back();
    }
  }
  { io::AtomicOutput probe(path, overwrite); } // the destination, before the scene is built
  Scene s;
  fill(s, named, {1, 1, 1});
  s.window->SetOffScreenRendering(1);
  s.window->SetSize(64, 64);
  vtkNew<vtkGLTFExporter> exporter;
  exporter->SetRenderWindow(s.window);
  exporter->InlineDataOn();
  exporter->SaveNormalOn();
  const std::string gltf = exporter->WriteToString(); // named in memory, then written once
  if (gltf.empty()) throw Error(ExitCode::Output, path + ": cannot write the glTF file");
  io::writeFileAtomically(path, withLabelNames(gltf, path, named), overwrite);
}

void showInteractive(const std::vector<NamedSurface>& surfaces, const std::string& title) {
  checkInteractiveDisplay();
  Scene s;
  fill(s, surfaces, {0.1, 0.1, 0.12});
  s.window->SetSize(1000, 800);
  s.window->SetWindowName(title.c_str());
  look(s.renderer, View::Anterior);
  vtkNew<vtkRenderWindowInteractor> interactor;
  vtkNew<vtkInteractorStyleTrackballCamera> style;
  interactor->SetInteractorStyle(style);
  interactor->SetRenderWindow(s.window);
  s.window->Render();
  interactor->Start();
}

} // namespace voxseg::rendering
