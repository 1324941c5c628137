#!/bin/bash
# `palisade run --report=<file>`: runs report_probe in the sandbox, which
# calls a syscall the sentry answers with ENOSYS a known number of times,
# opens missing /proc and /sys paths and makes an ioctl /dev/null does not
# have, then checks that the JSON and the text report name each of them
# with the right count, and that a report of a clean run lists nothing.
#
#   report_test.sh <path-to-palisade> <path-to-report_probe>
set -uo pipefail

here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
runner=$here/../syscalls/run_in_sandbox.sh
palisade=${1:-}
probe=${2:-}
passed=0
failed=0
n=0
ok() { n=$((n + 1)); passed=$((passed + 1)); echo "ok $n - $*"; }
not_ok() { n=$((n + 1)); failed=$((failed + 1)); echo "not ok $n - $*"; }
finish() {
  echo "report_test: $passed passed, $failed failed"
  [[ $failed -eq 0 ]]
  exit $?
}
if [[ ! -x $palisade || ! -x $probe ]]; then
  not_ok "usage: $0 <palisade> <report_probe> (got '$palisade' '$probe')"
  finish
fi

work=$(mktemp -d "${TMPDIR:-/tmp}/palisade-report.XXXXXX")
trap 'rm -rf "$work"' EXIT

# A syscall that Linux itself never implemented, so it stays ENOSYS.
read -r nr name < <("$palisade" syscalls --format=json | python3 -c '
import json, sys
rows = {r["name"]: r for r in json.load(sys.stdin)}
for n in ("afs_syscall", "tuxcall", "vserver", "security", "getpmsg", "putpmsg"):
    if rows.get(n, {}).get("status") == "ENOSYS":
        print(rows[n]["nr"], n)
        break
')
if [[ -z ${nr:-} ]]; then
  not_ok "no ENOSYS syscall found in 'palisade syscalls --format=json'"
  finish
fi

# check FILE PYTHON-EXPR DESCRIPTION: EXPR is evaluated with r = the JSON report.
check() {
  if python3 -c "import json,sys; r=json.load(open(sys.argv[1])); sys.exit(0 if ($2) else 1)" "$1"; then
    ok "$3"
  else
    not_ok "$3; report: $(cat "$1")"
  fi
}

PALISADE_REPORT=$work/report.json "$runner" "$palisade" "$probe" "$nr" 3
rc=$?
if [[ $rc -eq 0 ]]; then ok "report_probe passed in the sandbox"; else not_ok "report_probe exited $rc"; fi
if [[ -s $work/report.json ]]; then
  check "$work/report.json" "any(u['name'] == '$name' and u['nr'] == $nr and u['count'] == 3 and u['status'] == 'ENOSYS' for u in r['unsupported_syscalls'])" \
    "JSON report names $name ($nr) with count 3"
  check "$work/report.json" "r['syscalls'].get('$name') == 3 and r['syscalls'].get('open', 0) + r['syscalls'].get('openat', 0) >= 5" \
    "JSON report counts every syscall made"
  check "$work/report.json" "any(p['path'] == '/proc/palisade-report-probe' and p['count'] == 2 for p in r['missing_paths'])" \
    "JSON report lists the missing /proc path twice"
  check "$work/report.json" "any(p['path'] == '/sys/palisade-report-probe/x' and p['count'] == 2 for p in r['missing_paths'])" \
    "JSON report lists the missing /sys path twice"
  check "$work/report.json" "any(i['name'] == 'TIOCGWINSZ' and i['errno'] == 'ENOTTY' and i['file'] == 'chr' and i['count'] == 1 for i in r['ioctls'])" \
    "JSON report lists TIOCGWINSZ on a character device"
else
  not_ok "no JSON report written to $work/report.json"
fi

PALISADE_REPORT=$work/report.txt "$runner" "$palisade" "$probe" "$nr" 2 >/dev/null
if grep -q "^  $name ($nr): 2 calls, ENOSYS" "$work/report.txt" 2>/dev/null &&
   grep -q "/proc/palisade-report-probe (open.*): 2 calls" "$work/report.txt"; then
  ok "text report (chosen by the .txt extension) names $name with count 2"
else
  not_ok "text report: $(cat "$work/report.txt" 2>&1)"
fi

# A clean run: nothing unsupported.
PALISADE_REPORT=$work/clean.json "$runner" "$palisade" "$probe" "$nr" 0 >/dev/null
check "$work/clean.json" "not any(u['name'] == '$name' for u in r['unsupported_syscalls'])" \
  "a run that never calls $name does not report it"

# A report path that cannot be written is an error before anything runs.
out=$(PALISADE_REPORT=$work/no-such-dir/r.json "$runner" "$palisade" "$probe" "$nr" 0 2>&1)
rc=$?
if [[ $rc -ne 0 && $out == *no-such-dir* ]]; then
  ok "unwritable report path fails with a message naming it (exit $rc)"
else
  not_ok "unwritable report path: exit $rc, output '$out'"
fi

finish
