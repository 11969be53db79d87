// voxsegNnUNet2dFolder OUT FIXTURE_MODEL: writes OUT/nnUNetTrainer__nnUNetPlans__2d, the nnU-Net fixture's "2d"
// configuration with random (seeded) weights, for the command-line tests of 2D configurations.
#include "NnUNet2dFolder.h"

#include <exception>
#include <iostream>

int main(int argc, char** argv) {
  if (argc != 3) {
    std::cerr << "usage: voxsegNnUNet2dFolder OUT FIXTURE_3D_FULLRES_FOLDER\n";
    return 2;
  }
  try {
    std::cout << voxseg::testing::writeNnUNet2dFolder(argv[1], argv[2], voxseg::testing::randomWeights()) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "voxsegNnUNet2dFolder: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
