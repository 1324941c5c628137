// Named FIFOs (fifo(7)): the open rules of FifoState, POLLHUP for a
// non-blocking reader, and the pipe's lifetime across opens.
#include <poll.h>
#include <signal.h>

#include <thread>

#include "sentry/fsimpl/pipe/fifo.h"
#include "sentry/fsimpl/pipe/pipe_file.h"
#include "sentry/fsimpl/tmpfs/tmpfs.h"
#include "sentry/vfs/fs_context.h"
#include "tests/unit/fsimpl/io_test_util.h"

namespace palisade::testing {
namespace {

class FifoTest : public IoTest {
 protected:
  FifoState fifo_;
};

TEST_F(FifoTest, NonblockingReadOpenSucceedsAlone) {
  auto r = fifo_.Open(&t(), O_RDONLY | O_NONBLOCK);
  ASSERT_TRUE(r.ok());
  std::vector<uint8_t> buf(4);
  EXPECT_EQ(*(*r)->Read(t(), buf), 0);  // no writer: EOF
  // No POLLHUP: no writer has come and gone yet.
  EXPECT_EQ((*r)->Readiness(POLLIN | POLLHUP), 0u);
  {
    auto w = fifo_.Open(&t(), O_WRONLY | O_NONBLOCK);
    ASSERT_TRUE(w.ok());
    EXPECT_EQ((*r)->Readiness(POLLIN | POLLHUP), 0u);
  }
  EXPECT_EQ((*r)->Readiness(POLLIN | POLLHUP), uint32_t(POLLHUP));
}

TEST_F(FifoTest, NonblockingWriteOpenWithoutReaderIsEnxio) {
  EXPECT_EQ(fifo_.Open(&t(), O_WRONLY | O_NONBLOCK).error(), Errno(ENXIO));
  EXPECT_EQ(fifo_.Open(nullptr, O_WRONLY).error(), Errno(ENXIO));  // cannot wait
  auto r = fifo_.Open(&t(), O_RDONLY | O_NONBLOCK);
  ASSERT_TRUE(r.ok());
  EXPECT_TRUE(fifo_.Open(&t(), O_WRONLY | O_NONBLOCK).ok());
}

TEST_F(FifoTest, ReadWriteOpenNeverWaits) {
  auto rw = fifo_.Open(&t(), O_RDWR);
  ASSERT_TRUE(rw.ok());
  std::vector<uint8_t> b = {7};
  ASSERT_EQ(*(*rw)->Write(t(), b), 1);
  std::vector<uint8_t> out(1);
  EXPECT_EQ(*(*rw)->Read(t(), out), 1);
  EXPECT_EQ(out[0], 7);
}

TEST_F(FifoTest, BadAccessModeIsEinval) { EXPECT_EQ(fifo_.Open(&t(), O_ACCMODE).error(), Errno(EINVAL)); }

TEST_F(FifoTest, BlockingReadOpenWaitsForWriter) {
  std::thread writer([&] {
    usleep(50 * 1000);
    auto w = fifo_.Open(nullptr, O_WRONLY | O_NONBLOCK);  // a reader is waiting
    EXPECT_TRUE(w.ok());
  });
  auto r = fifo_.Open(&t(), O_RDONLY);
  writer.join();
  ASSERT_TRUE(r.ok()) << r.error().Name();
  // The writer has come and gone: EOF and POLLHUP now.
  EXPECT_EQ((*r)->Readiness(POLLHUP), uint32_t(POLLHUP));
}

TEST_F(FifoTest, BlockingWriteOpenWaitsForReader) {
  std::atomic<bool> opened{false};
  std::thread reader([&] {
    usleep(50 * 1000);
    EXPECT_FALSE(opened.load());
    auto r = fifo_.Open(nullptr, O_RDONLY | O_NONBLOCK);
    EXPECT_TRUE(r.ok());
    usleep(50 * 1000);  // keep it open while the writer wakes
  });
  auto w = fifo_.Open(&t(), O_WRONLY);
  opened = true;
  reader.join();
  ASSERT_TRUE(w.ok());
}

TEST_F(FifoTest, BlockedOpenIsInterruptible) {
  std::thread sig([&] {
    usleep(50 * 1000);
    RaiseSignal(SIGUSR1);
  });
  auto r = fifo_.Open(&t(), O_RDONLY);
  sig.join();
  EXPECT_EQ(r.error(), Errno(kERESTARTSYS));
  EXPECT_EQ(fifo_.pipe(), nullptr);  // the failed opener let go of the pipe
}

TEST_F(FifoTest, LastCloseDiscardsData) {
  {
    auto rw = fifo_.Open(&t(), O_RDWR | O_NONBLOCK);
    std::vector<uint8_t> b = {1, 2, 3};
    ASSERT_EQ(*(*rw)->Write(t(), b), 3);
  }
  EXPECT_EQ(fifo_.pipe(), nullptr);
  auto rw = fifo_.Open(&t(), O_RDWR | O_NONBLOCK);
  std::vector<uint8_t> out(3);
  EXPECT_EQ((*rw)->Read(t(), out).error(), Errno(EAGAIN));  // fresh and empty
}

TEST_F(FifoTest, OpenFlagsKeptForFGetfl) {
  auto rw = fifo_.Open(&t(), O_RDWR | O_NONBLOCK | O_CREAT | O_CLOEXEC | O_TRUNC);
  ASSERT_TRUE(rw.ok());
  EXPECT_EQ((*rw)->flags(), O_RDWR | O_NONBLOCK);
  EXPECT_NE(PipeOf(**rw), nullptr);
}

TEST_F(FifoTest, StatAndNameComeFromThePath) {
  InodeRef root = tmpfs::NewTmpfsRoot(0755, 0, 0);
  auto node = root->Mknod("fifo", S_IFIFO | 0640, 0, Credentials{});
  ASSERT_TRUE(node.ok());
  auto mount = std::make_shared<Mount>(root, nullptr, nullptr, "tmpfs", "tmpfs", 0);
  auto d = std::make_shared<Dentry>("fifo", mount->root(), *node);
  auto f = fifo_.Open(&t(), O_RDWR);
  ASSERT_TRUE(f.ok());
  (*f)->set_path(mount, d);
  auto st = (*f)->Stat(t());
  ASSERT_TRUE(st.ok());
  EXPECT_EQ(st->st_mode, uint32_t(S_IFIFO | 0640));
  EXPECT_EQ(st->st_ino, (*node)->GetAttr()->ino);
  EXPECT_EQ((*f)->DisplayName(), "/fifo");
}

}  // namespace
}  // namespace palisade::testing
