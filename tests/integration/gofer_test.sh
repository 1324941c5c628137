#!/bin/bash
# The gofer through `palisade run` on a busybox bundle:
#   - the gofer is its own host process (own mount and network namespaces,
#     seccomp on, capabilities reduced), pivot_root'ed into the rootfs;
#   - the default in-memory overlay keeps `echo x > /etc/new; rm /bin/ls`
#     from changing the bundle on the host; --overlay=none writes through;
#   - bind mounts from config.json: a ro one refuses writes (EROFS), a rw one
#     writes through to the host, as under runc;
#   - a gofer killed mid-run makes file syscalls fail with EIO inside, and
#     the container still exits, with the error logged.
#
#   gofer_test.sh <path-to-palisade>
set -uo pipefail

# shellcheck source=tap_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap_lib.sh" "${1:-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/palisade-gofertest.XXXXXX")
trap 'rm -rf "$work"' EXIT
bundle=$work/bundle
rootfs=$bundle/rootfs
mkdir -p "$bundle"
if ! make_busybox_rootfs "$rootfs"; then
  not_ok "could not build the busybox rootfs"
  finish
fi
global=(--root "$work/state")
[[ -n ${PALISADE_PLATFORM:-} ]] && global+=(--platform="$PALISADE_PLATFORM")
seq=0

# run_pal [GLOBAL-FLAGS...] -- ARGS...: runs ARGS in the bundle (60 s limit);
# sets RC, OUT, ERR.
run_pal() {
  local extra=()
  while [[ $1 != -- ]]; do extra+=("$1"); shift; done
  shift
  python3 "$oci_config" new "$bundle" --hostname gofertest -- "$@"
  [[ -n ${MOUNTS_JSON:-} ]] && add_mounts
  seq=$((seq + 1))
  timeout --kill-after=5 60 "$palisade" "${global[@]}" "${extra[@]}" run --bundle "$bundle" "gofertest-$$-$seq" \
    </dev/null >"$work/out" 2>"$work/err"
  RC=$?
  OUT=$(cat "$work/out")
  ERR=$(cat "$work/err")
}

add_mounts() {
  python3 - "$bundle/config.json" "$MOUNTS_JSON" <<'PY'
import json, sys
path, extra = sys.argv[1], json.loads(sys.argv[2])
c = json.load(open(path))
c["mounts"] += extra
json.dump(c, open(path, "w"), indent=2)
PY
}

# child_of PID PATTERN: the pid of PID's child whose command line matches
# PATTERN, waiting up to 10 s for it to appear; empty if it never does.
child_of() {
  local pid=""
  for _ in $(seq 1 100); do
    pid=$(pgrep -P "$1" -f "$2" | head -1)
    [[ -n $pid ]] && break
    sleep 0.1
  done
  echo "$pid"
}

# --- 1. The gofer is its own confined host process.
MOUNTS_JSON=''
python3 "$oci_config" new "$bundle" --hostname gofertest -- /bin/sleep 4
"$palisade" "${global[@]}" run --bundle "$bundle" "gofertest-$$-bg" </dev/null >"$work/bg.out" 2>"$work/bg.err" &
front=$!
gpid=$(child_of "$front" "gofer --rootfs")
if [[ -n $gpid ]]; then
  ok "the gofer runs as its own host process (pid $gpid, child of palisade $front)"
  # pgrep sees the gofer as soon as it execs, before it has unshared its
  # namespaces and dropped privileges; seccomp is its last set-up step, so
  # wait for that before inspecting it (a loaded CI machine hit this race).
  for _ in $(seq 1 100); do
    grep -q '^Seccomp:[[:space:]]*2' /proc/$gpid/status 2>/dev/null && break
    sleep 0.1
  done
  # The small palisade-gofer next to palisade, not a re-exec of palisade
  # (docs/benchmarks.md, idle RSS).
  gexe=$(readlink "/proc/$gpid/exe")
  check "the gofer runs palisade-gofer from palisade's directory ($gexe)" \
    [ "$gexe" = "$(dirname "$(readlink -f "$palisade")")/palisade-gofer" ]
  check "gofer has its own mount namespace" [ "$(readlink /proc/$gpid/ns/mnt)" != "$(readlink /proc/self/ns/mnt)" ]
  check "gofer has its own network namespace" [ "$(readlink /proc/$gpid/ns/net)" != "$(readlink /proc/self/ns/net)" ]
  check "gofer runs under seccomp" grep -q '^Seccomp:[[:space:]]*2' /proc/$gpid/status
  capeff=$(awk '/^CapEff/ {print $2}' /proc/$gpid/status)
  # CHOWN DAC_OVERRIDE DAC_READ_SEARCH FOWNER FSETID = bits 0-4.
  check "gofer keeps only file-serving capabilities (CapEff=$capeff)" [ "$capeff" = "000000000000001f" ]
  check "gofer is pivot_root'ed into the rootfs (its / holds the bundle's busybox)" \
    cmp -s "/proc/$gpid/root/bin/busybox" "$rootfs/bin/busybox"
  check "gofer's / is not the host's /" [ ! -e "/proc/$gpid/root$work" ]
  # The sentry (`palisade boot`, the front end's other child) has no path
  # to the rootfs: its / is not the bundle's (its seccomp filter refusing
  # host opens is sentry_seccomp_test's).
  spid=$(child_of "$front" "boot --config-fd")
  if [[ -n $spid ]]; then
    check "sentry's / is not the rootfs" [ ! "/proc/$spid/root/bin/busybox" -ef "$rootfs/bin/busybox" ]
  else
    not_ok "no sentry process found under palisade $front"
  fi
else
  not_ok "no gofer process found under palisade $front"
fi
wait "$front"
check "the background container exited 0" [ $? -eq 0 ]

# --- 2. Default overlay: the bundle is never modified.
run_pal -- /bin/sh -c 'echo x > /etc/new; rm /bin/ls; cat /etc/new; ls /bin/ls 2>&1; echo done'
check "overlay: the container sees its own changes (out: $OUT)" \
  [ "$(printf '%s\n' "$OUT" | head -1)" = x ]
check "overlay: /bin/ls is gone inside" grep -q "No such file" <<<"$OUT"
check "overlay: /etc/new not created on the host" [ ! -e "$rootfs/etc/new" ]
check "overlay: /bin/ls still on the host" [ -L "$rootfs/bin/ls" ]
check "overlay: container exit 0 (rc $RC, err: $ERR)" [ $RC -eq 0 ]

# --- 3. --overlay=none writes through.
run_pal --overlay=none -- /bin/sh -c 'echo x > /etc/new; rm /bin/ls'
check "--overlay=none: exit 0 (rc $RC, err: $ERR)" [ $RC -eq 0 ]
check "--overlay=none: /etc/new written on the host" [ "$(cat "$rootfs/etc/new" 2>/dev/null)" = x ]
check "--overlay=none: /bin/ls removed on the host" [ ! -e "$rootfs/bin/ls" ]
ln -sfn /bin/busybox "$rootfs/bin/ls"
rm -f "$rootfs/etc/new"

# --- 4. Bind mounts, ro and rw, as under runc.
mkdir -p "$work/ro" "$work/rw"
echo from-host >"$work/ro/file"
echo from-host >"$work/rw/file"
MOUNTS_JSON=$(printf '[{"destination":"/mnt/ro","type":"bind","source":"%s","options":["rbind","ro"]},
  {"destination":"/mnt/rw","type":"bind","source":"%s","options":["rbind","rw"]}]' "$work/ro" "$work/rw")
run_pal -- /bin/sh -c 'cat /mnt/ro/file; echo new > /mnt/ro/new 2>&1 || echo ro-refused;
  echo new > /mnt/rw/new && echo rw-ok; cat /mnt/rw/file'
MOUNTS_JSON=''
check "ro bind: readable inside (out: $OUT)" grep -q "^from-host" <<<"$OUT"
check "ro bind: write refused (Read-only file system)" grep -q "Read-only file system" <<<"$OUT$ERR"
check "ro bind: nothing written on the host" [ ! -e "$work/ro/new" ]
check "rw bind: write succeeds inside" grep -q "^rw-ok" <<<"$OUT"
check "rw bind: written through to the host" [ "$(cat "$work/rw/new" 2>/dev/null)" = new ]

# --- 5. A gofer killed mid-run: EIO inside, clean exit, logged error.
python3 "$oci_config" new "$bundle" --hostname gofertest -- /bin/sh -c \
  'sleep 3; if read l < /etc/passwd; then echo read-ok; else echo read-failed; fi; echo end'
"$palisade" "${global[@]}" run --bundle "$bundle" "gofertest-$$-kill" </dev/null >"$work/k.out" 2>"$work/k.err" &
front=$!
gpid=$(child_of "$front" "gofer --rootfs")
sleep 1
[[ -n $gpid ]] && kill -9 "$gpid"
timeout 60 tail --pid="$front" -f /dev/null
wait "$front"
krc=$?
kout=$(cat "$work/k.out")
kerr=$(cat "$work/k.err")
check "killed gofer: the shell's open failed (out: $kout)" grep -q "read-failed" <<<"$kout"
check "killed gofer: the error inside is EIO (Input/output error)" grep -q "Input/output error" <<<"$kout$kerr"
check "killed gofer: the container exited (rc $krc), not hung" [ $krc -ne 124 ]
check "killed gofer: the gofer's death is logged as an error" grep -qE "gofer.*(died during the run|connection lost)" <<<"$kerr"

finish
