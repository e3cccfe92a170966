#!/bin/sh
# Override tree of systemd and host-systemd 258.7: the git tree of the tag v258.7.
#
# systemd/systemd is over the fetch size limit; the fork bernaferrari/systemd
# carries upstream's tags (v258.7 is the annotated tag "systemd-stable v258.7"
# signed by Luca Boccassi). Snapshots lack files of 4 MiB and more, and two of
# the tag's blobs are missing:
#  - hwdb.d/ma-large.txt (IEEE OUI list, input of tools/update-hwdb.sh only):
#    taken from Debian's systemd_257.13.orig.tar.gz, whose copy has the same git
#    blob id, so the file is byte-identical to the tag's;
#  - test/fuzz/fuzz-journald-syslog/oss-fuzz-477990732 (a fuzzer input, read
#    only by the tests, which Buildroot disables): left out.
# With both blobs GitHub's tarball could be rebuilt byte-identical; without the
# second the tree differs from it in that file alone. Buildroot has no systemd
# patches; Buildroot's meson options are those of 258.7.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

REPO=bernaferrari/systemd
TAG=v258.7
VERSION=258.7
OUI=hwdb.d/ma-large.txt
# Debian trixie systemd 257.13-1~deb13u1, Checksums-Sha256 of its Sources entry.
DEB_ORIG=systemd_257.13.orig.tar.gz
DEB_ORIG_SHA256=1eb7d5f9ff8a426ff880a3cded9ce819613ba8003ac5ddde9eca162f14ddabe7

git=$(mirror_git "$REPO")
work=$(mktemp -d "${TMPDIR:-/tmp}/systemd-tree.XXXXXX")
trap 'rm -rf "$work"' EXIT
# A private object store and index: the snapshot is only read.
GIT_DIR=$git GIT_INDEX_FILE=$work/index GIT_OBJECT_DIRECTORY=$work/objects
GIT_ALTERNATE_OBJECT_DIRECTORIES=$git/objects
export GIT_DIR GIT_INDEX_FILE GIT_OBJECT_DIRECTORY GIT_ALTERNATE_OBJECT_DIRECTORIES
mkdir -p "$work/objects"
git read-tree "$TAG^{tree}"

missing=
git ls-tree -r "$TAG" | while read -r _mode type id path; do
	[ "$type" = blob ] || continue
	git cat-file -e "$id" 2>/dev/null || printf '%s %s\n' "$id" "$path"
done >"$work/missing"
while read -r id path; do
	if [ "$path" = "$OUI" ]; then
		orig=$(debian_file pool/main/s/systemd "$DEB_ORIG" "$DEB_ORIG_SHA256")
		tar -xzf "$orig" -C "$work" "systemd-257.13/$OUI"
		got=$(git hash-object -w "$work/systemd-257.13/$OUI")
		[ "$got" = "$id" ] || die "$OUI of $DEB_ORIG is blob $got, the tag's is $id"
	else
		git rm -q --cached -- "$path"
		missing="$missing $path"
	fi
done <"$work/missing"

git archive --format=tar -o "$work/tree.tar" "$(git write-tree)"
tar -x -C "$DEST" -f "$work/tree.tar"
grep -qx "$VERSION" "$DEST/meson.version" || die "meson.version is not $VERSION"

info "git tree of $REPO tag $TAG (upstream's tag, in a fork of systemd/systemd) + $OUI from Debian $DEB_ORIG (same git blob)" \
	"$VERSION" true "missing from the snapshot and left out:${missing:- none}"
