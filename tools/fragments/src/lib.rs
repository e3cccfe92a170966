//! Kernel configuration fragments: what `merge_config.sh -m` + `make olddefconfig`
//! keep of a base configuration plus fragments, predicted in process with the
//! kernel's own Kconfig tree, and why each option that is lost is lost.
//!
//! [`Prediction::new`] does the merge and the evaluation; [`Prediction::report`]
//! turns it into findings (`b4k-dev lint-kernel`), [`Prediction::config`] and
//! [`Prediction::values`] print what olddefconfig would write.

mod lines;

use anyhow::{bail, Context, Result};
use b4k_findings::{Finding, Report};
use b4k_kconfig::eval::{split_line, Eval, LineIssue};
use b4k_kconfig::explain::explain;
use b4k_kconfig::kernel::{self, Line, Tree};
use b4k_kconfig::model::{Tri, Type};
use b4k_requirements::Requirement;
use std::collections::{BTreeMap, BTreeSet, HashMap};
use std::path::{Path, PathBuf};

/// What to predict: a kernel tree, a base configuration, fragments.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// Kernel source tree (with the top-level Kconfig).
    pub kernel_src: PathBuf,
    /// Kernel ARCH: x86_64, arm64, ...
    pub arch: String,
    /// Cross-compiler prefix for `$(cc-option,...)`; `None`: derived from `arch`.
    pub cross_compile: Option<String>,
    /// An in-tree defconfig name as Buildroot's BR2_LINUX_KERNEL_DEFCONFIG spells
    /// it (`x86_64`, `defconfig`), or a config file.
    pub base: String,
    /// Fragments, merged in order.
    pub fragments: Vec<PathBuf>,
}

fn default_cross(arch: &str) -> String {
    let host = std::env::consts::ARCH;
    match arch {
        "arm64" if host != "aarch64" => "aarch64-linux-gnu-".into(),
        "x86_64" | "x86" if host != "x86_64" => "x86_64-linux-gnu-".into(),
        _ => String::new(),
    }
}

/// A base configuration plus fragments, merged and evaluated.
pub struct Prediction {
    tree: Tree,
    base: String,
    frags: Vec<Vec<Line>>,
    merged: Vec<Line>,
    issues: Vec<(usize, LineIssue)>,
}

impl Prediction {
    /// Parses the kernel tree, reads the base and the fragments, merges them.
    pub fn new(opts: &Options) -> Result<Prediction> {
        let cross = opts
            .cross_compile
            .clone()
            .unwrap_or_else(|| default_cross(&opts.arch));
        let tree = kernel::load(&opts.kernel_src, &opts.arch, &cross)?;
        let base_lines = base_lines(&tree, opts)?;
        let mut frags = Vec::new();
        for f in &opts.fragments {
            frags.push(kernel::read_lines(f, true)?);
        }
        let merged = kernel::merge(base_lines, &frags);
        let mut ev = Eval::new(&tree.kconfig);
        let issues = ev.read(&texts(&merged));
        ev.calc_all();
        ev.check()?;
        drop(ev);
        Ok(Prediction {
            tree,
            base: opts.base.clone(),
            frags,
            merged,
            issues,
        })
    }

    fn eval(&self) -> Eval<'_> {
        let mut ev = Eval::new(&self.tree.kconfig);
        ev.read(&texts(&self.merged));
        ev.calc_all();
        ev
    }

    /// The predicted `.config` (assignments only), as olddefconfig writes it.
    pub fn config(&self) -> String {
        let mut t = self.eval().write_config().join("\n");
        t.push('\n');
        t
    }

    /// The predicted final value of every option the fragments set (`None`: olddefconfig
    /// would not write it).
    pub fn values(&self) -> BTreeMap<String, Option<String>> {
        let mut ev = self.eval();
        let k = &self.tree.kconfig;
        fragment_names(&self.frags)
            .into_iter()
            .map(|n| {
                let v = k.find(&n).and_then(|s| ev.config_value(s));
                (n, v)
            })
            .collect()
    }

    /// Every finding about the fragments, and the coverage of `reqs`.
    pub fn report(&self, reqs: &[Requirement]) -> Report {
        let mut ev = self.eval();
        let mut findings = lines::findings(&self.tree, &mut ev, &self.merged, &self.issues);
        findings.extend(self.coverage(&mut ev, reqs));
        let mut report = Report::new(findings);
        report.notes.push(self.summary(&mut ev, &report, reqs));
        let mut values = self.values();
        for r in reqs {
            let k = &self.tree.kconfig;
            values
                .entry(r.name.clone())
                .or_insert_with(|| k.find(&r.name).and_then(|s| ev.config_value(s)));
        }
        report.data = Some(serde_json::json!({ "values": values }));
        report
    }

    /// Unsatisfied requirements, each with why olddefconfig does not give it.
    fn coverage(&self, ev: &mut Eval, reqs: &[Requirement]) -> Vec<Finding> {
        let k = &self.tree.kconfig;
        let finals = ev.values();
        let lookup = |n: &str| finals.get(n).cloned();
        let mut out = b4k_requirements::coverage(reqs, &lookup, Some(k));
        for f in &mut out {
            let Some(s) = f.symbol.as_deref().and_then(|n| k.find(n)) else {
                continue;
            };
            if k.syms[s].ty == Type::Unknown {
                continue;
            }
            match explain(ev, s, Tri::M) {
                why if why.is_empty() => f.message.push_str(&format!(
                    ": no fragment sets it; add CONFIG_{}=y to a fragment",
                    k.syms[s].name
                )),
                why => f.message.push_str(&format!(": {why}")),
            }
        }
        out
    }

    fn summary(&self, ev: &mut Eval, report: &Report, reqs: &[Requirement]) -> String {
        let names = fragment_names(&self.frags);
        let bad: BTreeSet<&String> = report
            .findings
            .iter()
            .filter(|f| f.severity == b4k_findings::Severity::Error)
            .filter(|f| f.code != "required-missing")
            .filter_map(|f| f.symbol.as_ref())
            .filter(|n| names.contains(*n))
            .collect();
        let finals: HashMap<String, String> = ev.values();
        let sat = b4k_requirements::satisfied(reqs, &|n| finals.get(n).cloned());
        format!(
            "{} (ARCH={}, base {}): {}/{} fragment options kept by olddefconfig; required set {sat}/{} satisfied",
            self.tree.srctree.display(),
            self.tree.arch,
            self.base,
            names.len() - bad.len(),
            names.len(),
            reqs.len()
        )
    }
}

fn texts(lines: &[Line]) -> Vec<&str> {
    lines.iter().map(|l| l.text.as_str()).collect()
}

fn fragment_names(frags: &[Vec<Line>]) -> BTreeSet<String> {
    frags
        .iter()
        .flatten()
        .filter_map(|l| match split_line(&l.text) {
            Some(Ok((n, _))) => Some(n),
            _ => None,
        })
        .collect()
}

/// The base configuration: a config file, or an in-tree defconfig expanded.
fn base_lines(tree: &Tree, opts: &Options) -> Result<Vec<Line>> {
    let base = &opts.base;
    // Anything that exists under that name is the base file: through the input
    // gate (a FIFO or a device is refused, not taken for a defconfig name).
    if std::fs::symlink_metadata(base).is_ok() {
        let lines = kernel::read_lines(Path::new(base), false)?;
        if !lines
            .iter()
            .any(|l| matches!(split_line(&l.text), Some(Ok(_))))
        {
            bail!(
                "--base {base}: no CONFIG_ line in {} lines: not a kernel .config; pass a \
                 .config or an in-tree defconfig name (x86_64, defconfig)",
                lines.len()
            );
        }
        return Ok(lines);
    }
    let Some(p) = tree.defconfig_path(base) else {
        bail!(
            "--base {base}: neither a file nor a defconfig in {}/arch/{}/configs",
            opts.kernel_src.display(),
            tree.srcarch
        );
    };
    tree.expand_defconfig(&p)
        .with_context(|| format!("expanding {}", p.display()))
}

/// The fragment lint: the prediction's findings plus the coverage of the required set.
pub fn lint(opts: &Options, requirements: Option<&Path>) -> Result<Report> {
    let reqs = match requirements {
        Some(p) => b4k_requirements::load(p)?,
        None => Vec::new(),
    };
    Ok(Prediction::new(opts)?.report(&reqs))
}
