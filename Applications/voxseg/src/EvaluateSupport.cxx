#include "EvaluateSupport.h"

#include "Batch.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/NnUNetLabels.h"
#include "voxseg/evaluation/NnUNetSummary.h"
#include "voxseg/inference/NnUNetFolder.h"

#include <nlohmann/json.hpp>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <limits>
#include <map>
#include <sstream>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

// A label map's case id: its file name without the volume extension ("" for other files; DICOM files
// are not label maps here).
std::string caseStem(const std::string& name) {
  const bool dicom = name.size() > 4 && name.compare(name.size() - 4, 4, ".dcm") == 0;
  return dicom ? "" : volumeFileStem(name);
}

// Case name -> file of a folder; `twice` collects the names that more than one file claims.
std::map<std::string, std::string> volumesIn(const fs::path& dir, std::map<std::string, std::string>& twice) {
  std::map<std::string, std::string> out;
  for (const auto& e : fs::directory_iterator(dir)) {
    // hidden files (macOS's "._x.nii.gz" beside x.nii.gz) are no cases, as in segment --batch
    if (!e.is_regular_file() || e.path().filename().string().rfind('.', 0) == 0) continue;
    const std::string stem = caseStem(e.path().filename().string());
    if (stem.empty()) continue;
    if (const auto it = out.find(stem); it != out.end()) { // a.nii.gz and a.nrrd: which one is meant?
      auto& names = twice[stem];
      if (names.empty()) names = fs::path(it->second).filename().string();
      names += " and " + e.path().filename().string();
    }
    out[stem] = e.path().string();
  }
  return out;
}

// An nnU-Net trained-model folder's cross-validation (nnU-Net's accumulate_cv_results): every fold_N/validation's
// predictions, each against the reference of its name; references no fold predicted are left out, as nnU-Net leaves
// them out. Empty when `prediction` is no model folder with a fold_N/validation folder.
std::vector<EvalCase> crossValidationCases(const std::string& prediction, const std::string& reference) {
  std::vector<std::string> folds;
  std::error_code ec;
  if (inference::isNnUNetFolder(prediction))
    for (int fold : inference::nnunetFoldFolders(prediction))
      if (fold != inference::kFoldAll &&
          fs::is_directory(fs::path(prediction) / inference::nnunetFoldName(fold) / "validation", ec))
        folds.push_back(inference::nnunetFoldName(fold));
  if (folds.empty()) return {};
  std::map<std::string, std::string> refTwice;
  const auto refs = volumesIn(reference, refTwice);
  std::map<std::string, EvalCase> byId;
  std::map<std::string, std::string> foldOf;
  for (const std::string& fold : folds) {
    std::map<std::string, std::string> twice;
    for (const auto& [id, p] : volumesIn((fs::path(prediction) / fold / "validation").string(), twice)) {
      EvalCase& c = byId[id];
      if (!c.prediction.empty()) {
        c.problem =
            "predicted in " + foldOf[id] + "/validation and " + fold + "/validation (one fold validates a case)";
        continue;
      }
      c.id = id;
      c.prediction = p;
      foldOf[id] = fold;
      if (const auto r = refs.find(id); r != refs.end())
        c.reference = r->second;
      else
        c.problem = "no reference for prediction " + p + " in " + reference;
      if (twice.count(id))
        c.problem = "two files for this case in " + fold + "/validation: " + twice[id] + " (keep one)";
      if (refTwice.count(id))
        c.problem = "two files for this case in " + reference + ": " + refTwice[id] + " (keep one)";
    }
  }
  std::size_t unpredicted = 0;
  for (const auto& [id, p] : refs) unpredicted += byId.count(id) ? 0 : 1;
  std::string names;
  for (const auto& f : folds) names += (names.empty() ? "" : ", ") + f;
  logInfo(prediction + ": a trained-model folder: the cross-validation predictions of " + names + " (" +
          std::to_string(byId.size()) + " case(s), nnU-Net's accumulate_cv_results)");
  if (unpredicted)
    logWarning(std::to_string(unpredicted) + " reference(s) in " + reference +
               " without a cross-validation prediction (a fold not trained?) are left out, as nnU-Net leaves them out");
  std::vector<EvalCase> out;
  for (auto& [id, c] : byId) out.push_back(std::move(c));
  return out;
}

// numpy.quantile's default ("linear"), its _lerp to the last bit: from the upper neighbour when the fraction is 0.5
// or more.
double quantile(const std::vector<double>& sorted, double q) {
  const double pos = q * double(sorted.size() - 1);
  const auto lo = std::size_t(std::floor(pos));
  const auto hi = std::min(lo + 1, sorted.size() - 1);
  const double t = pos - double(lo), diff = sorted[hi] - sorted[lo];
  return t >= 0.5 ? sorted[hi] - diff * (1 - t) : sorted[lo] + diff * t;
}

} // namespace

std::vector<EvalCase> listEvalCases(const std::string& prediction, const std::string& reference,
                                    const std::string& csv) {
  std::vector<EvalCase> out;
  if (!csv.empty()) {
    std::ifstream in(csv);
    if (!in) throw inputError(csv, "cannot be read");
    std::string line;
    if (!std::getline(in, line)) throw inputError(csv, "empty (expected a header: case,prediction,reference)");
    // the columns by their names in the header (until 2026-11-29 by position: a header "case,reference,prediction"
    // swapped the two maps, and a file without a header lost its first case)
    if (line.rfind("\xEF\xBB\xBF", 0) == 0) line.erase(0, 3); // a UTF-8 byte order mark (spreadsheet exports)
    if (!line.empty() && line.back() == '\r') line.pop_back();
    std::size_t column[3] = {SIZE_MAX, SIZE_MAX, SIZE_MAX}; // case, prediction, reference
    const auto names = splitCsvLine(line);
    for (std::size_t i = 0; i < names.size(); ++i) {
      std::string name = names[i];
      name.erase(0, name.find_first_not_of(" \t"));
      name.erase(name.find_last_not_of(" \t") + 1);
      std::transform(name.begin(), name.end(), name.begin(), [](unsigned char ch) { return char(std::tolower(ch)); });
      const char* known[3] = {"case", "prediction", "reference"};
      for (int k = 0; k < 3; ++k)
        if (name == known[k] && column[k] == SIZE_MAX) column[k] = i;
    }
    if (column[1] == SIZE_MAX || column[2] == SIZE_MAX)
      throw inputError(csv, "its first line must name the columns prediction and reference (and case, optional; in any "
                            "order); it reads: " +
                                line.substr(0, 200));
    int row = 1;
    const fs::path base = fs::path(csv).parent_path();
    auto resolve = [&](const std::string& p) { return fs::path(p).is_absolute() ? p : (base / p).string(); };
    const auto field = [](const std::vector<std::string>& f, std::size_t i) { return i < f.size() ? f[i] : ""; };
    while (std::getline(in, line)) {
      ++row;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      const auto f = splitCsvLine(line);
      if (f.size() == 1 && f[0].empty()) continue;
      EvalCase c;
      c.id = field(f, column[0]).empty() ? "row" + std::to_string(row) : field(f, column[0]);
      if (field(f, column[1]).empty() || field(f, column[2]).empty())
        c.problem = "line " + std::to_string(row) + " of " + csv + ": no prediction or no reference";
      else
        c.prediction = resolve(field(f, column[1])), c.reference = resolve(field(f, column[2]));
      // a case listed twice would count twice in every summary: the later rows fail, naming the first
      const auto same = std::find_if(out.begin(), out.end(), [&](const EvalCase& e) { return e.id == c.id; });
      if (same != out.end() && c.problem.empty())
        c.problem = "line " + std::to_string(row) + " of " + csv + ": case '" + c.id +
                    "' is listed again (first on line " + std::to_string(same->row) + ")";
      c.row = row;
      out.push_back(c);
    }
    if (out.empty()) throw inputError(csv, "no case listed");
    return out;
  }
  if (prediction.empty() || reference.empty()) throw usageError("give a prediction and a reference, or --csv");
  if (!fs::exists(prediction)) throw inputError(prediction, "no such file or folder");
  if (!fs::exists(reference)) throw inputError(reference, "no such file or folder");
  if (fs::is_directory(prediction) != fs::is_directory(reference))
    throw usageError("prediction and reference must both be files or both be folders");
  if (!fs::is_directory(prediction)) {
    std::string id = caseStem(fs::path(reference).filename().string());
    out.push_back({id.empty() ? fs::path(reference).filename().string() : id, prediction, reference, ""});
    return out;
  }
  if (auto pooled = crossValidationCases(prediction, reference); !pooled.empty()) return pooled;
  std::map<std::string, std::string> predTwice, refTwice;
  const auto preds = volumesIn(prediction, predTwice), refs = volumesIn(reference, refTwice);
  std::map<std::string, EvalCase> byId;
  for (const auto& [id, p] : refs) byId[id] = {id, "", p, ""};
  for (const auto& [id, p] : preds) {
    auto& c = byId[id];
    c.id = id;
    c.prediction = p;
  }
  for (auto& [id, c] : byId) {
    if (c.prediction.empty()) c.problem = "no prediction for reference " + c.reference;
    if (c.reference.empty()) c.problem = "no reference for prediction " + c.prediction;
    // Only a case that is paired is judged: a Slicer image beside its .seg.nrrd, unpaired, is no problem.
    if (!c.prediction.empty() && !c.reference.empty())
      for (const auto* twice : {&predTwice, &refTwice})
        if (const auto it = twice->find(id); it != twice->end())
          c.problem = "two files for this case in " + (twice == &predTwice ? prediction : reference) + ": " +
                      it->second + " (keep one)";
    out.push_back(c);
  }
  if (out.empty()) throw inputError(reference, "no label maps found (.nii.gz, .nii, .nrrd, .mha, .seg.nrrd)");
  return out;
}

std::string targetText(const std::vector<int>& labels) {
  std::string out;
  for (int l : labels) out += (out.empty() ? "" : "+") + std::to_string(l);
  return out;
}

std::vector<std::vector<int>> selectTargets(const std::string& text, const std::vector<LabelInfo>& table,
                                            const std::vector<LabelRegion>& regions) {
  std::vector<std::vector<int>> out;
  const auto fail = [&](const std::string& why) { return usageError("--labels '" + text + "': " + why); };
  const auto trimmed = [](std::string item) {
    item.erase(0, item.find_first_not_of(' '));
    item.erase(item.find_last_not_of(' ') + 1);
    return item;
  };
  // One label by value or name, or a region by name: its labels.
  const auto labelsOf = [&](const std::string& item) -> std::vector<int> {
    if (item.empty()) throw fail("empty item");
    if (item.find_first_not_of("0123456789") == std::string::npos) {
      const std::string digits = item.substr(std::min(item.find_first_not_of('0'), item.size() - 1));
      const long v = digits.size() > 6 ? 0 : std::stol(digits); // longer: out of range anyway
      if (v < 1 || v > 65535) throw fail("label " + item + " out of 1..65535");
      return {int(v)};
    }
    const auto named = [&](const LabelInfo& l) { return l.name == item; };
    const auto it = std::find_if(table.begin(), table.end(), named);
    if (it != table.end()) {
      if (std::find_if(std::next(it), table.end(), named) != table.end())
        throw fail("several labels of the table are named '" + item + "' (give the value)");
      if (it->value == 0) throw fail("'" + item + "' is the background (label 0)");
      return {it->value};
    }
    for (const auto& r : regions)
      if (r.name == item) return r.labels;
    throw fail("no label named '" + item + "'" +
               (table.empty() && regions.empty() ? " (give --label-table)" : " in the label table"));
  };
  // getline drops a last empty item ("1,"), and an empty text has none
  if (const auto last = text.find_last_not_of(' '); last == std::string::npos || text[last] == ',')
    throw fail("empty item");
  std::stringstream ss(text);
  std::string item;
  while (std::getline(ss, item, ',')) {
    item = trimmed(item);
    std::vector<int> labels;
    const bool whole =
        std::any_of(table.begin(), table.end(), [&](const LabelInfo& l) { return l.name == item; }) ||
        std::any_of(regions.begin(), regions.end(), [&](const LabelRegion& r) { return r.name == item; });
    if (whole || item.find('+') == std::string::npos) {
      labels = labelsOf(item);
    } else {                                                           // "1+2+3", "edema+enhancing": one region
      std::stringstream parts(item + (item.back() == '+' ? " " : "")); // "1+" has an empty last part
      for (std::string part; std::getline(parts, part, '+');)
        for (int l : labelsOf(trimmed(part))) {
          if (std::find(labels.begin(), labels.end(), l) != labels.end())
            throw fail("label " + std::to_string(l) + " is given twice in '" + item + "'");
          labels.push_back(l);
        }
    }
    std::sort(labels.begin(), labels.end());
    if (std::find(out.begin(), out.end(), labels) != out.end())
      throw fail((labels.size() == 1 ? "label " : "region ") + targetText(labels) + " is listed twice");
    out.push_back(labels);
  }
  return out;
}

namespace {
// A line of a table as a message may quote it: 80 bytes at most, control bytes (a binary file given) as '?'.
std::string quotable(const std::string& line) {
  std::string out = line.substr(0, 80);
  for (char& c : out)
    if (static_cast<unsigned char>(c) < 0x20 || c == 0x7f) c = '?';
  return out;
}

// A value given twice would color and name one label two ways (the last one won, silently).
void requireValueOnce(const std::vector<LabelInfo>& seen, const std::vector<int>& lines, const LabelInfo& l, int line,
                      const std::string& path, const char* what) {
  for (std::size_t i = 0; i < seen.size(); ++i)
    if (seen[i].value == l.value)
      throw inputError(path, std::string(what) + " " + std::to_string(line) + ": label value " +
                                 std::to_string(l.value) + " is given again (first on " + what + " " +
                                 std::to_string(lines[i]) + ")");
}
} // namespace

std::vector<LabelInfo> readLabelTable(const std::string& path, DatasetLabelRules* rules) {
  if (rules) *rules = {};
  std::ifstream in(path);
  std::error_code ec;
  if (!in) throw inputError(path, fs::exists(path, ec) ? "cannot be read" : "no such file");
  std::vector<LabelInfo> out;
  std::vector<int> lines; // where each of `out` was given
  std::string text((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  if (text.compare(0, 3, "\xEF\xBB\xBF") == 0) text.erase(0, 3); // a UTF-8 byte order mark (Windows editors)
  const auto first = text.find_first_not_of(" \t\r\n");
  if (first != std::string::npos && text[first] == '{') {
    // in the file's order, as Python's dict keeps it (regions_class_order pairs with the regions so)
    const auto j = nlohmann::ordered_json::parse(text, nullptr, false);
    if (j.is_discarded()) throw inputError(path, "not valid JSON");
    if (j.contains("labels") && j["labels"].is_object()) { // nnU-Net dataset.json
      const NnUNetLabels labels = readNnUNetLabels(j, path, 65535, ExitCode::Input);
      // In a region-based dataset (an entry a list of more than one label, as nnU-Net's LabelManager decides), every
      // foreground entry but "ignore" is a region, a plain value too ({"enhancing": 3} is the region (3,)).
      std::string unused;
      for (const NnUNetLabelEntry& e : labels.entries) {
        if (!e.listed || (!labels.regionBased() && e.values.size() == 1)) { // a plain dataset's [2] is the label 2
          LabelInfo l;
          l.name = e.name;
          l.value = e.values.front();
          l.color = defaultLabelColor(l.value);
          out.push_back(l);
        } else if (!rules) { // names only (convert, render): the regions are named, not checked
          unused += (unused.empty() ? "" : ", ") + e.name + " " + j["labels"][e.name].dump();
        }
      }
      if (!unused.empty())
        logWarning(path + ": regions (" + unused + ") are unions of labels; a label map's values are labels");
      if (!rules) return out;
      rules->ignoreLabel = labels.ignoreLabel;
      rules->foregroundLabels = labels.foregroundLabels();
      for (const NnUNetLabelEntry& e : labels.regions()) {
        LabelRegion r{e.name, e.values, e.key(), {}};
        for (int v : e.values)
          if (std::find(r.listed.begin(), r.listed.end(), v) == r.listed.end()) r.listed.push_back(v);
        std::sort(r.labels.begin(), r.labels.end());
        r.labels.erase(std::unique(r.labels.begin(), r.labels.end()), r.labels.end());
        if (r.labels.front() == 0)
          throw inputError(path, "region '" + e.name +
                                     "' holds the background (label 0) beside labels: voxseg "
                                     "scores regions of foreground labels");
        for (const auto& before : rules->regions)
          if (before.labels == r.labels)
            throw inputError(path, "regions '" + before.name + "' and '" + r.name + "' hold the same labels (" +
                                       targetText(r.labels) + ")");
        rules->regions.push_back(r);
      }
      return out;
    }
    return modelCardFromJson(nlohmann::json::parse(text), path).labels; // a model card
  }
  std::stringstream ss(text);
  std::string line;
  if (first != std::string::npos && text.compare(first, 11, "LabelValue,") == 0) { // Slicer CSV color table
    std::stringstream cs(text.substr(first));
    std::getline(cs, line);
    const auto header = splitCsvLine(line);
    const auto column = [&](const std::string& name) {
      const auto at = std::find(header.begin(), header.end(), name);
      return at == header.end() ? std::size_t(-1) : std::size_t(at - header.begin());
    };
    const std::size_t name = column("Name"), red = column("Color_R");
    // the file's line numbers, as an editor shows them (the header's is 1 but for blank lines above it)
    int number = 1 + int(std::count(text.begin(), text.begin() + std::ptrdiff_t(first), '\n'));
    while (std::getline(cs, line)) {
      ++number;
      if (!line.empty() && line.back() == '\r') line.pop_back();
      if (line.empty()) continue;
      const auto f = splitCsvLine(line);
      LabelInfo l;
      try {
        l.value = std::stoi(f.at(0));
        if (name < f.size()) l.name = f[name];
        if (red != std::size_t(-1) && red + 2 < f.size())
          l.color = {std::stoi(f[red]), std::stoi(f[red + 1]), std::stoi(f[red + 2])};
        else
          l.color = defaultLabelColor(l.value);
        for (int c : l.color)
          if (c < 0 || c > 255) throw std::out_of_range("color");
      } catch (const std::exception&) {
        throw inputError(path,
                         "line " + std::to_string(number) +
                             ": malformed row of a Slicer CSV color table (colors are 0..255): " + quotable(line));
      }
      requireValueOnce(out, lines, l, number, path, "line");
      if (l.value != 0) out.push_back(l), lines.push_back(number);
    }
    if (out.empty()) throw inputError(path, "no labels found in the Slicer CSV color table");
    return out;
  }
  // Slicer .ctbl: value name r g b a; ITK-SNAP: value r g b a vis mesh "name". Colors are whole numbers 0..255; a line
  // that is neither is refused (a color of 300 came out as 300 in review.html, 44 in PNGs and PLY files).
  const auto channel = [&](const std::string& token, int& v) {
    std::size_t used = 0;
    try {
      v = std::stoi(token, &used);
    } catch (const std::exception&) {
      return false;
    }
    return used == token.size() && v >= 0 && v <= 255;
  };
  for (int number = 1; std::getline(ss, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const auto start = line.find_first_not_of(" \t");
    if (start == std::string::npos || line[start] == '#') continue;
    // ITK-SNAP: numbers up to a quoted name that ends the line; otherwise a Slicer line (whose names may hold '"')
    auto quote = line.find('"');
    std::vector<std::string> t;
    {
      std::stringstream ls(line.substr(0, quote));
      for (std::string token; ls >> token;) t.push_back(token);
      const bool numbers = t.size() >= 4 && std::all_of(t.begin(), t.end(), [](const std::string& w) {
                             return w.find_first_not_of("0123456789.+-eE") == std::string::npos;
                           });
      if (quote != std::string::npos && !(numbers && line.find_last_not_of(" \t") == line.rfind('"'))) {
        quote = std::string::npos;
        t.clear();
        std::stringstream all(line);
        for (std::string token; all >> token;) t.push_back(token);
      }
    }
    LabelInfo l;
    bool ok = !t.empty() && t[0].find_first_not_of("0123456789") == std::string::npos && t[0].size() <= 5;
    if (ok) l.value = std::stoi(t[0]);
    if (ok && quote != std::string::npos) { // ITK-SNAP
      const auto end = line.rfind('"');
      ok = end > quote && t.size() >= 4 && channel(t[1], l.color[0]) && channel(t[2], l.color[1]) &&
           channel(t[3], l.color[2]);
      if (ok) l.name = line.substr(quote + 1, end - quote - 1);
    } else if (ok && t.size() == 2) { // Slicer, a name without a color: the default color
      l.name = t[1];
      l.color = defaultLabelColor(l.value);
    } else if (ok) { // Slicer: one name without spaces, then r g b and an optional alpha
      int alpha = 255;
      ok = (t.size() == 5 || t.size() == 6) && channel(t[2], l.color[0]) && channel(t[3], l.color[1]) &&
           channel(t[4], l.color[2]) && (t.size() == 5 || channel(t[5], alpha));
      if (ok) l.name = t[1];
    }
    if (!ok || l.value > 65535)
      throw inputError(path, "line " + std::to_string(number) +
                                 " is neither 'value name r g b a' (3D Slicer .ctbl, a name without spaces) nor "
                                 "'value r g b a visible mesh \"name\"' (ITK-SNAP), with colors 0..255: " +
                                 quotable(line));
    requireValueOnce(out, lines, l, number, path, "line");
    if (l.value != 0) out.push_back(l), lines.push_back(number);
  }
  if (out.empty()) throw inputError(path, "no labels found (model card, dataset.json, .ctbl or ITK-SNAP table)");
  return out;
}

Summary summarize(const std::vector<double>& values) {
  Summary s;
  s.cases = values.size();
  std::vector<double> v;
  for (double x : values) {
    if (std::isnan(x))
      ++s.nan;
    else if (std::isinf(x))
      ++s.inf;
    else
      v.push_back(x);
  }
  s.finite = v.size();
  if (v.empty()) {
    s.mean = s.std = s.median = s.q1 = s.q3 = s.min = s.max = std::numeric_limits<double>::quiet_NaN();
    return s;
  }
  // numpy.mean and numpy.std (population) of the finite values in case order: its pairwise sums
  s.mean = evaluation::numpySum(v) / double(v.size());
  std::vector<double> squares;
  for (double x : v) squares.push_back((x - s.mean) * (x - s.mean));
  s.std = std::sqrt(evaluation::numpySum(squares) / double(v.size()));
  std::sort(v.begin(), v.end());
  s.median = quantile(v, 0.5);
  s.q1 = quantile(v, 0.25);
  s.q3 = quantile(v, 0.75);
  s.min = v.front();
  s.max = v.back();
  return s;
}

} // namespace voxseg::cli
