#pragma once
// A trainable PlainConvUNet (dynamic_network_architectures, as nnU-Net v2 builds it): per stage
// n x (conv, instance norm with affine, LeakyReLU 0.01), strided conv to go down, transposed conv to
// go up, one 1x1x1 segmentation head per decoder stage (deep supervision). Parameter names are
// nnU-Net's, so the state dict is an nnU-Net checkpoint's "network_weights".

#include <torch/torch.h>

#include <cstdint>
#include <vector>

namespace voxseg::training {

struct UNetShape {
  int inputChannels = 1;
  int classes = 2;
  std::vector<std::int64_t> features;             ///< per stage
  std::vector<std::vector<std::int64_t>> kernels; ///< per stage, (z, y, x)
  std::vector<std::vector<std::int64_t>> strides; ///< per stage, the first is 1
  int convsPerStage = 2;
};

class ConvNormReluImpl : public torch::nn::Module {
public:
  ConvNormReluImpl(std::int64_t in, std::int64_t out, const std::vector<std::int64_t>& kernel,
                   const std::vector<std::int64_t>& stride);
  torch::Tensor forward(const torch::Tensor& x);

private:
  torch::nn::Conv3d conv{nullptr};
  torch::nn::InstanceNorm3d norm{nullptr};
};
TORCH_MODULE(ConvNormRelu);

class StackImpl : public torch::nn::Module { // "convs.<i>"
public:
  StackImpl(std::int64_t in, std::int64_t out, const std::vector<std::int64_t>& kernel,
            const std::vector<std::int64_t>& stride, int convs);
  torch::Tensor forward(torch::Tensor x);

private:
  torch::nn::ModuleList convs{nullptr};
};
TORCH_MODULE(Stack);

class UNetImpl : public torch::nn::Module {
public:
  explicit UNetImpl(const UNetShape& shape);
  /// Logits at every decoder resolution, full resolution first (deep supervision order).
  std::vector<torch::Tensor> forward(const torch::Tensor& x);
  const UNetShape& shape() const { return shape_; }

private:
  UNetShape shape_;
  std::shared_ptr<torch::nn::Module> encoder, decoder;
  std::vector<torch::nn::Sequential> encoderStages; ///< encoder.stages.<s>.0
  std::vector<Stack> decoderStages;                 ///< decoder.stages.<s>
  std::vector<torch::nn::ConvTranspose3d> up;       ///< decoder.transpconvs.<s>
  std::vector<torch::nn::Conv3d> heads;             ///< decoder.seg_layers.<s>
};
TORCH_MODULE(UNet);

} // namespace voxseg::training
