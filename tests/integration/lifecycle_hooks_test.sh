#!/bin/bash
# OCI hooks with runc's timing: prestart, createRuntime and createContainer
# during `create`, poststart during `start`, poststop during `delete`
# (startContainer resolves inside the container under runc, so it is
# checked for palisade alone, which runs it on the host before start); each gets the state JSON on stdin; a failing
# createRuntime hook fails `create` and leaves nothing behind; a hook past
# its timeout is killed.
#
#   lifecycle_hooks_test.sh <path-to-palisade>
set -uo pipefail
source "$(dirname "${BASH_SOURCE[0]}")/lifecycle_lib.sh"

# The hook appends "<kind> <status> <id>" (read from the state JSON on
# stdin) to a log on the host.
hook=$work/hook.sh
cat >"$hook" <<'SH'
#!/bin/sh
state=$(cat)
status=$(echo "$state" | sed -n 's/.*"status": *"\([a-z]*\)".*/\1/p')
id=$(echo "$state" | sed -n 's/.*"id": *"\([^"]*\)".*/\1/p')
echo "$1 $status $id" >>"$2"
SH
chmod +x "$hook"

for rt in "${runtimes[@]}"; do
  log=$work/hooks-$rt.log
  : >"$log"
  edit='c["hooks"] = {k: [{"path": "'$hook'", "args": ["hook", k, "'$log'"]}] for k in
        ["prestart", "createRuntime", "createContainer", "poststart", "poststop"]}'
  [[ $rt == palisade ]] && edit+='; c["hooks"]["startContainer"] = [{"path": "'$hook'", "args": ["hook", "startContainer", "'$log'"]}]'
  CONFIG_EDIT=$edit bundle_for sleep 100
  id=hooks-$rt-$$
  rtc "$rt" create --bundle "$bundle" "$id"
  check "$rt: create with hooks" rc_is 0
  # (runc 1.1.5 also runs poststart here, during create: not copied.)
  check "$rt: create ran prestart, createRuntime, createContainer with the state" \
    [ "$(head -n 3 "$log" | tr '\n' ',')" = "prestart creating $id,createRuntime creating $id,createContainer creating $id," ]
  rtc "$rt" start "$id"
  want="poststart"
  [[ $rt == palisade ]] && want="startContainer,poststart"
  check "$rt: start ran the start hooks" \
    eval '[[ $(cut -d" " -f1 "$log" | tail -n +4 | tr "\n" ,) == *"$want," ]]'
  rtc "$rt" delete --force "$id"
  check "$rt: delete ran poststop" eval '[[ $(tail -n 1 "$log") == "poststop stopped $id" ]]'

  CONFIG_EDIT='c["hooks"] = {"createRuntime": [{"path": "/bin/false"}]}' bundle_for sleep 100
  rtc "$rt" create --bundle "$bundle" "$id-fail"
  check "$rt: a failing createRuntime hook fails create" eval '! rc_is 0'
  check "$rt: ... and leaves no container" [ "$(status_of "$rt" "$id-fail")" = gone ]
  rtc_quiet "$rt" delete --force "$id-fail" >/dev/null 2>&1

  CONFIG_EDIT='c["hooks"] = {"createRuntime": [{"path": "/bin/sleep", "args": ["sleep", "30"], "timeout": 1}]}' \
    bundle_for sleep 100
  start=$(date +%s)
  rtc "$rt" create --bundle "$bundle" "$id-slow"
  took=$(($(date +%s) - start))
  check "$rt: a hook past its timeout fails create within seconds ($took s)" eval '! rc_is 0 && [ $took -lt 20 ]'
  rtc_quiet "$rt" delete --force "$id-slow" >/dev/null 2>&1
done

finish
