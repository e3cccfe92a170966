#!/bin/sh
# `b4k-dev defconfig --check` and `b4k-dev check` against a Buildroot checkout, and the
# committed index is exactly what exporting from that checkout gives (with the host
# facts recorded in it). The comparison of the verdicts and of savedefconfig's bytes
# with Buildroot's own olddefconfig/savedefconfig is the cargo test
# tools/buildroot/tests/buildroot_oracle.rs (run by `cargo test` with BUILDROOT_DIR).
set -eu
cd "$(dirname "$0")/.."
if [ -z "${BUILDROOT_DIR:-}" ]; then
	echo "skip: set BUILDROOT_DIR to a Buildroot 2026.02.3 checkout to check the tree against it"
	exit 77
fi
cargo build -q -p b4k-dev
b4k_dev=target/debug/b4k-dev
"$b4k_dev" defconfig --buildroot "$BUILDROOT_DIR" --check
"$b4k_dev" check --buildroot "$BUILDROOT_DIR"

index=configs/buildroot-index.json.gz
host=$(gzip -dc "$index" | sed -n 's/^  "host": {"arch":"\([^"]*\)","gcc_version":"\([^"]*\)"},$/\1 \2/p')
arch=${host% *}
gcc=${host#* }
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
"$b4k_dev" defconfig --buildroot "$BUILDROOT_DIR" --host-arch "$arch" --host-gcc-version "$gcc" \
	--export-index "$tmp/index.json" 2>/dev/null
if ! gzip -dc "$index" | cmp -s - "$tmp/index.json"; then
	gzip -dc "$index" | diff -u - "$tmp/index.json" | head -40
	echo "$index is not what Buildroot in $BUILDROOT_DIR exports; refresh it:"
	echo "  b4k-dev defconfig --buildroot \$BUILDROOT_DIR --export-index $index"
	exit 1
fi
echo "check-tree-buildroot: defconfigs, b4k-dev check and $index agree with $BUILDROOT_DIR"
