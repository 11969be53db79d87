#pragma once
// The nnU-Net raw dataset layout users already have: dataset.json (channel_names, labels,
// numTraining, file_ending), imagesTr/<case>_<cccc><ending>, labelsTr/<case><ending>.

#include "voxseg/core/NnUNetLabels.h"

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
  std::map<std::string, int> labels; ///< name -> value of each one-value entry, background 0 (and "ignore") included
  /// Every entry of dataset.json's labels in the file's order: name -> its label value(s), sorted.
  std::vector<std::pair<std::string, std::vector<int>>> labelEntries;
  /// The same entries as the file lists them (order of values, list or number): what the model folder's dataset.json
  /// repeats, as nnU-Net's trainer saves the dataset.json it read.
  std::vector<NnUNetLabelEntry> listedEntries;
  /// A region-based dataset (an entry lists several labels, nnU-Net's rule): each foreground entry in the file's
  /// order with its labels, one sigmoid output each, and regions_class_order (the value each writes at inference).
  /// Empty for a plain dataset (one softmax output per label).
  std::vector<std::pair<std::string, std::vector<int>>> regions;
  /// Each region as nnU-Net's summary.json names it: Python's str() of the entry as dataset.json lists it ("3" for
  /// 3, "(3,)" for [3], "(3, 2)" for [3, 2]).
  std::vector<std::string> regionKeys;
  std::vector<int> regionsClassOrder;
  int ignoreLabel = -1;            ///< nnU-Net's ignore label (the highest value), -1: none
  int maxLabel = 0;                ///< the largest value a label map may hold (the ignore label's included)
  std::vector<int> values;         ///< every value the labels list, sorted (gaps only in a region-based one)
  std::string fileEnding;          ///< ".nii.gz"
  std::vector<TrainingCase> cases; ///< sorted by id

  bool regionBased() const { return !regions.empty(); }
  /// The network's outputs: one per region, or one per label but the ignore label.
  int classes() const { return regionBased() ? int(regions.size()) : int(labels.size()) - (ignoreLabel >= 0 ? 1 : 0); }
};

/// Reads and checks the layout: dataset.json fields and types, every case's channel files and label
/// file present, numTraining equal to the cases found, "background": 0, label values 0..N consecutive (a
/// region-based dataset's may have gaps; at most 255), an "ignore" label (nnU-Net's sparse annotations) only as the
/// highest value, one above the others, regions with their regions_class_order.
/// Throws Error(Input) naming the file and the problem.
RawDataset readRawDataset(const std::string& folder);

} // namespace voxseg::training
