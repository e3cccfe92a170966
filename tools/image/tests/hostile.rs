//! `b4k post-image` played by an attacker or a careless fork (issue 24, classes 3,
//! 4, 5 and 8): every path field of `image.toml` given `..`, an absolute path or
//! a path through a symbolic link; a FIFO and `/dev/zero` as `--initrd`; a
//! genimage that prints without end, sleeps or fails; a failure injected at each
//! write into BINARIES_DIR; numbers out of range. Each run must fail with a
//! message naming the input, leave BINARIES_DIR as it was (old outputs intact),
//! leave nothing in BUILD_DIR and write nothing anywhere else (the whole
//! temporary directory is compared before and after).

use b4k_image::{run, Options};
use std::fs;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

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

/// Every path below `dir` with its size and a digest of its bytes (links as links).
fn snapshot(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let ty = e.file_type().unwrap();
            let rel = p.strip_prefix(dir).unwrap().display().to_string();
            if ty.is_symlink() {
                out.push(format!("{rel} -> {}", fs::read_link(&p).unwrap().display()));
            } else if ty.is_dir() {
                out.push(format!("{rel}/"));
                stack.push(p);
            } else if ty.is_file() {
                let b = fs::read(&p).unwrap();
                let sum: u64 = b
                    .iter()
                    .fold(0u64, |h, &x| h.wrapping_mul(31).wrapping_add(u64::from(x)));
                out.push(format!("{rel} {} {sum:x}", b.len()));
            } else {
                out.push(format!("{rel} (special)"));
            }
        }
    }
    out.sort();
    out
}

/// A test world: the arm64-efi board of tests/data copied (so its files can be
/// changed), a complete BINARIES_DIR with old outputs, a BUILD_DIR.
struct World {
    dir: tempfile::TempDir,
}

impl World {
    fn new() -> World {
        let dir = tempfile::tempdir().unwrap();
        let w = World { dir };
        let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data/boards/arm64-efi");
        for f in ["genimage.cfg.j2", "grub.cfg.j2", "image.toml"] {
            fs::create_dir_all(w.board()).unwrap();
            fs::copy(src.join(f), w.board().join(f)).unwrap();
        }
        let bin = w.bin();
        write(&bin.join("Image"), &[1u8; 70_000]);
        write(&bin.join("efi-part/EFI/BOOT/bootaa64.efi"), &[2u8; 40_000]);
        write(&bin.join("rootfs.ext4"), &vec![3u8; 2 << 20]);
        for f in ["disk.img", "sha256sums", "manifest.json"] {
            write(&bin.join(f), b"old");
        }
        fs::create_dir_all(w.build()).unwrap();
        w
    }
    fn root(&self) -> &Path {
        self.dir.path()
    }
    fn board(&self) -> PathBuf {
        self.root().join("board")
    }
    fn bin(&self) -> PathBuf {
        self.root().join("images")
    }
    fn build(&self) -> PathBuf {
        self.root().join("build")
    }
    fn opts(&self) -> Options {
        Options {
            board: "arm64-efi".into(),
            board_dir: Some(self.board()),
            binaries_dir: self.bin(),
            build_dir: Some(self.build()),
            br2_config: None,
            source_date_epoch: Some(1_700_000_000),
            initrd: None,
            root_size: None,
            compress: None,
            genimage: "genimage".into(),
        }
    }
    fn edit_toml(&self, from: &str, to: &str) {
        let p = self.board().join("image.toml");
        let t = fs::read_to_string(&p).unwrap();
        assert!(t.contains(from), "{from}");
        fs::write(&p, t.replacen(from, to, 1)).unwrap();
    }
    /// Runs post-image, which must fail; checks that nothing changed but what
    /// `allowed` says may change (the board's own files are set up before).
    fn fails(&self, opts: &Options) -> String {
        let before = snapshot(self.root());
        let outside = snapshot_outside(self.root());
        let t = Instant::now();
        let e = format!("{:#}", run(opts).expect_err("post-image should fail"));
        assert!(t.elapsed() < Duration::from_secs(300), "{:?}", t.elapsed());
        assert_eq!(
            snapshot(self.root()),
            before,
            "files changed by a failed run: {e}"
        );
        assert_eq!(
            snapshot_outside(self.root()),
            outside,
            "written outside: {e}"
        );
        e
    }
}

/// The names in the temporary directory's parent that tests could write to by
/// escaping (`..` from the staging directory lands there or above).
fn snapshot_outside(root: &Path) -> Vec<String> {
    let parent = root.parent().unwrap();
    let mut v: Vec<String> = fs::read_dir(parent)
        .unwrap()
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .filter(|n| n.starts_with("b4k-escape"))
        .collect();
    v.sort();
    v
}

#[test]
fn every_path_field_stays_under_its_root() {
    let abs = std::env::temp_dir().join(format!("b4k-escape-{}", std::process::id()));
    let abs = abs.display().to_string();
    let escapes = [
        "../../../b4k-escape-dotdot".to_string(),
        abs.clone(),
        "rootfs.ext4".to_string(),
        "rootfs.ext4/x".to_string(),
        ".".to_string(),
    ];
    type Edit = fn(&str) -> (String, String);
    let fields: [(&str, Edit); 6] = [
        ("boot.dir", |v| {
            ("dir = \"esp\"".into(), format!("dir = {v:?}"))
        }),
        ("input.to", |v| {
            ("to = [\"esp/Image\"]".into(), format!("to = [{v:?}]"))
        }),
        ("template.to", |v| {
            (
                "to = [\"esp/EFI/BOOT/grub.cfg\"]".into(),
                format!("to = [{v:?}]"),
            )
        }),
        ("initrd.to", |v| {
            ("to = \"esp/initrd.img\"".into(), format!("to = {v:?}"))
        }),
        ("initrd.append.file", |v| {
            (
                "to = \"esp/initrd.img\"".into(),
                format!("to = \"esp/initrd.img\"\nappend = {{ file = {v:?}, line = \"x\" }}"),
            )
        }),
        ("template.file", |v| {
            ("file = \"grub.cfg.j2\"".into(), format!("file = {v:?}"))
        }),
    ];
    let mut n = 0;
    for (field, edit) in fields {
        for v in &escapes {
            let w = World::new();
            let initrd = w.root().join("initrd.img");
            write(&initrd, b"initrd");
            let (from, to) = edit(v);
            w.edit_toml(&from, &to);
            let mut o = w.opts();
            o.initrd = Some(initrd);
            let e = w.fails(&o);
            assert!(
                e.contains(field) || e.contains("image.toml"),
                "{field} = {v}: {e}"
            );
            n += 1;
        }
    }
    assert_eq!(n, 30);
    // A template file that is a link to a file outside the board, and image or
    // keep names that are not plain names.
    for (from, to) in [
        ("image = \"disk.img\"", "image = \"../disk.img\""),
        (
            "image = \"disk.img\"",
            "image = \"disk.img\"\nkeep = [\"../../b4k-escape\"]",
        ),
    ] {
        let w = World::new();
        w.edit_toml(from, to);
        let e = w.fails(&w.opts());
        assert!(e.contains("not a plain file name"), "{e}");
    }
    let w = World::new();
    fs::remove_file(w.board().join("grub.cfg.j2")).unwrap();
    std::os::unix::fs::symlink("/etc/passwd", w.board().join("grub.cfg.j2")).unwrap();
    let e = w.fails(&w.opts());
    assert!(
        e.contains("template.file") && e.contains("symbolic link"),
        "{e}"
    );
}

#[test]
fn special_files_as_initrd_are_refused() {
    let w = World::new();
    let fifo = w.root().join("fifo");
    assert!(Command::new("mkfifo")
        .arg(&fifo)
        .status()
        .unwrap()
        .success());
    for p in [PathBuf::from("/dev/zero"), fifo] {
        let mut o = w.opts();
        o.initrd = Some(p.clone());
        let e = w.fails(&o);
        assert!(
            e.contains(&p.display().to_string()) && e.contains("not a regular file"),
            "{e}"
        );
    }
}

#[test]
fn numbers_out_of_range_are_refused() {
    let pc = Path::new(env!("CARGO_MANIFEST_DIR")).join("../../board/pc");
    for (var, v, want) in [
        ("bios_offset", "-1", "bios_offset = -1: not a byte count"),
        ("bios_offset", "1000", "not a multiple of 512"),
        ("bios_offset", "0", "not a multiple of 512 above 0"),
    ] {
        let dir = tempfile::tempdir().unwrap();
        let board = dir.path().join("board");
        fs::create_dir_all(&board).unwrap();
        for e in fs::read_dir(&pc).unwrap() {
            let e = e.unwrap();
            if e.file_type().unwrap().is_file() {
                fs::copy(e.path(), board.join(e.file_name())).unwrap();
            }
        }
        let p = board.join("image.toml");
        let t = fs::read_to_string(&p).unwrap();
        let line = t
            .lines()
            .find(|l| l.starts_with(&format!("{var} =")))
            .unwrap()
            .to_string();
        fs::write(&p, t.replace(&line, &format!("{var} = {v}"))).unwrap();
        let bin = dir.path().join("images");
        for f in [
            "bzImage",
            "rootfs.ext4",
            "grub-eltorito.img",
            "efi-part/EFI/BOOT/bootx64.efi",
            "host/lib/grub/i386-pc/boot.img",
            "grub.img",
            "boot.img",
        ] {
            write(&bin.join(f), &[0u8; 512]);
        }
        let opts = Options {
            board: "pc".into(),
            board_dir: Some(board),
            binaries_dir: bin,
            build_dir: Some(dir.path().join("build")),
            br2_config: None,
            source_date_epoch: Some(1_700_000_000),
            initrd: None,
            root_size: None,
            compress: None,
            genimage: "false".into(),
        };
        let e = format!("{:#}", run(&opts).unwrap_err());
        assert!(e.contains(want), "{var} = {v}: {e}");
    }
}

/// A GPT whose entry array or partitions sit near the top of u64: refused, never
/// wrapped into plausible offsets.
#[test]
fn gpt_numbers_near_u64_max_are_refused() {
    let dir = tempfile::tempdir().unwrap();
    let p = dir.path().join("d.img");
    let mut img = vec![0u8; 512 * 40];
    img[0x1be + 4] = 0xee;
    img[510] = 0x55;
    img[511] = 0xaa;
    let h = 512;
    img[h..h + 8].copy_from_slice(b"EFI PART");
    img[h + 80..h + 84].copy_from_slice(&4u32.to_le_bytes());
    img[h + 84..h + 88].copy_from_slice(&128u32.to_le_bytes());
    for (entries_lba, first, last, want) in [
        (u64::MAX / 256, 34, 40, "beyond any disk"),
        (2, u64::MAX - 1, u64::MAX, "not a partition of any disk"),
        (2, 100, 99, "not a partition of any disk"),
        (
            2,
            u64::MAX / 512 + 1,
            u64::MAX / 512 + 2,
            "not a partition of any disk",
        ),
    ] {
        img[h + 72..h + 80].copy_from_slice(&entries_lba.to_le_bytes());
        let e = 1024;
        img[e] = 1; // a type GUID that is not all zero
        img[e + 32..e + 40].copy_from_slice(&first.to_le_bytes());
        img[e + 40..e + 48].copy_from_slice(&last.to_le_bytes());
        fs::write(&p, &img).unwrap();
        let err = format!("{:#}", b4k_image::disk::read_table(&p).unwrap_err());
        assert!(err.contains(want), "{entries_lba} {first} {last}: {err}");
    }
}

/// A genimage that prints without end, one that sleeps, one that fails after
/// writing part of its output: stopped (within a timeout set small for the
/// test), old outputs intact.
#[test]
fn genimage_that_floods_sleeps_or_fails_leaves_the_old_set() {
    std::env::set_var(b4k_input::child::TIMEOUT_ENV, "2");
    let w = World::new();
    let t = Instant::now();
    for (name, script, want) in [
        ("flood", "#!/bin/sh\nexec cat /dev/zero\n", "printed more than"),
        ("sleeper", "#!/bin/sh\nsleep 600\n", "did not finish within 2 s"),
        (
            "half",
            "#!/bin/sh\nfor a; do case $a in --outputpath) o=1;; *) [ \"$o\" = 1 ] && d=$a; o=;; esac; done\necho half > \"$d/disk.img\"\nexit 1\n",
            "failed",
        ),
    ] {
        let g = w.root().join(name);
        write(&g, script.as_bytes());
        Command::new("chmod").arg("+x").arg(&g).status().unwrap();
        let mut o = w.opts();
        o.genimage = g;
        let e = w.fails(&o);
        assert!(e.contains(want), "{name}: {e}");
    }
    assert!(t.elapsed() < Duration::from_secs(120), "{:?}", t.elapsed());
}

/// A failure injected at the move of each output into BINARIES_DIR (the place
/// its temporary copy goes is taken by a directory): the old set stays whole.
#[test]
fn a_failure_at_each_write_leaves_the_old_set() {
    if !["genimage", "mkdosfs", "mcopy"].iter().all(|t| have(t)) {
        eprintln!("SKIP: genimage, mkdosfs or mcopy missing (scripts/install-host-deps)");
        return;
    }
    for name in ["disk.img", "sha256sums", "manifest.json"] {
        let w = World::new();
        let block = w.bin().join(format!(".{name}.b4k-new"));
        write(&block.join("x"), b"");
        let e = w.fails(&w.opts());
        assert!(e.contains(name), "{name}: {e}");
        for f in ["disk.img", "sha256sums", "manifest.json"] {
            assert_eq!(fs::read(w.bin().join(f)).unwrap(), b"old", "{f} changed");
        }
    }
}

/// Templates that would run for hours or render gigabytes (loops nested over
/// `range(100000)`, a string or list repeated 10^5 times, a namespace doubled 40
/// times): stopped by the template's fuel or output cap, nothing written.
#[test]
fn templates_are_bounded() {
    let t = Instant::now();
    for body in [
        "{% for i in range(100000) %}{% for j in range(100000) %}x{% endfor %}{% endfor %}",
        "{% for i in range(100000) %}{{ 'x' * 100000 }}{% endfor %}",
        "{% for i in range(100000) %}{{ [1, 2, 3] * 100000 }}{% endfor %}",
        "{% set ns = namespace(s='ab') %}{% for i in range(40) %}{% set ns.s = ns.s ~ ns.s %}{% endfor %}{{ ns.s }}",
    ] {
        let w = World::new();
        write(&w.board().join("grub.cfg.j2"), body.as_bytes());
        let e = w.fails(&w.opts());
        assert!(e.contains("grub.cfg.j2"), "{body}: {e}");
    }
    assert!(t.elapsed() < Duration::from_secs(600), "{:?}", t.elapsed());
}
