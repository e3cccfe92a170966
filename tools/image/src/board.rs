//! A board's plan, from its `image.toml` (see [`crate::spec`]): the inputs found,
//! staged for genimage (copied, patched, linked), the templates rendered, the
//! variables of `genimage.cfg.j2`, and the check of the finished partition table.

use crate::disk::Table;
use crate::spec::{self, Input, Patch, Spec};
use crate::{derived_u32, derived_uuid, sha256_file, stage, Ctx};
use anyhow::{bail, ensure, Context, Result};
use b4k_findings::Finding;
use minijinja::Value;
use std::collections::BTreeMap;
use std::fs;
use std::path::{Path, PathBuf};

/// Template variables.
pub type Vars = BTreeMap<String, Value>;

/// What the board hands to the common part of the pipeline.
pub struct Plan {
    /// The board's description.
    pub spec: Spec,
    /// Variables for genimage.cfg.j2.
    pub vars: Vars,
    /// Directory (under the input dir) holding the boot partition's files.
    pub boot_dir: PathBuf,
    /// Inputs listed in sha256sums and the manifest as they are (the live ISO).
    pub extra: Vec<PathBuf>,
}

/// Findings that stop a run (every missing input at once): the binary reports them
/// in the one finding format instead of as a plain error.
#[derive(Debug)]
pub struct Findings(pub Vec<Finding>);

impl std::fmt::Display for Findings {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        writeln!(f, "{} input file(s) missing:", self.0.len())?;
        for x in &self.0 {
            writeln!(f, "{x}")?;
        }
        Ok(())
    }
}

impl std::error::Error for Findings {}

/// The file found for each input that applies (in the spec's order), or one
/// [`Findings`] error naming every missing file with the option that produces it.
fn find_inputs<'s>(ctx: &Ctx, spec: &'s Spec) -> Result<Vec<(&'s Input, PathBuf)>> {
    let bin = &ctx.args.binaries_dir;
    let mut found = Vec::new();
    let mut missing = Vec::new();
    for input in &spec.inputs {
        if input
            .when
            .as_deref()
            .is_some_and(|o| !ctx.config.enabled(o))
        {
            continue;
        }
        let candidates: Vec<PathBuf> = std::iter::once(&input.file)
            .chain(&input.alternatives)
            .map(|f| bin.join(f))
            .collect();
        match candidates.iter().find(|p| p.is_file()) {
            Some(p) => found.push((input, p.clone())),
            None => {
                missing.push(Finding::error(
                    bin.join(&input.file).display().to_string(),
                    0,
                    "missing-input",
                    format!(
                        "not found, needed by the {} board; {}",
                        ctx.args.board, input.option
                    ),
                ));
            }
        }
    }
    if !missing.is_empty() {
        return Err(Findings(missing).into());
    }
    Ok(found)
}

/// Buildroot options that must have a value when they are set.
fn check_requires(ctx: &Ctx, spec: &Spec) -> Result<()> {
    for r in &spec.requires {
        if let Some(v) = ctx.config.get(&r.option) {
            ensure!(
                v == r.value,
                "{} is \"{v}\": {}, set it to \"{}\"",
                r.option,
                r.why,
                r.value
            );
        }
    }
    Ok(())
}

/// A variable of the spec as a byte count (the geometry the patches need).
fn var_u64(spec: &Spec, name: &str) -> Result<u64> {
    let v = spec.vars.get(name).with_context(|| {
        format!("image.toml: [vars] {name} (a byte count) is needed by a patch")
    })?;
    v.as_integer()
        .and_then(|v| u64::try_from(v).ok())
        .with_context(|| {
            format!("image.toml: [vars] {name} = {v}: not a byte count; give a whole number >= 0")
        })
}

/// The bytes of an input after its patch.
fn patched(spec: &Spec, input: &Input, path: &Path) -> Result<Vec<u8>> {
    let mut bytes = b4k_input::read(path)?;
    let Some(patch) = input.patch else {
        return Ok(bytes);
    };
    let offset = var_u64(spec, "bios_offset")?;
    ensure!(
        offset % crate::grub::SECTOR == 0 && offset > 0,
        "image.toml: [vars] bios_offset = {offset}: not a multiple of {} above 0 (the BIOS boot \
         partition starts on a sector)",
        crate::grub::SECTOR
    );
    let core_lba = offset / crate::grub::SECTOR;
    match patch {
        Patch::GrubBootImg => crate::grub::patch_boot_img(&mut bytes, core_lba),
        Patch::GrubCoreImg => {
            let max = var_u64(spec, "bios_size")?;
            ensure!(
                bytes.len() as u64 <= max,
                "is {} bytes, larger than the BIOS boot partition's {max} bytes",
                bytes.len()
            );
            crate::grub::patch_core_img(&mut bytes, core_lba)
        }
    }
    .with_context(|| format!("{}", path.display()))?;
    Ok(bytes)
}

/// Copies (or patches, or links) every input into genimage's input directory.
fn stage_inputs(ctx: &Ctx, spec: &Spec, found: &[(&Input, PathBuf)]) -> Result<()> {
    // The root file system's link first: every path staged after it is checked
    // against it (`under` refuses to write through a link).
    // No copy: it can be large, and genimage only reads it.
    for (_, path) in found.iter().filter(|(i, _)| i.rootfs) {
        let abs = path
            .canonicalize()
            .with_context(|| format!("resolving {}", path.display()))?;
        std::os::unix::fs::symlink(abs, ctx.input.join("rootfs.ext4"))
            .context("linking rootfs.ext4 into the work directory")?;
    }
    for (input, path) in found {
        if input.to.is_empty() {
            continue;
        }
        // Patched inputs (GRUB's images, a few KB) are read whole; the others
        // are copied as streams, whatever their size.
        let bytes = match input.patch {
            Some(_) => Some(patched(spec, input, path)?),
            None => None,
        };
        for to in &input.to {
            let dst = b4k_input::under(&ctx.input, to, "image.toml: input.to")?;
            match &bytes {
                Some(b) => stage::write(&dst, b, ctx.epoch)?,
                None => stage::copy(path, &dst, ctx.epoch)?,
            }
        }
    }
    Ok(())
}

/// Stages `--initrd`; returns its file name in the boot partition.
fn stage_initrd(ctx: &Ctx, spec: &Spec) -> Result<Option<String>> {
    let (Some(initrd), Some(how)) = (&ctx.args.initrd, &spec.initrd) else {
        return Ok(None);
    };
    let dst = b4k_input::under(&ctx.input, &how.to, "image.toml: initrd.to")?;
    stage::copy(initrd, &dst, ctx.epoch)?;
    if let Some(a) = &how.append {
        let p = b4k_input::under(&ctx.input, &a.file, "image.toml: initrd.append.file")?;
        let mut text = b4k_input::read_text(&p)?;
        text.push_str(&a.line);
        text.push('\n');
        stage::write(&p, text.as_bytes(), ctx.epoch)?;
    }
    Ok(dst.file_name().map(|n| n.to_string_lossy().into_owned()))
}

/// Checks that the boot partition's files fit in it (with room for the FAT
/// itself and cluster rounding), and that the rootfs fits its partition.
fn check_sizes(
    boot_dir: &Path,
    boot_size: u64,
    rootfs: Option<&Path>,
    root_size: Option<u64>,
) -> Result<()> {
    let mut total = 0u64;
    for rel in stage::list_files(boot_dir)? {
        let len = fs::metadata(boot_dir.join(&rel))?.len();
        total = total.saturating_add(len.div_ceil(4096).saturating_mul(4096));
    }
    let overhead = 2 << 20;
    if total.saturating_add(overhead) > boot_size {
        bail!(
            "the boot partition's files take {total} bytes (+{overhead} for the FAT), \
             more than the boot partition's {boot_size} bytes"
        );
    }
    let (Some(rootfs), Some(size)) = (rootfs, root_size) else {
        return Ok(());
    };
    let len = fs::metadata(rootfs)
        .with_context(|| format!("reading {}", rootfs.display()))?
        .len();
    if len > size {
        bail!(
            "{} is {len} bytes, larger than its partition's {size} bytes \
             (--root-size); lower BR2_TARGET_ROOTFS_EXT2_SIZE or raise --root-size",
            rootfs.display()
        );
    }
    Ok(())
}

/// Seed for the derived identifiers: the board, the time and every input's sha256.
fn seed(ctx: &Ctx, inputs: &[&PathBuf]) -> Result<Vec<u8>> {
    let mut s = format!("{}\n{}\n", ctx.args.board, ctx.epoch);
    for p in inputs.iter().copied().chain(&ctx.args.initrd) {
        s.push_str(&sha256_file(p)?);
        s.push('\n');
    }
    Ok(s.into_bytes())
}

fn toml_value(v: &toml::Value) -> Value {
    match v {
        toml::Value::Integer(i) => Value::from(*i),
        toml::Value::Boolean(b) => Value::from(*b),
        toml::Value::String(s) => Value::from(s.clone()),
        other => Value::from(other.to_string()),
    }
}

/// The variables every template sees.
fn base_vars(ctx: &Ctx, spec: &Spec, seed: &[u8], initrd: Option<String>) -> Vars {
    let mut vars: Vars = spec
        .vars
        .iter()
        .map(|(k, v)| (k.clone(), toml_value(v)))
        .collect();
    for (k, label) in &spec.ids.uuid {
        vars.insert(k.clone(), Value::from(derived_uuid(seed, label)));
    }
    for (k, label) in &spec.ids.hex32 {
        vars.insert(k.clone(), Value::from(derived_u32(seed, label)));
    }
    vars.insert("initrd".into(), Value::from(initrd));
    vars.insert("root_size".into(), Value::from(ctx.args.root_size));
    vars
}

/// Reads the board's `image.toml` and stages everything genimage needs.
pub fn plan(ctx: &Ctx) -> Result<Plan> {
    let spec = spec::load(&ctx.board_dir.join("image.toml"))?;
    for (name, what) in
        std::iter::once((&spec.image, "image")).chain(spec.keep.iter().map(|k| (k, "keep")))
    {
        // Outputs go into BINARIES_DIR by name: a plain file name, nothing else.
        ensure!(
            !name.contains('/') && !matches!(name.as_str(), "" | "." | ".."),
            "image.toml: {what} = {name:?}: not a plain file name; genimage's outputs are \
             files in its output directory"
        );
    }
    let found = find_inputs(ctx, &spec)?;
    check_requires(ctx, &spec)?;
    stage_inputs(ctx, &spec, &found)?;
    let initrd = stage_initrd(ctx, &spec)?;
    let staged: Vec<&PathBuf> = found
        .iter()
        .filter(|(i, _)| !i.artifact)
        .map(|(_, p)| p)
        .collect();
    let seed = seed(ctx, &staged)?;
    let mut vars = base_vars(ctx, &spec, &seed, initrd);
    for t in &spec.templates {
        let src = b4k_input::under(&ctx.board_dir, &t.file, "image.toml: template.file")?;
        let text = crate::render(&src, &vars)
            .with_context(|| format!("image.toml: template.file = {:?}", t.file))?;
        for to in &t.to {
            let dst = b4k_input::under(&ctx.input, to, "image.toml: template.to")?;
            stage::write(&dst, text.as_bytes(), ctx.epoch)?;
        }
    }
    let boot_dir = b4k_input::under(&ctx.input, &spec.boot.dir, "image.toml: boot.dir")?;
    fs::create_dir_all(&boot_dir).with_context(|| format!("creating {}", boot_dir.display()))?;
    stage::touch_dirs(&boot_dir, ctx.epoch)?;
    let rootfs = found
        .iter()
        .find(|(i, _)| i.rootfs)
        .map(|(_, p)| p.as_path());
    check_sizes(&boot_dir, spec.boot.size, rootfs, ctx.args.root_size)?;
    vars.insert(
        "boot_files".into(),
        Value::from(stage::list_files(&boot_dir)?),
    );
    vars.insert("boot_entries".into(), Value::from(entries(&boot_dir)?));
    let extra = found
        .iter()
        .filter(|(i, _)| i.artifact)
        .map(|(_, p)| p.clone())
        .collect();
    Ok(Plan {
        spec,
        vars,
        boot_dir,
        extra,
    })
}

/// The top-level names in `dir`, sorted.
fn entries(dir: &Path) -> Result<Vec<String>> {
    let mut v: Vec<String> = fs::read_dir(dir)
        .with_context(|| format!("reading {}", dir.display()))?
        .filter_map(|e| e.ok())
        .map(|e| e.file_name().to_string_lossy().into_owned())
        .collect();
    v.sort();
    Ok(v)
}

/// Checks the finished partition table against the spec's `[table]`.
pub fn verify(t: &Table, want: &spec::Table) -> Result<()> {
    ensure!(
        t.kind == want.kind,
        "expected an {} table, found {}",
        want.kind.to_uppercase(),
        t.kind
    );
    let p = &t.partitions;
    ensure!(
        p.len() == want.partitions.len(),
        "expected {} partitions, found {}",
        want.partitions.len(),
        p.len()
    );
    for (i, (got, w)) in p.iter().zip(&want.partitions).enumerate() {
        let n = i + 1;
        if let Some(ty) = &w.type_id {
            ensure!(
                &got.type_id == ty,
                "partition {n} has type {}, expected {ty}",
                got.type_id
            );
        }
        if let Some(off) = w.offset {
            ensure!(
                got.offset == off,
                "partition {n} starts at {}, expected {off}",
                got.offset
            );
        }
        if let Some(u) = &w.partuuid {
            ensure!(
                &got.partuuid == u,
                "partition {n} has PARTUUID {}, expected {u}",
                got.partuuid
            );
        }
    }
    Ok(())
}
