#!/bin/sh
# The tree's own consistency, without Buildroot: every committed configs/*_defconfig
# is what `b4k defconfig` generates from configs/defconfigs.toml and the fragments
# (against the committed index configs/buildroot-index.json.gz), and `b4k check`
# finds nothing. tests/check-tree-buildroot.sh does the same against Buildroot.
set -eu
cd "$(dirname "$0")/.."
cargo build -q -p b4k
b4k=target/debug/b4k
unset BUILDROOT_DIR
"$b4k" defconfig --check
"$b4k" check
echo "check-tree: defconfigs match their fragments; b4k check is clean"
