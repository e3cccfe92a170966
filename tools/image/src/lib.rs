//! Disk images of a board (`b4k post-image`, Buildroot's `BR2_ROOTFS_POST_IMAGE_SCRIPT`):
//! checks the board's inputs in `BINARIES_DIR`, renders the board's genimage
//! configuration (a minijinja template in `board/<board>/`), runs genimage in a
//! private temporary directory, compresses the disk image, writes `sha256sums`
//! and `manifest.json`, and only then moves the results into `BINARIES_DIR`.
//!
//! Everything is deterministic: identifiers (GPT GUIDs, MBR signature, FAT volume
//! id) are derived from the inputs' bytes, and file times from `SOURCE_DATE_EPOCH`.

pub mod board;
pub mod disk;
pub mod grub;
pub mod spec;
mod stage;

use anyhow::{bail, Context, Result};
use serde::Serialize;
use sha2::{Digest, Sha256};
use std::collections::BTreeMap;
use std::fs;
use std::io::Read;
use std::path::{Path, PathBuf};
use std::process::Command;

/// Seconds genimage, gzip and xz may run (xz -T1 of a 2 GiB image takes minutes on
/// a slow builder; `B4K_CHILD_TIMEOUT` overrides it).
pub const CHILD_TIMEOUT_SECS: u64 = 3600;
/// Bytes a child may print on stdout or stderr (genimage logs a few KB).
pub const CHILD_MAX_OUTPUT: u64 = 16 << 20;
/// Bytes a template may render to (a genimage.cfg is a few KB), and the
/// template's fuel (minijinja's count of instructions: loops nested over
/// `range(100000)` run out of it instead of running for hours).
pub const MAX_RENDER_BYTES: u64 = 16 << 20;
/// See [`MAX_RENDER_BYTES`].
pub const TEMPLATE_FUEL: u64 = 10_000_000;

/// How the disk image is compressed (always reproducibly: no names, no times,
/// single-threaded).
#[derive(Clone, Copy, Debug, PartialEq, Eq, serde::Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Compression {
    /// `gzip -n`.
    Gz,
    /// `xz -T1` (default preset).
    Xz,
    /// No compressed copy.
    None,
}

impl std::str::FromStr for Compression {
    type Err = String;
    fn from_str(s: &str) -> Result<Self, String> {
        match s {
            "gz" => Ok(Compression::Gz),
            "xz" => Ok(Compression::Xz),
            "none" => Ok(Compression::None),
            _ => Err(format!("'{s}' is not a compression (gz, xz, none)")),
        }
    }
}

/// Options of `b4k post-image`. Buildroot's environment supplies the directories.
#[derive(Debug, Clone)]
pub struct Options {
    /// The board whose images to assemble: its directory name under `board/`.
    pub board: String,
    /// Directory with the board's image.toml and templates; default
    /// $BR2_EXTERNAL_KUBERNETES_PATH/board/<board>.
    pub board_dir: Option<PathBuf>,
    /// Buildroot's images directory: the inputs, and where the results go.
    pub binaries_dir: PathBuf,
    /// Where the temporary work directory goes (default: next to BINARIES_DIR).
    pub build_dir: Option<PathBuf>,
    /// Buildroot's .config, read to name the option behind a missing input and to
    /// find out whether a live ISO was asked for.
    pub br2_config: Option<PathBuf>,
    /// Time for every file in the boot partition (default: the rootfs image's mtime).
    pub source_date_epoch: Option<i64>,
    /// An initramfs to put next to the kernel and load with it. The tests use it
    /// for Debian's modular kernels; Buildroot's kernel has its drivers built in.
    pub initrd: Option<PathBuf>,
    /// Size of the root partition, in bytes or with a K/M/G suffix (default: the
    /// size of rootfs.ext4).
    pub root_size: Option<u64>,
    /// Compression of the disk image (default: the board's image.toml).
    pub compress: Option<Compression>,
    /// The genimage program.
    pub genimage: PathBuf,
}

/// A size in bytes, or a number with a K, M or G suffix.
pub fn parse_size(s: &str) -> Result<u64, String> {
    let (num, mult) = match s.char_indices().last() {
        Some((i, 'K')) => (&s[..i], 1u64 << 10),
        Some((i, 'M')) => (&s[..i], 1 << 20),
        Some((i, 'G')) => (&s[..i], 1 << 30),
        _ => (s, 1),
    };
    num.parse::<u64>()
        .ok()
        .and_then(|n| n.checked_mul(mult))
        .ok_or_else(|| format!("'{s}' is not a size (bytes, or a number with K, M or G)"))
}

/// Buildroot's `.config`, as `BR2_...` symbol to value (quotes removed).
#[derive(Debug, Default)]
pub struct BrConfig {
    values: BTreeMap<String, String>,
}

impl BrConfig {
    /// Reads a `.config`; `None` gives an empty configuration.
    pub fn load(path: Option<&Path>) -> Result<Self> {
        let Some(path) = path else {
            return Ok(Self::default());
        };
        let text = b4k_input::read_text(path)?;
        let values = text
            .lines()
            .filter_map(|l| l.split_once('='))
            .filter(|(k, _)| k.starts_with("BR2_"))
            .map(|(k, v)| (k.to_string(), v.trim_matches('"').to_string()))
            .collect();
        Ok(Self { values })
    }

    /// The value of `symbol`, if set.
    pub fn get(&self, symbol: &str) -> Option<&str> {
        self.values.get(symbol).map(String::as_str)
    }

    /// Whether `symbol=y`.
    pub fn enabled(&self, symbol: &str) -> bool {
        self.get(symbol) == Some("y")
    }
}

/// Everything a board's plan needs to know about this run.
pub struct Ctx<'a> {
    /// The command-line options.
    pub args: &'a Options,
    /// Buildroot's configuration (empty when BR2_CONFIG is not given).
    pub config: BrConfig,
    /// The board's template directory.
    pub board_dir: PathBuf,
    /// genimage's input directory (staged copies of the inputs).
    pub input: PathBuf,
    /// Time stamped on staged files.
    pub epoch: i64,
}

/// An artifact's name, size and sha256.
#[derive(Serialize, Debug)]
pub struct Artifact {
    /// File name in BINARIES_DIR.
    pub file: String,
    /// Size in bytes.
    pub size: u64,
    /// Hex sha256.
    pub sha256: String,
}

/// The JSON manifest written as `manifest.json`.
#[derive(Serialize, Debug)]
pub struct Manifest {
    /// Board name.
    pub board: String,
    /// Time stamped on the boot partition's files.
    pub source_date_epoch: i64,
    /// The uncompressed disk image.
    pub image: Artifact,
    /// Its partition table, read back from the image.
    pub partition_table: disk::Table,
    /// Files of the boot partition (path inside it, size, sha256).
    pub boot_files: Vec<Artifact>,
    /// Every file listed in sha256sums.
    pub artifacts: Vec<Artifact>,
}

/// Runs `b4k post-image`; returns the process exit code.
pub fn run(args: &Options) -> Result<Vec<PathBuf>> {
    let board_dir = board_dir(args)?;
    let bin = &args.binaries_dir;
    if !bin.is_dir() {
        bail!("BINARIES_DIR {} is not a directory", bin.display());
    }
    // Dropped (removed) on every return path: nothing half-written survives.
    let work = stage::WorkDir::new(&work_parent(args)?, "b4k-post-image")?;
    let w = work.path();
    let (input, out) = (w.join("input"), w.join("output"));
    for d in [&input, &out, &w.join("root")] {
        fs::create_dir(d).with_context(|| format!("creating {}", d.display()))?;
    }
    let epoch = match args.source_date_epoch {
        Some(e) => e,
        None => rootfs_mtime(bin)?,
    };
    let ctx = Ctx {
        args,
        config: BrConfig::load(args.br2_config.as_deref())?,
        board_dir,
        input,
        epoch,
    };
    let plan = board::plan(&ctx)?;
    genimage(&ctx, &plan, w)?;
    let image_path = out.join(&plan.spec.image);
    let table = disk::read_table(&image_path)?;
    board::verify(&table, &plan.spec.table)
        .with_context(|| format!("checking the partition table of {}", plan.spec.image))?;
    let mut files: Vec<PathBuf> = vec![image_path.clone()];
    files.extend(plan.spec.keep.iter().map(|k| out.join(k)));
    files.extend(compress(
        &image_path,
        args.compress.unwrap_or(plan.spec.compression),
    )?);
    write_sums_and_manifest(&ctx, &plan, &files, table, &out)?;
    // Everything is complete: move it into place as one set.
    let mut names: Vec<String> = files.iter().map(|f| file_name(f)).collect();
    names.push("sha256sums".into());
    names.push("manifest.json".into());
    stage::place_all(&out, bin, &names)?;
    Ok(names.iter().map(|n| bin.join(n)).collect())
}

/// `--board-dir`, or the board's directory in the external tree.
fn board_dir(args: &Options) -> Result<PathBuf> {
    if let Some(d) = &args.board_dir {
        return Ok(d.clone());
    }
    match std::env::var_os("BR2_EXTERNAL_KUBERNETES_PATH") {
        Some(p) => Ok(PathBuf::from(p).join("board").join(&args.board)),
        None => bail!("no board directory: pass --board-dir or set BR2_EXTERNAL_KUBERNETES_PATH"),
    }
}

/// Where the work directory goes: BUILD_DIR, else next to BINARIES_DIR.
fn work_parent(args: &Options) -> Result<PathBuf> {
    let bin = &args.binaries_dir;
    let p = match &args.build_dir {
        Some(d) => d.clone(),
        None => bin
            .canonicalize()
            .with_context(|| format!("resolving {}", bin.display()))?
            .parent()
            .map(Path::to_path_buf)
            .unwrap_or_else(std::env::temp_dir),
    };
    fs::create_dir_all(&p).with_context(|| format!("creating {}", p.display()))?;
    Ok(p)
}

/// Renders genimage.cfg.j2 and runs genimage in the work directory `w`.
fn genimage(ctx: &Ctx, plan: &board::Plan, w: &Path) -> Result<()> {
    let cfg = render(&ctx.board_dir.join("genimage.cfg.j2"), &plan.vars)?;
    let cfg_path = w.join("genimage.cfg");
    fs::write(&cfg_path, cfg).with_context(|| format!("writing {}", cfg_path.display()))?;
    let mut cmd = Command::new(&ctx.args.genimage);
    cmd.arg("--rootpath")
        .arg(w.join("root"))
        .arg("--tmppath")
        .arg(w.join("tmp"))
        .arg("--inputpath")
        .arg(&ctx.input)
        .arg("--outputpath")
        .arg(w.join("output"))
        .arg("--config")
        .arg(&cfg_path)
        .env("SOURCE_DATE_EPOCH", ctx.epoch.to_string());
    run_cmd(&mut cmd, None)
}

/// The compressed copy of `image` (beside it), if any.
fn compress(image: &Path, how: Compression) -> Result<Option<PathBuf>> {
    let (ext, mut cmd) = match how {
        Compression::None => return Ok(None),
        Compression::Gz => ("gz", Command::new("gzip")),
        Compression::Xz => ("xz", Command::new("xz")),
    };
    let args: &[&str] = match how {
        Compression::Xz => &["-T1", "-c", "--check=crc64"],
        _ => &["-n", "-c"],
    };
    let dst = image.with_file_name(format!("{}.{ext}", file_name(image)));
    run_cmd(cmd.args(args).arg(image), Some(&dst))?;
    Ok(Some(dst))
}

/// `sha256sums` and `manifest.json` of `files` (and the plan's extra artifacts).
fn write_sums_and_manifest(
    ctx: &Ctx,
    plan: &board::Plan,
    files: &[PathBuf],
    table: disk::Table,
    out: &Path,
) -> Result<()> {
    let mut artifacts = Vec::new();
    for f in files.iter().chain(plan.extra.iter()) {
        artifacts.push(artifact(f, file_name(f))?);
    }
    artifacts.sort_by(|a, b| a.file.cmp(&b.file));
    let sums: String = artifacts
        .iter()
        .map(|a| format!("{}  {}\n", a.sha256, a.file))
        .collect();
    fs::write(out.join("sha256sums"), sums).context("writing sha256sums")?;
    let mut boot_files = Vec::new();
    for rel in stage::list_files(&plan.boot_dir)? {
        boot_files.push(artifact(&plan.boot_dir.join(&rel), rel)?);
    }
    let manifest = Manifest {
        board: ctx.args.board.clone(),
        source_date_epoch: ctx.epoch,
        image: artifact(&files[0], plan.spec.image.clone())?,
        partition_table: table,
        boot_files,
        artifacts,
    };
    let json = serde_json::to_string_pretty(&manifest).context("serializing the manifest")?;
    fs::write(out.join("manifest.json"), json + "\n").context("writing manifest.json")
}

fn file_name(p: &Path) -> String {
    p.file_name()
        .map(|n| n.to_string_lossy().into_owned())
        .unwrap_or_default()
}

fn rootfs_mtime(bin: &Path) -> Result<i64> {
    for name in ["rootfs.ext4", "rootfs.ext2"] {
        if let Ok(m) = fs::metadata(bin.join(name)) {
            let t = m.modified()?;
            let secs = t
                .duration_since(std::time::UNIX_EPOCH)
                .map(|d| d.as_secs() as i64)
                .unwrap_or(0);
            return Ok(secs);
        }
    }
    // No rootfs: the board's input check reports it.
    Ok(0)
}

/// Renders a minijinja template file with `vars`; undefined variables are errors,
/// and the rendering is bounded: [`TEMPLATE_FUEL`] steps, [`MAX_RENDER_BYTES`] of
/// output, and [`TEMPLATE_MEMORY`] bytes of memory (a value doubled at each of
/// 40 `set`s needs no steps but terabytes: the rendering runs in a forked copy of
/// this process with an address-space limit, and its death is reported here).
pub fn render(path: &Path, vars: &board::Vars) -> Result<String> {
    let text = b4k_input::read_text(path)?;
    let name = path.display().to_string();
    isolated(&name, || render_text(&name, &text, vars))
        .with_context(|| format!("rendering template {name}"))
}

/// Bytes of address space a template's rendering may add to the process.
pub const TEMPLATE_MEMORY: u64 = 1 << 30;

/// The rendering itself. It runs in a forked child: no `anyhow` here (its
/// backtrace capture takes a lock another thread may have held at the fork), only
/// minijinja and plain strings.
fn render_text(name: &str, text: &str, vars: &board::Vars) -> Result<String, String> {
    let mut env = minijinja::Environment::new();
    env.set_undefined_behavior(minijinja::UndefinedBehavior::Strict);
    env.set_keep_trailing_newline(true);
    env.set_fuel(Some(TEMPLATE_FUEL));
    env.add_template(name, text)
        .map_err(|e| format!("parsing template {name}: {e:#}"))?;
    let mut out = Capped(Vec::new());
    env.get_template(name)
        .and_then(|t| t.render_captured_to(vars, &mut out))
        .map_err(|e| {
            format!("{e:#} (at most {TEMPLATE_FUEL} steps and {MAX_RENDER_BYTES} bytes of output)")
        })?;
    String::from_utf8(out.0).map_err(|_| "not UTF-8".to_string())
}

/// The bytes of `/proc/self/statm`'s first field (the address space in use).
fn address_space() -> u64 {
    let pages: u64 = std::fs::read_to_string("/proc/self/statm")
        .ok()
        .and_then(|t| t.split_whitespace().next().and_then(|v| v.parse().ok()))
        .unwrap_or(0);
    pages.saturating_mul(4096)
}

/// Runs `f` in a forked child limited to [`TEMPLATE_MEMORY`] more address space
/// and, by `alarm(2)`, to the children's timeout; its text comes back through a
/// pipe. `f` must take no lock another thread could hold (see [`render_text`]).
fn isolated(name: &str, f: impl FnOnce() -> Result<String, String>) -> Result<String> {
    use std::io::Write;
    use std::os::fd::FromRawFd;
    let mut fds = [0i32; 2];
    // SAFETY: pipe(2) into a two-element array.
    if unsafe { libc::pipe(fds.as_mut_ptr()) } != 0 {
        return Err(std::io::Error::last_os_error()).context("creating a pipe");
    }
    let limit = address_space().saturating_add(TEMPLATE_MEMORY);
    let alarm_secs = u32::try_from(
        b4k_input::Limits::new(CHILD_TIMEOUT_SECS, 0)
            .timeout
            .as_secs()
            .clamp(1, 600),
    )
    .unwrap_or(600);
    // SAFETY: the child only renders and writes to the pipe, then _exit()s; glibc
    // makes malloc usable in a forked child of a threaded process.
    let pid = unsafe { libc::fork() };
    if pid < 0 {
        return Err(std::io::Error::last_os_error()).context("forking to render");
    }
    if pid == 0 {
        // SAFETY: closing our copy of the read end; the write end is owned below.
        unsafe { libc::close(fds[0]) };
        let rl = libc::rlimit {
            rlim_cur: limit,
            rlim_max: limit,
        };
        // SAFETY: setrlimit(2) with a valid struct; alarm(2) ends a child that
        // runs too long (SIGALRM's default action).
        // The child's stderr goes nowhere: an allocation past the limit is
        // reported by the parent, in one line.
        unsafe {
            libc::setrlimit(libc::RLIMIT_AS, &rl);
            libc::alarm(alarm_secs);
            let null = libc::open(c"/dev/null".as_ptr(), libc::O_WRONLY);
            if null >= 0 {
                libc::dup2(null, 2);
            }
        }
        // A panic must not unwind into the parent's code running in this copy.
        let (code, bytes) = match std::panic::catch_unwind(std::panic::AssertUnwindSafe(f)) {
            Ok(Ok(t)) => (0, t.into_bytes()),
            Ok(Err(e)) => (1, e.into_bytes()),
            Err(_) => (4, Vec::new()),
        };
        // SAFETY: fds[1] is this process's write end, owned from here on.
        let mut w = unsafe { std::fs::File::from_raw_fd(fds[1]) };
        let ok = w.write_all(&bytes).is_ok();
        drop(w);
        // SAFETY: _exit(2) ends the child without running the parent's destructors.
        unsafe { libc::_exit(if ok { code } else { 3 }) };
    }
    // SAFETY: the parent's copies: the write end is closed, the read end owned.
    unsafe { libc::close(fds[1]) };
    let r = unsafe { std::fs::File::from_raw_fd(fds[0]) };
    let mut buf = Vec::new();
    let read =
        std::io::Read::read_to_end(&mut std::io::Read::take(r, MAX_RENDER_BYTES + 1), &mut buf);
    let mut status = 0;
    // SAFETY: waiting for our own child.
    unsafe { libc::waitpid(pid, &mut status, 0) };
    read.context("reading the rendered template")?;
    let text = String::from_utf8_lossy(&buf).into_owned();
    if libc::WIFEXITED(status) {
        match libc::WEXITSTATUS(status) {
            0 => return Ok(text),
            1 => bail!("{text}"),
            _ => {}
        }
    }
    bail!(
        "{name}: the rendering stopped (more than {} MiB of memory, a value that doubles, or \
         more than {alarm_secs} s)",
        TEMPLATE_MEMORY >> 20
    )
}

/// A writer that refuses to grow past [`MAX_RENDER_BYTES`].
struct Capped(Vec<u8>);

impl std::io::Write for Capped {
    fn write(&mut self, b: &[u8]) -> std::io::Result<usize> {
        if (self.0.len() + b.len()) as u64 > MAX_RENDER_BYTES {
            return Err(std::io::Error::other(format!(
                "output exceeds {MAX_RENDER_BYTES} bytes"
            )));
        }
        self.0.extend_from_slice(b);
        Ok(b.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Runs a command, its stdout to `stdout_to` if given, within [`CHILD_TIMEOUT_SECS`]
/// and [`CHILD_MAX_OUTPUT`]; on failure the error carries the command line and
/// what it printed.
pub fn run_cmd(cmd: &mut Command, stdout_to: Option<&Path>) -> Result<()> {
    let line = format!("{cmd:?}");
    let file = match stdout_to {
        Some(p) => Some(fs::File::create(p).with_context(|| format!("creating {}", p.display()))?),
        None => None,
    };
    let limits = b4k_input::Limits::new(CHILD_TIMEOUT_SECS, CHILD_MAX_OUTPUT);
    let outp = b4k_input::run(cmd, &line, limits, file)?;
    if !outp.status.success() {
        bail!(
            "{line} failed ({}):\n{}{}",
            outp.status,
            String::from_utf8_lossy(&outp.stdout),
            String::from_utf8_lossy(&outp.stderr)
        );
    }
    Ok(())
}

/// sha256 of a file, hex.
pub fn sha256_file(path: &Path) -> Result<String> {
    let mut f = b4k_input::open(path)?;
    let mut h = Sha256::new();
    let mut buf = vec![0u8; 1 << 20];
    loop {
        let n = f
            .read(&mut buf)
            .with_context(|| format!("reading {}", path.display()))?;
        if n == 0 {
            break;
        }
        h.update(&buf[..n]);
    }
    Ok(hex(&h.finalize()))
}

fn artifact(path: &Path, name: String) -> Result<Artifact> {
    let size = fs::metadata(path)
        .with_context(|| format!("reading {}", path.display()))?
        .len();
    Ok(Artifact {
        file: name,
        size,
        sha256: sha256_file(path)?,
    })
}

/// Lower-case hex of bytes.
pub fn hex(b: &[u8]) -> String {
    b.iter().map(|x| format!("{x:02x}")).collect()
}

/// A UUID (RFC 9562 version 8, "custom") derived from `seed` and `label`:
/// the same inputs always give the same identifier.
pub fn derived_uuid(seed: &[u8], label: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(label.as_bytes());
    let mut b: [u8; 16] = h.finalize()[..16].try_into().unwrap_or([0; 16]);
    b[6] = (b[6] & 0x0f) | 0x80;
    b[8] = (b[8] & 0x3f) | 0x80;
    let s = hex(&b);
    format!(
        "{}-{}-{}-{}-{}",
        &s[0..8],
        &s[8..12],
        &s[12..16],
        &s[16..20],
        &s[20..32]
    )
}

/// A 32-bit identifier (FAT volume id, MBR disk signature) derived like
/// [`derived_uuid`], as 8 hex digits.
pub fn derived_u32(seed: &[u8], label: &str) -> String {
    let mut h = Sha256::new();
    h.update(seed);
    h.update(label.as_bytes());
    hex(&h.finalize()[..4])
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn sizes() {
        assert_eq!(parse_size("512"), Ok(512));
        assert_eq!(parse_size("64M"), Ok(64 << 20));
        assert_eq!(parse_size("2G"), Ok(2 << 30));
        assert!(parse_size("12X").is_err());
        assert!(parse_size("M").is_err());
    }

    #[test]
    fn uuids_are_stable_and_versioned() {
        let a = derived_uuid(b"seed", "root");
        assert_eq!(a, derived_uuid(b"seed", "root"));
        assert_ne!(a, derived_uuid(b"seed", "esp"));
        assert_ne!(a, derived_uuid(b"other", "root"));
        assert_eq!(a.len(), 36);
        assert_eq!(&a[14..15], "8");
        assert!(matches!(&a[19..20], "8" | "9" | "a" | "b"));
        assert_eq!(derived_u32(b"seed", "vfat").len(), 8);
    }

    #[test]
    fn br_config() {
        let dir = tempfile::tempdir().unwrap();
        let p = dir.path().join(".config");
        fs::write(
            &p,
            "BR2_LINUX_KERNEL=y\n# BR2_TARGET_ROOTFS_ISO9660 is not set\nBR2_X=\"a b\"\n",
        )
        .unwrap();
        let c = BrConfig::load(Some(&p)).unwrap();
        assert!(c.enabled("BR2_LINUX_KERNEL"));
        assert!(!c.enabled("BR2_TARGET_ROOTFS_ISO9660"));
        assert_eq!(c.get("BR2_X"), Some("a b"));
    }
}
