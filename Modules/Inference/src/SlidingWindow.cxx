#include "voxseg/inference/SlidingWindow.h"

#include "NetworkImpl.h"
#include "TorchCompat.h"
#include "voxseg/core/Error.h"
#include "voxseg/inference/ImportanceMap.h"

#include "voxseg/core/Log.h"

#include <chrono>
#include <cstring>

namespace voxseg::inference {
namespace {

using torch::indexing::Slice;

// itertools.combinations of the mirror axes (tensor dims = axis + 2), sizes 1..n, in Python's order.
std::vector<std::vector<std::int64_t>> mirrorCombinations(const std::vector<int>& axes) {
  std::vector<std::vector<std::int64_t>> out;
  const std::size_t n = axes.size();
  for (std::size_t k = 1; k <= n; ++k) {
    std::vector<std::size_t> idx(k);
    for (std::size_t i = 0; i < k; ++i) idx[i] = i;
    while (true) {
      std::vector<std::int64_t> c;
      for (std::size_t i : idx) c.push_back(axes[i] + 2);
      out.push_back(c);
      std::size_t i = k;
      while (i > 0 && idx[i - 1] == n - k + i - 1) --i;
      if (i == 0) break;
      ++idx[i - 1];
      for (std::size_t j = i; j < k; ++j) idx[j] = idx[j - 1] + 1;
    }
  }
  return out;
}

// Network output for a batch of windows, averaged over the mirrorings as nnU-Net does (float32).
torch::Tensor predict(const Network::Impl& net, const torch::Tensor& x,
                      const std::vector<std::vector<std::int64_t>>& flips, bool autocast, at::ScalarType autocastType) {
  compat::AutocastGuard guard(autocast, autocastType);
  torch::Tensor pred = net.forward(x).to(torch::kFloat);
  for (const auto& axes : flips) pred += torch::flip(net.forward(torch::flip(x, axes)), axes).to(torch::kFloat);
  if (!flips.empty()) pred /= static_cast<double>(flips.size() + 1);
  return pred;
}

class Accumulator {
public:
  Accumulator(int folds, std::int64_t channels, const Shape3& padded, at::ScalarType dtype, torch::Device device)
      : folds_(folds), channels_(channels), padded_(padded), dtype_(dtype), device_(device) {}

  std::int64_t begin() const { return begin_; }
  torch::Device device() const { return device_; }
  std::int64_t bytes() const {
    std::int64_t b = count_.defined() ? count_.numel() * count_.element_size() : 0;
    for (const auto& a : acc_) b += a.numel() * a.element_size();
    return b;
  }

  // Makes rows [begin, end) addressable.
  void ensure(std::int64_t end) {
    const std::int64_t have = count_.defined() ? count_.size(1) : 0;
    const std::int64_t need = end - begin_;
    if (need <= have) return;
    const auto opts = torch::TensorOptions().dtype(dtype_).device(device_);
    auto grow = [&](torch::Tensor& t, std::int64_t c) {
      auto extra = torch::zeros({c, need - have, padded_[1], padded_[2]}, opts);
      t = t.defined() ? torch::cat({t, extra}, 1) : extra;
    };
    if (acc_.empty()) acc_.resize(std::size_t(folds_));
    for (auto& a : acc_) grow(a, channels_);
    grow(count_, 1);
  }

  void add(int fold, const Shape3& start, const Shape3& patch, const torch::Tensor& weighted) {
    acc_[std::size_t(fold)]
        .index({Slice(), Slice(start[0] - begin_, start[0] - begin_ + patch[0]), Slice(start[1], start[1] + patch[1]),
                Slice(start[2], start[2] + patch[2])})
        .add_(weighted);
  }
  void addWeight(const Shape3& start, const Shape3& patch, const torch::Tensor& w) {
    count_
        .index({Slice(), Slice(start[0] - begin_, start[0] - begin_ + patch[0]), Slice(start[1], start[1] + patch[1]),
                Slice(start[2], start[2] + patch[2])})
        .add_(w);
  }

  // Rows [begin, upTo) are final: blended (per fold, then the fold average) in the accumulator's dtype.
  torch::Tensor take(std::int64_t upTo) {
    const std::int64_t n = std::min<std::int64_t>(upTo - begin_, count_.defined() ? count_.size(1) : 0);
    if (n <= 0) return {};
    const auto cnt = count_.narrow(1, 0, n);
    torch::Tensor result;
    for (std::size_t f = 0; f < acc_.size(); ++f) {
      auto blended = acc_[f].narrow(1, 0, n) / cnt;
      result = f == 0 ? blended : result.add_(blended);
    }
    if (acc_.size() > 1) result /= static_cast<double>(acc_.size());
    for (auto& a : acc_) a = a.narrow(1, n, a.size(1) - n);
    count_ = count_.narrow(1, n, count_.size(1) - n);
    begin_ += n;
    return result;
  }

  void moveTo(torch::Device d) {
    for (auto& a : acc_) a = a.to(d);
    if (count_.defined()) count_ = count_.to(d);
    device_ = d;
  }

private:
  int folds_;
  std::int64_t channels_;
  Shape3 padded_;
  at::ScalarType dtype_;
  torch::Device device_;
  std::vector<torch::Tensor> acc_;
  torch::Tensor count_;
  std::int64_t begin_ = 0;
};

} // namespace

EngineOptions engineOptionsFromCard(const ModelCard& card) {
  EngineOptions o;
  for (int a = 0; a < 3; ++a) o.patch[a] = card.patchSize[a];
  o.tiling = card.tiling;
  o.importance = card.importance;
  o.halfAccumulation = card.accumulation == "float16";
  o.mirrorAxes = card.mirrorAxes;
  o.swBatch = card.swBatch;
  return o;
}

RunStats slidingWindow(const std::vector<const Network*>& networks, const InputVolume& input, AxisOrder order,
                       const EngineOptions& opt, SlabConsumer& consumer, const ProgressFn& progress) {
  if (networks.empty()) throw Error(ExitCode::Internal, "slidingWindow: no network");
  if (input.channels.empty()) throw Error(ExitCode::Internal, "slidingWindow: no input channel");
  const auto t0 = std::chrono::steady_clock::now();
  c10::InferenceMode inferenceMode;
  const torch::Device device = networks.front()->impl().device;
  if (opt.precision != "float32" && opt.precision != "tf32" && opt.precision != "float16" &&
      opt.precision != "bfloat16")
    throw usageError("precision '" + opt.precision + "': expected float32, tf32, float16 or bfloat16");
  const bool autocast = device.is_cuda() && (opt.precision == "float16" || opt.precision == "bfloat16");
  const at::ScalarType autocastType = opt.precision == "bfloat16" ? at::kBFloat16 : at::kHalf;
  if (device.is_cuda()) compat::setTf32(opt.precision == "tf32");

  // [C, Z, Y, X] from the ITK buffers, then network order.
  const auto& s = input.zyx;
  const std::int64_t C = std::int64_t(input.channels.size());
  auto vol = torch::empty({C, s[0], s[1], s[2]}, torch::kFloat);
  for (std::int64_t c = 0; c < C; ++c)
    std::memcpy(vol[c].data_ptr<float>(), input.channels[std::size_t(c)],
                sizeof(float) * std::size_t(s[0] * s[1] * s[2]));
  if (order == AxisOrder::XYZ) vol = vol.permute({0, 3, 2, 1}).contiguous();
  const Shape3 shape{vol.size(1), vol.size(2), vol.size(3)};
  const WindowGrid grid = planWindows(shape, opt.patch, opt.tiling);
  if (grid.paddedShape != shape)
    vol = torch::constant_pad_nd(
        vol,
        {grid.padBefore[2], grid.padAfter[2], grid.padBefore[1], grid.padAfter[1], grid.padBefore[0], grid.padAfter[0]},
        opt.padValue);
  vol = vol.to(device);

  const at::ScalarType accType = opt.halfAccumulation ? at::kHalf : at::kFloat;
  const auto impValues = importanceMap(opt.patch, opt.importance);
  auto imp = torch::from_blob(const_cast<float*>(impValues.data()), {1, opt.patch[0], opt.patch[1], opt.patch[2]},
                              torch::kFloat)
                 .to(device, accType, false, true);
  const auto flips = mirrorCombinations(opt.mirrorAxes);

  RunStats stats;
  stats.device = device.str();
  const std::int64_t total = grid.count();
  std::unique_ptr<Accumulator> acc;
  std::int64_t channels = 0;
  const std::int64_t rowBegin = grid.padBefore[0], rowEnd = grid.padBefore[0] + shape[0];

  auto emit = [&](std::int64_t upTo) {
    torch::Tensor rows = acc->take(upTo);
    if (!rows.defined()) return;
    const std::int64_t first = acc->begin() - rows.size(1); // padded coordinate of rows[0]
    const std::int64_t lo = std::max(first, rowBegin), hi = std::min(first + rows.size(1), rowEnd);
    if (lo >= hi) return;
    auto out = rows.narrow(1, lo - first, hi - lo)
                   .narrow(2, grid.padBefore[1], shape[1])
                   .narrow(3, grid.padBefore[2], shape[2])
                   .to(torch::kCPU, torch::kFloat)
                   .contiguous();
    SlabView v;
    v.order = order;
    v.shape = shape;
    v.begin = lo - rowBegin;
    v.end = hi - rowBegin;
    v.channels = channels;
    v.data = out.data_ptr<float>();
    consumer.consume(v);
    ++stats.slabs;
  };

  const int batch = std::max(1, opt.swBatch);
  for (std::int64_t first = 0; first < total; first += batch) {
    const std::int64_t last = std::min(total, first + batch);
    std::vector<Shape3> starts;
    std::vector<torch::Tensor> windows;
    for (std::int64_t i = first; i < last; ++i) {
      starts.push_back(grid.window(i));
      const auto& w = starts.back();
      windows.push_back(vol.index({Slice(), Slice(w[0], w[0] + opt.patch[0]), Slice(w[1], w[1] + opt.patch[1]),
                                   Slice(w[2], w[2] + opt.patch[2])}));
    }
    const auto x = torch::stack(windows);
    std::vector<torch::Tensor> preds;
    for (const Network* net : networks) {
      preds.push_back(predict(net->impl(), x, flips, autocast, autocastType));
      ++stats.forwardCalls;
    }
    if (!acc) {
      channels = preds.front().size(1);
      acc = std::make_unique<Accumulator>(int(networks.size()), channels, grid.paddedShape, accType, device);
    }
    for (const auto& p : preds)
      if (p.size(1) != channels || p.size(2) != opt.patch[0] || p.size(3) != opt.patch[1] || p.size(4) != opt.patch[2])
        throw Error(ExitCode::Model, "network output shape " + c10::str(p.sizes()) + " does not match " +
                                         std::to_string(channels) + " channels x the patch " +
                                         c10::str(c10::IntArrayRef(opt.patch.data(), 3)));
    emit(starts.front()[0]);
    std::int64_t maxEnd = 0;
    for (const auto& w : starts) maxEnd = std::max(maxEnd, w[0] + opt.patch[0]);
    auto accumulate = [&] {
      acc->ensure(maxEnd);
      for (std::size_t f = 0; f < preds.size(); ++f)
        for (std::size_t b = 0; b < starts.size(); ++b)
          acc->add(int(f), starts[b], opt.patch, preds[f][std::int64_t(b)].to(acc->device()) * imp);
      for (const auto& w : starts) acc->addWeight(w, opt.patch, imp);
    };
    try {
      accumulate();
    } catch (const c10::Error& e) {
      if (!compat::isOutOfMemory(e) || !acc->device().is_cuda()) throw;
      logWarning("device memory exhausted: accumulating on the host from now on (finished rows are kept)");
      acc->moveTo(torch::kCPU);
      imp = imp.to(torch::kCPU);
      accumulate();
    }
    stats.peakAccumulatorBytes = std::max(stats.peakAccumulatorBytes, acc->bytes());
    stats.windows = last;
    if (progress) progress(last, total);
  }
  emit(grid.paddedShape[0]);
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

} // namespace voxseg::inference
