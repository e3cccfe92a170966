#!/bin/sh
# Runtime lane: the node's root file system as Buildroot would finish it, on the
# Debian userland of build-base.sh: kernel modules, the packages' own files
# (STAGE: binaries and units the tree's packages install), then
# the defconfig's overlays, board/common/rootfs-overlay then board/pc/rootfs-overlay
# (rsync as Buildroot's SYSTEM_RSYNC), then
# board/common/post-build.sh with BR2_EXTERNAL_KUBERNETES_PATH and BR2_CONFIG
# (the pc's defconfig for RUNTIME: docker, the default, or containerd; it picks
# the node's container runtime) (and
# B4K_IMAGES_MANIFEST, the bundle's list, when given), then
# `systemctl preset-all` (Buildroot's SYSTEMD_PRESET_ALL), then the harness-only
# files of tests/runtime/test-rootfs (console autologin, networkd for QEMU's
# user network: not product files). Made into an ext4 image of ROOT_FS_SIZE,
# cached by a hash of all inputs.
#   tests/runtime/build-rootfs.sh BASE_DIR KERNEL_DIR STAGE_DIR   prints the image
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
base=${1:?usage: $0 BASE_DIR KERNEL_DIR STAGE_DIR} kernel=${2:?} stage=${3:?}
cache=${B4K_CACHE:-$HOME/.cache/b4k/runtime}
size=${ROOT_FS_SIZE:-2G}
case ${RUNTIME:-docker} in
docker) defconfig=$tree/configs/pc_defconfig ;;
containerd) defconfig=$tree/configs/pc_containerd_defconfig ;;
*) echo "build-rootfs: RUNTIME is docker or containerd, not '$RUNTIME'" >&2; exit 2 ;;
esac
# The defconfig's BR2_ROOTFS_OVERLAY (in its order: the common overlay, then the
# pc's), as paths relative to the tree.
# shellcheck disable=SC2016 # a literal $(BR2_EXTERNAL_KUBERNETES_PATH) of the defconfig
overlays=$(sed -n 's/^BR2_ROOTFS_OVERLAY="\(.*\)"$/\1/p' "$defconfig" | sed 's|\$(BR2_EXTERNAL_KUBERNETES_PATH)/||g')
[ -n "$overlays" ] || { echo "build-rootfs: no BR2_ROOTFS_OVERLAY in $defconfig" >&2; exit 1; }

# Every input, by content (the base and kernel directories are named by theirs).
key=$( {
	echo "$base $kernel $size"
	# shellcheck disable=SC2086 # $overlays: the defconfig's list of directories
	cd "$tree" && find board/common $overlays package/kubernetes tests/runtime/test-rootfs "$stage" \
		-type f -print0 | sort -zu | xargs -0 sha256sum
	# shellcheck disable=SC2086
	find board/common $overlays tests/runtime/test-rootfs -type l -printf '%p -> %l\n' | sort -u
	cat "$0" "${B4K_IMAGES_MANIFEST:-/dev/null}" "$defconfig"
} | sha256sum | cut -c1-16)
img=$cache/rootfs-$key.ext4
if [ -f "$img" ]; then echo "$img"; exit 0; fi

start=$(date +%s)
work=$cache/rootfs-$key.d
rm -rf "$work" && mkdir -p "$cache"
cp -a "$base" "$work"
# As Buildroot leaves them (BR2_TARGET_GENERIC_HOSTNAME empty in the tree's
# defconfigs; package/systemd's empty /etc/machine-id): no hostname, and a
# machine ID each node's systemd makes at its first boot, from which
# b4k-hostname.service names the node.
rm -f "$work/etc/hostname"
: >"$work/etc/machine-id"
if [ -f "$kernel/modules.tar" ]; then
	tar -C "$work" --keep-directory-symlink -xf "$kernel/modules.tar"
	# as Buildroot's target-finalize does (LINUX_RUN_DEPMOD), with the userland's depmod
	for m in "$work"/usr/lib/modules/*; do chroot "$work" depmod "${m##*/}"; done
fi
# What the tree's packages install (package/kubernetes/kubernetes.mk's
# KUBERNETES_INSTALL_INIT_SYSTEMD; the rest comes built in STAGE).
rsync -a --keep-dirlinks "$stage/root/" "$work/"
# Buildroot's cni-plugins installs into /opt/cni/bin; Debian's
# containernetworking-plugins into /usr/lib/cni.
mkdir -p "$work/opt/cni/bin"
for p in "$work"/usr/lib/cni/*; do ln -sf "/usr/lib/cni/${p##*/}" "$work/opt/cni/bin/${p##*/}"; done
install -D -m 0600 "$tree/package/kubernetes/kubelet.service" "$work/usr/lib/systemd/system/kubelet.service"
install -D -m 0600 "$tree/package/kubernetes/10-kubeadm.conf" \
	"$work/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf"
# package/kubernetes/kubernetes.mk's KUBERNETES_USERS, as Buildroot's makeusers
# makes it (a system user and group, no home, no login)
chroot "$work" groupadd --system etcd
chroot "$work" useradd --system --gid etcd --no-create-home --home-dir / --shell /bin/false etcd
for overlay in $overlays; do
	rsync -a --ignore-times --keep-dirlinks --exclude .empty --exclude '*~' \
		"$tree/$overlay/" "$work/"
done
BR2_CONFIG=$defconfig BR2_EXTERNAL_KUBERNETES_PATH=$tree "$tree/board/common/post-build.sh" "$work"
rsync -a --keep-dirlinks "$here/test-rootfs/" "$work/"
systemctl --root="$work" preset-all >&2
rm -f "$img.tmp"
mkfs.ext4 -q -F -L root -d "$work" "$img.tmp" "$size" >&2
rm -rf "$work" && mkdir -p "$cache"
mv "$img.tmp" "$img"
echo "build-rootfs: $(($(date +%s) - start)) s" >&2
echo "$img"
