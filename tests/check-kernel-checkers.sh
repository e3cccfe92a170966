#!/bin/bash
# The boards' kernels as two peer checkers see them: docker's own
# contrib/check-config.sh (moby, from the Go module proxy) and kubeadm's kernel
# validator (k8s.io/system-validators at the version the pinned Kubernetes
# requires, its parser and checker called on a file, cgroup v2), run on each
# board's final .config: board/<board>/linux.config with the board's fragments
# merged by the kernel's merge_config.sh -m and make olddefconfig, as Buildroot
# configures it. Passes when neither finds a necessary or required option
# missing, every optional option they miss is [[excluded]] with a reason in
# board/common/kernel-requirements.toml, and every option check-config.sh can
# ask for is required there or excluded (tests/kernel-checkers/judge.py).
# Needs Go and, on the first run, the Go module proxy; Debian's
# linux-source-6.12 and gcc-aarch64-linux-gnu (scripts/host-deps.d/kconfig.txt).
set -eu
cd "$(dirname "$0")/.."
here=$PWD

# docker's checker: moby's newest module version the proxy serves (docker 29).
moby=v2.0.0-beta.24

for tool in go gcc aarch64-linux-gnu-gcc flex bison make; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool not found; run scripts/install-host-deps (Go: https://go.dev/dl)"
		exit 77
	fi
done
# 77 (skip) with its reason when linux-source-6.12 is not installed
src=$(scripts/linux-source-tree) || exit $?

start=$(date +%s)
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
reqs=board/common/kernel-requirements.toml
judge() { /usr/bin/python3 tests/kernel-checkers/judge.py "$@"; }

# moddir MODULE@VERSION: the module's directory in the module cache.
moddir() {
	(cd "$work" && GOFLAGS=-mod=mod go mod download -json "$1") |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p'
}

# The checkers' sources.
if ! mobydir=$(moddir "github.com/moby/moby/v2@$moby") || [ -z "$mobydir" ]; then
	echo "skip: github.com/moby/moby/v2@$moby not in the module cache and the Go module proxy cannot be reached"
	exit 77
fi
checkconfig=$mobydir/contrib/check-config.sh
version=$(scripts/mk-version package/kubernetes/kubernetes.mk)
gomod=$(cd "$work" && go list -m -json "k8s.io/kubernetes@$version" |
	sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
sv=$(sed -n 's/^[[:space:]]*k8s.io\/system-validators \(v[0-9.]*\)$/\1/p' "$gomod")
[ -n "$sv" ] || { echo "no k8s.io/system-validators in $gomod"; exit 1; }
svdir=$(moddir "k8s.io/system-validators@$sv")

# kernel-validator: tests/kernel-checkers/main.go on a copy of the validator's
# module with validators_b4k.go added (the module cache is read-only, and Go
# refuses overlays there).
kv=$work/kv
mkdir -p "$kv"
cp tests/kernel-checkers/main.go "$kv/"
cp -r "$svdir" "$kv/system-validators"
chmod -R u+w "$kv/system-validators"
cp tests/kernel-checkers/validators_b4k.go "$kv/system-validators/validators/"
cat >"$kv/go.mod" <<EOF
module b4k.local/kernel-validator

go 1.22

require k8s.io/system-validators $sv

replace k8s.io/system-validators => ./system-validators
EOF
(cd "$kv" && GOFLAGS=-mod=mod go build -o kernel-validator .)
built=$(date +%s)

# check-config.sh reads the kernel version from uname -r: the tree's, not the host's.
mkdir -p "$work/bin"
printf '#!/bin/sh\necho %s\n' "$(make -s -C "$src" kernelversion)" >"$work/bin/uname"
chmod +x "$work/bin/uname"

fail=0
judge coverage "$reqs" "$checkconfig" || fail=1

# final BOARD ARCH CROSS: the board's final .config, as Buildroot makes it.
final() {
	local o=$work/o-$1
	mkdir -p "$o"
	cp "board/$1/linux.config" "$o/.config"
	# merge_config.sh makes its temporary files in the current directory: not the tree
	(cd "$work" && "$src/scripts/kconfig/merge_config.sh" -m -O "$o" "$o/.config" \
		"$here/board/common/linux.fragment" "$here/board/$1/linux.fragment" >/dev/null)
	make -s -C "$src" O="$o" ARCH="$2" CROSS_COMPILE="$3" olddefconfig >/dev/null
}

for b in "pc x86_64" "raspberrypi3-64 arm64 aarch64-linux-gnu-"; do
	read -r board arch cross <<<"$b"
	final "$board" "$arch" "$cross"
	config=$work/o-$board/.config
	NO_COLOR=1 PATH=$work/bin:$PATH sh "$checkconfig" "$config" >"$work/docker-$board" 2>&1 || true
	judge docker "$reqs" "$board" "$work/docker-$board" || fail=1
	"$kv/kernel-validator" "$config" >"$work/kubeadm-$board"
	judge kubeadm "$reqs" "$board" "$work/kubeadm-$board" || fail=1
	if [ "$fail" -ne 0 ]; then
		echo "--- check-config.sh ($checkconfig) on $board:"
		cat "$work/docker-$board"
	fi
done

end=$(date +%s)
echo "checkers: moby $moby check-config.sh, k8s.io/system-validators $sv (Kubernetes $version);" \
	"built in $((built - start)) s, runs $((end - built)) s"
exit "$fail"
