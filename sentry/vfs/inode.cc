// Inode helpers shared by every filesystem: the struct stat conversion and
// the default index-based resumable directory listing.
#include "sentry/vfs/inode.h"

namespace palisade {

InodeAttr StatToInodeAttr(const struct stat& st) {
  InodeAttr a;
  a.dev = st.st_dev;
  a.ino = st.st_ino;
  a.mode = st.st_mode;
  a.nlink = st.st_nlink;
  a.uid = st.st_uid;
  a.gid = st.st_gid;
  a.rdev = st.st_rdev;
  a.size = st.st_size;
  a.blksize = st.st_blksize;
  a.blocks = st.st_blocks;
  a.atime = st.st_atim;
  a.mtime = st.st_mtim;
  a.ctime = st.st_ctim;
  return a;
}

struct stat InodeAttrToStat(const InodeAttr& a) {
  struct stat st {};
  st.st_dev = a.dev;
  st.st_ino = a.ino;
  st.st_mode = a.mode;
  st.st_nlink = a.nlink;
  st.st_uid = a.uid;
  st.st_gid = a.gid;
  st.st_rdev = a.rdev;
  st.st_size = a.size;
  st.st_blksize = a.blksize;
  st.st_blocks = a.blocks;
  st.st_atim = a.atime;
  st.st_mtim = a.mtime;
  st.st_ctim = a.ctime;
  return st;
}

ErrnoOr<std::vector<DirEntry>> Inode::ReadDirAt(int64_t pos, size_t max) {
  PAL_TRY(std::vector<DirEntry> all, ReadDir());
  std::vector<DirEntry> out;
  if (pos < 0) return Errno(EINVAL);
  for (size_t i = static_cast<size_t>(pos); i < all.size() && out.size() < max; i++) {
    out.push_back(std::move(all[i]));
    out.back().off = static_cast<int64_t>(i) + 1;
  }
  return out;
}

}  // namespace palisade
