//! What `make ARCH=... <base>` + `merge_config.sh -m` + `make olddefconfig` do,
//! in process: the environment the kernel's Makefile gives to `conf`, the base
//! `.config`, and the merge of fragments.

use crate::eval::{Eval, LineIssue};
use crate::model::Kconfig;
use crate::parse::parse_tree;
use crate::preprocess::Macros;
use anyhow::{bail, Context, Result};
use std::collections::HashMap;
use std::path::{Path, PathBuf};
use std::process::Command;

/// A kernel tree parsed for one architecture.
pub struct Tree {
    /// The parsed Kconfig.
    pub kconfig: Kconfig,
    /// The kernel source directory.
    pub srctree: PathBuf,
    /// `ARCH` as given (`x86_64`, `arm64`).
    pub arch: String,
    /// `SRCARCH` (`x86`, `arm64`).
    pub srcarch: String,
    /// Messages from `$(info)`/`$(warning-if)` and the lexer.
    pub messages: Vec<String>,
    /// How many `$(shell,...)` commands ran.
    pub shell_runs: usize,
}

/// The kernel Makefile's ARCH to SRCARCH mapping.
pub fn srcarch(arch: &str) -> &str {
    match arch {
        "x86_64" | "i386" | "x86" => "x86",
        "sparc32" | "sparc64" => "sparc",
        "parisc64" => "parisc",
        "sh64" => "sh",
        a => a,
    }
}

fn host_arch() -> String {
    match std::env::consts::ARCH {
        "x86_64" | "x86" => "x86".into(),
        "aarch64" => "arm64".into(),
        a => a.into(),
    }
}

/// Seconds and bytes allowed to the version probes (`gcc --version`).
const PROBE_TIMEOUT_SECS: u64 = 60;
const PROBE_MAX_OUTPUT: u64 = 1 << 20;

fn sh_output(cmd: &str, env: &HashMap<String, String>) -> String {
    let mut c = Command::new("/bin/sh");
    c.arg("-c").arg(cmd).env_clear().envs(env);
    let limits = b4k_input::Limits::new(PROBE_TIMEOUT_SECS, PROBE_MAX_OUTPUT);
    match b4k_input::run(&mut c, cmd, limits, None) {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .trim_end_matches('\n')
            .to_string(),
        // As `make` does: a probe that fails gives an empty text.
        Err(_) => String::new(),
    }
}

fn kernel_version(srctree: &Path) -> Result<String> {
    let mk = srctree.join("Makefile");
    // No Makefile (a Kconfig tree alone): no version, as `make` would have none.
    if std::fs::symlink_metadata(&mk).is_err() {
        return Ok(String::new());
    }
    let text =
        b4k_input::read_text(&mk).context("reading the kernel's version from its Makefile")?;
    let get = |k: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(k)
                    .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            })
            .unwrap_or_default()
    };
    Ok(format!(
        "{}.{}.{}{}",
        get("VERSION"),
        get("PATCHLEVEL"),
        get("SUBLEVEL"),
        get("EXTRAVERSION")
    ))
}

/// Refuses a `--cross-compile` prefix that is more than a prefix: it reaches
/// `/bin/sh` in `$(shell,...)` and the version probes, where `;` or `$(...)`
/// would run.
pub fn check_cross(cross: &str) -> Result<()> {
    if let Some(c) = cross
        .chars()
        .find(|c| !(c.is_ascii_alphanumeric() || "-_./+".contains(*c)))
    {
        bail!(
            "--cross-compile {cross:?}: {c:?} is not allowed in a compiler prefix (letters, \
             digits and -_./+ only, e.g. aarch64-linux-gnu-)"
        );
    }
    Ok(())
}

/// The environment `make` exports to `conf` (top-level Makefile of Linux 6.12,
/// GCC toolchain, no `LLVM=`): the caller's environment plus the tool variables.
/// Variables whose name or value is not UTF-8 are left out; their names (lossy)
/// come back second, so that a reference to one is an error, not an empty value.
pub fn kernel_env(
    srctree: &Path,
    arch: &str,
    cross: &str,
) -> Result<(HashMap<String, String>, Vec<String>)> {
    check_cross(cross)?;
    let mut env: HashMap<String, String> = HashMap::new();
    let mut non_utf8 = Vec::new();
    for (k, v) in std::env::vars_os() {
        match (k.into_string(), v.into_string()) {
            (Ok(k), Ok(v)) => {
                env.insert(k, v);
            }
            (Ok(k), Err(_)) => non_utf8.push(k),
            (Err(k), _) => non_utf8.push(k.to_string_lossy().into_owned()),
        }
    }
    let abs = srctree
        .canonicalize()
        .unwrap_or_else(|_| srctree.to_path_buf());
    let set = |env: &mut HashMap<String, String>, k: &str, v: String| {
        env.insert(k.to_string(), v);
    };
    set(&mut env, "ARCH", arch.to_string());
    set(&mut env, "SRCARCH", srcarch(arch).to_string());
    set(&mut env, "SUBARCH", host_arch());
    set(&mut env, "CROSS_COMPILE", cross.to_string());
    set(&mut env, "CC", format!("{cross}gcc"));
    set(&mut env, "LD", format!("{cross}ld"));
    set(&mut env, "AR", format!("{cross}ar"));
    set(&mut env, "NM", format!("{cross}nm"));
    set(&mut env, "OBJCOPY", format!("{cross}objcopy"));
    set(&mut env, "OBJDUMP", format!("{cross}objdump"));
    set(&mut env, "STRIP", format!("{cross}strip"));
    set(&mut env, "READELF", format!("{cross}readelf"));
    set(&mut env, "CPP", format!("{cross}gcc -E"));
    set(&mut env, "HOSTCC", "gcc".into());
    set(&mut env, "HOSTCXX", "g++".into());
    set(&mut env, "RUSTC", "rustc".into());
    set(&mut env, "BINDGEN", "bindgen".into());
    set(&mut env, "PAHOLE", "pahole".into());
    set(&mut env, "PYTHON3", "python3".into());
    set(&mut env, "PERL", "perl".into());
    set(&mut env, "CONFIG_SHELL", "sh".into());
    set(&mut env, "LC_COLLATE", "C".into());
    set(&mut env, "LC_NUMERIC", "C".into());
    set(&mut env, "srctree", abs.display().to_string());
    set(&mut env, "KERNELVERSION", kernel_version(srctree)?);
    let cc_text = sh_output(
        &format!("LC_ALL=C {cross}gcc --version 2>/dev/null | head -n 1"),
        &env,
    )
    .replace('#', "");
    set(&mut env, "CC_VERSION_TEXT", cc_text);
    let rustc_text = sh_output("rustc --version 2>/dev/null", &env).replace('#', "");
    set(&mut env, "RUSTC_VERSION_TEXT", rustc_text);
    Ok((env, non_utf8))
}

/// A temporary directory removed on drop (where `$(shell,...)` runs, like the object tree).
struct TempDir(PathBuf);

impl Drop for TempDir {
    fn drop(&mut self) {
        let _ = std::fs::remove_dir_all(&self.0);
    }
}

/// Parses the Kconfig tree of `srctree` for `arch` with the cross prefix `cross`.
pub fn load(srctree: &Path, arch: &str, cross: &str) -> Result<Tree> {
    // Anything named Kconfig goes to the input gate, which names what is wrong.
    if std::fs::symlink_metadata(srctree.join("Kconfig")).is_err() {
        bail!(
            "{}: not a kernel source tree (no Kconfig file); pass --kernel-src <dir>",
            srctree.display()
        );
    }
    static SEQ: std::sync::atomic::AtomicUsize = std::sync::atomic::AtomicUsize::new(0);
    let n = SEQ.fetch_add(1, std::sync::atomic::Ordering::Relaxed);
    let dir = std::env::temp_dir().join(format!("b4k-kconfig-{}-{n}", std::process::id()));
    std::fs::create_dir_all(&dir).with_context(|| format!("creating {}", dir.display()))?;
    let tmp = TempDir(dir);
    let (env, non_utf8) = kernel_env(srctree, arch, cross)?;
    // $(shell,...) commands run concurrently; if an output turns out to change the
    // tokens (empty or several words), parse again running them one at a time.
    let mut macros = Macros::new(env.clone(), tmp.0.clone());
    macros.concurrent = true;
    macros.non_utf8_env = non_utf8.clone();
    let (kconfig, macros) = match parse_tree(srctree, macros) {
        Err(e) if e.is::<crate::parse::SerialNeeded>() => {
            let mut m = Macros::new(env, tmp.0.clone());
            m.non_utf8_env = non_utf8;
            parse_tree(srctree, m)?
        }
        r => r?,
    };
    Ok(Tree {
        kconfig,
        srctree: srctree.to_path_buf(),
        arch: arch.to_string(),
        srcarch: srcarch(arch).to_string(),
        messages: macros.messages,
        shell_runs: macros.shell_runs,
    })
}

/// One line of the merged `.config`, remembering where it came from.
#[derive(Clone, Debug)]
pub struct Line {
    /// The text.
    pub text: String,
    /// File and line it was written in (`None` for lines produced from an in-tree defconfig).
    pub origin: Option<(String, usize)>,
    /// Whether it comes from a fragment (findings are reported for those only).
    pub fragment: bool,
}

impl Tree {
    /// Finds the in-tree defconfig for `name` (`x86_64`, `x86_64_defconfig`, `defconfig`).
    pub fn defconfig_path(&self, name: &str) -> Option<PathBuf> {
        let dir = self
            .srctree
            .join("arch")
            .join(&self.srcarch)
            .join("configs");
        [name.to_string(), format!("{name}_defconfig")]
            .into_iter()
            .map(|n| dir.join(n))
            // Anything by that name: the input gate says what is wrong with it.
            .find(|p| std::fs::symlink_metadata(p).is_ok())
    }

    /// `make <name>_defconfig`: the full `.config` lines for an in-tree defconfig file.
    pub fn expand_defconfig(&self, path: &Path) -> Result<Vec<Line>> {
        let text = b4k_input::read_text(path)?;
        let lines: Vec<&str> = text.lines().collect();
        let mut ev = Eval::new(&self.kconfig);
        ev.read(&lines);
        let out = ev.write_config();
        ev.check()?;
        Ok(out
            .into_iter()
            .map(|text| Line {
                text,
                origin: None,
                fragment: false,
            })
            .collect())
    }
}

/// Reads a config file (a base `.config` or, if `fragment`, a fragment) with line
/// origins. Through the input gate, as text: a NUL byte, bytes that are not UTF-8
/// or a carriage return that does not end a line are errors naming the line (the
/// kernel's `conf` would read such a line as something else, silently).
pub fn read_lines(path: &Path, fragment: bool) -> Result<Vec<Line>> {
    let text = b4k_input::read_text(path)?;
    let name = path.display().to_string();
    let mut out = Vec::new();
    for (i, l) in text.lines().enumerate() {
        let l = l.strip_suffix('\r').unwrap_or(l);
        if l.contains('\r') {
            bail!(
                "{name}:{}: a carriage return inside the line (old Mac line ends?); save the \
                 file with Unix line ends",
                i + 1
            );
        }
        out.push(Line {
            text: l.to_string(),
            origin: Some((name.clone(), i + 1)),
            fragment,
        });
    }
    Ok(out)
}

/// The option names `/CONFIG_X[ =]/` would match in `text`: after every
/// `CONFIG_`, the longest run of name characters, when a space or `=` follows.
fn sed_names(text: &str) -> impl Iterator<Item = &str> {
    text.match_indices("CONFIG_").filter_map(move |(i, _)| {
        let rest = &text[i..];
        let end = 7 + rest[7..]
            .find(|c: char| !(c.is_ascii_alphanumeric() || c == '_'))
            .unwrap_or(rest.len() - 7);
        matches!(rest.as_bytes().get(end), Some(b' ' | b'=')).then(|| &rest[..end])
    })
}

/// `merge_config.sh -m base fragments...`: for each fragment, lines naming one of its
/// options are deleted from the result, then the whole fragment is appended.
/// Linear in the lines: the options of a fragment are a set, and each line is
/// scanned once for the names sed's pattern would find in it.
pub fn merge(base: Vec<Line>, fragments: &[Vec<Line>]) -> Vec<Line> {
    let mut out = base;
    for frag in fragments {
        let mut names = std::collections::HashSet::new();
        for l in frag {
            if let Some(Ok((n, _))) = crate::eval::split_line(&l.text) {
                let valid = n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
                let sed_like =
                    l.text.starts_with("CONFIG_") || l.text == format!("# CONFIG_{n} is not set");
                if valid && sed_like {
                    names.insert(format!("CONFIG_{n}"));
                }
            }
        }
        out.retain(|l| !sed_names(&l.text).any(|n| names.contains(n)));
        out.extend(frag.iter().cloned());
    }
    out
}

/// Runs `conf --olddefconfig` on `lines`; returns the evaluation and the line issues.
pub fn olddefconfig<'k>(k: &'k Kconfig, lines: &[Line]) -> (Eval<'k>, Vec<(usize, LineIssue)>) {
    let texts: Vec<&str> = lines.iter().map(|l| l.text.as_str()).collect();
    let mut ev = Eval::new(k);
    let issues = ev.read(&texts);
    (ev, issues)
}

#[cfg(test)]
mod tests {
    use super::*;

    fn lines(t: &[&str], fragment: bool) -> Vec<Line> {
        t.iter()
            .map(|s| Line {
                text: s.to_string(),
                origin: None,
                fragment,
            })
            .collect()
    }

    #[test]
    fn merge_like_merge_config_sh() {
        // merge_config.sh deletes base lines matching /CONFIG_X[ =]/ for every
        // option of the fragment, then appends the whole fragment.
        let base = lines(
            &[
                "CONFIG_A=y",
                "# CONFIG_B is not set",
                "CONFIG_AB=y",
                "x CONFIG_XCONFIG_C=1",
                "CONFIG_CC=y",
            ],
            false,
        );
        let frag = lines(
            &[
                "# a comment",
                "CONFIG_B=y",
                "CONFIG_A=n",
                "junk",
                "CONFIG_C=y",
            ],
            true,
        );
        let got: Vec<String> = merge(base, &[frag]).into_iter().map(|l| l.text).collect();
        assert_eq!(
            got,
            [
                "CONFIG_AB=y",
                "CONFIG_CC=y",
                "# a comment",
                "CONFIG_B=y",
                "CONFIG_A=n",
                "junk",
                "CONFIG_C=y"
            ]
        );
    }

    /// 70,000 fragment lines merged on a 70,000-line base: linear (the old
    /// merge searched every base line for every option, and did not finish).
    #[test]
    fn a_large_merge_is_linear() {
        let n = 70_000;
        let base: Vec<String> = (0..n).map(|i| format!("CONFIG_B{i}=y")).collect();
        let frag: Vec<String> = (0..n).map(|i| format!("CONFIG_B{}=n", 2 * i)).collect();
        let base = lines(&base.iter().map(String::as_str).collect::<Vec<_>>(), false);
        let frag = lines(&frag.iter().map(String::as_str).collect::<Vec<_>>(), true);
        let t = std::time::Instant::now();
        let got = merge(base, &[frag]);
        assert_eq!(got.len(), n / 2 + n);
        assert!(t.elapsed().as_secs() < 30, "{:?}", t.elapsed());
    }

    #[test]
    fn cross_prefixes_are_prefixes() {
        assert!(check_cross("aarch64-linux-gnu-").is_ok());
        assert!(check_cross("").is_ok());
        for bad in ["x; touch /tmp/p;", "$(reboot)", "a b", "`id`"] {
            assert!(check_cross(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn srcarch_mapping() {
        assert_eq!(srcarch("x86_64"), "x86");
        assert_eq!(srcarch("arm64"), "arm64");
    }
}
