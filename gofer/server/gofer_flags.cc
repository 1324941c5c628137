#include "gofer/server/gofer_flags.h"

#include <optional>

#include "absl/strings/numbers.h"
#include "absl/strings/str_cat.h"
#include "absl/strings/string_view.h"
#include "gofer/server/gofer_main.h"

namespace palisade::gofer {
namespace {

// Walks `--name value` / `--name=value` / `--name` arguments.
class FlagReader {
 public:
  explicit FlagReader(const std::vector<std::string>& args) : args_(args) {}

  // The next argument; false at the end.
  bool Next() {
    if (i_ >= args_.size()) return false;
    absl::string_view a = args_[i_++];
    inline_value_.reset();
    if (size_t eq = a.find('='); a.substr(0, 2) == "--" && eq != absl::string_view::npos) {
      inline_value_ = std::string(a.substr(eq + 1));
      a = a.substr(0, eq);
    }
    name_ = std::string(a);
    return true;
  }
  const std::string& name() const { return name_; }
  // The rest, unread (for the arguments after a subcommand).
  std::vector<std::string> Rest() const { return {args_.begin() + i_, args_.end()}; }

  absl::StatusOr<std::string> Value() {
    if (inline_value_) return *inline_value_;
    if (i_ >= args_.size()) return absl::InvalidArgumentError(absl::StrCat(name_, " needs a value"));
    return args_[i_++];
  }
  absl::StatusOr<int> IntValue() {
    absl::StatusOr<std::string> v = Value();
    if (!v.ok()) return v.status();
    int n;
    if (!absl::SimpleAtoi(*v, &n)) {
      return absl::InvalidArgumentError(absl::StrCat(name_, ": \"", *v, "\" is not a number"));
    }
    return n;
  }
  // A flag without a value (`--debug`; `--debug=false` is accepted too).
  absl::StatusOr<bool> BoolValue() {
    if (!inline_value_) return true;
    if (*inline_value_ == "true") return true;
    if (*inline_value_ == "false") return false;
    return absl::InvalidArgumentError(absl::StrCat(name_, ": \"", *inline_value_, "\" is not true or false"));
  }

 private:
  const std::vector<std::string>& args_;
  size_t i_ = 0;
  std::string name_;
  std::optional<std::string> inline_value_;
};

// Assigns a parsed value or returns its error.
#define PAL_FLAG_VALUE(dst, expr)      \
  do {                                 \
    auto v_ = (expr);                  \
    if (!v_.ok()) return v_.status();  \
    dst = *std::move(v_);              \
  } while (0)

}  // namespace

absl::StatusOr<GoferFlags> ParseGoferFlags(const std::vector<std::string>& args) {
  GoferFlags f;
  bool have_rootfs = false;
  FlagReader r(args);
  while (r.Next()) {
    const std::string& n = r.name();
    if (n == "--rootfs") {
      PAL_FLAG_VALUE(f.rootfs, r.Value());
      have_rootfs = true;
    } else if (n == "--rootfs-writable") {
      PAL_FLAG_VALUE(f.rootfs_writable, r.BoolValue());
    } else if (n == "--binds") {
      PAL_FLAG_VALUE(f.binds_json, r.Value());
    } else if (n == "--sock-fd") {
      PAL_FLAG_VALUE(f.sock_fd, r.IntValue());
    } else if (n == "--report-fd") {
      PAL_FLAG_VALUE(f.report_fd, r.IntValue());
    } else {
      return absl::InvalidArgumentError(absl::StrCat("gofer: unknown argument \"", n, "\""));
    }
  }
  if (!have_rootfs) return absl::InvalidArgumentError("gofer: --rootfs is required");
  return f;
}

absl::StatusOr<GoferFlags> ParseGoferCommandLine(const std::vector<std::string>& args,
                                                 LogOptions* log) {
  FlagReader r(args);
  while (r.Next()) {
    const std::string& n = r.name();
    if (n == "--log") {
      PAL_FLAG_VALUE(log->file, r.Value());
    } else if (n == "--log-format") {
      PAL_FLAG_VALUE(log->format, r.Value());
      if (log->format != "text" && log->format != "json") {
        return absl::InvalidArgumentError(absl::StrCat("--log-format: \"", log->format, "\" is not text or json"));
      }
    } else if (n == "--debug") {
      PAL_FLAG_VALUE(log->debug, r.BoolValue());
    } else if (n == "gofer") {
      return ParseGoferFlags(r.Rest());
    } else {
      return absl::InvalidArgumentError(absl::StrCat("unknown argument \"", n, "\" (usage: palisade-gofer [--log=FILE] [--log-format=text|json] [--debug] gofer --rootfs DIR ...)"));
    }
  }
  return absl::InvalidArgumentError("no `gofer` command");
}

#undef PAL_FLAG_VALUE

absl::Status RunGoferWithFlags(const GoferFlags& f) {
  if (f.sock_fd < 0) return absl::InvalidArgumentError("gofer: --sock-fd is required");
  GoferOptions o;
  o.rootfs = f.rootfs;
  o.rootfs_writable = f.rootfs_writable;
  o.sock_fd = f.sock_fd;
  o.report_fd = f.report_fd;
  if (absl::Status s = BindsFromJson(f.binds_json, &o.binds); !s.ok()) return s;
  return RunGofer(o);
}

}  // namespace palisade::gofer
