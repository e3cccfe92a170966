//! Buildroot's Kconfig model as this tree uses it: loading it from a checkout
//! (`buildroot`) or from the committed index (`index`), what `make savedefconfig`
//! writes (`savedefconfig`), and the generation of `configs/*_defconfig` from
//! fragments (`defconfig`; `b4k-dev defconfig`).

pub mod buildroot;
pub mod defconfig;
pub mod generate;
pub mod index;
pub mod savedefconfig;

use anyhow::{Context, Result};
use std::path::{Path, PathBuf};

/// Default place of the committed index, relative to the tree.
pub const INDEX: &str = "configs/buildroot-index.json.gz";

/// Where to find Buildroot's Kconfig model: a checkout or the index.
#[derive(Debug, Clone, Default)]
pub struct ModelSource {
    /// The BR2_EXTERNAL tree (the repository root).
    pub tree: PathBuf,
    /// A Buildroot checkout to parse (its Config.in plus this tree's).
    pub buildroot: Option<PathBuf>,
    /// The index to use without a checkout; `None`: TREE/configs/buildroot-index.json.gz.
    pub index: Option<PathBuf>,
    /// With a checkout: Buildroot's HOSTARCH instead of asking the host gcc.
    pub host_arch: Option<String>,
    /// With a checkout: Buildroot's HOSTCC_VERSION instead of asking the host gcc.
    pub host_gcc_version: Option<String>,
}

impl ModelSource {
    /// The index file this source reads (when it has no checkout).
    pub fn index_path(&self) -> PathBuf {
        self.index.clone().unwrap_or_else(|| self.tree.join(INDEX))
    }

    /// The host facts: given ones win over what the host gcc says.
    pub fn host(&self, br: &Path) -> Result<buildroot::Host> {
        if let (Some(a), Some(g)) = (&self.host_arch, &self.host_gcc_version) {
            return Ok(buildroot::Host {
                arch: a.clone(),
                gcc_version: g.clone(),
            });
        }
        let detected = buildroot::Host::detect(br)?;
        Ok(buildroot::Host {
            arch: self.host_arch.clone().unwrap_or(detected.arch),
            gcc_version: self
                .host_gcc_version
                .clone()
                .unwrap_or(detected.gcc_version),
        })
    }

    /// Loads the model: parses the checkout, or reads the index.
    pub fn load(&self, ext_name: &str) -> Result<defconfig::Model> {
        if let Some(br) = &self.buildroot {
            let k = buildroot::load(br, &self.tree, ext_name, &self.host(br)?)?;
            let legacy = index::legacy_symbols(&k).into_iter().collect();
            return Ok(defconfig::Model {
                k,
                legacy,
                from: format!("Buildroot in {}", br.display()),
                is_index: false,
            });
        }
        let path = self.index_path();
        let ix = index::read(&path).with_context(|| {
            format!(
                "no Buildroot model: pass --buildroot DIR (or set BUILDROOT_DIR), or export {} \
                 with `b4k-dev defconfig --buildroot DIR --export-index {INDEX}`",
                path.display()
            )
        })?;
        let tree = self
            .tree
            .canonicalize()
            .with_context(|| format!("resolving {}", self.tree.display()))?;
        let k = index::to_kconfig(&ix, &tree, ext_name)
            .with_context(|| format!("reading the index {}", path.display()))?;
        let shown = path.strip_prefix(&self.tree).unwrap_or(&path);
        Ok(defconfig::Model {
            k,
            legacy: ix.legacy.into_iter().collect(),
            from: format!("the index {} (Buildroot {})", shown.display(), ix.buildroot),
            is_index: true,
        })
    }
}

/// The tree's name from `external.desc` (`name: KUBERNETES`), checked the way
/// Buildroot's `support/scripts/br2-external` checks it: not empty, only
/// `[A-Za-z0-9_]` (it becomes part of make variables and Kconfig symbols), and
/// here at most [`MAX_NAME`] bytes.
pub fn external_name(root: &Path) -> Result<String> {
    let p = root.join("external.desc");
    let text = b4k_input::read_text(&p).context("reading the tree's description")?;
    for (i, l) in text.lines().enumerate() {
        if let Some(n) = l.strip_prefix("name:") {
            let n = n.trim();
            let fix = "Buildroot needs a name of letters, digits and '_' (e.g. 'name: KUBERNETES')";
            if n.is_empty() {
                anyhow::bail!("{}:{}: the name is empty; {fix}", p.display(), i + 1);
            }
            if n.len() > MAX_NAME {
                anyhow::bail!(
                    "{}:{}: the name is {} bytes long (at most {MAX_NAME}); {fix}",
                    p.display(),
                    i + 1,
                    n.len()
                );
            }
            if let Some(c) = n
                .chars()
                .find(|c| !(c.is_ascii_alphanumeric() || *c == '_'))
            {
                anyhow::bail!("{}:{}: {c:?} in the name '{n}'; {fix}", p.display(), i + 1);
            }
            return Ok(n.to_string());
        }
    }
    anyhow::bail!("{}:1: no 'name: <NAME>' line", p.display())
}

/// The longest external tree name accepted (Buildroot sets none; names are
/// short words such as `KUBERNETES`).
pub const MAX_NAME: usize = 64;
