//! Bad input to `b4k post-image`: one error naming every missing file and the
//! Buildroot option that produces it, sizes in the too-large errors, and nothing
//! written to BINARIES_DIR (or left in BUILD_DIR) when the run fails.
//! These runs stop before genimage, or use a genimage that fails, so they need
//! no host tools.

use b4k_image::{run, Compression, Options};
use std::fs;
use std::path::{Path, PathBuf};

fn board_dir(board: &str) -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR"))
        .join("../../board")
        .join(board)
}

fn listing(dir: &Path) -> Vec<String> {
    let mut v: Vec<String> = walk(dir)
        .into_iter()
        .map(|p| p.strip_prefix(dir).unwrap().display().to_string())
        .collect();
    v.sort();
    v
}

fn walk(dir: &Path) -> Vec<PathBuf> {
    let mut out = Vec::new();
    for e in fs::read_dir(dir).unwrap() {
        let p = e.unwrap().path();
        if p.is_dir() {
            out.extend(walk(&p));
        }
        out.push(p);
    }
    out
}

/// Runs post-image on `bin` and returns the error text; checks that BINARIES_DIR
/// and BUILD_DIR are exactly as before.
fn fails(board: &str, bin: &Path, extra: impl FnOnce(&mut Options)) -> String {
    let build = bin.parent().unwrap().join("build");
    fs::create_dir_all(&build).unwrap();
    let before = listing(bin);
    let mut opts = Options {
        board: board.to_string(),
        board_dir: Some(board_dir(board)),
        binaries_dir: bin.to_path_buf(),
        build_dir: Some(build.clone()),
        br2_config: None,
        source_date_epoch: Some(1_700_000_000),
        initrd: None,
        root_size: None,
        compress: None::<Compression>,
        genimage: "genimage".into(),
    };
    extra(&mut opts);
    let err = format!("{:#}", run(&opts).expect_err("post-image should fail"));
    assert_eq!(listing(bin), before, "BINARIES_DIR changed by a failed run");
    assert!(listing(&build).is_empty(), "work files left in BUILD_DIR");
    err
}

fn write(path: &Path, len: u64) {
    fs::create_dir_all(path.parent().unwrap()).unwrap();
    let f = fs::File::create(path).unwrap();
    f.set_len(len).unwrap();
}

/// A complete raspberrypi3-64 BINARIES_DIR of placeholder files (nothing reads
/// their contents before genimage).
fn rpi_inputs(bin: &Path) {
    for f in [
        "Image",
        "bcm2837-rpi-3-b.dtb",
        "bcm2837-rpi-3-b-plus.dtb",
        "rpi-firmware/bootcode.bin",
        "rpi-firmware/start.elf",
        "rpi-firmware/fixup.dat",
        "rpi-firmware/config.txt",
        "rpi-firmware/cmdline.txt",
    ] {
        write(&bin.join(f), 1000);
    }
    write(&bin.join("rootfs.ext4"), 2 << 20);
}

#[test]
fn pc_missing_inputs_are_named_with_their_options() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    fs::create_dir(&bin).unwrap();
    let err = fails("pc", &bin, |_| {});
    for (file, option) in [
        ("bzImage", "BR2_LINUX_KERNEL"),
        ("rootfs.ext4", "BR2_TARGET_ROOTFS_EXT2_4"),
        ("grub.img", "BR2_TARGET_GRUB2_I386_PC"),
        ("boot.img", "BR2_TARGET_GRUB2_I386_PC"),
        (
            "efi-part/EFI/BOOT/bootx64.efi",
            "BR2_TARGET_GRUB2_X86_64_EFI",
        ),
    ] {
        let line = err
            .lines()
            .find(|l| l.starts_with(&format!("{}: error:", bin.join(file).display())))
            .unwrap_or_else(|| panic!("{file} not named in:\n{err}"));
        assert!(
            line.contains("not found") && line.contains(option),
            "{line}"
        );
    }
    assert!(err.contains("5 input file(s) missing"), "{err}");
}

#[test]
fn pc_live_iso_is_required_when_configured() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    fs::create_dir(&bin).unwrap();
    let config = dir.path().join(".config");
    fs::write(&config, "BR2_TARGET_ROOTFS_ISO9660=y\n").unwrap();
    let err = fails("pc", &bin, |o| o.br2_config = Some(config.clone()));
    assert!(err.contains("rootfs.iso9660: error: not found"), "{err}");
    assert!(err.contains("6 input file(s) missing"), "{err}");
}

#[test]
fn rpi_one_missing_dtb_is_one_error() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    rpi_inputs(&bin);
    fs::remove_file(bin.join("bcm2837-rpi-3-b-plus.dtb")).unwrap();
    let err = fails("raspberrypi3-64", &bin, |_| {});
    assert!(err.contains("1 input file(s) missing"), "{err}");
    assert!(
        err.contains("bcm2837-rpi-3-b-plus.dtb: error: not found")
            && err.contains("BR2_LINUX_KERNEL_INTREE_DTS_NAME"),
        "{err}"
    );
}

#[test]
fn rpi_missing_firmware_names_the_firmware_option() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    rpi_inputs(&bin);
    fs::remove_file(bin.join("rpi-firmware/start.elf")).unwrap();
    let err = fails("raspberrypi3-64", &bin, |_| {});
    assert!(
        err.contains("rpi-firmware/start.elf: error: not found")
            && err.contains("BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI"),
        "{err}"
    );
}

#[test]
fn rootfs_larger_than_its_partition_gives_both_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    rpi_inputs(&bin);
    let err = fails("raspberrypi3-64", &bin, |o| o.root_size = Some(1 << 20));
    assert!(
        err.contains("2097152 bytes") && err.contains("1048576 bytes"),
        "{err}"
    );
}

#[test]
fn boot_files_larger_than_the_boot_partition_give_both_sizes() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    rpi_inputs(&bin);
    write(&bin.join("Image"), 70 << 20);
    let err = fails("raspberrypi3-64", &bin, |_| {});
    assert!(
        err.contains("boot partition") && err.contains(&(64u64 << 20).to_string()),
        "{err}"
    );
}

#[test]
fn failing_genimage_leaves_nothing_behind() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    rpi_inputs(&bin);
    let err = fails("raspberrypi3-64", &bin, |o| o.genimage = "false".into());
    assert!(err.contains("failed"), "{err}");
}

#[test]
fn broken_image_toml_is_an_error_with_its_line() {
    let dir = tempfile::tempdir().unwrap();
    let bin = dir.path().join("images");
    rpi_inputs(&bin);
    let board = dir.path().join("board");
    fs::create_dir_all(&board).unwrap();
    fs::write(
        board.join("image.toml"),
        "image = \"x.img\"\ncompression = \"zip\"\n",
    )
    .unwrap();
    let err = fails("raspberrypi3-64", &bin, |o| {
        o.board_dir = Some(board.clone())
    });
    assert!(err.contains("image.toml:2:"), "{err}");
}
