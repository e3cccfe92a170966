//! Tree maintenance: generate defconfigs from fragments (`b4k defconfig`) and check the
//! external tree beyond `utils/check-package` (`b4k check`).

pub mod buildroot;
pub mod check;
pub mod defconfig;
pub mod index;
pub mod savedefconfig;

use anyhow::{Context, Result};
use clap::Args;
use std::collections::{BTreeSet, HashSet};
use std::path::{Path, PathBuf};

/// Default place of the committed index, relative to the tree.
pub const INDEX: &str = "configs/buildroot-index.json.gz";

/// Where to find Buildroot's Kconfig model: a checkout or the index.
#[derive(Args, Debug, Clone, Default)]
pub struct ModelArgs {
    /// The BR2_EXTERNAL tree (the repository root).
    #[arg(long, value_name = "DIR", default_value = ".")]
    pub tree: PathBuf,
    /// A Buildroot checkout to parse (its Config.in plus this tree's).
    #[arg(long, value_name = "DIR", env = "BUILDROOT_DIR")]
    pub buildroot: Option<PathBuf>,
    /// The index to use without a checkout [default: TREE/configs/buildroot-index.json.gz].
    #[arg(long, value_name = "FILE")]
    pub index: Option<PathBuf>,
    /// With --buildroot: Buildroot's HOSTARCH instead of asking the host gcc (to
    /// reproduce an index made on another machine).
    #[arg(long, value_name = "ARCH", requires = "buildroot")]
    pub host_arch: Option<String>,
    /// With --buildroot: Buildroot's HOSTCC_VERSION instead of asking the host gcc.
    #[arg(long, value_name = "MAJOR", requires = "buildroot")]
    pub host_gcc_version: Option<String>,
}

fn host(m: &ModelArgs, br: &Path) -> Result<buildroot::Host> {
    let detected = match (&m.host_arch, &m.host_gcc_version) {
        (Some(a), Some(g)) => {
            return Ok(buildroot::Host {
                arch: a.clone(),
                gcc_version: g.clone(),
            })
        }
        _ => buildroot::Host::detect(br)?,
    };
    Ok(buildroot::Host {
        arch: m.host_arch.clone().unwrap_or(detected.arch),
        gcc_version: m.host_gcc_version.clone().unwrap_or(detected.gcc_version),
    })
}

/// Options of `b4k defconfig`.
#[derive(Args, Debug, Clone, Default)]
pub struct DefconfigArgs {
    /// Where the model comes from.
    #[command(flatten)]
    pub model: ModelArgs,
    /// Compare the committed defconfigs with what would be generated; print a unified
    /// diff and exit 1 when they differ. Writes nothing.
    #[arg(long)]
    pub check: bool,
    /// Write the index of what the tree needs from Buildroot to FILE (needs --buildroot).
    #[arg(long, value_name = "FILE")]
    pub export_index: Option<PathBuf>,
    /// Print one defconfig of configs/defconfigs.toml to stdout instead of writing files.
    #[arg(long, value_name = "NAME", conflicts_with = "check")]
    pub print: Option<String>,
    /// With --print: choose another option, e.g. `--set runtime=containerd`.
    #[arg(long = "set", value_name = "GROUP=CHOICE", requires = "print")]
    pub set: Vec<String>,
    /// Evaluate these fragment files (merged in order) instead of the data file: print
    /// what savedefconfig would write and what Buildroot would not keep.
    #[arg(long = "fragment", value_name = "FILE", conflicts_with_all = ["check", "print"])]
    pub fragments: Vec<PathBuf>,
}

/// Options of `b4k check`.
#[derive(Args, Debug, Clone, Default)]
pub struct CheckArgs {
    /// Where the model comes from (for symbol names).
    #[command(flatten)]
    pub model: ModelArgs,
}

fn load_model(m: &ModelArgs, ext_name: &str) -> Result<defconfig::Model> {
    if let Some(br) = &m.buildroot {
        let host = host(m, br)?;
        let k = buildroot::load(br, &m.tree, ext_name, &host)?;
        let legacy = index::legacy_symbols(&k).into_iter().collect();
        return Ok(defconfig::Model {
            k,
            legacy,
            from: format!("Buildroot in {}", br.display()),
            is_index: false,
        });
    }
    let path = m.index.clone().unwrap_or_else(|| m.tree.join(INDEX));
    let ix = index::read(&path).with_context(|| {
        format!(
            "no Buildroot model: pass --buildroot DIR (or set BUILDROOT_DIR), or export {} \
             with `b4k defconfig --buildroot DIR --export-index {INDEX}`",
            path.display()
        )
    })?;
    let tree = m
        .tree
        .canonicalize()
        .with_context(|| format!("resolving {}", m.tree.display()))?;
    let k = index::to_kconfig(&ix, &tree, ext_name)
        .with_context(|| format!("reading the index {}", path.display()))?;
    Ok(defconfig::Model {
        k,
        legacy: ix.legacy.into_iter().collect(),
        from: format!(
            "the index {} (Buildroot {})",
            rel_display(&m.tree, &path),
            ix.buildroot
        ),
        is_index: true,
    })
}

fn rel_display(tree: &Path, p: &Path) -> String {
    p.strip_prefix(tree).unwrap_or(p).display().to_string()
}

fn print_findings(f: &[check::Finding]) {
    for x in f {
        println!("{x}");
    }
}

/// Runs `b4k defconfig`; returns the process exit code.
pub fn run_defconfig(args: DefconfigArgs) -> Result<u8> {
    let root = &args.model.tree;
    let ext = check::external_name(root)?;
    let model = load_model(&args.model, &ext)?;
    let mut findings = Vec::new();

    if !args.fragments.is_empty() {
        let mut lines = Vec::new();
        for f in &args.fragments {
            let bytes = std::fs::read(f).with_context(|| format!("reading {}", f.display()))?;
            let text = String::from_utf8_lossy(&bytes);
            for (i, t) in text.lines().enumerate() {
                let t = t.trim_end();
                let unset = t.starts_with("# ") && t.ends_with(" is not set");
                if !t.is_empty() && (!t.starts_with('#') || unset) {
                    lines.push(defconfig::Line {
                        file: f.display().to_string(),
                        line: i + 1,
                        text: t.to_string(),
                    });
                }
            }
        }
        let g = defconfig::generate(&model, &lines);
        print!("{}", g.text);
        for x in &g.findings {
            eprintln!("{x}");
        }
        return Ok(u8::from(!g.findings.is_empty()));
    }

    let data = defconfig::read_data(root)?;
    if let Some(name) = &args.print {
        let spec = data.defconfigs.get(name).with_context(|| {
            format!(
                "{}: no defconfig '{name}' (known: {:?})",
                defconfig::DATA,
                data.defconfigs.keys().collect::<Vec<_>>()
            )
        })?;
        let mut spec = defconfig::DefconfigSpec {
            fragments: spec.fragments.clone(),
            options: spec.options.clone(),
        };
        for s in &args.set {
            let (g, c) = s
                .split_once('=')
                .with_context(|| format!("--set {s}: expected GROUP=CHOICE"))?;
            spec.options.insert(g.to_string(), c.to_string());
        }
        let frags = defconfig::fragment_list(&data, name, &spec)?;
        let lines = defconfig::read_fragments(root, &frags, &mut findings)?;
        let g = defconfig::generate(&model, &lines);
        print!("{}", g.text);
        findings.extend(g.findings);
        for x in &findings {
            eprintln!("{x}");
        }
        return Ok(u8::from(!findings.is_empty()));
    }

    let mut seeds = BTreeSet::new();
    let mut status = 0u8;
    for (name, spec) in &data.defconfigs {
        let frags = defconfig::fragment_list(&data, name, spec)?;
        let lines = defconfig::read_fragments(root, &frags, &mut findings)?;
        for l in &lines {
            if let Some(Ok((n, _))) = b4k_kconfig::eval::split_line_prefixed(&l.text, "") {
                seeds.insert(n);
            }
        }
        let g = defconfig::generate(&model, &lines);
        findings.extend(g.findings);
        let rel = format!("configs/{name}");
        let path = root.join(&rel);
        let old = std::fs::read_to_string(&path).unwrap_or_default();
        if args.check {
            if old != g.text {
                print!("{}", defconfig::unified_diff(&rel, &old, &g.text));
                println!(
                    "{rel}: differs from what `b4k defconfig` generates from {}; run \
                     `b4k defconfig` and commit the result",
                    defconfig::DATA
                );
                status = 1;
            }
        } else if args.export_index.is_none() && old != g.text {
            std::fs::write(&path, &g.text)
                .with_context(|| format!("writing {}", path.display()))?;
            eprintln!("b4k defconfig: wrote {rel}");
        }
    }
    if let Some(out) = &args.export_index {
        let Some(br) = &args.model.buildroot else {
            anyhow::bail!("--export-index needs --buildroot DIR (or BUILDROOT_DIR)");
        };
        for w in tree_symbol_words(root)? {
            seeds.insert(w);
        }
        let tree = root.canonicalize()?;
        let host = host(&args.model, br)?;
        let ix = index::export(
            &model.k,
            &seeds,
            &buildroot::version(br)?,
            &host,
            &tree,
            &ext,
        );
        let json = index::to_json(&ix)?;
        index::write(out, &json)?;
        eprintln!(
            "b4k defconfig: wrote {} ({} symbols, {} choices, {} bytes)",
            out.display(),
            ix.symbols.len(),
            ix.choices.len(),
            json.len()
        );
    }
    findings.sort();
    findings.dedup();
    print_findings(&findings);
    if !findings.is_empty() {
        status = 1;
    }
    Ok(status)
}

/// Every `BR2_` word of the files `b4k check` checks symbols in.
fn tree_symbol_words(root: &Path) -> Result<BTreeSet<String>> {
    let re = regex::Regex::new(r"\bBR2_[A-Za-z0-9_]+")?;
    let mut out = BTreeSet::new();
    for d in ["configs", "board", "package"] {
        for e in walkdir::WalkDir::new(root.join(d))
            .into_iter()
            .filter_map(|e| e.ok())
        {
            if !e.file_type().is_file() || e.path().ends_with(INDEX) {
                continue;
            }
            if let Ok(t) = std::fs::read_to_string(e.path()) {
                out.extend(re.find_iter(&t).map(|m| m.as_str().to_string()));
            }
        }
    }
    if let Ok(t) = std::fs::read_to_string(root.join("Config.in")) {
        out.extend(re.find_iter(&t).map(|m| m.as_str().to_string()));
    }
    Ok(out)
}

/// Runs `b4k check`; returns the process exit code (0 clean, 1 findings).
pub fn run_check(args: CheckArgs) -> Result<u8> {
    let root = &args.model.tree;
    let ext = check::external_name(root)?;
    let mut known = check::Known::default();
    let have_index = args.model.index.is_some() || root.join(INDEX).exists();
    if args.model.buildroot.is_some() || have_index {
        let m = load_model(&args.model, &ext)?;
        let names: HashSet<String> =
            m.k.order
                .iter()
                .map(|&s| m.k.syms[s].name.clone())
                .collect();
        known.symbols = Some(names);
        known.symbols_from = m.from;
        known.from_index = m.is_index;
    } else {
        eprintln!(
            "b4k check: no Buildroot checkout nor {INDEX}: symbol names are not checked \
             (set BUILDROOT_DIR)"
        );
    }
    if let Some(br) = &args.model.buildroot {
        known.buildroot_packages = Some(br.join("package"));
    }
    let findings = check::check_tree(root, &known)?;
    print_findings(&findings);
    Ok(u8::from(!findings.is_empty()))
}
