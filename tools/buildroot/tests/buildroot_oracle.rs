//! `b4k-dev defconfig` against Buildroot itself: for the tree's defconfigs and the broken
//! fragments under tests/data/fragments/, Buildroot's own `make defconfig` (olddefconfig)
//! and `make savedefconfig` are the oracle for the verdicts and for the bytes written.
//! The broken fragments' verdicts are also compared with golden files written by hand
//! (`<case>.expected`: `SYMBOL verdict` lines).
//!
//! Needs `BUILDROOT_DIR` (a Buildroot 2026.02.x checkout); without it each test prints
//! why it did nothing and passes.

use b4k_buildroot::defconfig::{self, Line, Model, Verdict};
use std::collections::{BTreeMap, BTreeSet};
use std::path::{Path, PathBuf};
use std::process::Command;

fn root() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn buildroot() -> Option<PathBuf> {
    match std::env::var_os("BUILDROOT_DIR") {
        Some(d) if !d.is_empty() => Some(PathBuf::from(d)),
        _ => {
            eprintln!(
                "SKIPPED: set BUILDROOT_DIR=/path/to/buildroot-2026.02.3 to compare with \
                 Buildroot's own olddefconfig and savedefconfig"
            );
            None
        }
    }
}

fn model(br: &Path) -> Model {
    let host = b4k_buildroot::buildroot::Host::detect(br).expect("host gcc");
    let k = b4k_buildroot::buildroot::load(br, &root(), "KUBERNETES", &host).expect("parse");
    let legacy = b4k_buildroot::index::legacy_symbols(&k)
        .into_iter()
        .collect();
    Model {
        k,
        legacy,
        from: "Buildroot".into(),
        is_index: false,
    }
}

fn lines_of(path: &Path) -> Vec<Line> {
    let text = std::fs::read_to_string(path).expect("fragment");
    text.lines()
        .enumerate()
        .filter(|(_, t)| {
            t.starts_with("BR2_") || (t.starts_with("# BR2_") && t.ends_with(" is not set"))
        })
        .map(|(i, t)| Line {
            file: path.display().to_string(),
            line: i + 1,
            text: t.to_string(),
        })
        .collect()
}

/// `make defconfig` with `file` as BR2_DEFCONFIG in `out`; returns .config as a map
/// and the saved defconfig (None when Buildroot refuses: legacy options).
fn buildroot_run(br: &Path, out: &Path, file: &Path) -> (BTreeMap<String, String>, Option<String>) {
    let st = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(br)
        .arg(format!("O={}", out.display()))
        .arg(format!(
            "BR2_EXTERNAL={}",
            root().canonicalize().unwrap().display()
        ))
        .arg(format!("BR2_DEFCONFIG={}", file.display()))
        .arg("defconfig")
        .stdout(std::process::Stdio::null())
        .status()
        .expect("make defconfig");
    assert!(st.success(), "make defconfig failed for {}", file.display());
    let saved = out.join("saved_defconfig");
    let _ = std::fs::remove_file(&saved);
    let st = Command::new("make")
        .arg("-s")
        .arg("-C")
        .arg(br)
        .arg(format!("O={}", out.display()))
        .arg(format!("BR2_DEFCONFIG={}", saved.display()))
        .arg("savedefconfig")
        .stdout(std::process::Stdio::null())
        .stderr(std::process::Stdio::null())
        .status()
        .expect("make savedefconfig");
    let mut cfg = BTreeMap::new();
    for l in std::fs::read_to_string(out.join(".config"))
        .unwrap()
        .lines()
    {
        if let Some(r) = l
            .strip_prefix("# ")
            .and_then(|r| r.strip_suffix(" is not set"))
        {
            cfg.insert(r.to_string(), "n".to_string());
        } else if let Some((n, v)) = l.split_once('=') {
            if n.starts_with("BR2_") {
                cfg.insert(n.to_string(), v.to_string());
            }
        }
    }
    let legacy = cfg.get("BR2_LEGACY").map(String::as_str) == Some("y");
    assert_eq!(
        st.success(),
        !legacy,
        "make savedefconfig for {}",
        file.display()
    );
    (cfg, std::fs::read_to_string(saved).ok())
}

/// What Buildroot did with each fragment line: the oracle's verdicts.
fn oracle(
    br: &Path,
    out: &Path,
    m: &Model,
    file: &Path,
    lines: &[Line],
) -> (BTreeSet<(String, Verdict)>, Option<String>) {
    let (cfg, saved) = buildroot_run(br, out, file);
    let mut last = BTreeMap::new();
    for l in lines {
        let (n, v) = match l.text.strip_prefix("# ") {
            Some(r) => (
                r.trim_end_matches(" is not set").to_string(),
                "n".to_string(),
            ),
            None => {
                let (n, v) = l.text.split_once('=').unwrap();
                (n.to_string(), v.to_string())
            }
        };
        last.insert(n, v);
    }
    let mut verdicts = BTreeSet::new();
    for (n, v) in &last {
        let have = cfg.get(n).cloned().unwrap_or_else(|| "n".into());
        // Unknown: kconfig has no such symbol (the model is only asked whether the
        // name exists; Buildroot's .config never mentions an unknown name).
        if m.k.find(n).is_none_or(|s| m.k.syms[s].defs.is_empty()) {
            assert!(!cfg.contains_key(n));
            verdicts.insert((n.clone(), Verdict::Unknown));
        } else if have != *v {
            let what = if v == "n" {
                Verdict::Overridden
            } else {
                Verdict::Dropped
            };
            verdicts.insert((n.clone(), what));
        }
    }
    // Legacy: BR2_LEGACY=y, and it goes away when the line is left out.
    if cfg.get("BR2_LEGACY").map(String::as_str) == Some("y") {
        for l in lines {
            let Some((n, "y")) = l.text.split_once('=') else {
                continue;
            };
            let without = out.join("without.fragment");
            let rest: Vec<&str> = lines
                .iter()
                .filter(|x| x.text != l.text)
                .map(|x| x.text.as_str())
                .collect();
            std::fs::write(&without, rest.join("\n") + "\n").unwrap();
            let (c2, _) = buildroot_run(br, out, &without);
            if c2.get("BR2_LEGACY").map(String::as_str) != Some("y") {
                verdicts.insert((n.to_string(), Verdict::Legacy));
            }
        }
    }
    (verdicts, saved)
}

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("b4k-oracle-{tag}-{}", std::process::id()));
    std::fs::create_dir_all(&d).unwrap();
    d
}

/// One test, one output directory: Buildroot builds its `conf` once.
#[test]
fn verdicts_and_savedefconfig_match_buildroot() {
    let Some(br) = buildroot() else { return };
    let m = model(&br);
    let out = scratch("oracle");
    let mut failures = broken_fragments(&br, &m, &out);
    failures.extend(tree_defconfigs_and_variants(&br, &m, &out));
    let _ = std::fs::remove_dir_all(&out);
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// The broken fragments: verdicts equal Buildroot's and the golden files.
fn broken_fragments(br: &Path, m: &Model, out: &Path) -> Vec<String> {
    let dir = root().join("tools/buildroot/tests/data/fragments");
    let mut cases: Vec<PathBuf> = std::fs::read_dir(&dir)
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fragment"))
        .collect();
    cases.sort();
    assert!(cases.len() >= 5);
    let mut failures = Vec::new();
    for case in &cases {
        let lines = lines_of(case);
        let g = defconfig::generate(m, &lines).unwrap();
        let ours: BTreeSet<(String, Verdict)> = g.verdicts.iter().cloned().collect();
        let (theirs, saved) = oracle(br, out, m, case, &lines);
        let golden_path = case.with_extension("expected");
        let golden: BTreeSet<(String, Verdict)> = std::fs::read_to_string(&golden_path)
            .unwrap()
            .lines()
            .map(|l| {
                let (n, v) = l.split_once(' ').unwrap();
                let v = [
                    Verdict::Unknown,
                    Verdict::Invalid,
                    Verdict::Legacy,
                    Verdict::Dropped,
                    Verdict::Overridden,
                ]
                .into_iter()
                .find(|x| x.as_str() == v)
                .unwrap();
                (n.to_string(), v)
            })
            .collect();
        let name = case.file_name().unwrap().to_string_lossy().into_owned();
        if ours != theirs {
            failures.push(format!("{name}: b4k {ours:?} != Buildroot {theirs:?}"));
        }
        if ours != golden {
            failures.push(format!("{name}: b4k {ours:?} != golden {golden:?}"));
        }
        match saved {
            Some(saved) if g.text != saved => failures.push(format!(
                "{name}: savedefconfig differs:\n{}",
                defconfig::unified_diff(&name, &saved, &g.text)
            )),
            None if !ours.iter().any(|v| v.1 == Verdict::Legacy) => {
                failures.push(format!("{name}: Buildroot refused savedefconfig"))
            }
            _ => {}
        }
    }
    failures
}

/// The tree's defconfigs with every option: savedefconfig bytes and verdicts equal
/// Buildroot's, and the committed defconfigs are what Buildroot saves.
fn tree_defconfigs_and_variants(br: &Path, m: &Model, out: &Path) -> Vec<String> {
    let r = root();
    let data = defconfig::read_data(&r).unwrap();
    let mut failures = Vec::new();
    for (name, spec) in &data.defconfigs {
        // Every option of every group, on this defconfig's board.
        let mut specs = vec![(String::new(), spec.options.clone())];
        for (group, choices) in &data.options {
            for c in choices.keys() {
                let mut o = spec.options.clone();
                if o.get(group) != Some(c) {
                    o.insert(group.clone(), c.clone());
                    specs.push((format!(" {group}={c}"), o));
                }
            }
        }
        for (label, options) in specs {
            let s = defconfig::DefconfigSpec {
                fragments: spec.fragments.clone(),
                options,
            };
            let frags = defconfig::fragment_list(&data, name, &s).unwrap();
            let mut f = Vec::new();
            let lines = defconfig::read_fragments(&r, &frags, &mut f).unwrap();
            assert!(f.is_empty(), "{f:?}");
            let merged = out.join("merged.fragment");
            let text: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
            std::fs::write(&merged, text.join("\n") + "\n").unwrap();
            let g = defconfig::generate(m, &lines).unwrap();
            let (theirs, saved) = oracle(br, out, m, &merged, &lines);
            let ours: BTreeSet<(String, Verdict)> = g.verdicts.iter().cloned().collect();
            if ours != theirs {
                failures.push(format!(
                    "{name}{label}: b4k {ours:?} != Buildroot {theirs:?}"
                ));
            }
            let saved = saved.unwrap_or_default();
            if g.text != saved {
                failures.push(format!(
                    "{name}{label}: savedefconfig differs:\n{}",
                    defconfig::unified_diff(name, &saved, &g.text)
                ));
            }
            if label.is_empty() {
                let committed = std::fs::read_to_string(r.join("configs").join(name)).unwrap();
                if committed != saved {
                    failures.push(format!("configs/{name} is not what Buildroot saves"));
                }
            }
        }
    }
    failures
}
