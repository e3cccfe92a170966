//! Kernel configuration fragments: parse the kernel's Kconfig tree and predict what
//! `merge_config.sh -m` + `make olddefconfig` keep of a base config plus fragments;
//! check a finished `.config` against the required set (`b4k lint-kernel`).

pub mod eval;
pub mod kernel;
pub mod lint;
pub mod model;
pub mod parse;
pub mod preprocess;
pub mod requirements;

use clap::Args;
use std::path::PathBuf;

/// Options of `b4k lint-kernel`.
#[derive(Args, Debug, Clone, Default)]
pub struct LintArgs {
    /// Kernel source tree (with the top-level Kconfig).
    #[arg(long, value_name = "DIR")]
    pub kernel_src: Option<PathBuf>,
    /// Kernel ARCH: x86_64 or arm64 (SRCARCH is derived as the kernel's Makefile does).
    #[arg(long, default_value = "x86_64")]
    pub arch: String,
    /// Cross-compiler prefix used for `$(cc-option,...)` and friends
    /// [default: empty for x86_64 on x86_64, aarch64-linux-gnu- for arm64].
    #[arg(long, value_name = "PREFIX")]
    pub cross_compile: Option<String>,
    /// Base configuration: an in-tree defconfig name as Buildroot's
    /// BR2_LINUX_KERNEL_DEFCONFIG spells it (`x86_64`, `defconfig`) or a config file.
    #[arg(long, value_name = "NAME|FILE")]
    pub base: Option<String>,
    /// Required-set data file (board/common/kernel-requirements.toml).
    #[arg(long, value_name = "FILE")]
    pub requirements: Option<PathBuf>,
    /// Check a finished .config (or /proc/config.gz) against the required set instead.
    #[arg(long, value_name = "FILE", conflicts_with_all = ["base", "fragments"])]
    pub config: Option<PathBuf>,
    /// Machine-readable output (one JSON document on stdout).
    #[arg(long)]
    pub json: bool,
    /// Print the predicted final value of every fragment option (`NAME=value`,
    /// `absent` when olddefconfig would not write it) and nothing else.
    #[arg(long, conflicts_with = "json")]
    pub print_values: bool,
    /// Print the whole predicted .config (assignments only) and nothing else.
    #[arg(long, conflicts_with_all = ["json", "print_values"])]
    pub print_config: bool,
    /// Also write the predicted .config (assignments only) to FILE.
    #[arg(long, value_name = "FILE")]
    pub write_config: Option<PathBuf>,
    /// Configuration fragments, merged in order.
    #[arg(value_name = "FRAGMENT")]
    pub fragments: Vec<PathBuf>,
}

/// Runs `b4k lint-kernel`; returns the process exit code (0 clean, 1 findings that are errors).
pub fn run(args: LintArgs) -> anyhow::Result<u8> {
    lint::run(&args)
}
