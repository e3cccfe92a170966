#!/bin/sh
# The pc board's GRUB images from Debian's grub-pc-bin and grub-efi-amd64-bin,
# exactly as Buildroot's boot/grub2/grub2.mk makes them (GRUB2_INSTALL_IMAGES_CMDS),
# with its default builtin modules (boot/grub2/Config.in) and
# BR2_TARGET_GRUB2_BOOT_PARTITION="hd0,gpt2". OUT is laid out as Buildroot's
# output directory: OUT/images (BINARIES_DIR).
#   tests/postimage/grub-images.sh OUT
set -eu
out=${1:?usage: $0 OUT}
mkdir -p "$out/images/efi-part/EFI/BOOT"
grub-mkimage -d /usr/lib/grub/i386-pc -O i386-pc -o "$out/images/grub.img" \
	-p "(hd0,gpt2)/boot/grub" \
	boot linux ext2 fat squash4 part_msdos part_gpt normal biosdisk
grub-mkimage -d /usr/lib/grub/x86_64-efi -O x86_64-efi \
	-o "$out/images/efi-part/EFI/BOOT/bootx64.efi" -p "/EFI/BOOT" \
	boot linux ext2 fat squash4 part_msdos part_gpt normal efi_gop
# Where the tree's GRUB2_POST_INSTALL_IMAGES_HOOKS (external.mk) puts it.
cp /usr/lib/grub/i386-pc/boot.img "$out/images/boot.img"
