#pragma once
// Errors and process exit codes. Every failure the user can cause is a voxseg::Error
// whose message names the file (or option) and the problem, in one line.

#include <stdexcept>
#include <string>

namespace voxseg {

/// Exit codes of every voxseg executable (Documentation/exit-codes.md).
enum class ExitCode : int {
  Ok = 0,
  Internal = 1,     ///< a bug or an unexpected library failure
  Usage = 2,        ///< bad command line: unknown option, missing argument, bad value
  Input = 3,        ///< an input file or folder is missing, unreadable or invalid
  Output = 4,       ///< an output cannot be written (exists without --force, unwritable, disk full)
  Model = 5,        ///< a model or model card is invalid or does not fit the input
  Interrupted = 130 ///< SIGINT/SIGTERM
};

class Error : public std::runtime_error {
public:
  Error(ExitCode code, const std::string& message) : std::runtime_error(message), code_(code) {}
  ExitCode code() const noexcept { return code_; }

private:
  ExitCode code_;
};

/// "<path>: <problem>" with ExitCode::Input.
Error inputError(const std::string& path, const std::string& problem);
/// "<path>: <problem>" with ExitCode::Output.
Error outputError(const std::string& path, const std::string& problem);
/// A command-line problem with ExitCode::Usage.
Error usageError(const std::string& problem);

} // namespace voxseg
