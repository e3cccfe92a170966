//! Checks of a BR2_EXTERNAL tree beyond Buildroot's `utils/check-package`
//! (`b4k-dev check`): hashes, symbol names, named files, systemd units, host paths.
//!
//! Every rule reads plain files of the external tree and reports findings located at
//! `file:line` (paths relative to the tree); a run reports all of them at once.

use anyhow::{Context, Result};
use b4k_findings::Finding;
use regex::Regex;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};
use walkdir::WalkDir;

/// Systemd units the overlay may enable although neither the overlay nor a package of
/// this tree installs them: each is installed by the Buildroot package named in the
/// comment (with `BUILDROOT_DIR` set, `b4k-dev check` verifies that claim against
/// Buildroot's `package/` directory).
pub const BUILDROOT_UNITS: &[(&str, &str)] = &[
    // package/containerd/containerd.mk installs it from containerd's sources
    ("containerd.service", "containerd"),
    // package/docker-engine/docker-engine.mk (contrib/init/systemd)
    ("docker.service", "docker-engine"),
    ("docker.socket", "docker-engine"),
    // package/nfs-utils/nfs-utils.mk (systemd/ of nfs-utils' sources)
    ("nfs-server.service", "nfs-utils"),
    // package/openssh/sshd.service
    ("sshd.service", "openssh"),
    // package/systemd/systemd.mk (systemd's own getty template)
    ("getty@.service", "systemd"),
];

/// Environment variables Buildroot exports to post-build/post-image scripts and to
/// make: they look like Kconfig symbols but are not (see Buildroot's manual,
/// "Customizing the generated target filesystem", and support/scripts/br2-external).
const BUILDROOT_ENV: &[&str] = &["BR2_CONFIG", "BR2_EXTERNAL", "BR2_DL_DIR"];

/// What `b4k-dev check` knows about Buildroot: the Kconfig symbol names (from a checkout
/// or the index) and, with a checkout, its `package/` directory.
#[derive(Default)]
pub struct Known {
    /// All symbol names Buildroot plus this tree define, if known.
    pub symbols: Option<HashSet<String>>,
    /// Where the names came from (for messages).
    pub symbols_from: String,
    /// Buildroot's `package/` directory, to verify [`BUILDROOT_UNITS`].
    pub buildroot_packages: Option<PathBuf>,
    /// The names come from an index, which holds only what the tree used when it was
    /// exported: a missing name may be a Buildroot symbol added since.
    pub from_index: bool,
}

/// Runs every rule on the tree at `root`.
pub fn check_tree(root: &Path, known: &Known) -> Result<Vec<Finding>> {
    let mut out = Vec::new();
    let files = tree_files(root, &mut out)?;
    let ext_name = b4k_buildroot::external_name(root)?;
    check_hashes(root, &mut out)?;
    check_symbols(root, &files, &ext_name, known, &mut out)?;
    check_named_files(root, &files, &ext_name, &mut out)?;
    check_units(root, known, &mut out)?;
    check_host_paths(root, &files, &mut out)?;
    out.sort();
    out.dedup();
    Ok(out)
}

/// The files of the tree (relative paths, sorted): git's list when `root` is a git
/// work tree, otherwise every file outside `target/`, `.git/` and `output/`. Names
/// Buildroot could not use (not UTF-8, a newline or another control character)
/// and files that are not regular files (a FIFO, a device, a link to one: the
/// tools would refuse to read them, Buildroot would hang or read without end) are
/// findings, and left out of the list.
fn tree_files(root: &Path, out: &mut Vec<Finding>) -> Result<Vec<String>> {
    let mut names: Vec<Vec<u8>> = Vec::new();
    let mut git = std::process::Command::new("git");
    git.arg("-C").arg(root).args([
        "ls-files",
        "-z",
        "--cached",
        "--others",
        "--exclude-standard",
    ]);
    let limits = b4k_input::Limits::new(120, 256 << 20);
    match b4k_input::run(&mut git, "git ls-files", limits, None) {
        Ok(o) if o.status.success() => {
            names.extend(
                o.stdout
                    .split(|&b| b == 0)
                    .filter(|s| !s.is_empty())
                    .map(<[u8]>::to_vec),
            );
        }
        _ => {
            let skip = |e: &walkdir::DirEntry| {
                let n = e.file_name().to_string_lossy();
                e.depth() == 1 && matches!(n.as_ref(), ".git" | "target" | "output" | "buildroot")
            };
            for e in WalkDir::new(root).into_iter().filter_entry(|e| !skip(e)) {
                let e = e.with_context(|| format!("listing {}", root.display()))?;
                if e.file_type().is_dir() {
                    continue;
                }
                if let Ok(rel) = e.path().strip_prefix(root) {
                    use std::os::unix::ffi::OsStrExt;
                    names.push(rel.as_os_str().as_bytes().to_vec());
                }
            }
        }
    }
    let mut v = Vec::new();
    for raw in names {
        let shown = String::from_utf8_lossy(&raw).escape_debug().to_string();
        let Ok(rel) = String::from_utf8(raw) else {
            push(
                out,
                &shown,
                0,
                "file-name",
                "the file name is not UTF-8; rename it (Buildroot's make and Kconfig \
                 handle names as text)"
                    .into(),
            );
            continue;
        };
        if rel.chars().any(char::is_control) {
            push(
                out,
                &shown,
                0,
                "file-name",
                "the file name holds a newline or another control character; rename it \
                 (make splits such names)"
                    .into(),
            );
            continue;
        }
        let p = root.join(&rel);
        let Ok(meta) = p.symlink_metadata() else {
            continue;
        };
        // Links are judged by what they lead to (a link to /dev/zero is a device),
        // except systemd's mask, a link to /dev/null: it reads as empty.
        let mask = std::fs::read_link(&p).is_ok_and(|t| t == Path::new("/dev/null"));
        let target = if mask {
            None
        } else if meta.file_type().is_symlink() {
            std::fs::metadata(&p).ok()
        } else {
            Some(meta)
        };
        if target.is_some_and(|m| !m.is_file() && !m.is_dir()) {
            push(
                out,
                &rel,
                0,
                "special-file",
                "not a regular file (a FIFO, a device or a link to one): Buildroot would \
                 hang or read without end on it; replace it by a file"
                    .into(),
            );
            continue;
        }
        v.push(rel);
    }
    v.sort();
    Ok(v)
}

/// The text of a file of the tree through the input gate; `None` when it is
/// missing, not a regular file (reported once by [`tree_files`]), or binary.
fn read_text(root: &Path, rel: &str) -> Option<String> {
    read_path(&root.join(rel))
}

/// [`read_text`] of any path.
fn read_path(p: &Path) -> Option<String> {
    let b = b4k_input::read(p).ok()?;
    if b.contains(&0) {
        return None;
    }
    String::from_utf8(b).ok()
}

fn push(out: &mut Vec<Finding>, file: &str, line: usize, code: &'static str, message: String) {
    out.push(Finding::error(file, line, code, message));
}

const HASH_LEN: &[(&str, usize)] = &[
    ("md5", 32),
    ("sha1", 40),
    ("sha224", 56),
    ("sha256", 64),
    ("sha384", 96),
    ("sha512", 128),
];

/// A parsed `.hash` file: the file names it has hashes for.
fn parse_hash(rel: &str, text: &str, out: &mut Vec<Finding>) -> BTreeSet<String> {
    let mut names = BTreeSet::new();
    let mut prev_comment = false;
    let mut in_block = false;
    for (i, line) in text.lines().enumerate() {
        let n = i + 1;
        let t = line.trim();
        if t.is_empty() {
            prev_comment = false;
            in_block = false;
            continue;
        }
        if t.starts_with('#') {
            prev_comment = true;
            in_block = false;
            continue;
        }
        let f: Vec<&str> = t.split_whitespace().collect();
        if f.len() != 3 {
            push(
                out,
                rel,
                n,
                "malformed-hash",
                "malformed hash line: expected '<algo>  <hash>  <file>'".into(),
            );
            continue;
        }
        match HASH_LEN.iter().find(|(a, _)| *a == f[0]) {
            None => push(
                out,
                rel,
                n,
                "unknown-hash-type",
                format!(
                    "unknown hash type '{}' (md5, sha1, sha224, sha256, sha384, sha512)",
                    f[0]
                ),
            ),
            Some((a, len)) => {
                if f[1].len() != *len || !f[1].chars().all(|c| c.is_ascii_hexdigit()) {
                    push(
                        out,
                        rel,
                        n,
                        "malformed-hash",
                        format!("{a} hash must be {len} hex digits"),
                    );
                }
            }
        }
        if !prev_comment && !in_block {
            push(
                out,
                rel,
                n,
                "hash-source",
                format!(
                    "hash of {} has no source comment above it: add '# From <URL>' or \
                     '# Locally computed: <how>' on the line before",
                    f[2]
                ),
            );
        }
        in_block = true;
        prev_comment = false;
        names.insert(f[2].to_string());
    }
    names
}

/// Every package has a `.hash` with its license files' hashes, each hash under a
/// comment saying where it came from.
fn check_hashes(root: &Path, out: &mut Vec<Finding>) -> Result<()> {
    let pkgdir = root.join("package");
    let Ok(rd) = std::fs::read_dir(&pkgdir) else {
        return Ok(());
    };
    let mut dirs: Vec<_> = rd.filter_map(|e| e.ok()).map(|e| e.path()).collect();
    dirs.sort();
    let lic_re = Regex::new(r"^\s*([A-Z0-9_]+)_LICENSE_FILES\s*(\+=|:=|\?=|=)\s*(.*)$")?;
    for d in dirs {
        if !d.is_dir() {
            continue;
        }
        let name = d
            .file_name()
            .map(|n| n.to_string_lossy().into_owned())
            .unwrap_or_default();
        let mk = format!("package/{name}/{name}.mk");
        let Some(mk_text) = read_text(root, &mk) else {
            continue;
        };
        let hash_rel = format!("package/{name}/{name}.hash");
        let hashed = match read_text(root, &hash_rel) {
            Some(t) => parse_hash(&hash_rel, &t, out),
            None => {
                push(
                    out,
                    &mk,
                    0,
                    "missing-hash",
                    format!(
                        "no {hash_rel}: every package needs one, with its license files' hashes"
                    ),
                );
                continue;
            }
        };
        for (i, line) in mk_text.lines().enumerate() {
            let Some(c) = lic_re.captures(line) else {
                continue;
            };
            for f in c[3].split_whitespace() {
                if f.contains('$') || hashed.contains(f) {
                    continue;
                }
                push(
                    out,
                    &mk,
                    i + 1,
                    "missing-hash",
                    format!(
                        "license file {f} ({}_LICENSE_FILES) has no hash in {hash_rel}: add \
                         '# Locally computed: sha256sum {f}' and its sha256 line",
                        &c[1]
                    ),
                );
            }
        }
    }
    Ok(())
}

fn is_symbol_file(rel: &str) -> bool {
    (rel.starts_with("configs/") && rel != b4k_buildroot::INDEX)
        || rel.starts_with("board/")
        || (rel.starts_with("package/") && rel.contains("/Config.in"))
        || rel == "Config.in"
}

/// Every `BR2_` word in configs/, board/ and the packages' Config.in files is a
/// Kconfig symbol (or one of the variables Buildroot exports to scripts).
fn check_symbols(
    root: &Path,
    files: &[String],
    ext: &str,
    known: &Known,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let Some(syms) = &known.symbols else {
        return Ok(());
    };
    let re = Regex::new(r"\bBR2_[A-Za-z0-9_]+")?;
    let ext_vars = [
        format!("BR2_EXTERNAL_{ext}_PATH"),
        format!("BR2_EXTERNAL_{ext}_DESC"),
        format!("BR2_EXTERNAL_{ext}_VERSION"),
    ];
    for rel in files.iter().filter(|r| is_symbol_file(r)) {
        let Some(text) = read_text(root, rel) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            for m in re.find_iter(line) {
                let w = m.as_str();
                if syms.contains(w) || BUILDROOT_ENV.contains(&w) || ext_vars.iter().any(|v| v == w)
                {
                    continue;
                }
                let message = if known.from_index {
                    format!(
                        "{w} is not in {}: fix the name, or if it is a Buildroot symbol the \
                         tree did not use before, re-export the index with `b4k-dev defconfig \
                         --buildroot DIR --export-index {}`",
                        known.symbols_from,
                        b4k_buildroot::INDEX
                    )
                } else {
                    format!(
                        "{w} is not a Buildroot symbol (checked against {}): fix the name \
                         or drop it",
                        known.symbols_from
                    )
                };
                push(out, rel, i + 1, "unknown-symbol", message);
            }
        }
    }
    Ok(())
}

/// Every path a defconfig, fragment, script or package names through
/// `$(BR2_EXTERNAL_<NAME>_PATH)` (or `$(<PKG>_PKGDIR)` in a .mk) exists.
fn check_named_files(
    root: &Path,
    files: &[String],
    ext: &str,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let var = format!("BR2_EXTERNAL_{ext}_PATH");
    let re = Regex::new(&format!(
        r#"\$(?:\({var}\)|\{{{var}\}}|{var}\b)(/[^\s"'$)}};:|&\\]*)"#
    ))?;
    let pkgdir_re = Regex::new(r#"\$\(([A-Z0-9_]+)_PKGDIR\)/?([^\s"'$)};:|&]*)"#)?;
    for rel in files {
        let in_scope = rel.starts_with("configs/")
            || rel.starts_with("board/")
            || rel.starts_with("package/")
            || rel == "external.mk"
            || rel == "Config.in";
        if !in_scope {
            continue;
        }
        let Some(text) = read_text(root, rel) else {
            continue;
        };
        for (i, line) in text.lines().enumerate() {
            for c in re.captures_iter(line) {
                let p = c[1].trim_end_matches(['.', ',']);
                // A glob (external.mk's package/*/*.mk): its fixed leading directory.
                let fixed = match p.find(['*', '?', '[']) {
                    Some(i) => p[..i].rsplit_once('/').map_or("", |(d, _)| d),
                    None => p,
                };
                if fixed.len() > 1 && !root.join(&fixed[1..]).exists() {
                    push(
                        out,
                        rel,
                        i + 1,
                        "missing-file",
                        format!(
                            "{} names {}, which does not exist in the tree",
                            c[0].trim_end_matches(['.', ',']),
                            &p[1..]
                        ),
                    );
                }
            }
            if rel.ends_with(".mk") {
                let dir = Path::new(rel).parent().unwrap_or(Path::new(""));
                for c in pkgdir_re.captures_iter(line) {
                    let p = &c[2];
                    if !p.is_empty() && !root.join(dir).join(p).exists() {
                        push(
                            out,
                            rel,
                            i + 1,
                            "missing-file",
                            format!(
                                "$({}_PKGDIR)/{p} does not exist: add {}/{p}",
                                &c[1],
                                dir.display()
                            ),
                        );
                    }
                }
            }
        }
    }
    Ok(())
}

const UNIT_SUFFIXES: &[&str] = &[
    ".service",
    ".socket",
    ".target",
    ".timer",
    ".mount",
    ".path",
    ".slice",
    ".automount",
    ".swap",
];

fn is_unit(name: &str) -> bool {
    UNIT_SUFFIXES.iter().any(|s| name.ends_with(s))
}

/// Every unit the overlays enable (presets, `.wants`/`.requires` links) or extend
/// (`<unit>.d/` drop-ins) is installed by the overlay, a package of this tree, or a
/// Buildroot package.
fn check_units(root: &Path, known: &Known, out: &mut Vec<Finding>) -> Result<()> {
    let board = root.join("board");
    if !board.is_dir() {
        return Ok(());
    }
    let overlays = overlays(&board);
    let mut have = package_units(root)?;
    have.extend(overlay_units(&overlays));
    check_enabled_units(root, &overlays, &have, out)?;
    if let Some(pk) = &known.buildroot_packages {
        verify_buildroot_units(pk, out);
    }
    Ok(())
}

/// Units of this tree's packages: files in package/*/ and names their .mk install.
fn package_units(root: &Path) -> Result<HashSet<String>> {
    let mut have: HashSet<String> = HashSet::new();
    let unit_re =
        Regex::new(r"[A-Za-z0-9_@.\-]+\.(?:service|socket|target|timer|mount|path|slice)\b")?;
    for e in WalkDir::new(root.join("package"))
        .into_iter()
        .filter_map(|e| e.ok())
    {
        let n = e.file_name().to_string_lossy().into_owned();
        if is_unit(&n) {
            have.insert(n.clone());
        }
        if n.ends_with(".mk") {
            if let Some(t) = read_path(e.path()) {
                have.extend(unit_re.find_iter(&t).map(|m| m.as_str().to_string()));
            }
        }
    }
    Ok(have)
}

/// The `rootfs-overlay` directories under `board/`, sorted.
fn overlays(board: &Path) -> Vec<PathBuf> {
    let mut overlays = Vec::new();
    for e in WalkDir::new(board).into_iter().filter_map(|e| e.ok()) {
        if e.file_type().is_dir() && e.file_name() == "rootfs-overlay" {
            overlays.push(e.path().to_path_buf());
        }
    }
    overlays.sort();
    overlays
}

/// Units the overlays install (not the `.wants`/`.requires` links).
fn overlay_units(overlays: &[PathBuf]) -> HashSet<String> {
    let mut have = HashSet::new();
    for ov in overlays {
        for e in WalkDir::new(ov).into_iter().filter_map(|e| e.ok()) {
            let n = e.file_name().to_string_lossy().into_owned();
            let parent = e
                .path()
                .parent()
                .and_then(|p| p.file_name())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if is_unit(&n) && !parent.ends_with(".wants") && !parent.ends_with(".requires") {
                have.insert(n);
            }
        }
    }
    have
}

/// Every unit an overlay enables, links or extends is installed somewhere.
fn check_enabled_units(
    root: &Path,
    overlays: &[PathBuf],
    have: &HashSet<String>,
    out: &mut Vec<Finding>,
) -> Result<()> {
    let bundled: HashSet<&str> = BUILDROOT_UNITS.iter().map(|(u, _)| *u).collect();
    let rel = |p: &Path| {
        p.strip_prefix(root)
            .unwrap_or(p)
            .to_string_lossy()
            .into_owned()
    };
    let mut want = |unit: &str, file: &str, line: usize, how: &str| {
        // An instance (getty@tty1.service) comes from its template (getty@.service).
        let template = match unit.split_once('@') {
            Some((a, b)) if !b.starts_with('.') => {
                format!("{a}@.{}", b.rsplit('.').next().unwrap_or(""))
            }
            _ => unit.to_string(),
        };
        if !have.contains(unit) && !have.contains(&template) && !bundled.contains(template.as_str())
        {
            out.push(Finding::error(
                file,
                line,
                "unit-not-installed",
                format!(
                    "{how} {unit}, which neither the overlay, a package of this tree nor a \
                     known Buildroot package installs (tools/treecheck/src/lib.rs \
                     BUILDROOT_UNITS)"
                ),
            ));
        }
    };
    for ov in overlays {
        let mut entries: Vec<_> = WalkDir::new(ov)
            .into_iter()
            .filter_map(|e| e.ok())
            .collect();
        entries.sort_by(|a, b| a.path().cmp(b.path()));
        for e in entries {
            let p = e.path();
            let n = e.file_name().to_string_lossy().into_owned();
            let parent = p
                .parent()
                .and_then(|p| p.file_name())
                .map(|p| p.to_string_lossy().into_owned())
                .unwrap_or_default();
            if n.ends_with(".preset") && e.file_type().is_file() {
                let text = b4k_input::read_text(p)?;
                for (i, line) in text.lines().enumerate() {
                    let mut w = line.split_whitespace();
                    if let (Some("enable"), Some(u)) = (w.next(), w.next()) {
                        if !u.contains('*') {
                            want(u, &rel(p), i + 1, "enables");
                        }
                    }
                }
            } else if parent.ends_with(".wants") || parent.ends_with(".requires") {
                want(&n, &rel(p), 0, "links");
            } else if e.file_type().is_dir() && n.ends_with(".d") && is_unit(&n[..n.len() - 2]) {
                want(&n[..n.len() - 2], &rel(p), 0, "has a drop-in for");
            }
        }
    }
    Ok(())
}

/// [`BUILDROOT_UNITS`]' claims, checked against Buildroot's `package/` directory.
fn verify_buildroot_units(pk: &Path, out: &mut Vec<Finding>) {
    for (unit, pkg) in BUILDROOT_UNITS {
        let dir = pk.join(pkg);
        let mut found = dir.join(unit).exists();
        if let Ok(rd) = std::fs::read_dir(&dir) {
            for e in rd.filter_map(|e| e.ok()) {
                if e.file_name().to_string_lossy().ends_with(".mk") {
                    if let Some(t) = read_path(&e.path()) {
                        found |= t.contains(unit);
                    }
                }
            }
        }
        if !found {
            push(
                out,
                "tools/treecheck/src/lib.rs",
                0,
                "buildroot-units",
                format!(
                    "BUILDROOT_UNITS says Buildroot's package/{pkg} installs {unit}, but \
                         {} does not mention it",
                    dir.display()
                ),
            );
        }
    }
}

/// Top directories of build machines' own paths (home directories, this project's work
/// area, root's home).
const HOST_DIRS: &[&str] = &["home", "work", "Users", "root"];

/// Absolute paths of a build machine (home directories, this project's work area).
/// Inside a rootfs overlay and in Markdown documentation `/root/` and `/home/` are the
/// target's own directories; `/work/` and `/Users/` are flagged everywhere.
fn check_host_paths(root: &Path, files: &[String], out: &mut Vec<Finding>) -> Result<()> {
    let dirs = HOST_DIRS.join("|");
    let re = Regex::new(&format!(r#"(?:^|[\s"'=:(,\[])(/(?:{dirs})/[^\s"'),\]]*)"#))?;
    let target_ok: Vec<String> = ["root", "home"].iter().map(|d| format!("/{d}/")).collect();
    for rel in files {
        // The tools' test fixtures hold such paths on purpose (tools/*/tests/data/).
        if rel.starts_with("tools/") && rel.contains("/tests/data/") {
            continue;
        }
        let Some(text) = read_text(root, rel) else {
            continue;
        };
        // Overlays are the target's file system, and the documentation describes it:
        // there root's home and /home are the target's own directories.
        let overlay = rel.contains("/rootfs-overlay/") || rel.ends_with(".md");
        for (i, line) in text.lines().enumerate() {
            for c in re.captures_iter(line) {
                let p = &c[1];
                if overlay && target_ok.iter().any(|t| p.starts_with(t.as_str())) {
                    continue;
                }
                push(
                    out,
                    rel,
                    i + 1,
                    "host-path",
                    format!(
                        "{p} is a path of a build machine: use a path relative to the tree, \
                         $(BR2_EXTERNAL_..._PATH) or an environment variable"
                    ),
                );
            }
        }
    }
    Ok(())
}

/// Options of `b4k-dev check`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where Buildroot's symbol names come from (and the tree).
    pub model: b4k_buildroot::ModelSource,
}

/// Runs every rule on the tree; symbol names are checked when a checkout or the
/// index is at hand (a note says when they are not).
pub fn run(opts: &Options) -> Result<b4k_findings::Report> {
    let root = &opts.model.tree;
    let ext = b4k_buildroot::external_name(root)?;
    let mut known = Known::default();
    let mut notes = Vec::new();
    let mut extra = Vec::new();
    let index = opts.model.index_path();
    let shown = index
        .strip_prefix(root)
        .unwrap_or(&index)
        .display()
        .to_string();
    let generated = root.join(b4k_buildroot::defconfig::DATA).exists();
    if opts.model.buildroot.is_some() || index.exists() {
        match opts.model.load(&ext) {
            Ok(m) => {
                let names = m.k.order.iter().map(|&s| m.k.syms[s].name.clone());
                known.symbols = Some(names.collect());
                known.symbols_from = m.from;
                known.from_index = m.is_index;
            }
            // A damaged index is a finding of the tree, not a failure of the run.
            Err(e) if opts.model.buildroot.is_none() => {
                extra.push(Finding::error(&shown, 0, "damaged-index", format!("{e:#}")))
            }
            Err(e) => return Err(e),
        }
    } else if generated {
        extra.push(Finding::error(
            &shown,
            0,
            "missing-index",
            format!(
                "missing, and {} generates the defconfigs from it: restore it, or \
                 re-export it with `b4k-dev defconfig --buildroot DIR --export-index {shown}`",
                b4k_buildroot::defconfig::DATA
            ),
        ));
    } else {
        notes.push(format!(
            "b4k-dev check: no Buildroot checkout nor {shown}: symbol names are not checked \
             (set BUILDROOT_DIR)"
        ));
    }
    if let Some(br) = &opts.model.buildroot {
        known.buildroot_packages = Some(br.join("package"));
    }
    let mut findings = check_tree(root, &known)?;
    findings.extend(extra);
    let mut report = b4k_findings::Report::new(findings);
    report.notes = notes;
    Ok(report)
}
