//! What Buildroot's `make savedefconfig` writes (support/kconfig/confdata.c,
//! `conf_write_defconfig`, Linux 4.17 kconfig): every changeable symbol whose value
//! differs from its default, in menu order; a choice's default member is left out.

use b4k_kconfig::eval::{escape, Eval};
use b4k_kconfig::model::{Expr, SymId, Tri, Type};

/// `sym_get_string_default`: the value `s` would have without a user value.
pub fn string_default(ev: &mut Eval, s: SymId) -> String {
    let k = ev.k;
    let sym = &k.syms[s];
    let mut str_val = String::new();
    let mut val = Tri::N;
    let active = ev.active_default(s);
    if let Some(i) = active {
        let p = &sym.defaults[i];
        match sym.ty {
            Type::Bool | Type::Tristate => {
                let v = p.expr.as_ref().map_or(Tri::N, |e| ev.eval(e));
                let c = p.visible.as_ref().map_or(Tri::Y, |e| ev.eval(e));
                val = v.min(c);
            }
            _ => {
                if let Some(Expr::Sym(d)) = &p.expr {
                    str_val = ev.string(*d);
                }
            }
        }
    }
    if sym.choice.is_none() {
        val = val.max(ev.rev_dep(s));
    }
    if val == Tri::M {
        val = Tri::Y;
    }
    let implied = sym.implied.as_ref().map_or(Tri::N, |e| ev.eval(e));
    if val < implied {
        val = implied;
    }
    match sym.ty {
        Type::Bool | Type::Tristate => val.as_str().to_string(),
        _ => str_val,
    }
}

/// One line of a saved defconfig for `s` with value `v`.
pub fn line(ev: &Eval, s: SymId, v: &str) -> String {
    let sym = &ev.k.syms[s];
    match sym.ty {
        Type::Bool | Type::Tristate if v == "n" => format!("# {} is not set", sym.name),
        Type::String => format!("{}={}", sym.name, escape(v)),
        _ => format!("{}={v}", sym.name),
    }
}

/// The lines `make savedefconfig` writes for the evaluated configuration (Buildroot's
/// Makefile then deletes the `BR2_DEFCONFIG=` line; so does this).
pub fn savedefconfig(ev: &mut Eval) -> Vec<String> {
    let k = ev.k;
    let mut out = Vec::new();
    for &s in &k.order {
        let sym = &k.syms[s];
        if sym.is_choice || sym.is_const || sym.ty == Type::Unknown || sym.env.is_some() {
            continue;
        }
        if sym.name == "BR2_DEFCONFIG" || !ev.written(s) {
            continue;
        }
        // sym_is_changable: visible > rev_dep
        let rev = if sym.choice.is_some() {
            Tri::N
        } else {
            ev.rev_dep(s)
        };
        if ev.visible(s) <= rev {
            continue;
        }
        let v = ev.string(s);
        if v == string_default(ev, s) {
            continue;
        }
        if let Some(c) = sym.choice {
            if ev.choice_default(c) == Some(s) && v == "y" {
                continue;
            }
        }
        out.push(line(ev, s, &v));
    }
    out
}
