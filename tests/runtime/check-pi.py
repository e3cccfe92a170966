#!/usr/bin/python3
"""Real-build lane, the Raspberry Pi 3: boot the sdcard.img Buildroot made under
`qemu-system-aarch64 -M raspi3b` (1 GiB, 4 Cortex-A53, TCG) and check it over
its serial console (ttyAMA0: the harness's autologin, tests/runtime/test-rootfs).

QEMU's raspi3b has no firmware to run the card's start.elf: it loads the card's
kernel Image and device tree (the files the firmware would load, from Buildroot's
images directory) with the card's cmdline.txt, and the card itself is the SD
card (its size rounded up to a power of two, as QEMU requires; here made larger
than the image, so that the root grows). The Pi 3's Ethernet hangs off USB: the
network is `-device usb-net` on the emulated DWC2 host, and the images bundle is
a USB stick (`-device usb-storage`), as board/raspberrypi3-64/readme.txt tells a
Pi user to bring it.

Checks (each: pass/fail and its wall time, written to --results as JSON):
  boot            power-on to `systemctl is-system-running --wait` (multi-user)
  no-failed-units `systemctl --failed` lists nothing
  cgroup-v2       cgroup2fs at /sys/fs/cgroup with cpu cpuset memory pids
  root-grew       the root partition grew to the card's end (b4k-grow-root, MBR: within
                  1 MiB of it), and / with it (systemd-growfs): more than 85% of the card
                  less the boot partition (ext4's metadata takes a few per cent)
  network         the USB network adapter has QEMU's DHCP address (10.0.2.15)
  docker          `docker info`: systemd cgroup driver, overlay2, cgroup v2
  images-loaded   b4k-images.service loaded the bundle from the USB stick; every image present
  arm64-run       a container of the bundle runs on the node: `uname -m` in it is aarch64,
                  and a fresh token written in it comes back
  stream-bind     cri-dockerd's streaming server listens on 127.0.0.1:10010 only
  control-plane-fits  `k8s-init` on the Pi (1 GiB) stops before kubeadm, saying to join it
                  as a worker with k8s-join (exit status not 0, kubeadm not run)
  memory          `free -m` and the resident size of dockerd, containerd, cri-dockerd
                  (kube.memory: a report, not a pass/fail; passes when it can be read)
  no-missing-command  no "command not found" in the journal
"""

import argparse
import os
import re
import sys
import uuid

sys.path.insert(0, os.path.dirname(__file__))
import kube  # noqa: E402
from node import Node, bundle_images, checker, finish, qemu_raspi3b  # noqa: E402


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--images", required=True, help="Buildroot's images directory (Image, the DTB, rpi-firmware/)")
    ap.add_argument("--card", required=True, help="a copy of sdcard.img, its size a power of two")
    ap.add_argument("--iso", required=True, help="the arm64 images bundle (the USB stick)")
    ap.add_argument("--manifest", required=True, help="the bundle's MANIFEST")
    ap.add_argument("--log", required=True)
    ap.add_argument("--results", required=True)
    ap.add_argument("--boot-timeout", type=int, default=3600)
    ap.add_argument("--pod-image", help="an image of the bundle with a shell (default: its flannel-cni-plugin)")
    a = ap.parse_args()
    images = bundle_images(ap, a, True)
    card_size = os.stat(a.card).st_size
    node = Node(qemu_raspi3b(a.images, a.card, a.iso, "user,restrict=on", ""), a.log)
    results = []
    check = checker(results)

    def boot():
        node.login(a.boot_timeout)
        return node.wait_running(a.boot_timeout)

    def root_grew():
        rc, out = node.run("cat /sys/class/block/mmcblk0p1/size /sys/class/block/mmcblk0p2/start "
                           "/sys/class/block/mmcblk0p2/size; df -Pk / | awk 'NR == 2 { print $2 }'; "
                           "systemctl show -p Result b4k-grow-root.service systemd-growfs-root.service")
        f = out.split()
        if rc != 0 or len(f) < 4 or not all(x.isdigit() for x in f[:4]):
            return False, out.replace("\n", " ")
        # the partition ends within sfdisk's 1 MiB alignment of the card's end; ext4's own
        # metadata (inode tables, journal) takes a few per cent of it from df's total
        part_end, fs = (int(f[1]) + int(f[2])) * 512, int(f[3]) * 1024
        want = 0.85 * (card_size - int(f[0]) * 512)
        return part_end >= card_size - 2**20 and fs > want, \
            "card %d bytes; root partition ends at %d; / is %d bytes; %s" % (
                card_size, part_end, fs, " ".join(f[4:]))

    def network():
        rc, out = node.until("ip -4 -o addr show scope global | grep -F 'inet 10.0.2.15/'", 600)
        return rc == 0, out.strip()[-200:]

    def arm64_run():
        tok = uuid.uuid4().hex
        # the container's own root (the pod image, flannel-cni-plugin, has no /tmp)
        rc, out = node.run("docker run --rm --network none %s sh -c 'uname -m; echo %s > /b4k-t; cat /b4k-t'"
                           % (a.pod_image, tok), 900)
        return rc == 0 and out.split()[-2:] == ["aarch64", tok], out.replace("\n", " | ")[-300:]

    def control_plane_fits():
        rc, out = node.run("k8s-init > /tmp/k8s-init.out 2>&1; echo rc=$?; tail -n 5 /tmp/k8s-init.out; "
                           "test ! -e /etc/kubernetes/admin.conf && echo no-admin-conf", 600)
        m = re.search(r"rc=(\d+)", out)
        ok = bool(m) and m.group(1) != "0" and "k8s-join" in out and "no-admin-conf" in out
        return ok, out.replace("\n", " | ")[-400:]

    try:
        node.start()
        if check("boot", boot):
            for name, fn in [("no-failed-units", node.failed_units), ("cgroup-v2", node.cgroup_v2),
                             ("root-grew", root_grew), ("network", network), ("docker", node.docker),
                             ("images-loaded", lambda: node.images_loaded(images)), ("arm64-run", arm64_run),
                             ("stream-bind", lambda: kube.stream_bind(node)),
                             ("control-plane-fits", control_plane_fits), ("memory", lambda: kube.memory(node)),
                             ("no-missing-command", node.no_missing_command)]:
                check(name, fn)
        if not all(r["pass"] for r in results) and node.alive():
            node.run("systemctl --failed --no-pager; systemctl status --no-pager -l docker containerd "
                     "cri-docker b4k-images b4k-grow-root systemd-growfs-root systemd-networkd; "
                     "journalctl -b -p warning -o short-monotonic --no-pager | tail -n 150", 300)
    finally:
        ok = finish([node], results, a.results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
