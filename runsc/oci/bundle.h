// LoadBundle: reads and checks an OCI bundle directory. It parses
// <bundle>/config.json, resolves root.path against the bundle directory
// (runtime-spec: a relative root.path is relative to the bundle) and checks
// the rootfs is an existing directory, so `run` fails before it writes any
// state, with messages such as `rootfs "/b/rootfs" does not exist`.
//
//   PAL_ASSIGN_OR_RETURN(Bundle b, LoadBundle(flags.bundle));  // "" = cwd
//   b.rootfs;  // absolute, symlinks resolved
#pragma once

#include <string>
#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "runsc/oci/spec.h"

namespace palisade::oci {

struct Bundle {
  std::string dir;     // absolute, normalized bundle directory
  std::string rootfs;  // absolute host path of root.path, symlinks resolved
  OciSpec spec;
};

// `dir` may be relative to the working directory; empty means the
// working directory itself (runc's --bundle default).
absl::StatusOr<Bundle> LoadBundle(absl::string_view dir);

// Reads a whole file; errors name the path.
absl::StatusOr<std::string> ReadFileToString(const std::string& path);

// Makes `path` absolute against the working directory and normalizes it
// lexically ("a/../b/" -> "<cwd>/b"). Does not touch the filesystem
// beyond getcwd().
std::string AbsolutePath(absl::string_view path);

}  // namespace palisade::oci
