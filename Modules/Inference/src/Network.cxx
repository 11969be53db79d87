#include "NetworkImpl.h"

#include "voxseg/core/Error.h"

#include <torch/csrc/api/include/torch/version.h>
#include <torch/csrc/jit/passes/autocast.h>

#include <cstdio>
#include <filesystem>
#include <thread>

namespace voxseg::inference {
namespace {

std::string firstLine(const std::string& s) {
  const auto nl = s.find('\n');
  return nl == std::string::npos ? s : s.substr(0, nl);
}

// TorchScript interpreter errors end with the exception's own message after a traceback.
std::string lastLine(const std::string& s) {
  std::size_t end = s.find_last_not_of(" \n\r\t");
  if (end == std::string::npos) return s;
  const std::size_t start = s.rfind('\n', end);
  return s.substr(start == std::string::npos ? 0 : start + 1, end - (start == std::string::npos ? 0 : start + 1) + 1);
}

} // namespace

int setThreads(int threads) {
  if (threads <= 0) threads = static_cast<int>(std::max(1u, std::thread::hardware_concurrency()));
  torch::set_num_threads(threads);
  return torch::get_num_threads();
}

int threadCount() { return torch::get_num_threads(); }

bool cudaAvailable() { return torch::cuda::is_available(); }

std::string torchVersion() { return TORCH_VERSION; }

torch::Device resolveDevice(const DeviceSpec& spec) {
  if (spec.name == "auto") return cudaAvailable() ? torch::Device(torch::kCUDA, 0) : torch::Device(torch::kCPU);
  if (spec.name == "cpu") return torch::kCPU;
  if (spec.name.rfind("cuda", 0) == 0) {
    if (!cudaAvailable())
      throw usageError("--device " + spec.name + ": this LibTorch (" + torchVersion() + ") sees no CUDA device");
    try {
      torch::Device d(spec.name);
      if (d.index() < 0) d = torch::Device(torch::kCUDA, 0);
      if (d.index() >= static_cast<int>(torch::cuda::device_count()))
        throw usageError("--device " + spec.name + ": only " + std::to_string(torch::cuda::device_count()) +
                         " CUDA device(s)");
      return d;
    } catch (const c10::Error&) {
      throw usageError("--device " + spec.name + ": not a device name (cpu, cuda, cuda:N, auto)");
    }
  }
  throw usageError("--device " + spec.name + ": not a device name (cpu, cuda, cuda:N, auto)");
}

void checkDevice(const DeviceSpec& device) { resolveDevice(device); }

torch::Tensor Network::Impl::forward(const torch::Tensor& x) const {
  if (native) return native(x);
  auto& m = const_cast<torch::jit::Module&>(module);
  torch::jit::IValue out =
      m.forward({channelsLast && x.dim() == 5 ? x.contiguous(at::MemoryFormat::ChannelsLast3d) : x});
  if (out.isTensor()) return out.toTensor();
  if (out.isTuple()) return out.toTuple()->elements().at(0).toTensor(); // deep supervision: highest resolution first
  if (out.isList()) return out.toList().get(0).toTensor();
  throw Error(ExitCode::Model, path + ": network output is not a tensor (nor a tuple/list of tensors)");
}

Network::Network(std::unique_ptr<Impl> impl) : impl_(std::move(impl)) {}
Network::~Network() = default;
Network::Network(Network&&) noexcept = default;
Network& Network::operator=(Network&&) noexcept = default;

const std::string& Network::path() const { return impl_->path; }
std::string Network::device() const { return impl_->device.str(); }
const std::optional<std::string>& Network::embeddedCard() const { return impl_->card; }
const std::vector<int>& Network::allowedMirrorAxes() const { return impl_->mirrorAxes; }

Network Network::loadTorchScript(const std::string& path, const DeviceSpec& device) {
  std::error_code ec;
  if (std::filesystem::is_directory(path, ec))
    throw Error(ExitCode::Model, path + ": a folder, not a TorchScript file (an nnU-Net trained-model folder holds "
                                        "plans.json, dataset.json and fold_N/: voxseg segment -m <folder>, or "
                                        "pipeline::loadNnUNet from C++)");
  if (!std::filesystem::is_regular_file(path, ec)) throw Error(ExitCode::Model, path + ": no such model file");
  auto impl = std::make_unique<Impl>();
  impl->path = path;
  impl->device = resolveDevice(device);
  torch::jit::ExtraFilesMap extra{{"voxseg.json", ""}};
  try {
    impl->module = torch::jit::load(path, impl->device, extra);
  } catch (const c10::Error& e) {
    throw Error(ExitCode::Model,
                path + ": not a loadable TorchScript model (" + firstLine(e.what_without_backtrace()) + ")");
  } catch (const std::exception& e) {
    throw Error(ExitCode::Model, path + ": not a loadable TorchScript model (" + firstLine(e.what()) + ")");
  }
  impl->module.eval();
  // Reduced precision is eager autocast around the forward call (it applies inside TorchScript too). TorchScript's
  // own autocast pass would bake the first reduced type it sees into the optimised graph, which it keeps for every
  // later autocast run of the process: bfloat16 after float16 ran with float16 casts. Off, process-wide.
  torch::jit::setAutocastMode(false);
  try {
    useGlobalConvolutionFlags(impl->module);
  } catch (const std::exception& e) {
    throw Error(ExitCode::Model, path + ": cannot prepare the TorchScript graph (" + firstLine(e.what()) + ")");
  }
  if (!extra["voxseg.json"].empty()) impl->card = extra["voxseg.json"];
  return Network(std::move(impl));
}

bool Network::useChannelsLast() {
  if (impl_->native) return false;
  c10::InferenceMode off(false); // parameters are not inference tensors: set_data outside inference mode
  for (auto p : impl_->module.parameters())
    if (p.dim() == 5) p.set_data(p.contiguous(at::MemoryFormat::ChannelsLast3d));
  impl_->channelsLast = true;
  return true;
}

std::vector<std::int64_t> Network::probeOutputShape(int channels, const std::array<std::int64_t, 3>& patch) const {
  c10::InferenceMode guard;
  auto x = torch::zeros({1, channels, patch[0], patch[1], patch[2]}, torch::TensorOptions().device(impl_->device));
  try {
    const auto y = impl_->forward(x);
    return y.sizes().vec();
  } catch (const std::exception& e) {
    throw Error(ExitCode::Model, impl_->path + ": the network does not accept an input of shape [1, " +
                                     std::to_string(channels) + ", " + std::to_string(patch[0]) + ", " +
                                     std::to_string(patch[1]) + ", " + std::to_string(patch[2]) +
                                     "] (channels from the card, patch size): " + lastLine(e.what()));
  }
}

void Network::pack(const std::string& torchScriptPath, const std::string& cardJson, const std::string& outputPath) {
  Network net = loadTorchScript(torchScriptPath, DeviceSpec{"cpu"});
  torch::jit::ExtraFilesMap extra{{"voxseg.json", cardJson}};
  try {
    net.impl_->module.save(outputPath, extra);
  } catch (const c10::Error& e) {
    throw Error(ExitCode::Output, outputPath + ": cannot write (" + firstLine(e.what_without_backtrace()) + ")");
  }
}

} // namespace voxseg::inference
