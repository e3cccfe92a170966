//! `b4k-dev check` on a broken fixture tree, without Buildroot: the expected
//! findings are written by hand in tests/data/check/<case>.expected.

use b4k_treecheck::{check_tree, Known};
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

#[test]
fn check_broken_tree() {
    let root = data().join("check/broken");
    let known = Known {
        symbols: Some(
            [
                "BR2_x86_64",
                "BR2_ROOTFS_OVERLAY",
                "BR2_USE_MMU",
                "BR2_PACKAGE_FOO",
            ]
            .iter()
            .map(|s| s.to_string())
            .collect(),
        ),
        symbols_from: "a test list".into(),
        buildroot_packages: None,
        from_index: false,
    };
    let got: Vec<String> = check_tree(&root, &known)
        .unwrap()
        .iter()
        .map(|f| f.to_string())
        .collect();
    let want = std::fs::read_to_string(data().join("check/broken.expected")).unwrap();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(got, want);
}
