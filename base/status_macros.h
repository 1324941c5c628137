// PAL_RETURN_IF_ERROR / PAL_ASSIGN_OR_RETURN for absl::Status code paths
// (control plane: config.json, front end, gofer set-up). Debian 12's Abseil
// (20220623) lacks them. Plus ErrnoStatus(), the one place a host errno
// becomes a Status, with a message naming the object and the operation.
#pragma once

#include <string_view>

#include "absl/status/status.h"
#include "absl/status/statusor.h"

#define PAL_STATUS_CONCAT_INNER(a, b) a##b
#define PAL_STATUS_CONCAT(a, b) PAL_STATUS_CONCAT_INNER(a, b)

#define PAL_RETURN_IF_ERROR(expr)                 \
  do {                                            \
    ::absl::Status _pal_status = (expr);          \
    if (!_pal_status.ok()) return _pal_status;    \
  } while (0)

#define PAL_ASSIGN_OR_RETURN(lhs, expr) \
  PAL_ASSIGN_OR_RETURN_IMPL(PAL_STATUS_CONCAT(_pal_sor_, __LINE__), lhs, expr)
#define PAL_ASSIGN_OR_RETURN_IMPL(tmp, lhs, expr) \
  auto tmp = (expr);                              \
  if (!tmp.ok()) return tmp.status();             \
  lhs = std::move(tmp).value()

namespace palisade {

// ErrnoStatus(EACCES, "open", "/x/y") -> "open \"/x/y\": Permission denied (EACCES)".
absl::Status ErrnoStatus(int err, std::string_view op, std::string_view object = {});

}  // namespace palisade
