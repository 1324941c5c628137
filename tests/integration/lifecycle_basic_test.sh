#!/bin/bash
# The OCI lifecycle through create/start/state/kill/delete/list/ps/pause/
# resume/events/exec, with runc's states, exit codes and error messages:
# every check runs under runc first (when it works here) and then under
# palisade, on the same busybox bundle.
#
#   lifecycle_basic_test.sh <path-to-palisade>
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lifecycle_lib.sh"

for rt in "${runtimes[@]}"; do
  id=lc-$rt-$$
  bundle_for sleep 100
  rtc "$rt" create --bundle "$bundle" --pid-file "$work/$rt.pid" "$id"
  check "$rt: create exits 0" rc_is 0
  check "$rt: state after create is created" [ "$(status_of "$rt" "$id")" = created ]
  rtc "$rt" state "$id"
  pid=$(python3 -c 'import json,sys; print(json.load(sys.stdin)["pid"])' <<<"$OUT" 2>/dev/null)
  check "$rt: state has ociVersion, id, pid, bundle, rootfs, created, owner" \
    python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert {"ociVersion","id","status","pid","bundle","rootfs","created","owner"} <= d.keys() and d["pid"] > 0 and d["bundle"] == sys.argv[2]' "$OUT" "$bundle"
  check "$rt: --pid-file names the state's pid, a live process" \
    [ "$(cat "$work/$rt.pid" 2>/dev/null)" = "$pid" -a -d "/proc/$pid" ]

  rtc "$rt" create --bundle "$bundle" "$id"
  check "$rt: duplicate id is refused" eval 'rc_is 1 && err_has "container with given ID already exists"'
  check "$rt: the first container survives a duplicate create" [ "$(status_of "$rt" "$id")" = created ]

  rtc "$rt" start "$id"
  check "$rt: start exits 0" rc_is 0
  check "$rt: state after start is running" [ "$(status_of "$rt" "$id")" = running ]
  rtc "$rt" start "$id"
  check "$rt: second start is refused" eval 'rc_is 1 && err_has "cannot start an already running container"'

  rtc "$rt" list
  check "$rt: list shows the container running" eval 'rc_is 0 && out_has "ID " && [[ $(grep "^$id " <<<"$OUT") == *running* ]]'
  rtc "$rt" list --format json
  check "$rt: list --format json" python3 -c 'import json,sys; l=json.loads(sys.argv[1]); assert [c["status"] for c in l if c["id"]==sys.argv[2]] == ["running"]' "$OUT" "$id"
  rtc "$rt" list -q
  check "$rt: list -q prints the id" [ "$OUT" = "$id" ]
  rtc "$rt" ps --format json "$id"
  check "$rt: ps --format json is a non-empty array of pids" python3 -c 'import json,sys; l=json.loads(sys.argv[1]); assert l and all(isinstance(p,int) for p in l)' "$OUT"

  rtc "$rt" events --stats "$id"
  check "$rt: events --stats prints a stats event" python3 -c 'import json,sys; d=json.loads(sys.argv[1]); assert d["type"]=="stats" and d["id"]==sys.argv[2] and "memory" in d["data"] and "pids" in d["data"]' "$OUT" "$id"

  rtc "$rt" exec "$id" echo hi from exec
  check "$rt: exec prints" eval 'rc_is 0 && [[ $OUT == "hi from exec" ]]'
  rtc "$rt" exec "$id" sh -c 'exit 5'
  check "$rt: exec exits with the process's status" rc_is 5
  rtc "$rt" exec --env FOO=bar --cwd /tmp "$id" sh -c 'echo $FOO $PWD'
  check "$rt: exec --env --cwd" eval 'rc_is 0 && [[ $OUT == "bar /tmp" ]]'
  echo '{"args":["sh","-c","echo from process.json $A"],"env":["A=1","PATH=/bin"],"cwd":"/","user":{"uid":0,"gid":0}}' >"$work/process.json"
  rtc "$rt" exec --process "$work/process.json" "$id"
  check "$rt: exec --process" eval 'rc_is 0 && [[ $OUT == "from process.json 1" ]]'
  rtc "$rt" exec "$id" /bin/no-such-program
  check "$rt: exec of a missing program fails" eval '! rc_is 0'

  rtc "$rt" delete "$id"
  check "$rt: delete of a running container is refused" \
    eval 'rc_is 1 && err_has "cannot delete container $id that is not stopped: running"'

  rtc "$rt" kill "$id" FOO
  check "$rt: bad signal name" eval 'rc_is 1 && err_has "unknown signal" && err_has FOO'
  rtc "$rt" kill "$id" SIGFOO
  check "$rt: bad SIG-name" eval 'rc_is 1 && err_has "unknown signal" && err_has SIGFOO'

  rtc "$rt" pause "$id"
  check "$rt: pause" eval 'rc_is 0 && [ "$(status_of "$rt" "$id")" = paused ]'
  rtc "$rt" resume "$id"
  check "$rt: resume" eval 'rc_is 0 && [ "$(status_of "$rt" "$id")" = running ]'

  rtc "$rt" kill "$id" 9
  check "$rt: kill by number" rc_is 0
  check "$rt: the container stops after SIGKILL" wait_status "$rt" "$id" stopped
  check "$rt: its process is gone" eval '! [ -d /proc/$pid ] || grep -q "^State:.*Z" /proc/$pid/status'
  rtc "$rt" kill "$id" KILL
  check "$rt: kill of a stopped container" eval 'rc_is 1 && err_has "container not running"'
  rtc "$rt" start "$id"
  check "$rt: start of a stopped container" eval 'rc_is 1 && err_has "cannot start a container that has stopped"'
  rtc "$rt" delete "$id"
  check "$rt: delete of a stopped container" rc_is 0
  rtc "$rt" state "$id"
  check "$rt: state after delete" eval 'rc_is 1 && err_has "container does not exist"'
  check "$rt: no state left behind" [ ! -e "$work/state-$rt/$id" ]

  # SIGTERM by name with SIG, to a shell that traps it.
  bundle_for sh -c 'trap "exit 42" TERM; while :; do sleep 0.1; done'
  rtc "$rt" run -d --bundle "$bundle" "$id-term"
  check "$rt: run -d" eval 'rc_is 0 && [ "$(status_of "$rt" "$id-term")" = running ]'
  sleep 0.5
  rtc "$rt" kill "$id-term" SIGTERM
  check "$rt: kill SIGTERM" rc_is 0
  check "$rt: the trapping init exits" wait_status "$rt" "$id-term" stopped
  rtc "$rt" delete "$id-term"

  # An init with no handler for SIGTERM ignores it, even from outside (the
  # pid namespace's init: only SIGKILL and SIGSTOP are forced).
  bundle_for sleep 100
  rtc "$rt" run -d --bundle "$bundle" "$id-noterm"
  sleep 0.5
  rtc "$rt" kill "$id-noterm" TERM
  check "$rt: kill TERM of an init without a handler" rc_is 0
  sleep 1
  check "$rt: that init keeps running" eval '[ "$(status_of "$rt" "$id-noterm")" = running ]'
  rtc "$rt" delete --force "$id-noterm"

  # kill --all reaches every process.
  bundle_for sh -c 'sleep 100 & sleep 100 & wait'
  rtc "$rt" run -d --bundle "$bundle" "$id-all"
  sleep 0.5
  rtc "$rt" kill --all "$id-all" KILL
  check "$rt: kill --all" rc_is 0
  check "$rt: kill --all stops the container" wait_status "$rt" "$id-all" stopped
  rtc "$rt" delete --force "$id-all"

  # delete --force of a running container.
  bundle_for sleep 100
  rtc "$rt" run -d --bundle "$bundle" "$id-force"
  rtc "$rt" delete --force "$id-force"
  check "$rt: delete --force of a running container" eval 'rc_is 0 && [ "$(status_of "$rt" "$id-force")" = gone ]'

  # A created container can be deleted without --force; its process goes.
  rtc "$rt" create --bundle "$bundle" --pid-file "$work/$rt-c.pid" "$id-created"
  cpid=$(cat "$work/$rt-c.pid")
  rtc "$rt" delete "$id-created"
  check "$rt: delete of a created container" rc_is 0
  sleep 0.2
  check "$rt: its process is gone" eval '! [ -d /proc/$cpid ] || grep -q "^State:.*Z" /proc/$cpid/status'
done

finish
