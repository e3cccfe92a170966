#!/bin/sh
# Buildroot post-build script of both boards (BR2_ROOTFS_POST_BUILD_SCRIPT),
# run after board/common/rootfs-overlay is copied: $1 is the target directory.
set -eu
target=${1:?usage: $0 TARGET_DIR}
ext=${BR2_EXTERNAL_KUBERNETES_PATH:-$(cd "$(dirname "$0")/../.." && pwd)}

# The Kubernetes version, for k8s-init and the boot units: its one source is
# KUBERNETES_VERSION in package/kubernetes/kubernetes.mk.
mk=$ext/package/kubernetes/kubernetes.mk
version=$("$(dirname "$0")/../../scripts/mk-version" "$mk" || true)
case $version in
v1.*.*) ;;
*) echo "$0: no 'KUBERNETES_VERSION = 1.x.y' line in $mk" >&2; exit 1 ;;
esac
mkdir -p "$target/usr/share/b4k"
echo "$version" >"$target/usr/share/b4k/kubernetes-version"

# The offline bundle's list, the loader's trust anchor (usr/libexec/b4k/
# load-images): B4K_IMAGES_MANIFEST names the MANIFEST of a bundle from
# `make images.iso` (which writes output/images-<board>.manifest; the tree's
# Makefile passes it when it exists). Without one, no list: the node loads a
# disc only if its owner creates /etc/b4k/images-trust-disc.
baked=$target/usr/share/b4k/images.manifest
if [ -n "${B4K_IMAGES_MANIFEST:-}" ]; then
	if [ ! -s "$B4K_IMAGES_MANIFEST" ] || grep -Evqx \
		'[^ ]+ images/[0-9]+\.tar [0-9a-f]{64} sha256:[0-9a-f]{64} [^ ]+' "$B4K_IMAGES_MANIFEST"; then
		echo "$0: $B4K_IMAGES_MANIFEST is not a bundle MANIFEST of scripts/images-iso" >&2
		exit 1
	fi
	install -m 0644 "$B4K_IMAGES_MANIFEST" "$baked"
else
	rm -f "$baked"
fi

# sshd keeps the first value it reads: include the drop-ins (key-only login)
# before anything else in sshd_config.
cfg=$target/etc/ssh/sshd_config
if [ -f "$cfg" ] && ! grep -q '^Include /etc/ssh/sshd_config.d/\*.conf' "$cfg"; then
	sed -i '1i Include /etc/ssh/sshd_config.d/*.conf' "$cfg"
fi

# No default password: an empty root password (Buildroot's default when
# BR2_TARGET_GENERIC_ROOT_PASSWD is empty) becomes a locked one.
if [ -f "$target/etc/shadow" ]; then
	sed -i 's/^root::/root:*:/' "$target/etc/shadow"
fi

# Buildroot's cni-plugins installs all 18 of its plugins (its package has no
# option to choose): keep those the node's CNI configuration uses, listed in
# cni-plugins.keep beside this script; the others (68 MB in all with them)
# would never run.
keep=$(dirname "$0")/cni-plugins.keep
if [ -d "$target/opt/cni/bin" ]; then
	names=$(sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$keep")
	for p in "$target"/opt/cni/bin/*; do
		[ -e "$p" ] || continue
		echo "$names" | grep -qxF "${p##*/}" || rm -f "$p"
	done
fi

# The container runtime, as the defconfig chose it (configs/defconfigs.toml,
# runtime): docker through cri-dockerd, or containerd's own CRI plugin. Written
# once here for k8s-init, k8s-join, node-check and load-images, which read it
# rather than probe for binaries (docker-engine selects containerd, so an image
# with docker has both daemons). Each runtime's files of the overlay that the
# other would read are removed: docker's containerd keeps its defaults, as
# before (a version 3 config.toml would also stop an older containerd).
config=${BR2_CONFIG:?$0: BR2_CONFIG is not set (Buildroot sets it for post-build scripts)}
if grep -qx 'BR2_PACKAGE_CRI_DOCKERD=y' "$config"; then
	runtime=docker
	rm -rf "$target/etc/containerd/config.toml" "$target/usr/lib/systemd/system/containerd.service.d/10-b4k.conf"
	# containerd always installs ctr, its debugging client (21 MB); with
	# docker nothing calls it (docker and crictl are the node's clients).
	rm -f "$target/usr/bin/ctr"
elif grep -qx 'BR2_PACKAGE_CONTAINERD_CRI=y' "$config"; then
	runtime=containerd
	rm -rf "$target/etc/docker/daemon.json" "$target/usr/lib/systemd/system/cri-docker.service.d"
else
	echo "$0: neither BR2_PACKAGE_CRI_DOCKERD nor BR2_PACKAGE_CONTAINERD_CRI in $config: the kubelet has no container runtime" >&2
	exit 1
fi
echo "$runtime" >"$target/usr/share/b4k/container-runtime"
