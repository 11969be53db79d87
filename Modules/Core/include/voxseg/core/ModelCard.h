#pragma once
// The model card: everything needed to run a segmentation network as it was trained
// (Documentation/model-card.md). Parsed from JSON, every field validated; an error names the field.

#include <nlohmann/json_fwd.hpp>

#include <array>
#include <optional>
#include <string>
#include <vector>

namespace voxseg {

/// How the network's input arrays are ordered: MONAI/nibabel feed (x, y, z), nnU-Net/SimpleITK (z, y, x).
enum class AxisOrder { XYZ, ZYX };

struct Normalization {
  enum class Type { None, ZScore, CT, Rescale };
  Type type = Type::None;
  // ZScore: mean/std of the image itself unless both are given (then fixed).
  // CT: clip to [lower, upper], then (x - mean) / max(std, 1e-8) with the dataset statistics.
  // Rescale: (x - lower) / (upper - lower), clipped to [0, 1] when clip is set.
  std::optional<double> mean, std;
  std::optional<double> lower, upper;
  bool clip = false;
};

struct InputChannel {
  std::string name;
  std::string modality; ///< e.g. "CT", "T1", "T2", "FLAIR"
  Normalization normalization;
};

/// A coded concept: DICOM code triplet (e.g. SNOMED CT "10200004", "SCT", "Liver").
struct Code {
  std::string value, scheme, meaning;
};

struct LabelInfo {
  int value = 0;
  std::string name;
  std::array<int, 3> color{0, 0, 0};
  std::optional<Code> category; ///< DICOM SEG SegmentedPropertyCategoryCodeSequence
  std::optional<Code> type;     ///< DICOM SEG SegmentedPropertyTypeCodeSequence
};

struct Tiling {
  enum class Rule { NnUNet, Monai };
  Rule rule = Rule::NnUNet;
  double step = 0.5;    ///< nnU-Net: step as a fraction of the patch
  double overlap = 0.5; ///< MONAI: overlap fraction
};

struct ImportanceMap {
  enum class Type { Constant, GaussianNnUNet, GaussianMonai };
  Type type = Type::GaussianNnUNet;
  double sigmaScale = 0.125; ///< sigma = sigmaScale * patch size (both flavours)
};

/// Region-based output (nnU-Net regions): channel i is a sigmoid for region i; a voxel gets the
/// label of the last region (in this order) whose probability exceeds 0.5.
struct Region {
  std::string name;
  int label = 0; ///< label value written where this region wins
};

/// Label-map clean-up after argmax.
struct Postprocessing {
  std::vector<int> keepLargestComponent; ///< these labels keep only their largest connected component
};

struct ModelCard {
  std::string name;
  std::string version;
  std::string description;
  std::string task;
  AxisOrder axisOrder = AxisOrder::ZYX;
  std::vector<InputChannel> channels;
  std::optional<std::array<double, 3>> spacing; ///< in axisOrder; empty = use the input's spacing
  std::string orientation = "keep";             ///< "keep" or a code such as "RAS" to reorient to first
  std::array<int, 3> patchSize{0, 0, 0};        ///< in axisOrder
  Tiling tiling;
  ImportanceMap importance;
  std::string accumulation = "float32"; ///< "float32", or "float16" as nnU-Net accumulates
  std::vector<int> mirrorAxes;          ///< test-time mirroring axes, in axisOrder (0..2)
  int swBatch = 1;
  std::vector<LabelInfo> labels; ///< softmax output: channel i -> labels[i]
  std::vector<Region> regions;   ///< when set: sigmoid outputs, one per region
  Postprocessing postprocessing;

  /// Output channels the network must produce.
  int outputChannels() const { return static_cast<int>(regions.empty() ? labels.size() : regions.size()); }
  const LabelInfo* findLabel(int value) const;
};

/// Parses and validates a card; throws Error(Model) "model card <source>: <field>: <problem>".
ModelCard parseModelCard(const std::string& jsonText, const std::string& source);
ModelCard modelCardFromJson(const nlohmann::json& j, const std::string& source);
nlohmann::json modelCardToJson(const ModelCard& card);

std::string axisOrderName(AxisOrder order);

} // namespace voxseg
