#!/bin/sh
# The real-build lane (a test harness, not a product path): Buildroot builds the
# board's committed defconfig (BOARD=pc, the default: configs/pc_defconfig;
# BOARD=raspberrypi3-64: configs/raspberrypi3_64_k8s_defconfig) for real,
# offline, with the substitutions this machine needs (docs/testing.md, "The real-build lane"; every substitution is a
# row of the provenance table):
#   - a download directory holding every source whose bytes pass Buildroot's own
#     hash check (downloads.py: Debian's archive, PyPI, git archives of GitHub tags,
#     Go vendoring as Buildroot's go-post-process does it);
#   - BR2_PACKAGE_OVERRIDE_FILE with <PKG>_OVERRIDE_SRCDIR trees for the rest, with
#     Buildroot's and the tree's patches applied (overrides.py, special/*.sh);
#   - a Debian-made external toolchain (the Pi: Debian's aarch64 cross
#     compiler), Go and Rust distributions, and GNU tar 1.35 on PATH
#     (toolchain.sh, hosttools.sh; harness.fragment on top of the committed
#     defconfig: the diff is printed);
#   - Kubernetes binaries built from the k8s.io/kubernetes Go module at the pinned
#     version, for the board's architecture (kubernetes.sh), since dl.k8s.io is
#     unreachable;
#   - the Pi's GPU firmware from Debian's raspi-firmware (special/rpi-firmware.sh).
# Then `make` runs to the end and the boot step boots what Buildroot made: the
# pc's disk.img with the runtime lane's e2e checks (tests/runtime/run.sh with
# B4K_IMAGE_DIR), the Pi's sdcard.img under QEMU's raspi3b with the arm64
# images bundle on a USB stick (tests/runtime/check-pi.py; B4K_RUN_DIR: where
# its card, console log and results go).
#   tests/realbuild/run.sh [prepare|build|boot|cluster|all]   (default: all;
#   cluster: the Pi only, as a worker of the runtime lane's pc control plane)
# Environment: BUILDROOT_DIR (a Buildroot 2026.02.x checkout, required), BOARD,
# B4K_REALBUILD_CACHE (default ~/.cache/b4k/realbuild: downloads, overrides and
# toolchains shared by the boards, and per board CACHE/<board>/: its
# configuration, provenance table, override file, logs and output/; kept
# between runs, so a second run rebuilds only what changed), B4K_MIRROR_DIR (git mirrors of GitHub repositories in the
# <owner>+<name>/repo layout the search tool's fetch leaves; required by the
# prepare step), JOBS (default: nproc), B4K_MIN_FREE_GB (default 10: the build
# step stops before `make` when the cache's file system has less free space; a
# run from empty caches took about 22 GB with Go's build cache, docs/testing.md).
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
step=${1:-all}
case $step in prepare | build | boot | cluster | all) ;; *) echo "usage: $0 [prepare|build|boot|cluster|all]" >&2; exit 2 ;; esac
: "${BUILDROOT_DIR:?set BUILDROOT_DIR to a Buildroot 2026.02.x checkout}"
br=$(cd "$BUILDROOT_DIR" && pwd)
cache=${B4K_REALBUILD_CACHE:-$HOME/.cache/b4k/realbuild}
board=${BOARD:-pc}
case $board in
pc) defconfig=pc_defconfig arch=x86_64 toolchain=$cache/toolchain ;;
raspberrypi3-64) defconfig=raspberrypi3_64_k8s_defconfig arch=aarch64 toolchain=$cache/toolchain-aarch64 ;;
*) echo "$0: unknown BOARD '$board' (pc or raspberrypi3-64)" >&2; exit 2 ;;
esac
tuple=$arch-linux-gnu
# What belongs to one board: its configuration, rows' table, override file,
# logs and Buildroot's output.
st=$cache/$board
out=$st/output
mkdir -p "$cache/dl" "$cache/overrides" "$cache/provenance" "$st"
t() { date +%s; }
log() { echo "realbuild: $*"; }
BRMAKE() { make -C "$br" O="$out" BR2_EXTERNAL="$tree" "$@"; }

prepare() {
	: "${B4K_MIRROR_DIR:?set B4K_MIRROR_DIR to the directory of git mirrors (<owner>+<name>/repo)}"
	export B4K_MIRROR_DIR
	s=$(t)
	"$tree/scripts/install-host-deps" "$here/host-deps.txt" "$tree"/scripts/host-deps.d/*.txt
	"$here/hosttools.sh" "$cache"
	PATH=$cache/hostbin:$PATH
	export PATH
	"$here/toolchain.sh" "$cache" "$arch"
	log "host tools and toolchain ($(($(t) - s)) s)"

	# The user's configuration, then the harness's substitutions on top.
	s=$(t)
	mkdir -p "$out"
	BRMAKE -s "$defconfig" >/dev/null
	BRMAKE -s show-info >"$st/show-info.user.json"
	overlay=$(sed -n 's/^BR2_ROOTFS_OVERLAY="\(.*\)"$/\1/p' "$out/.config")
	{
		sed -e "s|@CACHE@|$cache|g" -e "s|@TOOLCHAIN@|$toolchain|g" -e "s|@TUPLE@|$tuple|g" \
			"$here/harness.fragment"
		echo "BR2_DL_DIR=\"$cache/dl\""
		# The runtime lane's harness-only files on top of the product overlay:
		# console autologin and QEMU's user network (tests/runtime/test-rootfs).
		echo "BR2_ROOTFS_OVERLAY=\"$overlay $tree/tests/runtime/test-rootfs\""
	} >>"$out/.config"
	BRMAKE -s olddefconfig >/dev/null
	BRMAKE -s savedefconfig BR2_DEFCONFIG="$st/harness_defconfig" >/dev/null
	log "the harness configuration against configs/$defconfig:"
	diff -u "$tree/configs/$defconfig" "$st/harness_defconfig" | sed -n '3,$p' || true
	# Before the override file: with it, show-info names an overridden
	# package's version "custom", and its downloads after that.
	BRMAKE -s show-info >"$st/show-info.json"
	echo "BR2_PACKAGE_OVERRIDE_FILE=\"$st/override.mk\"" >>"$out/.config"
	BRMAKE -s olddefconfig >/dev/null
	log "configured ($(($(t) - s)) s)"

	s=$(t)
	/usr/bin/python3 "$here/downloads.py" --buildroot "$br" --external "$tree" \
		--show-info "$st/show-info.json" --cache "$cache" --git-dir "$B4K_MIRROR_DIR"
	log "downloads ($(($(t) - s)) s)"
	s=$(t)
	"$here/kubernetes.sh" "$cache" "$st/show-info.json" "$st/override-kubernetes.mk"
	/usr/bin/python3 "$here/overrides.py" --buildroot "$br" --external "$tree" \
		--show-info "$st/show-info.json" --cache "$cache"
	log "overrides ($(($(t) - s)) s)"
	override_file
	/usr/bin/python3 "$here/provenance.py" --show-info "$st/show-info.user.json" \
		--rows "$cache/provenance" --out "$st/provenance.md" || true
	log "provenance table: $st/provenance.md"
}

# BR2_PACKAGE_OVERRIDE_FILE, from the trees under overrides/ and the rows.
override_file() {
	/usr/bin/python3 "$here/provenance.py" --rows "$cache/provenance" \
		--override-file "$st/override.mk" --overrides "$cache/overrides"
	# The board's Kubernetes trees (target binaries of its architecture,
	# host-kubernetes for the build machine's): after the shared trees, so
	# these lines win.
	cat "$st/override-kubernetes.mk" >>"$st/override.mk"
	# Work-arounds for the harness toolchain (override-extra.mk says which).
	sed "s|@HERE@|$here|g" "$here/override-extra.mk" >>"$st/override.mk"
}

build() {
	PATH=$cache/hostbin:$PATH
	export PATH
	# A build that runs out of space fails hours in, in whichever package was
	# writing (the cold run did, in cri-dockerd's Go build): say so up front.
	free_kb=$(df -Pk "$cache" | awk 'NR == 2 {print $4}')
	min_gb=${B4K_MIN_FREE_GB:-10}
	case $min_gb in '' | *[!0-9]*) log "B4K_MIN_FREE_GB must be a whole number of GiB, not '$min_gb'"; exit 2 ;; esac
	if [ "$free_kb" -lt $((min_gb * 1024 * 1024)) ]; then
		log "only $((free_kb / 1024 / 1024)) GiB free in $cache (B4K_MIN_FREE_GB=$min_gb): free some space," \
			"or set B4K_MIN_FREE_GB lower if the output there is nearly complete"
		exit 1
	fi
	s=$(t)
	# Buildroot's top level is serial; each package builds with JOBS.
	# The log is the whole output; progress: grep -a '>>>' "$st/build.log".
	if ! BRMAKE BR2_JLEVEL="${JOBS:-$(nproc)}" >"$st/build.log" 2>&1; then
		tail -n 40 "$st/build.log"
		log "make failed after $(($(t) - s)) s: $st/build.log"
		exit 1
	fi
	log "make: $(($(t) - s)) s"
	sizes
}

sizes() {
	img=$out/images
	log "sizes:"
	for f in rootfs.ext4 disk.img sdcard.img bzImage Image; do
		[ -f "$img/$f" ] && echo "  $f $(stat -L -c %s "$img/$f") bytes ($(du -kL "$img/$f" | cut -f1) KiB used)"
	done
	[ -f "$img/disk.img" ] && echo "  disk.img.gz $(gzip -c "$img/disk.img" | wc -c) bytes"
	[ -f "$img/sdcard.img" ] && echo "  sdcard.img.xz $(xz -T0 -c "$img/sdcard.img" | wc -c) bytes," \
		"zip $(cd "$img" && zip -q - sdcard.img | wc -c) bytes"
	echo "  target/ $(du -sk "$out/target" | cut -f1) KiB; largest files:"
	find "$out/target" -type f -printf '%s %P\n' | sort -rn | head -n 15 | sed 's/^/    /'
	echo "  cache $(du -sh "$cache" | cut -f1)"
}

boot() {
	case $board in pc) img=disk.img arch=amd64 ;; *) img=sdcard.img arch=arm64 ;; esac
	[ -f "$out/images/$img" ] || { log "no $out/images/$img: run the build step first"; exit 1; }
	PATH=$cache/hostbin:$PATH
	export PATH
	# As a user does: `make images.iso`, then `make` bakes the bundle's list
	# into the image (board/common/post-build.sh), then boot with the disc
	# (the Pi: a USB stick).
	s=$(t)
	iso=$(ARCH=$arch "$tree/tests/runtime/run.sh" bundle | tail -n 1)
	xorriso -osirrox on -indev "$iso" -extract /MANIFEST "$st/images.manifest" 2>/dev/null
	if ! B4K_IMAGES_MANIFEST=$st/images.manifest BRMAKE >"$st/build-manifest.log" 2>&1; then
		tail -n 40 "$st/build-manifest.log"
		log "make with the bundle's list failed: $st/build-manifest.log"
		exit 1
	fi
	log "bundle $iso baked into the image ($(($(t) - s)) s)"
	if [ "$board" != pc ]; then
		boot_pi "$iso"
		return
	fi
	for config in "$out"/build/linux-*/.config; do :; done
	B4K_IMAGE_DIR=$out/images B4K_KERNEL_CONFIG=$config "$tree/tests/runtime/run.sh" e2e
}

# pi_card DIR: a copy of the Pi's sdcard.img as DIR/card.img, grown to a power
# of two (QEMU's SD card needs one) at least 2 GiB larger than the image, so
# that b4k-grow-root has room to grow the root into.
pi_card() {
	size=$(stat -L -c %s "$out/images/sdcard.img")
	card=1
	while [ "$card" -lt $((size + 2 * 1024 * 1024 * 1024)) ]; do card=$((card * 2)); done
	cp --sparse=always "$out/images/sdcard.img" "$1/card.img"
	truncate -s "$card" "$1/card.img"
	log "card $1/card.img: sdcard.img $size bytes, grown to $card"
}

# boot_pi ISO: the card under qemu-system-aarch64 -M raspi3b, the bundle ISO as
# its USB stick (tests/runtime/check-pi.py).
boot_pi() {
	run=${B4K_RUN_DIR:-$(mktemp -d /tmp/b4k-pi.XXXXXX)}
	mkdir -p "$run"
	pi_card "$run"
	xorriso -osirrox on -indev "$1" -extract /MANIFEST "$run/MANIFEST" 2>/dev/null
	s=$(t)
	rc=0
	/usr/bin/python3 "$tree/tests/runtime/check-pi.py" --images "$out/images" --card "$run/card.img" \
		--iso "$1" --manifest "$run/MANIFEST" --log "$run/console.log" --results "$run/results.json" || rc=$?
	log "boot checks: $(($(t) - s)) s, exit $rc; results $run/results.json, console $run/console.log"
	return "$rc"
}

# cluster (the Pi): the runtime lane's two-node cluster with the Pi as node 2, a
# worker joining the lane's pc control plane (tests/runtime/check-cluster.py).
# Run after the boot step, which baked the arm64 bundle's list into the card.
cluster() {
	[ "$board" != pc ] || { log "the cluster step joins a Raspberry Pi to a pc (BOARD=raspberrypi3-64)"; exit 2; }
	[ -f "$out/images/sdcard.img" ] || { log "no $out/images/sdcard.img: run the build and boot steps first"; exit 1; }
	PATH=$cache/hostbin:$PATH
	export PATH
	run=${B4K_RUN_DIR:-$(mktemp -d /tmp/b4k-pi-cluster.XXXXXX)}
	mkdir -p "$run"
	iso=$(ARCH=arm64 "$tree/tests/runtime/run.sh" bundle | tail -n 1)
	pi_card "$run"
	B4K_RUN_DIR=$run B4K_PI_IMAGE_DIR=$out/images B4K_PI_CARD=$run/card.img B4K_PI_ISO=$iso \
		"$tree/tests/runtime/run.sh" cluster
}

case $step in
prepare) prepare ;;
build) build ;;
boot) boot ;;
cluster) cluster ;;
all) s0=$(t); prepare; build; boot; log "all: $(($(t) - s0)) s" ;;
esac
