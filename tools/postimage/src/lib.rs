//! The post-image step: render genimage configurations, run genimage, compress and
//! describe the board's images.

use clap::Args;

/// Options of `b4k post-image`.
#[derive(Args, Debug)]
pub struct PostImageArgs {}

/// Runs `b4k post-image`; returns the process exit code.
pub fn run(_args: PostImageArgs) -> anyhow::Result<u8> {
    anyhow::bail!("post-image is not implemented yet")
}
