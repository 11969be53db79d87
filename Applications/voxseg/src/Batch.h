#pragma once
// The cases of a batch: a folder (one volume file or DICOM folder per case; nnU-Net style
// <case>_0000.nii.gz, <case>_0001.nii.gz ... grouped as the channels of one case) or a CSV manifest
// (header row; first column the case id, then one column per input channel; relative paths are
// relative to the CSV's folder).

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace voxseg::cli {

struct BatchCase {
  std::string id;
  std::vector<std::string> inputs; ///< in channel order
  std::string problem;             ///< set when the case cannot run (reported, the batch goes on)
};

/// True when `s` ends with `tail`.
bool endsWith(const std::string& s, const std::string& tail);

/// `name` (a file name or path) without its volume extension (.seg.nrrd, .nii.gz, .nii, .nrrd, .nhdr, .mha,
/// .mhd, .dcm), or "" when it has none.
std::string volumeFileStem(const std::string& name);

/// Throws Error(Input) when the folder or manifest itself cannot be read or lists no case. In a folder, entries that
/// are this run's outputs are passed over: `outputs` are their names ("{case}" standing for any case id; a name
/// ending in "/" is a folder of outputs). An entry is one when a name without {case} gives it, when it is a folder
/// such a name goes through, or when a name gives it for the case of another entry (Batch.cxx, inputEntries).
std::vector<BatchCase> listBatch(const std::string& folderOrCsv, std::size_t channels,
                                 const std::vector<std::string>& outputs = {});

/// One CSV line split into fields (double quotes group, "" is a quote).
std::vector<std::string> splitCsvLine(const std::string& line);

/// A CSV field, quoted when needed.
std::string csvField(const std::string& s);

/// `text` into `path` atomically (temporary file, then rename); Error(Output) naming the path.
void writeTextFile(const std::string& text, const std::string& path, bool force);
/// Writes JSON atomically (pretty printed).
void writeJsonFile(const nlohmann::ordered_json& j, const std::string& path, bool force);

/// A batch summary: CSV (case,status,exit_code,seconds,output,error) and the same rows as JSON
/// ({"cases": [...]}) beside it (same name, .json), both written atomically.
void writeSummary(const std::vector<nlohmann::ordered_json>& rows, const std::string& csvPath, bool force);

} // namespace voxseg::cli
