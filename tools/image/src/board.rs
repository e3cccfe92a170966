//! The boards: which inputs each needs, how they are staged for genimage, the
//! template variables, and what the finished partition table must look like.

use crate::disk::Table;
use crate::{
    derived_u32, derived_uuid, find_inputs, sha256_file, stage, Compression, Ctx, Need, Plan,
};
use anyhow::{bail, ensure, Context, Result};
use minijinja::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// GPT type of a BIOS boot partition (GRUB's core image), from the UEFI spec's
/// list of well-known types and GRUB's manual ("BIOS installation").
const GPT_BIOS_BOOT: &str = "21686148-6449-6e6f-744e-656564454649";
/// GPT type of an EFI System Partition (UEFI spec 2.10, table 5.7).
const GPT_ESP: &str = "c12a7328-f81f-11d2-ba4b-00a0c93ec93b";
/// GPT type "Root Partition (x86-64)" of the Discoverable Partitions
/// Specification (https://uapi-group.org/specifications/specs/discoverable_partitions_specification/).
const GPT_ROOT_X86_64: &str = "4f68bce3-e8cd-4db1-96e7-fbcaf984b709";

/// Where GRUB's core image starts on the pc disk: a BIOS boot partition at 1 MiB.
const PC_BIOS_OFFSET: u64 = 1 << 20;
/// Size of the BIOS boot partition (GRUB's core image is ~160 KiB).
const PC_BIOS_SIZE: u64 = 1 << 20;
/// Size of the pc EFI System Partition (kernel + grub).
const PC_ESP_SIZE: u64 = 64 << 20;
/// Size of the Raspberry Pi boot partition (firmware, kernel, DTBs).
const RPI_BOOT_SIZE: u64 = 64 << 20;

/// The pc root partition's PARTUUID: fixed (not derived from the inputs) so that
/// `root=PARTUUID=` and the users' tooling can rely on it; it is
/// [`derived_uuid`] of the constant seed below.
pub fn pc_root_partuuid() -> String {
    derived_uuid(b"buildroot4kubernetes", "pc root partition")
}

/// Seed for the derived identifiers: the board and the sha256 of every input.
fn seed(board: &str, inputs: &[PathBuf], epoch: i64) -> Result<Vec<u8>> {
    let mut s = format!("{board}\n{epoch}\n");
    for p in inputs {
        s.push_str(&sha256_file(p)?);
        s.push('\n');
    }
    Ok(s.into_bytes())
}

fn rootfs_need(ctx: &Ctx) -> Need {
    let b = &ctx.args.binaries_dir;
    Need {
        candidates: vec![b.join("rootfs.ext4"), b.join("rootfs.ext2")],
        name: "rootfs.ext4".into(),
        hint: "enable BR2_TARGET_ROOTFS_EXT2 and BR2_TARGET_ROOTFS_EXT2_4".into(),
    }
}

/// Links Buildroot's rootfs.ext4 into genimage's input directory (no copy: it
/// can be large, and genimage only reads it).
fn link_rootfs(ctx: &Ctx, rootfs: &Path) -> Result<()> {
    std::os::unix::fs::symlink(
        rootfs
            .canonicalize()
            .with_context(|| format!("resolving {}", rootfs.display()))?,
        ctx.input.join("rootfs.ext4"),
    )
    .context("linking rootfs.ext4 into the work directory")
}

/// Checks that the files of a boot partition fit in it (with room for the FAT
/// itself and cluster rounding), and that the rootfs fits its partition.
fn check_sizes(
    boot_dir: &Path,
    boot_size: u64,
    rootfs: &Path,
    root_size: Option<u64>,
) -> Result<()> {
    let mut total = 0u64;
    for rel in stage::list_files(boot_dir)? {
        let len = fs::metadata(boot_dir.join(&rel))?.len();
        total += len.div_ceil(4096) * 4096;
    }
    let overhead = 2 << 20;
    if total + overhead > boot_size {
        bail!(
            "the boot partition's files take {total} bytes (+{overhead} for the FAT), \
             more than the boot partition's {boot_size} bytes"
        );
    }
    let rootfs_len = fs::metadata(rootfs)
        .with_context(|| format!("reading {}", rootfs.display()))?
        .len();
    if let Some(size) = root_size {
        if rootfs_len > size {
            bail!(
                "{} is {rootfs_len} bytes, larger than its partition's {size} bytes \
                 (--root-size); lower BR2_TARGET_ROOTFS_EXT2_SIZE or raise --root-size",
                rootfs.display()
            );
        }
    }
    Ok(())
}

fn stage_initrd(ctx: &Ctx, dir: &Path) -> Result<Option<String>> {
    let Some(initrd) = &ctx.args.initrd else {
        return Ok(None);
    };
    let name = "initrd.img".to_string();
    stage::copy(initrd, &dir.join(&name), ctx.epoch)?;
    Ok(Some(name))
}

/// The pc board: one GPT disk image for BIOS and UEFI (see board/pc/genimage.cfg.j2).
pub fn pc(ctx: &Ctx) -> Result<Plan> {
    let b = &ctx.args.binaries_dir;
    let mut boot_img = Need::bin(
        ctx,
        "boot.img",
        "enable BR2_TARGET_GRUB2_I386_PC (host-grub2 installs it in HOST_DIR/lib/grub/i386-pc)",
    );
    if let Some(h) = &ctx.args.host_dir {
        boot_img
            .candidates
            .push(h.join("lib/grub/i386-pc/boot.img"));
    }
    let needs = vec![
        Need::bin(
            ctx,
            "bzImage",
            "enable BR2_LINUX_KERNEL with BR2_LINUX_KERNEL_BZIMAGE",
        ),
        rootfs_need(ctx),
        Need::bin(ctx, "grub.img", "enable BR2_TARGET_GRUB2_I386_PC"),
        boot_img,
        Need::bin(
            ctx,
            "efi-part/EFI/BOOT/bootx64.efi",
            "enable BR2_TARGET_GRUB2_X86_64_EFI",
        ),
    ];
    let mut needs = needs;
    let iso = ctx.config.enabled("BR2_TARGET_ROOTFS_ISO9660");
    if iso {
        needs.push(Need::bin(
            ctx,
            "rootfs.iso9660",
            "BR2_TARGET_ROOTFS_ISO9660 is set but Buildroot did not make the ISO",
        ));
    }
    let found = find_inputs(ctx, &needs)?;
    let (bzimage, rootfs, grub_img, boot_img, efi) =
        (&found[0], &found[1], &found[2], &found[3], &found[4]);
    if let Some(part) = ctx.config.get("BR2_TARGET_GRUB2_BOOT_PARTITION") {
        ensure!(
            part == "hd0,gpt2",
            "BR2_TARGET_GRUB2_BOOT_PARTITION is \"{part}\": the pc image keeps GRUB's files \
             on its EFI System Partition, set it to \"hd0,gpt2\""
        );
    }

    let core_lba = PC_BIOS_OFFSET / crate::grub::SECTOR;
    let mut boot = fs::read(boot_img).with_context(|| format!("reading {}", boot_img.display()))?;
    crate::grub::patch_boot_img(&mut boot, core_lba)
        .with_context(|| format!("{}", boot_img.display()))?;
    let mut core = fs::read(grub_img).with_context(|| format!("reading {}", grub_img.display()))?;
    ensure!(
        core.len() as u64 <= PC_BIOS_SIZE,
        "{} is {} bytes, larger than the BIOS boot partition's {PC_BIOS_SIZE} bytes",
        grub_img.display(),
        core.len()
    );
    crate::grub::patch_core_img(&mut core, core_lba)
        .with_context(|| format!("{}", grub_img.display()))?;
    stage::write(&ctx.input.join("boot.img"), &boot, ctx.epoch)?;
    stage::write(&ctx.input.join("grub.img"), &core, ctx.epoch)?;

    let esp = ctx.input.join("esp");
    stage::copy(efi, &esp.join("EFI/BOOT/bootx64.efi"), ctx.epoch)?;
    stage::copy(bzimage, &esp.join("bzImage"), ctx.epoch)?;
    let initrd = stage_initrd(ctx, &esp)?;
    let root_partuuid = pc_root_partuuid();
    let mut gvars: BTreeMap<&'static str, Value> = BTreeMap::new();
    gvars.insert("root_partuuid", Value::from(root_partuuid.clone()));
    gvars.insert("initrd", Value::from(initrd.clone()));
    let grub_cfg = crate::render(&ctx.board_dir.join("grub.cfg.j2"), &gvars)?;
    // EFI GRUB reads its prefix /EFI/BOOT; BIOS GRUB (hd0,gpt2)/boot/grub.
    stage::write(
        &esp.join("EFI/BOOT/grub.cfg"),
        grub_cfg.as_bytes(),
        ctx.epoch,
    )?;
    stage::write(
        &esp.join("boot/grub/grub.cfg"),
        grub_cfg.as_bytes(),
        ctx.epoch,
    )?;
    stage::touch_dirs(&esp, ctx.epoch)?;
    fs::create_dir_all(&ctx.input).ok();
    link_rootfs(ctx, rootfs)?;
    check_sizes(&esp, PC_ESP_SIZE, rootfs, ctx.args.root_size)?;

    let mut inputs = found[..5].to_vec();
    inputs.extend(ctx.args.initrd.iter().cloned());
    let seed = seed("pc", &inputs, ctx.epoch)?;
    let mut esp_entries: Vec<String> = fs::read_dir(&esp)?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    esp_entries.sort();

    let mut vars: BTreeMap<&'static str, Value> = BTreeMap::new();
    vars.insert("disk_uuid", Value::from(derived_uuid(&seed, "disk")));
    vars.insert(
        "bios_uuid",
        Value::from(derived_uuid(&seed, "bios boot partition")),
    );
    vars.insert(
        "esp_uuid",
        Value::from(derived_uuid(&seed, "EFI system partition")),
    );
    vars.insert("root_partuuid", Value::from(root_partuuid));
    vars.insert(
        "vfat_volume_id",
        Value::from(derived_u32(&seed, "vfat volume id")),
    );
    vars.insert("bios_offset", Value::from(PC_BIOS_OFFSET));
    vars.insert("bios_size", Value::from(PC_BIOS_SIZE));
    vars.insert("esp_size", Value::from(PC_ESP_SIZE));
    vars.insert("esp_entries", Value::from(esp_entries));
    vars.insert("root_size", Value::from(ctx.args.root_size));
    vars.insert("type_bios_boot", Value::from(GPT_BIOS_BOOT));
    vars.insert("type_esp", Value::from(GPT_ESP));
    vars.insert("type_root", Value::from(GPT_ROOT_X86_64));
    let extra = if iso {
        vec![b.join("rootfs.iso9660")]
    } else {
        vec![]
    };
    Ok(Plan {
        vars,
        image: "disk.img",
        keep: vec![],
        boot_dir: esp,
        extra,
        verify: verify_pc,
        compression: Compression::Gz,
    })
}

fn var(vars: &BTreeMap<&'static str, Value>, k: &str) -> String {
    vars.get(k).map(|v| v.to_string()).unwrap_or_default()
}

fn verify_pc(t: &Table, vars: &BTreeMap<&'static str, Value>) -> Result<()> {
    ensure!(t.kind == "gpt", "expected a GPT, found {}", t.kind);
    let p = &t.partitions;
    ensure!(p.len() == 3, "expected 3 partitions, found {}", p.len());
    ensure!(
        p[0].type_id == GPT_BIOS_BOOT && p[0].offset == PC_BIOS_OFFSET,
        "partition 1 is not the BIOS boot partition at {PC_BIOS_OFFSET}: {:?}",
        p[0]
    );
    ensure!(
        p[1].type_id == GPT_ESP,
        "partition 2 is not the ESP: {:?}",
        p[1]
    );
    ensure!(
        p[2].partuuid == var(vars, "root_partuuid"),
        "partition 3 has PARTUUID {}, grub.cfg says {}",
        p[2].partuuid,
        var(vars, "root_partuuid")
    );
    Ok(())
}

/// The raspberrypi3-64 board: an MBR SD card image, FAT32 boot + ext4 root
/// (see board/raspberrypi3-64/genimage.cfg.j2).
pub fn rpi3(ctx: &Ctx) -> Result<Plan> {
    const DTS: &str = "set BR2_LINUX_KERNEL_DTS_SUPPORT and BR2_LINUX_KERNEL_INTREE_DTS_NAME=\"broadcom/bcm2837-rpi-3-b broadcom/bcm2837-rpi-3-b-plus\"";
    let needs = vec![
        Need::bin(ctx, "Image", "enable BR2_LINUX_KERNEL with BR2_LINUX_KERNEL_IMAGE"),
        rootfs_need(ctx),
        Need::bin(ctx, "bcm2837-rpi-3-b.dtb", DTS),
        Need::bin(ctx, "bcm2837-rpi-3-b-plus.dtb", DTS),
        Need::bin(ctx, "rpi-firmware/bootcode.bin", "enable BR2_PACKAGE_RPI_FIRMWARE_BOOTCODE_BIN"),
        Need::bin(ctx, "rpi-firmware/start.elf", "enable BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI"),
        Need::bin(ctx, "rpi-firmware/fixup.dat", "enable BR2_PACKAGE_RPI_FIRMWARE_VARIANT_PI"),
        Need::bin(
            ctx,
            "rpi-firmware/config.txt",
            "set BR2_PACKAGE_RPI_FIRMWARE_CONFIG_FILE=\"$(BR2_EXTERNAL_KUBERNETES_PATH)/board/raspberrypi3-64/config.txt\"",
        ),
        Need::bin(
            ctx,
            "rpi-firmware/cmdline.txt",
            "set BR2_PACKAGE_RPI_FIRMWARE_CMDLINE_FILE=\"$(BR2_EXTERNAL_KUBERNETES_PATH)/board/raspberrypi3-64/cmdline.txt\"",
        ),
    ];
    let found = find_inputs(ctx, &needs)?;
    let boot = ctx.input.join("boot");
    let names = [
        "Image",
        "",
        "bcm2837-rpi-3-b.dtb",
        "bcm2837-rpi-3-b-plus.dtb",
        "bootcode.bin",
        "start.elf",
        "fixup.dat",
        "config.txt",
        "cmdline.txt",
    ];
    for (src, name) in found.iter().zip(names) {
        if !name.is_empty() {
            stage::copy(src, &boot.join(name), ctx.epoch)?;
        }
    }
    if let Some(initrd) = stage_initrd(ctx, &boot)? {
        // The firmware loads it after the kernel (config.txt "initramfs" directive).
        let mut config = fs::read_to_string(boot.join("config.txt"))?;
        config.push_str(&format!("initramfs {initrd} followkernel\n"));
        stage::write(&boot.join("config.txt"), config.as_bytes(), ctx.epoch)?;
    }
    stage::touch_dirs(&boot, ctx.epoch)?;
    let rootfs = &found[1];
    link_rootfs(ctx, rootfs)?;
    check_sizes(&boot, RPI_BOOT_SIZE, rootfs, ctx.args.root_size)?;

    let mut inputs = found.clone();
    inputs.extend(ctx.args.initrd.iter().cloned());
    let seed = seed("raspberrypi3-64", &inputs, ctx.epoch)?;
    let files = stage::list_files(&boot)?;
    let mut vars: BTreeMap<&'static str, Value> = BTreeMap::new();
    vars.insert(
        "disk_signature",
        Value::from(format!("0x{}", derived_u32(&seed, "mbr disk signature"))),
    );
    vars.insert(
        "vfat_volume_id",
        Value::from(derived_u32(&seed, "vfat volume id")),
    );
    vars.insert("boot_size", Value::from(RPI_BOOT_SIZE));
    vars.insert("boot_files", Value::from(files));
    vars.insert("root_size", Value::from(ctx.args.root_size));
    Ok(Plan {
        vars,
        image: "sdcard.img",
        keep: vec!["boot.vfat"],
        boot_dir: boot,
        extra: vec![],
        verify: verify_rpi,
        compression: Compression::Xz,
    })
}

fn verify_rpi(t: &Table, _vars: &BTreeMap<&'static str, Value>) -> Result<()> {
    ensure!(t.kind == "mbr", "expected an MBR, found {}", t.kind);
    let p = &t.partitions;
    ensure!(p.len() == 2, "expected 2 partitions, found {}", p.len());
    ensure!(
        p[0].type_id == "0x0c",
        "partition 1 is not FAT32-LBA (0x0c): {:?}",
        p[0]
    );
    ensure!(
        p[1].type_id == "0x83",
        "partition 2 is not Linux (0x83): {:?}",
        p[1]
    );
    Ok(())
}
