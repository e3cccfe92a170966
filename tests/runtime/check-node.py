#!/usr/bin/python3
"""Runtime lane, the cheap part: boot the node under QEMU TCG and check it.

Checks (each: pass/fail and its wall time, written to --results as JSON):
  boot            power-on to `systemctl is-system-running --wait` (multi-user)
  kernel-config   /proc/config.gz is the built config, and it has kubeadm's
                  required options (k8s.io/system-validators, as kubeadm checks)
  no-failed-units `systemctl --failed` lists nothing
  cgroup-v2       cgroup2fs at /sys/fs/cgroup with cpu cpuset memory pids
  docker          `docker info`: systemd cgroup driver, overlay2, cgroup v2; or, with
  (containerd)    --runtime containerd: the node's runtime is containerd, its CRI answers,
                  its config (containerd config dump) has runc's SystemdCgroup, kubeadm's
                  pause as the sandbox image, the streaming server on 127.0.0.1:10010
  images-loaded   b4k-images.service loaded the bundle; every image in it present
                  (containerd: and pinned, per crictl inspecti)
  root-grew       / is larger than the file system that was built
  data-disk       /data is ext4 on /dev/vdb
  stream-bind     the CRI's (cri-dockerd's, containerd's) streaming server listens on
                  127.0.0.1:10010 only
  stream-outsider from the host (QEMU forwards a port to the node's 10010): no answer, while
                  sshd's port forwarded the same way answers (its banner)
  no-missing-command  (after the e2e checks) no "command not found" in the journal
                  or k8s-init's log
  reboot          the node comes back to multi-user
  images-kept     after the reboot: bundle not loaded again, every image present
  data-kept       after the reboot: same /data file system (UUID), marker file kept
With --e2e, before the reboot checks:
  k8s-init        `k8s-init` succeeds (the VM has no network: QEMU restrict=on)
  node-ready      the node is Ready (time from k8s-init's start)
  proxy-mode      (with --proxy-mode) kube-proxy runs that mode: its log, and for ipvs
                  /proc/net/ip_vs, for nftables no iptables Service rules
  coredns         CoreDNS pods Ready and answering kubernetes.default's service IP
  rwx-pvc         a ReadWriteMany claim of the default StorageClass is Bound
  rwx-write       a pod writes a file to it (the node's own NFS export)
  rwx-read        a second pod reads the file back
  secret-at-rest  a Secret reads back, and its value is in none of etcd's files (nor the
                  audit log), which hold the secretbox envelope of k8s-init's key (0600)
  audit-log       the API server's audit log is written, mode 0600 (its size printed)
  kube-bench      (with --kube-bench) kube-bench (CIS 1.12) on the node: no FAIL in the
                  worker-node section nor in the control plane's; counts and ids printed
  stream-pod      a pod for the streaming checks is Ready (kube.streaming), then, each
                  writing a fresh token and reading it back through kubectl:
  exec-ws, exec-spdy, exec-stdin, attach, run-it, port-forward, logs-f, cp-in, cp-out
                  exec over websockets (kubectl's default) and over SPDY, exec with
                  standard input, attach, `run -it --rm` (a terminal), port-forward (an
                  HTTP request through it), `logs -f`, `cp` into and out of the pod
  nodeport        a NodePort Service reached from the host (a forwarded port) gives the pod's token
  ssh-audit       (with --ssh-audit) ssh-audit from the host against the
                  node's sshd (QEMU forwards a local port to it): no "fail" item
and after them:
  cluster-back    the node is Ready again, with a heartbeat from after the reboot
  rwx-kept        a third pod reads the same file back
  no-pull         kubelet pulled no image, before or after the reboot
"""

import argparse
import base64
import gzip
import re
import shlex
import socket
import subprocess
import sys
import time

sys.path.insert(0, __import__("os").path.dirname(__file__))
import kube  # noqa: E402
from node import Node, bundle_images, checker, common_args, finish, qemu_pc  # noqa: E402


def kernel_options(config_text):
    """{OPTION: value} of a .config text."""
    return dict(re.findall(r"^CONFIG_(\w+)=(.*)$", config_text, re.M))


def required_from_validators(path):
    """[(name, aliases)] of the Required and RequiredCgroupsV2 lists of system-validators' types_unix.go."""
    src = open(path, encoding="utf-8").read()
    out = []
    for block in ("Required", "RequiredCgroupsV2"):
        m = re.search(r"\n\t\t%s: \[\]KernelConfig\{(.*?)\n\t\t\}," % block, src, re.S)
        if not m:
            raise SystemExit("%s: no %s list" % (path, block))
        for name, rest in re.findall(r'\{Name: "(\w+)"(.*?)\}', m.group(1)):
            out.append((name, re.findall(r'"(\w+)"', rest.split("Description")[0])))
    return out


def free_tcp_port():
    """A TCP port on 127.0.0.1 nobody uses now, for QEMU's forward to the node's sshd."""
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--kernel-config", required=True, help="the .config the kernel was built with")
    ap.add_argument("--validators", required=True, help="system-validators validators/types_unix.go")
    ap.add_argument("--disk", required=True, help="the pc disk image (b4k post-image), made larger than built")
    ap.add_argument("--rootfs-size", type=int, required=True, help="bytes of rootfs.ext4 as built")
    ap.add_argument("--data", required=True, help="empty raw disk for /data")
    ap.add_argument("--log", required=True)
    ap.add_argument("--lint", help="command taking the read-back config as its last argument "
                    "(b4k lint-kernel --requirements board/common/kernel-requirements.toml --config)")
    ap.add_argument("--e2e", action="store_true", help="kubeadm init, node Ready, CoreDNS, RWX volume")
    ap.add_argument("--kube-bench", action="store_true",
                    help="the image has kube-bench and its cfg/ (build-pieces.sh): run the kube-bench check")
    ap.add_argument("--proxy-mode", choices=["iptables", "ipvs", "nftables"],
                    help="`k8s-init --proxy-mode`, and check kube-proxy runs it (proxy-mode)")
    ap.add_argument("--ssh-audit", help="an ssh-audit command (PyPI's ssh-audit) to run against the node's sshd")
    common_args(ap)
    a = ap.parse_args()
    images = bundle_images(ap, a, a.e2e)

    netdev = "user,restrict=on"
    if a.ssh_audit:
        # restrict=on keeps the guest off every network; a forwarded port still reaches it
        ssh_port = free_tcp_port()
        netdev += ",hostfwd=tcp:127.0.0.1:%d-:22" % ssh_port
    # the host as an outsider: the streaming server's port, sshd's (a control) and the NodePort
    fwd = {}
    for guest in (kube.STREAM_PORT, 22, kube.NODE_PORT):
        fwd[guest] = free_tcp_port()
        netdev += ",hostfwd=tcp:127.0.0.1:%d-:%d" % (fwd[guest], guest)
    cmd = qemu_pc(a.disk, a.data, a.iso, netdev, "", a.mem)
    node = Node(cmd, a.log, a.runtime)
    results = []

    check = checker(results)

    def boot():
        node.login(a.boot_timeout)
        return node.wait_running(a.boot_timeout)

    def kernel_config():
        rc, out = node.run("base64 -w0 /proc/config.gz", 300)
        if rc != 0:
            return False, "no /proc/config.gz: " + out[-200:]
        running = gzip.decompress(base64.b64decode(re.sub(r"\s", "", out))).decode()
        built = open(a.kernel_config, encoding="utf-8").read()
        opts = kernel_options(running)
        missing = [n for n, aliases in required_from_validators(a.validators)
                   if not any(opts.get(x) in ("y", "m") for x in [n] + aliases)]
        same = kernel_options(built) == opts
        lint_ok, lint = True, "not run"
        if a.lint:
            path = a.log + ".proc-config"
            with open(path, "w", encoding="utf-8") as f:
                f.write(running)
            r = subprocess.run(shlex.split(a.lint) + [path], capture_output=True, text=True)
            lint_ok, lint = r.returncode == 0, "exit %d %s" % (r.returncode, (r.stdout + r.stderr).strip()[-300:])
        return same and not missing and lint_ok, "same as built: %s; kubeadm-required missing: %s; lint: %s" % (
            same, " ".join(missing) or "none", lint)

    def failed_units():
        return node.failed_units()

    def no_missing_command():
        return node.no_missing_command()

    def images_present():
        return node.images_present(images)

    def images_loaded():
        return node.images_loaded(images)

    def root_grew():
        # POSIX df (busybox's has no -B or --output), in KiB: mawk prints large
        # products as 4.19191e+09
        rc, out = node.run("df -Pk / | awk 'NR == 2 { print $2 }'; "
                           "systemctl show -p ActiveState -p Result systemd-growfs-root.service")
        size = 1024 * int(out.split()[0]) if rc == 0 and out.split() and out.split()[0].isdigit() else 0
        return size > a.rootfs_size * 1.2, "/ is %d bytes (built %d); %s" % (
            size, a.rootfs_size, " ".join(out.split()[1:]))

    state = {}
    stream, stream_checks = kube.streaming(node, "b4k-stream", a.pod_image)

    def data_disk():
        rc, out = node.run("findmnt -no SOURCE,FSTYPE /data && blkid -o value -s UUID /dev/vdb && "
                           "cat /proc/sys/kernel/random/boot_id > /data/b4k-marker && sync")
        parts = out.split()
        state["uuid"] = parts[2] if len(parts) > 2 else None
        return rc == 0 and parts[:2] == ["/dev/vdb", "ext4"], out.replace("\n", " ")

    def reboot():
        node.reboot(a.boot_timeout)
        return node.wait_running(a.boot_timeout)

    def images_kept():
        node.run("systemctl is-active --wait b4k-images.service >/dev/null 2>&1 || true", 1800)
        rc, out = node.run("journalctl -b -o cat -u b4k-images.service")
        missing = images_present()
        return "already loaded" in out and not missing, "%d missing; %s" % (
            len(missing), out.replace("\n", " | ")[-300:])

    def data_kept():
        rc, out = node.run("blkid -o value -s UUID /dev/vdb; test -s /data/b4k-marker && echo marker-kept")
        return rc == 0 and state.get("uuid") and out.split() == [state["uuid"], "marker-kept"], out.replace("\n", " ")

    def rwx_write():
        return kube.run_pod(node, kube.pod("b4k-write", a.pod_image,
                                           "cat /proc/sys/kernel/random/uuid > /mnt/rwx/b4k && cat /mnt/rwx/b4k",
                                           claim="b4k-rwx"))

    def rwx_read(name):
        def fn():
            ok, out = kube.run_pod(node, kube.pod(name, a.pod_image, "cat /mnt/rwx/b4k", claim="b4k-rwx"))
            if ok and "written" not in state:
                return False, "nothing was written (rwx-write failed)"
            return ok and out == state["written"], "read %r, written %r" % (out, state.get("written"))
        return fn

    def write_then_keep():
        ok, out = rwx_write()
        if ok:
            state["written"] = out
        return ok, out

    def from_host(guest_port):
        """An HTTP request from the host to the node's `guest_port` (QEMU's forward): the
        reply's bytes (b"" when the node closes the connection unanswered)."""
        reply = b""
        try:
            with socket.create_connection(("127.0.0.1", fwd[guest_port]), timeout=30) as s:
                s.sendall(b"GET / HTTP/1.0\r\n\r\n")
                while True:
                    chunk = s.recv(4096)
                    if not chunk:
                        break
                    reply += chunk
        except OSError as e:
            reply += ("(%s)" % e).encode()
        return reply

    def stream_outsider():
        cri, sshd = from_host(kube.STREAM_PORT), from_host(22)
        ok = not cri.startswith(b"HTTP/") and sshd.startswith(b"SSH-")
        return ok, "node's %d from the host: %r; its sshd's 22 the same way: %r" % (
            kube.STREAM_PORT, cri[:80], sshd.split(b"\r\n")[0][:80])

    def nodeport():
        rc, out = kube.apply(node, kube.node_port_service())
        if rc != 0:
            return False, "apply: " + out
        end, body = time.monotonic() + 600, ""
        while time.monotonic() < end:
            lines = from_host(kube.NODE_PORT).decode(errors="replace").replace("\r", "").splitlines()
            body = lines[-1] if lines else ""
            if body == stream["token"]:
                break
            time.sleep(10)
        return body == stream["token"], "NodePort %d from the host: %r, the pod's token %r" % (
            kube.NODE_PORT, body, stream["token"])

    def ssh_audit():
        """ssh-audit from the host against the node's sshd: no "[fail]" item."""
        r = subprocess.run(shlex.split(a.ssh_audit) + ["-n", "127.0.0.1:%d" % ssh_port],
                           capture_output=True, text=True, timeout=300)
        fails = [line.strip() for line in r.stdout.splitlines() if "[fail]" in line]
        warns = sum("[warn]" in line for line in r.stdout.splitlines())
        if "banner" not in r.stdout:
            return False, "no answer from sshd: " + (r.stdout + r.stderr)[-300:]
        return not fails, "%d fail, %d warn%s" % (len(fails), warns, (": " + "; ".join(fails)) if fails else "")

    try:
        node.start()
        if check("boot", boot):
            for name, fn in [("kernel-config", kernel_config), ("no-failed-units", failed_units),
                             ("cgroup-v2", node.cgroup_v2), (a.runtime, node.runtime_ready), ("images-loaded", images_loaded),
                             ("root-grew", root_grew), ("data-disk", data_disk),
                             ("stream-bind", lambda: kube.stream_bind(node)),
                             ("stream-outsider", stream_outsider)]:
                check(name, fn)
            e2e = True
            if a.e2e:
                steps = [("k8s-init", lambda: kube.init(node, state, a.proxy_mode)),
                         ("node-ready", lambda: kube.ready(node, state))]
                if a.proxy_mode:
                    steps.append(("proxy-mode", lambda: kube.proxy_mode(node, a.proxy_mode)))
                steps += [("coredns", lambda: kube.coredns(node)),
                          ("rwx-pvc", lambda: kube.pvc_bound(node, "b4k-rwx")),
                          ("rwx-write", write_then_keep), ("rwx-read", rwx_read("b4k-read"))]
                for name, fn in steps:
                    if not check(name, fn):
                        e2e = False
                        break
                if e2e:
                    # every streaming path of kubectl (issue 28), each check on its own
                    if check("stream-pod", stream_checks[0][1]):
                        for name, fn in stream_checks[1:]:
                            check(name, fn)
                        check("nodeport", nodeport)
                    check("secret-at-rest", lambda: kube.secret_at_rest(node))
                    check("audit-log", lambda: kube.audit_log(node))
                if e2e and a.kube_bench:
                    check("kube-bench", lambda: kube.kube_bench(node, ("node", "master")))
            if a.ssh_audit:
                check("ssh-audit", ssh_audit)
            check("no-missing-command", no_missing_command)
            if e2e and check("reboot", reboot):
                check("images-kept", images_kept)
                check("data-kept", data_kept)
                if a.e2e:
                    if check("cluster-back", lambda: kube.ready(node, state, since_boot=True)):
                        check("rwx-kept", rwx_read("b4k-read-2"))
                    check("no-pull", lambda: kube.no_pull(node))
                check("no-failed-units-2", failed_units)
        if not all(r["pass"] for r in results) and node.alive():
            # into the console log, for the failure report
            node.run("systemctl --failed --no-pager; systemctl status --no-pager -l docker containerd "
                     "cri-docker b4k-images b4k-kubeadm-images data.mount 'systemd-makefs@*' kubelet; "
                     "journalctl -b -p warning -o short-monotonic --no-pager | tail -n 150", 300)
            kube.control_plane_logs(node)
            if a.e2e:
                kube.report(node)
    finally:
        ok = finish([node], results, a.results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
