#!/bin/sh
# k8s-join's bootstrap token reaches no command line (which every local user
# reads in /proc/<pid>/cmdline): k8s-join runs under `strace -f -e execve`,
# the token on its standard input, in a private mount namespace where
# /usr/libexec, /usr/share, /run and /var/lib are scratch directories (a stub
# node-check; the real kubeadm-join.yaml template) and kubeadm is a stub that
# keeps the JoinConfiguration it is given. Passes when no execve's arguments
# hold the token and the configuration kubeadm got holds it, mode 0600, with the
# CRI socket of the node's runtime (the real cri-socket), for docker and for
# containerd.
set -eu
cd "$(dirname "$0")/.."
[ "$(id -u)" = 0 ] || { echo "SKIP: needs root (a private mount namespace)"; exit 77; }
for t in strace unshare; do
	command -v $t >/dev/null || { echo "SKIP: $t not found (scripts/host-deps.d/overlay.txt)"; exit 77; }
done
[ ! -e /etc/kubernetes/kubelet.conf ] || { echo "SKIP: this machine has /etc/kubernetes/kubelet.conf"; exit 77; }
overlay=$PWD/board/common/rootfs-overlay
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
token=b4kabc.0123456789b4kdef
hash=sha256:$(printf '%064d' 0 | tr 0 a)
mkdir -p "$tmp/libexec/b4k" "$tmp/share/b4k" "$tmp/run" "$tmp/varlib/kubelet" "$tmp/bin"
cp "$overlay/usr/share/b4k/kubeadm-join.yaml" "$tmp/share/b4k/"
cp "$overlay/usr/libexec/b4k/cri-socket" "$tmp/libexec/b4k/"
printf '#!/bin/sh\nexit 0\n' >"$tmp/libexec/b4k/node-check"
cat >"$tmp/bin/kubeadm" <<STUB
#!/bin/sh
# kubeadm join --config FILE: keep FILE and its mode, write what kubeadm would
[ "\$1 \$2" = "join --config" ] || exit 1
cp "\$3" "$tmp/got.yaml"
stat -c %a "\$3" >"$tmp/got.mode"
touch /var/lib/kubelet/config.yaml
STUB
chmod +x "$tmp/libexec/b4k/node-check" "$tmp/bin/kubeadm"
fail=0
for runtime in docker containerd; do
	echo "$runtime" >"$tmp/share/b4k/container-runtime"
	rm -f "$tmp/varlib/kubelet/config.yaml"
	# shellcheck disable=SC2016 # expanded by the inner shell
	echo "$token" | PATH="$tmp/bin:$PATH" unshare -m --propagation private sh -c '
		t=$1 k=$2 h=$3
		mount --bind "$t/libexec" /usr/libexec
		mount --bind "$t/share" /usr/share
		mount --bind "$t/run" /run
		mount --bind "$t/varlib" /var/lib
		exec strace -f -qq -s 4096 -e trace=execve -o "$t/trace" sh "$k" 192.168.50.10:6443 --discovery-token-ca-cert-hash "$h"
	' - "$tmp" "$overlay/usr/bin/k8s-join" "$hash" >"$tmp/out" 2>&1 || { cat "$tmp/out"; echo "FAIL: k8s-join failed"; exit 1; }
	if grep -F "$token" "$tmp/trace"; then
		echo "FAIL: the token is on the command line of the programs above"
		fail=1
	fi
	grep -qx "    token: \"$token\"" "$tmp/got.yaml" 2>/dev/null || { echo "FAIL: kubeadm's JoinConfiguration lacks the token"; cat "$tmp/got.yaml"; fail=1; }
	[ "$(cat "$tmp/got.mode")" = 600 ] || { echo "FAIL: kubeadm's JoinConfiguration is mode $(cat "$tmp/got.mode"), not 600"; fail=1; }
	case $runtime in docker) sock=unix:///run/cri-dockerd.sock ;; containerd) sock=unix:///run/containerd/containerd.sock ;; esac
	grep -qx "  criSocket: \"$sock\"" "$tmp/got.yaml" || { echo "FAIL: $runtime: kubeadm's criSocket is not $sock"; grep criSocket "$tmp/got.yaml"; fail=1; }
done
[ "$fail" -ne 0 ] || echo "k8s-join: the token went to kubeadm's 0600 configuration and on no command line ($(grep -c execve "$tmp/trace") programs started)"
exit "$fail"
