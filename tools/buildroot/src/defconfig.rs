//! `b4k-dev defconfig`: compose `configs/*_defconfig` from fragments listed in
//! `configs/defconfigs.toml`, evaluate them with Buildroot's Kconfig model and write
//! what `make savedefconfig` would; report what Buildroot would not keep.

use crate::savedefconfig::savedefconfig;
use anyhow::{Context, Result};
use b4k_findings::Finding;
use b4k_kconfig::eval::{split_line_prefixed, Eval, LineIssue};
use b4k_kconfig::model::{Kconfig, Tri, Type};
use serde::Deserialize;
use std::collections::{BTreeMap, HashSet};
use std::path::Path;

/// `configs/defconfigs.toml`.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct Data {
    /// Option groups: group name → choice name → fragment name.
    #[serde(default)]
    pub options: BTreeMap<String, BTreeMap<String, String>>,
    /// Defconfigs to generate, by file name under `configs/`.
    pub defconfigs: BTreeMap<String, DefconfigSpec>,
}

/// One generated defconfig.
#[derive(Deserialize, Debug)]
#[serde(deny_unknown_fields)]
pub struct DefconfigSpec {
    /// Fragments (names under `configs/fragments/`, without `.fragment`), merged in order.
    pub fragments: Vec<String>,
    /// One choice per option group; its fragment is merged after `fragments`.
    #[serde(default)]
    pub options: BTreeMap<String, String>,
}

/// A fragment line with where it came from.
#[derive(Clone, Debug)]
pub struct Line {
    /// `configs/fragments/x.fragment`
    pub file: String,
    /// 1-based.
    pub line: usize,
    /// The text.
    pub text: String,
}

/// Path of the data file relative to the tree.
pub const DATA: &str = "configs/defconfigs.toml";

/// Reads and checks the data file; errors carry `file:line`.
pub fn read_data(root: &Path) -> Result<Data> {
    let p = root.join(DATA);
    let text = b4k_input::read_text(&p)?;
    let data: Data = toml::from_str(&text).map_err(|e| {
        let line = e.span().map_or(0, |s| {
            text[..s.start.min(text.len())].matches('\n').count() + 1
        });
        anyhow::anyhow!("{DATA}:{line}: {}", e.message())
    })?;
    check_names(&data)?;
    Ok(data)
}

/// A plain file name: no directory part, not hidden, only `[A-Za-z0-9._-]`.
fn plain_name(n: &str) -> bool {
    !n.is_empty()
        && !n.starts_with('.')
        && n.bytes()
            .all(|c| c.is_ascii_alphanumeric() || matches!(c, b'_' | b'-' | b'.'))
}

/// Defconfig names stay in `configs/` (`<name>_defconfig`) and fragment names in
/// `configs/fragments/`: the data file cannot make b4k write or read elsewhere.
fn check_names(data: &Data) -> Result<()> {
    for (name, spec) in &data.defconfigs {
        if !plain_name(name) || !name.ends_with("_defconfig") {
            anyhow::bail!(
                "{DATA}: defconfigs.\"{name}\": a defconfig is a file name in configs/ ending \
                 in _defconfig (letters, digits, '.', '_', '-')"
            );
        }
        let picked = data.options.values().flat_map(|c| c.values());
        for f in spec.fragments.iter().chain(picked) {
            if !plain_name(f) {
                anyhow::bail!(
                    "{DATA}: defconfigs.\"{name}\": fragment \"{f}\" is not a name in \
                     configs/fragments/ (letters, digits, '.', '_', '-')"
                );
            }
        }
    }
    Ok(())
}

/// The fragment list of one defconfig, with its options resolved.
pub fn fragment_list(data: &Data, name: &str, spec: &DefconfigSpec) -> Result<Vec<String>> {
    let mut out = spec.fragments.clone();
    for (group, choices) in &data.options {
        let Some(pick) = spec.options.get(group) else {
            anyhow::bail!(
                "{DATA}: defconfigs.\"{name}\" chooses no '{group}' option: add \
                 options.{group} = one of {:?}",
                choices.keys().collect::<Vec<_>>()
            );
        };
        let Some(frag) = choices.get(pick) else {
            anyhow::bail!(
                "{DATA}: defconfigs.\"{name}\": '{pick}' is not a '{group}' option ({:?})",
                choices.keys().collect::<Vec<_>>()
            );
        };
        out.push(frag.clone());
    }
    for g in spec.options.keys() {
        if !data.options.contains_key(g) {
            anyhow::bail!("{DATA}: defconfigs.\"{name}\": no option group '{g}' in [options]");
        }
    }
    Ok(out)
}

/// A fragment's text through the input gate: a NUL byte, bytes that are not UTF-8
/// or a carriage return inside a line are errors naming the line (Buildroot's
/// kconfig would read such a line as something else, silently).
pub fn read_config_text(p: &Path) -> Result<String> {
    let text = b4k_input::read_text(p)?;
    for (i, l) in text.lines().enumerate() {
        if l.trim_end_matches('\r').contains('\r') {
            anyhow::bail!(
                "{}:{}: a carriage return inside the line (old Mac line ends?); save the file \
                 with Unix line ends",
                p.display(),
                i + 1
            );
        }
    }
    Ok(text)
}

/// Reads the fragments' lines; malformed lines are findings.
pub fn read_fragments(root: &Path, names: &[String], out: &mut Vec<Finding>) -> Result<Vec<Line>> {
    let mut lines = Vec::new();
    for n in names {
        let rel = format!("configs/fragments/{n}.fragment");
        let p = root.join(&rel);
        let text = read_config_text(&p).with_context(|| format!("named in {DATA}"))?;
        for (i, t) in text.lines().enumerate() {
            let t = t.trim_end();
            let assign = t.starts_with("BR2_") && t.contains('=');
            let unset = t.starts_with("# BR2_") && t.ends_with(" is not set");
            if assign || unset {
                lines.push(Line {
                    file: rel.clone(),
                    line: i + 1,
                    text: t.to_string(),
                });
            } else if !(t.is_empty() || t.starts_with('#')) {
                out.push(Finding::error(
                    &rel,
                    i + 1,
                    "not-config-line",
                    format!(
                        "'{t}' is not 'BR2_X=value' nor '# BR2_X is not set' (comments start \
                         with '#')"
                    ),
                ));
            }
        }
    }
    Ok(lines)
}

/// Where the Kconfig model came from, for messages.
pub struct Model {
    /// The model.
    pub k: Kconfig,
    /// Legacy option names.
    pub legacy: HashSet<String>,
    /// "Buildroot in DIR" or "the index FILE".
    pub from: String,
    /// Whether the model is an index (a symbol missing may just be unexported).
    pub is_index: bool,
}

/// What Buildroot does with one fragment line.
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord)]
pub enum Verdict {
    /// Not a symbol: kconfig ignores the line.
    Unknown,
    /// Not a valid value for the symbol's type.
    Invalid,
    /// A legacy option (Config.in.legacy): the build stops.
    Legacy,
    /// Set, but olddefconfig changes the value (unmet dependency, choice).
    Dropped,
    /// `# X is not set`, but a `select` (or the choice) sets it.
    Overridden,
}

impl Verdict {
    /// The word used in golden files.
    pub fn as_str(self) -> &'static str {
        match self {
            Verdict::Unknown => "unknown",
            Verdict::Invalid => "invalid",
            Verdict::Legacy => "legacy",
            Verdict::Dropped => "dropped",
            Verdict::Overridden => "overridden",
        }
    }
}

/// The result of evaluating one defconfig.
pub struct Generated {
    /// What savedefconfig writes.
    pub text: String,
    /// Unknown, dropped, legacy and malformed lines.
    pub findings: Vec<Finding>,
    /// The same, per symbol (sorted).
    pub verdicts: Vec<(String, Verdict)>,
}

/// Evaluates the merged fragment lines and produces the saved defconfig; an
/// error when the evaluation went deeper than the evaluator's bound.
pub fn generate(m: &Model, lines: &[Line]) -> Result<Generated> {
    let mut ev = Eval::new(&m.k);
    ev.prefix = String::new();
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    let issues = ev.read(&texts);
    let mut findings = Vec::new();
    let mut verdicts = Vec::new();
    let bad: HashSet<usize> = issues.iter().map(|(i, _)| *i).collect();
    for (i, issue) in issues {
        let (v, f) = issue_finding(m, &lines[i], &issue);
        verdicts.push(v);
        findings.push(f);
    }
    // `BR2_X=yes` is read as `y` by kconfig (first letter), `BR2_X=no` as `n`:
    // never guessed silently.
    for (_, l) in lines.iter().enumerate().filter(|(i, _)| !bad.contains(i)) {
        if let Some(Ok((n, v))) = split_line_prefixed(&l.text, "") {
            let ty = m.k.find(&n).map(|s| m.k.syms[s].ty);
            if matches!(ty, Some(Type::Bool | Type::Tristate))
                && !matches!(v.as_str(), "y" | "m" | "n")
            {
                findings.push(
                    Finding::error(
                        &l.file,
                        l.line,
                        "invalid-value",
                        format!(
                            "{n}={v}: kconfig reads only the first letter ('{}'); write y or n",
                            v.chars().next().unwrap_or(' ')
                        ),
                    )
                    .about(&n),
                );
                verdicts.push((n, Verdict::Invalid));
            }
        }
    }
    // The last assignment of each symbol is the one Buildroot keeps.
    let mut last: BTreeMap<String, usize> = BTreeMap::new();
    for (i, l) in lines.iter().enumerate().filter(|(i, _)| !bad.contains(i)) {
        if let Some(Ok((n, _))) = split_line_prefixed(&l.text, "") {
            last.insert(n, i);
        }
    }
    for (name, &i) in &last {
        if let Some((v, f)) = value_finding(m, &mut ev, name, &lines[i]) {
            verdicts.push((name.clone(), v));
            findings.push(f);
        }
    }
    let mut text = savedefconfig(&mut ev).join("\n");
    text.push('\n');
    ev.calc_all();
    ev.check()
        .with_context(|| format!("evaluating {}", m.from))?;
    findings.sort();
    verdicts.sort();
    Ok(Generated {
        text,
        findings,
        verdicts,
    })
}

/// The verdict and finding of a line kconfig does not take as a user value.
fn issue_finding(m: &Model, l: &Line, issue: &LineIssue) -> ((String, Verdict), Finding) {
    let name = l
        .text
        .trim_start_matches("# ")
        .split(['=', ' '])
        .next()
        .unwrap_or("");
    let verdict = match issue {
        LineIssue::Unknown => Verdict::Unknown,
        _ => Verdict::Invalid,
    };
    let message = match issue {
        LineIssue::Unknown if m.is_index => format!(
            "{name} is not a Buildroot symbol known to {} (if it is new, re-export the \
             index with `b4k-dev defconfig --buildroot DIR --export-index`)",
            m.from
        ),
        LineIssue::Unknown => format!(
            "{name} is not a symbol of {}: Buildroot ignores this line; fix the name or \
             remove it",
            m.from
        ),
        LineIssue::Invalid(t) => format!("invalid value for {t} {name}"),
        LineIssue::Unquoted => format!("{name} is a string: quote its value"),
        LineIssue::NotConfig => "not a config line".to_string(),
    };
    let code = match issue {
        LineIssue::Unknown => "unknown-symbol",
        LineIssue::NotConfig => "not-config-line",
        _ => "invalid-value",
    };
    let f = Finding::error(&l.file, l.line, code, message).about(name);
    ((name.to_string(), verdict), f)
}

fn legacy_finding(name: &str, l: &Line) -> Finding {
    Finding::error(
        &l.file,
        l.line,
        "legacy",
        format!(
            "{name} is a legacy option (Buildroot's Config.in.legacy): it selects \
             BR2_LEGACY and the build stops; read its help there and use what replaced it"
        ),
    )
    .about(name)
}

/// The value a `.config` line asks for, as kconfig stores it (strings unquoted).
fn requested(ty: Type, raw: &str) -> String {
    match ty {
        Type::String => raw
            .strip_prefix('"')
            .and_then(|r| r.strip_suffix('"'))
            .map(|r| r.replace("\\\"", "\"").replace("\\\\", "\\"))
            .unwrap_or(raw.to_string()),
        _ => raw.to_string(),
    }
}

/// What Buildroot does with the last assignment of `name`, if not what it asks.
fn value_finding(m: &Model, ev: &mut Eval, name: &str, l: &Line) -> Option<(Verdict, Finding)> {
    let s = m.k.find(name)?;
    let Some(Ok((_, raw))) = split_line_prefixed(&l.text, "") else {
        return None;
    };
    if m.legacy.contains(name) && raw != "n" {
        return Some((Verdict::Legacy, legacy_finding(name, l)));
    }
    let ty = m.k.syms[s].ty;
    let want = requested(ty, &raw);
    let have = ev.string(s);
    if have == want {
        return None;
    }
    let wanted = match want.as_str() {
        "y" => Tri::Y,
        "m" => Tri::M,
        _ => Tri::N,
    };
    let mut why = b4k_kconfig::explain::explain(ev, s, wanted);
    if why.is_empty() {
        why = unmet_prompt(ev, s);
    }
    let is_bool = matches!(ty, Type::Bool | Type::Tristate);
    let (verdict, message) = match ty {
        _ if is_bool && want == "n" => (
            Verdict::Overridden,
            format!("{name} is not set here but Buildroot sets it to {have}: {why}"),
        ),
        _ if is_bool => (
            Verdict::Dropped,
            format!("{name}={want} is dropped by Buildroot (olddefconfig makes it {have}): {why}"),
        ),
        _ => (
            Verdict::Dropped,
            format!("{name}={raw} is dropped by Buildroot (its value becomes \"{have}\"): {why}"),
        ),
    };
    let f = Finding::error(&l.file, l.line, "dropped", message).about(name);
    Some((verdict, f))
}

/// A unified diff from `old` (the committed file) to `new` (what would be generated).
pub fn unified_diff(path: &str, old: &str, new: &str) -> String {
    similar::TextDiff::from_lines(old, new)
        .unified_diff()
        .context_radius(3)
        .header(&format!("a/{path}"), &format!("b/{path}"))
        .to_string()
}

/// "depends on X [=v] && ..." for the first prompt of `s` (why it is invisible).
fn unmet_prompt(ev: &mut Eval, s: b4k_kconfig::model::SymId) -> String {
    let k = ev.k;
    let Some(e) = k.syms[s].prompts.first().and_then(|p| p.visible.as_ref()) else {
        return "it has no prompt".to_string();
    };
    let mut ids = Vec::new();
    e.for_each_sym(&mut |x| ids.push(x));
    let vals: BTreeMap<usize, String> = ids.into_iter().map(|x| (x, ev.string(x))).collect();
    let shown = k.fmt_expr(e, &|x| {
        if k.syms[x].is_const {
            None
        } else {
            vals.get(&x).cloned()
        }
    });
    format!("depends on {shown}")
}
