//! A third board, only in the test data (tests/data/boards/arm64-efi: an
//! image.toml and a genimage.cfg.j2, no Rust): post-image stages its inputs,
//! renders its templates, runs genimage and checks the table the board describes.
//! Needs genimage, mkdosfs and mcopy (scripts/host-deps.d/postimage.txt); skips
//! without them.

use b4k_image::{disk, run, Options};
use std::fs;
use std::path::Path;
use std::process::Command;

fn have(tool: &str) -> bool {
    Command::new("sh")
        .arg("-c")
        .arg(format!("command -v {tool} >/dev/null"))
        .status()
        .is_ok_and(|s| s.success())
}

fn write(path: &Path, bytes: &[u8]) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    fs::write(path, bytes).unwrap();
}

#[test]
fn arm64_efi_board_from_data_only() {
    if !["genimage", "mkdosfs", "mcopy"].iter().all(|t| have(t)) {
        eprintln!("SKIP: genimage, mkdosfs or mcopy missing (scripts/install-host-deps)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    write(&bin.join("Image"), &[1u8; 70_000]);
    write(&bin.join("efi-part/EFI/BOOT/bootaa64.efi"), &[2u8; 40_000]);
    write(&bin.join("rootfs.ext4"), &vec![3u8; 2 << 20]);
    let initrd = dir.path().join("initrd.img");
    write(&initrd, &[4u8; 1000]);
    let board_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/boards/arm64-efi");
    let opts = Options {
        board: "arm64-efi".into(),
        board_dir: Some(board_dir),
        binaries_dir: bin.clone(),
        build_dir: Some(dir.path().join("build")),
        br2_config: None,
        source_date_epoch: Some(1_700_000_000),
        initrd: Some(initrd),
        root_size: None,
        compress: None,
        genimage: "genimage".into(),
    };
    let written = run(&opts).unwrap();
    let names: Vec<String> = written
        .iter()
        .map(|p| p.file_name().unwrap().to_string_lossy().into_owned())
        .collect();
    assert_eq!(names, ["disk.img", "sha256sums", "manifest.json"]);
    let t = disk::read_table(&bin.join("disk.img")).unwrap();
    assert_eq!(t.kind, "gpt");
    assert_eq!(t.partitions.len(), 2);
    assert_eq!(t.partitions[0].offset, 1 << 20);
    let manifest = fs::read_to_string(bin.join("manifest.json")).unwrap();
    for f in [
        "EFI/BOOT/bootaa64.efi",
        "EFI/BOOT/grub.cfg",
        "Image",
        "initrd.img",
    ] {
        assert!(
            manifest.contains(&format!("\"{f}\"")),
            "{f} not in the ESP: {manifest}"
        );
    }
    // The same inputs give the same bytes.
    let first = fs::read(bin.join("sha256sums")).unwrap();
    run(&opts).unwrap();
    assert_eq!(fs::read(bin.join("sha256sums")).unwrap(), first);
}

/// A failure while moving the results into BINARIES_DIR leaves the previous
/// set as it was: all old, never a mix of new and old files.
#[test]
fn results_replace_the_old_set_whole_or_not_at_all() {
    if !["genimage", "mkdosfs", "mcopy"].iter().all(|t| have(t)) {
        eprintln!("SKIP: genimage, mkdosfs or mcopy missing (scripts/install-host-deps)");
        return;
    }
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    write(&bin.join("Image"), &[1u8; 70_000]);
    write(&bin.join("efi-part/EFI/BOOT/bootaa64.efi"), &[2u8; 40_000]);
    write(&bin.join("rootfs.ext4"), &vec![3u8; 2 << 20]);
    for f in ["disk.img", "sha256sums", "manifest.json"] {
        write(&bin.join(f), b"old");
    }
    // The last file cannot be brought in: its temporary name is taken.
    write(&bin.join(".manifest.json.b4k-new/x"), b"");
    let board_dir = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/boards/arm64-efi");
    let opts = Options {
        board: "arm64-efi".into(),
        board_dir: Some(board_dir),
        binaries_dir: bin.clone(),
        build_dir: Some(dir.path().join("build")),
        br2_config: None,
        source_date_epoch: Some(1_700_000_000),
        initrd: None,
        root_size: None,
        compress: None,
        genimage: "genimage".into(),
    };
    assert!(run(&opts).is_err());
    for f in ["disk.img", "sha256sums", "manifest.json"] {
        assert_eq!(fs::read(bin.join(f)).unwrap(), b"old", "{f} changed");
    }
    let left: Vec<String> = fs::read_dir(&bin)
        .unwrap()
        .map(|e| e.unwrap().file_name().to_string_lossy().into_owned())
        .filter(|n| {
            n.ends_with(".b4k-new") && n != ".manifest.json.b4k-new" || n.ends_with(".b4k-old")
        })
        .collect();
    assert!(left.is_empty(), "{left:?}");
}
