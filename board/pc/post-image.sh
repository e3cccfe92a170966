#!/bin/sh
# BR2_ROOTFS_POST_IMAGE_SCRIPT of the pc board: `b4k post-image --help` says
# what it reads (BINARIES_DIR, HOST_DIR, BUILD_DIR, BR2_CONFIG) and writes.
set -eu
b4k="${HOST_DIR}/bin/b4k"
[ -x "$b4k" ] || b4k=b4k
exec "$b4k" post-image --board pc --board-dir "$(dirname "$0")"
