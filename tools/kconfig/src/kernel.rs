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

fn sh_output(cmd: &str, env: &HashMap<String, String>) -> String {
    let out = Command::new("/bin/sh")
        .arg("-c")
        .arg(cmd)
        .env_clear()
        .envs(env)
        .output();
    match out {
        Ok(o) => String::from_utf8_lossy(&o.stdout)
            .trim_end_matches('\n')
            .to_string(),
        Err(_) => String::new(),
    }
}

fn kernel_version(srctree: &Path) -> String {
    let text = std::fs::read_to_string(srctree.join("Makefile")).unwrap_or_default();
    let get = |k: &str| {
        text.lines()
            .find_map(|l| {
                l.strip_prefix(k)
                    .map(|v| v.trim_start_matches([' ', '=']).trim().to_string())
            })
            .unwrap_or_default()
    };
    format!(
        "{}.{}.{}{}",
        get("VERSION"),
        get("PATCHLEVEL"),
        get("SUBLEVEL"),
        get("EXTRAVERSION")
    )
}

/// The environment `make` exports to `conf` (top-level Makefile of Linux 6.12,
/// GCC toolchain, no `LLVM=`): the caller's environment plus the tool variables.
pub fn kernel_env(srctree: &Path, arch: &str, cross: &str) -> HashMap<String, String> {
    let mut env: HashMap<String, String> = std::env::vars().collect();
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
    set(&mut env, "KERNELVERSION", kernel_version(srctree));
    let cc_text = sh_output(
        &format!("LC_ALL=C {cross}gcc --version 2>/dev/null | head -n 1"),
        &env,
    )
    .replace('#', "");
    set(&mut env, "CC_VERSION_TEXT", cc_text);
    let rustc_text = sh_output("rustc --version 2>/dev/null", &env).replace('#', "");
    set(&mut env, "RUSTC_VERSION_TEXT", rustc_text);
    env
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
    if !srctree.join("Kconfig").is_file() {
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
    let env = kernel_env(srctree, arch, cross);
    // $(shell,...) commands run concurrently; if an output turns out to change the
    // tokens (empty or several words), parse again running them one at a time.
    let mut macros = Macros::new(env.clone(), tmp.0.clone());
    macros.concurrent = true;
    let (kconfig, macros) = match parse_tree(srctree, macros) {
        Err(e) if e.is::<crate::parse::SerialNeeded>() => {
            parse_tree(srctree, Macros::new(env, tmp.0.clone()))?
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
            .find(|p| p.is_file())
    }

    /// `make <name>_defconfig`: the full `.config` lines for an in-tree defconfig file.
    pub fn expand_defconfig(&self, path: &Path) -> Result<Vec<Line>> {
        let text = b4k_input::read_text(path)?;
        let lines: Vec<&str> = text.lines().collect();
        let mut ev = Eval::new(&self.kconfig);
        ev.read(&lines);
        Ok(ev
            .write_config()
            .into_iter()
            .map(|text| Line {
                text,
                origin: None,
                fragment: false,
            })
            .collect())
    }
}

/// Reads a config file (a base `.config` or, if `fragment`, a fragment) with line origins.
pub fn read_lines(path: &Path, fragment: bool) -> Result<Vec<Line>> {
    let bytes = b4k_input::read(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let name = path.display().to_string();
    Ok(text
        .lines()
        .enumerate()
        .map(|(i, l)| Line {
            text: l.to_string(),
            origin: Some((name.clone(), i + 1)),
            fragment,
        })
        .collect())
}

/// `merge_config.sh -m base fragments...`: for each fragment, lines naming one of its
/// options are deleted from the result, then the whole fragment is appended.
pub fn merge(base: Vec<Line>, fragments: &[Vec<Line>]) -> Vec<Line> {
    let mut out = base;
    for frag in fragments {
        let mut names = Vec::new();
        for l in frag {
            if let Some(Ok((n, _))) = crate::eval::split_line(&l.text) {
                let valid = n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
                let sed_like =
                    l.text.starts_with("CONFIG_") || l.text == format!("# CONFIG_{n} is not set");
                if valid && sed_like {
                    names.push(format!("CONFIG_{n}"));
                }
            }
        }
        out.retain(|l| {
            !names
                .iter()
                .any(|n| l.text.contains(&format!("{n}=")) || l.text.contains(&format!("{n} ")))
        });
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
            &["CONFIG_A=y", "# CONFIG_B is not set", "CONFIG_AB=y"],
            false,
        );
        let frag = lines(&["# a comment", "CONFIG_B=y", "CONFIG_A=n", "junk"], true);
        let got: Vec<String> = merge(base, &[frag]).into_iter().map(|l| l.text).collect();
        assert_eq!(
            got,
            [
                "CONFIG_AB=y",
                "# a comment",
                "CONFIG_B=y",
                "CONFIG_A=n",
                "junk"
            ]
        );
    }

    #[test]
    fn srcarch_mapping() {
        assert_eq!(srcarch("x86_64"), "x86");
        assert_eq!(srcarch("arm64"), "arm64");
    }
}
