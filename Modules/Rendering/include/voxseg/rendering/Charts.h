#pragma once
// Charts rendered to PNG with VTK's charts (vtkChartBox): box plots across cases, line charts.

#include <array>
#include <string>
#include <vector>

namespace voxseg::rendering {

/// One box: its five numbers (whiskers at min and max) and its color.
struct Box {
  std::string name;
  double min = 0, q1 = 0, median = 0, q3 = 0, max = 0;
  std::array<int, 3> color{128, 128, 128};
};

struct ChartOptions {
  std::string title;
  std::string yTitle;
  int width = 900, height = 500;
};

/// Writes box plots side by side as a PNG (through an atomic output; `overwrite` as io::AtomicOutput).
/// Boxes with a non-finite number are left out; throws Error(Usage) when none is left.
void writeBoxPlotPng(const std::vector<Box>& boxes, const ChartOptions& options, const std::string& path,
                     bool overwrite);

/// Line chart of one or more series over a shared x (e.g. a training curve), as a PNG.
struct Series {
  std::string name;
  std::vector<double> y;
  std::array<int, 3> color{31, 119, 180};
};
void writeLineChartPng(const std::vector<double>& x, const std::vector<Series>& series, const std::string& xTitle,
                       const ChartOptions& options, const std::string& path, bool overwrite);

} // namespace voxseg::rendering
