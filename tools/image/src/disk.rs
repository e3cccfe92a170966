//! Reads the partition table of a finished disk image (MBR, or GPT behind a
//! protective MBR) for the manifest and for the sanity checks after genimage.

use anyhow::{bail, ensure, Context, Result};
use serde::Serialize;
use std::fs::File;
use std::io::{Read, Seek, SeekFrom};
use std::path::Path;

const SECTOR: u64 = 512;

/// One partition as recorded in the table.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Partition {
    /// 1-based number, as Linux names it (`sda1`, `mmcblk0p1`).
    pub number: u32,
    /// GPT partition name (empty for MBR).
    pub name: String,
    /// GPT type GUID, or the MBR type byte as `0x0c`.
    #[serde(rename = "type")]
    pub type_id: String,
    /// GPT unique partition GUID (the kernel's `PARTUUID`); MBR: `<signature>-<nn>`.
    pub partuuid: String,
    /// Byte offset of the first sector.
    pub offset: u64,
    /// Size in bytes.
    pub size: u64,
    /// MBR active flag, or GPT legacy-BIOS-bootable attribute (bit 2).
    pub bootable: bool,
}

/// A disk's partition table.
#[derive(Debug, Clone, Serialize, PartialEq, Eq)]
pub struct Table {
    /// `gpt` or `mbr`.
    #[serde(rename = "type")]
    pub kind: String,
    /// GPT disk GUID, or the MBR disk signature as 8 hex digits.
    pub disk_id: String,
    /// Partitions in table order, empty slots left out.
    pub partitions: Vec<Partition>,
}

/// Formats a GPT on-disk GUID (first three fields little-endian) as text.
pub fn guid_to_string(b: &[u8]) -> String {
    format!(
        "{:02x}{:02x}{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}-{:02x}{:02x}{:02x}{:02x}{:02x}{:02x}",
        b[3], b[2], b[1], b[0], b[5], b[4], b[7], b[6], b[8], b[9], b[10], b[11], b[12], b[13], b[14], b[15]
    )
}

fn u32_at(b: &[u8], o: usize) -> u32 {
    u32::from_le_bytes([b[o], b[o + 1], b[o + 2], b[o + 3]])
}

fn u64_at(b: &[u8], o: usize) -> u64 {
    u64::from(u32_at(b, o)) | (u64::from(u32_at(b, o + 4)) << 32)
}

/// Reads the partition table of the disk image at `path`.
pub fn read_table(path: &Path) -> Result<Table> {
    let mut f = b4k_input::open(path)?;
    let mut mbr = [0u8; SECTOR as usize];
    f.read_exact(&mut mbr)
        .with_context(|| format!("reading the MBR of {}", path.display()))?;
    ensure!(
        mbr[510..512] == [0x55, 0xaa],
        "{}: no partition table (no 0x55AA signature in sector 0)",
        path.display()
    );
    let entries: Vec<&[u8]> = (0..4)
        .map(|i| &mbr[0x1be + 16 * i..0x1be + 16 * (i + 1)])
        .collect();
    if entries.iter().any(|e| e[4] == 0xee) {
        return read_gpt(&mut f, path);
    }
    let signature = u32_at(&mbr, 0x1b8);
    let partitions = entries
        .iter()
        .enumerate()
        .filter(|(_, e)| e[4] != 0)
        .map(|(i, e)| Partition {
            number: i as u32 + 1,
            name: String::new(),
            type_id: format!("0x{:02x}", e[4]),
            partuuid: format!("{signature:08x}-{:02x}", i + 1),
            offset: u64::from(u32_at(e, 8)) * SECTOR,
            size: u64::from(u32_at(e, 12)) * SECTOR,
            bootable: e[0] == 0x80,
        })
        .collect();
    Ok(Table {
        kind: "mbr".into(),
        disk_id: format!("{signature:08x}"),
        partitions,
    })
}

fn read_gpt(f: &mut File, path: &Path) -> Result<Table> {
    let mut hdr = [0u8; SECTOR as usize];
    f.seek(SeekFrom::Start(SECTOR))?;
    f.read_exact(&mut hdr)
        .with_context(|| format!("reading the GPT header of {}", path.display()))?;
    if &hdr[0..8] != b"EFI PART" {
        bail!(
            "{}: protective MBR but no GPT header at LBA 1",
            path.display()
        );
    }
    let entries_lba = u64_at(&hdr, 72);
    let count = u32_at(&hdr, 80) as usize;
    let size = u32_at(&hdr, 84) as usize;
    ensure!(
        (128..=4096).contains(&size) && count <= 1024,
        "{}: implausible GPT entry array ({count} entries of {size} bytes)",
        path.display()
    );
    let mut buf = vec![0u8; count * size];
    let at = entries_lba.checked_mul(SECTOR).with_context(|| {
        format!(
            "{}: GPT entry array at LBA {entries_lba}: beyond any disk",
            path.display()
        )
    })?;
    f.seek(SeekFrom::Start(at))?;
    f.read_exact(&mut buf)
        .with_context(|| format!("reading the GPT entries of {}", path.display()))?;
    let partitions = buf
        .chunks(size)
        .enumerate()
        .filter(|(_, e)| e[0..16].iter().any(|&b| b != 0))
        .map(|(i, e)| -> Result<Partition> {
            let name: Vec<u16> = e[56..128]
                .chunks(2)
                .map(|c| u16::from_le_bytes([c[0], c[1]]))
                .take_while(|&c| c != 0)
                .collect();
            let first = u64_at(e, 32);
            let last = u64_at(e, 40);
            // Checked: LBAs near the top of u64 (a damaged or hostile table)
            // must not wrap into plausible numbers.
            let bytes = |lba: u64| lba.checked_mul(SECTOR);
            let size = last
                .checked_sub(first)
                .and_then(|n| n.checked_add(1))
                .and_then(bytes);
            let (Some(offset), Some(size)) = (bytes(first), size) else {
                bail!(
                    "{}: GPT partition {} spans LBA {first} to {last}: not a partition of any disk",
                    path.display(),
                    i + 1
                );
            };
            Ok(Partition {
                number: i as u32 + 1,
                name: String::from_utf16_lossy(&name),
                type_id: guid_to_string(&e[0..16]),
                partuuid: guid_to_string(&e[16..32]),
                offset,
                size,
                bootable: u64_at(e, 48) & 4 != 0,
            })
        })
        .collect::<Result<Vec<_>>>()?;
    Ok(Table {
        kind: "gpt".into(),
        disk_id: guid_to_string(&hdr[56..72]),
        partitions,
    })
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn guid_mixed_endian() {
        // The EFI System Partition type as stored on disk (UEFI spec, table 5.7).
        let on_disk = [
            0x28, 0x73, 0x2a, 0xc1, 0x1f, 0xf8, 0xd2, 0x11, 0xba, 0x4b, 0x00, 0xa0, 0xc9, 0x3e,
            0xc9, 0x3b,
        ];
        assert_eq!(
            guid_to_string(&on_disk),
            "c12a7328-f81f-11d2-ba4b-00a0c93ec93b"
        );
    }

    #[test]
    fn mbr_table() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join("d.img");
        let mut img = vec![0u8; 1024];
        img[0x1b8..0x1bc].copy_from_slice(&0x1234_5678u32.to_le_bytes());
        let e = &mut img[0x1be..0x1ce];
        e[0] = 0x80;
        e[4] = 0x0c;
        e[8..12].copy_from_slice(&2048u32.to_le_bytes());
        e[12..16].copy_from_slice(&4096u32.to_le_bytes());
        img[510] = 0x55;
        img[511] = 0xaa;
        std::fs::write(&p, &img).unwrap();
        let t = read_table(&p).unwrap();
        assert_eq!(t.kind, "mbr");
        assert_eq!(t.disk_id, "12345678");
        assert_eq!(t.partitions.len(), 1);
        assert_eq!(t.partitions[0].offset, 1 << 20);
        assert_eq!(t.partitions[0].size, 2 << 20);
        assert_eq!(t.partitions[0].partuuid, "12345678-01");
        assert!(t.partitions[0].bootable);
    }
}
