// voxsegToyDataset <folder> <cases> [sparse|regions]: writes the toy dataset of ToyDataset.h (CLI tests of `voxseg
// train`); sparse: every third slice annotated, the others nnU-Net's ignore label; regions: region-based.
#include "ToyDataset.h"

#include <cstdlib>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  using voxseg::training::ToyLabels;
  const std::string kind = argc == 4 ? argv[3] : "";
  if ((argc != 3 && argc != 4) || (argc == 4 && kind != "sparse" && kind != "regions")) {
    std::cerr << "usage: voxsegToyDataset <folder> <cases> [sparse|regions]\n";
    return 2;
  }
  voxseg::training::makeToyDataset(argv[1], std::atoi(argv[2]),
                                   kind == "sparse"    ? ToyLabels::Sparse
                                   : kind == "regions" ? ToyLabels::Regions
                                                       : ToyLabels::Dense);
  return 0;
}
