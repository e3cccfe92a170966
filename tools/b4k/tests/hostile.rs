//! `b4k`, the product binary, played by an attacker or a careless fork (issue 24):
//! a genimage that prints without end or sleeps, `--initrd` and `--config` that
//! are FIFOs, `/dev/zero` or a gzip bomb. Each run is the real binary under
//! `ulimit -v` and `timeout`: exit status 1 or 2 with the input named, never a
//! signal, and BINARIES_DIR (old outputs included) exactly as before.

use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

const ULIMIT_V_KIB: u64 = 2 << 20;
const TIMEOUT_SECS: u64 = 300;

fn b4k(args: &[&str]) -> (i32, String, Duration) {
    let t = Instant::now();
    let o = Command::new("/bin/sh")
        .arg("-c")
        .arg(format!(
            "ulimit -v {ULIMIT_V_KIB}; exec timeout -s KILL {TIMEOUT_SECS} \"$@\""
        ))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_b4k"))
        .args(args)
        .env("B4K_CHILD_TIMEOUT", "2")
        .env_remove("BINARIES_DIR")
        .env_remove("BUILD_DIR")
        .env_remove("BR2_CONFIG")
        .output()
        .unwrap();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    let code = o
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {args:?}\n{out}"));
    (code, out, t.elapsed())
}

fn refused((code, out, took): &(i32, String, Duration), want: &str) {
    assert!(matches!(code, 1 | 2), "exit {code}: {out}");
    assert!(out.contains(want), "no '{want}' in: {out}");
    assert!(*took < Duration::from_secs(TIMEOUT_SECS - 5), "{took:?}");
}

fn listing(dir: &Path) -> Vec<(PathBuf, Vec<u8>)> {
    let mut v = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let p = e.unwrap().path();
            if p.is_dir() {
                stack.push(p);
            } else {
                v.push((p.clone(), fs::read(&p).unwrap_or_default()));
            }
        }
    }
    v.sort();
    v
}

fn write(p: &Path, b: &[u8]) {
    fs::create_dir_all(p.parent().unwrap()).unwrap();
    fs::write(p, b).unwrap();
}

#[test]
fn post_image_with_hostile_children_and_inputs() {
    let d = tempfile::tempdir().unwrap();
    let bin = d.path().join("images");
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
        write(&bin.join(f), &[7u8; 1000]);
    }
    write(&bin.join("rootfs.ext4"), &vec![0u8; 2 << 20]);
    for f in ["sdcard.img", "sdcard.img.xz", "sha256sums", "manifest.json"] {
        write(&bin.join(f), b"old");
    }
    let build = d.path().join("build");
    fs::create_dir_all(&build).unwrap();
    let board = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../board/raspberrypi3-64");
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    let before = listing(&bin);
    let run = |genimage: &Path, initrd: Option<&Path>| {
        let mut a = vec![
            "post-image".to_string(),
            "--board".into(),
            "raspberrypi3-64".into(),
            "--board-dir".into(),
            board.display().to_string(),
            "--binaries-dir".into(),
            bin.display().to_string(),
            "--build-dir".into(),
            build.display().to_string(),
            "--source-date-epoch".into(),
            "1700000000".into(),
            "--genimage".into(),
            genimage.display().to_string(),
        ];
        if let Some(i) = initrd {
            a.push("--initrd".into());
            a.push(i.display().to_string());
        }
        let a: Vec<&str> = a.iter().map(String::as_str).collect();
        b4k(&a)
    };
    for (name, script, want) in [
        ("flood", "#!/bin/sh\nexec yes\n", "printed more than"),
        (
            "sleeper",
            "#!/bin/sh\nexec sleep 600\n",
            "did not finish within 2 s",
        ),
    ] {
        let g = d.path().join(name);
        write(&g, script.as_bytes());
        assert!(Command::new("chmod")
            .arg("+x")
            .arg(&g)
            .status()
            .unwrap()
            .success());
        refused(&run(&g, None), want);
        assert_eq!(listing(&bin), before, "{name}: BINARIES_DIR changed");
        assert!(listing(&build).is_empty(), "{name}: work files left");
    }
    for initrd in [Path::new("/dev/zero"), fifo.as_path()] {
        refused(&run(Path::new("false"), Some(initrd)), "not a regular file");
        assert_eq!(listing(&bin), before);
    }
}

#[test]
fn lint_kernel_with_special_files_and_a_gzip_bomb() {
    let d = tempfile::tempdir().unwrap();
    let req =
        Path::new(env!("CARGO_MANIFEST_DIR")).join("../../board/common/kernel-requirements.toml");
    let req = req.to_str().unwrap();
    let fifo = d.path().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for c in ["/dev/zero", fifo.to_str().unwrap()] {
        refused(
            &b4k(&["lint-kernel", "--config", c, "--requirements", req]),
            c,
        );
        refused(
            &b4k(&["lint-kernel", "--config", req, "--requirements", c]),
            c,
        );
    }
    // 1 GiB of zeros in one gzip stream (~1 MB): stopped at the size cap.
    let bomb = d.path().join("config.gz");
    let ok = Command::new("sh")
        .arg("-c")
        .arg(format!(
            "head -c 1073741824 /dev/zero | gzip -1 > {}",
            bomb.display()
        ))
        .status()
        .unwrap();
    assert!(ok.success());
    refused(
        &b4k(&[
            "lint-kernel",
            "--config",
            bomb.to_str().unwrap(),
            "--requirements",
            req,
        ]),
        "larger than 64 MiB decompressed",
    );
}
