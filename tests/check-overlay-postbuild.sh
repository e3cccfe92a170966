#!/bin/sh
# board/common/post-build.sh on a fake target: the Kubernetes version comes from
# package/kubernetes/kubernetes.mk (both "1.x.y" and "v1.x.y" spellings), sshd
# includes the key-only drop-in before anything else, an empty root password
# is locked, a second run changes nothing, and the offline bundle's list
# (B4K_IMAGES_MANIFEST) is baked in when valid, refused when not, unused CNI
# plugins and (with docker) ctr are removed; the container runtime comes from
# BR2_CONFIG (cri-dockerd: docker, containerd's CRI: containerd, neither: an
# error) and the other runtime's overlay files go. With BUILDROOT_DIR, Buildroot's
# own support/scripts/check-merged accepts the overlay for a merged /usr and bin.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
# Buildroot exports BR2_CONFIG, the .config, to post-build scripts.
echo BR2_PACKAGE_CRI_DOCKERD=y >"$tmp/docker.config"
echo BR2_PACKAGE_CONTAINERD_CRI=y >"$tmp/containerd.config"
export BR2_CONFIG="$tmp/docker.config"
for spelling in 1.37.1 v1.37.1; do
	ext=$tmp/ext-$spelling target=$tmp/target-$spelling
	mkdir -p "$ext/package/kubernetes" "$target/etc/ssh"
	printf 'KUBERNETES_VERSION = %s\n' "$spelling" >"$ext/package/kubernetes/kubernetes.mk"
	printf '#PermitRootLogin prohibit-password\nUsePAM yes\n' >"$target/etc/ssh/sshd_config"
	printf 'root::19000:0:99999:7:::\nsshd:*:::::::\n' >"$target/etc/shadow"
	BR2_EXTERNAL_KUBERNETES_PATH=$ext sh board/common/post-build.sh "$target"
	cp -r "$target" "$tmp/once"
	BR2_EXTERNAL_KUBERNETES_PATH=$ext sh board/common/post-build.sh "$target"
	diff -r "$tmp/once" "$target" || { echo "FAIL: a second post-build run changed the target"; fail=1; }
	rm -rf "$tmp/once"
	[ "$(cat "$target/usr/share/b4k/kubernetes-version")" = v1.37.1 ] ||
		{ echo "FAIL: kubernetes-version from '$spelling'"; fail=1; }
	[ "$(head -n1 "$target/etc/ssh/sshd_config")" = 'Include /etc/ssh/sshd_config.d/*.conf' ] ||
		{ echo "FAIL: sshd_config does not include the drop-ins first"; fail=1; }
	grep -q '^root:\*:' "$target/etc/shadow" || { echo "FAIL: root password not locked"; fail=1; }
done
mkdir -p "$tmp/bad/package/kubernetes" "$tmp/t"
echo 'KUBERNETES_VERSION = latest' >"$tmp/bad/package/kubernetes/kubernetes.mk"
if BR2_EXTERNAL_KUBERNETES_PATH=$tmp/bad sh board/common/post-build.sh "$tmp/t" 2>/dev/null; then
	echo "FAIL: post-build accepted a version that is not 1.x.y"; fail=1
fi
# The bundle's list: baked in from B4K_IMAGES_MANIFEST, refused when malformed,
# removed again by a build without one.
ext=$tmp/ext-1.37.1 target=$tmp/target-1.37.1
printf 'registry.k8s.io/pause:3.10.2 images/07.tar %064d sha256:%064d sha256:%064d\n' 1 2 3 >"$tmp/MANIFEST"
BR2_EXTERNAL_KUBERNETES_PATH=$ext B4K_IMAGES_MANIFEST=$tmp/MANIFEST sh board/common/post-build.sh "$target"
cmp -s "$tmp/MANIFEST" "$target/usr/share/b4k/images.manifest" || { echo "FAIL: the bundle's list was not baked in"; fail=1; }
sed 's|images/07.tar|images/../07.tar|' "$tmp/MANIFEST" >"$tmp/BAD"
if BR2_EXTERNAL_KUBERNETES_PATH=$ext B4K_IMAGES_MANIFEST=$tmp/BAD sh board/common/post-build.sh "$target" 2>/dev/null; then
	echo "FAIL: post-build baked a MANIFEST with images/../07.tar"; fail=1
fi
BR2_EXTERNAL_KUBERNETES_PATH=$ext sh board/common/post-build.sh "$target"
[ ! -e "$target/usr/share/b4k/images.manifest" ] || { echo "FAIL: a stale baked list survived a build without one"; fail=1; }
# The CNI plugins: those of board/common/cni-plugins.keep stay, Buildroot's
# other plugins go; ctr goes with docker as the runtime only. The runtime's
# name is written, and the other runtime's files of the overlay are gone.
plugins="bandwidth bridge dhcp dummy firewall host-device host-local ipvlan loopback macvlan portmap ptp sbr static tap tuning vlan vrf flannel"
docker_files="etc/docker/daemon.json usr/lib/systemd/system/cri-docker.service.d/10-b4k.conf"
containerd_files="etc/containerd/config.toml usr/lib/systemd/system/containerd.service.d/10-b4k.conf"
for runtime in docker containerd; do
	t=$tmp/cni-$runtime
	mkdir -p "$t/opt/cni/bin" "$t/usr/bin"
	cp -a board/common/rootfs-overlay/. "$t/"
	for p in $plugins; do echo "$p" >"$t/opt/cni/bin/$p"; done
	echo ctr >"$t/usr/bin/ctr"
	BR2_CONFIG=$tmp/$runtime.config BR2_EXTERNAL_KUBERNETES_PATH=$ext sh board/common/post-build.sh "$t"
	got=$(find "$t/opt/cni/bin" -type f -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')
	[ "$got" = "bridge flannel host-local loopback portmap " ] || { echo "FAIL: $runtime: /opt/cni/bin holds: $got"; fail=1; }
	if [ "$runtime" = docker ] && [ -e "$t/usr/bin/ctr" ]; then echo "FAIL: ctr kept with docker"; fail=1; fi
	if [ "$runtime" = containerd ] && [ ! -e "$t/usr/bin/ctr" ]; then echo "FAIL: ctr removed with containerd"; fail=1; fi
	[ "$(cat "$t/usr/share/b4k/container-runtime")" = "$runtime" ] ||
		{ echo "FAIL: $runtime: container-runtime says '$(cat "$t/usr/share/b4k/container-runtime")'"; fail=1; }
	if [ "$runtime" = docker ]; then keep=$docker_files gone=$containerd_files; else keep=$containerd_files gone=$docker_files; fi
	for f in $keep; do [ -f "$t/$f" ] || { echo "FAIL: $runtime: $f removed"; fail=1; }; done
	for f in $gone; do [ ! -e "$t/$f" ] || { echo "FAIL: $runtime: $f kept"; fail=1; }; done
done
# A configuration with neither runtime's CRI: refused, nothing to guess.
echo BR2_PACKAGE_DOCKER_ENGINE=y >"$tmp/none.config"
if BR2_CONFIG=$tmp/none.config BR2_EXTERNAL_KUBERNETES_PATH=$ext sh board/common/post-build.sh "$tmp/cni-docker" 2>/dev/null; then
	echo "FAIL: post-build accepted a configuration with neither cri-dockerd nor containerd's CRI"; fail=1
fi
if [ -n "${BUILDROOT_DIR:-}" ]; then
	for overlay in board/*/rootfs-overlay; do
		"$BUILDROOT_DIR/support/scripts/check-merged" -t overlay -u -b "$overlay" ||
			{ echo "FAIL: Buildroot's check-merged on $overlay"; fail=1; }
	done
else
	echo "note: BUILDROOT_DIR unset: Buildroot's check-merged not run on the overlay"
fi
[ "$fail" -ne 0 ] || echo "post-build: OK"
exit "$fail"
