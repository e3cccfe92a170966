//! The parsed Kconfig tree, reduced to what decides values: symbols with their
//! properties, dependency expressions already propagated from enclosing
//! `if`/`menu`/`choice` blocks (the way the kernel's `menu_finalize` does).

use std::collections::HashMap;
use std::fmt;

/// A tristate value; the order is the kernel's (`n < m < y`).
#[derive(Clone, Copy, Debug, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub enum Tri {
    /// `n`
    N = 0,
    /// `m`
    M = 1,
    /// `y`
    Y = 2,
}

impl Tri {
    /// The letter used in `.config` files.
    pub fn as_str(self) -> &'static str {
        match self {
            Tri::N => "n",
            Tri::M => "m",
            Tri::Y => "y",
        }
    }
    /// `!` of the kernel's tristate logic.
    pub fn negate(self) -> Tri {
        match self {
            Tri::N => Tri::Y,
            Tri::M => Tri::M,
            Tri::Y => Tri::N,
        }
    }
}

/// Index of a symbol in [`Kconfig::syms`].
pub type SymId = usize;

/// A symbol's declared type.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Type {
    /// Referenced but never declared (or a constant).
    Unknown,
    /// `bool`
    Bool,
    /// `tristate`
    Tristate,
    /// `string`
    String,
    /// `int`
    Int,
    /// `hex`
    Hex,
}

impl Type {
    /// The keyword of the type.
    pub fn name(self) -> &'static str {
        match self {
            Type::Unknown => "unknown",
            Type::Bool => "bool",
            Type::Tristate => "tristate",
            Type::String => "string",
            Type::Int => "int",
            Type::Hex => "hex",
        }
    }
}

/// Comparison operators of Kconfig expressions.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum CmpOp {
    /// `=`
    Eq,
    /// `!=`
    Ne,
    /// `<`
    Lt,
    /// `<=`
    Le,
    /// `>`
    Gt,
    /// `>=`
    Ge,
}

impl CmpOp {
    fn as_str(self) -> &'static str {
        match self {
            CmpOp::Eq => "=",
            CmpOp::Ne => "!=",
            CmpOp::Lt => "<",
            CmpOp::Le => "<=",
            CmpOp::Gt => ">",
            CmpOp::Ge => ">=",
        }
    }
}

/// A Kconfig expression. Constants (`y`, `"foo"`) are symbols too, as in the kernel.
#[derive(Clone, Debug, PartialEq)]
pub enum Expr {
    /// A symbol (or constant) reference.
    Sym(SymId),
    /// `!e`
    Not(Box<Expr>),
    /// `a && b`
    And(Box<Expr>, Box<Expr>),
    /// `a || b`
    Or(Box<Expr>, Box<Expr>),
    /// `a <op> b` between two symbols.
    Cmp(CmpOp, SymId, SymId),
}

impl Expr {
    /// Calls `f` with every symbol `e` refers to, in order (both sides of a comparison).
    pub fn for_each_sym(&self, f: &mut dyn FnMut(SymId)) {
        match self {
            Expr::Sym(s) => f(*s),
            Expr::Cmp(_, a, b) => {
                f(*a);
                f(*b);
            }
            Expr::Not(a) => a.for_each_sym(f),
            Expr::And(a, b) | Expr::Or(a, b) => {
                a.for_each_sym(f);
                b.for_each_sym(f);
            }
        }
    }
}

/// The depth of `e` as a tree, computed without recursion (so that a tree too deep
/// to evaluate can still be measured and refused).
pub fn depth(e: &Expr) -> usize {
    let mut max = 0;
    let mut stack = vec![(e, 1usize)];
    while let Some((e, d)) = stack.pop() {
        max = max.max(d);
        match e {
            Expr::Not(a) => stack.push((a, d + 1)),
            Expr::And(a, b) | Expr::Or(a, b) => {
                stack.push((a, d + 1));
                stack.push((b, d + 1));
            }
            Expr::Sym(_) | Expr::Cmp(..) => {}
        }
    }
    max
}

/// `a && b` where a missing expression means "always" (the kernel's `expr_alloc_and`).
pub fn and_opt(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => Some(Expr::And(Box::new(a), Box::new(b))),
    }
}

/// `a || b` with the kernel's `expr_alloc_or` quirk: a missing side yields the other side.
pub fn or_opt(a: Option<Expr>, b: Option<Expr>) -> Option<Expr> {
    match (a, b) {
        (None, b) => b,
        (a, None) => a,
        (Some(a), Some(b)) => Some(Expr::Or(Box::new(a), Box::new(b))),
    }
}

/// A place in a Kconfig or config file.
#[derive(Clone, Debug, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct Loc {
    /// File path as given (relative to the kernel tree for Kconfig files).
    pub file: String,
    /// 1-based line number.
    pub line: usize,
}

impl fmt::Display for Loc {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        write!(f, "{}:{}", self.file, self.line)
    }
}

/// A property with a condition: a prompt, a default, a range bound pair.
#[derive(Clone, Debug)]
pub struct Prop {
    /// The value (defaults: the expression; ranges: unused, see [`Range`]).
    pub expr: Option<Expr>,
    /// The full condition: its `if`, the entry's `depends on` and the enclosing blocks'.
    pub visible: Option<Expr>,
    /// Where it was written.
    pub loc: Loc,
}

/// A `range lo hi [if cond]` property.
#[derive(Clone, Debug)]
pub struct Range {
    /// Lower bound symbol (often a number "constant" symbol).
    pub lo: SymId,
    /// Upper bound symbol.
    pub hi: SymId,
    /// Full condition.
    pub visible: Option<Expr>,
}

/// A `select`/`imply` written in some entry, kept for explanations.
#[derive(Clone, Debug)]
pub struct Reverse {
    /// The entry that selects.
    pub from: SymId,
    /// Its full condition (without `from` itself).
    pub cond: Option<Expr>,
    /// Where it was written.
    pub loc: Loc,
}

/// A symbol: a `config`/`menuconfig` name, a referenced name, a constant or a choice.
#[derive(Clone, Debug)]
pub struct Symbol {
    /// Name (for constants, the value; for choices, `<choice>`).
    pub name: String,
    /// Declared type.
    pub ty: Type,
    /// A constant (`y`, `"text"`): never assigned.
    pub is_const: bool,
    /// The anonymous symbol of a `choice` block.
    pub is_choice: bool,
    /// The choice (index in [`Kconfig::choices`]) this symbol is a member of.
    pub choice: Option<usize>,
    /// Prompts in definition order.
    pub prompts: Vec<Prop>,
    /// Defaults in definition order.
    pub defaults: Vec<Prop>,
    /// Ranges in definition order.
    pub ranges: Vec<Range>,
    /// OR of the full dependencies of each definition.
    pub dir_dep: Option<Expr>,
    /// OR of `selector && cond` over all `select`s of this symbol.
    pub rev_dep: Option<Expr>,
    /// OR of `implier && cond` over all `imply`s of this symbol.
    pub implied: Option<Expr>,
    /// The `select`s targeting this symbol.
    pub selected_by: Vec<Reverse>,
    /// Where it is defined (each `config` entry).
    pub defs: Vec<Loc>,
    /// The environment variable of an `option env="VAR"` symbol (Linux < 4.18 syntax,
    /// Buildroot's kconfig): never written to `.config`.
    pub env: Option<String>,
}

impl Symbol {
    pub(crate) fn new(name: &str, is_const: bool) -> Symbol {
        Symbol {
            name: name.to_string(),
            ty: Type::Unknown,
            is_const,
            is_choice: false,
            choice: None,
            prompts: Vec::new(),
            defaults: Vec::new(),
            ranges: Vec::new(),
            dir_dep: None,
            rev_dep: None,
            implied: None,
            selected_by: Vec::new(),
            defs: Vec::new(),
            env: None,
        }
    }
}

/// A `choice` block.
#[derive(Clone, Debug)]
pub struct Choice {
    /// The choice's own anonymous symbol.
    pub sym: SymId,
    /// Members in definition order.
    pub members: Vec<SymId>,
    /// The prompt text, for messages.
    pub prompt: String,
    /// Where the block starts.
    pub loc: Loc,
}

/// The whole parsed tree.
#[derive(Clone, Debug)]
pub struct Kconfig {
    /// All symbols; 0, 1, 2 are the constants `n`, `m`, `y`.
    pub syms: Vec<Symbol>,
    /// Non-constant symbols by name.
    pub by_name: HashMap<String, SymId>,
    /// Constant (quoted) symbols by value.
    pub consts: HashMap<String, SymId>,
    /// All choices.
    pub choices: Vec<Choice>,
    /// The symbol with the `modules` attribute (`MODULES`).
    pub modules: Option<SymId>,
    /// Symbols in the order of their first `config` entry (the order of `.config`).
    pub order: Vec<SymId>,
}

/// Symbol id of the constant `n`.
pub const SYM_N: SymId = 0;
/// Symbol id of the constant `m`.
pub const SYM_M: SymId = 1;
/// Symbol id of the constant `y`.
pub const SYM_Y: SymId = 2;

impl Default for Kconfig {
    fn default() -> Kconfig {
        Kconfig::new()
    }
}

impl Kconfig {
    /// An empty tree holding only the constants `n`, `m`, `y` (for building a model from
    /// another source than Kconfig files, e.g. an index).
    pub fn new() -> Kconfig {
        let mut k = Kconfig {
            syms: Vec::new(),
            by_name: HashMap::new(),
            consts: HashMap::new(),
            choices: Vec::new(),
            modules: None,
            order: Vec::new(),
        };
        for n in ["n", "m", "y"] {
            let mut s = Symbol::new(n, true);
            s.ty = Type::Tristate;
            k.syms.push(s);
        }
        k
    }

    /// The symbol named `name` (as `sym_find`), if the tree mentions it.
    pub fn find(&self, name: &str) -> Option<SymId> {
        self.by_name.get(name).copied()
    }

    /// The symbol (or constant, when `is_const`) named `name`, created if new.
    pub fn lookup(&mut self, name: &str, is_const: bool) -> SymId {
        match name {
            "n" => return SYM_N,
            "m" => return SYM_M,
            "y" => return SYM_Y,
            _ => {}
        }
        let map = if is_const {
            &self.consts
        } else {
            &self.by_name
        };
        if let Some(&id) = map.get(name) {
            return id;
        }
        let id = self.syms.len();
        self.syms.push(Symbol::new(name, is_const));
        if is_const {
            self.consts.insert(name.to_string(), id);
        } else {
            self.by_name.insert(name.to_string(), id);
        }
        id
    }

    /// Writes `e` in Kconfig syntax, with `[=value]` after each symbol as `value` tells.
    pub fn fmt_expr(&self, e: &Expr, value: &dyn Fn(SymId) -> Option<String>) -> String {
        let mut out = String::new();
        self.fmt_into(e, value, 0, &mut out);
        out
    }

    fn fmt_sym(&self, s: SymId, value: &dyn Fn(SymId) -> Option<String>, out: &mut String) {
        let sym = &self.syms[s];
        if sym.is_const && s > SYM_Y {
            out.push('"');
            out.push_str(&sym.name);
            out.push('"');
        } else {
            out.push_str(&sym.name);
            if let Some(v) = value(s) {
                out.push_str(" [=");
                out.push_str(&v);
                out.push(']');
            }
        }
    }

    fn fmt_into(
        &self,
        e: &Expr,
        value: &dyn Fn(SymId) -> Option<String>,
        prec: u8,
        out: &mut String,
    ) {
        match e {
            Expr::Sym(s) => self.fmt_sym(*s, value, out),
            Expr::Not(a) => {
                out.push('!');
                self.fmt_into(a, value, 3, out);
            }
            Expr::Cmp(op, a, b) => {
                self.fmt_sym(*a, value, out);
                out.push_str(op.as_str());
                self.fmt_sym(*b, value, out);
            }
            Expr::And(a, b) | Expr::Or(a, b) => {
                let (p, sep) = if matches!(e, Expr::And(..)) {
                    (2, " && ")
                } else {
                    (1, " || ")
                };
                if prec > p {
                    out.push('(');
                }
                self.fmt_into(a, value, p, out);
                out.push_str(sep);
                self.fmt_into(b, value, p, out);
                if prec > p {
                    out.push(')');
                }
            }
        }
    }
}
