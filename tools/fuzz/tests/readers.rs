//! The fuzz targets: the Kconfig lexer, parser and evaluator; `.config` and
//! fragment readers; the requirements TOML, defconfigs.toml, a board's image.toml
//! and the index. Each runs for B4K_FUZZ_SECS (default 2 s).

use b4k_fuzz::{run, Scratch};
use b4k_kconfig::eval::Eval;
use b4k_kconfig::parse::Parser;
use b4k_kconfig::preprocess::Macros;
use std::collections::HashMap;
use std::path::{Path, PathBuf};

fn tree() -> PathBuf {
    Path::new(env!("CARGO_MANIFEST_DIR")).join("../..")
}

fn file(rel: &str) -> Vec<u8> {
    std::fs::read(tree().join(rel)).unwrap_or_default()
}

const KCONFIG_SEED: &str = r#"mainmenu "m"
x := y
f = $(1)-$(2)
config MODULES
	bool "modules"
	modules
config A
	bool "a"
	default y if B || !C
	select D if A && (B || C)
	imply E
	help
	  text
menu "m"
	visible if A
	depends on A
config B
	tristate "b"
	depends on A && (C = "x" || D != y) && $(x)
endmenu
if A
choice
	prompt "c"
	default P1
config P1
	bool "p1"
config P2
	bool "p2"
endchoice
endif
config C
	string "c"
	default "$(f,a,b)"
config D
	int "d"
	range 1 10
	default 20
config E
	hex "e"
	default 0x10
"#;

const KCONFIG_TOKENS: &[&str] = &[
    "(",
    ")",
    "!",
    "&&",
    "||",
    "=",
    "!=",
    "<",
    "\"",
    "'",
    "\\\n",
    "\n",
    "\t",
    "$(",
    "$(x)",
    "$(f,a,b)",
    "if A\n",
    "endif\n",
    "menu \"m\"\n",
    "endmenu\n",
    "choice\n",
    "endchoice\n",
    "config X\n",
    "\tbool \"x\"\n",
    "\tdepends on ",
    "\tselect A\n",
    "\tdefault ",
    "help\n",
    "source \"Kconfig\"\n",
    "source \"sub\"\n",
    "#",
    "\u{1}0\u{2}",
    "\u{ff}",
];

/// Parses and evaluates a Kconfig tree (no `$(shell,...)`: the word is broken, so a
/// mutation cannot run a command).
fn kconfig(input: &[u8]) {
    let s = Scratch::new("kconfig");
    let text = String::from_utf8_lossy(input).replace("shell", "she11");
    std::fs::write(s.0.join("Kconfig"), &text).unwrap();
    std::fs::write(s.0.join("sub"), "config SUB\n\tbool \"sub\"\n").unwrap();
    let m = Macros::new(HashMap::new(), s.0.clone());
    if let Ok((k, _)) = Parser::new(&s.0, m).parse("Kconfig") {
        let mut ev = Eval::new(&k);
        ev.read(&[
            "CONFIG_A=y",
            "CONFIG_B=m",
            "CONFIG_P2=y",
            "CONFIG_D=5",
            "CONFIG_C=\"q\"",
        ]);
        ev.calc_all();
        let _ = ev.write_config();
        for s in 3..k.syms.len() {
            let _ = b4k_kconfig::explain::explain(&mut ev, s, b4k_kconfig::model::Tri::Y);
        }
    }
}

#[test]
fn kconfig_parser_and_evaluator() {
    let seeds = vec![
        KCONFIG_SEED.as_bytes().to_vec(),
        file("tools/buildroot/tests/data/minibr-ext/Config.in"),
    ];
    let n = run("kconfig", &seeds, KCONFIG_TOKENS, &kconfig);
    eprintln!("kconfig: {n} inputs");
}

#[test]
fn config_and_fragment_readers() {
    let s = Scratch::new("dotconfig");
    let seeds = vec![
        file("board/common/linux.fragment"),
        file("board/pc/linux.fragment"),
        file("configs/pc_defconfig"),
        file("configs/buildroot-index.json.gz"),
    ];
    let tokens = [
        "CONFIG_",
        "# CONFIG_X is not set",
        "=",
        "\"",
        "\n",
        "\r\n",
        "\u{1f}\u{8b}",
    ];
    let n = run("dotconfig", &seeds, &tokens, &|input| {
        let p = s.0.join("config");
        std::fs::write(&p, input).unwrap();
        let _ = b4k_kconfig::dotconfig::read(&p);
        let _ = b4k_kconfig::kernel::read_lines(&p, true);
        for l in String::from_utf8_lossy(input).lines() {
            let _ = b4k_kconfig::eval::split_line(l);
            let _ = b4k_kconfig::eval::split_line_prefixed(l, "");
        }
    });
    eprintln!("dotconfig: {n} inputs");
}

const TOML_TOKENS: &[&str] = &[
    "[[group]]\n",
    "[",
    "]",
    "{",
    "}",
    "\"",
    "'''",
    "=",
    ",",
    "\n",
    "#",
    "options = [",
    "\"A=y\",",
    "[defconfigs.a_defconfig]\n",
    "[[input]]\n",
    "file = \"x\"\n",
    "1e999",
    "\\u0000",
    "\u{ff}",
];

#[test]
fn requirements_toml() {
    let s = Scratch::new("requirements");
    let seeds = vec![file("board/common/kernel-requirements.toml")];
    let n = run("requirements", &seeds, TOML_TOKENS, &|input| {
        let p = s.0.join("r.toml");
        std::fs::write(&p, input).unwrap();
        let _ = b4k_requirements::load(&p);
    });
    eprintln!("requirements: {n} inputs");
}

#[test]
fn defconfigs_toml_and_fragments() {
    let s = Scratch::new("defconfigs");
    std::fs::create_dir_all(s.0.join("configs/fragments")).unwrap();
    for f in ["common", "pc", "runtime-docker", "kubernetes-prebuilt"] {
        let text = file(&format!("configs/fragments/{f}.fragment"));
        std::fs::write(s.0.join(format!("configs/fragments/{f}.fragment")), text).unwrap();
    }
    let seeds = vec![file("configs/defconfigs.toml")];
    let n = run("defconfigs", &seeds, TOML_TOKENS, &|input| {
        std::fs::write(s.0.join("configs/defconfigs.toml"), input).unwrap();
        if let Ok(data) = b4k_buildroot::defconfig::read_data(&s.0) {
            for (name, spec) in &data.defconfigs {
                if let Ok(frags) = b4k_buildroot::defconfig::fragment_list(&data, name, spec) {
                    let mut out = Vec::new();
                    let _ = b4k_buildroot::defconfig::read_fragments(&s.0, &frags, &mut out);
                }
            }
        }
    });
    eprintln!("defconfigs: {n} inputs");
}

#[test]
fn image_toml() {
    let s = Scratch::new("image");
    let seeds = vec![
        file("board/pc/image.toml"),
        file("board/raspberrypi3-64/image.toml"),
    ];
    let n = run("image", &seeds, TOML_TOKENS, &|input| {
        let p = s.0.join("image.toml");
        std::fs::write(&p, input).unwrap();
        let _ = b4k_image::spec::load(&p);
    });
    eprintln!("image: {n} inputs");
}

#[test]
fn buildroot_index() {
    let s = Scratch::new("index");
    let json = b4k_buildroot::index::read_text(&tree().join("configs/buildroot-index.json.gz"))
        .unwrap_or_default()
        .into_bytes();
    // The whole index is 750 KB: seed with its head and a small hand-made one.
    let small = br#"{"about":"","buildroot":"x","host":{"arch":"x","gcc_version":"1"},"symbols":[{"name":"A","type":"bool","prompts":[""],"depends":"B && (C || !D)","selected":"E && F"},{"name":"B","type":"string","defaults":[["\"x\"","A"]],"ranges":[]},{"name":"C","type":"int","ranges":[["1","10","A"]]}],"choices":[{"prompt":"p","prompts":[""],"defaults":[["A",""]],"members":["A"]}],"legacy":["L"]}"#.to_vec();
    let seeds = vec![small, json];
    let tokens = [
        "(", ")", "!", "&&", "||", "\"", "\\\"", "{", "}", "[", "]", ",", ":", "null", "1",
    ];
    let n = run("index", &seeds, &tokens, &|input| {
        let p = s.0.join("index.json");
        std::fs::write(&p, input).unwrap();
        if let Ok(ix) = b4k_buildroot::index::read(&p) {
            if let Ok(k) = b4k_buildroot::index::to_kconfig(&ix, &s.0, "DEMO") {
                let mut ev = Eval::new(&k);
                ev.prefix = String::new();
                ev.calc_all();
                let _ = b4k_buildroot::savedefconfig::savedefconfig(&mut ev);
            }
        }
    });
    eprintln!("index: {n} inputs");
}

/// Replays one saved input of the index target: `B4K_FUZZ_INPUT=path cargo test
/// -p b4k-fuzz -- --ignored replay_index --nocapture`.
#[test]
#[ignore]
fn replay_index() {
    let Ok(p) = std::env::var("B4K_FUZZ_INPUT") else {
        return;
    };
    let p = PathBuf::from(p);
    let ix = b4k_buildroot::index::read(&p);
    eprintln!("read: {}", ix.is_ok());
    let Ok(ix) = ix else { return };
    let k = b4k_buildroot::index::to_kconfig(&ix, p.parent().unwrap(), "DEMO");
    eprintln!("to_kconfig: {}", k.is_ok());
    let Ok(k) = k else { return };
    let mut ev = Eval::new(&k);
    ev.prefix = String::new();
    ev.calc_all();
    eprintln!("calc_all done");
    let _ = b4k_buildroot::savedefconfig::savedefconfig(&mut ev);
    eprintln!("savedefconfig done");
}
