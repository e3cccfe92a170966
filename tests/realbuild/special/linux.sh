#!/bin/sh
# Override tree of linux (pc_defconfig pins 6.12.91): the upstream source of
# Debian's linux 6.12.107 (trixie and sid, linux_6.12.107.orig.tar.xz), without
# Debian's patches. Debian's .orig is kernel.org's tree less the files Debian
# deems non-free (debian/copyright's Files-Excluded); none of them is built by
# x86_64_defconfig and the tree's fragments.
#
# No Debian suite serves 6.12.91's source. 6.12.107 is the newest 6.12 stable
# release whose .orig is served (6.12.43 is the nearest older one); the runtime
# lane boots Debian's 6.12.117, so the real build stays close to what is tested.
# Buildroot's linux.mk has no check of the kernel version against
# BR2_LINUX_KERNEL_CUSTOM_VERSION_VALUE: modules go to `make kernelrelease`
# (6.12.107), and the toolchain's kernel headers (6.1) do not depend on it.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

VERSION=6.12.107
# Debian trixie/sid linux 6.12.107-1, Checksums-Sha256 of its Sources entry.
ORIG=linux_$VERSION.orig.tar.xz
ORIG_SHA256=efc76d3c78a5d65f42724118c437d11db1c9f6309a5f024ee9a8b1978fdc6919

orig=$(debian_file pool/main/l/linux "$ORIG" "$ORIG_SHA256")
tar -xJf "$orig" -C "$DEST" --strip-components=1
[ "$(make -s -C "$DEST" kernelversion)" = "$VERSION" ] || die "the tree is not Linux $VERSION"

info "Debian linux_$VERSION.orig.tar.xz (trixie/sid), without Debian's patches" \
	"$VERSION" false "6.12.91 is not served; newest 6.12 .orig served"
