#!/bin/sh
# Override tree of libopenssl and host-libopenssl (Buildroot: 3.6.2): the
# upstream source of Debian's openssl 3.6.3 (sid, openssl_3.6.3.orig.tar.gz,
# which is OpenSSL's release tarball), without Debian's patches.
#
# 3.6.2 is in no Debian suite served here and openssl/openssl is over the fetch
# size limit; 3.6.3 is the next patch release of the same 3.6 series (bug and
# security fixes, same ABI). Buildroot's three patches are applied by
# overrides.py.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

VERSION=3.6.3
# Debian sid openssl 3.6.3-1, Checksums-Sha256 of its Sources entry.
ORIG=openssl_$VERSION.orig.tar.gz
ORIG_SHA256=243a86649cf6f23eeb6a2ff2456e09e5d77dd9018a54d3d96b0c6bdd6ba6c7f1

orig=$(debian_file pool/main/o/openssl "$ORIG" "$ORIG_SHA256")
tar -xzf "$orig" -C "$DEST" --strip-components=1
grep -q "^PATCH=${VERSION##*.}\$" "$DEST/VERSION.dat" || die "VERSION.dat is not $VERSION"

info "Debian sid openssl_$VERSION.orig.tar.gz (OpenSSL's release tarball), without Debian's patches" \
	"$VERSION" false "3.6.2 is not served; 3.6.3 is the next patch release of 3.6"
