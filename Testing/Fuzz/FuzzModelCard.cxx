// libFuzzer target: model card JSON (voxseg::parseModelCard). Any input either parses into a card or
// throws voxseg::Error; crashes, hangs and sanitizer reports are findings.
#include "voxseg/core/Error.h"
#include "voxseg/core/ModelCard.h"

#include <cstddef>
#include <cstdint>
#include <string>

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  try {
    const voxseg::ModelCard card =
        voxseg::parseModelCard(std::string(reinterpret_cast<const char*>(data), size), "card.json");
    (void)card;
  } catch (const voxseg::Error&) {
  }
  return 0;
}
