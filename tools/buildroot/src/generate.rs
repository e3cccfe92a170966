//! `b4k-dev defconfig`: write, check or print the defconfigs of
//! `configs/defconfigs.toml`, evaluate loose fragments, or export the index.

use crate::defconfig::{self, Generated, Model, DATA};
use crate::{buildroot, external_name, index, ModelSource, INDEX};
use anyhow::{bail, Context, Result};
use b4k_findings::{Finding, Report};
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

/// What `b4k-dev defconfig` does.
#[derive(Debug, Clone, Default)]
pub enum Mode {
    /// Write every defconfig of the data file that differs from the committed one.
    #[default]
    Write,
    /// Compare the committed defconfigs with what would be generated; write nothing.
    Check,
    /// Write the index of what the tree needs from Buildroot (needs a checkout).
    ExportIndex(PathBuf),
    /// Print one defconfig of the data file, with some option groups chosen otherwise.
    Print {
        /// The defconfig's name in the data file.
        name: String,
        /// `(group, choice)` overrides.
        set: Vec<(String, String)>,
    },
    /// Evaluate these fragment files (merged in order) instead of the data file.
    Fragments(Vec<PathBuf>),
}

/// Options of `b4k-dev defconfig`.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Where Buildroot's model comes from (and the tree).
    pub model: ModelSource,
    /// What to do.
    pub mode: Mode,
}

/// What a run produced: data for stdout (a defconfig, a diff) and the findings.
pub struct Output {
    /// Printed to stdout as is.
    pub text: String,
    /// The findings and notes.
    pub report: Report,
}

/// Runs `b4k-dev defconfig`.
pub fn run(opts: &Options) -> Result<Output> {
    let root = &opts.model.tree;
    let ext = external_name(root)?;
    let model = opts.model.load(&ext)?;
    match &opts.mode {
        Mode::Fragments(files) => fragments(&model, files),
        Mode::Print { name, set } => print(root, &model, name, set),
        Mode::Write | Mode::Check => all(root, &model, matches!(opts.mode, Mode::Check)),
        Mode::ExportIndex(out) => export_index(&opts.model, &model, &ext, out),
    }
}

fn output(g: Generated, mut findings: Vec<Finding>) -> Output {
    findings.extend(g.findings);
    Output {
        text: g.text,
        report: Report::new(findings),
    }
}

/// `--fragment FILE...`: what savedefconfig writes for loose fragment files.
fn fragments(model: &Model, files: &[PathBuf]) -> Result<Output> {
    let mut lines = Vec::new();
    for f in files {
        let text = defconfig::read_config_text(f)?;
        for (i, t) in text.lines().enumerate() {
            let t = t.trim_end();
            let unset = t.starts_with("# ") && t.ends_with(" is not set");
            if !t.is_empty() && (!t.starts_with('#') || unset) {
                lines.push(defconfig::Line {
                    file: f.display().to_string(),
                    line: i + 1,
                    text: t.to_string(),
                });
            }
        }
    }
    Ok(output(defconfig::generate(model, &lines)?, Vec::new()))
}

/// `--print NAME [--set GROUP=CHOICE]...`.
fn print(root: &Path, model: &Model, name: &str, set: &[(String, String)]) -> Result<Output> {
    let data = defconfig::read_data(root)?;
    let spec = data.defconfigs.get(name).with_context(|| {
        format!(
            "{DATA}: no defconfig '{name}' (known: {:?})",
            data.defconfigs.keys().collect::<Vec<_>>()
        )
    })?;
    let mut spec = defconfig::DefconfigSpec {
        fragments: spec.fragments.clone(),
        options: spec.options.clone(),
    };
    for (g, c) in set {
        spec.options.insert(g.clone(), c.clone());
    }
    let frags = defconfig::fragment_list(&data, name, &spec)?;
    let mut findings = Vec::new();
    let lines = defconfig::read_fragments(root, &frags, &mut findings)?;
    Ok(output(defconfig::generate(model, &lines)?, findings))
}

/// Every defconfig of the data file: written, or (`check`) compared.
fn all(root: &Path, model: &Model, check: bool) -> Result<Output> {
    let data = defconfig::read_data(root)?;
    let mut findings = Vec::new();
    let mut text = String::new();
    let mut notes = Vec::new();
    let mut changed = Vec::new();
    for (name, spec) in &data.defconfigs {
        let frags = defconfig::fragment_list(&data, name, spec)?;
        let lines = defconfig::read_fragments(root, &frags, &mut findings)?;
        let g = defconfig::generate(model, &lines)?;
        findings.extend(g.findings);
        let rel = format!("configs/{name}");
        // Where the defconfig goes: under the tree, through no link (a
        // configs/*_defconfig link would carry the write out of the tree).
        let path = b4k_input::under(root, &rel, "configs/defconfigs.toml: defconfig")?;
        let old = match std::fs::symlink_metadata(&path) {
            Err(e) if e.kind() == std::io::ErrorKind::NotFound => String::new(),
            _ => b4k_input::read_text(&path)?,
        };
        if old == g.text {
            continue;
        }
        if check {
            text.push_str(&defconfig::unified_diff(&rel, &old, &g.text));
            findings.push(Finding::error(
                &rel,
                0,
                "stale-defconfig",
                format!(
                    "differs from what `b4k-dev defconfig` generates from {DATA}; run \
                     `b4k-dev defconfig` and commit the result"
                ),
            ));
        }
        changed.push((rel, path, g.text));
    }
    let mut report = Report::new(findings);
    if !check && report.errors() > 0 {
        // A defconfig Buildroot would not keep as written must not replace a good one.
        notes.push(format!(
            "b4k-dev defconfig: nothing written ({} defconfig(s) would change): fix the \
             errors first",
            changed.len()
        ));
    } else if !check {
        for (rel, path, new) in &changed {
            b4k_input::write_atomic(path, new.as_bytes())?;
            notes.push(format!("b4k-dev defconfig: wrote {rel}"));
        }
    }
    report.notes = notes;
    Ok(Output { text, report })
}

/// `--export-index FILE`: the closure of what the tree's files and fragments name.
fn export_index(src: &ModelSource, model: &Model, ext: &str, out: &Path) -> Result<Output> {
    let Some(br) = &src.buildroot else {
        bail!("--export-index needs --buildroot DIR (or BUILDROOT_DIR)");
    };
    let root = &src.tree;
    let data = defconfig::read_data(root)?;
    let mut findings = Vec::new();
    let mut seeds = BTreeSet::new();
    for (name, spec) in &data.defconfigs {
        let frags = defconfig::fragment_list(&data, name, spec)?;
        for l in defconfig::read_fragments(root, &frags, &mut findings)? {
            if let Some(Ok((n, _))) = b4k_kconfig::eval::split_line_prefixed(&l.text, "") {
                seeds.insert(n);
            }
        }
    }
    seeds.extend(tree_symbol_words(root)?);
    let tree = root.canonicalize()?;
    let ix = index::export(
        &model.k,
        &seeds,
        &buildroot::version(br)?,
        &src.host(br)?,
        &tree,
        ext,
    );
    let json = index::to_json(&ix)?;
    index::write(out, &json)?;
    let mut report = Report::new(findings);
    report.notes.push(format!(
        "b4k-dev defconfig: wrote {} ({} symbols, {} choices, {} bytes)",
        out.display(),
        ix.symbols.len(),
        ix.choices.len(),
        json.len()
    ));
    Ok(Output {
        text: String::new(),
        report,
    })
}

/// Every `BR2_` word of the files the tree check checks symbols in.
fn tree_symbol_words(root: &Path) -> Result<BTreeSet<String>> {
    let re = regex::Regex::new(r"\bBR2_[A-Za-z0-9_]+")?;
    let mut out = BTreeSet::new();
    for d in ["configs", "board", "package"] {
        for e in walkdir::WalkDir::new(root.join(d))
            .into_iter()
            .filter_map(|e| e.ok())
        {
            if !e.file_type().is_file() || e.path().ends_with(INDEX) {
                continue;
            }
            // Through the gate: a FIFO or a link to a device among them is an
            // error naming it, not a hang; binary files (images) are skipped.
            let b = b4k_input::read(e.path())?;
            if let Ok(t) = std::str::from_utf8(&b) {
                out.extend(re.find_iter(t).map(|m| m.as_str().to_string()));
            }
        }
    }
    let t = b4k_input::read_text(&root.join("Config.in"))?;
    out.extend(re.find_iter(&t).map(|m| m.as_str().to_string()));
    Ok(out)
}
