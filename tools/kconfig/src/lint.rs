//! Findings: what the fragments ask for against what olddefconfig will give, with
//! the reason, and the coverage of the required set.

use crate::eval::{escape, Eval, LineIssue};
use crate::kernel::{self, Line, Tree};
use crate::model::{Expr, Kconfig, SymId, Tri, Type};
use crate::requirements::{self, Level, Requirement};
use crate::LintArgs;
use anyhow::{bail, Context, Result};
use serde::Serialize;
use std::collections::{BTreeMap, HashMap};
use std::io::Read;
use std::path::Path;

/// How bad a finding is.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Makes the exit code non-zero.
    Error,
    /// Reported only.
    Warning,
}

/// One finding, located at a file and line.
#[derive(Serialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord)]
pub struct Finding {
    /// File the finding is about.
    pub file: String,
    /// 1-based line (0 when the file as a whole is meant).
    pub line: usize,
    /// Error or warning.
    pub severity: Severity,
    /// Stable kind: `not-config-line`, `unknown-symbol`, `invalid-value`, `duplicate`,
    /// `contradiction`, `dropped`, `unmet-select`, `required-missing`, `optional-missing`.
    pub code: &'static str,
    /// The option concerned, without `CONFIG_`.
    pub symbol: Option<String>,
    /// Human explanation including the reason and the fix.
    pub message: String,
}

impl std::fmt::Display for Finding {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        let sev = match self.severity {
            Severity::Error => "error",
            Severity::Warning => "warning",
        };
        write!(
            f,
            "{}:{}: {sev}: {} [{}]",
            self.file, self.line, self.message, self.code
        )
    }
}

#[derive(Serialize)]
struct Report<'a> {
    mode: &'static str,
    summary: &'a str,
    findings: &'a [Finding],
    errors: usize,
    warnings: usize,
    /// Predicted (or read) final values of the options concerned (`null`: absent).
    values: BTreeMap<String, Option<String>>,
}

fn default_cross(arch: &str) -> String {
    let host = std::env::consts::ARCH;
    match arch {
        "arm64" if host != "aarch64" => "aarch64-linux-gnu-".into(),
        "x86_64" | "x86" if host != "x86_64" => "x86_64-linux-gnu-".into(),
        _ => String::new(),
    }
}

/// Entry point of `b4k lint-kernel`.
pub fn run(args: &LintArgs) -> Result<u8> {
    let reqs = match &args.requirements {
        Some(p) => requirements::load(p)?,
        None => Vec::new(),
    };
    if let Some(cfg) = &args.config {
        if args.requirements.is_none() {
            bail!("--config needs --requirements <file> (board/common/kernel-requirements.toml)");
        }
        let values = read_config_file(cfg)?;
        let mut findings = coverage(&reqs, &|n: &str| values.get(n).cloned(), None);
        findings.sort();
        let shown = reqs
            .iter()
            .map(|r| (r.name.clone(), values.get(&r.name).cloned()))
            .collect();
        let summary = format!(
            "{}: required set {}/{} satisfied",
            cfg.display(),
            reqs.iter()
                .filter(|r| r.satisfied_by(values.get(&r.name).map(String::as_str)))
                .count(),
            reqs.len()
        );
        return output(args, "config", &findings, shown, &summary);
    }
    let Some(src) = &args.kernel_src else {
        bail!("--kernel-src <dir> is needed to lint fragments (or use --config <file>)");
    };
    let Some(base) = &args.base else {
        bail!("--base <defconfig name or config file> is needed to lint fragments");
    };
    let cross = args
        .cross_compile
        .clone()
        .unwrap_or_else(|| default_cross(&args.arch));
    let tree = kernel::load(src, &args.arch, &cross)?;
    let base_lines = if Path::new(base).is_file() {
        kernel::read_lines(Path::new(base), false)?
    } else {
        let Some(p) = tree.defconfig_path(base) else {
            bail!(
                "--base {base}: neither a file nor a defconfig in {}/arch/{}/configs",
                src.display(),
                tree.srcarch
            );
        };
        tree.expand_defconfig(&p)?
    };
    let mut frags = Vec::new();
    for f in &args.fragments {
        frags.push(kernel::read_lines(f, true)?);
    }
    let merged = kernel::merge(base_lines, &frags);
    let (mut ev, issues) = kernel::olddefconfig(&tree.kconfig, &merged);
    ev.calc_all();
    if let Some(path) = &args.write_config {
        let mut t = ev.write_config().join("\n");
        t.push('\n');
        std::fs::write(path, t).with_context(|| format!("writing {}", path.display()))?;
    }
    if args.print_config {
        let mut t = ev.write_config().join("\n");
        t.push('\n');
        print_out(&t)?;
        return Ok(0);
    }
    let mut findings = fragment_findings(&tree, &mut ev, &merged, &issues);
    let k = &tree.kconfig;
    let mut values = BTreeMap::new();
    for frag in &frags {
        for l in frag {
            if let Some(Ok((name, _))) = crate::eval::split_line(&l.text) {
                let v = k.find(&name).and_then(|s| ev.config_value(s));
                values.insert(name, v);
            }
        }
    }
    if args.print_values {
        let mut t = String::new();
        for (n, v) in &values {
            t.push_str(&format!("{n}={}\n", v.as_deref().unwrap_or("absent")));
        }
        print_out(&t)?;
        return Ok(0);
    }
    let finals: HashMap<String, String> = ev.values();
    let lookup = |n: &str| finals.get(n).cloned();
    let cov = coverage(&reqs, &lookup, Some(k));
    let explained: Vec<Finding> = cov
        .into_iter()
        .map(|mut f| {
            if let Some(s) = f.symbol.as_deref().and_then(|n| k.find(n)) {
                if k.syms[s].ty != Type::Unknown {
                    let why = explain(&mut ev, s, Tri::M);
                    if why.is_empty() {
                        f.message.push_str(&format!(
                            ": no fragment sets it; add CONFIG_{}=y to board/common/linux.fragment",
                            k.syms[s].name
                        ));
                    } else {
                        f.message.push_str(": ");
                        f.message.push_str(&why);
                    }
                }
            }
            f
        })
        .collect();
    findings.extend(explained);
    for r in &reqs {
        values
            .entry(r.name.clone())
            .or_insert_with(|| k.find(&r.name).and_then(|s| ev.config_value(s)));
    }
    findings.sort();
    findings.dedup();
    let names: std::collections::BTreeSet<String> = frags
        .iter()
        .flatten()
        .filter_map(|l| match crate::eval::split_line(&l.text) {
            Some(Ok((n, _))) => Some(n),
            _ => None,
        })
        .collect();
    let n_frag = names.len();
    let bad: std::collections::BTreeSet<&String> = findings
        .iter()
        .filter(|f| f.severity == Severity::Error && f.code != "required-missing")
        .filter_map(|f| f.symbol.as_ref())
        .filter(|n| names.contains(*n))
        .collect();
    let kept = n_frag - bad.len();
    let sat = reqs
        .iter()
        .filter(|r| r.satisfied_by(finals.get(&r.name).map(String::as_str)))
        .count();
    let summary = format!(
        "{} (ARCH={}, base {base}): {kept}/{n_frag} fragment options kept by olddefconfig; required set {sat}/{} satisfied",
        tree.srctree.display(),
        tree.arch,
        reqs.len()
    );
    output(args, "fragments", &findings, values, &summary)
}

fn output(
    args: &LintArgs,
    mode: &'static str,
    findings: &[Finding],
    values: BTreeMap<String, Option<String>>,
    summary: &str,
) -> Result<u8> {
    let errors = findings
        .iter()
        .filter(|f| f.severity == Severity::Error)
        .count();
    let warnings = findings.len() - errors;
    let mut text = String::new();
    if args.json {
        let r = Report {
            mode,
            summary,
            findings,
            errors,
            warnings,
            values,
        };
        text.push_str(&serde_json::to_string_pretty(&r)?);
        text.push('\n');
    } else {
        for f in findings {
            text.push_str(&format!("{f}\n"));
        }
        text.push_str(&format!(
            "lint-kernel: {summary}\nlint-kernel: {errors} error(s), {warnings} warning(s)\n"
        ));
    }
    print_out(&text)?;
    Ok(if errors > 0 { 1 } else { 0 })
}

/// Writes to stdout; a closed pipe (`| head`) is not an error.
fn print_out(text: &str) -> Result<()> {
    use std::io::Write;
    let mut out = std::io::stdout().lock();
    match out.write_all(text.as_bytes()).and_then(|_| out.flush()) {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r.context("writing to stdout"),
    }
}

/// Reads a `.config`, or a gzip-compressed one (`/proc/config.gz`), into name -> value.
pub fn read_config_file(path: &Path) -> Result<HashMap<String, String>> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .with_context(|| format!("decompressing {}", path.display()))?;
        out
    } else {
        raw
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut m = HashMap::new();
    for l in text.lines() {
        if let Some(Ok((n, v))) = crate::eval::split_line(l) {
            m.insert(n, v);
        }
    }
    Ok(m)
}

fn coverage(
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
        let (severity, code) = match r.level {
            Level::Required => (Severity::Error, "required-missing"),
            Level::Optional => (Severity::Warning, "optional-missing"),
        };
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
        out.push(Finding {
            file: r.file.clone(),
            line: r.line,
            severity,
            code,
            symbol: Some(r.name.clone()),
            message,
        });
    }
    out
}

fn value_of(ev: &mut Eval, s: SymId) -> Option<String> {
    let sym = &ev.k.syms[s];
    if sym.is_const || sym.ty == Type::Unknown || sym.is_choice {
        return None;
    }
    Some(ev.string(s))
}

/// Formats `e` with the value of each symbol.
fn show(ev: &mut Eval, e: &Expr) -> String {
    let mut vals = HashMap::new();
    e.for_each_sym(&mut |s| {
        vals.insert(s, ());
    });
    let vals: HashMap<SymId, Option<String>> =
        vals.into_keys().map(|s| (s, value_of(ev, s))).collect();
    ev.k.fmt_expr(e, &|s| vals.get(&s).cloned().flatten())
}

/// The conjuncts of `e` whose value is below `want` (the parts of a dependency that fail).
fn failing(ev: &mut Eval, e: &Expr, want: Tri, out: &mut Vec<Expr>) {
    match e {
        Expr::And(a, b) => {
            failing(ev, a, want, out);
            failing(ev, b, want, out);
        }
        e => {
            if ev.eval(e) < want && !out.contains(e) {
                out.push(e.clone());
            }
        }
    }
}

fn show_failing(ev: &mut Eval, e: &Expr, want: Tri) -> String {
    let mut parts = Vec::new();
    failing(ev, e, want, &mut parts);
    if parts.is_empty() {
        return show(ev, e);
    }
    let many = parts.len() > 1;
    let shown: Vec<String> = parts
        .iter()
        .map(|p| {
            let t = show(ev, p);
            if many && matches!(p, Expr::Or(..)) {
                format!("({t})")
            } else {
                t
            }
        })
        .collect();
    shown.join(" && ")
}

/// Why `s` does not reach `want` (or is not limited to it): the unmet dependency with
/// its symbols' values, the choice, the selects.
pub fn explain(ev: &mut Eval, s: SymId, want: Tri) -> String {
    let k = ev.k;
    let sym = &k.syms[s];
    let final_tri = ev.tri(s);
    if let Some(c) = sym.choice {
        let ch = &k.choices[c];
        let vis = ev.visible(s);
        if vis == Tri::N {
            let e = sym.prompts.first().and_then(|p| p.visible.clone());
            return match e {
                Some(e) => format!("depends on {}", show_failing(ev, &e, Tri::Y)),
                None => "has no visible prompt".into(),
            };
        }
        let chosen = ev.calc_choice(c);
        let who = chosen.map_or("nothing".to_string(), |m| {
            format!("{}{}", ev.prefix, k.syms[m].name)
        });
        let mut why = format!(
            "it is a member of choice \"{}\" ({}), which resolves to {who}",
            ch.prompt, ch.loc
        );
        if let Some(m) = chosen {
            if ev.has_user(m) {
                why.push_str(&format!(
                    " (also set to y, and the last member set to y wins; set {}{}=y alone)",
                    ev.prefix, sym.name
                ));
            }
        }
        return why;
    }
    if want > final_tri || (sym.ty != Type::Bool && sym.ty != Type::Tristate) {
        if sym.prompts.is_empty() {
            let mut why =
                "it has no prompt, so only a `select` or a default can set it".to_string();
            if let Some(d) = &sym.dir_dep {
                if ev.dir_dep(s) < want {
                    why.push_str(&format!("; depends on {}", show_failing(ev, d, want)));
                }
            }
            let sel: Vec<String> = sym
                .selected_by
                .iter()
                .take(6)
                .map(|r| format!("{} ({})", k.syms[r.from].name, r.loc))
                .collect();
            if !sel.is_empty() {
                why.push_str(&format!(
                    "; enable one of its selectors: {}",
                    sel.join(", ")
                ));
            }
            return why;
        }
        let vis = ev.visible(s);
        if vis < want {
            if let Some(d) = &sym.dir_dep {
                if ev.dir_dep(s) < want {
                    return format!("depends on {}", show_failing(ev, d, want));
                }
            }
            // The prompt itself is hidden (prompt `if`, a menu's `visible if`).
            let mut best = None;
            for p in &sym.prompts {
                if let Some(e) = &p.visible {
                    best = Some((e.clone(), p.loc.clone()));
                }
            }
            if let Some((e, loc)) = best {
                return format!(
                    "its prompt ({loc}) is visible only if {}",
                    show_failing(ev, &e, want)
                );
            }
        }
        if matches!(sym.ty, Type::Int | Type::Hex) {
            if let Some(r) = sym.ranges.first() {
                let lo = ev.string(r.lo);
                let hi = ev.string(r.hi);
                return format!("out of range [{lo} {hi}]");
            }
        }
        return String::new();
    }
    if final_tri > want {
        let mut sel = Vec::new();
        for r in &sym.selected_by {
            let on = ev.tri(r.from);
            let c = r.cond.as_ref().map_or(Tri::Y, |c| ev.eval(c));
            if on.min(c) > want {
                sel.push(format!(
                    "{} [={}] ({})",
                    k.syms[r.from].name,
                    on.as_str(),
                    r.loc
                ));
            }
        }
        if !sel.is_empty() {
            return format!("selected by {}", sel.join(", "));
        }
        if ev.visible(s) == Tri::N {
            return "it has no visible prompt, so its default applies".into();
        }
    }
    String::new()
}

fn requested_tri(v: &str) -> Option<Tri> {
    match v.as_bytes().first() {
        Some(b'y') => Some(Tri::Y),
        Some(b'm') => Some(Tri::M),
        Some(b'n') => Some(Tri::N),
        _ => None,
    }
}

fn fragment_findings(
    tree: &Tree,
    ev: &mut Eval,
    merged: &[Line],
    issues: &[(usize, LineIssue)],
) -> Vec<Finding> {
    let k = &tree.kconfig;
    let mut out = Vec::new();
    let issue_at: HashMap<usize, &LineIssue> = issues.iter().map(|(i, x)| (*i, x)).collect();
    // name -> (file, line, value) of each assignment from a fragment, in merge order.
    let mut seen: HashMap<String, Vec<(String, usize, String)>> = HashMap::new();
    let mut last: BTreeMap<String, (String, usize, String)> = BTreeMap::new();
    let mut from_fragment: HashMap<SymId, (String, usize)> = HashMap::new();
    for (i, l) in merged.iter().enumerate() {
        let Some((file, line)) = l.origin.clone().filter(|_| l.fragment) else {
            continue;
        };
        let mk = |severity, code, symbol: Option<String>, message: String| Finding {
            file: file.clone(),
            line,
            severity,
            code,
            symbol,
            message,
        };
        let parsed = crate::eval::split_line(&l.text);
        if parsed.is_none() {
            let t = l.text.trim();
            let looks = t.starts_with('#') && t.contains("CONFIG_") && t.contains("is not set");
            if looks {
                out.push(mk(
                    Severity::Error,
                    "not-config-line",
                    None,
                    format!(
                        "'{t}' is ignored by kconfig; write exactly '# CONFIG_NAME is not set'"
                    ),
                ));
            }
            continue;
        }
        match issue_at.get(&i) {
            Some(LineIssue::NotConfig) => {
                out.push(mk(
                    Severity::Error,
                    "not-config-line",
                    None,
                    format!(
                        "'{}' is not a config line; expected CONFIG_NAME=value or '# CONFIG_NAME is not set'",
                        l.text.trim()
                    ),
                ));
                continue;
            }
            Some(LineIssue::Unknown) => {
                let name = match &parsed {
                    Some(Ok((n, _))) => n.clone(),
                    _ => String::new(),
                };
                out.push(mk(
                    Severity::Error,
                    "unknown-symbol",
                    Some(name.clone()),
                    format!(
                        "CONFIG_{name} is not an option of this kernel (ARCH={}); remove it or fix its name",
                        tree.arch
                    ),
                ));
                continue;
            }
            Some(LineIssue::Invalid(_)) | Some(LineIssue::Unquoted) if parsed.is_some() => {
                let (name, v) = match &parsed {
                    Some(Ok(p)) => p.clone(),
                    _ => Default::default(),
                };
                let ty = ty_of(issue_at.get(&i));
                let hint = match ty {
                    "bool" => "y or n",
                    "tristate" => "y, m or n",
                    "int" => "a decimal number",
                    "hex" => "a hex number",
                    _ => "a double-quoted string",
                };
                out.push(mk(
                    Severity::Error,
                    "invalid-value",
                    Some(name.clone()),
                    format!("'{v}' is not a valid value for {ty} CONFIG_{name}: use {hint}"),
                ));
                continue;
            }
            _ => {}
        }
        let Some(Ok((name, value))) = parsed else {
            continue;
        };
        if let Some(s) = k.find(&name) {
            from_fragment.insert(s, (file.clone(), line));
        }
        if let Some(s) = k.find(&name) {
            let ty = k.syms[s].ty;
            let exact = matches!(value.as_str(), "y" | "m" | "n");
            if matches!(ty, Type::Bool | Type::Tristate) && !exact {
                out.push(mk(
                    Severity::Warning,
                    "invalid-value",
                    Some(name.clone()),
                    format!(
                        "kconfig reads '{value}' as '{}' for CONFIG_{name}; write it that way",
                        &value[..1]
                    ),
                ));
            }
        }
        let prev = seen.entry(name.clone()).or_default();
        if let Some((pf, pl, pv)) = prev.last() {
            let same = pv == &value;
            out.push(mk(
                if same { Severity::Warning } else { Severity::Error },
                if same { "duplicate" } else { "contradiction" },
                Some(name.clone()),
                if same {
                    format!("CONFIG_{name} is already set to the same value at {pf}:{pl}; remove one")
                } else {
                    format!(
                        "CONFIG_{name}={value} contradicts {pf}:{pl} (CONFIG_{name}={pv}); the last one wins, keep only one"
                    )
                },
            ));
        }
        prev.push((file.clone(), line, value.clone()));
        last.insert(name, (file, line, value));
    }
    for (name, (file, line, value)) in &last {
        let Some(s) = k.find(name) else { continue };
        let sym = &k.syms[s];
        let got = ev.config_value(s);
        let (ok, want) = match sym.ty {
            Type::Bool | Type::Tristate => {
                let Some(w) = requested_tri(value) else {
                    continue;
                };
                (got.as_deref().unwrap_or("n") == w.as_str(), w)
            }
            Type::String => (got.as_deref() == Some(value.as_str()), Tri::Y),
            _ => (got.as_deref() == Some(value.as_str()), Tri::Y),
        };
        if ok {
            continue;
        }
        let shown = match &got {
            None => "not written (absent)".to_string(),
            Some(v) if v == "n" => "n".to_string(),
            Some(v) => v.clone(),
        };
        let mut msg = format!("CONFIG_{name}={value} is changed by olddefconfig to {shown}");
        let why = explain(ev, s, want);
        if !why.is_empty() {
            msg.push_str(": ");
            msg.push_str(&why);
        }
        out.push(Finding {
            file: file.clone(),
            line: *line,
            severity: Severity::Error,
            code: "dropped",
            symbol: Some(name.clone()),
            message: msg,
        });
    }
    // Symbols forced by `select` although their own dependencies are unmet (kconfig
    // warns "unmet direct dependencies detected"): report those a fragment touches.
    let unmet = ev.unmet.clone();
    let mut done = Vec::new();
    for s in unmet {
        if done.contains(&s) {
            continue;
        }
        done.push(s);
        let sym = &k.syms[s];
        let mut at = from_fragment.get(&s).cloned();
        let mut by = Vec::new();
        for r in &sym.selected_by {
            let on = ev.tri(r.from);
            let c = r.cond.as_ref().map_or(Tri::Y, |c| ev.eval(c));
            if on.min(c) > Tri::N {
                by.push(format!("{} [={}]", k.syms[r.from].name, on.as_str()));
                if at.is_none() {
                    at = from_fragment.get(&r.from).cloned();
                }
            }
        }
        let Some((file, line)) = at else { continue };
        let dep = sym
            .dir_dep
            .clone()
            .map(|d| show_failing(ev, &d, Tri::Y))
            .unwrap_or_default();
        out.push(Finding {
            file,
            line,
            severity: Severity::Warning,
            code: "unmet-select",
            symbol: Some(sym.name.clone()),
            message: format!(
                "CONFIG_{} is forced by select ({}) although it depends on {dep}; enable the dependency too",
                sym.name,
                by.join(", ")
            ),
        });
    }
    out
}

fn ty_of(i: Option<&&LineIssue>) -> &'static str {
    match i {
        Some(LineIssue::Invalid(t)) => t,
        _ => "string",
    }
}

/// The predicted final value of each option in `names` (used by tests).
pub fn predicted(ev: &mut Eval, names: &[String]) -> BTreeMap<String, Option<String>> {
    names
        .iter()
        .map(|n| (n.clone(), ev.k.find(n).and_then(|s| ev.config_value(s))))
        .collect()
}

/// Quotes a string value (re-exported for tests).
pub fn quote(s: &str) -> String {
    escape(s)
}
