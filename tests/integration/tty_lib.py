"""Shared by the Python integration tests: TAP output, a busybox bundle,
and a program driven through a pty as a person at a terminal would."""
import fcntl
import os
import re
import select
import struct
import subprocess
import sys
import termios
import time

HERE = os.path.dirname(os.path.abspath(__file__))
REPO = os.path.dirname(os.path.dirname(HERE))
# Generous: the suite runs on a loaded 2-core machine.
TIMEOUT = float(os.environ.get("PALISADE_TEST_TIMEOUT", "60"))


class Tap:
    def __init__(self):
        self.n = self.failed = 0

    def check(self, cond, what, detail=""):
        self.n += 1
        if cond:
            print(f"ok {self.n} - {what}", flush=True)
        else:
            self.failed += 1
            print(f"not ok {self.n} - {what}", flush=True)
            for line in str(detail).splitlines()[-15:]:
                print(f"#   {line}", flush=True)
        return cond

    def finish(self):
        name = os.path.basename(sys.argv[0])
        print(f"{name}: {self.n - self.failed} passed, {self.failed} failed")
        sys.exit(1 if self.failed or self.n == 0 else 0)


def busybox_bundle(bundle, args, terminal=True, hostname="tty"):
    """Writes a busybox rootfs and a config.json running args in bundle."""
    rootfs = os.path.join(bundle, "rootfs")
    subprocess.run(["bash", "-c", f'source "{REPO}/scripts/lib/busybox-rootfs.sh" && '
                    f'make_busybox_rootfs "{rootfs}"'], check=True)
    subprocess.run([sys.executable, f"{REPO}/scripts/lib/oci-config.py", "new", bundle,
                    "--rootfs", rootfs, "--hostname", hostname, "--", *args], check=True)
    path = os.path.join(bundle, "config.json")
    with open(path) as f:
        c = __import__("json").load(f)
    c["process"]["terminal"] = terminal
    with open(path, "w") as f:
        __import__("json").dump(c, f, indent=1)
    return rootfs


def set_winsize(fd, rows, cols):
    fcntl.ioctl(fd, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


class PtySession:
    """argv run with a new pty as its stdin, stdout and stderr; the test
    holds the master and types into it."""

    def __init__(self, argv, rows=24, cols=80, env=None):
        self.master, self.slave = os.openpty()
        set_winsize(self.master, rows, cols)
        self.mode_before = termios.tcgetattr(self.slave)
        self.proc = subprocess.Popen(argv, stdin=self.slave, stdout=self.slave,
                                     stderr=self.slave, start_new_session=True,
                                     env=env, close_fds=True)
        self.seen = b""

    def send(self, text):
        os.write(self.master, text.encode() if isinstance(text, str) else text)

    def expect(self, pattern, timeout=TIMEOUT):
        """Reads until pattern (a regex on the text seen since the last
        match) shows up; returns the match or None."""
        rx = re.compile(pattern.encode() if isinstance(pattern, str) else pattern)
        deadline = time.monotonic() + timeout
        while True:
            m = rx.search(self.seen)
            if m:
                self.seen = self.seen[m.end():]
                return m
            left = deadline - time.monotonic()
            if left <= 0:
                return None
            r, _, _ = select.select([self.master], [], [], min(left, 0.5))
            if r:
                try:
                    data = os.read(self.master, 4096)
                except OSError:  # EIO: every replica end closed
                    data = b""
                if not data:
                    if self.proc.poll() is not None:
                        m = rx.search(self.seen)
                        if m:
                            self.seen = self.seen[m.end():]
                        return m
                    time.sleep(0.05)
                self.seen += data

    def wait(self, timeout=TIMEOUT):
        try:
            return self.proc.wait(timeout=timeout)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            return None

    def close(self):
        if self.proc.poll() is None:
            self.proc.kill()
            self.proc.wait()
        for fd in (self.master, self.slave):
            try:
                os.close(fd)
            except OSError:
                pass
