#!/bin/sh
# tests/realbuild/toolchain.sh CACHE
#
# Makes CACHE/toolchain, the external toolchain of the real offline build, in
# place of the Bootlin toolchain pc_defconfig names (its tarball cannot be had
# here). It is Debian bookworm's gcc-12 and binutils, taken from their .debs
# (apt-get download), laid out so that Buildroot accepts it as
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
# A copy rather than Debian's gcc in place: in place it still finds the host's
# libraries through its built-in paths. In the sysroot, etc/ld.so.conf.d is
# removed (Buildroot's copy of 'ld*.so.*' libraries stops on that directory)
# and absolute symlinks are made relative (else they lead to the host's files).
# The drivers and binutils still run on the host's shared libraries (libisl,
# libmpc, libbfd, ...): scripts/host-deps.d/realbuild.txt installs gcc-12,
# g++-12 and binutils for them.
#
# Writes CACHE/provenance/toolchain-external-bootlin.json (the .debs' versions
# and sha256) and CACHE/toolchain/.stamp. Rerunnable: the .debs are kept in
# CACHE/src/debs-bookworm/, and a toolchain whose stamp matches them is kept.
set -eu

if [ $# -ne 1 ]; then
	echo "usage: $0 CACHE" >&2
	exit 2
fi
mkdir -p "$1"
CACHE=$(cd "$1" && pwd)

TUPLE=x86_64-linux-gnu
GCC_MAJOR=12
# Bumped when the layout below changes, so that a cached toolchain is remade.
LAYOUT=2
# The compiler: drivers, cc1/cc1plus, lib/gcc/$TUPLE/12, binutils.
COMPILER_DEBS="cpp-12 gcc-12 g++-12 libgcc-12-dev libstdc++-12-dev binutils-x86-64-linux-gnu"
# The target's sysroot. libgomp1 and libatomic1 are there for libgcc-12-dev's
# libgomp.so and libatomic.so links: the toolchain declares OpenMP, and
# Buildroot links -latomic where a package needs it.
SYSROOT_DEBS="libc6 libc6-dev linux-libc-dev libgcc-s1 libgcc-12-dev libstdc++6 libstdc++-12-dev libcrypt1 libcrypt-dev libgomp1 libatomic1"
BINUTILS="addr2line ar as c++filt elfedit gprof ld ld.bfd ld.gold nm objcopy objdump ranlib readelf size strings strip"

DEBS=$CACHE/src/debs-bookworm
T=$CACHE/toolchain

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
	mkdir -p "$work/root" "$t/bin" "$t/gcc-bin" "$t/lib/gcc/$TUPLE" "$t/$TUPLE/bin" "$t/sysroot"
	for p in $COMPILER_DEBS; do
		dpkg -x "$(debfile "$p")" "$work/root"
	done
	for p in $SYSROOT_DEBS; do
		dpkg -x "$(debfile "$p")" "$t/sysroot"
	done

	cp -a "$work/root/usr/lib/gcc/$TUPLE/$GCC_MAJOR" "$t/lib/gcc/$TUPLE/"
	for d in gcc g++ cpp gcc-ar gcc-nm gcc-ranlib; do
		cp -a "$work/root/usr/bin/$TUPLE-$d-$GCC_MAJOR" "$t/gcc-bin/"
	done
	for b in $BINUTILS; do
		cp -a "$work/root/usr/bin/$TUPLE-$b" "$t/$TUPLE/bin/$b"
	done
	# Debian's ld is a link to x86_64-linux-gnu-ld.bfd.
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

	ln -s sysroot/usr/include "$t/include"
	for link in "$t/lib/gcc/$TUPLE/$GCC_MAJOR"/lib*.so; do
		target=$(readlink "$link") || continue
		lib=${target#../../../"$TUPLE"/}
		if [ "$lib" != "$target" ] && [ -e "$t/sysroot/usr/lib/$TUPLE/$lib" ]; then
			ln -sfn "../../../../sysroot/usr/lib/$TUPLE/$lib" "$link"
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

write_provenance() {
	mkdir -p "$CACHE/provenance"
	/usr/bin/python3 - "$CACHE/provenance/toolchain-external-bootlin.json" "$T" <<'EOF'
import json, os, sys
path, tc = sys.argv[1:]
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
    "file": "x86-64--glibc--stable-2025.08-1.tar.xz",
    "how": "harness",
    "from": "debian bookworm .debs (apt-get download): " +
            " ".join(sorted({d["package"] for d in debs})),
    "version": "gcc-12 %s, binutils %s, glibc %s, linux-libc-dev %s" % (
        ver.get("gcc-12"), ver.get("binutils-x86-64-linux-gnu"),
        ver.get("libc6"), ver.get("linux-libc-dev")),
    "same_version": False,
    "patches": {"applied": [], "failed": []},
    "debs": debs,
    "note": ("Not the Bootlin toolchain: tests/realbuild/toolchain.sh lays out "
             "Debian's gcc-12 and binutils with a dpkg -x sysroot in "
             "CACHE/toolchain, and tests/realbuild/harness.fragment selects it "
             "as BR2_TOOLCHAIN_EXTERNAL_CUSTOM (GCC 12, headers 6.1, glibc, "
             "C++, OpenMP, no RPC). The target carries Debian's glibc."),
}
tmp = path + ".tmp"
with open(tmp, "w") as f:
    json.dump(doc, f, indent=1, sort_keys=True)
    f.write("\n")
os.replace(tmp, path)
EOF
}

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
write_provenance
"$T/bin/$TUPLE-gcc" --version | head -n 1
log "done: $T"
