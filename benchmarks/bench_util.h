// Small helpers the microbenchmarks share: die on a failed syscall (a
// benchmark that silently measures an error path is worse than none), the
// temp directory, and a large file of the root filesystem to read.
#pragma once

#include <cstdint>
#include <string>

namespace palisade::bench {

[[noreturn]] void Die(const std::string& what);
// Returns r, or dies naming `what` and errno when r < 0.
int64_t CheckSys(int64_t r, const char* what);
// $TMPDIR, or /tmp.
std::string TempDir();
// A regular file of at least `min_size` bytes from a fixed list of files
// every Debian image has (the C library first).
std::string RootfsFileOfAtLeast(int64_t min_size);

}  // namespace palisade::bench
