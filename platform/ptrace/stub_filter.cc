#include "platform/ptrace/stub_filter.h"

#include <linux/audit.h>
#include <linux/seccomp.h>

#include <cstddef>
#include <cstdint>

#include "platform/ptrace/stub_page.h"

namespace palisade::platform {
namespace {

constexpr uint32_t kIpLow = offsetof(seccomp_data, instruction_pointer);
constexpr uint32_t kIpHigh = kIpLow + 4;  // little endian
constexpr uint32_t kPageHigh = StubPage::kAddress >> 32;
constexpr uint32_t kPageLow = static_cast<uint32_t>(StubPage::kAddress);
static_assert((StubPage::kAddress + StubPage::kSize - 1) >> 32 == kPageHigh,
              "the filter assumes the stub page does not cross a 4 GiB boundary");

// Constant-initialized (no code runs to build it), so it is in place in
// any forked child whatever the timing.
const sock_filter kFilter[] = {
    // Only x86-64 calls: an i386/x32 entry from the stub is never ours.
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, offsetof(seccomp_data, arch)),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, AUDIT_ARCH_X86_64, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
    // instruction_pointer (after the syscall insn) inside the stub page.
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpHigh),
    BPF_JUMP(BPF_JMP | BPF_JEQ | BPF_K, kPageHigh, 0, 4),
    BPF_STMT(BPF_LD | BPF_W | BPF_ABS, kIpLow),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kPageLow, 0, 2),
    BPF_JUMP(BPF_JMP | BPF_JGE | BPF_K, kPageLow + StubPage::kSize, 1, 0),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_ALLOW),
    BPF_STMT(BPF_RET | BPF_K, SECCOMP_RET_TRAP),
};

const sock_fprog kProgram = {
    static_cast<unsigned short>(sizeof(kFilter) / sizeof(kFilter[0])),
    const_cast<sock_filter*>(kFilter),
};

}  // namespace

const sock_fprog& StubSeccompProgram() { return kProgram; }

}  // namespace palisade::platform
