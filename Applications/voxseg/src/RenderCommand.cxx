#include "Batch.h"
#include "Commands.h"
#include "EvaluateSupport.h"

#include "voxseg/core/Error.h"
#include "voxseg/io/SegmentationFiles.h"

#include <filesystem>
#include <sstream>

namespace voxseg::cli {

int runRender(const RenderArgs& args) {
  if (args.inputs.empty() || args.inputs.size() > 2) throw usageError("give [image] labels");
  RenderSettings s = args.settings;
  std::istringstream mosaic(args.mosaic);
  char x = 0;
  if (!(mosaic >> s.rows >> x >> s.columns) || x != 'x' || mosaic.peek() != EOF)
    throw usageError("--mosaic '" + args.mosaic + "': expected ROWSxCOLUMNS, e.g. 3x3");
  if (s.outputDir.empty()) throw usageError("give an output folder (-o)");
  if (std::filesystem::exists(s.outputDir) && !std::filesystem::is_directory(s.outputDir))
    throw Error(ExitCode::Output, s.outputDir + ": exists and is not a folder");
  checkRenderSettings(s);
  if (!args.reference.empty() && !s.review) // its metrics go to the review page only: computed, then dropped
    throw usageError("--reference scores the label map on the review page, which --no-review leaves out");
  const std::string& labelsPath = args.inputs.back();
  RenderInputs in;
  in.caseId = volumeFileStem(std::filesystem::path(labelsPath).filename().string());
  if (in.caseId.empty()) in.caseId = std::filesystem::path(labelsPath).filename().string();
  if (!args.labelTable.empty())
    in.known = readLabelTable(args.labelTable);
  else if (endsWith(labelsPath, ".seg.nrrd"))
    in.known = io::readSegNrrdSegments(labelsPath);
  const io::Volume labels = io::readVolume(labelsPath, args.read);
  in.labels = &labels;
  io::Volume image, reference;
  if (args.inputs.size() == 2) {
    image = io::readVolume(args.inputs.front(), args.read);
    in.image = &image;
  }
  if (!args.reference.empty()) {
    reference = io::readVolume(args.reference, args.read);
    in.reference = &reference;
  }
  renderCase(in, s);
  return 0;
}

} // namespace voxseg::cli
