#include "runsc/oci/json_fields.h"

#include <limits>

#include "absl/strings/str_cat.h"

namespace palisade::oci {

std::string FieldPath(absl::string_view parent, absl::string_view key) {
  if (parent.empty()) return std::string(key);
  return absl::StrCat(parent, ".", key);
}

std::string IndexPath(absl::string_view parent, size_t index) {
  return absl::StrCat(parent, "[", index, "]");
}

absl::string_view JsonTypeName(const Json& v) {
  switch (v.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "boolean";
    case Json::value_t::string:
      return "string";
    case Json::value_t::array:
      return "array";
    case Json::value_t::object:
      return "object";
    case Json::value_t::number_integer:
      return v.get<int64_t>() < 0 ? "negative number" : "number";
    case Json::value_t::number_unsigned:
      return "number";
    case Json::value_t::number_float:
      return "fractional number";
    default:
      return "binary";
  }
}

absl::Status TypeError(absl::string_view path, absl::string_view want, const Json& got) {
  return absl::InvalidArgumentError(
      absl::StrCat(path, ": expected ", want, ", got ", JsonTypeName(got)));
}

absl::Status MissingField(absl::string_view path) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": required field missing"));
}

absl::Status FieldError(absl::string_view path, absl::string_view what) {
  return absl::InvalidArgumentError(absl::StrCat(path, ": ", what));
}

absl::Status RequireObject(const Json& v, absl::string_view path) {
  if (!v.is_object()) return TypeError(path, "an object", v);
  return absl::OkStatus();
}

const Json* FindMember(const Json& obj, absl::string_view key) {
  auto it = obj.find(std::string(key));
  if (it == obj.end() || it->is_null()) return nullptr;
  return &*it;
}

absl::Status Decode(const Json& v, absl::string_view path, std::string& out) {
  if (!v.is_string()) return TypeError(path, "a string", v);
  out = v.get<std::string>();
  return absl::OkStatus();
}

absl::Status Decode(const Json& v, absl::string_view path, bool& out) {
  if (!v.is_boolean()) return TypeError(path, "a boolean", v);
  out = v.get<bool>();
  return absl::OkStatus();
}

absl::Status Decode(const Json& v, absl::string_view path, uint64_t& out) {
  // nlohmann stores non-negative integers as number_unsigned.
  if (!v.is_number_unsigned()) return TypeError(path, "an unsigned integer", v);
  out = v.get<uint64_t>();
  return absl::OkStatus();
}

absl::Status Decode(const Json& v, absl::string_view path, uint32_t& out) {
  if (!v.is_number_unsigned() || v.get<uint64_t>() > std::numeric_limits<uint32_t>::max()) {
    if (v.is_number_unsigned()) {
      return FieldError(path, absl::StrCat("value ", v.get<uint64_t>(),
                                           " does not fit in an unsigned 32-bit integer"));
    }
    return TypeError(path, "an unsigned 32-bit integer", v);
  }
  out = static_cast<uint32_t>(v.get<uint64_t>());
  return absl::OkStatus();
}

absl::Status Decode(const Json& v, absl::string_view path, int64_t& out) {
  if (v.is_number_unsigned()) {
    if (v.get<uint64_t>() > static_cast<uint64_t>(std::numeric_limits<int64_t>::max())) {
      return FieldError(path, "value does not fit in a signed 64-bit integer");
    }
  } else if (!v.is_number_integer()) {
    return TypeError(path, "an integer", v);
  }
  out = v.get<int64_t>();
  return absl::OkStatus();
}

absl::Status Decode(const Json& v, absl::string_view path, std::vector<std::string>& out) {
  if (!v.is_array()) return TypeError(path, "an array of strings", v);
  out.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    if (!v[i].is_string()) return TypeError(IndexPath(path, i), "a string", v[i]);
    out.push_back(v[i].get<std::string>());
  }
  return absl::OkStatus();
}

absl::Status Decode(const Json& v, absl::string_view path, std::vector<uint32_t>& out) {
  if (!v.is_array()) return TypeError(path, "an array of integers", v);
  out.clear();
  for (size_t i = 0; i < v.size(); ++i) {
    uint32_t n = 0;
    absl::Status s = Decode(v[i], IndexPath(path, i), n);
    if (!s.ok()) return s;
    out.push_back(n);
  }
  return absl::OkStatus();
}

absl::Status Decode(const Json& v, absl::string_view path,
                    std::map<std::string, std::string>& out) {
  if (!v.is_object()) return TypeError(path, "an object of strings", v);
  out.clear();
  for (const auto& [key, value] : v.items()) {
    if (!value.is_string()) return TypeError(FieldPath(path, key), "a string", value);
    out.emplace(key, value.get<std::string>());
  }
  return absl::OkStatus();
}

}  // namespace palisade::oci
