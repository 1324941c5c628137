// Names of the ioctl requests applications commonly make, for --strace and
// the workload report (report.h). A table, not a switch: add rows freely.
#pragma once

#include <cstdint>
#include <string>

namespace palisade {

// "TCGETS" for 0x5401; "0x<hex>" for a request not in the table.
std::string IoctlName(uint64_t request);

}  // namespace palisade
