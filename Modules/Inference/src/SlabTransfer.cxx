#include "SlabTransfer.h"

#include "voxseg/core/Error.h"
#include "voxseg/core/Log.h"

#include <c10/core/StreamGuard.h>
#include <c10/core/impl/VirtualGuardImpl.h>

#include <algorithm>
#include <chrono>

namespace voxseg::inference {
namespace {

double since(std::chrono::steady_clock::time_point t) {
  return std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
}

} // namespace

SlabTransfer::SlabTransfer(torch::Device device, bool overlapped, std::int64_t budgetBytes)
    : device_(device), overlapped_(overlapped), budget_(budgetBytes) {
  if (!overlapped_ || device_.is_cpu()) return;
  try {
    const c10::impl::VirtualGuardImpl impl(device_.type());
    copyStream_ = impl.getStreamFromGlobalPool(device_);
    ready_.emplace(device_.type());
    stream_ = true;
  } catch (const c10::Error& e) {
    logDebug(device_.str() + ": no copy stream (" + e.what_without_backtrace() + "), slabs are copied in turn");
    overlapped_ = false;
  }
}

SlabTransfer::~SlabTransfer() {
  try {
    if (stream_ && !pending_.empty()) copyStream_->synchronize();
  } catch (...) { // an error is already on its way out; nothing to add from a destructor
  }
}

torch::Tensor SlabTransfer::hostBuffer(std::int64_t elements, torch::ScalarType type) {
  for (auto it = free_.begin(); it != free_.end(); ++it)
    if (it->scalar_type() == type && it->numel() >= elements) {
      torch::Tensor b = *it;
      free_.erase(it);
      return b;
    }
  auto opts = torch::TensorOptions().dtype(type);
  if (stream_) {
    try {
      return torch::empty({elements}, opts.pinned_memory(true));
    } catch (const c10::Error& e) { // pinned memory is a limited resource: pageable still works, slower
      logDebug(std::string("pinned host memory: ") + e.what_without_backtrace());
    }
  }
  return torch::empty({elements}, opts);
}

void SlabTransfer::start(const torch::Tensor& slab, SlabView view, SlabConsumer& consumer) {
  if (!slab.is_floating_point()) throw Error(ExitCode::Internal, "slab transfer: values that are not floating point");
  startSlab(slab, false, view, consumer);
}

void SlabTransfer::startLabels(const torch::Tensor& labels, SlabView view, SlabConsumer& consumer) {
  if (labels.scalar_type() != torch::kShort)
    throw Error(ExitCode::Internal, "slab transfer: labels that are not int16");
  startSlab(labels, true, view, consumer);
}

void SlabTransfer::startSlab(const torch::Tensor& slab, bool labels, SlabView view, SlabConsumer& consumer) {
  // Staged: copied on the copy stream (a device slab) or into a host buffer (the CPU). A device run whose
  // accumulators went to the host has nothing to overlap: immediate.
  const bool staged = overlapped_ && (stream_ ? !slab.is_cpu() : slab.is_cpu());
  // The budget is kept before the float32 copy is made on the device.
  const std::int64_t copyBytes = slab.numel() * (labels ? 2 : std::int64_t(sizeof(float)));
  if (staged && !pending_.empty() && pendingBytes_ + copyBytes > budget_) finish(consumer);
  // on the compute stream
  torch::Tensor source = labels ? slab.contiguous() : slab.to(torch::kFloat).contiguous();
  // What it holds on the device: a contiguous view keeps its whole storage.
  const std::int64_t bytes = std::max<std::int64_t>(std::int64_t(source.storage().nbytes()),
                                                    source.numel() * std::int64_t(source.element_size()));
  if (!staged) {
    finish(consumer);
    const auto t = std::chrono::steady_clock::now();
    const torch::Tensor host = source.to(torch::kCPU).contiguous();
    waitSeconds_ += since(t);
    handOver(view, labels, host, consumer);
    return;
  }
  torch::Tensor host = hostBuffer(source.numel(), source.scalar_type());
  torch::Tensor target = host.narrow(0, 0, source.numel()).view(source.sizes());
  if (stream_) {
    const c10::impl::VirtualGuardImpl impl(device_.type());
    ready_->record(impl.getStream(source.device())); // the slab's values are written
    ready_->block(*copyStream_);
    const c10::StreamGuard onCopyStream(*copyStream_);
    target.copy_(source, /*non_blocking=*/true);
  } else {
    target.copy_(source);
  }
  pending_.push_back({std::move(source), std::move(host), view, labels, bytes});
  pendingBytes_ += bytes;
}

void SlabTransfer::handOver(SlabView& view, bool labels, const torch::Tensor& host, SlabConsumer& consumer) {
  if (labels)
    view.labels = reinterpret_cast<const std::uint16_t*>(host.data_ptr<std::int16_t>());
  else
    view.data = host.data_ptr<float>();
  const auto t = std::chrono::steady_clock::now();
  consumer.consume(view);
  consumeSeconds_ += since(t);
}

void SlabTransfer::finish(SlabConsumer& consumer) {
  if (pending_.empty()) return;
  if (stream_) {
    const auto t = std::chrono::steady_clock::now();
    copyStream_->synchronize();
    waitSeconds_ += since(t);
  }
  // Handed over one by one; a consumer that throws leaves the rest pending for the destructor.
  while (!pending_.empty()) {
    Pending p = std::move(pending_.front());
    pending_.erase(pending_.begin());
    pendingBytes_ -= p.bytes;
    handOver(p.view, p.labels, p.host, consumer);
    ++deferred_;
    free_.push_back(std::move(p.host));
  }
}

} // namespace voxseg::inference
