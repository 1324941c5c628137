#include "base/logging.h"

#include <chrono>
#include <filesystem>
#include <regex>
#include <sstream>

#include "gmock/gmock.h"
#include "gtest/gtest.h"
#include "nlohmann/json.hpp"
#include "tests/unit/runsc/test_util.h"

namespace palisade {
namespace {

using ::palisade::testing::ReadFile;
using ::palisade::testing::TempDir;
using ::palisade::testing::WriteFile;
using ::testing::HasSubstr;

std::chrono::system_clock::time_point SampleTime() {
  // 2024-05-01T12:00:00.000123Z
  return std::chrono::system_clock::time_point(std::chrono::seconds(1714564800)) +
         std::chrono::microseconds(123);
}

std::vector<std::string> Lines(const std::string& text) {
  std::vector<std::string> out;
  std::stringstream ss(text);
  for (std::string line; std::getline(ss, line);) out.push_back(line);
  return out;
}

TEST(JsonLogLineTest, EscapesTheMessage) {
  const std::string msg = "open \"/x\\y\":\nfailed\t\x01 done";
  const std::string line = FormatJsonLogLine(spdlog::level::err, msg, SampleTime());
  ASSERT_EQ(line.back(), '\n');
  EXPECT_EQ(line.find('\n'), line.size() - 1) << "one line per message";
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "error");
  EXPECT_EQ(j["msg"], msg);
  EXPECT_EQ(j["time"], "2024-05-01T12:00:00.000123Z");
  EXPECT_EQ(line.rfind("{\"level\":\"error\",\"msg\":", 0), 0u) << "keys in runc's order";
}

TEST(JsonLogLineTest, InvalidUtf8StillGivesValidJson) {
  const std::string line = FormatJsonLogLine(spdlog::level::warn, "bad \xff\xfe bytes", SampleTime());
  nlohmann::json j = nlohmann::json::parse(line);
  EXPECT_EQ(j["level"], "warning");
  EXPECT_THAT(j["msg"].get<std::string>(), HasSubstr("bad "));
}

TEST(JsonLogLineTest, LogrusLevelNames) {
  EXPECT_EQ(LogLevelName(spdlog::level::trace), "trace");
  EXPECT_EQ(LogLevelName(spdlog::level::debug), "debug");
  EXPECT_EQ(LogLevelName(spdlog::level::info), "info");
  EXPECT_EQ(LogLevelName(spdlog::level::warn), "warning");
  EXPECT_EQ(LogLevelName(spdlog::level::err), "error");
  EXPECT_EQ(LogLevelName(spdlog::level::critical), "fatal");
}

TEST(TextLogLineTest, LogrusShape) {
  EXPECT_EQ(FormatTextLogLine(spdlog::level::info, "say \"hi\"", SampleTime()),
            "time=\"2024-05-01T12:00:00.000123Z\" level=info msg=\"say \\\"hi\\\"\"\n");
}

TEST(InitLoggingTest, JsonFileGetsOneValidObjectPerLine) {
  TempDir tmp;
  const std::string path = tmp.Sub("log.json");
  ASSERT_TRUE(InitLogging({.debug = true, .file = path, .format = "json"}).ok());
  spdlog::debug("starting {}", "x");
  spdlog::warn("odd \"quote\" and \\ backslash");
  spdlog::error("line one\nline two");
  const std::vector<std::string> lines = Lines(ReadFile(path));
  ASSERT_EQ(lines.size(), 3u);
  const std::regex time_re(R"(\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{6}Z)");
  for (const std::string& line : lines) {
    nlohmann::json j = nlohmann::json::parse(line);
    EXPECT_TRUE(std::regex_match(j["time"].get<std::string>(), time_re)) << line;
  }
  EXPECT_EQ(nlohmann::json::parse(lines[0])["level"], "debug");
  EXPECT_EQ(nlohmann::json::parse(lines[1])["msg"], "odd \"quote\" and \\ backslash");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["level"], "error");
  EXPECT_EQ(nlohmann::json::parse(lines[2])["msg"], "line one\nline two");
  ASSERT_TRUE(InitLogging({}).ok());
}

TEST(InitLoggingTest, InfoLevelDropsDebugAndAppends) {
  TempDir tmp;
  const std::string path = tmp.Sub("log.txt");
  WriteFile(path, "earlier\n");
  ASSERT_TRUE(InitLogging({.file = path, .format = "text"}).ok());
  spdlog::debug("hidden");
  spdlog::info("shown");
  const std::vector<std::string> lines = Lines(ReadFile(path));
  ASSERT_EQ(lines.size(), 2u);
  EXPECT_EQ(lines[0], "earlier");
  EXPECT_THAT(lines[1], HasSubstr("level=info msg=\"shown\""));
  ASSERT_TRUE(InitLogging({}).ok());
}

TEST(InitLoggingTest, Errors) {
  EXPECT_FALSE(InitLogging({.format = "xml"}).ok());
  TempDir tmp;
  WriteFile(tmp.Sub("file"), "");
  const std::string bad = tmp.Sub("file/log.json");  // a regular file as a directory
  absl::Status s = InitLogging({.file = bad, .format = "json"});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr(bad));
  // A missing directory is an error naming the path, never created.
  s = InitLogging({.file = tmp.Sub("missing/log.json"), .format = "json"});
  ASSERT_FALSE(s.ok());
  EXPECT_THAT(std::string(s.message()), HasSubstr("open log file \"" + tmp.Sub("missing/log.json")));
  EXPECT_FALSE(std::filesystem::exists(tmp.Sub("missing")));
  ASSERT_TRUE(InitLogging({}).ok());
}

}  // namespace
}  // namespace palisade
