// voxsegToyDataset <folder> <cases>: writes the toy dataset of ToyDataset.h (CLI tests of `voxseg train`).
#include "ToyDataset.h"

#include <cstdlib>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: voxsegToyDataset <folder> <cases>\n";
    return 2;
  }
  voxseg::training::makeToyDataset(argv[1], std::atoi(argv[2]));
  return 0;
}
