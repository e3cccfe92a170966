#!/bin/bash
# b4k post-image, pc board, with real inputs from Debian's packages (6.12 kernel,
# GRUB i386-pc and x86_64-efi assembled as Buildroot does, busybox rootfs):
# deterministic output, structure checked with sfdisk/blkid/fsck.vfat/e2fsck,
# and the one disk image booted to the rootfs marker under SeaBIOS and OVMF.
set -eu
cd "$(dirname "$0")/.."
. tests/postimage/lib.sh

work=$(mktemp -d "${TMPDIR:-/tmp}/b4k-postimage-pc.XXXXXX")
trap 'echo "work directory kept for inspection: $work"' EXIT
build_twice pc "$work"
img=$work/a/images/disk.img
step "disk.img $(stat -c %s "$img") bytes, disk.img.gz $(stat -c %s "$img.gz") bytes"
zcat "$img.gz" | cmp - "$img" || fail "disk.img.gz does not decompress to disk.img"

step "partition table (sfdisk)"
sfdisk --dump "$img" > "$work/dump"
cat "$work/dump"
grep -q '^label: gpt' "$work/dump" || fail "not a GPT"
[ "$(grep -c '^/\|^[^ ]*img[0-9] :' "$work/dump")" = 3 ] || fail "expected 3 partitions"
[ "$(part_field "$work/dump" 1 type)" = 21686148-6449-6E6F-744E-656564454649 ] || fail "partition 1 is not a BIOS boot partition"
[ "$(part_field "$work/dump" 2 type)" = C12A7328-F81F-11D2-BA4B-00A0C93EC93B ] || fail "partition 2 is not an ESP"
bios_start=$(part_field "$work/dump" 1 start)
esp_start=$(part_field "$work/dump" 2 start)
esp_size=$(part_field "$work/dump" 2 size)
root_start=$(part_field "$work/dump" 3 start)
root_size=$(part_field "$work/dump" 3 size)
root_uuid=$(part_field "$work/dump" 3 uuid | tr 'A-F' 'a-f')

step "BIOS boot code: GRUB's boot.img, pointed at the core image in partition 1"
cmp -n 92 "$img" /usr/lib/grub/i386-pc/boot.img || fail "MBR boot code is not GRUB's boot.img"
kernel_sector=$(od -A n -t u8 -j 92 -N 8 "$img" | tr -d ' ')
[ "$kernel_sector" = "$bios_start" ] || fail "boot.img points at sector $kernel_sector, BIOS boot partition starts at $bios_start"
dd if="$img" bs=512 skip="$bios_start" count=1 status=none | cmp -n 500 - "$work/a/images/grub.img" ||
	fail "partition 1 does not start with the GRUB core image"

step "ESP: FAT, files, grub.cfg root=PARTUUID matches partition 3"
dd if="$img" of="$work/esp" bs=512 skip="$esp_start" count="$esp_size" status=none
blkid -p -o export "$work/esp" | grep -qx 'TYPE=vfat' || fail "ESP is not FAT"
fsck.vfat -n "$work/esp" || fail "fsck.vfat found errors in the ESP"
mdir -i "$work/esp" -/ -b ::/ | sort
for f in EFI/BOOT/bootx64.efi bzImage; do
	mcopy -n -i "$work/esp" "::/$f" "$work/x"
	cmp "$work/x" "$work/a/images/${f/EFI/efi-part/EFI}" || fail "ESP $f differs from the input"
done
for cfg in EFI/BOOT/grub.cfg boot/grub/grub.cfg; do
	mtype -i "$work/esp" "::/$cfg" | grep -q "root=PARTUUID=$root_uuid " ||
		fail "$cfg does not boot root=PARTUUID=$root_uuid"
done

step "root: the input rootfs.ext4, intact"
dd if="$img" of="$work/root" bs=512 skip="$root_start" count="$root_size" status=none
cmp "$work/root" "$work/a/images/rootfs.ext4" || fail "partition 3 is not rootfs.ext4"
e2fsck -fn "$work/root" >/dev/null || fail "e2fsck found errors in the root partition"

ovmf_code=/usr/share/OVMF/OVMF_CODE_4M.fd
cp /usr/share/OVMF/OVMF_VARS_4M.fd "$work/vars.fd"
rc=0
tests/postimage/boot.sh "pc SeaBIOS" 180 "$work/seabios.log" \
	qemu-system-x86_64 -M pc -m 512 -no-reboot -snapshot \
	-drive "file=$img,format=raw,if=virtio" || rc=1
tests/postimage/boot.sh "pc OVMF" 180 "$work/ovmf.log" \
	qemu-system-x86_64 -M q35 -m 512 -no-reboot -snapshot \
	-drive "if=pflash,format=raw,unit=0,readonly=on,file=$ovmf_code" \
	-drive "if=pflash,format=raw,unit=1,file=$work/vars.fd" \
	-drive "file=$img,format=raw,if=virtio" || rc=1
grep -aq 'efi: EFI v' "$work/ovmf.log" || { echo "FAIL: the OVMF boot did not go through UEFI"; rc=1; }
if [ $rc = 0 ]; then
	trap - EXIT
	rm -rf "$work"
fi
exit $rc
