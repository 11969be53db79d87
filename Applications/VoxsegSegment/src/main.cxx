#include "ModuleDescription.h"
#include "SlicerCli.h"
#include "voxseg/core/Memory.h"

#include <cstdio>
#include <iostream>

int main(int argc, char** argv) {
  // Answered first and from a compiled-in string: no LibTorch call, no device query, no thread set-up.
  if (voxseg::slicer::wantsXml(argc, argv))
    return std::fputs(voxseg::slicer::kModuleDescription, stdout) >= 0 && std::fflush(stdout) == 0 ? 0 : 1;
  voxseg::tuneHeapForInference();
  return voxseg::slicer::main(argc, argv, std::cout, std::cerr);
}
