//! Kernel configuration fragments: parse the kernel's Kconfig tree and predict what
//! `make olddefconfig` keeps of a base config plus fragments.

use clap::Args;

/// Options of `b4k lint-kernel`.
#[derive(Args, Debug)]
pub struct LintArgs {}

/// Runs `b4k lint-kernel`; returns the process exit code (0 clean, 1 findings).
pub fn run(_args: LintArgs) -> anyhow::Result<u8> {
    anyhow::bail!("lint-kernel is not implemented yet")
}
