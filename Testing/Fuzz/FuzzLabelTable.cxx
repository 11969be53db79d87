// libFuzzer target: label tables given with --label-table (Slicer .ctbl, ITK-SNAP descriptions, model
// cards, nnU-Net dataset.json), read by the CLI's readLabelTable.
#include "EvaluateSupport.h"
#include "FuzzSupport.h"
#include "voxseg/core/Error.h"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = voxseg::fuzz::writeScratch("labels.ctbl", data, size);
  try {
    (void)voxseg::cli::readLabelTable(path);
  } catch (const voxseg::Error&) {
  }
  return 0;
}
