//! Malformed input gives an error naming the file and line, never a panic; and a
//! small synthetic tree whose expected values are worked out by hand from the
//! Kconfig language rules (Documentation/kbuild/kconfig-language.rst).

use b4k_kconfig::eval::Eval;
use b4k_kconfig::kernel;
use std::path::PathBuf;

/// A throw-away kernel-like tree: `files` are (relative path, content).
fn tree(name: &str, files: &[(&str, &str)]) -> PathBuf {
    let dir = std::env::temp_dir().join(format!("b4k-kconfig-test-{}-{name}", std::process::id()));
    let _ = std::fs::remove_dir_all(&dir);
    for (p, text) in files {
        let path = dir.join(p);
        std::fs::create_dir_all(path.parent().unwrap()).unwrap();
        std::fs::write(path, text).unwrap();
    }
    dir
}

fn load_err(name: &str, files: &[(&str, &str)]) -> String {
    let dir = tree(name, files);
    let res = kernel::load(&dir, "x86_64", "");
    let _ = std::fs::remove_dir_all(&dir);
    match res {
        Ok(_) => panic!("{name}: parsed without error"),
        Err(e) => format!("{e:#}"),
    }
}

#[test]
fn malformed_kconfig_is_an_error_with_file_and_line() {
    type Case<'a> = (&'a str, &'a [(&'a str, &'a str)], &'a str);
    let cases: &[Case] = &[
        (
            "truncated-menu",
            &[(
                "Kconfig",
                "config A\n\tbool \"a\"\nmenu \"m\"\nconfig B\n\tbool",
            )],
            "Kconfig:3: unterminated menu",
        ),
        (
            "truncated-if",
            &[("Kconfig", "config A\n\tbool \"a\"\nif A\nconfig B\n")],
            "Kconfig:3: unterminated if",
        ),
        (
            "truncated-expr",
            &[("Kconfig", "config A\n\tbool \"a\"\n\tdepends on (B")],
            "Kconfig:3: syntax error",
        ),
        (
            "missing-source",
            &[("Kconfig", "config A\n\tbool\nsource \"net/Kconfig\"\n")],
            "Kconfig:3: can't open file \"net/Kconfig\"",
        ),
        (
            "missing-source-nested",
            &[
                ("Kconfig", "source \"a/Kconfig\"\n"),
                ("a/Kconfig", "\nsource \"a/$(SRCARCH)/Kconfig\"\n"),
            ],
            "a/Kconfig:2: can't open file \"a/x86/Kconfig\"",
        ),
        (
            "unterminated-macro",
            &[("Kconfig", "config A\n\tdef_bool $(shell,true\n")],
            "Kconfig:2: unterminated reference",
        ),
        (
            "error-if",
            &[(
                "Kconfig",
                "x := $(shell,echo y)\n$(error-if,$(x),stop here)\n",
            )],
            "Kconfig:2: stop here",
        ),
        (
            "stray-endmenu",
            &[("Kconfig", "config A\n\tbool\nendmenu\n")],
            "Kconfig:3: unexpected 'endmenu'",
        ),
        (
            "attribute-outside-entry",
            &[("Kconfig", "\tdepends on A\n")],
            "Kconfig:1: 'depends' outside",
        ),
        ("not-a-tree", &[("README", "")], "not a kernel source tree"),
    ];
    for (name, files, want) in cases {
        let got = load_err(name, files);
        assert!(got.contains(want), "{name}: got {got:?}, want {want:?}");
    }
}

const SEMANTICS: &str = r#"
mainmenu "test $(ARCH)"
yes := $(shell,echo y)
config MODULES
	bool "modules"
	modules
	default y
config A
	bool "a"
config B
	tristate "b"
	depends on A
config C
	tristate
	default m if B
config D
	bool "d"
	select E
config E
	bool
	depends on A
config F
	bool "f"
	default $(yes)
	imply G
config G
	tristate "g"
menu "hidden"
	visible if A
config H
	bool "h"
	default y
endmenu
choice
	prompt "pick"
	default P2
config P1
	bool "p1"
config P2
	bool "p2"
config P3
	bool "p3"
	depends on A
endchoice
config S
	string "s"
	default "x$(yes)"
config I
	int "i"
	range 1 10
	default 20
if A
config J
	bool "j"
	default y
endif
"#;

fn values(name: &str, lines: &[&str]) -> Vec<(String, Option<String>)> {
    let dir = tree(name, &[("Kconfig", SEMANTICS)]);
    let t = kernel::load(&dir, "x86_64", "").unwrap();
    let _ = std::fs::remove_dir_all(&dir);
    let mut ev = Eval::new(&t.kconfig);
    ev.read(lines);
    [
        "A", "B", "C", "D", "E", "F", "G", "H", "P1", "P2", "P3", "S", "I", "J",
    ]
    .iter()
    .map(|n| {
        let s = t.kconfig.find(n).unwrap();
        (n.to_string(), ev.config_value(s))
    })
    .collect()
}

fn v(pairs: &[(&str, Option<&str>)]) -> Vec<(String, Option<String>)> {
    pairs
        .iter()
        .map(|(n, v)| (n.to_string(), v.map(str::to_string)))
        .collect()
}

#[test]
fn semantics_worked_out_by_hand() {
    // Nothing set: A=n hides B, J (if A), P3; `visible if` hides only H's prompt,
    // its default y still applies; C has no prompt and B=n so it is not written;
    // E not selected; F defaults to $(yes)=y and implies G=y; the choice takes its
    // default P2; I's default 20 is clamped to the range's upper bound 10.
    assert_eq!(
        values("none", &[]),
        v(&[
            ("A", Some("n")),
            ("B", None),
            ("C", None),
            ("D", Some("n")),
            ("E", None),
            ("F", Some("y")),
            ("G", Some("y")),
            ("H", Some("y")),
            ("P1", Some("n")),
            ("P2", Some("y")),
            ("P3", None),
            ("S", Some("\"xy\"")),
            ("I", Some("10")),
            ("J", None),
        ])
    );
    // A=y, B=m: C defaults to m; D=y selects E (deps met); G=n is a user value that
    // imply cannot override; P3 (now visible) chosen by the user; H shown (y).
    assert_eq!(
        values(
            "set",
            &[
                "CONFIG_A=y",
                "CONFIG_B=m",
                "CONFIG_D=y",
                "# CONFIG_G is not set",
                "CONFIG_P3=y",
                "CONFIG_S=\"q\"",
                "CONFIG_I=5",
            ]
        ),
        v(&[
            ("A", Some("y")),
            ("B", Some("m")),
            ("C", Some("m")),
            ("D", Some("y")),
            ("E", Some("y")),
            ("F", Some("y")),
            ("G", Some("n")),
            ("H", Some("y")),
            ("P1", Some("n")),
            ("P2", Some("n")),
            ("P3", Some("y")),
            ("S", Some("\"q\"")),
            ("I", Some("5")),
            ("J", Some("y")),
        ])
    );
    // D=y with A=n: select forces E=y despite its unmet dependency (kconfig warns).
    let got = values("force", &["CONFIG_D=y", "CONFIG_B=y", "CONFIG_P3=y"]);
    assert_eq!(got[4], ("E".to_string(), Some("y".to_string())));
    // B needs A: dropped; P3 invisible so the default P2 wins.
    assert_eq!(got[1], ("B".to_string(), None));
    assert_eq!(got[9], ("P2".to_string(), Some("y".to_string())));
}

/// Inputs that used to overflow the stack, take quadratic time and memory, or
/// never end: each is now a bounded error naming the file and line.
#[test]
fn oversized_input_is_a_bounded_error() {
    let deep = format!(
        "config A\n\tbool \"a\"\n\tdepends on {}B{}\n",
        "(".repeat(30_000),
        ")".repeat(30_000)
    );
    let chain = format!(
        "config A\n\tbool \"a\"\n\tdepends on {}\n",
        (0..60_000)
            .map(|i| format!("S{i}"))
            .collect::<Vec<_>>()
            .join(" && ")
    );
    let mut ifs = String::from("config A\n\tbool \"a\"\n");
    for i in 0..4000 {
        ifs.push_str(&format!("if A\nconfig X{i}\n\tbool \"x\"\n"));
    }
    ifs.push_str(&"endif\n".repeat(4000));
    let mut sources = vec![("Kconfig".to_string(), "source \"k0\"\n".to_string())];
    for i in 0..100 {
        sources.push((format!("k{i}"), format!("source \"k{}\"\n", i + 1)));
    }
    let sources: Vec<(&str, &str)> = sources
        .iter()
        .map(|(a, b)| (a.as_str(), b.as_str()))
        .collect();
    type Case<'a> = (&'a str, Vec<(&'a str, &'a str)>, &'a str);
    let cases: Vec<Case> = vec![
        (
            "deep-parens",
            vec![("Kconfig", deep.as_str())],
            "Kconfig:3: expression too large",
        ),
        (
            "long-chain",
            vec![("Kconfig", chain.as_str())],
            "Kconfig:3: expression too large",
        ),
        (
            "nested-ifs",
            vec![("Kconfig", ifs.as_str())],
            "more than 100 if/menu/choice blocks nested",
        ),
        (
            "source-dev-zero",
            vec![("Kconfig", "source \"/dev/zero\"\n")],
            "not a regular file",
        ),
        ("source-chain", sources, "more than 64 files sourced"),
    ];
    for (name, files, want) in cases {
        let start = std::time::Instant::now();
        let got = load_err(name, &files);
        assert!(got.contains(want), "{name}: got {got:?}, want {want:?}");
        assert!(
            start.elapsed().as_secs() < 20,
            "{name}: {:?}",
            start.elapsed()
        );
    }
}

#[test]
fn config_files_are_bounded() {
    let e = format!(
        "{:#}",
        b4k_kconfig::dotconfig::read(std::path::Path::new("/dev/zero")).unwrap_err()
    );
    assert!(e.contains("/dev/zero: not a regular file"), "{e}");
    let e = format!(
        "{:#}",
        kernel::read_lines(std::path::Path::new("/dev/zero"), true).unwrap_err()
    );
    assert!(e.contains("not a regular file"), "{e}");
}
