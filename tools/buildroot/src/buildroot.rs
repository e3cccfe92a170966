//! Loading Buildroot's Kconfig tree (plus this BR2_EXTERNAL tree) the way
//! `make <defconfig>` does: the environment of Buildroot's `COMMON_CONFIG_ENV` and
//! the `.br2-external.in.*` files `support/scripts/br2-external` writes.

use anyhow::{bail, Context, Result};
use b4k_kconfig::model::Kconfig;
use b4k_kconfig::parse::Parser;
use b4k_kconfig::preprocess::Macros;
use std::collections::HashMap;
use std::path::Path;

/// Host facts Buildroot passes to kconfig, which decide a few defaults
/// (`BR2_HOSTARCH` for prebuilt toolchains, `BR2_HOST_GCC_AT_LEAST_*`).
#[derive(Clone, Debug, PartialEq, Eq, serde::Serialize, serde::Deserialize)]
pub struct Host {
    /// Buildroot's `HOSTARCH` (from `gcc -v`'s Target, normalised as its Makefile does).
    pub arch: String,
    /// Buildroot's `HOSTCC_VERSION` (the major version of the host gcc, capped).
    pub gcc_version: String,
}

impl Host {
    /// Asks the host gcc, as Buildroot's Makefile does.
    pub fn detect(buildroot: &Path) -> Result<Host> {
        let limits = b4k_input::Limits::new(60, 1 << 20);
        let v = b4k_input::run(
            std::process::Command::new("gcc")
                .arg("-v")
                .env("LC_ALL", "C"),
            "'gcc -v' (Buildroot asks the host gcc for HOSTARCH)",
            limits,
            None,
        )?;
        let text = String::from_utf8_lossy(&v.stderr);
        let target = text
            .lines()
            .find_map(|l| l.strip_prefix("Target: "))
            .context("'gcc -v' printed no 'Target:' line")?;
        let mut arch = target.split('-').next().unwrap_or("").to_string();
        if arch.len() == 4 && arch.starts_with('i') && arch.ends_with("86") {
            arch = "x86".into();
        } else if arch.starts_with("arm") {
            arch = "arm".into();
        }
        let v = b4k_input::run(
            std::process::Command::new("gcc").arg("--version"),
            "'gcc --version'",
            limits,
            None,
        )?;
        let first = String::from_utf8_lossy(&v.stdout);
        let re = regex::Regex::new(r" ([0-9]+)\.([0-9]+)\.([0-9]+)")?;
        let major: u32 = re
            .captures(&first)
            .and_then(|c| c[1].parse().ok())
            .context("no version in 'gcc --version'")?;
        let mk = buildroot.join("Makefile");
        let text = b4k_input::read_text(&mk)?;
        let max: u32 = text
            .lines()
            .find_map(|l| l.strip_prefix("HOSTCC_MAX_VERSION := "))
            .and_then(|v| v.trim().parse().ok())
            .with_context(|| format!("{}: no 'HOSTCC_MAX_VERSION := N' line", mk.display()))?;
        Ok(Host {
            arch,
            gcc_version: major.min(max).to_string(),
        })
    }
}

/// Buildroot's version from its Makefile (`export BR2_VERSION := 2026.02.3`).
pub fn version(buildroot: &Path) -> Result<String> {
    let mk = buildroot.join("Makefile");
    let text = b4k_input::read_text(&mk)?;
    text.lines()
        .find_map(|l| l.strip_prefix("export BR2_VERSION := "))
        .map(|v| v.trim().to_string())
        .with_context(|| format!("{}: no 'export BR2_VERSION := ...' line", mk.display()))
}

/// Writes the `.br2-external.in.*` files for one external tree into `dir`.
fn write_br2_external(dir: &Path, external: &Path, name: &str) -> Result<()> {
    let ext = external.display();
    let head = "#\n# Automatically generated file; DO NOT EDIT.\n#\n\n";
    let desc = name;
    let mut files: Vec<(&str, String)> = vec![
        (
            "paths",
            format!(
                "{head}config BR2_EXTERNAL_NAMES\n\tstring\n\tdefault \"{name}\"\n\n\
                 config BR2_EXTERNAL_{name}_PATH\n\tstring\n\tdefault \"{ext}\"\n\
                 config BR2_EXTERNAL_{name}_VERSION\n\tstring\n\tdefault \"\"\n\n"
            ),
        ),
        (
            "menus",
            format!(
                "{head}menu \"External options\"\n\ncomment \"{desc} (in {ext})\"\n\
                 source \"{ext}/Config.in\"\n\nendmenu\n"
            ),
        ),
    ];
    for (what, file) in [
        ("toolchains", "toolchains"),
        ("jpeg", "jpeg"),
        ("openssl", "openssl"),
        ("skeleton", "skeleton"),
        ("init", "init"),
        ("linux", "linux"),
    ] {
        let p = external.join("provides").join(format!("{file}.in"));
        let body = if p.exists() {
            format!(
                "{head}comment \"{what} from: {desc}\"\nsource \"{}\"\n\n",
                p.display()
            )
        } else {
            format!("{head}# No {what} from: {desc}\n\n")
        };
        files.push((what, body));
    }
    for (what, body) in files {
        let p = dir.join(format!(".br2-external.in.{what}"));
        b4k_input::write_atomic(&p, body.as_bytes())?;
    }
    Ok(())
}

/// Parses Buildroot's `Config.in` with `external` (named `name`) as the only
/// BR2_EXTERNAL tree.
pub fn load(buildroot: &Path, external: &Path, name: &str, host: &Host) -> Result<Kconfig> {
    if !buildroot.join("Config.in.legacy").exists() {
        bail!(
            "{} is not a Buildroot tree (no Config.in.legacy): pass --buildroot DIR or set \
             BUILDROOT_DIR to a Buildroot checkout",
            buildroot.display()
        );
    }
    let external = external
        .canonicalize()
        .with_context(|| format!("resolving {}", external.display()))?;
    // One fresh directory per call: two loads in one process (tests run in threads)
    // must not share, and so remove, each other's files.
    let base = tempfile::Builder::new()
        .prefix("b4k-br2-external-")
        .tempdir()
        .with_context(|| format!("creating a directory in {}", std::env::temp_dir().display()))?;
    let dir = base.path();
    write_br2_external(dir, &external, name)?;
    let mut env: HashMap<String, String> = HashMap::new();
    env.insert("BR2_VERSION_FULL".into(), version(buildroot)?);
    env.insert("HOSTARCH".into(), host.arch.clone());
    env.insert("HOST_GCC_VERSION".into(), host.gcc_version.clone());
    env.insert("BASE_DIR".into(), dir.display().to_string());
    env.insert("BR2_DEFCONFIG".into(), String::new());
    env.insert("SKIP_LEGACY".into(), String::new());
    let macros = Macros::new(env, buildroot.to_path_buf());
    let (mut k, _) = Parser::new(buildroot, macros)
        .parse("Config.in")
        .with_context(|| {
            format!(
                "parsing Buildroot's Kconfig tree in {}",
                buildroot.display()
            )
        })?;
    // The scratch directory's name changes on every run: name it as Buildroot does.
    let tmp = dir.display().to_string();
    for s in &mut k.syms {
        let locs = s
            .defs
            .iter_mut()
            .chain(s.prompts.iter_mut().map(|p| &mut p.loc))
            .chain(s.defaults.iter_mut().map(|p| &mut p.loc));
        for l in locs {
            if let Some(rest) = l.file.strip_prefix(&tmp) {
                l.file = format!("$(BASE_DIR){rest}");
            }
        }
    }
    Ok(k)
}
