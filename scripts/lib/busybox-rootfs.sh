# Sourced by scripts/demo and tests/integration/busybox_run_test.sh.
#
# make_busybox_rootfs DIR: fills DIR with a minimal root filesystem made of
# Debian's busybox-static (/bin/busybox) and one symlink per applet, at the
# path busybox itself reports (`busybox --list-full`), plus the usual empty
# mount points and a tiny /etc. Idempotent: an existing DIR is refreshed.

make_busybox_rootfs() {
  local root=$1
  local busybox=${BUSYBOX:-/bin/busybox}
  if [[ ! -x $busybox ]]; then
    echo "make_busybox_rootfs: $busybox not found (apt-get install busybox-static)" >&2
    return 1
  fi
  if ! "$busybox" --list-full >/dev/null 2>&1; then
    echo "make_busybox_rootfs: $busybox does not support --list-full" >&2
    return 1
  fi
  mkdir -p "$root"/{bin,sbin,usr/bin,usr/sbin,etc,proc,dev,sys,tmp,root,var}
  chmod 1777 "$root/tmp"
  cp -f "$busybox" "$root/bin/busybox"
  local applet
  while read -r applet; do
    [[ -z $applet || $applet == bin/busybox ]] && continue
    mkdir -p "$root/$(dirname "$applet")"
    ln -sfn /bin/busybox "$root/$applet"
  done < <("$busybox" --list-full)
  printf 'root:x:0:0:root:/root:/bin/sh\nnobody:x:65534:65534:nobody:/:/bin/false\n' \
    >"$root/etc/passwd"
  printf 'root:x:0:\nnogroup:x:65534:\n' >"$root/etc/group"
}
