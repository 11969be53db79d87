#pragma once
// The parts of `voxseg evaluate` around the metrics: which cases to compare (a pair, two folders, a
// CSV), which labels (values, or names through a label table / model), and dataset statistics.

#include "voxseg/core/ModelCard.h"

#include <cstddef>
#include <string>
#include <vector>

namespace voxseg::cli {

struct EvalCase {
  std::string id;
  std::string prediction, reference;
  std::string problem; ///< set when the case cannot be evaluated (reported, the others go on)
  int row = 0;         ///< --csv: its line
};

/// Two files -> one case; two folders -> cases matched by file name without the volume extension
/// (a prediction without reference, or the reverse, is a case with a problem); a CSV with a header
/// and columns case, prediction, reference (relative paths relative to the CSV). An nnU-Net trained-model folder
/// as the prediction -> its cross-validation: every fold_N/validation's predictions (a reference no fold predicted
/// is left out, with a warning).
std::vector<EvalCase> listEvalCases(const std::string& prediction, const std::string& reference,
                                    const std::string& csv);

/// A region of an nnU-Net region-based dataset.json: a union of labels scored as one mask
/// ("whole_tumor": [1, 2, 3]).
struct LabelRegion {
  std::string name;
  std::vector<int> labels; ///< ascending
  std::string key;         ///< as nnU-Net's summary.json names it: the entry as listed, "(3, 1, 2)", "(3,)" or "3"
  std::vector<int> listed; ///< the labels as the entry lists them, each once
};

/// What `voxseg evaluate` scores: labels, each as {value}, and regions, each its labels ascending.
/// "1,2,liver,1+2,whole_tumor": values as given, names looked up in `table` then `regions` (case-sensitive),
/// '+' joining labels (or regions) into one region; a region of one label is that label. Throws usageError for
/// an unknown name, a bad value, the background, or an item (or a label within an item) given twice.
std::vector<std::vector<int>> selectTargets(const std::string& text, const std::vector<LabelInfo>& table,
                                            const std::vector<LabelRegion>& regions = {});

/// "3" for a label, "1+2+3" for a region.
std::string targetText(const std::vector<int>& labels);

/// What an nnU-Net dataset.json says beyond label names: a region-based dataset's regions (every foreground entry but
/// "ignore", in the file's order) and its ignore label.
struct DatasetLabelRules {
  std::vector<LabelRegion> regions;
  std::vector<int> foregroundLabels; ///< every label value but 0 and the ignore label, ascending (LabelManager's)
  int ignoreLabel = -1;              ///< "ignore": its value; -1: none
};

/// Labels for names: a model card JSON, a .ctbl / ITK-SNAP label file, or an nnU-Net dataset.json. A dataset.json's
/// regions and ignore label go to `rules`; without it the regions are named in a warning (a label map's values are
/// no region).
std::vector<LabelInfo> readLabelTable(const std::string& path, DatasetLabelRules* rules = nullptr);

/// Statistics of one metric over cases. NaN and infinite values are not part of mean/std/median/IQR:
/// they are counted apart (nan, inf), so that "how empty cases were treated" is explicit.
struct Summary {
  std::size_t cases = 0;  ///< values seen
  std::size_t finite = 0; ///< values behind the statistics
  std::size_t nan = 0, inf = 0;
  double mean = 0, std = 0, median = 0, q1 = 0, q3 = 0, min = 0, max = 0; ///< NaN when finite == 0
};
/// std is the population standard deviation (numpy's default, ddof 0); quartiles interpolate
/// linearly between order statistics (numpy.percentile's default).
Summary summarize(const std::vector<double>& values);

} // namespace voxseg::cli
