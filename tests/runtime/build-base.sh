#!/bin/sh
# Runtime lane: the Debian bookworm userland (tests/runtime/packages.txt) as a
# directory made by mmdebstrap, cached by a hash of its inputs. Prints its path.
# ARCH (default amd64): another architecture (arm64: the Raspberry Pi's images
# bundle) gets only the files the bundle's images take from Debian
# (tests/runtime/packages-images.txt: iptables, mount.nfs, busybox, ...),
# extracted without running any of their scripts (mmdebstrap's extract variant:
# nothing of it is executed here), with /bin, /sbin and /lib merged into /usr
# as on the amd64 userland, so that make-images.py finds the same paths.
# RUNTIME=containerd (amd64): without Debian's docker.io and containerd (1.6,
# which reads no version 3 configuration): the node's containerd comes from
# build-pieces.sh, as Buildroot's containerd defconfigs have no docker.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
cache=${B4K_CACHE:-$HOME/.cache/b4k/runtime}
arch=${ARCH:-amd64}
suite=bookworm
mirrors="deb http://deb.debian.org/debian $suite main|deb http://deb.debian.org/debian $suite-updates main|deb http://deb.debian.org/debian-security $suite-security main"
if [ "$arch" = amd64 ]; then
	list=$here/packages.txt
	opts="--variant=minbase --dpkgopt=path-exclude=/usr/share/doc/* --dpkgopt=path-exclude=/usr/share/man/* --dpkgopt=path-exclude=/usr/share/locale/*"
else
	list=$here/packages-images.txt
	opts="--variant=extract --architectures=$arch"
	cache=$cache/$arch
fi
drop='^$'
[ "${RUNTIME:-docker}" = docker ] || [ "$arch" != amd64 ] || drop='^(docker\.io|containerd)$'
pkgs=$(sed -e 's/#.*//' -e 's/[[:space:]]*$//' -e '/^$/d' "$list" | grep -Ev "$drop" | tr '\n' ',' | sed 's/,$//')
# the cache key: everything that decides the result (not this script's comments)
key=$(echo "$suite|$mirrors|$pkgs|$opts" | sha256sum | cut -c1-16)
out=$cache/base-$key
if [ -d "$out" ]; then echo "$out"; exit 0; fi
command -v mmdebstrap >/dev/null || { echo "build-base: needs mmdebstrap (scripts/host-deps.d/runtime.txt)" >&2; exit 1; }
mkdir -p "$cache"
start=$(date +%s)
old_ifs=$IFS IFS='|'
# shellcheck disable=SC2086 # split on '|' into one argument per mirror line
set -- $mirrors
IFS=$old_ifs
rm -rf "$out.tmp"
# shellcheck disable=SC2086 # $opts: options without spaces, globs kept for dpkg
(set -f; nice -n 15 mmdebstrap --quiet --format=directory $opts --include="$pkgs" "$suite" "$out.tmp" "$@" >&2)
if [ "$arch" != amd64 ]; then
	for d in bin sbin lib; do
		if [ -d "$out.tmp/$d" ] && [ ! -L "$out.tmp/$d" ]; then
			mkdir -p "$out.tmp/usr/$d"
			cp -a "$out.tmp/$d/." "$out.tmp/usr/$d/"
			rm -rf "$out.tmp/$d"
		fi
		ln -sfn "usr/$d" "$out.tmp/$d"
	done
fi
mv "$out.tmp" "$out"
echo "build-base: $(($(date +%s) - start)) s, $(du -sh "$out" | cut -f1)" >&2
echo "$out"
