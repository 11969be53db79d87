#include "MultiFrame.h"

#include "voxseg/core/Error.h"

#include <dcmtk/dcmdata/dcdeftag.h>
#include <dcmtk/dcmdata/dcfilefo.h>
#include <dcmtk/dcmdata/dcitem.h>
#include <dcmtk/dcmdata/dcsequen.h>

#include <algorithm>
#include <cmath>

namespace voxseg::io::detail {
namespace {

// The item of functional group `group` (e.g. PlanePositionSequence) for one frame: its own, else the shared one.
DcmItem* groupItem(DcmItem* perFrame, DcmItem* shared, const DcmTagKey& group) {
  DcmItem* item = nullptr;
  if (perFrame && perFrame->findAndGetSequenceItem(group, item, 0).good() && item) return item;
  if (shared && shared->findAndGetSequenceItem(group, item, 0).good() && item) return item;
  return nullptr;
}

bool numbers(DcmItem* item, const DcmTagKey& tag, std::vector<double>& out, unsigned long count) {
  out.assign(count, 0.0);
  if (!item) return false;
  for (unsigned long i = 0; i < count; ++i) {
    Float64 v = 0;
    if (item->findAndGetFloat64(tag, v, i).bad() || !std::isfinite(v)) return false;
    out[i] = v;
  }
  return true;
}

} // namespace

MultiFrameLayout readMultiFrameLayout(const std::string& path) {
  DcmFileFormat file;
  if (file.loadFile(path.c_str(), EXS_Unknown, EGL_noChange, 256, ERM_autoDetect).bad())
    throw inputError(path, "cannot read the DICOM header");
  DcmDataset& d = *file.getDataset();
  MultiFrameLayout out;
  DcmItem* shared = nullptr;
  d.findAndGetSequenceItem(DCM_SharedFunctionalGroupsSequence, shared, 0);
  DcmSequenceOfItems* frames = nullptr;
  if (d.findAndGetSequence(DCM_PerFrameFunctionalGroupsSequence, frames).bad() || !frames) return out;
  std::vector<double> v, firstOrientation;
  std::size_t positioned = 0;
  double slope0 = 1, intercept0 = 0; // a top-level Modality LUT, for files that keep it there
  d.findAndGetFloat64(DCM_RescaleSlope, slope0);
  d.findAndGetFloat64(DCM_RescaleIntercept, intercept0);
  for (unsigned long f = 0; f < frames->card(); ++f) {
    DcmItem* frame = frames->getItem(f);
    if (numbers(groupItem(frame, shared, DCM_PlanePositionSequence), DCM_ImagePositionPatient, v, 3)) {
      out.positions.push_back({v[0], v[1], v[2]});
      ++positioned;
    }
    if (numbers(groupItem(frame, shared, DCM_PlaneOrientationSequence), DCM_ImageOrientationPatient, v, 6)) {
      if (firstOrientation.empty()) {
        firstOrientation = v;
        out.row = {v[0], v[1], v[2]};
        out.column = {v[3], v[4], v[5]};
      } else {
        for (int i = 0; i < 6; ++i)
          if (std::fabs(v[std::size_t(i)] - firstOrientation[std::size_t(i)]) >= 1e-4)
            out.problem = "frame " + std::to_string(f + 1) + " lies in another orientation than frame 1";
      }
    }
    if (numbers(groupItem(frame, shared, DCM_PixelMeasuresSequence), DCM_PixelSpacing, v, 2)) {
      if (f == 0) {
        out.rowSpacing = v[0];
        out.columnSpacing = v[1];
      } else if (std::fabs(v[0] - out.rowSpacing) > 1e-4 * std::max(out.rowSpacing, 1.0) ||
                 std::fabs(v[1] - out.columnSpacing) > 1e-4 * std::max(out.columnSpacing, 1.0)) {
        out.problem = "frame " + std::to_string(f + 1) + " has another PixelSpacing than frame 1";
      }
    }
    double slope = slope0, intercept = intercept0;
    if (DcmItem* t = groupItem(frame, shared, DCM_PixelValueTransformationSequence)) {
      Float64 s = 1, i = 0;
      if (t->findAndGetFloat64(DCM_RescaleSlope, s).good() && std::isfinite(s) && s != 0) slope = s;
      if (t->findAndGetFloat64(DCM_RescaleIntercept, i).good() && std::isfinite(i)) intercept = i;
    }
    out.slopes.push_back(slope);
    out.intercepts.push_back(intercept);
  }
  if (positioned != 0 && positioned != frames->card()) {
    out.problem = std::to_string(frames->card() - positioned) + " of " + std::to_string(frames->card()) +
                  " frames have no ImagePositionPatient";
    out.positions.clear();
  }
  return out;
}

} // namespace voxseg::io::detail
