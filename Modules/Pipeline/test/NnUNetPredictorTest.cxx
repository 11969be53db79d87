// NnUNetPredictor: trained-model folders or a dataset's results folder loaded once, each case segmented as
// nnUNetv2_predict (+ nnUNetv2_ensemble + nnUNetv2_apply_postprocessing) would.
#include "voxseg/pipeline/NnUNetPredictor.h"
#include "NnUNetResultsFolder.h"
#include "PipelineTestOptions.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/LabelImages.h"
#include "voxseg/pipeline/NnUNetEnsemble.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>

#include <algorithm>
#include <filesystem>
#include <fstream>

namespace voxseg::pipeline {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

const std::string kModelFolder = "fixtures/nnunet/model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres";
const std::string kPhantomB = "fixtures/nnunet/inputs/phantomB_0000.nii.gz";

NnUNetPredictorOptions noMirroring(const std::vector<std::string>& folders) {
  NnUNetPredictorOptions o;
  o.folders = folders;
  o.nnunet.tta = false;
  return o;
}

std::vector<std::uint8_t> labelsOf(const io::Volume& v) {
  const auto* p = v.as<std::uint8_t>()->GetBufferPointer();
  return {p, p + v.geometry().voxelCount()};
}

// Exit code and message of what `make` throws.
template <typename Make> std::pair<ExitCode, std::string> refusal(Make make) {
  try {
    make();
  } catch (const Error& e) {
    return {e.code(), e.what()};
  }
  return {ExitCode::Ok, "(no error)"};
}

TEST(NnUNetPredictor, ResultsFolderRunsItsChoiceOnItsFoldsWithItsPostprocessing) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  TempDir tmp;
  const auto dataset = makeNnUNetResultsFolder(tmp.path(), folder, "[1, 2]");
  const NnUNetPredictor predictor(noMirroring({dataset.string()}), oneCpuThread());
  EXPECT_EQ(predictor.resultsFile(), (dataset / "inference_information.json").string());
  ASSERT_EQ(predictor.members().size(), 1u);
  EXPECT_EQ(predictor.members()[0]->options.folder, (dataset / "nnUNetTrainer__nnUNetPlans__3d_fullres").string());
  EXPECT_EQ(predictor.members()[0]->options.folds, std::vector<int>{0}); // the file's folds, not every trained fold
  EXPECT_EQ(predictor.postprocessingFile(),
            (dataset / "nnUNetTrainer__nnUNetPlans__3d_fullres" / "crossval_results_folds_0" / "postprocessing.json")
                .string());
  ASSERT_EQ(predictor.postprocessing().size(), 1u);
  EXPECT_EQ(predictor.postprocessing()[0].labels, (std::vector<int>{1, 2}));
  EXPECT_EQ(predictor.channelNames(), std::vector<std::string>{"CT"});
  const auto table = predictor.labelTable();
  ASSERT_EQ(table.size(), 3u);
  EXPECT_EQ(table[2].name, "organB");

  // the same as fold 0 alone, then the largest foreground component kept
  const io::Volume input = io::readVolume(sharedPath(kPhantomB));
  std::int64_t windows = 0;
  const NnUNetResult r =
      predictor.segment({input}, oneCpuThread(), false, [&](std::int64_t d, std::int64_t) { windows = d; });
  NnUNetOptions fold0;
  fold0.folder = folder;
  fold0.folds = {0};
  fold0.tta = false;
  NnUNetResult want = segmentNnUNet(loadNnUNet(fold0, oneCpuThread()), {input}, oneCpuThread(), false);
  const auto before = labelsOf(want.labels);
  processing::Postprocessing steps;
  steps.largestOfUnions = {{{1, 2}, 0}};
  const std::size_t removed = postprocessLabels(want.labels, steps).unionsRemoved;
  EXPECT_EQ(removed, 332u); // `voxseg segment --nnunet-postprocessing` on phantomB: the step does something here
  EXPECT_EQ(r.postprocessed, removed);
  EXPECT_EQ(labelsOf(r.labels), labelsOf(want.labels));
  EXPECT_NE(labelsOf(r.labels), before);
  EXPECT_EQ(r.labels.geometry(), input.geometry());
  EXPECT_EQ(windows, r.stats.windows);
}

TEST(NnUNetPredictor, GivenFoldsAndPostprocessingWinOverTheResultsFolders) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  TempDir tmp;
  const auto dataset = makeNnUNetResultsFolder(tmp.path(), folder, "[1, 2]");
  NnUNetPredictorOptions o = noMirroring({(dataset / "inference_information.json").string()});
  o.nnunet.folds = {1};
  o.noPostprocessing = true;
  const NnUNetPredictor none(o, oneCpuThread());
  EXPECT_EQ(none.members()[0]->options.folds, std::vector<int>{1});
  EXPECT_TRUE(none.postprocessingFile().empty());
  EXPECT_TRUE(none.postprocessing().empty());
  const io::Volume input = io::readVolume(sharedPath(kPhantomB));
  EXPECT_EQ(none.segment({input}, oneCpuThread(), false).postprocessed, 0u);

  std::ofstream(tmp.file("mine.json"))
      << R"({"postprocessing_fns": ["remove_all_but_largest_component_from_segmentation"],
             "postprocessing_kwargs": [{"labels_or_regions": 1}]})";
  o.noPostprocessing = false;
  o.postprocessing = tmp.file("mine.json");
  const NnUNetPredictor mine(o, oneCpuThread());
  EXPECT_EQ(mine.postprocessingFile(), tmp.file("mine.json"));
  ASSERT_EQ(mine.postprocessing().size(), 1u);
  EXPECT_EQ(mine.postprocessing()[0].labels, std::vector<int>{1});

  // trained-model folders carry no post-processing
  const NnUNetPredictor plain(noMirroring({folder}), oneCpuThread());
  EXPECT_TRUE(plain.resultsFile().empty());
  EXPECT_TRUE(plain.postprocessingFile().empty());
  EXPECT_EQ(plain.members()[0]->options.folds, (std::vector<int>{0, 1})); // every trained fold
}

// A trained-model folder made of the fixture's plans.json and dataset.json and the given fold folders (links).
std::string partialFolder(const TempDir& tmp, const std::string& fixture, const std::string& name,
                          const std::vector<std::string>& folds) {
  const auto d = tmp.path() / name / "nnUNetTrainer__nnUNetPlans__3d_fullres";
  std::filesystem::create_directories(d);
  for (const char* f : {"plans.json", "dataset.json"}) std::filesystem::create_symlink(fixture + "/" + f, d / f);
  for (const auto& f : folds) std::filesystem::create_symlink(fixture + "/" + f, d / f);
  return d.string();
}

// Two folders, each with its own detected folds (the fixture's 0 and 1; a folder holding fold 1 alone): the
// probabilities are the mean of what each gives alone, in float32 as nnU-Net's average_probabilities.
TEST(NnUNetPredictor, EnsembleOfFoldersAveragesEachFoldersProbabilities) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  TempDir tmp;
  const std::string second = partialFolder(tmp, folder, "second", {"fold_1"});
  const NnUNetPredictor predictor(noMirroring({folder, second}), oneCpuThread());
  ASSERT_EQ(predictor.members().size(), 2u);
  EXPECT_EQ(predictor.members()[0]->options.folds, (std::vector<int>{0, 1}));
  EXPECT_EQ(predictor.members()[1]->options.folds, std::vector<int>{1});
  const io::Volume input = io::readVolume(sharedPath(kPhantomB));
  const NnUNetResult got = predictor.segment({input}, oneCpuThread(), true);
  const auto alone = [&](const std::string& f) {
    NnUNetOptions o;
    o.folder = f;
    o.tta = false;
    return segmentNnUNet(loadNnUNet(o, oneCpuThread()), {input}, oneCpuThread(), true).probabilities;
  };
  const std::vector<float> a = alone(folder), b = alone(second);
  ASSERT_EQ(got.probabilities.size(), a.size());
  std::size_t differ = 0;
  for (std::size_t i = 0; i < a.size(); ++i) {
    ASSERT_EQ(got.probabilities[i], (a[i] + b[i]) / 2.0f) << i;
    differ += a[i] != b[i];
  }
  EXPECT_GT(differ, a.size() / 2) << "two different models";
  EXPECT_EQ(got.postprocessed, 0u);
  EXPECT_EQ(got.labels.geometry(), input.geometry());
}

TEST(NnUNetPredictor, BadOptionsAndFilesAreRefusedBeforeAnyNetworkLoads) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModelFolder));
  TempDir tmp;
  const auto dataset = makeNnUNetResultsFolder(tmp.path(), folder, "[1, 2]");
  auto [code, message] = refusal([] { NnUNetPredictor(NnUNetPredictorOptions{}, oneCpuThread()); });
  EXPECT_EQ(code, ExitCode::Usage);
  EXPECT_NE(message.find("no nnU-Net folder given"), std::string::npos) << message;

  NnUNetPredictorOptions both = noMirroring({folder});
  both.postprocessing = tmp.file("pp.json");
  both.noPostprocessing = true;
  std::tie(code, message) = refusal([&] { NnUNetPredictor(both, oneCpuThread()); });
  EXPECT_EQ(code, ExitCode::Usage);
  EXPECT_NE(message.find("pp.json: a post-processing file is given, and no post-processing is asked for"),
            std::string::npos)
      << message;

  std::tie(code, message) = refusal([&] { NnUNetPredictor(noMirroring({dataset.string(), folder}), oneCpuThread()); });
  EXPECT_EQ(code, ExitCode::Usage);
  EXPECT_NE(message.find("Dataset990_Phantom: an nnU-Net results folder (inference_information.json) chooses the "
                         "configurations itself; give it alone"),
            std::string::npos)
      << message;

  std::ofstream(tmp.file("bad.json")) << R"({"postprocessing_fns": ["fill_holes"], "postprocessing_kwargs": [{}]})";
  NnUNetPredictorOptions bad = noMirroring({folder});
  bad.postprocessing = tmp.file("bad.json");
  std::tie(code, message) = refusal([&] { NnUNetPredictor(bad, oneCpuThread()); });
  EXPECT_EQ(code, ExitCode::Input);
  EXPECT_NE(message.find("bad.json"), std::string::npos) << message;

  // the post-processing is read before any network loads: its error, not that of the missing checkpoint
  NnUNetPredictorOptions noCheckpoint = noMirroring({partialFolder(tmp, folder, "empty", {})});
  noCheckpoint.postprocessing = tmp.file("bad.json");
  std::tie(code, message) = refusal([&] { NnUNetPredictor(noCheckpoint, oneCpuThread()); });
  EXPECT_EQ(code, ExitCode::Input);
  EXPECT_NE(message.find("bad.json"), std::string::npos) << message;
  noCheckpoint.postprocessing.clear();
  std::tie(code, message) = refusal([&] { NnUNetPredictor(noCheckpoint, oneCpuThread()); });
  EXPECT_EQ(code, ExitCode::Model) << message;
  EXPECT_NE(message.find("empty"), std::string::npos) << message;

  NnUNetPredictorOptions labels = noMirroring({folder});
  labels.previousStageLabels = "--previousStage p.nrrd";
  std::tie(code, message) = refusal([&] { NnUNetPredictor(labels, oneCpuThread()); });
  EXPECT_EQ(code, ExitCode::Usage);
  EXPECT_NE(message.find("--previousStage p.nrrd: "), std::string::npos) << message;
  EXPECT_NE(message.find("is not a cascade stage"), std::string::npos) << message;
}

} // namespace
} // namespace voxseg::pipeline
