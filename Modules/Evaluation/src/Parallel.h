#pragma once
// A minimal parallel loop over independent tasks (private to the Evaluation module).

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <thread>
#include <vector>

namespace voxseg::evaluation::detail {

inline unsigned workerCount(int requested, std::size_t tasks) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const unsigned want = requested > 0 ? static_cast<unsigned>(requested) : hw;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(want, tasks)));
}

/// Runs task(i) for i in [0, n) on `workers` threads (tasks taken in order); the first exception a
/// task throws is rethrown after all threads have finished.
template <typename Task> void parallelFor(std::size_t n, unsigned workers, Task&& task) {
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) task(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(workers);
  std::vector<std::thread> pool;
  for (unsigned w = 0; w < workers; ++w)
    pool.emplace_back([&, w] {
      try {
        for (std::size_t i = next++; i < n; i = next++) task(i);
      } catch (...) {
        errors[w] = std::current_exception();
        next = n;
      }
    });
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

} // namespace voxseg::evaluation::detail
