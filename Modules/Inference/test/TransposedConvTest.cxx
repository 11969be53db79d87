// The transposed-convolution rewrite and the channels-last layout give the same numbers as the original graph.
#include "NetworkImpl.h"
#include "voxseg/testing/Data.h"

#include <gtest/gtest.h>

namespace voxseg::inference {
namespace {

using voxseg::testing::TempDir;

struct Case {
  std::vector<std::int64_t> kernel, stride, padding, outputPadding;
  bool bias;
};

TEST(TransposedConv, RewriteKeepsTheNumbers) {
  TempDir dir;
  torch::manual_seed(7);
  const std::vector<Case> cases{
      {{2, 2, 2}, {2, 2, 2}, {0, 0, 0}, {0, 0, 0}, true},  // nnU-Net: kernel = stride
      {{3, 3, 3}, {2, 2, 2}, {1, 1, 1}, {1, 1, 1}, true},  // MONAI UNet up-sampling
      {{1, 2, 2}, {1, 2, 2}, {0, 0, 0}, {0, 0, 0}, false}, // anisotropic nnU-Net stage
      {{3, 3, 3}, {1, 2, 2}, {1, 1, 1}, {0, 1, 1}, true},  {{4, 4, 4}, {2, 2, 2}, {1, 1, 1}, {0, 0, 0}, false},
      {{3, 3, 3}, {2, 2, 2}, {0, 0, 0}, {0, 0, 0}, true},
  };
  int i = 0;
  for (const auto& c : cases) {
    torch::jit::Module m("Deconv" + std::to_string(i));
    m.register_parameter("w", torch::randn({3, 5, c.kernel[0], c.kernel[1], c.kernel[2]}), false);
    m.register_parameter("b", c.bias ? torch::randn({5}) : torch::zeros({5}), false);
    const auto list = [](const std::vector<std::int64_t>& v) {
      return "[" + std::to_string(v[0]) + ", " + std::to_string(v[1]) + ", " + std::to_string(v[2]) + "]";
    };
    m.define("def forward(self, x):\n    return torch.conv_transpose3d(x, self.w, " +
             std::string(c.bias ? "self.b" : "None") + ", " + list(c.stride) + ", " + list(c.padding) + ", " +
             list(c.outputPadding) + ", 1, [1, 1, 1])\n");
    m.eval();
    const std::string path = dir.file("m" + std::to_string(i++) + ".pt");
    m.save(path);
    Network net = Network::loadTorchScript(path, DeviceSpec{"cpu"});
    const auto x = torch::randn({2, 3, 5, 6, 7});
    const auto expected = net.impl().forward(x);
    ASSERT_EQ(net.optimizeTransposedConvolutions(), 1);
    const auto got = net.impl().forward(x);
    ASSERT_EQ(got.sizes(), expected.sizes()) << i;
    EXPECT_LT((got - expected).abs().max().item<double>(), 1e-4) << "case " << i;
  }
}

TEST(ChannelsLast, SameNumbersWithNdhwcWeightsAndInputs) {
  TempDir dir;
  torch::manual_seed(11);
  torch::jit::Module m("TwoConvs");
  m.register_parameter("w1", torch::randn({8, 2, 3, 3, 3}), false);
  m.register_parameter("w2", torch::randn({3, 8, 1, 1, 1}), false);
  m.register_parameter("b2", torch::randn({3}), false);
  m.define("def forward(self, x):\n"
           "    y = torch.relu(torch.conv3d(x, self.w1, None, [1, 1, 1], [1, 1, 1]))\n"
           "    return torch.conv3d(y, self.w2, self.b2)\n");
  m.eval();
  const std::string path = dir.file("twoconvs.pt");
  m.save(path);
  Network net = Network::loadTorchScript(path, DeviceSpec{"cpu"});
  const auto x = torch::randn({2, 2, 6, 7, 8});
  const auto expected = net.impl().forward(x);
  ASSERT_TRUE(net.useChannelsLast());
  for (const auto& p : net.impl().module.parameters())
    if (p.dim() == 5) {
      EXPECT_TRUE(p.is_contiguous(at::MemoryFormat::ChannelsLast3d));
    }
  const auto got = net.impl().forward(x);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_LT((got - expected).abs().max().item<double>(), 1e-4 * expected.abs().max().item<double>());
}

} // namespace
} // namespace voxseg::inference
