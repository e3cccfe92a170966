#!/bin/bash
# The tree against a real Buildroot checkout (BUILDROOT_DIR), for every
# configs/*_defconfig:
#   1. 'make BR2_EXTERNAL=<tree> <defconfig>' succeeds;
#   2. 'make savedefconfig' writes the committed defconfig back byte for byte,
#      and every symbol of it keeps its value in .config;
#   3. 'make show-info' succeeds and lists each package of package/*/ with a
#      version, licenses, download URIs, and a hash line for its download;
# and once: 4. 'utils/check-package -b' prints 0 warnings on every file of
# the tree that Buildroot reads (package/, board/, configs/, Config.in, ...).
# Exit 0 pass, 77 skipped (no BUILDROOT_DIR), 1 fail.
set -eu
cd "$(dirname "$0")/.."
tree=$PWD

if [ -z "${BUILDROOT_DIR:-}" ]; then
	echo "SKIP: BUILDROOT_DIR is not set. To run these checks:"
	echo "  git clone --depth 1 --branch 2026.02.3 https://gitlab.com/buildroot.org/buildroot.git /tmp/buildroot"
	echo "  BUILDROOT_DIR=/tmp/buildroot make check"
	exit 77
fi
br=$(cd "$BUILDROOT_DIR" && pwd)
# check-package needs python3-magic: Debian's python3, not a pyenv one.
python=${PYTHON:-/usr/bin/python3}
echo "Buildroot: $br ($(make -s -C "$br" --no-print-directory print-version 2>/dev/null || echo '?'))"

work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
fail=0
bad() { echo "FAIL: $*"; fail=1; }

for defconfig in configs/*_defconfig; do
	name=$(basename "$defconfig")
	out=$work/$name
	mk() { make -s -C "$br" O="$out" BR2_EXTERNAL="$tree" "$@"; }
	echo "== $name"

	if ! mk "$name" >"$work/log" 2>&1; then
		cat "$work/log"
		bad "$name: make $name"
		continue
	fi

	mk savedefconfig BR2_DEFCONFIG="$work/saved" >/dev/null
	if ! cmp -s "$defconfig" "$work/saved"; then
		diff -u "$defconfig" "$work/saved" || true
		bad "$name: savedefconfig differs from $defconfig (diff above: - committed, + written)"
	fi
	# Every "SYM=value" and "# SYM is not set" of the defconfig is in .config.
	while IFS= read -r line; do
		[ -n "$line" ] || continue
		grep -qxF -- "$line" "$out/.config" || bad "$name: dropped or changed: $line"
	done <"$defconfig"

	if ! mk show-info >"$work/info.json" 2>"$work/log"; then
		cat "$work/log"
		bad "$name: make show-info"
		continue
	fi
	"$python" - "$work/info.json" "$tree" "$name" <<'EOF' || fail=1
import json, os, sys

info_path, tree, defconfig = sys.argv[1:]
info = json.load(open(info_path))
pkgdirs = sorted(d for d in os.listdir(os.path.join(tree, "package"))
                 if os.path.isdir(os.path.join(tree, "package", d)))
ok = True
# cri-dockerd is the docker runtime's CRI: a containerd defconfig (containerd's
# own CRI plugin) leaves it out on purpose (configs/defconfigs.toml, runtime).
containerd = "BR2_PACKAGE_CONTAINERD_CRI=y\n" in open(os.path.join(tree, "configs", defconfig)).read()
for pkg in pkgdirs:
    entries = [info[k] for k in (pkg, "host-" + pkg) if k in info]
    if not entries and pkg == "cri-dockerd" and containerd:
        print(f"  {pkg}: not in {defconfig} (containerd's CRI instead)")
        continue
    if not entries:
        print(f"FAIL: {defconfig}: package {pkg} is not in show-info (not enabled?)")
        ok = False
        continue
    for e in entries:
        where = f"{defconfig}: {e['type']} package {pkg}"
        uris = [u for d in e.get("downloads", []) for u in d.get("uris", [])]
        for field, value in (("version", e.get("version")),
                             ("licenses", e.get("licenses")),
                             ("download URIs", uris)):
            if not value:
                print(f"FAIL: {where}: no {field}")
                ok = False
        hashes = "".join(open(h).read() for h in e.get("hashes", []))
        for d in e.get("downloads", []):
            # A local site (package/b4k: this tree itself) is copied, not
            # downloaded: Buildroot checks no hash for it.
            if any(u.startswith("local+") for u in d.get("uris", [])):
                continue
            if f"  {d['source']}\n" not in hashes:
                print(f"FAIL: {where}: no hash for {d['source']} in {e.get('hashes')}")
                ok = False
        print(f"  {e['name'] if e['type'] == 'target' else 'host-' + e['name']}"
              f" {e.get('version')} ({e.get('licenses')})")
print(f"  show-info: {len(info)} packages, {len(pkgdirs)} of this tree checked")
sys.exit(0 if ok else 1)
EOF
done

echo "== check-package"
# Buildroot's own in-tree run checks everything under package/, board/ and
# configs/; check-package picks the checks by file name and type (shellcheck for
# shell scripts, flake8 for Python) and skips what it does not know.
files=$(find Config.in* external.desc external.mk package board configs \
	-type f 2>/dev/null | sort || true)
# shellcheck disable=SC2086 # one argument per file
"$python" "$br/utils/check-package" -b $files >"$work/cp.log" 2>&1 || true
cat "$work/cp.log"
warnings=$(sed -n 's/^\([0-9]*\) warnings generated$/\1/p' "$work/cp.log")
echo "check-package: $(echo "$files" | wc -l) files, ${warnings:-?} warnings"
[ "${warnings:-x}" = 0 ] || bad "check-package: ${warnings:-no count} warnings"

exit "$fail"
