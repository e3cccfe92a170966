//! `b4k`: the one command-line entry point of buildroot4kubernetes' host tools.
//!
//! Argument parsing only; every subcommand lives in a library crate under `tools/`.

use clap::{Parser, Subcommand};
use std::process::ExitCode;

/// Host tools of the buildroot4kubernetes BR2_EXTERNAL tree.
#[derive(Parser)]
#[command(name = "b4k", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Lint kernel config fragments against a kernel tree (or check a finished .config).
    LintKernel(b4k_kconfig::LintArgs),
    /// Assemble the board's images (Buildroot BR2_ROOTFS_POST_IMAGE_SCRIPT step).
    PostImage(b4k_postimage::PostImageArgs),
    /// Generate configs/*_defconfig from fragments, or check them (--check).
    Defconfig(b4k_treetools::DefconfigArgs),
    /// Check the external tree beyond utils/check-package.
    Check(b4k_treetools::CheckArgs),
}

fn main() -> ExitCode {
    let cli = Cli::parse();
    let result = match cli.command {
        Command::LintKernel(args) => b4k_kconfig::run(args),
        Command::PostImage(args) => b4k_postimage::run(args),
        Command::Defconfig(args) => b4k_treetools::run_defconfig(args),
        Command::Check(args) => b4k_treetools::run_check(args),
    };
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("b4k: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
