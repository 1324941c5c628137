#!/usr/bin/env python3
"""Writes or edits an OCI runtime config.json for test and demo bundles.

  oci-config.py new BUNDLE [--rootfs PATH] [--hostname NAME] -- ARGS...
      Writes BUNDLE/config.json: a minimal runc-style spec (ociVersion
      1.0.2, uid 0, no terminal, /proc, /dev tmpfs, /tmp tmpfs, pid/ipc/uts/
      mount/network namespaces) running ARGS in PATH (default BUNDLE/rootfs).

  oci-config.py set-args CONFIG -- ARGS...
      Sets process.args to ARGS and process.terminal to false in an existing
      config.json (e.g. one made by `palisade spec`).
"""
import argparse
import json
import sys

CAPS = ["CAP_CHOWN", "CAP_DAC_OVERRIDE", "CAP_FSETID", "CAP_FOWNER", "CAP_MKNOD",
        "CAP_NET_RAW", "CAP_SETGID", "CAP_SETUID", "CAP_SETFCAP", "CAP_SETPCAP",
        "CAP_NET_BIND_SERVICE", "CAP_SYS_CHROOT", "CAP_KILL", "CAP_AUDIT_WRITE"]


def new_config(rootfs, hostname, args):
    return {
        "ociVersion": "1.0.2",
        "process": {
            "terminal": False,
            "user": {"uid": 0, "gid": 0},
            "args": args,
            "env": ["PATH=/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin",
                    "HOME=/root", "TERM=xterm"],
            "cwd": "/",
            "capabilities": {k: CAPS for k in ("bounding", "effective", "permitted")},
            "rlimits": [{"type": "RLIMIT_NOFILE", "hard": 1024, "soft": 1024}],
            "noNewPrivileges": True,
        },
        "root": {"path": rootfs, "readonly": False},
        "hostname": hostname,
        "mounts": [
            {"destination": "/proc", "type": "proc", "source": "proc"},
            {"destination": "/dev", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "strictatime", "mode=755", "size=65536k"]},
            {"destination": "/tmp", "type": "tmpfs", "source": "tmpfs",
             "options": ["nosuid", "nodev", "mode=1777"]},
        ],
        "linux": {
            "namespaces": [{"type": t} for t in ("pid", "ipc", "uts", "mount", "network")],
        },
    }


def main(argv):
    if "--" not in argv:
        sys.exit("oci-config.py: put the container's arguments after --")
    split = argv.index("--")
    opts, args = argv[:split], argv[split + 1:]
    if not args:
        sys.exit("oci-config.py: no container arguments after --")
    p = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    sub = p.add_subparsers(dest="cmd", required=True)
    n = sub.add_parser("new")
    n.add_argument("bundle")
    n.add_argument("--rootfs")
    n.add_argument("--hostname", default="palisade")
    s = sub.add_parser("set-args")
    s.add_argument("config")
    o = p.parse_args(opts)
    if o.cmd == "new":
        config = new_config(o.rootfs or o.bundle + "/rootfs", o.hostname, args)
        path = o.bundle + "/config.json"
    else:
        path = o.config
        with open(path) as f:
            config = json.load(f)
        config.setdefault("process", {})["args"] = args
        config["process"]["terminal"] = False
    with open(path, "w") as f:
        json.dump(config, f, indent=2)
        f.write("\n")


if __name__ == "__main__":
    main(sys.argv[1:])
