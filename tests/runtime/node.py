"""A QEMU node driven over its serial console (runtime lane of the test harness).

The guest's ttyS0 autologins root (tests/runtime/test-rootfs, harness-only), the
driver turns echo off and sets a unique prompt, and every command's exit code is
read back from a marker the shell prints after it.  On any failure the caller
prints the console log and the exact qemu command line (Node.describe()).
"""

import json
import os
import re
import shlex
import socket
import time

import pexpect

PROMPT = "__B4K_PS__ "
# The root shell's prompt: Debian's bash "root@host:~# ", Buildroot's /etc/profile "# ".
SHELL_READY = re.compile(r"root@[\w-]+:[^\r\n]*# |\n# ")


def qemu_pc(disk, data, iso, netdev, nic, mem, *extra):
    """The qemu argv of a node: the pc disk image, the data disk, the images bundle
    as a CD-ROM, one virtio NIC (`netdev`, id n0; `nic`: extra -device options),
    2 vCPUs under TCG with every CPU feature TCG emulates (-cpu max: AES-NI and
    friends make Go's TLS much faster than qemu64's baseline). The two disks are
    cache=unsafe: QEMU ignores the guest's flushes, so etcd's fdatasync per write
    does not wait on the host's disk (e2e6 logged "etcdserver: request timed out"
    without it); the guest sees the same disks, only power-loss safety is gone."""
    return ["qemu-system-x86_64", "-M", "pc", "-cpu", "max", "-m", str(mem), "-smp", "2", *extra,
            "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-drive", "file=%s,format=raw,if=virtio,cache=unsafe" % disk,
            "-drive", "file=%s,format=raw,if=virtio,cache=unsafe" % data,
            "-drive", "file=%s,media=cdrom,readonly=on" % iso,
            "-netdev", netdev + ",id=n0", "-device", "virtio-net-pci,netdev=n0" + nic]


def qemu_raspi3b(images, card, stick, netdev, nic):
    """The qemu argv of a Raspberry Pi 3 B: QEMU's raspi3b (its fixed 1 GiB and four
    Cortex-A53) with the kernel Image, bcm2837-rpi-3-b.dtb and cmdline.txt of Buildroot's
    images directory `images` (what the GPU firmware would load from the card: QEMU does
    not run the firmware), the SD card `card` (its size must be a power of two), the
    network on usb-net (`netdev`, id n0; `nic`: extra -device options) and `stick`, a
    USB stick (the images bundle), both on the emulated DWC2 USB host."""
    size = os.stat(card).st_size
    if size & (size - 1):
        raise SystemExit("%s: %d bytes, not a power of two (QEMU's SD card needs one)" % (card, size))
    # The card's own cmdline.txt, plus one harness setting: systemd waits up to 10 min (not
    # 90 s) for a device. Under TCG on a loaded 2-core host, udev reached ttyAMA0 after
    # systemd's 90 s: "Timed out waiting for device /dev/ttyAMA0", no serial getty, no
    # console login (pi-cluster3, a Buildroot build beside it). A Pi sees its UART at once.
    cmdline = open(os.path.join(images, "rpi-firmware", "cmdline.txt")).read().strip()
    cmdline += " systemd.default_device_timeout_sec=600"
    return ["qemu-system-aarch64", "-M", "raspi3b", "-m", "1G",
            "-kernel", os.path.join(images, "Image"), "-dtb", os.path.join(images, "bcm2837-rpi-3-b.dtb"),
            "-append", cmdline, "-display", "none", "-monitor", "none", "-serial", "stdio",
            "-drive", "file=%s,format=raw,if=sd,cache=unsafe" % card,
            "-netdev", netdev + ",id=n0", "-device", "usb-net,netdev=n0" + nic,
            "-drive", "file=%s,format=raw,if=none,id=stick,readonly=on" % stick,
            "-device", "usb-storage,drive=stick"]


class NodeError(Exception):
    """A console wait timed out or the node stopped."""


class Node:
    """One QEMU TCG machine; `cmd` is the full qemu argv, `log` the console log path."""

    def __init__(self, cmd, log, runtime="docker", qmp=None):
        # qmp: a unix socket path for QEMU's machine protocol (pause, resume)
        self.qmp = qmp
        self.paused = False
        self.cmd = cmd + (["-qmp", "unix:%s,server=on,wait=off" % qmp] if qmp else [])
        # the container runtime the node's image was built with (docker or containerd)
        self.runtime = runtime
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
        # The prompt is spelt in two quoted halves: the console's echo of this line must
        # not match the prompt (it did once, and the next command's output began with it).
        half = len(PROMPT) // 2
        self.child.send("set +o emacs +o vi; stty -echo; dmesg -n 1; kill -s RTMIN+21 1; export PS1='%s''%s' "
                        "TERM=dumb SYSTEMD_PAGER= SYSTEMD_COLORS=0 PAGER=cat\r" % (PROMPT[:half], PROMPT[half:]))
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

    def until(self, test, timeout=1800):
        """Run the shell `test` every 10 s until it succeeds or `timeout` seconds pass;
        (its last exit code, its last output).  Unlike `kubectl wait`, an API server
        that restarts meanwhile (as it does under TCG) does not end the wait."""
        return self.run("end=$(($(date +%%s) + %d)); while :; do out=$( { %s ; } 2>&1); rc=$?; [ $rc -eq 0 ] && break; "
                        "[ $(date +%%s) -lt $end ] || break; sleep 10; done; printf '%%s\\n' \"$out\"; "
                        "[ $rc -eq 0 ]" % (timeout, test), timeout + 120)

    def wait_running(self, timeout):
        """`systemctl is-system-running --wait`: (multi-user reached, its state and the time since power-on)."""
        rc, out = self.run("systemctl is-system-running --wait", timeout)
        # console status lines may precede the state: take the last line
        lines = [x.strip() for x in out.splitlines() if x.strip()]
        st = lines[-1] if lines else ""
        return st in ("running", "degraded"), "%s after %.0fs from power-on" % (st, time.monotonic() - self.started)

    def reboot(self, timeout):
        """Reboot from inside and log in again (wait_running's time counts from here)."""
        self.started = time.monotonic()
        self.child.send("systemctl reboot\r")
        self.login(timeout)

    def failed_units(self):
        """`systemctl --failed` lists nothing (else each failed unit's last journal lines)."""
        rc, out = self.run("systemctl --failed --no-legend --plain --no-pager")
        if rc != 0 or not out.strip():
            return rc == 0, out.strip() or "none failed"
        # why, from this boot's journal (the failure report at the end sees the last boot only)
        _, why = self.run("for u in $(systemctl --failed --no-legend --plain --no-pager | awk '{print $1}'); do "
                          "journalctl -b -u \"$u\" -o cat --no-pager | tail -n 6; done")
        return False, "%s | %s" % (out.strip(), why.strip().replace("\n", " | ")[-600:])

    def no_missing_command(self):
        """No script of the node ran a command the image lacks: the shell's "command not
        found" in this boot's journal or k8s-init's log (a unit can still succeed)."""
        rc, out = self.run("{ journalctl -b -o cat --no-pager; cat /var/log/k8s-init.log 2>/dev/null; } | "
                           "grep -F 'command not found' | sort | uniq -c | head -n 20")
        return not out.strip(), out.strip().replace("\n", " | ") or "none"

    def cgroup_v2(self):
        """cgroup2 at /sys/fs/cgroup with the controllers the kubelet needs."""
        # findmnt (util-linux): both userlands have it; Buildroot's busybox has no stat
        rc, out = self.run("findmnt -no FSTYPE /sys/fs/cgroup; cat /sys/fs/cgroup/cgroup.controllers")
        lines = out.split("\n")
        ctrl = set(lines[-1].split())
        need = {"cpu", "cpuset", "memory", "pids"}
        return rc == 0 and lines[0].strip() == "cgroup2" and need <= ctrl, out.replace("\n", "; ")

    def docker(self):
        """`docker info`: systemd cgroup driver, overlay2, cgroup v2."""
        rc, out = self.run("docker info --format '{{.CgroupDriver}} {{.Driver}} {{.CgroupVersion}}'", 300)
        return rc == 0 and out.split() == ["systemd", "overlay2", "2"], out

    def containerd(self):
        """The node says it runs containerd, whose CRI answers (`crictl info`) with the
        overlay's configuration in effect (`containerd config dump`: runc with the systemd
        cgroup driver, the pause image kubeadm lists as its pinned sandbox image, the
        streaming server on 127.0.0.1:10010)."""
        rc, out = self.run("cat /usr/share/b4k/container-runtime; grep /pause: /run/b4k/kubeadm-images.txt; "
                           "containerd config dump | grep -E '^[[:space:]]*(SystemdCgroup|sandbox|stream_server_address|"
                           "stream_server_port)[[:space:]]*='; crictl info >/dev/null && echo cri-ready", 300)
        lines = [line.strip() for line in out.splitlines()]
        pause = lines[1] if len(lines) > 1 else "?"
        want = ["containerd", "SystemdCgroup = true", "sandbox = '%s'" % pause,
                "stream_server_address = '127.0.0.1'", "stream_server_port = '10010'", "cri-ready"]
        norm = [line.replace('"', "'") for line in lines]
        missing = [w for w in want if w not in norm]
        return rc == 0 and not missing, "missing: %s; got: %s" % (missing or "nothing", " | ".join(lines))

    def runtime_ready(self):
        """The check of the node's container runtime: docker's or containerd's."""
        return self.containerd() if self.runtime == "containerd" else self.docker()

    def images_present(self, images):
        """The names of `images` the runtime does not have (containerd: or has unpinned,
        so that the kubelet's image garbage collection could remove them)."""
        if self.runtime == "containerd":
            probe = "[ \"$(crictl inspecti -o go-template --template '{{.status.pinned}}' %s 2>/dev/null)\" = true ]"
        else:
            probe = "docker image inspect %s >/dev/null 2>&1"
        missing = []
        for image in images:
            rc, _ = self.run(probe % image)
            if rc != 0:
                missing.append(image)
        return missing

    def images_loaded(self, images):
        """b4k-images.service loaded the bundle and every name of `images` is present."""
        self.run("systemctl is-active --wait b4k-images.service >/dev/null 2>&1 || true", 1800)
        rc, out = self.run("systemctl is-active b4k-images.service; journalctl -b -o cat -u b4k-images.service")
        missing = self.images_present(images)
        ok = (out.startswith("active") and "b4k-images: loaded bundle" in out and not missing
              and "not found" not in out)
        detail = out.replace("\n", " | ")[-300:]
        return ok, "%d/%d images present; %s" % (len(images) - len(missing), len(images), detail)

    def _qmp(self, command):
        """Run one QMP command (stop, cont) on the machine's socket; NodeError if refused."""
        if not self.qmp:
            raise NodeError("this node has no QMP socket")
        try:
            with socket.socket(socket.AF_UNIX, socket.SOCK_STREAM) as s:
                s.settimeout(60)
                s.connect(self.qmp)
                f = s.makefile("rw", encoding="utf-8")
                json.loads(f.readline())  # the greeting
                for cmd in ("qmp_capabilities", command):
                    f.write(json.dumps({"execute": cmd}) + "\n")
                    f.flush()
                    while True:  # asynchronous events (STOP, RESUME) may come before the answer
                        reply = json.loads(f.readline())
                        if "return" in reply:
                            break
                        if "error" in reply:
                            raise NodeError("qmp %s: %s" % (cmd, reply["error"]))
        except (OSError, ValueError) as e:  # no socket, QEMU gone, a line that is not JSON
            raise NodeError("qmp %s on %s: %s" % (command, self.qmp, e)) from None

    def pause(self):
        """Stop the machine's CPUs and its virtual clock (QMP stop): it takes no host CPU
        until resume(). For a lane, not a product path: two TCG machines on a 2-core host
        are not two computers (docs/testing.md)."""
        self._qmp("stop")
        self.paused = True

    def _continue(self):
        """QMP cont: the machine runs again (its clock as it stood)."""
        self._qmp("cont")
        self.paused = False

    def resume(self):
        """Continue after pause(), then set the guest's clock from the host's: its wall
        clock stood still while paused (and a Raspberry Pi, which has no real-time clock,
        starts from systemd's built-in epoch; the lane's network has no NTP server, where a
        real node's systemd-timesyncd would set it). (ok, the guest's date)."""
        self._continue()
        rc, out = self.run("date -u -s @%d >/dev/null && date -u +%%FT%%TZ" % int(time.time()), 300)
        return rc == 0, "resumed; clock set from the host: " + out.strip()

    def alive(self):
        """Powered on and its QEMU still running."""
        return self.child is not None and self.child.isalive()

    def stop(self):
        """Power off (or kill qemu if it does not stop)."""
        if self.child is None:
            return
        if self.child.isalive():
            if self.paused:
                try:
                    self._continue()
                except NodeError:
                    pass
            try:
                self.child.send("systemctl poweroff\r")
                self.child.expect(pexpect.EOF, timeout=180)
            except (pexpect.TIMEOUT, OSError):
                self.child.terminate(force=True)
        self.child.close()
        self.logf.close()


def checker(results):
    """check(name, fn): run fn() -> (ok, detail), a console failure counting as a
    fail; append {check, pass, seconds, detail} to `results`, print a line; return ok."""
    def check(name, fn):
        t = time.monotonic()
        try:
            ok, detail = fn()
        except NodeError as e:
            ok, detail = False, "console: %s" % e
        results.append({"check": name, "pass": bool(ok), "seconds": round(time.monotonic() - t, 1),
                        "detail": detail})
        print("%-16s %s %6.1fs  %s" % (name, "PASS" if ok else "FAIL", results[-1]["seconds"],
                                       detail.splitlines()[0] if detail else ""), flush=True)
        return ok
    return check


def finish(nodes, results, path):
    """Power the nodes off and write `results` (JSON) to `path`; if a check failed,
    print each node's qemu command and last console lines.  True if all passed."""
    for node in nodes:
        node.stop()
    with open(path, "w") as f:
        json.dump(results, f, indent=1)
    ok = bool(results) and all(r["pass"] for r in results)
    if not ok:
        for node in nodes:
            print(node.describe())
            print("---- last 60 console lines of %s ----" % node.log_path)
            print("\n".join(open(node.log_path, errors="replace").read().splitlines()[-60:]))
    return ok


def common_args(ap):
    """The options check-node.py and check-cluster.py share."""
    ap.add_argument("--iso", required=True, help="the images bundle (scripts/images-iso)")
    ap.add_argument("--manifest", required=True, help="the bundle's MANIFEST")
    ap.add_argument("--results", required=True)
    ap.add_argument("--mem", default="3584")
    ap.add_argument("--runtime", choices=["docker", "containerd"], default="docker",
                    help="the container runtime the image was built with (tests/runtime/run.sh RUNTIME)")
    ap.add_argument("--boot-timeout", type=int, default=2400)
    ap.add_argument("--pod-image", help="an image of the bundle with a shell, for the test pods "
                    "(default: the manifest's flannel-cni-plugin)")


def bundle_images(ap, a, pods):
    """The image names of --manifest; a.pod_image defaults to its flannel-cni-plugin
    image (alpine-based upstream), and its absence is an error when `pods` run."""
    images = [line.split()[0] for line in open(a.manifest) if line.strip()]
    a.pod_image = a.pod_image or next((i for i in images if i.startswith("ghcr.io/flannel-io/flannel-cni-plugin:")),
                                      None)
    if pods and not a.pod_image:
        ap.error("%s names no flannel-cni-plugin image; give --pod-image" % a.manifest)
    return images
