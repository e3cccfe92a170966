#!/bin/sh
# Override tree of host-fakeroot (Buildroot: 1.37.1.2, Debian's
# fakeroot_1.37.1.2.orig.tar.gz): fakeroot 1.32.1 from a GitHub copy of Debian's
# fakeroot git repository (fakeroot's upstream is that repository).
#
# No fakeroot source is served here: Debian's .orig of every suite (1.31,
# 1.37.1.1, 2.1.4) is missing from the archive, and no copy of the repository
# newer than mackyle/fakeroot (master = Debian's 1.32.1-1, July 2023) was found.
# Its last commit, "correct tree discrepancy", makes the tree match the 1.32.1
# release; debian/ (Debian's packaging) is dropped. The release tarball's
# generated files are made as its `make dist` makes them: ./bootstrap
# (libtoolize + autoreconf) and po4a for the translated manual pages.
#
# Why a source build of an older release, not the host's fakeroot: Buildroot
# runs $(HOST_DIR)/bin/fakeroot in target-finalize to make every rootfs image;
# building it as the host-fakeroot package keeps that path, its libfakeroot and
# faked inside HOST_DIR, and Buildroot's own configure options (capabilities
# off). Debian bookworm ships 1.31 for the same glibc 2.36, so 1.32.1 suits the
# host; fakeroot 1.33-1.37 add wrappers for newer glibc and other systems.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

REPO=mackyle/fakeroot
REV=305c8a1b5396554a67794f3fe6e4990a24a810f9
VERSION=1.32.1

git_tree "$REPO" "$REV" "$DEST"
grep -q "^AC_INIT(\[fakeroot\],\[$VERSION\]" "$DEST/configure.ac" || die "configure.ac is not $VERSION"
rm -rf "$DEST/debian"
(
	cd "$DEST"
	./bootstrap >/dev/null 2>&1 || die "./bootstrap failed in $DEST"
	cd doc
	po4a -k 0 --rm-backups --variable "srcdir=$PWD/" po4a/po4a.cfg >/dev/null ||
		die "po4a failed in $DEST/doc"
)
rm -rf "$DEST/autom4te.cache"

info "git tree of $REPO $REV (Debian's fakeroot 1.32.1-1, debian/ dropped) + ./bootstrap + po4a" \
	"$VERSION" false "no 1.37.x source served; nearest release found"
