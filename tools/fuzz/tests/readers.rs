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

/// The preprocessor alone: assignments and references, nested and doubled (no
/// `$(shell,...)`: the word is broken). Each input returns, within the bounds.
#[test]
fn preprocessor() {
    let s = Scratch::new("preprocess");
    let seed =
        b"x := ab\ny = $(x)$(x)\nf = $(1)-$(2)\nz := $(f,$(y),$(x))\nw += $(z)\n$(info,$(w))\n";
    let tokens = [
        "$(",
        ")",
        ",",
        "$(x)",
        "$(y)",
        "$(f,a,b)",
        "x := $(x)$(x)\n",
        "y = $(y)\n",
        "v = $(w)$(w)\n",
        "w = $(v)\n",
        "\n",
        " := ",
        " = ",
        " += ",
        "$(1)",
        "$(warning-if,y,m)",
    ];
    let n = run("preprocess", &[seed.to_vec()], &tokens, &|input| {
        let text = String::from_utf8_lossy(input).replace("shell", "she11");
        let mut m = Macros::new(HashMap::new(), s.0.clone());
        for l in text.lines() {
            let r = match l.split_once(" := ").map(|(a, b)| (a, ":=", b)).or_else(|| {
                l.split_once(" += ")
                    .map(|(a, b)| (a, "+=", b))
                    .or_else(|| l.split_once(" = ").map(|(a, b)| (a, "=", b)))
            }) {
                Some((name, op, value)) => m.assign(name.trim(), op, value),
                None => m.expand(l).map(|_| ()),
            };
            if r.is_err() {
                break;
            }
        }
    });
    eprintln!("preprocess: {n} inputs");
}

/// The linear `merge_config.sh -m` against the quadratic rule it replaced: the
/// same lines kept, in the same order.
#[test]
fn fragment_merge_matches_sed() {
    use b4k_kconfig::kernel::{merge, Line};
    let seed = b"CONFIG_A=y\n# CONFIG_B is not set\nCONFIG_AB=y\nx CONFIG_XCONFIG_C=1\n---\nCONFIG_B=y\nCONFIG_A=n\njunk\nCONFIG_C=y\n".to_vec();
    let tokens = [
        "CONFIG_",
        "A",
        "B",
        "C",
        "=",
        " ",
        "y",
        "\n",
        "# ",
        " is not set",
        "---\n",
        "_",
    ];
    let lines = |t: &str, fragment: bool| -> Vec<Line> {
        t.lines()
            .map(|l| Line {
                text: l.to_string(),
                origin: None,
                fragment,
            })
            .collect()
    };
    let n = run("merge", &[seed], &tokens, &|input| {
        let text = String::from_utf8_lossy(input);
        let (base, frag) = text.split_once("---\n").unwrap_or((&text, ""));
        let (base, frag) = (lines(base, false), lines(frag, true));
        let got: Vec<String> = merge(base.clone(), std::slice::from_ref(&frag))
            .into_iter()
            .map(|l| l.text)
            .collect();
        // The rule as merge_config.sh's sed applies it: /CONFIG_X[ =]/ anywhere.
        let mut names = Vec::new();
        for l in &frag {
            if let Some(Ok((n, _))) = b4k_kconfig::eval::split_line(&l.text) {
                let valid = n.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_');
                let sed_like =
                    l.text.starts_with("CONFIG_") || l.text == format!("# CONFIG_{n} is not set");
                if valid && sed_like {
                    names.push(format!("CONFIG_{n}"));
                }
            }
        }
        let mut want: Vec<String> = base
            .iter()
            .filter(|l| {
                !names
                    .iter()
                    .any(|n| l.text.contains(&format!("{n}=")) || l.text.contains(&format!("{n} ")))
            })
            .map(|l| l.text.clone())
            .collect();
        want.extend(frag.iter().map(|l| l.text.clone()));
        assert_eq!(got, want, "{text:?}");
    });
    eprintln!("merge: {n} inputs");
}

/// A GPT or MBR disk image's partition table: any bytes, no panic, no wrap.
#[test]
fn partition_tables() {
    let s = Scratch::new("disk");
    let mut gpt = vec![0u8; 512 * 8];
    gpt[0x1be + 4] = 0xee;
    gpt[510] = 0x55;
    gpt[511] = 0xaa;
    gpt[512..520].copy_from_slice(b"EFI PART");
    gpt[512 + 72..512 + 80].copy_from_slice(&2u64.to_le_bytes());
    gpt[512 + 80..512 + 84].copy_from_slice(&4u32.to_le_bytes());
    gpt[512 + 84..512 + 88].copy_from_slice(&128u32.to_le_bytes());
    gpt[1024] = 1;
    gpt[1024 + 32] = 34;
    gpt[1024 + 40] = 40;
    let mut mbr = vec![0u8; 512];
    mbr[0x1be + 4] = 0x83;
    mbr[0x1be + 8] = 1;
    mbr[0x1be + 12] = 0xff;
    mbr[510] = 0x55;
    mbr[511] = 0xaa;
    let tokens = [
        "\u{ff}\u{ff}\u{ff}\u{ff}",
        "EFI PART",
        "\u{0}",
        "\u{ee}",
        "U\u{aa}",
    ];
    let n = run("disk", &[gpt, mbr], &tokens, &|input| {
        let p = s.0.join("d.img");
        std::fs::write(&p, input).unwrap();
        if let Ok(t) = b4k_image::disk::read_table(&p) {
            for part in t.partitions {
                assert!(part.offset.checked_add(part.size).is_some(), "{part:?}");
            }
        }
    });
    eprintln!("disk: {n} inputs");
}

/// Paths from data: whatever `under` accepts stays under its root.
#[test]
fn data_paths() {
    let s = Scratch::new("paths");
    std::fs::create_dir_all(s.0.join("d")).unwrap();
    let _ = std::os::unix::fs::symlink("/", s.0.join("d/up"));
    let tokens = [
        "..",
        "/",
        ".",
        "d",
        "up",
        "rootfs.ext4",
        "\n",
        "\u{0}",
        "//",
        "a",
    ];
    let n = run("paths", &[b"d/file".to_vec()], &tokens, &|input| {
        let rel = String::from_utf8_lossy(input);
        if let Ok(p) = b4k_input::under(&s.0, &rel, "fuzz") {
            assert!(p.starts_with(&s.0), "{rel:?} -> {}", p.display());
            assert!(
                !p.components().any(|c| c == std::path::Component::ParentDir),
                "{rel:?}"
            );
            assert!(!p.starts_with(s.0.join("d/up")), "{rel:?}");
        }
    });
    eprintln!("paths: {n} inputs");
}

/// `external.desc`: any bytes give a checked name or an error.
#[test]
fn external_desc() {
    let s = Scratch::new("desc");
    let tokens = [
        "name:",
        " ",
        "KUBERNETES",
        "\n",
        ".*(",
        "\u{ff}",
        "desc: x\n",
        "_",
    ];
    let n = run("desc", &[file("external.desc")], &tokens, &|input| {
        std::fs::write(s.0.join("external.desc"), input).unwrap();
        if let Ok(name) = b4k_buildroot::external_name(&s.0) {
            assert!(
                !name.is_empty() && name.len() <= b4k_buildroot::MAX_NAME,
                "{name:?}"
            );
            assert!(
                name.bytes().all(|c| c.is_ascii_alphanumeric() || c == b'_'),
                "{name:?}"
            );
        }
    });
    eprintln!("desc: {n} inputs");
}

/// A board's templates: bounded in steps, output and memory whatever they say.
#[test]
fn templates() {
    let s = Scratch::new("template");
    let seeds = vec![
        file("board/pc/grub.cfg.j2"),
        file("board/raspberrypi3-64/genimage.cfg.j2"),
    ];
    let tokens = [
        "{% for i in range(100000) %}",
        "{% endfor %}",
        "{{ ",
        " }}",
        "'x' * 100000",
        " ~ ",
        "{% set x = x ~ x %}",
        "{% set x = 'ab' %}",
        "{% if x %}",
        "{% endif %}",
        "{#",
        "#}",
    ];
    let mut vars = b4k_image::board::Vars::new();
    vars.insert("x".into(), "ab".into());
    let n = run("template", &seeds, &tokens, &|input| {
        let p = s.0.join("t.j2");
        std::fs::write(&p, input).unwrap();
        let _ = b4k_image::render(&p, &vars);
    });
    eprintln!("template: {n} inputs");
}
