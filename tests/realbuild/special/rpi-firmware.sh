#!/bin/sh
# Override tree of rpi-firmware (Buildroot: raspberrypi/firmware at commit
# 063bcab6c8a9, a GitHub archive of the whole repository, which cannot be had
# here): the GPU firmware of Debian's raspi-firmware package (bookworm
# non-free-firmware, 1.20220830+ds-1), laid out as the repository's boot/
# directory that rpi-firmware.mk installs from: bootcode.bin, start*.elf and
# fixup*.dat. Debian's copyright file, which carries the Broadcom licence
# text, stands in for boot/LICENCE.broadcom (the package's license file).
# No DTBs and no overlays: the board uses the kernel's own bcm2837 DTBs and its
# defconfig installs neither (BR2_PACKAGE_RPI_FIRMWARE_INSTALL_DTBS and
# _INSTALL_DTB_OVERLAYS unset).
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

VERSION=1.20220830+ds-1
# Debian bookworm non-free-firmware binary-all Packages index: SHA256 of
# raspi-firmware 1.20220830+ds-1.
DEB=raspi-firmware_${VERSION}_all.deb
DEB_SHA256=0094ced47a7fbb6a220ff83e7b43aa637a5d8f6802461e2e4e474597fb796f62

deb=$(debian_file pool/non-free-firmware/r/raspi-firmware "$DEB" "$DEB_SHA256")
x=$(mktemp -d)
trap 'rm -rf "$x"' EXIT
dpkg-deb -x "$deb" "$x"
mkdir -p "$DEST/boot"
cp "$x"/usr/lib/raspi-firmware/bootcode.bin "$x"/usr/lib/raspi-firmware/start*.elf \
	"$x"/usr/lib/raspi-firmware/fixup*.dat "$DEST/boot/"
cp "$x/usr/share/doc/raspi-firmware/copyright" "$DEST/boot/LICENCE.broadcom"
for f in bootcode.bin start.elf fixup.dat; do
	[ -s "$DEST/boot/$f" ] || die "$DEB has no $f"
done

info "Debian bookworm non-free-firmware $DEB (usr/lib/raspi-firmware)" "$VERSION" false \
	"the firmware of raspberrypi/firmware's 1.20220830 release, not Buildroot's commit 063bcab6c8a9; LICENCE.broadcom is Debian's copyright file"
