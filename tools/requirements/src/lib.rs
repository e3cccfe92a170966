//! The kernel options a node requires: a TOML data file listing, in groups, the kernel options a
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
//!
//! [`check_config`] checks a finished `.config` against it (`b4k lint-kernel --config`);
//! [`coverage`] checks any set of final values (the fragment lint's prediction too).

use anyhow::{bail, Result};
use b4k_findings::{Finding, Report};
use b4k_kconfig::model::{Kconfig, Type};
use serde::Deserialize;
use std::path::{Path, PathBuf};

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
    name: toml::Spanned<String>,
    level: Level,
    #[serde(default)]
    #[allow(dead_code)]
    source: Option<String>,
    #[serde(default)]
    #[allow(dead_code)]
    note: Option<String>,
    options: Vec<toml::Spanned<String>>,
}

#[derive(Deserialize)]
#[serde(deny_unknown_fields)]
struct Excluded {
    options: Vec<toml::Spanned<String>>,
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

/// Loads the required set; each requirement knows its line (from the TOML spans:
/// one pass over the text, however long the file).
pub fn load(path: &Path) -> Result<Vec<Requirement>> {
    let text = b4k_input::read_text(path)?;
    let starts = b4k_input::line_starts(&text);
    let file: File = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| b4k_input::line_of(&starts, s.start));
        anyhow::anyhow!("{}:{line}: {}", path.display(), e.message())
    })?;
    let mut out = Vec::new();
    let excluded = file.excluded;
    if file.group.is_empty() {
        bail!(
            "{}:1: no [[group]] of options: nothing would be checked; list the options a \
             node needs in [[group]] tables",
            path.display()
        );
    }
    for g in file.group {
        let gline = b4k_input::line_of(&starts, g.name.span().start);
        let gname = g.name.into_inner();
        if g.options.is_empty() {
            bail!(
                "{}:{gline}: group '{gname}' has no options: it would be \"0/0 satisfied\"; \
                 list its options or remove the group",
                path.display()
            );
        }
        for o in g.options {
            let line = b4k_input::line_of(&starts, o.span().start);
            let o = o.into_inner();
            let (name, exact) = match o.split_once('=') {
                Some((n, v)) => (n.to_string(), Some(v.to_string())),
                None => (o.clone(), None),
            };
            let name = name.strip_prefix("CONFIG_").unwrap_or(&name).to_string();
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
                group: gname.clone(),
                file: path.display().to_string(),
                line,
            });
        }
    }
    check_excluded(path, &starts, &excluded, &out)?;
    Ok(out)
}

/// An excluded option must be a plain option name, have a reason, and not be
/// required by any group.
fn check_excluded(
    path: &Path,
    starts: &[usize],
    excluded: &[Excluded],
    required: &[Requirement],
) -> Result<()> {
    for e in excluded {
        for o in &e.options {
            let line = b4k_input::line_of(starts, o.span().start);
            let o = o.get_ref();
            if o.is_empty() || !o.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_') {
                bail!(
                    "{}:{line}: excluded '{o}' is not a kernel option name",
                    path.display()
                );
            }
            if let Some(bare) = o.strip_prefix("CONFIG_") {
                bail!(
                    "{}:{line}: excluded '{o}': write the name without CONFIG_ ('{bare}'), as \
                     the kernel's Kconfig does; as written it matches no option",
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

/// Checks every requirement against final values (`value(name)`, `None`: absent);
/// with the kernel's Kconfig `k`, a name the tree does not know is said so.
pub fn coverage(
    reqs: &[Requirement],
    value: &dyn Fn(&str) -> Option<String>,
    k: Option<&Kconfig>,
) -> Vec<Finding> {
    let mut out = Vec::new();
    for r in reqs {
        let v = value(&r.name);
        if r.satisfied_by(v.as_deref()) {
            continue;
        }
        let have = match v.as_deref() {
            None => "absent".to_string(),
            Some(v) => format!("={v}"),
        };
        let want = r.exact.as_deref().unwrap_or("y or m");
        let unknown = k.is_some_and(|k| match k.find(&r.name) {
            None => true,
            Some(s) => k.syms[s].ty == Type::Unknown,
        });
        let mut message = format!("CONFIG_{} is {have}, {} needs {want}", r.name, r.group);
        if unknown {
            message.push_str(": the kernel tree has no such option");
        }
        let f = match r.level {
            Level::Required => Finding::error(&r.file, r.line, "required-missing", message),
            Level::Optional => Finding::warning(&r.file, r.line, "optional-missing", message),
        };
        out.push(f.about(&r.name));
    }
    out
}

/// How many requirements `value` satisfies.
pub fn satisfied(reqs: &[Requirement], value: &dyn Fn(&str) -> Option<String>) -> usize {
    reqs.iter()
        .filter(|r| r.satisfied_by(value(&r.name).as_deref()))
        .count()
}

/// Options of the check of a finished kernel configuration.
#[derive(Debug, Clone)]
pub struct ConfigCheck {
    /// The `.config` (or `/proc/config.gz`) to check.
    pub config: PathBuf,
    /// The required set (board/common/kernel-requirements.toml).
    pub requirements: PathBuf,
}

/// Checks a finished `.config` against the required set: one finding per missing
/// option, located at its line in the requirements file; the values in `data`.
pub fn check_config(opts: &ConfigCheck) -> Result<Report> {
    let reqs = load(&opts.requirements)?;
    let values = b4k_kconfig::dotconfig::read(&opts.config)?;
    let value = |n: &str| values.get(n).cloned();
    let mut report = Report::new(coverage(&reqs, &value, None));
    report.notes.push(format!(
        "{}: required set {}/{} satisfied",
        opts.config.display(),
        satisfied(&reqs, &value),
        reqs.len()
    ));
    let shown: std::collections::BTreeMap<&str, Option<&String>> = reqs
        .iter()
        .map(|r| (r.name.as_str(), values.get(&r.name)))
        .collect();
    report.data = Some(serde_json::json!({ "values": shown }));
    Ok(report)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn write(name: &str, text: &[u8]) -> PathBuf {
        let p = std::env::temp_dir().join(format!("b4k-req-{}-{name}", std::process::id()));
        std::fs::write(&p, text).unwrap();
        p
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
            let p = write(
                &format!("excluded-{name}.toml"),
                format!("{group}\n[[excluded]]\n{entry}\n").as_bytes(),
            );
            match (load(&p), want) {
                (Ok(r), None) => assert_eq!(r.len(), 1, "{name}"),
                (Err(e), Some(w)) => assert!(e.to_string().ends_with(w), "{name}: {e}"),
                (got, _) => panic!("{name}: {:?}", got.map(|r| r.len())),
            }
        }
    }

    /// Nonsense that used to pass: an empty group, no group, an excluded name with
    /// its CONFIG_ prefix.
    #[test]
    fn nonsense_is_an_error_with_its_line() {
        for (name, text, want) in [
            (
                "empty-group.toml",
                "[[group]]\nname = \"g\"\nlevel = \"required\"\noptions = []\n",
                ":2: group 'g' has no options",
            ),
            ("no-group.toml", "group = []\n", ":1: no [[group]]"),
            (
                "prefixed.toml",
                "[[group]]\nname = \"g\"\nlevel = \"required\"\noptions = [\"A\"]\n\n[[excluded]]\noptions = [\"CONFIG_B\"]\nreason = \"r\"\n",
                ":7: excluded 'CONFIG_B': write the name without CONFIG_ ('B')",
            ),
        ] {
            let p = write(name, text.as_bytes());
            let e = load(&p).unwrap_err().to_string();
            assert!(e.contains(want), "{name}: {e}");
        }
    }

    #[test]
    fn lines_come_from_the_toml() {
        let p = write(
            "lines.toml",
            b"[[group]]\nname = \"a\"\nlevel = \"required\"\noptions = [\n  \"A\",\n  \"B=y\",\n]\n",
        );
        let r = load(&p).unwrap();
        assert_eq!(
            r.iter()
                .map(|r| (r.name.as_str(), r.line))
                .collect::<Vec<_>>(),
            [("A", 5), ("B", 6)]
        );
        assert_eq!(r[1].exact.as_deref(), Some("y"));
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn a_long_file_is_linear() {
        // 40,000 options: the old per-option search from the group's line was
        // quadratic (minutes); the spans make it one pass.
        let mut t = String::from("[[group]]\nname = \"g\"\nlevel = \"optional\"\noptions = [\n");
        for i in 0..40_000 {
            t.push_str(&format!("\"OPT_{i}\",\n"));
        }
        t.push_str("]\n");
        let p = write("long.toml", t.as_bytes());
        let start = std::time::Instant::now();
        let r = load(&p).unwrap();
        assert_eq!(r.len(), 40_000);
        assert_eq!(r[39_999].line, 40_004);
        assert!(start.elapsed().as_secs() < 10, "{:?}", start.elapsed());
        let _ = std::fs::remove_file(p);
    }

    #[test]
    fn bad_bytes_and_devices_are_errors_with_place() {
        let p = write("utf8.toml", b"[[group]]\nname = \"\xff\"\n");
        let e = format!("{:#}", load(&p).unwrap_err());
        assert!(e.contains(":2: not UTF-8 (byte 0xff at column 9)"), "{e}");
        let _ = std::fs::remove_file(p);
        let e = format!("{:#}", load(Path::new("/dev/zero")).unwrap_err());
        assert!(e.contains("not a regular file"), "{e}");
    }
}
