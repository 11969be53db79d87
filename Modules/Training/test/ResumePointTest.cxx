// The resume point (<model>/training/): a checkpoint is written so that an interrupt or a failed write at any moment
// leaves a usable one; broken or foreign state files are refused naming the file; a fresh run does not overwrite an
// unfinished run's state; a fold retrained with --force does not strand the folds trained with the old plans.
#include "voxseg/core/Error.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Errors.h"
#include "voxseg/training/Train.h"

#include "ToyDataset.h"
#include "TrainTestSupport.h"

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iterator>
#include <set>
#include <stdexcept>

namespace voxseg::training {
namespace {

namespace fs = std::filesystem;
using voxseg::testing::expectError;
using voxseg::testing::TempDir;

// small()'s run cut down: 4 epochs of 2 iterations, 2 stages of 4..8 features, a checkpoint every 2 epochs, seed 3.
TrainOptions tiny(const std::string& dataset, const std::string& out) {
  TrainOptions o = small(dataset, out);
  o.epochs = 4;
  o.iterationsPerEpoch = 2;
  o.batch = 1;
  o.baseFeatures = 4;
  o.maxFeatures = 8;
  o.maxStages = 2;
  o.validateEvery = 2;
  o.checkpointEvery = 2;
  o.seed = 3;
  return o;
}

std::string slurp(const fs::path& path) { return training::slurp(path.string()); }

void spit(const fs::path& path, const std::string& bytes) { std::ofstream(path, std::ios::binary) << bytes; }

std::set<std::string> names(const fs::path& folder) {
  std::set<std::string> out;
  for (const auto& e : fs::directory_iterator(folder)) out.insert(e.path().filename().string());
  return out;
}

// Trains o.output until epoch 3 starts (after the checkpoint of epoch 2), then stops as an interrupt would.
void interruptedInEpoch3(const TrainOptions& o) {
  EXPECT_THROW(train(o,
                     [](const EpochReport& r) {
                       if (r.epoch == 3) throw std::runtime_error("interrupted");
                     }),
               std::runtime_error);
}

TEST(ResumePoint, AnInterruptedSaveLeavesTheLastCompleteCheckpoint) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 2);
  TrainOptions o = tiny(ds, dir.file("whole"));
  train(o);
  const std::string whole = slurp(dir.file("whole/fold_0/checkpoint_final.pth"));
  EXPECT_EQ(names(dir.file("whole/training")), (std::set<std::string>{"network-4.pt", "optimizer-4.pt", "state.json"}));

  // epoch 2's checkpoint, and the files of epoch 4's save cut short (before state.json named them): garbage
  o.output = dir.file("cut");
  interruptedInEpoch3(o);
  const fs::path state = dir.file("cut/training");
  EXPECT_EQ(names(state), (std::set<std::string>{"network-2.pt", "optimizer-2.pt", "state.json"}));
  const auto j = nlohmann::json::parse(slurp(state / "state.json"));
  EXPECT_EQ(j.at("network_file"), "network-2.pt");
  EXPECT_EQ(j.at("optimizer"), "sgd");
  spit(state / "network-4.pt", "half a zip");
  spit(state / "optimizer-4.pt", "");
  o.resume = true;
  train(o);
  EXPECT_TRUE(slurp(dir.file("cut/fold_0/checkpoint_final.pth")) == whole) << "resumed weights differ";
  EXPECT_EQ(names(state), (std::set<std::string>{"network-4.pt", "optimizer-4.pt", "state.json"}));

  // a run checkpointed before 2026-11-29 (network.pt, optimizer.pt, a state.json that names neither) still resumes
  o.resume = false;
  o.output = dir.file("legacy");
  interruptedInEpoch3(o);
  const fs::path legacy = dir.file("legacy/training");
  fs::rename(legacy / "network-2.pt", legacy / "network.pt");
  fs::rename(legacy / "optimizer-2.pt", legacy / "optimizer.pt");
  auto old = nlohmann::json::parse(slurp(legacy / "state.json"));
  for (const char* key : {"network_file", "optimizer_file", "optimizer"}) old.erase(key);
  spit(legacy / "state.json", old.dump());
  o.resume = true;
  train(o);
  EXPECT_TRUE(slurp(dir.file("legacy/fold_0/checkpoint_final.pth")) == whole) << "resumed weights differ";
  EXPECT_EQ(names(legacy), (std::set<std::string>{"network-4.pt", "optimizer-4.pt", "state.json"}));
}

TEST(ResumePoint, BrokenOrForeignStateIsRefusedNamingTheFile) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 2);
  TrainOptions o = tiny(ds, dir.file("m"));
  interruptedInEpoch3(o);
  const fs::path state = dir.file("m/training");
  const std::string network = slurp(state / "network-2.pt"), json = slurp(state / "state.json");

  // a fresh run over an unfinished one: refused (it overwrote the resume point), the state untouched
  expectError([&] { train(o); }, ExitCode::Output,
              (state / "state.json").string() + ": the resume point of an earlier run in this folder: --resume "
                                                "continues it, --force starts over");
  EXPECT_EQ(slurp(state / "network-2.pt"), network);

  o.resume = true;
  // another optimizer (its state cannot be loaded into this one: LibTorch asserted)
  o.optimizer = "adamw";
  expectError([&] { train(o); }, ExitCode::Usage, "was started with --optimizer \"sgd\", not adamw");
  o.optimizer = "sgd";
  // a network state cut short, or gone (it was an internal error with LibTorch's backtrace)
  spit(state / "network-2.pt", network.substr(0, network.size() / 2));
  expectError([&] { train(o); }, ExitCode::Input,
              (state / "network-2.pt").string() + ": not a readable training state file (");
  fs::remove(state / "network-2.pt");
  expectError([&] { train(o); }, ExitCode::Input, (state / "network-2.pt").string() + ": missing");
  spit(state / "network-2.pt", network);
  // state.json that is not JSON, or lacks what a resume reads
  spit(state / "state.json", json.substr(0, json.size() / 2));
  expectError([&] { train(o); }, ExitCode::Input, (state / "state.json").string() + ": not a training state");
  spit(state / "state.json", R"({"epoch": 2, "losses": [1, 2], "validation": [], "rng": 7})");
  expectError([&] { train(o); }, ExitCode::Input, (state / "state.json").string() + ": malformed training state");
  spit(state / "state.json", R"({"epoch": 2, "losses": [1], "validation": [], "rng": "x", "network_file": "../x"})");
  expectError([&] { train(o); }, ExitCode::Input, "\"network_file\" is not a file name in its folder");
  // a validation Dice that was NaN (a label absent from the validation patches) is written as null: it resumes (it
  // was refused, so such a run could not go on)
  auto withNull = nlohmann::json::parse(json);
  ASSERT_FALSE(withNull.at("validation").empty());
  withNull["validation"][0][1][0] = nullptr;
  spit(state / "state.json", withNull.dump());
  const auto resumed = train(o);
  EXPECT_EQ(resumed.losses.size(), 4u);
  EXPECT_TRUE(std::isnan(resumed.validation.front().second.front()));
}

// --force --fold K with other plans: the folds already trained with the old plans.json would be averaged with this
// one by segment -m; refused unless no other fold is trained.
TEST(ResumePoint, ForceOnAFoldDoesNotStrandTheOtherFolds) {
  TempDir dir;
  const std::string ds = makeToyDataset(dir.file("Dataset001_Toy"), 5);
  TrainOptions o = tiny(ds, dir.file("m"));
  o.epochs = 1;
  o.fold = 0;
  train(o);
  const std::string plans = slurp(dir.file("m/plans.json"));
  o.fold = 1;
  o.maxFeatures = 16;
  o.baseFeatures = 8;
  o.force = true;
  expectError([&] { train(o); }, ExitCode::Usage,
              "and fold_0 of this folder were trained with it: --force would leave it beside files of other options");
  EXPECT_EQ(slurp(dir.file("m/plans.json")), plans);
  EXPECT_FALSE(fs::exists(dir.file("m/fold_1/checkpoint_final.pth")));
  o.fold = 0; // the only trained fold itself: replaced
  train(o);
  EXPECT_NE(slurp(dir.file("m/plans.json")), plans);
}

} // namespace
} // namespace voxseg::training
