#!/bin/sh
# tests/realbuild/toolchain.sh CACHE [ARCH]
#
# Makes CACHE/toolchain (ARCH x86_64, the default: the pc) or
# CACHE/toolchain-aarch64 (the Raspberry Pi 3), the external toolchain of the
# real offline build, in place of the Bootlin toolchain the board's defconfig
# names (its tarball cannot be had here). It is Debian bookworm's gcc-12 and
# binutils (for aarch64 the cross compiler gcc-12-aarch64-linux-gnu), taken from
# their .debs (apt-get download), laid out so that Buildroot accepts it as
# BR2_TOOLCHAIN_EXTERNAL_CUSTOM (see tests/realbuild/harness.fragment):
#
#   bin/x86_64-linux-gnu-*      what Buildroot calls: wrappers that add
#                               --sysroot=<this>/sysroot (a later --sysroot, as
#                               Buildroot's toolchain-wrapper passes, wins), and
#                               links to binutils
#   gcc-bin/                    Debian's gcc drivers; one level below the top
#                               so they find lib/gcc/ relative to themselves
#   lib/gcc/x86_64-linux-gnu/12 Debian's /usr/lib/gcc/x86_64-linux-gnu/12
#   x86_64-linux-gnu/bin/       binutils (as, ld, ...), where gcc looks for them
#   sysroot/                    dpkg -x of the C library, kernel headers and the
#                               gcc support libraries (SYSROOT_DEBS)
#   include -> sysroot/usr/include
#                               the relocated cc1plus looks for the C++ headers
#                               in <top>/include/c++/12
#
# lib/gcc/.../12/libstdc++.so, libgomp.so, libatomic.so are Debian's links to
# ../../../x86_64-linux-gnu/<lib>.so.N; here they point into the sysroot. Left
# dangling, ld takes the libstdc++.a and libgomp.a beside them, and every C++
# and OpenMP program gets them linked in statically. (A link of
# lib/x86_64-linux-gnu to the sysroot would do it too, but gcc searches that
# directory before the --sysroot ones: it would bring the crt files, libc and
# libcrypt from here in front of Buildroot's staging.)
#
# A copy rather than Debian's gcc in place: in place it still finds the host's
# libraries through its built-in paths. In the sysroot, etc/ld.so.conf.d is
# removed (Buildroot's copy of 'ld*.so.*' libraries stops on that directory)
# and absolute symlinks are made relative (else they lead to the host's files).
# The drivers and binutils still run on the host's shared libraries (libisl,
# libmpc, libbfd, ...): scripts/host-deps.d/realbuild.txt installs gcc-12,
# g++-12 and binutils for them.
#
# The compilers Buildroot would download prebuilt are made from what is here:
# CACHE/overrides/host-go-bin, Go from the Go module proxy's golang.org/toolchain
# module, and CACHE/overrides/host-rust-bin, the machine's rustup toolchain laid
# out as package/rust-bin's install.sh runs expect. CACHE/override-toolchain.mk
# has their <PKG>_OVERRIDE_SRCDIR lines, for BR2_PACKAGE_OVERRIDE_FILE.
#
# Writes CACHE/provenance/<package>__<file>.json for each download of
# pc_defconfig's show-info that this replaces (Bootlin toolchain, host-go-src
# and its bootstrap chain, host-rust-bin). Rerunnable: the .debs are kept in
# CACHE/src/debs-bookworm/, Go's module in CACHE/src/gomod/; a tree whose
# .stamp names the same inputs is kept.
#
# aarch64 differs in where Debian's cross packages put things, and the layout
# follows them: the compiler's own files in lib/gcc-cross/aarch64-linux-gnu/12
# (gcc looks there relative to its driver); the target's files, which the
# *-arm64-cross packages keep in /usr/aarch64-linux-gnu/{include,lib}, become a
# plain sysroot (sysroot/usr/include, sysroot/usr/lib, sysroot/lib -> usr/lib,
# libc.so's linker script rewritten to those paths), because Buildroot copies
# a sysroot's usr/include and lib directories into staging; and the C++
# headers, which the cross g++ looks for in <top>/aarch64-linux-gnu/include/c++,
# are a link there into the sysroot (only c++: a link of the whole include
# directory would put the toolchain's C headers in front of staging's).
#
# With BUILDROOT_DIR set, checks that its Go and rust-bin versions are the
# ones this was written for.
set -eu

if [ $# -lt 1 ] || [ $# -gt 2 ]; then
	echo "usage: $0 CACHE [x86_64|aarch64]" >&2
	exit 2
fi
mkdir -p "$1"
CACHE=$(cd "$1" && pwd)
ARCH=${2:-x86_64}

GCC_MAJOR=12
BINUTILS="addr2line ar as c++filt elfedit gprof ld ld.bfd ld.gold nm objcopy objdump ranlib readelf size strings strip"
DEBS=$CACHE/src/debs-bookworm
case $ARCH in
x86_64)
	TUPLE=x86_64-linux-gnu
	# Bumped when the layout below changes, so that a cached toolchain is remade.
	LAYOUT=3
	# The compiler: drivers, cc1/cc1plus, lib/gcc/$TUPLE/12, binutils.
	COMPILER_DEBS="cpp-12 gcc-12 g++-12 libgcc-12-dev libstdc++-12-dev binutils-x86-64-linux-gnu"
	# The target's sysroot. libgomp1 and libatomic1 are there for libgcc-12-dev's
	# libgomp.so and libatomic.so links: the toolchain declares OpenMP, and
	# Buildroot links -latomic where a package needs it.
	SYSROOT_DEBS="libc6 libc6-dev linux-libc-dev libgcc-s1 libgcc-12-dev libstdc++6 libstdc++-12-dev libcrypt1 libcrypt-dev libgomp1 libatomic1"
	GCC_LIB=lib/gcc
	T=$CACHE/toolchain
	# The Bootlin toolchain of pc_defconfig this stands in for (its provenance row).
	BOOTLIN=x86-64--glibc--stable-2025.08-1.tar.xz
	;;
aarch64)
	TUPLE=aarch64-linux-gnu
	LAYOUT=2
	# Debian's cross compiler; the support libraries' -arm64-cross packages
	# hold both lib/gcc-cross files (compiler) and target files (sysroot).
	COMPILER_DEBS="cpp-12-aarch64-linux-gnu gcc-12-aarch64-linux-gnu g++-12-aarch64-linux-gnu binutils-aarch64-linux-gnu"
	# No libcrypt: Debian has no -arm64-cross package of it; Buildroot builds
	# libxcrypt for the packages that need it.
	SYSROOT_DEBS="libc6-arm64-cross libc6-dev-arm64-cross linux-libc-dev-arm64-cross libgcc-s1-arm64-cross libgcc-12-dev-arm64-cross libstdc++6-arm64-cross libstdc++-12-dev-arm64-cross libgomp1-arm64-cross libatomic1-arm64-cross"
	GCC_LIB=lib/gcc-cross
	T=$CACHE/toolchain-aarch64
	BOOTLIN=aarch64--glibc--stable-2025.08-1.tar.xz
	;;
*)
	echo "toolchain: unknown ARCH '$ARCH' (x86_64 or aarch64)" >&2
	exit 2
	;;
esac

# Buildroot 2026.02.3's package/go/go.mk GO_VERSION; its golang.org/toolchain module.
GO_VERSION=1.26.3
GO_MODULE=golang.org/toolchain@v0.0.1-go$GO_VERSION.linux-amd64
# pc_defconfig's show-info: the bootstrap stages of host-go-src and their files.
GO_BOOTSTRAP="stage1:go1.4-bootstrap-20171003.tar.gz stage2:go1.19.13.src.tar.gz stage3:go1.21.8.src.tar.gz stage4:go1.23.12.src.tar.gz stage5:go1.25.10.src.tar.gz"
# Buildroot 2026.02.3's package/rust-bin/rust-bin.mk RUST_BIN_VERSION, and the
# rustup toolchain used instead.
RUST_BIN_VERSION=1.88.0
RUST_VERSION=1.95.0
RUST_HOST=x86_64-unknown-linux-gnu
RUST_TOOLCHAIN=${RUSTUP_HOME:-$HOME/.rustup}/toolchains/$RUST_VERSION-$RUST_HOST
RUST_LAYOUT=1

log() { echo "toolchain: $*"; }

# candidates: "PKG VERSION" lines, the versions apt would install, from one
# apt-cache call (it is slow); one 'apt-get update' first if any is unknown.
policy() {
	# shellcheck disable=SC2086 # the package lists are word lists
	apt-cache policy $COMPILER_DEBS $SYSROOT_DEBS 2>/dev/null | awk '
		/^[^ ]/ { p = $1; sub(/:$/, "", p) }
		/^  Candidate: / && $2 != "(none)" { print p, $2 }' | sort -u
}
candidates() {
	c=$(policy)
	for p in $COMPILER_DEBS $SYSROOT_DEBS; do
		if ! echo "$c" | grep -q "^$p "; then
			apt-get update -qq
			c=$(policy)
			break
		fi
	done
	echo "$c"
}

candidate() {
	v=$(echo "$CANDIDATES" | awk -v p="$1" '$1 == p { print $2 }')
	if [ -z "$v" ]; then
		echo "toolchain: no candidate version of $1 in apt's lists" >&2
		exit 1
	fi
	echo "$v"
}

# debfile PKG: the cached .deb of PKG's candidate version, downloaded if missing
# (apt-get download checks it against the archive's Packages index).
debfile() {
	v=$(candidate "$1")
	# apt-get download writes the epoch's ':' as %3a.
	vfile=$(echo "$v" | sed 's/:/%3a/')
	for f in "$DEBS/$1_${vfile}_"*.deb; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
	(cd "$DEBS" && apt-get download -q "$1=$v") >&2
	for f in "$DEBS/$1_${vfile}_"*.deb; do
		if [ -f "$f" ]; then
			echo "$f"
			return
		fi
	done
	echo "toolchain: apt-get download $1=$v left no .deb" >&2
	exit 1
}

# wrapper NAME REAL [SYSROOT]: bin/NAME runs REAL, with --sysroot first if asked.
# The final path is written in: the toolchain is used where it is made.
wrapper() {
	{
		echo '#!/bin/sh'
		echo "# $1: $T/$2 (Debian bookworm), made by tests/realbuild/toolchain.sh"
		if [ $# -eq 3 ]; then
			echo "# with its sysroot; a later --sysroot (Buildroot's wrapper) wins."
			# Debian's cross gcc says --with-sysroot=/ in its -v output, which
			# Buildroot's check_unusable_toolchain takes for a distribution
			# toolchain that cannot be relocated; this one is, with the
			# sysroot laid out here, so -v names that sysroot instead.
			echo "if [ \$# -eq 1 ] && [ \"\$1\" = -v ]; then"
			echo "	'$T/$2' -v 2>&1 | sed 's| --with-sysroot=/ | --with-sysroot=$T/sysroot |' >&2"
			echo "	exit 0"
			echo "fi"
			echo "exec '$T/$2' --sysroot='$T/sysroot' \"\$@\""
		else
			echo "exec '$T/$2' \"\$@\""
		fi
	} >"$work/toolchain/bin/$1"
	chmod 0755 "$work/toolchain/bin/$1"
}

# Turns absolute symlinks under $1 into relative ones within $1.
relativize_links() {
	find "$1" -type l -lname '/*' | while read -r link; do
		target=$(readlink "$link")
		dir=$(dirname "${link#"$1"/}")
		up=$(echo "$dir" | sed -e 's,[^/][^/]*,..,g')
		ln -sfn "$up$target" "$link"
	done
}

# check TOOLCHAIN: C, C++ and OpenMP programs link against the sysroot's
# shared libraries, and nothing comes from the host's headers or libraries.
check() {
	tmp=$(mktemp -d)
	printf '#include <stdio.h>\nint main(void) { puts("c"); return 0; }\n' >"$tmp/c.c"
	printf '#include <iostream>\nint main() { std::cout << "c++\\n"; }\n' >"$tmp/cxx.cc"
	printf '#include <omp.h>\nint main(void) { return omp_get_thread_num(); }\n' >"$tmp/omp.c"
	ok=yes
	"$1/bin/$TUPLE-gcc" -o "$tmp/c" "$tmp/c.c" || ok=no
	"$1/bin/$TUPLE-gcc" -fopenmp -o "$tmp/omp" "$tmp/omp.c" || ok=no
	"$1/bin/$TUPLE-g++" -v -Wl,--trace -o "$tmp/cxx" "$tmp/cxx.cc" >"$tmp/log" 2>&1 || {
		cat "$tmp/log"
		ok=no
	}
	if [ $ok = yes ]; then
		"$1/bin/$TUPLE-readelf" -d "$tmp/cxx" | grep -q 'NEEDED.*libstdc++.so.6' ||
			{ echo "toolchain: C++ program not linked against libstdc++.so.6" >&2; ok=no; }
		"$1/bin/$TUPLE-readelf" -d "$tmp/omp" | grep -q 'NEEDED.*libgomp.so.1' ||
			{ echo "toolchain: OpenMP program not linked against libgomp.so.1" >&2; ok=no; }
		if sed -n '/^#include <...> search starts here:/,/^End of search list/p' "$tmp/log" |
			grep '^ /' | grep -v "^ $1/"; then
			echo "toolchain: host include directories above" >&2
			ok=no
		fi
		if grep -E '^(/usr)?/lib' "$tmp/log"; then
			echo "toolchain: host libraries above" >&2
			ok=no
		fi
	fi
	rm -rf "$tmp"
	[ $ok = yes ]
}

build() {
	work=$(mktemp -d "$CACHE/toolchain.tmp.XXXXXX")
	trap 'rm -rf "$work"' EXIT
	log "building $T from Debian bookworm .debs"
	t=$work/toolchain
	mkdir -p "$work/root" "$t/bin" "$t/gcc-bin" "$t/$GCC_LIB/$TUPLE" "$t/$TUPLE/bin" "$t/sysroot"
	for p in $COMPILER_DEBS; do
		dpkg -x "$(debfile "$p")" "$work/root"
	done
	case $ARCH in
	x86_64)
		for p in $SYSROOT_DEBS; do
			dpkg -x "$(debfile "$p")" "$t/sysroot"
		done
		;;
	aarch64)
		# The -arm64-cross packages: their lib/gcc-cross files join the
		# compiler's, their /usr/aarch64-linux-gnu becomes the sysroot.
		for p in $SYSROOT_DEBS; do
			dpkg -x "$(debfile "$p")" "$work/root"
		done
		mkdir -p "$t/sysroot/usr"
		cp -a "$work/root/usr/$TUPLE/include" "$t/sysroot/usr/include"
		cp -a "$work/root/usr/$TUPLE/lib" "$t/sysroot/usr/lib"
		ln -s usr/lib "$t/sysroot/lib"
		sed -i "s|/usr/$TUPLE/lib/|/usr/lib/|g" "$t/sysroot/usr/lib/libc.so"
		if grep -q "/usr/$TUPLE" "$t/sysroot/usr/lib/libc.so"; then
			echo "toolchain: libc.so still names /usr/$TUPLE" >&2
			exit 1
		fi
		;;
	esac

	cp -a "$work/root/usr/$GCC_LIB/$TUPLE/$GCC_MAJOR" "$t/$GCC_LIB/$TUPLE/"
	for d in gcc g++ cpp gcc-ar gcc-nm gcc-ranlib; do
		cp -a "$work/root/usr/bin/$TUPLE-$d-$GCC_MAJOR" "$t/gcc-bin/"
	done
	for b in $BINUTILS; do
		cp -a "$work/root/usr/bin/$TUPLE-$b" "$t/$TUPLE/bin/$b"
	done
	# Debian's ld is a link to $TUPLE-ld.bfd.
	ln -sfn ld.bfd "$t/$TUPLE/bin/ld"

	for d in gcc g++ cpp; do
		wrapper "$TUPLE-$d" "gcc-bin/$TUPLE-$d-$GCC_MAJOR" sysroot
	done
	wrapper "$TUPLE-c++" "gcc-bin/$TUPLE-g++-$GCC_MAJOR" sysroot
	for d in gcc-ar gcc-nm gcc-ranlib; do
		wrapper "$TUPLE-$d" "gcc-bin/$TUPLE-$d-$GCC_MAJOR"
	done
	for b in $BINUTILS; do
		case $b in
		ld | ld.*) wrapper "$TUPLE-$b" "$TUPLE/bin/$b" sysroot ;;
		*) ln -s "../$TUPLE/bin/$b" "$t/bin/$TUPLE-$b" ;;
		esac
	done

	# The C++ headers where the relocated cc1plus looks, and the support
	# libraries' links (libstdc++.so, libgomp.so, ...) into the sysroot.
	case $ARCH in
	x86_64)
		ln -s sysroot/usr/include "$t/include"
		libs=../../../$TUPLE/ sysroot_libs=../../../../sysroot/usr/lib/$TUPLE/
		;;
	aarch64)
		mkdir -p "$t/$TUPLE/include"
		ln -s ../../sysroot/usr/include/c++ "$t/$TUPLE/include/c++"
		libs=../../../../$TUPLE/lib/ sysroot_libs=../../../../sysroot/usr/lib/
		;;
	esac
	for link in "$t/$GCC_LIB/$TUPLE/$GCC_MAJOR"/lib*.so; do
		target=$(readlink "$link") || continue
		lib=${target#"$libs"}
		if [ "$lib" != "$target" ] && [ -e "$t/$GCC_LIB/$TUPLE/$GCC_MAJOR/$sysroot_libs$lib" ]; then
			ln -sfn "$sysroot_libs$lib" "$link"
		fi
	done
	rm -rf "$t/sysroot/etc/ld.so.conf.d"
	relativize_links "$t/sysroot"

	# Swap the finished tree in (the wrappers name $T), check it there.
	if [ -e "$T" ]; then
		mv "$T" "$work/old"
	fi
	mv "$t" "$T"
	if ! check "$T"; then
		mv "$T" "$work/failed"
		if [ -e "$work/old" ]; then
			mv "$work/old" "$T"
		fi
		echo "toolchain: the new toolchain failed its check; the old one (if any) is kept" >&2
		exit 1
	fi
	echo "$stamp" >"$T/.stamp.tmp"
	mv "$T/.stamp.tmp" "$T/.stamp"
	rm -rf "$work"
	trap - EXIT
}

c_provenance() {
	/usr/bin/python3 - "$CACHE/provenance" "$T" "$BOOTLIN" <<'EOF'
import json, os, sys
provdir, tc, bootlin = sys.argv[1:]
debs = []
with open(os.path.join(tc, ".stamp")) as f:
    for line in f:
        fields = line.split()
        if len(fields) == 5:
            role, pkg, version, sha, name = fields
            debs.append({"role": role, "package": pkg, "version": version,
                         "sha256": sha, "file": name})
ver = {d["package"]: d["version"] for d in debs}
doc = {
    "package": "toolchain-external-bootlin",
    "file": bootlin,
    "how": "harness",
    "from": "debian bookworm .debs (apt-get download): " +
            " ".join(sorted({d["package"] for d in debs})),
    "version": "gcc-12 %s, binutils %s, glibc %s, linux-libc-dev %s" % (
        ver.get("gcc-12") or ver.get("gcc-12-aarch64-linux-gnu"),
        ver.get("binutils-x86-64-linux-gnu") or ver.get("binutils-aarch64-linux-gnu"),
        ver.get("libc6") or ver.get("libc6-arm64-cross"),
        ver.get("linux-libc-dev") or ver.get("linux-libc-dev-arm64-cross")),
    "same_version": False,
    "patches": {"applied": [], "failed": []},
    "debs": debs,
    "note": ("Not the Bootlin toolchain: tests/realbuild/toolchain.sh lays out "
             "Debian's gcc-12 and binutils with a dpkg -x sysroot in "
             "CACHE/toolchain, and tests/realbuild/harness.fragment selects it "
             "as BR2_TOOLCHAIN_EXTERNAL_CUSTOM (GCC 12, headers 6.1, glibc, "
             "C++, OpenMP, no RPC). The target carries Debian's glibc."),
}
path = os.path.join(provdir, doc["package"] + "__" + doc["file"] + ".json")
with open(path + ".tmp", "w") as f:
    json.dump(doc, f, indent=1, sort_keys=True)
    f.write("\n")
os.replace(path + ".tmp", path)
EOF
}

c_toolchain() {
	mkdir -p "$DEBS"
	CANDIDATES=$(candidates)
	# The stamp names everything the toolchain is made of.
	stamp="layout $LAYOUT $T"
	for p in $COMPILER_DEBS; do
		f=$(debfile "$p")
		stamp="$stamp
compiler $p $(dpkg-deb -f "$f" Version) $(sha256sum <"$f" | cut -d' ' -f1) $(basename "$f")"
	done
	for p in $SYSROOT_DEBS; do
		f=$(debfile "$p")
		stamp="$stamp
sysroot $p $(dpkg-deb -f "$f" Version) $(sha256sum <"$f" | cut -d' ' -f1) $(basename "$f")"
	done
	if [ -f "$T/.stamp" ] && [ "$(cat "$T/.stamp")" = "$stamp" ]; then
		log "$T is up to date"
	else
		build
	fi
	c_provenance
	"$T/bin/$TUPLE-gcc" --version | head -n 1
}

# provenance PACKAGE FILE HOW FROM VERSION SAME_VERSION NOTE: writes
# CACHE/provenance/PACKAGE__FILE.json (VERSION "" is null).
provenance() {
	/usr/bin/python3 - "$CACHE/provenance" "$@" <<'EOF'
import json, os, sys
provdir, package, file, how, frm, version, same, note = sys.argv[1:]
doc = {"package": package, "file": file, "how": how, "from": frm,
       "version": version or None, "same_version": same == "true",
       "patches": {"applied": [], "failed": []}, "note": note}
path = os.path.join(provdir, package + "__" + file + ".json")
with open(path + ".tmp", "w") as f:
    json.dump(doc, f, indent=1, sort_keys=True)
    f.write("\n")
os.replace(path + ".tmp", path)
EOF
}

# Go: Buildroot builds host-go-src through five bootstrap stages (go1.4 C
# sources, then 1.19, 1.21, 1.23, 1.25), none of whose sources can be had here.
# The golang.org/toolchain module of the same release is a Go distribution for
# linux-amd64 (the module zip drops the files' modes: bin/* and pkg/tool/*/*
# are made executable again); it becomes the source tree of host-go-bin, whose
# install step copies bin/, lib/, pkg/include, pkg/tool and src/.
go_override() {
	out=$CACHE/overrides/host-go-bin
	info=$(GOMODCACHE=$CACHE/src/gomod GOFLAGS=-modcacherw GOTOOLCHAIN=local \
		go mod download -json "$GO_MODULE")
	field() { echo "$info" | sed -n "s/^[[:space:]]*\"$1\": \"\(.*\)\",\{0,1\}\$/\1/p"; }
	dir=$(field Dir)
	sum=$(field Sum)
	zip_sha256=$(sha256sum <"$(field Zip)" | cut -d' ' -f1)
	stamp="$GO_MODULE $sum $zip_sha256"
	if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
		log "$out is up to date"
	else
		log "making $out from $GO_MODULE"
		rm -rf "$out.tmp"
		cp -a "$dir" "$out.tmp"
		chmod -R u+w "$out.tmp"
		chmod 0755 "$out.tmp"/bin/* "$out.tmp"/pkg/tool/*/*
		echo "$stamp" >"$out.tmp/.stamp"
		rm -rf "$out"
		mv "$out.tmp" "$out"
	fi
	GOTOOLCHAIN=local "$out/bin/go" version
	from="Go module proxy $GO_MODULE ($sum, zip sha256 $zip_sha256)"
	provenance host-go-bin "go$GO_VERSION.linux-amd64.tar.gz" override "$from" \
		"$GO_VERSION" true "The same Go release as Buildroot's go$GO_VERSION.linux-amd64.tar.gz, from the Go module proxy (checked against the Go checksum database); not compared byte for byte with that tarball, which cannot be had here. host-go-bin has no patches. tests/realbuild/harness.fragment selects BR2_PACKAGE_HOST_GO_BIN=y so that it, not host-go-src, provides host-go."
	note="Not built: tests/realbuild/harness.fragment selects BR2_PACKAGE_HOST_GO_BIN=y, and host-go-bin (Go $GO_VERSION from the Go module proxy's golang.org/toolchain module, see host-go-bin__go$GO_VERSION.linux-amd64.tar.gz.json) provides host-go instead of host-go-src and its bootstrap chain."
	provenance host-go-src "go$GO_VERSION.src.tar.gz" harness "$from" "$GO_VERSION" true "$note"
	for stage in $GO_BOOTSTRAP; do
		provenance "host-go-bootstrap-${stage%%:*}" "${stage#*:}" harness "none" "" false "$note"
	done
}

# Rust: the installer layout of rust-$RUST_BIN_VERSION-<host>.tar.xz and
# rust-std-$RUST_BIN_VERSION-<host>.tar.xz, made from the installed rustup
# toolchain with its manifests (lib/rustlib/manifest-*), and an install.sh that
# does what Buildroot asks of rust-installer's: install.sh --prefix=DIR
# --disable-ldconfig [--components=a,b], copying each component's manifest.in
# files. rust-bin.mk names the std directory with its own version, hence
# std/rust-std-$RUST_BIN_VERSION-<host> holding rustc $RUST_VERSION's std.
rust_override() {
	out=$CACHE/overrides/host-rust-bin
	src=$(readlink -f "$RUST_TOOLCHAIN")
	if [ ! -x "$src/bin/rustc" ]; then
		echo "toolchain: no rustup toolchain at $RUST_TOOLCHAIN" >&2
		exit 1
	fi
	rustc_v=$("$src/bin/rustc" -V)
	cargo_v=$("$src/bin/cargo" -V)
	stamp="layout $RUST_LAYOUT $rustc_v $cargo_v $(cat "$src"/lib/rustlib/manifest-rustc-"$RUST_HOST" "$src"/lib/rustlib/manifest-cargo-"$RUST_HOST" "$src"/lib/rustlib/manifest-rust-std-"$RUST_HOST" | sha256sum | cut -d' ' -f1)"
	if [ -f "$out/.stamp" ] && [ "$(cat "$out/.stamp")" = "$stamp" ]; then
		log "$out is up to date"
	else
		log "making $out from $src ($rustc_v)"
		rm -rf "$out.tmp"
		mkdir -p "$out.tmp"
		for c in rustc cargo rust-std; do
			name=$c
			[ "$c" = rust-std ] && name=rust-std-$RUST_HOST
			mkdir -p "$out.tmp/$name"
			cp "$src/lib/rustlib/manifest-$c-$RUST_HOST" "$out.tmp/$name/manifest.in"
			(cd "$src" && sed -n -e 's/^file://p' -e 's/^dir://p' "$out.tmp/$name/manifest.in" |
				tar -cf - -T -) | tar -C "$out.tmp/$name" -xf -
		done
		rust_installer "$out.tmp" rustc cargo "rust-std-$RUST_HOST"
		echo "$rustc_v" >"$out.tmp/version"
		std=$out.tmp/std/rust-std-$RUST_BIN_VERSION-$RUST_HOST
		mkdir -p "$std"
		cp -al "$out.tmp/rust-std-$RUST_HOST" "$std/"
		rust_installer "$std" "rust-std-$RUST_HOST"
		# What rust-bin.mk's HOST_RUST_BIN_LIBSTD_EXTRACT (a post-extract
		# hook, not run for an override) links.
		lib=lib/rustlib/$RUST_HOST/lib
		mkdir -p "$out.tmp/rustc/$lib"
		for f in "$out.tmp/rust-std-$RUST_HOST/$lib"/*; do
			ln -sf "../../../../../rust-std-$RUST_HOST/$lib/${f##*/}" "$out.tmp/rustc/$lib/"
		done
		echo "$stamp" >"$out.tmp/.stamp"
		rm -rf "$out"
		mv "$out.tmp" "$out"
	fi
	note="Not Rust $RUST_BIN_VERSION: rust-bin's tarballs cannot be had here. The machine's rustup toolchain ($rustc_v, $cargo_v) laid out by tests/realbuild/toolchain.sh as rust-bin's install.sh runs expect (components rustc, cargo, rust-std-$RUST_HOST from rustup's manifests; std/rust-std-$RUST_BIN_VERSION-$RUST_HOST holds the $RUST_VERSION std under the name rust-bin.mk uses). install.sh is a small stand-in for rust-installer's (only --prefix, --components, --disable-ldconfig). No LICENSE-APACHE/LICENSE-MIT at the top (legal-info would miss them). rust-bin has no patches."
	from="rustup toolchain $RUST_VERSION-$RUST_HOST of this machine"
	provenance host-rust-bin "rust-$RUST_BIN_VERSION-$RUST_HOST.tar.xz" override "$from" \
		"$RUST_VERSION" false "$note"
	provenance host-rust-bin "rust-std-$RUST_BIN_VERSION-$RUST_HOST.tar.xz" override "$from" \
		"$RUST_VERSION" false "$note"
	# For another target, host-rust-bin also downloads that target's std and
	# installs it (HOST_RUST_BIN_INSTALL_LIBSTD_TARGET runs its install.sh):
	# here an empty component, installing nothing (the Pi's build stopped at
	# that step without one).
	if [ "$ARCH" != x86_64 ]; then
		tstd=$out/std/rust-std-$RUST_BIN_VERSION-$ARCH-unknown-linux-gnu
		if [ ! -x "$tstd/install.sh" ]; then
			mkdir -p "$tstd"
			rust_installer "$tstd"
		fi
		provenance host-rust-bin "rust-std-$RUST_BIN_VERSION-$ARCH-unknown-linux-gnu.tar.xz" harness none "" false \
			"Not provided: the rustup toolchain here has no $ARCH std (rustup cannot download one offline). An empty component stands in (std/rust-std-$RUST_BIN_VERSION-$ARCH-unknown-linux-gnu, whose install.sh installs nothing): no target package of the board is written in Rust (b4k is a host tool), so nothing links against it; a target Rust package would fail to build, loudly."
	fi
}

# rust_installer DIR COMPONENT...: DIR/install.sh, components, rust-installer-version.
rust_installer() {
	d=$1
	shift
	printf '%s\n' "$@" >"$d/components"
	echo 3 >"$d/rust-installer-version"
	cat >"$d/install.sh" <<'EOF'
#!/bin/sh
# Installs the components of this directory (or those of --components=a,b)
# under --prefix: the part of rust-installer's install.sh that Buildroot's
# package/rust-bin uses. Made by buildroot4kubernetes' tests/realbuild/toolchain.sh.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
prefix=
components=$(cat "$here/components")
for arg in "$@"; do
	case $arg in
	--prefix=*) prefix=${arg#--prefix=} ;;
	--components=*) components=$(echo "${arg#--components=}" | tr , ' ') ;;
	--disable-ldconfig | --disable-verify | --verbose) ;;
	*)
		echo "install.sh: unsupported option $arg" >&2
		exit 1
		;;
	esac
done
if [ -z "$prefix" ]; then
	echo "install.sh: --prefix=DIR is needed" >&2
	exit 1
fi
md=$prefix/lib/rustlib
mkdir -p "$md"
for c in $components; do
	if [ ! -f "$here/$c/manifest.in" ]; then
		echo "install.sh: no component $c here" >&2
		exit 1
	fi
	(cd "$here/$c" && sed -n -e 's/^file://p' -e 's/^dir://p' manifest.in | tar -cf - -T -) |
		tar -C "$prefix" -xf -
	awk -v p="$prefix/" '{ sub(/:/, ":" p); print }' "$here/$c/manifest.in" >"$md/manifest-$c"
	if ! grep -qx "$c" "$md/components" 2>/dev/null; then
		echo "$c" >>"$md/components"
	fi
	echo "install.sh: installed $c"
done
echo 3 >"$md/rust-installer-version"
EOF
	chmod 0755 "$d/install.sh"
}

check_buildroot_versions() {
	[ -n "${BUILDROOT_DIR:-}" ] || return 0
	go=$(sed -n 's/^GO_VERSION = //p' "$BUILDROOT_DIR/package/go/go.mk")
	rust=$(sed -n 's/^RUST_BIN_VERSION = //p' "$BUILDROOT_DIR/package/rust-bin/rust-bin.mk")
	if [ "$go" != "$GO_VERSION" ] || [ "$rust" != "$RUST_BIN_VERSION" ]; then
		echo "toolchain: $BUILDROOT_DIR has Go $go and rust-bin $rust;" \
			"this script is for Go $GO_VERSION and rust-bin $RUST_BIN_VERSION" >&2
		exit 1
	fi
}

mkdir -p "$CACHE/provenance" "$CACHE/overrides"
check_buildroot_versions
c_toolchain
go_override
rust_override
{
	echo "# Made by tests/realbuild/toolchain.sh: the compilers' overrides."
	echo "HOST_GO_BIN_OVERRIDE_SRCDIR = $CACHE/overrides/host-go-bin"
	echo "HOST_RUST_BIN_OVERRIDE_SRCDIR = $CACHE/overrides/host-rust-bin"
} >"$CACHE/override-toolchain.mk.tmp"
mv "$CACHE/override-toolchain.mk.tmp" "$CACHE/override-toolchain.mk"
log "done: $T, $CACHE/overrides/host-go-bin, $CACHE/overrides/host-rust-bin, $CACHE/override-toolchain.mk"
