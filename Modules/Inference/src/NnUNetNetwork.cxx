#include "NnUNetNetwork.h"

#include "voxseg/core/Error.h"

#include <map>
#include <optional>
#include <set>

namespace voxseg::inference::nnunet {
namespace {

using nlohmann::json;

struct ConvBlock {
  torch::Tensor weight, bias, normWeight, normBias, runningMean, runningVar;
  std::vector<std::int64_t> stride, padding;
};

struct Ops {
  bool instanceNorm = true;
  double eps = 1e-5;
  std::string nonlin = "LeakyReLU";
  double negativeSlope = 0.01;
};

// Weights by name, with the bookkeeping for the error messages.
class WeightTable {
public:
  // A 2D configuration's convolution weights (out, in, h, w) become (out, in, 1, h, w): the 3D network with
  // kernels and strides of 1 along the slice axis, run on one slice, is the 2D network.
  WeightTable(const Checkpoint& cp, torch::Device device, std::string source, bool twoD) : source_(std::move(source)) {
    for (const auto& [name, t] : cp.weights)
      weights_[name] = twoD && t.dim() == 4 ? t.unsqueeze(2).to(device, torch::kFloat) : t.to(device, torch::kFloat);
  }
  torch::Tensor take(const std::string& name, const std::vector<std::int64_t>& shape) {
    const auto it = weights_.find(name);
    if (it == weights_.end()) {
      missing_.push_back(name);
      return {};
    }
    used_.insert(name);
    if (it->second.sizes().vec() != shape)
      mismatched_.push_back(name + " " + c10::str(it->second.sizes()) + " != " + c10::str(c10::IntArrayRef(shape)));
    return it->second;
  }
  void markOptional(const std::string& prefix) {
    for (const auto& [name, t] : weights_)
      if (name.rfind(prefix, 0) == 0) used_.insert(name);
  }
  void check() const {
    std::vector<std::string> unexpected;
    for (const auto& [name, t] : weights_)
      if (!used_.count(name) && name.find(".all_modules.") == std::string::npos &&
          name.rfind("decoder.encoder.", 0) != 0)
        unexpected.push_back(name);
    const auto list = [](const std::vector<std::string>& v) {
      std::string s;
      for (std::size_t i = 0; i < v.size() && i < 12; ++i) s += (i ? ", " : "") + v[i];
      if (v.size() > 12) s += ", ... (" + std::to_string(v.size()) + " in all)";
      return s;
    };
    if (!missing_.empty())
      throw Error(ExitCode::Model, source_ + ": weights missing from the checkpoint: " + list(missing_));
    if (!mismatched_.empty())
      throw Error(ExitCode::Model, source_ + ": weights of the wrong shape: " + list(mismatched_));
    if (!unexpected.empty())
      throw Error(ExitCode::Model, source_ + ": checkpoint weights the architecture does not use: " + list(unexpected));
  }

private:
  std::string source_;
  std::map<std::string, torch::Tensor> weights_;
  std::set<std::string> used_;
  std::vector<std::string> missing_, mismatched_;
};

// Kernel sizes or strides per stage, as three values (z, y, x); a 2D configuration's (y, x) get 1 along z.
std::vector<std::vector<std::int64_t>> perStage(const json& v, std::size_t stages, const std::string& what, bool twoD,
                                                const std::string& source) {
  std::vector<std::vector<std::int64_t>> out;
  if (!v.is_array() || v.size() != stages)
    throw Error(ExitCode::Model, source + ": arch_kwargs." + what + " must have one entry per stage");
  const std::size_t dims = twoD ? 2 : 3;
  for (const auto& e : v) {
    std::vector<std::int64_t> s = e.is_number_integer() ? std::vector<std::int64_t>(dims, e.get<std::int64_t>())
                                                        : e.get<std::vector<std::int64_t>>();
    if (s.size() != dims)
      throw Error(ExitCode::Model, source + ": arch_kwargs." + what + " " + e.dump() + " in a " + std::to_string(dims) +
                                       "D configuration");
    if (twoD) s.insert(s.begin(), 1);
    out.push_back(s);
  }
  return out;
}

std::vector<std::int64_t> intList(const json& v, std::size_t n, const std::string& what, const std::string& source) {
  if (v.is_number_integer()) return std::vector<std::int64_t>(n, v.get<std::int64_t>());
  if (!v.is_array() || v.size() != n)
    throw Error(ExitCode::Model, source + ": arch_kwargs." + what + " must have " + std::to_string(n) + " entries");
  return v.get<std::vector<std::int64_t>>();
}

const json& need(const json& k, const std::string& key, const std::string& source) {
  if (!k.contains(key)) throw Error(ExitCode::Model, source + ": plans.json architecture lacks arch_kwargs." + key);
  return k.at(key);
}

std::string shortName(const json& v) {
  if (!v.is_string()) return "";
  const std::string s = v.get<std::string>();
  return s.substr(s.rfind('.') + 1);
}

ConvBlock block(WeightTable& w, const std::string& prefix, std::int64_t in, std::int64_t out,
                const std::vector<std::int64_t>& kernel, const std::vector<std::int64_t>& stride, bool bias,
                const Ops& ops) {
  ConvBlock b;
  b.weight = w.take(prefix + ".conv.weight", {out, in, kernel[0], kernel[1], kernel[2]});
  if (bias) b.bias = w.take(prefix + ".conv.bias", {out});
  b.normWeight = w.take(prefix + ".norm.weight", {out});
  b.normBias = w.take(prefix + ".norm.bias", {out});
  if (!ops.instanceNorm) {
    b.runningMean = w.take(prefix + ".norm.running_mean", {out});
    b.runningVar = w.take(prefix + ".norm.running_var", {out});
    w.markOptional(prefix + ".norm.num_batches_tracked");
  }
  b.stride = stride;
  for (auto k : kernel) b.padding.push_back((k - 1) / 2);
  return b;
}

// LibTorch's CPU dispatch sends 3D convolutions with batch 1 and N*C*D*H <= 20480 (a heuristic made
// for 2D) to the slow reference kernel — most of nnU-Net's windows. oneDNN is called directly instead:
// the same convolution to float rounding, 20-30x faster on such windows.
torch::Tensor conv(const torch::Tensor& x, const torch::Tensor& w, const torch::Tensor& b,
                   const std::vector<std::int64_t>& stride, const std::vector<std::int64_t>& padding) {
  if (x.device().is_cpu() && x.scalar_type() == torch::kFloat && at::globalContext().userEnabledMkldnn())
    return at::mkldnn_convolution(x.contiguous(), w, b, padding, stride, {1, 1, 1}, 1);
  return torch::conv3d(x, w, b, stride, padding);
}

torch::Tensor nonlinearity(const torch::Tensor& x, const Ops& ops) {
  return ops.nonlin == "ReLU" ? torch::relu(x) : torch::leaky_relu(x, ops.negativeSlope);
}

torch::Tensor apply(const ConvBlock& b, torch::Tensor x, const Ops& ops, bool withNonlin = true) {
  x = conv(x, b.weight, b.bias, b.stride, b.padding);
  x = ops.instanceNorm
          ? torch::instance_norm(x, b.normWeight, b.normBias, {}, {}, true, 0.1, ops.eps, false)
          : torch::batch_norm(x, b.normWeight, b.normBias, b.runningMean, b.runningVar, false, 0.1, ops.eps, false);
  return withNonlin ? nonlinearity(x, ops) : x;
}

// dynamic_network_architectures' BasicBlockD: conv-norm-nonlin, conv-norm, plus a skip (average pooling
// where strided, then a 1x1 conv-norm where the channel count changes), then the nonlinearity.
struct ResidualBlock {
  ConvBlock conv1, conv2, skip;
  bool pool = false, project = false;
  std::vector<std::int64_t> stride;
};

torch::Tensor apply(const ResidualBlock& b, const torch::Tensor& x, const Ops& ops) {
  torch::Tensor residual = x;
  if (b.pool) residual = torch::avg_pool3d(residual, b.stride, b.stride);
  if (b.project) residual = apply(b.skip, residual, ops, false);
  torch::Tensor out = apply(b.conv2, apply(b.conv1, x, ops), ops, false);
  return nonlinearity(out + residual, ops);
}

} // namespace

Forward buildNetwork(const json& arch, int inputChannels, int numClasses, const Checkpoint& cp, torch::Device device,
                     const std::string& source) {
  const std::string cls = arch.value("network_class_name", "");
  const bool residual = shortName(cls) == "ResidualEncoderUNet";
  if (shortName(cls) != "PlainConvUNet" && !residual)
    throw Error(ExitCode::Model, source + ": plans.json's network class '" + cls +
                                     "' is not supported natively (supported: dynamic_network_architectures "
                                     "PlainConvUNet, ResidualEncoderUNet)");
  if (!arch.contains("arch_kwargs"))
    throw Error(ExitCode::Model, source + ": plans.json architecture lacks arch_kwargs");
  const json& k = arch.at("arch_kwargs");
  const std::string convOp = shortName(k.value("conv_op", json()));
  if (convOp != "Conv3d" && convOp != "Conv2d")
    throw Error(ExitCode::Model, source + ": conv_op '" + k.value("conv_op", json()).dump() +
                                     "' is not supported (torch.nn.Conv3d, torch.nn.Conv2d)");
  const bool twoD = convOp == "Conv2d";
  const std::string dims = twoD ? "2d" : "3d";
  const std::size_t n = need(k, "n_stages", source).get<std::size_t>();
  const auto features = intList(need(k, "features_per_stage", source), n, "features_per_stage", source);
  const auto kernels = perStage(need(k, "kernel_sizes", source), n, "kernel_sizes", twoD, source);
  const auto strides = perStage(need(k, "strides", source), n, "strides", twoD, source);
  const std::string perStageKey = residual ? "n_blocks_per_stage" : "n_conv_per_stage";
  const auto convsEnc = intList(need(k, perStageKey, source), n, perStageKey, source);
  if (residual && (k.contains("block") || k.value("bottleneck_channels", json()).is_array() ||
                   k.value("stochastic_depth_p", 0.0) != 0.0 || k.value("squeeze_excitation", false) ||
                   k.value("disable_default_stem", false) || !k.value("stem_channels", json()).is_null() ||
                   k.value("pool_type", std::string("conv")) != "conv"))
    throw Error(ExitCode::Model, source + ": ResidualEncoderUNet options beyond nnU-Net's ResEnc presets (block, "
                                          "bottleneck, stochastic depth, squeeze-excitation, stem, pooling) are not "
                                          "supported");
  const auto convsDec = intList(need(k, "n_conv_per_stage_decoder", source), n - 1, "n_conv_per_stage_decoder", source);
  const bool bias = k.value("conv_bias", false);
  Ops ops;
  const std::string norm = shortName(k.value("norm_op", json()));
  if (norm != "InstanceNorm" + dims && norm != "BatchNorm" + dims)
    throw Error(ExitCode::Model, source + ": norm_op '" + norm + "' is not supported with " + convOp +
                                     " (InstanceNorm" + dims + ", BatchNorm" + dims + ")");
  ops.instanceNorm = norm == "InstanceNorm" + dims;
  const json normKw = k.value("norm_op_kwargs", json::object());
  ops.eps = normKw.is_object() ? normKw.value("eps", 1e-5) : 1e-5;
  if (ops.instanceNorm && normKw.is_object() && !normKw.value("affine", false))
    throw Error(ExitCode::Model, source + ": " + norm + " without affine parameters is not supported");
  ops.nonlin = shortName(k.value("nonlin", json()));
  if (ops.nonlin != "LeakyReLU" && ops.nonlin != "ReLU")
    throw Error(ExitCode::Model, source + ": nonlin '" + ops.nonlin + "' is not supported (LeakyReLU, ReLU)");
  const json nonlinKw = k.value("nonlin_kwargs", json::object());
  ops.negativeSlope = nonlinKw.is_object() ? nonlinKw.value("negative_slope", 0.01) : 0.01;
  if (k.value("nonlin_first", false)) throw Error(ExitCode::Model, source + ": nonlin_first is not supported");

  WeightTable w(cp, device, source, twoD);
  std::vector<std::vector<ConvBlock>> enc(n), dec(n - 1);
  std::vector<std::vector<ResidualBlock>> resEnc(n);
  std::optional<ConvBlock> stem;
  std::int64_t in = inputChannels;
  const std::vector<std::int64_t> one{1, 1, 1};
  if (residual) {
    stem = block(w, "encoder.stem.convs.0", in, features[0], kernels[0], one, bias, ops);
    in = features[0];
  }
  for (std::size_t s = 0; s < n; ++s)
    for (std::int64_t i = 0; i < convsEnc[s]; ++i) {
      const auto stride = i == 0 ? strides[s] : one;
      if (residual) {
        const std::string pre = "encoder.stages." + std::to_string(s) + ".blocks." + std::to_string(i);
        ResidualBlock b;
        b.conv1 = block(w, pre + ".conv1", in, features[s], kernels[s], stride, bias, ops);
        b.conv2 = block(w, pre + ".conv2", features[s], features[s], kernels[s], one, bias, ops);
        b.stride = stride;
        b.pool = stride != one;
        b.project = in != features[s];
        if (b.project)
          b.skip = block(w, pre + ".skip." + std::string(b.pool ? "1" : "0"), in, features[s], one, one, false, ops);
        resEnc[s].push_back(b);
      } else {
        enc[s].push_back(block(w, "encoder.stages." + std::to_string(s) + ".0.convs." + std::to_string(i), in,
                               features[s], kernels[s], stride, bias, ops));
      }
      in = features[s];
    }
  std::vector<torch::Tensor> tw(n - 1), tb(n - 1);
  for (std::size_t s = 0; s + 1 < n; ++s) {
    const std::size_t below = n - 1 - s, above = n - 2 - s; // stage indices of the encoder
    const auto& st = strides[below];
    tw[s] = w.take("decoder.transpconvs." + std::to_string(s) + ".weight",
                   {features[below], features[above], st[0], st[1], st[2]});
    if (bias) tb[s] = w.take("decoder.transpconvs." + std::to_string(s) + ".bias", {features[above]});
    std::int64_t cin = 2 * features[above];
    for (std::int64_t i = 0; i < convsDec[s]; ++i) {
      dec[s].push_back(block(w, "decoder.stages." + std::to_string(s) + ".convs." + std::to_string(i), cin,
                             features[above], kernels[above], {1, 1, 1}, bias, ops));
      cin = features[above];
    }
  }
  const std::string seg = "decoder.seg_layers." + std::to_string(n - 2);
  torch::Tensor segW = w.take(seg + ".weight", {numClasses, features[0], 1, 1, 1});
  torch::Tensor segB = w.take(seg + ".bias", {numClasses});
  w.markOptional("decoder.seg_layers."); // deep-supervision heads: present in every checkpoint, unused at inference
  w.check();

  return [=](const torch::Tensor& input) {
    std::vector<torch::Tensor> skips;
    torch::Tensor x = stem ? apply(*stem, input, ops) : input;
    for (std::size_t s = 0; s < n; ++s) {
      if (residual)
        for (const auto& b : resEnc[s]) x = apply(b, x, ops);
      else
        for (const auto& b : enc[s]) x = apply(b, x, ops);
      skips.push_back(x);
    }
    torch::Tensor lres = skips.back();
    for (std::size_t s = 0; s + 1 < n; ++s) {
      x = torch::conv_transpose3d(lres, tw[s], tb[s], strides[n - 1 - s]);
      x = torch::cat({x, skips[skips.size() - 2 - s]}, 1);
      for (const auto& b : dec[s]) x = apply(b, x, ops);
      lres = x;
    }
    return conv(lres, segW, segB, {1, 1, 1}, {0, 0, 0});
  };
}

} // namespace voxseg::inference::nnunet
