# Shared by the shell integration tests: TAP output and the set-up every
# one of them starts with (the repo, the busybox rootfs helper, the config
# writer, and the palisade binary given as the first argument).
#
#   source "$(dirname "${BASH_SOURCE[0]}")/tap_lib.sh" "${1:-}"
#   check "the container printed hi" grep -q hi "$work/out"
#   finish
#
# Sets: here, repo, oci_config, palisade, and the counters ok/not_ok/check
# update. Fails the test at once (after sourcing) if palisade is missing.

here=$(cd "$(dirname "${BASH_SOURCE[1]}")" && pwd)
repo=$(cd "$here/../.." && pwd)
# shellcheck source=../../scripts/lib/busybox-rootfs.sh
source "$repo/scripts/lib/busybox-rootfs.sh"
oci_config=$repo/scripts/lib/oci-config.py

palisade=${1:-}
passed=0
failed=0
n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
check() {  # check DESCRIPTION COMMAND...
  local what=$1
  shift
  if "$@"; then ok "$what"; else not_ok "$what"; fi
}
finish() {
  echo "$(basename "$0" .sh): $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit $?
}

if [[ -z $palisade || ! -x $palisade ]]; then
  not_ok "palisade executable not found at '${palisade}' (build the 'palisade' target)"
  finish
fi
