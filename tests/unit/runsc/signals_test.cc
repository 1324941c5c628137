#include "runsc/cli/signals.h"

#include <signal.h>

#include "gtest/gtest.h"

namespace palisade::cli {
namespace {

TEST(ParseSignal, NamesWithAndWithoutSigInAnyCase) {
  EXPECT_EQ(*ParseSignal("KILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("SIGKILL"), SIGKILL);
  EXPECT_EQ(*ParseSignal("sigterm"), SIGTERM);
  EXPECT_EQ(*ParseSignal("hup"), SIGHUP);
  EXPECT_EQ(*ParseSignal("SIGUSR2"), SIGUSR2);
  EXPECT_EQ(*ParseSignal("WINCH"), SIGWINCH);
}

TEST(ParseSignal, Numbers) {
  EXPECT_EQ(*ParseSignal("9"), 9);
  EXPECT_EQ(*ParseSignal("15"), 15);
  EXPECT_EQ(*ParseSignal("64"), 64);
}

TEST(ParseSignal, RealTime) {
  EXPECT_EQ(*ParseSignal("RTMIN"), 34);
  EXPECT_EQ(*ParseSignal("SIGRTMIN+3"), 37);
  EXPECT_EQ(*ParseSignal("RTMAX-1"), 63);
  EXPECT_FALSE(ParseSignal("RTMIN+40").ok());
}

TEST(ParseSignal, BadNamesUseRuncsWording) {
  for (const char* bad : {"FOO", "SIGFOO", "0", "65", "-1", "", "SIG", "KILL9", "9x"}) {
    absl::StatusOr<int> s = ParseSignal(bad);
    ASSERT_FALSE(s.ok()) << bad;
    EXPECT_EQ(s.status().message(), std::string("unknown signal \"") + bad + "\"");
  }
}

}  // namespace
}  // namespace palisade::cli
