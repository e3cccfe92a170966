#!/bin/sh
# The overlay's systemd units, drop-ins, presets and fstab, checked by Debian's
# systemd itself against a scratch root: the host's systemd units, then
# board/common/rootfs-overlay, then the units of the tree's packages (stubs
# where a package is absent), then stub executables for what other packages
# install. Checks: `systemd-analyze verify` of every unit the overlay ships or
# changes; `systemctl preset-all` enables the units the image must start;
# systemd-fstab-generator turns the common /etc/fstab into root growfs only (no
# board but the pc has a second disk to wait for) and the pc's into root growfs
# and /data makefs.
set -eu
cd "$(dirname "$0")/.."
for tool in systemd-analyze systemctl; do
	command -v $tool >/dev/null || { echo "SKIP: $tool not found (apt-get install systemd)"; exit 77; }
done
overlay=board/common/rootfs-overlay
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
root=$tmp/root
units=$root/usr/lib/systemd/system
mkdir -p "$root/usr/lib/systemd" "$root/usr/bin" "$root/usr/sbin"
cp -a /lib/systemd/system "$root/usr/lib/systemd/"
cp -a "$overlay/." "$root/"

# Units of other packages: the tree's own when present, else stubs.
stub_unit() { # name exec
	[ -e "$units/$1" ] && return 0
	case $1 in
	*.socket) printf '[Socket]\nListenStream=/run/%s\n[Install]\nWantedBy=sockets.target\n' "$1" ;;
	*) printf '[Service]\nExecStart=%s\n[Install]\nWantedBy=multi-user.target\n' "$2" ;;
	esac >"$units/$1"
}
for f in package/cri-dockerd/cri-docker.service package/cri-dockerd/cri-docker.socket \
	package/kubernetes/kubelet.service; do
	[ ! -f "$f" ] || cp "$f" "$units/"
done
if [ -f package/kubernetes/10-kubeadm.conf ]; then
	mkdir -p "$units/kubelet.service.d"
	cp package/kubernetes/10-kubeadm.conf "$units/kubelet.service.d/"
fi
stub_unit cri-docker.service "/usr/bin/cri-dockerd --container-runtime-endpoint fd://"
stub_unit cri-docker.socket
stub_unit kubelet.service /usr/bin/kubelet
stub_unit docker.service /usr/bin/dockerd # docker-engine
stub_unit containerd.service /usr/bin/containerd # containerd
stub_unit nfs-server.service /usr/sbin/rpc.nfsd # nfs-utils
stub_unit sshd.service /usr/sbin/sshd # openssh
# Executables other packages install (the overlay's own must be real;
# b4k-node: package/b4k-node-tools).
for exe in usr/bin/cri-dockerd usr/bin/kubelet usr/bin/kubeadm usr/bin/dockerd \
	usr/bin/containerd usr/bin/docker usr/sbin/rpc.nfsd usr/sbin/exportfs usr/sbin/sshd \
	usr/bin/mkdir usr/bin/chown usr/bin/mount usr/bin/umount usr/bin/kubectl \
	usr/libexec/b4k/b4k-node; do
	[ -e "$root/$exe" ] || { printf '#!/bin/sh\n' >"$root/$exe" && chmod +x "$root/$exe"; }
done

fail=0
# Every unit the overlay ships, and every unit it changes with a drop-in.
verify=$(cd "$overlay/usr/lib/systemd/system" && {
	ls -- *.service *.socket *.mount *.timer 2>/dev/null || true
	for d in *.d; do echo "${d%.d}"; done
} | sort -u)
echo "systemd-analyze verify: $(echo "$verify" | tr "\n" " ")"
# shellcheck disable=SC2086 # one word per unit
if ! (cd "$units" && systemd-analyze verify --root="$root" $verify); then
	echo "FAIL: systemd-analyze verify"
	fail=1
fi

# A containerd image (post-build.sh removes docker's files; there is no docker,
# docker.service, cri-dockerd): the units that run either runtime still load,
# with containerd ordered after the pause image's list.
croot=$tmp/containerd-root
cp -a "$root" "$croot"
rm -rf "$croot/usr/lib/systemd/system/docker.service" "$croot/usr/lib/systemd/system/cri-docker."* \
	"$croot/usr/lib/systemd/system/cri-docker.service.d" "$croot/etc/docker" "$croot/usr/bin/docker" \
	"$croot/usr/bin/dockerd" "$croot/usr/bin/cri-dockerd"
if ! (cd "$croot/usr/lib/systemd/system" && systemd-analyze verify --root="$croot" \
	b4k-images.service b4k-kubeadm-images.service containerd.service kubelet.service); then
	echo "FAIL: systemd-analyze verify without docker (containerd)"
	fail=1
fi
grep -qx 'After=b4k-kubeadm-images.service' "$croot/usr/lib/systemd/system/containerd.service.d/10-b4k.conf" ||
	{ echo "FAIL: containerd not ordered after b4k-kubeadm-images (its sandbox image)"; fail=1; }

# As upstream systemd's 90-systemd.preset ends: anything not listed is disabled.
printf 'disable *\n' >"$root/usr/lib/systemd/system-preset/99-default.preset"
systemctl --root="$root" preset-all >"$tmp/preset.log" 2>&1 || { cat "$tmp/preset.log"; fail=1; }
for want in multi-user.target.wants/docker.service multi-user.target.wants/kubelet.service \
	multi-user.target.wants/sshd.service \
	sockets.target.wants/cri-docker.socket getty.target.wants/getty@tty1.service \
	'dev-disk-by\x2dlabel-K8S_IMAGES.device.wants/b4k-images.service' \
	sysinit.target.wants/b4k-hostname.service multi-user.target.wants/b4k-nfs-pod-guard.service; do
	[ -L "$root/etc/systemd/system/$want" ] || { echo "FAIL: preset-all did not enable $want"; fail=1; }
done
# The NFS server runs only where k8s-init enables it (the StorageClass's node).
for unwanted in multi-user.target.wants/nfs-server.service timers.target.wants/b4k-nfs-refresh.timer; do
	[ ! -e "$root/etc/systemd/system/$unwanted" ] || { echo "FAIL: preset-all enabled $unwanted"; fail=1; }
done
for masked in rpcbind.service rpcbind.socket rpc-statd.service; do
	[ "$(readlink "$root/etc/systemd/system/$masked")" = /dev/null ] || { echo "FAIL: $masked not masked"; fail=1; }
done

gen=$tmp/gen
fstab_gen() { # fstab
	rm -rf "$gen"
	mkdir -p "$gen/normal" "$gen/early" "$gen/late"
	SYSTEMD_FSTAB=$1 SYSTEMD_PROC_CMDLINE="" \
		/lib/systemd/system-generators/systemd-fstab-generator "$gen/normal" "$gen/early" "$gen/late"
}
fstab_gen "$overlay/etc/fstab"
[ -e "$gen/normal/-.mount.wants/systemd-growfs@-.service" ] || { echo "FAIL: common fstab: no root growfs"; fail=1; }
[ ! -e "$gen/normal/data.mount" ] || { echo "FAIL: common fstab mounts /data (a board without that disk waits 90 s)"; fail=1; }
fstab_gen board/pc/rootfs-overlay/etc/fstab
for f in -.mount.wants/systemd-growfs@-.service data.mount.requires/systemd-makefs@dev-vdb.service \
	local-fs.target.wants/data.mount; do
	[ -e "$gen/normal/$f" ] || { echo "FAIL: pc fstab: generator made no $f"; fail=1; }
done
grep -q '^After=.*systemd-repart.service' "$gen/normal/systemd-growfs@-.service" ||
	{ echo "FAIL: root growfs not ordered after systemd-repart"; fail=1; }
[ "$fail" -eq 0 ] && echo "overlay units: verify, presets and fstab OK ($(echo "$verify" | wc -l) units)"
exit "$fail"
