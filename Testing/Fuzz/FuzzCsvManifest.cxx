// libFuzzer target: batch manifests (`voxseg segment --batch cases.csv`), read by the CLI's listBatch
// with one and two channels. Paths in a manifest are not opened by listBatch; case ids that could steer
// outputs (separators, '..', control characters) must be refused with voxseg::Error.
#include "Batch.h"
#include "FuzzSupport.h"
#include "voxseg/core/Error.h"

#include <algorithm>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string path = voxseg::fuzz::writeScratch("cases.csv", data, size);
  for (const std::size_t channels : {1u, 2u}) {
    try {
      for (const auto& c : voxseg::cli::listBatch(path, channels)) {
        const bool unsafe =
            c.id.empty() || c.id == "." || c.id == ".." || c.id.find_first_of("/\\") != std::string::npos ||
            std::any_of(c.id.begin(), c.id.end(), [](unsigned char ch) { return ch < 0x20 || ch == 0x7f; });
        if (c.problem.empty() && unsafe) {
          __builtin_trap(); // an id that could write outside the output folder got through
        }
      }
    } catch (const voxseg::Error&) {
    }
  }
  return 0;
}
