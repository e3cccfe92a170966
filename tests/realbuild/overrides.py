#!/usr/bin/python3
"""Source trees for the downloads that cannot be had byte-identical.

Usage:
  overrides.py --buildroot DIR --external TREE --show-info FILE --cache CACHE
               [--only PKG ...] [--recipes DIR] [--global-patch-dir DIR ...]
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
that file exists (a line names the file and/or the package, first field
wins: `<pkg> <file> ...` or `<file>`; `#` starts a comment); otherwise the
file CACHE/dl/<dl_dir>/<file> is missing or fails a hash line of the
package's .hash files.  `local` site downloads are never overridden here.

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
  stubs       list of files (relative to the tree) to create empty if
              missing, before `prepare` (e.g. texinfo sources that Debian
              strips as non-free: see `texi_stubs`)
  texi_stubs  list of .texi files to create as a minimal valid Texinfo
              manual if missing (bison, gawk: GFDL docs stripped by Debian;
              make stops on the missing .texi)
  prepare     list of shell commands (sh -e) run in the tree BEFORE the
              patches: make a checkout look like a release tarball
              (e.g. "autoreconf -fi", "./autogen.sh")
  finish      list of shell commands run in the tree AFTER the patches
  rm          list of paths (relative, globs allowed) removed after finish
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
                "nearest"  the newest upstream version older than
                           Buildroot's, else the oldest newer one
                "newest"   the newest upstream version
                "<x.y.z>"  exactly that upstream version
              The Debian repack suffix (+dfsg, +ds, ~dfsg ...) is ignored
              when versions are compared; a file the archive does not serve
              (404) moves on to the next candidate.
  subdir      optional subdirectory of the extracted source used as the tree

kind = "git": a GitHub repository brought to /work/.mirror/<owner>+<name>/repo
by the `fetch` tool (the script cannot fetch: it names the missing mirror).
  repo        "owner/name"
  tag         a tag, branch or commit, or a list tried in order; "{version}"
              is replaced by Buildroot's version
  version     the upstream version the tag stands for (default: Buildroot's
              version if the tag used contains "{version}", else the tag)
  The tree is `git archive` of that commit (no .git directory).

kind = "pypi": an sdist from PyPI (pip download --no-binary :all: --no-deps).
  project     the PyPI project name
  version     exact version (default: Buildroot's version)

kind = "archive": a tarball already on disk.
  path        relative to CACHE (e.g. "src/foo/foo-1.2.tar.gz")
  version     the upstream version it holds (required)
  from        provenance text (default: the path)

kind = "script": tests/realbuild/special/<script> is run (by its #! line)
with the environment above plus
  DEST        an empty directory: fill it with the source tree
  INFO        a file the script may write: a JSON object with any of
              "from", "version", "same_version" (bool), "note",
              "patches" ({"applied": [...], "failed": [...]}; used with
              patches = "done")
  SHOW_INFO   the show-info JSON file
  script      the script's file name under tests/realbuild/special/
  version     optional: the version used, when INFO does not say
  A non-zero exit fails the recipe (the tree is discarded).  The script's
  content is part of the recipe key: editing it rebuilds the tree.

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

Provenance row
--------------
  {"package": "host-xz", "file": "xz-5.8.3.tar.bz2", "how": "override",
   "from": "debian trixie xz-utils_5.8.3.orig.tar.xz",
   "version": "5.8.3", "same_version": true,
   "patches": {"applied": [...], "failed": [...], "fuzzed": [...],
               "already_in_source": [...]},
   "tree": "CACHE/overrides/.trees/xz-5.8.3", "recipe": "xz",
   "note": "..."}

Exit status: 0 when every recipe processed is ready, 1 when one failed,
2 on a usage or recipe error.  A summary table goes to stdout, progress and
command output to stderr.  --list prints which packages need an override and
which recipe serves them, and changes nothing.

Host tools (Debian): patch, rsync, git, xz-utils, bzip2, lzip, zstd, curl or
python3's urllib (used), autoconf, automake, libtool, autopoint, gettext,
pkgconf, texinfo -- for the recipes' prepare steps.
"""

import sys


def main():
    print("overrides.py: not implemented yet", file=sys.stderr)
    return 2


if __name__ == "__main__":
    sys.exit(main())
