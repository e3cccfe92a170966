//! Symbol values: the kernel's `sym_calc_value` (scripts/kconfig/symbol.c, Linux 6.12),
//! reading `.config` lines as user values (`conf_read_simple`) and producing what
//! `conf_write` would write.

use crate::model::{CmpOp, Expr, Kconfig, SymId, Tri, Type, SYM_Y};
use std::collections::HashMap;

#[derive(Clone, Debug, PartialEq)]
enum User {
    Tri(Tri),
    Str(String),
}

#[derive(Clone, Debug)]
struct St {
    valid: bool,
    write: bool,
    tri: Tri,
    val: String,
    visible: Tri,
    dir_dep: Tri,
    rev_dep: Tri,
    implied: Tri,
    user: Option<User>,
}

/// Why a `.config` line did not become a user value.
#[derive(Clone, Debug, PartialEq)]
pub enum LineIssue {
    /// Not `CONFIG_X=...` nor `# CONFIG_X is not set`.
    NotConfig,
    /// The symbol does not exist in the tree (or has no type).
    Unknown,
    /// The value is not valid for the symbol's type.
    Invalid(&'static str),
    /// A string value without quotes: kconfig ignores it.
    Unquoted,
}

/// One line of a config file as kconfig reads it.
#[derive(Clone, Debug)]
pub struct ConfigLine {
    /// Symbol name without `CONFIG_`, if the line is an assignment.
    pub name: Option<String>,
    /// The raw value (`n` for `is not set`).
    pub value: String,
    /// The raw line.
    pub text: String,
}

/// Splits a config line like kconfig's `conf_read_simple`; `None` for blanks and comments.
pub fn split_line(line: &str) -> Option<Result<(String, String), ()>> {
    split_line_prefixed(line, "CONFIG_")
}

/// [`split_line`] for another symbol prefix (Buildroot's is empty: `BR2_X=y`).
pub fn split_line_prefixed(line: &str, prefix: &str) -> Option<Result<(String, String), ()>> {
    let line = line.strip_suffix('\r').unwrap_or(line);
    if line.is_empty() {
        return None;
    }
    if let Some(rest) = line.strip_prefix('#') {
        let rest = rest.strip_prefix(' ')?.strip_prefix(prefix)?;
        let (name, tail) = rest.split_once(' ')?;
        if tail != "is not set" {
            return None;
        }
        return Some(Ok((name.to_string(), "n".to_string())));
    }
    let Some(rest) = line.strip_prefix(prefix) else {
        return Some(Err(()));
    };
    match rest.split_once('=') {
        Some((n, v)) => Some(Ok((n.to_string(), v.to_string()))),
        None => Some(Err(())),
    }
}

/// The evaluation state of one configuration run.
pub struct Eval<'k> {
    /// The tree.
    pub k: &'k Kconfig,
    st: Vec<St>,
    prio: Vec<Vec<SymId>>,
    modules_val: Tri,
    /// Symbols whose `select` forced them despite unmet direct dependencies.
    pub unmet: Vec<SymId>,
    /// Prefix of symbol names in config files: `CONFIG_` (the kernel's), empty for
    /// Buildroot.
    pub prefix: String,
    /// Levels of evaluation open now (symbols and expression nodes).
    depth: usize,
    /// The symbol at which [`MAX_EVAL_DEPTH`] was passed, if it was.
    too_deep: Option<SymId>,
    /// Choices whose members were already resolved (`calc_choice` ran).
    choice_done: Vec<bool>,
}

/// How deep evaluation may go, counting each symbol whose value needs another's
/// and each level of an expression: a chain of 30,000 `def_bool`s each needing the
/// next would otherwise be 30,000 nested calls. The kernel's and Buildroot's trees
/// need a few hundred; the binaries run on a stack sized for this bound
/// (`b4k_input::STACK_BYTES`).
pub const MAX_EVAL_DEPTH: usize = 20_000;

fn strtoll(s: &str, base: u32) -> i64 {
    let s = s.trim_start();
    let (neg, mut s) = match s.as_bytes().first() {
        Some(b'-') => (true, &s[1..]),
        Some(b'+') => (false, &s[1..]),
        _ => (false, s),
    };
    let mut base = base;
    if (base == 16 || base == 0) && (s.starts_with("0x") || s.starts_with("0X")) {
        s = &s[2..];
        base = 16;
    } else if base == 0 && s.starts_with('0') {
        base = 8;
    } else if base == 0 {
        base = 10;
    }
    let mut v: i64 = 0;
    for c in s.chars() {
        match c.to_digit(base) {
            Some(d) => v = v.saturating_mul(base as i64).saturating_add(d as i64),
            None => break,
        }
    }
    if neg {
        -v
    } else {
        v
    }
}

#[derive(PartialEq, Clone, Copy)]
enum Kind {
    Str,
    Signed(i128),
    Unsigned(u128),
}

/// The kernel's `expr_parse_string`.
fn parse_kind(s: &str, ty: Type) -> Kind {
    match ty {
        Type::Bool | Type::Tristate => Kind::Signed(match s {
            "n" => 0,
            "m" => 1,
            "y" => 2,
            _ => -1,
        }),
        Type::Int => parse_num(s, 10).map_or(Kind::Str, Kind::Signed),
        Type::Hex => {
            let t = s.trim_start();
            let t = t
                .strip_prefix("0x")
                .or_else(|| t.strip_prefix("0X"))
                .unwrap_or(t);
            if !t.is_empty() && t.chars().all(|c| c.is_ascii_hexdigit()) {
                u128::from_str_radix(t, 16).map_or(Kind::Str, Kind::Unsigned)
            } else {
                Kind::Str
            }
        }
        _ => parse_num(s, 0).map_or(Kind::Str, Kind::Signed),
    }
}

/// strtoll that must consume the whole string and end on a hex digit (as the kernel checks).
fn parse_num(s: &str, base: u32) -> Option<i128> {
    let t = s.trim_start();
    let (neg, t) = match t.as_bytes().first() {
        Some(b'-') => (true, &t[1..]),
        Some(b'+') => (false, &t[1..]),
        _ => (false, t),
    };
    let (base, digits) = if base == 0 {
        if let Some(h) = t.strip_prefix("0x").or_else(|| t.strip_prefix("0X")) {
            (16, h)
        } else if t.len() > 1 && t.starts_with('0') {
            (8, &t[1..])
        } else {
            (10, t)
        }
    } else {
        (base, t)
    };
    if digits.is_empty() || !digits.chars().all(|c| c.is_digit(base)) {
        return None;
    }
    let v = i128::from_str_radix(digits, base).ok()?;
    if v > i64::MAX as i128 {
        return None;
    }
    Some(if neg { -v } else { v })
}

/// The kernel's `sym_string_valid`.
pub fn string_valid(ty: Type, s: &str) -> bool {
    match ty {
        Type::String => true,
        Type::Int => {
            let t = s.strip_prefix('-').unwrap_or(s);
            let mut c = t.chars();
            match c.next() {
                Some(d) if d.is_ascii_digit() => {
                    if d == '0' && t.len() > 1 {
                        return false;
                    }
                    c.all(|d| d.is_ascii_digit())
                }
                _ => false,
            }
        }
        Type::Hex => {
            let t = s
                .strip_prefix("0x")
                .or_else(|| s.strip_prefix("0X"))
                .unwrap_or(s);
            !t.is_empty() && t.chars().all(|c| c.is_ascii_hexdigit())
        }
        Type::Bool | Type::Tristate => {
            matches!(s.chars().next(), Some('y' | 'Y' | 'm' | 'M' | 'n' | 'N'))
        }
        Type::Unknown => false,
    }
}

impl<'k> Eval<'k> {
    /// A fresh state: no user values.
    pub fn new(k: &'k Kconfig) -> Eval<'k> {
        let st = St {
            valid: false,
            write: false,
            tri: Tri::N,
            val: String::new(),
            visible: Tri::N,
            dir_dep: Tri::Y,
            rev_dep: Tri::N,
            implied: Tri::N,
            user: None,
        };
        let mut e = Eval {
            k,
            st: vec![st; k.syms.len()],
            prio: k.choices.iter().map(|c| c.members.clone()).collect(),
            modules_val: Tri::N,
            unmet: Vec::new(),
            prefix: "CONFIG_".to_string(),
            depth: 0,
            too_deep: None,
            choice_done: vec![false; k.choices.len()],
        };
        for (i, s) in [Tri::N, Tri::M, Tri::Y].into_iter().enumerate() {
            e.st[i].valid = true;
            e.st[i].tri = s;
            e.st[i].val = s.as_str().to_string();
        }
        e
    }

    /// Reads config lines in order (`conf_read_simple` with `S_DEF_USER`); returns, per
    /// line index, what went wrong with it, if anything.
    pub fn read(&mut self, lines: &[&str]) -> Vec<(usize, LineIssue)> {
        let mut issues = Vec::new();
        for (i, line) in lines.iter().enumerate() {
            let (name, val) = match split_line_prefixed(line, &self.prefix) {
                None => continue,
                Some(Err(())) => {
                    issues.push((i, LineIssue::NotConfig));
                    continue;
                }
                Some(Ok(p)) => p,
            };
            let Some(s) = self.k.find(&name) else {
                issues.push((i, LineIssue::Unknown));
                continue;
            };
            let ty = self.k.syms[s].ty;
            let user = match ty {
                Type::Bool | Type::Tristate => match val.as_bytes().first() {
                    Some(b'm') if ty == Type::Tristate => User::Tri(Tri::M),
                    Some(b'y') => User::Tri(Tri::Y),
                    Some(b'n') => User::Tri(Tri::N),
                    _ => {
                        issues.push((i, LineIssue::Invalid(ty.name())));
                        continue;
                    }
                },
                Type::String => {
                    let Some(rest) = val.strip_prefix('"') else {
                        issues.push((i, LineIssue::Unquoted));
                        continue;
                    };
                    let mut out = String::new();
                    let mut chars = rest.chars();
                    let mut closed = false;
                    while let Some(c) = chars.next() {
                        match c {
                            '"' => {
                                closed = true;
                                break;
                            }
                            '\\' => {
                                if let Some(n) = chars.next() {
                                    out.push(n);
                                }
                            }
                            c => out.push(c),
                        }
                    }
                    if !closed {
                        issues.push((i, LineIssue::Invalid("string")));
                        continue;
                    }
                    User::Str(out)
                }
                Type::Int | Type::Hex => {
                    if !string_valid(ty, &val) {
                        issues.push((i, LineIssue::Invalid(ty.name())));
                        continue;
                    }
                    User::Str(val)
                }
                Type::Unknown => {
                    issues.push((i, LineIssue::Unknown));
                    continue;
                }
            };
            self.st[s].user = Some(user);
            if let Some(c) = self.k.syms[s].choice {
                let p = &mut self.prio[c];
                p.retain(|&m| m != s);
                p.insert(0, s);
            }
        }
        for st in &mut self.st[3..] {
            st.valid = false;
        }
        self.choice_done.iter_mut().for_each(|d| *d = false);
        if let Some(m) = self.k.modules {
            self.calc(m);
        }
        issues
    }

    fn get_type(&self, s: SymId) -> Type {
        let t = self.k.syms[s].ty;
        if t == Type::Tristate && self.modules_val == Tri::N {
            Type::Bool
        } else {
            t
        }
    }

    /// The tristate value of `s` (computing it if needed).
    pub fn tri(&mut self, s: SymId) -> Tri {
        self.calc(s);
        self.st[s].tri
    }

    /// The string value of `s` as `sym_get_string_value` gives it.
    pub fn string(&mut self, s: SymId) -> String {
        self.calc(s);
        match self.k.syms[s].ty {
            Type::Bool | Type::Tristate => self.st[s].tri.as_str().to_string(),
            Type::Unknown => self.k.syms[s].name.clone(),
            _ => self.st[s].val.clone(),
        }
    }

    /// Visibility of the prompts of `s` (after computing it).
    pub fn visible(&mut self, s: SymId) -> Tri {
        self.calc(s);
        self.st[s].visible
    }

    /// Direct dependency value of `s`.
    pub fn dir_dep(&mut self, s: SymId) -> Tri {
        self.calc(s);
        self.st[s].dir_dep
    }

    /// Reverse (select) dependency value of `s`.
    pub fn rev_dep(&mut self, s: SymId) -> Tri {
        self.calc(s);
        self.st[s].rev_dep
    }

    /// The error when evaluation went deeper than [`MAX_EVAL_DEPTH`] (values
    /// computed after that are not to be trusted): the symbol and where it is
    /// defined. Every caller checks it before using the values.
    pub fn error(&self) -> Option<anyhow::Error> {
        let s = self.too_deep?;
        let sym = &self.k.syms[s];
        let at = sym
            .defs
            .first()
            .map(|l| format!("{l}: "))
            .unwrap_or_default();
        Some(anyhow::anyhow!(
            "{at}{} needs a chain of more than {MAX_EVAL_DEPTH} symbols and expression \
             levels to get its value (dependencies or defaults nested that deep); shorten the chain",
            sym.name
        ))
    }

    /// [`Eval::error`] as a `Result`.
    pub fn check(&self) -> anyhow::Result<()> {
        self.error().map_or(Ok(()), Err)
    }

    /// One more level; false (and the error noted) past [`MAX_EVAL_DEPTH`].
    fn enter(&mut self, s: Option<SymId>) -> bool {
        if self.depth >= MAX_EVAL_DEPTH {
            if self.too_deep.is_none() {
                self.too_deep = Some(s.unwrap_or(0));
            }
            return false;
        }
        self.depth += 1;
        true
    }

    /// Evaluates an expression.
    pub fn eval(&mut self, e: &Expr) -> Tri {
        if !self.enter(None) {
            return Tri::N;
        }
        let r = self.eval_in(e);
        self.depth -= 1;
        r
    }

    fn eval_in(&mut self, e: &Expr) -> Tri {
        match e {
            Expr::Sym(s) => self.tri(*s),
            Expr::Not(a) => self.eval(a).negate(),
            Expr::And(a, b) => {
                let x = self.eval(a);
                let y = self.eval(b);
                x.min(y)
            }
            Expr::Or(a, b) => {
                let x = self.eval(a);
                let y = self.eval(b);
                x.max(y)
            }
            Expr::Cmp(op, a, b) => {
                let s1 = self.string(*a);
                let s2 = self.string(*b);
                let (t1, t2) = (self.k.syms[*a].ty, self.k.syms[*b].ty);
                let (mut k1, mut k2) = (Kind::Str, Kind::Str);
                if t1 != Type::String || t2 != Type::String {
                    k1 = parse_kind(&s1, t1);
                    k2 = parse_kind(&s2, t2);
                }
                let res = match (k1, k2) {
                    (Kind::Str, _) | (_, Kind::Str) => s1.as_bytes().cmp(s2.as_bytes()),
                    (x, y) => {
                        let uns = matches!(x, Kind::Unsigned(_)) || matches!(y, Kind::Unsigned(_));
                        let v = |k: Kind| match k {
                            Kind::Signed(v) => v,
                            Kind::Unsigned(v) => v as i128,
                            Kind::Str => 0,
                        };
                        if uns {
                            (v(x) as u64).cmp(&(v(y) as u64))
                        } else {
                            v(x).cmp(&v(y))
                        }
                    }
                };
                use std::cmp::Ordering::*;
                let r = match op {
                    CmpOp::Eq => res == Equal,
                    CmpOp::Ne => res != Equal,
                    CmpOp::Lt => res == Less,
                    CmpOp::Le => res != Greater,
                    CmpOp::Gt => res == Greater,
                    CmpOp::Ge => res != Less,
                };
                if r {
                    Tri::Y
                } else {
                    Tri::N
                }
            }
        }
    }

    fn eval_opt(&mut self, e: &Option<Expr>, none: Tri) -> Tri {
        match e {
            Some(e) => self.eval(e),
            None => none,
        }
    }

    fn calc_visibility(&mut self, s: SymId) {
        let k = self.k;
        let sym = &k.syms[s];
        let mut tri = Tri::N;
        for p in &sym.prompts {
            let v = self.eval_opt(&p.visible, Tri::Y);
            tri = tri.max(v);
        }
        if tri == Tri::M && (sym.ty != Type::Tristate || self.modules_val == Tri::N) {
            tri = Tri::Y;
        }
        self.st[s].visible = tri;
        if sym.choice.is_some() {
            return;
        }
        let bool_t = self.get_type(s) == Type::Bool;
        let fix = |t: Tri| if t == Tri::M && bool_t { Tri::Y } else { t };
        let d = self.eval_opt(&sym.dir_dep, Tri::Y);
        self.st[s].dir_dep = fix(d);
        let r = self.eval_opt(&sym.rev_dep, Tri::N);
        self.st[s].rev_dep = fix(r);
        let i = self.eval_opt(&sym.implied, Tri::N);
        self.st[s].implied = fix(i);
    }

    fn default_prop(&mut self, s: SymId) -> Option<(usize, Tri)> {
        let k = self.k;
        for (i, p) in k.syms[s].defaults.iter().enumerate() {
            let v = self.eval_opt(&p.visible, Tri::Y);
            if v != Tri::N {
                return Some((i, v));
            }
        }
        None
    }

    /// Index of the default property that gives `s` its value, if any.
    pub fn active_default(&mut self, s: SymId) -> Option<usize> {
        self.default_prop(s).map(|d| d.0)
    }

    /// The choice's default member (`sym_choice_default`): its first `default` whose
    /// condition holds and whose member is visible, else the first visible member.
    pub fn choice_default(&mut self, c: usize) -> Option<SymId> {
        for &m in &self.k.choices[c].members {
            self.calc(m);
        }
        self.choice_default_calculated(c)
    }

    /// [`Eval::choice_default`] with the members' visibility already computed.
    fn choice_default_calculated(&mut self, c: usize) -> Option<SymId> {
        let k = self.k;
        let ch = &k.choices[c];
        for p in &k.syms[ch.sym].defaults {
            if self.eval_opt(&p.visible, Tri::Y) == Tri::N {
                continue;
            }
            if let Some(Expr::Sym(d)) = &p.expr {
                if self.st[*d].visible != Tri::N {
                    return Some(*d);
                }
            }
        }
        ch.members
            .iter()
            .copied()
            .find(|&m| self.st[m].visible != Tri::N)
    }

    /// The member a choice resolves to (`sym_calc_choice`).
    pub fn calc_choice(&mut self, c: usize) -> Option<SymId> {
        let prio = self.prio[c].clone();
        let mut res = None;
        for &m in &prio {
            self.calc_visibility(m);
            if self.st[m].visible == Tri::N {
                continue;
            }
            if self.st[m].user == Some(User::Tri(Tri::Y)) {
                res = Some(m);
                break;
            }
        }
        if res.is_none() {
            res = self.choice_default_calculated(c);
            if let Some(r) = res {
                if self.st[r].user == Some(User::Tri(Tri::N)) {
                    res = None;
                }
            }
        }
        let members = &self.k.choices[c].members;
        if res.is_none() {
            res = members
                .iter()
                .copied()
                .find(|&m| self.st[m].visible != Tri::N && self.st[m].user.is_none());
        }
        if res.is_none() {
            res = prio
                .iter()
                .rev()
                .copied()
                .find(|&m| self.st[m].visible != Tri::N);
        }
        for &m in members {
            if self.st[m].visible == Tri::N {
                continue;
            }
            let st = &mut self.st[m];
            st.tri = if Some(m) == res { Tri::Y } else { Tri::N };
            st.valid = true;
            st.write = true;
        }
        res
    }

    fn calc(&mut self, s: SymId) {
        if self.st[s].valid {
            return;
        }
        if !self.enter(Some(s)) {
            // Left invalid: the error is noted, the values are not used.
            self.too_deep = Some(self.too_deep.filter(|&t| t != 0).unwrap_or(s));
            return;
        }
        self.calc_in(s);
        self.depth -= 1;
    }

    fn calc_in(&mut self, s: SymId) {
        self.st[s].valid = true;
        let k = self.k;
        let sym = &k.syms[s];
        let mut newtri = Tri::N;
        let mut newval = match sym.ty {
            Type::Int => "0".to_string(),
            Type::Hex => "0x0".to_string(),
            Type::String => String::new(),
            Type::Bool | Type::Tristate => "n".to_string(),
            Type::Unknown => {
                self.st[s].tri = Tri::N;
                self.st[s].val = sym.name.clone();
                return;
            }
        };
        self.st[s].write = false;
        self.calc_visibility(s);
        if self.st[s].visible != Tri::N {
            self.st[s].write = true;
        }
        self.st[s].tri = Tri::N;
        self.st[s].val = newval.clone();
        match self.get_type(s) {
            Type::Bool | Type::Tristate => {
                if let Some(c) = sym.choice {
                    // Once per choice: its members' values are all set by one run
                    // (a choice of 20,000 invisible members ran it 20,000 times).
                    if !self.choice_done[c] {
                        self.choice_done[c] = true;
                        self.calc_choice(c);
                    }
                    newtri = self.st[s].tri;
                } else {
                    let st = &self.st[s];
                    let user = match (&st.user, st.visible) {
                        (Some(User::Tri(u)), v) if v != Tri::N => Some((*u).min(v)),
                        _ => None,
                    };
                    if let Some(u) = user {
                        newtri = u;
                    } else {
                        if self.st[s].rev_dep != Tri::N {
                            self.st[s].write = true;
                        }
                        if !sym.is_choice {
                            if let Some((i, vis)) = self.default_prop(s) {
                                let e = sym.defaults[i].expr.as_ref();
                                let v = e.map_or(Tri::N, |e| self.eval(e));
                                newtri = v.min(vis);
                                if newtri != Tri::N {
                                    self.st[s].write = true;
                                }
                            }
                            if self.st[s].implied != Tri::N {
                                self.st[s].write = true;
                                newtri = newtri.max(self.st[s].implied).min(self.st[s].dir_dep);
                            }
                        }
                    }
                    if self.st[s].dir_dep < self.st[s].rev_dep {
                        self.unmet.push(s);
                    }
                    newtri = newtri.max(self.st[s].rev_dep);
                }
                if newtri == Tri::M && self.get_type(s) == Type::Bool {
                    newtri = Tri::Y;
                }
                newval = newtri.as_str().to_string();
            }
            _ => {
                let user = match (&self.st[s].user, self.st[s].visible) {
                    (Some(User::Str(u)), v) if v != Tri::N => Some(u.clone()),
                    _ => None,
                };
                if let Some(u) = user {
                    newval = u;
                } else if let Some((i, _)) = self.default_prop(s) {
                    if let Some(Expr::Sym(ds)) = &sym.defaults[i].expr {
                        self.st[s].write = true;
                        newval = self.string(*ds);
                    }
                }
            }
        }
        self.st[s].tri = newtri;
        self.st[s].val = newval;
        self.validate_range(s);
        if Some(s) == k.modules {
            self.modules_val = newtri;
        }
        if sym.is_choice {
            self.st[s].write = false;
        }
    }

    fn validate_range(&mut self, s: SymId) {
        let k = self.k;
        let base = match k.syms[s].ty {
            Type::Int => 10,
            Type::Hex => 16,
            _ => return,
        };
        let mut found = None;
        for r in &k.syms[s].ranges {
            if self.eval_opt(&r.visible, Tri::Y) != Tri::N {
                found = Some((r.lo, r.hi));
                break;
            }
        }
        let Some((lo, hi)) = found else { return };
        let val = strtoll(&self.st[s].val, base);
        let range_val = |e: &mut Self, r: SymId| {
            let v = e.string(r);
            let b = match e.k.syms[r].ty {
                Type::Int => 10,
                Type::Hex => 16,
                _ => base,
            };
            (strtoll(&v, b), v)
        };
        let (lv, ls) = range_val(self, lo);
        let bound = if val >= lv {
            let (hv, hs) = range_val(self, hi);
            if val <= hv {
                return;
            }
            hs
        } else {
            ls
        };
        self.st[s].val = bound;
    }

    /// Whether `s` would be written to `.config` (`SYMBOL_WRITE`).
    pub fn written(&mut self, s: SymId) -> bool {
        self.calc(s);
        self.st[s].write
    }

    /// The value `s` has in a written `.config`: `None` when not written,
    /// `"n"` for `# CONFIG_X is not set`, otherwise the text after `=`.
    pub fn config_value(&mut self, s: SymId) -> Option<String> {
        let k = self.k;
        let sym = &k.syms[s];
        if sym.is_choice || sym.is_const || sym.ty == Type::Unknown || sym.env.is_some() {
            return None;
        }
        if !self.written(s) {
            return None;
        }
        let v = self.string(s);
        Some(match sym.ty {
            Type::String => escape(&v),
            _ => v,
        })
    }

    /// The lines `conf_write` would write (assignments only), in `.config` order.
    pub fn write_config(&mut self) -> Vec<String> {
        let mut out = Vec::new();
        for &s in &self.k.order {
            if let Some(v) = self.config_value(s) {
                let name = &self.k.syms[s].name;
                let p = &self.prefix;
                if v == "n" && matches!(self.k.syms[s].ty, Type::Bool | Type::Tristate) {
                    out.push(format!("# {p}{name} is not set"));
                } else {
                    out.push(format!("{p}{name}={v}"));
                }
            }
        }
        out
    }

    /// Computes every symbol (as `conf_write` does), so that [`Eval::unmet`] is complete.
    pub fn calc_all(&mut self) {
        for s in 3..self.k.syms.len() {
            self.calc(s);
        }
    }

    /// All written values by name.
    pub fn values(&mut self) -> HashMap<String, String> {
        let mut m = HashMap::new();
        for &s in &self.k.order {
            if let Some(v) = self.config_value(s) {
                m.insert(self.k.syms[s].name.clone(), v);
            }
        }
        m
    }

    /// Whether `s` has a user value.
    pub fn has_user(&self, s: SymId) -> bool {
        self.st[s].user.is_some()
    }

    /// Whether `y` is the constant `y` (helper for formatting).
    pub fn is_yes(s: SymId) -> bool {
        s == SYM_Y
    }
}

/// Quotes a string value the way `.config` files do.
pub fn escape(v: &str) -> String {
    let mut o = String::from("\"");
    for c in v.chars() {
        if c == '"' || c == '\\' {
            o.push('\\');
        }
        o.push(c);
    }
    o.push('"');
    o
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn numbers_like_the_kernel() {
        assert_eq!(strtoll("0x10", 16), 16);
        assert_eq!(strtoll("10", 16), 16);
        assert_eq!(strtoll("-5", 10), -5);
        assert_eq!(strtoll("12abc", 10), 12);
        assert!(string_valid(Type::Int, "0"));
        assert!(!string_valid(Type::Int, "012"));
        assert!(!string_valid(Type::Int, "0x1"));
        assert!(string_valid(Type::Hex, "0xff"));
        assert!(string_valid(Type::Hex, "ff"));
        assert!(!string_valid(Type::Hex, "0x"));
        assert!(parse_kind("0x10", Type::Unknown) == Kind::Signed(16));
        assert!(parse_kind("abc", Type::Unknown) == Kind::Str);
    }

    #[test]
    fn config_lines() {
        assert_eq!(split_line(""), None);
        assert_eq!(split_line("# comment"), None);
        assert_eq!(
            split_line("# CONFIG_A is not set"),
            Some(Ok(("A".into(), "n".into())))
        );
        assert_eq!(
            split_line("CONFIG_B=\"x\""),
            Some(Ok(("B".into(), "\"x\"".into())))
        );
        assert_eq!(split_line("FOO=y"), Some(Err(())));
        assert_eq!(split_line("CONFIG_FOO"), Some(Err(())));
    }
}
