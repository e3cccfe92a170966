//! Reading a finished `.config` (or a gzip-compressed one, `/proc/config.gz`)
//! into symbol values, as kconfig's `conf_read_simple` splits its lines.

use crate::eval::split_line;
use anyhow::Result;
use std::collections::HashMap;
use std::path::Path;

/// Reads a `.config`, or a gzip-compressed one, into name (without `CONFIG_`) -> value.
pub fn read(path: &Path) -> Result<HashMap<String, String>> {
    let bytes = b4k_input::read_maybe_gz(path)?;
    let text = String::from_utf8_lossy(&bytes);
    let mut m = HashMap::new();
    for l in text.lines() {
        if let Some(Ok((n, v))) = split_line(l) {
            m.insert(n, v);
        }
    }
    Ok(m)
}
