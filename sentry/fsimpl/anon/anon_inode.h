// The one inode every anonymous file shares (Linux's anon_inode_inode):
// eventfd, epoll, and the other anon_inode:[...] files. fstat() on any of
// them shows this device and inode number, mode 0600 with no file type
// bits, owned by root, as Linux does.
#pragma once

#include <sys/stat.h>
#include <sys/types.h>

namespace palisade {

inline constexpr dev_t kAnonInodeDev = 13;  // 0:13, stable and fs-private
inline constexpr ino_t kAnonInodeIno = 1;

inline struct stat AnonInodeStat() {
  struct stat st {};
  st.st_dev = kAnonInodeDev;
  st.st_ino = kAnonInodeIno;
  st.st_mode = S_IRUSR | S_IWUSR;  // no S_IFMT bits: "anonymous"
  st.st_nlink = 1;
  st.st_blksize = 4096;
  return st;
}

}  // namespace palisade
