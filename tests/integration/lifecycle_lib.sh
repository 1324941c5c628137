# Shared by tests/integration/lifecycle_*.sh: a busybox bundle, TAP output,
# and helpers that run the same steps under palisade and (when it works
# here) runc, so every expectation is checked against runc too.
#
#   source lifecycle_lib.sh "$palisade"
#   for rt in "${runtimes[@]}"; do rtc "$rt" state c1; expect_rc 1 ...; done

# shellcheck source=tap_lib.sh
source "$(dirname "${BASH_SOURCE[0]}")/tap_lib.sh" "${1:-}"

work=$(mktemp -d "${TMPDIR:-/tmp}/palisade-lifecycle.XXXXXX")
cleanup_all() {
  local rt id
  for rt in palisade runc; do
    for id in $(rtc_quiet "$rt" list -q 2>/dev/null); do
      rtc_quiet "$rt" delete --force "$id" >/dev/null 2>&1
    done
  done
  rm -rf "$work"
}
trap cleanup_all EXIT
bundle=$work/bundle
rootfs=$bundle/rootfs
mkdir -p "$bundle"
if ! make_busybox_rootfs "$rootfs"; then
  not_ok "could not build the busybox rootfs"
  finish
fi

# bin_of RT: the runtime's binary and global flags.
rt_cmd() {
  local rt=$1
  if [[ $rt == runc ]]; then
    echo "$runc --root $work/state-runc"
  else
    echo "$palisade --root $work/state-palisade ${PALISADE_PLATFORM:+--platform=$PALISADE_PLATFORM}"
  fi
}

# rtc RT ARGS...: runs a runtime command with a 60 s limit; sets RC, OUT, ERR.
rtc() {
  local rt=$1
  shift
  # shellcheck disable=SC2046
  timeout --kill-after=5 60 $(rt_cmd "$rt") "$@" </dev/null >"$work/out" 2>"$work/err"
  RC=$?
  OUT=$(cat "$work/out")
  ERR=$(cat "$work/err")
}
rtc_quiet() {
  local rt=$1
  shift
  # shellcheck disable=SC2046
  timeout --kill-after=5 60 $(rt_cmd "$rt") "$@" </dev/null
}

# bundle_for ARGS...: config.json running ARGS (extra edits via $CONFIG_EDIT,
# a python expression on `c`).
bundle_for() {
  python3 "$oci_config" new "$bundle" --rootfs "$rootfs" --hostname lifecycle -- "$@"
  if [[ -n ${CONFIG_EDIT:-} ]]; then
    python3 - "$bundle/config.json" "$CONFIG_EDIT" <<'PY'
import json, sys
path, edit = sys.argv[1], sys.argv[2]
c = json.load(open(path))
exec(edit)
json.dump(c, open(path, "w"))
PY
  fi
}

# status_of RT ID: the "status" from `state`, or "gone".
status_of() {
  local out
  out=$(rtc_quiet "$1" state "$2" 2>/dev/null) || {
    echo gone
    return
  }
  python3 -c 'import json,sys; print(json.load(sys.stdin)["status"])' <<<"$out"
}

# wait_status RT ID WANT: polls `state` for up to 20 s.
wait_status() {
  local i s
  for i in $(seq 1 100); do
    s=$(status_of "$1" "$2")
    [[ $s == "$3" ]] && return 0
    sleep 0.2
  done
  return 1
}

# check NAME COND...: ok if the command COND succeeds.
check() {
  local name=$1
  shift
  if "$@"; then ok "$name"; else not_ok "$name (rc=$RC out='${OUT:0:300}' err='${ERR//$'\n'/ | }')"; fi
}
rc_is() { [[ $RC -eq $1 ]]; }
err_has() { [[ $ERR == *"$1"* ]]; }
out_has() { [[ $OUT == *"$1"* ]]; }

runtimes=(palisade)
runc=${RUNC:-$(command -v runc || true)}
if [[ -z $runc ]]; then
  echo "# SKIP runc comparison: runc is not installed"
else
  bundle_for true
  rtc runc run --bundle "$bundle" probe-$$
  rtc_quiet runc delete --force probe-$$ >/dev/null 2>&1
  if [[ $RC -eq 0 ]]; then
    runtimes=(runc palisade)
  else
    echo "# SKIP runc comparison: runc does not work here (exit $RC): ${ERR//$'\n'/ }"
  fi
fi
