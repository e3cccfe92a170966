#!/bin/bash
# b4k post-image, raspberrypi3-64 board, with real inputs from Debian's packages
# (arm64 6.12 kernel and its bcm2837 DTBs, raspi-firmware, busybox rootfs):
# deterministic output, structure checked with sfdisk/blkid/fsck.vfat/e2fsck,
# and a QEMU raspi3b boot with the kernel, DTB, command line and initramfs read
# out of the SD image's boot partition. QEMU does not run the GPU firmware
# (bootcode.bin/start.elf), so -kernel/-dtb stand in for it.
set -eu
cd "$(dirname "$0")/.."
. tests/postimage/lib.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/b4k-postimage-rpi3.XXXXXX")
trap 'echo "work directory kept for inspection: $work"' EXIT
build_twice raspberrypi3-64 "$work"
in=$work/a/images
img=$in/sdcard.img
step "sdcard.img $(stat -c %s "$img") bytes, sdcard.img.xz $(stat -c %s "$img.xz") bytes"
xz -dc "$img.xz" | cmp - "$img" || fail "sdcard.img.xz does not decompress to sdcard.img"

step "partition table (sfdisk)"
sfdisk --dump "$img" > "$work/dump"
cat "$work/dump"
grep -q '^label: dos' "$work/dump" || fail "not an MBR"
[ "$(part_field "$work/dump" 1 type)" = c ] || fail "partition 1 is not FAT32-LBA (0x0c)"
[ "$(part_field "$work/dump" 2 type)" = 83 ] || fail "partition 2 is not Linux (0x83)"
grep -q '^[^ ]*img1 : .*bootable' "$work/dump" || fail "partition 1 is not marked active"
boot_start=$(part_field "$work/dump" 1 start)
boot_size=$(part_field "$work/dump" 1 size)
root_start=$(part_field "$work/dump" 2 start)
root_size=$(part_field "$work/dump" 2 size)

step "boot partition: FAT, the firmware, kernel, DTBs, config.txt, cmdline.txt"
dd if="$img" of="$work/boot" bs=512 skip="$boot_start" count="$boot_size" status=none
cmp "$work/boot" "$in/boot.vfat" || fail "partition 1 is not boot.vfat"
blkid -p -o export "$work/boot" | grep -qx 'TYPE=vfat' || fail "boot partition is not FAT"
blkid -p -o export "$work/boot" | grep -qx 'VERSION=FAT32' || fail "boot partition is not FAT32"
fsck.vfat -n "$work/boot" || fail "fsck.vfat found errors in the boot partition"
for f in Image bcm2837-rpi-3-b.dtb bcm2837-rpi-3-b-plus.dtb rpi-firmware/bootcode.bin \
	rpi-firmware/start.elf rpi-firmware/fixup.dat rpi-firmware/cmdline.txt; do
	mcopy -n -i "$img@@$((boot_start * 512))" "::/${f#rpi-firmware/}" "$work/x"
	cmp "$work/x" "$in/$f" || fail "boot partition's ${f#rpi-firmware/} differs from the input"
done
grep -q '^root=/dev/mmcblk0p2 ' "$in/rpi-firmware/cmdline.txt" || fail "cmdline.txt does not use root=/dev/mmcblk0p2"

step "root: the input rootfs.ext4, intact"
dd if="$img" of="$work/root" bs=512 skip="$root_start" count="$root_size" status=none
cmp "$work/root" "$in/rootfs.ext4" || fail "partition 2 is not rootfs.ext4"
e2fsck -fn "$work/root" >/dev/null || fail "e2fsck found errors in the root partition"

# What the GPU firmware would load, read out of the image's boot partition.
initrd=()
for f in Image bcm2837-rpi-3-b.dtb cmdline.txt initrd.img; do
	# no initrd.img with B4K_KERNEL_DIR (make-inputs.sh)
	[ "$f" != initrd.img ] || [ -f "$work/a/initrd.img" ] || continue
	mcopy -n -i "$img@@$((boot_start * 512))" "::/$f" "$work/$f"
done
[ ! -f "$work/initrd.img" ] || initrd=(-initrd "$work/initrd.img")
# QEMU wants an SD card whose size is a power of two.
cp "$img" "$work/sd.img"
size=$(stat -c %s "$work/sd.img")
p=1
while [ $p -lt "$size" ]; do p=$((p * 2)); done
truncate -s "$p" "$work/sd.img"
rc=0
tests/postimage/boot.sh "raspi3b" 300 "$work/raspi3b.log" \
	qemu-system-aarch64 -M raspi3b -kernel "$work/Image" -dtb "$work/bcm2837-rpi-3-b.dtb" \
	"${initrd[@]}" -append "$(cat "$work/cmdline.txt")" \
	-drive "file=$work/sd.img,format=raw,if=sd" || rc=1
if [ $rc = 0 ]; then
	trap - EXIT
	rm -rf "$work"
fi
exit $rc
