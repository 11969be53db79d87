#pragma once
// dataset.json's "labels" as nnU-Net's LabelManager reads them (nnunetv2/utilities/label_handling/label_handling.py):
// the one reader behind `voxseg train`'s raw dataset, the nnU-Net trained-model folder and evaluate's label tables.

#include "voxseg/core/Error.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace voxseg {

/// One entry of "labels": a name and the value it gives, or the values a region unites.
struct NnUNetLabelEntry {
  std::string name;
  std::vector<int> values; ///< as listed; a number is one value
  bool listed = false;     ///< written as a list ([3]), not a number (3)

  /// Every value 0: the background (nnU-Net skips such an entry as a region).
  bool background() const;
  /// Python's str() of the entry as nnU-Net keeps it (a list becomes a tuple): "3", "(3,)", "(3, 2)". summary.json
  /// keys a region so.
  std::string key() const;
};

struct NnUNetLabels {
  std::vector<NnUNetLabelEntry> entries; ///< in the file's order (Python's dict keeps it), "ignore" included
  int ignoreLabel = -1;                  ///< the value of "ignore"; -1: none
  std::vector<int> regionsClassOrder;    ///< "regions_class_order" of a region-based dataset; empty otherwise

  /// LabelManager.has_regions: an entry lists more than one value.
  bool regionBased() const;
  /// LabelManager.foreground_labels: every value but 0 and the ignore label, ascending, each once.
  std::vector<int> foregroundLabels() const;
  /// LabelManager.foreground_regions (region-based datasets): every entry but "ignore" and the background, in order.
  std::vector<NnUNetLabelEntry> regions() const;
  /// LabelManager.num_segmentation_heads: one per region (regions_class_order's length) or one per distinct entry
  /// but "ignore" (the background's included).
  int segmentationHeads() const;
  /// The largest value an entry but "ignore" lists, or regions_class_order writes (0 when none).
  int maxLabel() const;
  /// The entry named `name`; null when there is none.
  const NnUNetLabelEntry* find(const std::string& name) const;
};

/// Reads dataset.json's `dataset["labels"]` (an object: name -> integer or list of integers) and, for a region-based
/// dataset, its "regions_class_order" (integers 1..maxValue; nnU-Net ignores it otherwise). Values must be integers
/// 0..maxValue (`range` says why when they are not, e.g. "training holds labels in bytes"); "background" must be the
/// number 0 and "ignore" one number, one above every other value (LabelManager's checks); a list must not be empty.
/// Throws Error(code)
/// "<path>: ..." naming the entry.
NnUNetLabels readNnUNetLabels(const nlohmann::ordered_json& dataset, const std::string& path, int maxValue,
                              ExitCode code, const std::string& range = {});

} // namespace voxseg
