// voxsegSlicerCheckLabelMap <input> <labels> [<reference labels> <min agreement>]
// Exits 0 when <labels> is an integer label map on <input>'s grid (same size; spacing, origin and
// direction within 1e-6) and, when a reference is given, agrees with it on at least that fraction of
// voxels. Prints what differs otherwise (exit 1).

#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"

#include <cstdlib>
#include <iostream>
#include <sstream>
#include <string>
#include <vector>

namespace {

using voxseg::Geometry;
using voxseg::PixelType;
namespace io = voxseg::io;

std::string describe(const Geometry& g) {
  std::ostringstream s;
  s.precision(17);
  s << "size " << g.size[0] << "x" << g.size[1] << "x" << g.size[2] << ", spacing";
  for (double v : g.spacing) s << " " << v;
  s << ", origin";
  for (double v : g.origin) s << " " << v;
  s << ", direction";
  for (double v : g.direction) s << " " << v;
  return s.str();
}

// The voxel values of an 8- or 16-bit integer label map.
std::vector<long> integerLabels(const io::Volume& v) {
  if (v.pixelType != PixelType::UInt8 && v.pixelType != PixelType::Int8 && v.pixelType != PixelType::UInt16 &&
      v.pixelType != PixelType::Int16)
    throw voxseg::inputError(v.source, "not an 8- or 16-bit integer label map");
  const auto values = io::labelValues(v);
  return std::vector<long>(values.begin(), values.end());
}

} // namespace

int main(int argc, char** argv) {
  if (argc != 3 && argc != 5) {
    std::cerr << "usage: voxsegSlicerCheckLabelMap <input> <labels> [<reference labels> <min agreement>]\n";
    return 2;
  }
  try {
    const io::Volume input = io::readVolume(argv[1]);
    const io::Volume labels = io::readVolume(argv[2]);
    if (!labels.geometry().nearlyEqual(input.geometry())) {
      std::cerr << argv[2] << ": not on the input's grid\n  input:  " << describe(input.geometry())
                << "\n  labels: " << describe(labels.geometry()) << "\n";
      return 1;
    }
    const std::vector<long> values = integerLabels(labels);
    std::cout << argv[2] << ": on the input's grid (" << describe(labels.geometry()) << ")\n";
    if (argc == 5) {
      const std::vector<long> want = integerLabels(io::readVolume(argv[3]));
      if (want.size() != values.size()) {
        std::cerr << argv[3] << ": " << want.size() << " voxels, the labels have " << values.size() << "\n";
        return 1;
      }
      std::size_t same = 0;
      for (std::size_t i = 0; i < values.size(); ++i) same += values[i] == want[i];
      const double agreement = double(same) / double(values.size());
      const double minimum = std::strtod(argv[4], nullptr);
      std::cout << "agreement with " << argv[3] << ": " << agreement << " (minimum " << minimum << ")\n";
      if (agreement < minimum) return 1;
    }
    return 0;
  } catch (const voxseg::Error& e) {
    std::cerr << "error: " << e.what() << "\n";
    return 1;
  }
}
