#pragma once
// The few LibTorch calls whose names differ between Debian's 1.13 and pip's 2.x.

#include <ATen/Context.h>
#include <ATen/autocast_mode.h>
#include <c10/util/Exception.h>
#include <torch/version.h>

#include <string>

namespace voxseg::inference::compat {

#if TORCH_VERSION_MAJOR > 2 || (TORCH_VERSION_MAJOR == 2 && TORCH_VERSION_MINOR >= 4)
inline void setCudaAutocast(bool enabled, at::ScalarType dtype) {
  at::autocast::set_autocast_dtype(at::kCUDA, dtype);
  at::autocast::set_autocast_enabled(at::kCUDA, enabled);
}
#else
inline void setCudaAutocast(bool enabled, at::ScalarType dtype) {
  at::autocast::set_autocast_gpu_dtype(dtype);
  at::autocast::set_enabled(enabled);
}
#endif

/// Enables CUDA autocast for its lifetime.
class AutocastGuard {
public:
  AutocastGuard(bool enabled, at::ScalarType dtype) : enabled_(enabled) {
    if (enabled_) setCudaAutocast(true, dtype);
  }
  ~AutocastGuard() {
    if (enabled_) {
      setCudaAutocast(false, at::kHalf);
      at::autocast::clear_cache();
    }
  }
  AutocastGuard(const AutocastGuard&) = delete;
  AutocastGuard& operator=(const AutocastGuard&) = delete;

private:
  bool enabled_;
};

/// TensorFloat-32 in cuDNN convolutions and cuBLAS matrix products (on by default for convolutions
/// in PyTorch): off gives true float32 results, on is faster on Ampere and later.
inline void setTf32(bool enabled) {
  at::globalContext().setAllowTF32CuDNN(enabled);
  at::globalContext().setAllowTF32CuBLAS(enabled);
}

/// cuDNN's benchmark mode: tries the convolution algorithms once per input shape and keeps the
/// fastest (nnU-Net's predictor turns it on); the windows of a run all have one shape.
inline void setCudnnBenchmark(bool enabled) { at::globalContext().setBenchmarkCuDNN(enabled); }

/// Out of memory: c10::OutOfMemoryError in 2.x, a c10::Error with that text in 1.13 ("CUDA out of
/// memory"), the CPU allocator's "not enough memory", CUDNN_/CUBLAS_STATUS_ALLOC_FAILED; also when raised
/// from inside a TorchScript graph.
inline bool isOutOfMemory(const std::exception& e) {
  const std::string what = e.what();
  return what.find("out of memory") != std::string::npos || what.find("not enough memory") != std::string::npos ||
         what.find("_STATUS_ALLOC_FAILED") != std::string::npos; // cuDNN/cuBLAS workspace allocations
}

} // namespace voxseg::inference::compat
