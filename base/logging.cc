#include "base/logging.h"

#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#include <cerrno>
#include <cstdio>
#include <vector>

#include "base/status_macros.h"
#include "nlohmann/json.hpp"
#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stdout_sinks.h"

namespace palisade {
namespace {

std::string_view Payload(const spdlog::details::log_msg& msg) {
  return std::string_view(msg.payload.data(), msg.payload.size());
}

// A JSON string literal for `s`, quotes included. Invalid UTF-8 becomes
// U+FFFD instead of throwing, so a log call can never fail.
std::string JsonQuote(std::string_view s) {
  return nlohmann::json(std::string(s)).dump(-1, ' ', false, nlohmann::json::error_handler_t::replace);
}

void Append(spdlog::memory_buf_t& dest, std::string_view s) {
  dest.append(s.data(), s.data() + s.size());
}

class JsonLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    Append(dest, FormatJsonLogLine(msg.level, Payload(msg), msg.time));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<JsonLogFormatter>();
  }
};

class TextLogFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    Append(dest, FormatTextLogLine(msg.level, Payload(msg), msg.time));
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<TextLogFormatter>();
  }
};

// What a person at a terminal reads: "palisade: <msg>", with the level
// named for anything but errors and info.
class StderrFormatter final : public spdlog::formatter {
 public:
  void format(const spdlog::details::log_msg& msg, spdlog::memory_buf_t& dest) override {
    Append(dest, "palisade: ");
    if (msg.level != spdlog::level::err && msg.level != spdlog::level::info) {
      Append(dest, LogLevelName(msg.level));
      Append(dest, ": ");
    }
    Append(dest, Payload(msg));
    Append(dest, "\n");
  }
  std::unique_ptr<spdlog::formatter> clone() const override {
    return std::make_unique<StderrFormatter>();
  }
};

}  // namespace

std::string_view LogLevelName(spdlog::level::level_enum level) {
  switch (level) {
    case spdlog::level::trace:
      return "trace";
    case spdlog::level::debug:
      return "debug";
    case spdlog::level::info:
      return "info";
    case spdlog::level::warn:
      return "warning";
    case spdlog::level::err:
      return "error";
    case spdlog::level::critical:
      return "fatal";
    default:
      return "info";
  }
}

std::string FormatLogTime(std::chrono::system_clock::time_point time) {
  using std::chrono::duration_cast;
  auto secs = std::chrono::floor<std::chrono::seconds>(time);
  auto micros = duration_cast<std::chrono::microseconds>(time - secs).count();
  time_t tt = std::chrono::system_clock::to_time_t(secs);
  struct tm tm;
  gmtime_r(&tt, &tm);
  char buf[64];
  size_t n = strftime(buf, sizeof(buf), "%Y-%m-%dT%H:%M:%S", &tm);
  snprintf(buf + n, sizeof(buf) - n, ".%06lldZ", static_cast<long long>(micros));
  return buf;
}

std::string FormatJsonLogLine(spdlog::level::level_enum level, std::string_view msg,
                              std::chrono::system_clock::time_point time) {
  std::string line = "{\"level\":\"";
  line += LogLevelName(level);
  line += "\",\"msg\":";
  line += JsonQuote(msg);
  line += ",\"time\":\"";
  line += FormatLogTime(time);
  line += "\"}\n";
  return line;
}

std::string FormatTextLogLine(spdlog::level::level_enum level, std::string_view msg,
                              std::chrono::system_clock::time_point time) {
  std::string line = "time=\"";
  line += FormatLogTime(time);
  line += "\" level=";
  line += LogLevelName(level);
  line += " msg=";
  line += JsonQuote(msg);
  line += "\n";
  return line;
}

std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter() {
  return std::make_unique<JsonLogFormatter>();
}

std::unique_ptr<spdlog::formatter> MakeTextLogFormatter() {
  return std::make_unique<TextLogFormatter>();
}

absl::Status InitLogging(const LogOptions& opts) {
  if (opts.format != "text" && opts.format != "json") {
    return absl::InvalidArgumentError("unknown --log-format \"" + opts.format +
                                      "\" (want text or json)");
  }
  std::vector<spdlog::sink_ptr> sinks;
  auto err_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  err_sink->set_formatter(std::make_unique<StderrFormatter>());
  // Without a log file, everything at the chosen level goes to stderr;
  // with one, stderr still gets errors so users see them.
  err_sink->set_level(opts.file.empty() ? spdlog::level::trace : spdlog::level::err);
  sinks.push_back(err_sink);
  if (!opts.file.empty()) {
    // Open it once ourselves: spdlog would create missing parent
    // directories, where runc (and users) expect an error naming the path.
    int fd = open(opts.file.c_str(), O_WRONLY | O_CREAT | O_APPEND | O_CLOEXEC, 0644);
    if (fd < 0) return ErrnoStatus(errno, "open log file", opts.file);
    close(fd);
    try {
      auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.file);
      file_sink->set_formatter(opts.format == "json" ? MakeJsonLogFormatter()
                                                     : MakeTextLogFormatter());
      sinks.push_back(file_sink);
    } catch (const spdlog::spdlog_ex& e) {
      return absl::InvalidArgumentError(std::string("open log file: ") + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("palisade", sinks.begin(), sinks.end());
  logger->set_level(opts.debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::trace);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

}  // namespace palisade
