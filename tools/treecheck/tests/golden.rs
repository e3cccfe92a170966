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

/// A deleted, truncated or padded index is a finding of `b4k-dev check`.
#[test]
fn damaged_or_deleted_index_is_a_finding() {
    let root = std::env::temp_dir().join(format!("b4k-index-check-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&root);
    std::fs::create_dir_all(root.join("configs")).unwrap();
    std::fs::write(root.join("external.desc"), "name: DEMO\n").unwrap();
    std::fs::write(root.join("configs/defconfigs.toml"), "[defconfigs]\n").unwrap();
    let opts = b4k_treecheck::Options {
        model: b4k_buildroot::ModelSource {
            tree: root.clone(),
            ..Default::default()
        },
    };
    let codes = |opts: &b4k_treecheck::Options| -> Vec<&'static str> {
        let r = b4k_treecheck::run(opts).unwrap();
        r.findings.iter().map(|f| f.code).collect()
    };
    assert_eq!(codes(&opts), ["missing-index"]);
    let real = std::fs::read(data().join("../../../../configs/buildroot-index.json.gz")).unwrap();
    let index = root.join("configs/buildroot-index.json.gz");
    std::fs::write(&index, &real[..real.len() / 2]).unwrap();
    assert_eq!(codes(&opts), ["damaged-index"]);
    let mut padded = real.clone();
    padded.extend_from_slice(b"garbage");
    std::fs::write(&index, &padded).unwrap();
    assert_eq!(codes(&opts), ["damaged-index"]);
    let _ = std::fs::remove_dir_all(&root);
}
