// Small file and memory helpers shared by the syscall tests.
//
// The *OrDie helpers are for test set-up only: when set-up fails there is
// nothing meaningful left to test, so they print the errno and exit the
// process with status 2. The code under test is always called directly and
// checked with the matchers of syscall_matchers.h instead.
#ifndef PALISADE_TESTS_SYSCALLS_UTIL_FILE_UTIL_H_
#define PALISADE_TESTS_SYSCALLS_UTIL_FILE_UTIL_H_

#include <sys/types.h>

#include <string>
#include <string_view>

namespace palisade::testing {

// Prints "FATAL: <what>" (plus the errno name for DieErrno) and _exit(2)s.
[[noreturn]] void Die(const std::string& what);
[[noreturn]] void DieErrno(const std::string& what);

// Writes `contents` to a new or truncated file. Dies on failure.
void WriteFileOrDie(const std::string& path, std::string_view contents, mode_t mode = 0644);

// Reads a whole file (also /proc files, whose st_size is 0). Dies on failure.
std::string ReadFileOrDie(const std::string& path);

// read()s until EOF, retrying EINTR. Returns false on any other error.
bool ReadAll(int fd, std::string* out);

// write()s all of `data`, retrying short writes and EINTR.
bool WriteAll(int fd, std::string_view data);

// An address that faults on every access: the start of a PROT_NONE page
// reserved once per process. Use it to provoke EFAULT; unlike nullptr, it is
// not subject to the compiler's nonnull assumptions.
void* BadPointer();

// The page size of the running system.
size_t PageSize();

}  // namespace palisade::testing

#endif  // PALISADE_TESTS_SYSCALLS_UTIL_FILE_UTIL_H_
