//! `b4k-dev`: the maintainer tool of buildroot4kubernetes, for forks and CI: kernel
//! fragment prediction, defconfig generation from fragments, tree checks. Built
//! with cargo only (`cargo build -p b4k-dev`); Buildroot builds `b4k`.
//!
//! Argument parsing only; the work is done by the library crates under `tools/`.

use anyhow::{Context, Result};
use b4k_buildroot::generate::{self, Mode};
use b4k_buildroot::ModelSource;
use b4k_findings::{emit, write, Stream};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Maintainer tool of the buildroot4kubernetes BR2_EXTERNAL tree.
#[derive(Parser)]
#[command(name = "b4k-dev", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Predict what merge_config.sh -m + make olddefconfig keep of kernel fragments,
    /// and explain every option that is lost.
    LintKernel(LintKernel),
    /// Generate configs/*_defconfig from fragments, or check them (--check).
    Defconfig(Defconfig),
    /// Check the external tree beyond utils/check-package.
    Check(Check),
}

/// Options of `b4k-dev lint-kernel`.
#[derive(Args)]
struct LintKernel {
    /// Kernel source tree (with the top-level Kconfig).
    #[arg(long, value_name = "DIR")]
    kernel_src: PathBuf,
    /// Kernel ARCH: x86_64 or arm64 (SRCARCH is derived as the kernel's Makefile does).
    #[arg(long, default_value = "x86_64")]
    arch: String,
    /// Cross-compiler prefix used for `$(cc-option,...)` and friends
    /// [default: empty for x86_64 on x86_64, aarch64-linux-gnu- for arm64].
    #[arg(long, value_name = "PREFIX")]
    cross_compile: Option<String>,
    /// Base configuration: an in-tree defconfig name as Buildroot's
    /// BR2_LINUX_KERNEL_DEFCONFIG spells it (`x86_64`, `defconfig`) or a config file.
    #[arg(long, value_name = "NAME|FILE")]
    base: String,
    /// Required-set data file (board/common/kernel-requirements.toml).
    #[arg(long, value_name = "FILE")]
    requirements: Option<PathBuf>,
    /// Machine-readable output (one JSON document on stdout).
    #[arg(long)]
    json: bool,
    /// Print the predicted final value of every fragment option (`NAME=value`,
    /// `absent` when olddefconfig would not write it) and nothing else.
    #[arg(long, conflicts_with = "json")]
    print_values: bool,
    /// Print the whole predicted .config (assignments only) and nothing else.
    #[arg(long, conflicts_with_all = ["json", "print_values"])]
    print_config: bool,
    /// Also write the predicted .config (assignments only) to FILE.
    #[arg(long, value_name = "FILE")]
    write_config: Option<PathBuf>,
    /// Configuration fragments, merged in order.
    #[arg(value_name = "FRAGMENT")]
    fragments: Vec<PathBuf>,
}

/// Where Buildroot's Kconfig model comes from: a checkout or the index.
#[derive(Args)]
struct Model {
    /// The BR2_EXTERNAL tree (the repository root).
    #[arg(long, value_name = "DIR", default_value = ".")]
    tree: PathBuf,
    /// A Buildroot checkout to parse (its Config.in plus this tree's).
    #[arg(long, value_name = "DIR", env = "BUILDROOT_DIR")]
    buildroot: Option<PathBuf>,
    /// The index to use without a checkout [default: TREE/configs/buildroot-index.json.gz].
    #[arg(long, value_name = "FILE")]
    index: Option<PathBuf>,
    /// With --buildroot: Buildroot's HOSTARCH instead of asking the host gcc (to
    /// reproduce an index made on another machine).
    #[arg(long, value_name = "ARCH", requires = "buildroot")]
    host_arch: Option<String>,
    /// With --buildroot: Buildroot's HOSTCC_VERSION instead of asking the host gcc.
    #[arg(long, value_name = "MAJOR", requires = "buildroot")]
    host_gcc_version: Option<String>,
}

impl Model {
    fn source(self) -> ModelSource {
        ModelSource {
            tree: self.tree,
            buildroot: self.buildroot,
            index: self.index,
            host_arch: self.host_arch,
            host_gcc_version: self.host_gcc_version,
        }
    }
}

/// Options of `b4k-dev defconfig`.
#[derive(Args)]
struct Defconfig {
    #[command(flatten)]
    model: Model,
    /// Compare the committed defconfigs with what would be generated; print a unified
    /// diff and exit 1 when they differ. Writes nothing.
    #[arg(long)]
    check: bool,
    /// Write the index of what the tree needs from Buildroot to FILE (needs --buildroot).
    #[arg(long, value_name = "FILE", conflicts_with = "check")]
    export_index: Option<PathBuf>,
    /// Print one defconfig of configs/defconfigs.toml to stdout instead of writing files.
    #[arg(long, value_name = "NAME", conflicts_with_all = ["check", "export_index"])]
    print: Option<String>,
    /// With --print: choose another option, e.g. `--set runtime=containerd`.
    #[arg(long = "set", value_name = "GROUP=CHOICE", requires = "print")]
    set: Vec<String>,
    /// Evaluate these fragment files (merged in order) instead of the data file: print
    /// what savedefconfig would write and what Buildroot would not keep.
    #[arg(long = "fragment", value_name = "FILE", conflicts_with_all = ["check", "print", "export_index"])]
    fragments: Vec<PathBuf>,
    /// Machine-readable findings (one JSON document).
    #[arg(long)]
    json: bool,
}

/// Options of `b4k-dev check`.
#[derive(Args)]
struct Check {
    #[command(flatten)]
    model: Model,
    /// Machine-readable output (one JSON document on stdout).
    #[arg(long)]
    json: bool,
}

fn lint_kernel(a: LintKernel) -> Result<u8> {
    let opts = b4k_fragments::Options {
        kernel_src: a.kernel_src,
        arch: a.arch,
        cross_compile: a.cross_compile,
        base: a.base,
        fragments: a.fragments,
    };
    let p = b4k_fragments::Prediction::new(&opts)?;
    if let Some(path) = &a.write_config {
        b4k_input::write_atomic(path, p.config().as_bytes())
            .with_context(|| format!("--write-config {}", path.display()))?;
    }
    if a.print_config {
        write(Stream::Stdout, &p.config())?;
        return Ok(0);
    }
    if a.print_values {
        let text: String = p
            .values()
            .iter()
            .map(|(n, v)| format!("{n}={}\n", v.as_deref().unwrap_or("absent")))
            .collect();
        write(Stream::Stdout, &text)?;
        return Ok(0);
    }
    let reqs = match &a.requirements {
        Some(r) => b4k_requirements::load(r)?,
        None => Vec::new(),
    };
    Ok(emit(&p.report(&reqs), a.json, Stream::Stdout)?)
}

fn defconfig(a: Defconfig) -> Result<u8> {
    let mode = if a.check {
        Mode::Check
    } else if let Some(out) = a.export_index {
        Mode::ExportIndex(out)
    } else if let Some(name) = a.print {
        let mut set = Vec::new();
        for s in &a.set {
            let (g, c) = s
                .split_once('=')
                .with_context(|| format!("--set {s}: expected GROUP=CHOICE"))?;
            set.push((g.to_string(), c.to_string()));
        }
        Mode::Print { name, set }
    } else if !a.fragments.is_empty() {
        Mode::Fragments(a.fragments)
    } else {
        Mode::Write
    };
    let out = generate::run(&generate::Options {
        model: a.model.source(),
        mode,
    })?;
    write(Stream::Stdout, &out.text)?;
    // With data on stdout (a defconfig, a diff), the findings go to stderr.
    let to = if out.text.is_empty() {
        Stream::Stdout
    } else {
        Stream::Stderr
    };
    Ok(emit(&out.report, a.json, to)?)
}

fn check(a: Check) -> Result<u8> {
    let report = b4k_treecheck::run(&b4k_treecheck::Options {
        model: a.model.source(),
    })?;
    Ok(emit(&report, a.json, Stream::Stdout)?)
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    // On a stack sized for the input bounds (b4k_input::STACK_BYTES).
    let result = b4k_input::with_stack(move || match command {
        Command::LintKernel(a) => lint_kernel(a),
        Command::Defconfig(a) => defconfig(a),
        Command::Check(a) => check(a),
    })
    .and_then(|r| r);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("b4k-dev: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
