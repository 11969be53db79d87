#include "voxseg/io/SegmentationFiles.h"

#include "ItkError.h"
#include "PayloadCheck.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"

#include <itkImageFileWriter.h>
#include <itkMetaDataObject.h>
#include <itkNrrdImageIO.h>

#include <algorithm>
#include <array>
#include <cerrno>
#include <charconv>
#include <cmath>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <iomanip>
#include <limits>
#include <map>
#include <set>
#include <sstream>

namespace fs = std::filesystem;

namespace voxseg::io {
namespace {

// Context names of Slicer's default terminologies, as written in a serialized terminology entry.
constexpr const char* kTerminologyContext = "Segmentation category and type - 3D Slicer General Anatomy list";
constexpr const char* kRegionContext = "Anatomic codes - DICOM master list";
constexpr const char* kBinaryLabelmap = "Binary labelmap";

std::string describe(const LabelInfo& label) {
  return "label " + std::to_string(label.value) + " ('" + label.name + "')";
}

bool hasControlCharacter(const std::string& s) {
  return std::any_of(s.begin(), s.end(), [](char c) { return static_cast<unsigned char>(c) < 0x20 || c == 0x7f; });
}

// Refuses text that the target format cannot hold: control characters always, plus `forbidden`.
void checkText(const std::string& path, const LabelInfo& label, const std::string& field, const std::string& text,
               const std::string& forbidden) {
  if (hasControlCharacter(text))
    throw usageError(path + ": " + describe(label) + ": " + field + " contains a control character (newline, tab)");
  const auto bad = text.find_first_of(forbidden);
  if (bad != std::string::npos)
    throw usageError(path + ": " + describe(label) + ": " + field + " '" + text + "' contains '" + text[bad] +
                     "', which this file format cannot hold");
}

struct TextRules {
  std::string nameForbidden; ///< characters a name may not contain (besides control characters)
  std::string codeForbidden; ///< characters a code field may not contain
};

// Values non-negative and unique, colors within 0..255, names and codes storable in the format.
void validateLabels(const std::vector<LabelInfo>& labels, const std::string& path, const TextRules& rules) {
  std::set<int> seen;
  for (const auto& label : labels) {
    if (label.value < 0) throw usageError(path + ": " + describe(label) + ": label values must not be negative");
    if (!seen.insert(label.value).second)
      throw usageError(path + ": label value " + std::to_string(label.value) + " is given twice");
    for (int c : label.color)
      if (c < 0 || c > 255)
        throw usageError(path + ": " + describe(label) + ": color component " + std::to_string(c) +
                         " is outside 0..255");
    checkText(path, label, "name", label.name, rules.nameForbidden);
    for (const auto* code : {&label.category, &label.type}) {
      if (!*code) continue;
      const std::string what = code == &label.category ? "category code" : "type code";
      checkText(path, label, what + " value", (*code)->value, rules.codeForbidden);
      checkText(path, label, what + " scheme", (*code)->scheme, rules.codeForbidden);
      checkText(path, label, what + " meaning", (*code)->meaning, rules.codeForbidden);
    }
  }
}

std::vector<LabelInfo> sortedByValue(std::vector<LabelInfo> labels) {
  std::stable_sort(labels.begin(), labels.end(),
                   [](const LabelInfo& a, const LabelInfo& b) { return a.value < b.value; });
  return labels;
}

// Shortest text that reads back as the same double (Slicer writes geometry with vtkNumberToString).
std::string shortestDouble(double v) {
  v += 0.0; // no "-0"
  std::array<char, 32> buf{};
  const auto res = std::to_chars(buf.data(), buf.data() + buf.size(), v);
  return std::string(buf.data(), res.ptr);
}

// Slicer's segment color: three floats in 0..1, written with a stream's default precision.
std::string segmentColor(const std::array<int, 3>& color) {
  std::ostringstream s;
  s << color[0] / 255.0 << ' ' << color[1] / 255.0 << ' ' << color[2] / 255.0;
  return s.str();
}

std::string codeTriplet(const std::optional<Code>& code) {
  return code ? code->scheme + "^" + code->value + "^" + code->meaning : std::string("^^");
}

// Value of Slicer's "Reference image geometry" conversion parameter: the image-to-world (RAS)
// matrix row by row, then the extent, each followed by ';'. It makes the segmentation's editing
// grid the label map's grid, as when Slicer creates a segmentation from a volume.
std::string referenceImageGeometry(const Geometry& g) {
  std::string out;
  const double lpsToRas[3] = {-1, -1, 1};
  for (int r = 0; r < 3; ++r) {
    for (int c = 0; c < 3; ++c) out += shortestDouble(lpsToRas[r] * g.direction[3 * r + c] * g.spacing[c]) + ";";
    out += shortestDouble(lpsToRas[r] * g.origin[r]) + ";";
  }
  out += "0;0;0;1;";
  for (int a = 0; a < 3; ++a) out += "0;" + std::to_string(static_cast<long long>(g.size[a]) - 1) + ";";
  return out;
}

// Bounding box "i0 i1 j0 j1 k0 k1" of the non-zero voxels, or "0 -1 0 -1 0 -1" when there are none.
template <typename T> std::string nonZeroExtent(const Volume& labels) {
  const Geometry g = labels.geometry();
  const T* p = labels.as<T>()->GetBufferPointer();
  std::array<long long, 3> lo{std::numeric_limits<long long>::max(), std::numeric_limits<long long>::max(),
                              std::numeric_limits<long long>::max()};
  std::array<long long, 3> hi{-1, -1, -1};
  std::size_t i = 0;
  for (std::size_t z = 0; z < g.size[2]; ++z)
    for (std::size_t y = 0; y < g.size[1]; ++y)
      for (std::size_t x = 0; x < g.size[0]; ++x, ++i) {
        if (p[i] == T(0)) continue;
        const std::array<long long, 3> idx{static_cast<long long>(x), static_cast<long long>(y),
                                           static_cast<long long>(z)};
        for (int a = 0; a < 3; ++a) {
          lo[a] = std::min(lo[a], idx[a]);
          hi[a] = std::max(hi[a], idx[a]);
        }
      }
  if (hi[0] < 0) return "0 -1 0 -1 0 -1";
  std::ostringstream s;
  s << lo[0] << ' ' << hi[0] << ' ' << lo[1] << ' ' << hi[1] << ' ' << lo[2] << ' ' << hi[2];
  return s.str();
}

bool isIntegerType(PixelType t) { return t != PixelType::Float32 && t != PixelType::Float64; }

template <typename T> bool fitsIn(int value) {
  return static_cast<long long>(value) <= static_cast<long long>(std::numeric_limits<T>::max());
}

void writeTextAtomically(const std::string& path, const std::string& text, bool overwrite) {
  AtomicOutput out(path, overwrite);
  {
    std::ofstream f(out.tempPath(), std::ios::binary | std::ios::trunc);
    if (!f) throw outputError(path, std::string("cannot create file: ") + std::strerror(errno));
    f << text;
    f.close();
    if (!f) throw outputError(path, std::string("cannot write: ") + std::strerror(errno));
  }
  out.commit();
}

// ---- color tables ----

std::string slicerCtbl(const std::vector<LabelInfo>& labels, const std::string& path) {
  std::ostringstream s;
  const int count = labels.empty() ? 0 : labels.back().value + 1;
  s << "# Color table file " << fs::path(path).filename().string() << "\n";
  s << "# " << count << " values\n";
  for (const auto& l : labels) {
    std::string name = l.name;
    std::replace(name.begin(), name.end(), ' ', '_'); // the format splits on white space
    if (name.empty()) name = "_";
    s << l.value << ' ' << name << ' ' << l.color[0] << ' ' << l.color[1] << ' ' << l.color[2] << ' '
      << (l.value == 0 ? 0 : 255) << "\n";
  }
  return s.str();
}

std::string csvField(const std::string& s) { return s.find(',') == std::string::npos ? s : "\"" + s + "\""; }

std::string slicerCsv(const std::vector<LabelInfo>& labels) {
  std::ostringstream s;
  s << "LabelValue,Name,Color_R,Color_G,Color_B,Color_A";
  for (const char* part : {"Category", "Type", "TypeModifier", "Region", "RegionModifier"})
    for (const char* field : {"CodingScheme", "CodeValue", "CodeMeaning"}) s << ',' << part << '_' << field;
  s << "\n";
  for (const auto& l : labels) {
    s << l.value << ',' << csvField(l.name) << ',' << l.color[0] << ',' << l.color[1] << ',' << l.color[2] << ','
      << (l.value == 0 ? 0 : 255);
    for (const auto* code : {&l.category, &l.type}) {
      if (*code)
        s << ',' << csvField((*code)->scheme) << ',' << csvField((*code)->value) << ',' << csvField((*code)->meaning);
      else
        s << ",,,";
    }
    s << ",,,,,,,,,\n"; // type modifier, region, region modifier
  }
  return s.str();
}

std::string itkSnapLine(int value, const std::array<int, 3>& rgb, const char* alpha, int visible,
                        const std::string& name) {
  std::ostringstream s;
  s << "  " << std::setw(3) << value << "   " << std::setw(3) << rgb[0] << "  " << std::setw(3) << rgb[1] << "  "
    << std::setw(3) << rgb[2] << "  " << std::setw(7) << alpha << "  " << visible << "  " << visible << "    \"" << name
    << "\"\n";
  return s.str();
}

std::string itkSnapLabels(const std::vector<LabelInfo>& labels) {
  std::string s = "################################################\n"
                  "# ITK-SnAP Label Description File\n"
                  "# File format: \n"
                  "# IDX   -R-  -G-  -B-  -A--  VIS MSH  LABEL\n"
                  "# Fields: \n"
                  "#    IDX:   Zero-based index \n"
                  "#    -R-:   Red color component (0..255)\n"
                  "#    -G-:   Green color component (0..255)\n"
                  "#    -B-:   Blue color component (0..255)\n"
                  "#    -A-:   Label transparency (0.00 .. 1.00)\n"
                  "#    VIS:   Label visibility (0 or 1)\n"
                  "#    IDX:   Label mesh visibility (0 or 1)\n"
                  "#  LABEL:   Label description \n"
                  "################################################\n";
  // ITK-SNAP's clear label is fixed: transparent, hidden, named "Clear Label".
  s += itkSnapLine(0, {0, 0, 0}, "0", 0, "Clear Label");
  for (const auto& l : labels)
    if (l.value != 0) s += itkSnapLine(l.value, l.color, "1", 1, l.name);
  return s;
}

// ---- reading ----

std::vector<std::string> split(const std::string& s, char separator) {
  std::vector<std::string> parts;
  std::string::size_type start = 0;
  for (;;) {
    const auto end = s.find(separator, start);
    parts.push_back(s.substr(start, end == std::string::npos ? std::string::npos : end - start));
    if (end == std::string::npos) return parts;
    start = end + 1;
  }
}

std::optional<Code> parseCode(const std::string& triplet, const std::string& path, const std::string& key) {
  const auto parts = split(triplet, '^');
  if (parts.size() != 3)
    throw inputError(path, key + ": malformed code '" + triplet + "' (expected scheme^value^meaning)");
  if (parts[0].empty() && parts[1].empty() && parts[2].empty()) return std::nullopt;
  return Code{parts[1], parts[0], parts[2]};
}

int parseInt(const std::string& text, const std::string& path, const std::string& key) {
  int v = 0;
  const char* end = text.data() + text.size();
  const auto res = std::from_chars(text.data(), end, v);
  if (text.empty() || res.ec != std::errc() || res.ptr != end)
    throw inputError(path, key + ": '" + text + "' is not an integer");
  return v;
}

} // namespace

std::string slicerTerminologyEntry(const LabelInfo& label) {
  if (!label.category && !label.type) return "";
  return std::string(kTerminologyContext) + "~" + codeTriplet(label.category) + "~" + codeTriplet(label.type) + "~^^~" +
         kRegionContext + "~^^~^^";
}

bool isSegNrrdPath(const std::string& path) { return detail::endsWith(path, ".seg.nrrd"); }

namespace {

// The color table extension `path` ends with, "" for none.
std::string colorTableExtensionOf(const std::string& path) {
  for (const auto& e : colorTableExtensions())
    if (detail::endsWith(path, e)) return e;
  return {};
}

} // namespace

void checkDicomLabels(const std::vector<LabelInfo>& labels, const std::string& path) {
  validateLabels(labels, path, TextRules{"\\", "\\"}); // '\\' separates DICOM values
}

void checkLabelsWritable(const std::vector<LabelInfo>& labels, const std::string& path) {
  if (isSegNrrdPath(path)) {
    // Slicer splits tags on '|' and terminology entries on '~' and '^'.
    validateLabels(labels, path, TextRules{"", "~^|"});
    return;
  }
  if (detail::endsWith(path, ".dcm")) return checkDicomLabels(labels, path);
  const std::string ext = colorTableExtensionOf(path);
  if (ext.empty()) return; // a plain label map holds no names
  // CSV and ITK-SNAP names are quoted: a quote inside cannot be stored.
  validateLabels(labels, path, TextRules{ext == ".ctbl" ? "" : "\"", ext == ".csv" ? "\"" : ""});
}

void writeSegNrrd(const Volume& labels, const std::vector<LabelInfo>& segments, const std::string& path,
                  const WriteOptions& options) {
  if (!isSegNrrdPath(path)) throw usageError(path + ": a 3D Slicer segmentation file name must end in .seg.nrrd");
  if (!labels.image) throw Error(ExitCode::Internal, path + ": no label map to write");
  if (!isIntegerType(labels.pixelType))
    throw inputError(labels.source.empty() ? path : labels.source,
                     std::string("label map has ") + pixelTypeName(labels.pixelType) + " voxels; a segmentation (" +
                         path + ") needs integer labels");
  checkLabelsWritable(segments, path);
  std::vector<const LabelInfo*> written;
  for (const auto& s : segments) {
    if (s.value == 0) continue; // background
    const bool fits =
        visitPixelType(labels.pixelType, [&](auto tag) { return fitsIn<typename decltype(tag)::type>(s.value); });
    if (!fits)
      throw usageError(path + ": " + describe(s) + " does not fit the " + pixelTypeName(labels.pixelType) +
                       " label map");
    written.push_back(&s);
  }

  AtomicOutput out(path, options.overwrite);
  const Geometry g = labels.geometry();
  // Slicer 5.0-5.6 read a shared layer at the extent of its first segment (5.8 and later: the union
  // of the segments' extents), so every segment gets the extent of the whole layer, as Slicer writes.
  const std::string extent =
      visitPixelType(labels.pixelType, [&](auto tag) { return nonZeroExtent<typename decltype(tag)::type>(labels); });

  itk::MetaDataDictionary dict;
  auto put = [&](const std::string& key, const std::string& value) {
    itk::EncapsulateMetaData<std::string>(dict, key, value);
  };
  put("Segmentation_MasterRepresentation", kBinaryLabelmap);
  put("Segmentation_SourceRepresentation", kBinaryLabelmap);
  put("Segmentation_ContainedRepresentationNames", std::string(kBinaryLabelmap) + "|");
  // Only the reference geometry; Slicer keeps its defaults for the parameters not listed.
  put("Segmentation_ConversionParameters", "Reference image geometry|" + referenceImageGeometry(g) + "|&");
  put("Segmentation_ReferenceImageExtentOffset", "0 0 0");
  for (std::size_t i = 0; i < written.size(); ++i) {
    const LabelInfo& s = *written[i];
    const std::string prefix = "Segment" + std::to_string(i) + "_";
    put(prefix + "ID", "Segment_" + std::to_string(s.value));
    put(prefix + "Name", s.name);
    put(prefix + "Color", segmentColor(s.color));
    put(prefix + "ColorAutoGenerated", "0");
    put(prefix + "NameAutoGenerated", "0");
    put(prefix + "LabelValue", std::to_string(s.value));
    put(prefix + "Layer", "0");
    put(prefix + "Extent", extent);
    const std::string entry = slicerTerminologyEntry(s);
    put(prefix + "Tags", "Segmentation.Status:inprogress|" + (entry.empty() ? "" : "TerminologyEntry:" + entry + "|"));
  }

  try {
    visitPixelType(labels.pixelType, [&](auto tag) {
      using ImageType = itk::Image<typename decltype(tag)::type, 3>;
      auto view = ImageType::New(); // the voxels without the reader's metadata (DICOM tags must not leak)
      view->Graft(labels.as<typename decltype(tag)::type>());
      view->SetMetaDataDictionary(dict);
      auto writer = itk::ImageFileWriter<ImageType>::New();
      writer->SetImageIO(itk::NrrdImageIO::New());
      writer->SetInput(view);
      writer->SetFileName(out.tempPath());
      writer->SetUseCompression(options.compress);
      writer->Update();
    });
  } catch (const itk::ExceptionObject& e) {
    throw outputError(path, "cannot write: " + detail::itkMessage(e));
  }
  detail::checkWrittenFile(out.tempPath(), path); // a full disk: teem's writer says nothing
  out.commit();
}

std::vector<LabelInfo> readSegNrrdSegments(const std::string& path) {
  std::error_code ec;
  const auto st = fs::status(path, ec);
  if (path.empty() || !fs::exists(st)) throw inputError(path, "no such file");
  if (!fs::is_regular_file(st)) throw inputError(path, "not a file");
  detail::checkNrrdHeader(path);
  auto io = itk::NrrdImageIO::New();
  if (!io->CanReadFile(path.c_str())) throw inputError(path, "not a NRRD file");
  try {
    io->SetFileName(path);
    io->ReadImageInformation();
  } catch (const itk::ExceptionObject& e) {
    throw inputError(path, "cannot read NRRD header: " + detail::itkMessage(e));
  }
  const itk::MetaDataDictionary& dict = io->GetMetaDataDictionary();
  auto get = [&](const std::string& key, std::string& value) {
    return dict.HasKey(key) && itk::ExposeMetaData<std::string>(dict, key, value);
  };

  std::vector<LabelInfo> result;
  std::set<std::string> layers;
  std::string value;
  for (int i = 0; get("Segment" + std::to_string(i) + "_ID", value); ++i) {
    const std::string prefix = "Segment" + std::to_string(i) + "_";
    LabelInfo label;
    label.name = get(prefix + "Name", label.name) ? label.name : value;
    if (!get(prefix + "LabelValue", value)) throw inputError(path, prefix + "LabelValue is missing");
    label.value = parseInt(value, path, prefix + "LabelValue");
    // A missing layer means the old one-segment-per-layer layout.
    layers.insert(get(prefix + "Layer", value) ? value : std::to_string(i));

    std::array<double, 3> rgb{0.5, 0.5, 0.5}; // Slicer's default for a missing color
    if (get(prefix + "Color", value)) {
      std::istringstream s(value);
      s >> rgb[0] >> rgb[1] >> rgb[2];
    }
    for (int c = 0; c < 3; ++c) label.color[c] = static_cast<int>(std::lround(std::clamp(rgb[c], 0.0, 1.0) * 255.0));

    if (get(prefix + "Tags", value)) {
      for (const auto& tag : split(value, '|')) {
        const auto colon = tag.find(':');
        if (colon == std::string::npos || tag.substr(0, colon) != "TerminologyEntry") continue;
        const auto parts = split(tag.substr(colon + 1), '~');
        if (parts.size() != 7)
          throw inputError(path, prefix + "Tags: malformed terminology entry (expected 7 '~'-separated parts)");
        label.category = parseCode(parts[1], path, prefix + "Tags");
        label.type = parseCode(parts[2], path, prefix + "Tags");
      }
    }
    result.push_back(std::move(label));
  }
  if (result.empty() && !get("Segmentation_MasterRepresentation", value) &&
      !get("Segmentation_ContainedRepresentationNames", value))
    throw inputError(path, "no segmentation keys (Segment0_ID); not a 3D Slicer segmentation file");
  if (layers.size() > 1)
    throw inputError(path, "segments are stored in " + std::to_string(layers.size()) +
                               " layers (overlapping segments); only single-layer segmentations are supported");
  return result;
}

const std::vector<std::string>& colorTableExtensions() {
  static const std::vector<std::string> ext{".ctbl", ".csv", ".txt", ".label"};
  return ext;
}

void writeColorTable(const std::vector<LabelInfo>& labels, const std::string& path, bool overwrite) {
  const std::string ext = colorTableExtensionOf(path);
  if (ext.empty()) {
    std::string list;
    for (const auto& e : colorTableExtensions()) list += (list.empty() ? "" : ", ") + e;
    throw usageError(path + ": unknown color table type (accepted: " + list +
                     "; .ctbl/.csv for 3D Slicer, .txt/.label for ITK-SNAP)");
  }
  const bool slicerText = ext == ".ctbl";
  const bool csv = ext == ".csv";
  checkLabelsWritable(labels, path);
  const auto sorted = sortedByValue(labels);
  const std::string text = slicerText ? slicerCtbl(sorted, path) : csv ? slicerCsv(sorted) : itkSnapLabels(sorted);
  writeTextAtomically(path, text, overwrite);
}

} // namespace voxseg::io
