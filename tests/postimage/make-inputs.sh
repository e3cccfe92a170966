#!/bin/sh
# Makes a Buildroot-like output tree for the post-image tests from the Debian
# packages unpacked by fetch-debs.sh:
#   make-inputs.sh pc|raspberrypi3-64 CACHE OUT
# OUT/images   = BINARIES_DIR (kernel, rootfs.ext4, GRUB images or rpi-firmware/),
# OUT/.config  = BR2_CONFIG,
# OUT/initrd.img = the test-only initramfs (see initrd-init), for Debian's kernels.
# B4K_KERNEL_DIR: instead of Debian's kernel, the board's own, as
# tests/runtime/build-kernel.sh BOARD leaves it (bzImage, or Image and the
# bcm2837 DTBs); its drivers are built in, so there is no initramfs: the
# kernel mounts root= itself.
# Everything is reproducible from SOURCE_DATE_EPOCH (fixed UUIDs, times).
set -eu

board=$1
cache=$2
out=$3
here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
: "${SOURCE_DATE_EPOCH:=1700000000}"
export SOURCE_DATE_EPOCH E2FSPROGS_FAKE_TIME="$SOURCE_DATE_EPOCH"

rm -rf "$out"
mkdir -p "$out/images" "$out/host" "$out/work"
images=$out/images
work=$out/work

case $board in
pc)
	kdir=$cache/amd64
	busybox=/bin/busybox
	modules="lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4 drivers/block/virtio_blk"
	if [ -n "${B4K_KERNEL_DIR:-}" ]; then
		cp "$B4K_KERNEL_DIR/bzImage" "$images/bzImage"
	else
		cp "$kdir"/boot/vmlinuz-* "$images/bzImage"
	fi
	"$(dirname "$0")/grub-images.sh" "$out"
	cat > "$out/.config" <<EOC
BR2_x86_64=y
BR2_LINUX_KERNEL=y
BR2_TARGET_ROOTFS_EXT2=y
BR2_TARGET_ROOTFS_EXT2_4=y
BR2_TARGET_GRUB2=y
BR2_TARGET_GRUB2_I386_PC=y
BR2_TARGET_GRUB2_X86_64_EFI=y
BR2_TARGET_GRUB2_BOOT_PARTITION="hd0,gpt2"
EOC
	;;
raspberrypi3-64)
	kdir=$cache/arm64
	busybox=$cache/busybox-arm64/bin/busybox
	modules="lib/crc16 fs/mbcache fs/jbd2/jbd2 crypto/crc32c_generic fs/ext4/ext4 drivers/mmc/host/sdhci drivers/mmc/host/sdhci-pltfm drivers/mmc/host/sdhci-iproc drivers/mmc/host/bcm2835"
	# Debian's arm64 vmlinuz is the plain arm64 Image, as Buildroot installs it.
	if [ -n "${B4K_KERNEL_DIR:-}" ]; then
		cp "$B4K_KERNEL_DIR/Image" "$B4K_KERNEL_DIR/bcm2837-rpi-3-b.dtb" \
			"$B4K_KERNEL_DIR/bcm2837-rpi-3-b-plus.dtb" "$images/"
	else
		cp "$kdir"/boot/vmlinuz-* "$images/Image"
		cp "$kdir"/usr/lib/linux-image-*/broadcom/bcm2837-rpi-3-b.dtb \
			"$kdir"/usr/lib/linux-image-*/broadcom/bcm2837-rpi-3-b-plus.dtb "$images/"
	fi
	# As package/rpi-firmware installs them (RPI_FIRMWARE_INSTALL_IMAGES_CMDS).
	mkdir -p "$images/rpi-firmware"
	for f in bootcode.bin start.elf fixup.dat; do
		cp "$cache/rpi/usr/lib/raspi-firmware/$f" "$images/rpi-firmware/"
	done
	cp "$repo/board/raspberrypi3-64/config.txt" "$repo/board/raspberrypi3-64/cmdline.txt" \
		"$images/rpi-firmware/"
	cat > "$out/.config" <<EOC
BR2_aarch64=y
BR2_LINUX_KERNEL=y
BR2_TARGET_ROOTFS_EXT2=y
BR2_TARGET_ROOTFS_EXT2_4=y
BR2_PACKAGE_RPI_FIRMWARE=y
EOC
	;;
*)
	echo "unknown board $board" >&2
	exit 2
	;;
esac

# Root filesystem: busybox and an init that prints the marker and powers off.
root=$work/rootfs
mkdir -p "$root/bin" "$root/sbin" "$root/proc" "$root/sys" "$root/dev"
cp "$busybox" "$root/bin/busybox"
cp "$here/rootfs-init" "$root/sbin/init"
chmod 755 "$root/sbin/init" "$root/bin/busybox"
find "$root" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
mkfs.ext4 -q -F -L rootfs -U 5f0f1d3a-0000-4000-8000-000000000001 \
	-E hash_seed=5f0f1d3a-0000-4000-8000-000000000002,root_owner=0:0 \
	-d "$root" "$images/rootfs.ext4" 16M

# Initramfs (test stand-in, see initrd-init): busybox, the modules, /init.
if [ -n "${B4K_KERNEL_DIR:-}" ]; then
	rm -rf "$work"
	exit 0
fi
ird=$work/initrd
mkdir -p "$ird/bin" "$ird/lib/modules" "$ird/dev" "$ird/proc" "$ird/sys" "$ird/newroot"
cp "$busybox" "$ird/bin/busybox"
cp "$here/initrd-init" "$ird/init"
chmod 755 "$ird/init" "$ird/bin/busybox"
: > "$ird/modules"
for m in $modules; do
	name=$(basename "$m")
	xz -dc "$kdir"/lib/modules/*/kernel/"$m".ko.xz > "$ird/lib/modules/$name.ko"
	echo "$name" >> "$ird/modules"
done
find "$ird" -exec touch -h -d "@$SOURCE_DATE_EPOCH" {} +
(cd "$ird" && find . | LC_ALL=C sort | cpio -o -H newc --reproducible --quiet) |
	gzip -n > "$out/initrd.img"
rm -rf "$work"
