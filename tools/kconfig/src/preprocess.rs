//! The Kconfig preprocessor: `$(var)`, `$(fn,args)`, user functions with `$(1)`,
//! the built-ins `shell`, `info`, `warning-if`, `error-if`, `filename`, `lineno`,
//! and environment variables (Documentation/kbuild/kconfig-macro-language.rst).

use anyhow::{bail, Result};
use std::collections::HashMap;
use std::path::PathBuf;
use std::process::Command;

/// How deep a function macro may call itself before expansion stops with an error.
pub const MAX_EXPANSION_DEPTH: u32 = 200;

#[derive(Clone, Copy, PartialEq)]
enum Flavor {
    Simple,
    Recursive,
}

struct Var {
    flavor: Flavor,
    value: String,
    busy: u32,
}

/// Macro state shared by all Kconfig files of one parse.
pub struct Macros {
    vars: HashMap<String, Var>,
    /// Environment given to `$(shell,...)` and looked up for unknown names.
    pub env: HashMap<String, String>,
    /// Names of environment variables left out of `env` because their name or
    /// value is not UTF-8 (lossy names): a reference to one is an error.
    pub non_utf8_env: Vec<String>,
    /// Working directory of `$(shell,...)` (the kernel runs them in the object tree).
    pub shell_dir: PathBuf,
    /// Current file and line, for `$(filename)`, `$(lineno)` and messages.
    pub file: String,
    /// Current line.
    pub line: usize,
    /// `$(info)` / `$(warning-if)` output, in order.
    pub messages: Vec<String>,
    /// Number of `$(shell,...)` commands run.
    pub shell_runs: usize,
    /// Run `$(shell,...)` commands concurrently, returning markers (see [`Macros::resolve`]).
    pub concurrent: bool,
    pending: Vec<Pending>,
    nesting: u32,
}

/// A `$(shell,...)` command started but maybe not finished.
struct Pending {
    child: Option<std::thread::JoinHandle<Result<String>>>,
    result: Option<String>,
}

/// Seconds a `$(shell,...)` command may run (the kernel's run a compiler on a
/// one-line input: well under a second each).
pub const SHELL_TIMEOUT_SECS: u64 = 120;
/// Bytes a `$(shell,...)` command may print (the kernel keeps 4095 of them).
pub const SHELL_MAX_OUTPUT: u64 = 1 << 20;
/// Bytes one expansion may produce: far above any real Kconfig line (the kernel's
/// longest expanded lines are a few KB), far below what a doubling variable makes.
pub const MAX_EXPANSION_BYTES: usize = 1 << 20;
/// How deep references may nest, written inside each other or reached through
/// variables (`$(a)` whose value is `$(b)`...): each level is a few Rust stack
/// frames. The kernel's own Kconfig files nest fewer than 10.
pub const MAX_PAREN_NESTING: u32 = 200;

/// Start and end of a marker standing for the output of a running `$(shell,...)`.
const MARK_START: char = '\u{1}';
const MARK_END: char = '\u{2}';

/// If `s` is exactly one marker, its index.
pub fn marker_index(s: &str) -> Option<usize> {
    let inner = s.strip_prefix(MARK_START)?.strip_suffix(MARK_END)?;
    inner.parse().ok()
}

impl Macros {
    /// New state; `env` is the complete environment `make` would export to `conf`.
    pub fn new(env: HashMap<String, String>, shell_dir: PathBuf) -> Macros {
        Macros {
            vars: HashMap::new(),
            env,
            non_utf8_env: Vec::new(),
            shell_dir,
            file: String::new(),
            line: 0,
            messages: Vec::new(),
            shell_runs: 0,
            concurrent: false,
            pending: Vec::new(),
            nesting: 0,
        }
    }

    fn err(&self, msg: String) -> anyhow::Error {
        anyhow::anyhow!("{}:{}: {}", self.file, self.line, msg)
    }

    /// `NAME := value`, `NAME = value`, `NAME += value`.
    pub fn assign(&mut self, name: &str, op: &str, value: &str) -> Result<()> {
        match op {
            ":=" => {
                let v = self.expand(value)?;
                self.vars.insert(
                    name.to_string(),
                    Var {
                        flavor: Flavor::Simple,
                        value: v,
                        busy: 0,
                    },
                );
            }
            "=" => {
                self.vars.insert(
                    name.to_string(),
                    Var {
                        flavor: Flavor::Recursive,
                        value: value.to_string(),
                        busy: 0,
                    },
                );
            }
            _ => {
                let flavor = self.vars.get(name).map(|v| v.flavor);
                let add = match flavor {
                    Some(Flavor::Simple) => self.expand(value)?,
                    _ => value.to_string(),
                };
                let var = self.vars.entry(name.to_string()).or_insert(Var {
                    flavor: Flavor::Recursive,
                    value: String::new(),
                    busy: 0,
                });
                if var.value.len() + add.len() >= MAX_EXPANSION_BYTES {
                    let msg = format!("'{name}' exceeds {MAX_EXPANSION_BYTES} bytes");
                    return Err(self.err(msg));
                }
                if !var.value.is_empty() {
                    var.value.push(' ');
                }
                var.value.push_str(&add);
            }
        }
        Ok(())
    }

    /// Expands every `$(...)` in `s`.
    pub fn expand(&mut self, s: &str) -> Result<String> {
        self.expand_args(s, &[])
    }

    fn expand_args(&mut self, s: &str, args: &[String]) -> Result<String> {
        let b = s.as_bytes();
        let mut out = String::new();
        let mut i = 0;
        let mut start = 0;
        while i < b.len() {
            if b[i] == b'$' {
                out.push_str(&s[start..i]);
                let (text, next) = self.dollar(s, i + 1, args)?;
                if out.len() + text.len() > MAX_EXPANSION_BYTES {
                    return Err(self.err(format!(
                        "expansion exceeds {MAX_EXPANSION_BYTES} bytes (a variable that doubles \
                         itself?); a Kconfig line is never this long"
                    )));
                }
                out.push_str(&text);
                i = next;
                start = i;
            } else {
                i += 1;
            }
        }
        out.push_str(&s[start..]);
        Ok(out)
    }

    /// Expands the reference after a `$` at byte `i`; returns the text and the next index.
    pub fn dollar(&mut self, s: &str, i: usize, args: &[String]) -> Result<(String, usize)> {
        let b = s.as_bytes();
        if b.get(i) != Some(&b'(') {
            return Ok(("$".to_string(), i));
        }
        let end = matching_paren(b, i + 1).ok_or_else(|| {
            self.err(format!(
                "unterminated reference to '{}': missing ')'",
                &s[i + 1..]
            ))
        })?;
        if self.nesting >= MAX_PAREN_NESTING {
            return Err(self.err(format!(
                "references '$(' nested more than {MAX_PAREN_NESTING} deep, written or \
                 through variables; split the line"
            )));
        }
        self.nesting += 1;
        let text = self.clause(&s[i + 1..end], args);
        self.nesting -= 1;
        Ok((text?, end + 1))
    }

    fn clause(&mut self, inner: &str, args: &[String]) -> Result<String> {
        if let Ok(n) = inner.parse::<usize>() {
            if n > 0 && n <= args.len() {
                return Ok(args[n - 1].clone());
            }
        }
        let mut parts = Vec::new();
        let mut nest = 0i32;
        let mut prev = 0;
        for (j, c) in inner.bytes().enumerate() {
            match c {
                b',' if nest == 0 => {
                    parts.push(&inner[prev..j]);
                    prev = j + 1;
                }
                b'(' => nest += 1,
                b')' => nest -= 1,
                _ => {}
            }
        }
        parts.push(&inner[prev..]);
        if parts.len() > 16 {
            return Err(self.err("too many function arguments".into()));
        }
        let name = self.expand_args(parts[0], args)?;
        let name = self.resolve(&name)?;
        let mut fargs = Vec::with_capacity(parts.len() - 1);
        for p in &parts[1..] {
            fargs.push(self.expand_args(p, args)?);
        }
        if let Some(v) = self.vars.get_mut(&name) {
            if fargs.is_empty() && v.busy > 0 {
                return Err(self.err(format!(
                    "Recursive variable '{name}' references itself (eventually)"
                )));
            }
            // The kernel stops at 1000 (scripts/kconfig/preprocess.c); a level
            // here is several Rust frames, and 1000 of them overflow a 2 MiB
            // thread stack in a debug build (found by tools/fuzz with
            // `f = $(f,a,b)`). No real Kconfig file nests its macros this deep.
            if v.busy > MAX_EXPANSION_DEPTH {
                return Err(self.err("Too deep recursive expansion".into()));
            }
            v.busy += 1;
            let (flavor, value) = (v.flavor, v.value.clone());
            let res = if flavor == Flavor::Recursive {
                self.expand_args(&value, &fargs)
            } else {
                Ok(value)
            };
            if let Some(v) = self.vars.get_mut(&name) {
                v.busy -= 1;
            }
            return res;
        }
        if let Some(r) = self.function(&name, &fargs)? {
            return Ok(r);
        }
        if fargs.is_empty() && !name.is_empty() {
            if let Some(v) = self.env.get(&name) {
                return Ok(v.clone());
            }
            if self.non_utf8_env.contains(&name) {
                return Err(self.err(format!(
                    "environment variable {name} is not UTF-8; unset it or give it a UTF-8 value"
                )));
            }
        }
        Ok(String::new())
    }

    fn function(&mut self, name: &str, a: &[String]) -> Result<Option<String>> {
        let mut resolved = Vec::new();
        if matches!(name, "error-if" | "warning-if" | "info" | "shell") {
            for x in a {
                resolved.push(self.resolve(x)?);
            }
        }
        let a = if resolved.is_empty() {
            a
        } else {
            &resolved[..]
        };
        let want = match name {
            "error-if" | "warning-if" => 2,
            "info" | "shell" => 1,
            "filename" | "lineno" => 0,
            _ => return Ok(None),
        };
        if a.len() != want {
            return Err(self.err(format!(
                "function '{name}' takes {want} argument(s), {} given",
                a.len()
            )));
        }
        Ok(Some(match name {
            "error-if" => {
                if a[0] == "y" {
                    return Err(self.err(a[1].clone()));
                }
                String::new()
            }
            "warning-if" => {
                if a[0] == "y" {
                    let m = format!("{}:{}: {}", self.file, self.line, a[1]);
                    self.messages.push(m);
                }
                String::new()
            }
            "info" => {
                self.messages.push(a[0].clone());
                String::new()
            }
            "filename" => self.file.clone(),
            "lineno" => self.line.to_string(),
            _ => self.shell(&a[0])?,
        }))
    }

    /// `$(shell,cmd)`: /bin/sh -c, stdout (first 4095 bytes), trailing newlines
    /// removed, inner newlines turned into spaces: what the kernel's `do_shell`
    /// does; bounded by [`SHELL_TIMEOUT_SECS`] and [`SHELL_MAX_OUTPUT`].
    fn shell(&mut self, cmd: &str) -> Result<String> {
        self.shell_runs += 1;
        if self.concurrent {
            let running = self.pending.iter().filter(|p| p.result.is_none()).count();
            if running >= 8 {
                if let Some(i) = self.pending.iter().position(|p| p.result.is_none()) {
                    self.finish(i)?;
                }
            }
            let job = self.job(cmd);
            self.pending.push(Pending {
                child: Some(std::thread::spawn(job)),
                result: None,
            });
            return Ok(format!("{MARK_START}{}{MARK_END}", self.pending.len() - 1));
        }
        self.job(cmd)()
    }

    fn finish(&mut self, i: usize) -> Result<String> {
        if let Some(r) = &self.pending[i].result {
            return Ok(r.clone());
        }
        let r = match self.pending[i].child.take() {
            Some(c) => c
                .join()
                .map_err(|_| anyhow::anyhow!("a $(shell,...) thread panicked"))??,
            None => String::new(),
        };
        self.pending[i].result = Some(r.clone());
        Ok(r)
    }

    /// Replaces every marker in `s` by the output of its command (waiting for it).
    pub fn resolve(&mut self, s: &str) -> Result<String> {
        if !s.contains(MARK_START) {
            return Ok(s.to_string());
        }
        let mut out = String::new();
        let mut rest = s;
        while let Some(i) = rest.find(MARK_START) {
            out.push_str(&rest[..i]);
            let after = &rest[i + 1..];
            let Some(j) = after.find(MARK_END) else {
                out.push_str(&rest[i..]);
                return Ok(out);
            };
            let idx: usize = after[..j].parse().unwrap_or(usize::MAX);
            if idx < self.pending.len() {
                let r = self.finish(idx)?;
                out.push_str(&r);
            }
            rest = &after[j + 1..];
        }
        out.push_str(rest);
        Ok(out)
    }

    /// Waits for every command still running.
    pub fn finish_all(&mut self) -> Result<()> {
        for i in 0..self.pending.len() {
            self.finish(i)?;
        }
        Ok(())
    }

    /// The output of marker `i`, waiting for its command.
    pub fn result_of(&mut self, i: usize) -> Result<String> {
        self.finish(i)
    }

    /// The run of one `$(shell,cmd)`, ready to go on any thread.
    fn job(&self, cmd: &str) -> impl FnOnce() -> Result<String> + Send + 'static {
        let mut c = Command::new("/bin/sh");
        c.arg("-c")
            .arg(cmd)
            .current_dir(&self.shell_dir)
            .env_clear()
            .envs(&self.env);
        let what = format!("{}:{}: $(shell,{cmd})", self.file, self.line);
        move || {
            let limits = b4k_input::Limits::new(SHELL_TIMEOUT_SECS, SHELL_MAX_OUTPUT);
            let out = b4k_input::run(&mut c, &what, limits, None)?;
            Ok(do_shell(out.stdout))
        }
    }
}

/// What the kernel's `do_shell` makes of a command's output.
fn do_shell(mut buf: Vec<u8>) -> String {
    buf.truncate(4095);
    while buf.last() == Some(&b'\n') {
        buf.pop();
    }
    String::from_utf8_lossy(&buf).replace('\n', " ")
}

/// Index of the `)` closing a `(` that ends right before `from`.
pub fn matching_paren(b: &[u8], from: usize) -> Option<usize> {
    let mut nest = 0;
    for (j, &c) in b.iter().enumerate().skip(from) {
        if c == b'(' {
            nest += 1;
        } else if c == b')' {
            if nest == 0 {
                return Some(j);
            }
            nest -= 1;
        }
    }
    None
}

/// Checks that `shell_dir` exists; a helper for callers building [`Macros`].
pub fn ensure_dir(p: &std::path::Path) -> Result<()> {
    if !p.is_dir() {
        bail!("{} is not a directory", p.display());
    }
    Ok(())
}

#[cfg(test)]
mod tests {
    use super::*;

    fn m() -> Macros {
        Macros::new(HashMap::new(), std::env::temp_dir())
    }

    #[test]
    fn variables_and_functions() {
        let mut m = m();
        m.assign("comma", ":=", ",").unwrap();
        m.assign(
            "if-success",
            "=",
            "$(shell,{ $(1); } >/dev/null 2>&1 && echo \"$(2)\" || echo \"$(3)\")",
        )
        .unwrap();
        m.assign("success", "=", "$(if-success,$(1),y,n)").unwrap();
        let cases = [
            ("$(success,true)", "y"),
            ("$(success,false)", "n"),
            ("a$(comma)b", "a,b"),
            ("$$x", "$$x"),
            ("$(shell,printf 'a\\nb\\n\\n')", "a b"),
            ("$(undefined)", ""),
        ];
        for (i, o) in cases {
            assert_eq!(m.expand(i).unwrap(), o, "{i}");
        }
    }

    /// Regression (tools/fuzz): a function macro that calls itself with
    /// arguments is stopped with an error, on a 2 MiB stack (a test thread's)
    /// in a debug build, not by a stack overflow.
    #[test]
    fn self_calling_function_is_an_error() {
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut m = m();
                m.assign("f", "=", "$(f,a,b)$(1)-$(2)").unwrap();
                m.expand("$(f,a,b)").map_err(|e| e.to_string())
            })
            .unwrap()
            .join()
            .unwrap();
        let e = r.unwrap_err();
        assert!(
            e.contains("Too deep recursive expansion") || e.contains("nested more than"),
            "{e}"
        );
    }

    /// `$(` nested 20,000 deep, a chain of 20,000 variables, a variable doubled
    /// 40 times, `$(shell,yes)` and `$(shell,sleep 60)`: located errors, on a
    /// 2 MiB stack, in bounded time.
    #[test]
    fn depth_size_and_children_are_bounded() {
        let r = std::thread::Builder::new()
            .stack_size(2 << 20)
            .spawn(|| {
                let mut m = m();
                m.file = "Kconfig".into();
                m.line = 7;
                let mut errs = Vec::new();
                let n = 20_000;
                let deep = format!("{}x{}", "$(".repeat(n), ")".repeat(n));
                errs.push(m.expand(&deep).unwrap_err().to_string());
                for i in 0..n {
                    m.assign(&format!("v{i}"), "=", &format!("$(v{})", i + 1))
                        .unwrap();
                }
                errs.push(m.expand("$(v0)").unwrap_err().to_string());
                m.assign("x", ":=", "ab").unwrap();
                let mut last = Ok(());
                for _ in 0..40 {
                    last = m.assign("x", ":=", "$(x)$(x)");
                    if last.is_err() {
                        break;
                    }
                }
                errs.push(last.unwrap_err().to_string());
                m.assign("y", "=", "$(y)$(y)").unwrap();
                errs.push(m.expand("$(y)").unwrap_err().to_string());
                errs
            })
            .unwrap()
            .join()
            .unwrap();
        for e in &r {
            assert!(e.starts_with("Kconfig:7: "), "{e}");
        }
        assert!(r[0].contains("nested more than"), "{}", r[0]);
        assert!(r[2].contains("exceeds"), "{}", r[2]);
        let mut m = m();
        std::env::set_var(b4k_input::child::TIMEOUT_ENV, "1");
        let t = std::time::Instant::now();
        for cmd in [
            "$(shell,yes)",
            "$(shell,cat /dev/zero)",
            "$(shell,sleep 60)",
        ] {
            let e = m.expand(cmd).unwrap_err().to_string();
            assert!(
                e.contains("printed more than") || e.contains("did not finish"),
                "{e}"
            );
        }
        assert!(t.elapsed().as_secs() < 60, "{:?}", t.elapsed());
    }

    #[test]
    fn errors_have_location() {
        let mut m = m();
        m.file = "Kconfig".into();
        m.line = 3;
        let e = m.expand("$(error-if,y,stop here)").unwrap_err();
        assert_eq!(e.to_string(), "Kconfig:3: stop here");
        let e = m.expand("$(shell,true").unwrap_err();
        assert!(e.to_string().starts_with("Kconfig:3: unterminated"), "{e}");
        m.assign("r", "=", "$(r)").unwrap();
        assert!(m.expand("$(r)").is_err());
    }
}
