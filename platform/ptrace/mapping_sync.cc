#include "platform/ptrace/mapping_sync.h"

#include <sys/mman.h>
#include <sys/syscall.h>

#include <vector>

#include "spdlog/spdlog.h"

namespace palisade::platform {

bool MappingSync::Sync(PtraceAddressSpace& as, const std::function<bool(const MemOp&)>& apply) {
  if (UpToDate(as)) return true;
  uint64_t since = synced_gen_;
  if (as.id() != as_id_) {
    // A different address space (execve, or a reset): nothing of the old
    // one may stay visible. One munmap clears the range whatever it held.
    if (!view_.empty() || view_dirty_) {
      if (!apply(MemOp{MemOp::Kind::kUnmap, min_, max_ - min_, 0, 0})) return false;
    }
    view_.Clear();
    view_dirty_ = false;
    as_id_ = as.id();
    since = PtraceAddressSpace::kFullSync;
  }
  AddressSpaceDelta d = as.DeltaSince(since);
  std::vector<MemOp> ops;
  DiffTables(view_, d.want, d.dirty, ops);
  for (const MemOp& op : ops) {
    if (!apply(op)) return false;
  }
  if (d.full) {
    view_ = std::move(d.want);
  } else {
    for (const Range& r : d.dirty) view_.Unmap(r.start, r.end - r.start);
    for (const auto& [addr, m] : d.want.entries()) view_.Map(addr, m.len, m.offset, m.prot);
  }
  synced_gen_ = d.generation;
  return true;
}

MemOpCall MemOpSyscall(const MemOp& op) {
  if (op.kind == MemOp::Kind::kMap) {
    return {SYS_mmap,
            {op.addr, op.len, static_cast<uint64_t>(op.prot), MAP_SHARED | MAP_FIXED,
             static_cast<uint64_t>(StubProcess::kMemFd), op.offset},
            op.addr};
  }
  return {SYS_munmap, {op.addr, op.len, 0, 0, 0, 0}, 0};
}

void LogMemOpFailure(pid_t stub, const MemOp& op, int64_t result) {
  spdlog::error("platform: stub {}: {}({:#x}, {:#x}, off {:#x}, prot {}) returned {}", stub,
                op.kind == MemOp::Kind::kMap ? "mmap" : "munmap", op.addr, op.len, op.offset, op.prot,
                result);
}

bool InjectMemOp(StubProcess& stub, const MemOp& op) {
  const MemOpCall c = MemOpSyscall(op);
  ErrnoOr<int64_t> r =
      stub.Inject(c.nr, {c.args[0], c.args[1], c.args[2], c.args[3], c.args[4], c.args[5]});
  if (r.ok() && static_cast<uint64_t>(*r) == c.want) return true;
  if (r.ok()) {
    LogMemOpFailure(stub.pid(), op, *r);
  } else {
    spdlog::error("platform: stub {}: injecting a syscall failed: {}", stub.pid(),
                  r.error().Name());
  }
  stub.Kill();
  return false;
}

}  // namespace palisade::platform
