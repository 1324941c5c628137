#!/bin/bash
# Runs busybox in a bundle through `palisade run` and checks what a user
# sees: output, exit codes, signals, /proc, and clear errors (never a hang)
# for a missing rootfs, a missing executable, a non-ELF executable and a
# truncated ELF. When runc is installed and works here, every check also
# runs under runc on the same bundle and the outputs are compared.
#
#   busybox_run_test.sh <path-to-palisade>
#
# Environment: RUNC (default: runc from PATH), BUSYBOX (default
# /bin/busybox), PALISADE_PLATFORM (passed as --platform when set).
set -uo pipefail

# shellcheck source=tap_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap_lib.sh" "${1:-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/palisade-bbtest.XXXXXX")
trap 'rm -rf "$work"' EXIT
bundle=$work/bundle
rootfs=$bundle/rootfs
mkdir -p "$bundle"
if ! make_busybox_rootfs "$rootfs"; then
  not_ok "could not build the busybox rootfs"
  finish
fi
# Files that must fail to execute.
printf 'this is not a program\n' >"$rootfs/bin/not-elf"
head -c 200 "$rootfs/bin/busybox" >"$rootfs/bin/truncated-elf"
chmod 755 "$rootfs/bin/not-elf" "$rootfs/bin/truncated-elf"

seq=0
# run_rt RUNTIME [--rootfs PATH] -- ARGS...: runs ARGS in the bundle under
# RUNTIME (palisade or runc) with a 60 s limit; sets RC, OUT and ERR.
run_rt() {
  local rt=$1
  shift
  local rootfs_opt=(--rootfs "$rootfs")
  if [[ $1 == --rootfs ]]; then
    rootfs_opt=(--rootfs "$2")
    shift 2
  fi
  shift  # --
  python3 "$oci_config" new "$bundle" "${rootfs_opt[@]}" --hostname bbtest -- "$@"
  local bin=$palisade
  local global=(--root "$work/state-$rt")
  if [[ $rt == runc ]]; then
    bin=$runc
  elif [[ -n ${PALISADE_PLATFORM:-} ]]; then
    global+=(--platform="$PALISADE_PLATFORM")
  fi
  seq=$((seq + 1))
  local id="bbtest-$rt-$$-$seq"
  timeout --kill-after=5 60 "$bin" "${global[@]}" run --bundle "$bundle" "$id" \
    </dev/null >"$work/out" 2>"$work/err"
  RC=$?
  "$bin" --root "$work/state-$rt" delete --force "$id" >/dev/null 2>&1
  OUT=$(cat "$work/out")
  ERR=$(cat "$work/err")
}

# Decide whether runc can serve as the reference here.
runtimes=(palisade)
runc=${RUNC:-$(command -v runc || true)}
if [[ -z $runc ]]; then
  echo "# SKIP runc comparison: runc is not installed"
else
  run_rt runc -- echo hello
  if [[ $RC -eq 0 && $OUT == hello ]]; then
    runtimes+=(runc)
  else
    echo "# SKIP runc comparison: runc does not work here (exit $RC): ${ERR//$'\n'/ }"
  fi
fi

declare -A result_out
# expect NAME WANT_RC WANT_OUT -- ARGS...: exit code and exact stdout.
expect() {
  local name=$1 want_rc=$2 want_out=$3
  shift 3
  local rt
  for rt in "${runtimes[@]}"; do
    run_rt "$rt" "$@"
    if [[ $RC -eq $want_rc && $OUT == "$want_out" ]]; then
      ok "$rt: $name"
    else
      not_ok "$rt: $name: want exit $want_rc and output '$want_out'," \
        "got exit $RC and output '$OUT'; stderr: ${ERR//$'\n'/ | }"
    fi
    result_out[$rt]=$OUT
  done
}

# expect_failure NAME MUST_MENTION [--rootfs PATH] -- ARGS...: non-zero exit
# (not a timeout) and a message on stderr that names the culprit.
expect_failure() {
  local name=$1 mention=$2
  shift 2
  local rt
  for rt in "${runtimes[@]}"; do
    run_rt "$rt" "$@"
    if [[ $RC -eq 124 || $RC -eq 137 ]]; then
      not_ok "$rt: $name: hung (killed after 60 s)"
    elif [[ $RC -eq 0 ]]; then
      not_ok "$rt: $name: exited 0; stdout '$OUT'"
    elif [[ $ERR != *"$mention"* ]]; then
      not_ok "$rt: $name: exit $RC but stderr does not mention '$mention': '$ERR'"
    else
      ok "$rt: $name (exit $RC: ${ERR//$'\n'/ | })"
    fi
  done
}

expect "echo" 0 "hello" -- echo hello
expect "pipeline in sh" 0 "3" -- sh -c 'for i in 1 2 3; do echo $i; done | wc -l'
expect "exit code" 7 "" -- sh -c 'exit 7'
# A shell reports a child killed by SIGTERM as 128+15.
expect "child killed by SIGTERM is 143" 0 "143" -- sh -c 'sh -c "kill -TERM \$\$"; echo $?'
# The container's init is PID 1 of its namespace: like Linux (and runc), a
# default-action signal it sends itself is ignored (pid_namespaces(7)).
expect "init ignores its own SIGTERM" 0 "survived" -- sh -c 'kill -TERM $$; echo survived'
expect "hostname from config" 0 "bbtest" -- hostname
expect "pid 1" 0 "1" -- sh -c 'echo $$'

for rt in "${runtimes[@]}"; do
  run_rt "$rt" -- ls -l /
  if [[ $RC -eq 0 && $OUT == *" bin"* && $OUT == *" proc"* && $OUT == *" etc"* ]]; then
    ok "$rt: ls -l /"
  else
    not_ok "$rt: ls -l /: exit $RC, output '$OUT', stderr '$ERR'"
  fi
  result_out[$rt]=$(awk '{print $NF}' <<<"$OUT" | sort | tr '\n' ' ')
done
if [[ ${#runtimes[@]} -eq 2 ]]; then
  if [[ ${result_out[palisade]} == "${result_out[runc]}" ]]; then
    ok "ls -l / lists the same names as runc"
  else
    not_ok "ls -l / names differ: palisade '${result_out[palisade]}' runc '${result_out[runc]}'"
  fi
fi

for rt in "${runtimes[@]}"; do
  run_rt "$rt" -- cat /proc/self/status
  if [[ $RC -eq 0 && $OUT == *"Pid:"* ]]; then
    ok "$rt: cat /proc/self/status has Pid:"
  else
    not_ok "$rt: cat /proc/self/status: exit $RC, output '${OUT:0:200}', stderr '$ERR'"
  fi
done

# Death of the container's init by a signal from outside: 128+9.
for rt in "${runtimes[@]}"; do
  bin=$palisade
  global=(--root "$work/state-$rt")
  [[ $rt == runc ]] && bin=$runc
  [[ $rt == palisade && -n ${PALISADE_PLATFORM:-} ]] && global+=(--platform="$PALISADE_PLATFORM")
  python3 "$oci_config" new "$bundle" --rootfs "$rootfs" -- sleep 50
  id="bbtest-$rt-$$-kill"
  timeout --kill-after=5 60 "$bin" "${global[@]}" run --bundle "$bundle" "$id" \
    </dev/null >"$work/out" 2>"$work/err" &
  runner=$!
  state=
  for _ in $(seq 1 100); do
    state=$("$bin" --root "$work/state-$rt" state "$id" 2>/dev/null)
    [[ $state == *'"running"'* ]] && break
    sleep 0.2
  done
  "$bin" --root "$work/state-$rt" kill "$id" KILL >/dev/null 2>&1
  wait "$runner"
  RC=$?
  "$bin" --root "$work/state-$rt" delete --force "$id" >/dev/null 2>&1
  if [[ $RC -eq 137 ]]; then
    ok "$rt: init killed by SIGKILL exits 137"
  else
    not_ok "$rt: init killed by SIGKILL: want exit 137, got $RC; stderr: $(cat "$work/err")"
  fi
done

expect_failure "missing rootfs" "no-such-rootfs" --rootfs "$work/no-such-rootfs" -- echo hi
expect_failure "missing executable" "no-such-program" -- /bin/no-such-program
expect_failure "non-ELF executable" "not-elf" -- /bin/not-elf
expect_failure "truncated ELF" "truncated-elf" -- /bin/truncated-elf

finish
