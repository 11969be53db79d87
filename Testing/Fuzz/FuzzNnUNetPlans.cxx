// libFuzzer target: nnU-Net v2 plans.json + dataset.json as loadNnUNet reads them (folder checks,
// configuration with inherits_from, architecture block, transposes, labels). The input is the two
// files joined by the line "--dataset.json--". With VOXSEG_FUZZ_NNUNET_FOLD set to a fold folder
// holding a real checkpoint, the networks are built and the weights matched too; without it only the
// folder description is read.
#include "FuzzSupport.h"
#include "voxseg/core/Error.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/pipeline/NnUNet.h"

#include <cstdlib>
#include <filesystem>
#include <string>

namespace {
const char* const kSeparator = "\n--dataset.json--\n";

std::string modelFolder() {
  static const std::string folder = [] {
    const auto dir = voxseg::fuzz::scratchDir() / "Dataset001_Fuzz" / "nnUNetTrainer__nnUNetPlans__3d_fullres";
    std::filesystem::create_directories(dir);
    if (const char* fold = std::getenv("VOXSEG_FUZZ_NNUNET_FOLD")) {
      std::filesystem::create_directory_symlink(std::filesystem::absolute(fold), dir / "fold_0");
    }
    return dir.string();
  }();
  return folder;
}
} // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
  const std::string text(reinterpret_cast<const char*>(data), size);
  const auto cut = text.find(kSeparator);
  const std::string plans = text.substr(0, cut);
  const std::string dataset =
      cut == std::string::npos ? std::string() : text.substr(cut + std::string(kSeparator).size());
  const std::filesystem::path folder = modelFolder();
  voxseg::fuzz::writeScratch("Dataset001_Fuzz/nnUNetTrainer__nnUNetPlans__3d_fullres/plans.json",
                             reinterpret_cast<const std::uint8_t*>(plans.data()), plans.size());
  voxseg::fuzz::writeScratch("Dataset001_Fuzz/nnUNetTrainer__nnUNetPlans__3d_fullres/dataset.json",
                             reinterpret_cast<const std::uint8_t*>(dataset.data()), dataset.size());
  try {
    if (std::getenv("VOXSEG_FUZZ_NNUNET_FOLD") != nullptr) {
      voxseg::pipeline::NnUNetOptions options;
      options.folder = folder.string();
      options.folds = {0};
      voxseg::pipeline::SegmenterOptions run;
      run.device.name = "cpu";
      (void)voxseg::pipeline::loadNnUNet(options, run);
    } else {
      (void)voxseg::inference::readNnUNetFolder(folder.string());
    }
  } catch (const voxseg::Error&) {
  }
  return 0;
}
