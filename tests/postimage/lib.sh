# Shared by tests/check-postimage-*.sh (sourced, bash).
# shellcheck shell=bash

cache=${B4K_TEST_CACHE:-${XDG_CACHE_HOME:-$HOME/.cache}/b4k-tests}
export SOURCE_DATE_EPOCH=1700000000

for tool in genimage mkdosfs mcopy sfdisk e2fsck fsck.vfat blkid qemu-system-x86_64 \
	qemu-system-aarch64 grub-mkimage apt-get dpkg-deb cpio; do
	if ! command -v "$tool" >/dev/null; then
		echo "SKIP: $tool not found: run scripts/install-host-deps (scripts/host-deps.d/postimage.txt)"
		exit 77
	fi
done

step() { echo "-- $*"; }
fail() {
	echo "FAIL: $*"
	exit 1
}

# run_post BOARD DIR: b4k post-image on a make-inputs.sh tree, as Buildroot runs it.
run_post() {
	local initrd=()
	[ ! -f "$2/initrd.img" ] || initrd=(--initrd "$2/initrd.img")
	BINARIES_DIR=$2/images HOST_DIR=$2/host BR2_CONFIG=$2/.config BUILD_DIR=$2/build \
		"$b4k" post-image --board "$1" --board-dir "board/$1" "${initrd[@]}"
}

# build_twice BOARD WORK: inputs once, post-image on two copies (fresh file
# times, later wall clock); the results must be byte-identical.
build_twice() {
	tests/postimage/fetch-debs.sh "$cache"
	cargo build -q -p b4k
	b4k=$PWD/target/debug/b4k
	tests/postimage/make-inputs.sh "$1" "$cache" "$2/a"
	sleep 1
	mkdir -p "$2/b"
	cp -r "$2/a/images" "$2/a/host" "$2/a/.config" "$2/b/"
	[ ! -f "$2/a/initrd.img" ] || cp "$2/a/initrd.img" "$2/b/"
	local t0 t1
	t0=$(date +%s)
	run_post "$1" "$2/a" >/dev/null
	t1=$(date +%s)
	step "post-image took $((t1 - t0))s"
	run_post "$1" "$2/b" >/dev/null
	for f in sha256sums manifest.json; do
		cmp "$2/a/images/$f" "$2/b/images/$f" || fail "determinism: $f differs between two runs"
	done
	step "determinism: two runs give identical bytes:"
	sed 's/^/   /' "$2/a/images/sha256sums"
	(cd "$2/a/images" && sha256sum --quiet -c sha256sums) || fail "sha256sums does not match the files"
	for d in "$2/a/build" "$2/b/build"; do
		[ -z "$(ls -A "$d")" ] || fail "work directory left behind in $d"
	done
}

# part_field DUMP N FIELD: a field of partition N in `sfdisk --dump` output.
part_field() {
	sed -n "s/^[^ ]*$2 : .*$3= *\([^,]*\).*/\1/p" "$1"
}
