// voxseg train on a tiny synthetic dataset: the dataset is checked, the loss falls, the exported
// nnU-Net folder runs through voxseg's nnU-Net inference and finds the structures, runs are
// deterministic with a seed, and training resumes from a checkpoint.
#include "voxseg/training/Train.h"
#include "voxseg/core/Error.h"
#include "voxseg/core/ItkGeometry.h"
#include "voxseg/inference/Network.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/processing/Reorient.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Errors.h"
#include "voxseg/training/Dataset.h"

#include "ToyDataset.h"
#include "TrainTestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <functional>
#include <stdexcept>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <random>

namespace voxseg::training {
namespace {

using voxseg::testing::TempDir;

pipeline::SegmenterOptions oneThread() {
  pipeline::SegmenterOptions run;
  run.threads = 1;
  return run;
}

// A trained model folder, loaded as `voxseg segment -m` loads it, without mirroring.
pipeline::NnUNetModel loadExported(const std::string& folder) {
  pipeline::NnUNetOptions nn;
  nn.folder = folder;
  nn.tta = false;
  return pipeline::loadNnUNet(nn, oneThread());
}

// Trains `o` into dir/a and then dir/b: their final checkpoints' bytes.
std::pair<std::string, std::string> trainTwice(TrainOptions o, const TempDir& dir) {
  o.output = dir.file("a");
  train(o);
  o.output = dir.file("b");
  train(o);
  return {slurp(dir.file("a/fold_0/checkpoint_final.pth")), slurp(dir.file("b/fold_0/checkpoint_final.pth"))};
}

TEST(Train, LearnsTheToyStructuresAndTheExportRunsThroughNnUNetInference) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 4);
  const auto summary = train(small(ds, dir.file("model")));
  ASSERT_EQ(summary.losses.size(), 12u);
  EXPECT_LT(summary.losses.back(), 0.6 * summary.losses.front())
      << summary.losses.front() << " -> " << summary.losses.back();
  ASSERT_FALSE(summary.validation.empty());
  EXPECT_EQ(summary.validation.back().first, 12);
  EXPECT_GT(summary.validation.back().second[0], 0.5) << "ball";
  EXPECT_GT(summary.iterationsPerSecond, 0);
  for (const char* f : {"plans.json", "dataset.json", "fold_0/checkpoint_final.pth", "fold_0/progress.json"})
    EXPECT_TRUE(std::filesystem::exists(dir.file("model/") + f)) << f;
  // the checkpoint's mirroring axes read back as written (LibTorch's pickler tags the list: it was read as none)
  EXPECT_EQ(inference::Network::loadNnUNetFold(dir.file("model"), 0, "final", inference::DeviceSpec{"cpu"})
                .allowedMirrorAxes(),
            (std::vector<int>{0, 1, 2}));
  // the exported folder through voxseg's nnU-Net inference
  const pipeline::SegmenterOptions run = oneThread();
  const auto model = loadExported(dir.file("model"));
  const io::Volume image = io::readVolume(ds + "/imagesTr/case03_0000.nii.gz");
  const io::Volume truth = io::readVolume(ds + "/labelsTr/case03.nii.gz");
  const auto result = pipeline::segmentNnUNet(model, {image}, run, false);
  ASSERT_TRUE(result.labels.geometry() == truth.geometry());
  const auto want = io::labelValues(truth), got = io::labelValues(result.labels);
  double tp = 0, sum = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    tp += want[i] == 1 && got[i] == 1;
    sum += (want[i] == 1) + (got[i] == 1);
  }
  EXPECT_GT(2 * tp / sum, 0.6) << "Dice of the ball on a training case";
  // the same image stored in another voxel order gives the same labels, on its own grid
  io::Volume turned = image;
  turned.image = processing::reorientTo(*image.image, image.pixelType, "PIL");
  const auto other = pipeline::segmentNnUNet(model, {turned}, run, false);
  ASSERT_TRUE(other.labels.geometry() == turned.geometry());
  io::Volume back = other.labels;
  back.image =
      processing::reorientTo(*other.labels.image, other.labels.pixelType, orientationCode(image.geometry().direction));
  EXPECT_EQ(io::labelValues(back), got);
}

// nnU-Net's ignore label: two slices in three unannotated. The network has no output for it, learns the
// structures from the annotated slices, and finds them whole in the held-out case (case03); the model folder
// keeps the label for nnU-Net.
TEST(Train, SparseAnnotationsTrainWithoutTheIgnoreLabelAndFindTheWholeStructures) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset002_Sparse"), 4, ToyLabels::Sparse);
  const std::string dense = makeToyDataset(dir.file("Dataset001_Toy"), 4); // the same cases, every voxel annotated
  TrainOptions o = small(ds, dir.file("model"));
  o.epochs = 20; // enough to tell apart: unannotated voxels taken as background gave 0.73, 0.61 and 0 below
  const auto summary = train(o);
  ASSERT_FALSE(summary.validation.empty());
  ASSERT_EQ(summary.validation.back().second.size(), 2u) << "Dice of ball and box, none of the ignore label";
  EXPECT_GT(summary.validation.back().second[0], 0.6) << "ball, on the annotated voxels of the held-out case";
  EXPECT_GT(summary.validation.back().second[1], 0.4) << "box, on the annotated voxels of the held-out case";
  std::ifstream in(dir.file("model/dataset.json"));
  EXPECT_EQ(nlohmann::json::parse(in).at("labels").at("ignore"), 3);
  const pipeline::SegmenterOptions run = oneThread();
  const auto model = loadExported(dir.file("model"));
  EXPECT_EQ(model.numClasses, 3);
  EXPECT_EQ(model.maxLabel, 2) << "the largest label written";
  const auto result = pipeline::segmentNnUNet(model, {io::readVolume(ds + "/imagesTr/case03_0000.nii.gz")}, run,
                                              true); // held out: not trained on
  const auto got = io::labelValues(result.labels);
  ASSERT_EQ(result.channels, 3);
  const auto want = io::labelValues(io::readVolume(dense + "/labelsTr/case03.nii.gz"));
  ASSERT_EQ(got.size(), want.size());
  double tp = 0, sum = 0, unannotatedTp = 0, unannotatedSum = 0, ballProbability = 0, ballVoxels = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    ASSERT_LT(got[i], 3) << "voxel " << i << ": the ignore label is no class";
    const bool unannotated = (i / (28 * 28)) % 3 != 0;
    tp += want[i] == 1 && got[i] == 1;
    sum += (want[i] == 1) + (got[i] == 1);
    unannotatedTp += unannotated && want[i] == 1 && got[i] == 1;
    unannotatedSum += unannotated * ((want[i] == 1) + (got[i] == 1));
    if (unannotated && want[i] == 1) {
      ballProbability += result.probabilities[want.size() + i];
      ballVoxels += 1;
    }
  }
  EXPECT_GT(2 * tp / sum, 0.8) << "Dice of the ball against the dense labels";
  EXPECT_GT(2 * unannotatedTp / unannotatedSum, 0.8) << "Dice of the ball on the slices left unannotated";
  EXPECT_GT(ballProbability / ballVoxels, 0.8) << "mean probability of the ball where it was left unannotated";
}

// A region-based dataset (nnU-Net's regions, as BraTS's): one sigmoid output per region, the exported folder keeps
// the regions in their order with regions_class_order, and segmenting writes 2 where "anything" is found, then 1
// where "ball" is: the ball and the box come back as labels 1 and 2 on the held-out case.
TEST(Train, RegionBasedLearnsEachRegionAndSegmentsThroughRegionsClassOrder) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset003_Regions"), 4, ToyLabels::Regions);
  TrainOptions o = small(ds, dir.file("model"));
  o.epochs = 20; // measured: Dice 0.93 and 0.93 (validation), labels 1 and 2 0.973 and 0.846
  const auto summary = train(o);
  ASSERT_FALSE(summary.validation.empty());
  ASSERT_EQ(summary.validation.back().second.size(), 2u) << "Dice of 'anything' and 'ball'";
  EXPECT_GT(summary.validation.back().second[0], 0.8) << "anything";
  EXPECT_GT(summary.validation.back().second[1], 0.8) << "ball";
  std::ifstream in(dir.file("model/dataset.json"));
  const auto exported = nlohmann::ordered_json::parse(in);
  EXPECT_EQ(exported.at("labels").dump(), R"({"background":0,"anything":[2,1],"ball":[1]})");
  EXPECT_EQ(exported.at("regions_class_order"), (std::vector<int>{2, 1}));
  const auto model = loadExported(dir.file("model"));
  EXPECT_EQ(model.numClasses, 2);
  EXPECT_EQ(model.regionsClassOrder, (std::vector<int>{2, 1}));
  const auto got = io::labelValues(
      pipeline::segmentNnUNet(model, {io::readVolume(ds + "/imagesTr/case03_0000.nii.gz")}, oneThread(), false).labels);
  const auto want = io::labelValues(io::readVolume(ds + "/labelsTr/case03.nii.gz"));
  ASSERT_EQ(got.size(), want.size());
  for (int label : {1, 2}) {
    double tp = 0, sum = 0;
    for (std::size_t i = 0; i < want.size(); ++i) {
      tp += want[i] == label && got[i] == label;
      sum += (want[i] == label) + (got[i] == label);
    }
    EXPECT_GT(2 * tp / sum, label == 1 ? 0.85 : 0.7) << "Dice of label " << label << " on the held-out case";
  }
}

TEST(Train, SameSeedSameWeightsAndResumeContinues) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 2);
  TrainOptions o = small(ds, dir.file("a"));
  o.epochs = 4;
  o.iterationsPerEpoch = 2;
  o.checkpointEvery = 2;
  const auto [a, b] = trainTwice(o, dir);
  EXPECT_EQ(a, b);
  // interrupted in epoch 3 (after the checkpoint of epoch 2), then resumed: the uninterrupted run's weights
  o.output = dir.file("c");
  EXPECT_THROW(train(o,
                     [](const EpochReport& r) {
                       if (r.epoch == 3) throw std::runtime_error("interrupted");
                     }),
               std::runtime_error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("c/fold_0/checkpoint_final.pth")));
  o.resume = true;
  const auto resumed = train(o);
  EXPECT_EQ(resumed.losses.size(), 4u);
  EXPECT_EQ(slurp(dir.file("c/fold_0/checkpoint_final.pth")), slurp(dir.file("b/fold_0/checkpoint_final.pth")));
  // a finished run goes on from its last epoch
  o.output = dir.file("a");
  o.epochs = 5;
  EXPECT_EQ(train(o).losses.size(), 5u);
  // ... and a resume with no epoch left keeps the rate of the epochs it trained (was 0)
  const auto again = train(o);
  EXPECT_EQ(again.losses.size(), 5u);
  EXPECT_GT(again.iterationsPerSecond, 0);
  const auto progress = nlohmann::json::parse(slurp(dir.file("a/fold_0/progress.json")));
  EXPECT_DOUBLE_EQ(progress.at("iterations_per_second").get<double>(), again.iterationsPerSecond);
  // fewer epochs than trained, or options that give another network: refused, nothing changed
  const std::string before = slurp(dir.file("a/fold_0/checkpoint_final.pth"));
  o.epochs = 3;
  EXPECT_THROW(train(o), Error);
  o.epochs = 6;
  o.maxFeatures = o.baseFeatures;
  try {
    train(o);
    FAIL() << "resumed with another network";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Usage);
    EXPECT_NE(std::string(e.what()).find("--resume: these options give another network"), std::string::npos);
  }
  EXPECT_EQ(slurp(dir.file("a/fold_0/checkpoint_final.pth")), before);
  // other held-out cases (here none: --val-fraction 0) would validate on cases the run trained on
  o.maxFeatures = small(ds, "").maxFeatures;
  o.validationFraction = 0;
  voxseg::testing::expectError([&] { train(o); }, ExitCode::Usage,
                               "validated on 1 held-out case(s), these options on 2 (case00 is among them now, not "
                               "then); resume with the options it was started with (--val-fraction, --fold, --splits)");
  EXPECT_EQ(slurp(dir.file("a/fold_0/checkpoint_final.pth")), before);
  // an existing model is not overwritten without force
  o.resume = false;
  o.validationFraction = small(ds, "").validationFraction;
  EXPECT_THROW(train(o), Error);
}

// Two intra-op threads split reductions differently from one thread, but the same way every run: the same
// seed and data give byte-identical weights with --threads 2 too.
TEST(Train, TwoThreadsSameSeedSameWeights) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 2);
  TrainOptions o = small(ds, dir.file("a"));
  o.epochs = 3;
  o.iterationsPerEpoch = 3;
  o.threads = 2;
  const auto [a, b] = trainTwice(o, dir);
  EXPECT_EQ(a, b);
}

// Noise augmentation draws from a generator whose state the checkpoint keeps: a resumed run gets the
// uninterrupted run's weights (LibTorch's global generator, used until 2026-11-27, was reseeded on resume).
TEST(Train, ResumeWithNoiseAugmentationGivesTheUninterruptedWeights) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 2);
  TrainOptions o = small(ds, dir.file("a"));
  o.epochs = 4;
  o.iterationsPerEpoch = 8; // 32 patches in epochs 3 and 4: noise (p 0.1) is drawn for some of them
  o.checkpointEvery = 2;
  o.validateEvery = 4;
  o.augment = Augmentation{};
  o.augment.mirror = o.augment.intensity = o.augment.blur = o.augment.lowResolution = false;
  o.augment.rotationDegrees = 0;
  o.augment.scaleLow = o.augment.scaleHigh = 1;
  train(o);
  o.output = dir.file("b");
  EXPECT_THROW(train(o,
                     [](const EpochReport& r) {
                       if (r.epoch == 3) throw std::runtime_error("interrupted");
                     }),
               std::runtime_error);
  o.resume = true;
  train(o);
  EXPECT_TRUE(slurp(dir.file("a/fold_0/checkpoint_final.pth")) == slurp(dir.file("b/fold_0/checkpoint_final.pth")))
      << "resumed weights differ from the uninterrupted run's";
}

// Settings no U-Net can be built from are usage errors before anything is made.
TEST(Train, ImpossibleSettingsAreUsageErrorsAndLeaveNoFolder) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 2);
  const auto refused = [&](const std::function<void(TrainOptions&)>& change, const std::string& message) {
    TrainOptions o = small(ds, dir.file("m/model"));
    change(o);
    try {
      train(o);
      ADD_FAILURE() << "accepted; expected: " << message;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Usage) << e.what();
      EXPECT_NE(std::string(e.what()).find(message), std::string::npos) << e.what();
    }
    EXPECT_FALSE(std::filesystem::exists(dir.file("m"))) << message;
  };
  refused([](TrainOptions& o) { o.patch = {3, 3, 3}; }, "--patch: at least one axis of 8 voxels");
  // a typo in --spacing: refused before anything is resampled (it asked for the machine's memory, then failed)
  refused([](TrainOptions& o) { o.spacing = {0.001, 0.001, 0.001}; }, "--spacing 0.001,0.001,0.001 mm: case case0");
  refused([](TrainOptions& o) { o.spacing = {1000, 2, 2}; }, "leaves case");
  refused([](TrainOptions& o) { o.maxStages = 0; }, "--max-stages must be >= 2");
  refused([](TrainOptions& o) { o.baseFeatures = 0; }, "--features must be >= 1");
  refused([](TrainOptions& o) { o.learningRate = -1; }, "--lr must be above 0");
  refused([](TrainOptions& o) { o.validationFraction = 1; }, "--val-fraction must be within [0, 1)");
  // refused after its folders were made (nothing to resume from): they are removed again
  TrainOptions o = small(ds, dir.file("m/model"));
  o.resume = true;
  EXPECT_THROW(train(o), Error);
  EXPECT_FALSE(std::filesystem::exists(dir.file("m")));
}

TEST(Dataset, LayoutProblemsNameTheFile) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 2);
  std::filesystem::remove(ds + "/imagesTr/case01_0000.nii.gz");
  try {
    readRawDataset(ds);
    FAIL();
  } catch (const Error& e) {
    EXPECT_NE(std::string(e.what()).find("case01_0000.nii.gz: missing: channel 0 of case case01"), std::string::npos)
        << e.what();
  }
  // an image of a channel dataset.json does not declare: named (nnU-Net would not read it; it was ignored silently)
  const std::string extra = makeToyDataset(dir.file("Dataset009_Extra"), 2);
  std::filesystem::copy_file(extra + "/imagesTr/case01_0000.nii.gz", extra + "/imagesTr/case01_0001.nii.gz");
  voxseg::testing::expectError([&] { readRawDataset(extra); }, ExitCode::Input,
                               "case01_0001.nii.gz: channel 0001 of a case, but " + extra +
                                   "/dataset.json declares 1 channel(s) in channel_names");
  // a label map missing: its image is named (it was "numTraining is 2 but labelsTr holds 1", or, with
  // numTraining adjusted, the image was left out silently)
  const std::string other = makeToyDataset(dir.file("Dataset002_Toy"), 3);
  std::filesystem::remove(other + "/labelsTr/case02.nii.gz");
  for (const char* numTraining : {"3", "2"}) {
    std::string json;
    {
      std::ifstream in(other + "/dataset.json");
      json.assign(std::istreambuf_iterator<char>(in), std::istreambuf_iterator<char>());
    }
    const auto at = json.find("\"numTraining\"");
    ASSERT_NE(at, std::string::npos) << json;
    const auto colon = json.find(':', at), end = json.find_first_of(",}", colon);
    json.replace(colon + 1, end - colon - 1, std::string(" ") + numTraining);
    std::ofstream(other + "/dataset.json") << json;
    try {
      readRawDataset(other);
      FAIL() << "numTraining " << numTraining;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Input);
      EXPECT_NE(std::string(e.what()).find("case02_0000.nii.gz: no label map "), std::string::npos) << e.what();
      EXPECT_NE(std::string(e.what()).find("labelsTr/case02.nii.gz for this image"), std::string::npos) << e.what();
    }
  }
  std::ofstream(ds + "/dataset.json") << R"({"channel_names": {"0": "MR"}, "labels": {"background": 0, "a": 2},
    "numTraining": 2, "file_ending": ".nii.gz"})";
  EXPECT_THROW(readRawDataset(ds), Error);
  // two names for one value (the label maps then hold a value dataset.json does not name): refused, both named
  std::ofstream(ds + "/dataset.json") << R"({"channel_names": {"0": "MR"},
    "labels": {"background": 0, "ball": 1, "box": 1}, "numTraining": 2, "file_ending": ".nii.gz"})";
  try {
    readRawDataset(ds);
    ADD_FAILURE() << "duplicate label values accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Input);
    EXPECT_NE(std::string(e.what()).find("labels \"ball\" and \"box\" both have the value 1"), std::string::npos)
        << e.what();
  }
  // nnU-Net's ignore label (sparse annotations): the highest value, not a class
  const std::string good = makeToyDataset(dir.file("Dataset003_Toy"), 2);
  EXPECT_EQ(readRawDataset(good).classes(), 3);
  std::ofstream(good + "/dataset.json") << R"({"channel_names": {"0": "MR"},
    "labels": {"background": 0, "ball": 1, "ignore": 2}, "numTraining": 2, "file_ending": ".nii.gz"})";
  const RawDataset sparse = readRawDataset(good);
  EXPECT_EQ(sparse.ignoreLabel, 2);
  EXPECT_EQ(sparse.classes(), 2);
  std::ofstream(ds + "/dataset.json") << R"({"channel_names": {"0": "MR"},
    "labels": {"background": 0, "ignore": 1, "ball": 2}, "numTraining": 2, "file_ending": ".nii.gz"})";
  voxseg::testing::expectError([&] { readRawDataset(ds); }, ExitCode::Input,
                               "the ignore label (1) must be the highest label value, one above the others (3 here)");
  std::ofstream(ds + "/dataset.json") << R"({"channel_names": {"0": "MR"},
    "labels": {"background": 0, "ignore": 1}, "numTraining": 2, "file_ending": ".nii.gz"})";
  voxseg::testing::expectError([&] { readRawDataset(ds); }, ExitCode::Input, "leaves no class to learn");
  std::ofstream(ds + "/dataset.json") << R"({"channel_names": {"0": "MR"},
    "labels": {"background": 0, "ball": 1, "ignore": [1, 2]}, "numTraining": 2, "file_ending": ".nii.gz"})";
  voxseg::testing::expectError([&] { readRawDataset(ds); }, ExitCode::Input,
                               "label \"ignore\" is [1,2], not a value 1..255 (nnU-Net's ignore label is one integer");
  // region-based (nnU-Net's regions): the foreground entries in the file's order, with regions_class_order
  std::ofstream(good + "/dataset.json") << R"({"channel_names": {"0": "MR"}, "regions_class_order": [3, 1, 2],
    "labels": {"background": 0, "whole": [1, 2, 3], "core": [3, 2], "enhancing": 3}, "numTraining": 2,
    "file_ending": ".nii.gz"})";
  const RawDataset regions = readRawDataset(good);
  ASSERT_TRUE(regions.regionBased());
  EXPECT_EQ(regions.classes(), 3);
  EXPECT_EQ(regions.maxLabel, 3);
  EXPECT_EQ(regions.regions, (std::vector<std::pair<std::string, std::vector<int>>>{
                                 {"whole", {1, 2, 3}}, {"core", {2, 3}}, {"enhancing", {3}}}));
  EXPECT_EQ(regions.regionsClassOrder, (std::vector<int>{3, 1, 2}));
  // summary.json's keys: the entries as listed (nnU-Net keeps [3, 2] as (3, 2))
  EXPECT_EQ(regions.regionKeys, (std::vector<std::string>{"(1, 2, 3)", "(3, 2)", "3"}));
  std::ofstream(good + "/dataset.json") << R"({"channel_names": {"0": "MR"}, "regions_class_order": [1, 2],
    "labels": {"background": 0, "whole": [2, 1], "enhancing": [2]}, "numTraining": 2, "file_ending": ".nii.gz"})";
  EXPECT_EQ(readRawDataset(good).regionKeys, (std::vector<std::string>{"(2, 1)", "(2,)"}));
  const auto refusedRegions = [&](const std::string& labels, const std::string& order, const std::string& message) {
    std::ofstream(good + "/dataset.json") << R"({"channel_names": {"0": "MR"}, "labels": )" << labels << order
                                          << R"(, "numTraining": 2, "file_ending": ".nii.gz"})";
    voxseg::testing::expectError([&] { readRawDataset(good); }, ExitCode::Input, message);
  };
  const std::string two = R"({"background": 0, "both": [1, 2], "one": 1})";
  refusedRegions(two, "", "a region-based dataset (an entry lists several labels) needs \"regions_class_order\"");
  refusedRegions(two, R"(, "regions_class_order": [1])", "one label value per region (2 regions)");
  refusedRegions(two, R"(, "regions_class_order": [1, 0])", "regions_class_order entry 0 is not a label value");
  refusedRegions(R"({"background": 0, "both": [0, 1, 2], "one": 1})", R"(, "regions_class_order": [2, 1])",
                 "region \"both\" holds the background (0) beside labels");
  refusedRegions(R"({"background": 0, "both": [1, 2], "again": [2, 1]})", R"(, "regions_class_order": [2, 1])",
                 "regions \"both\" and \"again\" hold the same labels");
  refusedRegions(R"({"background": 0, "both": [1, 2, 3], "one": 1, "ignore": 3})", R"(, "regions_class_order": [2, 1])",
                 "the ignore label (3) must be the highest label value, one above the others (4 here)");
  refusedRegions(R"({"background": 0, "both": [1, 1]})", "", "label \"both\" lists a value twice");
  refusedRegions(R"({"background": 0, "big": 256})", "",
                 "label \"big\" has the value 256: label values are integers 0..255 (training holds labels in bytes)");
  refusedRegions(R"({"background": 0, "x": 1.5})", "",
                 "label \"x\" has the value 1.5: label values are integers 0..255");
  refusedRegions(R"({"bg": 0, "ball": 1})", "", "labels need \"background\": 0");
  // BraTS's raw values 1, 2, 4: gaps are a region-based dataset's right (nnU-Net's too), not a plain one's
  std::ofstream(good + "/dataset.json") << R"({"channel_names": {"0": "MR"}, "regions_class_order": [1, 2, 4],
    "labels": {"background": 0, "whole": [1, 2, 4], "core": [2, 4], "enhancing": 4}, "numTraining": 2,
    "file_ending": ".nii.gz"})";
  EXPECT_EQ(readRawDataset(good).values, (std::vector<int>{0, 1, 2, 4}));
  refusedRegions(R"({"background": 0, "ball": 1, "box": 3})", "",
                 "labels must be 0 (background), 1, ..., N without gaps");
  refusedRegions(R"({"background": 0, "both": [1, 2], "one": 1, "ignore": 4})", R"(, "regions_class_order": [2, 1])",
                 "the ignore label (4) must be the highest label value, one above the others (3 here)");
  EXPECT_THROW(readRawDataset(dir.file("nowhere")), Error);
}

} // namespace
} // namespace voxseg::training
