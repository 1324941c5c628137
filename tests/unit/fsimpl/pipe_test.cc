// Pipes (pipe(7)): EOF and EPIPE rules, PIPE_BUF atomicity, capacity and
// F_SETPIPE_SZ, packet mode, readiness transitions, wait queue
// notifications, FIONREAD, fstat, and blocking through BlockingIo.
#include <poll.h>
#include <signal.h>
#include <sys/ioctl.h>

#include <atomic>
#include <thread>
#include <vector>

#include "sentry/fsimpl/pipe/pipe_file.h"
#include "sentry/syscalls/blocking_io.h"
#include "tests/unit/fsimpl/io_test_util.h"

namespace palisade::testing {
namespace {

std::vector<uint8_t> Bytes(size_t n, uint8_t v = 'x') { return std::vector<uint8_t>(n, v); }

// True if w was notified (its eventfd is readable) since the last Clear.
bool Notified(Waiter& w) {
  struct pollfd p = {w.fd(), POLLIN, 0};
  return poll(&p, 1, 0) == 1;
}

class PipeTest : public IoTest {
 protected:
  void SetUp() override { std::tie(r_, w_) = MakePipe(O_NONBLOCK); }
  ErrnoOr<int64_t> Write(size_t n, uint8_t v = 'x') {
    auto b = Bytes(n, v);
    return w_->Write(t(), b);
  }
  ErrnoOr<int64_t> Read(std::vector<uint8_t>& buf) { return r_->Read(t(), buf); }
  FileRef r_, w_;
};

TEST_F(PipeTest, EmptyWithWriterIsEagain) {
  std::vector<uint8_t> buf(10);
  EXPECT_EQ(Read(buf).error(), Errno(EAGAIN));
}

TEST_F(PipeTest, EmptyWithoutWriterIsEof) {
  w_.reset();
  std::vector<uint8_t> buf(10);
  auto r = Read(buf);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
}

TEST_F(PipeTest, DataBeforeEofIsStillRead) {
  ASSERT_EQ(*Write(3, 'a'), 3);
  w_.reset();
  std::vector<uint8_t> buf(10);
  EXPECT_EQ(*Read(buf), 3);
  EXPECT_EQ(*Read(buf), 0);
}

TEST_F(PipeTest, WriteWithoutReaderIsEpipeAndSigpipe) {
  r_.reset();
  EXPECT_EQ(Write(1).error(), Errno(EPIPE));
  EXPECT_TRUE(SignalPending(SIGPIPE));
}

TEST_F(PipeTest, ZeroLengthWriteWithoutReaderSucceeds) {
  r_.reset();
  EXPECT_EQ(*Write(0), 0);  // Linux checks the length before readers
  EXPECT_FALSE(SignalPending(SIGPIPE));
}

TEST_F(PipeTest, BytesComeOutInOrder) {
  std::vector<uint8_t> in = {1, 2, 3, 4, 5};
  ASSERT_EQ(*w_->Write(t(), std::span<const uint8_t>(in).subspan(0, 2)), 2);
  ASSERT_EQ(*w_->Write(t(), std::span<const uint8_t>(in).subspan(2)), 3);
  std::vector<uint8_t> out(4);
  ASSERT_EQ(*Read(out), 4);
  EXPECT_EQ(out, std::vector<uint8_t>({1, 2, 3, 4}));
  ASSERT_EQ(*Read(out), 1);
  EXPECT_EQ(out[0], 5);
}

TEST_F(PipeTest, DefaultCapacityIs64KiB) {
  EXPECT_EQ(*PipeGetSize(*r_), 65536);
  for (int i = 0; i < 16; i++) ASSERT_EQ(*Write(4096), 4096) << i;
  EXPECT_EQ(Write(1).error(), Errno(EAGAIN));
}

TEST_F(PipeTest, LargeWriteIsPartial) {
  auto r = Write(100000);
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 65536);
  EXPECT_EQ(Write(5000).error(), Errno(EAGAIN));  // nothing fits at all
}

TEST_F(PipeTest, SmallWritesAreAtomic) {
  // Fill 15 slots and most of the 16th: 6 bytes are left in the last one.
  ASSERT_EQ(*Write(15 * 4096 + 4090), 15 * 4096 + 4090);
  // 10 bytes would need a new slot: none of it goes in.
  EXPECT_EQ(Write(10).error(), Errno(EAGAIN));
  EXPECT_EQ(*Write(6), 6);  // merges into the last slot
  EXPECT_EQ(Write(1).error(), Errno(EAGAIN));
  int n = 0;
  ASSERT_TRUE(r_->Ioctl(t(), FIONREAD, Addr(&n)).ok());
  EXPECT_EQ(n, 65536);
}

TEST_F(PipeTest, PipeBufWriteNeedsAWholeSlot) {
  ASSERT_EQ(*Write(15 * 4096 + 1), 15 * 4096 + 1);
  EXPECT_EQ(Write(4096).error(), Errno(EAGAIN));  // PIPE_BUF: all or nothing
  EXPECT_EQ(*Write(4095), 4095);                  // fits the last slot
}

TEST_F(PipeTest, SetPipeSize) {
  EXPECT_EQ(*PipeSetSize(*w_, 4097, false), 8192);  // next power-of-two pages
  EXPECT_EQ(*PipeGetSize(*r_), 8192);
  EXPECT_EQ(*PipeSetSize(*w_, 0, false), 4096);  // at least a page
  EXPECT_EQ(*Write(4096), 4096);
  EXPECT_EQ(Write(1).error(), Errno(EAGAIN));
  EXPECT_EQ(PipeSetSize(*w_, (1u << 31) + 1, true).error(), Errno(EINVAL));
  EXPECT_EQ(PipeSetSize(*w_, 2 << 20, false).error(), Errno(EPERM));
  EXPECT_EQ(*PipeSetSize(*w_, 2 << 20, true), 2 << 20);
}

TEST_F(PipeTest, ShrinkBelowContentIsEbusy) {
  ASSERT_EQ(*Write(3 * 4096), 3 * 4096);
  EXPECT_EQ(PipeSetSize(*w_, 8192, false).error(), Errno(EBUSY));
  EXPECT_EQ(*PipeSetSize(*w_, 16384, false), 16384);
}

TEST_F(PipeTest, PipeSizeOfNonPipeIsEbadf) {
  auto [r, w] = MakePipe(0);
  (void)w;
  EXPECT_TRUE(PipeGetSize(*r).ok());
  struct NotAPipe : FileDescription {
    NotAPipe() : FileDescription(O_RDONLY) {}
  } other;
  EXPECT_EQ(PipeGetSize(other).error(), Errno(EBADF));
  EXPECT_EQ(PipeSetSize(other, 4096, true).error(), Errno(EBADF));
}

TEST_F(PipeTest, PipeSizeThroughTheFcntlHook) {
  // sys_open.cc's fcntl passes F_{GET,SET}PIPE_SZ to Ioctl, by value.
  EXPECT_EQ(*r_->Ioctl(t(), F_GETPIPE_SZ, 0), 65536);
  EXPECT_EQ(*w_->Ioctl(t(), F_SETPIPE_SZ, 10000), 16384);
  EXPECT_EQ(*r_->Ioctl(t(), F_GETPIPE_SZ, 0), 16384);
  Credentials c = t().creds();
  c.cap_effective = 0;  // no CAP_SYS_RESOURCE
  t().set_creds(c);
  EXPECT_EQ(w_->Ioctl(t(), F_SETPIPE_SZ, 2 << 20).error(), Errno(EPERM));
  EXPECT_EQ(*w_->Ioctl(t(), F_SETPIPE_SZ, 1 << 20), 1 << 20);  // up to pipe-max-size
}

TEST_F(PipeTest, PacketModeKeepsWriteBoundaries) {
  auto [r, w] = MakePipe(O_NONBLOCK | O_DIRECT);
  std::vector<uint8_t> a = {1, 2, 3}, b = {4, 5, 6, 7, 8};
  ASSERT_EQ(*w->Write(t(), a), 3);
  ASSERT_EQ(*w->Write(t(), b), 5);
  std::vector<uint8_t> buf(100);
  EXPECT_EQ(*r->Read(t(), buf), 3);  // one packet per read
  std::vector<uint8_t> small(2);
  EXPECT_EQ(*r->Read(t(), small), 2);  // the rest of the packet is dropped
  EXPECT_EQ(small, std::vector<uint8_t>({4, 5}));
  EXPECT_EQ(r->Read(t(), buf).error(), Errno(EAGAIN));
}

TEST_F(PipeTest, WrongEndIsEbadf) {
  std::vector<uint8_t> buf(1);
  EXPECT_EQ(w_->Read(t(), buf).error(), Errno(EBADF));
  EXPECT_EQ(r_->Write(t(), buf).error(), Errno(EBADF));
}

TEST_F(PipeTest, ReadinessTransitions) {
  constexpr uint32_t kAll = POLLIN | POLLOUT | POLLHUP | POLLERR | POLLRDNORM | POLLWRNORM;
  EXPECT_EQ(r_->Readiness(kAll), 0u);
  EXPECT_EQ(w_->Readiness(kAll), uint32_t(POLLOUT | POLLWRNORM));
  ASSERT_TRUE(Write(1).ok());
  EXPECT_EQ(r_->Readiness(kAll), uint32_t(POLLIN | POLLRDNORM));
  EXPECT_EQ(r_->Readiness(POLLOUT), 0u);  // restricted to the mask
  ASSERT_TRUE(Write(65535).ok());
  EXPECT_EQ(w_->Readiness(kAll), 0u);  // full
  std::vector<uint8_t> buf(4096);
  ASSERT_TRUE(Read(buf).ok());
  EXPECT_EQ(w_->Readiness(kAll), uint32_t(POLLOUT | POLLWRNORM));
  w_.reset();
  EXPECT_EQ(r_->Readiness(kAll), uint32_t(POLLIN | POLLRDNORM | POLLHUP));
}

TEST_F(PipeTest, WriterSeesPollerrWithoutReaders) {
  r_.reset();
  EXPECT_EQ(w_->Readiness(POLLOUT | POLLERR | POLLHUP), uint32_t(POLLOUT | POLLERR));
}

TEST_F(PipeTest, WaitersAreNotified) {
  Waiter rw, ww;
  r_->EventRegister(&rw, POLLIN | POLLHUP);
  w_->EventRegister(&ww, POLLOUT | POLLERR);
  ASSERT_TRUE(Write(4096 * 16).ok());
  EXPECT_TRUE(Notified(rw));
  EXPECT_FALSE(Notified(ww));  // a write makes nothing writable
  rw.Clear();
  std::vector<uint8_t> buf(10);
  ASSERT_TRUE(Read(buf).ok());
  EXPECT_TRUE(Notified(ww));
  EXPECT_FALSE(Notified(rw));
  ww.Clear();
  r_->EventUnregister(&rw);
  w_->EventUnregister(&ww);
  w_->EventRegister(&ww, POLLOUT | POLLERR);
  r_.reset();  // last reader: writers hear POLLERR
  EXPECT_TRUE(Notified(ww));
  w_->EventUnregister(&ww);
}

TEST_F(PipeTest, LastWriterCloseWakesReaders) {
  Waiter rw;
  r_->EventRegister(&rw, POLLIN | POLLHUP);
  w_.reset();
  EXPECT_TRUE(Notified(rw));
  r_->EventUnregister(&rw);
}

TEST_F(PipeTest, Fionread) {
  int n = -1;
  ASSERT_TRUE(r_->Ioctl(t(), FIONREAD, Addr(&n)).ok());
  EXPECT_EQ(n, 0);
  ASSERT_TRUE(Write(1234).ok());
  ASSERT_TRUE(w_->Ioctl(t(), FIONREAD, Addr(&n)).ok());  // either end
  EXPECT_EQ(n, 1234);
  EXPECT_EQ(r_->Ioctl(t(), FIONREAD, kBadAddr).error(), Errno(EFAULT));
  EXPECT_EQ(r_->Ioctl(t(), TCGETS, Addr(&n)).error(), Errno(ENOTTY));
}

TEST_F(PipeTest, Stat) {
  auto [r, w] = MakePipe(0, 1000, 1001);
  auto st = r->Stat(t());
  ASSERT_TRUE(st.ok());
  EXPECT_TRUE(S_ISFIFO(st->st_mode));
  EXPECT_EQ(st->st_mode & 0777, 0600u);
  EXPECT_EQ(st->st_uid, 1000u);
  EXPECT_EQ(st->st_gid, 1001u);
  EXPECT_EQ(st->st_ino, w->Stat(t())->st_ino);  // one pipe, one inode
  EXPECT_NE(st->st_ino, r_->Stat(t())->st_ino);
  EXPECT_EQ(r->DisplayName(), "pipe:[" + std::to_string(st->st_ino) + "]");
}

TEST_F(PipeTest, FlagsOfTheEnds) {
  auto [r, w] = MakePipe(O_NONBLOCK | O_DIRECT);
  EXPECT_EQ(r->flags() & O_ACCMODE, O_RDONLY);
  EXPECT_EQ(w->flags() & O_ACCMODE, O_WRONLY);
  EXPECT_TRUE(r->nonblocking());
  EXPECT_TRUE(w->flags() & O_DIRECT);
}

// --- blocking through the syscall layer's BlockingIo and Task::Block

class BlockingPipeTest : public IoTest {
 protected:
  void SetUp() override { std::tie(r_, w_) = MakePipe(0); }
  FileRef r_, w_;
};

TEST_F(BlockingPipeTest, ReadSleepsUntilWrite) {
  std::thread writer([&] {
    usleep(50 * 1000);
    std::vector<uint8_t> b = {42};
    (void)w_->Write(t(), b);
  });
  std::vector<uint8_t> buf(8);
  auto r = BlockingIo(t(), *r_, POLLIN, [&] { return r_->Read(t(), buf); });
  writer.join();
  ASSERT_TRUE(r.ok()) << r.error().Name();
  EXPECT_EQ(*r, 1);
  EXPECT_EQ(buf[0], 42);
}

TEST_F(BlockingPipeTest, ReadSleepsUntilEof) {
  std::thread closer([&] {
    usleep(50 * 1000);
    w_.reset();
  });
  std::vector<uint8_t> buf(8);
  auto r = BlockingIo(t(), *r_, POLLIN, [&] { return r_->Read(t(), buf); });
  closer.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 0);
}

TEST_F(BlockingPipeTest, WriteSleepsUntilRoom) {
  auto fill = Bytes(65536);
  ASSERT_EQ(*w_->Write(t(), fill), 65536);
  std::thread reader([&] {
    usleep(50 * 1000);
    std::vector<uint8_t> buf(4096);
    (void)r_->Read(t(), buf);
  });
  auto b = Bytes(100);
  auto r = BlockingIo(t(), *w_, POLLOUT, [&] { return w_->Write(t(), b); });
  reader.join();
  ASSERT_TRUE(r.ok());
  EXPECT_EQ(*r, 100);
}

TEST_F(BlockingPipeTest, SignalInterruptsRead) {
  std::thread sig([&] {
    usleep(50 * 1000);
    RaiseSignal(SIGUSR1);
  });
  std::vector<uint8_t> buf(8);
  auto r = BlockingIo(t(), *r_, POLLIN, [&] { return r_->Read(t(), buf); });
  sig.join();
  EXPECT_EQ(r.error(), Errno(kERESTARTSYS));
}

}  // namespace
}  // namespace palisade::testing
