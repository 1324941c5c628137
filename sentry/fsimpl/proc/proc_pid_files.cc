// Text of /proc/<pid>/{status,stat,statm,cmdline,environ,mounts,limits}.
#include <sys/resource.h>

#include "absl/strings/str_cat.h"
#include "absl/strings/str_format.h"
#include "sentry/fsimpl/proc/procfs.h"
#include "sentry/kernel/kernel.h"
#include "sentry/kernel/task_internals.h"
#include "sentry/kernel/thread_group.h"

namespace palisade::procfs {
namespace {

std::string Hex16(uint64_t v) { return absl::StrFormat("%016x", v); }

char StateOf(Task& t) {
  if (t.thread_group().zombie) return 'Z';
  return 'S';
}

}  // namespace

std::string StatusText(Task& t) {
  Kernel& k = t.kernel();
  Credentials c = t.creds();
  int ppid = 0, threads = 0, pgid = 0, sid = 0;
  uint64_t pending = 0, shpending = 0, blocked = 0, ignored = 0, caught = 0;
  bool nnp = false;
  {
    std::lock_guard<std::mutex> l(k.mu());
    ThreadGroup& tg = t.thread_group();
    if (auto p = tg.parent.lock()) ppid = p->pid();
    threads = static_cast<int>(tg.tasks.size());
    pgid = tg.pgid;
    sid = tg.sid;
    for (auto& i : t.internals().pending) pending |= SigSet::Bit(i.si_signo);
    for (auto& i : tg.shared_pending) shpending |= SigSet::Bit(i.si_signo);
    blocked = t.internals().mask.bits;
    for (int s = 1; s <= kNumSignals; s++) {
      uint64_t h = tg.handlers->actions[s].handler;
      if (h == reinterpret_cast<uint64_t>(SIG_IGN)) ignored |= SigSet::Bit(s);
      else if (h != 0) caught |= SigSet::Bit(s);
    }
    nnp = tg.no_new_privs;
  }
  uint64_t vm_kb = t.mm().VirtualSize() / 1024;
  uint64_t rss_kb = t.mm().ResidentSize() / 1024;
  std::string groups;
  for (gid_t g : c.groups) absl::StrAppend(&groups, g, " ");
  std::string s;
  absl::StrAppend(&s, "Name:\t", t.comm(), "\n");
  absl::StrAppendFormat(&s, "Umask:\t%04o\n", t.fs().umask());
  absl::StrAppend(&s, "State:\t", std::string(1, StateOf(t)), StateOf(t) == 'Z' ? " (zombie)\n" : " (sleeping)\n");
  absl::StrAppend(&s, "Tgid:\t", t.tgid(), "\nNgid:\t0\nPid:\t", t.tid(), "\nPPid:\t", ppid, "\nTracerPid:\t0\n");
  absl::StrAppend(&s, "Uid:\t", c.ruid, "\t", c.euid, "\t", c.suid, "\t", c.fsuid, "\n");
  absl::StrAppend(&s, "Gid:\t", c.rgid, "\t", c.egid, "\t", c.sgid, "\t", c.fsgid, "\n");
  absl::StrAppend(&s, "FDSize:\t64\nGroups:\t", groups, "\n");
  absl::StrAppend(&s, "NStgid:\t", t.tgid(), "\nNSpid:\t", t.tid(), "\nNSpgid:\t", pgid, "\nNSsid:\t", sid, "\n");
  absl::StrAppend(&s, "VmPeak:\t", vm_kb, " kB\nVmSize:\t", vm_kb, " kB\nVmLck:\t0 kB\nVmPin:\t0 kB\n");
  absl::StrAppend(&s, "VmHWM:\t", rss_kb, " kB\nVmRSS:\t", rss_kb, " kB\n");
  absl::StrAppend(&s, "RssAnon:\t", rss_kb, " kB\nRssFile:\t0 kB\nRssShmem:\t0 kB\n");
  absl::StrAppend(&s, "VmData:\t0 kB\nVmStk:\t132 kB\nVmExe:\t0 kB\nVmLib:\t0 kB\nVmPTE:\t0 kB\nVmSwap:\t0 kB\n");
  absl::StrAppend(&s, "Threads:\t", threads, "\nSigQ:\t0/", 63640, "\n");
  absl::StrAppend(&s, "SigPnd:\t", Hex16(pending), "\nShdPnd:\t", Hex16(shpending), "\nSigBlk:\t", Hex16(blocked),
                  "\nSigIgn:\t", Hex16(ignored), "\nSigCgt:\t", Hex16(caught), "\n");
  absl::StrAppend(&s, "CapInh:\t", Hex16(c.cap_inheritable), "\nCapPrm:\t", Hex16(c.cap_permitted));
  absl::StrAppend(&s, "\nCapEff:\t", Hex16(c.cap_effective), "\nCapBnd:\t", Hex16(c.cap_bounding),
                  "\nCapAmb:\t", Hex16(c.cap_ambient), "\n");
  absl::StrAppend(&s, "NoNewPrivs:\t", nnp ? 1 : 0, "\nSeccomp:\t0\nSeccomp_filters:\t0\n");
  absl::StrAppend(&s, "Cpus_allowed:\t3\nCpus_allowed_list:\t0-1\nMems_allowed:\t1\nMems_allowed_list:\t0\n");
  absl::StrAppend(&s, "voluntary_ctxt_switches:\t0\nnonvoluntary_ctxt_switches:\t0\n");
  return s;
}

std::string StatText(Task& t) {
  Kernel& k = t.kernel();
  int ppid = 0, threads = 0, pgid = 0, sid = 0, exit_signal = SIGCHLD;
  int64_t start = 0;
  CpuTimes cpu, children;  // utime, stime, cutime, cstime (sentry/kernel/cpu_clock.h)
  {
    std::lock_guard<std::mutex> l(k.mu());
    ThreadGroup& tg = t.thread_group();
    if (auto p = tg.parent.lock()) ppid = p->pid();
    threads = static_cast<int>(tg.tasks.size());
    pgid = tg.pgid;
    sid = tg.sid;
    exit_signal = tg.exit_signal;
    start = (tg.start_mono_ns - k.boot_time_mono_ns()) / 10000000;  // clock ticks
    cpu = ProcessCpuTimesLocked(tg);
    children = tg.children_cpu;
  }
  MemoryManager::Layout lay = t.mm().layout();
  uint64_t vsize = t.mm().VirtualSize();
  uint64_t rss = t.mm().ResidentSize() / 4096;
  constexpr int64_t kTick = 10000000;  // clock ticks are 1/100 s
  return absl::StrFormat(
      "%d (%s) %c %d %d %d 0 -1 4194560 0 0 0 0 %d %d %d %d 20 0 %d 0 %d %u %u 18446744073709551615 "
      "%u %u %u 0 0 0 0 0 0 0 0 0 %d 0 0 0 0 0 0 %u %u %u %u %u %u %u 0\n",
      t.tgid(), t.comm(), StateOf(t), ppid, pgid, sid, cpu.user_ns / kTick, cpu.sys_ns / kTick,
      children.user_ns / kTick, children.sys_ns / kTick, threads, start, vsize, rss, lay.start_code,
      lay.end_code, lay.start_stack, exit_signal, lay.start_data, lay.end_data, lay.brk_start, lay.arg_start,
      lay.arg_end, lay.env_start, lay.env_end);
}

std::string StatmText(Task& t) {
  uint64_t size = t.mm().VirtualSize() / 4096, rss = t.mm().ResidentSize() / 4096;
  return absl::StrCat(size, " ", rss, " 0 0 0 0 0\n");
}

ErrnoOr<std::string> CmdlineText(Task& t, bool environ) {
  MemoryManager::Layout lay = t.mm().layout();
  uint64_t start = environ ? lay.env_start : lay.arg_start;
  uint64_t end = environ ? lay.env_end : lay.arg_end;
  if (end <= start || end - start > (1 << 20)) return std::string();
  std::string s(end - start, '\0');
  if (!t.mm().CopyIn(start, s.data(), s.size()).ok()) return std::string();
  return s;
}

std::string MountsText(Task& t) {
  std::string s;
  auto& ns = t.kernel().mount_namespace();
  VirtualPath root = t.fs().root();
  auto line = [&](const std::shared_ptr<Mount>& m) {
    std::string where = "/";
    if (m->parent()) where = vfs::PathString(VirtualPath{m->parent(), m->mountpoint()}, root);
    absl::StrAppend(&s, m->source().empty() ? "none" : m->source(), " ", where, " ", m->fstype(), " ",
                    m->readonly() ? "ro" : "rw", ",relatime 0 0\n");
  };
  line(ns.root());
  for (auto& m : ns.Mounts()) line(m);
  return s;
}

std::string LimitsText(Task& t) {
  static constexpr struct {
    int res;
    const char* name;
    const char* unit;
  } kRows[] = {
      {RLIMIT_CPU, "Max cpu time", "seconds"}, {RLIMIT_FSIZE, "Max file size", "bytes"},
      {RLIMIT_DATA, "Max data size", "bytes"}, {RLIMIT_STACK, "Max stack size", "bytes"},
      {RLIMIT_CORE, "Max core file size", "bytes"}, {RLIMIT_RSS, "Max resident set", "bytes"},
      {RLIMIT_NPROC, "Max processes", "processes"}, {RLIMIT_NOFILE, "Max open files", "files"},
      {RLIMIT_MEMLOCK, "Max locked memory", "bytes"}, {RLIMIT_AS, "Max address space", "bytes"},
      {RLIMIT_LOCKS, "Max file locks", "locks"}, {RLIMIT_SIGPENDING, "Max pending signals", "signals"},
      {RLIMIT_MSGQUEUE, "Max msgqueue size", "bytes"}, {RLIMIT_NICE, "Max nice priority", ""},
      {RLIMIT_RTPRIO, "Max realtime priority", ""}, {RLIMIT_RTTIME, "Max realtime timeout", "us"},
  };
  auto fmt = [](rlim_t v) { return v == RLIM_INFINITY ? std::string("unlimited") : std::to_string(v); };
  std::string s = absl::StrFormat("%-25s %-20s %-20s %-10s\n", "Limit", "Soft Limit", "Hard Limit", "Units");
  std::lock_guard<std::mutex> l(t.kernel().mu());
  for (const auto& r : kRows) {
    const auto& lim = t.thread_group().rlimits[r.res];
    absl::StrAppendFormat(&s, "%-25s %-20s %-20s %-10s\n", r.name, fmt(lim.rlim_cur), fmt(lim.rlim_max), r.unit);
  }
  return s;
}

}  // namespace palisade::procfs
