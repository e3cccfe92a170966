//! What `grub-bios-setup` does to GRUB's i386-pc images, done on files instead of
//! a device, so that a BIOS can boot a GPT disk whose GRUB core image lives in a
//! BIOS boot partition (sector 1 is the GPT header, so GRUB's default "core image
//! at sector 1" layout cannot be used).
//!
//! Offsets from GRUB's `include/grub/i386/pc/boot.h` and the blocklist at the end
//! of `grub-core/boot/i386/pc/diskboot.S`; the patching mirrors `util/setup.c`
//! (<https://git.savannah.gnu.org/cgit/grub.git/tree/include/grub/i386/pc/boot.h>).

use anyhow::{bail, ensure, Result};

/// Sector size GRUB's i386-pc images are made of.
pub const SECTOR: u64 = 512;
/// `GRUB_BOOT_MACHINE_KERNEL_SECTOR`: u64 LBA of the core image's first sector.
const KERNEL_SECTOR: usize = 0x5c;
/// `GRUB_BOOT_MACHINE_DRIVE_CHECK`: a 2-byte `jmp` that `grub-bios-setup`
/// replaces by two `nop`s on hard disks (works around BIOSes that pass a wrong
/// boot drive).
const DRIVE_CHECK: usize = 0x66;
/// diskboot.img's first blocklist `{start: u64, len: u16, segment: u16}`, which
/// ends the core image's first sector.
const BLOCKLIST: usize = 512 - 12;
/// `blocklist_default_start` of diskboot.S: the rest of the core image follows
/// its first sector, at LBA 2.
const DEFAULT_START: u64 = 2;

/// Points GRUB's i386-pc `boot.img` (the MBR boot code, 512 bytes) at a core
/// image whose first sector is `core_lba`.
pub fn patch_boot_img(boot: &mut [u8], core_lba: u64) -> Result<()> {
    ensure!(
        boot.len() == SECTOR as usize,
        "is {} bytes, GRUB's i386-pc boot.img is {SECTOR}",
        boot.len()
    );
    ensure!(
        boot[510..512] == [0x55, 0xaa],
        "has no 0x55AA boot signature: not GRUB's i386-pc boot.img"
    );
    let current = u64::from_le_bytes(boot[KERNEL_SECTOR..KERNEL_SECTOR + 8].try_into()?);
    ensure!(
        current == 1,
        "kernel sector field is {current}, expected GRUB's default 1: not an unmodified i386-pc boot.img"
    );
    boot[KERNEL_SECTOR..KERNEL_SECTOR + 8].copy_from_slice(&core_lba.to_le_bytes());
    boot[DRIVE_CHECK] = 0x90;
    boot[DRIVE_CHECK + 1] = 0x90;
    Ok(())
}

/// Points the first blocklist of GRUB's i386-pc core image (`grub.img`, made by
/// `grub-mkimage -O i386-pc`) at its own remaining sectors, for a core image
/// written contiguously from `core_lba`.
pub fn patch_core_img(core: &mut [u8], core_lba: u64) -> Result<()> {
    let len = core.len() as u64;
    ensure!(
        len > SECTOR,
        "is {len} bytes: too small for a GRUB core image"
    );
    let start = u64::from_le_bytes(core[BLOCKLIST..BLOCKLIST + 8].try_into()?);
    let count = u16::from_le_bytes(core[BLOCKLIST + 8..BLOCKLIST + 10].try_into()?);
    let sectors = len.div_ceil(SECTOR);
    if start != DEFAULT_START || u64::from(count) != sectors - 1 {
        bail!(
            "first blocklist is (start {start}, {count} sectors), expected ({DEFAULT_START}, {}): \
             not an unmodified `grub-mkimage -O i386-pc` core image",
            sectors - 1
        );
    }
    core[BLOCKLIST..BLOCKLIST + 8].copy_from_slice(&(core_lba + 1).to_le_bytes());
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn boot_img() -> Vec<u8> {
        let mut b = vec![0u8; 512];
        b[KERNEL_SECTOR] = 1;
        b[DRIVE_CHECK] = 0xeb;
        b[DRIVE_CHECK + 1] = 0x05;
        b[510] = 0x55;
        b[511] = 0xaa;
        b
    }

    fn core_img(sectors: usize) -> Vec<u8> {
        let mut c = vec![0u8; sectors * 512 - 100];
        c[BLOCKLIST] = 2;
        c[BLOCKLIST + 8..BLOCKLIST + 10].copy_from_slice(&((sectors - 1) as u16).to_le_bytes());
        c
    }

    #[test]
    fn boot_img_is_pointed_at_core() {
        let mut b = boot_img();
        patch_boot_img(&mut b, 2048).unwrap();
        assert_eq!(&b[KERNEL_SECTOR..KERNEL_SECTOR + 8], &2048u64.to_le_bytes());
        assert_eq!(&b[DRIVE_CHECK..DRIVE_CHECK + 2], &[0x90, 0x90]);
        // Patching twice is refused: the input is no longer GRUB's default.
        assert!(patch_boot_img(&mut b, 2048).is_err());
    }

    #[test]
    fn core_blocklist_follows_first_sector() {
        let mut c = core_img(300);
        patch_core_img(&mut c, 2048).unwrap();
        assert_eq!(&c[BLOCKLIST..BLOCKLIST + 8], &2049u64.to_le_bytes());
        assert!(patch_core_img(&mut c, 2048).is_err());
    }

    #[test]
    fn rejects_other_files() {
        assert!(patch_boot_img(&mut [0u8; 100], 2048).is_err());
        assert!(patch_boot_img(&mut [0u8; 512], 2048).is_err());
        assert!(patch_core_img(&mut [0u8; 4096], 2048).is_err());
        assert!(patch_core_img(&mut [0u8; 10], 2048).is_err());
    }
}
