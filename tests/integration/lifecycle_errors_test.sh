#!/bin/bash
# Bad input, as runc reports it: unknown containers, a missing bundle, a
# malformed config.json, bad arguments, concurrent creates of one id; the
# error goes to stderr and as a "level":"error" JSON line to --log, the
# exit codes are runc's, and nothing is left behind.
#
#   lifecycle_errors_test.sh <path-to-palisade>
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lifecycle_lib.sh"

no_state() { [ -z "$(ls -A "$work/state-$1" 2>/dev/null)" ]; }

for rt in "${runtimes[@]}"; do
  for cmd in state start kill delete pause resume ps events; do
    rtc "$rt" $cmd nope
    check "$rt: $cmd of an unknown container" eval 'rc_is 1 && err_has "container does not exist"'
  done
  rtc "$rt" exec nope ls
  check "$rt: exec of an unknown container exits 255" eval 'rc_is 255 && err_has "container does not exist"'
  rtc "$rt" delete --force nope
  check "$rt: delete --force of an unknown container succeeds" rc_is 0

  rtc "$rt" state
  check "$rt: state without an id" eval 'rc_is 1 && err_has "requires exactly 1 argument(s)"'

  rtc "$rt" create --bundle "$work/no-such-bundle" bad-bundle
  check "$rt: missing bundle fails" eval 'rc_is 1 && err_has "no-such-bundle"'
  check "$rt: missing bundle leaves no state" no_state "$rt"

  mkdir -p "$work/malformed"
  echo '{bad' >"$work/malformed/config.json"
  rtc "$rt" create --bundle "$work/malformed" malformed
  check "$rt: malformed config.json fails" eval 'rc_is 1 && [[ -n $ERR ]]'
  check "$rt: malformed config leaves no state" no_state "$rt"

  rtc "$rt" create --bundle "$bundle" "bad/id"
  check "$rt: an id with a slash is refused" eval 'rc_is 1'

  bundle_for /bin/no-such-program
  rtc "$rt" create --bundle "$bundle" missing-exe
  check "$rt: create of a missing executable fails" eval 'rc_is 1 && err_has "no-such-program"'
  check "$rt: missing executable leaves no state" no_state "$rt"

  # The error reaches --log as JSON with level "error".
  rtc "$rt" --log "$work/$rt-log.json" --log-format json state nope
  check "$rt: --log gets a JSON error line" python3 -c '
import json, sys
lines = [json.loads(l) for l in open(sys.argv[1]) if l.strip()]
err = [l for l in lines if l.get("level") == "error"]
assert err and "container does not exist" in err[-1]["msg"], lines' "$work/$rt-log.json"

  # Exit codes of run.
  bundle_for sh -c 'exit 3'
  rtc "$rt" run --bundle "$bundle" exit3
  check "$rt: run exits with the container's status" rc_is 3
  bundle_for sh -c 'kill -TERM $$; exit 4'
  rtc "$rt" run --bundle "$bundle" selfterm
  check "$rt: init ignores its own SIGTERM (pid 1)" rc_is 4
  check "$rt: run leaves no state" no_state "$rt"

  # Concurrent creates of one id: exactly one wins, the losers change
  # nothing. (palisade only: runc 1.1.5 here lets all four fail, with
  # "unable to store init state" and "exec fifo ... already exists".)
  [[ $rt == runc ]] && continue
  bundle_for sleep 100
  for i in 1 2 3 4; do
    # shellcheck disable=SC2046
    timeout 60 $(rt_cmd "$rt") create --bundle "$bundle" racer </dev/null >/dev/null 2>"$work/race-$i.err" &
  done
  wins=0
  for job in $(jobs -p); do wait "$job" && wins=$((wins + 1)); done
  RC=$wins
  ERR=$(cat "$work"/race-*.err)
  check "$rt: concurrent create: exactly one wins" rc_is 1
  check "$rt: concurrent create: losers say the id exists" \
    [ "$(cat "$work"/race-*.err | grep -c "container with given ID already exists")" -eq 3 ]
  check "$rt: concurrent create: the winner is intact" [ "$(status_of "$rt" racer)" = created ]
  rtc "$rt" delete racer
  check "$rt: after delete nothing is left" no_state "$rt"
done

finish
