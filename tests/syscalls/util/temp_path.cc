#include "tests/syscalls/util/temp_path.h"

#include <fcntl.h>
#include <ftw.h>
#include <stdlib.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cstdio>
#include <vector>

#include "tests/syscalls/util/file_util.h"

namespace palisade::testing {

std::string TestTmpDir() {
  const char* env = getenv("TEST_TMPDIR");
  if (env != nullptr && env[0] != '\0') return env;
  return "/tmp";
}

TempDir::TempDir() {
  std::string tmpl = TestTmpDir() + "/palisade-systest.XXXXXX";
  std::vector<char> buf(tmpl.begin(), tmpl.end());
  buf.push_back('\0');
  if (mkdtemp(buf.data()) == nullptr) DieErrno("mkdtemp " + tmpl);
  path_ = buf.data();
}

TempDir::~TempDir() {
  if (RemoveRecursively(path_) != 0) {
    std::fprintf(stderr, "warning: could not remove %s\n", path_.c_str());
  }
}

std::string TempDir::Join(std::string_view name) const {
  return path_ + "/" + std::string(name);
}

std::string TempDir::CreateFile(std::string_view name, std::string_view contents,
                                mode_t mode) const {
  std::string p = Join(name);
  WriteFileOrDie(p, contents, mode);
  return p;
}

std::string TempDir::CreateDir(std::string_view name, mode_t mode) const {
  std::string p = Join(name);
  if (mkdir(p.c_str(), mode) != 0) DieErrno("mkdir " + p);
  return p;
}

namespace {
int RemoveOne(const char* path, const struct stat* st, int type, struct FTW*) {
  (void)st;
  if (type == FTW_DP || type == FTW_D || type == FTW_DNR) return rmdir(path) == 0 ? 0 : -1;
  return unlink(path) == 0 ? 0 : -1;
}

// Grants the owner rwx on every directory first, so that a test that left a
// mode-000 directory behind does not make the walk fail.
int MakeWalkable(const char* path, const struct stat* st, int type, struct FTW*) {
  if (type == FTW_D || type == FTW_DNR) chmod(path, (st->st_mode & 07777) | S_IRWXU);
  return 0;
}
}  // namespace

int RemoveRecursively(const std::string& path) {
  struct stat st;
  if (lstat(path.c_str(), &st) != 0) return -1;
  if (!S_ISDIR(st.st_mode)) return unlink(path.c_str());
  chmod(path.c_str(), (st.st_mode & 07777) | S_IRWXU);
  nftw(path.c_str(), MakeWalkable, 16, FTW_PHYS);
  return nftw(path.c_str(), RemoveOne, 16, FTW_DEPTH | FTW_PHYS);
}

}  // namespace palisade::testing
