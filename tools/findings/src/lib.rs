//! The one finding type and report format of every b4k subcommand, as Buildroot's
//! `utils/check-package` prints them: `file:line: severity: message`, then a closing
//! `N errors, M warnings` line; or the same as one JSON document (`--json`).
//!
//! A finding's `file` is the path the caller gave (a command-line argument, or a
//! path relative to the tree a command was pointed at), never one made up here.

use serde::Serialize;
use std::fmt;

/// How bad a finding is.
#[derive(Serialize, Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash)]
#[serde(rename_all = "lowercase")]
pub enum Severity {
    /// Makes the exit code non-zero.
    Error,
    /// Reported only.
    Warning,
}

impl Severity {
    /// `error` or `warning`.
    pub fn as_str(self) -> &'static str {
        match self {
            Severity::Error => "error",
            Severity::Warning => "warning",
        }
    }
}

/// One finding, located at a file and line.
#[derive(Serialize, Debug, Clone, PartialEq, Eq, PartialOrd, Ord, Hash)]
pub struct Finding {
    /// The file the finding is about, as the caller named it.
    pub file: String,
    /// 1-based line; 0 when the file as a whole is meant.
    pub line: usize,
    /// Error or warning.
    pub severity: Severity,
    /// A stable kind for machines (`dropped`, `unknown-symbol`, `missing-hash`, ...).
    pub code: &'static str,
    /// The option or symbol concerned, if any.
    #[serde(skip_serializing_if = "Option::is_none")]
    pub symbol: Option<String>,
    /// What is wrong and how to fix it.
    pub message: String,
}

impl Finding {
    /// An error at `file:line`.
    pub fn error(
        file: impl Into<String>,
        line: usize,
        code: &'static str,
        message: String,
    ) -> Self {
        Finding {
            file: file.into(),
            line,
            severity: Severity::Error,
            code,
            symbol: None,
            message,
        }
    }

    /// A warning at `file:line`.
    pub fn warning(
        file: impl Into<String>,
        line: usize,
        code: &'static str,
        message: String,
    ) -> Self {
        Finding {
            severity: Severity::Warning,
            ..Finding::error(file, line, code, message)
        }
    }

    /// The same finding about `symbol`.
    pub fn about(mut self, symbol: impl Into<String>) -> Self {
        self.symbol = Some(symbol.into());
        self
    }
}

impl fmt::Display for Finding {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        let sev = self.severity.as_str();
        if self.line == 0 {
            write!(f, "{}: {sev}: {}", self.file, self.message)
        } else {
            write!(f, "{}:{}: {sev}: {}", self.file, self.line, self.message)
        }
    }
}

/// The result of one subcommand run: its findings, sorted, and what it has to say
/// besides (a summary line, values, written files).
#[derive(Debug, Default)]
pub struct Report {
    /// Every finding of the run.
    pub findings: Vec<Finding>,
    /// Lines printed before the totals (`lint-kernel: 30/30 options kept`).
    pub notes: Vec<String>,
    /// Command-specific data for `--json` (e.g. predicted values).
    pub data: Option<serde_json::Value>,
}

#[derive(Serialize)]
struct Json<'a> {
    findings: &'a [Finding],
    notes: &'a [String],
    errors: usize,
    warnings: usize,
    #[serde(skip_serializing_if = "Option::is_none")]
    data: Option<&'a serde_json::Value>,
}

fn plural(n: usize, word: &str) -> String {
    if n == 1 {
        format!("1 {word}")
    } else {
        format!("{n} {word}s")
    }
}

impl Report {
    /// A report of `findings` (sorted and deduplicated here).
    pub fn new(mut findings: Vec<Finding>) -> Self {
        findings.sort();
        findings.dedup();
        Report {
            findings,
            ..Report::default()
        }
    }

    /// Number of errors.
    pub fn errors(&self) -> usize {
        self.findings
            .iter()
            .filter(|f| f.severity == Severity::Error)
            .count()
    }

    /// Number of warnings.
    pub fn warnings(&self) -> usize {
        self.findings.len() - self.errors()
    }

    /// The process exit code: 1 when any finding is an error, else 0.
    pub fn exit_code(&self) -> u8 {
        u8::from(self.errors() > 0)
    }

    /// The closing line: `N errors, M warnings`.
    pub fn totals(&self) -> String {
        format!(
            "{}, {}",
            plural(self.errors(), "error"),
            plural(self.warnings(), "warning")
        )
    }

    /// The findings, the notes and the totals, one per line.
    pub fn text(&self) -> String {
        let mut out = String::new();
        for f in &self.findings {
            out.push_str(&format!("{f}\n"));
        }
        for n in &self.notes {
            out.push_str(n);
            out.push('\n');
        }
        out.push_str(&self.totals());
        out.push('\n');
        out
    }

    /// One JSON document: findings, notes, totals and the command's data.
    pub fn json(&self) -> String {
        let j = Json {
            findings: &self.findings,
            notes: &self.notes,
            errors: self.errors(),
            warnings: self.warnings(),
            data: self.data.as_ref(),
        };
        // Serializing plain strings and numbers cannot fail.
        serde_json::to_string_pretty(&j).unwrap_or_default() + "\n"
    }
}

/// Where a report goes: stdout, or stderr when stdout carries the command's data.
#[derive(Clone, Copy, Debug, PartialEq, Eq)]
pub enum Stream {
    /// Standard output.
    Stdout,
    /// Standard error.
    Stderr,
}

/// Writes `text` to `to`; a closed pipe (`| head`) is not an error.
pub fn write(to: Stream, text: &str) -> std::io::Result<()> {
    use std::io::Write;
    let r = match to {
        Stream::Stdout => {
            let mut out = std::io::stdout().lock();
            out.write_all(text.as_bytes()).and_then(|_| out.flush())
        }
        Stream::Stderr => std::io::stderr().lock().write_all(text.as_bytes()),
    };
    match r {
        Err(e) if e.kind() == std::io::ErrorKind::BrokenPipe => Ok(()),
        r => r,
    }
}

/// Prints `report` as text or JSON; returns its exit code.
pub fn emit(report: &Report, json: bool, to: Stream) -> std::io::Result<u8> {
    let text = if json { report.json() } else { report.text() };
    write(to, &text)?;
    Ok(report.exit_code())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn text_format_is_check_package_like() {
        let r = Report::new(vec![
            Finding::warning("b.fragment", 3, "duplicate", "twice".into()),
            Finding::error("a.fragment", 0, "unreadable", "gone".into()),
            Finding::error("a.fragment", 2, "dropped", "lost".into()),
        ]);
        assert_eq!(
            r.text(),
            "a.fragment: error: gone\na.fragment:2: error: lost\n\
             b.fragment:3: warning: twice\n2 errors, 1 warning\n"
        );
        assert_eq!(r.exit_code(), 1);
        assert_eq!(Report::new(vec![]).text(), "0 errors, 0 warnings\n");
    }

    #[test]
    fn json_has_totals_and_codes() {
        let r = Report::new(vec![
            Finding::error("f", 1, "dropped", "m".into()).about("X")
        ]);
        let v: serde_json::Value = serde_json::from_str(&r.json()).unwrap();
        assert_eq!(v["errors"], 1);
        assert_eq!(v["warnings"], 0);
        assert_eq!(v["findings"][0]["code"], "dropped");
        assert_eq!(v["findings"][0]["symbol"], "X");
        assert_eq!(v["findings"][0]["severity"], "error");
    }
}
