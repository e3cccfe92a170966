//! Paths that come from data (a board's `image.toml`, a data file's names): kept
//! under the directory they are relative to, at the place they are used.

use anyhow::{bail, Result};
use std::path::{Component, Path, PathBuf};

/// `root/rel`, where `rel` (named `what` in errors, e.g. `image.toml: input.to`)
/// is a relative path without `..`, and no existing component below `root` is a
/// symbolic link (so a later write lands under `root`, whatever the data says).
/// Checked when the path is used: a link made by an earlier step is seen too.
pub fn under(root: &Path, rel: &str, what: &str) -> Result<PathBuf> {
    if rel.is_empty() || rel.contains('\0') || rel.contains('\n') {
        bail!("{what} = {rel:?}: not a usable path; give a relative path such as \"boot/file\"");
    }
    let p = Path::new(rel);
    let mut out = root.to_path_buf();
    let mut normal = 0;
    for c in p.components() {
        match c {
            Component::Normal(n) => {
                out.push(n);
                normal += 1;
                if std::fs::symlink_metadata(&out).is_ok_and(|m| m.file_type().is_symlink()) {
                    bail!(
                        "{what} = {rel:?}: {} is a symbolic link; b4k does not write through \
                         links (it could leave {})",
                        out.display(),
                        root.display()
                    );
                }
            }
            Component::CurDir => {}
            Component::ParentDir | Component::RootDir | Component::Prefix(_) => bail!(
                "{what} = {rel:?}: leaves {}; give a path relative to it without '..'",
                root.display()
            ),
        }
    }
    if normal == 0 {
        bail!(
            "{what} = {rel:?}: names {} itself; give a file below it",
            root.display()
        );
    }
    Ok(out)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn escapes_are_refused() {
        let d = tempfile::tempdir().unwrap();
        let r = d.path();
        std::fs::create_dir(r.join("sub")).unwrap();
        std::os::unix::fs::symlink("/tmp", r.join("sub/link")).unwrap();
        std::os::unix::fs::symlink(".", r.join("dot")).unwrap();
        assert_eq!(under(r, "a/b", "x").unwrap(), r.join("a/b"));
        assert_eq!(under(r, "./sub/c", "x").unwrap(), r.join("sub/c"));
        for bad in [
            "",
            ".",
            "/etc/passwd",
            "../x",
            "a/../../x",
            "sub/link",
            "sub/link/f",
            "dot/f",
            "a\nb",
        ] {
            let e = under(r, bad, "image.toml: input.to")
                .unwrap_err()
                .to_string();
            assert!(e.starts_with("image.toml: input.to = "), "{bad}: {e}");
        }
    }
}
