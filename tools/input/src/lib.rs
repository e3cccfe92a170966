//! The one gate for what b4k and b4k-dev read, write and run.
//!
//! - Reading ([`read`], [`read_text`], [`read_maybe_gz`]): only regular files (a
//!   FIFO would block forever, `/dev/zero` never ends; checked on the opened file,
//!   which is opened without blocking), at most [`MAX_BYTES`] (also after gzip
//!   decompression), gzip streams without trailing data, UTF-8 and NUL errors that
//!   name the line. Every error names the path as the caller gave it.
//! - Paths from data ([`under`]): relative, no `..`, no symbolic link on the way:
//!   a board's data cannot make b4k write outside the directory it names.
//! - Writing ([`write_atomic`]): a temporary file beside the target, synced, then
//!   renamed; never through a symbolic link, a FIFO or a device.
//! - Children ([`run`]): a timeout and a cap on what they print.

pub mod child;
pub mod path;
pub mod write;

pub use child::{run, Limits};
pub use path::under;
pub use write::write_atomic;

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::path::Path;

/// The stack the binaries run their command on: sized for the depth bounds of the
/// Kconfig parser and evaluator (`MAX_COMBINED_DEPTH`, `MAX_EVAL_DEPTH`) in a debug
/// build, with room to spare; only the pages used are ever touched.
pub const STACK_BYTES: usize = 256 << 20;

/// Runs `f` on a thread with a [`STACK_BYTES`] stack and returns what it returns.
pub fn with_stack<T: Send + 'static>(f: impl FnOnce() -> T + Send + 'static) -> Result<T> {
    std::thread::Builder::new()
        .name("b4k".into())
        .stack_size(STACK_BYTES)
        .spawn(f)
        .context("starting the work thread")?
        .join()
        .map_err(|_| anyhow::anyhow!("the work thread panicked (a bug: please report it)"))
}

/// The largest input b4k reads: far above any Kconfig file, `.config`, fragment,
/// data file or index (Linux's largest Kconfig file is ~100 KB, a .config ~300 KB).
pub const MAX_BYTES: u64 = 64 << 20;

/// The bytes of a regular file of at most [`MAX_BYTES`].
pub fn read(path: &Path) -> Result<Vec<u8>> {
    read_limited(open(path)?, path, "")
}

/// Opens a regular file for reading. Opened with `O_NONBLOCK` (opening a FIFO
/// would otherwise wait for a writer) and checked with `fstat` on the open file,
/// so a file swapped for a FIFO or a link to a device between a check and the
/// open is refused too.
pub fn open(path: &Path) -> Result<std::fs::File> {
    use std::os::unix::fs::OpenOptionsExt;
    let f = std::fs::OpenOptions::new()
        .read(true)
        .custom_flags(libc::O_NONBLOCK)
        .open(path)
        .with_context(|| format!("reading {}", path.display()))?;
    let meta = f
        .metadata()
        .with_context(|| format!("reading {}", path.display()))?;
    if !meta.is_file() {
        bail!(
            "{}: not a regular file (a directory, FIFO or device); pass a file",
            path.display()
        );
    }
    Ok(f)
}

fn read_limited(r: impl Read, path: &Path, what: &str) -> Result<Vec<u8>> {
    let mut out = Vec::new();
    r.take(MAX_BYTES + 1)
        .read_to_end(&mut out)
        .with_context(|| format!("reading {}{what}", path.display()))?;
    if out.len() as u64 > MAX_BYTES {
        bail!(
            "{}: larger than {} MiB{what}: not an input b4k reads",
            path.display(),
            MAX_BYTES >> 20
        );
    }
    Ok(out)
}

/// [`read`], decompressed when the file is gzip (by its magic bytes): one gzip
/// stream, checked (CRC and length), nothing after it.
pub fn read_maybe_gz(path: &Path) -> Result<Vec<u8>> {
    let raw = read(path)?;
    if !raw.starts_with(&[0x1f, 0x8b]) {
        return Ok(raw);
    }
    let mut dec = flate2::bufread::GzDecoder::new(&raw[..]);
    let out = read_limited(&mut dec, path, " decompressed")
        .with_context(|| format!("decompressing {}", path.display()))?;
    let rest = dec.into_inner();
    if !rest.is_empty() {
        bail!(
            "{}: {} bytes of trailing data after the gzip stream: the file is damaged",
            path.display(),
            rest.len()
        );
    }
    Ok(out)
}

/// `bytes` as UTF-8 text without NUL bytes; the error names the line and column
/// of the first bad byte.
pub fn utf8(path: &Path, bytes: Vec<u8>) -> Result<String> {
    if let Some(at) = bytes.iter().position(|&b| b == 0) {
        let line = bytes[..at].iter().filter(|&&c| c == b'\n').count() + 1;
        bail!(
            "{}:{line}: a NUL byte: not a text file (was it saved by a binary tool?)",
            path.display()
        );
    }
    String::from_utf8(bytes).map_err(|e| {
        let at = e.utf8_error().valid_up_to();
        let b = e.as_bytes();
        let line = b[..at].iter().filter(|&&c| c == b'\n').count() + 1;
        let col = at
            - b[..at]
                .iter()
                .rposition(|&c| c == b'\n')
                .map_or(0, |i| i + 1)
            + 1;
        anyhow::anyhow!(
            "{}:{line}: not UTF-8 (byte 0x{:02x} at column {col}); save the file as UTF-8",
            path.display(),
            b[at]
        )
    })
}

/// A text file: [`read`] then [`utf8`].
pub fn read_text(path: &Path) -> Result<String> {
    utf8(path, read(path)?)
}

/// The 1-based line of byte offset `at` in `text`, by binary search in `starts`
/// (the offsets where lines start: [`line_starts`]).
pub fn line_of(starts: &[usize], at: usize) -> usize {
    starts.partition_point(|&s| s <= at)
}

/// The offsets where the lines of `text` start.
pub fn line_starts(text: &str) -> Vec<usize> {
    std::iter::once(0)
        .chain(text.match_indices('\n').map(|(i, _)| i + 1))
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn devices_and_fifos_are_refused() {
        let e = read(Path::new("/dev/zero")).unwrap_err();
        assert!(format!("{e:#}").contains("not a regular file"), "{e:#}");
        let dir = std::env::temp_dir().join(format!("b4k-input-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let fifo = dir.join("fifo");
        let _ = std::fs::remove_file(&fifo);
        let ok = std::process::Command::new("mkfifo")
            .arg(&fifo)
            .status()
            .is_ok_and(|s| s.success());
        if ok {
            // No writer: read() must refuse it without blocking in open().
            let e = format!("{:#}", read(&fifo).unwrap_err());
            assert!(e.contains("not a regular file"), "{e}");
        }
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn utf8_errors_name_line_and_column() {
        let e = utf8(Path::new("f.toml"), b"a = 1\nb = \"\xff\"\n".to_vec()).unwrap_err();
        assert_eq!(
            e.to_string(),
            "f.toml:2: not UTF-8 (byte 0xff at column 6); save the file as UTF-8"
        );
        let e = utf8(Path::new("f"), b"a\nb\0\n".to_vec()).unwrap_err();
        assert!(e.to_string().starts_with("f:2: a NUL byte"), "{e}");
    }

    #[test]
    fn gzip_with_trailing_data_is_damaged() {
        use std::io::Write;
        let dir = std::env::temp_dir().join(format!("b4k-input-gz-{}", std::process::id()));
        std::fs::create_dir_all(&dir).unwrap();
        let mut enc = flate2::write::GzEncoder::new(Vec::new(), flate2::Compression::fast());
        enc.write_all(b"CONFIG_A=y\n").unwrap();
        let gz = enc.finish().unwrap();
        let p = dir.join("config.gz");
        std::fs::write(&p, &gz).unwrap();
        assert_eq!(read_maybe_gz(&p).unwrap(), b"CONFIG_A=y\n");
        let mut bad = gz.clone();
        bad.extend_from_slice(b"garbage");
        std::fs::write(&p, &bad).unwrap();
        let e = format!("{:#}", read_maybe_gz(&p).unwrap_err());
        assert!(e.contains("trailing data"), "{e}");
        std::fs::write(&p, &gz[..gz.len() - 6]).unwrap();
        assert!(read_maybe_gz(&p).is_err());
        let _ = std::fs::remove_dir_all(&dir);
    }

    #[test]
    fn line_lookup() {
        let t = "a\nbb\n\nc";
        let s = line_starts(t);
        assert_eq!(
            (0..t.len()).map(|i| line_of(&s, i)).collect::<Vec<_>>(),
            [1, 1, 2, 2, 2, 3, 4]
        );
    }
}
