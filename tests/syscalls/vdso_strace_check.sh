#!/bin/bash
# Checks that clock_gettime, gettimeofday and time never trap to the sentry
# (they run in its vDSO): runs vdso_test's GlibcClockLoop (10000
# clock_gettime, 100 gettimeofday and time calls, then one getpid) under
# --strace and counts the traced calls.
#
#   vdso_strace_check.sh <path-to-palisade> <vdso_test binary>
# Environment: PALISADE_PLATFORM as for run_in_sandbox.sh.
set -uo pipefail
here=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
log=$(PALISADE_STRACE=1 "$here/run_in_sandbox.sh" "$1" "$2" --gtest_filter=VdsoTest.GlibcClockLoop 2>&1)
rc=$?
if [[ $rc -ne 0 ]]; then
  echo "$log" | tail -40
  echo "vdso_strace_check: the test failed in the sandbox (exit $rc)"
  exit 1
fi
getpid=$(grep -c ' getpid(' <<<"$log")
clocks=$(grep -cE ' (clock_gettime|gettimeofday|time)\(' <<<"$log")
echo "traced: getpid $getpid, clock_gettime/gettimeofday/time $clocks"
if [[ $getpid -lt 1 ]]; then
  echo "vdso_strace_check: no getpid in the --strace log; is --strace working?"
  exit 1
fi
if [[ $clocks -ne 0 ]]; then
  grep -E ' (clock_gettime|gettimeofday|time)\(' <<<"$log" | head -5
  echo "vdso_strace_check: time calls trapped to the sentry instead of running in the vDSO"
  exit 1
fi
