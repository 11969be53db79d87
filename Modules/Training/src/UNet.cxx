#include "UNet.h"

namespace voxseg::training {
namespace {

std::vector<std::int64_t> padding(const std::vector<std::int64_t>& kernel) {
  std::vector<std::int64_t> p;
  for (auto k : kernel) p.push_back((k - 1) / 2);
  return p;
}

} // namespace

ConvNormReluImpl::ConvNormReluImpl(std::int64_t in, std::int64_t out, const std::vector<std::int64_t>& kernel,
                                   const std::vector<std::int64_t>& stride) {
  conv = register_module(
      "conv",
      torch::nn::Conv3d(torch::nn::Conv3dOptions(in, out, kernel).stride(stride).padding(padding(kernel)).bias(true)));
  norm =
      register_module("norm", torch::nn::InstanceNorm3d(torch::nn::InstanceNorm3dOptions(out).eps(1e-5).affine(true)));
}

torch::Tensor ConvNormReluImpl::forward(const torch::Tensor& x) {
  return torch::leaky_relu(norm->forward(conv->forward(x)), 0.01);
}

StackImpl::StackImpl(std::int64_t in, std::int64_t out, const std::vector<std::int64_t>& kernel,
                     const std::vector<std::int64_t>& stride, int n) {
  convs = register_module("convs", torch::nn::ModuleList());
  for (int i = 0; i < n; ++i)
    convs->push_back(
        ConvNormRelu(i == 0 ? in : out, out, kernel, i == 0 ? stride : std::vector<std::int64_t>{1, 1, 1}));
}

torch::Tensor StackImpl::forward(torch::Tensor x) {
  for (auto& m : *convs) x = m->as<ConvNormRelu>()->forward(x);
  return x;
}

UNetImpl::UNetImpl(const UNetShape& s) : shape_(s) {
  const std::size_t n = s.features.size();
  encoder = register_module("encoder", std::make_shared<torch::nn::Module>());
  decoder = register_module("decoder", std::make_shared<torch::nn::Module>());
  auto stages = encoder->register_module("stages", torch::nn::ModuleList());
  std::int64_t in = s.inputChannels;
  for (std::size_t i = 0; i < n; ++i) {
    torch::nn::Sequential stage(Stack(in, s.features[i], s.kernels[i], s.strides[i], s.convsPerStage)); // ".0"
    stages->push_back(stage);
    encoderStages.push_back(stage);
    in = s.features[i];
  }
  auto dstages = decoder->register_module("stages", torch::nn::ModuleList());
  auto transp = decoder->register_module("transpconvs", torch::nn::ModuleList());
  auto seg = decoder->register_module("seg_layers", torch::nn::ModuleList());
  for (std::size_t d = 0; d + 1 < n; ++d) { // decoder stage d joins encoder stage n-2-d
    const std::size_t below = n - 1 - d, above = n - 2 - d;
    torch::nn::ConvTranspose3d t(
        torch::nn::ConvTranspose3dOptions(s.features[below], s.features[above], s.strides[below])
            .stride(s.strides[below])
            .bias(true));
    transp->push_back(t);
    up.push_back(t);
    Stack st(2 * s.features[above], s.features[above], s.kernels[above], std::vector<std::int64_t>{1, 1, 1},
             s.convsPerStage);
    dstages->push_back(st);
    decoderStages.push_back(st);
    torch::nn::Conv3d h(torch::nn::Conv3dOptions(s.features[above], s.classes, 1).bias(true));
    seg->push_back(h);
    heads.push_back(h);
  }
}

std::vector<torch::Tensor> UNetImpl::forward(const torch::Tensor& x) {
  std::vector<torch::Tensor> skips;
  torch::Tensor h = x;
  for (auto& stage : encoderStages) {
    h = stage->forward(h);
    skips.push_back(h);
  }
  std::vector<torch::Tensor> outputs; // lowest resolution first, reversed below
  const std::size_t n = skips.size();
  for (std::size_t d = 0; d + 1 < n; ++d) {
    h = up[d]->forward(h);
    h = decoderStages[d]->forward(torch::cat({h, skips[n - 2 - d]}, 1));
    outputs.push_back(heads[d]->forward(h));
  }
  std::reverse(outputs.begin(), outputs.end());
  return outputs;
}

} // namespace voxseg::training
