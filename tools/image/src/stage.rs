//! Staging of genimage's inputs (copies with fixed times) and the final move of
//! the results into BINARIES_DIR.

use anyhow::{Context, Result};
use std::fs;
use std::path::{Path, PathBuf};
use std::time::{Duration, SystemTime, UNIX_EPOCH};

/// A private work directory, removed with everything in it when dropped (on every
/// return path, so nothing half-written survives a failure).
pub struct WorkDir(PathBuf);

impl WorkDir {
    /// Creates `<parent>/<prefix>.<pid>.<n>`, a name no other run uses.
    pub fn new(parent: &Path, prefix: &str) -> Result<WorkDir> {
        let pid = std::process::id();
        for n in 0..1000 {
            let p = parent.join(format!("{prefix}.{pid}.{n}"));
            match fs::create_dir(&p) {
                Ok(()) => return Ok(WorkDir(p)),
                Err(e) if e.kind() == std::io::ErrorKind::AlreadyExists => continue,
                Err(e) => {
                    return Err(e).with_context(|| format!("creating {}", p.display()));
                }
            }
        }
        anyhow::bail!("no free work directory name in {}", parent.display())
    }

    /// Its path.
    pub fn path(&self) -> &Path {
        &self.0
    }
}

impl Drop for WorkDir {
    fn drop(&mut self) {
        let _ = fs::remove_dir_all(&self.0);
    }
}

/// FAT cannot store times before 1980-01-01 (DOS epoch).
const DOS_EPOCH: i64 = 315_532_800;

fn time(epoch: i64) -> SystemTime {
    UNIX_EPOCH + Duration::from_secs(epoch.max(DOS_EPOCH) as u64)
}

/// Writes `bytes` to `dst` (creating parents) with mtime `epoch`.
pub fn write(dst: &Path, bytes: &[u8], epoch: i64) -> Result<()> {
    if let Some(p) = dst.parent() {
        fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
    }
    fs::write(dst, bytes).with_context(|| format!("writing {}", dst.display()))?;
    touch(dst, epoch)
}

/// Copies `src` to `dst` (creating parents) with mtime `epoch`.
pub fn copy(src: &Path, dst: &Path, epoch: i64) -> Result<()> {
    if let Some(p) = dst.parent() {
        fs::create_dir_all(p).with_context(|| format!("creating {}", p.display()))?;
    }
    // Through the input gate: a FIFO or a device given as --initrd is refused.
    let mut from = b4k_input::open(src)?;
    let mut to = fs::File::create(dst).with_context(|| format!("creating {}", dst.display()))?;
    std::io::copy(&mut from, &mut to)
        .with_context(|| format!("copying {} to {}", src.display(), dst.display()))?;
    touch(dst, epoch)
}

fn touch(p: &Path, epoch: i64) -> Result<()> {
    let f = fs::File::open(p).with_context(|| format!("opening {}", p.display()))?;
    f.set_modified(time(epoch))
        .with_context(|| format!("setting the time of {}", p.display()))
}

/// Sets the mtime of `dir` and every directory below it to `epoch` (after the
/// files are in: adding a file changes its directory's time).
pub fn touch_dirs(dir: &Path, epoch: i64) -> Result<()> {
    for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
        let entry = entry?;
        if entry.file_type()?.is_dir() {
            touch_dirs(&entry.path(), epoch)?;
        }
    }
    touch(dir, epoch)
}

/// Regular files below `dir`, as sorted `/`-separated relative paths.
pub fn list_files(dir: &Path) -> Result<Vec<String>> {
    fn walk(base: &Path, dir: &Path, out: &mut Vec<String>) -> Result<()> {
        for entry in fs::read_dir(dir).with_context(|| format!("reading {}", dir.display()))? {
            let entry = entry?;
            let path = entry.path();
            let ty = entry.file_type()?;
            if ty.is_symlink() {
                // Never followed: a link to `.` would be a loop, one to a file
                // elsewhere would put that file in the image.
                anyhow::bail!(
                    "{}: a symbolic link in the boot partition's files; stage files, not links",
                    path.display()
                );
            } else if ty.is_dir() {
                walk(base, &path, out)?;
            } else {
                let rel: PathBuf = path.strip_prefix(base)?.to_path_buf();
                out.push(rel.to_string_lossy().into_owned());
            }
        }
        Ok(())
    }
    let mut out = Vec::new();
    walk(dir, dir, &mut out)?;
    out.sort();
    Ok(out)
}

/// Moves a set of finished files from `from` into `dir` as a whole: all new or, on
/// any failure, all as before. Each file is first brought beside its destination
/// (`.<name>.b4k-new`: a copy when `from` is on another file system, the step that
/// can fail), then the old files are set aside and the new ones renamed in (renames
/// within one directory), and only then are the old ones removed.
pub fn place_all(from: &Path, dir: &Path, names: &[String]) -> Result<()> {
    let beside = |name: &str, tag: &str| dir.join(format!(".{name}.b4k-{tag}"));
    let mut staged = Vec::new();
    for name in names {
        let tmp = beside(name, "new");
        if let Err(e) = bring(&from.join(name), &tmp).and_then(|_| sync(&tmp)) {
            for t in &staged {
                let _ = fs::remove_file(t);
            }
            return Err(e);
        }
        staged.push(tmp);
    }
    let mut done: Vec<(&String, bool)> = Vec::new();
    for name in names {
        let dst = dir.join(name);
        let had_old = dst.exists();
        let r = (if had_old {
            fs::rename(&dst, beside(name, "old"))
        } else {
            Ok(())
        })
        .and_then(|_| fs::rename(beside(name, "new"), &dst));
        if let Err(e) = r {
            // Put back what was there: the set stays all old.
            for (n, old) in done.iter().chain([(name, had_old)].iter()) {
                if *old {
                    let _ = fs::rename(beside(n, "old"), dir.join(n));
                } else {
                    let _ = fs::remove_file(dir.join(n));
                }
            }
            for n in names {
                let _ = fs::remove_file(beside(n, "new"));
            }
            return Err(e).with_context(|| format!("moving {name} into {}", dir.display()));
        }
        done.push((name, had_old));
    }
    for name in names {
        let _ = fs::remove_file(beside(name, "old"));
    }
    sync(dir)
}

/// Flushes `p` (a file, or a directory's entries) to the disk.
fn sync(p: &Path) -> Result<()> {
    fs::File::open(p)
        .and_then(|f| f.sync_all())
        .with_context(|| format!("syncing {}", p.display()))
}

/// `src` to `dst`: a rename, or across file systems a copy.
fn bring(src: &Path, dst: &Path) -> Result<()> {
    if fs::rename(src, dst).is_ok() {
        return Ok(());
    }
    fs::copy(src, dst)
        .map(|_| ())
        .with_context(|| format!("copying {} to {}", src.display(), dst.display()))
        .inspect_err(|_| {
            let _ = fs::remove_file(dst);
        })
}
