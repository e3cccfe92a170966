//! `b4k-dev` played by an attacker or a careless fork (issue 24): each class of bad
//! input made at scale (depth 10^5, doubling sizes, FIFOs and `/dev/zero` where
//! files are read or written, children that print without end or sleep, paths
//! through links, bytes that are not text, nonsense that used to pass). Every run
//! is the real binary under `ulimit -v` and `timeout`, and must end with exit
//! status 1 or 2 (never a signal, never the timeout), a message naming the input,
//! and nothing written where it should not be.

use std::fs;
use std::os::unix::fs::symlink;
use std::path::{Path, PathBuf};
use std::process::Command;
use std::time::{Duration, Instant};

/// Virtual memory allowed to a run (the binary reserves a 256 MiB stack).
const ULIMIT_V_KIB: u64 = 2 << 20;
/// Seconds before `timeout` kills a run (a hang fails the test, bounded; generous
/// because the build machine is shared).
const TIMEOUT_SECS: u64 = 300;

struct Run {
    code: i32,
    out: String,
    took: Duration,
}

fn b4k_dev(args: &[&str], env: &[(&[u8], &[u8])]) -> Run {
    use std::os::unix::ffi::OsStrExt;
    let mut c = Command::new("/bin/sh");
    c.arg("-c")
        .arg(format!(
            "ulimit -v {ULIMIT_V_KIB}; exec timeout -s KILL {TIMEOUT_SECS} \"$@\""
        ))
        .arg("sh")
        .arg(env!("CARGO_BIN_EXE_b4k-dev"))
        .args(args)
        .env("B4K_CHILD_TIMEOUT", "2")
        // The model is the one each test names, never the caller's checkout.
        .env_remove("BUILDROOT_DIR");
    for (k, v) in env {
        c.env(
            std::ffi::OsStr::from_bytes(k),
            std::ffi::OsStr::from_bytes(v),
        );
    }
    let t = Instant::now();
    let o = c.output().unwrap();
    let took = t.elapsed();
    let out = format!(
        "{}{}",
        String::from_utf8_lossy(&o.stdout),
        String::from_utf8_lossy(&o.stderr)
    );
    // A signal (stack overflow, memory abort) or the timeout's KILL has no code.
    let code = o
        .status
        .code()
        .unwrap_or_else(|| panic!("killed by a signal: {args:?}\n{out}"));
    Run { code, out, took }
}

/// The run failed cleanly: 1 or 2, naming `want`, within the time bound.
fn refused(r: &Run, want: &str, what: &str) {
    assert!(
        matches!(r.code, 1 | 2),
        "{what}: exit {} (expected 1 or 2)\n{}",
        r.code,
        r.out
    );
    assert!(r.out.contains(want), "{what}: no '{want}' in:\n{}", r.out);
    assert!(!r.out.contains("panicked"), "{what}: {}", r.out);
    assert!(
        r.took < Duration::from_secs(TIMEOUT_SECS - 5),
        "{what}: {:?}",
        r.took
    );
}

/// Every path below `dir` (links as links, special files by kind) with sizes.
fn snapshot(dir: &Path) -> Vec<String> {
    let mut out = Vec::new();
    let mut stack = vec![dir.to_path_buf()];
    while let Some(d) = stack.pop() {
        for e in fs::read_dir(&d).unwrap() {
            let e = e.unwrap();
            let p = e.path();
            let ty = e.file_type().unwrap();
            let rel = p.strip_prefix(dir).unwrap().to_string_lossy().into_owned();
            if ty.is_symlink() {
                out.push(format!("{rel} -> {}", fs::read_link(&p).unwrap().display()));
            } else if ty.is_dir() {
                stack.push(p);
            } else if ty.is_file() {
                out.push(format!("{rel} {:?}", fs::read(&p).unwrap()));
            } else {
                out.push(format!("{rel} special"));
            }
        }
    }
    out.sort();
    out
}

fn mkfifo(p: &Path) {
    assert!(Command::new("mkfifo").arg(p).status().unwrap().success());
}

/// A kernel "tree": a Kconfig file (and a Makefile) in a fresh directory.
fn kernel(dir: &Path, kconfig: &str) -> PathBuf {
    let k = dir.join("k");
    fs::create_dir_all(&k).unwrap();
    fs::write(k.join("Kconfig"), kconfig).unwrap();
    fs::write(
        k.join("Makefile"),
        "VERSION = 6\nPATCHLEVEL = 12\nSUBLEVEL = 0\n",
    )
    .unwrap();
    k
}

fn lint(k: &Path, base: &Path, more: &[&str]) -> Run {
    let mut a = vec![
        "lint-kernel",
        "--kernel-src",
        k.to_str().unwrap(),
        "--cross-compile",
        "",
        "--base",
        base.to_str().unwrap(),
    ];
    a.extend_from_slice(more);
    b4k_dev(&a, &[])
}

const N: usize = 100_000;

/// Class 1: input depth never becomes stack depth.
#[test]
fn depth_of_input_is_bounded_with_a_located_error() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    fs::write(&base, "CONFIG_S0=y\n").unwrap();
    let mut chain = String::new();
    for i in 0..N {
        chain.push_str(&format!("config S{i}\n\tdef_bool S{}\n", i + 1));
    }
    chain.push_str(&format!("config S{N}\n\tdef_bool y\n"));
    let deps = format!(
        "config S0\n\tbool \"s\"\n{}",
        (0..N)
            .map(|i| format!("\tdepends on D{}\n", i % 7))
            .collect::<String>()
    );
    let visible = format!(
        "config S0\n\tbool\nmenu \"m\"\n{}endmenu\n",
        "\tvisible if S0\n".repeat(N)
    );
    let selects: String = (0..N)
        .map(|i| format!("config T{i}\n\tdef_bool y\n\tselect S0\n"))
        .collect::<String>()
        + "config S0\n\tbool\n";
    let parens = format!("x := {}y{}\n", "$(".repeat(N), ")".repeat(N));
    let exprs = format!(
        "config S0\n\tbool \"s\"\n\tdepends on {}A{}\n",
        "(".repeat(N),
        ")".repeat(N)
    );
    for (name, text, want) in [
        ("def_bool chain", chain, "shorten the chain"),
        ("depends on lines", deps, "'depends on' lines in one entry"),
        ("visible if lines", visible, "'visible if' lines"),
        ("selects", selects, "selects of it"),
        ("$( nesting", parens, "nested more than"),
        ("parentheses", exprs, "nested more than"),
    ] {
        let k = kernel(d.path(), &text);
        let r = lint(&k, &base, &[]);
        refused(&r, "Kconfig:", name);
        refused(&r, want, name);
    }
}

/// Class 2: input size never becomes unbounded time or memory.
#[test]
fn size_of_input_is_bounded() {
    let d = tempfile::tempdir().unwrap();
    let base = d.path().join("base");
    fs::write(&base, "CONFIG_A=y\n").unwrap();
    let doubling = format!("x := ab\n{}", "x := $(x)$(x)\n".repeat(40));
    let recursive = (0..40)
        .map(|i| format!("v{i} = $(v{})$(v{})\n", i + 1, i + 1))
        .collect::<String>()
        + "v40 = ab\ny := $(v0)\n";
    for (name, text) in [
        ("simple doubling", doubling),
        ("recursive doubling", recursive),
    ] {
        let k = kernel(d.path(), &text);
        refused(&lint(&k, &base, &[]), "exceeds 1048576 bytes", name);
    }
    // Files that each source the next twice: 2^30 parses without a bound.
    let k = kernel(d.path(), "source \"K0\"\n");
    for i in 0..30 {
        fs::write(
            k.join(format!("K{i}")),
            format!("source \"K{0}\"\nsource \"K{0}\"\n", i + 1),
        )
        .unwrap();
    }
    fs::write(k.join("K30"), "config A\n\tbool\n").unwrap();
    refused(
        &lint(&k, &base, &[]),
        "exceeds 20000 sourced files",
        "sourced twice",
    );
    // A choice of 20,000 invisible members and a 70,000-line fragment merged on a
    // 70,000-line base: they finish, in bounded time.
    let mut text = String::from("choice\n\tprompt \"c\"\n");
    for i in 0..20_000 {
        text.push_str(&format!(
            "config C{i}\n\tbool \"c{i}\"\n\tdepends on NEVER\n"
        ));
    }
    text.push_str("endchoice\nconfig NEVER\n\tbool\n");
    for i in 0..70_000 {
        text.push_str(&format!("config B{i}\n\tbool \"b\"\n"));
    }
    let k = kernel(d.path(), &text);
    let big: String = (0..70_000).map(|i| format!("CONFIG_B{i}=y\n")).collect();
    fs::write(&base, &big).unwrap();
    let frag = d.path().join("f.fragment");
    let f: String = (0..70_000)
        .map(|i| format!("# CONFIG_B{i} is not set\n"))
        .collect();
    fs::write(&frag, f).unwrap();
    let r = lint(&k, &base, &[frag.to_str().unwrap(), "--print-values"]);
    assert_eq!(r.code, 0, "{}", &r.out[..r.out.len().min(2000)]);
    assert!(r.took < Duration::from_secs(240), "{:?}", r.took);
}

/// Class 3: FIFOs and links to /dev/zero where files are read or written,
/// children that print without end or sleep.
#[test]
fn special_files_and_endless_children_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let k = kernel(d.path(), "config A\n\tbool \"a\"\n");
    let base = d.path().join("base");
    fs::write(&base, "CONFIG_A=y\n").unwrap();
    let fifo = d.path().join("fifo");
    mkfifo(&fifo);
    let zero = d.path().join("zero");
    symlink("/dev/zero", &zero).unwrap();
    for bad in [&fifo, &zero] {
        let s = bad.to_str().unwrap();
        refused(&lint(&k, bad, &[]), s, "--base");
        refused(&lint(&k, &base, &[s]), s, "a fragment");
        refused(
            &lint(&k, &base, &["--requirements", s]),
            s,
            "--requirements",
        );
        refused(
            &lint(&k, &base, &["--write-config", s]),
            s,
            "--write-config",
        );
    }
    for (what, file) in [
        ("Kconfig", "Kconfig"),
        ("Makefile", "Makefile"),
        ("sourced", "K2"),
    ] {
        let k2 = kernel(&d.path().join(what), "source \"K2\"\n");
        let p = k2.join(file);
        let _ = fs::remove_file(&p);
        mkfifo(&p);
        if file != "K2" {
            fs::write(k2.join("K2"), "config A\n\tbool\n").unwrap();
        }
        refused(&lint(&k2, &base, &[]), "not a regular file", what);
    }
    // Buildroot's Makefile as a FIFO (the version is read from it).
    let br = d.path().join("br");
    fs::create_dir_all(&br).unwrap();
    fs::write(br.join("Config.in.legacy"), "").unwrap();
    mkfifo(&br.join("Makefile"));
    let r = b4k_dev(
        &[
            "defconfig",
            "--check",
            "--tree",
            concat!(env!("CARGO_MANIFEST_DIR"), "/../.."),
            "--buildroot",
            br.to_str().unwrap(),
            "--host-arch",
            "x86_64",
            "--host-gcc-version",
            "12",
        ],
        &[],
    );
    refused(
        &r,
        "br/Makefile: not a regular file",
        "Buildroot's Makefile",
    );
    for cmd in ["yes", "cat /dev/zero", "sleep 60"] {
        let k = kernel(
            d.path(),
            &format!("config A\n\tstring\n\tdefault \"$(shell,{cmd})\"\n"),
        );
        let r = lint(&k, &base, &[]);
        refused(&r, &format!("$(shell,{cmd})"), cmd);
        assert!(r.took < Duration::from_secs(120), "{cmd}: {:?}", r.took);
    }
}

/// Class 4: paths through links and values that reach a shell.
#[test]
fn paths_and_shell_values_are_not_trusted() {
    let d = tempfile::tempdir().unwrap();
    let k = kernel(d.path(), "config A\n\tbool \"a\"\n");
    let base = d.path().join("base");
    fs::write(&base, "CONFIG_A=y\n").unwrap();
    let outside = d.path().join("outside");
    fs::write(&outside, "keep").unwrap();
    let link = d.path().join("link");
    symlink(&outside, &link).unwrap();
    let r = lint(&k, &base, &["--write-config", link.to_str().unwrap()]);
    refused(&r, "a symbolic link", "--write-config through a link");
    assert_eq!(fs::read_to_string(&outside).unwrap(), "keep");
    let marker = d.path().join("ran");
    let evil = format!("x; touch {};", marker.display());
    let r = b4k_dev(
        &[
            "lint-kernel",
            "--kernel-src",
            k.to_str().unwrap(),
            "--base",
            base.to_str().unwrap(),
            "--cross-compile",
            &evil,
        ],
        &[],
    );
    refused(&r, "--cross-compile", "--cross-compile with shell syntax");
    assert!(!marker.exists(), "the shell ran --cross-compile");
}

/// Class 6: environment and encoding.
#[test]
fn environment_and_bytes_are_handled_or_refused() {
    let d = tempfile::tempdir().unwrap();
    let k = kernel(d.path(), "config A\n\tbool \"a\"\n");
    let base = d.path().join("base");
    fs::write(&base, "CONFIG_A=y\n").unwrap();
    // Unrelated non-UTF-8 variables: no panic, the lint runs.
    let r = b4k_dev(
        &[
            "lint-kernel",
            "--kernel-src",
            k.to_str().unwrap(),
            "--base",
            base.to_str().unwrap(),
        ],
        &[(b"B4K_JUNK", b"\xff\xfe"), (b"B4K_\xffNAME", b"x")],
    );
    assert_eq!(r.code, 0, "{}", r.out);
    // Referenced by the Kconfig file: an error naming the variable.
    let k = kernel(d.path(), "config A\n\tstring\n\tdefault \"$(B4K_JUNK)\"\n");
    let r = b4k_dev(
        &[
            "lint-kernel",
            "--kernel-src",
            k.to_str().unwrap(),
            "--base",
            base.to_str().unwrap(),
        ],
        &[(b"B4K_JUNK", b"\xff\xfe")],
    );
    refused(&r, "B4K_JUNK is not UTF-8", "referenced variable");
    let frag = d.path().join("f.fragment");
    for (bytes, want) in [
        (&b"CONFIG_A=y\n\xff\n"[..], "f.fragment:2: not UTF-8"),
        (&b"CONFIG_A=\x00y\n"[..], "f.fragment:1: a NUL byte"),
        (
            &b"CONFIG_A=y\rCONFIG_A=n\n"[..],
            "f.fragment:1: a carriage return",
        ),
        (&b"CONFIG_A=yes\n"[..], "f.fragment:1: error: CONFIG_A=yes"),
    ] {
        fs::write(&frag, bytes).unwrap();
        refused(
            &lint(
                &kernel(d.path(), "config A\n\tbool \"a\"\n"),
                &base,
                &[frag.to_str().unwrap()],
            ),
            want,
            want,
        );
    }
}

/// Class 7: nonsense that used to pass.
#[test]
fn nonsense_is_an_error_with_a_fix() {
    let d = tempfile::tempdir().unwrap();
    let k = kernel(d.path(), "config A\n\tbool \"a\"\n");
    let garbage = d.path().join("garbage");
    fs::write(&garbage, "this is not a .config\n").unwrap();
    refused(
        &lint(&k, &garbage, &[]),
        "no CONFIG_ line",
        "--base garbage",
    );
    let base = d.path().join("base");
    fs::write(&base, "CONFIG_A=y\n").unwrap();
    let req = d.path().join("req.toml");
    fs::write(&req, "group = []\n").unwrap();
    refused(
        &lint(&k, &base, &["--requirements", req.to_str().unwrap()]),
        "no [[group]]",
        "group = []",
    );
}

/// A copy of this repository's files (what `git ls-files` lists), not a git work
/// tree: `b4k-dev check` walks it.
fn tree_copy(dir: &Path) -> PathBuf {
    let src = Path::new(env!("CARGO_MANIFEST_DIR")).join("../..");
    let t = dir.join("tree");
    let o = Command::new("git")
        .arg("-C")
        .arg(&src)
        .args(["ls-files", "-z"])
        .output()
        .unwrap();
    for rel in o.stdout.split(|&b| b == 0).filter(|s| !s.is_empty()) {
        let rel = std::str::from_utf8(rel).unwrap();
        let from = src.join(rel);
        if !from.is_file() {
            continue;
        }
        let to = t.join(rel);
        fs::create_dir_all(to.parent().unwrap()).unwrap();
        fs::copy(&from, &to).unwrap();
    }
    t
}

fn check(t: &Path) -> Run {
    b4k_dev(&["check", "--tree", t.to_str().unwrap()], &[])
}

/// The external tree: special files, names, external.desc, a defconfig link.
#[test]
fn external_trees_under_attack() {
    let d = tempfile::tempdir().unwrap();
    let t = tree_copy(d.path());
    let clean = check(&t);
    assert_eq!(clean.code, 0, "{}", clean.out);
    // Special files where Buildroot reads: each a finding naming it.
    let fifo = t.join("board/pc/fifo");
    mkfifo(&fifo);
    fs::remove_file(t.join("package/cri-tools/cri-tools.mk")).unwrap();
    symlink("/dev/zero", t.join("package/cri-tools/cri-tools.mk")).unwrap();
    let r = check(&t);
    refused(
        &r,
        "board/pc/fifo: error: not a regular file",
        "FIFO in board/",
    );
    refused(
        &r,
        "package/cri-tools/cri-tools.mk: error: not a regular file",
        ".mk to /dev/zero",
    );
    fs::remove_file(&fifo).unwrap();
    fs::remove_file(t.join("package/cri-tools/cri-tools.mk")).unwrap();
    // File names Buildroot cannot use.
    use std::os::unix::ffi::OsStrExt;
    let bad = t.join(std::ffi::OsStr::from_bytes(b"board/pc/bad\xffname"));
    fs::write(&bad, "x").unwrap();
    fs::write(t.join("board/pc/new\nline"), "x").unwrap();
    let r = check(&t);
    refused(&r, "not UTF-8; rename it", "invalid UTF-8 name");
    refused(
        &r,
        "newline or another control character",
        "newline in a name",
    );
    fs::remove_file(&bad).unwrap();
    fs::remove_file(t.join("board/pc/new\nline")).unwrap();
    // external.desc: a FIFO, invalid UTF-8, empty, 100 KB, regex metacharacters.
    let desc = t.join("external.desc");
    let keep = fs::read(&desc).unwrap();
    fs::remove_file(&desc).unwrap();
    mkfifo(&desc);
    refused(
        &check(&t),
        "external.desc: not a regular file",
        "external.desc FIFO",
    );
    fs::remove_file(&desc).unwrap();
    for (text, want) in [
        (b"name: K\xffU\n".to_vec(), "external.desc:1: not UTF-8"),
        (b"name: \n".to_vec(), "external.desc:1: the name is empty"),
        (
            format!("name: {}\n", "K".repeat(100_000)).into_bytes(),
            "at most 64",
        ),
        (b"name: K.*(\n".to_vec(), "'.' in the name"),
    ] {
        fs::write(&desc, &text).unwrap();
        refused(&check(&t), want, want);
    }
    fs::write(&desc, &keep).unwrap();
    // A defconfig that is a link out of the tree: never written through.
    let outside = d.path().join("outside_defconfig");
    fs::write(&outside, "keep\n").unwrap();
    let pc = t.join("configs/pc_defconfig");
    fs::remove_file(&pc).unwrap();
    symlink(&outside, &pc).unwrap();
    let before = snapshot(d.path());
    let r = b4k_dev(&["defconfig", "--tree", t.to_str().unwrap()], &[]);
    refused(&r, "configs/pc_defconfig", "defconfig through a link");
    refused(&r, "symbolic link", "defconfig through a link");
    assert_eq!(snapshot(d.path()), before, "written by a refused run");
    // --export-index into a FIFO (it needs a checkout: refused before).
    let f = d.path().join("index-fifo");
    mkfifo(&f);
    let r = b4k_dev(
        &[
            "defconfig",
            "--tree",
            t.to_str().unwrap(),
            "--export-index",
            f.to_str().unwrap(),
        ],
        &[],
    );
    assert!(matches!(r.code, 1 | 2), "{}", r.out);
}

/// An index whose symbols each default to the next (40,000 deep) and one whose
/// default is an `&&` chain of 150,000: errors, not overflows.
#[test]
fn deep_indexes_are_refused() {
    let d = tempfile::tempdir().unwrap();
    let t = tree_copy(d.path());
    let head =
        "{\"about\":\"\",\"buildroot\":\"x\",\"host\":{\"arch\":\"x\",\"gcc_version\":\"1\"},";
    let chain: Vec<String> = (0..40_000)
        .map(|i| {
            format!(
                "{{\"name\":\"BR2_S{i}\",\"type\":\"bool\",\"defaults\":[[\"BR2_S{}\",\"\"]]}}",
                i + 1
            )
        })
        .collect();
    let long = (0..150_000)
        .map(|i| format!("BR2_S{i}"))
        .collect::<Vec<_>>()
        .join(" && ");
    for (name, symbols, want) in [
        ("chain", chain.join(","), "shorten the chain"),
        (
            "&& chain",
            format!("{{\"name\":\"BR2_S0\",\"type\":\"bool\",\"defaults\":[[\"{long}\",\"\"]]}}"),
            "chained more than",
        ),
    ] {
        let ix = d.path().join(format!("{}.json", name.len()));
        fs::write(
            &ix,
            format!("{head}\"symbols\":[{symbols}],\"choices\":[],\"legacy\":[]}}"),
        )
        .unwrap();
        let frag = d.path().join("f");
        fs::write(&frag, "BR2_S0=y\n").unwrap();
        let r = b4k_dev(
            &[
                "defconfig",
                "--tree",
                t.to_str().unwrap(),
                "--index",
                ix.to_str().unwrap(),
                "--fragment",
                frag.to_str().unwrap(),
            ],
            &[],
        );
        refused(&r, want, name);
    }
}
