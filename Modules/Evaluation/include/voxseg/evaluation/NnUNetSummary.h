#pragma once
// nnU-Net v2's summary.json (nnunetv2/evaluation/evaluate_predictions.py: compute_metrics, compute_metrics_on_folder,
// save_summary_json), number for number: each case's Dice, IoU, FP, TP, FN, TN, n_pred and n_ref of every label or
// region, their NaN-skipping means over the cases (numpy.nanmean, with numpy's pairwise summation) and the mean of
// those over the foreground ("foreground_mean"). What `voxseg train` writes beside its held-out cases' predictions.

#include "voxseg/evaluation/Overlap.h"

#include <nlohmann/json.hpp>

#include <string>
#include <vector>

namespace voxseg::evaluation {

/// A label's key in summary.json, as nnU-Net writes it (Python's str()): "2".
std::string nnunetKey(int label);
/// A region's key (a tuple's str(), its labels in the order given): "(1, 2, 3)", "(3,)".
std::string nnunetKey(const std::vector<int>& region);

struct NnUNetCaseCounts {
  std::string referenceFile;
  std::string predictionFile;
  std::vector<VoxelCounts> counts; ///< one per key, in the keys' order; an ignore label's voxels left out
};

struct NnUNetSummary {
  std::string json;             ///< summary.json's text: keys sorted, indent 4, NaN as Python's json writes it
  std::vector<double> meanDice; ///< "mean": each key's Dice over the cases (NaN when no case has one)
  double foregroundDice = 0;    ///< "foreground_mean" Dice: the mean of meanDice
};

/// The summary of `cases` for labels or regions named by `keys`, the cases listed (and their means added up) in
/// nnU-Net's order: by the prediction file's name, without its folder.
/// Throws Error(Internal) when a case has another number of counts than keys.
NnUNetSummary nnunetSummary(const std::vector<std::string>& keys, const std::vector<NnUNetCaseCounts>& cases);

/// A summary.json's text parsed, its NaN values (Python's) read as null; a discarded value when it is not JSON.
nlohmann::json parseNnUNetSummary(std::string text);

/// `j` as nnU-Net's save_json writes it (json.dump(indent=4, sort_keys=True)): null (voxseg's NaN) as NaN, non-ASCII
/// as \uXXXX, no newline at the end.
std::string pythonJsonText(const nlohmann::json& j);

/// numpy's sum of float64 values (np.add.reduce's pairwise summation): the order nnU-Net's means add in.
double numpySum(const std::vector<double>& values);

} // namespace voxseg::evaluation
