// voxsegNnUNetCascadeFolder OUT FIXTURE_MODEL [zero|random] [swap-yx] [zscore-mask]: writes
// OUT/nnUNetTrainer__nnUNetPlans__3d_lowres and OUT/nnUNetTrainer__nnUNetPlans__3d_cascade_fullres from the nnU-Net
// fixture's 3d_fullres folder (NnUNetCascadeFolder.h), for the command-line tests of cascades.
#include "NnUNetCascadeFolder.h"

#include <exception>
#include <iostream>
#include <string>

int main(int argc, char** argv) {
  if (argc < 3) {
    std::cerr << "usage: voxsegNnUNetCascadeFolder OUT FIXTURE_3D_FULLRES_FOLDER [zero|random] [swap-yx] "
                 "[zscore-mask]\n";
    return 2;
  }
  try {
    auto weights = voxseg::testing::CascadeLabelWeights::Random;
    voxseg::testing::CascadePlans plans;
    for (int i = 3; i < argc; ++i) {
      const std::string a = argv[i];
      if (a == "zero") {
        weights = voxseg::testing::CascadeLabelWeights::Zero;
      } else if (a == "swap-yx") {
        plans.swapYX = true;
      } else if (a == "zscore-mask") {
        plans.zscoreMask = true;
      } else if (a != "random") {
        std::cerr << "voxsegNnUNetCascadeFolder: unknown variant '" << a << "'\n";
        return 2;
      }
    }
    std::cout << voxseg::testing::writeNnUNetCascadeFolders(argv[1], argv[2], weights, plans) << "\n";
  } catch (const std::exception& e) {
    std::cerr << "voxsegNnUNetCascadeFolder: " << e.what() << "\n";
    return 1;
  }
  return 0;
}
