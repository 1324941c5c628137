// fsnotify: the VFS's hooks for file change notification (inotify). A
// watch is an FsWatch registered under the identity of a file, WatchKey =
// (fs id, st_dev, st_ino), the identity SameInode() uses, because
// filesystems may hand out several Inode objects for one file and keep no
// dentries. The VFS operations call the Notify* hooks after a change
// succeeded; each hook is one atomic load while nothing is watched.
//
//   vfs::AddFsWatch(key, watch);                                 // inotify_add_watch
//   vfs::NotifyChild(dir_inode, "new.txt", IN_CREATE);           // from mkdir/creat ...
//   vfs::NotifyPath(file_dentry, IN_MODIFY);                     // the file and its parent
//
// Where events come from (Linux's fsnotify call sites):
//   namespace_ops.cc  IN_CREATE, IN_DELETE, IN_DELETE_SELF, IN_MOVED_FROM/TO
//                     (with a shared cookie), IN_MOVE_SELF, IN_ATTRIB (links)
//   open.cc           IN_CREATE (O_CREAT), IN_OPEN, IN_MODIFY (O_TRUNC)
//   attr_ops.cc       IN_ATTRIB (chmod, chown, utimes), IN_MODIFY (truncate)
//   file_description  IN_CLOSE_WRITE / IN_CLOSE_NOWRITE on the last close
//   syscalls          IN_ACCESS (read), IN_MODIFY (write, ftruncate)
// A directory's watchers get events about its children with the child's
// name; a file's watchers get events about itself with no name. IN_ISDIR
// marks events whose subject is a directory.
//
// Divergence from Linux: IN_DELETE_SELF is reported when the last link is
// removed, even if the file is still open (Linux waits for the last close).
//
// Events are delivered synchronously on the calling thread, with no VFS
// lock held; FsWatch::Event must not call back into the VFS.
#pragma once

#include <compare>
#include <cstdint>
#include <memory>
#include <string_view>

#include "base/errno.h"
#include "sentry/vfs/fs_context.h"

namespace palisade::vfs {

struct WatchKey {
  uint64_t fsid = 0, dev = 0, ino = 0;
  auto operator<=>(const WatchKey&) const = default;
};

class FsWatch {
 public:
  virtual ~FsWatch() = default;
  // mask: one IN_* event, plus IN_ISDIR. name: the child's name for a
  // directory's child events, "" for events on the watched file itself.
  virtual void Event(uint32_t mask, uint32_t cookie, std::string_view name) = 0;
};

ErrnoOr<WatchKey> WatchKeyOf(Inode& inode);
// The registry holds watches weakly; a dead one is dropped when met.
void AddFsWatch(const WatchKey& key, const std::shared_ptr<FsWatch>& w);
void RemoveFsWatch(const WatchKey& key, const FsWatch* w);
// A fresh cookie tying IN_MOVED_FROM to its IN_MOVED_TO (never 0).
uint32_t NextMoveCookie();

// Hooks. mask may carry IN_ISDIR (NotifyChild: the caller knows the
// child's type; the other hooks find out themselves).
void NotifyChild(Inode& dir, std::string_view name, uint32_t mask, uint32_t cookie = 0);
void NotifySelf(Inode& inode, uint32_t mask);
// An event on the file at d: to its own watchers and to its parent
// directory's (with d's name), as fsnotify_parent does.
void NotifyPath(const std::shared_ptr<Dentry>& d, uint32_t mask);
void NotifyFile(const FileDescription& f, uint32_t mask);  // NotifyPath(f.dentry())
// After Inode::SetAttr: the events fsnotify_change derives from what
// changed (SetAttrRequest::mask): owner/mode -> IN_ATTRIB, size ->
// IN_MODIFY, both times -> IN_ATTRIB, atime alone -> IN_ACCESS, mtime
// alone -> IN_MODIFY.
void NotifyChange(const std::shared_ptr<Dentry>& d, uint32_t setattr_mask);

}  // namespace palisade::vfs
