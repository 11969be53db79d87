#pragma once
// The nnU-Net raw dataset layout users already have: dataset.json (channel_names, labels,
// numTraining, file_ending), imagesTr/<case>_<cccc><ending>, labelsTr/<case><ending>.

#include <map>
#include <string>
#include <vector>

namespace voxseg::training {

struct TrainingCase {
  std::string id;
  std::vector<std::string> images; ///< one file per channel, in channel order
  std::string labels;
};

struct RawDataset {
  std::string folder, name;
  std::vector<std::string> channelNames; ///< e.g. "CT", "T1"
  std::map<std::string, int> labels;     ///< name -> value, background 0 included (and "ignore" when given)
  int ignoreLabel = -1;                  ///< nnU-Net's ignore label (the highest value), -1: none
  std::string fileEnding;                ///< ".nii.gz"
  std::vector<TrainingCase> cases;       ///< sorted by id

  /// The network's outputs: every label but the ignore label.
  int classes() const { return int(labels.size()) - (ignoreLabel >= 0 ? 1 : 0); }
};

/// Reads and checks the layout: dataset.json fields and types, every case's channel files and label
/// file present, numTraining equal to the cases found, labels 0..N consecutive, regions refused, an "ignore"
/// label (nnU-Net's sparse annotations) only as the highest value.
/// Throws Error(Input) naming the file and the problem.
RawDataset readRawDataset(const std::string& folder);

} // namespace voxseg::training
