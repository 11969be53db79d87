#include "voxseg/core/Error.h"

namespace voxseg {

Error inputError(const std::string& path, const std::string& problem) {
  return Error(ExitCode::Input, path + ": " + problem);
}

Error outputError(const std::string& path, const std::string& problem) {
  return Error(ExitCode::Output, path + ": " + problem);
}

Error usageError(const std::string& problem) { return Error(ExitCode::Usage, problem); }

} // namespace voxseg
