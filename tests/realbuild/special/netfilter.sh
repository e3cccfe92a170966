#!/bin/sh
# Override trees of the netfilter.org libraries of pc_defconfig, one per recipe
# (RECIPE = the Buildroot package name): the release's git tree from a GitHub
# copy of git.netfilter.org, made to look like the release tarball with
# `autoreconf -fi` (the tarballs carry a generated configure; libmnl and
# libnetfilter_queue are autoreconfigured by Buildroot anyway).
#
# netfilter.org is unreachable and Debian's .orig files of these libraries are
# not served here. Release tags are used where the copy has them; otherwise the
# release commit ("bump version to X", which the release tag points at
# upstream) of the copy, whose history is upstream's. libnftnl 1.3.0 is in no
# copy: the nearest release tree found is 1.3.1, see below.
set -eu
# shellcheck source-path=SCRIPTDIR source=lib.sh
. "$(dirname "$0")/lib.sh"

same=true
note=
case ${RECIPE:?RECIPE names the library} in
libmnl) repo=sailfishos-mirror/libmnl rev=libmnl-1.0.5 version=1.0.5 ;;
libnfnetlink) repo=sailfishos-mirror/libnfnetlink rev=libnfnetlink-1.0.2 version=1.0.2 ;;
libnetfilter_conntrack)
	repo=sailfishos-mirror/libnetfilter_conntrack rev=libnetfilter_conntrack-1.0.9 version=1.0.9
	;;
libnetfilter_cthelper)
	# "bump version to 1.0.1" (Pablo Neira Ayuso, 2022-05-05; the next commit
	# is of 2022-12); the copy lacks the tag.
	repo=rcoscali/libnetfilter_cthelper rev=8cee0347cc6969c39bb64000dfaa676a8f9e30f0 version=1.0.1
	;;
libnetfilter_cttimeout)
	# "bump version to 1.0.1" (Pablo Neira Ayuso, 2022-05-05; the next commit
	# is of 2022-12); the copy lacks the tag.
	repo=rcoscali/libnetfilter_cttimeout rev=068d36d6291f53a0a609ab1f695aa06e94ce3d30 version=1.0.1
	;;
libnetfilter_queue)
	# "configure: prepare for 1.0.5 release" (Florian Westphal, 2020-06-12; the
	# next commit is of 2020-09); the copy lacks the tag.
	repo=rcoscali/libnetfilter_queue rev=2ff321690b8dafeca99ee8e9cafac71e36f292b9 version=1.0.5
	;;
libnftnl)
	# sysfce2/libnftnl is a series of snapshots of libnftnl's master branch,
	# without upstream's history. Snapshot 2025-12-15 differs from the one
	# before it (2025-11-07) only by the 1.3.1 release commit's version bump
	# (configure.ac 1.3.0 -> 1.3.1, LIBVERSION 17:0:6 -> 18:0:7): its tree is
	# libnftnl 1.3.1 as released. No copy holds 1.3.0 (the newest upstream
	# tag found, libnftnl-1.2.6, is older).
	repo=sysfce2/libnftnl rev=cec826c4e6afd38ebc943503f6138c7bec3816d2 version=1.3.1 same=false
	note="libnftnl 1.3.1 (bug-fix release after Buildroot's 1.3.0); its release tree inferred from two master snapshots, not from a tag"
	;;
*) die "no source known for $RECIPE" ;;
esac

git_tree "$repo" "$rev" "$DEST"
sed -n 's/^AC_INIT(\([^)]*\)).*/\1/p' "$DEST/configure.ac" | tr -d '[] ' | cut -d, -f2 | grep -qx "$version" ||
	die "$repo $rev: configure.ac is not version $version"
(cd "$DEST" && autoreconf -fi >/dev/null 2>&1) || die "autoreconf -fi failed in $DEST"
rm -rf "$DEST/autom4te.cache"

info "git tree of $repo $rev + autoreconf -fi" "$version" "$same" "$note"
