#!/usr/bin/python3
"""The real-build lane's provenance table: for every download of `make show-info`,
where the bytes that Buildroot built came from.

    provenance.py --show-info FILE --rows DIR [--out FILE.md]
    provenance.py --rows DIR --override-file FILE.mk --overrides DIR

The second form writes BR2_PACKAGE_OVERRIDE_FILE: one <PKG>_OVERRIDE_SRCDIR line
per tree under the overrides directory (named by Buildroot's package name:
host-util-linux -> HOST_UTIL_LINUX_OVERRIDE_SRCDIR), except for a package whose
downloads all have a byte-identical copy: Buildroot then builds from the real
bytes, with its patches, and the tree is left unused.

DIR holds one JSON row per download, written by the steps that placed it
(downloads.py: byte-identical files in the download directory; overrides.py and
tests/realbuild/special/: override trees; toolchain.sh, hosttools.sh: the build
host substitutions), keyed by "package" and "file". A download with no row is
reported as "unaccounted" and makes the exit status 1, so that the table cannot
silently skip one. Prints the counts; writes the whole table as Markdown.
"""

import argparse
import collections
import json
import os
import sys


def load_rows(directory):
    """{(package, file): row} of every *.json in directory."""
    rows = {}
    for name in sorted(os.listdir(directory)):
        if not name.endswith(".json"):
            continue
        path = os.path.join(directory, name)
        try:
            with open(path, encoding="utf-8") as f:
                row = json.load(f)
            rows[(row["package"], row["file"])] = row
        except (OSError, ValueError, KeyError) as e:
            raise SystemExit(f"{path}: not a provenance row ({e})")
    return rows


def downloads(show_info):
    """[(package, version, file)] of every download of a show-info JSON."""
    out = []
    for pkg, info in sorted(show_info.items()):
        for dl in info.get("downloads") or []:
            out.append((pkg, info.get("version") or "", dl["source"]))
    return out


def local_rows(show_info):
    """Rows of the downloads Buildroot makes from a local site (this tree's
    host-b4k: its own files, and the crates of Cargo.lock that cargo vendors in
    the download step): nothing to substitute."""
    rows = {}
    for pkg, info in show_info.items():
        for dl in info.get("downloads") or []:
            if any(u.startswith("local+") for u in dl.get("uris") or []):
                rows[(pkg, dl["source"])] = {
                    "package": pkg, "file": dl["source"], "how": "local",
                    "from": "this tree, crates of Cargo.lock from crates.io (cargo vendor in the download step)",
                    "version": info.get("version") or "", "same_version": True}
    return rows


def kind(row):
    """The counted category of a row."""
    if row is None:
        return "unaccounted"
    how = row.get("how")
    if how == "identical":
        return "identical"
    if how == "override":
        return "override, same version" if row.get("same_version") else "override, other version"
    return how or "unaccounted"


def cell(text):
    return str(text).replace("|", "\\|").replace("\n", " ")


def table(entries, rows):
    """The Markdown table of all downloads."""
    lines = [
        "| package | version | file | how | from | version used | patches applied / failed | note |",
        "|---|---|---|---|---|---|---|---|",
    ]
    for pkg, version, source in entries:
        row = rows.get((pkg, source))
        if row is None:
            lines.append(f"| {pkg} | {version} | {source} | unaccounted | | | | |")
            continue
        patches = row.get("patches") or {}
        applied = len(patches.get("applied") or [])
        failed = ", ".join(patches.get("failed") or [])
        pcell = f"{applied} / {failed or 0}" if patches else ""
        lines.append(
            "| "
            + " | ".join(
                cell(x)
                for x in (
                    pkg,
                    version,
                    source,
                    kind(row),
                    row.get("from", ""),
                    row.get("version", ""),
                    pcell,
                    row.get("note", ""),
                )
            )
            + " |"
        )
    return "\n".join(lines) + "\n"


def write_override_file(rows, overrides, path):
    """Write the override file; returns the number of packages in it."""
    identical = collections.defaultdict(list)
    for (pkg, _), row in rows.items():
        identical[pkg].append(row.get("how") == "identical")
    lines = []
    for name in sorted(os.listdir(overrides)):
        tree = os.path.join(overrides, name)
        if name.startswith(".") or not os.path.isdir(tree):
            continue
        if identical[name] and all(identical[name]):
            continue
        var = name.upper().replace("-", "_")
        lines.append(f"{var}_OVERRIDE_SRCDIR = {os.path.realpath(tree)}\n")
    tmp = path + ".tmp"
    with open(tmp, "w", encoding="utf-8") as f:
        f.write("# Made by tests/realbuild/provenance.py: the trees of the override rows.\n")
        f.writelines(lines)
    os.replace(tmp, path)
    return len(lines)


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--show-info")
    ap.add_argument("--rows", required=True)
    ap.add_argument("--out")
    ap.add_argument("--override-file")
    ap.add_argument("--overrides")
    args = ap.parse_args()
    if args.override_file:
        if not args.overrides:
            ap.error("--override-file needs --overrides")
        n = write_override_file(load_rows(args.rows), args.overrides, args.override_file)
        print(f"provenance: {args.override_file}: {n} packages")
        return 0
    if not args.show_info:
        ap.error("--show-info is required")
    with open(args.show_info, encoding="utf-8") as f:
        info = json.load(f)
    entries = downloads(info)
    rows = {**local_rows(info), **load_rows(args.rows)}
    counts = collections.Counter(kind(rows.get((p, s))) for p, _, s in entries)
    if args.out:
        tmp = args.out + ".tmp"
        with open(tmp, "w", encoding="utf-8") as f:
            f.write(table(entries, rows))
        os.replace(tmp, args.out)
    print(f"provenance: {len(entries)} downloads")
    for k, n in sorted(counts.items()):
        print(f"  {k}: {n}")
    unaccounted = [f"{p} {s}" for p, _, s in entries if (p, s) not in rows]
    for u in unaccounted:
        print(f"  unaccounted: {u}", file=sys.stderr)
    return 1 if unaccounted else 0


if __name__ == "__main__":
    sys.exit(main())
