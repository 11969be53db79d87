#pragma once
// Tables, dataset statistics and the HTML summary of `voxseg evaluate`, from flat rows
// (case, label, metric -> value). Non-finite values are written as "nan" / "inf" / "-inf".

#include "EvaluateSupport.h"

#include <map>
#include <string>
#include <utility>
#include <vector>

namespace voxseg::cli {

struct MetricRow {
  std::string caseId;
  std::vector<int> labels; ///< the label, or a region's labels (ascending): targetText names it
  std::string labelName;
  std::vector<std::pair<std::string, double>> metrics; ///< in a stable order
};

/// "nan", "inf", "-inf" or the shortest round-trip decimal.
std::string numberText(double v);

/// Per-case per-label CSV: case,label,name,<metric>... (metrics in the order of the first row).
void writeMetricsCsv(const std::vector<MetricRow>& rows, const std::string& path, bool force);

/// Per label (or region) and metric: the Summary over cases. Keys sort as labels do; a region sorts after its
/// first label ({1}, {1, 2, 3}, {2}, {2, 3}, {3}).
using LabelSummaries = std::map<std::vector<int>, std::vector<std::pair<std::string, Summary>>>;
LabelSummaries summarizeRows(const std::vector<MetricRow>& rows);

/// Dataset CSV: label,name,metric,cases,finite,nan,inf,mean,std,median,q1,q3,min,max.
void writeSummaryCsv(const LabelSummaries& s, const std::vector<MetricRow>& rows, const std::string& path, bool force);

/// A self-contained HTML page: the dataset table and SVG box plots of `plotted` metrics per label, and the
/// cases that could not be evaluated (id, problem) in a table of their own, counted at the top.
void writeHtmlReport(const std::vector<MetricRow>& rows, const LabelSummaries& s,
                     const std::vector<std::string>& plotted, const std::string& title, const std::string& path,
                     bool force, const std::vector<std::pair<std::string, std::string>>& failed = {});

/// File name of a metric's box plot: "boxplot_<metric>.png", dots in the metric's name as '_'.
std::string boxPlotFileName(const std::string& metric);

/// One PNG per metric in `plotted`: a box per label across cases (quartiles of the finite values,
/// whiskers at min and max), colored as `labels` say (default colors otherwise). Needs an X server or
/// Xvfb (rendering::ensureDisplay); the paths were reserved before any work.
void writeBoxPlotPngs(const LabelSummaries& s, const std::vector<MetricRow>& rows,
                      const std::vector<std::string>& plotted, const std::vector<LabelInfo>& labels,
                      const std::string& dir, bool force);

} // namespace voxseg::cli
