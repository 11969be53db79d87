#pragma once
// The command line of the voxseg executable: builds the CLI11 app, dispatches, maps errors to
// exit codes (Documentation/exit-codes.md).

#include <iosfwd>

namespace voxseg::cli {

/// Runs voxseg with these arguments, writing results to out and messages to err.
int main(int argc, char** argv, std::ostream& out, std::ostream& err);

} // namespace voxseg::cli
