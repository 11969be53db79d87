#include "Commands.h"

#include "voxseg/io/AtomicOutput.h"
#include "voxseg/processing/Reorient.h"

#include <spdlog/spdlog.h>

namespace voxseg::cli {

int runConvert(const ConvertArgs& args) {
  if (!args.orient.empty()) validateOrientationCode(args.orient);
  // Check the destination before reading: a large input should not be read for nothing.
  { io::AtomicOutput probe(args.output, args.force); }
  io::Volume v = io::readVolume(args.input, args.read);
  if (!args.orient.empty()) {
    const std::string before = orientationCode(v.geometry().direction);
    v.image = processing::reorientTo(*v.image, v.pixelType, args.orient);
    spdlog::info("reoriented {} -> {}", before, orientationCode(v.geometry().direction));
  }
  io::WriteOptions w;
  w.overwrite = args.force;
  io::writeVolume(v, args.output, w);
  spdlog::info("wrote {}", args.output);
  return 0;
}

} // namespace voxseg::cli
