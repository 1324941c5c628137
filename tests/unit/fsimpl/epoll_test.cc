// EpollInstance (epoll(7)): level- vs edge-triggered reporting, one-shot,
// interest bookkeeping, data round trip, the instance's own readiness,
// nesting, files that die, and blocking waits.
#include <poll.h>
#include <signal.h>
#include <sys/epoll.h>
#include <sys/eventfd.h>

#include <thread>
#include <vector>

#include "sentry/fsimpl/anon/epoll.h"
#include "sentry/fsimpl/anon/eventfd.h"
#include "sentry/fsimpl/pipe/pipe_file.h"
#include "tests/unit/fsimpl/io_test_util.h"

namespace palisade::testing {
namespace {

class EpollTest : public IoTest {
 protected:
  void SetUp() override {
    auto ep = EpollInstance::Create(0);
    ASSERT_TRUE(ep.ok());
    ep_ = *ep;
    std::tie(r_, w_) = MakePipe(O_NONBLOCK);
  }
  void Put(FileRef& w, size_t n = 1) {
    std::vector<uint8_t> b(n, 'x');
    ASSERT_TRUE(w->Write(t(), b).ok());
  }
  void Drain(FileRef& r) {
    std::vector<uint8_t> b(1 << 17);
    (void)r->Read(t(), b);
  }
  // The events Collect reports now, as (data, events) pairs.
  std::vector<std::pair<uint64_t, uint32_t>> Events(EpollInstance& ep) {
    std::vector<struct epoll_event> out(16);
    size_t n = ep.Collect(out);
    std::vector<std::pair<uint64_t, uint32_t>> v;
    for (size_t i = 0; i < n; i++) v.emplace_back(uint64_t{out[i].data.u64}, uint32_t{out[i].events});
    return v;
  }
  using Evs = std::vector<std::pair<uint64_t, uint32_t>>;

  std::shared_ptr<EpollInstance> ep_;
  FileRef r_, w_;
};

TEST_F(EpollTest, LevelTriggeredReportsWhileReady) {
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN, 42).ok());
  EXPECT_EQ(Events(*ep_), Evs{});
  Put(w_);
  EXPECT_EQ(Events(*ep_), (Evs{{42, EPOLLIN}}));
  EXPECT_EQ(Events(*ep_), (Evs{{42, EPOLLIN}}));  // still readable: again
  Drain(r_);
  EXPECT_EQ(Events(*ep_), Evs{});
}

TEST_F(EpollTest, EdgeTriggeredReportsOncePerEvent) {
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN | EPOLLET, 7).ok());
  Put(w_);
  EXPECT_EQ(Events(*ep_), (Evs{{7, EPOLLIN}}));
  EXPECT_EQ(Events(*ep_), Evs{});  // no new event, though still readable
  Put(w_);                         // a new write is a new event
  EXPECT_EQ(Events(*ep_), (Evs{{7, EPOLLIN}}));
  EXPECT_EQ(Events(*ep_), Evs{});
}

TEST_F(EpollTest, EdgeTriggeredReportsReadyAtAdd) {
  Put(w_);
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN | EPOLLET, 1).ok());
  EXPECT_EQ(Events(*ep_), (Evs{{1, EPOLLIN}}));
  EXPECT_EQ(Events(*ep_), Evs{});
}

TEST_F(EpollTest, EdgeTriggeredIgnoresOtherFilesEvents) {
  auto [r2, w2] = MakePipe(O_NONBLOCK);
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN | EPOLLET, 1).ok());
  ASSERT_TRUE(ep_->Add(r2, 4, EPOLLIN | EPOLLET, 2).ok());
  Put(w_);
  EXPECT_EQ(Events(*ep_), (Evs{{1, EPOLLIN}}));
  Put(w2);
  EXPECT_EQ(Events(*ep_), (Evs{{2, EPOLLIN}}));  // not 1 again
}

TEST_F(EpollTest, EdgeTriggeredEventfdRepeats) {
  auto efd = std::make_shared<EventFd>(0, EFD_NONBLOCK);
  FileRef f = efd;
  ASSERT_TRUE(ep_->Add(f, 5, EPOLLIN | EPOLLOUT | EPOLLET, 9).ok());
  EXPECT_EQ(Events(*ep_), (Evs{{9, EPOLLOUT}}));
  uint64_t one = 1;
  std::span<const uint8_t> b(reinterpret_cast<const uint8_t*>(&one), 8);
  ASSERT_TRUE(f->Write(t(), b).ok());
  EXPECT_EQ(Events(*ep_), (Evs{{9, EPOLLIN | EPOLLOUT}}));
  ASSERT_TRUE(f->Write(t(), b).ok());
  EXPECT_EQ(Events(*ep_), (Evs{{9, EPOLLIN | EPOLLOUT}}));
  EXPECT_EQ(Events(*ep_), Evs{});
}

TEST_F(EpollTest, OneShotDisablesUntilModify) {
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN | EPOLLONESHOT, 5).ok());
  Put(w_);
  EXPECT_EQ(Events(*ep_), (Evs{{5, EPOLLIN}}));
  Put(w_);
  EXPECT_EQ(Events(*ep_), Evs{});  // disabled
  EXPECT_EQ(ep_->Add(r_, 3, EPOLLIN, 5), Errno(EEXIST));  // still there
  ASSERT_TRUE(ep_->Modify(r_, 3, EPOLLIN | EPOLLONESHOT, 6).ok());
  EXPECT_EQ(Events(*ep_), (Evs{{6, EPOLLIN}}));  // re-armed, new data
  EXPECT_EQ(Events(*ep_), Evs{});
}

TEST_F(EpollTest, InterestBookkeeping) {
  EXPECT_EQ(ep_->Modify(r_, 3, EPOLLIN, 0), Errno(ENOENT));
  EXPECT_EQ(ep_->Delete(r_, 3), Errno(ENOENT));
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN, 1).ok());
  EXPECT_EQ(ep_->Add(r_, 3, EPOLLIN, 1), Errno(EEXIST));
  ASSERT_TRUE(ep_->Add(r_, 10, EPOLLIN, 2).ok());  // same file, another fd: a new interest
  EXPECT_EQ(ep_->interest_count(), 2u);
  Put(w_);
  auto evs = Events(*ep_);
  EXPECT_EQ(evs.size(), 2u);
  ASSERT_TRUE(ep_->Delete(r_, 3).ok());
  EXPECT_EQ(Events(*ep_), (Evs{{2, EPOLLIN}}));
  EXPECT_EQ(ep_->interest_count(), 1u);
}

TEST_F(EpollTest, DataRoundTrips) {
  uint64_t data = 0xfedcba9876543210ull;
  ASSERT_TRUE(ep_->Add(w_, 4, EPOLLOUT, data).ok());
  EXPECT_EQ(Events(*ep_), (Evs{{data, EPOLLOUT}}));
}

TEST_F(EpollTest, HupAndErrAlwaysReported) {
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLOUT, 1).ok());  // asks for nothing a reader has
  ASSERT_TRUE(ep_->Add(w_, 4, EPOLLIN, 2).ok());
  EXPECT_EQ(Events(*ep_), Evs{});
  FileRef w = w_, r = r_;
  w_.reset();
  // Our references keep both ends open; drop the write end's ourselves.
  ASSERT_TRUE(ep_->Delete(w, 4).ok());
  w.reset();
  EXPECT_EQ(Events(*ep_), (Evs{{1, EPOLLHUP}}));
}

TEST_F(EpollTest, MaxEventsLimitsAndRotates) {
  auto [r2, w2] = MakePipe(O_NONBLOCK);
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN, 1).ok());
  ASSERT_TRUE(ep_->Add(r2, 4, EPOLLIN, 2).ok());
  Put(w_);
  Put(w2);
  std::vector<struct epoll_event> one(1);
  ASSERT_EQ(ep_->Collect(one), 1u);
  uint64_t first = uint64_t{one[0].data.u64};
  ASSERT_EQ(ep_->Collect(one), 1u);
  EXPECT_NE(uint64_t{one[0].data.u64}, first);  // level-triggered ones go to the back
}

TEST_F(EpollTest, InstanceIsPollable) {
  EXPECT_EQ(ep_->Readiness(POLLIN | POLLOUT), 0u);
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN | EPOLLET, 1).ok());
  EXPECT_EQ(ep_->Readiness(POLLIN), 0u);
  Put(w_);
  EXPECT_EQ(ep_->Readiness(POLLIN | POLLOUT), uint32_t(POLLIN));
  EXPECT_EQ(Events(*ep_).size(), 1u);
  EXPECT_EQ(ep_->Readiness(POLLIN), 0u);  // the edge was consumed
  EXPECT_GE(ep_->HostFdForPoll(), 0);
  auto st = ep_->Stat(t());
  EXPECT_EQ(st->st_mode, 0600u);
  EXPECT_EQ(ep_->DisplayName(), "anon_inode:[eventpoll]");
}

TEST_F(EpollTest, NestedInstances) {
  auto inner = *EpollInstance::Create(0);
  ASSERT_TRUE(inner->Add(r_, 3, EPOLLIN, 1).ok());
  FileRef inner_file = inner;
  ASSERT_TRUE(ep_->Add(inner_file, 4, EPOLLIN, 2).ok());
  EXPECT_EQ(Events(*ep_), Evs{});
  Put(w_);
  EXPECT_EQ(Events(*ep_), (Evs{{2, EPOLLIN}}));
  EXPECT_EQ(Events(*inner), (Evs{{1, EPOLLIN}}));
}

TEST_F(EpollTest, CyclesAreEloop) {
  auto other = *EpollInstance::Create(0);
  FileRef other_file = other, self_file = ep_;
  ASSERT_TRUE(ep_->Add(other_file, 4, EPOLLIN, 0).ok());
  EXPECT_EQ(other->Add(self_file, 5, EPOLLIN, 0), Errno(ELOOP));
}

TEST_F(EpollTest, DeadFilesDropOut) {
  auto [r2, w2] = MakePipe(O_NONBLOCK);
  ASSERT_TRUE(ep_->Add(r2, 4, EPOLLIN, 2).ok());
  Put(w2);
  r2.reset();  // the last reference: the file is closed
  EXPECT_EQ(Events(*ep_), Evs{});
  EXPECT_EQ(ep_->interest_count(), 0u);
  // The write end is still there and must not touch the dead interest.
  EXPECT_EQ(w2->Write(t(), std::vector<uint8_t>(1)).error(), Errno(EPIPE));
}

TEST_F(EpollTest, DeadFilesAreSweptWithoutScans) {
  for (int i = 0; i < 100; i++) {
    auto [r, w] = MakePipe(O_NONBLOCK);
    ASSERT_TRUE(ep_->Add(r, 100 + i, EPOLLIN, i).ok());
  }
  EXPECT_LT(ep_->interest_count(), 100u);  // the doubling sweep ran
}

TEST_F(EpollTest, WaitSleepsUntilReady) {
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN, 1).ok());
  std::thread writer([&] {
    usleep(50 * 1000);
    Put(w_);
  });
  std::vector<struct epoll_event> out(4);
  auto n = ep_->Wait(t(), out, -1);
  writer.join();
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 1u);
}

TEST_F(EpollTest, WaitTimesOut) {
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN, 1).ok());
  std::vector<struct epoll_event> out(4);
  int64_t start = MonotonicNowNs();
  auto n = ep_->Wait(t(), out, start + 30 * 1000 * 1000);
  ASSERT_TRUE(n.ok());
  EXPECT_EQ(*n, 0u);
  EXPECT_GE(MonotonicNowNs() - start, 30 * 1000 * 1000);
  EXPECT_EQ(*ep_->Wait(t(), out, 0), 0u);  // zero: no sleep
}

TEST_F(EpollTest, WaitIsInterrupted) {
  std::thread sig([&] {
    usleep(50 * 1000);
    RaiseSignal(SIGUSR1);
  });
  std::vector<struct epoll_event> out(4);
  auto n = ep_->Wait(t(), out, -1);
  sig.join();
  EXPECT_EQ(n.error(), Errno(EINTR));
}

TEST_F(EpollTest, TwoWaitersBothWake) {
  // Level-triggered: one ready file wakes every thread sleeping on the
  // instance (each reports it), as Linux's ep_done_scan wake-up chain.
  ASSERT_TRUE(ep_->Add(r_, 3, EPOLLIN, 1).ok());
  auto other = NewThread();
  ErrnoOr<size_t> other_n = size_t{0};
  std::thread th([&] {
    std::vector<struct epoll_event> out(1);
    other_n = ep_->Wait(*other, out, MonotonicNowNs() + 2000ll * 1000 * 1000);
  });
  usleep(30 * 1000);
  std::thread writer([&] {
    usleep(30 * 1000);
    Put(w_);
  });
  std::vector<struct epoll_event> out(1);
  auto n = ep_->Wait(t(), out, MonotonicNowNs() + 2000ll * 1000 * 1000);
  writer.join();
  th.join();
  EXPECT_EQ(*n, 1u);
  EXPECT_EQ(*other_n, 1u);
}

}  // namespace
}  // namespace palisade::testing
