"""Kubernetes checks of the runtime lane, run over a node's serial console (node.Node).

Each check function returns (ok, detail).  Objects are sent as JSON (which is
YAML), base64-encoded on one console line, to `kubectl apply -f -`.  Test pods
run an image of the bundle that has a shell (--pod-image: the flannel CNI
plugin's, alpine-based upstream) with imagePullPolicy Never: nothing is pulled.
"""

import base64
import json
import re
import secrets
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


def control_plane_logs(node):
    """The control plane's containers and the last lines of the API server's and etcd's logs,
    into the console log, whether or not the API server answers (crictl: either runtime; the
    Debian lane's docker nodes have no crictl, docker then)."""
    node.run("if command -v crictl >/dev/null; then c=crictl; q='ps -a -q --name='; "
             "else c=docker; q='ps -aq --filter name=k8s_'; fi; $c ps -a 2>&1 | head -n 30; "
             "for n in kube-apiserver etcd; do for i in $($c $q$n 2>/dev/null | head -n 2); do "
             "echo \"== $n $i\"; $c logs --tail 40 $i 2>&1; done; done", 300)


def report(node):
    """The cluster's side of a failure, into the console log: nodes, pods, warning events,
    CoreDNS's and kube-proxy's logs, IPVS's table (an ipvs run's CoreDNS once stayed unready
    and left no trace). On a worker without the admin kubeconfig, kubectl just fails."""
    node.run("k() { kubectl --request-timeout=30s \"$@\"; }; k get nodes -o wide; k get pods -A -o wide; "
             "k get events -A --field-selector type=Warning | tail -n 20; "
             "k -n kube-system logs -l k8s-app=kube-dns --tail=20; "
             "k -n kube-system logs -l k8s-app=kube-proxy --tail=30; cat /proc/net/ip_vs 2>/dev/null", 300)


# The CRI's streaming server: cri-dockerd's --streaming-bind-addr of the overlay's
# cri-docker.service.d/10-b4k.conf, containerd's stream_server_address and _port of
# its etc/containerd/config.toml (loopback, this fixed port)
STREAM_PORT = 10010
NODE_PORT = 30080  # the NodePort Service of the streaming checks (in 30000-32767)


def script(node, text, timeout=600, retry=False):
    """Run the shell script `text` on the node (sent base64 on one console line, run by sh, so
    no job control messages): (exit code, output). retry: again every 10 s while it fails,
    for up to `timeout` seconds (node.until)."""
    data = base64.b64encode(text.encode()).decode()
    node.run("echo %s | base64 -d > /tmp/b4k-step.sh" % data, 120)
    if retry:
        return node.until("sh /tmp/b4k-step.sh", timeout)
    return node.run("sh /tmp/b4k-step.sh 2>&1", timeout)


def token():
    """A fresh token for one check: what is written, and must be read back."""
    return secrets.token_hex(8)


def stream_pod(name, image, tok, node_name=None):
    """A pod for the streaming checks: serves `tok` over HTTP on 8080 (busybox httpd), prints
    "log <tok>" every 3 s (logs -f), and answers each line of its standard input with
    "attach:<line>" (attach). Labelled b4k-stream for the NodePort Service."""
    obj = pod(name, image, "\n".join([
        "mkdir -p /www && echo \"$B4K_TOKEN\" > /www/index.html && httpd -p 8080 -h /www",
        "while :; do echo \"log $B4K_TOKEN\"; sleep 3; done &",
        "while read -r l; do echo \"attach:$l\"; done",
        "while :; do sleep 3600; done"]), node_name=node_name, restart="Always")
    obj["metadata"]["labels"]["b4k-stream"] = "yes"
    c = obj["spec"]["containers"][0]
    c["stdin"] = True
    c["env"] = [{"name": "B4K_TOKEN", "value": tok}]
    return obj


def node_port_service():
    """A NodePort Service onto the stream pods, each node sending to its own pod only
    (externalTrafficPolicy Local): what a node's port answers says which node it was."""
    return {"apiVersion": "v1", "kind": "Service", "metadata": {"name": "b4k-np"},
            "spec": {"type": "NodePort", "externalTrafficPolicy": "Local", "selector": {"b4k-stream": "yes"},
                     "ports": [{"port": 8080, "targetPort": 8080, "nodePort": NODE_PORT}]}}


# An HTTP GET through socat (in both userlands; the Debian lane's node has no wget
# or curl): the body's last line, carriage returns dropped.
HTTP_GET = ("printf 'GET / HTTP/1.0\\r\\n\\r\\n' | timeout 60 socat -t 30 - TCP:%s:%d 2>&1 | "
            "tr -d '\\r' | tail -n 1")


def http_get(node, host, port, expect, timeout=600):
    """GET / at host:port from `node` (again every 10 s for up to `timeout` s while the
    body is not `expect`): (ok, detail)."""
    rc, out = script(node, 'body=$(%s); echo "$body"; [ "$body" = %s ]' % (HTTP_GET % (host, port), expect),
                     timeout, retry=True)
    last = out.strip().splitlines()[-1] if out.strip() else ""
    return rc == 0 and last == expect, "%s:%d answered %r, expected %r" % (host, port, last, expect)


def streaming(node, name, image, node_name=None, local_port=18080):
    """Checks of every streaming path of `kubectl` (API server, kubelet, then the CRI's
    streaming server: cri-dockerd's, patched by package/cri-dockerd/0001-*.patch) on a pod
    `name` (on node `node_name`), kubectl run on `node` (with the admin kubeconfig). Each
    writes a fresh token and compares what comes back. A list of (check suffix, fn)."""
    state = {"token": token()}
    q = shlex.quote

    def ready():
        rc, out = apply(node, stream_pod(name, image, state["token"], node_name))
        if rc != 0:
            return False, "apply %s: %s" % (name, out)
        rc, out = node.until("kubectl wait pod/%s --for=condition=Ready --timeout=60s >/dev/null && "
                             "kubectl get pod %s -o jsonpath='{.spec.nodeName} {.status.podIP}'" % (name, name), 1200)
        return rc == 0, out.strip() if rc == 0 else why_pod(node, name)

    def compare(cmd, expect, label, env=""):
        """Run `cmd` (stdout judged, stderr shown), again while it does not give `expect`."""
        rc, out = script(node, "{ %s%s; } 2>/tmp/b4k-err > /tmp/b4k-out; rc=$?; out=$(cat /tmp/b4k-out); "
                         "echo \"exit $rc, stderr: $(tail -c 300 /tmp/b4k-err | tr '\\n' ' ')\"; "
                         "echo \"$out\"; [ \"$out\" = %s ]" % (env, cmd, q(expect)), 300, retry=True)
        lines = out.strip().splitlines()
        got = lines[-1] if len(lines) > 1 else ""
        return rc == 0 and got == expect, "%s: %r, expected %r; %s" % (
            label, got, expect, lines[0] if lines else "no output")

    def exec_ws():
        return compare("timeout 120 kubectl exec %s -c main -- cat /www/index.html" % name, state["token"],
                       "exec (websockets)")

    def exec_spdy():
        return compare("timeout 120 kubectl exec %s -c main -- cat /www/index.html" % name, state["token"],
                       "exec (SPDY)", env="KUBECTL_REMOTE_COMMAND_WEBSOCKETS=false ")

    def exec_stdin():
        t = token()
        return compare("printf '%%s\\n' %s | timeout 120 kubectl exec -i %s -c main -- "
                       "sh -c 'cat > /tmp/b4k-in && cat /tmp/b4k-in'" % (t, name), t, "exec -i, stdin read back")

    def background(cmd, until, seconds=240):
        """Shell text: `cmd` in the background (its output in /tmp/b4k-bg), waiting up to
        `seconds` for the shell test `until`, then stopped."""
        return ("rm -f /tmp/b4k-bg; %s > /tmp/b4k-bg 2>&1 & k=$!; i=0; "
                "until %s || [ $i -ge %d ] || ! kill -0 $k 2>/dev/null; do sleep 1; i=$((i + 1)); done; "
                % (cmd, until, seconds))

    def stop():
        return "kill $k 2>/dev/null; wait $k 2>/dev/null; "

    def attach():
        t = token()
        # kubectl's standard input: a FIFO this shell holds open (a closed input would end
        # the attach before the answer comes back)
        text = ("trap '' PIPE; rm -f /tmp/b4k-fifo; mkfifo /tmp/b4k-fifo; "
                "timeout 300 kubectl attach -i %s -c main < /tmp/b4k-fifo > /tmp/b4k-bg 2>&1 & k=$!; "
                "exec 3> /tmp/b4k-fifo; echo %s >&3; i=0; "
                "until grep -qx attach:%s /tmp/b4k-bg || [ $i -ge 240 ] || ! kill -0 $k 2>/dev/null; do "
                "sleep 1; i=$((i + 1)); done; " % (name, t, t) + stop() +
                "exec 3>&-; grep -v '^log ' /tmp/b4k-bg | tail -n 3; grep -qx attach:%s /tmp/b4k-bg" % t)
        rc, out = script(node, text, 400)
        return rc == 0 and ("attach:" + t) in out.splitlines(), "sent %s, attach gave: %s" % (
            t, out.strip().replace("\n", " | ")[-300:])

    def run_it():
        """`kubectl run -it --rm`: a terminal (socat's pty: the console's is the harness's), the
        pod reads a line from it; kubectl's fallback to the pod's log when it cannot attach
        ("couldn't attach") would show no answer, since the pod never gets the line."""
        t, pod_name = token(), name + "-run"
        spec = {"terminationGracePeriodSeconds": 1, "tolerations": [{"operator": "Exists"}]}
        if node_name:
            spec["nodeName"] = node_name
        over = json.dumps({"apiVersion": "v1", "spec": spec})
        run = ("kubectl delete pod %s --ignore-not-found --wait=true >/dev/null 2>&1; exec kubectl run %s "
               "-it --rm --restart=Never --image=%s --image-pull-policy=Never --pod-running-timeout=10m "
               "--overrides=%s --command -- sh -c %s" % (pod_name, pod_name, q(image), q(over),
                                                         q('read -r x; echo "got-$x"')))
        text = ("echo %s > /tmp/b4k-run.sh; printf '%%s\\n' %s | timeout 700 socat -t 600 - "
                "SYSTEM:'sh /tmp/b4k-run.sh',pty,setsid,ctty > /tmp/b4k-run.out 2>&1; "
                "tr -d '\\r' < /tmp/b4k-run.out | tail -n 6; grep -q \"couldn't attach\" /tmp/b4k-run.out && exit 1; "
                "tr -d '\\r' < /tmp/b4k-run.out | grep -qx got-%s" % (q(run), t, t))
        rc, out = script(node, text, 800)
        return rc == 0 and ("got-" + t) in out.splitlines(), "typed %s; %s" % (
            t, out.strip().replace("\n", " | ")[-300:])

    def port_forward():
        text = (background("timeout 300 kubectl port-forward pod/%s %d:8080" % (name, local_port),
                           "grep -q 'Forwarding from 127.0.0.1:%d' /tmp/b4k-bg" % local_port) +
                "body=$(%s); " % (HTTP_GET % ("127.0.0.1", local_port)) + stop() +
                "echo \"$(head -n 2 /tmp/b4k-bg | tr '\\n' ' ')\"; echo \"$body\"; [ \"$body\" = %s ]" % state["token"])
        rc, out = script(node, text, 400)
        lines = out.strip().splitlines()
        got = lines[-1] if lines else ""
        return rc == 0 and got == state["token"], "through 127.0.0.1:%d: %r, expected %r; %s" % (
            local_port, got, state["token"], lines[0] if len(lines) > 1 else "")

    def logs_f():
        # --tail=0: only lines written after the stream began
        line = "log " + state["token"]
        text = (background("timeout 300 kubectl logs -f --tail=0 %s -c main" % name,
                           "grep -qx %s /tmp/b4k-bg" % q(line)) + stop() + "grep -x -m 1 %s /tmp/b4k-bg || "
                "{ tail -n 3 /tmp/b4k-bg; false; }" % q(line))
        rc, out = script(node, text, 400)
        return rc == 0 and line in out.splitlines(), "followed: %s" % out.strip().replace("\n", " | ")[-300:]

    def cp_in():
        t = token()
        return compare("echo %s > /tmp/b4k-cp-in && timeout 120 kubectl cp /tmp/b4k-cp-in %s:/tmp/b4k-cp-in -c main "
                       "&& timeout 120 kubectl exec %s -c main -- cat /tmp/b4k-cp-in" % (t, name, name), t,
                       "copied in, read in the pod")

    def cp_out():
        return compare("rm -f /tmp/b4k-cp-out && timeout 120 kubectl cp %s:/www/index.html /tmp/b4k-cp-out -c main "
                       "&& cat /tmp/b4k-cp-out" % name, state["token"], "copied out of the pod")

    return state, [("stream-pod", ready), ("exec-ws", exec_ws), ("exec-spdy", exec_spdy), ("exec-stdin", exec_stdin),
                   ("attach", attach), ("run-it", run_it), ("port-forward", port_forward), ("logs-f", logs_f),
                   ("cp-in", cp_in), ("cp-out", cp_out)]


def memory(node, control=None, name=None):
    """A report, not a check: `free -m`'s Mem line and the resident size (VmRSS) of the
    node's daemons and of the pods' kube-proxy and flanneld; with `control` (the node that
    runs kubectl) and `name`, the node's memory capacity and allocatable as the kubelet
    reports them; passes when it can be read."""
    rc, out = node.run("free -m | sed -n 2p; for p in kubelet dockerd containerd cri-dockerd flanneld kube-proxy; do "
                       "for i in $(pidof $p); do echo \"$p $(awk '/^VmRSS/ {print $2}' /proc/$i/status) KiB\"; done; "
                       "done", 120)
    report = out.replace("\n", " | ")
    if control is not None:
        _, alloc = control.run("kubectl get node %s -o jsonpath='capacity {.status.capacity.memory} "
                               "allocatable {.status.allocatable.memory}'" % shlex.quote(name), 120)
        report += " | " + alloc.strip()
    return rc == 0 and out.startswith("Mem:"), report


def stream_bind(node):
    """The CRI's (cri-dockerd's, or containerd's) only TCP listener is its streaming server
    on 127.0.0.1:STREAM_PORT."""
    proc = "containerd" if node.runtime == "containerd" else "cri-dockerd"
    rc, out = node.run("ss -Hltnp | grep -F '\"%s\"'" % proc, 60)
    addrs = sorted(line.split()[3] for line in out.splitlines() if len(line.split()) > 3)
    return addrs == ["127.0.0.1:%d" % STREAM_PORT], "%s listens on %s" % (proc, " ".join(addrs) or "nothing")


def ports_from(node, host, closed, open_):
    """From `node`, TCP to host:closed is refused and host:open_ (a control: the address is
    reachable) connects."""
    rc, out = node.run("for p in %d %d; do timeout 30 socat -u /dev/null TCP:%s:$p,connect-timeout=10 2>/dev/null "
                       "&& echo \"$p reached\" || echo \"$p not reached\"; done" % (closed, open_, host), 120)
    want = ["%d not reached" % closed, "%d reached" % open_]
    return out.strip().splitlines() == want, "%s: %s" % (host, out.strip().replace("\n", "; "))


def kube_bench(node, targets):
    """kube-bench (build-pieces.sh puts it and its cfg/ into the Debian lane's image) with the
    CIS 1.12 benchmark, for each of `targets` ("node": the worker-node section, "master": the
    control plane's): no FAIL in any (WARN are the benchmark's manual checks, reasoned in
    docs/testing.md); each section's counts and FAIL ids reported."""
    ts = " ".join(targets)
    rc, out = node.run("(command -v kube-bench >/dev/null || { echo 'no kube-bench in the image "
                       "(build-pieces.sh: B4K_GIT_DIR/kube-bench)'; exit 1; }; "
                       "for t in %s; do kube-bench run --config-dir /etc/kube-bench/cfg "
                       "--benchmark cis-1.12 --targets $t --noremediations > /tmp/kb-$t.txt 2>&1; done; "
                       # -m 4: the section's summary (the total's repeats it)
                       "for t in %s; do echo \"$t: $(grep -m 4 -h -E '^[0-9]+ checks (PASS|FAIL|WARN|INFO)' "
                       "/tmp/kb-$t.txt | tr '\\n' ' ')\"; "
                       "echo \"$t FAIL: $(grep -h '^\\[FAIL\\]' /tmp/kb-$t.txt | cut -d' ' -f2 | tr '\\n' ' ')\"; "
                       "echo \"$t WARN: $(grep -h '^\\[WARN\\]' /tmp/kb-$t.txt | cut -d' ' -f2 | tr '\\n' ' ')\"; "
                       "done)" % (ts, ts), 900)
    summary = " | ".join(line for line in out.splitlines() if line.strip())
    fails = [re.search(r"^%s: .*?(\d+) checks FAIL" % t, out, re.M) for t in targets]
    return rc == 0 and all(m is not None and m.group(1) == "0" for m in fails), summary[-900:]


ENCRYPTION_CONFIG = "/etc/kubernetes/pki/b4k-encryption-config.yaml"  # k8s-init makes it


def secret_at_rest(node):
    """A Secret's value, read back through the API, is nowhere in etcd's files (the
    disk an attacker could copy), which hold the secretbox envelope of k8s-init's key
    instead; the key's file is 0600 root. Nor is it in the audit log (Metadata only)."""
    t = token()
    rc, out = apply(node, {"apiVersion": "v1", "kind": "Secret", "metadata": {"name": "b4k-secret"},
                           "stringData": {"value": t}})
    if rc != 0:
        return False, "apply: " + out
    rc, out = node.until("[ \"$(kubectl get secret b4k-secret -o jsonpath='{.data.value}' | base64 -d)\" = %s ]" % t,
                         300)
    if rc != 0:
        return False, "the Secret did not read back: " + out
    rc, out = node.run("echo \"plain: $(grep -rlF %s /var/lib/etcd /var/log/kubernetes/audit | wc -l) files\"; "
                       "echo \"sealed: $(grep -rlF k8s:enc:secretbox:v1:b4k-1 /var/lib/etcd | wc -l) files\"; "
                       "echo \"key: $(stat -c '%%a %%U:%%G' %s)\"" % (t, ENCRYPTION_CONFIG), 600)
    lines = out.strip().splitlines()
    sealed = re.search(r"sealed: (\d+) files", out)
    ok = "plain: 0 files" in lines and sealed is not None and int(sealed.group(1)) > 0 and "key: 600 root:root" in lines
    return ok, "; ".join(lines)


def audit_log(node):
    """The API server writes its audit log (kubeadm-init.yaml), mode 0600: its size so far."""
    rc, out = node.run("ls -l /var/log/kubernetes/audit/; stat -c '%a %s' /var/log/kubernetes/audit/audit.log; "
                       "echo \"$(wc -l < /var/log/kubernetes/audit/audit.log) events\"", 120)
    m = re.search(r"^(\d+) (\d+)$", out, re.M)
    return rc == 0 and m is not None and m.group(1) == "600" and int(m.group(2)) > 0, out.replace("\n", " | ")[-400:]
