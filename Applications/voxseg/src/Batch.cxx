#include "Batch.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/JsonText.h"
#include "voxseg/io/AtomicOutput.h"

#include <algorithm>
#include <cctype>
#include <filesystem>
#include <fstream>
#include <map>
#include <regex>
#include <set>

namespace fs = std::filesystem;

namespace voxseg::cli {
namespace {

std::string absoluteText(const fs::path& p) {
  std::error_code ec;
  const fs::path canonical = fs::weakly_canonical(fs::absolute(p), ec); // a linked batch folder: its target
  return (ec ? fs::absolute(p) : canonical).lexically_normal().string();
}

// An output name as a regular expression: "{case}" any one name (the first one captured), the rest itself.
std::string namePattern(const std::string& name) {
  std::string re;
  bool captured = false;
  for (std::size_t i = 0; i < name.size(); ++i) {
    if (name.compare(i, 6, "{case}") == 0) {
      re += captured ? "[^/]+" : "([^/]+)";
      captured = true;
      i += 5;
    } else if (std::isalnum(static_cast<unsigned char>(name[i])) || name[i] == '/' || name[i] == '_') {
      re += name[i];
    } else {
      re += std::string("\\") + name[i];
    }
  }
  return re;
}

// One of this run's output names (see listBatch), compiled once.
struct OutputName {
  std::regex pattern; ///< the file, or the folder and what is in it
  bool perCase;       ///< holds {case}: an entry it matches belongs to the case it captures
  bool folder;        ///< a folder of outputs (--split, --render): it matches folders only
  std::string name;   ///< absolute
};

std::vector<OutputName> outputNames(const std::vector<std::string>& outputs) {
  std::vector<OutputName> out;
  for (std::string o : outputs) {
    const bool folder = !o.empty() && o.back() == '/';
    if (folder) o.pop_back();
    const std::string name = absoluteText(o);
    out.push_back({std::regex(namePattern(name) + (folder ? "(/.*)?" : "")), name.find("{case}") != std::string::npos,
                   folder, name});
  }
  return out;
}

// The case an entry of a batch folder would be: a folder's name, a volume file's stem, or the id of nnU-Net-style
// channel files (<id>_0000.nii.gz); "" for files that are no case.
std::string caseIdOf(const fs::path& p) {
  const std::string name = p.filename().string();
  if (name.empty() || name[0] == '.') return "";
  if (std::error_code ec; fs::is_directory(p, ec)) return name;
  const std::string stem = volumeFileStem(name);
  static const std::regex channelName(R"((.+)_(\d{4}))");
  std::smatch m;
  return std::regex_match(stem, m, channelName) ? m[1].str() : stem;
}

// The entries of the batch folder that are no outputs of this run: not a name without {case} (the summary), not in
// a folder of outputs whose name has none (pred/ of pred/{case}.nii.gz), and not a name that an output gives for a
// case that another entry is the input of (in/{case}_seg.nii.gz beside in/{case}.nii.gz; in/{case}.nii.gz and the
// --split folder in/{case} beside in/{case}_0000.nii.gz). The inputs are the entries whose own case is not one an
// output name gives them for: a file an output name gives for its own case alone (-o in/{case}.nii.gz, the input
// itself) stays a case, which then refuses to replace its input.
std::vector<fs::path> inputEntries(const fs::path& dir, const std::vector<std::string>& outputs) {
  const std::vector<OutputName> names = outputNames(outputs);
  struct Entry {
    fs::path path;
    std::vector<std::string> owners; ///< the cases whose outputs it may be
    bool output = false;             ///< an output whatever the cases
  };
  std::vector<Entry> entries;
  std::set<std::string> supplied; // the cases of the inputs
  for (const auto& e : fs::directory_iterator(dir)) {
    Entry entry{e.path(), {}, false};
    const std::string path = absoluteText(e.path());
    const auto depth = static_cast<std::size_t>(std::count(path.begin(), path.end(), '/'));
    std::error_code ec;
    const bool isFolder = fs::is_directory(e.path(), ec);
    for (const OutputName& o : names) {
      std::smatch m;
      if ((!o.folder || isFolder) && std::regex_match(path, m, o.pattern)) {
        if (o.perCase && m.size() > 1)
          entry.owners.push_back(m[1].str());
        else
          entry.output = true;
      }
      std::size_t cut = 0; // the name's folder at the entry's depth, when it has no {case} yet: a folder of outputs
      for (std::size_t k = 0; k < depth && cut != std::string::npos; ++k) cut = o.name.find('/', cut + 1);
      if (cut != std::string::npos && o.name.substr(0, cut) == path) entry.output = true;
    }
    const std::string id = caseIdOf(entry.path);
    if (!entry.output && std::find(entry.owners.begin(), entry.owners.end(), id) == entry.owners.end())
      supplied.insert(id);
    entries.push_back(std::move(entry));
  }
  std::vector<fs::path> out;
  for (const auto& e : entries)
    if (!e.output &&
        std::none_of(e.owners.begin(), e.owners.end(), [&](const std::string& id) { return supplied.count(id) > 0; }))
      out.push_back(e.path);
  return out;
}

std::vector<BatchCase> fromFolder(const fs::path& dir, std::size_t channels, const std::vector<std::string>& outputs) {
  std::vector<fs::path> entries = inputEntries(dir, outputs);
  std::sort(entries.begin(), entries.end());
  static const std::regex channelName(R"((.+)_(\d{4}))");
  std::map<std::string, std::map<int, std::vector<std::string>>> groups; // id -> channel -> paths
  std::map<std::string, std::vector<std::string>> claims;                // id -> the entries that name it
  std::vector<BatchCase> out;
  for (const auto& p : entries) {
    const std::string name = p.filename().string();
    if (name.empty() || name[0] == '.') continue;
    std::error_code ec;
    const fs::file_status status = fs::status(p, ec);
    if (ec) { // a link that loops, or an entry it may not look at: its case fails naming it, the others run
      const std::string stem = volumeFileStem(name);
      if (!stem.empty()) {
        out.push_back({stem, {}, name + ": " + ec.message()});
        claims[stem].push_back(name);
      }
      continue;
    }
    if (fs::is_directory(status)) { // a DICOM series folder
      out.push_back({name, {p.string()}, ""});
      claims[name].push_back(name + "/");
      continue;
    }
    const std::string stem = volumeFileStem(name);
    if (stem.empty() || endsWith(name, ".seg.nrrd") || endsWith(name, ".SEG.NRRD")) continue; // no input
    std::smatch m;
    if (std::regex_match(stem, m, channelName)) {
      if (groups[m[1]].empty()) claims[m[1]].push_back(std::string(m[1]) + "_NNNN channel files");
      groups[m[1]][std::stoi(m[2])].push_back(p.string());
    } else {
      out.push_back({stem, {p.string()}, ""});
      claims[stem].push_back(name);
    }
  }
  for (const auto& [id, byChannel] : groups) {
    BatchCase c{id, {}, ""};
    std::string found; // the group's files, named in its problem
    std::size_t count = 0;
    for (const auto& [ch, paths] : byChannel)
      for (const auto& path : paths)
        if (++count <= 4) found += (found.empty() ? "" : ", ") + fs::path(path).filename().string();
    if (count > 4) found += ", ...";
    for (std::size_t ch = 0; ch < channels && c.problem.empty(); ++ch) {
      char number[24];
      std::snprintf(number, sizeof number, "%04zu", ch);
      const auto it = byChannel.find(int(ch));
      if (it == byChannel.end())
        c.problem = "channel file " + id + "_" + number + " is missing (found " + found +
                    "; nnU-Net-style names <case>_NNNN are the channels of one case)";
      else if (it->second.size() > 1)
        c.problem = "two files for channel " + std::string(number) + ": " +
                    fs::path(it->second[0]).filename().string() + " and " +
                    fs::path(it->second[1]).filename().string() + " (keep one)";
      else
        c.inputs.push_back(it->second.front());
    }
    if (c.problem.empty() && byChannel.size() > channels)
      c.problem = std::to_string(byChannel.size()) + " channel files (" + found + "), the model takes " +
                  std::to_string(channels);
    out.push_back(c);
  }
  // One case id from several inputs (a.nii.gz and a.nrrd, a DICOM folder a/ and a.nii.gz, a.nii.gz and
  // a_0000.nii.gz) would write one set of outputs twice: that case is not run, and says why.
  std::vector<BatchCase> cases;
  for (auto& c : out) {
    const auto& names = claims[c.id];
    if (names.size() < 2) {
      cases.push_back(std::move(c));
    } else if (std::none_of(cases.begin(), cases.end(), [&](const BatchCase& k) { return k.id == c.id; })) {
      std::string list;
      for (const auto& n : names) list += (list.empty() ? "" : ", ") + n;
      cases.push_back({c.id, {}, "several inputs for this case: " + list + " (keep one)"});
    }
  }
  std::sort(cases.begin(), cases.end(), [](const BatchCase& a, const BatchCase& b) { return a.id < b.id; });
  return cases;
}

std::vector<BatchCase> fromCsv(const fs::path& csv, std::size_t channels) {
  std::ifstream in(csv);
  if (!in) throw inputError(csv.string(), "cannot be read");
  std::string line;
  if (!std::getline(in, line)) throw inputError(csv.string(), "empty manifest (expected a header row)");
  const auto header = splitCsvLine(line);
  if (header.size() < 2) throw inputError(csv.string(), "header needs a case id column and input column(s)");
  std::vector<BatchCase> out;
  int row = 1;
  while (std::getline(in, line)) {
    ++row;
    if (!line.empty() && line.back() == '\r') line.pop_back();
    if (line.find_first_not_of(" \t") == std::string::npos) continue;
    const auto f = splitCsvLine(line);
    BatchCase c;
    c.id = f.empty() ? "" : f[0];
    if (c.id.empty()) c.id = "row" + std::to_string(row);
    for (std::size_t i = 1; i < f.size(); ++i) {
      if (f[i].empty()) continue;
      const fs::path p(f[i]);
      c.inputs.push_back(p.is_absolute() ? p.string() : (csv.parent_path() / p).string());
    }
    if (c.inputs.size() != channels)
      c.problem = "line " + std::to_string(row) + " of " + csv.string() + " names " + std::to_string(c.inputs.size()) +
                  " input(s), the model takes " + std::to_string(channels);
    // the id becomes part of output paths ({case}): a manifest must not steer them outside their folder
    const bool control =
        std::any_of(c.id.begin(), c.id.end(), [](char ch) { return static_cast<unsigned char>(ch) < 32 || ch == 127; });
    if (c.id == "." || c.id == ".." || c.id.find_first_of("/\\") != std::string::npos || control) {
      std::string shown = c.id; // control characters not echoed to a terminal
      std::replace_if(
          shown.begin(), shown.end(), [](char ch) { return static_cast<unsigned char>(ch) < 32 || ch == 127; }, '?');
      c.problem = "line " + std::to_string(row) + " of " + csv.string() + ": case id '" + shown +
                  "' is not a plain file name ('/', '\\', '.', '..' or a control character): outputs would "
                  "leave their folder";
      c.id = "row" + std::to_string(row);
    } else if (std::any_of(out.begin(), out.end(), [&](const BatchCase& o) { return o.id == c.id; })) {
      c.problem = "line " + std::to_string(row) + " of " + csv.string() + ": case id '" + c.id +
                  "' is listed twice (its outputs would collide)";
      c.id += "#row" + std::to_string(row);
    }
    out.push_back(c);
  }
  return out;
}

} // namespace

bool endsWith(const std::string& s, const std::string& tail) {
  return s.size() >= tail.size() && s.compare(s.size() - tail.size(), tail.size(), tail) == 0;
}

std::string volumeFileStem(const std::string& name) {
  // lower case, or all upper case where the readers take it too (X.NII.GZ, X.NRRD, X.DCM: a batch folder left them
  // out; ITK's MetaImage reader and nifticlib refuse X.MHA and X.Nii.gz)
  for (const std::string e : {".seg.nrrd", ".nii.gz", ".nii", ".nrrd", ".nhdr", ".mha", ".mhd", ".dcm"}) {
    std::string upper = e;
    for (char& c : upper) c = static_cast<char>(std::toupper(static_cast<unsigned char>(c)));
    const bool meta = e == ".mha" || e == ".mhd";
    if (name.size() > e.size() && (endsWith(name, e) || (!meta && endsWith(name, upper))))
      return name.substr(0, name.size() - e.size());
  }
  return "";
}

std::vector<std::string> splitCsvLine(const std::string& line) {
  std::vector<std::string> out(1);
  bool quoted = false;
  for (std::size_t i = 0; i < line.size(); ++i) {
    const char c = line[i];
    if (quoted) {
      if (c == '"' && i + 1 < line.size() && line[i + 1] == '"') {
        out.back() += '"';
        ++i;
      } else if (c == '"') {
        quoted = false;
      } else {
        out.back() += c;
      }
    } else if (c == '"') {
      quoted = true;
    } else if (c == ',') {
      out.emplace_back();
    } else if (c != '\r') {
      out.back() += c;
    }
  }
  for (auto& f : out) { // trim spaces around unquoted content
    const auto a = f.find_first_not_of(" \t"), b = f.find_last_not_of(" \t");
    f = a == std::string::npos ? "" : f.substr(a, b - a + 1);
  }
  return out;
}

std::string csvField(const std::string& s) {
  if (s.find_first_of(",\"\n") == std::string::npos) return s;
  std::string q = "\"";
  for (char c : s) q += c == '"' ? std::string("\"\"") : std::string(1, c);
  return q + "\"";
}

std::vector<BatchCase> listBatch(const std::string& folderOrCsv, std::size_t channels,
                                 const std::vector<std::string>& outputs) {
  const fs::path p(folderOrCsv);
  if (!fs::exists(p)) throw inputError(folderOrCsv, "no such folder or manifest");
  std::vector<BatchCase> cases;
  try {
    if (fs::is_directory(p))
      cases = fromFolder(p, channels, outputs);
    else
      cases = fromCsv(p, channels);
  } catch (const fs::filesystem_error& e) { // e.g. a folder it may not list
    throw inputError(folderOrCsv, "cannot list it: " + e.code().message());
  }
  if (cases.empty()) throw inputError(folderOrCsv, "no case found (volume files, DICOM folders or CSV rows)");
  return cases;
}

void writeTextFile(const std::string& text, const std::string& path, bool force) {
  io::writeFileAtomically(path, text, force);
}

void writeJsonFile(const nlohmann::ordered_json& j, const std::string& path, bool force) {
  writeTextFile(jsonText(j, 2) + "\n", path, force);
}

void writeSummary(const std::vector<nlohmann::ordered_json>& rows, const std::string& csvPath, bool force) {
  const std::string jsonPath = fs::path(csvPath).replace_extension(".json").string();
  io::OutputSet together; // the .csv and its .json land together (a failed .json left the .csv alone)
  {
    io::AtomicOutput csv(csvPath, force);
    {
      std::ofstream f(csv.tempPath());
      f << "case,status,exit_code,seconds,output,error\n";
      for (const auto& r : rows)
        f << csvField(r["case"]) << "," << r["status"].get<std::string>() << "," << r["exit_code"].get<int>() << ","
          << r["seconds"].get<double>() << "," << csvField(r["output"]) << "," << csvField(r["error"]) << "\n";
      if (!f.flush()) throw outputError(csvPath, "write failed (disk full?)");
    }
    csv.commit();
  }
  writeJsonFile({{"cases", rows}}, jsonPath, force);
  together.commitAll();
}

} // namespace voxseg::cli
