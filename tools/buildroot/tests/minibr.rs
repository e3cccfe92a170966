//! `b4k-dev defconfig` on a miniature Buildroot (tests/data/minibr, with the external
//! tree tests/data/minibr-ext), without a real checkout: for each case in
//! tests/data/minibr-cases/, the saved defconfig (`<case>.defconfig`) and the verdicts
//! (`<case>.verdicts`, `SYMBOL verdict` lines) are written by hand from kconfig's rules;
//! the same must come out of the model rebuilt from an exported index.

use b4k_buildroot::buildroot::{load, Host};
use b4k_buildroot::defconfig::{generate, Line, Model};
use b4k_buildroot::index;
use std::collections::BTreeSet;
use std::path::{Path, PathBuf};

fn data() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data")
}

fn host() -> Host {
    Host {
        arch: "x86_64".into(),
        gcc_version: "12".into(),
    }
}

fn direct() -> Model {
    let k = load(
        &data().join("minibr"),
        &data().join("minibr-ext"),
        "DEMO",
        &host(),
    )
    .unwrap();
    let legacy = k
        .order
        .iter()
        .filter(|&&s| k.syms[s].defs[0].file == "Config.in.legacy")
        .map(|&s| k.syms[s].name.clone())
        .collect();
    Model {
        k,
        legacy,
        from: "minibr".into(),
        is_index: false,
    }
}

fn lines(path: &Path) -> Vec<Line> {
    std::fs::read_to_string(path)
        .unwrap()
        .lines()
        .enumerate()
        .map(|(i, t)| Line {
            file: path.display().to_string(),
            line: i + 1,
            text: t.to_string(),
        })
        .collect()
}

fn cases() -> Vec<PathBuf> {
    let mut v: Vec<PathBuf> = std::fs::read_dir(data().join("minibr-cases"))
        .unwrap()
        .map(|e| e.unwrap().path())
        .filter(|p| p.extension().is_some_and(|e| e == "fragment"))
        .collect();
    v.sort();
    assert_eq!(v.len(), 3);
    v
}

fn check(m: &Model, case: &Path) {
    let g = generate(m, &lines(case)).unwrap();
    let want = std::fs::read_to_string(case.with_extension("defconfig")).unwrap();
    assert_eq!(g.text, want, "{}", case.display());
    let got: Vec<String> = g
        .verdicts
        .iter()
        .map(|(n, v)| format!("{n} {}", v.as_str()))
        .collect();
    let want = std::fs::read_to_string(case.with_extension("verdicts")).unwrap();
    let want: Vec<&str> = want.lines().collect();
    assert_eq!(got, want, "{}", case.display());
    // Every verdict is also a file:line finding.
    assert_eq!(g.findings.len(), g.verdicts.len());
}

#[test]
fn golden_from_kconfig() {
    let m = direct();
    for case in cases() {
        check(&m, &case);
    }
}

#[test]
fn golden_from_exported_index() {
    let m = direct();
    let mut seeds = BTreeSet::new();
    for case in cases() {
        for l in lines(&case) {
            let t = l.text.trim_start_matches("# ");
            seeds.insert(t.split(['=', ' ']).next().unwrap().to_string());
        }
    }
    let ext = data().join("minibr-ext").canonicalize().unwrap();
    let ix = index::export(&m.k, &seeds, "2099.01", &host(), &ext, "DEMO");
    let json = index::to_json(&ix).unwrap();
    assert!(!json.contains(&ext.display().to_string()), "{json}");
    let dir = std::env::temp_dir().join(format!("b4k-minibr-{}", std::process::id()));
    std::fs::create_dir_all(&dir).unwrap();
    let p = dir.join("index.json.gz");
    index::write(&p, &json).unwrap();
    let again = index::read(&p).unwrap();
    assert_eq!(again, ix);
    let k = index::to_kconfig(&again, &ext, "DEMO").unwrap();
    let m2 = Model {
        k,
        legacy: again.legacy.iter().cloned().collect(),
        from: "index".into(),
        is_index: true,
    };
    for case in cases() {
        check(&m2, &case);
    }
    let _ = std::fs::remove_dir_all(&dir);
}
