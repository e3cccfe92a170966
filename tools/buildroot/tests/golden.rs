//! Malformed data files, fragments and indexes give `file:line` errors instead of
//! panics (no Buildroot needed).

use b4k_buildroot::defconfig;
use std::path::PathBuf;

fn scratch(tag: &str) -> PathBuf {
    let d = std::env::temp_dir().join(format!("b4k-golden-{tag}-{}", std::process::id()));
    let _ = std::fs::remove_dir_all(&d);
    std::fs::create_dir_all(d.join("configs/fragments")).unwrap();
    std::fs::write(d.join("external.desc"), "name: DEMO\n").unwrap();
    d
}

#[test]
fn malformed_data_files_give_file_line_errors() {
    // (data file, the error's start)
    let cases = [
        (
            "[defconfigs.a_defconfig]\nfragments = [\"x\"\n",
            "configs/defconfigs.toml:",
        ),
        (
            "[defconfigs.a_defconfig]\nfragments = [\"x\"]\ncolour = 1\n",
            "configs/defconfigs.toml:3:",
        ),
        (
            "[options.runtime]\ndocker = 3\n",
            "configs/defconfigs.toml:2:",
        ),
        ("defconfigs = 1\n", "configs/defconfigs.toml:1:"),
    ];
    let d = scratch("data");
    for (text, want) in cases {
        std::fs::write(d.join(defconfig::DATA), text).unwrap();
        let err = format!("{:#}", defconfig::read_data(&d).unwrap_err());
        assert!(err.starts_with(want), "{text:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn option_choices_are_checked() {
    let d = scratch("options");
    let text = "[options.runtime]\ndocker = \"rd\"\n\n[defconfigs.a_defconfig]\n\
                fragments = []\n";
    std::fs::write(d.join(defconfig::DATA), text).unwrap();
    let data = defconfig::read_data(&d).unwrap();
    let spec = &data.defconfigs["a_defconfig"];
    let err = defconfig::fragment_list(&data, "a_defconfig", spec).unwrap_err();
    assert!(
        err.to_string().contains("chooses no 'runtime' option"),
        "{err}"
    );
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn fragment_lines_that_are_not_assignments() {
    let d = scratch("frag");
    std::fs::write(
        d.join("configs/fragments/f.fragment"),
        "# a comment\nBR2_A=y\nBR2_B\n\nCONFIG_C=y\n# BR2_D is not set\n",
    )
    .unwrap();
    let mut out = Vec::new();
    let lines = defconfig::read_fragments(&d, &["f".to_string()], &mut out).unwrap();
    let got: Vec<String> = out
        .iter()
        .map(|f| format!("{}:{}", f.file, f.line))
        .collect();
    assert_eq!(
        got,
        [
            "configs/fragments/f.fragment:3",
            "configs/fragments/f.fragment:5"
        ]
    );
    let kept: Vec<usize> = lines.iter().map(|l| l.line).collect();
    assert_eq!(kept, [2, 6]);
    assert!(defconfig::read_fragments(&d, &["missing".to_string()], &mut out).is_err());
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn malformed_indexes_are_errors() {
    let d = scratch("index");
    let cases = [
        "{",
        "{\"about\": 1}",
        "{\"about\":\"\",\"buildroot\":\"x\",\"host\":{\"arch\":\"x\",\"gcc_version\":\"1\"},\
         \"symbols\":[{\"name\":\"A\",\"type\":\"bool\",\"depends\":\"(B\"}],\
         \"choices\":[],\"legacy\":[]}",
        "{\"about\":\"\",\"buildroot\":\"x\",\"host\":{\"arch\":\"x\",\"gcc_version\":\"1\"},\
         \"symbols\":[{\"name\":\"A\",\"type\":\"boolean\"}],\"choices\":[],\"legacy\":[]}",
        // A lone '&' (found by tools/fuzz: the tokenizer looped, allocating without end).
        "{\"about\":\"\",\"buildroot\":\"x\",\"host\":{\"arch\":\"x\",\"gcc_version\":\"1\"},\
         \"symbols\":[{\"name\":\"A\",\"type\":\"bool\",\"depends\":\"B & C\"}],\"choices\":[],\
         \"legacy\":[]}",
        "{\"about\":\"\",\"buildroot\":\"x\",\"host\":{\"arch\":\"x\",\"gcc_version\":\"1\"},\
         \"symbols\":[{\"name\":\"A\",\"type\":\"bool\",\"choice\":3}],\"choices\":[],\
         \"legacy\":[]}",
    ];
    for text in cases {
        let p = d.join("index.json");
        std::fs::write(&p, text).unwrap();
        let r = b4k_buildroot::index::read(&p)
            .and_then(|ix| b4k_buildroot::index::to_kconfig(&ix, &d, "DEMO"));
        assert!(r.is_err(), "{text}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

#[test]
fn defconfig_names_stay_in_configs() {
    let d = scratch("names");
    let cases = [
        ("[defconfigs.\"../../x_defconfig\"]\nfragments = []\n", "../../x_defconfig"),
        ("[defconfigs.x]\nfragments = []\n", "ending in _defconfig"),
        ("[defconfigs.a_defconfig]\nfragments = [\"../../etc/passwd\"]\n", "../../etc/passwd"),
        (
            "[options.r]\nd = \"/abs\"\n[defconfigs.a_defconfig]\nfragments = []\noptions = { r = \"d\" }\n",
            "\"/abs\" is not a name",
        ),
    ];
    for (text, want) in cases {
        std::fs::write(d.join(defconfig::DATA), text).unwrap();
        let err = format!("{:#}", defconfig::read_data(&d).unwrap_err());
        assert!(err.contains(want), "{text:?}: {err}");
    }
    let _ = std::fs::remove_dir_all(&d);
}

/// A defconfig with an error is not written over the committed one (nor is any
/// other: the set is written only when the whole run is clean).
#[test]
fn broken_result_does_not_overwrite_a_committed_defconfig() {
    use b4k_buildroot::generate::{run, Mode, Options};
    use b4k_buildroot::ModelSource;
    let d = scratch("overwrite");
    let data = std::path::Path::new(env!("CARGO_MANIFEST_DIR")).join("tests/data");
    std::fs::copy(data.join("minibr-ext/Config.in"), d.join("Config.in")).unwrap();
    std::fs::write(
        d.join(defconfig::DATA),
        "[defconfigs.a_defconfig]\nfragments = [\"f\"]\n",
    )
    .unwrap();
    std::fs::write(
        d.join("configs/fragments/f.fragment"),
        "BR2_PACKAGE_KUBE=y\nBR2_NO_SUCH_SYMBOL=y\n",
    )
    .unwrap();
    std::fs::write(d.join("configs/a_defconfig"), "COMMITTED\n").unwrap();
    let opts = Options {
        model: ModelSource {
            tree: d.clone(),
            buildroot: Some(data.join("minibr")),
            index: None,
            host_arch: Some("x86_64".into()),
            host_gcc_version: Some("12".into()),
        },
        mode: Mode::Write,
    };
    let out = run(&opts).unwrap();
    assert!(out.report.errors() > 0);
    assert!(
        out.report.notes[0].contains("nothing written"),
        "{:?}",
        out.report.notes
    );
    let kept = std::fs::read_to_string(d.join("configs/a_defconfig")).unwrap();
    assert_eq!(kept, "COMMITTED\n");
    let _ = std::fs::remove_dir_all(&d);
}

/// Long select chains are real (Buildroot's BR2_TOOLCHAIN_HAS_THREADS has 5,049
/// operators, 657 of them `||` at the top) and load; chains past
/// MAX_COMBINED_DEPTH (an `&&` chain of 150,000) and parentheses nested past the
/// bound are errors.
#[test]
fn index_chains_load_and_deep_nesting_is_an_error() {
    let d = scratch("index-depth");
    let sym = |depends: &str| {
        format!(
            "{{\"about\":\"\",\"buildroot\":\"x\",\"host\":{{\"arch\":\"x\",\"gcc_version\":\"1\"}},\
             \"symbols\":[{{\"name\":\"A\",\"type\":\"bool\",\"depends\":\"{depends}\"}}],\
             \"choices\":[],\"legacy\":[]}}"
        )
    };
    let chain: Vec<String> = (0..4000).map(|i| format!("S{i}")).collect();
    let p = d.join("index.json");
    std::fs::write(&p, sym(&chain.join(" || "))).unwrap();
    let ix = b4k_buildroot::index::read(&p).unwrap();
    assert!(b4k_buildroot::index::to_kconfig(&ix, &d, "DEMO").is_ok());
    let chain: Vec<String> = (0..150_000).map(|i| format!("S{i}")).collect();
    std::fs::write(&p, sym(&chain.join(" && "))).unwrap();
    let ix = b4k_buildroot::index::read(&p).unwrap();
    let e = format!(
        "{:#}",
        b4k_buildroot::index::to_kconfig(&ix, &d, "DEMO").unwrap_err()
    );
    assert!(e.contains("chained more than 5000 deep"), "{e}");
    std::fs::write(
        &p,
        sym(&format!("{}B{}", "(".repeat(5000), ")".repeat(5000))),
    )
    .unwrap();
    let ix = b4k_buildroot::index::read(&p).unwrap();
    let e = format!(
        "{:#}",
        b4k_buildroot::index::to_kconfig(&ix, &d, "DEMO").unwrap_err()
    );
    assert!(e.contains("nested more than 100 deep"), "{e}");
    let _ = std::fs::remove_dir_all(&d);
}
