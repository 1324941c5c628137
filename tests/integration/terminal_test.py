#!/usr/bin/env python3
"""process.terminal, used interactively: `palisade run` from a terminal
gives the container a pty of the sandbox's own (/dev/pts/N inside) and
relays it to the caller's; the shell in it has job control (^C), sees the
window size and its changes, and the caller's terminal settings come back
when it ends.

  terminal_test.py PALISADE
"""
import os
import sys
import tempfile
import termios
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
from tty_lib import PtySession, Tap, busybox_bundle, set_winsize  # noqa: E402


def main():
    tap = Tap()
    palisade = sys.argv[1] if len(sys.argv) > 1 else ""
    if not os.access(palisade, os.X_OK):
        tap.check(False, f"palisade executable at '{palisade}'")
        tap.finish()
    work = tempfile.mkdtemp(prefix="palisade-tty.")
    bundle = os.path.join(work, "bundle")
    busybox_bundle(bundle, ["/bin/sh"])
    glob = [palisade, "--root", os.path.join(work, "state")]
    if os.environ.get("PALISADE_PLATFORM"):
        glob.append("--platform=" + os.environ["PALISADE_PLATFORM"])

    s = PtySession(glob + ["run", "--bundle", bundle, f"tty-{os.getpid()}"], rows=33, cols=101)
    try:
        s.send("PS1='pal''> '\r")  # its echo shows pal''>, only the prompt matches
        tap.check(s.expect(r"pal> ") is not None, "the shell prompts on the terminal", s.seen)
        s.send("tty\r")
        m = s.expect(r"(/dev/pts/\d+|not a tty)")
        tap.check(m is not None and m.group(1).startswith(b"/dev/pts/"),
                  "tty(1) names a /dev/pts device of the sandbox", s.seen)
        s.send("[ -t 0 ] && [ -t 1 ] && echo both-ttys\r")
        tap.check(s.expect(r"both-ttys\r\n") is not None, "stdin and stdout are terminals", s.seen)
        s.send("echo sum=$((6*7))\r")
        tap.check(s.expect(r"sum=42") is not None, "typed input runs and its output comes back", s.seen)
        s.send("stty size\r")
        tap.check(s.expect(r"33 101") is not None, "the window size is the caller's (33x101)", s.seen)

        set_winsize(s.master, 50, 120)
        resized = False
        for _ in range(20):
            time.sleep(0.3)  # the relay re-reads the size every 200 ms
            s.send("echo size=$(stty size)\r")
            m = s.expect(r"size=(\d+ \d+)")
            if m and m.group(1) == b"50 120":
                resized = True
                break
        tap.check(resized, "a window change of the caller's terminal reaches the sandbox", s.seen)

        s.send("sleep 60\r")
        time.sleep(1.0)
        s.send("\x03")  # ^C: SIGINT to the foreground job through the sandbox's line discipline
        s.send("echo status=$?\r")
        m = s.expect(r"status=(\d+)", timeout=20)
        tap.check(m is not None and m.group(1) == b"130",
                  "^C interrupts the foreground job (sleep dies of SIGINT: status 130)", s.seen)

        s.send("exit 7\r")
        rc = s.wait()
        tap.check(rc == 7, f"the container's exit status is palisade's (got {rc})", s.seen)
        mode_after = termios.tcgetattr(s.slave)
        tap.check(mode_after == s.mode_before,
                  "the caller's terminal settings are restored afterwards",
                  f"before {s.mode_before}\nafter  {mode_after}")
    finally:
        s.close()
        os.system(f"rm -rf '{work}'")
    tap.finish()


if __name__ == "__main__":
    main()
