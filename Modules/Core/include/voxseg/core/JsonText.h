#pragma once
// JSON text that never throws on the strings put into it: a path in a Latin-1 folder or a DICOM tag in another
// character set is not UTF-8, and nlohmann::json's dump() would throw type_error.316 after other outputs were
// written. Such bytes become U+FFFD (the replacement character).

#include <string>

namespace voxseg {

/// `j.dump(indent)`, with bytes that are not UTF-8 replaced by U+FFFD. J: nlohmann::json or ordered_json.
template <typename J> std::string jsonText(const J& j, int indent = -1) {
  return j.dump(indent, ' ', false, J::error_handler_t::replace);
}

} // namespace voxseg
