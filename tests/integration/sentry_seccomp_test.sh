#!/bin/bash
# The sentry's own seccomp filter during `palisade run` (docs/security.md):
#   - the sentry (`palisade boot`) runs under seccomp once the sandbox
#     starts, and the app still runs (its stubs come from the stub factory,
#     so the sentry's filter does not reach them);
#   - an open(2) of a host path made *inside the sentry process* is
#     refused with EPERM (gdb calls open() in the running sentry; the same
#     call in an unconfined host process succeeds, so the check can fail);
#   - the stub factory is confined too, and stubs are its children.
#
#   sentry_seccomp_test.sh <path-to-palisade>
set -uo pipefail

# shellcheck source=tap_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap_lib.sh" "${1:-}"
field() { awk -v f="$2:" '$1 == f {print $2}' "/proc/$1/status" 2>/dev/null; }
if ! command -v gdb >/dev/null; then
  echo "1..0 # SKIP gdb not installed"
  exit 0
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/palisade-seccomptest.XXXXXX")
front=""
trap '[[ -n $front ]] && kill -9 "$front" 2>/dev/null; rm -rf "$work"' EXIT
bundle=$work/bundle
mkdir -p "$bundle"
if ! make_busybox_rootfs "$bundle/rootfs"; then
  not_ok "could not build the busybox rootfs"
  finish
fi
global=(--root "$work/state")
[[ -n ${PALISADE_PLATFORM:-} ]] && global+=(--platform="$PALISADE_PLATFORM")

# An app that runs a thread of work, then waits long enough to be looked at.
python3 "$oci_config" new "$bundle" --hostname seccomptest -- \
  /bin/sh -c 'echo started; sleep 30; echo finished'
"$palisade" "${global[@]}" run --bundle "$bundle" "seccomptest-$$" \
  </dev/null >"$work/out" 2>"$work/err" &
front=$!

bpid=""
for _ in $(seq 1 200); do
  bpid=$(pgrep -P "$front" -f "boot --config-fd" | head -1)
  [[ -n $bpid && $(field "$bpid" Seccomp) == 2 ]] && break
  sleep 0.1
done
if [[ -z $bpid ]]; then
  not_ok "no sentry (palisade boot) process under palisade run $front"
  finish
fi
for _ in $(seq 1 100); do
  grep -q started "$work/out" && break
  sleep 0.1
done
check "the app runs under a filtered sentry" grep -q started "$work/out"
check "the sentry ($bpid) runs under seccomp (Seccomp: 2)" [ "$(field "$bpid" Seccomp)" = 2 ]
check "the sentry has no_new_privs" [ "$(field "$bpid" NoNewPrivs)" = 1 ]

factory=$(pgrep -P "$bpid" | head -1)
if [[ -n $factory ]]; then
  check "the stub factory ($factory) runs under seccomp" [ "$(field "$factory" Seccomp)" = 2 ]
  stubs=$(pgrep -P "$factory" | wc -l)
  check "the app's stubs are children of the stub factory ($stubs)" [ "$stubs" -ge 1 ]
  # The factory's filter and the stub's own; not the sentry's on top.
  stub=$(pgrep -P "$factory" | head -1)
  check "a stub carries no sentry filter (Seccomp_filters $(field "$stub" Seccomp_filters))" \
    [ "$(field "$stub" Seccomp_filters)" = 2 ]
else
  not_ok "no stub factory under the sentry $bpid"
fi

# open(2) inside the running sentry, through gdb. The sentry's fstat()
# emulation uses SIGSYS (sentry/seccomp/sentry_filter.cc): gdb must pass it.
gdb_open() {  # gdb_open PID -> "<result> <errno>"
  # --readnever: minimal symbols only, so attaching to the big palisade
  # binary is quick on a loaded machine.
  timeout 120 gdb -nx -batch --readnever -p "$1" -ex 'handle SIGSYS nostop noprint pass' \
    -ex 'print ((int(*)(const char*, int))open)("/etc/hostname", 0)' \
    -ex 'print *((int*(*)(void))__errno_location)()' 2>/dev/null |
    awk '/^\$1 = / {r=$3} /^\$2 = / {e=$3} END {print r, e}'
}
sleep 100 &
control=$!
read -r cr _ <<<"$(gdb_open "$control")"
kill "$control" 2>/dev/null
if [[ -n $cr && $cr -ge 0 ]]; then
  ok "control: open() called by gdb in an unconfined process succeeds ($cr)"
  read -r sr se <<<"$(gdb_open "$bpid")"
  check "open(\"/etc/hostname\") inside the sentry is refused with EPERM (got $sr, errno $se)" \
    [ "$sr" = -1 ] && [ "$se" = 1 ]
else
  not_ok "control: gdb could not call open() in a host process (got '$cr')"
fi

timeout 90 tail --pid="$front" -f /dev/null
wait "$front"
rc=$?
check "the container exits normally after that (rc $rc)" [ "$rc" -eq 0 ]
check "the app finished" grep -q finished "$work/out"
finish
