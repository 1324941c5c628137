// Process-wide logging set-up through spdlog, with runc's flags: --debug
// raises the level, --log names a file (else stderr), --log-format json
// writes {"level","msg","time"} lines that containerd's shim parses (it
// reports the last line whose "level" is "error"), and --log-format text
// writes logrus-style `time="..." level=info msg="..."` lines.
//
//   PAL_RETURN_IF_ERROR(InitLogging({.debug = true, .file = "/b/log.json",
//                                    .format = "json"}));
//   spdlog::error("container with id exists: {}", id);
//
// Messages are escaped by formatters written for the purpose (never pasted
// into a pattern), so quotes, backslashes, newlines and invalid UTF-8 in a
// message still give one valid JSON object per line.
#pragma once

#include <chrono>
#include <memory>
#include <string>
#include <string_view>

#include "absl/status/status.h"
#include "spdlog/spdlog.h"

namespace palisade {

struct LogOptions {
  bool debug = false;
  std::string file;             // empty: stderr only
  std::string format = "text";  // "text" or "json"
};

// Installs the default spdlog logger. Errors are always echoed to stderr,
// even when a --log file is given, as runc does. Without a file, every
// message at the chosen level goes to stderr. Nothing ever goes to stdout,
// which belongs to the container. May be called again to replace the set-up.
absl::Status InitLogging(const LogOptions& opts);

// logrus's level names, which runc's callers parse: "debug", "info",
// "warning", "error", "fatal" (for critical), "trace".
std::string_view LogLevelName(spdlog::level::level_enum level);

// RFC 3339 in UTC with microseconds: "2024-05-01T12:00:00.000123Z".
std::string FormatLogTime(std::chrono::system_clock::time_point time);

// One JSON log line, newline included:
// {"level":"error","msg":"...","time":"..."}\n
std::string FormatJsonLogLine(spdlog::level::level_enum level, std::string_view msg,
                              std::chrono::system_clock::time_point time);

// One logrus text line, newline included: time="..." level=error msg="..."\n
std::string FormatTextLogLine(spdlog::level::level_enum level, std::string_view msg,
                              std::chrono::system_clock::time_point time);

// spdlog formatters producing the lines above.
std::unique_ptr<spdlog::formatter> MakeJsonLogFormatter();
std::unique_ptr<spdlog::formatter> MakeTextLogFormatter();

}  // namespace palisade
