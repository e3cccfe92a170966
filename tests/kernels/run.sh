#!/bin/bash
# Opt-in lane (`make check-kernels`; not a product path): each board's kernel
# built from its own base configuration as its defconfig configures it
# (tests/runtime/build-kernel.sh: Debian's linux-source-6.12, the pc natively,
# the Raspberry Pi with Debian's aarch64 cross compiler), its size, module
# count and build time, then a boot of it from the image `b4k post-image` makes
# (tests/check-postimage-*.sh with B4K_KERNEL_DIR: no initramfs, the kernel's
# built-in drivers mount the root file system): pc under SeaBIOS and OVMF,
# raspberrypi3-64 under QEMU -M raspi3b, each to the test root file system's marker.
#   tests/kernels/run.sh [BOARD...]     (default: pc raspberrypi3-64)
# Environment: as build-kernel.sh (B4K_CACHE, JOBS, LINUX_SOURCE).
set -eu
cd "$(dirname "$0")/../.."
# Its host packages (cross compiler, QEMU, ...), as `make check` installs them.
scripts/install-host-deps >&2
[ $# -gt 0 ] || set -- pc raspberrypi3-64
rc=0
for board in "$@"; do
	dir=$(tests/runtime/build-kernel.sh "$board")
	case $board in
	pc) image=$dir/bzImage check=tests/check-postimage-pc.sh ;;
	*) image=$dir/Image check=tests/check-postimage-rpi3.sh ;;
	esac
	mods=0
	[ ! -f "$dir/modules.tar" ] || mods=$(tar -tf "$dir/modules.tar" | grep -c '\.ko$' || true)
	echo "kernels: $board $(cat "$dir/release"): ${image##*/} $(stat -c %s "$image") bytes," \
		"$mods loadable modules, $(grep -c '=y$' "$dir/config") options built in; $(tail -n 1 "$dir/build.log")"
	B4K_KERNEL_DIR=$dir bash "$check" || { echo "kernels: $board: the boot check failed"; rc=1; }
done
exit $rc
