#pragma once
// Process-wide heap settings for programs that run the sliding window, and the memory this process may use.

#include <cstdint>

namespace voxseg {

/// glibc only (no effect elsewhere): the sliding window allocates and frees tensors of tens of MB per
/// window (a 105-class head's output is ~19 MB for a 20x48x48 patch). By default glibc serves those
/// with fresh mmaps and trims the heap after each free, so every window pays page faults (30% of the
/// time for such heads). After this call blocks up to 64 MiB come from the heap and up to 128 MiB of
/// free heap is kept; volumes stay mmapped and go back to the system when freed. Call once, first.
void tuneHeapForInference();

/// Bytes of memory this process may use: the machine's physical memory, or less where a cgroup limits the process
/// (a container, a Slurm job: cgroup v2 memory.max, v1 memory.limit_in_bytes). 0 when it cannot be read.
std::uint64_t usableMemoryBytes();

} // namespace voxseg
