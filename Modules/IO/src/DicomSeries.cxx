#include "voxseg/io/DicomSeries.h"

#include "DicomSegCommon.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"

#include <gdcmDirectory.h>
#include <gdcmImageHelper.h>
#include <gdcmReader.h>
#include <gdcmScanner.h>
#include <gdcmSequenceOfItems.h>
#include <gdcmTrace.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <map>
#include <numeric>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace voxseg::io {
namespace {

const gdcm::Tag kSeriesUid(0x0020, 0x000e), kStudyUid(0x0020, 0x000d), kModality(0x0008, 0x0060),
    kDescription(0x0008, 0x103e), kSeriesNumber(0x0020, 0x0011), kPosition(0x0020, 0x0032),
    kOrientation(0x0020, 0x0037), kRows(0x0028, 0x0010), kColumns(0x0028, 0x0011), kFrames(0x0028, 0x0008),
    kBitsAllocated(0x0028, 0x0100), kSamples(0x0028, 0x0002), kTransferSyntax(0x0002, 0x0010),
    kSopClass(0x0008, 0x0016), kImageType(0x0008, 0x0008), kRescaleIntercept(0x0028, 0x1052),
    kRescaleSlope(0x0028, 0x1053), kCharacterSet(0x0008, 0x0005), kPixelSpacing(0x0028, 0x0030);
constexpr const char* kNoUidPrefix = "\x01nouid|";

std::string trim(const char* s) {
  if (!s) return {};
  std::string v(s);
  const auto notSpace = [](unsigned char c) { return c != ' ' && c != '\0' && c != '\n' && c != '\r'; };
  v.erase(v.begin(), std::find_if(v.begin(), v.end(), notSpace));
  v.erase(std::find_if(v.rbegin(), v.rend(), notSpace).base(), v.end());
  return v;
}

std::vector<double> parseNumbers(const std::string& s) {
  std::vector<double> out;
  std::stringstream ss(s);
  std::string item;
  while (std::getline(ss, item, '\\')) {
    try {
      out.push_back(std::stod(item));
    } catch (...) {
      return {};
    }
  }
  return out;
}

unsigned parseUnsigned(const std::string& s) {
  try {
    return s.empty() ? 0u : static_cast<unsigned>(std::stoul(s));
  } catch (...) {
    return 0u;
  }
}

struct FileEntry {
  std::string path;
  std::vector<double> position;
  std::vector<double> orientation;
  bool localizer = false; ///< ImageType contains LOCALIZER (scout, topogram)
  unsigned rows = 0, columns = 0;
  std::vector<double> pixelSpacing{}; ///< PixelSpacing (row \\ column spacing), empty when absent
  std::uint64_t pixelBytes = 0;       ///< uncompressed pixel data the header asks for; 0 when compressed
  double slope = 1, intercept = 0;    ///< RescaleSlope/Intercept (1 and 0 when absent)
  unsigned bitsAllocated = 16;
};

// Slices rescaled with different values: which voxel type holds every slice's values (ITK would take the
// first file's, and wrap or truncate the others).
void checkRescale(DicomSeriesInfo& s, const std::vector<FileEntry>& files) {
  double largest = 0;
  for (const auto& f : files) {
    if (f.slope != files.front().slope || f.intercept != files.front().intercept) s.rescaleVaries = true;
    if (f.slope != std::round(f.slope) || f.intercept != std::round(f.intercept)) s.rescaleFractional = true;
    largest = std::max(largest, std::fabs(f.slope) * std::ldexp(1.0, int(std::min(f.bitsAllocated, 32u))) +
                                    std::fabs(f.intercept));
  }
  if (largest > 2147483647.0) s.rescaleFractional = true; // beyond int32: float64 holds it
}

std::string spacingText(const std::vector<double>& v) {
  if (v.empty()) return "none";
  std::ostringstream out;
  for (std::size_t i = 0; i < v.size(); ++i) out << (i ? "\\" : "") << v[i];
  return out.str();
}

// Slices of one series must share their size, and an uncompressed file must be at least as long as
// its pixel data (a copy cut short is otherwise read with zeros, silently).
std::string fileProblem(const std::vector<FileEntry>& files) {
  for (const auto& f : files)
    if (f.rows != files.front().rows || f.columns != files.front().columns)
      return "slices of different sizes: " + std::to_string(files.front().columns) + "x" +
             std::to_string(files.front().rows) + " in " + fs::path(files.front().path).filename().string() + ", " +
             std::to_string(f.columns) + "x" + std::to_string(f.rows) + " in " + fs::path(f.path).filename().string();
  // ITK takes the first file's pixel spacing for every slice (a slice of another spacing was scaled silently)
  for (const auto& f : files)
    if (f.pixelSpacing.size() != files.front().pixelSpacing.size() ||
        !std::equal(f.pixelSpacing.begin(), f.pixelSpacing.end(), files.front().pixelSpacing.begin(),
                    [](double a, double b) { return std::fabs(a - b) <= 1e-4 * std::max(std::fabs(a), 1.0); }))
      return "slices of different pixel spacing: " + spacingText(files.front().pixelSpacing) + " mm in " +
             fs::path(files.front().path).filename().string() + ", " + spacingText(f.pixelSpacing) + " mm in " +
             fs::path(f.path).filename().string();
  for (const auto& f : files) {
    std::error_code ec;
    const auto size = fs::file_size(f.path, ec);
    if (!ec && f.pixelBytes > 0 && size < f.pixelBytes)
      return fs::path(f.path).filename().string() + " is truncated: its pixel data needs " +
             std::to_string(f.pixelBytes) + " bytes, the file holds " + std::to_string(size);
  }
  return {};
}

bool sameOrientation(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.size() != 6 || b.size() != 6) return false;
  for (int i = 0; i < 6; ++i)
    if (std::fabs(a[i] - b[i]) >= 1e-4) return false;
  return true;
}

// Localizer images (ImageType LOCALIZER) stored in a series with other images are set aside: they lie
// in another plane and would break the stack.
void dropLocalizers(DicomSeriesInfo& s, std::vector<FileEntry>& files) {
  const auto isLocalizer = [](const FileEntry& f) { return f.localizer; };
  const auto n = std::count_if(files.begin(), files.end(), isLocalizer);
  if (n == 0 || n == static_cast<long>(files.size())) return;
  files.erase(std::remove_if(files.begin(), files.end(), isLocalizer), files.end());
  s.localizersSetAside = static_cast<unsigned>(n);
}

// Why a series' slices cannot be stacked: which files lack geometry, or how the orientations split.
std::string stackProblem(const std::vector<FileEntry>& files) {
  std::size_t missing = 0;
  std::vector<std::pair<std::vector<double>, std::size_t>> groups;
  for (const auto& f : files) {
    if (f.position.size() != 3 || f.orientation.size() != 6) {
      ++missing;
      continue;
    }
    auto it = std::find_if(groups.begin(), groups.end(),
                           [&](const auto& g) { return sameOrientation(g.first, f.orientation); });
    if (it == groups.end())
      groups.push_back({f.orientation, 1});
    else
      ++it->second;
  }
  if (missing)
    return std::to_string(missing) + " of " + std::to_string(files.size()) +
           " slices lack ImagePositionPatient or ImageOrientationPatient";
  std::string counts;
  for (const auto& [o, count] : groups) counts += (counts.empty() ? "" : ", ") + std::to_string(count);
  return "slices in " + std::to_string(groups.size()) + " different orientations (" + counts +
         " slices); a volume needs one";
}

void sortSeries(DicomSeriesInfo& s, std::vector<FileEntry>& files) {
  dropLocalizers(s, files);
  const auto& o0 = files.front().orientation;
  bool known = o0.size() == 6;
  for (const auto& f : files) {
    known = known && f.position.size() == 3 && f.orientation.size() == 6;
    if (known)
      for (int i = 0; i < 6; ++i) known = known && std::fabs(f.orientation[i] - o0[i]) < 1e-4;
  }
  s.positionsKnown = known;
  if (!known) {
    s.stackProblem = stackProblem(files);
    std::sort(files.begin(), files.end(), [](const FileEntry& a, const FileEntry& b) { return a.path < b.path; });
    for (const auto& f : files) s.files.push_back(f.path);
    return;
  }
  s.rowCosine = {o0[0], o0[1], o0[2]};
  s.columnCosine = {o0[3], o0[4], o0[5]};
  const Vec3 normal = cross(s.rowCosine, s.columnCosine);
  const auto along = [&](const FileEntry& f) { return dot(normal, {f.position[0], f.position[1], f.position[2]}); };
  std::stable_sort(files.begin(), files.end(),
                   [&](const FileEntry& a, const FileEntry& b) { return along(a) < along(b); });
  for (const auto& f : files) {
    s.files.push_back(f.path);
    s.slicePositions.push_back(along(f));
    s.positions.push_back({f.position[0], f.position[1], f.position[2]});
  }
}

} // namespace

void setDicomLibraryMessages(bool on) {
  gdcm::Trace::SetWarning(on);
  gdcm::Trace::SetError(on);
  gdcm::Trace::SetDebug(false);
}

namespace {
const bool gdcmQuiet = (setDicomLibraryMessages(false), true);
}

bool hasPatientGeometry(const std::string& file) {
  gdcm::Reader reader;
  reader.SetFileName(file.c_str());
  const std::set<gdcm::Tag> skip;
  if (!reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010), skip)) return false;
  const gdcm::DataSet& ds = reader.GetFile().GetDataSet();
  if (ds.FindDataElement(kOrientation)) return true;
  for (const gdcm::Tag& groups : {gdcm::Tag(0x5200, 0x9229), gdcm::Tag(0x5200, 0x9230)}) {
    if (!ds.FindDataElement(groups)) continue;
    const auto sq = ds.GetDataElement(groups).GetValueAsSQ();
    if (sq && sq->GetNumberOfItems() > 0 &&
        sq->GetItem(1).GetNestedDataSet().FindDataElement(gdcm::Tag(0x0020, 0x9116)))
      return true;
  }
  return false;
}

SliceSpacingPolicy parseSliceSpacingPolicy(const std::string& name) {
  if (name == "error") return SliceSpacingPolicy::Error;
  if (name == "accept") return SliceSpacingPolicy::Accept;
  if (name == "resample") return SliceSpacingPolicy::Resample;
  throw usageError("unknown slice spacing policy '" + name + "' (accepted: error, accept, resample)");
}

std::vector<DicomSeriesInfo> scanDicomFolder(const std::string& folder) {
  std::error_code ec;
  if (!fs::exists(folder, ec)) throw inputError(folder, "no such file or folder");
  if (!fs::is_directory(folder, ec)) throw inputError(folder, "not a folder");
  if (fs::directory_iterator(folder, ec); ec) // not "holds no files" (GDCM lists nothing it may not read)
    throw inputError(folder, "cannot list it: " + ec.message());
  gdcm::Directory dir;
  dir.Load(folder, true);
  const auto& names = dir.GetFilenames();
  if (names.empty()) throw inputError(folder, "folder holds no files");

  gdcm::Scanner scanner;
  for (const auto& t : {kSeriesUid, kStudyUid, kModality, kDescription, kSeriesNumber, kPosition, kOrientation, kRows,
                        kColumns, kFrames, kSopClass, kImageType, kBitsAllocated, kSamples, kTransferSyntax,
                        kRescaleSlope, kRescaleIntercept, kCharacterSet, kPixelSpacing})
    scanner.AddTag(t);
  scanner.Scan(names);

  std::map<std::string, DicomSeriesInfo> bySeries;
  std::map<std::string, std::vector<FileEntry>> filesBySeries;
  for (const auto& name : names) {
    if (!scanner.IsKey(name.c_str())) continue;
    std::string uid = trim(scanner.GetValue(name.c_str(), kSeriesUid));
    const unsigned rows = parseUnsigned(trim(scanner.GetValue(name.c_str(), kRows)));
    if (rows == 0) continue; // not an image (e.g. RT structure set, report)
    if (uid.empty()) {
      // Anonymizers sometimes blank the UID: group by what else identifies a series.
      uid = std::string(kNoUidPrefix) + trim(scanner.GetValue(name.c_str(), kStudyUid)) + "|" +
            trim(scanner.GetValue(name.c_str(), kSeriesNumber)) + "|" +
            trim(scanner.GetValue(name.c_str(), kDescription)) + "|" + std::to_string(rows) + "|" +
            trim(scanner.GetValue(name.c_str(), kOrientation));
    }
    auto& s = bySeries[uid];
    if (s.seriesUid.empty()) {
      s.seriesUid = uid;
      s.studyUid = trim(scanner.GetValue(name.c_str(), kStudyUid));
      s.modality = trim(scanner.GetValue(name.c_str(), kModality));
      s.description = detail::textToUtf8(trim(scanner.GetValue(name.c_str(), kDescription)),
                                         trim(scanner.GetValue(name.c_str(), kCharacterSet)));
      s.seriesNumber = trim(scanner.GetValue(name.c_str(), kSeriesNumber));
      s.sopClassUid = trim(scanner.GetValue(name.c_str(), kSopClass));
      s.rows = rows;
      s.columns = parseUnsigned(trim(scanner.GetValue(name.c_str(), kColumns)));
    }
    s.frames = std::max(s.frames, parseUnsigned(trim(scanner.GetValue(name.c_str(), kFrames))));
    FileEntry entry{name, parseNumbers(trim(scanner.GetValue(name.c_str(), kPosition))),
                    parseNumbers(trim(scanner.GetValue(name.c_str(), kOrientation))),
                    trim(scanner.GetValue(name.c_str(), kImageType)).find("LOCALIZER") != std::string::npos};
    entry.rows = rows;
    entry.columns = parseUnsigned(trim(scanner.GetValue(name.c_str(), kColumns)));
    entry.pixelSpacing = parseNumbers(trim(scanner.GetValue(name.c_str(), kPixelSpacing)));
    if (const auto v = parseNumbers(trim(scanner.GetValue(name.c_str(), kRescaleSlope)));
        v.size() == 1 && std::isfinite(v[0]) && v[0] != 0)
      entry.slope = v[0];
    if (const auto v = parseNumbers(trim(scanner.GetValue(name.c_str(), kRescaleIntercept)));
        v.size() == 1 && std::isfinite(v[0]))
      entry.intercept = v[0];
    if (const unsigned bits = parseUnsigned(trim(scanner.GetValue(name.c_str(), kBitsAllocated))); bits > 0)
      entry.bitsAllocated = bits;
    const std::string syntax = trim(scanner.GetValue(name.c_str(), kTransferSyntax));
    if (syntax.empty() || syntax == "1.2.840.10008.1.2" || syntax == "1.2.840.10008.1.2.1" ||
        syntax == "1.2.840.10008.1.2.2") { // uncompressed: implicit/explicit little, explicit big endian
      const std::uint64_t samples = std::max(1u, parseUnsigned(trim(scanner.GetValue(name.c_str(), kSamples))));
      const std::uint64_t frames = std::max(1u, parseUnsigned(trim(scanner.GetValue(name.c_str(), kFrames))));
      const std::uint64_t bits = parseUnsigned(trim(scanner.GetValue(name.c_str(), kBitsAllocated)));
      entry.pixelBytes = std::uint64_t{rows} * entry.columns * samples * frames * bits / 8;
    }
    filesBySeries[uid].push_back(std::move(entry));
  }
  if (bySeries.empty())
    throw inputError(folder,
                     "no DICOM image found in the folder (" + std::to_string(names.size()) + " files looked at)");

  std::vector<DicomSeriesInfo> out;
  int noUid = 0;
  for (auto& [uid, s] : bySeries) {
    sortSeries(s, filesBySeries[uid]);                          // sets localizers aside first
    if (const auto& kept = filesBySeries[uid]; !kept.empty()) { // the stack's size, not a localizer's met first
      s.rows = kept.front().rows;
      s.columns = kept.front().columns;
      if (kept.front().pixelSpacing.size() == 2)
        s.pixelSpacing = {kept.front().pixelSpacing[0], kept.front().pixelSpacing[1]};
    }
    s.fileProblem = fileProblem(filesBySeries[uid]);
    checkRescale(s, filesBySeries[uid]);
    if (uid.rfind(kNoUidPrefix, 0) == 0) {
      s.seriesUid = "noUID." + std::to_string(++noUid);
      s.uidMissing = true;
    }
    if (s.files.size() > 1) s.frames = 0;
    out.push_back(std::move(s));
  }
  std::stable_sort(out.begin(), out.end(),
                   [](const DicomSeriesInfo& a, const DicomSeriesInfo& b) { return a.files.size() > b.files.size(); });
  return out;
}

namespace {

// The slice normal of a single multi-frame file (an enhanced CT or MR keeps its orientation in the functional groups,
// which the folder scan does not read), as GDCM reads it for the volume; false when it cannot be read.
bool multiFrameNormal(const std::string& file, Vec3& normal) {
  gdcm::Reader reader;
  reader.SetFileName(file.c_str());
  if (!reader.ReadUpToTag(gdcm::Tag(0x7fe0, 0x0010))) return false;
  const std::vector<double> c = gdcm::ImageHelper::GetDirectionCosinesValue(reader.GetFile());
  if (c.size() != 6) return false;
  normal = cross({c[0], c[1], c[2]}, {c[3], c[4], c[5]});
  return true;
}

} // namespace

const DicomSeriesInfo& selectSeries(const std::vector<DicomSeriesInfo>& series, const std::string& uid,
                                    const std::string& folder) {
  if (!uid.empty() && uid != "largest") {
    for (const auto& s : series)
      if (s.seriesUid == uid) return s;
    throw inputError(folder, "no series with SeriesInstanceUID " + uid + " (run 'voxseg info " + folder +
                                 "' to list the " + std::to_string(series.size()) + " series)");
  }
  if (series.size() == 1) return series.front();
  // A folder exported with its segmentation: the one image series is meant, the SEG (a derived object that
  // `convert` reads on its own) is set aside.
  const DicomSeriesInfo* image = nullptr;
  std::size_t images = 0;
  for (const auto& s : series)
    if (s.modality != "SEG") ++images, image = &s;
  if (uid.empty() && images == 1) {
    logInfo(folder + ": reading the " + image->modality + " series " + image->seriesUid + " (" +
            std::to_string(series.size() - 1) + " DICOM SEG series beside it set aside)");
    return *image;
  }
  if (uid == "largest") { // documented rule: the CT or MR series with the most slices stacked along z
    const DicomSeriesInfo* best = nullptr;
    for (const auto& s : series) {
      if (s.modality != "CT" && s.modality != "MR") continue;
      Vec3 normal = cross(s.rowCosine, s.columnCosine);
      const bool multiFrame = s.frames > 1 && s.files.size() == 1;
      if (!(multiFrame ? multiFrameNormal(s.files.front(), normal) : s.positionsKnown) || std::fabs(normal[2]) < 0.8)
        continue;
      const std::size_t slices = s.frames > 1 ? s.frames : s.files.size();
      if (!best || slices > (best->frames > 1 ? best->frames : best->files.size())) best = &s;
    }
    if (best) return *best;
    throw inputError(folder, "--series largest: none of the " + std::to_string(series.size()) +
                                 " series is an axial CT or MR stack");
  }
  std::string list;
  for (const auto& s : series)
    list += (list.empty() ? " " : "; ") + s.seriesUid + " (" + s.modality + ", " + std::to_string(s.files.size()) +
            " files" + (s.description.empty() ? "" : ", " + s.description) + ")";
  throw inputError(
      folder, std::to_string(series.size()) +
                  " DICOM series found; choose one with --series <SeriesInstanceUID> (or --series largest):" + list);
}

SliceSpacingCheck checkSliceSpacing(const DicomSeriesInfo& s) {
  SliceSpacingCheck c;
  const std::size_t n = s.slicePositions.size();
  if (!s.positionsKnown || n < 2) return c;
  std::vector<double> gaps(n - 1);
  for (std::size_t i = 0; i + 1 < n; ++i) gaps[i] = s.slicePositions[i + 1] - s.slicePositions[i];
  std::vector<double> sorted = gaps;
  std::nth_element(sorted.begin(), sorted.begin() + sorted.size() / 2, sorted.end());
  c.medianSpacing = sorted[sorted.size() / 2];
  c.meanSpacing = (s.slicePositions.back() - s.slicePositions.front()) / double(n - 1);

  // Stacking direction against the normal: a sheared stack (gantry tilt) has an angle.
  const Vec3 normal = cross(s.rowCosine, s.columnCosine);
  Vec3 stack{s.positions.back()[0] - s.positions.front()[0], s.positions.back()[1] - s.positions.front()[1],
             s.positions.back()[2] - s.positions.front()[2]};
  const double len = std::sqrt(dot(stack, stack));
  if (len > 0) c.tiltDegrees = std::acos(std::min(1.0, std::fabs(dot(stack, normal)) / len)) * 180.0 / M_PI;

  const double tolerance = std::max(0.01 * std::fabs(c.medianSpacing), 1e-3);
  for (double g : gaps) c.maxDeviation = std::max(c.maxDeviation, std::fabs(g - c.medianSpacing));
  std::ostringstream why;
  if (c.medianSpacing < 1e-6) {
    why << "slices share the same position (duplicate or multi-volume series)";
  } else if (c.maxDeviation > tolerance) {
    std::size_t duplicates = 0, firstDuplicate = 0;
    for (std::size_t i = 0; i < gaps.size(); ++i)
      if (std::fabs(gaps[i]) < 1e-3 && duplicates++ == 0) firstDuplicate = i;
    for (double g : gaps)
      if (g > 1.5 * c.medianSpacing) c.missingSlices += static_cast<int>(std::lround(g / c.medianSpacing)) - 1;
    if (duplicates > 0)
      why << duplicates << " slice(s) at the position of another (" << s.slicePositions[firstDuplicate]
          << " mm along the slice normal, " << fs::path(s.files[firstDuplicate]).filename().string() << " and "
          << fs::path(s.files[firstDuplicate + 1]).filename().string() << "): a duplicated image";
    else if (c.missingSlices > 0)
      why << "about " << c.missingSlices << " slice(s) missing: gaps up to " << c.medianSpacing + c.maxDeviation
          << " mm where the spacing is " << c.medianSpacing << " mm";
    else
      why << "slice spacing is not uniform: gaps differ from the median " << c.medianSpacing << " mm by up to "
          << c.maxDeviation << " mm";
  } else if (c.tiltDegrees > 0.05) {
    why << "slices are sheared (gantry tilt " << c.tiltDegrees << " degrees): not a rectangular grid";
  }
  c.problem = why.str();
  c.uniform = c.problem.empty();

  // Each slice's corner on the line from the first slice's to the last's (ITK places every slice on the first one's
  // grid: a slice shifted in its plane was read that far off, without a word). No policy reads such a stack.
  const double span = s.slicePositions.back() - s.slicePositions.front();
  std::size_t worst = 0;
  for (std::size_t i = 0; i < n && span > 0; ++i) {
    const double t = (s.slicePositions[i] - s.slicePositions.front()) / span;
    double d2 = 0;
    for (int k = 0; k < 3; ++k) {
      const double d = s.positions[i][k] - (s.positions.front()[k] + t * stack[k]);
      d2 += d * d;
    }
    if (std::sqrt(d2) > c.offLine) {
      c.offLine = std::sqrt(d2);
      worst = i;
    }
  }
  const double pixel = std::min(s.pixelSpacing[0], s.pixelSpacing[1]);
  // half a pixel: positions written with one decimal put an oblique stack's corners 0.1 mm or so off the line
  if (c.offLine > (pixel > 0 && std::isfinite(pixel) ? std::max(1e-2, 0.5 * pixel) : 0.5)) {
    std::ostringstream off;
    off << fs::path(s.files[worst]).filename().string() << " lies " << c.offLine
        << " mm beside the line through the first and last slices' corners: the slices are not one grid";
    c.gridProblem = off.str();
  }
  return c;
}

} // namespace voxseg::io
