#!/bin/sh
# Runtime lane: a board's kernel, configured the way its defconfig configures it
# (BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE board/<board>/linux.config +
# BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES),
# from Debian's linux-source-6.12, built once and cached by a hash of the source
# version and the resulting .config.
#
#   tests/runtime/build-kernel.sh [pc|raspberrypi3-64]
#        prints the cache directory holding bzImage (pc) or Image and the
#        bcm2837-rpi-3-b(-plus).dtb (raspberrypi3-64, built with Debian's
#        aarch64-linux-gnu- cross compiler), config, release, build.log (its
#        last line: the build's wall time), modules.tar (when CONFIG_MODULES=y:
#        loadable modules and modules.builtin, which modprobe reads)
#
# Buildroot's steps (package/pkg-kconfig.mk, kconfig-package-merge-config):
#   cp board/pc/linux.config .config; merge_config.sh -m -O <dir> .config <fragments>;
#   make olddefconfig
# Not reproduced: the LINUX_CONFIG_FIXUPS of selected packages (systemd, nfs-utils, ...).
#
# Environment: FRAGMENT_DIR (default: this tree's board/; holds common/ and
# <board>/linux.fragment, <board>/linux.config), LINUX_SOURCE (default /usr/src/linux-source-6.12.tar.xz),
# B4K_CACHE, B4K_SCRATCH (build trees; scripts/linux-source-tree unpacks the
# source), JOBS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
frag_dir=$(cd "${FRAGMENT_DIR:-$tree/board}" && pwd)
src_tar=${LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
cache=${B4K_CACHE:-$HOME/.cache/b4k/runtime}
scratch=${B4K_SCRATCH:-$cache/work}
board=${1:-pc}
case $board in
pc) arch=x86_64 cross='' image=arch/x86/boot/bzImage targets='bzImage modules' ;;
raspberrypi3-64) arch=arm64 cross=aarch64-linux-gnu- image=arch/arm64/boot/Image targets='Image dtbs modules' ;;
*) echo "build-kernel: unknown board \"$board\" (pc, raspberrypi3-64)" >&2; exit 2 ;;
esac
base=$frag_dir/$board/linux.config
frags="$frag_dir/common/linux.fragment $frag_dir/$board/linux.fragment"

for f in $src_tar $base $frags; do
	[ -f "$f" ] || { echo "build-kernel: missing $f (set FRAGMENT_DIR or LINUX_SOURCE)" >&2; exit 1; }
done
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %s-%Y "$src_tar")
src=$(LINUX_SOURCE_TARBALL=$src_tar "$tree/scripts/linux-source-tree")
cfg=$scratch/kconfig-$$
trap 'rm -rf "$cfg"' EXIT
mkdir -p "$cfg"
{
	cp "$base" "$cfg/.config"
	# merge_config.sh makes its temporary files in the current directory
	# shellcheck disable=SC2086 # $frags is a list of paths without spaces
	(cd "$cfg" && "$src/scripts/kconfig/merge_config.sh" -m -O "$cfg" "$cfg/.config" $frags)
	make -C "$src" O="$cfg" ARCH=$arch CROSS_COMPILE=$cross olddefconfig
} >"$cfg/config.log" 2>&1 || { cat "$cfg/config.log" >&2; exit 1; }
key=$( { echo "$srcver $arch $targets"; cat "$cfg/.config"; } | sha256sum | cut -c1-16)
out=$cache/kernel-$key
if [ -f "$out/${image##*/}" ]; then echo "$out"; exit 0; fi

build=$scratch/kbuild-$key
mkdir -p "$build" "$out.tmp"
cp "$cfg/.config" "$build/.config"
start=$(date +%s)
{
	# shellcheck disable=SC2086 # $targets is a list of make targets
	nice -n 15 make -C "$src" O="$build" ARCH=$arch CROSS_COMPILE=$cross -j"${JOBS:-2}" $targets
	if grep -q '^CONFIG_MODULES=y$' "$build/.config"; then
		rm -rf "$build/mods"
		make -C "$src" O="$build" ARCH=$arch CROSS_COMPILE=$cross INSTALL_MOD_PATH="$build/mods" modules_install
		tar -C "$build/mods" -cf "$out.tmp/modules.tar" lib
	fi
	echo "kernel build: $(($(date +%s) - start)) s"
} >"$out.tmp/build.log" 2>&1 || { tail -40 "$out.tmp/build.log" >&2; exit 1; }
cp "$build/$image" "$out.tmp/"
if [ "$board" = raspberrypi3-64 ]; then
	cp "$build"/arch/arm64/boot/dts/broadcom/bcm2837-rpi-3-b.dtb \
		"$build"/arch/arm64/boot/dts/broadcom/bcm2837-rpi-3-b-plus.dtb "$out.tmp/"
fi
cp "$build/.config" "$out.tmp/config"
make -s -C "$src" O="$build" ARCH=$arch kernelrelease >"$out.tmp/release"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "build-kernel: $(($(date +%s) - start)) s, ${image##*/} $(stat -c %s "$out/${image##*/}") bytes" >&2
echo "$out"
