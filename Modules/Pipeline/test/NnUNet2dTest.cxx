// nnU-Net 2D configurations: the fixture's own plans (its "2d" configuration, planned by nnU-Net), random
// weights, against the 2D network written here with LibTorch's 2D operations and applied slice by slice.
#include "NnUNet2dFolder.h"
#include "PipelineTestOptions.h"
#include "voxseg/core/Error.h"
#include "voxseg/io/VolumeIO.h"
#include "voxseg/pipeline/NnUNet.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <gtest/gtest.h>
#include <torch/torch.h>

#include <algorithm>
#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>

namespace voxseg::pipeline {
namespace {

namespace fs = std::filesystem;
using voxseg::testing::sharedPath;

const std::string kFixture = "fixtures/nnunet/";
const std::string kModel = kFixture + "model/Dataset990_Phantom/nnUNetTrainer__nnUNetPlans__3d_fullres";
using voxseg::testing::kClasses;
using voxseg::testing::kFeatures;
using voxseg::testing::randomWeights;
using voxseg::testing::Weights;

std::string write2dFolder(const voxseg::testing::TempDir& dir, const Weights& w) {
  return voxseg::testing::writeNnUNet2dFolder(dir.path().string(), sharedPath(kModel), w);
}

// dynamic_network_architectures' PlainConvUNet forward in 2D: (N, 1, H, W) -> (N, classes, H, W).
torch::Tensor reference2d(const Weights& w, torch::Tensor x) {
  const auto block = [&](const std::string& pre, const torch::Tensor& in, std::int64_t stride) {
    torch::Tensor y = torch::conv2d(in, w.at(pre + ".conv.weight"), w.at(pre + ".conv.bias"), stride, 1);
    y = torch::instance_norm(y, w.at(pre + ".norm.weight"), w.at(pre + ".norm.bias"), {}, {}, true, 0.1, 1e-5, false);
    return torch::leaky_relu(y, 0.01);
  };
  std::vector<torch::Tensor> skips;
  for (std::size_t s = 0; s < kFeatures.size(); ++s) {
    x = block("encoder.stages." + std::to_string(s) + ".0.convs.0", x, s == 0 ? 1 : 2);
    x = block("encoder.stages." + std::to_string(s) + ".0.convs.1", x, 1);
    skips.push_back(x);
  }
  for (std::size_t s = 0; s + 1 < kFeatures.size(); ++s) {
    const std::string t = "decoder.transpconvs." + std::to_string(s);
    x = torch::conv_transpose2d(x, w.at(t + ".weight"), w.at(t + ".bias"), 2);
    x = torch::cat({x, skips[skips.size() - 2 - s]}, 1);
    x = block("decoder.stages." + std::to_string(s) + ".convs.0", x, 1);
    x = block("decoder.stages." + std::to_string(s) + ".convs.1", x, 1);
  }
  return torch::conv2d(x, w.at("decoder.seg_layers.2.weight"), w.at("decoder.seg_layers.2.bias"));
}

// phantomB is at the 2d configuration's in-plane spacing and has no zeros: its nnU-Net preprocessing for
// 3d_fullres (the fixture's preprocessed array) is also that of the 2d configuration, which keeps the spacing
// between slices. nnU-Net's predictor pads each 40x56 slice to the 56x64 patch and mirrors it along y and x.
TEST(NnUNet2d, EverySliceThroughTheTwoDimensionalNetwork) {
  VOXSEG_REQUIRE_DATA(preprocessed, sharedPath(kFixture + "preprocessed/phantomB.npy"));
  voxseg::testing::TempDir dir;
  const Weights w = randomWeights();
  NnUNetOptions o;
  o.folder = write2dFolder(dir, w);
  const NnUNetModel model = loadNnUNet(o, oneCpuThread());
  EXPECT_TRUE(model.slices);
  EXPECT_EQ(model.folds.front().allowedMirrorAxes(), (std::vector<int>{1, 2}));
  const io::Volume input = io::readVolume(sharedPath(kFixture + "inputs/phantomB_0000.nii.gz"));
  const NnUNetResult r = segmentNnUNet(model, {input}, oneCpuThread(), true);
  EXPECT_EQ(r.labels.geometry(), input.geometry());

  const auto pre = voxseg::testing::readNpy(preprocessed);
  ASSERT_EQ(pre.shape, (std::vector<std::int64_t>{1, 14, 40, 56}));
  const std::int64_t z = 14, y = 40, x = 56;
  torch::NoGradGuard noGrad;
  const torch::Tensor slices = torch::from_blob(const_cast<float*>(pre.data.data()), {z, 1, y, x}).clone();
  const torch::Tensor padded = torch::constant_pad_nd(slices, {4, 4, 8, 8}); // to 56 x 64: before diff/2
  torch::Tensor logits = reference2d(w, padded);
  for (const auto& axes : {std::vector<std::int64_t>{2}, {3}, {2, 3}})
    logits += torch::flip(reference2d(w, torch::flip(padded, axes)), axes);
  logits = (logits / 4)
               .index({torch::indexing::Slice(), torch::indexing::Slice(), torch::indexing::Slice(8, 48),
                       torch::indexing::Slice(4, 60)});
  const torch::Tensor want = torch::softmax(logits, 1).permute({1, 0, 2, 3}).contiguous(); // (classes, z, y, x)
  const std::size_t n = std::size_t(z * y * x);
  ASSERT_EQ(r.probabilities.size(), std::size_t(kClasses) * n);
  const float* p = want.data_ptr<float>();
  double maxDiff = 0;
  std::size_t clear = 0, agree = 0;
  const auto* labels = r.labels.as<std::uint8_t>()->GetBufferPointer();
  for (std::size_t i = 0; i < n; ++i) {
    std::array<float, kClasses> v{};
    for (std::int64_t c = 0; c < kClasses; ++c) {
      v[std::size_t(c)] = p[std::size_t(c) * n + i];
      maxDiff = std::max(maxDiff, double(std::fabs(r.probabilities[std::size_t(c) * n + i] - v[std::size_t(c)])));
    }
    const auto best = std::size_t(std::max_element(v.begin(), v.end()) - v.begin());
    std::array<float, kClasses> rest = v;
    rest[best] = -1;
    if (v[best] - *std::max_element(rest.begin(), rest.end()) < 0.02f) continue; // a float16 rounding may flip it
    ++clear;
    agree += labels[i] == best;
  }
  std::cout << "2d: probabilities max diff " << maxDiff << ", labels equal in " << agree << " of " << clear
            << " voxels with a clear winner (" << n << " in all)\n";
  EXPECT_LE(maxDiff, 5e-3); // logits accumulated in float16, as nnU-Net does
  EXPECT_GE(clear, n * 9 / 10);
  EXPECT_EQ(agree, clear);
}

// A 2D patch with a 3D network, or a 2D network with a 3D patch, is refused naming plans.json.
TEST(NnUNet2d, PatchAndConvolutionMustAgree) {
  VOXSEG_REQUIRE_DATA(plansPath, sharedPath(kModel + "/plans.json"));
  voxseg::testing::TempDir dir;
  const std::string folder = write2dFolder(dir, randomWeights());
  auto plans = nlohmann::json::parse(std::ifstream(plansPath));
  plans["configurations"]["2d"]["patch_size"] = {20, 56, 64};
  plans["configurations"]["2d"]["spacing"] = {2.5, 0.9, 0.9};
  std::ofstream(fs::path(folder) / "plans.json") << plans.dump();
  NnUNetOptions o;
  o.folder = folder;
  try {
    loadNnUNet(o, oneCpuThread());
    FAIL() << "a 3D patch with Conv2d was accepted";
  } catch (const Error& e) {
    EXPECT_EQ(e.code(), ExitCode::Model);
    EXPECT_NE(std::string(e.what()).find("plans.json: configuration '2d' has a 3D patch_size [20,56,64] but conv_op "
                                         "'torch.nn.modules.conv.Conv2d'"),
              std::string::npos)
        << e.what();
  }
}

} // namespace
} // namespace voxseg::pipeline
