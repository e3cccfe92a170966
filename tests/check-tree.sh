#!/bin/sh
# The tree's own consistency, without Buildroot: every committed configs/*_defconfig
# is what `b4k-dev defconfig` generates from configs/defconfigs.toml and the fragments
# (against the committed index configs/buildroot-index.json.gz), and `b4k-dev check`
# finds nothing. tests/check-tree-buildroot.sh does the same against Buildroot.
set -eu
cd "$(dirname "$0")/.."
cargo build -q -p b4k-dev
b4k_dev=target/debug/b4k-dev
unset BUILDROOT_DIR
"$b4k_dev" defconfig --check
"$b4k_dev" check
echo "check-tree: defconfigs match their fragments; b4k-dev check is clean"
