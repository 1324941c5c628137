#include "sentry/loader/exec_file.h"

#include <fcntl.h>
#include <sys/mount.h>
#include <sys/stat.h>

#include <algorithm>

#include "sentry/kernel/task.h"
#include "sentry/loader/shebang.h"
#include "sentry/vfs/vfs.h"

namespace palisade::loader {
namespace {

// Reads until dst is full or EOF; returns the bytes read. Filesystems may
// return short reads (the gofer splits large ones), so one call is not enough.
ErrnoOr<size_t> ReadUpTo(Task& t, FileDescription& f, std::span<uint8_t> dst, int64_t off) {
  size_t done = 0;
  while (done < dst.size()) {
    PAL_TRY(int64_t n, f.PRead(t, dst.subspan(done), off + static_cast<int64_t>(done)));
    if (n <= 0) break;
    done += static_cast<size_t>(n);
  }
  return done;
}

}  // namespace

ErrnoOr<ExecFile> OpenExec(Task& t, int dirfd, std::string_view path, int at_flags) {
  vfs::ResolveOptions opts{.follow = (at_flags & AT_SYMLINK_NOFOLLOW) == 0,
                           .allow_empty = (at_flags & AT_EMPTY_PATH) != 0};
  ExecFile f;
  PAL_TRY(f.path, vfs::Resolve(t, dirfd, path, opts));
  Inode& inode = *f.path.dentry->inode();
  PAL_TRY(InodeAttr attr, inode.GetAttr());
  // Not following a final symlink makes it the file itself, which open
  // refuses with ELOOP (execveat(2), AT_SYMLINK_NOFOLLOW).
  if (S_ISLNK(attr.mode)) return Errno(ELOOP);
  if (!S_ISREG(attr.mode)) return Errno(EACCES);
  if (f.path.mount->flags() & MS_NOEXEC) return Errno(EACCES);
  PAL_TRY_ERRNO(vfs::CheckPermission(t, inode, 1 /* MAY_EXEC */));
  // Opened by the filesystem directly rather than through vfs::OpenPath,
  // which would demand read permission: exec needs only MAY_EXEC, so a
  // mode 0111 binary runs (do_open_execat()'s acc_mode).
  Credentials creds = t.creds();
  PAL_TRY(f.file, inode.Open(OpenRequest{.flags = O_RDONLY, .creds = &creds, .task = &t}));
  f.file->set_path(f.path.mount, f.path.dentry);

  PAL_TRY(struct stat st, f.file->Stat(t));
  f.size = st.st_size;
  f.head.resize(static_cast<size_t>(std::clamp<int64_t>(f.size, 0, kBinprmBufSize)));
  // The size is a snapshot; a file that shrank since reads short.
  PAL_TRY(size_t n, ReadUpTo(t, *f.file, f.head, 0));
  f.head.resize(n);
  return f;
}

Errno ReadExact(Task& t, FileDescription& f, std::span<uint8_t> dst, int64_t off) {
  PAL_TRY(size_t n, ReadUpTo(t, f, dst, off));
  return n == dst.size() ? Errno::Ok() : Errno(ENOEXEC);
}

ErrnoOr<ElfInfo> ReadElfInfo(Task& t, const ExecFile& f) {
  PAL_TRY(ElfHeader h, ParseElfHeader(f.head, f.size));
  std::vector<uint8_t> phdrs(h.PhdrBytes());
  PAL_TRY_ERRNO(ReadExact(t, *f.file, phdrs, static_cast<int64_t>(h.phoff)));
  PAL_TRY(ElfInfo info, ParseProgramHeaders(h, phdrs, f.size));
  if (info.has_interp) {
    std::vector<uint8_t> raw(info.interp_size);
    PAL_TRY_ERRNO(ReadExact(t, *f.file, raw, static_cast<int64_t>(info.interp_offset)));
    PAL_TRY(info.interp, ParseInterpPath(raw));
  }
  return info;
}

}  // namespace palisade::loader
