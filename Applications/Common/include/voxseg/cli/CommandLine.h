#pragma once
// What the voxseg and VoxsegSegment executables share on their way from the command line to an exit code:
// CLI11's parse errors and the exceptions of a run mapped to Documentation/exit-codes.md, with one-line messages
// on stderr. Header-only, Core and CLI11 only (VoxsegSegment links no more for it).

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"

#include <CLI/CLI.hpp>

#include <algorithm>
#include <exception>
#include <filesystem>
#include <new>
#include <optional>
#include <ostream>
#include <string>
#include <utility>

namespace voxseg::cli {

/// Parses the command line into `app`. Returns nothing when the program goes on, else the exit code to return at
/// once: 0 after CLI11 printed the help or the version; ExitCode::Usage after a usage error, reported as every
/// error is: one line "voxseg: error: <problem> (<command> --help lists the options)", or a JSON log record
/// when --log-json is on the command line. A first word that is no subcommand is named as such; a word that starts
/// with '-' and names a file gets a hint to write it as ./<word>.
inline std::optional<int> parseCommandLine(CLI::App& app, int argc, char** argv, std::ostream& out, std::ostream& err) {
  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    std::string unknown; // the first word, when it names no subcommand
    const auto commands = app.get_subcommands([](CLI::App*) { return true; });
    if (app.get_subcommands().empty() && !commands.empty())
      for (int i = 1; i < argc; ++i) {
        const std::string word = argv[i];
        if (word.empty() || word[0] == '-') continue;
        if (std::none_of(commands.begin(), commands.end(), [&](CLI::App* c) { return c->check_name(word); }))
          unknown = word;
        break;
      }
    // `voxseg frobnicate --help` is refused like `voxseg frobnicate`, not answered with the top-level help
    if (e.get_exit_code() == static_cast<int>(CLI::ExitCodes::Success) && unknown.empty()) return app.exit(e, out, err);
    std::string problem = unknown.empty() ? e.what() : "unknown command '" + unknown + "'", command = app.get_name();
    for (int i = 1; i < argc && unknown.empty(); ++i) { // a file whose name starts with '-' was taken for options
      const std::string word = argv[i];
      std::error_code ec;
      if (word.size() > 1 && word[0] == '-' && word != "--" && std::filesystem::is_regular_file(word, ec)) {
        problem += "; '" + word + "' was read as options: give that file as ./" + word;
        break;
      }
    }
    for (const CLI::App* a = &app; !a->get_subcommands().empty();) {
      a = a->get_subcommands().front();
      command += " " + a->get_name();
    }
    const std::string message = problem + " (" + command + " --help lists the options)";
    bool json = false; // programs with a --log-json option (VoxsegSegment has none)
    for (int i = 1; i < argc && app.get_option_no_throw("--log-json"); ++i)
      json = json || std::string(argv[i]) == "--log-json";
    if (json) {
      initLogging(Verbosity::Normal, true);
      logError(message);
    } else {
      err << "voxseg: error: " << message << "\n";
    }
    return static_cast<int>(ExitCode::Usage);
  }
  return std::nullopt;
}

/// Returns what `run` returns; what it throws becomes a line on `err` and an exit code: a voxseg::Error
/// "voxseg: error: <message>" and its own code, running out of memory and any other exception ExitCode::Internal.
/// With `json` (--log-json) the line is a JSON log record of level "error" instead, like every other message. A usage
/// error about an option (its message starts with the option) ends "(<helpCommand> --help lists the options)" when
/// `helpCommand` is given, as the parser's own do.
template <typename Run>
int runReportingErrors(std::ostream& err, Run&& run, bool json = false, const std::string& helpCommand = {}) {
  const auto report = [&](const std::string& kind, const std::string& message, ExitCode code) {
    if (json)
      logError(kind == "error" ? message : kind + ": " + message);
    else
      err << "voxseg: " << kind << ": " << message << "\n";
    return static_cast<int>(code);
  };
  try {
    return std::forward<Run>(run)();
  } catch (const Error& e) {
    const std::string what = e.what();
    if (e.code() == ExitCode::Usage && !helpCommand.empty() && what.rfind("--", 0) == 0) // about an option's value
      return report("error", std::string(e.what()) + " (" + helpCommand + " --help lists the options)", e.code());
    return report("error", e.what(), e.code());
  } catch (const std::bad_alloc&) {
    return report("error", "out of memory", ExitCode::Internal);
  } catch (const std::exception& e) {
    return report("internal error", e.what(), ExitCode::Internal);
  }
}

} // namespace voxseg::cli
