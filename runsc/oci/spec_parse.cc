#include "runsc/oci/spec_parse.h"

#include <array>
#include <set>
#include <string>

#include "absl/strings/match.h"
#include "absl/strings/str_cat.h"
#include "base/status_macros.h"
#include "runsc/oci/rlimits.h"

namespace palisade::oci {
namespace {

// Namespace types the runtime-spec defines for Linux.
constexpr std::array<absl::string_view, 8> kNamespaceTypes = {
    "pid", "network", "mount", "ipc", "uts", "user", "cgroup", "time"};

absl::Status DecodeConsoleSize(const Json& j, absl::string_view path, ConsoleSize& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "height", out.height, Presence::kRequired));
  return ReadField(j, path, "width", out.width, Presence::kRequired);
}

absl::Status DecodeUser(const Json& j, absl::string_view path, User& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "uid", out.uid));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "gid", out.gid));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "umask", out.umask));
  if (out.umask && *out.umask > 0777) {
    return FieldError(FieldPath(path, "umask"), "must be at most 0777 (511)");
  }
  return ReadField(j, path, "additionalGids", out.additional_gids);
}

absl::Status DecodeRlimit(const Json& j, absl::string_view path, Rlimit& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "type", out.type, Presence::kRequired));
  if (!RlimitFromName(out.type)) {
    return FieldError(FieldPath(path, "type"), absl::StrCat("unknown rlimit \"", out.type, "\""));
  }
  PAL_RETURN_IF_ERROR(ReadField(j, path, "soft", out.soft, Presence::kRequired));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "hard", out.hard, Presence::kRequired));
  if (out.soft > out.hard) {
    return FieldError(path, absl::StrCat("soft limit ", out.soft, " exceeds hard limit ", out.hard));
  }
  return absl::OkStatus();
}

absl::Status DecodeCapabilities(const Json& j, absl::string_view path, Capabilities& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "bounding", out.bounding));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "effective", out.effective));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "inheritable", out.inheritable));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "permitted", out.permitted));
  return ReadField(j, path, "ambient", out.ambient);
}

absl::Status DecodeProcess(const Json& j, absl::string_view path, Process& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "terminal", out.terminal));
  if (const Json* cs = FindMember(j, "consoleSize")) {
    ConsoleSize size;
    PAL_RETURN_IF_ERROR(DecodeConsoleSize(*cs, FieldPath(path, "consoleSize"), size));
    out.console_size = size;
  }
  if (const Json* user = FindMember(j, "user")) {
    PAL_RETURN_IF_ERROR(DecodeUser(*user, FieldPath(path, "user"), out.user));
  }
  PAL_RETURN_IF_ERROR(ReadField(j, path, "args", out.args, Presence::kRequired));
  if (out.args.empty()) return FieldError(FieldPath(path, "args"), "must not be empty");
  PAL_RETURN_IF_ERROR(ReadField(j, path, "env", out.env));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "cwd", out.cwd, Presence::kRequired));
  if (!absl::StartsWith(out.cwd, "/")) {
    return FieldError(FieldPath(path, "cwd"),
                      absl::StrCat("must be an absolute path, got \"", out.cwd, "\""));
  }
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "rlimits", out.rlimits, DecodeRlimit));
  std::set<std::string> seen;
  for (size_t i = 0; i < out.rlimits.size(); ++i) {
    if (!seen.insert(out.rlimits[i].type).second) {
      return FieldError(IndexPath(FieldPath(path, "rlimits"), i),
                        absl::StrCat("duplicate rlimit \"", out.rlimits[i].type, "\""));
    }
  }
  PAL_RETURN_IF_ERROR(ReadField(j, path, "noNewPrivileges", out.no_new_privileges));
  if (const Json* caps = FindMember(j, "capabilities")) {
    Capabilities c;
    PAL_RETURN_IF_ERROR(DecodeCapabilities(*caps, FieldPath(path, "capabilities"), c));
    out.capabilities = std::move(c);
  }
  return absl::OkStatus();
}

absl::Status DecodeRoot(const Json& j, absl::string_view path, Root& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "path", out.path, Presence::kRequired));
  if (out.path.empty()) return FieldError(FieldPath(path, "path"), "must not be empty");
  return ReadField(j, path, "readonly", out.readonly);
}

absl::Status DecodeMount(const Json& j, absl::string_view path, Mount& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "destination", out.destination, Presence::kRequired));
  if (out.destination.empty()) {
    return FieldError(FieldPath(path, "destination"), "must not be empty");
  }
  PAL_RETURN_IF_ERROR(ReadField(j, path, "type", out.type));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "source", out.source));
  return ReadField(j, path, "options", out.options);
}

absl::Status DecodeNamespace(const Json& j, absl::string_view path, Namespace& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "type", out.type, Presence::kRequired));
  bool known = false;
  for (absl::string_view t : kNamespaceTypes) known = known || t == out.type;
  if (!known) {
    return FieldError(FieldPath(path, "type"),
                      absl::StrCat("unknown namespace type \"", out.type, "\""));
  }
  return ReadField(j, path, "path", out.path);
}

absl::Status DecodeIdMapping(const Json& j, absl::string_view path, IdMapping& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "containerID", out.container_id, Presence::kRequired));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "hostID", out.host_id, Presence::kRequired));
  return ReadField(j, path, "size", out.size, Presence::kRequired);
}

absl::Status DecodeLinux(const Json& j, absl::string_view path, LinuxConfig& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "namespaces", out.namespaces, DecodeNamespace));
  std::set<std::string> seen;
  for (size_t i = 0; i < out.namespaces.size(); ++i) {
    if (!seen.insert(out.namespaces[i].type).second) {
      return FieldError(IndexPath(FieldPath(path, "namespaces"), i),
                        absl::StrCat("duplicate namespace type \"", out.namespaces[i].type, "\""));
    }
  }
  if (const Json* res = FindMember(j, "resources")) {
    PAL_RETURN_IF_ERROR(RequireObject(*res, FieldPath(path, "resources")));
    out.resources = *res;
  }
  PAL_RETURN_IF_ERROR(ReadField(j, path, "cgroupsPath", out.cgroups_path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "maskedPaths", out.masked_paths));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "readonlyPaths", out.readonly_paths));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "uidMappings", out.uid_mappings, DecodeIdMapping));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "gidMappings", out.gid_mappings, DecodeIdMapping));
  return ReadField(j, path, "sysctl", out.sysctl);
}

absl::Status DecodeHook(const Json& j, absl::string_view path, Hook& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "path", out.path, Presence::kRequired));
  if (!absl::StartsWith(out.path, "/")) {
    return FieldError(FieldPath(path, "path"),
                      absl::StrCat("must be an absolute path, got \"", out.path, "\""));
  }
  PAL_RETURN_IF_ERROR(ReadField(j, path, "args", out.args));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "env", out.env));
  PAL_RETURN_IF_ERROR(ReadField(j, path, "timeout", out.timeout));
  if (out.timeout && *out.timeout <= 0) {
    return FieldError(FieldPath(path, "timeout"), "must be greater than zero");
  }
  return absl::OkStatus();
}

absl::Status DecodeHooks(const Json& j, absl::string_view path, Hooks& out) {
  PAL_RETURN_IF_ERROR(RequireObject(j, path));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "prestart", out.prestart, DecodeHook));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "createRuntime", out.create_runtime, DecodeHook));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "createContainer", out.create_container, DecodeHook));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "startContainer", out.start_container, DecodeHook));
  PAL_RETURN_IF_ERROR(ReadArray(j, path, "poststart", out.poststart, DecodeHook));
  return ReadArray(j, path, "poststop", out.poststop, DecodeHook);
}

absl::Status DecodeSpec(const Json& doc, OciSpec& out) {
  if (!doc.is_object()) return TypeError("top level", "an object", doc);
  PAL_RETURN_IF_ERROR(ReadField(doc, "", "ociVersion", out.oci_version));
  if (const Json* p = FindMember(doc, "process")) {
    Process process;
    PAL_RETURN_IF_ERROR(DecodeProcess(*p, "process", process));
    out.process = std::move(process);
  }
  const Json* root = FindMember(doc, "root");
  if (root == nullptr) return MissingField("root");
  PAL_RETURN_IF_ERROR(DecodeRoot(*root, "root", out.root));
  PAL_RETURN_IF_ERROR(ReadField(doc, "", "hostname", out.hostname));
  PAL_RETURN_IF_ERROR(ReadArray(doc, "", "mounts", out.mounts, DecodeMount));
  if (const Json* l = FindMember(doc, "linux")) {
    LinuxConfig linux_config;
    PAL_RETURN_IF_ERROR(DecodeLinux(*l, "linux", linux_config));
    out.linux_config = std::move(linux_config);
  }
  if (const Json* h = FindMember(doc, "hooks")) {
    PAL_RETURN_IF_ERROR(DecodeHooks(*h, "hooks", out.hooks));
  }
  return ReadField(doc, "", "annotations", out.annotations);
}

}  // namespace

absl::StatusOr<OciSpec> ParseSpecJson(const Json& doc, absl::string_view source) {
  OciSpec spec;
  absl::Status s = DecodeSpec(doc, spec);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", s.message()));
  return spec;
}

absl::StatusOr<OciSpec> ParseSpec(absl::string_view text, absl::string_view source) {
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    // e.what() is "[json.exception.parse_error.101] parse error at line 3, ...".
    absl::string_view what = e.what();
    if (size_t close = what.find("] "); close != absl::string_view::npos) {
      what.remove_prefix(close + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid JSON: ", what));
  }
  return ParseSpecJson(doc, source);
}

absl::StatusOr<Process> ParseProcess(absl::string_view text, absl::string_view source) {
  Json doc;
  try {
    doc = Json::parse(text.begin(), text.end());
  } catch (const Json::parse_error& e) {
    absl::string_view what = e.what();
    if (size_t close = what.find("] "); close != absl::string_view::npos) {
      what.remove_prefix(close + 2);
    }
    return absl::InvalidArgumentError(absl::StrCat(source, ": invalid JSON: ", what));
  }
  Process p;
  absl::Status s = DecodeProcess(doc, "", p);
  if (!s.ok()) return absl::InvalidArgumentError(absl::StrCat(source, ": ", s.message()));
  return p;
}

}  // namespace palisade::oci
