#pragma once
// Private helpers shared by the DICOM SEG reader and writer and the RT Structure Set writer.

#include "voxseg/io/DicomSeries.h"
#include "voxseg/io/Volume.h"

#include <dcmtk/ofstd/ofstring.h>

#include <string>
#include <vector>

class DcmItem;
class DcmTagKey;

namespace voxseg::io::detail {

/// DCMTK logs its own warnings to stderr; voxseg reports problems in its own words.
void quietDcmtk();

/// A new UID under DCMTK's site root.
OFString newUid();

/// A DICOM decimal string (DS) value: at most 16 characters.
std::string decimalString(double v);

/// A string attribute (all values, backslash-separated), "" when absent.
std::string stringOf(DcmItem& item, const DcmTagKey& tag);

/// One source image of a derived object: the slice z of the label map lies on it.
struct SourceSlice {
  std::string file, sopInstanceUid, sopClassUid;
  Vec3 position{};
};

struct SourceSeries {
  DicomSeriesInfo info;
  std::vector<SourceSlice> slices; ///< by slice index of the label map
  std::string patientId, studyUid, frameOfReferenceUid;
};

/// The series in `folder` (seriesUid when it holds several) that the label map lies on, with the source
/// image of each of its slices. Throws Error(Input) naming the label map when it is not on that series'
/// grid (rows, columns, in-plane orientation, one source image per slice position), naming a source
/// file that lacks what `what` ("SEG", "RT Structure Set") must reference.
SourceSeries sourceSeriesOf(const Volume& labels, const std::string& folder, const std::string& seriesUid,
                            const std::string& what);

} // namespace voxseg::io::detail
