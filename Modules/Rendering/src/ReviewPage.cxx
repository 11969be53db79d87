#include "voxseg/rendering/ReviewPage.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/AtomicOutput.h"

#include <vtkBase64Utilities.h>

#include <cstdio>
#include <fstream>
#include <iterator>
#include <sstream>

namespace voxseg::rendering {
namespace {

std::string html(const std::string& s) {
  std::string out;
  for (char c : s) {
    switch (c) {
    case '&': out += "&amp;"; break;
    case '<': out += "&lt;"; break;
    case '>': out += "&gt;"; break;
    case '"': out += "&quot;"; break;
    case '\'': out += "&#39;"; break;
    default: out += c;
    }
  }
  return out;
}

std::string base64File(const std::string& path) {
  std::ifstream in(io::OutputSet::contentPath(path), std::ios::binary); // a picture written in this case's set
  if (!in) throw inputError(path, "cannot be read (picture for the review page)");
  const std::string bytes((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  std::string out(bytes.size() / 3 * 4 + 8, '\0');
  const unsigned long n = vtkBase64Utilities::Encode(reinterpret_cast<const unsigned char*>(bytes.data()), bytes.size(),
                                                     reinterpret_cast<unsigned char*>(out.data()), 0);
  out.resize(n);
  return out;
}

std::string number(double v, const char* format) {
  char b[64];
  std::snprintf(b, sizeof b, format, v);
  return b;
}

} // namespace

void writeReviewPage(const ReviewPage& page, const std::string& path, bool overwrite) {
  std::ostringstream o;
  o << "<!DOCTYPE html>\n<html><head><meta charset='utf-8'><title>" << html(page.title) << "</title>\n"
    << "<style>body{font-family:sans-serif;margin:24px;color:#222}table{border-collapse:collapse;margin:8px 0}"
       "td,th{border:1px solid #ccc;padding:3px 8px;text-align:right}th{background:#f0f0f0}"
       "td.l,th.l{text-align:left}.sw{display:inline-block;width:14px;height:14px;border:1px solid #555;"
       "vertical-align:middle}figure{display:inline-block;margin:6px}figcaption{text-align:center}"
       "img{max-width:100%;border:1px solid #ddd}</style></head><body>\n";
  o << "<h1>" << html(page.title) << "</h1>\n";
  if (!page.facts.empty()) {
    o << "<table>";
    for (const auto& [k, v] : page.facts)
      o << "<tr><th class='l'>" << html(k) << "</th><td class='l'>" << html(v) << "</td></tr>";
    o << "</table>\n";
  }
  o << "<h2>Labels</h2>\n<table><tr><th>label</th><th class='l'>name</th><th>color</th><th>volume (ml)</th>"
       "<th>components</th><th>surface volume (ml)</th></tr>\n";
  for (const auto& l : page.labels) {
    const std::string rgb =
        "rgb(" + std::to_string(l.color[0]) + "," + std::to_string(l.color[1]) + "," + std::to_string(l.color[2]) + ")";
    o << "<tr><td>" << l.label << "</td><td class='l'>" << html(l.name)
      << "</td><td><span class='sw' style='background:" << rgb << "'></span></td><td>" << number(l.ml, "%.3f")
      << "</td><td>" << l.components << "</td><td>"
      << (l.surfaceMl >= 0 ? number(l.surfaceMl, "%.3f") : std::string("-")) << "</td></tr>\n";
  }
  o << "</table>\n";
  if (!page.metricColumns.empty()) {
    o << "<h2>Against the reference</h2>\n<table><tr><th>label</th>";
    for (const auto& c : page.metricColumns) o << "<th>" << html(c) << "</th>";
    o << "</tr>\n";
    for (const auto& r : page.metricRows) {
      o << "<tr>";
      for (const auto& cell : r) o << "<td>" << html(cell) << "</td>";
      o << "</tr>\n";
    }
    o << "</table>\n";
  }
  if (!page.images.empty()) {
    o << "<h2>Pictures</h2>\n";
    for (const auto& [caption, file] : page.images)
      o << "<figure><img alt='" << html(caption) << "' src='data:image/png;base64," << base64File(file)
        << "'><figcaption>" << html(caption) << "</figcaption></figure>\n";
  }
  if (!page.files.empty()) {
    o << "<h2>Files</h2>\n<ul>";
    for (const auto& [caption, file] : page.files)
      o << "<li><a href='" << html(file) << "'>" << html(caption) << "</a></li>";
    o << "</ul>\n";
  }
  o << "</body></html>\n";
  io::AtomicOutput out(path, overwrite);
  {
    std::ofstream f(out.tempPath());
    f << o.str();
    if (!f.flush()) throw Error(ExitCode::Output, path + ": cannot write the review page");
  }
  out.commit();
}

} // namespace voxseg::rendering
