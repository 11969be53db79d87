#pragma once
// Options the Pipeline tests run the networks with.

#include "voxseg/pipeline/Segmenter.h"

namespace voxseg::pipeline {

/// The CPU, one thread: ctest runs two tests at once on two cores.
inline SegmenterOptions oneCpuThread() {
  SegmenterOptions o;
  o.device.name = "cpu";
  o.threads = 1;
  return o;
}

} // namespace voxseg::pipeline
