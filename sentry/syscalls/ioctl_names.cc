#include "sentry/syscalls/ioctl_names.h"

#include <linux/fs.h>
#include <linux/random.h>
#include <linux/sockios.h>
#include <sys/ioctl.h>
#include <termios.h>

#include "absl/strings/str_cat.h"

namespace palisade {
namespace {

struct IoctlRow {
  uint64_t request;
  const char* name;
};

#define ROW(x) {static_cast<uint64_t>(x), #x}
constexpr IoctlRow kIoctls[] = {
    // Terminals (tty_ioctl(4)).
    ROW(TCGETS), ROW(TCSETS), ROW(TCSETSW), ROW(TCSETSF), ROW(TCGETA), ROW(TCSETA),
    ROW(TCSETAW), ROW(TCSETAF), ROW(TCSBRK), ROW(TCSBRKP), ROW(TCXONC), ROW(TCFLSH),
    ROW(TIOCEXCL), ROW(TIOCNXCL), ROW(TIOCGEXCL), ROW(TIOCSCTTY), ROW(TIOCNOTTY),
    ROW(TIOCGPGRP), ROW(TIOCSPGRP), ROW(TIOCGSID), ROW(TIOCOUTQ), ROW(TIOCSTI),
    ROW(TIOCGWINSZ), ROW(TIOCSWINSZ), ROW(TIOCMGET), ROW(TIOCMSET), ROW(TIOCMBIS),
    ROW(TIOCMBIC), ROW(TIOCLINUX), ROW(TIOCCONS), ROW(TIOCGSERIAL), ROW(TIOCSETD),
    ROW(TIOCGETD), ROW(TIOCSBRK), ROW(TIOCCBRK), ROW(TIOCGPTN), ROW(TIOCSPTLCK),
    ROW(TIOCGPTPEER), ROW(TIOCPKT), ROW(TIOCGPKT), ROW(TIOCGLCKTRMIOS),
    // Any file (ioctl_list(2), fs/ioctl.c).
    ROW(FIONREAD), ROW(FIONBIO), ROW(FIONCLEX), ROW(FIOCLEX), ROW(FIOASYNC), ROW(FIOQSIZE),
    ROW(FIGETBSZ), ROW(FIBMAP), ROW(FICLONE), ROW(FICLONERANGE), ROW(FS_IOC_GETFLAGS),
    ROW(FS_IOC_SETFLAGS), ROW(FS_IOC_GETVERSION), ROW(BLKGETSIZE64), ROW(BLKSSZGET),
    // Sockets and network interfaces (netdevice(7)).
    ROW(SIOCGIFCONF), ROW(SIOCGIFFLAGS), ROW(SIOCGIFINDEX), ROW(SIOCGIFADDR),
    ROW(SIOCGIFHWADDR), ROW(SIOCGIFMTU), ROW(SIOCGIFNAME), ROW(SIOCATMARK), ROW(SIOCGSTAMP),
    // /dev/random (random(4)).
    ROW(RNDGETENTCNT),
};
#undef ROW

}  // namespace

std::string IoctlName(uint64_t request) {
  for (const IoctlRow& r : kIoctls)
    if (r.request == request) return r.name;
  return absl::StrCat("0x", absl::Hex(request));
}

}  // namespace palisade
