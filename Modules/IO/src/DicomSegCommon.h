#pragma once
// Private helpers shared by the DICOM SEG reader and writer.

#include <dcmtk/ofstd/ofstring.h>

namespace voxseg::io::detail {

/// DCMTK logs its own warnings to stderr; voxseg reports problems in its own words.
void quietDcmtk();

/// A new UID under DCMTK's site root.
OFString newUid();

} // namespace voxseg::io::detail
