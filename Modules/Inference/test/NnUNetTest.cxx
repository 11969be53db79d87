// nnU-Net v2 trained-model folders read natively: checkpoint pickle, network rebuilt from plans.json.
#include "NetworkImpl.h"
#include "NnUNetCheckpoint.h"
#include "NnUNetNetwork.h"
#include "voxseg/core/Error.h"
#include "voxseg/inference/NnUNetFolder.h"
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <gtest/gtest.h>

#include <cmath>
#include <filesystem>
#include <fstream>
#include <iostream>

namespace voxseg::inference {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

const std::string kModel = "fixtures/nnunet/model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres";

TEST(NnUNetCheckpoint, ReadsWeightsMirrorAxesAndSkipsTheRest) {
  VOXSEG_REQUIRE_DATA(path, sharedPath(kModel + "/fold_0/checkpoint_final.pth"));
  const auto cp = nnunet::readCheckpoint(path);
  EXPECT_EQ(cp.weights.size(), 188u);
  EXPECT_TRUE(cp.hasMirrorAxes);
  EXPECT_EQ(cp.mirrorAxes, (std::vector<int>{0, 1, 2}));
  EXPECT_EQ(cp.trainerName, "nnUNetTrainer");
  std::int64_t params = 0;
  for (const auto& [name, t] : cp.weights)
    if (name.find("all_modules") == std::string::npos && name.rfind("decoder.encoder.", 0) != 0) params += t.numel();
  EXPECT_EQ(params, 346065);
  EXPECT_FALSE(cp.skipped.empty()); // optimizer_state, logging, init_args, ...
}

TEST(NnUNetCheckpoint, BadFilesAreModelErrors) {
  TempDir dir;
  std::ofstream(dir.file("x.pth")) << "PK not really a zip";
  for (const std::string& p : {dir.file("x.pth"), dir.file("missing.pth")}) {
    try {
      nnunet::readCheckpoint(p);
      FAIL() << p;
    } catch (const Error& e) {
      EXPECT_EQ(e.code(), ExitCode::Model);
      EXPECT_EQ(std::string(e.what()).rfind(p, 0), 0u) << e.what();
    }
  }
}

// --folds auto: the numbered folds holding the checkpoint, ascending (10 after 2), fold_all only when none does.
TEST(NnUNetFolds, DetectedAsNnUNetDetectsThem) {
  TempDir dir;
  const std::string m = dir.file("m");
  for (const char* fold : {"fold_10", "fold_2", "fold_0", "fold_all", "fold_x", "fold_", "fold_1234", "fold_07"})
    std::filesystem::create_directories(m + "/" + fold);
  for (const char* file : {"fold_10/checkpoint_final.pth", "fold_0/checkpoint_final.pth", "fold_2/checkpoint_best.pth",
                           "fold_all/checkpoint_final.pth", "fold_all/checkpoint_best.pth", "fold_3",
                           "fold_07/checkpoint_final.pth", "fold_1234/checkpoint_final.pth"})
    std::ofstream(m + "/" + file) << "x";
  EXPECT_EQ(nnunetFoldFolders(m), (std::vector<int>{0, 2, 10, kFoldAll}));
  EXPECT_EQ(detectNnUNetFolds(m, "final"), (std::vector<int>{0, 10}));
  EXPECT_EQ(detectNnUNetFolds(m, "best"), (std::vector<int>{2}));
  std::filesystem::remove(m + "/fold_2/checkpoint_best.pth");
  EXPECT_EQ(detectNnUNetFolds(m, "best"), (std::vector<int>{kFoldAll}));
  EXPECT_EQ(nnunetFoldName(kFoldAll), "fold_all");
  EXPECT_EQ(nnunetFoldName(10), "fold_10");
  std::filesystem::remove(m + "/fold_all/checkpoint_best.pth");
  try {
    detectNnUNetFolds(m, "best");
    FAIL();
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_EQ(std::string(e.what()), m + ": no trained fold to ensemble (no fold_N/checkpoint_best.pth, no "
                                         "fold_all/checkpoint_best.pth)");
  }
  EXPECT_TRUE(nnunetFoldFolders(dir.file("none")).empty());
}

double maxRelDiff(const std::vector<float>& got, const std::vector<float>& want) {
  double d = 0, m = 0;
  for (std::size_t i = 0; i < want.size(); ++i) {
    d = std::max(d, double(std::fabs(got[i] - want[i])));
    m = std::max(m, double(std::fabs(want[i])));
  }
  return d / m;
}

TEST(NnUNetNetwork, NativePlainConvUNetMatchesTheTracedNetwork) {
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModel));
  const auto in = voxseg::testing::readNpy(sharedPath("fixtures/nnunet/torchscript/ts_input.npy"));
  const auto want = voxseg::testing::readNpy(sharedPath("fixtures/nnunet/torchscript/ts_output.npy"));
  const Network net = Network::loadNnUNetFold(folder, 0, "final", DeviceSpec{"cpu"});
  EXPECT_EQ(net.allowedMirrorAxes(), (std::vector<int>{0, 1, 2}));
  c10::InferenceMode guard;
  const auto x = torch::from_blob(const_cast<float*>(in.data.data()), in.shape, torch::kFloat);
  const auto y = net.impl().forward(x).contiguous();
  ASSERT_EQ(y.sizes().vec(), want.shape);
  const std::vector<float> got(y.data_ptr<float>(), y.data_ptr<float>() + y.numel());
  EXPECT_LE(maxRelDiff(got, want.data), 1e-5);
}

class NnUNetFolderParity : public ::testing::TestWithParam<std::tuple<std::string, bool, bool>> {};

// Sliding-window logits of the natively rebuilt folds against nnU-Net's own, fold 0 and folds 0+1.
TEST_P(NnUNetFolderParity, LogitsOnPreprocessedArrays) {
  const auto [name, mirror, twoFolds] = GetParam();
  VOXSEG_REQUIRE_DATA(folder, sharedPath(kModel));
  setThreads(1);
  const auto pre = voxseg::testing::readNpy(sharedPath("fixtures/nnunet/preprocessed/" + name + ".npy"));
  const std::string mode = std::string(twoFolds ? "folds01" : "fold0") + (mirror ? "_mirror" : "_nomirror");
  const auto want =
      voxseg::testing::readNpy(sharedPath("fixtures/nnunet/predictions/" + mode + "/" + name + "_logits.npy"));
  std::vector<Network> nets;
  nets.push_back(Network::loadNnUNetFold(folder, 0, "final", DeviceSpec{"cpu"}));
  if (twoFolds) nets.push_back(Network::loadNnUNetFold(folder, 1, "final", DeviceSpec{"cpu"}));
  EngineOptions o;
  o.patch = {20, 48, 48};
  o.importance.type = ImportanceMap::Type::GaussianNnUNet;
  o.halfAccumulation = true;
  if (mirror) o.mirrorAxes = nets.front().allowedMirrorAxes();
  InputVolume in;
  in.zyx = {pre.shape[1], pre.shape[2], pre.shape[3]};
  in.channels = {pre.data.data()};
  LogitCollector out;
  std::vector<const Network*> ptrs;
  for (const auto& n : nets) ptrs.push_back(&n);
  slidingWindow(ptrs, in, AxisOrder::ZYX, o, out);
  // nnU-Net accumulates in float16 and its network ran on LibTorch's reference convolution; ours runs on
  // oneDNN (the same convolution to float rounding), which moves float16 roundings here and there. The
  // engine with the reference kernels reproduces nnU-Net's logits to 1e-4 (NnUNetParity, TorchScript);
  // here the criteria of the nnU-Net pipeline apply: probabilities within 1e-3, labels >= 99.99% equal.
  const std::int64_t voxels = pre.shape[1] * pre.shape[2] * pre.shape[3];
  const auto ours = torch::softmax(torch::from_blob(out.logits.data(), {3, voxels}), 0);
  const auto theirs = torch::softmax(torch::from_blob(const_cast<float*>(want.data.data()), {3, voxels}), 0);
  const double probDiff = (ours - theirs).abs().max().item<double>();
  const double same = (ours.argmax(0) == theirs.argmax(0)).to(torch::kDouble).mean().item<double>();
  EXPECT_LE(probDiff, 1e-3) << mode << " " << name;
  EXPECT_GE(same, 0.9999) << mode << " " << name;
  std::cout << mode << " " << name << ": logits max rel diff " << maxRelDiff(out.logits, want.data)
            << ", probabilities max diff " << probDiff << ", labels equal " << 100 * same << "%\n";
}

INSTANTIATE_TEST_SUITE_P(Cases, NnUNetFolderParity,
                         ::testing::Combine(::testing::Values("phantomA", "phantomB", "phantomC"), ::testing::Bool(),
                                            ::testing::Bool()));

// buildNetwork must throw Error(Model) whose message contains `words`.
void expectBuildError(const nlohmann::json& arch, int channels, const nnunet::Checkpoint& cp,
                      const std::string& words) {
  try {
    nnunet::buildNetwork(arch, channels, 3, cp, torch::kCPU, "ckpt");
    ADD_FAILURE() << "built; expected: " << words;
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_NE(std::string(e.what()).find(words), std::string::npos) << e.what();
  }
}

TEST(NnUNetNetwork, WrongWeightsAreListed) {
  VOXSEG_REQUIRE_DATA(path, sharedPath(kModel + "/fold_0/checkpoint_final.pth"));
  auto cp = nnunet::readCheckpoint(path);
  const auto plans = nlohmann::json::parse(std::ifstream(sharedPath(kModel + "/plans.json")));
  const auto& arch = plans["configurations"]["3d_fullres"]["architecture"];
  auto broken = cp;
  broken.weights.erase(broken.weights.begin()); // encoder.stages.0.0.convs.0.conv.weight
  broken.weights.emplace_back("decoder.extra.weight", torch::zeros({1}));
  expectBuildError(arch, 1, broken, "weights missing from the checkpoint: encoder.stages.0.0.convs.0.conv.weight");
  // two input channels: the first conv is mis-shaped
  expectBuildError(arch, 2, cp, "weights of the wrong shape: encoder.stages.0.0.convs.0.conv.weight");
  auto extra = cp;
  extra.weights.emplace_back("decoder.extra.weight", torch::zeros({1}));
  expectBuildError(arch, 1, extra, "checkpoint weights the architecture does not use: decoder.extra.weight");
  nlohmann::json other = arch;
  other["network_class_name"] = "dynamic_network_architectures.architectures.unet.ResidualEncoderUNet";
  expectBuildError(other, 1, cp, "lacks arch_kwargs.n_blocks_per_stage"); // ResEnc needs n_blocks_per_stage
  other["arch_kwargs"]["n_blocks_per_stage"] = {1, 1, 1, 1}; // then the plain checkpoint's names do not fit
  expectBuildError(other, 1, cp, "weights missing from the checkpoint: encoder.stem.convs.0.conv.weight");
  other["network_class_name"] = "some.other.Net";
  expectBuildError(other, 1, cp, "is not supported natively");
}

} // namespace
} // namespace voxseg::inference
