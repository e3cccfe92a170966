#!/bin/sh
# Runtime lane: the pc kernel, configured the way pc_defconfig configures it
# (BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE board/pc/linux.config +
# BR2_LINUX_KERNEL_CONFIG_FRAGMENT_FILES),
# from Debian's linux-source-6.12, built once and cached by a hash of the source
# version and the resulting .config.
#
#   tests/runtime/build-kernel.sh        prints the cache directory holding
#                                        bzImage, config, modules.tar (when
#                                        CONFIG_MODULES=y: loadable modules and
#                                        modules.builtin, which modprobe reads)
#
# Buildroot's steps (package/pkg-kconfig.mk, kconfig-package-merge-config):
#   cp board/pc/linux.config .config; merge_config.sh -m -O <dir> .config <fragments>;
#   make olddefconfig
# Not reproduced: the LINUX_CONFIG_FIXUPS of selected packages (systemd, nfs-utils, ...).
#
# Environment: FRAGMENT_DIR (default: this tree's board/; holds common/ and
# pc/linux.fragment, pc/linux.config), LINUX_SOURCE (default /usr/src/linux-source-6.12.tar.xz),
# B4K_CACHE, B4K_SCRATCH (unpacked source and build trees), JOBS.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
frag_dir=$(cd "${FRAGMENT_DIR:-$tree/board}" && pwd)
src_tar=${LINUX_SOURCE:-/usr/src/linux-source-6.12.tar.xz}
cache=${B4K_CACHE:-$HOME/.cache/b4k/runtime}
scratch=${B4K_SCRATCH:-$cache/work}
base=$frag_dir/pc/linux.config
frags="$frag_dir/common/linux.fragment $frag_dir/pc/linux.fragment"

for f in $src_tar $base $frags; do
	[ -f "$f" ] || { echo "build-kernel: missing $f (set FRAGMENT_DIR or LINUX_SOURCE)" >&2; exit 1; }
done
srcver=$(dpkg-query -W -f='${Version}' linux-source-6.12 2>/dev/null || stat -c %s-%Y "$src_tar")
src=$scratch/linux-source-$srcver
if [ ! -f "$src/Makefile" ]; then
	rm -rf "$src.tmp" && mkdir -p "$src.tmp"
	tar -C "$src.tmp" --strip-components=1 -xf "$src_tar"
	mv "$src.tmp" "$src"
fi
cfg=$scratch/kconfig-$$
trap 'rm -rf "$cfg"' EXIT
mkdir -p "$cfg"
{
	cp "$base" "$cfg/.config"
	# merge_config.sh makes its temporary files in the current directory
	# shellcheck disable=SC2086 # $frags is a list of paths without spaces
	(cd "$cfg" && "$src/scripts/kconfig/merge_config.sh" -m -O "$cfg" "$cfg/.config" $frags)
	make -C "$src" O="$cfg" ARCH=x86_64 olddefconfig
} >"$cfg/config.log" 2>&1 || { cat "$cfg/config.log" >&2; exit 1; }
key=$( { echo "$srcver x86_64 bzImage modules"; cat "$cfg/.config"; } | sha256sum | cut -c1-16)
out=$cache/kernel-$key
if [ -f "$out/bzImage" ]; then echo "$out"; exit 0; fi

build=$scratch/kbuild-$key
mkdir -p "$build" "$out.tmp"
cp "$cfg/.config" "$build/.config"
start=$(date +%s)
{
	nice -n 15 make -C "$src" O="$build" ARCH=x86_64 -j"${JOBS:-2}" bzImage modules
	if grep -q '^CONFIG_MODULES=y$' "$build/.config"; then
		rm -rf "$build/mods"
		make -C "$src" O="$build" ARCH=x86_64 INSTALL_MOD_PATH="$build/mods" modules_install
		tar -C "$build/mods" -cf "$out.tmp/modules.tar" lib
	fi
	echo "kernel build: $(($(date +%s) - start)) s"
} >"$out.tmp/build.log" 2>&1 || { tail -40 "$out.tmp/build.log" >&2; exit 1; }
cp "$build/arch/x86/boot/bzImage" "$out.tmp/bzImage"
cp "$build/.config" "$out.tmp/config"
make -s -C "$src" O="$build" kernelrelease >"$out.tmp/release"
rm -rf "$out" && mv "$out.tmp" "$out"
echo "build-kernel: $(($(date +%s) - start)) s, bzImage $(stat -c %s "$out/bzImage") bytes" >&2
echo "$out"
