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

/// At most `maxChars` characters of the UTF-8 `text`, cut between characters (DICOM limits LO, SH and the
/// like in characters, not bytes).
std::string utf8Prefix(const std::string& text, std::size_t maxChars);

/// Free text of a DICOM file in UTF-8: converted from `characterSet` (the Specific Character Set's value,
/// DCMTK through iconv); returned as it is when it is ASCII or cannot be converted.
std::string textToUtf8(const std::string& text, const std::string& characterSet);

/// voxseg's own text (label names, descriptions) is UTF-8. Before an object that holds some of it that is not
/// ASCII takes text over from a source image (`dataset`, loaded from `sourceFile`), the source's text is
/// converted to UTF-8 (Specific Character Set ISO_IR 192). Does nothing when `ownText` is all ASCII. Throws
/// Error(Input) naming `sourceFile` (and `outputPath`) when the source's text cannot be converted (8-bit text
/// without a Specific Character Set, or a set iconv does not know).
void sourceTextToUtf8(DcmItem& dataset, const std::vector<std::string>& ownText, const std::string& sourceFile,
                      const std::string& outputPath);

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
