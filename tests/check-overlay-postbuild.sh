#!/bin/sh
# board/common/post-build.sh on a fake target: the Kubernetes version comes from
# package/kubernetes/kubernetes.mk (both "1.x.y" and "v1.x.y" spellings), sshd
# includes the key-only drop-in before anything else, an empty root password
# is locked, a second run changes nothing, and the offline bundle's list
# (B4K_IMAGES_MANIFEST) is baked in when valid, refused when not, unused CNI
# plugins and (with docker) ctr are removed. With BUILDROOT_DIR, Buildroot's
# own support/scripts/check-merged accepts the overlay for a merged /usr and bin.
set -eu
cd "$(dirname "$0")/.."
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
fail=0
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
# other plugins go; ctr goes with docker as the runtime only.
plugins="bandwidth bridge dhcp dummy firewall host-device host-local ipvlan loopback macvlan portmap ptp sbr static tap tuning vlan vrf flannel"
for runtime in docker containerd; do
	t=$tmp/cni-$runtime
	mkdir -p "$t/opt/cni/bin" "$t/usr/bin"
	for p in $plugins; do echo "$p" >"$t/opt/cni/bin/$p"; done
	echo ctr >"$t/usr/bin/ctr"
	if [ "$runtime" = docker ]; then echo BR2_PACKAGE_DOCKER_ENGINE=y >"$tmp/config"; else : >"$tmp/config"; fi
	BR2_CONFIG=$tmp/config BR2_EXTERNAL_KUBERNETES_PATH=$ext sh board/common/post-build.sh "$t"
	got=$(find "$t/opt/cni/bin" -type f -printf '%f\n' | LC_ALL=C sort | tr '\n' ' ')
	[ "$got" = "bridge flannel host-local loopback portmap " ] || { echo "FAIL: $runtime: /opt/cni/bin holds: $got"; fail=1; }
	if [ "$runtime" = docker ] && [ -e "$t/usr/bin/ctr" ]; then echo "FAIL: ctr kept with docker"; fail=1; fi
	if [ "$runtime" = containerd ] && [ ! -e "$t/usr/bin/ctr" ]; then echo "FAIL: ctr removed with containerd"; fail=1; fi
done
if [ -n "${BUILDROOT_DIR:-}" ]; then
	"$BUILDROOT_DIR/support/scripts/check-merged" -t overlay -u -b board/common/rootfs-overlay ||
		{ echo "FAIL: Buildroot's check-merged"; fail=1; }
else
	echo "note: BUILDROOT_DIR unset: Buildroot's check-merged not run on the overlay"
fi
[ "$fail" -ne 0 ] || echo "post-build: OK"
exit "$fail"
