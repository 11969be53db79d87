// inference_information.json as nnUNetv2_find_best_configuration writes it (nnU-Net 2.8.1), read where the results
// were moved to.
#include "voxseg/pipeline/NnUNetInferenceInformation.h"
#include "voxseg/core/Error.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

namespace voxseg::pipeline {
namespace {

namespace fs = std::filesystem;

// <tmp>/Dataset990_X with the 3d_fullres and 2d folders (plans.json only) and the ensemble's postprocessing.json
fs::path results(const voxseg::testing::TempDir& tmp, const std::string& postprocessingFile,
                 const std::string& folds = "[0, 1, 2, 3, 4]") {
  const fs::path d = tmp.path() / "Dataset990_X";
  for (const char* c : {"3d_fullres", "2d"}) {
    fs::create_directories(d / ("nnUNetTrainer__nnUNetPlans__" + std::string(c)));
    std::ofstream(d / ("nnUNetTrainer__nnUNetPlans__" + std::string(c)) / "plans.json") << "{}";
  }
  fs::create_directories(d / "ensembles" / "e");
  std::ofstream(d / "ensembles" / "e" / "postprocessing.json") << "{}";
  std::ofstream(d / "inference_information.json") << R"({"folds": )" << folds << R"(, "best_model_or_ensemble": {
    "result_on_crossval_pre_pp": 0.81, "result_on_crossval_post_pp": 0.83, "postprocessing_file": ")"
                                                  << postprocessingFile << R"(",
    "selected_model_or_models": [{"configuration": "3d_fullres", "plans_identifier": "nnUNetPlans",
      "trainer": "nnUNetTrainer"}, {"configuration": "2d", "plans_identifier": "nnUNetPlans",
      "trainer": "nnUNetTrainer"}]}})";
  return d;
}

std::string failure(const std::string& path) {
  try {
    readNnUNetInferenceInformation(path);
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    return e.what();
  }
  return "(no error)";
}

TEST(NnUNetInferenceInformation, SelectedFoldersFoldsAndPostprocessingWhereTheResultsWereMoved) {
  voxseg::testing::TempDir tmp;
  // written on another machine; the dataset's name twice on the way: the part below the last one is used
  const fs::path d = results(tmp, "/data/Dataset990_X/nnUNet_results/Dataset990_X/ensembles/e/postprocessing.pkl");
  EXPECT_TRUE(isNnUNetResultsFolder(d.string()));
  EXPECT_TRUE(isNnUNetResultsFolder((d / "inference_information.json").string()));
  EXPECT_FALSE(isNnUNetResultsFolder((d / "nnUNetTrainer__nnUNetPlans__2d").string()));
  EXPECT_FALSE(isNnUNetResultsFolder((d / "nowhere.json").string()));
  const NnUNetInferenceInformation info = readNnUNetInferenceInformation(d.string());
  EXPECT_EQ(info.file, (d / "inference_information.json").string());
  ASSERT_EQ(info.folders.size(), 2u);
  EXPECT_EQ(info.folders[0], (d / "nnUNetTrainer__nnUNetPlans__3d_fullres").string());
  EXPECT_EQ(info.folders[1], (d / "nnUNetTrainer__nnUNetPlans__2d").string());
  EXPECT_EQ(info.folds, (std::vector<int>{0, 1, 2, 3, 4}));
  EXPECT_EQ(info.postprocessing, (d / "ensembles" / "e" / "postprocessing.json").string());
  EXPECT_DOUBLE_EQ(info.diceBefore, 0.81);
  EXPECT_DOUBLE_EQ(info.diceAfter, 0.83);
  // the file itself; a path that exists is taken as written when nothing lies at its place below the folder
  const fs::path elsewhere = tmp.path() / "pp";
  fs::create_directories(elsewhere);
  std::ofstream(elsewhere / "postprocessing.json") << "{}";
  results(tmp, (elsewhere / "postprocessing.pkl").string());
  EXPECT_EQ(readNnUNetInferenceInformation((d / "inference_information.json").string()).postprocessing,
            (elsewhere / "postprocessing.json").string());
  // ... and the copy below the folder read wins over the original, where both exist
  fs::create_directories(elsewhere / "ensembles" / "e");
  std::ofstream(elsewhere / "ensembles" / "e" / "postprocessing.json") << "{}";
  results(tmp, (elsewhere / "ensembles" / "e" / "postprocessing.pkl").string());
  EXPECT_EQ(readNnUNetInferenceInformation(d.string()).postprocessing,
            (d / "ensembles" / "e" / "postprocessing.json").string());
}

// The folder renamed, given as "d/.", results written on Windows: the place below the folder, by its last two folders.
TEST(NnUNetInferenceInformation, RenamedFoldersDotsAndWindowsPaths) {
  voxseg::testing::TempDir tmp;
  fs::rename(results(tmp, R"(C:\\nnUNet_results\\Dataset990_X\\ensembles\\e\\postprocessing.pkl)"),
             tmp.path() / "liver_v2");
  const fs::path d = tmp.path() / "liver_v2";
  const NnUNetInferenceInformation info = readNnUNetInferenceInformation((d / ".").string());
  EXPECT_EQ(info.postprocessing, (d / "ensembles" / "e" / "postprocessing.json").string());
  EXPECT_EQ(fs::path(info.folders.front()).lexically_normal(), d / "nnUNetTrainer__nnUNetPlans__3d_fullres");
}

TEST(NnUNetInferenceInformation, ProblemsNameTheFile) {
  voxseg::testing::TempDir tmp;
  const fs::path d = results(tmp, "/data/nnUNet_results/Dataset990_X/ensembles/gone/postprocessing.pkl");
  const std::string file = (d / "inference_information.json").string();
  EXPECT_EQ(failure(d.string())
                .rfind(file +
                           ": its post-processing /data/nnUNet_results/Dataset990_X/ensembles/"
                           "gone/postprocessing.pkl has no postprocessing.json beside it (looked for " +
                           (d / "ensembles" / "gone" / "postprocessing.json").string() +
                           ", then /data/nnUNet_results/Dataset990_X/ensembles/gone/postprocessing.json;",
                       0),
            0u);
  // without post-processing wanted, none is looked for
  EXPECT_TRUE(readNnUNetInferenceInformation(d.string(), false).postprocessing.empty());
  fs::remove(d / "nnUNetTrainer__nnUNetPlans__2d" / "plans.json");
  EXPECT_EQ(failure(d.string()), file + ": selects nnUNetTrainer__nnUNetPlans__2d, and " +
                                     (d / "nnUNetTrainer__nnUNetPlans__2d").string() +
                                     " holds no trained model (no plans.json)");
  results(tmp, "/x/postprocessing.pkl", "\"0\"");
  EXPECT_EQ(failure(d.string()).rfind(file + ": not as nnUNetv2_find_best_configuration writes it (", 0), 0u);
  results(tmp, "/x/postprocessing.pkl", "[]");
  EXPECT_EQ(failure(d.string()), file + ": names no fold");
  std::ofstream(file) << "{";
  EXPECT_EQ(failure(d.string()), file + ": not valid JSON");
  fs::remove(file);
  EXPECT_EQ(failure(d.string()), file + ": cannot be read");
}

} // namespace
} // namespace voxseg::pipeline
