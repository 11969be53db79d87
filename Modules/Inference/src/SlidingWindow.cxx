#include "voxseg/inference/SlidingWindow.h"

#include "NetworkImpl.h"
#include "SlabTransfer.h"
#include "TorchCompat.h"
#include "voxseg/core/Error.h"
#include "voxseg/inference/ImportanceMap.h"

#include "voxseg/core/Log.h"

#include <array>
#include <chrono>
#include <functional>

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

// predict() over the batch in chunks of `batch` windows; a chunk that runs out of memory is retried
// in halves, and `batch` stays halved for the rest of the run. `relieve(oneWindow)` is asked first each
// time: it frees what can go without a cost (staged slabs) and, for one window, moves something off the
// device; it is then tried again. When one window does not fit and nothing is left to move, it is an error.
// The chunks' predictions are returned as they are (concatenating them would allocate again).
std::vector<torch::Tensor> predictChunked(const Network::Impl& net, const torch::Tensor& x,
                                          const std::vector<std::vector<std::int64_t>>& flips, bool autocast,
                                          at::ScalarType autocastType, int& batch, RunStats& stats,
                                          const std::function<bool(bool)>& relieve) {
  std::vector<torch::Tensor> parts;
  for (std::int64_t i = 0; i < x.size(0);) {
    const std::int64_t n = std::min<std::int64_t>(batch, x.size(0) - i);
    try {
      parts.push_back(predict(net, x.narrow(0, i, n), flips, autocast, autocastType));
      ++stats.forwardCalls;
      i += n;
    } catch (const std::exception& e) {
      if (dynamic_cast<const Error*>(&e) || !compat::isOutOfMemory(e)) throw;
      const auto shape = x.sizes();
      if (relieve(n == 1)) continue;
      if (n == 1)
        throw Error(ExitCode::Model, net.path + ": out of memory on " + net.device.str() + " running one window of " +
                                         std::to_string(shape[2]) + "x" + std::to_string(shape[3]) + "x" +
                                         std::to_string(shape[4]) + " (try --device cpu or a smaller patch)");
      batch = static_cast<int>(n / 2);
      logWarning(net.device.str() + ": out of memory with " + std::to_string(n) +
                 " windows per forward call, going on with " + std::to_string(batch));
    }
  }
  return parts;
}

// Float16/float32 accumulators for the rows of the padded network grid that windows still touch: a
// fixed block of `capacity` rows per fold (the most rows one batch spans), allocated once. Finished
// rows leave one at a time; live rows are moved to the front when the next batch would not fit.
class Accumulator {
public:
  Accumulator(int folds, std::int64_t channels, const Shape3& padded, std::int64_t capacity, at::ScalarType dtype,
              torch::Device device)
      : capacity_(capacity) {
    const auto opts = torch::TensorOptions().dtype(dtype).device(device);
    for (int f = 0; f < folds; ++f) acc_.push_back(torch::empty({channels, capacity, padded[1], padded[2]}, opts));
    count_ = torch::empty({1, capacity, padded[1], padded[2]}, opts);
  }

  std::int64_t begin() const { return begin_; }
  std::int64_t filled() const { return filled_; }
  torch::Device device() const { return count_.device(); }
  void moveTo(torch::Device device) {
    for (auto* t : all()) *t = t->to(device);
  }
  std::int64_t bytes() const {
    std::int64_t b = count_.numel() * count_.element_size();
    for (const auto& a : acc_) b += a.numel() * a.element_size();
    return b;
  }

  // Makes rows [begin, end) addressable; rows seen for the first time start at zero.
  void ensure(std::int64_t end) {
    if (end - base_ > capacity_) compact();
    if (end - base_ > capacity_) throw Error(ExitCode::Internal, "sliding window: accumulator rows exhausted");
    if (end <= filled_) return;
    for (auto* t : all()) t->narrow(1, filled_ - base_, end - filled_).zero_();
    filled_ = end;
  }

  void add(int fold, const Shape3& start, const Shape3& patch, const torch::Tensor& weighted) {
    region(acc_[std::size_t(fold)], start, patch).add_(weighted);
  }
  void addWeight(const Shape3& start, const Shape3& patch, const torch::Tensor& w) {
    region(count_, start, patch).add_(w);
  }

  // Rows [begin, begin + n) are final: blended per fold, then the fold average, in the accumulator's
  // dtype ([K, n, Y, X]).
  torch::Tensor take(std::int64_t n) {
    const std::int64_t i = begin_ - base_;
    const auto cnt = count_.narrow(1, i, n);
    torch::Tensor result;
    for (std::size_t f = 0; f < acc_.size(); ++f) {
      auto blended = acc_[f].narrow(1, i, n) / cnt;
      result = f == 0 ? blended : result.add_(blended);
    }
    if (acc_.size() > 1) result /= static_cast<double>(acc_.size());
    begin_ += n;
    return result;
  }

private:
  std::vector<torch::Tensor*> all() {
    std::vector<torch::Tensor*> v{&count_};
    for (auto& a : acc_) v.push_back(&a);
    return v;
  }
  torch::Tensor region(const torch::Tensor& t, const Shape3& start, const Shape3& patch) const {
    return t.index({Slice(), Slice(start[0] - base_, start[0] - base_ + patch[0]), Slice(start[1], start[1] + patch[1]),
                    Slice(start[2], start[2] + patch[2])});
  }
  // Live rows [begin, filled) to slots [0, filled - begin); row by row upwards, so no source is overwritten
  // before it is read.
  void compact() {
    const std::int64_t from = begin_ - base_, live = filled_ - begin_;
    if (from > 0)
      for (auto* t : all())
        for (std::int64_t r = 0; r < live; ++r) t->narrow(1, r, 1).copy_(t->narrow(1, from + r, 1));
    base_ = begin_;
  }

  std::int64_t capacity_;
  std::vector<torch::Tensor> acc_;
  torch::Tensor count_;
  std::int64_t base_ = 0;   ///< padded row held in slot 0
  std::int64_t begin_ = 0;  ///< rows below are emitted
  std::int64_t filled_ = 0; ///< rows below have been zeroed (addressable)
};

// One window of the padded grid cut from the unpadded [Z, Y, X] channel views: the part inside the
// volume, padded with `value` where the window hangs over. Returns [C, pz, py, px].
torch::Tensor cutWindow(const std::vector<torch::Tensor>& chans, const WindowGrid& grid, const Shape3& shape,
                        const Shape3& start, const Shape3& patch, float value) {
  std::array<std::int64_t, 3> lo{}, hi{};
  std::vector<std::int64_t> pad(6, 0); // constant_pad_nd order: last axis first
  bool inside = true;
  for (int a = 0; a < 3; ++a) {
    const std::int64_t s = start[a] - grid.padBefore[a], e = s + patch[a];
    lo[a] = std::max<std::int64_t>(s, 0);
    hi[a] = std::min(e, shape[a]);
    pad[std::size_t(2 * (2 - a))] = lo[a] - s;
    pad[std::size_t(2 * (2 - a) + 1)] = e - hi[a];
    inside = inside && lo[a] == s && hi[a] == e;
  }
  std::vector<torch::Tensor> parts;
  for (const auto& c : chans) {
    auto part = c.index({Slice(lo[0], hi[0]), Slice(lo[1], hi[1]), Slice(lo[2], hi[2])});
    parts.push_back(inside ? part : torch::constant_pad_nd(part, pad, value));
  }
  return torch::stack(parts);
}

// The consumer's labels from a slab [K, rows, Y, X] where it is, as int16 [rows, Y, X] holding the uint16
// values' bits; `bits` are the rule's values as such, `values` the same on the slab's device. (NaN outputs aside,
// where torch.argmax takes the NaN and the host's loop does not, these are the host's labels.)
torch::Tensor labelsOf(const torch::Tensor& slab, const LabelRule& rule, const std::vector<std::int16_t>& bits,
                       const torch::Tensor& values) {
  const torch::Tensor v = slab.is_cpu() ? slab.to(torch::kFloat) : slab; // LibTorch 1.13's CPU argmax takes no float16
  if (!rule.regions) {
    const torch::Tensor index = v.argmax(0);
    return values.index_select(0, index.flatten()).view(index.sizes());
  }
  torch::Tensor out = torch::zeros(v.sizes().slice(1), torch::TensorOptions().dtype(torch::kShort).device(v.device()));
  // later regions win; a host number (a device one would be read back, waiting for the queue)
  for (std::int64_t k = 0; k < v.size(0); ++k) out.masked_fill_(v[k] > 0, bits[std::size_t(k)]);
  return out;
}

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
  if (device.is_cuda()) {
    compat::setTf32(opt.precision == "tf32");
    compat::setCudnnBenchmark(opt.cudnnBenchmark);
  }
  RunStats stats;
  stats.device = device.str();
  stats.cudnnBenchmark = opt.cudnnBenchmark;

  // One [Z, Y, X] view per channel over the caller's buffers (no copy on the CPU), in network order.
  // Windows are cut from these views and padded one by one, so the padded volume never exists.
  const auto& s = input.zyx;
  std::vector<torch::Tensor> chans;
  for (const float* p : input.channels) {
    auto c = torch::from_blob(const_cast<float*>(p), {s[0], s[1], s[2]}, torch::kFloat); // read only
    if (order == AxisOrder::XYZ) c = c.permute({2, 1, 0});
    chans.push_back(c);
  }
  // On a device the whole input goes there once. When it does not fit (or later, when a window does not),
  // windows are cut from the caller's buffers on the host and each batch is uploaded.
  const std::vector<torch::Tensor> hostChans = chans;
  const auto inputToHost = [&] {
    logWarning("device memory exhausted: the input stays on the host, windows are uploaded batch by batch");
    chans = hostChans; // a device copy is freed
    stats.inputOnHost = true;
  };
  if (!device.is_cpu()) {
    const auto t = std::chrono::steady_clock::now();
    try {
      for (auto& c : chans) c = c.to(device);
    } catch (const c10::Error& e) {
      if (!compat::isOutOfMemory(e)) throw;
      inputToHost();
    }
    stats.uploadSeconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
  }
  // Labels made where the slabs are (on a GPU, by default) for a consumer that needs only labels: the rule's
  // values go to the device once, before any work is queued (a copy from pageable memory waits for the queue).
  const LabelRule* rule = consumer.labelRule();
  torch::Tensor ruleValues;
  std::vector<std::int16_t> ruleBits;
  if (rule &&
      (opt.deviceLabels == DeviceLabels::Always || (opt.deviceLabels == DeviceLabels::Device && !device.is_cpu()))) {
    for (int value : rule->valueOfChannel)
      ruleBits.push_back(static_cast<std::int16_t>(static_cast<std::uint16_t>(value)));
    ruleValues = torch::from_blob(ruleBits.data(), {std::int64_t(ruleBits.size())}, torch::kShort).to(device);
  }
  const Shape3 shape{chans.front().size(0), chans.front().size(1), chans.front().size(2)};
  const WindowGrid grid = planWindows(shape, opt.patch, opt.tiling, opt.everySlice);

  const at::ScalarType accType = opt.halfAccumulation ? at::kHalf : at::kFloat;
  const auto impValues = importanceMap(opt.patch, opt.importance);
  auto imp = torch::from_blob(const_cast<float*>(impValues.data()), {1, opt.patch[0], opt.patch[1], opt.patch[2]},
                              torch::kFloat)
                 .to(device, accType, false, true);
  const auto flips = mirrorCombinations(opt.mirrorAxes);

  const std::int64_t total = grid.count();
  std::unique_ptr<Accumulator> acc;
  std::int64_t channels = 0;
  const std::int64_t rowBegin = grid.padBefore[0], rowEnd = grid.padBefore[0] + shape[0];

  // Finished rows go to the consumer (float32, unpadded, on the host) in slabs of at most ~64 MB, so
  // that a 105-class head on a 512 x 512 plane passes a row at a time while small heads pass whole
  // blocks (one device-to-host copy each).
  std::int64_t rowsPerSlab = 1;
  SlabTransfer transfer(device, opt.copyOverlap == CopyOverlap::Always ||
                                    (opt.copyOverlap == CopyOverlap::Device && !device.is_cpu()));
  // Out of device memory: staged slabs are handed over (freed) first; with one window per batch, the input
  // goes to the host next, then the accumulators. False when nothing is left to free.
  const auto relieveDevice = [&](bool oneWindow) -> bool {
    if (device.is_cpu()) return false;
    if (transfer.pendingBytes() > 0) { // finished rows still on the device: hand them over, free them
      transfer.finish(consumer);
      return true;
    }
    if (!oneWindow) return false; // halving the batch comes before moving data to the host
    if (!stats.inputOnHost) {
      inputToHost();
      return true;
    }
    if (acc && !stats.accumulatorOnHost) {
      logWarning("device memory exhausted: accumulating on the host");
      acc->moveTo(torch::kCPU);
      imp = imp.to(torch::kCPU);
      stats.accumulatorOnHost = true;
      return true;
    }
    return false;
  };

  // Finishing rows allocates on the device too (the blend, the float32 copy): out of memory there frees
  // the staged slabs and tries once more.
  const auto withStagedFreed = [&](auto&& step) {
    try {
      return step();
    } catch (const c10::Error& e) {
      if (!compat::isOutOfMemory(e) || !relieveDevice(false)) throw;
      return step();
    }
  };
  auto emit = [&](std::int64_t upTo) {
    while (acc && acc->begin() < std::min(upTo, acc->filled())) {
      const std::int64_t first = acc->begin();
      const std::int64_t n = std::min(rowsPerSlab, std::min(upTo, acc->filled()) - first);
      torch::Tensor rows = withStagedFreed([&] { return acc->take(n); });
      // float16 accumulators overflow at 65504: nnU-Net stops there ("Encountered inf in predicted array"); the
      // labels were written from inf/NaN rows, and the probabilities were NaN
      if (opt.halfAccumulation && torch::isinf(rows).any().item<bool>()) // as nnU-Net checks (NaN goes on)
        throw Error(ExitCode::Model, networks.front()->path() +
                                         ": the network's weighted outputs overflow float16 accumulators (inf), as "
                                         "nnU-Net's would (it stops too); a card can accumulate in float32");
      const std::int64_t lo = std::max(first, rowBegin), hi = std::min(first + n, rowEnd);
      if (lo >= hi) continue;
      SlabView v;
      v.order = order;
      v.shape = shape;
      v.begin = lo - rowBegin;
      v.end = hi - rowBegin;
      v.channels = channels;
      const auto slab = rows.narrow(1, lo - first, hi - lo)
                            .narrow(2, grid.padBefore[1], shape[1])
                            .narrow(3, grid.padBefore[2], shape[2]);
      // Labels where the slab is when the consumer's rule fits the network (else the consumer names the mismatch).
      const bool labels = ruleValues.defined() && ruleValues.device() == slab.device() &&
                          std::int64_t(rule->valueOfChannel.size()) == channels;
      withStagedFreed([&] {
        if (labels)
          transfer.startLabels(labelsOf(slab, *rule, ruleBits, ruleValues), v, consumer);
        else
          transfer.start(slab, v, consumer);
        return 0;
      });
      stats.deviceLabelSlabs += labels ? 1 : 0;
      ++stats.slabs;
    }
  };

  // Rows one batch spans at most: the accumulators' fixed height. Every run of `batch` consecutive
  // windows counts, not only the aligned ones: after an out-of-memory halving (5 -> 2, say) batches no
  // longer start at multiples of the first batch size.
  int batch = std::max(1, opt.swBatch);
  std::int64_t capacity = 0;
  for (std::int64_t first = 0; first < total; ++first) {
    std::int64_t lo = grid.window(first)[0], hi = 0;
    for (std::int64_t i = first; i < std::min(total, first + batch); ++i) {
      lo = std::min(lo, grid.window(i)[0]);
      hi = std::max(hi, grid.window(i)[0] + opt.patch[0]);
    }
    capacity = std::max(capacity, hi - lo);
  }
  for (std::int64_t first = 0, last = 0; first < total; first = last) {
    last = std::min(total, first + batch);
    std::vector<Shape3> starts;
    for (std::int64_t i = first; i < last; ++i) starts.push_back(grid.window(i));
    // The batch of windows on the device; out of memory here takes the same steps as in a forward call
    // (staged slabs, fewer windows per batch, then the input and the accumulators to the host).
    torch::Tensor x;
    for (;;) {
      try {
        std::vector<torch::Tensor> windows;
        for (const auto& w : starts) windows.push_back(cutWindow(chans, grid, shape, w, opt.patch, opt.padValue));
        x = torch::stack(windows);
        if (x.device() != device) x = x.to(device);
        break;
      } catch (const c10::Error& e) {
        if (!compat::isOutOfMemory(e)) throw;
        const bool one = starts.size() == 1;
        if (relieveDevice(one)) continue;
        if (one) throw;
        batch = static_cast<int>(starts.size() / 2); // as predictChunked halves it
        logWarning(device.str() + ": out of memory cutting " + std::to_string(starts.size()) +
                   " windows, going on with " + std::to_string(batch));
        starts.resize(std::size_t(batch));
        last = first + batch;
      }
    }
    // Rows below this batch's first window are final: their copies start before its forward calls are
    // queued and are handed over after (overlapping them on a GPU; see SlabTransfer).
    emit(starts.front()[0]);
    std::vector<std::vector<torch::Tensor>> preds; // per network: the predictions of its chunks, in window order
    for (const Network* net : networks)
      preds.push_back(predictChunked(net->impl(), x, flips, autocast, autocastType, batch, stats, relieveDevice));
    transfer.finish(consumer);
    if (!acc) {
      channels = preds.front().front().size(1);
      rowsPerSlab = std::max<std::int64_t>(1, (std::int64_t(64) << 20) / (4 * channels * shape[1] * shape[2]));
      try {
        acc =
            std::make_unique<Accumulator>(int(networks.size()), channels, grid.paddedShape, capacity, accType, device);
      } catch (const c10::Error& e) {
        if (!compat::isOutOfMemory(e) || device.is_cpu()) throw;
        logWarning("device memory exhausted: accumulating on the host");
        stats.accumulatorOnHost = true;
        acc = std::make_unique<Accumulator>(int(networks.size()), channels, grid.paddedShape, capacity, accType,
                                            torch::kCPU);
        imp = imp.to(torch::kCPU);
      }
    }
    for (const auto& chunks : preds)
      for (const auto& p : chunks)
        if (p.size(1) != channels || p.size(2) != opt.patch[0] || p.size(3) != opt.patch[1] ||
            p.size(4) != opt.patch[2])
          throw Error(ExitCode::Model, "network output shape " + c10::str(p.sizes()) + " does not match " +
                                           std::to_string(channels) + " channels x the patch " +
                                           c10::str(c10::IntArrayRef(opt.patch.data(), 3)));
    std::int64_t maxEnd = 0;
    for (const auto& w : starts) maxEnd = std::max(maxEnd, w[0] + opt.patch[0]);
    // Gaussian-weighted in place (the accumulators were allocated up front, so nothing here allocates on
    // the device), then added window by window.
    acc->ensure(maxEnd);
    for (std::size_t f = 0; f < preds.size(); ++f) {
      std::size_t b = 0; // window of the batch
      for (auto& chunk : preds[f]) {
        const torch::Tensor weighted =
            chunk.device() == acc->device() ? chunk.mul_(imp) : chunk.to(acc->device()) * imp;
        for (std::int64_t j = 0; j < weighted.size(0); ++j, ++b) acc->add(int(f), starts[b], opt.patch, weighted[j]);
      }
    }
    for (const auto& w : starts) acc->addWeight(w, opt.patch, imp);
    stats.peakAccumulatorBytes = std::max(stats.peakAccumulatorBytes, acc->bytes());
    stats.windows = last;
    if (progress) progress(last, total);
  }
  emit(grid.paddedShape[0]);
  transfer.finish(consumer);
  stats.overlappedSlabs = transfer.deferred();
  stats.waitSeconds = transfer.waitSeconds();
  stats.consumeSeconds = transfer.consumeSeconds();
  stats.swBatch = batch;
  stats.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return stats;
}

} // namespace voxseg::inference
