#include "voxseg/rendering/Charts.h"

#include "PngOutput.h"

#include "voxseg/core/Error.h"
#include "voxseg/rendering/Display.h"

#include <vtkAxis.h>
#include <vtkChartBox.h>
#include <vtkChartXY.h>
#include <vtkContextScene.h>
#include <vtkContextView.h>
#include <vtkDoubleArray.h>
#include <vtkNew.h>
#include <vtkPen.h>
#include <vtkPlot.h>
#include <vtkPlotBox.h>
#include <vtkRenderWindow.h>
#include <vtkRenderer.h>
#include <vtkStringArray.h>
#include <vtkTable.h>
#include <vtkTextProperty.h>

#include <cmath>

namespace voxseg::rendering {
namespace {

vtkNew<vtkContextView> makeView(const ChartOptions& options) {
  ensureDisplay();
  vtkNew<vtkContextView> view;
  view->GetRenderer()->SetBackground(1.0, 1.0, 1.0);
  view->GetRenderWindow()->SetOffScreenRendering(1);
  view->GetRenderWindow()->SetSize(options.width, options.height);
  return view;
}

} // namespace

void writeBoxPlotPng(const std::vector<Box>& boxes, const ChartOptions& options, const std::string& path,
                     bool overwrite) {
  vtkNew<vtkTable> table; // vtkPlotBox reads five rows per column: min, q1, median, q3, max
  std::vector<const Box*> kept;
  for (const auto& b : boxes)
    if (std::isfinite(b.min) && std::isfinite(b.q1) && std::isfinite(b.median) && std::isfinite(b.q3) &&
        std::isfinite(b.max))
      kept.push_back(&b);
  if (kept.empty()) throw usageError(path + ": no box with finite values to plot");
  for (const Box* b : kept) {
    vtkNew<vtkDoubleArray> column;
    column->SetName(b->name.c_str());
    for (double v : {b->min, b->q1, b->median, b->q3, b->max}) column->InsertNextValue(v);
    table->AddColumn(column);
  }
  auto view = makeView(options);
  vtkNew<vtkChartBox> chart;
  view->GetScene()->AddItem(chart);
  chart->GetPlot(0)->SetInputData(table);
  chart->SetColumnVisibilityAll(true);
  chart->SetTitle(options.title);
  chart->GetTitleProperties()->SetFontSize(16);
  chart->GetYAxis()->SetTitle(options.yTitle);
  auto* plot = vtkPlotBox::SafeDownCast(chart->GetPlot(0));
  vtkNew<vtkStringArray> names; // drawn under each box
  for (const Box* b : kept) names->InsertNextValue(b->name);
  plot->SetLabels(names);
  plot->GetTitleProperties()->SetFontSize(12);
  chart->SetShowLegend(true); // vtkChartBox draws the column labels as its legend, under the boxes
  for (const Box* b : kept) {
    double rgb[3] = {b->color[0] / 255.0, b->color[1] / 255.0, b->color[2] / 255.0};
    plot->SetColumnColor(b->name, rgb);
  }
  writeViewPng(view->GetRenderWindow(), path, overwrite);
}

void writeLineChartPng(const std::vector<double>& x, const std::vector<Series>& series, const std::string& xTitle,
                       const ChartOptions& options, const std::string& path, bool overwrite) {
  if (x.empty() || series.empty()) throw usageError(path + ": nothing to plot");
  vtkNew<vtkTable> table;
  vtkNew<vtkDoubleArray> xs;
  xs->SetName(xTitle.c_str());
  for (double v : x) xs->InsertNextValue(v);
  table->AddColumn(xs);
  for (const auto& s : series) {
    if (s.y.size() != x.size()) throw usageError(path + ": series '" + s.name + "' has a different length");
    vtkNew<vtkDoubleArray> ys;
    ys->SetName(s.name.c_str());
    for (double v : s.y) ys->InsertNextValue(v);
    table->AddColumn(ys);
  }
  auto view = makeView(options);
  vtkNew<vtkChartXY> chart;
  view->GetScene()->AddItem(chart);
  chart->SetTitle(options.title);
  chart->SetShowLegend(series.size() > 1);
  chart->GetAxis(vtkAxis::BOTTOM)->SetTitle(xTitle);
  chart->GetAxis(vtkAxis::LEFT)->SetTitle(options.yTitle);
  for (std::size_t i = 0; i < series.size(); ++i) {
    vtkPlot* line = chart->AddPlot(vtkChart::LINE);
    line->SetInputData(table, 0, static_cast<vtkIdType>(i + 1));
    line->SetColor(static_cast<unsigned char>(series[i].color[0]), static_cast<unsigned char>(series[i].color[1]),
                   static_cast<unsigned char>(series[i].color[2]), 255);
    line->SetWidth(2.0);
  }
  writeViewPng(view->GetRenderWindow(), path, overwrite);
}

} // namespace voxseg::rendering
