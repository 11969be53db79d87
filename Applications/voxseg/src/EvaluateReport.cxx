#include "EvaluateReport.h"

#include "Batch.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/LabelColors.h"
#include "voxseg/io/AtomicOutput.h"
#include "voxseg/rendering/Charts.h"

#include <algorithm>
#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>

namespace voxseg::cli {
namespace {

template <class Fn> void writeText(const std::string& path, bool force, Fn&& fill) {
  io::AtomicOutput out(path, force);
  {
    std::ofstream f(out.tempPath());
    fill(f);
    if (!f.flush()) throw outputError(path, "write failed (disk full?)");
  }
  out.commit();
}

std::string nameOf(const std::vector<MetricRow>& rows, const std::vector<int>& labels) {
  for (const auto& r : rows)
    if (r.labels == labels) return r.labelName;
  return "";
}

std::string html(const std::string& s) {
  std::string o;
  for (char c : s)
    o += c == '<' ? "&lt;" : c == '>' ? "&gt;" : c == '&' ? "&amp;" : c == '"' ? "&quot;" : std::string(1, c);
  return o;
}

std::string fixed(double v, int digits = 4) {
  if (!std::isfinite(v)) return numberText(v);
  char b[64];
  std::snprintf(b, sizeof b, "%.*g", digits, v);
  return b;
}

// One horizontal box plot per label for one metric (whiskers at min/max of the finite values).
std::string boxPlotSvg(const std::string& metric, const LabelSummaries& s, const std::vector<MetricRow>& rows) {
  double lo = INFINITY, hi = -INFINITY;
  std::vector<std::pair<std::vector<int>, Summary>> boxes;
  for (const auto& [label, list] : s)
    for (const auto& [m, sum] : list)
      if (m == metric && sum.finite > 0) {
        boxes.emplace_back(label, sum);
        lo = std::min(lo, sum.min);
        hi = std::max(hi, sum.max);
      }
  if (boxes.empty()) return "<p>" + html(metric) + ": no finite values</p>";
  if (hi == lo) hi = lo + 1;
  const int left = 140, width = 520, rowH = 28, top = 30;
  const int height = top + rowH * int(boxes.size()) + 30;
  auto x = [&](double v) { return left + (v - lo) / (hi - lo) * width; };
  std::ostringstream o;
  o << "<svg xmlns='http://www.w3.org/2000/svg' width='" << left + width + 30 << "' height='" << height
    << "' font-family='sans-serif' font-size='12'><text x='4' y='16' font-weight='bold'>" << html(metric) << "</text>";
  int i = 0;
  for (const auto& [label, b] : boxes) {
    const int y = top + rowH * i++;
    const std::string name = nameOf(rows, label);
    o << "<text x='4' y='" << y + 17 << "'>" << targetText(label) << (name.empty() ? "" : " " + html(name))
      << " (n=" << b.finite << ")</text>";
    o << "<line x1='" << x(b.min) << "' x2='" << x(b.max) << "' y1='" << y + 13 << "' y2='" << y + 13
      << "' stroke='#555'/>";
    o << "<rect x='" << x(b.q1) << "' y='" << y + 4 << "' width='" << std::max(1.0, x(b.q3) - x(b.q1))
      << "' height='18' fill='#9ecae1' stroke='#3182bd'/>";
    o << "<line x1='" << x(b.median) << "' x2='" << x(b.median) << "' y1='" << y + 4 << "' y2='" << y + 22
      << "' stroke='#08306b' stroke-width='2'/>";
  }
  const int axisY = top + rowH * int(boxes.size()) + 4;
  o << "<line x1='" << left << "' x2='" << left + width << "' y1='" << axisY << "' y2='" << axisY
    << "' stroke='black'/><text x='" << left << "' y='" << axisY + 16 << "'>" << fixed(lo) << "</text><text x='"
    << left + width << "' y='" << axisY + 16 << "' text-anchor='end'>" << fixed(hi) << "</text></svg>";
  return o.str();
}

} // namespace

std::string numberText(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char b[40];
  if (v == std::floor(v) && std::fabs(v) < 1e15) { // integers (counts) without an exponent
    std::snprintf(b, sizeof b, "%.0f", v);
    return b;
  }
  std::snprintf(b, sizeof b, "%.17g", v);
  for (int p = 1; p < 17; ++p) { // shortest text that reads back as the same double
    char s[40];
    std::snprintf(s, sizeof s, "%.*g", p, v);
    if (std::strtod(s, nullptr) == v) return s;
  }
  return b;
}

void writeMetricsCsv(const std::vector<MetricRow>& rows, const std::string& path, bool force) {
  writeText(path, force, [&](std::ostream& f) {
    f << "case,label,name";
    if (!rows.empty())
      for (const auto& [m, v] : rows.front().metrics) f << "," << m;
    f << "\n";
    for (const auto& r : rows) {
      f << csvField(r.caseId) << "," << targetText(r.labels) << "," << csvField(r.labelName);
      for (const auto& [m, v] : r.metrics) f << "," << numberText(v);
      f << "\n";
    }
  });
}

LabelSummaries summarizeRows(const std::vector<MetricRow>& rows) {
  std::map<std::vector<int>, std::vector<std::pair<std::string, std::vector<double>>>> values;
  for (const auto& r : rows) {
    auto& list = values[r.labels];
    for (const auto& [m, v] : r.metrics) {
      auto it = std::find_if(list.begin(), list.end(), [&](const auto& p) { return p.first == m; });
      if (it == list.end()) {
        list.emplace_back(m, std::vector<double>{});
        it = list.end() - 1;
      }
      it->second.push_back(v);
    }
  }
  LabelSummaries out;
  for (const auto& [label, list] : values)
    for (const auto& [m, v] : list) out[label].emplace_back(m, summarize(v));
  return out;
}

void writeSummaryCsv(const LabelSummaries& s, const std::vector<MetricRow>& rows, const std::string& path, bool force) {
  writeText(path, force, [&](std::ostream& f) {
    f << "label,name,metric,cases,finite,nan,inf,mean,std,median,q1,q3,min,max\n";
    for (const auto& [label, list] : s)
      for (const auto& [m, x] : list)
        f << targetText(label) << "," << csvField(nameOf(rows, label)) << "," << m << "," << x.cases << "," << x.finite
          << "," << x.nan << "," << x.inf << "," << numberText(x.mean) << "," << numberText(x.std) << ","
          << numberText(x.median) << "," << numberText(x.q1) << "," << numberText(x.q3) << "," << numberText(x.min)
          << "," << numberText(x.max) << "\n";
  });
}

void writeHtmlReport(const std::vector<MetricRow>& rows, const LabelSummaries& s,
                     const std::vector<std::string>& plotted, const std::string& title, const std::string& path,
                     bool force, const std::vector<std::pair<std::string, std::string>>& failed) {
  writeText(path, force, [&](std::ostream& f) {
    f << "<!DOCTYPE html><html><head><meta charset='utf-8'><title>" << html(title)
      << "</title><style>body{font-family:sans-serif;margin:2em}table{border-collapse:collapse}"
         "td,th{border:1px solid #ccc;padding:2px 6px;text-align:right}</style></head><body><h1>"
      << html(title) << "</h1>";
    std::size_t cases = 0;
    {
      std::vector<std::string> ids;
      for (const auto& r : rows)
        if (std::find(ids.begin(), ids.end(), r.caseId) == ids.end()) ids.push_back(r.caseId);
      cases = ids.size();
    }
    f << "<p>" << cases << " case(s) evaluated";
    if (!failed.empty()) f << ", <b style='color:#b00'>" << failed.size() << " not evaluated (listed below)</b>";
    f << ". Statistics use the finite values only; NaN (e.g. a label absent from both "
         "maps) and inf (e.g. a surface distance to an empty mask) are counted in their own columns.</p>";
    if (!failed.empty()) {
      f << "<h2>Not evaluated</h2><table><tr><th>case</th><th>problem</th></tr>";
      for (const auto& [id, why] : failed)
        f << "<tr><td>" << html(id) << "</td><td style='text-align:left'>" << html(why) << "</td></tr>";
      f << "</table>";
    }
    for (const auto& m : plotted) f << boxPlotSvg(m, s, rows);
    f << "<h2>Per label</h2><table><tr><th>label</th><th>metric</th><th>n</th><th>nan</th><th>inf</th><th>mean</th>"
         "<th>std</th><th>median</th><th>IQR</th></tr>";
    for (const auto& [label, list] : s)
      for (const auto& [m, x] : list)
        f << "<tr><td>" << targetText(label) << " " << html(nameOf(rows, label)) << "</td><td style='text-align:left'>"
          << html(m) << "</td><td>" << x.finite << "</td><td>" << x.nan << "</td><td>" << x.inf << "</td><td>"
          << fixed(x.mean) << "</td><td>" << fixed(x.std) << "</td><td>" << fixed(x.median) << "</td><td>"
          << fixed(x.q1) << " - " << fixed(x.q3) << "</td></tr>";
    f << "</table></body></html>\n";
  });
}

std::string boxPlotFileName(const std::string& metric) {
  std::string name = metric;
  std::replace(name.begin(), name.end(), '.', '_');
  return "boxplot_" + name + ".png";
}

void writeBoxPlotPngs(const LabelSummaries& s, const std::vector<MetricRow>& rows,
                      const std::vector<std::string>& plotted, const std::vector<LabelInfo>& labels,
                      const std::string& dir, bool force) {
  std::set<std::string> caseIds;
  for (const auto& r : rows) caseIds.insert(r.caseId);
  const std::size_t cases = caseIds.size(); // a box has each label's finite values, at most this many
  for (const auto& metric : plotted) {
    std::vector<rendering::Box> boxes;
    for (const auto& [label, list] : s)
      for (const auto& [m, sum] : list) {
        if (m != metric || sum.finite == 0) continue;
        const std::string name = nameOf(rows, label);
        rendering::Box b{targetText(label) + (name.empty() ? "" : " " + name),
                         sum.min,
                         sum.q1,
                         sum.median,
                         sum.q3,
                         sum.max,
                         defaultLabelColor(label.front())}; // a region: its first label's (nested regions differ)
        for (const auto& l : labels)
          if (label == std::vector<int>{l.value} && l.color != std::array<int, 3>{0, 0, 0}) b.color = l.color;
        boxes.push_back(b);
      }
    if (boxes.empty()) continue;
    rendering::ChartOptions opt;
    opt.title = metric + " per label (" + std::to_string(cases) + (cases == 1 ? " case)" : " cases)");
    opt.yTitle = metric;
    opt.width = std::max(480, 90 * int(boxes.size()) + 160);
    writeBoxPlotPng(boxes, opt, (std::filesystem::path(dir) / boxPlotFileName(metric)).string(), force);
  }
}

} // namespace voxseg::cli
