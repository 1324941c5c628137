#include "runsc/cli/cli.h"

#include <sys/stat.h>
#include <unistd.h>

#include <filesystem>
#include <optional>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "runsc/oci/spec_parse.h"
#include "tests/unit/runsc/test_util.h"

namespace palisade::cli {
namespace {

using ::palisade::testing::MinimalConfig;
using ::palisade::testing::ReadFile;
using ::palisade::testing::TempDir;
using ::palisade::testing::WriteFile;
using ::testing::ElementsAre;
using ::testing::HasSubstr;

// Lines of a JSON log file, parsed.
std::vector<nlohmann::json> LogLines(const std::string& path) {
  std::vector<nlohmann::json> out;
  std::stringstream ss(ReadFile(path));
  for (std::string line; std::getline(ss, line);) out.push_back(nlohmann::json::parse(line));
  return out;
}

// The message of the last "error" line, as containerd's shim reads it.
std::string LastError(const std::string& log) {
  std::string msg;
  for (const nlohmann::json& j : LogLines(log)) {
    if (j["level"] == "error") msg = j["msg"];
  }
  return msg;
}

class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    bundle_ = tmp_.Sub("bundle");
    root_ = tmp_.Sub("root");
    log_ = tmp_.Sub("log.json");
    ASSERT_EQ(mkdir(bundle_.c_str(), 0755), 0);
    ASSERT_EQ(mkdir((bundle_ + "/rootfs").c_str(), 0755), 0);
    WriteFile(bundle_ + "/config.json", MinimalConfig());
    deps_.run_sandbox = [this](const BootConfig& cfg) -> absl::StatusOr<int> {
      ++calls_;
      seen_ = cfg;
      state_during_run_ = ReadFile(root_ + "/c1/state.json");
      if (!sandbox_error_.ok()) return sandbox_error_;
      return exit_code_;
    };
  }

  // Runs with --root and a JSON --log in the temp dir, before `args`.
  int Run(std::vector<std::string> args) {
    std::vector<std::string> full = {"--root", root_, "--log", log_, "--log-format", "json"};
    full.insert(full.end(), args.begin(), args.end());
    return RunCli(full, deps_);
  }

  TempDir tmp_;
  std::string bundle_, root_, log_;
  CliDeps deps_;
  int calls_ = 0;
  int exit_code_ = 0;
  absl::Status sandbox_error_;
  std::optional<BootConfig> seen_;
  std::string state_during_run_;
};

TEST_F(CliTest, VersionHasRuncsShape) {
  for (const char* flag : {"--version", "-v", "-version"}) {
    ::testing::internal::CaptureStdout();
    EXPECT_EQ(RunCli({flag}, deps_), 0);
    const std::string out = ::testing::internal::GetCapturedStdout();
    EXPECT_THAT(out, ::testing::MatchesRegex(
                         "palisade version 0\\.1\\.0\ncommit: ([0-9a-f]+|unknown)\nspec: 1\\.0\\.2-dev\n"))
        << out;
  }
}

TEST_F(CliTest, RunPassesTheBundleToTheSandboxAndExitsWithItsStatus) {
  exit_code_ = 7;
  const std::string pid_file = tmp_.Sub("c1.pid");
  EXPECT_EQ(Run({"run", "--bundle", bundle_, "--pid-file", pid_file, "c1"}), 7);
  ASSERT_EQ(calls_, 1);
  EXPECT_EQ(seen_->rootfs, std::filesystem::canonical(bundle_ + "/rootfs").string());
  EXPECT_THAT(seen_->argv, ElementsAre("/bin/true"));
  EXPECT_EQ(seen_->platform, "systrap");  // the default
  EXPECT_FALSE(seen_->strace);

  nlohmann::json state = nlohmann::json::parse(state_during_run_);
  EXPECT_EQ(state["id"], "c1");
  EXPECT_EQ(state["status"], "running");
  EXPECT_EQ(state["pid"], getpid());
  EXPECT_EQ(state["bundle"], bundle_);
  EXPECT_EQ(state["ociVersion"], "1.0.2");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/c1")) << "state removed after the run";
  EXPECT_EQ(ReadFile(pid_file), std::to_string(getpid()));
}

TEST_F(CliTest, SignalDeathStatusPassesThrough) {
  exit_code_ = 128 + 9;
  EXPECT_EQ(Run({"run", "-b", bundle_, "c1"}), 137);
}

TEST_F(CliTest, BundleDefaultsToTheWorkingDirectory) {
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(bundle_);
  const int rc = Run({"run", "c1"});
  std::filesystem::current_path(old);
  EXPECT_EQ(rc, 0);
  EXPECT_EQ(calls_, 1);
}

TEST_F(CliTest, StraceDebugAndPlatformReachTheSandbox) {
  EXPECT_EQ(Run({"--debug", "--strace", "--platform=ptrace", "run", "-b", bundle_, "c1"}), 0);
  ASSERT_TRUE(seen_.has_value());
  EXPECT_TRUE(seen_->strace);
  EXPECT_EQ(seen_->platform, "ptrace");
  bool saw_debug = false;
  for (const nlohmann::json& j : LogLines(log_)) saw_debug = saw_debug || j["level"] == "debug";
  EXPECT_TRUE(saw_debug);
}

TEST_F(CliTest, GoStyleAndUnknownGlobalFlagsAreAccepted) {
  const std::string pid_file = tmp_.Sub("go.pid");
  std::vector<std::string> args = {"-root",      root_,         "-log",       log_,
                                   "-log-format", "json",       "--no-such",  "-other-flag=1",
                                   "run",        "-bundle",     bundle_,      "-pid-file",
                                   pid_file,     "-no-subreaper", "-no-pivot", "c1"};
  EXPECT_EQ(RunCli(args, deps_), 0);
  EXPECT_EQ(calls_, 1);
  EXPECT_EQ(ReadFile(pid_file), std::to_string(getpid()));
  std::vector<std::string> warnings;
  for (const nlohmann::json& j : LogLines(log_)) {
    if (j["level"] == "warning") warnings.push_back(j["msg"]);
  }
  EXPECT_THAT(warnings, ::testing::Contains(HasSubstr("\"--no-such\"")));
  EXPECT_THAT(warnings, ::testing::Contains(HasSubstr("\"--other-flag=1\"")));
}

TEST_F(CliTest, DuplicateIdIsRefusedWithRuncsMessage) {
  ASSERT_TRUE(std::filesystem::create_directories(root_ + "/c1"));
  EXPECT_EQ(Run({"run", "-b", bundle_, "c1"}), 1);
  EXPECT_EQ(calls_, 0);
  EXPECT_EQ(LastError(log_), "container with id exists: c1");
  EXPECT_TRUE(std::filesystem::exists(root_ + "/c1")) << "the other container's state is kept";
}

TEST_F(CliTest, ErrorsReachStderrAndTheJsonLog) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(Run({"run", "-b", bundle_, "bad/id"}), 1);
  const std::string err = ::testing::internal::GetCapturedStderr();
  EXPECT_THAT(err, HasSubstr("invalid id format"));
  EXPECT_THAT(LastError(log_), HasSubstr("invalid id format"));
}

TEST_F(CliTest, MissingRootfsIsReported) {
  std::filesystem::remove(bundle_ + "/rootfs");
  EXPECT_EQ(Run({"run", "-b", bundle_, "c1"}), 1);
  EXPECT_EQ(LastError(log_), "rootfs \"" + bundle_ + "/rootfs\" does not exist");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/c1"));
}

TEST_F(CliTest, BadConfigIsReported) {
  WriteFile(bundle_ + "/config.json", R"({"root":{"path":"rootfs"},"process":{"cwd":"/"}})");
  EXPECT_EQ(Run({"run", "-b", bundle_, "c1"}), 1);
  EXPECT_EQ(LastError(log_), "config.json: process.args: required field missing");
}

TEST_F(CliTest, DetachIsNotSupportedYet) {
  EXPECT_EQ(Run({"run", "-d", "-b", bundle_, "c1"}), 1);
  EXPECT_THAT(LastError(log_), HasSubstr("--detach is not supported yet"));
  EXPECT_EQ(calls_, 0);
}

TEST_F(CliTest, ConsoleSocketNeedsDetach) {
  EXPECT_EQ(Run({"run", "--console-socket", "/tmp/s", "-b", bundle_, "c1"}), 1);
  EXPECT_THAT(LastError(log_), HasSubstr("cannot use console socket"));
}

TEST_F(CliTest, RunNeedsExactlyOneId) {
  EXPECT_EQ(Run({"run", "-b", bundle_}), 1);
  EXPECT_EQ(LastError(log_), "\"run\" requires exactly 1 argument(s)");
  EXPECT_EQ(Run({"run", "-b", bundle_, "a", "b"}), 1);
  EXPECT_EQ(calls_, 0);
}

TEST_F(CliTest, SandboxErrorsAreReportedAndStateRemoved) {
  sandbox_error_ = absl::InvalidArgumentError("unknown platform \"x\"");
  EXPECT_EQ(Run({"run", "-b", bundle_, "c1"}), 1);
  EXPECT_EQ(LastError(log_), "unknown platform \"x\"");
  EXPECT_FALSE(std::filesystem::exists(root_ + "/c1"));
}

TEST_F(CliTest, KeepLeavesStoppedState) {
  EXPECT_EQ(Run({"run", "--keep", "-b", bundle_, "c1"}), 0);
  nlohmann::json state = nlohmann::json::parse(ReadFile(root_ + "/c1/state.json"));
  EXPECT_EQ(state["status"], "stopped");
}

TEST_F(CliTest, UnknownSubcommandFlagIsAnErrorInTheLog) {
  EXPECT_EQ(Run({"run", "--bogus", "-b", bundle_, "c1"}), 1);
  EXPECT_THAT(LastError(log_), HasSubstr("--bogus"));
  EXPECT_EQ(calls_, 0);
}

TEST_F(CliTest, UnknownCommandIsAnError) {
  EXPECT_EQ(Run({"frobnicate", "c1"}), 1);
  EXPECT_THAT(LastError(log_), HasSubstr("unknown command \"frobnicate\""));
}

TEST_F(CliTest, NoCommandPrintsHelp) {
  ::testing::internal::CaptureStdout();
  EXPECT_EQ(RunCli({}, deps_), 0);
  EXPECT_THAT(::testing::internal::GetCapturedStdout(), HasSubstr("spec"));
}

TEST_F(CliTest, SpecWritesAConfigThatParsesBackAndRefusesToOverwrite) {
  const std::string dir = tmp_.Sub("new");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  EXPECT_EQ(RunCli({"spec", "--bundle", dir}, deps_), 0);
  const std::string text = ReadFile(dir + "/config.json");
  absl::StatusOr<oci::OciSpec> spec = oci::ParseSpec(text);
  ASSERT_TRUE(spec.ok()) << spec.status();
  EXPECT_THAT(spec->process->args, ElementsAre("sh"));
  EXPECT_EQ(text.substr(0, 3), "{\n\t") << "tab-indented as runc writes it";

  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"spec", "-b", dir}, deps_), 1);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("File config.json exists. Remove it first"));
  EXPECT_EQ(ReadFile(dir + "/config.json"), text);
}

TEST_F(CliTest, SpecTakesNoArguments) {
  ::testing::internal::CaptureStderr();
  EXPECT_EQ(RunCli({"spec", "-b", tmp_.path(), "extra"}, deps_), 1);
  EXPECT_THAT(::testing::internal::GetCapturedStderr(),
              HasSubstr("\"spec\" requires exactly 0 argument(s)"));
  EXPECT_FALSE(std::filesystem::exists(tmp_.Sub("config.json")));
}

TEST_F(CliTest, SpecRootlessInTheWorkingDirectory) {
  const std::string dir = tmp_.Sub("rootless");
  ASSERT_EQ(mkdir(dir.c_str(), 0755), 0);
  const auto old = std::filesystem::current_path();
  std::filesystem::current_path(dir);
  const int rc = RunCli({"spec", "--rootless"}, deps_);
  std::filesystem::current_path(old);
  ASSERT_EQ(rc, 0);
  absl::StatusOr<oci::OciSpec> spec = oci::ParseSpec(ReadFile(dir + "/config.json"));
  ASSERT_TRUE(spec.ok()) << spec.status();
  ASSERT_EQ(spec->linux_config->uid_mappings.size(), 1u);
  EXPECT_EQ(spec->linux_config->uid_mappings[0].host_id, geteuid());
}

}  // namespace
}  // namespace palisade::cli
