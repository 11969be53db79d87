#include "RenderCase.h"

#include "EvaluateReport.h"
#include "SegmentOutputs.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/core/Log.h"
#include "voxseg/evaluation/Evaluate.h"
#include "voxseg/evaluation/LabelMap.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/processing/LabelMaps.h"
#include "voxseg/rendering/Display.h"
#include "voxseg/rendering/MeshFiles.h"
#include "voxseg/rendering/ReviewPage.h"
#include "voxseg/rendering/SliceMosaic.h"
#include "voxseg/rendering/Snapshots.h"

#include <spdlog/spdlog.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <map>
#include <set>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

const std::vector<rendering::View> kViews{rendering::View::Anterior, rendering::View::Left, rendering::View::Superior};
const std::vector<rendering::Plane> kPlanes{rendering::Plane::Axial, rendering::Plane::Coronal,
                                            rendering::Plane::Sagittal};

std::string fileSafe(const std::string& name) {
  std::string out;
  for (char c : name) out += std::isalnum(static_cast<unsigned char>(c)) || c == '-' || c == '_' ? c : '_';
  return out;
}

std::string meshStem(const LabelInfo& l) {
  return l.name.empty() ? "label_" + std::to_string(l.value) : std::to_string(l.value) + "_" + fileSafe(l.name);
}

std::string path(const RenderSettings& s, const std::string& name) { return (fs::path(s.outputDir) / name).string(); }

std::string fixed(double v, const char* f = "%.4f") {
  if (!std::isfinite(v)) return numberText(v);
  char b[48];
  std::snprintf(b, sizeof b, f, v);
  return b;
}

double metric(const nlohmann::json& block, const std::string& name) {
  if (!block.contains(name)) return std::numeric_limits<double>::quiet_NaN();
  const auto& v = block[name];
  if (v.is_number()) return v.get<double>();
  return v == "inf" ? INFINITY : std::numeric_limits<double>::quiet_NaN();
}

} // namespace

void checkRenderSettings(const RenderSettings& s) {
  for (const auto& f : s.meshFormats)
    if (f != "gltf") rendering::parseMeshFormat(f);
  rendering::parseMeshSpace(s.meshSpace);
  rendering::parseWindow(s.window);
  if (s.size < 64 || s.size > 8192) throw usageError("--size must be within 64..8192 pixels");
  if (s.tile < 16 || s.tile > 4096) throw usageError("--tile must be within 16..4096 pixels");
  if (s.rows < 1 || s.columns < 1 || s.rows * s.columns > 64) throw usageError("--mosaic: 1x1 up to 64 tiles");
  if (s.surface.smoothingIterations < 0 || s.surface.passBand <= 0 || s.surface.passBand > 2)
    throw usageError("--smoothing must be >= 0 and --pass-band within (0, 2]");
  if (s.surface.decimation < 0 || s.surface.decimation >= 1) throw usageError("--decimate must be within [0, 1)");
  if (s.meshFormats.empty() && !s.views3d && !s.slices && !s.review && !s.interactive) // an empty folder, exit 0
    throw usageError("--mesh-format none, --no-3d, --no-slices and --no-review leave nothing to render");
  const bool gltf = std::find(s.meshFormats.begin(), s.meshFormats.end(), "gltf") != s.meshFormats.end();
  if (s.interactive) rendering::checkInteractiveDisplay(); // the user's own display, before any Xvfb is started
  if (s.views3d || gltf) rendering::ensureDisplay();       // fails early, before any work
}

std::vector<std::string> renderDestinations(const RenderSettings& s, const std::vector<LabelInfo>& labels) {
  std::vector<std::string> out;
  for (const auto& f : s.meshFormats) {
    if (f == "gltf") {
      out.push_back(path(s, "labels.gltf"));
      continue;
    }
    const std::string ext = rendering::meshExtension(rendering::parseMeshFormat(f));
    if (s.combined) {
      out.push_back(path(s, "labels" + ext));
      if (f == "obj") out.push_back(path(s, "labels.mtl"));
    } else {
      for (const auto& l : labels) {
        out.push_back(path(s, "meshes/" + meshStem(l) + ext));
        if (f == "obj") out.push_back(path(s, "meshes/" + meshStem(l) + ".mtl"));
      }
    }
  }
  if (s.views3d)
    for (auto v : kViews) out.push_back(path(s, "3d_" + rendering::viewName(v) + ".png"));
  if (s.slices)
    for (auto p : kPlanes) out.push_back(path(s, rendering::planeName(p) + ".png"));
  if (s.review) out.push_back(path(s, "review.html"));
  return out;
}

nlohmann::ordered_json renderCase(const RenderInputs& in, const RenderSettings& s) {
  const auto t0 = std::chrono::steady_clock::now();
  const rendering::Labels labels = rendering::toLabels(*in.labels);
  if (in.image && !sameGrid(in.image->geometry(), labels.geometry))
    throw inputError(in.image->source, "not on the label map's grid (" + in.labels->source +
                                           "): " + gridDifference(in.image->geometry(), labels.geometry));
  // The reference is checked (its grid, then that it is a label map) before any folder or file is made.
  // (The maps are made again for the metrics at the end, not held through the rendering.)
  if (in.reference) {
    if (!sameGrid(in.reference->geometry(), in.labels->geometry()))
      throw inputError(in.reference->source, "the reference is not on the label map's grid: " +
                                                 gridDifference(in.reference->geometry(), in.labels->geometry()));
    evaluation::toLabelMap(*in.reference); // throws naming the file for a value that is not a label
  }
  std::vector<LabelInfo> present;
  for (int v : rendering::presentLabels(labels)) present.push_back(describeLabel(v, in.known));
  io::MadeFolders made; // removed again (when empty) if rendering fails
  made.make(s.outputDir);
  // The meshes, pictures and review page land together (in segment --render, with the case's other outputs): an
  // interrupt or a failure leaves none of them, not a render's meshes without its pictures, or beside an earlier
  // render's pictures (until 2026-11-29 each file was renamed into place when written).
  io::OutputSet together;
  if (s.meshFolder() && !present.empty()) made.make(path(s, "meshes")); // no label (or glTF only): no mesh there
  const auto destinations = renderDestinations(s, present);
  for (const auto& f : destinations) io::AtomicOutput probe(f, s.force); // before any work

  if (present.empty())
    logWarning(in.labels->source + ": no label but 0: no surfaces, meshes or 3D pictures (the slice pictures show " +
               (in.image ? "the image alone)" : "nothing)"));
  std::vector<rendering::LabelSurface> surfaces;
  const bool gltf = std::find(s.meshFormats.begin(), s.meshFormats.end(), "gltf") != s.meshFormats.end();
  if (!present.empty() && (!s.meshFormats.empty() || s.views3d || s.interactive || gltf))
    surfaces = rendering::extractSurfaces(labels, {}, s.surface, s.threads);
  std::vector<rendering::NamedSurface> named;
  for (std::size_t i = 0; i < surfaces.size(); ++i)
    named.push_back({&surfaces[i],
                     present[i].name.empty() ? "label " + std::to_string(present[i].value) : present[i].name,
                     present[i].color});
  const auto t1 = std::chrono::steady_clock::now();

  nlohmann::ordered_json files = nlohmann::ordered_json::array();
  const auto space = rendering::parseMeshSpace(s.meshSpace);
  for (const auto& f : s.meshFormats) {
    if (named.empty()) break;
    if (f == "gltf") {
      rendering::writeGltf(named, path(s, "labels.gltf"), s.force, space);
      files.push_back(path(s, "labels.gltf"));
      continue;
    }
    const auto format = rendering::parseMeshFormat(f);
    if (s.combined) {
      rendering::writeMesh(named, format, space, path(s, "labels" + rendering::meshExtension(format)), s.force);
      files.push_back(path(s, "labels" + rendering::meshExtension(format)));
    } else {
      for (std::size_t i = 0; i < named.size(); ++i) {
        const std::string p = path(s, "meshes/" + meshStem(present[i]) + rendering::meshExtension(format));
        rendering::writeMesh({named[i]}, format, space, p, s.force);
        files.push_back(p);
      }
    }
  }
  if (!s.combined &&
      !s.meshFormats.empty()) {    // a former render's meshes of labels this map lacks would pass as its own
    std::set<std::string> written; // every destination of this render (.obj files bring their .mtl)
    for (const auto& f : destinations) written.insert(fs::path(f).filename().string());
    std::vector<std::string> stale;
    std::error_code ec;
    for (const auto& e : fs::directory_iterator(path(s, "meshes"), ec))
      if (e.is_regular_file() && !written.count(e.path().filename().string()) &&
          e.path().filename().string().rfind('.', 0) != 0)
        stale.push_back(e.path().filename().string());
    if (!stale.empty()) {
      std::sort(stale.begin(), stale.end());
      logWarning(path(s, "meshes") + " also holds " + std::to_string(stale.size()) +
                 " file(s) this render did not write, e.g. " + stale.front() +
                 " (from an earlier render? they are not this label map's)");
    }
  }
  std::vector<std::pair<std::string, std::string>> images;
  if (s.views3d && !named.empty()) {
    rendering::SnapshotOptions o;
    o.width = o.height = s.size;
    for (const auto& p : rendering::writeSurfaceSnapshots(named, kViews, o, path(s, "3d_"), s.force)) {
      images.emplace_back(fs::path(p).stem().string(), p);
      files.push_back(p);
    }
  }
  if (s.slices) {
    rendering::MosaicOptions o;
    o.rows = s.rows, o.columns = s.columns, o.tileSize = s.tile;
    o.window = rendering::parseWindow(s.window);
    std::map<int, std::array<int, 3>> colors;
    for (const auto& l : present) colors[l.value] = l.color;
    for (auto plane : kPlanes) {
      const std::string p = path(s, rendering::planeName(plane) + ".png");
      const std::string window = rendering::writeSliceMosaic(in.image, labels, colors, plane, o, p, s.force);
      images.emplace_back(rendering::planeName(plane) + (in.image ? " (window " + window + ")" : ""), p);
      files.push_back(p);
    }
  }
  const auto t2 = std::chrono::steady_clock::now();

  // label table: volume and components from the label map, surface volume from the meshes
  const auto stats = processing::labelStatistics(*toLabelImage(labels.voxels, *in.labels)); // read once, above
  nlohmann::ordered_json table = nlohmann::ordered_json::array();
  rendering::ReviewPage page;
  for (const auto& l : present) {
    rendering::ReviewLabel row;
    row.label = l.value;
    row.name = l.name;
    row.color = l.color;
    for (const auto& st : stats)
      if (st.label == l.value) row.ml = st.ml, row.components = st.components;
    for (const auto& sf : surfaces)
      if (sf.label == l.value) row.surfaceMl = sf.enclosedVolumeMm3 / 1000.0;
    page.labels.push_back(row);
    table.push_back({{"label", l.value},
                     {"name", l.name},
                     {"ml", row.ml},
                     {"components", row.components},
                     {"surface_ml", row.surfaceMl >= 0 ? nlohmann::ordered_json(row.surfaceMl) : nullptr}});
  }
  if (in.reference) {
    const auto ref = evaluation::toLabelMap(*in.reference), pred = evaluation::toLabelMap(*in.labels);
    evaluation::EvaluationOptions opt;
    const auto values = evaluation::presentLabels(ref, pred);
    const auto j = evaluation::caseToJson(in.caseId, evaluation::evaluateLabels(ref, pred, values, opt), opt);
    page.metricColumns = {
        "name", "Dice", "HD95 (mm)", "HD100 (mm)", "mean surface distance (mm)", "surface Dice at 2 mm"};
    for (const auto& l : j["labels"]) {
      const int value = l["label"].get<int>();
      const auto& dm = l["deepmind"];
      const double asd =
          0.5 * (metric(dm, "average_surface_distance_gt_to_pred") + metric(dm, "average_surface_distance_pred_to_gt"));
      page.metricRows.push_back({std::to_string(value), describeLabel(value, in.known).name, fixed(metric(dm, "dice")),
                                 fixed(metric(dm, "robust_hausdorff_95"), "%.2f"),
                                 fixed(metric(dm, "robust_hausdorff_100"), "%.2f"), fixed(asd, "%.3f"),
                                 fixed(metric(dm, "surface_dice_at_2mm"))});
    }
  }
  if (s.review) {
    page.title = "voxseg review: " + in.caseId;
    page.facts = in.facts;
    page.facts.emplace_back("label map", in.labels->source);
    if (in.image) page.facts.emplace_back("image", in.image->source);
    if (in.reference)
      page.facts.emplace_back("reference (DeepMind surface-distance conventions)", in.reference->source);
    page.images = images;
    for (const auto& f : files) {
      const std::string rel = fs::relative(f.get<std::string>(), s.outputDir).string();
      if (fs::path(rel).extension() != ".png") page.files.emplace_back(rel, rel);
    }
    rendering::writeReviewPage(page, path(s, "review.html"), s.force);
    files.push_back(path(s, "review.html"));
  }
  const auto t3 = std::chrono::steady_clock::now();
  auto sec = [](auto a, auto b) { return std::chrono::duration<double>(b - a).count(); };
  spdlog::info("{}: {} surfaces in {:.2f} s, meshes and pictures in {:.2f} s, review in {:.2f} s", in.caseId,
               surfaces.size(), sec(t0, t1), sec(t1, t2), sec(t2, t3));
  together.commitAll();
  made.keep();
  if (s.interactive && !named.empty()) rendering::showInteractive(named, "voxseg: " + in.caseId);
  return {{"files", files}, {"labels", table}};
}

} // namespace voxseg::cli
