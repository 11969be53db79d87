// nnU-Net's ensemble of configurations (nnUNetv2_ensemble): probabilities averaged in float32, labels from the
// average. The fixture's fold 0 and fold 1 stand for two configurations here; the command-line test
// cli.segment_nnunet_ensemble joins the fixture's 3d_fullres with a 2d configuration.
#include "voxseg/pipeline/NnUNetEnsemble.h"
#include "PipelineTestOptions.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>

#include <array>
#include <filesystem>
#include <fstream>

namespace voxseg::pipeline {
namespace {

using voxseg::testing::sharedPath;

const std::string kModelFolder = "fixtures/nnunet/model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres";

NnUNetModel loadFold(const std::string& folder, int fold) {
  NnUNetOptions o;
  o.folder = folder;
  o.folds = {fold};
  o.tta = false;
  return loadNnUNet(o, oneCpuThread());
}

TEST(NnUNetEnsemble, AveragesTheProbabilitiesOfEachModelThenTakesTheArgmax) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  const NnUNetModel a = loadFold(folder, 0), b = loadFold(folder, 1);
  const io::Volume input = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomB_0000.nii.gz"));
  const SegmenterOptions run = oneCpuThread();
  const NnUNetResult ra = segmentNnUNet(a, {input}, run, true), rb = segmentNnUNet(b, {input}, run, true);
  std::vector<std::pair<std::int64_t, std::int64_t>> progress;
  const NnUNetResult e = segmentNnUNetEnsemble(
      {&a, &b}, {input}, run, true, [&](std::int64_t done, std::int64_t all) { progress.emplace_back(done, all); });
  EXPECT_EQ(e.labels.geometry(), input.geometry());
  EXPECT_EQ(e.labels.pixelType, PixelType::UInt8);
  ASSERT_EQ(e.channels, 3);
  ASSERT_EQ(e.probabilities.size(), ra.probabilities.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < e.probabilities.size(); ++i) {
    ASSERT_EQ(e.probabilities[i], (ra.probabilities[i] + rb.probabilities[i]) / 2.0f) << i;
    differ += ra.probabilities[i] != rb.probabilities[i];
  }
  EXPECT_GT(differ, e.probabilities.size() / 2); // two different networks
  const std::size_t n = input.geometry().voxelCount();
  const auto* labels = e.labels.as<std::uint8_t>()->GetBufferPointer();
  std::size_t foreground = 0;
  for (std::size_t i = 0; i < n; ++i) {
    ASSERT_EQ(labels[i], nnunetLabelOfProbabilities(e.probabilities.data() + i, std::int64_t(n), 3, {})) << i;
    foreground += labels[i] != 0;
  }
  EXPECT_GT(foreground, 1000u);
  EXPECT_EQ(e.stats.windows, ra.stats.windows + rb.stats.windows);
  // progress: the first model's windows, then the second's, out of both
  ASSERT_FALSE(progress.empty());
  EXPECT_EQ(progress.back().first, progress.back().second);
  EXPECT_EQ(progress.back().second, 2 * ra.stats.windows);
  // without the probabilities: the same labels, no probabilities kept
  const NnUNetResult labelsOnly = segmentNnUNetEnsemble({&a, &b}, {input}, run, false);
  EXPECT_TRUE(labelsOnly.probabilities.empty());
  const auto* l2 = labelsOnly.labels.as<std::uint8_t>()->GetBufferPointer();
  EXPECT_TRUE(std::equal(labels, labels + n, l2));
  // one model: that model's result, bit for bit
  const NnUNetResult one = segmentNnUNetEnsemble({&a}, {input}, run, true);
  EXPECT_EQ(one.probabilities, ra.probabilities);
}

// Three members: (a + b) + a, then divided by 3, in float32 (nnU-Net sums in the order given); a region-based model
// (the fixture's network under a dataset.json of regions): each region's averaged sigmoid above 0.5 writes its
// regions_class_order value, later regions overwriting earlier ones.
TEST(NnUNetEnsemble, ThreeMembersAndRegions) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  namespace fs = std::filesystem;
  voxseg::testing::TempDir tmp;
  const fs::path dir = tmp.path() / "nnUNetTrainer__nnUNetPlans__3d_fullres";
  fs::create_directories(dir);
  for (const char* f : {"plans.json", "fold_0", "fold_1"}) fs::create_symlink(fs::path(folder) / f, dir / f);
  std::ofstream(dir / "dataset.json") << R"({"channel_names": {"0": "CT"}, "file_ending": ".nii.gz",
    "labels": {"background": 0, "both": [1, 2], "two": [2], "one": 1}, "regions_class_order": [1, 2, 3]})";
  const NnUNetModel a = loadFold(dir.string(), 0), b = loadFold(dir.string(), 1);
  ASSERT_EQ(a.regionsClassOrder, (std::vector<int>{1, 2, 3}));
  const io::Volume input = io::readVolume(sharedPath("fixtures/nnunet/inputs/phantomA_0000.nii.gz"));
  const SegmenterOptions run = oneCpuThread();
  const NnUNetResult ra = segmentNnUNet(a, {input}, run, true), rb = segmentNnUNet(b, {input}, run, true);
  const NnUNetResult e = segmentNnUNetEnsemble({&a, &b, &a}, {input}, run, true);
  ASSERT_EQ(e.probabilities.size(), ra.probabilities.size());
  const std::size_t n = input.geometry().voxelCount();
  std::array<std::size_t, 4> count{};
  for (std::size_t i = 0; i < n; ++i) {
    int want = 0;
    for (std::size_t c = 0; c < 3; ++c) {
      const std::size_t at = c * n + i;
      float sum = ra.probabilities[at] + rb.probabilities[at];
      sum += ra.probabilities[at];
      ASSERT_EQ(e.probabilities[at], sum / 3.0f) << at;
      if (e.probabilities[at] > 0.5f) want = int(c) + 1; // regions_class_order [1, 2, 3]
    }
    ASSERT_EQ(int(e.labels.as<std::uint8_t>()->GetBufferPointer()[i]), want) << i;
    ++count[std::size_t(want)];
  }
  EXPECT_GT(count[0], 0u); // every region wins somewhere, the background too
  EXPECT_GT(count[2], 0u);
  EXPECT_GT(count[3], 0u);
}

// LabelManager.convert_probabilities_to_segmentation: numpy's argmax (the first of equal largest), or regions above
// 0.5 writing regions_class_order's values in order (a later region overwrites an earlier one).
TEST(NnUNetEnsemble, LabelsOfProbabilitiesAsNnUNetMakesThem) {
  const float tie[] = {0.25f, 0.375f, 0.375f};
  EXPECT_EQ(nnunetLabelOfProbabilities(tie, 1, 3, {}), 1);
  const float strided[] = {0.1f, 9.0f, 0.2f, 9.0f, 0.7f, 9.0f}; // stride 2
  EXPECT_EQ(nnunetLabelOfProbabilities(strided, 2, 3, {}), 2);
  const float regions[] = {0.9f, 0.6f, 0.5f};
  EXPECT_EQ(nnunetLabelOfProbabilities(regions, 1, 3, {1, 2, 3}), 2); // 0.5 is not above 0.5
  EXPECT_EQ(nnunetLabelOfProbabilities(regions, 1, 3, {3, 1, 2}), 1);
  const float none[] = {0.1f, 0.5f};
  EXPECT_EQ(nnunetLabelOfProbabilities(none, 1, 2, {1, 2}), 0);
}

TEST(NnUNetEnsemble, ModelsOfOtherLabelsOrChannelsAreRefused) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  const NnUNetModel a = loadFold(folder, 0);
  NnUNetModel b = loadFold(folder, 1);
  const auto refused = [&](const std::string& why) {
    try {
      requireNnUNetEnsemble({&a, &b});
      ADD_FAILURE() << "accepted: " << why;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Model);
      EXPECT_NE(std::string(e.what()).find(why), std::string::npos) << e.what();
    }
  };
  requireNnUNetEnsemble({&a, &b});
  b.labels.entries[1].name = "liver";
  refused("cannot join " + folder + " in an ensemble: their dataset.json labels differ");
  b.labels = a.labels;
  b.labels.entries[2].values = {3};
  refused("their dataset.json labels differ");
  b.labels = a.labels;
  b.regionsClassOrder = {1, 2};
  refused("their dataset.json labels differ");
  b.regionsClassOrder = a.regionsClassOrder;
  b.dataset["channel_names"] = {{"0", "MR"}};
  refused("their dataset.json channel_names differ ({\"0\":\"MR\"}, {\"0\":\"CT\"})");
  b.dataset = a.dataset;
  requireNnUNetEnsemble({&a, &b});
  std::swap(b.labels.entries[1], b.labels.entries[2]); // a plain dataset's labels in another order: the same outputs
  requireNnUNetEnsemble({&a, &b});
  // the folders' descriptions, before any network loads
  std::vector<inference::NnUNetFolder> folders{inference::readNnUNetFolder(folder),
                                               inference::readNnUNetFolder(folder)};
  requireNnUNetEnsemble(folders);
  folders[1].numClasses = 4;
  try {
    requireNnUNetEnsemble(folders);
    ADD_FAILURE() << "accepted 4 outputs beside 3";
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("in an ensemble: 4 network outputs, not 3"), std::string::npos) << e.what();
  }
}

} // namespace
} // namespace voxseg::pipeline
