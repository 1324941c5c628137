#include "sentry/syscalls/report.h"

#include <thread>
#include <vector>

#include "gmock/gmock.h"
#include "gtest/gtest.h"

namespace palisade {
namespace {

using ::testing::HasSubstr;
using ::testing::Not;

constexpr int kAfsSyscall = 183;  // never implemented by Linux either
constexpr int kRead = 0;
constexpr int kMmap = 9;           // partial in the table

const nlohmann::json* FindByName(const nlohmann::json& rows, const std::string& name) {
  for (const auto& r : rows)
    if (r["name"] == name) return &r;
  return nullptr;
}

TEST(SyscallRecorderTest, FoldsNumericPathComponents) {
  EXPECT_EQ(SyscallRecorder::FoldPath("/proc/12/task/12/stat"), "/proc/[N]/task/[N]/stat");
  EXPECT_EQ(SyscallRecorder::FoldPath("/proc//self/"), "/proc/self");
  EXPECT_EQ(SyscallRecorder::FoldPath("/sys/class/net/eth0"), "/sys/class/net/eth0");
  EXPECT_EQ(SyscallRecorder::FoldPath("/"), "/");
}

TEST(SyscallRecorderTest, ReportsUnsupportedSyscallsWithCountsAndNotes) {
  SyscallRecorder rec;
  for (int i = 0; i < 3; i++) rec.RecordSyscall(kAfsSyscall);
  rec.RecordSyscall(kRead);
  rec.RecordSyscall(kMmap);
  rec.RecordSyscall(-5);  // out of range: counted, not a crash
  nlohmann::json j = rec.ToJson();
  EXPECT_EQ(j["syscalls"]["afs_syscall"], 3);
  EXPECT_EQ(j["syscalls"]["read"], 1);
  const nlohmann::json* afs = FindByName(j["unsupported_syscalls"], "afs_syscall");
  ASSERT_NE(afs, nullptr);
  EXPECT_EQ((*afs)["nr"], kAfsSyscall);
  EXPECT_EQ((*afs)["count"], 3);
  EXPECT_EQ((*afs)["status"], "ENOSYS");
  const nlohmann::json* mmap = FindByName(j["unsupported_syscalls"], "mmap");
  ASSERT_NE(mmap, nullptr);
  EXPECT_EQ((*mmap)["status"], "partial");
  EXPECT_NE((*mmap)["note"], "");
  EXPECT_EQ(FindByName(j["unsupported_syscalls"], "read"), nullptr);
  EXPECT_NE(FindByName(j["unsupported_syscalls"], "out-of-range"), nullptr);
}

TEST(SyscallRecorderTest, ReportsIoctlsAndMissingPaths) {
  SyscallRecorder rec;
  rec.RecordIoctl(0x5413, ENOTTY, "chr");
  rec.RecordIoctl(0x5413, ENOTTY, "chr");
  rec.RecordIoctl(0x5413, ENOTTY, "pipe");
  rec.RecordMissingPath("/proc/7/smaps", "openat");
  rec.RecordMissingPath("/proc/8/smaps", "openat");
  nlohmann::json j = rec.ToJson();
  ASSERT_EQ(j["ioctls"].size(), 2u);
  EXPECT_EQ(j["ioctls"][0]["name"], "TIOCGWINSZ");
  EXPECT_EQ(j["ioctls"][0]["errno"], "ENOTTY");
  EXPECT_EQ(j["ioctls"][0]["file"], "chr");
  EXPECT_EQ(j["ioctls"][0]["count"], 2);
  ASSERT_EQ(j["missing_paths"].size(), 1u);
  EXPECT_EQ(j["missing_paths"][0]["path"], "/proc/[N]/smaps");
  EXPECT_EQ(j["missing_paths"][0]["count"], 2);

  std::string text = rec.ToText();
  EXPECT_THAT(text, HasSubstr("TIOCGWINSZ (0x5413) on chr file: 2 calls, ENOTTY"));
  EXPECT_THAT(text, HasSubstr("/proc/[N]/smaps (openat): 2 calls"));
}

TEST(SyscallRecorderTest, EmptyReportSaysNone) {
  SyscallRecorder rec;
  std::string text = rec.ToText();
  EXPECT_THAT(text, HasSubstr("0 distinct syscalls"));
  EXPECT_THAT(text, HasSubstr("none"));
  EXPECT_THAT(text, Not(HasSubstr("calls, ENOSYS")));
}

TEST(SyscallRecorderTest, CountsFromManyThreads) {
  SyscallRecorder rec;
  std::vector<std::thread> threads;
  for (int i = 0; i < 4; i++) {
    threads.emplace_back([&] {
      for (int k = 0; k < 10000; k++) {
        rec.RecordSyscall(kAfsSyscall);
        if (k % 100 == 0) rec.RecordMissingPath("/sys/x", "openat");
      }
    });
  }
  for (auto& t : threads) t.join();
  nlohmann::json j = rec.ToJson();
  EXPECT_EQ(j["syscalls"]["afs_syscall"], 40000);
  EXPECT_EQ(j["missing_paths"][0]["count"], 400);
}

}  // namespace
}  // namespace palisade
