//! Running a child program bounded: a timeout, a cap on what it prints, and no
//! standard input. The child is the leader of its own process group, and the
//! whole group is killed when it runs too long, prints too much or has exited
//! (so a `sleep` started by `sh -c` cannot outlive the limit).

use anyhow::{bail, Context, Result};
use std::io::Read;
use std::os::unix::process::CommandExt;
use std::process::{Command, ExitStatus, Stdio};
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::Arc;
use std::time::{Duration, Instant};

/// Environment variable that overrides every child's timeout, in seconds (the
/// tests use it to prove the limit in a second instead of an hour).
pub const TIMEOUT_ENV: &str = "B4K_CHILD_TIMEOUT";

/// The limits of one child.
#[derive(Clone, Copy, Debug)]
pub struct Limits {
    /// Wall-clock time before the child's process group is killed.
    pub timeout: Duration,
    /// Bytes of standard output and of standard error (each) before it is killed.
    pub max_output: u64,
}

impl Limits {
    /// `default_secs` (or [`TIMEOUT_ENV`] when set) and `max_output` bytes.
    pub fn new(default_secs: u64, max_output: u64) -> Limits {
        let secs = std::env::var(TIMEOUT_ENV)
            .ok()
            .and_then(|v| v.parse::<u64>().ok())
            .unwrap_or(default_secs);
        Limits {
            timeout: Duration::from_secs(secs),
            max_output,
        }
    }
}

/// What a child left: its status and what it printed.
#[derive(Debug)]
pub struct Output {
    /// Exit status.
    pub status: ExitStatus,
    /// Standard output (empty when it went to a file).
    pub stdout: Vec<u8>,
    /// Standard error.
    pub stderr: Vec<u8>,
}

fn reader(
    mut r: impl Read + Send + 'static,
    cap: u64,
    over: Arc<AtomicBool>,
) -> std::thread::JoinHandle<Vec<u8>> {
    std::thread::spawn(move || {
        let mut buf = Vec::new();
        let _ = (&mut r).take(cap + 1).read_to_end(&mut buf);
        if buf.len() as u64 > cap {
            buf.truncate(cap as usize);
            over.store(true, Ordering::SeqCst);
        }
        buf
    })
}

fn kill_group(pid: u32) {
    if let Ok(pid) = libc::pid_t::try_from(pid) {
        // SAFETY: kill(2) on our own child's process group; no memory is touched.
        unsafe {
            libc::kill(-pid, libc::SIGKILL);
        }
    }
}

/// Runs `cmd` (described as `what` in errors) within `limits`; its standard
/// output goes to `stdout_to` when given. A non-zero exit is not an error here:
/// the caller reads [`Output::status`].
pub fn run(
    cmd: &mut Command,
    what: &str,
    limits: Limits,
    stdout_to: Option<std::fs::File>,
) -> Result<Output> {
    cmd.stdin(Stdio::null())
        .stderr(Stdio::piped())
        .process_group(0);
    let to_file = stdout_to.is_some();
    match stdout_to {
        Some(f) => cmd.stdout(f),
        None => cmd.stdout(Stdio::piped()),
    };
    let mut child = cmd
        .spawn()
        .with_context(|| format!("running {what} (is it installed / on PATH?)"))?;
    let pid = child.id();
    let over = Arc::new(AtomicBool::new(false));
    let out = child
        .stdout
        .take()
        .map(|o| reader(o, limits.max_output, over.clone()));
    let err = child
        .stderr
        .take()
        .map(|e| reader(e, limits.max_output, over.clone()));
    let start = Instant::now();
    let mut pause = Duration::from_millis(1);
    let status = loop {
        if let Some(s) = child
            .try_wait()
            .with_context(|| format!("waiting for {what}"))?
        {
            break Ok(s);
        }
        if over.load(Ordering::SeqCst) {
            break Err(format!(
                "printed more than {} bytes: not what it should print; stopped",
                limits.max_output
            ));
        }
        if start.elapsed() >= limits.timeout {
            break Err(format!(
                "did not finish within {} s; stopped (set {TIMEOUT_ENV}=SECONDS to allow more)",
                limits.timeout.as_secs()
            ));
        }
        std::thread::sleep(pause);
        pause = (pause * 2).min(Duration::from_millis(50));
    };
    // Whatever the child left running in its group goes too: its pipes close.
    kill_group(pid);
    if status.is_err() {
        let _ = child.wait();
    }
    let stdout = out
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    let stderr = err
        .map(|h| h.join().unwrap_or_default())
        .unwrap_or_default();
    match status {
        Ok(status) if !over.load(Ordering::SeqCst) => Ok(Output {
            status,
            stdout: if to_file { Vec::new() } else { stdout },
            stderr,
        }),
        Ok(_) => bail!(
            "{what} printed more than {} bytes: not what it should print",
            limits.max_output
        ),
        Err(why) => bail!("{what} {why}"),
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn sh(script: &str, limits: Limits) -> Result<Output> {
        run(
            Command::new("/bin/sh").args(["-c", script]),
            "the test command",
            limits,
            None,
        )
    }

    #[test]
    fn endless_output_and_sleep_are_stopped() {
        let l = Limits {
            timeout: Duration::from_secs(1),
            max_output: 1 << 20,
        };
        let t = Instant::now();
        let e = sh("yes", l).unwrap_err().to_string();
        assert!(e.contains("printed more than 1048576 bytes"), "{e}");
        let e = sh("cat /dev/zero >&2", l).unwrap_err().to_string();
        assert!(e.contains("printed more than"), "{e}");
        let e = sh("sleep 60", l).unwrap_err().to_string();
        assert!(e.contains("did not finish within 1 s"), "{e}");
        // A background grandchild holding the pipe does not hold b4k.
        let o = sh("sleep 60 & echo started", l).unwrap();
        assert_eq!(o.stdout, b"started\n");
        assert!(t.elapsed() < Duration::from_secs(30), "{:?}", t.elapsed());
        let o = sh("echo out; echo err >&2; exit 3", l).unwrap();
        assert_eq!(
            (o.status.code(), &o.stdout[..], &o.stderr[..]),
            (Some(3), &b"out\n"[..], &b"err\n"[..])
        );
    }
}
