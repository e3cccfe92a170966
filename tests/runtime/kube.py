"""Kubernetes checks of the runtime lane, run over a node's serial console (node.Node).

Each check function returns (ok, detail).  Objects are sent as JSON (which is
YAML), base64-encoded on one console line, to `kubectl apply -f -`.  Test pods
run an image of the bundle that has a shell (--pod-image: the flannel CNI
plugin's, alpine-based upstream) with imagePullPolicy Never: nothing is pulled.
"""

import base64
import json
import shlex
import time

DNS_IP = "10.96.0.10"  # kubeadm's default service subnet 10.96.0.0/12: its 10th address
API_IP = "10.96.0.1"  # and its first: the kubernetes.default Service


def apply(node, *objects, timeout=600):
    """`kubectl apply` the objects, again every 10 s while it fails (the API server
    restarts now and then under TCG; apply is idempotent); (exit code, output)."""
    text = "\n---\n".join(json.dumps(o, sort_keys=True) for o in objects)
    data = base64.b64encode(text.encode()).decode()
    return node.until("echo %s | base64 -d | kubectl apply -f -" % data, timeout)


def pvc(name, size="64Mi"):
    """A ReadWriteMany claim of the default StorageClass (k8s-init's nfs-csi)."""
    return {"apiVersion": "v1", "kind": "PersistentVolumeClaim", "metadata": {"name": name},
            "spec": {"accessModes": ["ReadWriteMany"], "resources": {"requests": {"storage": size}}}}


def pod(name, image, script, claim=None, node_name=None, restart="Never"):
    """A pod running `sh -c script` in `image`, the claim (if any) at /mnt/rwx."""
    c = {"name": "main", "image": image, "imagePullPolicy": "Never", "command": ["sh", "-c", script]}
    spec = {"restartPolicy": restart, "containers": [c], "terminationGracePeriodSeconds": 1,
            # a single node is the control plane: tolerate its taint
            "tolerations": [{"operator": "Exists"}]}
    if claim:
        c["volumeMounts"] = [{"name": "rwx", "mountPath": "/mnt/rwx"}]
        spec["volumes"] = [{"name": "rwx", "persistentVolumeClaim": {"claimName": claim}}]
    if node_name:
        spec["nodeName"] = node_name
    return {"apiVersion": "v1", "kind": "Pod", "metadata": {"name": name, "labels": {"b4k-test": name}},
            "spec": spec}


def why_pod(node, name):
    """Why pod `name` did not work, one line: its container's state (exit code, reason;
    describe's tail may not reach it), then the tail of `kubectl describe`."""
    _, why = node.run("kubectl get pod %s -o jsonpath='{.status.containerStatuses[0].state}'; echo; "
                      "kubectl describe pod %s | tail -n 25" % (name, name), 120)
    return why.replace("\n", " | ")


def run_pod(node, obj, timeout=1800):
    """Apply a run-once pod, wait for it to succeed; (ok, its log or why not)."""
    name = obj["metadata"]["name"]
    rc, out = apply(node, obj)
    if rc != 0:
        return False, "apply %s: %s" % (name, out)
    # until the pod ends either way (kubectl wait takes one condition only)
    phase = "kubectl get pod %s -o jsonpath='{.status.phase}'" % name
    node.until("%s | grep -qx -e Succeeded -e Failed" % phase, timeout)
    # the log and phase are read (and re-read while the API server does not answer) before they are judged
    node.until("rm -f /tmp/b4k-log /tmp/b4k-phase; kubectl logs %s > /tmp/b4k-log && %s > /tmp/b4k-phase"
               % (name, phase), 600)
    rc, out = node.run("cat /tmp/b4k-log; [ \"$(cat /tmp/b4k-phase)\" = Succeeded ]", 120)
    if rc != 0:
        return False, "%s did not succeed: %s | %s" % (name, out, why_pod(node, name))
    return True, out.strip()


def init(node, state, proxy_mode=None):
    """`k8s-init` (kubeadm init, flannel, csi-driver-nfs, StorageClass), with `--proxy-mode` when
    given; state["init"] = its start, state["join"] the k8s-join command it printed, state["token"]
    the bootstrap token."""
    state["init"] = time.monotonic()
    opt = " --proxy-mode " + shlex.quote(proxy_mode) if proxy_mode else ""
    rc, out = node.run("k8s-init%s > /var/log/k8s-init.log 2>&1; rc=$?; tail -n 15 /var/log/k8s-init.log; "
                       "test $rc -eq 0" % opt, 3600)
    join = [x for x in out.splitlines() if x.startswith("k8s-join ")]
    state["join"] = join[-1] if join else None
    # k8s-init prints the bootstrap token on a line of its own, not in the command
    token = [x.rsplit(" ", 1)[-1] for x in out.splitlines() if x.startswith("bootstrap token ")]
    state["token"] = token[-1] if token else None
    return rc == 0, out.replace(state["token"] or "\0", "<token>").replace("\n", " | ")[-600:]


def ready(node, state, count=1, since_boot=False, timeout=1800):
    """`count` nodes Ready.  since_boot: each node's Ready heartbeat is newer than this
    node's boot (a Ready condition left from before a reboot does not count)."""
    cond = '{range .items[*]}{.metadata.name} {.status.conditions[?(@.type=="Ready")].status} ' \
           '{.status.conditions[?(@.type=="Ready")].lastHeartbeatTime}{"\\n"}{end}'
    test = ("btime=$(awk '/^btime/ {print $2}' /proc/stat); n=0; "
            "kubectl get nodes -o jsonpath=%s > /tmp/b4k-nodes; "
            "while read -r name st hb; do [ \"$st\" = True ] || continue; %s n=$((n + 1)); done < /tmp/b4k-nodes; "
            "cat /tmp/b4k-nodes; [ $n -ge %d ]") % (
        # busybox's date -d takes "YYYY-MM-DD hh:mm:ss", not RFC 3339's T and Z
        shlex.quote(cond), '[ "$(date -u -d "$(echo "$hb" | sed "s/T/ /; s/Z$//")" +%s)" -ge "$btime" ] || continue;'
        if since_boot else "", count)
    t = time.monotonic()
    rc, out = node.until(test, timeout)
    if since_boot:
        return rc == 0, "%s; %.0fs of waiting" % (out.strip().replace("\n", "; "), time.monotonic() - t)
    return rc == 0, "%s; %.0fs after k8s-init started" % (out.strip().replace("\n", "; "),
                                                          time.monotonic() - state.get("init", t))


def no_pull(node):
    """kubelet pulled no image."""
    rc, out = node.run("journalctl -o cat -u kubelet | grep -c 'Pulling image' || true")
    return out.strip() == "0", "kubelet 'Pulling image' lines: %s" % out.strip()


def coredns(node):
    """CoreDNS pods Ready and answering for kubernetes.default.  nslookup: Buildroot's busybox
    and Debian's bind9-dnsutils both have it, and both print the answer as "Address: <ip>"."""
    rc, out = node.until("kubectl -n kube-system wait --for=condition=Ready pod -l k8s-app=kube-dns "
                         "--timeout=60s && nslookup kubernetes.default.svc.cluster.local %s | "
                         "grep -E '^Address:[[:space:]]*%s$'" % (DNS_IP, API_IP.replace(".", "\\.")))
    return rc == 0 and out.strip().endswith(API_IP), out.replace("\n", " | ")


def pvc_bound(node, name, timeout=1800):
    """The claim `name` exists and is Bound (csi-driver-nfs provisioned it)."""
    rc, out = apply(node, pvc(name))
    if rc != 0:
        return False, "apply pvc: %s" % out
    rc, out = node.until("kubectl wait pvc/%s --for=jsonpath='{.status.phase}'=Bound --timeout=60s && "
                         "kubectl get pvc %s -o jsonpath='{.spec.volumeName} {.spec.accessModes}'" % (name, name),
                         timeout)
    if rc != 0:
        _, why = node.run("kubectl describe pvc %s | tail -n 15; kubectl -n kube-system get pods -o wide" % name, 120)
        return False, "%s | %s" % (out, why.replace("\n", " | "))
    return True, out.strip()


# What kube-proxy logs for the proxier it runs (k8s.io/kubernetes cmd/kube-proxy/app/server_linux.go:
# "Using iptables Proxier", "Using ipvs Proxier", "Using nftables Proxier").
PROXIER_LOG = {"iptables": "Using iptables Proxier", "ipvs": "Using ipvs Proxier",
               "nftables": "Using nftables Proxier"}


def proxy_mode(node, mode):
    """kube-proxy runs `mode`: its log names that proxier, and the kernel shows it: for ipvs,
    /proc/net/ip_vs has the kubernetes Service (10.96.0.1:443, 0A600001:01BB); for nftables,
    the table ip kube-proxy maps it (where nft is installed) and iptables-save has no
    KUBE-SERVICES chain (the iptables proxier's) in the nat table."""
    # waits: a Ready node may not run kube-proxy yet, and `kubectl logs` fails until the
    # kubelet's serving certificate is approved (csr-approve's timer)
    rc, out = node.until("log=$(kubectl -n kube-system logs -l k8s-app=kube-proxy --tail=-1 2>&1); "
                         "printf '%%s\\n' \"$log\" | grep -m1 -F %s || "
                         "{ printf '%%s\\n' \"$log\" | tail -n 3; false; }" % shlex.quote(PROXIER_LOG[mode]), 900)
    if rc != 0:
        return False, "kube-proxy's log does not say %r: %s" % (PROXIER_LOG[mode], out.replace("\n", " | ")[-300:])
    if mode == "ipvs":
        # kube-proxy logs its proxier before its first sync: the ipvs run's check, made at once,
        # found no virtual server yet; wait for the first sync (5 min)
        rc, k = node.until("grep -i '0A600001:01BB' /proc/net/ip_vs || { head -n 8 /proc/net/ip_vs; false; }", 300)
        return rc == 0, out.strip() + "; /proc/net/ip_vs: " + (k.strip().replace("\n", " | ")
                                                                or "no 10.96.0.1:443")
    if mode == "nftables":
        # the kubernetes Service in the service-ips map of kube-proxy's own table (after its
        # first sync; nft is the Debian lane's, a Buildroot image has only iptables-nft)
        rc, n = node.until("command -v nft >/dev/null || { echo no nft; exit 0; }; "
                           "nft list table ip kube-proxy 2>&1 | grep -m1 -E '10[.]96[.]0[.]1 [.] (tcp|6) [.] 443' "
                           "|| { nft list table ip kube-proxy 2>&1 | head -n 8; false; }", 300)
        _, k = node.run("iptables-save -t nat | grep -c KUBE-SERVICES", 60)
        return rc == 0 and k.strip() == "0", "%s; nft: %s; KUBE-SERVICES rules in iptables' nat: %s" % (
            out.strip(), n.strip().replace("\n", " | ")[-300:], k.strip())
    return True, out.strip()


def report(node):
    """The cluster's side of a failure, into the console log: nodes, pods, warning events,
    CoreDNS's and kube-proxy's logs, IPVS's table (an ipvs run's CoreDNS once stayed unready
    and left no trace). On a worker without the admin kubeconfig, kubectl just fails."""
    node.run("k() { kubectl --request-timeout=30s \"$@\"; }; k get nodes -o wide; k get pods -A -o wide; "
             "k get events -A --field-selector type=Warning | tail -n 20; "
             "k -n kube-system logs -l k8s-app=kube-dns --tail=20; "
             "k -n kube-system logs -l k8s-app=kube-proxy --tail=30; cat /proc/net/ip_vs 2>/dev/null", 300)
