//! Why a symbol has the value it has: the unmet `depends on` with the values of
//! its symbols, the choice that resolved otherwise, the `select`s that force it.
//! Used by the fragment lint and by Buildroot defconfig generation alike.

use crate::eval::Eval;
use crate::model::{Expr, SymId, Tri, Type};
use std::collections::HashMap;

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

/// The failing conjuncts of `e` (below `want`), each with its symbols' values.
pub fn show_failing(ev: &mut Eval, e: &Expr, want: Tri) -> String {
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
