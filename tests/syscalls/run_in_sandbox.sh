#!/bin/bash
# Runs one syscall test binary inside the sandbox:
#
#   run_in_sandbox.sh <path-to-palisade> <test-binary> [args...]
#
# It writes a throw-away OCI bundle whose root is the host's / mounted
# read-only (so the dynamically linked test and its libraries are found),
# with /proc, a tmpfs /tmp and a tmpfs /dev (the sentry serves its own
# devfs there, as runc's default spec does), then runs
#   palisade --root <tmp> --platform=$PALISADE_PLATFORM run --bundle <dir> <id>
# and passes the container's exit code through.
#
# Environment:
#   PALISADE_PLATFORM       platform to run on (default: systrap)
#   PALISADE_STRACE         if 1, run with --strace (the log goes to stderr)
#   PALISADE_TEST_DEADLINE  seconds before the run is killed (default: 120);
#                           the runner stops 10 s earlier so it can clean up
#                           before ctest's own timeout.
#   PALISADE_REPORT         when set, passed as `run --report=<file>` (the
#                           workload report; scripts/compat-table uses it).
#   PALISADE_PIDS_LIMIT     when set, linux.resources.pids.limit of the
#                           container (the sentry's own threads count too).
set -euo pipefail

if [[ $# -lt 2 ]]; then
  echo "usage: $0 <path-to-palisade> <test-binary> [args...]" >&2
  exit 2
fi
palisade=$1
test_bin=$2
shift 2

if [[ ! -x $palisade ]]; then
  echo "run_in_sandbox: palisade executable not found at '$palisade' (build the 'palisade' target)" >&2
  exit 1
fi
if [[ ! -x $test_bin ]]; then
  echo "run_in_sandbox: test binary not found at '$test_bin'" >&2
  exit 1
fi
test_bin=$(readlink -f "$test_bin")
case $test_bin in
  /tmp/*|/dev/*|/proc/*)
    echo "run_in_sandbox: '$test_bin' is hidden inside the sandbox by its own /tmp, /dev" \
         "or /proc mount; build outside those directories (scripts/build uses build/)" >&2
    exit 1 ;;
esac
platform=${PALISADE_PLATFORM:-systrap}
strace_flag=()
[[ ${PALISADE_STRACE:-0} == 1 ]] && strace_flag=(--strace)
deadline=${PALISADE_TEST_DEADLINE:-120}
deadline=$((deadline > 20 ? deadline - 10 : deadline))

work=$(mktemp -d "${TMPDIR:-/tmp}/palisade-systest.XXXXXX")
bundle=$work/bundle
state=$work/state
mkdir -p "$bundle" "$state"
id="systest-$(basename "$test_bin")-$$-$RANDOM"

cleanup() {
  "$palisade" --root "$state" delete --force "$id" >/dev/null 2>&1 || true
  rm -rf "$work"
}
trap cleanup EXIT

python3 - "$bundle/config.json" "$test_bin" "$@" <<'PY'
import json, os, sys
path, args = sys.argv[1], sys.argv[2:]
caps = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]
config = {
    "ociVersion": "1.0.2",
    "process": {
        "terminal": False,
        "user": {"uid": 0, "gid": 0},
        "args": args,
        "env": [
            "PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
            "HOME=/root",
            "TEST_TMPDIR=/tmp",
            # Tells tests they run as the container's first process, in
            # the sentry's PID namespace (see MiscTest.SandboxInitIsPid1).
            "PALISADE_SANDBOX=1",
        ],
        "cwd": "/tmp",
        "capabilities": {k: caps for k in ("bounding", "effective", "permitted")},
        "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
        "noNewPrivileges": True,
    },
    "root": {"path": "/", "readonly": True},
    "hostname": "palisade-test",
    "mounts": [
        {"destination": "/proc", "type": "proc", "source": "proc"},
        {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "nodev", "mode=1777"]},
        {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
         "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
    ],
    "linux": {
        "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")],
    },
}
pids_limit = os.environ.get("PALISADE_PIDS_LIMIT")
if pids_limit:
    config["linux"]["resources"] = {"pids": {"limit": int(pids_limit)}}
with open(path, "w") as f:
    json.dump(config, f, indent=2)
PY

run_flags=()
if [[ -n ${PALISADE_REPORT:-} ]]; then
  run_flags+=(--report="$PALISADE_REPORT")
fi

set +e
timeout --kill-after=5 "$deadline" \
  "$palisade" --root "$state" --platform="$platform" "${strace_flag[@]}" run "${run_flags[@]}" --bundle "$bundle" "$id" </dev/null
rc=$?
set -e
if [[ $rc -eq 124 || $rc -eq 137 ]]; then
  echo "run_in_sandbox: '$(basename "$test_bin")' did not finish within ${deadline}s (exit $rc)" >&2
fi
exit "$rc"
