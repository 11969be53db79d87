#pragma once
// A self-contained HTML review page for one case: pictures embedded (base64 PNG), the label table
// (name, color swatch, volume, components) and, when a reference was given, evaluation metrics.

#include <array>
#include <string>
#include <utility>
#include <vector>

namespace voxseg::rendering {

struct ReviewLabel {
  int label = 0;
  std::string name;
  std::array<int, 3> color{0, 0, 0};
  double ml = 0;
  std::size_t components = 0;
  double surfaceMl = -1; ///< enclosed volume of the rendered surface; < 0: not rendered
};

struct ReviewPage {
  std::string title;
  std::vector<std::pair<std::string, std::string>> facts;  ///< (name, value): inputs, model, date...
  std::vector<std::pair<std::string, std::string>> images; ///< (caption, PNG path), embedded
  std::vector<ReviewLabel> labels;
  std::vector<std::string> metricColumns;                 ///< e.g. "Dice", "HD95 (mm)"
  std::vector<std::vector<std::string>> metricRows;       ///< first cell: the label; formatted values
  std::vector<std::pair<std::string, std::string>> files; ///< (caption, relative path): links
};

/// Writes the page (atomic; `overwrite` as io::AtomicOutput). Throws Error(Input) naming an image that
/// cannot be read.
void writeReviewPage(const ReviewPage& page, const std::string& path, bool overwrite);

} // namespace voxseg::rendering
