//! Bad fragment and requirements files give findings or errors naming the file,
//! never a panic.

use b4k_fragments::{lint, Options};
use std::path::{Path, PathBuf};

const KCONFIG: &str = "config A\n\tbool \"a\"\nconfig B\n\tbool \"b\"\n\tdepends on A\n";

fn tree(name: &str) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("b4k-fragments-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    std::fs::create_dir_all(&dir).unwrap();
    std::fs::write(dir.join("Kconfig"), KCONFIG).unwrap();
    dir
}

fn opts(dir: &Path, frags: Vec<PathBuf>) -> Options {
    let base = dir.join("base.config");
    std::fs::write(&base, "CONFIG_A=y\n").unwrap();
    Options {
        kernel_src: dir.to_path_buf(),
        arch: "x86_64".into(),
        cross_compile: Some(String::new()),
        base: base.display().to_string(),
        fragments: frags,
    }
}

#[test]
fn lint_errors_not_panics_on_bad_files() {
    let dir = tree("lint");
    let frag = dir.join("bad.fragment");
    // Bytes that are not text: an error naming the file and line, never a guess.
    for (bytes, want) in [
        (&b"CONFIG_A=y\n\xff\xfe garbage\n"[..], ":2: not UTF-8"),
        (&b"CONFIG_A=y\nCONFIG_B=\x00y\n"[..], ":2: a NUL byte"),
        (
            &b"CONFIG_A=y\nCONFIG_B=y\rCONFIG_A=n\n"[..],
            ":2: a carriage return",
        ),
    ] {
        std::fs::write(&frag, bytes).unwrap();
        let e = format!(
            "{:#}",
            lint(&opts(&dir, vec![frag.clone()]), None).unwrap_err()
        );
        assert!(e.contains(&format!("{}{want}", frag.display())), "{e}");
    }
    std::fs::write(&frag, b"garbage\nCONFIG_A=y\nCONFIG_").unwrap();
    // Non-config lines are findings (exit 1), not a crash; they name the file given.
    let r = lint(&opts(&dir, vec![frag.clone()]), None).unwrap();
    assert_eq!(r.exit_code(), 1);
    assert!(r
        .findings
        .iter()
        .all(|f| f.file == frag.display().to_string()));
    // A missing fragment is an error naming it.
    let e = lint(&opts(&dir, vec![dir.join("nope.fragment")]), None).unwrap_err();
    assert!(format!("{e:#}").contains("nope.fragment"), "{e:#}");
    // A requirements file that is not TOML: an error with its name and line.
    let e = lint(&opts(&dir, vec![]), Some(&dir.join("Kconfig"))).unwrap_err();
    assert!(format!("{e:#}").contains("Kconfig:"), "{e:#}");
    let _ = std::fs::remove_dir_all(&dir);
}

#[test]
fn dropped_option_is_explained_at_its_line() {
    let dir = tree("dropped");
    let frag = dir.join("f.fragment");
    std::fs::write(&frag, "# CONFIG_A is not set\nCONFIG_B=y\n").unwrap();
    let r = lint(&opts(&dir, vec![frag.clone()]), None).unwrap();
    let text = r.text();
    let want = format!(
        "{}:2: error: CONFIG_B=y is changed by olddefconfig to not written (absent): depends on A [=n]",
        frag.display()
    );
    assert!(text.contains(&want), "{text}");
    assert!(text.ends_with("1 error, 0 warnings\n"), "{text}");
    let _ = std::fs::remove_dir_all(&dir);
}
