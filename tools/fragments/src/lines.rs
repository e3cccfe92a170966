//! Findings about the fragments' own lines: lines kconfig ignores, unknown options,
//! invalid values, duplicates and contradictions, options olddefconfig changes, and
//! options a `select` forces against their dependencies.

use b4k_findings::Finding;
use b4k_kconfig::eval::{split_line, Eval, LineIssue};
use b4k_kconfig::explain::{explain, show_failing};
use b4k_kconfig::kernel::{Line, Tree};
use b4k_kconfig::model::{SymId, Tri, Type};
use std::collections::{BTreeMap, HashMap};

/// Where an assignment was written: file, line, value.
type At = (String, usize, String);

/// Every finding about the fragment lines of `merged` (`issues` by line index).
pub fn findings(
    tree: &Tree,
    ev: &mut Eval,
    merged: &[Line],
    issues: &[(usize, LineIssue)],
) -> Vec<Finding> {
    let issue_at: HashMap<usize, &LineIssue> = issues.iter().map(|(i, x)| (*i, x)).collect();
    let mut out = Vec::new();
    let mut seen: HashMap<String, At> = HashMap::new();
    let mut last: BTreeMap<String, At> = BTreeMap::new();
    for (i, l) in merged.iter().enumerate() {
        let Some((file, line)) = l.origin.clone().filter(|_| l.fragment) else {
            continue;
        };
        if let Some(f) = malformed(tree, &l.text, issue_at.get(&i).copied(), &file, line) {
            out.push(f);
            continue;
        }
        let Some(Ok((name, value))) = split_line(&l.text) else {
            continue;
        };
        out.extend(loose_bool(tree, &name, &value, &file, line));
        let here = (file, line, value);
        if let Some(prev) = seen.get(&name) {
            out.push(repeated(&name, prev, &here));
        }
        seen.insert(name.clone(), here.clone());
        last.insert(name, here);
    }
    for (name, at) in &last {
        out.extend(dropped(tree, ev, name, at));
    }
    let from_fragment: HashMap<SymId, (String, usize)> = last
        .iter()
        .filter_map(|(n, (f, l, _))| tree.kconfig.find(n).map(|s| (s, (f.clone(), *l))))
        .collect();
    out.extend(unmet_selects(tree, ev, &from_fragment));
    out
}

/// A line kconfig ignores or rejects: not a config line, unknown option, bad value.
fn malformed(
    tree: &Tree,
    text: &str,
    issue: Option<&LineIssue>,
    file: &str,
    line: usize,
) -> Option<Finding> {
    let t = text.trim();
    let parsed = split_line(text);
    let Some(parsed) = parsed else {
        let looks = t.starts_with('#') && t.contains("CONFIG_") && t.contains("is not set");
        return looks.then(|| {
            Finding::error(
                file,
                line,
                "not-config-line",
                format!("'{t}' is ignored by kconfig; write exactly '# CONFIG_NAME is not set'"),
            )
        });
    };
    let (name, value) = parsed.clone().unwrap_or_default();
    let f = match issue? {
        LineIssue::NotConfig => Finding::error(
            file,
            line,
            "not-config-line",
            format!(
                "'{t}' is not a config line; expected CONFIG_NAME=value or '# CONFIG_NAME is not set'"
            ),
        ),
        LineIssue::Unknown => Finding::error(
            file,
            line,
            "unknown-symbol",
            format!(
                "CONFIG_{name} is not an option of this kernel (ARCH={}); remove it or fix its name",
                tree.arch
            ),
        )
        .about(&name),
        LineIssue::Invalid(ty) => invalid(file, line, &name, &value, ty),
        LineIssue::Unquoted => invalid(file, line, &name, &value, "string"),
    };
    Some(f)
}

fn invalid(file: &str, line: usize, name: &str, value: &str, ty: &str) -> Finding {
    let hint = match ty {
        "bool" => "y or n",
        "tristate" => "y, m or n",
        "int" => "a decimal number",
        "hex" => "a hex number",
        _ => "a double-quoted string",
    };
    Finding::error(
        file,
        line,
        "invalid-value",
        format!("'{value}' is not a valid value for {ty} CONFIG_{name}: use {hint}"),
    )
    .about(name)
}

/// `CONFIG_X=yes` for a bool: kconfig reads the first letter only.
fn loose_bool(tree: &Tree, name: &str, value: &str, file: &str, line: usize) -> Option<Finding> {
    let k = &tree.kconfig;
    let s = k.find(name)?;
    let exact = matches!(value, "y" | "m" | "n");
    if !matches!(k.syms[s].ty, Type::Bool | Type::Tristate) || exact {
        return None;
    }
    let first = value.chars().next().map(String::from).unwrap_or_default();
    Some(
        Finding::error(
            file,
            line,
            "invalid-value",
            format!(
                "CONFIG_{name}={value}: kconfig reads only the first letter ('{first}'), \
                 silently; write y, m or n"
            ),
        )
        .about(name),
    )
}

/// The second assignment of one option: a duplicate or a contradiction.
fn repeated(name: &str, (pf, pl, pv): &At, (file, line, value): &At) -> Finding {
    let f = if pv == value {
        Finding::warning(
            file.as_str(),
            *line,
            "duplicate",
            format!("CONFIG_{name} is already set to the same value at {pf}:{pl}; remove one"),
        )
    } else {
        Finding::error(
            file.as_str(),
            *line,
            "contradiction",
            format!(
                "CONFIG_{name}={value} contradicts {pf}:{pl} (CONFIG_{name}={pv}); the last one wins, keep only one"
            ),
        )
    };
    f.about(name)
}

fn requested_tri(v: &str) -> Option<Tri> {
    match v.as_bytes().first() {
        Some(b'y') => Some(Tri::Y),
        Some(b'm') => Some(Tri::M),
        Some(b'n') => Some(Tri::N),
        _ => None,
    }
}

/// The last assignment of `name`, if olddefconfig changes its value, with the reason.
fn dropped(tree: &Tree, ev: &mut Eval, name: &str, (file, line, value): &At) -> Option<Finding> {
    let k = &tree.kconfig;
    let s = k.find(name)?;
    let got = ev.config_value(s);
    let want = match k.syms[s].ty {
        Type::Bool | Type::Tristate => {
            let w = requested_tri(value)?;
            if got.as_deref().unwrap_or("n") == w.as_str() {
                return None;
            }
            w
        }
        _ if got.as_deref() == Some(value.as_str()) => return None,
        _ => Tri::Y,
    };
    let shown = got.unwrap_or_else(|| "not written (absent)".to_string());
    let mut msg = format!("CONFIG_{name}={value} is changed by olddefconfig to {shown}");
    let why = explain(ev, s, want);
    if !why.is_empty() {
        msg.push_str(": ");
        msg.push_str(&why);
    }
    Some(Finding::error(file.as_str(), *line, "dropped", msg).about(name))
}

/// Symbols forced by `select` although their own dependencies are unmet (kconfig
/// warns "unmet direct dependencies detected"): those a fragment touches.
fn unmet_selects(
    tree: &Tree,
    ev: &mut Eval,
    from_fragment: &HashMap<SymId, (String, usize)>,
) -> Vec<Finding> {
    let k = &tree.kconfig;
    let mut unmet = ev.unmet.clone();
    unmet.sort();
    unmet.dedup();
    let mut out = Vec::new();
    for s in unmet {
        let sym = &k.syms[s];
        let mut at = from_fragment.get(&s).cloned();
        let mut by = Vec::new();
        for r in &sym.selected_by {
            let on = ev.tri(r.from);
            let c = r.cond.as_ref().map_or(Tri::Y, |c| ev.eval(c));
            if on.min(c) > Tri::N {
                by.push(format!("{} [={}]", k.syms[r.from].name, on.as_str()));
                at = at.or_else(|| from_fragment.get(&r.from).cloned());
            }
        }
        let Some((file, line)) = at else { continue };
        let dep = sym
            .dir_dep
            .clone()
            .map(|d| show_failing(ev, &d, Tri::Y))
            .unwrap_or_default();
        out.push(
            Finding::warning(
                file,
                line,
                "unmet-select",
                format!(
                    "CONFIG_{} is forced by select ({}) although it depends on {dep}; enable the dependency too",
                    sym.name,
                    by.join(", ")
                ),
            )
            .about(&sym.name),
        );
    }
    out
}
