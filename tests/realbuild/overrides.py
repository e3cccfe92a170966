#!/usr/bin/python3
"""Source trees for the downloads that cannot be had byte-identical.

Usage:
  overrides.py --buildroot DIR --external TREE --show-info FILE --cache CACHE
               [--only PKG ...] [--recipes DIR] [--special DIR]
               [--global-patch-dir DIR ...]
               [--list]

For every package of `make show-info` (FILE) with a download that is not
byte-identical in CACHE/dl, and for which a recipe exists, this prepares a
source tree, applies Buildroot's patches to it, and points Buildroot at it
through BR2_PACKAGE_OVERRIDE_FILE:

  CACHE/overrides/.trees/<tree>/       the prepared tree (one per source and
                                       patch set; host and target share it:
                                       Buildroot rsyncs an override tree into
                                       its build directory and never writes
                                       into the tree itself)
  CACHE/overrides/.trees/<tree>.stamp  JSON: recipe key and provenance; a tree
                                       whose key still matches is kept as is
  CACHE/overrides/<pkg>                symlink to the tree (pkg = Buildroot
                                       package name, e.g. host-util-linux)
  CACHE/override.mk                    `<PKG>_OVERRIDE_SRCDIR = CACHE/overrides/<pkg>`
                                       for every ready tree of a package that
                                       still needs one (host-util-linux ->
                                       HOST_UTIL_LINUX; '-' and '.' become '_')
  CACHE/provenance/<pkg>__<file>.json  one row per download of an overridden
                                       package (an override replaces all of
                                       the package's downloads)

"Not byte-identical": the download is listed in CACHE/not-identical.txt when
that file exists (lines `<pkg> <file> [what was tried]`, `<pkg>` alone for
all its downloads, or `<file>` alone; `#` starts a comment); otherwise the
file CACHE/dl/<dl_dir>/<file> is missing or fails a hash line of the
package's .hash files.  `local` site downloads are never overridden here.

--only PKG ...: make the trees of just these packages' recipes; override.mk
still lists every ready tree of every package that needs one.

Recipes
-------
Recipes are data: every `*.toml` in tests/realbuild/overrides.d/ (or
--recipes DIR), read in sorted order.  One table per source; the table name
is the recipe name.  A package named by two recipes is an error.

  [util-linux]
  packages = ["util-linux", "util-linux-libs", "host-util-linux"]
  kind = "debian-orig"
  ...

Keys for every kind:
  packages    list of Buildroot package names (show-info keys) it serves
  kind        "debian-orig" | "git" | "pypi" | "archive" | "script"
  patches     "buildroot" (default: apply Buildroot's patches, see below),
              "done" (the script applied them and says so in INFO), "none"
  subdir      use this subdirectory of the source as the tree
  extra       list of inline tables: more sources put into the tree, each
              with its own kind and keys plus
                into         the directory (relative to the tree) it becomes
                ref_version  the version "same"/"nearest" compare with
                             (default: Buildroot's version of the package)
                role         "tool": only a helper for `prepare` (remove it
                             with `rm`); it does not count for same_version
  stubs       list of files (relative to the tree) to create empty if
              missing, before `prepare`
  texi_stubs  list of .texi files that Debian strips (GFDL manuals of
              bison, gawk: make stops on the missing .texi): each becomes a
              minimal Texinfo file dated 2000 plus a stub .info touched
              last, so make neither stops nor needs makeinfo
  prepare     list of shell commands (sh -e) run in the tree BEFORE the
              patches: make a checkout look like a release tarball
              (e.g. "autoreconf -fi")
  finish      list of shell commands run in the tree AFTER the patches
  rm          list of paths (relative, globs allowed) removed after finish
  libtool_patch  true/false; default: true when every package of the tree
              is an autotools package without AUTORECONF = YES and without
              LIBTOOL_PATCH = NO.  Buildroot patches each ltmain.sh with
              support/libtool/buildroot-libtool-*.patch after its patch step
              (LIBTOOL_PATCH_HOOK), which overrides skip; done here last.
  note        free text copied into the provenance rows

  Commands run with cwd = the tree and this environment: CACHE,
  BUILDROOT_DIR, EXTERNAL, BR_VERSION (Buildroot's version of the first
  package), VERSION (the upstream version used), RECIPE, PACKAGES
  (space-separated).

kind = "debian-orig": the upstream source (`.orig.tar.*`, plus any
`.orig-<component>.tar.*` extracted into <component>/) of a Debian source
package, WITHOUT Debian's patches; for a native package (`3.0 (native)`,
e.g. ca-certificates) its only tarball.
  source      Debian source package name
  suites      suites searched (default: trixie, trixie-updates,
              trixie-backports, sid, experimental, bookworm,
              bookworm-backports); indices are CACHE/src/debian/Sources-<suite>.xz
              (downloaded when missing), files go to CACHE/src/debian/
  version     preference list (a string is a one-element list; default
              ["same", "nearest"]):
                "same"     Buildroot's upstream version
                "nearest"  the version sharing the most leading
                           components with Buildroot's, then the smallest
                           step at the first differing one, then the newer
                "newest"   the newest upstream version
                "<x.y.z>"  exactly that upstream version
              The Debian repack suffix (+dfsg, +ds, ~dfsg ...) is ignored
              when versions are compared; a file the archive does not serve
              (404) moves on to the next candidate.

kind = "git": a GitHub repository brought to B4K_MIRROR_DIR/<owner>+<name>/repo
by the `fetch` tool (the script cannot fetch: it names the missing mirror).
  repo        "owner/name"
  tag         a tag, branch or commit, or a list tried in order; "{version}"
              is replaced by Buildroot's version, "{version_dashed}" by it
              with '-' for '.' (nfs-utils-2-8-6)
  version     the upstream version the tag stands for (default: Buildroot's
              version if the tag used contains "{version}", else the tag)
  The tree is `git archive` of that commit (no .git directory).  Blobs the
  mirror lacks (its snapshots leave out large files, mostly test data) are
  left out and named in the provenance note.

kind = "pypi": an sdist from PyPI (pip download --no-binary :all: --no-deps).
  project     the PyPI project name
  version     exact version (default: Buildroot's version)

kind = "archive": a tarball already on disk.
  path        relative to CACHE (e.g. "src/foo/foo-1.2.tar.gz")
  version     the upstream version it holds (required)
  from        provenance text (default: the path)

kind = "script": tests/realbuild/special/<script> (or --special DIR) is run,
by its #! line, in DEST, with the environment above plus
  DEST        an empty directory: fill it with the source tree
  INFO        a file the script may write: a JSON object with any of
              "from", "version", "same_version" (bool), "note",
              "patches" ({"applied": [...], "failed": [...]}; used with
              patches = "done")
  SHOW_INFO   the show-info JSON file
  script      the script's file name under tests/realbuild/special/
  version     optional: the version used, when INFO does not say
  A non-zero exit fails the recipe (the tree is discarded).  The script's
  content, and that of the files of special/ whose names it contains (a
  sourced lib.sh), is part of the recipe key: editing them rebuilds the
  tree.  A script's tree is .trees/<recipe> (no version in the name).

Patches
-------
Buildroot skips every patch for an overridden package, so they are applied
here to the tree, in Buildroot's order (support/scripts/apply-patches.sh,
pkg-patches-dirs in package/pkg-utils.mk): for each directory of
  <package_dir>, <global patch dir>/<rawname>   (rawname: show-info "name")
its <Buildroot version>/ subdirectory if it exists, else the directory
itself; there, the `series` file if any, else *.patch sorted (C locale).
The global patch dirs default to EXTERNAL/board/common/patches (the tree's
BR2_GLOBAL_PATCH_DIR).  Each patch is dry-run first with Buildroot's flags
(patch -p1 -N -t -F0 -g0), then with fuzz 2; one that fits is applied and
listed in "applied" (and in "fuzzed" when it needed fuzz), one that is
already in the source (its reverse applies) is listed in "already_in_source",
any other is listed in "failed" and not applied at all.  Packages of one
recipe whose patch sets differ get separate trees (<tree>+<rawname>).
The libtool patch (see libtool_patch) is listed like the others, as
"support/libtool/buildroot-libtool-<v>.patch (<path of ltmain.sh>)".

Provenance row
--------------
  {"package": "host-xz", "file": "xz-5.8.3.tar.bz2", "how": "override",
   "from": "debian trixie xz-utils_5.8.3.orig.tar.xz",
   "version": "5.8.3", "same_version": true,
   "patches": {"applied": [...], "failed": [...], "fuzzed": [...],
               "already_in_source": [...]},
   "tree": "CACHE/overrides/.trees/xz-5.8.3", "recipe": "xz",
   "note": "..."}
A package with several downloads gets a row for each, also for a file that
is itself byte-identical (the note says so): the override replaces them all.

One run at a time: a run holds CACHE/overrides/.lock (flock) and a second
one waits.  A tree is replaced by rename, so a build that rsyncs it sees
the old or the new one.

Exit status: 0 when every recipe processed is ready, 1 when one failed,
2 on a usage or recipe error.  A summary table goes to stdout, progress and
command output to stderr.  --list prints which packages need an override and
which recipe serves them, and changes nothing.

Host tools (Debian packages): patch, git, tar, xz-utils, bzip2, lzip, zstd,
dpkg (version comparison); for the recipes' prepare steps autoconf,
automake, libtool, libltdl-dev (ltdl.m4: LT_SYS_SYMBOL_USCORE), autopoint,
gettext, pkgconf, gtk-doc-tools (gtkdocize: util-linux and kmod from git),
texinfo (makeinfo: libffi's manual), gcc and make (sqlite's amalgamation).
"""

import argparse
import fcntl
import fnmatch
import functools
import glob
import hashlib
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tomllib
import urllib.error
import urllib.request

FORMAT = 2  # bump when the way trees are made changes: every tree is rebuilt
DEBIAN = "http://deb.debian.org/debian"
DEFAULT_SUITES = ["trixie", "trixie-updates", "trixie-backports", "sid",
                  "experimental", "bookworm", "bookworm-backports"]
# Git mirrors of GitHub repositories (<owner>+<name>/repo, as the search
# tool's fetch lays them out): B4K_MIRROR_DIR, as tests/realbuild/run.sh.
MIRRORS = os.environ.get("B4K_MIRROR_DIR", "mirrors")
HERE = os.path.dirname(os.path.abspath(__file__))


class RecipeError(Exception):
    """A recipe that cannot be read or is inconsistent (exit 2)."""


class Failed(Exception):
    """A recipe whose tree could not be made (exit 1)."""


def log(msg):
    print(msg, file=sys.stderr, flush=True)


def sha256_file(path):
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for block in iter(lambda: f.read(1 << 20), b""):
            h.update(block)
    return h.hexdigest()


def write_atomic(path, text):
    os.makedirs(os.path.dirname(path), exist_ok=True)
    tmp = f"{path}.tmp{os.getpid()}"
    with open(tmp, "w") as f:
        f.write(text)
    os.replace(tmp, path)


def upper(pkg):
    """Buildroot's UPPERCASE of a package name (support/misc/utils.mk)."""
    return pkg.upper().replace("-", "_").replace(".", "_")


def run(cmd, cwd=None, env=None, check=True):
    """Run a command, its output to stderr; raise Failed when it fails."""
    log(f"+ {cmd if isinstance(cmd, str) else ' '.join(cmd)}")
    r = subprocess.run(cmd, cwd=cwd, env=env, shell=isinstance(cmd, str),
                       stdout=sys.stderr, stderr=sys.stderr)
    if check and r.returncode != 0:
        raise Failed(f"command failed ({r.returncode}): {cmd}")
    return r.returncode


# ---------------------------------------------------------------- show-info

class Package:
    """One show-info package with the facts the overrides need."""

    def __init__(self, name, info, buildroot):
        self.name = name
        self.rawname = info["name"]
        self.version = info.get("version") or ""
        self.dl_dir = info.get("dl_dir") or self.rawname
        self.downloads = [d for d in info.get("downloads", [])
                          if not any(u.startswith("local+") for u in d.get("uris", []))]
        pkgdir = info.get("package_dir") or ""
        self.package_dir = pkgdir if os.path.isabs(pkgdir) else os.path.join(buildroot, pkgdir)
        self.hash_files = [h if os.path.isabs(h) else os.path.join(buildroot, h)
                           for h in info.get("hashes", [])]
        self.url_patches = [p for p in info.get("patches", []) if "://" in p]


def load_hashes(files):
    """{file: [(algo, hash)]} from Buildroot .hash files."""
    out = {}
    for path in files:
        try:
            lines = open(path).read().splitlines()
        except OSError:
            continue
        for line in lines:
            f = line.split()
            if len(f) == 3 and not f[0].startswith("#"):
                out.setdefault(f[2], []).append((f[0], f[1]))
    return out


def identical_in_dl(pkg, source, cache):
    """True when CACHE/dl/<dl_dir>/<source> passes every hash line of it."""
    path = os.path.join(cache, "dl", pkg.dl_dir, source)
    lines = load_hashes(pkg.hash_files).get(source)
    if not lines or not os.path.isfile(path):
        return False
    for algo, want in lines:
        if algo not in hashlib.algorithms_available:
            return False
        h = hashlib.new(algo)
        with open(path, "rb") as f:
            for block in iter(lambda: f.read(1 << 20), b""):
                h.update(block)
        if h.hexdigest() != want:
            return False
    return True


def read_not_identical(cache, packages):
    """The (pkg, file) pairs and bare files of CACHE/not-identical.txt, or None."""
    path = os.path.join(cache, "not-identical.txt")
    if not os.path.exists(path):
        return None
    pairs, files = set(), set()
    for line in open(path):
        f = line.split("#", 1)[0].split()
        if not f:
            continue
        if f[0] in packages and len(f) > 1:
            pairs.add((f[0], f[1]))
        elif f[0] in packages:
            pairs.update((f[0], d["source"]) for d in packages[f[0]].downloads)
        else:
            files.add(f[0])
    return pairs, files


def needing(packages, cache):
    """{pkg name: [download file names that are not byte-identical]}."""
    listed = read_not_identical(cache, packages)
    out = {}
    for name, pkg in packages.items():
        bad = []
        for d in pkg.downloads:
            src = d["source"]
            if listed is not None:
                if (name, src) in listed[0] or src in listed[1]:
                    bad.append(src)
            elif not identical_in_dl(pkg, src, cache):
                bad.append(src)
        if bad:
            out[name] = bad
    return out


# ---------------------------------------------------------------- versions

def dpkg_cmp(a, b):
    if a == b:
        return 0
    if subprocess.run(["dpkg", "--compare-versions", a, "lt", b]).returncode == 0:
        return -1
    return 1


def upstream_of(debver, native):
    """Debian version -> upstream version without epoch, revision, repack suffix."""
    v = re.sub(r"^\d+:", "", debver)
    if not native:
        v = re.sub(r"-[^-]+$", "", v)
    m = re.search(r"\+really(.+)$", v)
    if m:
        v = m.group(1)
    return re.sub(r"([+~.](dfsg|ds|repack|debian|nmu)\d*)+$", "", v, flags=re.I)


def version_distance(v, ref):
    """Sort key: more leading components shared with ref, then the smaller
    step at the first differing component, then the newer version."""
    a, b = re.findall(r"\d+|[A-Za-z]+", v), re.findall(r"\d+|[A-Za-z]+", ref)
    k = 0
    while k < min(len(a), len(b)) and a[k] == b[k]:
        k += 1
    if k == len(a) or k == len(b):
        step = 0
    elif a[k].isdigit() and b[k].isdigit():
        step = abs(int(a[k]) - int(b[k]))
    else:
        step = 10 ** 12
    return (-k, step)


def pick_versions(prefs, br_version, available):
    """Order `available` upstream versions by the preference list."""
    order = []
    avail = sorted(set(available), key=functools.cmp_to_key(dpkg_cmp))
    for p in prefs:
        if p == "same":
            cand = [v for v in avail if v == br_version]
        elif p == "newest":
            cand = avail[::-1]
        elif p == "nearest":
            newest_first = avail[::-1]
            cand = sorted(newest_first, key=lambda v: version_distance(v, br_version))
        else:
            cand = [v for v in avail if v == p]
        order += [v for v in cand if v not in order]
    return order


# ---------------------------------------------------------------- Debian

def fetch_url(url, dest, sha256=None):
    """Download url to dest (tmp then rename); check sha256 when given."""
    if os.path.exists(dest) and (sha256 is None or sha256_file(dest) == sha256):
        return
    os.makedirs(os.path.dirname(dest), exist_ok=True)
    tmp = f"{dest}.part{os.getpid()}"
    log(f"get {url}")
    try:
        with urllib.request.urlopen(url, timeout=120) as r, open(tmp, "wb") as f:
            shutil.copyfileobj(r, f, 1 << 20)
    except (urllib.error.URLError, OSError) as e:
        if os.path.exists(tmp):
            os.unlink(tmp)
        raise Failed(f"{url}: {e}") from e
    if sha256 and sha256_file(tmp) != sha256:
        os.unlink(tmp)
        raise Failed(f"{url}: sha256 mismatch with the Sources index")
    os.replace(tmp, dest)


class DebianIndex:
    """Sources indices of the suites, parsed lazily, one slim JSON cache each."""

    def __init__(self, cache):
        self.dir = os.path.join(cache, "src", "debian")
        self.suites = {}

    def suite(self, suite):
        if suite in self.suites:
            return self.suites[suite]
        xz = os.path.join(self.dir, f"Sources-{suite}.xz")
        if not os.path.exists(xz):
            try:
                fetch_url(f"{DEBIAN}/dists/{suite}/main/source/Sources.xz", xz)
            except Failed as e:
                log(f"no index for {suite}: {e}")
                self.suites[suite] = {}
                return {}
        slim = os.path.join(self.dir, f".Sources-{suite}.json")
        stat = os.stat(xz)
        sig = f"{stat.st_size}:{stat.st_mtime_ns}"
        if os.path.exists(slim):
            data = json.load(open(slim))
            if data.get("sig") == sig:
                self.suites[suite] = data["sources"]
                return data["sources"]
        sources = self.parse(xz)
        write_atomic(slim, json.dumps({"sig": sig, "sources": sources}))
        self.suites[suite] = sources
        return sources

    @staticmethod
    def parse(xz):
        sources = {}
        text = lzma.open(xz, "rt", encoding="utf-8", errors="replace").read()
        for para in text.split("\n\n"):
            entry, key = {}, None
            for line in para.split("\n"):
                if line.startswith((" ", "\t")):
                    if key == "Checksums-Sha256":
                        f = line.split()
                        if len(f) == 3:
                            entry.setdefault("files", []).append(
                                {"sha256": f[0], "size": int(f[1]), "name": f[2]})
                    continue
                key, _, val = line.partition(":")
                if key in ("Package", "Version", "Directory", "Format"):
                    entry[key] = val.strip()
            if "Package" in entry:
                sources.setdefault(entry["Package"], []).append(entry)
        return sources

    def candidates(self, source, suites):
        """[(suite, entry, upstream version)] of a source package."""
        out = []
        for suite in suites:
            for e in self.suite(suite).get(source, []):
                native = "native" in e.get("Format", "") or not any(
                    ".orig." in f["name"] for f in e.get("files", []))
                out.append((suite, e, upstream_of(e["Version"], native)))
        return out


# ---------------------------------------------------------------- sources

def extract(archive, into):
    """Extract a tarball into `into`; return the single top directory (or into)."""
    os.makedirs(into, exist_ok=True)
    run(["tar", "-xf", archive, "-C", into, "--no-same-owner"])
    entries = [e for e in os.listdir(into)]
    if len(entries) == 1 and os.path.isdir(os.path.join(into, entries[0])):
        return os.path.join(into, entries[0])
    return into


class Resolved:
    """What a recipe resolves to before anything is extracted."""

    def __init__(self, version, same, origin, identity, make):
        self.version = version      # upstream version used
        self.same = same            # same as Buildroot's version
        self.origin = origin        # provenance "from" text
        self.identity = identity    # part of the recipe key
        self.make = make            # make(dest_dir): fill the empty dest_dir
        self.info = {}              # extra provenance (script INFO)
        self.extras = []            # [(extra table, Resolved)]
        self.note = []              # facts for the provenance note


def resolve_debian(recipe, br_version, ctx):
    source = recipe.get("source") or recipe["_name"]
    suites = recipe.get("suites", DEFAULT_SUITES)
    prefs = recipe.get("version", ["same", "nearest"])
    prefs = [prefs] if isinstance(prefs, str) else prefs
    cands = ctx.debian.candidates(source, suites)
    if not cands:
        raise Failed(f"Debian source {source} not in {', '.join(suites)}")
    tried = []
    for up in pick_versions(prefs, br_version, [c[2] for c in cands]):
        # the newest Debian revision of that upstream version first
        same_up = sorted([c for c in cands if c[2] == up],
                         key=functools.cmp_to_key(lambda a, b: dpkg_cmp(a[1]["Version"], b[1]["Version"])),
                         reverse=True)
        seen = set()
        for suite, entry, _ in same_up:
            tars = [f for f in entry.get("files", [])
                    if re.search(r"\.orig(-[A-Za-z0-9-]+)?\.tar\.[a-z0-9]+$", f["name"])]
            if not tars:
                tars = [f for f in entry.get("files", [])
                        if re.search(r"\.tar\.[a-z0-9]+$", f["name"]) and ".debian." not in f["name"]]
            names = tuple(f["name"] for f in tars)
            if not tars or names in seen:
                continue
            seen.add(names)
            try:
                for f in tars:
                    fetch_url(f"{DEBIAN}/{entry['Directory']}/{f['name']}",
                              os.path.join(ctx.cache, "src", "debian", f["name"]), f["sha256"])
            except Failed as e:
                tried.append(str(e))
                continue
            return Resolved(
                up, up == br_version,
                f"debian {suite} {' + '.join(names)} (source {source} {entry['Version']}, without Debian's patches)",
                {"debian": [(f["name"], f["sha256"]) for f in tars]},
                functools.partial(make_debian, tars, ctx))
    raise Failed(f"no usable Debian source for {source}: " + ("; ".join(tried) or "no version matches " + str(prefs)))


def make_debian(tars, ctx, dest):
    main = [f for f in tars if not re.search(r"\.orig-[A-Za-z0-9-]+\.tar", f["name"])][0]
    scratch = dest + ".x"
    shutil.rmtree(scratch, ignore_errors=True)
    top = extract(os.path.join(ctx.cache, "src", "debian", main["name"]), scratch)
    for f in tars:
        m = re.search(r"\.orig-([A-Za-z0-9-]+)\.tar", f["name"])
        if m:
            comp = os.path.join(top, m.group(1))
            sub = extract(os.path.join(ctx.cache, "src", "debian", f["name"]), comp + ".x")
            shutil.rmtree(comp, ignore_errors=True)
            os.rename(sub, comp)
            shutil.rmtree(comp + ".x", ignore_errors=True)
    os.rmdir(dest)
    os.rename(top, dest)
    shutil.rmtree(scratch, ignore_errors=True)


def missing_blobs(mirror, commit):
    """Paths of the commit whose blobs the mirror lacks (large files are left out)."""
    ls = subprocess.run(["git", "-C", mirror, "ls-tree", "-r", "-z", commit],
                        capture_output=True, check=True).stdout.decode(errors="surrogateescape")
    blobs = {}
    for entry in filter(None, ls.split("\0")):
        meta, path = entry.split("\t", 1)
        _, kind, sha = meta.split()
        if kind == "blob":
            blobs.setdefault(sha, []).append(path)
    out = subprocess.run(["git", "-C", mirror, "cat-file", "--batch-check"],
                         input="\n".join(blobs) + "\n", capture_output=True, text=True).stdout
    return sorted(p for line in out.splitlines() if line.endswith(" missing")
                  for p in blobs.get(line.split()[0], []))


def resolve_git(recipe, br_version, ctx):
    repo = recipe["repo"]
    mirror = os.path.join(MIRRORS, repo.replace("/", "+"), "repo")
    if not os.path.isdir(mirror):
        raise Failed(f"no mirror {mirror}: fetch github:{repo} with the fetch tool")
    tags = recipe["tag"] if isinstance(recipe["tag"], list) else [recipe["tag"]]
    for t in tags:
        ref = t.replace("{version}", br_version).replace("{version_dashed}", re.sub(r"[.]", "-", br_version))
        r = subprocess.run(["git", "-C", mirror, "rev-parse", "--verify", "-q", ref + "^{commit}"],
                           capture_output=True, text=True)
        if r.returncode == 0:
            commit = r.stdout.strip()
            version = recipe.get("version") or (br_version if "{version" in t else ref)
            missing = missing_blobs(mirror, commit)
            res = Resolved(version, version == br_version,
                           f"github git archive {repo} {ref} ({commit[:12]})",
                           {"git": [repo, commit, missing]},
                           functools.partial(make_git, mirror, commit, missing))
            if missing:
                res.note.append(f"{len(missing)} file(s) absent from the GitHub mirror, left out: "
                                + ", ".join(missing[:8]) + (" ..." if len(missing) > 8 else ""))
            return res
    raise Failed(f"{repo}: none of the refs {tags} exists in {mirror}")


def make_git(mirror, commit, missing, dest):
    tar = dest + ".tar"
    run(["git", "-C", mirror, "archive", "--format=tar", "-o", tar, commit, "--", "."]
        + [f":(exclude,literal){p}" for p in missing])
    try:
        run(["tar", "-xf", tar, "-C", dest])
    finally:
        os.unlink(tar)


def resolve_pypi(recipe, br_version, ctx):
    project = recipe.get("project") or recipe["_name"]
    version = recipe.get("version") or br_version
    where = os.path.join(ctx.cache, "src", "pypi")
    os.makedirs(where, exist_ok=True)
    stem = re.sub(r"[-_.]+", "[-_.]", project)
    pat = re.compile(rf"^{stem}-{re.escape(version)}\.(tar\.gz|zip)$", re.I)
    have = [f for f in os.listdir(where) if pat.match(f)]
    if not have:
        run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:", "--no-deps",
             "-d", where, f"{project}=={version}"])
        have = [f for f in os.listdir(where) if pat.match(f)]
    if not have:
        raise Failed(f"pip download gave no sdist for {project}=={version}")
    path = os.path.join(where, have[0])
    return Resolved(version, version == br_version, f"pypi sdist {have[0]}",
                    {"pypi": [have[0], sha256_file(path)]},
                    functools.partial(make_archive, path))


def resolve_archive(recipe, br_version, ctx):
    path = os.path.join(ctx.cache, recipe["path"])
    if not os.path.isfile(path):
        raise Failed(f"{path} does not exist")
    version = recipe["version"]
    return Resolved(version, version == br_version, recipe.get("from", recipe["path"]),
                    {"archive": [recipe["path"], sha256_file(path)]},
                    functools.partial(make_archive, path))


def make_archive(path, dest):
    scratch = dest + ".x"
    shutil.rmtree(scratch, ignore_errors=True)
    top = extract(path, scratch)
    os.rmdir(dest)
    os.rename(top, dest)
    shutil.rmtree(scratch, ignore_errors=True)


def resolve_script(recipe, br_version, ctx):
    script = os.path.join(ctx.special, recipe["script"])
    if not os.path.isfile(script):
        raise Failed(f"{script} does not exist")
    content = open(script, "rb").read()
    # the script and the files of special/ it names (a sourced lib.sh) make the key
    used = {recipe["script"]: hashlib.sha256(content).hexdigest()}
    for n in sorted(os.listdir(ctx.special)):
        path = os.path.join(ctx.special, n)
        if n not in used and os.path.isfile(path) and n.encode() in content:
            used[n] = sha256_file(path)
    version = recipe.get("version") or br_version
    res = Resolved(version, version == br_version, f"script {recipe['script']}",
                   {"script": used}, None)
    res.make = functools.partial(make_script, script, res, ctx, recipe)
    return res


def make_script(script, res, ctx, recipe, dest):
    info = dest + ".info.json"
    env = ctx.env(recipe, res)
    env.update(DEST=dest, INFO=info, SHOW_INFO=ctx.show_info)
    if os.path.exists(info):
        os.unlink(info)
    run([script], cwd=dest, env=env)
    if os.path.exists(info):
        res.info = json.load(open(info))
        os.unlink(info)
        res.version = res.info.get("version", res.version)
        res.same = res.info.get("same_version", res.version == ctx.br_version(recipe))
        res.origin = res.info.get("from", res.origin)


RESOLVERS = {"debian-orig": resolve_debian, "git": resolve_git, "pypi": resolve_pypi,
             "archive": resolve_archive, "script": resolve_script}


def resolve(recipe, br_version, ctx):
    """The recipe's main source and its `extra` sources, resolved."""
    res = RESOLVERS[recipe["kind"]](recipe, br_version, ctx)
    for i, extra in enumerate(recipe.get("extra", [])):
        e = dict(extra, _name=f"{recipe['_name']}.extra{i}")
        eres = RESOLVERS[e["kind"]](e, e.get("ref_version", br_version), ctx)
        res.extras.append((e, eres))
        res.identity[f"extra{i}"] = eres.identity
        if e.get("role") == "tool":
            res.note.append(f"prepared with a tool from {eres.origin}")
            continue
        res.origin += f" + {eres.origin} in {e['into']}/"
        res.same = res.same and eres.same
        if not eres.same:
            res.note.append(f"{e['into']}/: version {eres.version}, not {e.get('ref_version', br_version)}")
    return res


# ---------------------------------------------------------------- patches

def patch_list(pkg, global_dirs, buildroot, external):
    """Buildroot's patches of a package in apply order: [(display name, path)]."""
    out = []
    for d in [pkg.package_dir] + [os.path.join(g, pkg.rawname) for g in global_dirs]:
        if not os.path.isdir(d):
            continue
        if pkg.version and os.path.isdir(os.path.join(d, pkg.version)):
            d = os.path.join(d, pkg.version)
        series = os.path.join(d, "series")
        if os.path.exists(series):
            names = [ln.split()[0] for ln in open(series) if ln.strip() and not ln.startswith("#")]
        else:
            names = sorted((n for n in os.listdir(d) if fnmatch.fnmatchcase(n, "*.patch")),
                           key=lambda n: n.encode())
        for n in names:
            path = os.path.join(d, n)
            if path.startswith(buildroot.rstrip("/") + "/"):
                shown = os.path.relpath(path, buildroot)
            elif path.startswith(external.rstrip("/") + "/"):
                shown = "BR2_EXTERNAL/" + os.path.relpath(path, external)
            else:
                shown = path
            out.append((shown, path))
    return out


def patch_ok(tree, path, extra):
    r = subprocess.run(["patch", "-p1", "-N", "-t", "-g0", "--dry-run", "-s", "-d", tree,
                        "-i", path] + extra, capture_output=True, text=True)
    return r.returncode == 0, r.stdout + r.stderr


def apply_patches(tree, patches):
    """Apply each patch that fits; the result lists of the provenance row."""
    res = {"applied": [], "failed": [], "fuzzed": [], "already_in_source": []}
    for shown, path in patches:
        fuzz = None
        for f in ("-F0", "-F2"):
            ok, out = patch_ok(tree, path, [f])
            if ok:
                fuzz = f
                break
        if fuzz:
            run(["patch", "-p1", "-N", "-t", "-g0", "--no-backup-if-mismatch", fuzz,
                 "-d", tree, "-i", path])
            res["applied"].append(shown)
            if fuzz != "-F0":
                res["fuzzed"].append(shown)
            continue
        rev, _ = patch_ok(tree, path, ["-R", "-F0"])
        if rev:
            res["already_in_source"].append(shown)
            log(f"patch {shown}: already in the source")
        else:
            res["failed"].append(shown)
            log(f"patch {shown}: FAILED, not applied:\n{out.strip()}")
    return res


# ---------------------------------------------------------------- trees

TEXI_STUB = """\\input texinfo
@setfilename {info}
@settitle {title}
@node Top
@top {title}
This manual is not part of this source (Debian removes GFDL documentation).
@bye
"""
INFO_STUB = """This is {info}, a stub: the manual is not part of this source
(Debian removes GFDL documentation).

\x1f
File: {info},  Node: Top,  Up: (dir)

{title}
*******

This manual is not part of this source.
"""
OLD = 946684800  # 2000-01-01: a stub .texi older than anything made from it


class Context:
    def __init__(self, args):
        self.cache = os.path.abspath(args.cache)
        self.buildroot = os.path.abspath(args.buildroot)
        self.external = os.path.abspath(args.external)
        self.show_info = os.path.abspath(args.show_info)
        self.special = os.path.abspath(args.special)
        self.global_dirs = [os.path.abspath(d) for d in args.global_patch_dir] or \
            [os.path.join(self.external, "board", "common", "patches")]
        self.debian = DebianIndex(self.cache)
        self.trees = os.path.join(self.cache, "overrides", ".trees")
        self.packages = {}

    def br_version(self, recipe):
        for p in recipe["packages"]:
            if p in self.packages:
                return self.packages[p].version
        return ""

    def env(self, recipe, res):
        env = dict(os.environ)
        env.update(CACHE=self.cache, BUILDROOT_DIR=self.buildroot, EXTERNAL=self.external,
                   BR_VERSION=self.br_version(recipe), VERSION=res.version,
                   RECIPE=recipe["_name"], PACKAGES=" ".join(recipe["packages"]))
        return env


def recipe_steps(tree, recipe, res, ctx, key):
    env = ctx.env(recipe, res)
    for cmd in recipe.get(key, []):
        run(["sh", "-ec", cmd], cwd=tree, env=env)


def make_stubs(tree, recipe):
    """Empty `stubs`; `texi_stubs` as a minimal manual dated 2000 plus its .info
    (touched again after the patches), so make neither stops on the missing
    source nor needs makeinfo.  Returns the .info stubs to touch last."""
    for rel in recipe.get("stubs", []):
        p = os.path.join(tree, rel)
        if not os.path.exists(p):
            os.makedirs(os.path.dirname(p), exist_ok=True)
            open(p, "w").close()
    infos = []
    for rel in recipe.get("texi_stubs", []):
        p = os.path.join(tree, rel)
        base = os.path.splitext(os.path.basename(rel))[0]
        info = os.path.splitext(p)[0] + ".info"
        if os.path.exists(p) or os.path.exists(info):
            continue
        os.makedirs(os.path.dirname(p), exist_ok=True)
        write_atomic(p, TEXI_STUB.format(info=base + ".info", title=base))
        os.utime(p, (OLD, OLD))
        write_atomic(info, INFO_STUB.format(info=base + ".info", title=base))
        infos.append(info)
    return infos


def mk_var(pkg, suffix):
    """A plain assignment of <PKG>_<suffix> (or the target's) in the package's .mk."""
    mk = os.path.join(pkg.package_dir, pkg.rawname + ".mk")
    try:
        text = open(mk).read()
    except OSError:
        return None
    names = [upper(pkg.name) + "_" + suffix]
    if pkg.name.startswith("host-"):
        names.append(upper(pkg.rawname) + "_" + suffix)
    for n in names:
        m = re.search(rf"^{n}\s*[:?]?=\s*(\S+)", text, re.M)
        if m:
            return m.group(1)
    return None


def wants_libtool_patch(recipe, members, ctx):
    """Buildroot patches ltmain.sh after its patch step (LIBTOOL_PATCH_HOOK)
    for autotools packages that do not autoreconf; overrides skip that step."""
    if "libtool_patch" in recipe:
        return bool(recipe["libtool_patch"])
    for p in members:
        pkg = ctx.packages[p]
        try:
            if "autotools-package" not in open(os.path.join(pkg.package_dir, pkg.rawname + ".mk")).read():
                return False
        except OSError:
            return False
        if mk_var(pkg, "AUTORECONF") == "YES" or mk_var(pkg, "LIBTOOL_PATCH") == "NO":
            return False
    return True


def libtool_patch(tree, ctx):
    """support/libtool/buildroot-libtool-*.patch on every ltmain.sh, as the hook does."""
    res = {"applied": [], "failed": []}
    for dirpath, _, files in os.walk(tree):
        if "ltmain.sh" not in files:
            continue
        lt = os.path.join(dirpath, "ltmain.sh")
        m = re.search(r"^[ \t]*VERSION=\"?(\d+)\.(\d+)\.?(\d*)", open(lt, errors="replace").read(), re.M)
        if not m:
            continue
        ver, level = f"{m.group(1)}.{m.group(2)}", int(m.group(3) or 0)
        name = {"1.5": "v1.5", "2.2": "v2.2", "2.5": "v2.4.4"}.get(ver)
        if ver == "2.4":
            name = "v2.4.4" if level > 2 else "v2.4"
        if not name:
            continue
        patch = os.path.join(ctx.buildroot, "support", "libtool", f"buildroot-libtool-{name}.patch")
        shown = f"support/libtool/buildroot-libtool-{name}.patch ({os.path.relpath(lt, tree)})"
        r = subprocess.run(["patch", "-N", "-t", "--no-backup-if-mismatch", "-s", lt, "-i", patch],
                           capture_output=True, text=True)
        res["applied" if r.returncode == 0 else "failed"].append(shown)
        if r.returncode:
            log(f"{shown}: FAILED\n{r.stdout}{r.stderr}")
    return res


def clean_scratch(tmp):
    """Remove what making tmp left beside it (tmp.src, its .x, .tar, .info.json)."""
    for p in glob.glob(glob.escape(tmp) + ".src*"):
        if os.path.isdir(p) and not os.path.islink(p):
            shutil.rmtree(p, ignore_errors=True)
        else:
            os.unlink(p)


def build_tree(name, recipe, res, patches, members, ctx):
    """Make .trees/<name> from scratch; return the patch results."""
    final = os.path.join(ctx.trees, name)
    tmp = f"{final}.tmp{os.getpid()}"
    for d in (tmp, tmp + ".src"):
        shutil.rmtree(d, ignore_errors=True)
    os.makedirs(tmp + ".src")
    try:
        res.make(tmp + ".src")
        top = tmp + ".src"
        if recipe.get("subdir"):
            top = os.path.join(top, recipe["subdir"])
            if not os.path.isdir(top):
                raise Failed(f"no subdirectory {recipe['subdir']} in the source")
        os.rename(top, tmp)
        for extra, eres in res.extras:
            into = os.path.join(tmp, extra["into"])
            shutil.rmtree(into, ignore_errors=True)
            os.makedirs(into)
            eres.make(into)
        info_stubs = make_stubs(tmp, recipe)
        recipe_steps(tmp, recipe, res, ctx, "prepare")
        mode = recipe.get("patches", "buildroot")
        if mode == "buildroot":
            presult = apply_patches(tmp, patches)
        elif mode == "done":
            presult = res.info.get("patches", {"applied": [], "failed": []})
        else:
            presult = {"applied": [], "failed": [], "skipped": [s for s, _ in patches]}
        recipe_steps(tmp, recipe, res, ctx, "finish")
        for pat in recipe.get("rm", []):
            for p in glob.glob(os.path.join(tmp, pat)):
                if os.path.isdir(p) and not os.path.islink(p):
                    shutil.rmtree(p)
                else:
                    os.unlink(p)
        if wants_libtool_patch(recipe, members, ctx):
            lt = libtool_patch(tmp, ctx)
            presult.setdefault("applied", []).extend(lt["applied"])
            presult.setdefault("failed", []).extend(lt["failed"])
        for info in info_stubs:
            os.utime(info)
    except BaseException:
        clean_scratch(tmp)
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    clean_scratch(tmp)
    old = f"{final}.old{os.getpid()}"
    if os.path.isdir(final):
        os.rename(final, old)
    os.rename(tmp, final)
    shutil.rmtree(old, ignore_errors=True)
    return presult


def recipe_key(recipe, res, patches):
    h = hashlib.sha256()
    # which packages use the tree does not change it: "packages" stays out
    table = {k: v for k, v in recipe.items() if k != "packages"}
    h.update(json.dumps({"format": FORMAT, "recipe": table, "source": res.identity},
                        sort_keys=True).encode())
    for shown, path in patches:
        h.update(shown.encode() + b"\0" + open(path, "rb").read() + b"\0")
    return h.hexdigest()


def link(path, target):
    tmp = f"{path}.tmp{os.getpid()}"
    if os.path.lexists(tmp):
        os.unlink(tmp)
    os.symlink(target, tmp)
    if os.path.isdir(path) and not os.path.islink(path):
        shutil.rmtree(path)
    os.replace(tmp, path)


def process_recipe(recipe, pkgs, ctx):
    """Make (or keep) the trees of one recipe for pkgs; {pkg: stamp}.

    Trees, their names and content depend on all the recipe's packages in
    show-info, not on which of them are asked for (--only)."""
    res = resolve(recipe, ctx.br_version(recipe), ctx)
    groups = {}
    for p in sorted(p for p in recipe["packages"] if p in ctx.packages):
        pl = patch_list(ctx.packages[p], ctx.global_dirs, ctx.buildroot, ctx.external)
        sig = hashlib.sha256(json.dumps(
            [(s, sha256_file(path)) for s, path in pl]).encode()).hexdigest()
        groups.setdefault(sig, (pl, []))[1].append(p)
    ordered = sorted(groups.values(), key=lambda g: g[1][0])
    stamps = {}
    for pl, members in ordered:
        if not set(members) & set(pkgs):
            continue
        # a script says its version only once it ran: its trees go by recipe name
        name = recipe["_name"] if recipe["kind"] == "script" else f"{recipe['_name']}-{res.version}"
        if len(ordered) > 1:
            name += "+" + ctx.packages[members[0]].rawname
        key = recipe_key(recipe, res, pl)
        stamp_path = os.path.join(ctx.trees, name + ".stamp")
        stamp = None
        if os.path.isdir(os.path.join(ctx.trees, name)) and os.path.exists(stamp_path):
            stamp = json.load(open(stamp_path))
            if stamp.get("key") != key:
                stamp = None
        if stamp is None:
            log(f"== {recipe['_name']}: making tree {name} for {' '.join(members)}")
            if os.path.exists(stamp_path):
                os.unlink(stamp_path)
            if res.make is None:
                raise Failed("nothing to make")
            presult = build_tree(name, recipe, res, pl, members, ctx)
            stamp = {"key": key, "tree": name, "recipe": recipe["_name"],
                     "from": res.origin, "version": res.version, "same_version": res.same,
                     "patches": presult,
                     "note": "; ".join(n for n in [recipe.get("note"), res.info.get("note")] + res.note if n)}
            write_atomic(stamp_path, json.dumps(stamp, indent=1, sort_keys=True) + "\n")
        else:
            log(f"== {recipe['_name']}: tree {name} is up to date")
        for p in members:
            if p in pkgs:
                link(os.path.join(ctx.cache, "overrides", p), os.path.join(".trees", name))
                stamps[p] = stamp
    return stamps


def write_provenance(pkg, stamp, bad, ctx):
    """One row per download of pkg; bad: its files that are not byte-identical."""
    tree = os.path.join(ctx.trees, stamp["tree"])
    for d in pkg.downloads:
        row = {"package": pkg.name, "file": d["source"], "how": "override",
               "from": stamp["from"], "version": stamp["version"],
               "same_version": stamp["same_version"], "patches": stamp["patches"],
               "recipe": stamp["recipe"], "tree": tree}
        notes = [stamp["note"]] if stamp.get("note") else []
        if d["source"] not in bad:
            notes.append(f"{d['source']} itself can be had byte-identical, but the package is "
                         f"overridden for {', '.join(bad)}: the override tree holds its content too")
        if notes:
            row["note"] = "; ".join(notes)
        write_atomic(os.path.join(ctx.cache, "provenance", f"{pkg.name}__{d['source']}.json"),
                     json.dumps(row, indent=1, sort_keys=True) + "\n")


def ready_stamp(pkg_name, ctx):
    """The stamp of the tree CACHE/overrides/<pkg> points to, if it is ready."""
    link_path = os.path.join(ctx.cache, "overrides", pkg_name)
    if not os.path.islink(link_path):
        return None
    tree = os.path.realpath(link_path)
    stamp = tree + ".stamp"
    if os.path.isdir(tree) and os.path.exists(stamp):
        return json.load(open(stamp))
    return None


def write_override_mk(need, ctx):
    lines = ["# Made by tests/realbuild/overrides.py: BR2_PACKAGE_OVERRIDE_FILE"]
    for name in sorted(need):
        if ready_stamp(name, ctx):
            lines.append(f"{upper(name)}_OVERRIDE_SRCDIR = {os.path.join(ctx.cache, 'overrides', name)}")
    write_atomic(os.path.join(ctx.cache, "override.mk"), "\n".join(lines) + "\n")
    return len(lines) - 1


# ---------------------------------------------------------------- recipes

def load_recipes(rdir):
    """{recipe name: table}, {package: recipe name}."""
    recipes, owner = {}, {}
    files = sorted(glob.glob(os.path.join(rdir, "*.toml")))
    for path in files:
        try:
            data = tomllib.load(open(path, "rb"))
        except tomllib.TOMLDecodeError as e:
            raise RecipeError(f"{path}: {e}") from e
        for name, table in data.items():
            where = f"{path}: [{name}]"
            if not isinstance(table, dict):
                raise RecipeError(f"{where}: not a table")
            if name in recipes:
                raise RecipeError(f"{where}: recipe defined twice")
            kind = table.get("kind")
            if kind not in RESOLVERS:
                raise RecipeError(f"{where}: kind must be one of {', '.join(RESOLVERS)}")
            need = {"git": ["repo", "tag"], "archive": ["path", "version"],
                    "script": ["script"]}.get(kind, [])
            for k in ["packages"] + need:
                if k not in table:
                    raise RecipeError(f"{where}: missing key {k}")
            for p in table["packages"]:
                if p in owner:
                    raise RecipeError(f"{where}: package {p} already served by [{owner[p]}]")
                owner[p] = name
            table = dict(table, _name=name)
            table.pop("_file", None)
            recipes[name] = table
    return recipes, owner


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--buildroot", required=True)
    ap.add_argument("--external", required=True)
    ap.add_argument("--show-info", required=True)
    ap.add_argument("--cache", required=True)
    ap.add_argument("--only", nargs="+", default=[])
    ap.add_argument("--recipes", default=os.path.join(HERE, "overrides.d"))
    ap.add_argument("--special", default=os.path.join(HERE, "special"))
    ap.add_argument("--global-patch-dir", action="append", default=[])
    ap.add_argument("--list", action="store_true")
    args = ap.parse_args()

    ctx = Context(args)
    info = json.load(open(ctx.show_info))
    ctx.packages = {n: Package(n, v, ctx.buildroot) for n, v in info.items() if v.get("downloads")}
    try:
        recipes, owner = load_recipes(args.recipes)
    except RecipeError as e:
        log(f"error: {e}")
        return 2
    unknown = [p for p in args.only if p not in ctx.packages]
    if unknown:
        log(f"error: --only: not show-info packages with downloads: {' '.join(unknown)}")
        return 2
    need = needing(ctx.packages, ctx.cache)

    if args.list:
        for p in sorted(need):
            print(f"{p:32} {owner.get(p, '-'):24} {' '.join(need[p])}")
        return 0
    os.makedirs(ctx.trees, exist_ok=True)
    with open(os.path.join(ctx.cache, "overrides", ".lock"), "w") as lock:
        if not try_lock(lock):
            log("waiting for CACHE/overrides/.lock (another overrides.py runs)")
            fcntl.flock(lock, fcntl.LOCK_EX)
        return run_recipes(args, ctx, recipes, owner, need)


def try_lock(lock):
    try:
        fcntl.flock(lock, fcntl.LOCK_EX | fcntl.LOCK_NB)
        return True
    except BlockingIOError:
        return False


def run_recipes(args, ctx, recipes, owner, need):
    """Make the trees of the recipes that serve packages in need; the exit status."""
    todo = {}
    for p in sorted(need):
        if args.only and p not in args.only:
            continue
        if p in owner:
            todo.setdefault(owner[p], []).append(p)
    summary, failed = [], 0
    for rname in sorted(todo):
        pkgs = todo[rname]
        try:
            stamps = process_recipe(recipes[rname], pkgs, ctx)
        except (Failed, OSError, KeyError) as e:
            log(f"== {rname}: FAILED: {e}")
            failed += 1
            for p in pkgs:
                summary.append((p, rname, "FAILED", str(e)[:60], "", ""))
            continue
        for p, st in sorted(stamps.items()):
            write_provenance(ctx.packages[p], st, need[p], ctx)
            pr = st["patches"]
            summary.append((p, rname, st["version"], "same" if st["same_version"] else "OTHER",
                            f"{len(pr.get('applied', []))}/{len(pr.get('failed', []))}"
                            f"/{len(pr.get('already_in_source', []))}", st["from"]))
    n = write_override_mk(need, ctx)
    print(f"{'package':28} {'recipe':20} {'version':12} {'vers.':5} {'a/f/in':7} from")
    for row in summary:
        print(f"{row[0]:28} {row[1]:20} {row[2]:12} {row[3]:5} {row[4]:7} {row[5]}")
    missing = sorted(p for p in need if p not in owner and (not args.only or p in args.only))
    if missing:
        print(f"no recipe: {' '.join(missing)}")
    print(f"override.mk: {n} packages; {failed} recipe(s) failed")
    return 1 if failed else 0


if __name__ == "__main__":
    sys.exit(main())
