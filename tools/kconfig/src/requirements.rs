//! The required set: a TOML data file listing, in groups, the kernel options a
//! node needs (`level = "required"`: missing is an error; `"optional"`: a warning).
//!
//! ```toml
//! [[group]]
//! name = "kubeadm SystemVerification"
//! level = "required"
//! source = "https://..."
//! options = ["NAMESPACES", "IKCONFIG_PROC=y"]
//! ```
//! An option is satisfied by `y` or `m`; `NAME=y` demands exactly `y`.
//!
//! Options a peer checker asks for that the node deliberately goes without are
//! listed with the reason, and are never required:
//!
//! ```toml
//! [[excluded]]
//! options = ["SECURITY_SELINUX"]
//! reason = "the image ships no SELinux policy"
//! ```

use anyhow::{bail, Context, Result};
use serde::Deserialize;
use std::path::Path;

/// Severity of a missing option.
#[derive(Deserialize, Debug, Clone, Copy, PartialEq, Eq)]
#[serde(rename_all = "lowercase")]
pub enum Level {
    /// Missing is an error.
    Required,
    /// Missing is a warning.
    Optional,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Group {
    name: String,
    level: Level,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    options: Vec<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Excluded {
    options: Vec<String>,
    reason: String,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct File {
    group: Vec<Group>,
    #[serde(default)]
    excluded: Vec<Excluded>,
}

/// One required option.
#[derive(Debug, Clone)]
pub struct Requirement {
    /// Symbol name without `CONFIG_`.
    pub name: String,
    /// `Some("y")` when exactly `y` is needed; `None` for `y` or `m`.
    pub exact: Option<String>,
    /// Required or optional.
    pub level: Level,
    /// The group's name (why it is needed).
    pub group: String,
    /// File and line of the entry, for messages.
    pub file: String,
    /// Line of the entry in the file.
    pub line: usize,
}

impl Requirement {
    /// Whether a final value (`None`: absent) satisfies the requirement.
    pub fn satisfied_by(&self, value: Option<&str>) -> bool {
        match (&self.exact, value) {
            (_, None) => false,
            (Some(want), Some(v)) => v == want,
            (None, Some(v)) => v == "y" || v == "m",
        }
    }
}

/// Loads the required set.
pub fn load(path: &Path) -> Result<Vec<Requirement>> {
    let text =
        std::fs::read_to_string(path).with_context(|| format!("reading {}", path.display()))?;
    let file: File = toml::from_str(&text).map_err(|e| {
        let line = e
            .span()
            .map(|s| text[..s.start.min(text.len())].matches('\n').count() + 1)
            .unwrap_or(0);
        anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
    })?;
    let mut out = Vec::new();
    let lines: Vec<&str> = text.lines().collect();
    let excluded = &file.excluded;
    let mut cursor = 0;
    for g in file.group {
        let header = format!("\"{}\"", g.name);
        if let Some(i) = lines[cursor..].iter().position(|l| l.contains(&header)) {
            cursor += i;
        }
        for o in g.options {
            let (name, exact) = match o.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (o.clone(), None),
            };
            let name = name.strip_prefix("CONFIG_").unwrap_or(&name).to_string();
            let needle = format!("\"{o}\"");
            let line = lines[cursor..]
                .iter()
                .position(|l| l.contains(&needle))
                .map_or(0, |i| cursor + i + 1);
            if name.is_empty() || !name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                bail!(
                    "{}:{line}: '{o}' is not a kernel option name",
                    path.display()
                );
            }
            out.push(Requirement {
                name,
                exact,
                level: g.level,
                group: g.name.clone(),
                file: path.display().to_string(),
                line,
            });
        }
    }
    check_excluded(path, &lines, excluded, &out)?;
    Ok(out)
}

/// An excluded option must be a plain option name, have a reason, and not be
/// required by any group.
fn check_excluded(
    path: &Path,
    lines: &[&str],
    excluded: &[Excluded],
    required: &[Requirement],
) -> Result<()> {
    for e in excluded {
        for o in &e.options {
            let needle = format!("\"{o}\"");
            let line = lines
                .iter()
                .rposition(|l| l.contains(&needle))
                .map_or(0, |i| i + 1);
            if o.is_empty() || !o.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                bail!(
                    "{}:{line}: excluded '{o}' is not a kernel option name",
                    path.display()
                );
            }
            if e.reason.trim().is_empty() {
                bail!("{}:{line}: excluded {o} has no reason", path.display());
            }
            if let Some(r) = required.iter().find(|r| &r.name == o) {
                bail!(
                    "{}:{line}: {o} is excluded but required at line {} ({})",
                    path.display(),
                    r.line,
                    r.group
                );
            }
        }
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn load_text(name: &str, text: &str) -> Result<Vec<Requirement>> {
        let p = std::env::temp_dir().join(format!("b4k-req-{}-{name}.toml", std::process::id()));
        std::fs::write(&p, text).unwrap();
        let r = load(&p);
        let _ = std::fs::remove_file(&p);
        r
    }

    #[test]
    fn excluded_options() {
        let group = "[[group]]\nname = \"g\"\nlevel = \"required\"\noptions = [\"VXLAN\"]\n";
        let cases = [
            (
                "ok",
                "options = [\"BTRFS_FS\"]\nreason = \"not used\"",
                None,
            ),
            (
                "required",
                "options = [\"VXLAN\"]\nreason = \"r\"",
                Some(":7: VXLAN is excluded but required at line 4 (g)"),
            ),
            (
                "no-reason",
                "options = [\"BTRFS_FS\"]\nreason = \" \"",
                Some(":7: excluded BTRFS_FS has no reason"),
            ),
            (
                "bad-name",
                "options = [\"BTRFS FS\"]\nreason = \"r\"",
                Some(":7: excluded 'BTRFS FS' is not a kernel option name"),
            ),
        ];
        for (name, entry, want) in cases {
            let text = format!("{group}\n[[excluded]]\n{entry}\n");
            match (load_text(name, &text), want) {
                (Ok(r), None) => assert_eq!(r.len(), 1, "{name}"),
                (Err(e), Some(w)) => assert!(e.to_string().ends_with(w), "{name}: {e}"),
                (got, _) => panic!("{name}: {:?}", got.map(|r| r.len())),
            }
        }
    }
}
