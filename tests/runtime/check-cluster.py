#!/usr/bin/python3
"""Runtime lane, two nodes: a control plane and a worker on a private QEMU network.

Both VMs boot copies of the same pc disk image, each with its own data disk and
the images bundle, under QEMU TCG; their only NIC is on a socket network of
their own (no other network: nothing can be pulled), with the addresses
192.168.100.1 and .2 that tests/runtime/test-rootfs gives their MACs.  Both
nodes boot; node 1 runs k8s-init and, once its control plane has settled,
node 2 runs the k8s-join command k8s-init printed, with the bootstrap token in a
file (k8s-join takes no token on its command line).  Each node named itself at
its first boot from its machine ID (b4k-hostname.service): nothing is renamed.  Node 2 runs its two vCPUs on one host thread (TCG thread=single) at
nice 5, so that on a 2-core host node 1's control plane gets most of the CPU;
each step is followed by a "load:" line (host and guest load averages).
Checks (pass/fail and wall time, to --results as JSON):
  boot-1, boot-2      power-on to multi-user
  images-1, images-2  the bundle loaded
  names               the two nodes named themselves b4k-<8 hex>, differently
  pause-2             node 2 stopped (QMP stop, a harness step: see pause2 below)
  k8s-init            on node 1
  settled-1           node 1 Ready and every pod on it Ready
  resume-2            node 2 continues; its clock set from the host's (no NTP here)
  k8s-join            on node 2
  nodes-ready         both nodes Ready
  vxlan               flannel's VXLAN device flannel.1 on both nodes
  pod-1-to-2          a pod on node 1 fetches a page from a pod on node 2 (pod IPs)
  pod-2-to-1          and the other way round
  rwx-shared          a pod on node 2 writes to a ReadWriteMany volume (node 1's
                      NFS export), a pod on node 1 reads the same file back
  nfs-outsider        NFS from node 2 with an address the cluster does not use
                      (a network namespace on node 2, 192.168.100.77) is refused
                      by node 1, while node 2's own mount of /data/nfs works
  nfs-pods            no pod reaches node 1's NFS export (nfs-pod-guard): a pod on
                      node 2 connects to node 1's 6443 but not to its 2049, and a
                      privileged pod on node 2 with the CSI node plugin's image
                      cannot mount /data/nfs, while the same pod with
                      hostNetwork (the node, as the CSI node plugin mounts) can
With --pi-images, --pi-card and --pi-iso, node 2 is a Raspberry Pi 3 instead
(qemu-system-aarch64 -M raspi3b: the card Buildroot made, the arm64 bundle on a
USB stick, usb-net on the same socket network with node 2's MAC; no data disk),
joining the pc control plane as a worker: the same checks, across the two
architectures (kube-bench-2 left out), and
  memory-2            the Pi's `free -m` and the resident size of kubelet, dockerd,
                      containerd, cri-dockerd, flanneld, kube-proxy after the join, and its
                      memory capacity and allocatable as its kubelet reports them (a report)
then every streaming path of kubectl (kube.streaming; issue 28), on a pod on each node
(suffix -1, -2), each writing a fresh token and reading it back:
  stream-pod-N        the pod is Ready
  exec-ws-N, exec-spdy-N, exec-stdin-N, attach-N, run-it-N, port-forward-N, logs-f-N,
  cp-in-N, cp-out-N   exec over websockets and SPDY, exec with standard input, attach,
                      `run -it --rm`, port-forward, `logs -f`, `cp` in and out
  stream-bind-N       node N's CRI streaming server (cri-dockerd's, containerd's) listens on
                      127.0.0.1:10010 only
  stream-closed-N     node N's port 10010 is refused from the other node (whose TCP
                      reaches node N's API server or kubelet port)
  nodeport-N          a NodePort Service (externalTrafficPolicy Local) at node N's
                      address, from the other node, gives node N's pod's token
  secret-at-rest      on node 1: a Secret's value is in none of etcd's files (kube.secret_at_rest)
  audit-log           node 1's API server writes its audit log, mode 0600
  kube-bench-1, kube-bench-2  (with --kube-bench) CIS 1.12: no FAIL on node 1 (worker-node and
                      control-plane sections) nor on node 2 (worker-node section)
  no-pull             neither kubelet pulled an image
"""

import argparse
import os
import re
import shlex
import socket
import sys

sys.path.insert(0, os.path.dirname(__file__))
import kube  # noqa: E402
from node import Node, NodeError, bundle_images, checker, common_args, finish, qemu_pc, qemu_raspi3b  # noqa: E402


def free_udp_port():
    """A UDP port on 127.0.0.1 nobody uses now, for the socket network."""
    s = socket.socket(socket.AF_INET, socket.SOCK_DGRAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def main():
    ap = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--disk", action="append", required=True, help="twice: each node's copy of the pc disk image")
    ap.add_argument("--data", action="append", required=True, help="twice: each node's empty data disk")
    ap.add_argument("--log-dir", required=True)
    ap.add_argument("--kube-bench", action="store_true",
                    help="the image has kube-bench and its cfg/ (build-pieces.sh): run kube-bench on both nodes")
    ap.add_argument("--pi-images", help="node 2 is a Raspberry Pi: Buildroot's images directory of the Pi")
    ap.add_argument("--pi-card", help="the Pi's card (a copy of sdcard.img, its size a power of two)")
    ap.add_argument("--pi-iso", help="the Pi's (arm64) images bundle")
    common_args(ap)
    a = ap.parse_args()
    pi = bool(a.pi_images)
    if pi and not (a.pi_card and a.pi_iso):
        ap.error("--pi-images needs --pi-card and --pi-iso")
    if len(a.disk) != 2 - pi or len(a.data) != 2 - pi:
        ap.error("give --disk and --data once per pc node (twice; once with the Pi as node 2)")
    bundle_images(ap, a, True)
    image = a.pod_image

    # multicast on the loopback: the two VMs' Ethernet, and nothing else's
    net = "socket,mcast=230.0.0.1:%d,localaddr=127.0.0.1" % free_udp_port()
    nodes = []
    for n in (1, 2):
        if n == 2 and pi:
            # at nice 5 and on one host thread, as a pc node 2 (below)
            cmd = ["nice", "-n", "5"] + qemu_raspi3b(a.pi_images, a.pi_card, a.pi_iso, net,
                                                      ",mac=52:54:00:b4:00:02") + ["-accel", "tcg,thread=single"]
            # the Pi's image is the real-build lane's (raspberrypi3_64_k8s_defconfig: docker)
            nodes.append(Node(cmd, os.path.join(a.log_dir, "console-%d.log" % n),
                              qmp=os.path.join(a.log_dir, "qmp-%d.sock" % n)))
            continue
        cmd = qemu_pc(a.disk[n - 1], a.data[n - 1], a.iso, net, ",mac=52:54:00:b4:00:0%d" % n, a.mem,
                      "-uuid", "b4b4b4b4-0000-4000-8000-00000000000%d" % n)
        if n == 2:
            # Node 2 takes at most one host thread (TCG thread=single), at nice 5: when both
            # VMs shared the 2 cores evenly, node 1's etcd took 1-6 s per fdatasync, its API
            # server stopped answering and was restarted by its liveness probe (cl7).
            cmd = ["nice", "-n", "5"] + cmd + ["-accel", "tcg,thread=single"]
        nodes.append(Node(cmd, os.path.join(a.log_dir, "console-%d.log" % n), a.runtime,
                          qmp=os.path.join(a.log_dir, "qmp-%d.sock" % n) if n == 2 else None))
    n1, n2 = nodes
    results, state = [], {}

    check = checker(results)

    def loads():
        """Print the host's and each running node's load average (1, 5, 15 min) after a
        step: how much of the host the two VMs wanted, not a check."""
        out = ["host %.2f %.2f %.2f" % os.getloadavg()]
        for i, node in enumerate(nodes, 1):
            if node.paused:
                out.append("node %d paused" % i)
            elif node.alive():
                try:
                    _, o = node.run("cut -d' ' -f1-3 /proc/loadavg", 300)
                    out.append("node %d %s" % (i, o.strip()))
                except NodeError as e:
                    out.append("node %d: %s" % (i, e))
        print("load: " + "; ".join(out), flush=True)

    def step(name, fn):
        """check(), then the load averages."""
        ok = check(name, fn)
        loads()
        return ok

    def boot(node):
        def fn():
            node.start()
            node.login(a.boot_timeout)
            return node.wait_running(a.boot_timeout)
        return fn

    def images(node):
        def fn():
            node.run("systemctl is-active --wait b4k-images.service >/dev/null 2>&1 || true", 1800)
            rc, out = node.run("systemctl is-active b4k-images.service && /usr/libexec/b4k/node-check", 600)
            return rc == 0, out.replace("\n", " | ")[-300:]
        return fn

    def settled():
        ok, out = kube.ready(n1, state)
        if not ok:
            return False, out
        rc, pods = n1.until("kubectl wait --for=condition=Ready pods --all -A --timeout=60s >/dev/null && "
                            "kubectl get pods -A --no-headers | wc -l", 1800)
        return rc == 0, "%s; %s pods Ready" % (out, pods.strip()) if rc == 0 else pods.replace("\n", " | ")[-500:]

    def pause2():
        """Node 2 stops (QMP stop) while node 1 runs k8s-init and settles: the lane's two
        TCG machines share 2 host cores, which two real nodes never do. With node 2 (a
        Raspberry Pi) running beside it, node 1's k8s-init failed twice (pi-cluster1, 2:
        etcd ranges of 11 s, `kubeadm token create` timed out after 1,573 s) where alone it
        passed in 587 s. resume-2 continues it and sets its clock from the host's."""
        n2.pause()
        return True, "node 2 paused"

    def names():
        got = []
        for node in nodes:
            rc, out = node.run("hostname", 60)
            got.append(out.strip())
        state["names"] = got
        ok = all(re.fullmatch(r"b4k-[0-9a-f]{8}", n) for n in got) and got[0] != got[1]
        return ok, "node 1 %s, node 2 %s" % tuple(got)

    def join():
        if not state.get("join") or not state.get("token"):
            return False, "k8s-init printed no k8s-join command or no bootstrap token"
        rc, out = n2.run("(umask 077 && echo %s > /run/b4k-token) && %s --token-file /run/b4k-token "
                         "> /var/log/k8s-join.log 2>&1; rc=$?; rm -f /run/b4k-token; "
                         "tail -n 8 /var/log/k8s-join.log; test $rc -eq 0"
                         % (shlex.quote(state["token"]), state["join"]), 3600)
        return rc == 0, out.replace("\n", " | ")[-500:]

    def vxlan():
        out = []
        for node in nodes:
            # flanneld makes the device once it runs, which can be after the node is Ready
            rc, o = node.until("ip -d link show flannel.1 | grep -o 'vxlan id [0-9]* local [0-9.]*'", 1200)
            out.append(o.strip())
            if rc != 0:
                return False, "; ".join(out)
        return True, "; ".join(out)

    def server(name, node_name):
        """A pod serving its own name over HTTP on 8080 (busybox httpd); its IP."""
        obj = kube.pod(name, image, "mkdir -p /www && echo %s > /www/index.html && exec httpd -f -p 8080 -h /www"
                       % name, node_name=node_name, restart="Always")
        rc, out = kube.apply(n1, obj)
        if rc != 0:
            raise NodeError("apply %s: %s" % (name, out))
        rc, out = n1.until("kubectl wait pod/%s --for=condition=Ready --timeout=60s >/dev/null && "
                           "kubectl get pod %s -o jsonpath='{.status.podIP}'" % (name, name), 1200)
        return out.strip() if rc == 0 else None

    def fetch(client_node, server_name, server_node):
        def fn():
            ip = server(server_name, server_node)
            if not ip:
                return False, "%s not Ready: %s" % (server_name, kube.why_pod(n1, server_name))
            # bounded by timeout(1), not wget's -T: the pods' busybox (Debian bookworm's static
            # 1.35) segfaults on `wget -T` (exit 139, cl8's both pod-to-pod checks)
            ok, out = kube.run_pod(n1, kube.pod("get-" + server_name, image,
                                                "timeout 60 wget -q -O - http://%s:8080/" % ip,
                                                node_name=client_node))
            return ok and out == server_name, "%s (%s on %s) from %s: %r" % (
                server_name, ip, server_node, client_node, out)
        return fn

    def rwx_shared():
        name1, name2 = state["names"]
        ok, out = kube.pvc_bound(n1, "b4k-shared")
        if not ok:
            return False, "claim: " + out
        ok, written = kube.run_pod(n1, kube.pod("b4k-write-2", image, "cat /proc/sys/kernel/random/uuid > "
                                                "/mnt/rwx/b4k && cat /mnt/rwx/b4k", claim="b4k-shared",
                                                node_name=name2))
        if not ok:
            return False, "write on %s: %s" % (name2, written)
        ok, read = kube.run_pod(n1, kube.pod("b4k-read-1", image, "cat /mnt/rwx/b4k", claim="b4k-shared",
                                             node_name=name1))
        return ok and read == written, "written on %s %r, read on %s %r" % (name2, written, name1, read)

    def nfs_outsider():
        """Node 1 exports /data/nfs to the cluster's nodes only (nfs-clients): a mount from
        node 2's own address works; from a network namespace on node 2, routed onto the LAN
        with an address no node has (it must reach node 1's API server port first, so that a
        broken set-up does not pass as a refusal), it is refused."""
        server = "192.168.100.1"
        rc, own = n2.run("mkdir -p /mnt/b4k-own && timeout 120 mount -t nfs4 -o vers=4.1,nosuid,nodev "
                         "%s:/data/nfs /mnt/b4k-own && ls /mnt/b4k-own >/dev/null && umount /mnt/b4k-own "
                         "&& echo own-mount-ok" % server, 300)
        if rc != 0 or "own-mount-ok" not in own:
            return False, "node 2's own mount failed: " + own.replace("\n", " | ")[-300:]
        # veth into a namespace, routed by node 2 without NAT (proxy ARP answers for .77 on
        # the LAN; docker's FORWARD policy is DROP, hence the two rules), so node 1 sees .77
        dev = "$(ip -o -4 addr show | awk '$4 ~ /^192[.]168[.]100[.]/ {print $2; exit}')"
        rc, out = n2.run(
            "d=%s; ip netns add b4k-out && ip link add b4k-out0 type veth peer name b4k-out1 && "
            "ip link set b4k-out1 netns b4k-out && ip addr add 192.168.100.254/32 dev b4k-out0 && "
            "ip link set b4k-out0 up && ip route add 192.168.100.77/32 dev b4k-out0 && "
            "ip -n b4k-out addr add 192.168.100.77/32 dev b4k-out1 && ip -n b4k-out link set b4k-out1 up && "
            "ip -n b4k-out route add 192.168.100.254/32 dev b4k-out1 && "
            "ip -n b4k-out route add default via 192.168.100.254 && "
            "sysctl -qw net.ipv4.conf.$d.proxy_arp=1 && "
            "iptables -I FORWARD -s 192.168.100.77 -j ACCEPT && iptables -I FORWARD -d 192.168.100.77 -j ACCEPT && "
            "mkdir -p /mnt/b4k-out && "
            "(ip netns exec b4k-out timeout 10 bash -c 'exec 3<>/dev/tcp/%s/6443' && echo outsider-reaches-node-1; "
            "ip netns exec b4k-out timeout 60 mount -t nfs4 -o vers=4.1,retry=0 %s:/data/nfs /mnt/b4k-out "
            "&& echo OUTSIDER-MOUNTED && umount /mnt/b4k-out || echo outsider-refused); "
            "iptables -D FORWARD -s 192.168.100.77 -j ACCEPT; iptables -D FORWARD -d 192.168.100.77 -j ACCEPT; "
            "sysctl -qw net.ipv4.conf.$d.proxy_arp=0; ip link del b4k-out0; ip netns del b4k-out"
            % (dev, server, server), 300)
        ok = "outsider-reaches-node-1" in out and "outsider-refused" in out and "OUTSIDER-MOUNTED" not in out
        return ok, \
            "own: ok; outsider 192.168.100.77: %s" % out.replace("\n", " | ")[-300:]

    def nfs_pods():
        """Pods (not hostNetwork) never reach node 1's NFS export: flannel masquerades what
        leaves the pod network, so without nfs-pod-guard a pod on node 2 reaches node 1's
        2049 as node 2, which B4K-NFS admits. A pod on node 2 must connect to node 1's 6443
        (pod networking works: a broken set-up does not pass as a refusal) and not to its
        2049; a privileged pod on node 2 with the CSI node plugin's image (mount.nfs) must
        fail to mount /data/nfs, and the same pod with hostNetwork must mount it (the node's
        own mounts, as the CSI node plugin's, keep working). rwx-shared, before, used the
        export through the CSI driver with the guard in place."""
        server = "192.168.100.1"
        name2 = state["names"][1]
        _, guard = n2.run("systemctl is-active b4k-nfs-pod-guard.service; "
                          "iptables -t mangle -S | grep -c -- '-j B4K-POD-NFS'", 120)
        guard = guard.strip().replace("\n", " ")
        ok, out = kube.run_pod(n1, kube.pod(
            "b4k-pod-nfs-tcp", image,
            "nc -w 10 %s 6443 -e true && echo pod-reaches-6443; "
            "if nc -w 10 %s 2049 -e true; then echo POD-REACHES-2049; else echo pod-refused-2049; fi"
            % (server, server), node_name=name2))
        tcp = out.replace("\n", " | ")[-200:]
        if not ok or "pod-reaches-6443" not in out or "pod-refused-2049" not in out:
            return False, "guard on node 2: %s; tcp from a pod on node 2: %s" % (guard, tcp)
        _, nfs_image = n1.run("kubectl -n kube-system get ds csi-nfs-node -o "
                              "jsonpath='{.spec.template.spec.containers[?(@.name==\"nfs\")].image}'", 120)
        nfs_image = nfs_image.strip()

        def mount_pod(name, host_network):
            p = kube.pod(name, nfs_image, "", node_name=name2)
            c = p["spec"]["containers"][0]
            c["command"] = ["/usr/bin/mount", "-t", "nfs4", "-o", "vers=4.1,retry=0,timeo=100,retrans=1",
                            server + ":/data/nfs", "/mnt/b4k"]
            c["securityContext"] = {"privileged": True}
            c["volumeMounts"] = [{"name": "mnt", "mountPath": "/mnt/b4k"}]
            p["spec"]["volumes"] = [{"name": "mnt", "emptyDir": {}}]
            p["spec"]["hostNetwork"] = host_network
            return kube.run_pod(n1, p)

        host_ok, host_out = mount_pod("b4k-pod-nfs-mount-host", True)
        if not host_ok:
            return False, "guard: %s; tcp: %s; the hostNetwork pod's mount failed (set-up broken?): %s" % (
                guard, tcp, host_out[-300:])
        pod_ok, pod_out = mount_pod("b4k-pod-nfs-mount", False)
        return not pod_ok, "guard on node 2: %s; tcp: %s; hostNetwork mount: ok; pod mount: %s" % (
            guard, tcp, "MOUNTED" if pod_ok else "refused (%s)" % pod_out[-200:])

    def no_pull():
        outs = [kube.no_pull(node) for node in nodes]
        return all(ok for ok, _ in outs), "; ".join(d for _, d in outs)

    def stream_checks(name1, name2):
        """kubectl's streaming paths on a pod on each node (kubectl on node 1), the
        streaming server's port closed to the other node, a NodePort from the other node."""
        addr = {1: "192.168.100.1", 2: "192.168.100.2"}
        tokens = {}
        for n, name in ((1, name1), (2, name2)):
            st, checks = kube.streaming(n1, "b4k-stream-%d" % n, image, name, 18080 + n)
            tokens[n] = st["token"]
            if step("stream-pod-%d" % n, checks[0][1]):
                for check_name, fn in checks[1:]:
                    step("%s-%d" % (check_name, n), fn)
        for n, node, other, control in ((1, n1, n2, 6443), (2, n2, n1, 10250)):
            step("stream-bind-%d" % n, lambda node=node: kube.stream_bind(node))
            step("stream-closed-%d" % n, lambda other=other, n=n, control=control:
                 kube.ports_from(other, addr[n], kube.STREAM_PORT, control))
        rc, out = kube.apply(n1, kube.node_port_service())
        for n, other in ((1, n2), (2, n1)):
            step("nodeport-%d" % n, lambda other=other, n=n: kube.http_get(other, addr[n], kube.NODE_PORT, tokens[n])
                 if rc == 0 else (False, "apply: " + out))

    try:
        # Both nodes boot and load the bundle before the control plane starts: under TCG
        # on 2 host cores, node 2's boot beside a running control plane starved it (the
        # API server was killed by its liveness probe and k8s-join's TLS bootstrap timed out);
        # joining right after k8s-init, while node 1 still started its add-ons, failed the same way.
        steps = [("boot-1", boot(n1)), ("images-1", images(n1)), ("boot-2", boot(n2)), ("images-2", images(n2)),
                 ("names", names), ("pause-2", pause2), ("k8s-init", lambda: kube.init(n1, state)),
                 ("settled-1", settled), ("resume-2", n2.resume), ("k8s-join", join),
                 ("nodes-ready", lambda: kube.ready(n1, state, count=2))]
        if all(step(name, fn) for name, fn in steps):
            name1, name2 = state["names"]
            for name, fn in [("vxlan", vxlan), ("pod-1-to-2", fetch(name1, "web-2", name2)),
                             ("pod-2-to-1", fetch(name2, "web-1", name1)),
                             ("rwx-shared", rwx_shared), ("nfs-outsider", nfs_outsider), ("nfs-pods", nfs_pods)]:
                step(name, fn)
            stream_checks(name1, name2)
            step("secret-at-rest", lambda: kube.secret_at_rest(n1))
            step("audit-log", lambda: kube.audit_log(n1))
            if a.kube_bench:
                step("kube-bench-1", lambda: kube.kube_bench(n1, ("node", "master")))
                if not pi:
                    step("kube-bench-2", lambda: kube.kube_bench(n2, ("node",)))
            if pi:
                step("memory-2", lambda: kube.memory(n2, n1, state["names"][1]))
            step("no-pull", no_pull)
        if not all(r["pass"] for r in results):
            for node in nodes:
                if node.paused and node.alive():
                    node.resume()
                if node.alive():
                    node.run("systemctl --failed --no-pager; journalctl -b -u kubelet -p warning -o cat --no-pager "
                             "| tail -n 60", 300)
                    kube.report(node)
            if n1.alive():
                kube.control_plane_logs(n1)
    finally:
        ok = finish(nodes, results, a.results)
    return 0 if ok else 1


if __name__ == "__main__":
    sys.exit(main())
