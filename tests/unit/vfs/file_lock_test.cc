// Record locks: conflicts between owners, conversion and splitting of an
// owner's own locks, release on close, and owners that vanish.
#include <fcntl.h>

#include <memory>

#include "gtest/gtest.h"
#include "sentry/vfs/file_lock.h"

namespace palisade::vfs {
namespace {

constexpr int64_t kEof = FileLocks::kEof;

struct TestOwner {
  std::shared_ptr<int> obj = std::make_shared<int>(0);
  FileLocks::Owner owner(int pid) const { return {obj.get(), obj, pid}; }
};

TEST(FileLocksTest, ConflictsBetweenOwners) {
  FileLocks locks;
  FileLocks::Key k{1, 2, 3};
  TestOwner a, b;
  ASSERT_TRUE(locks.Set(k, a.owner(10), F_RDLCK, 0, 99).ok());
  EXPECT_TRUE(locks.Set(k, b.owner(20), F_RDLCK, 50, 150).ok());  // readers share
  EXPECT_EQ(locks.Set(k, b.owner(20), F_WRLCK, 0, 9), Errno(EAGAIN));
  EXPECT_TRUE(locks.Set(k, b.owner(20), F_WRLCK, 100, 150).ok());  // its own read lock converts
  auto c = locks.Test(k, b.obj.get(), F_WRLCK, 0, kEof);
  ASSERT_TRUE(c.has_value());
  EXPECT_EQ(c->pid, 10);
  EXPECT_EQ(c->start, 0);
  EXPECT_EQ(c->end, 99);
  EXPECT_FALSE(locks.Test(k, a.obj.get(), F_RDLCK, 0, 99).has_value());  // own locks never conflict
  EXPECT_FALSE(locks.Test(FileLocks::Key{9, 9, 9}, b.obj.get(), F_WRLCK, 0, kEof).has_value());
}

TEST(FileLocksTest, UnlockSplitsAndReleaseAll) {
  FileLocks locks;
  FileLocks::Key k{1, 2, 3};
  TestOwner a, b;
  ASSERT_TRUE(locks.Set(k, a.owner(10), F_WRLCK, 0, kEof).ok());
  ASSERT_TRUE(locks.Set(k, a.owner(10), F_UNLCK, 10, 19).ok());  // a hole in the middle
  EXPECT_TRUE(locks.Set(k, b.owner(20), F_WRLCK, 10, 19).ok());
  EXPECT_EQ(locks.Set(k, b.owner(20), F_WRLCK, 5, 5), Errno(EAGAIN));
  EXPECT_EQ(locks.Set(k, b.owner(20), F_WRLCK, 1000, 1000), Errno(EAGAIN));  // right part kept to EOF
  locks.ReleaseAll(k, a.obj.get());
  EXPECT_TRUE(locks.Set(k, b.owner(20), F_WRLCK, 0, kEof).ok());
  EXPECT_TRUE(locks.Any());
  locks.ReleaseAll(k, b.obj.get());
  EXPECT_FALSE(locks.Any());
}

TEST(FileLocksTest, VanishedOwnersDoNotCount) {
  FileLocks locks;
  FileLocks::Key k{1, 2, 3};
  TestOwner b;
  {
    TestOwner gone;
    ASSERT_TRUE(locks.Set(k, gone.owner(10), F_WRLCK, 0, kEof).ok());
    EXPECT_EQ(locks.Set(k, b.owner(20), F_RDLCK, 0, 0), Errno(EAGAIN));
  }
  EXPECT_FALSE(locks.Test(k, b.obj.get(), F_WRLCK, 0, kEof).has_value());
  EXPECT_TRUE(locks.Set(k, b.owner(20), F_WRLCK, 0, kEof).ok());
}

}  // namespace
}  // namespace palisade::vfs
