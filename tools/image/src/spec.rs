//! A board's image description: `board/<board>/image.toml`, beside the genimage
//! template `genimage.cfg.j2`. It says which files the board needs from Buildroot
//! (and the option that produces each), where they are staged, the template
//! variables, and what the finished partition table must look like; the Rust code
//! knows no board. board/pc/image.toml documents every key.

use crate::Compression;
use anyhow::{anyhow, Context, Result};
use serde::Deserialize;
use std::collections::BTreeMap;
use std::path::Path;

/// The whole file.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Spec {
    /// The disk image genimage writes (`disk.img`).
    pub image: String,
    /// Its default compression.
    pub compression: Compression,
    /// Other genimage outputs kept in BINARIES_DIR (`boot.vfat`).
    #[serde(default)]
    pub keep: Vec<String>,
    /// The boot partition.
    pub boot: Boot,
    /// The files needed from BINARIES_DIR (or HOST_DIR).
    #[serde(default, rename = "input")]
    pub inputs: Vec<Input>,
    /// Board templates rendered into the staging directory.
    #[serde(default, rename = "template")]
    pub templates: Vec<Template>,
    /// Where `--initrd` goes.
    pub initrd: Option<Initrd>,
    /// Buildroot options that must have a value when set.
    #[serde(default, rename = "require")]
    pub requires: Vec<Require>,
    /// Template variables (numbers, strings).
    #[serde(default)]
    pub vars: BTreeMap<String, toml::Value>,
    /// Identifiers derived from the inputs.
    #[serde(default)]
    pub ids: Ids,
    /// The expected partition table.
    pub table: Table,
}

/// The boot partition: its staging directory and size.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Boot {
    /// Directory under genimage's input directory.
    pub dir: String,
    /// Size in bytes.
    pub size: u64,
}

/// How an input is changed on its way to the staging directory.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "kebab-case")]
pub enum Patch {
    /// GRUB's i386-pc `boot.img`, pointed at the core image at `bios_offset`.
    GrubBootImg,
    /// GRUB's i386-pc core image, its blocklist pointed at `bios_offset` (and no
    /// larger than `bios_size`).
    GrubCoreImg,
}

/// One file the board needs.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Input {
    /// Path under BINARIES_DIR.
    pub file: String,
    /// Other names under BINARIES_DIR that will do (`rootfs.ext2`).
    #[serde(default, rename = "or")]
    pub alternatives: Vec<String>,
    /// The fix when it is missing: which option produces it.
    pub option: String,
    /// Needed only when this Buildroot option is `y`.
    pub when: Option<String>,
    /// Copies under genimage's input directory.
    #[serde(default)]
    pub to: Vec<String>,
    /// Changed on the way.
    pub patch: Option<Patch>,
    /// The root file system: linked as `rootfs.ext4`, checked against `--root-size`.
    #[serde(default)]
    pub rootfs: bool,
    /// Not staged: listed in sha256sums and the manifest as it is.
    #[serde(default)]
    pub artifact: bool,
}

/// A board template rendered with the variables.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Template {
    /// File name in the board directory.
    pub file: String,
    /// Where the result goes, under genimage's input directory.
    pub to: Vec<String>,
}

/// Where `--initrd` goes, and a line that makes the boot loader load it.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Initrd {
    /// Path under genimage's input directory.
    pub to: String,
    /// A line appended to a staged file.
    pub append: Option<Append>,
}

/// A line appended to a staged file.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Append {
    /// Path under genimage's input directory.
    pub file: String,
    /// The line.
    pub line: String,
}

/// A Buildroot option that must have `value` when it is set.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Require {
    /// `BR2_...`
    pub option: String,
    /// The value it must have.
    pub value: String,
    /// Why, for the message.
    pub why: String,
}

/// Derived identifiers: variable name -> label.
#[derive(Deserialize, Debug, Default)]
#[serde(deny_unknown_fields)]
pub struct Ids {
    /// UUIDs (GPT disk and partition GUIDs).
    #[serde(default)]
    pub uuid: BTreeMap<String, String>,
    /// 32-bit values as 8 hex digits (FAT volume id, MBR disk signature).
    #[serde(default)]
    pub hex32: BTreeMap<String, String>,
}

/// The expected partition table.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Table {
    /// `gpt` or `mbr`.
    #[serde(rename = "type")]
    pub kind: String,
    /// One entry per partition, in order: the fields given must match.
    pub partitions: Vec<PartitionCheck>,
}

/// What one partition must be.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct PartitionCheck {
    /// GPT type GUID or MBR type (`0x83`).
    #[serde(rename = "type")]
    pub type_id: Option<String>,
    /// Byte offset.
    pub offset: Option<u64>,
    /// PARTUUID.
    pub partuuid: Option<String>,
}

/// Reads `image.toml`; errors carry `file:line`.
pub fn load(path: &Path) -> Result<Spec> {
    let text = b4k_input::read_text(path).context("reading the board's image description")?;
    toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        anyhow!("{}:{line}: {}", path.display(), e.message())
    })
}
