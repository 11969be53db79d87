#pragma once
// VoxsegSegment, a 3D Slicer CLI module (Slicer Execution Model): parses the command line Slicer
// builds from VoxsegSegment.xml, segments the input volume with the pipeline API, reports progress
// with Slicer's <filter-progress> lines on stdout and maps errors to exit codes
// (Documentation/exit-codes.md).

#include <iosfwd>

namespace voxseg::slicer {

/// True when the arguments ask for the XML description (`--xml`), which is then printed before anything
/// else happens: Slicer runs every executable of a module folder with --xml and a 5 s timeout.
bool wantsXml(int argc, const char* const* argv);

/// Runs VoxsegSegment with these arguments, writing progress and results to out and errors to err.
int main(int argc, char** argv, std::ostream& out, std::ostream& err);

} // namespace voxseg::slicer
