#include "Cli.h"

#include "voxseg/core/Memory.h"

#include <iostream>

int main(int argc, char** argv) {
  voxseg::tuneHeapForInference();
  return voxseg::cli::main(argc, argv, std::cout, std::cerr);
}
