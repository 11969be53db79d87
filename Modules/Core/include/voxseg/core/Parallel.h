#pragma once
// A minimal parallel loop over independent tasks on plain threads (no pool: each call starts and joins its
// own). Tasks must write disjoint memory; results then do not depend on the number of workers.

#include <algorithm>
#include <atomic>
#include <cstddef>
#include <exception>
#include <system_error>
#include <thread>
#include <vector>

namespace voxseg {

/// `requested` workers (0 or less: every core), at most one per task and at least one.
inline unsigned workerCount(int requested, std::size_t tasks) {
  const unsigned hw = std::max(1u, std::thread::hardware_concurrency());
  const unsigned want = requested > 0 ? static_cast<unsigned>(requested) : hw;
  return static_cast<unsigned>(std::max<std::size_t>(1, std::min<std::size_t>(want, tasks)));
}

/// Runs task(i) for i in [0, n) on `workers` threads (the caller's among them; tasks taken in order). When a
/// task throws, the workers take no new tasks (those already taken finish) and, once all have ended, one of the
/// exceptions is rethrown (the lowest-numbered worker's). A thread that cannot be started leaves its share to
/// the others.
template <typename Task> void parallelFor(std::size_t n, unsigned workers, Task&& task) {
  workers = unsigned(std::min<std::size_t>(workers, n));
  if (workers <= 1) {
    for (std::size_t i = 0; i < n; ++i) task(i);
    return;
  }
  std::atomic<std::size_t> next{0};
  std::vector<std::exception_ptr> errors(workers);
  const auto work = [&](unsigned w) {
    try {
      for (std::size_t i = next++; i < n; i = next++) task(i);
    } catch (...) {
      errors[w] = std::current_exception();
      next = n;
    }
  };
  std::vector<std::thread> pool;
  try {
    for (unsigned w = 1; w < workers; ++w) pool.emplace_back(work, w);
  } catch (const std::system_error&) { // out of threads: the ones started (and this one) do the work
  }
  work(0);
  for (auto& t : pool) t.join();
  for (auto& e : errors)
    if (e) std::rethrow_exception(e);
}

/// Runs range(begin, end) over [0, n) cut into contiguous pieces (a few per worker, none under `grain`).
template <typename Range> void parallelRanges(std::size_t n, unsigned workers, std::size_t grain, Range&& range) {
  const std::size_t pieces =
      std::max<std::size_t>(1, std::min<std::size_t>(std::size_t(workers) * 4, n / std::max<std::size_t>(grain, 1)));
  if (workers <= 1 || pieces == 1) {
    if (n > 0) range(std::size_t(0), n);
    return;
  }
  parallelFor(pieces, workers, [&](std::size_t p) { range(n * p / pieces, n * (p + 1) / pieces); });
}

} // namespace voxseg
