#pragma once
// Cross-validation folds as nnU-Net v2 makes them, so `voxseg train --fold K` trains on the cases nnU-Net's fold K
// trains on, and a user's splits_final.json (nnU-Net's preprocessed folder) can be given instead.

#include <cstdint>
#include <string>
#include <vector>

namespace voxseg::training {

struct Fold {
  std::vector<std::string> train, val;
};

/// nnU-Net v2's default split (crossval_split.generate_crossval_split over the sorted case ids: scikit-learn's
/// KFold(n_splits, shuffle=True, random_state=seed), whose shuffle is numpy's legacy RandomState, MT19937).
/// Each fold's lists in the ids' order. Needs at least `folds` ids.
std::vector<Fold> nnunetFolds(const std::vector<std::string>& sortedIds, int folds = 5, std::uint32_t seed = 12345);

/// A splits_final.json: a list of {"train": [ids], "val": [ids]}. Throws Error(Input) naming the file.
std::vector<Fold> readSplits(const std::string& path);

} // namespace voxseg::training
