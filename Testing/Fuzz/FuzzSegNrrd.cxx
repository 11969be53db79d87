// libFuzzer target: Slicer .seg.nrrd segment metadata (voxseg::io::readSegNrrdSegments), the header a
// user's segmentation file brings. Errors are voxseg::Error; anything else is a finding.
#include "FuzzSupport.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/SegmentationFiles.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = voxseg::fuzz::writeScratch("case.seg.nrrd", data, size);
  try {
    (void)voxseg::io::readSegNrrdSegments(path);
  } catch (const voxseg::Error&) {
  }
  return 0;
}
