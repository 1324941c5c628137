// UnixAddress: a sockaddr_un as unix(7) defines it. Three kinds: unnamed
// (no address; sun_family only), pathname (bound in the filesystem) and
// abstract (sun_path[0] == '\0'; the name is every following byte of
// addrlen, NULs included, and lives in a sandbox-wide namespace).
//
//   PAL_TRY(UnixAddress a, ParseUnixAddress(bytes));   // from bind/connect
//   std::string raw = a.ToSockaddr();                  // for getsockname
#pragma once

#include <sys/socket.h>
#include <sys/un.h>

#include <cstdint>
#include <span>
#include <string>

#include "base/errno.h"

namespace palisade::net {

struct UnixAddress {
  enum class Kind { kUnnamed, kPath, kAbstract };
  Kind kind = Kind::kUnnamed;
  std::string name;  // path (no NUL) or abstract name (without the leading NUL)

  bool unnamed() const { return kind == Kind::kUnnamed; }
  // The bytes getsockname/getpeername/recvfrom return: sun_family, then
  // the path with its NUL, or NUL + abstract name, or nothing (length 2).
  std::string ToSockaddr() const;
  bool operator==(const UnixAddress&) const = default;
};

// Parses an address given to bind/connect/sendto. EINVAL if addrlen is
// not in (sizeof(sa_family_t), sizeof(sockaddr_un)] or the family is not
// AF_UNIX; a pathname is cut at its first NUL, as Linux does. allow_unnamed:
// bind(2) with addrlen == sizeof(sa_family_t) means autobind.
ErrnoOr<UnixAddress> ParseUnixAddress(std::span<const uint8_t> raw, bool allow_unnamed);

// A fresh autobind name: five hex digits, abstract (unix(7) "Autobind").
std::string NextAutobindName();

}  // namespace palisade::net
