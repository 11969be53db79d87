// Traced convolutions with frozen cuDNN flags become aten::convolution calls, with the same numbers.
#include "NetworkImpl.h"
#include "voxseg/testing/Data.h"

#include <torch/csrc/jit/ir/ir.h>

#include <gtest/gtest.h>

namespace voxseg::inference {
namespace {

using voxseg::testing::sharedPath;
using voxseg::testing::TempDir;

// Calls of `kind` in every method graph of the module and its submodules.
int countCalls(const torch::jit::Module& module, const std::string& kind) {
  int count = 0;
  for (const torch::jit::Module& m : module.modules())
    for (const torch::jit::Method& method : m.get_methods()) {
      std::vector<torch::jit::Node*> nodes;
      collectNodes(method.graph()->block(), nodes);
      for (const torch::jit::Node* n : nodes) count += std::string(n->kind().toQualString()) == kind;
    }
  return count;
}

TEST(ConvolutionFlags, TracedCallsReadTheGlobalFlagsWithTheSameNumbers) {
  TempDir dir;
  torch::manual_seed(3);
  // What torch.jit.trace records for nn.Conv3d and nn.ConvTranspose3d: _convolution with
  // benchmark=False, deterministic=False, cudnn_enabled=True, allow_tf32=True; one call in a submodule.
  torch::jit::Module inner("Inner");
  inner.register_parameter("w", torch::randn({4, 3, 3, 3, 3}), false);
  inner.define("def forward(self, x):\n"
               "    return torch._convolution(x, self.w, None, [1, 1, 1], [1, 1, 1], [1, 1, 1], False, [0, 0, 0], 1,"
               " False, False, True, True)\n");
  torch::jit::Module outer("Outer");
  outer.register_module("inner", inner);
  outer.register_parameter("u", torch::randn({4, 2, 2, 2, 2}), false);
  outer.register_parameter("b", torch::randn({2}), false);
  outer.define("def forward(self, x):\n"
               "    y = torch.relu(self.inner.forward(x))\n"
               "    return torch._convolution(y, self.u, self.b, [2, 2, 2], [0, 0, 0], [1, 1, 1], True, [0, 0, 0], 1,"
               " False, False, True, True)\n");
  outer.eval();
  const std::string path = dir.file("traced_like.pt");
  outer.save(path);

  torch::jit::Module original = torch::jit::load(path);
  ASSERT_EQ(countCalls(original, "aten::_convolution"), 2);
  Network net = Network::loadTorchScript(path, DeviceSpec{"cpu"});
  EXPECT_EQ(countCalls(net.impl().module, "aten::_convolution"), 0);
  EXPECT_EQ(countCalls(net.impl().module, "aten::convolution"), 2);

  const auto x = torch::randn({2, 3, 5, 6, 7});
  const auto expected = original.forward({x}).toTensor();
  const auto got = net.impl().forward(x);
  ASSERT_EQ(got.sizes(), expected.sizes());
  EXPECT_TRUE(torch::equal(got, expected)) << "max |diff| " << (got - expected).abs().max().item<double>();
  // The transposed-convolution rewrite still finds the (now aten::convolution) transposed call.
  EXPECT_EQ(net.optimizeTransposedConvolutions(), 1);
  EXPECT_LT((net.impl().forward(x) - expected).abs().max().item<double>(), 1e-4);
}

TEST(ConvolutionFlags, NnUNetTracedNetworkKeepsItsNumbers) {
  VOXSEG_REQUIRE_DATA(netPath, sharedPath("fixtures/nnunet/torchscript/network_fold0.pt"));
  torch::jit::Module original = torch::jit::load(netPath);
  original.eval();
  const int traced = countCalls(original, "aten::_convolution");
  ASSERT_GT(traced, 10); // a traced PlainConvUNet: every conv and transposed conv
  const Network net = Network::loadTorchScript(netPath, DeviceSpec{"cpu"});
  EXPECT_EQ(countCalls(net.impl().module, "aten::_convolution"), 0);
  EXPECT_EQ(countCalls(net.impl().module, "aten::convolution"), traced);
  c10::InferenceMode guard;
  const auto x = torch::randn({1, 1, 20, 48, 48}, torch::TensorOptions().dtype(torch::kFloat));
  auto out = original.forward({x});
  const auto expected = out.isTensor() ? out.toTensor() : out.toTuple()->elements().at(0).toTensor();
  EXPECT_TRUE(torch::equal(net.impl().forward(x), expected));
}

} // namespace
} // namespace voxseg::inference
