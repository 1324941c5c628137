// Overlay lookups, listings and namespace changes (see overlay.h).
#include <dirent.h>
#include <fcntl.h>
#include <sys/stat.h>
#include <sys/sysmacros.h>

#include <set>

#include "sentry/fsimpl/overlay/overlay.h"
#include "sentry/fsimpl/overlay/overlay_inode.h"
#include "sentry/fsimpl/tmpfs/tmpfs.h"
#include "sentry/vfs/inode_file.h"
#include "sentry/vfs/vfs.h"

namespace palisade::overlay {

bool IsWhiteout(const InodeAttr& a) { return S_ISCHR(a.mode) && a.rdev == 0; }

namespace {

// Upper-layer changes are made as root, then owned as the caller asked.
Credentials Root() { return Credentials{}; }

ErrnoOr<bool> UpperHasEntry(const InodeRef& dir, std::string_view name) {
  auto c = dir->Lookup(name);
  if (c.ok()) return true;
  if (c.error() == Errno(ENOENT)) return false;
  return c.error();
}

}  // namespace

std::shared_ptr<OverlayInode> OverlayFs::Intern(InodeRef upper, InodeRef lower, std::shared_ptr<OverlayInode> parent,
                                                std::string name) {
  InodeAttr a{};
  if (lower) {
    auto la = lower->GetAttr();
    if (la.ok()) a = *la;
  } else if (upper) {
    auto ua = upper->GetAttr();
    if (ua.ok()) a = *ua;
  }
  std::lock_guard<std::mutex> l(cache_mu_);
  std::weak_ptr<OverlayInode>* slot =
      lower ? &by_lower_[{a.dev, a.ino}] : &by_upper_[upper.get()];
  if (std::shared_ptr<OverlayInode> live = slot->lock()) {
    live->SetLocation(std::move(parent), std::move(name));
    if (upper) {
      std::lock_guard<std::mutex> il(live->mu_);
      if (!live->upper_) live->upper_ = upper;
    }
    return live;
  }
  auto node = std::make_shared<OverlayInode>(shared_from_this(), std::move(upper), std::move(lower), std::move(parent),
                                             std::move(name), a.mode & S_IFMT, a.dev, a.ino);
  *slot = node;
  return node;
}

bool OverlayFs::IsOpaque(uint64_t upper_ino) {
  std::lock_guard<std::mutex> l(cache_mu_);
  return opaque_.count(upper_ino) != 0;
}

void OverlayFs::SetOpaque(uint64_t upper_ino) {
  std::lock_guard<std::mutex> l(cache_mu_);
  opaque_.insert(upper_ino);
}

void OverlayFs::RecordCopyUp(const InodeRef& upper, const InodeRef& lower) {
  std::lock_guard<std::mutex> l(cache_mu_);
  copied_up_[upper] = lower;
}

InodeRef OverlayFs::LowerOf(const InodeRef& upper) {
  std::lock_guard<std::mutex> l(cache_mu_);
  auto it = copied_up_.find(upper);
  return it == copied_up_.end() ? nullptr : it->second;
}

OverlayInode::OverlayInode(std::shared_ptr<OverlayFs> fs, InodeRef upper, InodeRef lower,
                           std::shared_ptr<OverlayInode> parent, std::string name, uint32_t type, uint64_t lower_dev,
                           uint64_t lower_ino)
    : fs_(std::move(fs)),
      lower_(std::move(lower)),
      type_(type),
      lower_dev_(lower_dev),
      lower_ino_(lower_ino),
      upper_(std::move(upper)),
      parent_(std::move(parent)),
      name_(std::move(name)) {}

void OverlayInode::SetLocation(std::shared_ptr<OverlayInode> parent, std::string name) {
  if (!parent) return;
  std::lock_guard<std::mutex> l(mu_);
  if (!parent_) return;  // the root stays the root
  parent_ = std::move(parent);
  name_ = std::move(name);
}

ErrnoOr<InodeAttr> OverlayInode::GetAttr() {
  InodeRef u = upper();
  if (!u) return lower_->GetAttr();
  PAL_TRY(InodeAttr a, u->GetAttr());
  if (lower_) {
    // Stable identity across copy-up (mounts are found by it).
    a.dev = lower_dev_;
    a.ino = lower_ino_;
    // A merged directory's link count is unknown (find(1) reads 1 so).
    if (S_ISDIR(a.mode)) a.nlink = 1;
  }
  return a;
}

Errno OverlayInode::SetAttr(const SetAttrRequest& req) {
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY_ERRNO(CopyUpLocked());
  return upper()->SetAttr(req);
}

bool OverlayInode::LowerHas(std::string_view name) {
  if (!LowerVisible()) return false;
  return lower_->Lookup(name).ok();
}

bool OverlayInode::LowerVisible() {
  if (!lower_) return false;
  InodeRef u = upper();
  if (!u) return true;
  auto a = u->GetAttr();
  return !(a.ok() && fs_->IsOpaque(a->ino));
}

ErrnoOr<std::shared_ptr<OverlayInode>> OverlayInode::Child(std::string_view name) {
  if (type_ != S_IFDIR) return Errno(ENOTDIR);
  InodeRef u = upper();
  InodeRef uc, lc;
  if (u) {
    auto c = u->Lookup(name);
    if (c.ok()) {
      PAL_TRY(InodeAttr a, (*c)->GetAttr());
      if (IsWhiteout(a)) return Errno(ENOENT);
      uc = *c;
      // A non-directory, or an opaque directory, hides the lower entry; a
      // copied-up file keeps its lower twin (identity).
      if (!S_ISDIR(a.mode) || fs_->IsOpaque(a.ino)) {
        auto self = std::static_pointer_cast<OverlayInode>(shared_from_this());
        return fs_->Intern(uc, S_ISDIR(a.mode) ? nullptr : fs_->LowerOf(uc), self, std::string(name));
      }
    } else if (c.error() != Errno(ENOENT)) {
      return c.error();
    }
  }
  if (LowerVisible()) {
    auto l = lower_->Lookup(name);
    if (l.ok()) {
      lc = *l;
      if (uc) {
        // Upper is a (merging) directory: the lower must be one too.
        auto la = lc->GetAttr();
        if (!la.ok() || !S_ISDIR(la->mode)) lc = nullptr;
      }
    } else if (l.error() != Errno(ENOENT) || !uc) {
      return l.error();
    }
  }
  if (!uc && !lc) return Errno(ENOENT);
  return fs_->Intern(uc, lc, std::static_pointer_cast<OverlayInode>(shared_from_this()), std::string(name));
}

ErrnoOr<InodeRef> OverlayInode::Lookup(std::string_view name) {
  PAL_TRY(std::shared_ptr<OverlayInode> c, Child(name));
  return InodeRef(c);
}

ErrnoOr<bool> OverlayInode::ClearWhiteoutLocked(std::string_view name) {
  auto c = upper()->Lookup(name);
  if (!c.ok()) return false;
  PAL_TRY(InodeAttr a, (*c)->GetAttr());
  if (!IsWhiteout(a)) return Errno(EEXIST);
  PAL_TRY_ERRNO(upper()->Unlink(name));
  return true;
}

Errno OverlayInode::WhiteoutLocked(std::string_view name) {
  auto made = upper()->Mknod(name, S_IFCHR | 0, 0, Root());
  return made.ok() ? Errno::Ok() : made.error();
}

ErrnoOr<InodeRef> OverlayInode::Made(std::string_view name, ErrnoOr<InodeRef> u, bool was_whiteout) {
  if (!u.ok()) return u.error();
  if (was_whiteout) {
    // A new directory where a lower one was removed must not show the
    // old one's entries.
    auto a = (*u)->GetAttr();
    if (a.ok() && S_ISDIR(a->mode)) fs_->SetOpaque(a->ino);
  }
  // (A new file never pairs with a lower one: only copy-up records that.)
  return InodeRef(fs_->Intern(*u, nullptr, std::static_pointer_cast<OverlayInode>(shared_from_this()),
                              std::string(name)));
}

ErrnoOr<InodeRef> OverlayInode::Create(std::string_view name, uint32_t mode, const Credentials& c) {
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY_ERRNO(CopyUpLocked());
  PAL_TRY(bool wh, ClearWhiteoutLocked(name));
  return Made(name, upper()->Create(name, mode, c), wh);
}

ErrnoOr<InodeRef> OverlayInode::Mkdir(std::string_view name, uint32_t mode, const Credentials& c) {
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY_ERRNO(CopyUpLocked());
  PAL_TRY(bool wh, ClearWhiteoutLocked(name));
  return Made(name, upper()->Mkdir(name, mode, c), wh);
}

ErrnoOr<InodeRef> OverlayInode::Mknod(std::string_view name, uint32_t mode, uint64_t rdev, const Credentials& c) {
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY_ERRNO(CopyUpLocked());
  PAL_TRY(bool wh, ClearWhiteoutLocked(name));
  return Made(name, upper()->Mknod(name, mode, rdev, c), wh);
}

ErrnoOr<InodeRef> OverlayInode::Symlink(std::string_view name, std::string_view target, const Credentials& c) {
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY_ERRNO(CopyUpLocked());
  PAL_TRY(bool wh, ClearWhiteoutLocked(name));
  return Made(name, upper()->Symlink(name, target, c), wh);
}

Errno OverlayInode::Link(std::string_view name, const InodeRef& target) {
  auto t = std::dynamic_pointer_cast<OverlayInode>(target);
  if (!t || t->fs_ != fs_) return Errno(EXDEV);
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY_ERRNO(t->CopyUpLocked());
  PAL_TRY_ERRNO(CopyUpLocked());
  PAL_TRY(bool wh, ClearWhiteoutLocked(name));
  (void)wh;
  return upper()->Link(name, t->upper());
}

Errno OverlayInode::Unlink(std::string_view name) {
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY(std::shared_ptr<OverlayInode> victim, Child(name));
  if (victim->type() == S_IFDIR) return Errno(EISDIR);
  PAL_TRY_ERRNO(CopyUpLocked());
  PAL_TRY(bool in_upper, UpperHasEntry(upper(), name));
  if (in_upper) PAL_TRY_ERRNO(upper()->Unlink(name));
  if (LowerHas(name)) PAL_TRY_ERRNO(WhiteoutLocked(name));
  return Errno::Ok();
}

Errno OverlayInode::Rmdir(std::string_view name) {
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY(std::shared_ptr<OverlayInode> victim, Child(name));
  if (victim->type() != S_IFDIR) return Errno(ENOTDIR);
  PAL_TRY(std::vector<DirEntry> left, victim->ReadDir());
  if (!left.empty()) return Errno(ENOTEMPTY);
  PAL_TRY_ERRNO(CopyUpLocked());
  if (InodeRef vu = victim->upper()) {
    // Only whiteouts are left in it: clear them, then remove it.
    PAL_TRY(std::vector<DirEntry> raw, vu->ReadDir());
    for (const DirEntry& e : raw) PAL_TRY_ERRNO(vu->Unlink(e.name));
    PAL_TRY_ERRNO(upper()->Rmdir(name));
  }
  if (LowerHas(name)) PAL_TRY_ERRNO(WhiteoutLocked(name));
  return Errno::Ok();
}

Errno OverlayInode::Rename(std::string_view old_name, Inode& new_dir, std::string_view new_name, unsigned flags) {
  auto* nd = dynamic_cast<OverlayInode*>(&new_dir);
  if (!nd || nd->fs_ != fs_) return Errno(EXDEV);
  std::lock_guard<std::recursive_mutex> l(fs_->mu());
  PAL_TRY(std::shared_ptr<OverlayInode> src, Child(old_name));
  // Lower directories cannot move (their lower entries stay where they are).
  if (src->type() == S_IFDIR && src->lower()) return Errno(EXDEV);
  auto dst = nd->Child(new_name);
  if (!dst.ok() && dst.error() != Errno(ENOENT)) return dst.error();
  if (flags & RENAME_EXCHANGE) {
    if (!dst.ok()) return Errno(ENOENT);
    if ((*dst)->lower() || src->lower()) return Errno(EXDEV);  // both would need whiteouts and copy-up
  }
  bool dst_was_lower_dir = false;
  if (dst.ok() && !(flags & RENAME_EXCHANGE)) {
    if ((flags & RENAME_NOREPLACE)) return Errno(EEXIST);
    const bool sd = src->type() == S_IFDIR, dd = (*dst)->type() == S_IFDIR;
    if (sd && !dd) return Errno(ENOTDIR);
    if (!sd && dd) return Errno(EISDIR);
    if (dd) {
      PAL_TRY(std::vector<DirEntry> left, (*dst)->ReadDir());
      if (!left.empty()) return Errno(ENOTEMPTY);
      dst_was_lower_dir = (*dst)->lower() != nullptr;
      if (InodeRef du = (*dst)->upper()) {
        PAL_TRY(std::vector<DirEntry> raw, du->ReadDir());
        for (const DirEntry& e : raw) PAL_TRY_ERRNO(du->Unlink(e.name));
      }
    }
  }
  PAL_TRY_ERRNO(src->CopyUpLocked());
  PAL_TRY_ERRNO(CopyUpLocked());
  PAL_TRY_ERRNO(nd->CopyUpLocked());
  // A whiteout at the new name is simply replaced by the rename.
  PAL_TRY_ERRNO(upper()->Rename(old_name, *nd->upper(), new_name, flags & ~RENAME_NOREPLACE));
  if (dst_was_lower_dir) {
    auto a = src->upper()->GetAttr();
    if (a.ok()) fs_->SetOpaque(a->ino);
  }
  if (LowerHas(old_name)) PAL_TRY_ERRNO(WhiteoutLocked(old_name));
  src->SetLocation(std::static_pointer_cast<OverlayInode>(nd->shared_from_this()), std::string(new_name));
  return Errno::Ok();
}

ErrnoOr<std::vector<DirEntry>> OverlayInode::ReadDir() {
  if (type_ != S_IFDIR) return Errno(ENOTDIR);
  std::vector<DirEntry> out;
  std::set<std::string> seen;
  if (InodeRef u = upper()) {
    PAL_TRY(std::vector<DirEntry> ue, u->ReadDir());
    for (DirEntry& e : ue) {
      seen.insert(e.name);
      if (e.type == DT_CHR) {
        auto c = u->Lookup(e.name);
        if (c.ok()) {
          auto a = (*c)->GetAttr();
          if (a.ok() && IsWhiteout(*a)) continue;
        }
      }
      out.push_back(std::move(e));
    }
  }
  if (LowerVisible()) {
    PAL_TRY(std::vector<DirEntry> le, lower_->ReadDir());
    for (DirEntry& e : le) {
      if (seen.count(e.name)) {
        // Copied up: report the lower inode number, as stat does.
        for (DirEntry& o : out) {
          if (o.name == e.name && o.type == e.type) o.ino = e.ino;
        }
        continue;
      }
      out.push_back(std::move(e));
    }
  }
  for (DirEntry& e : out) e.off = 0;
  return out;
}

ErrnoOr<std::string> OverlayInode::ReadLink() {
  InodeRef u = upper();
  return u ? u->ReadLink() : lower_->ReadLink();
}

ErrnoOr<struct statfs> OverlayInode::StatFs() {
  // The upper layer is where space is used; report the tmpfs's.
  InodeRef u = upper();
  if (u) return u->StatFs();
  return lower_->StatFs();
}

ErrnoOr<FileRef> OverlayInode::Open(const OpenRequest& req) {
  if (type_ == S_IFDIR) {
    return FileRef(std::make_shared<vfs::DirectoryFile>(shared_from_this(), req.flags));
  }
  const int acc = req.flags & O_ACCMODE;
  InodeRef target;
  if (acc != O_RDONLY && type_ == S_IFREG) {
    std::lock_guard<std::recursive_mutex> l(fs_->mu());
    PAL_TRY_ERRNO(CopyUpLocked());
  }
  target = upper();
  if (!target) target = lower_;
  PAL_TRY(FileRef f, target->Open(req));
  return WrapFile(std::static_pointer_cast<OverlayInode>(shared_from_this()), std::move(f));
}

InodeRef NewOverlayRoot(InodeRef lower) {
  auto la = lower->GetAttr();
  uint32_t mode = la.ok() ? (la->mode & 07777) : 0755;
  InodeRef upper = tmpfs::NewTmpfsRoot(S_IFDIR | mode, la.ok() ? la->uid : 0, la.ok() ? la->gid : 0);
  auto fs = std::make_shared<OverlayFs>(vfs::AllocateFsId(), upper);
  return fs->Intern(upper, std::move(lower), nullptr, "");
}

}  // namespace palisade::overlay
