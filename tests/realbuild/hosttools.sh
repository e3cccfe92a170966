#!/bin/sh
# tests/realbuild/hosttools.sh CACHE
#
# Makes CACHE/hostbin/, to be put first on PATH for the real offline build:
# host tools that Buildroot would otherwise build itself from sources that
# cannot be had here.
#
# - tar: Buildroot builds host-tar when the host's GNU tar is older than 1.35
#   (support/dependencies/check-host-tar.sh); bookworm has 1.34 and the
#   tar-1.35.cpio.gz Buildroot wants is not served here. GNU tar 1.35 is built
#   from Debian trixie's tar_1.35+dfsg.orig.tar.xz (Debian's patches are not
#   applied) and CACHE/hostbin/tar points at it, so Buildroot skips host-tar.
#
# Writes CACHE/provenance/host-tar__tar-1.35.cpio.gz.json. Rerunnable: a finished tool is kept
# (stamped with the sha256 of its source); downloads are checked and cached in
# CACHE/src/debian/.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 CACHE" >&2
	exit 2
fi
mkdir -p "$1"
CACHE=$(cd "$1" && pwd)

TAR_VERSION=1.35
TAR_DEB_VERSION=1.35+dfsg
TAR_ORIG=tar_${TAR_DEB_VERSION}.orig.tar.xz
# From Debian trixie's main/source/Sources index (Checksums-Sha256 of tar 1.35+dfsg-3.1).
TAR_ORIG_SHA256=9ae57e981c1e73c0eebc2b26c9b0c4497fe310ef1d516ea430efb5470b71f7a8
TAR_ORIG_URL=http://deb.debian.org/debian/pool/main/t/tar/$TAR_ORIG

SRC=$CACHE/src/debian
HOSTBIN=$CACHE/hostbin
PREFIX=$HOSTBIN/tar-$TAR_VERSION
STAMP=$PREFIX/.source-sha256

log() { echo "hosttools: $*"; }

# fetch URL FILE SHA256: download once into FILE (through FILE.tmp), check it.
fetch() {
	if [ ! -f "$2" ]; then
		log "downloading $1"
		curl -fsSL --retry 3 -o "$2.tmp" "$1"
		mv "$2.tmp" "$2"
	fi
	if ! echo "$3  $2" | sha256sum -c --status; then
		echo "hosttools: $2: sha256 is not $3; remove it and rerun" >&2
		exit 1
	fi
}

build_tar() {
	fetch "$TAR_ORIG_URL" "$SRC/$TAR_ORIG" "$TAR_ORIG_SHA256"
	work=$(mktemp -d "$CACHE/src/tar-build.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	log "building GNU tar $TAR_VERSION (about 2 minutes)"
	tar -C "$work" -xJf "$SRC/$TAR_ORIG"
	(
		cd "$work/tar-$TAR_DEB_VERSION"
		# configure refuses to run as root without FORCE_UNSAFE_CONFIGURE;
		# --without-selinux as Buildroot's HOST_TAR_CONF_OPTS.
		FORCE_UNSAFE_CONFIGURE=1 ./configure --prefix="$PREFIX" \
			--without-selinux --disable-nls >"$work/configure.log" 2>&1 ||
			{ tail -n 30 "$work/configure.log"; exit 1; }
		make -j2 >"$work/make.log" 2>&1 || { tail -n 30 "$work/make.log"; exit 1; }
		make install DESTDIR="$work/dest" >"$work/install.log" 2>&1 ||
			{ tail -n 30 "$work/install.log"; exit 1; }
	)
	echo "$TAR_ORIG_SHA256" >"$work/dest$PREFIX/.source-sha256"
	# Swap the finished tree in; a tree made by other means is replaced.
	if [ -e "$PREFIX" ]; then
		mv "$PREFIX" "$work/old"
	fi
	mv "$work/dest$PREFIX" "$PREFIX"
	rm -rf "$work"
	trap - EXIT
}

write_provenance() {
	mkdir -p "$CACHE/provenance"
	/usr/bin/python3 - "$CACHE/provenance/host-tar__tar-1.35.cpio.gz.json" "$TAR_VERSION" "$TAR_ORIG" \
		"$TAR_ORIG_SHA256" <<'EOF'
import json, os, sys
path, version, orig, sha = sys.argv[1:]
doc = {
    "package": "host-tar",
    "file": "tar-1.35.cpio.gz",
    "how": "harness",
    "from": "debian trixie " + orig,
    "version": version,
    "same_version": True,
    "patches": {"applied": [], "failed": []},
    "note": ("Buildroot skips host-tar: tests/realbuild/hosttools.sh builds GNU tar "
             + version + " from Debian's orig (sha256 " + sha + ", Debian's patches "
             "not applied) into CACHE/hostbin/, first on PATH, which "
             "support/dependencies/check-host-tar.sh accepts. Buildroot's "
             "package/tar patches are not applied: 0001 is for uClibc, 0002 and "
             "0003 only add libiconv to link lines (tar.mk says so for host-tar "
             "and skips them there too)."),
}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=1, sort_keys=True)
    f.write("\n")
os.replace(tmp, path)
EOF
}

mkdir -p "$SRC" "$HOSTBIN"
if [ -x "$PREFIX/bin/tar" ] && [ "$(cat "$STAMP" 2>/dev/null)" = "$TAR_ORIG_SHA256" ]; then
	log "GNU tar $TAR_VERSION already built"
else
	build_tar
fi
ln -sfn "tar-$TAR_VERSION/bin/tar" "$HOSTBIN/tar.tmp"
mv -T "$HOSTBIN/tar.tmp" "$HOSTBIN/tar"
"$HOSTBIN/tar" --version | head -n 1
write_provenance
log "done: put $HOSTBIN first on PATH"
