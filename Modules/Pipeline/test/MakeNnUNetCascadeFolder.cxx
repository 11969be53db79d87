// voxsegNnUNetCascadeFolder OUT FIXTURE_MODEL [zero|random]: writes OUT/nnUNetTrainer__nnUNetPlans__3d_lowres and
// OUT/nnUNetTrainer__nnUNetPlans__3d_cascade_fullres from the nnU-Net fixture's 3d_fullres folder
// (NnUNetCascadeFolder.h), for the command-line tests of cascades.
#include "NnUNetCascadeFolder.h"

#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc != 3 && argc != 4) {
    std::cerr << "usage: voxsegNnUNetCascadeFolder OUT FIXTURE_3D_FULLRES_FOLDER [zero|random]\n";
    return 2;
  }
  try {
    const bool zero = argc == 4 && std::string(argv[3]) == "zero";
    std::cout << voxseg::testing::writeNnUNetCascadeFolders(argv[1], argv[2],
                                                            zero ? voxseg::testing::CascadeLabelWeights::Zero
                                                                 : voxseg::testing::CascadeLabelWeights::Random)
              << "\n";
  } catch (const std::exception& e) {
    std::cerr << "voxsegNnUNetCascadeFolder: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
