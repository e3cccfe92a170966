#!/bin/bash
# Oracle test of `b4k-dev lint-kernel` (and `b4k lint-kernel --config`): for the
# boards' fragments (on the boards' base configurations board/<board>/linux.config)
# and the broken fragments in tools/fragments/tests/data/broken/, the predicted
# .config must equal what the kernel's own scripts/kconfig/merge_config.sh -m +
# make olddefconfig write (every line, hence every fragment option), and each
# broken fragment must give exactly the findings written by hand in its
# .expected file. Also: the boards' linux.config are what scripts/kernel-config
# generates from the fragments.
# Needs Debian's linux-source-6.12 and gcc-aarch64-linux-gnu
# (scripts/host-deps.d/kconfig.txt); the tree is unpacked once into
# ${XDG_CACHE_HOME:-~/.cache}/b4k/.
set -eu
cd "$(dirname "$0")/.."
here=$PWD

for tool in gcc aarch64-linux-gnu-gcc flex bison make; do
	if ! command -v "$tool" >/dev/null; then
		echo "skip: $tool not found; run scripts/install-host-deps"
		exit 77
	fi
done

start=$(date +%s)
# 77 (skip) with its reason when linux-source-6.12 is not installed
src=$(scripts/linux-source-tree) || exit $?
unpacked=$(date +%s)

cargo build -q -p b4k -p b4k-dev
b4k=$here/target/debug/b4k
b4k_dev=$here/target/debug/b4k-dev
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT

fail=0
reqs=board/common/kernel-requirements.toml

# kmake ARCH ARGS...: the kernel's make in the object dir for ARCH.
kmake() {
	local arch=$1 cross=""
	shift
	[ "$arch" = arm64 ] && cross=aarch64-linux-gnu-
	make -s -C "$src" O="$work/o-$arch" ARCH="$arch" CROSS_COMPILE="$cross" "$@"
}

# base ARCH BASE: the base configuration as a file, $work/o-ARCH/base-NAME: an
# in-tree defconfig's .config (x86_64, defconfig), or a config file (as
# Buildroot's BR2_LINUX_KERNEL_CUSTOM_CONFIG_FILE, copied as it is).
base() {
	local arch=$1 base=$2 name target
	name=$(basename "$base")
	[ -f "$work/o-$arch/base-$name" ] && return
	if [ -f "$base" ]; then
		mkdir -p "$work/o-$arch"
		cp "$base" "$work/o-$arch/base-$name"
		return
	fi
	target=${base}_defconfig
	[ "$base" = defconfig ] && target=defconfig
	kmake "$arch" "$target" >/dev/null
	cp "$work/o-$arch/.config" "$work/o-$arch/base-$name"
}

# oracle ARCH BASE FRAGMENT...: merged + olddefconfig'd .config in $work/o-ARCH.
oracle() {
	local arch=$1 base=$2
	shift 2
	base "$arch" "$base"
	cp "$work/o-$arch/base-$(basename "$base")" "$work/o-$arch/.config"
	# merge_config.sh makes its temporary files in the current directory: not the tree
	local frags=()
	for f in "$@"; do frags+=("$(realpath "$f")"); done
	(cd "$work" && "$src/scripts/kconfig/merge_config.sh" -m -O "$work/o-$arch" \
		"$work/o-$arch/.config" "${frags[@]}" >/dev/null)
	kmake "$arch" olddefconfig >"$work/olddefconfig.log" 2>&1
}

# compare NAME ARCH BASE FRAGMENT...: the linter (in the background) and the
# oracle on the same inputs; the predicted .config must equal the oracle's, and
# in particular every option the fragments name. The linter's report (JSON) is
# left in $work/findings.json, its exit code in $work/rc.
compare() {
	local name=$1 arch=$2 base=$3
	shift 3
	(
		rc=0
		"$b4k_dev" lint-kernel --kernel-src "$src" --arch "$arch" --base "$base" \
			--requirements "$reqs" --write-config "$work/got" --json "$@" \
			>"$work/findings.json" || rc=$?
		echo "$rc" >"$work/rc"
	) &
	oracle "$arch" "$base" "$@"
	wait "$!"
	grep -E '^(CONFIG_|# CONFIG_)' "$work/o-$arch/.config" >"$work/want"
	local n=0 agree=0 opt got want
	sed -n -E 's/^(# )?CONFIG_([A-Za-z0-9_]+)[= ].*/\2/p' "$@" | sort -u >"$work/names"
	while read -r opt; do
		n=$((n + 1))
		got=$(value "$opt" "$work/got")
		want=$(value "$opt" "$work/want")
		if [ "$got" = "$want" ]; then
			agree=$((agree + 1))
		else
			echo "  $name: CONFIG_$opt predicted $got, olddefconfig gives $want"
		fi
	done <"$work/names"
	local lines diff
	lines=$(wc -l <"$work/want")
	diff=$(diff "$work/want" "$work/got" | grep -c '^[<>]' || true)
	echo "$name ($arch, base $base): fragment options $agree/$n agree;" \
		".config lines $lines, differing $diff"
	if [ "$agree" -ne "$n" ] || [ "$diff" -ne 0 ]; then
		diff "$work/want" "$work/got" | head -20
		fail=1
	fi
}

# findings [FILE]: the JSON report as "file:line: severity: message [code]"
# lines; with FILE, as "LINE SEVERITY CODE" for the findings about FILE.
findings() {
	python3 - "$work/findings.json" "$@" <<'PY'
import json, sys
r = json.load(open(sys.argv[1]))
for f in r["findings"]:
    if len(sys.argv) > 2:
        if f["file"] == sys.argv[2]:
            print(f["line"], f["severity"], f["code"])
    else:
        print(f'{f["file"]}:{f["line"]}: {f["severity"]}: {f["message"]} [{f["code"]}]')
if len(sys.argv) == 2:
    for n in r["notes"]:
        print(n)
PY
}

# value NAME FILE: the value of CONFIG_NAME in a .config ("absent" if not written).
value() {
	local v
	v=$(sed -n -e "s/^CONFIG_$1=\(.*\)/\1/p" -e "s/^# CONFIG_$1 is not set$/n/p" "$2")
	echo "${v:-absent}"
}

# board BOARD ARCH BASE: the project's fragments agree with the oracle, the linter
# finds nothing wrong with them, and --config on the oracle's .config agrees.
board() {
	compare "$1" "$2" "$3" board/common/linux.fragment "board/$1/linux.fragment"
	findings
	if [ "$(cat "$work/rc")" -ne 0 ]; then
		echo "  $1: lint-kernel exit code $(cat "$work/rc"), expected 0"
		fail=1
	fi
	gzip -c "$work/o-$2/.config" >"$work/config.gz"
	if ! "$b4k" lint-kernel --config "$work/config.gz" --requirements "$reqs"; then
		echo "  $1: --config on the oracle's .config found errors"
		fail=1
	fi
}
board pc x86_64 board/pc/linux.config
board raspberrypi3-64 arm64 board/raspberrypi3-64/linux.config

# The boards' base configurations are generated, not edited.
if ! KERNEL_SRC=$src scripts/kernel-config --check; then
	echo "  board/*/linux.config: not what scripts/kernel-config generates"
	fail=1
fi

# The bare x86_64_defconfig lacks VXLAN, br_netfilter, overlayfs...: --config must
# fail on it and name them.
base x86_64 x86_64
rc=0
"$b4k" lint-kernel --config "$work/o-x86_64/base-x86_64" --requirements "$reqs" \
	--json >"$work/findings.json" || rc=$?
findings >"$work/findings"
for opt in VXLAN BRIDGE_NETFILTER OVERLAY_FS IKCONFIG_PROC; do
	if ! grep -q "error: CONFIG_$opt is .*\[required-missing\]" "$work/findings"; then
		echo "  --config x86_64_defconfig: CONFIG_$opt not reported missing"
		fail=1
	fi
done
if [ "$rc" -ne 1 ]; then
	echo "  --config x86_64_defconfig: exit code $rc, expected 1"
	fail=1
else
	echo "--config on x86_64_defconfig: $(grep -c required-missing "$work/findings") required options reported missing"
fi

# Broken fragments: first line "# arch: ARCH base: BASE"; expected findings in
# NAME.expected, one "LINE SEVERITY CODE" per line, written by hand.
for frag in tools/fragments/tests/data/broken/*.fragment; do
	name=$(basename "$frag" .fragment)
	read -r _ _ arch _ base < <(head -n 1 "$frag")
	compare "broken/$name" "$arch" "$base" "$frag"
	rc=$(cat "$work/rc")
	findings "$frag" | sort -n >"$work/got-findings"
	grep -v '^#' "tools/fragments/tests/data/broken/$name.expected" | sort -n \
		>"$work/want-findings"
	if ! diff -u "$work/want-findings" "$work/got-findings"; then
		echo "  broken/$name: findings differ from $name.expected; linter said:"
		findings
		fail=1
	elif [ "$rc" -ne 1 ] && grep -q ' error ' "$work/want-findings"; then
		echo "  broken/$name: exit code $rc, expected 1"
		fail=1
	else
		echo "broken/$name: $(wc -l <"$work/want-findings") expected findings, all reported"
	fi
done

# --json: one document, the same findings as the human output.
"$b4k_dev" lint-kernel --kernel-src "$src" --arch x86_64 --base x86_64 --json \
	tools/fragments/tests/data/broken/dependency.fragment >"$work/json" || true
if ! python3 -c 'import json, sys
r = json.load(open(sys.argv[1]))
got = sorted((f["line"], f["code"], f["symbol"]) for f in r["findings"])
want = [(3, "dropped", "NETFILTER_XT_MATCH_IPVS"), (4, "dropped", "NFSD_V4"),
        (5, "dropped", "BCM2835_WDT")]
assert got == want and r["errors"] == 3 and r["data"]["values"]["VXLAN"] == "y", got' "$work/json"; then
	echo "  --json output differs"
	fail=1
else
	echo "--json: findings and values as expected"
fi

end=$(date +%s)
echo "oracle test: unpack $((unpacked - start)) s, runs $((end - unpacked)) s"
exit "$fail"
