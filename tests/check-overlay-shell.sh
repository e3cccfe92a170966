#!/bin/sh
# Every shell script of the overlay area is shellcheck-clean, executable in git,
# and starts with `set -eu` after its comment header.
set -eu
cd "$(dirname "$0")/.."
command -v shellcheck >/dev/null || { echo "SKIP: shellcheck not found (apt-get install shellcheck)"; exit 77; }
scripts=$(
	git ls-files board/common/rootfs-overlay | while read -r f; do
		if head -n1 "$f" | grep -q '^#!/bin/sh'; then echo "$f"; fi
	done
	echo board/common/post-build.sh scripts/images-iso scripts/host-kubeadm
	ls tests/check-overlay*.sh tests/check-bundle.sh tests/check-csr-approve.sh tests/check-nfs-firewall.sh tests/check-k8s-join.sh 2>/dev/null || true
)
fail=0
for f in $scripts; do
	[ -f "$f" ] || { echo "FAIL: $f missing"; fail=1; continue; }
	git ls-files -s "$f" | grep -q '^100755' || { echo "FAIL: $f is not executable in git (git update-index --chmod=+x $f)"; fail=1; }
	grep -v '^#' "$f" | grep -m1 . | grep -qx 'set -eu' || { echo "FAIL: $f: first command is not 'set -eu'"; fail=1; }
done
# shellcheck disable=SC2086 # one word per file
shellcheck $scripts || fail=1
[ "$fail" -ne 0 ] || echo "shell: $(echo "$scripts" | wc -w) scripts clean"
exit "$fail"
