#!/bin/sh
# usr/libexec/b4k/grow-root-mbr against the real sfdisk and the kernel's loop
# devices: an MBR disk image whose mounted ext4 root partition (the last one) is
# followed by free space gets that partition grown to the disk's end, the kernel
# sees the new size while the file system stays mounted, and a second run changes
# nothing; resize2fs then grows the file system over it (offline here: a container
# may not resize a mounted file system; on the node systemd-growfs does it online,
# which the Raspberry Pi's QEMU boot shows). A GPT disk and a root
# that is not the last partition are left alone. Needs root and loop devices
# (skips without them).
set -eu
cd "$(dirname "$0")/.."
script=$PWD/board/common/rootfs-overlay/usr/libexec/b4k/grow-root-mbr
[ "$(id -u)" -eq 0 ] || { echo "SKIP: needs root (loop devices)"; exit 77; }
for c in losetup sfdisk partx mkfs.ext4 e2fsck resize2fs; do
	command -v "$c" >/dev/null || { echo "SKIP: $c not found"; exit 77; }
done
tmp=$(mktemp -d)
# shellcheck disable=SC2317 # run by the trap
cleanup() {
	umount "$tmp/m" 2>/dev/null || true
	for img in "$tmp"/*.img; do
		losetup -j "$img" | cut -d: -f1 | while read -r l; do losetup -d "$l"; done
	done
	rm -rf "$tmp"
}
trap cleanup EXIT
fail=0
no() { echo "FAIL: $*"; fail=1; }

# attach IMAGE: a loop device with its partitions' nodes (a container has no
# udev to make /dev/loopNpM); prints the device.
attach() {
	l=$(losetup -fP --show "$1")
	partx -a "$l" 2>/dev/null || true
	for p in /sys/block/"${l#/dev/}"/"${l#/dev/}"p*; do
		[ -e "/dev/${p##*/}" ] || mknod "/dev/${p##*/}" b "$(cut -d: -f1 "$p/dev")" "$(cut -d: -f2 "$p/dev")"
	done
	echo "$l"
}
mm() { cat "/sys/block/${1#/dev/}/${1#/dev/}p$2/dev"; }
sectors() { cat "/sys/block/${1#/dev/}/${1#/dev/}p$2/size"; }

# An MBR card as genimage makes it (FAT boot, ext4 root), on a larger disk.
truncate -s 40M "$tmp/card.img"
printf 'label: dos\nstart=2048, size=16384, type=c\nstart=18432, size=32768, type=83\n' | sfdisk -q "$tmp/card.img"
truncate -s 200M "$tmp/card.img"
l=$(attach "$tmp/card.img") || { echo "SKIP: losetup cannot attach an image here"; exit 77; }
mkfs.ext4 -q "${l}p2"
mkdir -p "$tmp/m"
mount "${l}p2" "$tmp/m"
echo token >"$tmp/m/kept"
B4K_ROOT_DEV=$(mm "$l" 2) sh "$script" || no "grow-root-mbr failed on an MBR card"
want=$(((200 * 2048) - 18432))
[ "$(sectors "$l" 2)" -eq "$want" ] || no "the kernel sees $(sectors "$l" 2) sectors for partition 2, not $want"
end=$(sfdisk --dump "$l" | sed -n 's/.*p2 : start= *18432, size= *\([0-9]*\).*/\1/p')
[ "$end" = "$want" ] || no "the partition table says size '$end' for partition 2, not $want"
before=$(sfdisk --dump "$l" | sha256sum)
out=$(B4K_ROOT_DEV=$(mm "$l" 2) sh "$script")
[ "$(sfdisk --dump "$l" | sha256sum)" = "$before" ] || no "a second run changed the table"
echo "$out" | grep -q 'already ends' || no "a second run did not say there is nothing to do: $out"
umount "$tmp/m"
e2fsck -fp "${l}p2" >/dev/null || no "e2fsck found the grown partition's file system damaged"
resize2fs "${l}p2" >/dev/null 2>&1 || no "resize2fs could not grow the file system over the partition"
mount "${l}p2" "$tmp/m"
kb=$(df -k "$tmp/m" | awk 'NR == 2 { print $2 }')
[ "$kb" -gt 150000 ] || no "the file system has $kb KiB after growing"
[ "$(cat "$tmp/m/kept")" = token ] || no "a file of the root file system was lost"
umount "$tmp/m"

# Root not the last partition: left alone.
out=$(B4K_ROOT_DEV=$(mm "$l" 1) sh "$script")
echo "$out" | grep -q 'not the last' || no "partition 1 (not the last) was not refused: $out"

# GPT: systemd-repart's job.
truncate -s 40M "$tmp/gpt.img"
printf 'label: gpt\nstart=2048, size=32768\n' | sfdisk -q "$tmp/gpt.img"
truncate -s 100M "$tmp/gpt.img"
sfdisk --relocate gpt-bak-std "$tmp/gpt.img" >/dev/null 2>&1 || true
g=$(attach "$tmp/gpt.img")
gb=$(sectors "$g" 1)
out=$(B4K_ROOT_DEV=$(mm "$g" 1) sh "$script")
echo "$out" | grep -q "'gpt' partition table" || no "a GPT disk was not left to systemd-repart: $out"
[ "$(sectors "$g" 1)" -eq "$gb" ] || no "a GPT partition was resized"

[ "$fail" -eq 0 ] && echo "grow-root-mbr: MBR root grown 16 -> $((want / 2048)) MiB online, second run idempotent, GPT and non-last partitions left alone"
exit "$fail"
