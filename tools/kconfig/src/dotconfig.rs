//! Reading a finished `.config` (or a gzip-compressed one, `/proc/config.gz`)
//! into symbol values, as kconfig's `conf_read_simple` splits its lines.

use crate::eval::split_line;
use anyhow::{Context, Result};
use std::collections::HashMap;
use std::io::Read;
use std::path::Path;

/// Reads a `.config`, or a gzip-compressed one, into name (without `CONFIG_`) -> value.
pub fn read(path: &Path) -> Result<HashMap<String, String>> {
    let raw = std::fs::read(path).with_context(|| format!("reading {}", path.display()))?;
    let bytes = if raw.starts_with(&[0x1f, 0x8b]) {
        let mut out = Vec::new();
        flate2::read::GzDecoder::new(&raw[..])
            .read_to_end(&mut out)
            .with_context(|| format!("decompressing {}", path.display()))?;
        out
    } else {
        raw
    };
    let text = String::from_utf8_lossy(&bytes);
    let mut m = HashMap::new();
    for l in text.lines() {
        if let Some(Ok((n, v))) = split_line(l) {
            m.insert(n, v);
        }
    }
    Ok(m)
}
