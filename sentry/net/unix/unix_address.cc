#include "sentry/net/unix/unix_address.h"

#include <stddef.h>

#include <atomic>
#include <cstdio>
#include <cstring>

namespace palisade::net {

std::string UnixAddress::ToSockaddr() const {
  std::string out(sizeof(sa_family_t), '\0');
  sa_family_t fam = AF_UNIX;
  memcpy(out.data(), &fam, sizeof(fam));
  switch (kind) {
    case Kind::kUnnamed:
      break;
    case Kind::kPath:
      out += name;
      out.push_back('\0');
      break;
    case Kind::kAbstract:
      out.push_back('\0');
      out += name;
      break;
  }
  return out;
}

ErrnoOr<UnixAddress> ParseUnixAddress(std::span<const uint8_t> raw, bool allow_unnamed) {
  constexpr size_t kPathOff = offsetof(struct sockaddr_un, sun_path);
  if (raw.size() < kPathOff || raw.size() > sizeof(struct sockaddr_un)) return Errno(EINVAL);
  sa_family_t fam;
  memcpy(&fam, raw.data(), sizeof(fam));
  if (fam != AF_UNIX) return Errno(EINVAL);
  UnixAddress a;
  if (raw.size() == kPathOff) {
    if (!allow_unnamed) return Errno(EINVAL);
    return a;
  }
  const char* p = reinterpret_cast<const char*>(raw.data()) + kPathOff;
  size_t n = raw.size() - kPathOff;
  if (p[0] == '\0') {
    a.kind = UnixAddress::Kind::kAbstract;
    a.name.assign(p + 1, n - 1);
  } else {
    a.kind = UnixAddress::Kind::kPath;
    a.name.assign(p, strnlen(p, n));
  }
  return a;
}

std::string NextAutobindName() {
  static std::atomic<uint32_t> next{0};
  char buf[8];
  snprintf(buf, sizeof(buf), "%05x", next.fetch_add(1) & 0xfffff);
  return buf;
}

}  // namespace palisade::net
