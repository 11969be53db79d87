// libFuzzer target: the pickle reader used for nnU-Net checkpoints (Modules/Inference/src/Pickle.cxx).
// Malformed input must end in std::runtime_error, never a crash, hang or unbounded allocation.
#include "Pickle.h"

#include <cstddef>
#include <cstdint>
#include <stdexcept>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const auto value = voxseg::inference::pickle::parse(std::string(reinterpret_cast<const char*>(data), size));
    if (value) {
      (void)value->get("network_weights");
    }
  } catch (const std::runtime_error&) {
  }
  return 0;
}
