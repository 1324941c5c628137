// Typed reads of nlohmann::json members with errors that name the field by
// its path in the document ("process.user.uid: expected an unsigned 32-bit
// integer, got string"). Used by the config.json parser; JSON null counts as
// absent, as Go's encoding/json (and so runc) treats it.
//
//   PAL_RETURN_IF_ERROR(RequireObject(j, "process"));
//   PAL_RETURN_IF_ERROR(ReadField(j, "process", "cwd", p.cwd, Presence::kRequired));
//   PAL_RETURN_IF_ERROR(ReadArray(j, "process", "rlimits", p.rlimits, DecodeRlimit));
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include "absl/strings/string_view.h"
#include <vector>

#include "absl/status/status.h"
#include "nlohmann/json.hpp"

namespace palisade::oci {

using Json = nlohmann::json;

enum class Presence { kOptional, kRequired };

// "process" + "args" -> "process.args"; "" + "root" -> "root".
std::string FieldPath(absl::string_view parent, absl::string_view key);
// "mounts" + 2 -> "mounts[2]".
std::string IndexPath(absl::string_view parent, size_t index);

// "string", "number", "boolean", "array", "object" or "null".
absl::string_view JsonTypeName(const Json& v);

// "<path>: expected <want>, got <type>".
absl::Status TypeError(absl::string_view path, absl::string_view want, const Json& got);
// "<path>: required field missing".
absl::Status MissingField(absl::string_view path);
// "<path>: <what>".
absl::Status FieldError(absl::string_view path, absl::string_view what);

absl::Status RequireObject(const Json& v, absl::string_view path);

// One overload per leaf type the spec uses.
absl::Status Decode(const Json& v, absl::string_view path, std::string& out);
absl::Status Decode(const Json& v, absl::string_view path, bool& out);
absl::Status Decode(const Json& v, absl::string_view path, uint32_t& out);
absl::Status Decode(const Json& v, absl::string_view path, uint64_t& out);
absl::Status Decode(const Json& v, absl::string_view path, int64_t& out);
absl::Status Decode(const Json& v, absl::string_view path, std::vector<std::string>& out);
absl::Status Decode(const Json& v, absl::string_view path, std::vector<uint32_t>& out);
absl::Status Decode(const Json& v, absl::string_view path, std::map<std::string, std::string>& out);

// Returns obj[key], or nullptr when the key is absent or null.
// REQUIRES: obj is an object.
const Json* FindMember(const Json& obj, absl::string_view key);

// Reads obj[key] into `out` if present. A missing required field is an error.
template <typename T>
absl::Status ReadField(const Json& obj, absl::string_view parent, absl::string_view key, T& out,
                       Presence presence = Presence::kOptional) {
  const Json* v = FindMember(obj, key);
  const std::string path = FieldPath(parent, key);
  if (v == nullptr) {
    return presence == Presence::kRequired ? MissingField(path) : absl::OkStatus();
  }
  return Decode(*v, path, out);
}

template <typename T>
absl::Status ReadField(const Json& obj, absl::string_view parent, absl::string_view key,
                       std::optional<T>& out, Presence presence = Presence::kOptional) {
  T value{};
  const Json* v = FindMember(obj, key);
  const std::string path = FieldPath(parent, key);
  if (v == nullptr) {
    return presence == Presence::kRequired ? MissingField(path) : absl::OkStatus();
  }
  absl::Status s = Decode(*v, path, value);
  if (s.ok()) out = std::move(value);
  return s;
}

// Reads an array of objects, decoding each element with
// `absl::Status decode_one(const Json& elem, absl::string_view path, T& out)`.
template <typename T, typename DecodeOne>
absl::Status ReadArray(const Json& obj, absl::string_view parent, absl::string_view key,
                       std::vector<T>& out, DecodeOne decode_one) {
  const Json* v = FindMember(obj, key);
  const std::string path = FieldPath(parent, key);
  if (v == nullptr) return absl::OkStatus();
  if (!v->is_array()) return TypeError(path, "an array", *v);
  out.clear();
  out.reserve(v->size());
  for (size_t i = 0; i < v->size(); ++i) {
    const std::string elem_path = IndexPath(path, i);
    T elem{};
    absl::Status s = decode_one((*v)[i], elem_path, elem);
    if (!s.ok()) return s;
    out.push_back(std::move(elem));
  }
  return absl::OkStatus();
}

}  // namespace palisade::oci
