//! Kconfig parser: reads `Kconfig` and every `source`d file of a kernel tree into a
//! [`Kconfig`], following scripts/kconfig/{lexer.l,parser.y,menu.c} of Linux 6.12.

use crate::model::{and_opt, or_opt, Expr, Kconfig, Loc, Prop, Range, Reverse, SymId, Type, SYM_M};
use crate::preprocess::{matching_paren, Macros};
use anyhow::{anyhow, bail, Context, Result};
use std::path::{Path, PathBuf};

#[derive(Clone, Debug, PartialEq)]
enum Tok {
    /// A word (symbol name, number...), after macro expansion.
    Word(String),
    /// A keyword.
    Kw(&'static str),
    /// A quoted string.
    Str(String),
    /// An operator.
    Op(&'static str),
}

const KEYWORDS: &[&str] = &[
    "bool",
    "choice",
    "comment",
    "config",
    "def_bool",
    "def_tristate",
    "default",
    "depends",
    "endchoice",
    "endif",
    "endmenu",
    "help",
    "hex",
    "if",
    "imply",
    "int",
    "mainmenu",
    "menu",
    "menuconfig",
    "modules",
    "on",
    "prompt",
    "range",
    "select",
    "source",
    "string",
    "tristate",
    "visible",
];

fn is_word_byte(c: u8) -> bool {
    c.is_ascii_alphanumeric() || c == b'_' || c == b'-'
}

struct Lexer<'a> {
    s: &'a str,
    i: usize,
}

impl<'a> Lexer<'a> {
    fn next(&mut self, m: &mut Macros) -> Result<Option<Tok>> {
        let b = self.s.as_bytes();
        loop {
            while self.i < b.len() && (b[self.i] == b' ' || b[self.i] == b'\t') {
                self.i += 1;
            }
            if self.i >= b.len() || b[self.i] == b'#' {
                self.i = b.len();
                return Ok(None);
            }
            let c = b[self.i];
            if is_word_byte(c) || c == b'$' {
                let start = self.i;
                let mut dollar = false;
                while self.i < b.len() {
                    let c = b[self.i];
                    if is_word_byte(c) {
                        self.i += 1;
                    } else if c == b'$' {
                        dollar = true;
                        if b.get(self.i + 1) == Some(&b'(') {
                            let end = matching_paren(b, self.i + 2).ok_or_else(|| {
                                anyhow!(
                                    "{}:{}: unterminated reference to '{}': missing ')'",
                                    m.file,
                                    m.line,
                                    &self.s[self.i + 2..]
                                )
                            })?;
                            self.i = end + 1;
                        } else {
                            self.i += 1;
                        }
                    } else {
                        break;
                    }
                }
                let raw = &self.s[start..self.i];
                if !dollar {
                    if let Some(k) = KEYWORDS.iter().find(|k| **k == raw) {
                        return Ok(Some(Tok::Kw(k)));
                    }
                    return Ok(Some(Tok::Word(raw.to_string())));
                }
                let w = m.expand(raw)?;
                if m.concurrent && crate::preprocess::marker_index(&w).is_some() {
                    // A running $(shell,...): resolved after the parse (see `substitute`).
                    return Ok(Some(Tok::Word(w)));
                }
                let w = m.resolve(&w)?;
                if w.is_empty() {
                    continue;
                }
                return Ok(Some(Tok::Word(w)));
            }
            if c == b'"' || c == b'\'' {
                self.i += 1;
                let mut out = String::new();
                let mut start = self.i;
                loop {
                    if self.i >= b.len() {
                        out.push_str(&self.s[start..]);
                        m.messages.push(format!(
                            "{}:{}: warning: multi-line strings not supported",
                            m.file, m.line
                        ));
                        return Ok(Some(Tok::Str(out)));
                    }
                    let d = b[self.i];
                    if d == c {
                        out.push_str(&self.s[start..self.i]);
                        self.i += 1;
                        return Ok(Some(Tok::Str(out)));
                    } else if d == b'\\' {
                        out.push_str(&self.s[start..self.i]);
                        self.i += 1;
                        start = self.i;
                        if self.i < b.len() {
                            self.i += self.s[self.i..].chars().next().map_or(1, char::len_utf8);
                        }
                    } else if d == b'$' {
                        out.push_str(&self.s[start..self.i]);
                        let (t, next) = m.dollar(self.s, self.i + 1, &[])?;
                        out.push_str(&m.resolve(&t)?);
                        self.i = next;
                        start = self.i;
                    } else {
                        self.i += 1;
                    }
                }
            }
            for op in [
                "||", "&&", "!=", "<=", ">=", ":=", "+=", "=", "<", ">", "!", "(", ")",
            ] {
                if self.s[self.i..].starts_with(op) {
                    self.i += op.len();
                    return Ok(Some(Tok::Op(op)));
                }
            }
            let ch = self.s[self.i..].chars().next().unwrap_or(' ');
            m.messages.push(format!(
                "{}:{}: warning: ignoring unsupported character '{}'",
                m.file, m.line, ch
            ));
            self.i += ch.len_utf8();
        }
    }
}

#[derive(Clone, Copy, PartialEq, Debug)]
enum FrameKind {
    Root,
    Menu,
    If,
    Choice(usize),
}

struct Frame {
    kind: FrameKind,
    /// Full dependency of the block's content.
    dep: Option<Expr>,
    /// `visible if` of a menu.
    visibility: Option<Expr>,
    loc: Loc,
}

#[derive(PartialEq)]
enum EntryKind {
    Config(SymId),
    Choice(usize),
    Menu,
    Comment,
}

struct Entry {
    kind: EntryKind,
    loc: Loc,
    ty: Option<Type>,
    deps: Option<Expr>,
    prompts: Vec<(Option<Expr>, Loc, String)>,
    defaults: Vec<(Expr, Option<Expr>, Loc)>,
    reverse: Vec<(bool, SymId, Option<Expr>, Loc)>,
    ranges: Vec<(SymId, SymId, Option<Expr>)>,
    visible_if: Option<Expr>,
}

/// Parses a kernel Kconfig tree.
pub struct Parser {
    k: Kconfig,
    /// The macro state (public for its messages and statistics).
    pub macros: Macros,
    srctree: PathBuf,
    frames: Vec<Frame>,
    cur: Option<Entry>,
    choice: Option<usize>,
    /// Files read, in order.
    pub files: Vec<String>,
    include_stack: Vec<String>,
    bytes_read: usize,
}

fn rewrite_m(e: Option<Expr>, modules: SymId) -> Option<Expr> {
    fn rw(e: Expr, modules: SymId) -> Expr {
        match e {
            Expr::Not(a) => Expr::Not(Box::new(rw(*a, modules))),
            Expr::And(a, b) => Expr::And(Box::new(rw(*a, modules)), Box::new(rw(*b, modules))),
            Expr::Or(a, b) => Expr::Or(Box::new(rw(*a, modules)), Box::new(rw(*b, modules))),
            Expr::Sym(SYM_M) => Expr::And(Box::new(Expr::Sym(SYM_M)), Box::new(Expr::Sym(modules))),
            e => e,
        }
    }
    e.map(|e| rw(e, modules))
}

impl Parser {
    /// A parser for the tree at `srctree`, expanding macros with `macros`.
    pub fn new(srctree: &Path, macros: Macros) -> Parser {
        Parser {
            k: Kconfig::new(),
            macros,
            srctree: srctree.to_path_buf(),
            frames: vec![Frame {
                kind: FrameKind::Root,
                dep: None,
                visibility: None,
                loc: Loc {
                    file: String::new(),
                    line: 0,
                },
            }],
            cur: None,
            choice: None,
            files: Vec::new(),
            include_stack: Vec::new(),
            bytes_read: 0,
        }
    }

    /// Parses `file` (relative to the tree, usually `Kconfig`) and everything it sources.
    pub fn parse(mut self, file: &str) -> Result<(Kconfig, Macros)> {
        self.parse_file(file, None)?;
        self.finish_entry()?;
        if let Some(f) = self.frames.last() {
            if f.kind != FrameKind::Root {
                let what = match f.kind {
                    FrameKind::Menu => "menu (missing endmenu)",
                    FrameKind::If => "if (missing endif)",
                    _ => "choice (missing endchoice)",
                };
                bail!("{}: unterminated {what}", f.loc);
            }
        }
        if self.macros.concurrent {
            substitute(&mut self.k, &mut self.macros)?;
        }
        // `m` in dependencies means `m && MODULES`: resolved now that MODULES is known.
        let modules = self.k.modules.unwrap_or(crate::model::SYM_N);
        let fix = |e: &mut Option<Expr>| {
            if e.is_some() {
                *e = rewrite_m(e.take(), modules);
            }
        };
        for s in &mut self.k.syms {
            for p in s.prompts.iter_mut().chain(s.defaults.iter_mut()) {
                fix(&mut p.visible);
            }
            for r in &mut s.ranges {
                fix(&mut r.visible);
            }
            fix(&mut s.dir_dep);
            fix(&mut s.rev_dep);
            fix(&mut s.implied);
            for r in &mut s.selected_by {
                fix(&mut r.cond);
            }
        }
        Ok((self.k, self.macros))
    }

    fn parse_file(&mut self, file: &str, from: Option<&Loc>) -> Result<()> {
        let path = self.srctree.join(file);
        // Text, strictly: the kernel's and Buildroot's Kconfig files are all UTF-8,
        // and a byte that is not is an error at its line, never a silent U+FFFD.
        let text = match b4k_input::read_text(&path) {
            Ok(t) => t,
            Err(e) => {
                return Err(match from {
                    Some(l) => anyhow!("{l}: can't open file \"{file}\": {e:#}"),
                    None => anyhow!("can't open file \"{}\": {e:#}", path.display()),
                })
            }
        };
        if self.include_stack.len() >= MAX_SOURCE_DEPTH {
            bail!(
                "{}: more than {MAX_SOURCE_DEPTH} files sourced inside each other",
                from.map(|l| l.to_string()).unwrap_or_default()
            );
        }
        self.bytes_read += text.len();
        if self.files.len() >= MAX_SOURCED_FILES || self.bytes_read > MAX_TREE_BYTES {
            bail!(
                "{}: exceeds {MAX_SOURCED_FILES} sourced files or {} MiB of Kconfig text \
                 (files sourced twice at each level?)",
                from.map(|l| l.to_string()).unwrap_or_default(),
                MAX_TREE_BYTES >> 20
            );
        }
        if self.include_stack.iter().any(|f| f == file) {
            bail!(
                "{}: recursive inclusion of \"{file}\"",
                from.map(|l| l.to_string()).unwrap_or_default()
            );
        }
        self.include_stack.push(file.to_string());
        self.files.push(file.to_string());
        let lines: Vec<&str> = text.split('\n').collect();
        let mut i = 0;
        while i < lines.len() {
            let lineno = i + 1;
            let mut line = lines[i].trim_end_matches('\r').to_string();
            i += 1;
            while line.ends_with('\\') && i < lines.len() {
                line.pop();
                line.push_str(lines[i].trim_end_matches('\r'));
                i += 1;
            }
            let loc = Loc {
                file: file.to_string(),
                line: lineno,
            };
            self.macros.file = file.to_string();
            self.macros.line = lineno;
            let help = self
                .statement(&line, &loc)
                .with_context(|| format!("parsing {}", path.display()))?;
            if help {
                i = skip_help(&lines, i);
            }
        }
        self.finish_entry()?;
        self.include_stack.pop();
        Ok(())
    }

    fn err(loc: &Loc, msg: impl std::fmt::Display) -> anyhow::Error {
        anyhow!("{loc}: {msg}")
    }

    /// Handles one logical line; returns true when a help text follows.
    fn statement(&mut self, line: &str, loc: &Loc) -> Result<bool> {
        let mut lx = Lexer { s: line, i: 0 };
        let Some(first) = lx.next(&mut self.macros)? else {
            return Ok(false);
        };
        if let Tok::Word(name) = &first {
            self.word_statement(name, &mut lx, line, loc)?;
            return Ok(false);
        }
        let mut toks = Vec::new();
        while let Some(t) = lx.next(&mut self.macros)? {
            toks.push(t);
        }
        let keeps_markers = matches!(
            first,
            Tok::Kw(
                "bool"
                    | "tristate"
                    | "string"
                    | "int"
                    | "hex"
                    | "def_bool"
                    | "def_tristate"
                    | "default"
                    | "depends"
                    | "range"
                    | "prompt"
                    | "visible"
                    | "if"
            )
        );
        if !keeps_markers {
            for t in &mut toks {
                if let Tok::Word(w) = t {
                    *w = self.macros.resolve(w)?;
                }
            }
        }
        let kw = match first {
            Tok::Kw(k) => k,
            Tok::Str(s) => return Err(Self::err(loc, format!("syntax error: unexpected \"{s}\""))),
            Tok::Op(o) => return Err(Self::err(loc, format!("syntax error: unexpected '{o}'"))),
            Tok::Word(_) => return Ok(false),
        };
        let mut ts = Toks {
            t: toks,
            i: 0,
            loc: loc.clone(),
            depth: 0,
        };
        self.keyword(kw, &mut ts, loc)
    }

    /// A line starting with a word: `option ...`, or a macro assignment.
    fn word_statement(&mut self, name: &str, lx: &mut Lexer, line: &str, loc: &Loc) -> Result<()> {
        let name = &self.macros.resolve(name)?;
        if name == "option" {
            return self.option(lx, loc);
        }
        if let Some(Tok::Op(op @ (":=" | "=" | "+="))) = lx.next(&mut self.macros)? {
            let value = line[lx.i..].trim_start_matches([' ', '\t']);
            return self.macros.assign(name, op, value);
        }
        Err(Self::err(loc, format!("syntax error: unexpected '{name}'")))
    }

    /// A line starting with keyword `kw`; returns true when a help text follows.
    fn keyword(&mut self, kw: &'static str, ts: &mut Toks, loc: &Loc) -> Result<bool> {
        match kw {
            "config" | "menuconfig" => {
                self.finish_entry()?;
                let name = ts.word()?;
                ts.end()?;
                let id = self.k.lookup(&name, false);
                self.cur = Some(Entry::new(EntryKind::Config(id), loc.clone()));
            }
            "choice" => {
                self.finish_entry()?;
                ts.end()?;
                let id = self.k.lookup_choice();
                let c = self.k.choices.len();
                self.k.choices.push(crate::model::Choice {
                    sym: id,
                    members: Vec::new(),
                    prompt: String::new(),
                    loc: loc.clone(),
                });
                self.k.syms[id].ty = Type::Bool;
                self.push(FrameKind::Choice(c), loc)?;
                self.choice = Some(c);
                self.cur = Some(Entry::new(EntryKind::Choice(c), loc.clone()));
            }
            "menu" => {
                self.finish_entry()?;
                let _title = ts.string()?;
                ts.end()?;
                self.push(FrameKind::Menu, loc)?;
                self.cur = Some(Entry::new(EntryKind::Menu, loc.clone()));
            }
            "comment" => {
                self.finish_entry()?;
                let _ = ts.string()?;
                ts.end()?;
                self.cur = Some(Entry::new(EntryKind::Comment, loc.clone()));
            }
            "if" => {
                self.finish_entry()?;
                let e = ts.expr(&mut self.k)?;
                ts.end()?;
                let parent = self.frames.last().and_then(|f| f.dep.clone());
                self.push_frame(Frame {
                    kind: FrameKind::If,
                    dep: and_opt(parent, Some(e)),
                    visibility: None,
                    loc: loc.clone(),
                })?;
            }
            "endmenu" | "endif" | "endchoice" => {
                self.finish_entry()?;
                ts.end()?;
                let top = self.frames.last().map(|f| f.kind);
                let ok = matches!(
                    (kw, top),
                    ("endmenu", Some(FrameKind::Menu))
                        | ("endif", Some(FrameKind::If))
                        | ("endchoice", Some(FrameKind::Choice(_)))
                );
                if !ok {
                    return Err(Self::err(loc, format!("unexpected '{kw}'")));
                }
                if let Some(Frame {
                    kind: FrameKind::Choice(_),
                    ..
                }) = self.frames.pop()
                {
                    self.choice = None;
                }
            }
            "source" => {
                self.finish_entry()?;
                let f = ts.string()?;
                ts.end()?;
                let f = self.expand_sym_refs(&f);
                self.parse_file(&f, Some(loc))?;
            }
            "mainmenu" => {
                let _ = ts.string()?;
                ts.end()?;
            }
            _ => {
                let Some(cur) = self.cur.as_mut() else {
                    return Err(Self::err(
                        loc,
                        format!("'{kw}' outside of a config, choice, menu or comment entry"),
                    ));
                };
                return attribute(&mut self.k, cur, kw, ts, loc);
            }
        }
        Ok(false)
    }

    /// `option env="VAR"` of Linux < 4.18 (Buildroot's kconfig is 4.17): the symbol's
    /// default is the environment variable's value and it is never written to `.config`.
    /// The other old options (`defconfig_list`, `allnoconfig_y`) change nothing here.
    fn option(&mut self, lx: &mut Lexer, loc: &Loc) -> Result<()> {
        let mut toks = Vec::new();
        while let Some(t) = lx.next(&mut self.macros)? {
            toks.push(t);
        }
        let Some(Entry {
            kind: EntryKind::Config(s),
            defaults,
            ..
        }) = self.cur.as_mut()
        else {
            return Err(Self::err(loc, "'option' outside of a config entry"));
        };
        match toks.as_slice() {
            [Tok::Word(w), Tok::Op("="), Tok::Str(var)] if w == "env" => {
                self.k.syms[*s].env = Some(var.clone());
                if let Some(v) = self.macros.env.get(var).cloned() {
                    let c = self.k.lookup(&v, true);
                    defaults.push((Expr::Sym(c), None, loc.clone()));
                }
                Ok(())
            }
            [Tok::Word(w)] if w == "defconfig_list" || w == "allnoconfig_y" => Ok(()),
            [Tok::Kw("modules")] => {
                self.k.modules = Some(*s);
                Ok(())
            }
            _ => Err(Self::err(loc, "unknown 'option'")),
        }
    }

    /// `$NAME` in a `source` path (Linux < 4.18): the value of symbol NAME, which is an
    /// `option env` symbol or has a constant default (Buildroot's
    /// `.br2-external.in.paths`); empty otherwise, as kconfig did.
    fn expand_sym_refs(&self, f: &str) -> String {
        let mut out = String::new();
        let mut rest = f;
        while let Some(i) = rest.find('$') {
            out.push_str(&rest[..i]);
            let tail = &rest[i + 1..];
            let n = tail
                .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
                .unwrap_or(tail.len());
            if n == 0 {
                out.push('$');
                rest = tail;
                continue;
            }
            let name = &tail[..n];
            if let Some(s) = self.k.find(name) {
                let sym = &self.k.syms[s];
                let val = match &sym.env {
                    Some(var) => self.macros.env.get(var).cloned(),
                    None => sym.defaults.iter().find_map(|d| match &d.expr {
                        Some(Expr::Sym(c)) if self.k.syms[*c].is_const => {
                            Some(self.k.syms[*c].name.clone())
                        }
                        _ => None,
                    }),
                };
                out.push_str(&val.unwrap_or_default());
            }
            rest = &tail[n..];
        }
        out.push_str(rest);
        out
    }

    fn push(&mut self, kind: FrameKind, loc: &Loc) -> Result<()> {
        self.push_frame(Frame {
            kind,
            dep: None,
            visibility: None,
            loc: loc.clone(),
        })
    }

    fn push_frame(&mut self, f: Frame) -> Result<()> {
        if self.frames.len() > MAX_NESTING {
            return Err(Self::err(
                &f.loc,
                format!("more than {MAX_NESTING} if/menu/choice blocks nested"),
            ));
        }
        self.frames.push(f);
        Ok(())
    }

    fn vis_chain(&self) -> Option<Expr> {
        let mut v = None;
        for f in self.frames.iter().rev() {
            if let Some(e) = &f.visibility {
                v = and_opt(v, Some(e.clone()));
            }
        }
        v
    }

    fn finish_entry(&mut self) -> Result<()> {
        let Some(e) = self.cur.take() else {
            return Ok(());
        };
        match e.kind {
            EntryKind::Comment => Ok(()),
            EntryKind::Menu | EntryKind::Choice(_) => self.finish_block(e),
            EntryKind::Config(s) => self.finish_config(e, s),
        }
    }

    /// A `menu` or `choice` entry: its dependencies become its frame's, a choice's
    /// prompts and defaults go to the choice symbol.
    fn finish_block(&mut self, e: Entry) -> Result<()> {
        // The block's frame is on top; its parent is below.
        let n = self.frames.len();
        let parent = if n >= 2 {
            self.frames[n - 2].dep.clone()
        } else {
            None
        };
        let full = and_opt(parent, e.deps.clone());
        if let EntryKind::Choice(c) = e.kind {
            let sym = self.k.choices[c].sym;
            let vis = self.vis_chain_below();
            for (cond, loc, text) in &e.prompts {
                if self.k.choices[c].prompt.is_empty() {
                    self.k.choices[c].prompt = text.clone();
                }
                let v = and_opt(full.clone(), and_opt(cond.clone(), vis.clone()));
                self.k.syms[sym].prompts.push(Prop {
                    expr: None,
                    visible: v,
                    loc: loc.clone(),
                });
            }
            for (val, cond, loc) in &e.defaults {
                self.k.syms[sym].defaults.push(Prop {
                    expr: Some(val.clone()),
                    visible: and_opt(full.clone(), cond.clone()),
                    loc: loc.clone(),
                });
            }
            if let Some(t) = e.ty {
                if t != Type::Bool {
                    return Err(Self::err(&e.loc, "choice must be bool"));
                }
            }
        }
        if let Some(f) = self.frames.last_mut() {
            f.dep = full;
            f.visibility = e.visible_if.clone();
        }
        Ok(())
    }

    /// A `config` entry: its properties, with the dependencies of the blocks around
    /// it, go to its symbol (and to the symbols it selects or implies).
    /// The expressions of `s` that grow with the lines of other entries, within
    /// [`MAX_COMBINED_DEPTH`].
    fn check_combined(&self, s: SymId, loc: &Loc) -> Result<()> {
        let sym = &self.k.syms[s];
        for (what, e) in [
            ("its definitions' dependencies", &sym.dir_dep),
            ("the selects of it", &sym.rev_dep),
            ("the implies of it", &sym.implied),
        ] {
            if let Some(e) = e {
                if crate::model::depth(e) > MAX_COMBINED_DEPTH {
                    return Err(Self::err(
                        loc,
                        format!(
                            "{}: {what} combine into an expression deeper than \
                             {MAX_COMBINED_DEPTH}; use an intermediate symbol",
                            sym.name
                        ),
                    ));
                }
            }
        }
        Ok(())
    }

    fn finish_config(&mut self, e: Entry, s: SymId) -> Result<()> {
        let targets: Vec<SymId> = e.reverse.iter().map(|r| r.1).collect();
        let loc = e.loc.clone();
        self.finish_config_in(e, s)?;
        for t in std::iter::once(s).chain(targets) {
            self.check_combined(t, &loc)?;
        }
        Ok(())
    }

    fn finish_config_in(&mut self, e: Entry, s: SymId) -> Result<()> {
        let parent = self.frames.last().and_then(|f| f.dep.clone());
        let full = and_opt(parent, e.deps.clone());
        let vis = self.vis_chain();
        let k = &mut self.k;
        if let Some(t) = e.ty {
            if k.syms[s].ty == Type::Unknown {
                k.syms[s].ty = t;
            }
        }
        if k.syms[s].defs.is_empty() {
            k.order.push(s);
        }
        k.syms[s].defs.push(e.loc.clone());
        // A config that depends on an earlier member of its choice becomes that
        // member's child in menu_finalize's automatic submenus, not a choice
        // value (Buildroot sources libopenssl's options inside its choice).
        let in_choice = self.choice.filter(|&c| {
            let members = &k.choices[c].members;
            let on_member = |x: &Option<Expr>| {
                x.as_ref()
                    .is_some_and(|x| members.iter().any(|&m| mentions(x, m)))
            };
            !e.prompts.is_empty()
                && !on_member(&full)
                && !e.prompts.iter().any(|(c, _, _)| on_member(c))
        });
        for (cond, loc, _) in &e.prompts {
            let v = and_opt(full.clone(), and_opt(cond.clone(), vis.clone()));
            k.syms[s].prompts.push(Prop {
                expr: None,
                visible: v,
                loc: loc.clone(),
            });
        }
        for (val, cond, loc) in &e.defaults {
            k.syms[s].defaults.push(Prop {
                expr: Some(val.clone()),
                visible: and_opt(full.clone(), cond.clone()),
                loc: loc.clone(),
            });
        }
        for (lo, hi, cond) in &e.ranges {
            k.syms[s].ranges.push(Range {
                lo: *lo,
                hi: *hi,
                visible: and_opt(full.clone(), cond.clone()),
            });
        }
        for (imply, t, cond, loc) in &e.reverse {
            let c = and_opt(full.clone(), cond.clone());
            let term = and_opt(Some(Expr::Sym(s)), c.clone());
            let ts = &mut k.syms[*t];
            if *imply {
                ts.implied = or_opt(ts.implied.take(), term);
            } else {
                ts.rev_dep = or_opt(ts.rev_dep.take(), term);
                ts.selected_by.push(Reverse {
                    from: s,
                    cond: c,
                    loc: loc.clone(),
                });
            }
        }
        if let Some(c) = in_choice {
            if k.syms[s].choice.is_none() {
                k.syms[s].choice = Some(c);
                k.choices[c].members.push(s);
            }
            if k.syms[s].ty != Type::Bool {
                return Err(Self::err(&e.loc, "choice member must be bool"));
            }
        } else {
            let d = k.syms[s].dir_dep.take();
            k.syms[s].dir_dep = or_opt(d, full);
        }
        Ok(())
    }

    fn vis_chain_below(&self) -> Option<Expr> {
        let mut v = None;
        let n = self.frames.len();
        for f in self.frames[..n.saturating_sub(1)].iter().rev() {
            if let Some(e) = &f.visibility {
                v = and_opt(v, Some(e.clone()));
            }
        }
        v
    }
}

/// Whether `e` refers to symbol `s`.
fn mentions(e: &Expr, s: SymId) -> bool {
    match e {
        Expr::Sym(x) => *x == s,
        Expr::Not(a) => mentions(a, s),
        Expr::And(a, b) | Expr::Or(a, b) => mentions(a, s) || mentions(b, s),
        Expr::Cmp(_, a, b) => *a == s || *b == s,
    }
}

impl Entry {
    fn new(kind: EntryKind, loc: Loc) -> Entry {
        Entry {
            kind,
            loc,
            ty: None,
            deps: None,
            prompts: Vec::new(),
            defaults: Vec::new(),
            reverse: Vec::new(),
            ranges: Vec::new(),
            visible_if: None,
        }
    }
}

fn attribute(k: &mut Kconfig, cur: &mut Entry, kw: &str, ts: &mut Toks, loc: &Loc) -> Result<bool> {
    let is_sym = matches!(cur.kind, EntryKind::Config(_));
    let is_choice = matches!(cur.kind, EntryKind::Choice(_));
    let bad = |what: &str| Parser::err(loc, format!("'{what}' is not allowed here"));
    match kw {
        "bool" | "tristate" | "string" | "int" | "hex" | "def_bool" | "def_tristate" => {
            if !is_sym && !is_choice {
                return Err(bad(kw));
            }
            let ty = match kw {
                "bool" | "def_bool" => Type::Bool,
                "tristate" | "def_tristate" => Type::Tristate,
                "string" => Type::String,
                "int" => Type::Int,
                _ => Type::Hex,
            };
            if cur.ty.is_none() {
                cur.ty = Some(ty);
            }
            if kw.starts_with("def_") {
                let e = ts.expr(k)?;
                let c = ts.if_expr(k)?;
                cur.defaults.push((e, c, loc.clone()));
            } else if ts.peek_string() {
                let text = ts.string()?;
                let c = ts.if_expr(k)?;
                cur.prompts.push((c, loc.clone(), text));
            }
        }
        "prompt" => {
            let text = ts.string()?;
            let c = ts.if_expr(k)?;
            cur.prompts.push((c, loc.clone(), text));
        }
        "default" => {
            if !is_sym && !is_choice {
                return Err(bad(kw));
            }
            let e = if is_choice {
                let name = ts.word()?;
                Expr::Sym(k.lookup(&name, false))
            } else {
                ts.expr(k)?
            };
            let c = ts.if_expr(k)?;
            cur.defaults.push((e, c, loc.clone()));
        }
        "depends" => {
            ts.kw("on")?;
            let e = ts.expr(k)?;
            cur.deps = and_opt(cur.deps.take(), Some(e));
            combined(&cur.deps, "'depends on' lines", loc)?;
        }
        "select" | "imply" => {
            if !is_sym {
                return Err(bad(kw));
            }
            let name = ts.word()?;
            let t = k.lookup(&name, false);
            let c = ts.if_expr(k)?;
            cur.reverse.push((kw == "imply", t, c, loc.clone()));
        }
        "range" => {
            if !is_sym {
                return Err(bad(kw));
            }
            let lo = ts.symbol(k)?;
            let hi = ts.symbol(k)?;
            let c = ts.if_expr(k)?;
            cur.ranges.push((lo, hi, c));
        }
        "visible" => {
            if cur.kind != EntryKind::Menu {
                return Err(bad(kw));
            }
            ts.kw("if")?;
            let e = ts.expr(k)?;
            cur.visible_if = and_opt(cur.visible_if.take(), Some(e));
            combined(&cur.visible_if, "'visible if' lines", loc)?;
        }
        "modules" => {
            if let EntryKind::Config(s) = cur.kind {
                k.modules = Some(s);
            } else {
                return Err(bad(kw));
            }
        }
        "help" => {
            ts.end()?;
            return Ok(true);
        }
        _ => return Err(Parser::err(loc, format!("syntax error: unexpected '{kw}'"))),
    }
    ts.end()?;
    Ok(false)
}

/// An entry's `what` (several lines joined with `&&`) within [`MAX_COMBINED_DEPTH`].
fn combined(e: &Option<Expr>, what: &str, loc: &Loc) -> Result<()> {
    if e.as_ref()
        .is_some_and(|e| crate::model::depth(e) > MAX_COMBINED_DEPTH)
    {
        return Err(Parser::err(
            loc,
            format!("exceeds {MAX_COMBINED_DEPTH} {what} in one entry; use an intermediate symbol"),
        ));
    }
    Ok(())
}

/// Skips a help text starting at line index `i`; returns the index of the first line after it.
fn skip_help(lines: &[&str], mut i: usize) -> usize {
    let mut first: Option<usize> = None;
    while i < lines.len() {
        let l = lines[i].trim_end_matches('\r');
        if l.trim().is_empty() {
            i += 1;
            continue;
        }
        let mut ts = 0;
        for c in l.bytes() {
            match c {
                b'\t' => ts = (ts & !7) + 8,
                b' ' => ts += 1,
                _ => break,
            }
        }
        if ts == 0 {
            return i;
        }
        match first {
            None => first = Some(ts),
            Some(f) if ts < f => return i,
            _ => {}
        }
        i += 1;
    }
    i
}

/// How deep one written expression may be, as a tree (a chain `a && b && ...` is
/// as deep as it is long) and in nested parentheses and `!`: far above the
/// kernel's and Buildroot's deepest (a few dozen), low enough that parsing,
/// evaluating and dropping it cannot overflow a thread's stack.
pub const MAX_EXPR_DEPTH: usize = 1000;

/// How deep parentheses and `!` may nest in one expression (the parser recurses
/// on them; the kernel's and Buildroot's nest a few levels).
pub const MAX_EXPR_NESTING: usize = 100;

/// The most `if`/`menu`/`choice` blocks open at once (each one's dependency is
/// copied into every entry inside it, so deep nesting costs quadratic memory).
pub const MAX_NESTING: usize = 100;

/// The most `source` files open at once.
pub const MAX_SOURCE_DEPTH: usize = 64;

/// The most `source` statements one parse follows, and the most bytes it reads:
/// Linux 6.12 has 1,812 Kconfig files (6.7 MB), Buildroot 2026.02.3 3,367 `Config.in`
/// files (3.1 MB); files that each source the next twice would otherwise make 2^n parses.
pub const MAX_SOURCED_FILES: usize = 20_000;
/// See [`MAX_SOURCED_FILES`].
pub const MAX_TREE_BYTES: usize = 256 << 20;

/// How deep an expression combined from several lines may be: the `depends on`
/// lines of an entry, the `select`s of one symbol (Buildroot's `BR2_LEGACY` has
/// 894), the definitions of one symbol. Far below what overflows the stack
/// the binaries run on (`b4k_input::STACK_BYTES`).
pub const MAX_COMBINED_DEPTH: usize = 5000;

struct Toks {
    t: Vec<Tok>,
    i: usize,
    loc: Loc,
    /// Parentheses and `!` open at this point of the expression.
    depth: usize,
}

impl Toks {
    fn peek(&self) -> Option<&Tok> {
        self.t.get(self.i)
    }
    fn err(&self, what: &str) -> anyhow::Error {
        match self.peek() {
            Some(t) => anyhow!(
                "{}: syntax error: expected {what}, found {}",
                self.loc,
                show(t)
            ),
            None => anyhow!(
                "{}: syntax error: expected {what} before end of line",
                self.loc
            ),
        }
    }
    fn end(&self) -> Result<()> {
        match self.peek() {
            None => Ok(()),
            Some(_) => Err(self.err("end of line")),
        }
    }
    fn kw(&mut self, k: &str) -> Result<()> {
        if self.peek()
            == Some(&Tok::Kw(match k {
                "on" => "on",
                _ => "if",
            }))
        {
            self.i += 1;
            Ok(())
        } else {
            Err(self.err(&format!("'{k}'")))
        }
    }
    fn word(&mut self) -> Result<String> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.err("a symbol name")),
        }
    }
    fn peek_string(&self) -> bool {
        matches!(self.peek(), Some(Tok::Str(_)))
    }
    fn string(&mut self) -> Result<String> {
        match self.peek() {
            Some(Tok::Str(w)) => {
                let w = w.clone();
                self.i += 1;
                Ok(w)
            }
            _ => Err(self.err("a quoted string")),
        }
    }
    fn if_expr(&mut self, k: &mut Kconfig) -> Result<Option<Expr>> {
        if self.peek() == Some(&Tok::Kw("if")) {
            self.i += 1;
            Ok(Some(self.expr(k)?))
        } else {
            Ok(None)
        }
    }
    fn symbol(&mut self, k: &mut Kconfig) -> Result<SymId> {
        match self.peek() {
            Some(Tok::Word(w)) => {
                let id = k.lookup(&w.clone(), false);
                self.i += 1;
                Ok(id)
            }
            Some(Tok::Str(w)) => {
                let id = k.lookup(&w.clone(), true);
                self.i += 1;
                Ok(id)
            }
            _ => Err(self.err("a symbol")),
        }
    }
    /// `d` (a tree depth) if within [`MAX_EXPR_DEPTH`], else an error.
    fn bounded(&self, d: usize) -> Result<usize> {
        if d > MAX_EXPR_DEPTH {
            bail!(
                "{}: expression too large: chained more than {MAX_EXPR_DEPTH} deep; split it",
                self.loc
            );
        }
        Ok(d)
    }
    /// One more parenthesis or `!` open; an error past [`MAX_EXPR_NESTING`].
    fn nest(&mut self) -> Result<()> {
        self.depth += 1;
        if self.depth > MAX_EXPR_NESTING {
            bail!(
                "{}: expression too large: parentheses and '!' nested more than \
                 {MAX_EXPR_NESTING} deep; split it",
                self.loc
            );
        }
        Ok(())
    }
    fn expr(&mut self, k: &mut Kconfig) -> Result<Expr> {
        Ok(self.or_chain(k)?.0)
    }
    /// `a || b || ...` with the depth of the tree built (chains are left-deep).
    fn or_chain(&mut self, k: &mut Kconfig) -> Result<(Expr, usize)> {
        let (mut e, mut d) = self.and_chain(k)?;
        while self.peek() == Some(&Tok::Op("||")) {
            self.i += 1;
            let (r, rd) = self.and_chain(k)?;
            d = self.bounded(d.max(rd) + 1)?;
            e = Expr::Or(Box::new(e), Box::new(r));
        }
        Ok((e, d))
    }
    fn and_chain(&mut self, k: &mut Kconfig) -> Result<(Expr, usize)> {
        let (mut e, mut d) = self.unary(k)?;
        while self.peek() == Some(&Tok::Op("&&")) {
            self.i += 1;
            let (r, rd) = self.unary(k)?;
            d = self.bounded(d.max(rd) + 1)?;
            e = Expr::And(Box::new(e), Box::new(r));
        }
        Ok((e, d))
    }
    fn unary(&mut self, k: &mut Kconfig) -> Result<(Expr, usize)> {
        use crate::model::CmpOp;
        match self.peek() {
            Some(Tok::Op("!")) => {
                self.nest()?;
                self.i += 1;
                let (e, d) = self.unary(k)?;
                self.depth -= 1;
                Ok((Expr::Not(Box::new(e)), self.bounded(d + 1)?))
            }
            Some(Tok::Op("(")) => {
                self.nest()?;
                self.i += 1;
                let e = self.or_chain(k)?;
                if self.peek() != Some(&Tok::Op(")")) {
                    return Err(self.err("')'"));
                }
                self.i += 1;
                self.depth -= 1;
                Ok(e)
            }
            _ => {
                let a = self.symbol(k)?;
                let op = match self.peek() {
                    Some(Tok::Op("=")) => CmpOp::Eq,
                    Some(Tok::Op("!=")) => CmpOp::Ne,
                    Some(Tok::Op("<")) => CmpOp::Lt,
                    Some(Tok::Op("<=")) => CmpOp::Le,
                    Some(Tok::Op(">")) => CmpOp::Gt,
                    Some(Tok::Op(">=")) => CmpOp::Ge,
                    _ => return Ok((Expr::Sym(a), 1)),
                };
                self.i += 1;
                let b = self.symbol(k)?;
                Ok((Expr::Cmp(op, a, b), 1))
            }
        }
    }
}

fn show(t: &Tok) -> String {
    match t {
        Tok::Word(w) => format!("'{w}'"),
        Tok::Kw(w) => format!("'{w}'"),
        Tok::Str(s) => format!("\"{s}\""),
        Tok::Op(o) => format!("'{o}'"),
    }
}

/// The parse must be redone with `$(shell,...)` run one at a time: a command's
/// output used as a word was empty or several words, which changes the tokens.
#[derive(Debug)]
pub struct SerialNeeded;

impl std::fmt::Display for SerialNeeded {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.write_str("a $(shell,...) result changes the Kconfig tokens")
    }
}

impl std::error::Error for SerialNeeded {}

/// Replaces the placeholder symbols of running `$(shell,...)` commands by the symbol
/// their output names (what the kernel's lexer would have produced).
fn substitute(k: &mut Kconfig, m: &mut Macros) -> Result<()> {
    let placeholders: Vec<(String, SymId)> = k
        .by_name
        .iter()
        .filter(|(n, _)| crate::preprocess::marker_index(n).is_some())
        .map(|(n, id)| (n.clone(), *id))
        .collect();
    let mut map = std::collections::HashMap::new();
    for (name, id) in placeholders {
        let idx = crate::preprocess::marker_index(&name).unwrap_or(usize::MAX);
        let r = m.result_of(idx)?;
        if r.is_empty() || r.contains([' ', '\t']) {
            return Err(SerialNeeded.into());
        }
        k.by_name.remove(&name);
        let target = k.lookup(&r, false);
        map.insert(id, target);
    }
    m.finish_all()?;
    if map.is_empty() {
        return Ok(());
    }
    fn fix_expr(e: &mut Expr, map: &std::collections::HashMap<SymId, SymId>) {
        match e {
            Expr::Sym(s) => {
                if let Some(t) = map.get(s) {
                    *s = *t;
                }
            }
            Expr::Cmp(_, a, b) => {
                if let Some(t) = map.get(a) {
                    *a = *t;
                }
                if let Some(t) = map.get(b) {
                    *b = *t;
                }
            }
            Expr::Not(a) => fix_expr(a, map),
            Expr::And(a, b) | Expr::Or(a, b) => {
                fix_expr(a, map);
                fix_expr(b, map);
            }
        }
    }
    let fix = |e: &mut Option<Expr>| {
        if let Some(e) = e {
            fix_expr(e, &map);
        }
    };
    for s in &mut k.syms {
        for p in s.prompts.iter_mut().chain(s.defaults.iter_mut()) {
            fix(&mut p.expr);
            fix(&mut p.visible);
        }
        for r in &mut s.ranges {
            if let Some(t) = map.get(&r.lo) {
                r.lo = *t;
            }
            if let Some(t) = map.get(&r.hi) {
                r.hi = *t;
            }
            fix(&mut r.visible);
        }
        fix(&mut s.dir_dep);
        fix(&mut s.rev_dep);
        fix(&mut s.implied);
        for r in &mut s.selected_by {
            fix(&mut r.cond);
        }
    }
    Ok(())
}

impl Kconfig {
    /// A new anonymous choice symbol.
    pub fn lookup_choice(&mut self) -> SymId {
        let id = self.syms.len();
        let mut s = crate::model::Symbol::new("<choice>", false);
        s.is_choice = true;
        self.syms.push(s);
        id
    }
}

/// Parses the tree at `srctree` with the macro state `macros`.
pub fn parse_tree(srctree: &Path, macros: Macros) -> Result<(Kconfig, Macros)> {
    Parser::new(srctree, macros).parse("Kconfig")
}
