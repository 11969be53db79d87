#pragma once
// DICOM folders: which series they hold, and whether a series' slices make a regular grid.

#include "voxseg/core/Geometry.h"

#include <array>
#include <string>
#include <vector>

namespace voxseg::io {

/// What to do with a series whose slice positions are not evenly spaced (or have gaps).
enum class SliceSpacingPolicy {
  Error,   ///< refuse (default): the grid would be wrong
  Accept,  ///< keep the slices, spacing = (last - first) / (n - 1), with a warning
  Resample ///< linear interpolation onto an even grid at the median spacing (float output)
};
SliceSpacingPolicy parseSliceSpacingPolicy(const std::string& name); ///< error|accept|resample

struct DicomSeriesInfo {
  /// SeriesInstanceUID; files whose UID is blank are grouped by study, series number,
  /// description, size and orientation and named "noUID.1", "noUID.2", ... (uidMissing set).
  std::string seriesUid;
  bool uidMissing = false;
  std::string studyUid;
  std::string modality;
  std::string description;
  std::string seriesNumber;
  std::string sopClassUid;
  unsigned rows = 0;
  unsigned columns = 0;
  unsigned frames = 0;                  ///< NumberOfFrames of a single multi-frame file, else 0
  std::array<double, 2> pixelSpacing{}; ///< PixelSpacing (rows, columns) of the stack's first file; 0 unknown
  std::vector<std::string> files;       ///< sorted along the slice normal (ascending)
  std::vector<double> slicePositions;   ///< position along the normal of each file, mm
  bool positionsKnown = false;          ///< every file has ImagePositionPatient and one orientation
  Vec3 rowCosine{1, 0, 0};
  Vec3 columnCosine{0, 1, 0};
  std::vector<Vec3> positions;     ///< ImagePositionPatient of each sorted file
  unsigned localizersSetAside = 0; ///< LOCALIZER images of the series left out of the stack
  std::string stackProblem;        ///< why the slices cannot be stacked (positionsKnown false)
  std::string fileProblem;         ///< slices of different sizes, or a file shorter than its pixel data
  /// RescaleSlope/Intercept differ between the files (Philips MR, PET): the series is read into a voxel type
  /// that holds every slice's values, int32, or float64 when rescaleFractional.
  bool rescaleVaries = false;
  bool rescaleFractional = false; ///< a slope or intercept is not an integer, or the values exceed int32
};

/// Every DICOM image series below `folder` (recursively), largest first. Non-DICOM files are
/// ignored. Throws Error(Input) when the folder does not exist or holds no DICOM image.
std::vector<DicomSeriesInfo> scanDicomFolder(const std::string& folder);

/// The series named by uid, or the only one; uid "largest" picks the axial (slice normal within 37
/// degrees of z) CT or MR series with the most slices. Throws Error(Input) listing the series otherwise.
const DicomSeriesInfo& selectSeries(const std::vector<DicomSeriesInfo>& series, const std::string& uid,
                                    const std::string& folder);

struct SliceSpacingCheck {
  double medianSpacing = 0;
  double meanSpacing = 0; ///< (last - first) / (n - 1)
  bool uniform = true;
  int missingSlices = 0;   ///< estimated slices missing from gaps
  double maxDeviation = 0; ///< largest |gap - median|, mm
  double tiltDegrees = 0;  ///< angle between the stacking direction and the slice normal
  std::string problem;     ///< empty when the grid is regular
  /// A slice whose corner lies off the line through the first and last slices' corners (shifted in its plane) by
  /// more than half a pixel (0.01 mm at least; 0.5 mm without PixelSpacing): offLine mm; no spacing policy reads
  /// such a stack.
  double offLine = 0;
  std::string gridProblem;
};

/// True when a DICOM file states where it lies in the patient: ImageOrientationPatient at top
/// level, or a PlaneOrientationSequence in the shared/per-frame functional groups (enhanced).
bool hasPatientGeometry(const std::string& file);

/// Routes GDCM's own warnings to stderr (on) or drops them (off, the default): voxseg reports
/// the problems it acts on in its own words.
void setDicomLibraryMessages(bool on);

/// Checks that the sorted slice positions form an even grid along the slice normal.
SliceSpacingCheck checkSliceSpacing(const DicomSeriesInfo& series);

} // namespace voxseg::io
