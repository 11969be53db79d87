#include "Cli.h"

#include <iostream>

#ifdef __GLIBC__
#include <malloc.h>
#endif

int main(int argc, char** argv) {
#ifdef __GLIBC__
  // The sliding window allocates and frees tensors of tens of MB per window (a 105-class head's output
  // is ~19 MB for a 20x48x48 patch). glibc's default serves those with fresh mmaps and trims the heap
  // after each free, so every window pays page faults (30% of the time for such heads). Blocks up to
  // 64 MiB come from the heap instead, and up to 128 MiB of free heap is kept; volumes stay mmapped.
  mallopt(M_MMAP_THRESHOLD, 64 << 20);
  mallopt(M_TRIM_THRESHOLD, 128 << 20);
#endif
  return voxseg::cli::main(argc, argv, std::cout, std::cerr);
}
