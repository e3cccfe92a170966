#!/bin/sh
# Runtime lane (a test harness, not a product path): the tree's kernel
# configuration, overlay and post-build on Debian's builds of the same
# programs, the Kubernetes pieces at the tree's versions, packed by
# `b4k post-image` into the pc disk image, booted under QEMU TCG and checked over
# the serial console (tests/runtime/check-node.py).
#   tests/runtime/run.sh cheap     kernel config, boot, docker, images bundle, storage
#   tests/runtime/run.sh e2e       also k8s-init, node Ready, CoreDNS, a ReadWriteMany
#                                  volume, and all of it again after a reboot
#   tests/runtime/run.sh bundle    only the images ISO of the pieces (its path last)
#   tests/runtime/run.sh cluster   two nodes on a private QEMU network: k8s-init,
#                                  k8s-join, pod to pod over flannel VXLAN, a shared RWX volume
# Needs no network once the caches under $B4K_CACHE (default
# ~/.cache/b4k/runtime) are filled: Debian's archive (mmdebstrap) and the Go
# module proxy are used on the first run only.
# Environment: FRAGMENT_DIR (kernel fragments, default board/), B4K_BIN_DIR
# (binaries of modules the proxy cannot give), PIECES=node|all (default: node for
# cheap, whose images are stand-ins but for the node's own pieces; all for e2e),
# B4K_STAGE (a STAGE directory as build-pieces.sh makes it, instead of building),
# B4K_RUN_DIR (default: a new directory under /tmp, kept on failure),
# B4K_IMAGE_DIR and B4K_KERNEL_CONFIG (boot the disk.img of a Buildroot images
# directory and check against that kernel's .config, instead of building the
# kernel and the Debian root file system: the real-build lane, tests/realbuild),
# B4K_PROXY_MODE (e2e: `k8s-init --proxy-mode`: iptables, ipvs or nftables),
# RUNTIME (cheap, e2e, cluster: docker, the default, or containerd: the node as
# configs/pc_containerd_defconfig makes it, with no docker or cri-dockerd;
# build-base.sh, build-pieces.sh, build-rootfs.sh),
# ARCH (bundle only: amd64, the default, or arm64, the Raspberry Pi's bundle:
# the pieces built for arm64, the images' Debian files from an arm64 userland),
# B4K_PI_IMAGE_DIR, B4K_PI_CARD and B4K_PI_ISO (cluster: node 2 is a Raspberry
# Pi: its Buildroot images directory, its card and its arm64 bundle; the
# real-build lane's `BOARD=raspberrypi3-64 tests/realbuild/run.sh cluster`).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
mode=${1:-cheap}
case $mode in cheap | e2e | cluster | bundle) ;; *) echo "usage: $0 cheap|e2e|cluster|bundle" >&2; exit 2 ;; esac
arch=${ARCH:-amd64}
runtime=${RUNTIME:-docker}
case $runtime in docker | containerd) ;; *) echo "$0: RUNTIME is docker or containerd, not '$runtime'" >&2; exit 2 ;; esac
case $arch in
amd64) ;;
arm64) [ "$mode" = bundle ] || { echo "$0: ARCH=arm64 makes the bundle only (the Pi boots in tests/realbuild)" >&2; exit 2; } ;;
*) echo "$0: unknown ARCH '$arch' (amd64 or arm64)" >&2; exit 2 ;;
esac
cache=${B4K_CACHE:-$HOME/.cache/b4k/runtime}
run=${B4K_RUN_DIR:-$(mktemp -d /tmp/b4k-runtime.XXXXXX)}
mkdir -p "$run"
# The host packages every lane needs (mmdebstrap, QEMU, skopeo, ...), as
# `make check` installs them: a lane run first on a fresh machine must not stop
# after the kernel's build for want of one.
"$tree/scripts/install-host-deps" >&2
t() { date +%s; }
log() { echo "runtime: $*"; }

image_dir=${B4K_IMAGE_DIR:-}
if [ "$mode" = bundle ]; then
	:
elif [ -n "$image_dir" ]; then
	kconfig=${B4K_KERNEL_CONFIG:?B4K_IMAGE_DIR needs B4K_KERNEL_CONFIG, the kernel .config of that image}
else
	s=$(t); kernel=$("$here/build-kernel.sh"); log "kernel $kernel ($(($(t) - s)) s; bzImage $(stat -c %s "$kernel/bzImage") bytes)"
	kconfig=$kernel/config
fi
s=$(t); base=$(ARCH=$arch "$here/build-base.sh"); log "userland $base ($(($(t) - s)) s)"
if [ "$mode" = cheap ]; then pieces=${PIECES:-node}; else pieces=${PIECES:-all}; fi
s=$(t); stage=${B4K_STAGE:-$(GOARCH=$arch "$here/build-pieces.sh" "$pieces")}; log "pieces $stage ($(($(t) - s)) s)"
version=$("$tree/scripts/mk-version" "$tree/package/kubernetes/kubernetes.mk")
# kubeadm as this machine runs it (the list of images; images-iso): another
# architecture's stage has the node's, which does not run here.
kubeadm=$stage/root/usr/bin/kubeadm
if [ "$arch" != amd64 ]; then kubeadm=$("$here/build-pieces.sh" node)/root/usr/bin/kubeadm; fi

# The bundle, through the tree's own path: images made here, pushed to Debian's
# docker-registry on 127.0.0.1, then scripts/images-iso pulling through it.
s=$(t)
"$kubeadm" config images list --kubernetes-version "$version" >"$run/images.list"
sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$tree/board/common/images/images.txt" >>"$run/images.list"
ikey=$( { cat "$run/images.list" "$here/make-images.py" "$tree/scripts/images-iso"; echo "$base $arch";
	find "$stage/bin" -type f -exec sha256sum {} + | sort; } | sha256sum | cut -c1-16)
iso=$cache/images-$ikey.iso
if [ ! -f "$iso" ]; then
	rm -rf "$run/oci"
	/usr/bin/python3 "$here/make-images.py" --arch "$arch" --list "$run/images.list" --bin "$stage/bin" --base "$base" \
		--out "$run/oci" >"$run/images.made"
	port=$(/usr/bin/python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1", 0)); print(s.getsockname()[1])')
	printf 'version: 0.1\nstorage:\n  filesystem:\n    rootdirectory: %s\nhttp:\n  addr: 127.0.0.1:%s\n' \
		"$run/registry" "$port" >"$run/registry.yml"
	docker-registry serve "$run/registry.yml" >"$run/registry.log" 2>&1 &
	registry=$!
	trap 'kill $registry 2>/dev/null || true' EXIT
	sleep 2
	while read -r name layout _; do
		skopeo copy -q --dest-tls-verify=false "oci:$layout:b4k" "docker://127.0.0.1:$port/$name" </dev/null
	done <"$run/images.made"
	ARCH=$arch KUBERNETES_VERSION=$version KUBEADM=$kubeadm \
		REGISTRY_MIRROR=127.0.0.1:$port "$tree/scripts/images-iso" "$iso.tmp"
	kill "$registry" && trap - EXIT
	mv "$iso.tmp" "$iso"
	cp "$run/images.made" "$iso.made"
fi
log "images $iso ($(($(t) - s)) s): $(grep -c ' real$' "$iso.made") real, $(grep -c ' stand-in$' "$iso.made") stand-in"
xorriso -osirrox on -indev "$iso" -extract /MANIFEST "$run/MANIFEST" 2>/dev/null
# bundle: only the images ISO (its path on the last line); the real-build lane
# bakes its MANIFEST into the image before booting it.
if [ "$mode" = bundle ]; then echo "$iso"; exit 0; fi

b4k=${B4K:-$tree/target/debug/b4k}
[ -x "$b4k" ] || (cd "$tree" && nice -n 15 cargo build -q -p b4k)
s=$(t)
if [ -n "$image_dir" ]; then
	rootfs=$image_dir/rootfs.ext4
	disk=$image_dir/disk.img
else
	# The bundle's list is baked into the rootfs, as a build after `make images.iso` does.
	rootfs=$(B4K_IMAGES_MANIFEST=$run/MANIFEST ROOT_FS_SIZE=${ROOT_FS_SIZE:-1G} \
		"$here/build-rootfs.sh" "$base" "$kernel" "$stage")
	log "rootfs $rootfs ($(($(t) - s)) s)"

	# The pc disk image as Buildroot's post-image script makes it: the inputs laid
	# out as BINARIES_DIR and HOST_DIR (GRUB images as boot/grub2/grub2.mk makes
	# them: tests/postimage/grub-images.sh), then `b4k post-image`.
	s=$(t)
	out=$run/output
	rm -rf "$out" && mkdir -p "$out/images" "$out/build"
	cp "$kernel/bzImage" "$out/images/bzImage"
	cp "$rootfs" "$out/images/rootfs.ext4"
	"$tree/tests/postimage/grub-images.sh" "$out"
	grep -E '^BR2_(x86_64|LINUX_KERNEL|TARGET_ROOTFS_EXT2|TARGET_ROOTFS_EXT2_4|TARGET_GRUB2|TARGET_GRUB2_I386_PC|TARGET_GRUB2_X86_64_EFI)=' \
		"$tree/configs/pc_defconfig" >"$out/.config" # the same lines in pc_containerd_defconfig
	echo 'BR2_TARGET_GRUB2_BOOT_PARTITION="hd0,gpt2"' >>"$out/.config"
	BINARIES_DIR=$out/images HOST_DIR=$out/host BR2_CONFIG=$out/.config BUILD_DIR=$out/build \
		BR2_EXTERNAL_KUBERNETES_PATH=$tree "$b4k" post-image --board pc --board-dir "$tree/board/pc" --compress none
	disk=$out/images/disk.img
fi
# The disk is larger than the image: systemd-repart grows the root partition.
cp --sparse=always "$disk" "$run/disk.img"
truncate -s +3G "$run/disk.img"
rm -f "$run/data.img" && truncate -s 4G "$run/data.img"
log "disk image $disk ($(($(t) - s)) s): $(stat -c %s "$disk") bytes, grown to $(stat -c %s "$run/disk.img")"

# kubeadm's own list of required kernel options: k8s.io/system-validators at
# the version k8s.io/kubernetes@$version requires.
sv=$(sed -n 's/^[[:space:]]*k8s.io\/system-validators \(v[0-9.]*\)$/\1/p' \
	"$(go env GOMODCACHE)/cache/download/k8s.io/kubernetes/@v/$version.mod")
svdir=$(cd "$run" && GOFLAGS=-mod=mod go mod download -json "k8s.io/system-validators@$sv" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')

# ssh-audit (PyPI) for the e2e lane's ssh-audit check, in a venv of the cache.
audit=$cache/ssh-audit/bin/ssh-audit
if [ "$mode" = e2e ] && [ ! -x "$audit" ]; then
	if ! { /usr/bin/python3 -m venv "$cache/ssh-audit" && "$cache/ssh-audit/bin/pip" -q install ssh-audit; }; then
		log "ssh-audit: could not install it from PyPI; its check is left out"
	fi
fi

case $mode in
cheap | e2e)
	if [ "$mode" = e2e ]; then set -- --e2e; else set --; fi
	if [ "$mode" = e2e ] && [ -x "$audit" ]; then set -- "$@" --ssh-audit "$audit"; fi
	# kube-bench: in the Debian lane's image when build-pieces.sh staged it. Not on
	# a Buildroot image (B4K_IMAGE_DIR): it finds the kubelet with `/bin/ps -C`,
	# which busybox's ps does not have.
	if [ "$mode" = e2e ] && [ -z "$image_dir" ] && [ -x "$stage/root/usr/local/bin/kube-bench" ]; then
		set -- "$@" --kube-bench
	fi
	if [ "$mode" = e2e ] && [ -n "${B4K_PROXY_MODE:-}" ]; then set -- "$@" --proxy-mode "$B4K_PROXY_MODE"; fi
	/usr/bin/python3 "$here/check-node.py" "$@" --disk "$run/disk.img" --kernel-config "$kconfig" \
		--validators "$svdir/validators/types_unix.go" --rootfs-size "$(stat -L -c %s "$rootfs")" \
		--data "$run/data.img" --iso "$iso" --manifest "$run/MANIFEST" \
		--log "$run/console.log" --results "$run/results.json" \
		--lint "$b4k lint-kernel --requirements $tree/board/common/kernel-requirements.toml --config" \
		--runtime "$runtime"
	;;
cluster)
	set --
	nodes='1 2'
	if [ -n "${B4K_PI_IMAGE_DIR:-}" ]; then
		set -- --pi-images "$B4K_PI_IMAGE_DIR" --pi-card "${B4K_PI_CARD:?B4K_PI_IMAGE_DIR needs B4K_PI_CARD}" \
			--pi-iso "${B4K_PI_ISO:?B4K_PI_IMAGE_DIR needs B4K_PI_ISO}"
		nodes=1
	fi
	for n in $nodes; do
		cp --sparse=always "$run/disk.img" "$run/disk-$n.img"
		rm -f "$run/data-$n.img" && truncate -s 4G "$run/data-$n.img"
		set -- "$@" --disk "$run/disk-$n.img" --data "$run/data-$n.img"
	done
	if [ -z "$image_dir" ] && [ -x "$stage/root/usr/local/bin/kube-bench" ]; then set -- "$@" --kube-bench; fi
	/usr/bin/python3 "$here/check-cluster.py" "$@" --iso "$iso" --manifest "$run/MANIFEST" --runtime "$runtime" \
		--log-dir "$run" --results "$run/results.json"
	;;
esac
log "results: $run/results.json"
