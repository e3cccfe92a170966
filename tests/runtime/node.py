"""A QEMU node driven over its serial console (runtime lane of the test harness).

The guest's ttyS0 autologins root (tests/runtime/test-rootfs, harness-only), the
driver turns echo off and sets a unique prompt, and every command's exit code is
read back from a marker the shell prints after it.  On any failure the caller
prints the console log and the exact qemu command line (Node.describe()).
"""

import re
import shlex
import time

import pexpect

PROMPT = "__B4K_PS__ "
SHELL_READY = re.compile(r"root@[\w-]+:[^\r\n]*# ")


class NodeError(Exception):
    """A console wait timed out or the node stopped."""


class Node:
    """One QEMU TCG machine; `cmd` is the full qemu argv, `log` the console log path."""

    def __init__(self, cmd, log):
        self.cmd = cmd
        self.log_path = log
        self.logf = open(log, "w", encoding="utf-8", errors="replace")
        self.child = None
        self.started = None

    def describe(self):
        """The qemu command line, pasteable into a shell, and where the log is."""
        return "qemu command:\n  %s\nconsole log: %s" % (
            " ".join(shlex.quote(a) for a in self.cmd), self.log_path)

    def start(self):
        """Power on."""
        self.started = time.monotonic()
        self.child = pexpect.spawn(self.cmd[0], self.cmd[1:], encoding="utf-8",
                                   codec_errors="replace", timeout=60,
                                   logfile=self.logf, maxread=65536)

    def expect(self, pattern, timeout):
        """Wait for `pattern` on the console; NodeError on timeout or exit."""
        try:
            return self.child.expect(pattern, timeout=timeout)
        except pexpect.TIMEOUT:
            raise NodeError("timeout after %ss waiting for %r" % (timeout, pattern)) from None
        except pexpect.EOF:
            raise NodeError("qemu exited while waiting for %r" % (pattern,)) from None

    def login(self, timeout):
        """Wait for the autologin shell and make it scriptable."""
        self.expect(SHELL_READY, timeout)
        time.sleep(1)
        # Without readline (which echoes by itself) and tty echo, the console
        # shows only what commands print; SIGRTMIN+21 stops systemd's status
        # lines on the console (systemd(1), "Signals").
        self.child.send("set +o emacs +o vi; stty -echo; dmesg -n 1; kill -s RTMIN+21 1; export PS1='%s' TERM=dumb "
                        "SYSTEMD_PAGER= SYSTEMD_COLORS=0 PAGER=cat\r" % PROMPT)
        self.expect(re.escape(PROMPT), 60)

    def run(self, command, timeout=120):
        """Run `command` in the guest shell; return (exit code, output)."""
        self.child.send("%s; echo __RC=$?__\r" % command)
        self.expect(r"__RC=(\d+)__[\r\n]+" + re.escape(PROMPT), timeout)
        rc = int(self.child.match.group(1))
        out = self.child.before.replace("\r", "")
        # the console may echo the command line: drop it
        marker = "echo __RC=$?__"
        if marker in out:
            out = out.split(marker, 1)[1]
        return rc, out.strip("\n")

    def reboot(self, timeout):
        """Reboot from inside and log in again."""
        self.child.send("systemctl reboot\r")
        self.login(timeout)

    def stop(self):
        """Power off (or kill qemu if it does not stop)."""
        if self.child is None:
            return
        if self.child.isalive():
            try:
                self.child.send("systemctl poweroff\r")
                self.child.expect(pexpect.EOF, timeout=180)
            except (pexpect.TIMEOUT, OSError):
                self.child.terminate(force=True)
        self.child.close()
        self.logf.close()
