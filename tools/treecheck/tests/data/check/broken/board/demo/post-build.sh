#!/bin/sh
set -eu
cp "$BR2_EXTERNAL_DEMO_PATH/board/demo/nothing.txt" "$1/etc/"
cp /home/alice/src/demo.conf "$1/etc/"
echo "$BR2_CONFIG"
