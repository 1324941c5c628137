#include "base/logging.h"

#include <memory>
#include <vector>

#include "spdlog/sinks/basic_file_sink.h"
#include "spdlog/sinks/stderr_sinks.h"

namespace palisade {

absl::Status InitLogging(const LogOptions& opts) {
  if (opts.format != "text" && opts.format != "json") {
    return absl::InvalidArgumentError("unknown --log-format \"" + opts.format +
                                      "\" (want text or json)");
  }
  std::vector<spdlog::sink_ptr> sinks;
  auto err_sink = std::make_shared<spdlog::sinks::stderr_sink_mt>();
  err_sink->set_pattern("palisade: %v");
  // Without a log file, everything at the chosen level goes to stderr;
  // with one, stderr still gets errors so users see them.
  err_sink->set_level(opts.file.empty() ? spdlog::level::trace : spdlog::level::err);
  sinks.push_back(err_sink);
  if (!opts.file.empty()) {
    try {
      auto file_sink = std::make_shared<spdlog::sinks::basic_file_sink_mt>(opts.file);
      if (opts.format == "json") {
        // containerd reports the last line whose "level" is "error".
        file_sink->set_pattern(
            R"({"level":"%l","msg":"%v","time":"%Y-%m-%dT%H:%M:%S.%fZ"})", spdlog::pattern_time_type::utc);
      } else {
        file_sink->set_pattern("%Y-%m-%dT%H:%M:%S.%f %l [%t] %v");
      }
      sinks.push_back(file_sink);
    } catch (const spdlog::spdlog_ex& e) {
      return absl::InvalidArgumentError(std::string("open log file: ") + e.what());
    }
  }
  auto logger = std::make_shared<spdlog::logger>("palisade", sinks.begin(), sinks.end());
  logger->set_level(opts.debug ? spdlog::level::debug : spdlog::level::info);
  logger->flush_on(spdlog::level::debug);
  spdlog::set_default_logger(logger);
  return absl::OkStatus();
}

}  // namespace palisade
