// RAII temporary directories and files for syscall tests.
//
// Everything lives under $TEST_TMPDIR (set to /tmp inside the sandbox) or
// /tmp, in a fresh mkdtemp() directory that is removed recursively when the
// TempDir goes out of scope, so tests never collide with each other or with
// leftovers of an earlier run:
//
//   TempDir dir;                                   // dies loudly on failure
//   std::string f = dir.CreateFile("a", "hello");  // returns the full path
//   EXPECT_THAT(unlink(f.c_str()), SyscallSucceeds());
#ifndef PALISADE_TESTS_SYSCALLS_UTIL_TEMP_PATH_H_
#define PALISADE_TESTS_SYSCALLS_UTIL_TEMP_PATH_H_

#include <sys/types.h>

#include <string>
#include <string_view>

namespace palisade::testing {

// $TEST_TMPDIR when set and non-empty, else "/tmp".
std::string TestTmpDir();

class TempDir {
 public:
  // Creates a new, empty directory (mode 0700) under TestTmpDir().
  TempDir();
  TempDir(const TempDir&) = delete;
  TempDir& operator=(const TempDir&) = delete;
  // Removes the directory and everything below it (best effort).
  ~TempDir();

  const std::string& path() const { return path_; }
  // path() + "/" + name. Does not create anything.
  std::string Join(std::string_view name) const;
  // Creates (or truncates) a regular file `name` holding `contents` with the
  // given mode (umask applies) and returns its path. Dies on failure.
  std::string CreateFile(std::string_view name, std::string_view contents = "",
                         mode_t mode = 0644) const;
  // Creates a subdirectory and returns its path. Dies on failure.
  std::string CreateDir(std::string_view name, mode_t mode = 0755) const;

 private:
  std::string path_;
};

// Removes `path` and, for a directory, everything below it. Returns 0 or -1.
int RemoveRecursively(const std::string& path);

}  // namespace palisade::testing

#endif  // PALISADE_TESTS_SYSCALLS_UTIL_TEMP_PATH_H_
