// nnU-Net cascades (3d_lowres, then 3d_cascade_fullres with the previous stage's labels one-hot as extra input
// channels), made from the fixture's trained folder (NnUNetCascadeFolder.h).
#include "NnUNetCascadeFolder.h"
#include "PipelineTestOptions.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <iostream>
#include <string>

namespace voxseg::pipeline {
namespace {

namespace fs = std::filesystem;
using voxseg::testing::CascadeLabelWeights;
using voxseg::testing::sharedPath;

const std::string kFixture = "fixtures/nnunet/";
const std::string kModel = kFixture + "model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres";

std::size_t sameVoxels(const io::Volume& a, const io::Volume& b) {
  const auto* p = a.as<std::uint8_t>()->GetBufferPointer();
  const auto* q = b.as<std::uint8_t>()->GetBufferPointer();
  std::size_t same = 0;
  for (std::size_t i = 0; i < a.geometry().voxelCount(); ++i) same += p[i] == q[i];
  return same;
}

// With weights of zero on the label channels the cascade stage is the fixture's network: after the previous stage
// ran (found beside it), its labels are nnU-Net's own 3d_fullres labels (fold 0, mirroring).
TEST(NnUNetCascade, ZeroLabelWeightsGiveNnUNetsFullResolutionLabels) {
  VOXSEG_REQUIRE_DATA(model, sharedPath(kModel));
  voxseg::testing::TempDir dir;
  NnUNetOptions o;
  o.folder = voxseg::testing::writeNnUNetCascadeFolders(dir.path().string(), model, CascadeLabelWeights::Zero);
  const NnUNetModel cascade = loadNnUNet(o, oneCpuThread());
  EXPECT_EQ(cascade.previousStage, "3d_lowres");
  EXPECT_EQ(cascade.cascadeLabels, (std::vector<int>{1, 2}));
  ASSERT_TRUE(cascade.previous);
  EXPECT_EQ(cascade.previous->configurationName, "3d_lowres");
  for (const std::string name : {"phantomA", "phantomB", "phantomC"}) {
    const io::Volume input = io::readVolume(sharedPath(kFixture + "inputs/" + name + "_0000.nii.gz"));
    const NnUNetResult r = segmentNnUNet(cascade, {input}, oneCpuThread(), false);
    EXPECT_EQ(r.labels.geometry(), input.geometry()) << name;
    const io::Volume want = io::readVolume(sharedPath(kFixture + "predictions/fold0_mirror/" + name + ".nii.gz"));
    const std::size_t n = input.geometry().voxelCount();
    std::cout << name << ": " << sameVoxels(r.labels, want) << " of " << n << " voxels as nnU-Net's 3d_fullres\n";
    EXPECT_GE(double(sameVoxels(r.labels, want)) / double(n), 0.9999) << name;
  }
}

// The previous stage's labels given, or made by running the previous stage first: the same cascade input. Labels
// that differ (none at all) change the cascade's labels: the label channels reach the network.
TEST(NnUNetCascade, GivenLabelsActAsThePreviousStagesOwn) {
  VOXSEG_REQUIRE_DATA(model, sharedPath(kModel));
  voxseg::testing::TempDir dir;
  NnUNetOptions o;
  o.folder = voxseg::testing::writeNnUNetCascadeFolders(dir.path().string(), model, CascadeLabelWeights::Random);
  const NnUNetModel cascade = loadNnUNet(o, oneCpuThread());
  const io::Volume input = io::readVolume(sharedPath(kFixture + "inputs/phantomA_0000.nii.gz"));
  const NnUNetResult chained = segmentNnUNet(cascade, {input}, oneCpuThread(), true);
  const NnUNetResult low = segmentNnUNet(*cascade.previous, {input}, oneCpuThread(), false);
  EXPECT_GT(std::count(low.labels.as<std::uint8_t>()->GetBufferPointer(),
                       low.labels.as<std::uint8_t>()->GetBufferPointer() + input.geometry().voxelCount(), 2),
            100);

  NnUNetOptions given = o;
  given.loadPreviousStage = false;
  const NnUNetModel alone = loadNnUNet(given, oneCpuThread());
  EXPECT_FALSE(alone.previous);
  io::Volume labels = low.labels;
  labels.source = "lowres.nii.gz";
  const NnUNetResult r = segmentNnUNet(alone, {input}, oneCpuThread(), true, {}, &labels);
  EXPECT_EQ(sameVoxels(r.labels, chained.labels), input.geometry().voxelCount());
  EXPECT_EQ(r.probabilities, chained.probabilities);
  // a float label map (as nnU-Net reads segmentations) is the same input
  io::Volume asFloat = io::makeVolume(PixelType::Float32, input.geometry());
  std::copy_n(low.labels.as<std::uint8_t>()->GetBufferPointer(), input.geometry().voxelCount(),
              asFloat.as<float>()->GetBufferPointer());
  EXPECT_EQ(sameVoxels(segmentNnUNet(alone, {input}, oneCpuThread(), false, {}, &asFloat).labels, chained.labels),
            input.geometry().voxelCount());

  io::Volume none = io::makeVolume(PixelType::UInt8, input.geometry());
  const NnUNetResult blind = segmentNnUNet(alone, {input}, oneCpuThread(), false, {}, &none);
  EXPECT_LT(sameVoxels(blind.labels, chained.labels), input.geometry().voxelCount() - 100);
}

template <class F> void expectError(F&& f, ExitCode code, const std::string& text) {
  try {
    f();
    ADD_FAILURE() << "no error; expected: " << text;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), code) << e.what();
    EXPECT_NE(std::string(e.what()).find(text), std::string::npos) << e.what();
  }
}

TEST(NnUNetCascade, RefusedWithTheReason) {
  VOXSEG_REQUIRE_DATA(model, sharedPath(kModel));
  voxseg::testing::TempDir dir;
  const std::string folder =
      voxseg::testing::writeNnUNetCascadeFolders(dir.path().string(), model, CascadeLabelWeights::Random);
  NnUNetOptions o;
  o.folder = folder;
  o.loadPreviousStage = false;
  const NnUNetModel alone = loadNnUNet(o, oneCpuThread());
  const io::Volume input = io::readVolume(sharedPath(kFixture + "inputs/phantomB_0000.nii.gz"));
  expectError([&] { segmentNnUNet(alone, {input}, oneCpuThread(), false); }, ExitCode::Usage,
              "is a cascade stage after '3d_lowres': it needs that stage's model folder or its label maps");
  // labels on another grid, labels that are not labels
  const io::Volume other = io::readVolume(sharedPath(kFixture + "gt/phantomA.nii.gz"));
  expectError([&] { segmentNnUNet(alone, {input}, oneCpuThread(), false, {}, &other); }, ExitCode::Input,
              "phantomA.nii.gz: the previous stage's labels are not on the grid of");
  io::Volume fractional = io::makeVolume(PixelType::Float32, input.geometry());
  fractional.source = "p.nii.gz";
  fractional.as<float>()->GetBufferPointer()[5] = 0.5f;
  expectError([&] { segmentNnUNet(alone, {input}, oneCpuThread(), false, {}, &fractional); }, ExitCode::Input,
              "p.nii.gz: holds the value 0.5 (voxel 5,0,0): not a label map");
  // labels for a model that is no cascade stage
  NnUNetOptions plain;
  plain.folder = model;
  const NnUNetModel fullres = loadNnUNet(plain, oneCpuThread());
  const io::Volume labels = io::readVolume(sharedPath(kFixture + "gt/phantomB.nii.gz"));
  expectError([&] { segmentNnUNet(fullres, {input}, oneCpuThread(), false, {}, &labels); }, ExitCode::Usage,
              "previous-stage labels given, but");
  // no previous stage beside it
  const fs::path moved = dir.path() / "elsewhere" / "nnUNetTrainer__nnUNetPlans__3d_lowres";
  fs::create_directories(moved.parent_path());
  fs::rename(dir.path() / "nnUNetTrainer__nnUNetPlans__3d_lowres", moved);
  NnUNetOptions find;
  find.folder = folder;
  expectError([&] { loadNnUNet(find, oneCpuThread()); }, ExitCode::Model,
              "nnUNetTrainer__nnUNetPlans__3d_lowres is not a trained-model folder: give the previous stage's folder "
              "or its label maps (--previous-stage)");
  // a previous stage trained on other labels, or a cascade stage itself
  find.previousStage = moved.string();
  nlohmann::json dataset = nlohmann::json::parse(std::ifstream(moved / "dataset.json"));
  dataset["labels"]["organC"] = 3;
  std::ofstream(moved / "dataset.json") << dataset.dump();
  expectError([&] { loadNnUNet(find, oneCpuThread()); }, ExitCode::Model, "dataset.json's labels differ from those of");
  find.previousStage = folder;
  expectError([&] { loadNnUNet(find, oneCpuThread()); }, ExitCode::Model, "is itself a cascade stage");
}

} // namespace
} // namespace voxseg::pipeline
