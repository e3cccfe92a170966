//! `b4k`: the product tool of buildroot4kubernetes, the one Buildroot builds as the
//! host package `host-b4k`: a board's post-image step and the check of a finished
//! kernel configuration against the required set.
//!
//! Argument parsing only; the work is done by the library crates under `tools/`.
//! The maintainer commands (fragment prediction, defconfigs, tree checks) are in
//! `b4k-dev`, which Buildroot does not build.

use anyhow::Result;
use b4k_findings::{emit, Report, Stream};
use clap::{Args, Parser, Subcommand};
use std::path::PathBuf;
use std::process::ExitCode;

/// Host tool of the buildroot4kubernetes BR2_EXTERNAL tree.
#[derive(Parser)]
#[command(name = "b4k", version, about)]
struct Cli {
    #[command(subcommand)]
    command: Command,
}

#[derive(Subcommand)]
enum Command {
    /// Assemble the board's images (Buildroot's BR2_ROOTFS_POST_IMAGE_SCRIPT step).
    PostImage(Box<PostImage>),
    /// Check a finished kernel .config (or /proc/config.gz) against the required set.
    LintKernel(LintKernel),
}

/// Options of `b4k post-image`. Buildroot's environment supplies the directories.
#[derive(Args)]
struct PostImage {
    /// The board whose images to assemble (its directory name under board/).
    #[arg(long)]
    board: String,
    /// Directory with the board's files (genimage.cfg.j2, ...); default
    /// $BR2_EXTERNAL_KUBERNETES_PATH/board/<board>.
    #[arg(long, value_name = "DIR")]
    board_dir: Option<PathBuf>,
    /// Buildroot's images directory: the inputs, and where the results go.
    #[arg(long, env = "BINARIES_DIR", value_name = "DIR")]
    binaries_dir: PathBuf,
    /// Where the temporary work directory goes (default: next to BINARIES_DIR).
    #[arg(long, env = "BUILD_DIR", value_name = "DIR")]
    build_dir: Option<PathBuf>,
    /// Buildroot's .config, read to name the option behind a missing input and to
    /// find out whether a live ISO was asked for.
    #[arg(long, env = "BR2_CONFIG", value_name = "FILE")]
    br2_config: Option<PathBuf>,
    /// Time for every file in the boot partition (default: the rootfs image's mtime).
    #[arg(long, env = "SOURCE_DATE_EPOCH")]
    source_date_epoch: Option<i64>,
    /// An initramfs to put next to the kernel and load with it (the tests use it
    /// for Debian's modular kernels; Buildroot's kernel has its drivers built in).
    #[arg(long, value_name = "FILE")]
    initrd: Option<PathBuf>,
    /// Size of the root partition, in bytes or with a K/M/G suffix (default: the
    /// size of rootfs.ext4).
    #[arg(long, value_parser = b4k_image::parse_size)]
    root_size: Option<u64>,
    /// Compression of the disk image: gz, xz or none (default: the board's).
    #[arg(long)]
    compress: Option<b4k_image::Compression>,
    /// The genimage program.
    #[arg(long, default_value = "genimage")]
    genimage: PathBuf,
    /// Machine-readable output (one JSON document on stdout).
    #[arg(long)]
    json: bool,
}

/// Options of `b4k lint-kernel`.
#[derive(Args)]
struct LintKernel {
    /// The finished .config (or a gzip-compressed one, such as /proc/config.gz).
    #[arg(long, value_name = "FILE")]
    config: PathBuf,
    /// The required set (board/common/kernel-requirements.toml).
    #[arg(long, value_name = "FILE")]
    requirements: PathBuf,
    /// Machine-readable output (one JSON document on stdout).
    #[arg(long)]
    json: bool,
}

fn post_image(a: PostImage) -> Result<u8> {
    let opts = b4k_image::Options {
        board: a.board,
        board_dir: a.board_dir,
        binaries_dir: a.binaries_dir,
        build_dir: a.build_dir,
        br2_config: a.br2_config,
        source_date_epoch: a.source_date_epoch,
        initrd: a.initrd,
        root_size: a.root_size,
        compress: a.compress,
        genimage: a.genimage,
    };
    let written = match b4k_image::run(&opts) {
        Err(e) => match e.downcast::<b4k_image::board::Findings>() {
            Ok(f) => return Ok(emit(&Report::new(f.0), a.json, Stream::Stdout)?),
            Err(e) => return Err(e),
        },
        Ok(w) => w,
    };
    let mut report = Report::default();
    for p in written {
        report
            .notes
            .push(format!("b4k post-image: wrote {}", p.display()));
    }
    Ok(emit(&report, a.json, Stream::Stdout)?)
}

fn lint_kernel(a: LintKernel) -> Result<u8> {
    let report = b4k_requirements::check_config(&b4k_requirements::ConfigCheck {
        config: a.config,
        requirements: a.requirements,
    })?;
    Ok(emit(&report, a.json, Stream::Stdout)?)
}

fn main() -> ExitCode {
    let command = Cli::parse().command;
    // On a stack sized for the input bounds (b4k_input::STACK_BYTES).
    let result = b4k_input::with_stack(move || match command {
        Command::PostImage(a) => post_image(*a),
        Command::LintKernel(a) => lint_kernel(a),
    })
    .and_then(|r| r);
    match result {
        Ok(code) => ExitCode::from(code),
        Err(err) => {
            eprintln!("b4k: error: {err:#}");
            ExitCode::from(2)
        }
    }
}
