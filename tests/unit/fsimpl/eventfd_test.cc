// eventfd (eventfd(2)): counter and semaphore semantics, the 8-byte rule,
// overflow, readiness and notifications, and the syscall entry points.
#include <poll.h>
#include <sys/eventfd.h>

#include <cstring>
#include <thread>

#include "sentry/fsimpl/anon/eventfd.h"
#include "sentry/syscalls/blocking_io.h"
#include "sentry/syscalls/handlers.h"
#include "tests/unit/fsimpl/io_test_util.h"

namespace palisade::testing {
namespace {

class EventFdTest : public IoTest {
 protected:
  ErrnoOr<int64_t> Put(FileDescription& f, uint64_t v) {
    uint8_t b[8];
    memcpy(b, &v, 8);
    return f.Write(t(), b);
  }
  // The value read, or the error.
  ErrnoOr<uint64_t> Take(FileDescription& f) {
    uint8_t b[8];
    auto r = f.Read(t(), b);
    if (!r.ok()) return r.error();
    EXPECT_EQ(*r, 8);
    uint64_t v;
    memcpy(&v, b, 8);
    return v;
  }
};

TEST_F(EventFdTest, CounterMode) {
  EventFd f(5, EFD_NONBLOCK);
  ASSERT_TRUE(Put(f, 3).ok());
  EXPECT_EQ(*Take(f), 8u);  // all of it, counter reset
  EXPECT_EQ(Take(f).error(), Errno(EAGAIN));
}

TEST_F(EventFdTest, SemaphoreMode) {
  EventFd f(2, EFD_SEMAPHORE | EFD_NONBLOCK);
  EXPECT_EQ(*Take(f), 1u);
  EXPECT_EQ(*Take(f), 1u);
  EXPECT_EQ(Take(f).error(), Errno(EAGAIN));
  ASSERT_TRUE(Put(f, 1).ok());
  EXPECT_EQ(f.count(), 1u);
}

TEST_F(EventFdTest, ShortBuffersAreEinval) {
  EventFd f(1, 0);
  uint8_t b[7] = {};
  EXPECT_EQ(f.Read(t(), b).error(), Errno(EINVAL));
  EXPECT_EQ(f.Write(t(), b).error(), Errno(EINVAL));
  uint8_t big[16] = {1};
  EXPECT_EQ(*f.Write(t(), big), 8);  // only 8 bytes count
  EXPECT_EQ(f.count(), 2u);
}

TEST_F(EventFdTest, OverflowIsEagainAndMaxIsEinval) {
  EventFd f(0, EFD_NONBLOCK);
  EXPECT_EQ(Put(f, ~0ull).error(), Errno(EINVAL));
  ASSERT_TRUE(Put(f, EventFd::kMax).ok());
  EXPECT_EQ(Put(f, 1).error(), Errno(EAGAIN));
  EXPECT_TRUE(Put(f, 0).ok());
  EXPECT_EQ(f.Readiness(POLLIN | POLLOUT), uint32_t(POLLIN));  // not writable at the max
}

TEST_F(EventFdTest, Readiness) {
  EventFd f(0, 0);
  constexpr uint32_t kAll = POLLIN | POLLOUT | POLLRDNORM | POLLWRNORM;
  EXPECT_EQ(f.Readiness(kAll), uint32_t(POLLOUT | POLLWRNORM));
  ASSERT_TRUE(Put(f, 1).ok());
  EXPECT_EQ(f.Readiness(kAll), kAll);
  EXPECT_EQ(f.Readiness(POLLIN), uint32_t(POLLIN));
}

TEST_F(EventFdTest, WritesNotifyReaders) {
  EventFd f(0, 0);
  Waiter w;
  f.EventRegister(&w, POLLIN);
  ASSERT_TRUE(Put(f, 0).ok());  // even a zero write is an event
  struct pollfd p = {w.fd(), POLLIN, 0};
  EXPECT_EQ(poll(&p, 1, 0), 1);
  f.EventUnregister(&w);
}

TEST_F(EventFdTest, BlockingReadWakesOnWrite) {
  auto f = std::make_shared<EventFd>(0, 0);
  std::thread writer([&] {
    usleep(50 * 1000);
    (void)Put(*f, 9);
  });
  uint8_t b[8];
  auto r = BlockingIo(t(), *f, POLLIN, [&] { return f->Read(t(), b); });
  writer.join();
  ASSERT_TRUE(r.ok());
  uint64_t v;
  memcpy(&v, b, 8);
  EXPECT_EQ(v, 9u);
}

TEST_F(EventFdTest, BlockingWriteWaitsForRoom) {
  auto f = std::make_shared<EventFd>(0, 0);
  ASSERT_TRUE(Put(*f, EventFd::kMax - 1).ok());
  std::thread reader([&] {
    usleep(50 * 1000);
    (void)Take(*f);
  });
  uint8_t b[8];
  uint64_t v = 5;
  memcpy(b, &v, 8);
  auto r = BlockingIo(t(), *f, POLLOUT, [&] { return f->Write(t(), b); });
  reader.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(f->count(), 5u);
}

TEST_F(EventFdTest, StatIsTheAnonInode) {
  EventFd f(0, 0);
  auto st = f.Stat(t());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode, 0600u);  // no file type bits, as Linux
  EXPECT_EQ(f.DisplayName(), "anon_inode:[eventfd]");
}

TEST_F(EventFdTest, Syscalls) {
  SyscallArgs a;
  a.args[0].raw = 7;
  a.args[1].raw = EFD_CLOEXEC | EFD_NONBLOCK | EFD_SEMAPHORE;
  SyscallResult r = sys::Eventfd2(t(), a);
  ASSERT_TRUE(r.ok());
  int fd = static_cast<int>(r.raw());
  EXPECT_TRUE(t().fds().GetCloexec(fd));
  auto f = std::dynamic_pointer_cast<EventFd>(t().fds().Get(fd));
  ASSERT_NE(f, nullptr);
  EXPECT_EQ(f->count(), 7u);
  EXPECT_TRUE(f->semaphore());
  EXPECT_TRUE(f->nonblocking());
  EXPECT_EQ(f->flags() & O_ACCMODE, O_RDWR);

  a.args[1].raw = 0x100;  // unknown flag
  EXPECT_EQ(sys::Eventfd2(t(), a).error(), Errno(EINVAL));
  a.args[0].raw = 0x100000001ull;  // only the low 32 bits are the value
  SyscallResult r2 = sys::Eventfd(t(), a);
  ASSERT_TRUE(r2.ok());
  auto f2 = std::dynamic_pointer_cast<EventFd>(t().fds().Get(static_cast<int>(r2.raw())));
  EXPECT_EQ(f2->count(), 1u);
  EXPECT_FALSE(f2->nonblocking());
}

}  // namespace
}  // namespace palisade::testing
