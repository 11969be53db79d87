#include "Commands.h"

#include "voxseg/core/Geometry.h"
#include "voxseg/core/JsonText.h"

#include <fmt/format.h>
#include <nlohmann/json.hpp>

#include <algorithm>

#include <filesystem>
#include <ostream>

namespace voxseg::cli {
namespace {

nlohmann::json volumeJson(const io::Volume& v) {
  const Geometry g = v.geometry();
  const io::IntensityStats stats = io::intensityStats(v);
  nlohmann::json j;
  j["size"] = g.size;
  j["spacing"] = g.spacing;
  j["origin"] = g.origin;
  j["direction"] = {{g.direction[0], g.direction[1], g.direction[2]},
                    {g.direction[3], g.direction[4], g.direction[5]},
                    {g.direction[6], g.direction[7], g.direction[8]}};
  j["orientation"] = orientationCode(g.direction);
  j["pixel_type"] = pixelTypeName(v.pixelType);
  j["intensity_range"] = {stats.min, stats.max};
  j["non_finite_voxels"] = stats.nonFinite;
  j["voxel_count"] = g.voxelCount();
  j["warnings"] = v.warnings;
  return j;
}

nlohmann::json seriesJson(const io::DicomSeriesInfo& s) {
  nlohmann::json j;
  j["series_instance_uid"] = s.seriesUid;
  j["study_instance_uid"] = s.studyUid;
  j["modality"] = s.modality;
  j["series_number"] = s.seriesNumber;
  j["description"] = s.description;
  j["files"] = s.files.size();
  j["slices"] = s.frames > 1 ? s.frames : s.files.size();
  j["rows"] = s.rows;
  j["columns"] = s.columns;
  if (s.positionsKnown && s.files.size() > 1) {
    const auto check = io::checkSliceSpacing(s);
    j["slice_spacing"] = check.medianSpacing;
    j["regular_grid"] = check.uniform && check.gridProblem.empty() && s.fileProblem.empty();
    if (!s.fileProblem.empty())
      j["grid_problem"] = s.fileProblem;
    else if (!check.gridProblem.empty())
      j["grid_problem"] = check.gridProblem;
    else if (!check.uniform)
      j["grid_problem"] = check.problem;
  }
  return j;
}

std::string vec(const nlohmann::json& a) {
  std::string s;
  for (const auto& x : a) s += (s.empty() ? "" : " x ") + fmt::format("{:g}", x.get<double>());
  return s;
}

void printText(const nlohmann::json& j, std::ostream& out) {
  out << "input:        " << j["input"].get<std::string>() << "\n";
  if (j.contains("series")) {
    out << "DICOM series: " << j["series"].size() << "\n";
    for (const auto& s : j["series"]) {
      out << fmt::format("  {}  {}  #{}  {} slices  {}x{}  {}{}\n", s["series_instance_uid"].get<std::string>(),
                         s["modality"].get<std::string>(), s["series_number"].get<std::string>(),
                         s["slices"].get<std::size_t>(), s["columns"].get<unsigned>(), s["rows"].get<unsigned>(),
                         s["description"].get<std::string>(),
                         s.contains("grid_problem") ? "  [" + s["grid_problem"].get<std::string>() + "]" : "");
    }
  }
  if (!j.contains("volume")) {
    if (j.contains("note")) out << j["note"].get<std::string>() << "\n";
    return;
  }
  const auto& v = j["volume"];
  const auto& d = v["direction"];
  std::string extent;
  for (int i = 0; i < 3; ++i)
    extent += (i ? " x " : "") + fmt::format("{:g}", v["size"][i].get<double>() * v["spacing"][i].get<double>());
  out << "size:         "
      << fmt::format("{} x {} x {}", v["size"][0].get<std::size_t>(), v["size"][1].get<std::size_t>(),
                     v["size"][2].get<std::size_t>())
      << "\n";
  out << "spacing:      " << vec(v["spacing"]) << " mm\n";
  out << "extent:       " << extent << " mm\n";
  out << "origin:       "
      << fmt::format("{:g} {:g} {:g}", v["origin"][0].get<double>(), v["origin"][1].get<double>(),
                     v["origin"][2].get<double>())
      << " (LPS mm)\n";
  for (int r = 0; r < 3; ++r)
    out << (r == 0 ? "direction:    " : "              ")
        << fmt::format("{:9.6f} {:9.6f} {:9.6f}", d[r][0].get<double>(), d[r][1].get<double>(), d[r][2].get<double>())
        << "\n";
  out << "orientation:  " << v["orientation"].get<std::string>() << "\n";
  out << "pixel type:   " << v["pixel_type"].get<std::string>() << "\n";
  out << "intensity:    "
      << fmt::format("{:g} .. {:g}", v["intensity_range"][0].get<double>(), v["intensity_range"][1].get<double>())
      << "\n";
  if (v["non_finite_voxels"].get<std::size_t>() > 0)
    out << "non-finite:   " << v["non_finite_voxels"].get<std::size_t>() << " voxels (NaN/Inf)\n";
  for (const auto& w : v["warnings"]) out << "warning:      " << w.get<std::string>() << "\n";
}

} // namespace

int runInfo(const InfoArgs& args, std::ostream& out) {
  nlohmann::json j;
  j["input"] = args.input;
  std::error_code ec;
  if (std::filesystem::is_directory(args.input, ec)) {
    const auto series = io::scanDicomFolder(args.input);
    j["series"] = nlohmann::json::array();
    for (const auto& s : series) j["series"].push_back(seriesJson(s));
    // as every reader picks: one series, the one asked for, or the one image series beside DICOM SEGs
    const auto images = std::count_if(series.begin(), series.end(), [](const auto& s) { return s.modality != "SEG"; });
    if (series.size() == 1 || !args.read.seriesUid.empty() || images == 1) {
      const auto& chosen = io::selectSeries(series, args.read.seriesUid, args.input);
      j["selected_series"] = chosen.seriesUid;
      j["volume"] = volumeJson(io::readVolume(args.input, args.read));
    } else {
      j["note"] = "several series: add --series <SeriesInstanceUID> to see one's geometry";
    }
  } else {
    if (!args.read.seriesUid.empty() && std::filesystem::is_regular_file(args.input, ec))
      throw usageError("--series " + args.read.seriesUid + " chooses a series in a DICOM folder; " + args.input +
                       " is a file");
    j["volume"] = volumeJson(io::readVolume(args.input, args.read));
  }
  if (args.json)
    out << jsonText(j, 2) << "\n";
  else
    printText(j, out);
  return 0;
}

} // namespace voxseg::cli
