// voxsegToyDataset <folder> <cases> [sparse]: writes the toy dataset of ToyDataset.h (CLI tests of `voxseg
// train`); sparse: every third slice annotated, the others nnU-Net's ignore label.
#include "ToyDataset.h"

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  const bool sparse = argc == 4 && std::string(argv[3]) == "sparse";
  if (argc != 3 && !sparse) {
    std::cerr << "usage: voxsegToyDataset <folder> <cases> [sparse]\n";
    return 2;
  }
  voxseg::training::makeToyDataset(argv[1], std::atoi(argv[2]), sparse);
  return 0;
}
