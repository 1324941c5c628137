#!/bin/bash
# linux.resources reach the sandbox's cgroup: a 64 MiB memory limit stops a
# program that allocates 256 MiB (killed: exit 137), a pids limit stops a
# fork bomb, and the host is fine afterwards (palisade only: runc kills
# the program itself, palisade the whole sandbox, both exit 137).
#
#   lifecycle_limits_test.sh <path-to-palisade>
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lifecycle_lib.sh"

for rt in "${runtimes[@]}"; do
  # init itself holds 256 MiB (a shell variable), so an OOM kill ends it.
  CONFIG_EDIT='c["linux"]["resources"] = {"memory": {"limit": 67108864}}' \
    bundle_for sh -c 'x=$(head -c 268435456 /dev/zero | tr "\\0" a); echo survived ${#x}'
  rtc "$rt" run --bundle "$bundle" mem-$$
  check "$rt: 64 MiB limit kills a 256 MiB allocation (exit 137)" eval 'rc_is 137 && [[ $OUT != *survived* ]]'
  rtc_quiet "$rt" delete --force mem-$$ >/dev/null 2>&1

  # A fork storm under a pids limit of 32: it cannot get past the limit
  # (palisade's own threads count against it too) and the run ends.
  CONFIG_EDIT='c["linux"]["resources"] = {"pids": {"limit": 32}}' \
    bundle_for sh -c 'i=0; while [ $i -lt 200 ]; do sleep 30 & i=$((i+1)); done 2>/dev/null; echo procs $(ls -d /proc/[0-9]* | wc -l)'
  rtc "$rt" run --bundle "$bundle" pids-$$
  procs=$(sed -n 's/^procs //p' <<<"$OUT")
  check "$rt: a pids limit stops a fork storm (ended with $RC, ${procs:-no} procs seen)" \
    eval '[[ $RC -ne 124 ]] && [[ -z $procs || $procs -le 32 ]]'
  check "$rt: the host can still fork afterwards" /bin/true
  rtc_quiet "$rt" delete --force pids-$$ >/dev/null 2>&1
done

# The cgroup is where the config says, with the limit, and goes with delete.
CONFIG_EDIT='c["linux"]["resources"] = {"memory": {"limit": 67108864}, "pids": {"limit": 64}}; c["linux"]["cgroupsPath"] = "/palisade-test/cg-'$$'"' \
  bundle_for sleep 100
rtc palisade create --bundle "$bundle" cg-$$
limit_file=/sys/fs/cgroup/memory/palisade-test/cg-$$/memory.limit_in_bytes
[[ -e /sys/fs/cgroup/cgroup.controllers ]] && limit_file=/sys/fs/cgroup/palisade-test/cg-$$/memory.max
check "palisade: memory limit written to the cgroupsPath cgroup" [ "$(cat "$limit_file" 2>/dev/null)" = 67108864 ]
pid=$(rtc_quiet palisade state cg-$$ | python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])')
check "palisade: the sandbox process is in the cgroup" grep -q "palisade-test/cg-$$" "/proc/$pid/cgroup"
check "palisade: the sandbox has its own pid namespace" [ "$(readlink /proc/$pid/ns/pid)" != "$(readlink /proc/self/ns/pid)" ]
check "palisade: ... and mount, ipc, uts, net namespaces" eval 'for ns in mnt ipc uts net; do [ "$(readlink /proc/$pid/ns/$ns)" != "$(readlink /proc/self/ns/$ns)" ] || exit 1; done'
rtc palisade delete --force cg-$$
check "palisade: delete removes the cgroup" [ ! -e "$(dirname "$limit_file")" ]
rmdir /sys/fs/cgroup/*/palisade-test /sys/fs/cgroup/palisade-test 2>/dev/null

finish
