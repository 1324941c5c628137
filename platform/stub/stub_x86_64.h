// Symbols of the stub code (stub_x86_64.S). The bytes between
// palisade_stub_begin and palisade_stub_end are position independent and
// copied into the stub page; code uses offsets from palisade_stub_begin to
// locate each routine inside that copy.
//
//   uint64_t rip = page + StubOffset(palisade_stub_syscall);
#pragma once

#include <cstdint>

extern "C" {
// Not callable from the sentry: these are labels in foreign code.
extern const char palisade_stub_begin[];
extern const char palisade_stub_unmap_all[];       // munmap all, then int3
extern const char palisade_stub_unmap_all_done[];  // rip after that int3
extern const char palisade_stub_syscall[];         // syscall; int3
extern const char palisade_stub_syscall_done[];    // rip after that int3
// systrap: every signal's handler, and wait-then-rt_sigreturn; _fsgs uses
// rdfsbase/wrfsbase, _arch arch_prctl (hosts without user FSGSBASE).
extern const char palisade_stub_systrap_handler_arch[];
extern const char palisade_stub_systrap_wait_arch[];
extern const char palisade_stub_systrap_handler_fsgs[];
extern const char palisade_stub_systrap_wait_fsgs[];
extern const char palisade_stub_end[];
}

namespace palisade::platform {

// Offset of a stub label from the start of the stub code.
inline uint64_t StubOffset(const char* label) {
  return static_cast<uint64_t>(label - palisade_stub_begin);
}

// Size of the stub code in bytes.
inline uint64_t StubCodeSize() { return StubOffset(palisade_stub_end); }

}  // namespace palisade::platform
