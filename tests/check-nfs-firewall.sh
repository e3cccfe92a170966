#!/bin/sh
# Who reaches the NFS export, tried with the real iptables in network
# namespaces: a server node (SRV, 192.168.50.10, listening on 2049) and a
# worker (WRK, 192.168.50.11, also holding 192.168.50.12, an address no node
# has), each with a pod (a namespace behind the node's cni0 bridge, in
# 10.244.0.0/16) and flannel's masquerading (-s pods ! -d pods -j MASQUERADE).
# 1. usr/libexec/b4k/nfs-clients on SRV, with a fake kubectl and exportfs:
#    `apply` of a stale list with malformed addresses among good ones (five
#    octets, hex letters, leading zeros, a loopback one, a newline inside an
#    address in the API's node list) applies the good ones, names the bad
#    ones, and fails nothing; `refresh` the same from the API; two runs at once.
# 2. usr/libexec/b4k/nfs-pod-guard on both nodes: before it, the worker's pod
#    reaches SRV's 2049 as its node (the hole); after it, no pod reaches 2049
#    outside the pod network, on either node, nor through a Service that
#    leads there (DNAT), while the nodes themselves
#    (the kubelet's and CSI node plugin's mounts: host network) still do, the
#    non-node address is still refused, pods still reach each other's 2049
#    and SRV's other ports.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (network namespaces)"; exit 77; }
for t in ip iptables iptables-restore ip6tables-restore flock /usr/bin/python3; do
	command -v "$t" >/dev/null || { echo "SKIP: $t not found"; exit 77; }
done
PATH=$PATH:/usr/local/go/bin
command -v go >/dev/null || { echo "SKIP: go not found (needed to build src/b4k-node-tools)"; exit 77; }
tmp=$(mktemp -d)
p=b4k$$
# shellcheck disable=SC2317 # called by the trap
cleanup() {
	for n in srv wrk pod0 pod1; do
		ip netns pids "$p-$n" 2>/dev/null | xargs -r kill 2>/dev/null || true
		ip netns del "$p-$n" 2>/dev/null || true
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
(cd src/b4k-node-tools && GOFLAGS=-mod=mod GOTOOLCHAIN=local GOPROXY=off CGO_ENABLED=0 go build -trimpath -o "$tmp/b4k-node" .)
overlay=$PWD/board/common/rootfs-overlay
x() { ns=$1; shift; ip netns exec "$p-$ns" "$@"; }

for n in srv wrk pod0 pod1; do ip netns add "$p-$n"; x "$n" ip link set lo up; done
ip link add "$p-s" netns "$p-srv" type veth peer name "$p-w" netns "$p-wrk"
x srv ip link set "$p-s" name eth0
x wrk ip link set "$p-w" name eth0
x srv ip addr add 192.168.50.10/24 dev eth0
x wrk ip addr add 192.168.50.11/24 dev eth0
x wrk ip addr add 192.168.50.12/24 dev eth0
i=0
for n in srv wrk; do
	x "$n" ip link set eth0 up
	x "$n" ip link add cni0 type bridge
	x "$n" ip addr add "10.244.$i.1/24" dev cni0
	x "$n" ip link set cni0 up
	ip link add "$p-v$i" netns "$p-$n" type veth peer name eth0 netns "$p-pod$i"
	x "$n" ip link set "$p-v$i" master cni0 up
	x "pod$i" ip addr add "10.244.$i.2/24" dev eth0
	x "pod$i" ip link set eth0 up
	x "pod$i" ip route add default via "10.244.$i.1"
	x "$n" sysctl -qw net.ipv4.ip_forward=1
	# flannel --ip-masq
	x "$n" iptables -t nat -A POSTROUTING -s 10.244.0.0/16 ! -d 10.244.0.0/16 -j MASQUERADE
	i=$((i + 1))
done
# a Service 10.96.0.50:80 whose endpoint is the server's 2049, as kube-proxy
# would DNAT it (anyone who may write an EndpointSlice can make one)
x wrk iptables -t nat -A PREROUTING -d 10.96.0.50 -p tcp --dport 80 -j DNAT --to-destination 192.168.50.10:2049
# flannel's routes between the nodes' pod subnets (VXLAN in a real cluster)
x srv ip route add 10.244.1.0/24 via 192.168.50.11
x wrk ip route add 10.244.0.0/24 via 192.168.50.10

listen() { # ns port...
	n=$1
	shift
	x "$n" /usr/bin/python3 -c '
import socket, sys, threading
def serve(port):
    s = socket.socket(); s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    s.bind(("0.0.0.0", port)); s.listen(16)
    while True:
        s.accept()[0].close()
for p in sys.argv[1:]:
    threading.Thread(target=serve, args=(int(p),)).start()
' "$@" &
}
listen srv 2049 6443
listen pod0 2049
sleep 1
reach() { # ns host [source]: a TCP connection to host:2049 (or host:port) within 2 s
	x "$1" /usr/bin/python3 -c '
import socket, sys
host, port = (sys.argv[1].rsplit(":", 1) + ["2049"])[:2]
src = (sys.argv[2], 0) if len(sys.argv) > 2 else None
try:
    socket.create_connection((host, int(port)), timeout=2, source_address=src).close()
except OSError:
    sys.exit(1)
' "$2" ${3:+"$3"}
}
fail=0
expect() { # yes|no what ns host [source]
	want=$1 what=$2
	shift 2
	if reach "$@"; then got=yes; else got=no; fi
	if [ "$got" = "$want" ]; then
		echo "ok: $what: $([ "$got" = yes ] && echo reached || echo refused)"
	else
		echo "FAIL: $what: $([ "$got" = yes ] && echo reached || echo refused)"
		fail=1
	fi
}

# 1. nfs-clients on the server
root=$tmp/root
mkdir -p "$root/etc/b4k" "$tmp/bin"
printf '#!/bin/sh\necho "exportfs $*" >>"%s/exportfs.log"\n' "$tmp" >"$tmp/bin/exportfs"
cat >"$tmp/bin/kubectl" <<STUB
#!/bin/sh
cat "$tmp/nodes.json"
STUB
chmod +x "$tmp/bin/exportfs" "$tmp/bin/kubectl"
nfs() { x srv env PATH="$tmp/bin:$PATH" B4K_ROOT="$root" B4K_NODE="$tmp/b4k-node" sh "$overlay/usr/libexec/b4k/nfs-clients" "$@"; }
printf '%s\n' 1.2.3.4.5 192.168.50.11 deadbeef 010.1.1.1 127.0.0.1 '192.168.50.99 -j ACCEPT' >"$root/etc/b4k/nfs-clients"
if nfs apply >"$tmp/apply.log" 2>&1; then
	echo "ok: apply of a stale list with 5 bad addresses among a good one: exit 0"
else
	echo "FAIL: apply of a stale list with bad addresses failed"; fail=1
fi
cat "$tmp/apply.log"
for bad in 1.2.3.4.5 deadbeef 010.1.1.1 127.0.0.1 '192.168.50.99 -j ACCEPT'; do
	grep -qF "\"$bad\"" "$tmp/apply.log" || { echo "FAIL: '$bad' is not named in the log"; fail=1; }
done
grep -q '^/data/nfs 192.168.50.11(' "$root/etc/exports.d/b4k-cluster.exports" ||
	{ echo "FAIL: exports:"; cat "$root/etc/exports.d/b4k-cluster.exports"; fail=1; }
[ "$(x srv iptables -S B4K-NFS | grep -c RETURN)" = 1 ] || { echo "FAIL: B4K-NFS:"; x srv iptables -S B4K-NFS; fail=1; }
expect yes "the worker node (in the list) to the server's 2049" wrk 192.168.50.10
expect no "an address that is no node's (192.168.50.12) to the server's 2049" wrk 192.168.50.10 192.168.50.12
# refresh: the API's node list, with malformed InternalIPs
cat >"$tmp/nodes.json" <<'JSON'
{"items": [
 {"metadata": {"name": "srv"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.50.10"}]}},
 {"metadata": {"name": "wrk"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.50.11"},
   {"type": "InternalIP", "address": "1.2.3.4.5"}, {"type": "Hostname", "address": "wrk"}]}},
 {"metadata": {"name": "evil"}, "status": {"addresses": [{"type": "InternalIP", "address": "192.168.50.98\n192.168.50.12"}]}}
]}
JSON
if nfs refresh >"$tmp/refresh.log" 2>&1 && [ "$(cat "$root/etc/b4k/nfs-clients")" = "$(printf '192.168.50.10\n192.168.50.11')" ]; then
	echo "ok: refresh with malformed node addresses: list is the 2 good ones"
else
	echo "FAIL: refresh"; cat "$tmp/refresh.log" "$root/etc/b4k/nfs-clients"; fail=1
fi
expect no "192.168.50.12 (smuggled after a newline in a node address) to the server's 2049" wrk 192.168.50.10 192.168.50.12
# two runs at once: serialized, both succeed
nfs apply >/dev/null 2>&1 & a=$!
nfs apply >/dev/null 2>&1 & b=$!
if wait "$a" && wait "$b"; then echo "ok: two applies at once"; else echo "FAIL: two applies at once"; fail=1; fi
[ "$(x srv iptables -S INPUT | grep -c B4K-NFS)" = 2 ] || { echo "FAIL: INPUT:"; x srv iptables -S INPUT; fail=1; }

# 2. pods and 2049
expect yes "before nfs-pod-guard: the worker's pod to the server's 2049 (masqueraded as its node: the hole)" pod1 192.168.50.10
expect yes "before nfs-pod-guard: the worker's pod to a Service leading to the server's 2049" pod1 10.96.0.50:80
for n in srv wrk; do
	for _ in 1 2; do
		x "$n" env B4K_KUBEADM_INIT="$overlay/usr/share/b4k/kubeadm-init.yaml" \
			sh "$overlay/usr/libexec/b4k/nfs-pod-guard" >/dev/null || { echo "FAIL: nfs-pod-guard on $n"; fail=1; }
	done
	[ "$(x "$n" iptables -t mangle -S | grep -c -- '-j B4K-POD-NFS')" = 4 ] ||
		{ echo "FAIL: nfs-pod-guard twice on $n:"; x "$n" iptables -t mangle -S; fail=1; }
done
expect no "the worker's pod to the server's 2049" pod1 192.168.50.10
expect no "the worker's pod to its own node's 2049 address" pod1 192.168.50.11
expect no "the worker's pod to a Service leading to the server's 2049 (after DNAT)" pod1 10.96.0.50:80
expect no "the server's pod to its node's 2049" pod0 192.168.50.10
expect no "the server's pod to its node's cni0 address, 2049" pod0 10.244.0.1
expect yes "the worker node (host network: kubelet, CSI node plugin) to the server's 2049" wrk 192.168.50.10
expect yes "the server node to its own 2049" srv 192.168.50.10
expect no "an address that is no node's to the server's 2049" wrk 192.168.50.10 192.168.50.12
expect yes "the worker's pod to the server's pod's 2049 (pod to pod)" pod1 10.244.0.2
expect yes "the worker's pod to the server's port 6443" pod1 192.168.50.10:6443
[ "$fail" -ne 0 ] || echo "nfs firewall: malformed addresses skipped and named, pods refused at 2049, nodes admitted"
exit "$fail"
