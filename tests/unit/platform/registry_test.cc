// The platform registry (platform.cc): names, unknown-name errors, and the
// ptrace platform's address range.
#include <sys/mman.h>
#include <unistd.h>

#include "base/unique_fd.h"
#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "platform/platform.h"

namespace palisade::platform {
namespace {

using ::testing::Contains;
using ::testing::HasSubstr;

TEST(RegistryTest, NamesListPtrace) { EXPECT_THAT(Platform::Names(), Contains("ptrace")); }

TEST(RegistryTest, UnknownNameListsValidOnes) {
  auto p = Platform::Create("kvm-please", 3);
  ASSERT_FALSE(p.ok());
  EXPECT_EQ(p.status().code(), absl::StatusCode::kInvalidArgument);
  EXPECT_THAT(std::string(p.status().message()), HasSubstr("kvm-please"));
  for (const std::string& n : Platform::Names()) {
    EXPECT_THAT(std::string(p.status().message()), HasSubstr(n));
  }
}

TEST(RegistryTest, CreatesPtrace) {
  UniqueFd fd(memfd_create("registry-test", MFD_CLOEXEC));
  ASSERT_TRUE(fd.ok());
  auto p = Platform::Create("ptrace", fd.get());
  ASSERT_TRUE(p.ok()) << p.status();
  EXPECT_EQ((*p)->MinUserAddress(), 0x10000u);
  EXPECT_EQ((*p)->MaxUserAddress(), 0x7c0000000000u);
  // A second platform in the same process shares the stub page.
  auto p2 = Platform::Create("ptrace", fd.get());
  EXPECT_TRUE(p2.ok()) << p2.status();
}

TEST(RegistryTest, InitialRegisters) {
  Registers r = InitialRegisters(0x401000, 0x7ff000);
  EXPECT_EQ(r.rip, 0x401000u);
  EXPECT_EQ(r.rsp, 0x7ff000u);
  EXPECT_EQ(r.cs, 0x33u);
  EXPECT_EQ(r.ss, 0x2bu);
  EXPECT_EQ(r.rax, 0u);
}

}  // namespace
}  // namespace palisade::platform
