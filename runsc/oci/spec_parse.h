// ParseSpec: config.json text -> OciSpec, with errors that name the file and
// the field ("config.json: process.args: must not be empty"). It checks what
// runc checks before it starts anything: types, required fields (root.path;
// process.args non-empty and an absolute process.cwd when process is given),
// known rlimit and namespace names. Unknown keys are ignored, as runc does.
// Path resolution against the bundle directory is bundle.h's job.
//
//   absl::StatusOr<OciSpec> spec = ParseSpec(ReadFile(".../config.json"));
#pragma once

#include "absl/strings/string_view.h"

#include "absl/status/statusor.h"
#include "runsc/oci/json_fields.h"
#include "runsc/oci/spec.h"

namespace palisade::oci {

// `source` names the document in error messages.
absl::StatusOr<OciSpec> ParseSpec(absl::string_view text, absl::string_view source = "config.json");

// Same, for an already parsed document.
// A process JSON alone, as `exec --process` reads it.
absl::StatusOr<Process> ParseProcess(absl::string_view text, absl::string_view source = "process.json");

absl::StatusOr<OciSpec> ParseSpecJson(const Json& doc, absl::string_view source = "config.json");

}  // namespace palisade::oci
