// nnU-Net cascades (3d_lowres, then 3d_cascade_fullres with the previous stage's labels one-hot as extra input
// channels), made from the fixture's trained folder (NnUNetCascadeFolder.h).
#include "NnUNetCascadeFolder.h"
#include "PipelineTestOptions.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/processing/NnUNetResampling.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Errors.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <array>
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

// The cascade stage written in `dir` from the fixture `model`, without mirroring, its previous stage not loaded.
NnUNetModel cascadeAlone(const voxseg::testing::TempDir& dir, const std::string& model, CascadeLabelWeights weights,
                         const voxseg::testing::CascadePlans& plans = {}) {
  NnUNetOptions o;
  o.tta = false;
  o.loadPreviousStage = false;
  o.folder = voxseg::testing::writeNnUNetCascadeFolders(dir.path().string(), model, weights, plans);
  return loadNnUNet(o, oneCpuThread());
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

// transpose_forward [0, 2, 1]: an input and previous-stage labels whose arrays are phantomB's with y and x swapped,
// under plans that swap them back, give the cascade the same arrays and channels: its labels are those of the
// unswapped run, swapped. The two label channels have different weights, so labels put in the wrong place or the
// wrong channel change the result.
TEST(NnUNetCascade, SwappedInputAndLabelsUnderSwappingPlansGiveSwappedLabels) {
  VOXSEG_REQUIRE_DATA(model, sharedPath(kModel));
  voxseg::testing::TempDir plainDir, swapDir;
  const NnUNetModel plain = cascadeAlone(plainDir, model, CascadeLabelWeights::Random);
  const NnUNetModel swapping =
      cascadeAlone(swapDir, model, CascadeLabelWeights::Random, {/*swapYX=*/true, /*zscoreMask=*/false});
  ASSERT_EQ(swapping.transposeForward, (std::array<int, 3>{0, 2, 1}));

  const io::Volume a = io::readVolume(sharedPath(kFixture + "inputs/phantomB_0000.nii.gz"));
  const io::Volume la = io::readVolume(sharedPath(kFixture + "gt/phantomB.nii.gz")); // labels 1 and 2
  const Geometry ga = a.geometry();
  Geometry gb = ga;
  std::swap(gb.size[0], gb.size[1]);
  std::swap(gb.spacing[0], gb.spacing[1]);
  const processing::Shape3 arrayA{std::int64_t(ga.size[2]), std::int64_t(ga.size[1]), std::int64_t(ga.size[0])};
  io::Volume b = io::makeVolume(PixelType::Int16, gb);
  processing::transposeInto(a.as<std::int16_t>()->GetBufferPointer(), arrayA, {0, 2, 1},
                            b.as<std::int16_t>()->GetBufferPointer());
  io::Volume lb = io::makeVolume(PixelType::UInt8, gb);
  processing::transposeInto(la.as<std::uint8_t>()->GetBufferPointer(), arrayA, {0, 2, 1},
                            lb.as<std::uint8_t>()->GetBufferPointer());

  const NnUNetResult ra = segmentNnUNet(plain, {a}, oneCpuThread(), false, {}, &la);
  const auto want = processing::transposed(ra.labels.as<std::uint8_t>()->GetBufferPointer(), arrayA, {0, 2, 1});
  for (std::uint8_t label : {1, 2}) EXPECT_GT(std::count(want.begin(), want.end(), label), 100) << int(label);
  const NnUNetResult rb = segmentNnUNet(swapping, {b}, oneCpuThread(), false, {}, &lb);
  ASSERT_EQ(rb.labels.geometry(), gb);
  EXPECT_TRUE(std::equal(want.begin(), want.end(), rb.labels.as<std::uint8_t>()->GetBufferPointer()));
}

// crop_to_nonzero: an input framed by zeros is cropped back to phantomB, and its labels with it (those in the frame,
// here label 2, are cut away): the labels inside are the unframed run's, the frame is background. Under swapping plans
// the labels are read through the transposition and the box at once.
TEST(NnUNetCascade, FramedInputAndLabelsAreCroppedTogether) {
  VOXSEG_REQUIRE_DATA(model, sharedPath(kModel));
  voxseg::testing::TempDir dir;
  const NnUNetModel cascade =
      cascadeAlone(dir, model, CascadeLabelWeights::Random, {/*swapYX=*/true, /*zscoreMask=*/false});
  const io::Volume a = io::readVolume(sharedPath(kFixture + "inputs/phantomB_0000.nii.gz"));
  const io::Volume la = io::readVolume(sharedPath(kFixture + "gt/phantomB.nii.gz"));
  const Geometry ga = a.geometry();
  const std::array<std::size_t, 3> before{3, 2, 1}, after{5, 4, 2}; // x, y, z
  Geometry gb = ga;
  for (std::size_t d = 0; d < 3; ++d) gb.size[d] += before[d] + after[d];
  io::Volume b = io::makeVolume(PixelType::Int16, gb), lb = io::makeVolume(PixelType::UInt8, gb);
  const auto inner = [&](std::size_t x, std::size_t y, std::size_t z) {
    return x >= before[0] && x < before[0] + ga.size[0] && y >= before[1] && y < before[1] + ga.size[1] &&
           z >= before[2] && z < before[2] + ga.size[2];
  };
  const auto at = [](const Geometry& g, std::size_t x, std::size_t y, std::size_t z) {
    return (z * g.size[1] + y) * g.size[0] + x;
  };
  for (std::size_t z = 0; z < gb.size[2]; ++z)
    for (std::size_t y = 0; y < gb.size[1]; ++y)
      for (std::size_t x = 0; x < gb.size[0]; ++x) {
        const std::size_t i = at(gb, x, y, z);
        if (!inner(x, y, z)) {
          lb.as<std::uint8_t>()->GetBufferPointer()[i] = 2;
          continue;
        }
        const std::size_t j = at(ga, x - before[0], y - before[1], z - before[2]);
        b.as<std::int16_t>()->GetBufferPointer()[i] = a.as<std::int16_t>()->GetBufferPointer()[j];
        lb.as<std::uint8_t>()->GetBufferPointer()[i] = la.as<std::uint8_t>()->GetBufferPointer()[j];
      }
  const NnUNetResult ra = segmentNnUNet(cascade, {a}, oneCpuThread(), false, {}, &la);
  const NnUNetResult rb = segmentNnUNet(cascade, {b}, oneCpuThread(), false, {}, &lb);
  ASSERT_EQ(rb.labels.geometry(), gb);
  std::size_t same = 0, frame = 0;
  for (std::size_t z = 0; z < gb.size[2]; ++z)
    for (std::size_t y = 0; y < gb.size[1]; ++y)
      for (std::size_t x = 0; x < gb.size[0]; ++x) {
        const std::uint8_t got = rb.labels.as<std::uint8_t>()->GetBufferPointer()[at(gb, x, y, z)];
        if (!inner(x, y, z))
          frame += got == 0;
        else
          same += got ==
                  ra.labels.as<std::uint8_t>()->GetBufferPointer()[at(ga, x - before[0], y - before[1], z - before[2])];
      }
  EXPECT_EQ(same, ga.voxelCount());
  EXPECT_EQ(frame, gb.voxelCount() - ga.voxelCount());
}

// The label channels follow the sorted foreground labels (1, then 2): with weights on the first channel only, the
// cascade sees label 1 and not label 2.
TEST(NnUNetCascade, FirstChannelIsTheSmallestLabel) {
  VOXSEG_REQUIRE_DATA(model, sharedPath(kModel));
  voxseg::testing::TempDir dir;
  const NnUNetModel cascade = cascadeAlone(dir, model, CascadeLabelWeights::FirstOnly);
  const io::Volume input = io::readVolume(sharedPath(kFixture + "inputs/phantomB_0000.nii.gz"));
  const io::Volume both = io::readVolume(sharedPath(kFixture + "gt/phantomB.nii.gz"));
  io::Volume one = io::makeVolume(PixelType::UInt8, both.geometry());
  io::Volume two = io::makeVolume(PixelType::UInt8, both.geometry());
  for (std::size_t i = 0; i < both.geometry().voxelCount(); ++i) {
    const std::uint8_t l = both.as<std::uint8_t>()->GetBufferPointer()[i];
    one.as<std::uint8_t>()->GetBufferPointer()[i] = l == 1 ? 1 : 0;
    two.as<std::uint8_t>()->GetBufferPointer()[i] = l == 2 ? 2 : 0;
  }
  const auto probabilities = [&](const io::Volume& labels) {
    return segmentNnUNet(cascade, {input}, oneCpuThread(), true, {}, &labels).probabilities;
  };
  const io::Volume none = io::makeVolume(PixelType::UInt8, both.geometry());
  EXPECT_EQ(probabilities(both), probabilities(one));
  EXPECT_EQ(probabilities(two), probabilities(none));
  EXPECT_NE(probabilities(one), probabilities(none));
}

// use_mask_for_norm: nnU-Net's crop_to_nonzero keeps the previous stage's labels where the image is zero, so the
// normalization mask is the non-zero mask or a label. With zero weights on the label channels only the
// normalization sees the labels: labels inside the non-zero mask change nothing, labels beside it (zeros inside
// the crop box) change the mean, the standard deviation and which zeros are normalized.
TEST(NnUNetCascade, LabelsOutsideTheNonZeroMaskWidenTheNormalizationMask) {
  VOXSEG_REQUIRE_DATA(model, sharedPath(kModel));
  voxseg::testing::TempDir dir;
  const NnUNetModel cascade =
      cascadeAlone(dir, model, CascadeLabelWeights::Zero, {/*swapYX=*/false, /*zscoreMask=*/true});
  const io::Volume raw = io::readVolume(sharedPath(kFixture + "inputs/phantomB_0000.nii.gz"));
  const io::Volume gt = io::readVolume(sharedPath(kFixture + "gt/phantomB.nii.gz"));
  const Geometry g = raw.geometry();
  io::Volume image = io::makeVolume(PixelType::Float32, g);
  io::Volume inside = io::makeVolume(PixelType::UInt8, g), beside = io::makeVolume(PixelType::UInt8, g);
  io::Volume none = io::makeVolume(PixelType::UInt8, g);
  std::size_t i = 0, outside = 0;
  for (std::size_t z = 0; z < g.size[2]; ++z)
    for (std::size_t y = 0; y < g.size[1]; ++y)
      for (std::size_t x = 0; x < g.size[0]; ++x, ++i) {
        const double u = (double(x) - 0.5 * double(g.size[0])) / (0.5 * double(g.size[0]));
        const double v = (double(y) - 0.5 * double(g.size[1])) / (0.5 * double(g.size[1]));
        const bool in = u * u + v * v < 1.0; // an ellipse touching the box's sides: its corners are zeros
        image.as<float>()->GetBufferPointer()[i] = in ? float(raw.as<std::int16_t>()->GetBufferPointer()[i]) : 0.0f;
        const std::uint8_t l = gt.as<std::uint8_t>()->GetBufferPointer()[i];
        inside.as<std::uint8_t>()->GetBufferPointer()[i] = in ? l : 0;
        beside.as<std::uint8_t>()->GetBufferPointer()[i] = in ? l : (x < g.size[0] / 4 ? 1 : 0);
        outside += !in && x < g.size[0] / 4;
      }
  ASSERT_GT(outside, 1000u);
  const NnUNetResult r0 = segmentNnUNet(cascade, {image}, oneCpuThread(), true, {}, &none);
  const NnUNetResult r1 = segmentNnUNet(cascade, {image}, oneCpuThread(), true, {}, &inside);
  const NnUNetResult r2 = segmentNnUNet(cascade, {image}, oneCpuThread(), true, {}, &beside);
  EXPECT_EQ(r1.probabilities, r0.probabilities);
  EXPECT_NE(r2.probabilities, r0.probabilities);
}

using voxseg::testing::expectError;

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
              "p.nii.gz: voxel value 0.5 at (5, 0, 0) is not a label; a label map holds integers from 0 to 65535");
  io::Volume many = io::makeVolume(PixelType::UInt16, input.geometry());
  many.source = "many.nii.gz";
  for (std::size_t i = 0; i < input.geometry().voxelCount(); ++i)
    many.as<std::uint16_t>()->GetBufferPointer()[i] = i % 300;
  expectError([&] { segmentNnUNet(alone, {input}, oneCpuThread(), false, {}, &many); }, ExitCode::Input,
              "many.nii.gz: holds 299 different values: not a previous stage's label map (the model knows 2 labels)");
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
              "or its label maps (voxseg segment --previous-stage)");
  // a previous stage trained on other labels, or a cascade stage itself
  find.previousStage = moved.string();
  nlohmann::json dataset = nlohmann::json::parse(std::ifstream(moved / "dataset.json"));
  dataset["labels"]["organC"] = 3;
  std::ofstream(moved / "dataset.json") << dataset.dump();
  expectError([&] { loadNnUNet(find, oneCpuThread()); }, ExitCode::Model, "dataset.json's labels differ from those of");
  find.previousStage = folder;
  expectError([&] { loadNnUNet(find, oneCpuThread()); }, ExitCode::Model, "is itself a cascade stage");
  // plans that resample the labels in a way nnU-Net's own plans do not
  nlohmann::json plans = nlohmann::json::parse(std::ifstream(fs::path(folder) / "plans.json"));
  plans["configurations"]["3d_cascade_fullres"]["resampling_fn_seg_kwargs"] = {{"order", 1}, {"order_z", 1}};
  std::ofstream(fs::path(folder) / "plans.json") << plans.dump();
  expectError([&] { loadNnUNet(o, oneCpuThread()); }, ExitCode::Model,
              "plans.json: configuration '3d_cascade_fullres' has resampling_fn_seg_kwargs");
}

} // namespace
} // namespace voxseg::pipeline
