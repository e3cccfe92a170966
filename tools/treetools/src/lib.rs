//! Tree maintenance: generate defconfigs from fragments and check the external tree.

use clap::Args;

/// Options of `b4k defconfig`.
#[derive(Args, Debug)]
pub struct DefconfigArgs {}

/// Options of `b4k check`.
#[derive(Args, Debug)]
pub struct CheckArgs {}

/// Runs `b4k defconfig`; returns the process exit code.
pub fn run_defconfig(_args: DefconfigArgs) -> anyhow::Result<u8> {
    anyhow::bail!("defconfig is not implemented yet")
}

/// Runs `b4k check`; returns the process exit code.
pub fn run_check(_args: CheckArgs) -> anyhow::Result<u8> {
    anyhow::bail!("check is not implemented yet")
}
