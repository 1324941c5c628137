#!/usr/bin/env python3
"""palisade behind real container engines, as users plug it in
(docs/usage.md): podman with --runtime, and containerd's runc shim with
palisade as its runc binary. Each engine gets private state under a temp
dir (its own storage, runroot, containerd root and socket), so the host's
engines are not touched.

  engines_test.py PALISADE podman|containerd
"""
import os
import shutil
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tty_lib import TIMEOUT, PtySession, Tap, busybox_bundle  # noqa: E402

# Debian 12's podman defaults exceed this kind of VM's hard limits (HOST-NOTES).
ULIMITS = ["--ulimit", "nofile=1024:1024", "--ulimit", "nproc=1024:1024"]


def run(argv, timeout=TIMEOUT, **kw):
    try:
        return subprocess.run(argv, capture_output=True, text=True, timeout=timeout, **kw)
    except subprocess.TimeoutExpired as e:
        return subprocess.CompletedProcess(argv, 124, e.stdout or "", f"timed out: {argv}")


def detail(r):
    return f"$ {' '.join(r.args)}\nrc={r.returncode}\nstdout: {r.stdout}\nstderr: {r.stderr}"


def podman_tests(tap, palisade, work, rootfs):
    podman = ["podman", "--root", f"{work}/storage", "--runroot", f"{work}/run",
              "--storage-driver", "vfs", "--cgroup-manager", "cgroupfs",
              "--events-backend", "file", "--runtime", palisade]
    tar = subprocess.Popen(["tar", "-C", rootfs, "-c", "."], stdout=subprocess.PIPE)
    r = run(podman + ["import", "-", "palisade-bb"], stdin=tar.stdout)
    tar.wait()
    if not tap.check(r.returncode == 0, "podman imports the busybox rootfs", detail(r)):
        return
    img = "localhost/palisade-bb:latest"

    r = run(podman + ["run", "--rm", *ULIMITS, img, "echo", "hi"])
    tap.check(r.returncode == 0 and r.stdout == "hi\n", "podman run --rm IMAGE echo hi", detail(r))
    r = run(podman + ["run", "--rm", *ULIMITS, img, "sh", "-c", "exit 3"])
    tap.check(r.returncode == 3, "podman run passes on the exit status", detail(r))
    r = run(podman + ["run", "--rm", *ULIMITS, img, "sh", "-c", "cat /proc/self/status"])
    tap.check(r.returncode == 0 and "Seccomp:" in r.stdout and "NoNewPrivs" in r.stdout,
              "the container sees the sandbox's /proc", detail(r))

    s = PtySession(podman + ["run", "-it", "--rm", *ULIMITS, img, "sh"], rows=30, cols=90)
    try:
        s.send("PS1='pod''> '\r")
        tap.check(s.expect(r"pod> ") is not None, "podman run -it: a shell prompt", s.seen)
        s.send("tty; stty size\r")
        m = s.expect(r"(/dev/pts/\d+|not a tty)\r\n(\d+ \d+)")
        tap.check(m is not None and m.group(1).startswith(b"/dev/pts/") and m.group(2) == b"30 90",
                  "podman run -it: a sandbox pty with the caller's window size", s.seen)
        s.send("echo sum=$((6*7))\r")
        tap.check(s.expect(r"sum=42") is not None, "podman run -it: typed commands run", s.seen)
        s.send("exit 5\r")
        rc = s.wait()
        tap.check(rc == 5, f"podman run -it: exit status 5 (got {rc})", s.seen)
    finally:
        s.close()

    r = run(podman + ["run", "-d", *ULIMITS, img, "sleep", "60"])
    cid = r.stdout.strip()
    if not tap.check(r.returncode == 0 and cid, "podman run -d", detail(r)):
        return
    r = run(podman + ["exec", cid, "sh", "-c", "echo in-exec; exit 4"])
    tap.check(r.returncode == 4 and r.stdout == "in-exec\n", "podman exec into the running container", detail(r))
    s = PtySession(podman + ["exec", "-it", cid, "sh"])
    try:
        s.send("PS1='ex''> '\r")
        tap.check(s.expect(r"ex> ") is not None, "podman exec -it: a shell prompt", s.seen)
        s.send("tty\r")
        m = s.expect(r"(/dev/pts/\d+|not a tty)")
        tap.check(m is not None and m.group(1).startswith(b"/dev/pts/"), "podman exec -it: a sandbox pty", s.seen)
        s.send("exit 6\r")
        rc = s.wait()
        tap.check(rc == 6, f"podman exec -it: exit status 6 (got {rc})", s.seen)
    finally:
        s.close()
    r = run(podman + ["pause", cid])
    st = run(podman + ["inspect", "-f", "{{.State.Status}}", cid])
    tap.check(r.returncode == 0 and st.stdout.strip() == "paused", "podman pause", detail(r) + detail(st))
    r = run(podman + ["unpause", cid])
    st = run(podman + ["inspect", "-f", "{{.State.Status}}", cid])
    tap.check(r.returncode == 0 and st.stdout.strip() == "running", "podman unpause", detail(r) + detail(st))
    # sleep as the container's init has no SIGTERM handler: it ignores
    # SIGTERM (as under runc), so stop ends with SIGKILL after 1 s.
    r = run(podman + ["stop", "-t", "1", cid])
    st = run(podman + ["inspect", "-f", "{{.State.Status}} {{.State.ExitCode}}", cid])
    tap.check(r.returncode == 0 and st.stdout.strip() == "exited 137", "podman stop", detail(r) + detail(st))
    r = run(podman + ["rm", cid])
    tap.check(r.returncode == 0, "podman rm", detail(r))
    left = run(["pgrep", "-a", "-f", cid])
    tap.check(left.stdout.strip() == "", "nothing of the container is left running", detail(left))


def containerd_tests(tap, palisade, work, rootfs):
    addr = f"{work}/containerd.sock"
    cfg = f"{work}/containerd.toml"
    with open(cfg, "w") as f:
        f.write("version = 2\n")
    log = open(f"{work}/containerd.log", "w")
    daemon = subprocess.Popen(["containerd", "--config", cfg, "--root", f"{work}/root",
                               "--state", f"{work}/state", "--address", addr],
                              stdout=log, stderr=log, start_new_session=True)
    try:
        for _ in range(200):
            if os.path.exists(addr):
                break
            time.sleep(0.1)
        if not tap.check(os.path.exists(addr), "a private containerd starts"):
            return
        # The shim keeps runc state in /run/containerd/runc/<namespace>,
        # whatever containerd's --root: a namespace of our own.
        ns = f"palisade-test-{os.getpid()}"
        ctr = ["ctr", "--address", addr, "--namespace", ns]
        # An OCI image archive made by hand from the rootfs: podman (the
        # packaged way to write one) is not needed for this part.
        archive = f"{work}/image.tar"
        r = run([sys.executable, os.path.join(os.path.dirname(os.path.abspath(__file__)),
                                              "oci_archive.py"), rootfs, archive,
                 "localhost/palisade-bb:latest"])
        if not tap.check(r.returncode == 0, "an OCI image archive of the busybox rootfs", detail(r)):
            return
        r = run(ctr + ["image", "import", archive])
        if not tap.check(r.returncode == 0, "ctr image import", detail(r)):
            return
        img = "localhost/palisade-bb:latest"
        runtime = ["--runtime", "io.containerd.runc.v2", "--runc-binary", palisade]

        r = run(ctr + ["run", "--rm", *runtime, img, "c-echo", "echo", "hi from containerd"])
        tap.check(r.returncode == 0 and r.stdout == "hi from containerd\n",
                  "ctr run --runc-binary palisade IMAGE echo", detail(r))
        r = run(ctr + ["run", "--rm", *runtime, img, "c-exit", "sh", "-c", "exit 6"])
        tap.check(r.returncode == 6, "ctr run passes on the exit status", detail(r))

        s = PtySession(ctr + ["run", "-t", "--rm", *runtime, img, "c-tty", "sh"])
        try:
            s.send("PS1='ctr''> '\r")  # the echo of this line shows ctr''>
            tap.check(s.expect(r"ctr> ") is not None, "ctr run -t: a shell prompt", s.seen)
            s.send("tty\r")
            m = s.expect(r"(/dev/pts/\d+|not a tty)")
            tap.check(m is not None and m.group(1).startswith(b"/dev/pts/"), "ctr run -t: a sandbox pty", s.seen)
            s.send("exit 2\r")
            rc = s.wait()
            tap.check(rc == 2, f"ctr run -t: exit status 2 (got {rc})", s.seen)
        finally:
            s.close()

        r = run(ctr + ["run", "-d", *runtime, img, "c-bg", "sleep", "60"])
        if tap.check(r.returncode == 0, "ctr run -d", detail(r)):
            r = run(ctr + ["task", "exec", "--exec-id", "e1", "c-bg", "sh", "-c", "echo in-exec; exit 3"])
            tap.check(r.returncode == 3 and r.stdout == "in-exec\n", "ctr task exec", detail(r))
            r = run(ctr + ["task", "ps", "c-bg"])
            tap.check(r.returncode == 0 and len(r.stdout.strip().splitlines()) >= 2, "ctr task ps", detail(r))
            r = run(ctr + ["task", "kill", "-s", "SIGKILL", "c-bg"])
            tap.check(r.returncode == 0, "ctr task kill -s SIGKILL", detail(r))
            gone = False
            for _ in range(100):
                st = run(ctr + ["task", "ls"])
                if "c-bg" not in st.stdout or "STOPPED" in st.stdout:
                    gone = True
                    break
                time.sleep(0.2)
            tap.check(gone, "the killed task stops", st.stdout)
            r = run(ctr + ["task", "rm", "c-bg"])
            r2 = run(ctr + ["container", "rm", "c-bg"])
            tap.check(r2.returncode == 0, "ctr container rm", detail(r) + detail(r2))
    finally:
        state = f"/run/containerd/runc/palisade-test-{os.getpid()}"
        for cid in ("c-echo", "c-exit", "c-tty", "c-bg"):
            run([palisade, "--root", state, "delete", "--force", cid])
        shutil.rmtree(state, ignore_errors=True)
        os.killpg(daemon.pid, 15)
        try:
            daemon.wait(timeout=20)
        except subprocess.TimeoutExpired:
            os.killpg(daemon.pid, 9)
        log.close()
        subprocess.run(["pkill", "-f", f"containerd-shim.*{addr}"], capture_output=True)


def main():
    tap = Tap()
    palisade = os.path.abspath(sys.argv[1]) if len(sys.argv) > 1 else ""
    engine = sys.argv[2] if len(sys.argv) > 2 else ""
    if not os.access(palisade, os.X_OK):
        tap.check(False, f"palisade executable at '{palisade}'")
        tap.finish()
    tool = {"podman": "podman", "containerd": "ctr"}.get(engine)
    if not tool or not shutil.which(tool):
        tap.check(False, f"engine '{engine}' is installed (scripts/install-deps installs podman and containerd)")
        tap.finish()
    # Not under /tmp: podman's vfs storage and containerd's snapshots are big.
    work = tempfile.mkdtemp(prefix=f"palisade-{engine}.", dir="/var/tmp")
    try:
        rootfs = busybox_bundle(os.path.join(work, "bundle"), ["true"])
        (podman_tests if engine == "podman" else containerd_tests)(tap, palisade, work, rootfs)
    finally:
        subprocess.run(["umount", "-R", "-l", work], capture_output=True)
        shutil.rmtree(work, ignore_errors=True)
    tap.finish()


if __name__ == "__main__":
    main()
