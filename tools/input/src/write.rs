//! Writing an output whole or not at all.

use anyhow::{bail, Context, Result};
use std::io::Write;
use std::path::Path;

/// Writes `bytes` to `path` through a temporary file in the same directory that is
/// synced and then renamed over it: a reader sees the old file or the new one,
/// never a part, and a failure leaves the old file as it was. Refuses to replace
/// anything but a regular file (a symbolic link could point anywhere, a FIFO would
/// block); keeps the old file's permissions, else 0644.
pub fn write_atomic(path: &Path, bytes: &[u8]) -> Result<()> {
    use std::os::unix::fs::PermissionsExt;
    let mode = match std::fs::symlink_metadata(path) {
        Ok(m) if m.file_type().is_file() => m.permissions().mode() & 0o7777,
        Ok(m) => bail!(
            "{}: not a regular file ({}); b4k writes only regular files: remove it or pass \
             another path",
            path.display(),
            if m.file_type().is_symlink() {
                "a symbolic link"
            } else {
                "a directory, FIFO or device"
            }
        ),
        Err(e) if e.kind() == std::io::ErrorKind::NotFound => 0o644,
        Err(e) => return Err(e).with_context(|| format!("writing {}", path.display())),
    };
    let dir = match path.parent() {
        Some(d) if !d.as_os_str().is_empty() => d,
        _ => Path::new("."),
    };
    let name = path
        .file_name()
        .with_context(|| format!("writing {}: no file name", path.display()))?;
    let mut tmp = tempfile::Builder::new()
        .prefix(&format!(".{}.", name.to_string_lossy()))
        .suffix(".b4k-tmp")
        .tempfile_in(dir)
        .with_context(|| {
            format!(
                "writing {}: creating a file in {}",
                path.display(),
                dir.display()
            )
        })?;
    let f = tmp.as_file_mut();
    f.write_all(bytes)
        .and_then(|_| f.set_permissions(std::fs::Permissions::from_mode(mode)))
        .and_then(|_| f.sync_all())
        .with_context(|| format!("writing {}", path.display()))?;
    tmp.persist(path)
        .map_err(|e| e.error)
        .with_context(|| format!("writing {}", path.display()))?;
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn replaces_files_only() {
        let d = tempfile::tempdir().unwrap();
        let p = d.path().join("out");
        write_atomic(&p, b"one").unwrap();
        write_atomic(&p, b"two").unwrap();
        assert_eq!(std::fs::read(&p).unwrap(), b"two");
        let outside = d.path().join("outside");
        std::fs::write(&outside, b"keep").unwrap();
        let link = d.path().join("link");
        std::os::unix::fs::symlink(&outside, &link).unwrap();
        let e = write_atomic(&link, b"x").unwrap_err().to_string();
        assert!(e.contains("a symbolic link"), "{e}");
        assert_eq!(std::fs::read(&outside).unwrap(), b"keep");
        let fifo = d.path().join("fifo");
        let made = std::process::Command::new("mkfifo").arg(&fifo).status();
        if made.is_ok_and(|s| s.success()) {
            let e = write_atomic(&fifo, b"x").unwrap_err().to_string();
            assert!(e.contains("FIFO"), "{e}");
        }
        // Nothing but the outputs and the link's target: no temporary file left.
        let mut names: Vec<_> = std::fs::read_dir(d.path())
            .unwrap()
            .map(|e| e.unwrap().file_name().into_string().unwrap())
            .filter(|n| n.contains("b4k-tmp"))
            .collect();
        names.sort();
        assert!(names.is_empty(), "{names:?}");
    }
}
