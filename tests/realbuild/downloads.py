#!/usr/bin/python3
"""Fill a Buildroot download directory with byte-identical copies of its downloads.

usage: downloads.py --buildroot DIR --external TREE --show-info FILE --cache CACHE
                    [--git-dir DIR] [--defconfig FILE] [--debian-mirror URL] [--tar TAR]
                    [--only PKG ...]

For every download that `make show-info` lists, the file is looked for where a
machine without the upstream sites can still get the same bytes, in this order:

  debian  Debian's source indices (tests/realbuild/downloads.toml lists the suites),
          matched by the checksums of Buildroot's .hash files, then the pool file;
  pypi    python-* packages: show-info's own URL (PyPI's file host), then
          `pip download --no-binary :all: --no-deps NAME==VERSION`;
  github  GitHub "archive/<tag>" URLs: `git archive --prefix=<repo>-<tag>/ | gzip -n`
          of a mirror (GIT_DIR/<owner>+<repo>/repo, as the fetch tool lays them);
  go      Buildroot's "-go2" archives: scripts/go-vendor-hash (git archive, then
          Buildroot's own support/download/go-post-process).

A file is kept only when Buildroot's own support/download/check-hash accepts it
against every .hash file of every package that shares it (the .hash files are
found as Buildroot finds them: <pkgdir>[/<version>]/<name>.hash and
BR2_GLOBAL_PATCH_DIR/<name>[/<version>]/<name>.hash). It is stored as
CACHE/dl/<dl subdir>/<file> (BR2_DL_DIR layout) with one provenance row per
package in CACHE/provenance/<package>__<file>.json. What could not be had
identically is printed at the end and written to CACHE/not-identical.txt
(package, file, what was tried), for the overrides to take over.

Rerunnable: indices, pip downloads and placed files are kept; a placed file that
still passes its hashes and has its provenance rows is not fetched again.
"""

import argparse
import dataclasses
import json
import lzma
import os
import re
import shutil
import subprocess
import sys
import tempfile
import tomllib
import urllib.error
import urllib.request
from pathlib import Path

HERE = Path(__file__).resolve().parent
REPO = HERE.parent.parent
KINDS = ("debian", "pypi", "github", "go")
USER_AGENT = "buildroot4kubernetes-realbuild-downloads"


class NotServed(Exception):
    """The server answered 404 for a file its index lists."""


@dataclasses.dataclass
class DebFile:
    """One file of a Debian source package, as a Sources index lists it."""
    suite: str
    archive: str
    package: str
    version: str
    directory: str
    name: str
    size: int
    sha256: str = ""
    md5: str = ""


@dataclasses.dataclass
class Download:
    """One file of the download directory and the show-info packages that need it."""
    dl_dir: str
    file: str
    version: str
    uris: list
    # package name -> its .hash files, as Buildroot computes them
    packages: dict = dataclasses.field(default_factory=dict)
    tried: list = dataclasses.field(default_factory=list)

    @property
    def key(self):
        return f"{self.dl_dir}/{self.file}"


@dataclasses.dataclass
class Found:
    """Where an identical copy came from."""
    kind: str
    origin: str
    note: str = ""


# ---------------------------------------------------------------------------
# Buildroot's view: show-info, .hash files, check-hash

def sanitize(version):
    """Buildroot's $(call sanitize,...) (support/misc/utils.mk)."""
    return version.strip().replace("/", "_").replace(":", "_").replace(" ", "_")


def rawname(pkg):
    return pkg[len("host-"):] if pkg.startswith("host-") else pkg


def external_name(tree):
    """The name line of TREE/external.desc (BR2_EXTERNAL_<name>_PATH)."""
    for line in (tree / "external.desc").read_text().splitlines():
        if line.startswith("name:"):
            return line.split(":", 1)[1].strip()
    raise SystemExit(f"{tree}/external.desc: no 'name:' line")


def global_patch_dirs(defconfig, tree):
    """BR2_GLOBAL_PATCH_DIR of a defconfig, with the external tree's path variable expanded."""
    if defconfig is None or not defconfig.is_file():
        return []
    var = f"$(BR2_EXTERNAL_{external_name(tree)}_PATH)"
    for line in defconfig.read_text().splitlines():
        if line.startswith("BR2_GLOBAL_PATCH_DIR="):
            value = line.split("=", 1)[1].strip().strip('"')
            return [Path(d.replace(var, str(tree))) for d in value.split()]
    return []


class Rebase:
    """Maps show-info's absolute paths (the external tree it was made with) onto --external."""

    def __init__(self, info, buildroot, tree):
        self.buildroot = buildroot
        self.tree = tree
        paths = [p for v in info.values() for p in [v.get("package_dir", "")] + v.get("hashes", [])
                 if p.startswith("/")]
        self.root = None
        if paths:
            root = Path(os.path.commonpath(paths))
            while not all((tree / Path(p).relative_to(root)).exists() for p in paths):
                if root == root.parent:
                    raise SystemExit(f"show-info's external paths (e.g. {paths[0]}) "
                                     f"are not in {tree}")
                root = root.parent
            self.root = root

    def __call__(self, path):
        if not path.startswith("/"):
            return self.buildroot / path
        if self.root is not None and Path(path).is_relative_to(self.root):
            return self.tree / Path(path).relative_to(self.root)
        return Path(path)


def hash_files(name, info, rebase, patch_dirs):
    """A package's .hash files: Buildroot's <PKG>_HASH_FILES (package/pkg-generic.mk),
    checked against what show-info says it found."""
    raw = rawname(name)
    version = sanitize(info.get("version", ""))
    dirs = [rebase(info["package_dir"])] + [d / raw for d in patch_dirs]
    computed = []
    for d in dirs:
        versioned = d / version / f"{raw}.hash"
        f = versioned if version and versioned.exists() else d / f"{raw}.hash"
        if f.exists():
            computed.append(f)
    reported = [rebase(h) for h in info.get("hashes", [])]
    if [p.resolve() for p in computed] != [p.resolve() for p in reported]:
        print(f"warning: {name}: .hash files {[str(p) for p in computed]} differ from "
              f"show-info's {[str(p) for p in reported]}; using show-info's", file=sys.stderr)
        return reported
    return computed


def expected_hashes(files, base):
    """(algo, value, hash file) for base, read the way support/download/check-hash reads them."""
    out = []
    for hf in files:
        if not hf.is_file():
            continue
        for line in hf.read_text(errors="replace").splitlines():
            parts = line.split(None, 2)
            if not parts or parts[0].startswith("#"):
                continue
            fname = parts[2].strip() if len(parts) > 2 else ""
            if fname == base:
                out.append((parts[0], parts[1] if len(parts) > 1 else "", hf))
    return out


def collect(info, rebase, patch_dirs, only):
    """The distinct files (dl subdir, file) of show-info, with the packages sharing each."""
    downloads = {}
    for name, pkg in sorted(info.items()):
        if only and name not in only:
            continue
        for dl in pkg.get("downloads", []):
            key = f"{pkg['dl_dir']}/{dl['source']}"
            d = downloads.setdefault(key, Download(pkg["dl_dir"], dl["source"],
                                                   pkg.get("version", ""), dl["uris"]))
            d.packages[name] = hash_files(name, pkg, rebase, patch_dirs)
    return list(downloads.values())


class Checker:
    """Accepts a candidate file only if Buildroot's check-hash does, for every sharing package."""

    def __init__(self, buildroot):
        self.script = buildroot / "support/download/check-hash"

    def __call__(self, dl, path):
        for files in dl.packages.values():
            if not expected_hashes(files, dl.file):
                return False
            r = subprocess.run([str(self.script), "-q", str(path), dl.file] + [str(f) for f in files],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
            if r.returncode != 0:
                return False
        return True


# ---------------------------------------------------------------------------
# Fetching

def http_get(url, dest, timeout=60):
    """Download url to dest; NotServed on 404, OSError on anything else."""
    req = urllib.request.Request(url, headers={"User-Agent": USER_AGENT})
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r, open(dest, "wb") as out:
            shutil.copyfileobj(r, out, 1 << 20)
    except urllib.error.HTTPError as e:
        if e.code == 404:
            raise NotServed(url) from e
        raise OSError(f"{url}: HTTP {e.code}") from e
    except urllib.error.URLError as e:
        raise OSError(f"{url}: {e.reason}") from e


def fetch_cached(url, dest):
    """dest if present, else download it (tmp, then rename)."""
    if dest.exists():
        return dest
    dest.parent.mkdir(parents=True, exist_ok=True)
    tmp = dest.with_name(dest.name + ".part")
    http_get(url, tmp, timeout=300)
    tmp.rename(dest)
    return dest


def site_url(uri):
    """show-info's "<method>+<url>" (with "|urlencode" options) to a plain URL."""
    method, _, url = uri.partition("+")
    return url if url else method


# ---------------------------------------------------------------------------
# Source: Debian source indices

def apt_mirror():
    """The Debian mirror root apt uses here (the URI whose last component is 'debian')."""
    uris = []
    srcdir = Path("/etc/apt")
    files = [srcdir / "sources.list"] + sorted((srcdir / "sources.list.d").glob("*.sources")) \
        + sorted((srcdir / "sources.list.d").glob("*.list"))
    for f in files:
        if not f.is_file():
            continue
        for line in f.read_text().splitlines():
            m = re.match(r"\s*URIs:\s*(.*)", line) or re.match(r"\s*deb(?:-src)?\s+(?:\[[^]]*\]\s+)?(\S+)", line)
            if m:
                uris += m.group(1).split()
    for u in uris:
        if u.rstrip("/").endswith("/debian"):
            return u.rstrip("/")[: -len("/debian")]
    return None


def parse_sources(path, suite, archive):
    """The files of every source package of a Sources.xz index."""
    out = []
    with lzma.open(path, "rt", encoding="utf-8", errors="replace") as f:
        fields, field = {}, None
        for line in f:
            if line.strip() == "":
                out += stanza_files(fields, suite, archive)
                fields, field = {}, None
            elif line[0] in " \t":
                if field is not None:
                    fields[field].append(line.strip())
            else:
                field, _, value = line.partition(":")
                fields[field] = [value.strip()] if value.strip() else []
        out += stanza_files(fields, suite, archive)
    return out


def stanza_files(fields, suite, archive):
    if "Package" not in fields or "Directory" not in fields:
        return []
    files = {}
    for line in fields.get("Checksums-Sha256", []):
        sha, size, name = line.split()
        files[name] = DebFile(suite, archive, fields["Package"][0], fields["Version"][0],
                              fields["Directory"][0], name, int(size), sha256=sha)
    for line in fields.get("Files", []):
        md5, size, name = line.split()
        f = files.setdefault(name, DebFile(suite, archive, fields["Package"][0], fields["Version"][0],
                                           fields["Directory"][0], name, int(size)))
        f.md5 = md5
    return list(files.values())


class Debian:
    """Debian's source indices of the configured suites, searched by checksum or file name."""

    def __init__(self, cache, suites, mirror):
        self.mirror = mirror
        self.cache = cache / "src/debian"
        self.by = {"sha256": {}, "md5": {}, "name": {}}
        self.dirs = {}  # source package -> (archive, pool directory)
        # Pool paths found not served (404) before: not asked again (delete the file to retry).
        self.not_served_file = self.cache / "not-served.txt"
        self.not_served = set(self.not_served_file.read_text().split()) \
            if self.not_served_file.is_file() else set()
        self.suites = []
        for s in suites:
            idx = self.cache / f"Sources-{s['suite']}.xz"
            url = f"{mirror}/{s['archive']}/dists/{s['suite']}/main/source/Sources.xz"
            try:
                fetch_cached(url, idx)
            except (NotServed, OSError) as e:
                print(f"warning: debian {s['suite']}: no index ({e})", file=sys.stderr)
                continue
            self.suites.append(s["suite"])
            for f in parse_sources(idx, s["suite"], s["archive"]):
                self.dirs.setdefault(f.package, (f.archive, f.directory))
                for key, value in (("sha256", f.sha256), ("md5", f.md5), ("name", f.name)):
                    if value:
                        self.by[key].setdefault(value, []).append(f)

    def get(self, pool, dest):
        """Download a pool file; NotServed (remembered) on 404."""
        if pool in self.not_served:
            raise NotServed(pool)
        try:
            http_get(f"{self.mirror}/{pool}", dest, timeout=300)
        except NotServed:
            self.not_served.add(pool)
            tmp = self.not_served_file.with_name(self.not_served_file.name + ".tmp")
            tmp.write_text("".join(p + "\n" for p in sorted(self.not_served)))
            tmp.rename(self.not_served_file)
            raise

    def candidates(self, dl):
        """Debian files that may be dl: same sha256 or md5 as a .hash line, else same name
        (the file itself, or Debian's <source>_<version>.orig<ext> of it)."""
        hashes = [(a, v) for files in dl.packages.values() for a, v, _ in expected_hashes(files, dl.file)]
        found = []
        for algo, value in hashes:
            found += self.by.get(algo, {}).get(value, [])
        if not any(a in ("sha256", "md5") for a, _ in hashes):
            found += self.by["name"].get(dl.file, [])
            m = re.match(r"(.+?)-?" + re.escape(dl.version) + r"(\.tar\.\w+)$", dl.file)
            if m:
                for src in {m.group(1), *(rawname(p) for p in dl.packages)}:
                    found += self.by["name"].get(f"{src}_{dl.version}.orig{m.group(2)}", [])
        return found

    def earlier_upload(self, dl):
        """The pool path Debian would give dl's version as an upstream tarball
        (<source>_<version>.orig<ext>) when the indices list another version of
        that source package: the pool keeps files of earlier uploads for a while.
        One path per download, for the source packages its name points at."""
        ext = r"(\.tar\.(?:gz|bz2|xz)|\.tgz)$"
        # A package's extra downloads (gettext-tiny's gettext) carry their own version.
        m = re.match(r"(.+?)[-_.]?(" + re.escape(dl.version) + ")" + ext, dl.file) \
            or re.match(r"(.+?)-([0-9][0-9a-z.]*)" + ext, dl.file)
        if not m:
            return []
        prefix, version, ext = m.group(1).lower(), m.group(2), m.group(3).replace(".tgz", ".tar.gz")
        series = ".".join(version.split(".")[:2])
        names = {prefix, prefix.replace("_", "-"), prefix + series, *(rawname(p) for p in dl.packages)}
        paths = []
        for src in sorted(names):
            if src in self.dirs:
                archive, directory = self.dirs[src]
                name = f"{src}_{version}.orig{ext}"
                if not self.by["name"].get(name):
                    paths.append((src, f"{archive}/{directory}/{name}"))
        return paths


def from_debian(dl, ctx, tmp):
    if ctx.debian is None:
        dl.tried.append("debian: no index")
        return None
    cands = ctx.debian.candidates(dl)
    if not cands:
        dl.tried.append(f"debian: not in the indices of {', '.join(ctx.debian.suites)}")
        return from_debian_pool(dl, ctx, tmp)
    seen = set()
    for c in cands:
        pool = f"{c.archive}/{c.directory}/{c.name}"
        if pool in seen:
            continue
        seen.add(pool)
        suites = [s for s in ctx.debian.suites
                  if any(x.suite == s and f"{x.archive}/{x.directory}/{x.name}" == pool for x in cands)]
        try:
            ctx.debian.get(pool, tmp)
        except NotServed:
            dl.tried.append(f"debian: {'/'.join(suites)} lists {c.name} ({c.package} {c.version}) "
                            f"but {pool} is not served here (404)")
            continue
        except OSError as e:
            dl.tried.append(f"debian: {pool}: {e}")
            continue
        if ctx.check(dl, tmp):
            note = f"Debian source package {c.package} {c.version}, {pool}"
            if dl.tried:
                note += "; before: " + "; ".join(dl.tried)
            return Found("debian", f"debian {suites[0]} {c.name}", note)
        dl.tried.append(f"debian: {pool} does not match Buildroot's hash")
    return None


def from_debian_pool(dl, ctx, tmp):
    """An upload the indices no longer list, still in the pool (see Debian.earlier_upload)."""
    for src, pool in ctx.debian.earlier_upload(dl):
        try:
            ctx.debian.get(pool, tmp)
        except NotServed:
            dl.tried.append(f"debian: {pool} (an earlier upload of {src}) is not served (404)")
            continue
        except OSError as e:
            dl.tried.append(f"debian: {pool}: {e}")
            continue
        if ctx.check(dl, tmp):
            return Found("debian", f"debian pool {pool.rsplit('/', 1)[1]}",
                         f"{pool}: an earlier upload of source package {src}, still in the pool "
                         "though no index here lists it")
        dl.tried.append(f"debian: {pool} (an earlier upload of {src}) does not match Buildroot's hash")
    return None


# ---------------------------------------------------------------------------
# Source: PyPI

def is_python(dl, ctx):
    return any(re.match(r"(host-)?python-", p) or p in ctx.pypi_also for p in dl.packages)


def from_pypi(dl, ctx, tmp):
    if not is_python(dl, ctx):
        return None
    url = f"{site_url(dl.uris[0])}/{dl.file}"
    try:
        http_get(url, tmp)
        if ctx.check(dl, tmp):
            return Found("pypi", f"pypi {url}")
        dl.tried.append(f"pypi: {url} does not match Buildroot's hash")
    except (NotServed, OSError) as e:
        dl.tried.append(f"pypi: {url}: {e}")
    m = re.match(r"(.+)-" + re.escape(dl.version) + r"\.(tar\.gz|zip|tar\.bz2)$", dl.file)
    if not m:
        dl.tried.append("pypi: file name is not <name>-<version>.<ext>")
        return None
    spec = f"{m.group(1)}=={dl.version}"
    got = ctx.cache / "src/pypi" / f"{m.group(1)}-{dl.version}"
    if not got.is_dir() or not any(got.iterdir()):
        work = Path(tempfile.mkdtemp(dir=ctx.cache / "src", prefix="pypi."))
        r = subprocess.run([sys.executable, "-m", "pip", "download", "--no-binary", ":all:",
                            "--no-deps", "--quiet", "-d", str(work), spec],
                           cwd=work, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
        if r.returncode != 0:
            shutil.rmtree(work)
            dl.tried.append(f"pypi: pip download {spec} failed: {r.stderr.strip().splitlines()[-1:]}")
            return None
        got.parent.mkdir(parents=True, exist_ok=True)
        if got.exists():
            shutil.rmtree(got)
        work.rename(got)
    for f in sorted(got.iterdir()):
        shutil.copyfile(f, tmp)
        if ctx.check(dl, tmp):
            return Found("pypi", f"pypi pip download {spec} ({f.name})")
    dl.tried.append(f"pypi: pip download {spec} gave {[f.name for f in got.iterdir()]}, "
                    "not matching Buildroot's hash")
    return None


# ---------------------------------------------------------------------------
# Sources: GitHub archives of a tag (plain, and vendored Go packages)

GITHUB_ARCHIVE = re.compile(r"^https?://github\.com/([^/]+)/([^/]+)/archive/(.+?)/?$")


def github_archive(dl):
    """(owner, repo, tag) of show-info's GitHub "archive/<tag>" URL, if it is one."""
    m = GITHUB_ARCHIVE.match(site_url(dl.uris[0]))
    return m.groups() if m else None


def mirror_of(dl, ctx, kind):
    """The mirror and tag of a GitHub archive download, or None with a note."""
    gh = github_archive(dl)
    if gh is None:
        return None
    owner, repo, tag = gh
    gitdir = ctx.git_dir / f"{owner}+{repo}" / "repo"
    if not gitdir.is_dir():
        dl.tried.append(f"{kind}: no mirror {gitdir} (fetch github:{owner}/{repo})")
        return None
    r = subprocess.run(["git", "-C", str(gitdir), "rev-parse", "-q", "--verify", f"refs/tags/{tag}^{{commit}}"],
                       stdout=subprocess.DEVNULL)
    if r.returncode != 0:
        dl.tried.append(f"{kind}: tag {tag} not in {gitdir}")
        return None
    return owner, repo, tag, gitdir


def from_github(dl, ctx, tmp):
    if dl.file.endswith(ctx.go_suffix):
        return None
    got = mirror_of(dl, ctx, "github")
    if got is None:
        return None
    owner, repo, tag, gitdir = got
    # GitHub names the top directory <repo>-<tag>, less a 'v' before a digit.
    prefix = f"{repo}-{tag[1:] if re.match(r'v[0-9]', tag) else tag}/"
    with open(tmp, "wb") as out:
        archive = subprocess.Popen(["git", "-C", str(gitdir), "archive", "--format=tar",
                                    f"--prefix={prefix}", tag], stdout=subprocess.PIPE)
        gz = subprocess.run(["gzip", "-n"], stdin=archive.stdout, stdout=out)
        archive.stdout.close()
        if archive.wait() != 0 or gz.returncode != 0:
            dl.tried.append(f"github: git archive {owner}/{repo} {tag} failed")
            return None
    if ctx.check(dl, tmp):
        return Found("github", f"github git archive {owner}/{repo} {tag}",
                     f"git archive --format=tar --prefix={prefix} {tag} | gzip -n")
    dl.tried.append(f"github: git archive {owner}/{repo} {tag} | gzip -n does not match Buildroot's hash")
    return None


def from_go(dl, ctx, tmp):
    if not dl.file.endswith(ctx.go_suffix):
        return None
    got = mirror_of(dl, ctx, "go")
    if got is None:
        return None
    owner, repo, tag, gitdir = got
    name = f"{dl.dl_dir}-{sanitize(dl.version)}"
    env = dict(os.environ, BUILDROOT_DIR=str(ctx.buildroot), TAR=ctx.tar,
               PATH=f"{Path(ctx.tar).parent}:{os.environ['PATH']}")
    if ctx.goproxy:
        env.setdefault("GOPROXY", ctx.goproxy)
    r = subprocess.run(["nice", "-n", "10", str(REPO / "scripts/go-vendor-hash"), "-o", str(tmp),
                        str(gitdir), repo, tag, name], env=env, capture_output=True, text=True)
    if r.returncode != 0:
        dl.tried.append(f"go: scripts/go-vendor-hash {owner}/{repo} {tag} failed: "
                        f"{r.stderr.strip().splitlines()[-1:]}")
        return None
    if ctx.check(dl, tmp):
        tools = r.stderr.strip().splitlines()[-1].lstrip("# ")
        return Found("go", f"github git archive {owner}/{repo} {tag} + go-post-process",
                     f"scripts/go-vendor-hash ({tools})")
    dl.tried.append(f"go: scripts/go-vendor-hash {owner}/{repo} {tag} does not match Buildroot's hash")
    return None


SOURCES = (from_debian, from_pypi, from_github, from_go)


# ---------------------------------------------------------------------------
# Results

def provenance_path(ctx, pkg, file):
    return ctx.cache / "provenance" / f"{pkg}__{file}.json"


def write_json(path, row):
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = path.with_name(path.name + ".tmp")
    tmp.write_text(json.dumps(row, indent=2) + "\n")
    tmp.rename(path)


def kind_of(row):
    """The source kind of a provenance row this script wrote."""
    origin = row.get("from", "")
    if origin.endswith("+ go-post-process"):
        return "go"
    return origin.split(" ", 1)[0]


def already_done(dl, ctx, dest):
    """The kind of a placed file that still passes and has all its rows, else None."""
    rows = []
    for pkg in dl.packages:
        p = provenance_path(ctx, pkg, dl.file)
        if not p.is_file():
            return None
        rows.append(json.loads(p.read_text()))
    if not dest.is_file() or any(r.get("how") != "identical" for r in rows) or not ctx.check(dl, dest):
        return None
    return kind_of(rows[0])


def resolve(dl, ctx):
    """Place dl in the download directory if some source has it identical; the kind, or None."""
    dest = ctx.cache / "dl" / dl.dl_dir / dl.file
    kind = already_done(dl, ctx, dest)
    if kind:
        return kind
    if any(u.startswith("local+") for u in dl.uris):
        dl.tried.append("local site: Buildroot makes this archive from a local tree; no hash to match")
        return None
    dest.parent.mkdir(parents=True, exist_ok=True)
    fd, name = tempfile.mkstemp(dir=dest.parent, prefix=f".{dl.file}.")
    os.close(fd)
    tmp = Path(name)
    try:
        for source in SOURCES:
            found = source(dl, ctx, tmp)
            if found:
                tmp.chmod(0o644)
                tmp.rename(dest)
                for pkg in dl.packages:
                    write_json(provenance_path(ctx, pkg, dl.file), {
                        "package": pkg, "file": dl.file, "how": "identical", "from": found.origin,
                        "version": dl.version, "same_version": True,
                        "patches": {"applied": [], "failed": []},
                        "note": "; ".join(x for x in (found.note, "Buildroot applies its own patches")
                                          if x)})
                return found.kind
    finally:
        tmp.unlink(missing_ok=True)
    dl.tried.append(f"upstream: {site_url(dl.uris[0])}/{dl.file}")
    return None


class Context:
    """What the sources need: paths, the hash check, the Debian indices."""

    def __init__(self, args, config):
        self.buildroot = args.buildroot.resolve()
        self.cache = args.cache.resolve()
        self.git_dir = args.git_dir
        self.tar = args.tar
        self.check = Checker(self.buildroot)
        self.pypi_also = set(config.get("pypi", {}).get("also", []))
        fmt = re.search(r"^BR_FMT_VERSION_go = (\S+)",
                        (self.buildroot / "package/pkg-download.mk").read_text(), re.M)
        self.go_suffix = f"{fmt.group(1)}.tar.gz"
        r = subprocess.run(["go", "env", "GOPROXY"], capture_output=True, text=True)
        self.goproxy = r.stdout.strip() if r.returncode == 0 else ""
        mirror = args.debian_mirror or apt_mirror()
        if mirror is None:
            print("warning: no Debian mirror (none in apt's sources; give --debian-mirror)",
                  file=sys.stderr)
            self.debian = None
        else:
            self.debian = Debian(self.cache, config.get("debian", []), mirror.rstrip("/"))


def report(downloads, results, ctx, partial):
    rows = [(p, dl) for dl in downloads for p in dl.packages]
    print(f"\n{len(downloads)} distinct files ({len(rows)} package downloads)")
    for label, unit in (("files", [(dl.key, dl) for dl in downloads]), ("package downloads", rows)):
        counts = {}
        for _, dl in unit:
            k = results[dl.key] or "not found"
            counts[k] = counts.get(k, 0) + 1
        ident = sum(v for k, v in counts.items() if k != "not found")
        by = ", ".join(f"{k} {counts[k]}" for k in KINDS if k in counts)
        print(f"{label}: identical {ident} ({by}), not found {counts.get('not found', 0)}")
    missing = [(p, dl) for p, dl in rows if not results[dl.key]]
    by_site = {}
    for _, dl in missing:
        host = re.sub(r"^[a-z]+://([^/]+).*", r"\1", site_url(dl.uris[0]))
        by_site[host] = by_site.get(host, 0) + 1
    print("not found, by upstream site: " + ", ".join(f"{h} {n}" for h, n in sorted(by_site.items())))
    lines = [f"{p}\t{dl.file}\t{' | '.join(dl.tried)}" for p, dl in missing]
    where = ""
    if not partial:  # the list is only whole for a run over all of show-info
        out = ctx.cache / "not-identical.txt"
        tmp = out.with_name(out.name + ".tmp")
        tmp.write_text("# package\tfile\twhat was tried (tests/realbuild/downloads.py)\n"
                       + "".join(line + "\n" for line in lines))
        tmp.rename(out)
        where = f"; also in {out}"
    print(f"\nnot identical ({len(missing)}{where}):")
    for line in lines:
        print("  " + line.replace("\t", "  "))


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--buildroot", type=Path, required=True, help="Buildroot source tree")
    ap.add_argument("--external", type=Path, required=True, help="the BR2_EXTERNAL tree")
    ap.add_argument("--show-info", type=Path, required=True, help="output of `make show-info`")
    ap.add_argument("--cache", type=Path, required=True, help="cache root (dl/, provenance/, src/)")
    ap.add_argument("--git-dir", type=Path, default=Path(os.environ.get("B4K_MIRROR_DIR", "mirrors")),
                    help="GitHub mirrors as <owner>+<repo>/repo (default: %(default)s)")
    ap.add_argument("--defconfig", type=Path,
                    help="defconfig for BR2_GLOBAL_PATCH_DIR (default: TREE/configs/pc_defconfig)")
    ap.add_argument("--debian-mirror", help="Debian mirror root (default: apt's)")
    ap.add_argument("--tar", default=os.environ.get("TAR", "tar"),
                    help="GNU tar >= 1.35 for go-post-process (default: $TAR or tar)")
    ap.add_argument("--config", type=Path, default=HERE / "downloads.toml")
    ap.add_argument("--only", action="append", default=[], metavar="PKG",
                    help="only these show-info packages (repeatable)")
    args = ap.parse_args()

    tree = args.external.resolve()
    info = json.loads(args.show_info.read_text())
    config = tomllib.loads(args.config.read_text())
    defconfig = args.defconfig or tree / "configs/pc_defconfig"
    ctx = Context(args, config)
    (ctx.cache / "src").mkdir(parents=True, exist_ok=True)
    rebase = Rebase(info, ctx.buildroot, tree)
    downloads = collect(info, rebase, global_patch_dirs(defconfig, tree), set(args.only))

    results = {}
    for dl in downloads:
        results[dl.key] = resolve(dl, ctx)
        print(f"{results[dl.key] or 'NOT FOUND':9}  {dl.key}", flush=True)
    report(downloads, results, ctx, partial=bool(args.only))


if __name__ == "__main__":
    main()
