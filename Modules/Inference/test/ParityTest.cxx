// The engine against real peer outputs: MONAI 1.4 sliding_window_inference and nnU-Net v2.8
// predict_sliding_window_return_logits (../shared/fixtures).
#include "voxseg/inference/SlidingWindow.h"
#include "voxseg/testing/Data.h"
#include "voxseg/testing/Npy.h"

#include <nlohmann/json.hpp>

#include <gtest/gtest.h>

#include <cmath>
#include <fstream>

namespace voxseg::inference {
namespace {

using voxseg::testing::NpyArray;
using voxseg::testing::readNpy;
using voxseg::testing::sharedPath;

struct Diff {
  double maxAbs = 0, maxExpected = 0;
};

Diff compare(const std::vector<float>& got, const NpyArray& expected) {
  Diff d;
  EXPECT_EQ(got.size(), expected.data.size());
  for (std::size_t i = 0; i < std::min(got.size(), expected.data.size()); ++i) {
    d.maxAbs = std::max(d.maxAbs, double(std::fabs(got[i] - expected.data[i])));
    d.maxExpected = std::max(d.maxExpected, double(std::fabs(expected.data[i])));
  }
  return d;
}

LogitCollector run(const Network& net, const NpyArray& image, const EngineOptions& o) {
  InputVolume in;
  in.zyx = {image.shape[2], image.shape[3], image.shape[4]};
  in.channels = {image.data.data()};
  LogitCollector out;
  slidingWindow({&net}, in, AxisOrder::ZYX, o, out);
  return out;
}

TEST(MonaiParity, EveryCase) {
  VOXSEG_REQUIRE_DATA(casesPath, sharedPath("fixtures/monai/cases.json"));
  setThreads(1); // ctest runs two tests at once on two cores: oversubscribed OpenMP threads spin
  const std::string dir = sharedPath("fixtures/monai/");
  const auto j = nlohmann::json::parse(std::ifstream(casesPath));
  std::map<std::string, std::unique_ptr<Network>> nets;
  int n = 0;
  for (const auto& c : j["cases"]) {
    const std::string netFile = c["network"];
    if (!nets.count(netFile)) { // as voxseg segment runs them: transposed convolutions rewritten
      nets[netFile] = std::make_unique<Network>(Network::loadTorchScript(dir + netFile, DeviceSpec{"cpu"}));
      nets[netFile]->optimizeTransposedConvolutions();
    }
    const auto image = readNpy(dir + c["input"].get<std::string>());
    const auto expected = readNpy(dir + c["output"].get<std::string>());
    const auto& p = c["params"];
    EngineOptions o;
    for (int a = 0; a < 3; ++a) o.patch[a] = p["roi_size"][a];
    o.tiling.rule = Tiling::Rule::Monai;
    o.tiling.overlap = p["overlap"];
    o.importance.type = p["mode"] == "gaussian" ? ImportanceMap::Type::GaussianMonai : ImportanceMap::Type::Constant;
    o.importance.sigmaScale = p["sigma_scale"];
    o.swBatch = p["sw_batch_size"];
    o.padValue = p["cval"];
    // The windows of this very call: padding, starts per axis (window order is checked in TilingTest).
    const WindowGrid grid = planWindows({image.shape[2], image.shape[3], image.shape[4]}, o.patch, o.tiling);
    for (int a = 0; a < 3; ++a) {
      EXPECT_EQ(grid.starts[std::size_t(a)], c["starts_per_axis"][a].get<std::vector<std::int64_t>>()) << c["id"];
      EXPECT_EQ(grid.paddedShape[std::size_t(a)], c["padded_image_size"][a].get<std::int64_t>()) << c["id"];
    }
    EXPECT_EQ(grid.count(), c["num_windows"].get<std::int64_t>()) << c["id"];
    const auto out = run(*nets[netFile], image, o);
    EXPECT_EQ(out.channels, expected.shape[1]);
    const Diff d = compare(out.logits, expected);
    EXPECT_LE(d.maxAbs, 1e-5 * d.maxExpected) << c["id"].get<std::string>() << ": max abs diff " << d.maxAbs;
    ++n;
  }
  EXPECT_GE(n, 20);
}

class NnUNetParity : public ::testing::TestWithParam<std::tuple<std::string, bool>> {};

TEST_P(NnUNetParity, TorchScriptLogitsOnPreprocessedArrays) {
  const auto [name, mirror] = GetParam();
  VOXSEG_REQUIRE_DATA(netPath, sharedPath("fixtures/nnunet/torchscript/network_fold0.pt"));
  setThreads(1); // ctest runs two tests at once on two cores: oversubscribed OpenMP threads spin
  const auto pre = readNpy(sharedPath("fixtures/nnunet/preprocessed/" + name + ".npy"));
  const auto expected = readNpy(sharedPath(std::string("fixtures/nnunet/predictions/") +
                                           (mirror ? "fold0_mirror/" : "fold0_nomirror/") + name + "_logits.npy"));
  // The graph as exported: with float16 accumulators a 1e-7 change of the network output (such as the
  // transposed-convolution rewrite makes) can flip one float16 rounding, 1.6e-2 at values of 16..32.
  const Network net = Network::loadTorchScript(netPath, DeviceSpec{"cpu"});
  EngineOptions o;
  o.patch = {20, 48, 48};
  o.importance.type = ImportanceMap::Type::GaussianNnUNet;
  o.halfAccumulation = true;
  if (mirror) o.mirrorAxes = {0, 1, 2};
  InputVolume in;
  in.zyx = {pre.shape[1], pre.shape[2], pre.shape[3]};
  in.channels = {pre.data.data()};
  LogitCollector out;
  const RunStats st = slidingWindow({&net}, in, AxisOrder::ZYX, o, out);
  EXPECT_EQ(st.forwardCalls, st.windows);
  const Diff d = compare(out.logits, expected);
  EXPECT_LE(d.maxAbs, 1e-4 * d.maxExpected)
      << name << (mirror ? " mirror" : "") << ": max abs diff " << d.maxAbs << " of max " << d.maxExpected;
}

INSTANTIATE_TEST_SUITE_P(Cases, NnUNetParity,
                         ::testing::Combine(::testing::Values("phantomA", "phantomB", "phantomC"), ::testing::Bool()));

} // namespace
} // namespace voxseg::inference
