#!/bin/sh
# Downloads (apt-get download, no installation) and unpacks the Debian packages
# the post-image tests take their real inputs from, into the cache directory $1:
#   amd64/   linux-image-6.12.*-amd64-unsigned (bzImage + modules)
#   arm64/   linux-image-6.12.*-arm64-unsigned (Image, bcm2837 DTBs, modules)
#   busybox-arm64/  busybox-static:arm64 (the Raspberry Pi test rootfs)
#   rpi/     raspi-firmware (bootcode.bin, start.elf, fixup.dat; non-free-firmware)
# The arm64 and non-free-firmware package lists go to a private apt state under
# $1/apt, so the host's apt configuration is left alone. Newest 6.12 wins.
set -eu

cache=$1
mkdir -p "$cache"
cache=$(cd "$cache" && pwd)
[ -f "$cache/.complete" ] && exit 0

apt_dir=$cache/apt
mkdir -p "$apt_dir/lists/partial" "$apt_dir/cache/archives/partial" "$cache/debs"
keyring=/usr/share/keyrings/debian-archive-keyring.gpg
cat > "$apt_dir/sources.list" <<EOS
deb [arch=amd64,arm64 signed-by=$keyring] http://deb.debian.org/debian bookworm main non-free-firmware
deb [arch=amd64,arm64 signed-by=$keyring] http://deb.debian.org/debian-security bookworm-security main
EOS
papt() {
	cmd=$1
	shift
	"$cmd" -q -o APT::Architecture=amd64 -o APT::Architectures::=amd64 \
		-o APT::Architectures::=arm64 \
		-o Dir::Etc::SourceList="$apt_dir/sources.list" -o Dir::Etc::SourceParts=/nonexistent \
		-o Dir::State::Lists="$apt_dir/lists" -o Dir::Cache="$apt_dir/cache" \
		-o Dir::State::status=/dev/null "$@"
}
papt apt-get update 2>&1 | grep -v -e unsandboxed -e "^Get:" -e "^Hit:" -e "^Reading" -e "^Fetched" || true

newest() {
	papt apt-cache search --names-only "^linux-image-6\.12\.[0-9]+\+deb12-$1-unsigned\$" |
		cut -d' ' -f1 | sort -V | tail -n 1
}
k_amd64=$(newest amd64)
k_arm64=$(newest arm64)
if [ -z "$k_amd64" ] || [ -z "$k_arm64" ]; then
	echo "no linux-image-6.12 in Debian's lists" >&2
	exit 1
fi

cd "$cache/debs"
# _apt cannot write to this directory: apt warns and downloads as root.
papt apt-get download "$k_amd64:amd64" "$k_arm64:arm64" busybox-static:arm64 raspi-firmware 2>&1 |
	grep -v 'unsandboxed' || true
for pair in "amd64:$k_amd64*_amd64.deb" "arm64:$k_arm64*_arm64.deb" \
	"busybox-arm64:busybox-static_*_arm64.deb" "rpi:raspi-firmware_*.deb"; do
	dir=${pair%%:*}
	rm -rf "${cache:?}/$dir"
	# shellcheck disable=SC2086 # the glob is meant to expand
	dpkg-deb -x ${pair#*:} "$cache/$dir"
done
echo "$k_amd64 $k_arm64" > "$cache/.complete"
