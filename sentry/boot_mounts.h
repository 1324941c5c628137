// Builds the sandbox's mount tree from BootConfig: the rootfs, then each
// config.json mount in order, with the sentry's own filesystems standing
// in for the kernel's (procfs, devfs, tmpfs).
#pragma once

#include "absl/status/status.h"
#include "sentry/boot.h"
#include "sentry/vfs/vfs.h"

namespace palisade {

class Kernel;

// Creates path and its missing parents as runc does for mountpoints and
// the cwd (mkdir -p; errors are left for the caller's next lookup).
void MkdirAll(const vfs::PathContext& ctx, const std::string& path);

// Mounts the root and config mounts into a new namespace set on k.
absl::Status SetUpMounts(Kernel& k, const BootConfig& cfg, const vfs::PathContext& root_ctx);

}  // namespace palisade
