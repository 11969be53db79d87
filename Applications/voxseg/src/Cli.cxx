#include "Cli.h"

#include "Commands.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"
#include "voxseg/core/Version.h"
#include "voxseg/io/AtomicOutput.h"

#include <CLI/CLI.hpp>
#include <itkObject.h>
#include <itkVersion.h>

#include <ostream>

namespace voxseg::cli {
namespace {

void addReadOptions(CLI::App& cmd, io::ReadOptions& read, std::string& nonUniform) {
  cmd.add_option("--series", read.seriesUid, "DICOM folder: SeriesInstanceUID of the series to read");
  cmd.add_option("--nonuniform", nonUniform,
                 "DICOM slices not evenly spaced or missing: error (default), accept (mean spacing), resample")
      ->check(CLI::IsMember({"error", "accept", "resample"}));
  cmd.add_option("--max-voxels", read.maxVoxels, "refuse volumes with more voxels than this")->capture_default_str();
}

std::string versionText() {
  return std::string("voxseg ") + versionString() + " (ITK " + itk::Version::GetITKVersion() + ")";
}

} // namespace

int main(int argc, char** argv, std::ostream& out, std::ostream& err) {
  CLI::App app{"voxseg: 3D medical image segmentation toolkit", "voxseg"};
  app.set_version_flag("--version", versionText());
  app.require_subcommand(1);
  bool verbose = false, quiet = false;
  app.add_flag("-v,--verbose", verbose, "more messages on stderr");
  app.add_flag("-q,--quiet", quiet, "only errors on stderr");
  app.footer("Exit codes: 0 ok, 1 internal error, 2 usage, 3 bad input, 4 output not written, "
             "5 model error, 130 interrupted.");

  InfoArgs info;
  std::string infoNonUniform = "error";
  auto* infoCmd = app.add_subcommand("info", "Show size, spacing, origin, direction, orientation, pixel type and "
                                             "intensity range of a volume, or the series of a DICOM folder");
  infoCmd->add_option("input", info.input, "volume file (.nii, .nii.gz, .nrrd, .mha, .mhd, .dcm) or DICOM folder")
      ->required();
  infoCmd->add_flag("--json", info.json, "print JSON instead of text");
  addReadOptions(*infoCmd, info.read, infoNonUniform);

  ConvertArgs conv;
  std::string convNonUniform = "error";
  auto* convCmd = app.add_subcommand("convert", "Convert a volume or DICOM series to NIfTI/NRRD/MHA, optionally "
                                                "reoriented losslessly (axis permutation and flips)");
  convCmd->add_option("input", conv.input, "volume file or DICOM folder")->required();
  convCmd->add_option("output", conv.output, "output file: .nii.gz, .nii, .nrrd or .mha")->required();
  convCmd->add_option("--orient", conv.orient, "target orientation code, e.g. RAS, LPS, PIR (closest axes)");
  convCmd->add_flag("-f,--force", conv.force, "overwrite an existing output file");
  addReadOptions(*convCmd, conv.read, convNonUniform);

  try {
    app.parse(argc, argv);
  } catch (const CLI::ParseError& e) {
    const int code = app.exit(e, out, err);
    return code == 0 ? 0 : static_cast<int>(ExitCode::Usage);
  }

  io::installInterruptCleanup();
  initLogging(quiet ? Verbosity::Quiet : verbose ? Verbosity::Verbose : Verbosity::Normal);
  itk::Object::SetGlobalWarningDisplay(verbose);
  try {
    if (infoCmd->parsed()) {
      info.read.nonUniform = io::parseSliceSpacingPolicy(infoNonUniform);
      return runInfo(info, out);
    }
    if (convCmd->parsed()) {
      conv.read.nonUniform = io::parseSliceSpacingPolicy(convNonUniform);
      return runConvert(conv);
    }
  } catch (const Error& e) {
    err << "voxseg: error: " << e.what() << "\n";
    return static_cast<int>(e.code());
  } catch (const std::bad_alloc&) {
    err << "voxseg: error: out of memory\n";
    return static_cast<int>(ExitCode::Internal);
  } catch (const std::exception& e) {
    err << "voxseg: internal error: " << e.what() << "\n";
    return static_cast<int>(ExitCode::Internal);
  }
  return static_cast<int>(ExitCode::Usage);
}

} // namespace voxseg::cli
