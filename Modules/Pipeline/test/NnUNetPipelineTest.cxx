// nnU-Net v2 folder end to end against nnU-Net's own predictions (../shared/fixtures/nnunet).
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <iostream>

namespace voxseg::pipeline {
namespace {

using voxseg::testing::sharedPath;

class NnUNetEndToEnd : public ::testing::TestWithParam<std::tuple<std::string, std::string>> {};

TEST_P(NnUNetEndToEnd, LabelsAndProbabilitiesMatchNnUNet) {
  const auto [name, mode] = GetParam();
  const std::string fx = "fixtures/nnunet/";
  VOXSEG_REQUIRE_DATA(folder, sharedPath(fx + "model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres"));
  SegmenterOptions run;
  run.device.name = "cpu";
  run.threads = 1;
  NnUNetOptions o;
  o.folder = folder;
  o.folds = mode.rfind("folds01", 0) == 0 ? std::vector<int>{0, 1} : std::vector<int>{0};
  o.tta = mode.find("nomirror") == std::string::npos;
  const NnUNetModel model = loadNnUNet(o, run);
  const io::Volume input = io::readVolume(sharedPath(fx + "inputs/" + name + "_0000.nii.gz"));
  const NnUNetResult r = segmentNnUNet(model, {input}, run, true);
  EXPECT_EQ(r.labels.geometry(), input.geometry());

  const io::Volume want = io::readVolume(sharedPath(fx + "predictions/" + mode + "/" + name + ".nii.gz"));
  const auto* a = r.labels.as<std::uint8_t>()->GetBufferPointer();
  const auto* b = want.as<std::uint8_t>()->GetBufferPointer();
  const std::size_t n = input.geometry().voxelCount();
  std::size_t same = 0;
  for (std::size_t i = 0; i < n; ++i) same += a[i] == b[i];
  const auto probs =
      voxseg::testing::readNpy(sharedPath(fx + "predictions/" + mode + "/" + name + "_probabilities.npy"));
  ASSERT_EQ(r.probabilities.size(), probs.data.size());
  double d = 0;
  for (std::size_t i = 0; i < probs.data.size(); ++i)
    d = std::max(d, double(std::fabs(r.probabilities[i] - probs.data[i])));
  std::cout << mode << " " << name << ": labels equal " << 100.0 * double(same) / double(n)
            << "%, probabilities max diff " << d << "\n";
  EXPECT_GE(double(same) / double(n), 0.9999);
  EXPECT_LE(d, 1e-3);
}

INSTANTIATE_TEST_SUITE_P(Cases, NnUNetEndToEnd,
                         ::testing::Combine(::testing::Values("phantomA", "phantomB", "phantomC"),
                                            ::testing::Values("fold0_mirror", "fold0_nomirror", "folds01_mirror",
                                                              "folds01_nomirror")));

} // namespace
} // namespace voxseg::pipeline
