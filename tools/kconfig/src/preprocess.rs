//! The Kconfig preprocessor: `$(var)`, `$(fn,args)`, user functions with `$(1)`,
//! the built-ins `shell`, `info`, `warning-if`, `error-if`, `filename`, `lineno`,
//! and environment variables (Documentation/kbuild/kconfig-macro-language.rst).

use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::io::Read;
use std::path::PathBuf;
use std::process::{Command, Stdio};

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
}

/// A `$(shell,...)` command started but maybe not finished.
struct Pending {
    child: Option<std::process::Child>,
    cmd: String,
    result: Option<String>,
}

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
            shell_dir,
            file: String::new(),
            line: 0,
            messages: Vec::new(),
            shell_runs: 0,
            concurrent: false,
            pending: Vec::new(),
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
        let text = self.clause(&s[i + 1..end], args)?;
        Ok((text, end + 1))
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
    /// removed, inner newlines turned into spaces: what the kernel's `do_shell` does.
    fn shell(&mut self, cmd: &str) -> Result<String> {
        self.shell_runs += 1;
        if self.concurrent {
            let running = self.pending.iter().filter(|p| p.result.is_none()).count();
            if running >= 8 {
                if let Some(i) = self.pending.iter().position(|p| p.result.is_none()) {
                    self.finish(i)?;
                }
            }
            let child = self.spawn(cmd)?;
            self.pending.push(Pending {
                child: Some(child),
                cmd: cmd.to_string(),
                result: None,
            });
            return Ok(format!("{MARK_START}{}{MARK_END}", self.pending.len() - 1));
        }
        let child = self.spawn(cmd)?;
        collect_output(child, cmd)
    }

    fn finish(&mut self, i: usize) -> Result<String> {
        if let Some(r) = &self.pending[i].result {
            return Ok(r.clone());
        }
        let child = self.pending[i].child.take();
        let cmd = self.pending[i].cmd.clone();
        let r = match child {
            Some(c) => collect_output(c, &cmd)?,
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

    fn spawn(&self, cmd: &str) -> Result<std::process::Child> {
        Command::new("/bin/sh")
            .arg("-c")
            .arg(cmd)
            .current_dir(&self.shell_dir)
            .env_clear()
            .envs(&self.env)
            .stdin(Stdio::inherit())
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()
            .with_context(|| format!("{}:{}: running {cmd}", self.file, self.line))
    }
}

/// Reads a command's output the way the kernel's `do_shell` does.
fn collect_output(mut child: std::process::Child, cmd: &str) -> Result<String> {
    {
        let mut buf = Vec::new();
        if let Some(mut out) = child.stdout.take() {
            out.read_to_end(&mut buf)
                .with_context(|| format!("reading the output of {cmd}"))?;
        }
        child.wait().with_context(|| format!("waiting for {cmd}"))?;
        buf.truncate(4095);
        while buf.last() == Some(&b'\n') {
            buf.pop();
        }
        let s = String::from_utf8_lossy(&buf).replace('\n', " ");
        Ok(s)
    }
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
        assert!(e.contains("Too deep recursive expansion"), "{e}");
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
