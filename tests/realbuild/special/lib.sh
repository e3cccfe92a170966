# shellcheck shell=sh
# Helpers for the scripts of tests/realbuild/special/ (sourced, not run).
#
# The scripts make an override source tree in DEST for tests/realbuild/overrides.py
# (recipes: tests/realbuild/overrides.d/special.toml); they also run alone:
#   CACHE=/path/to/cache DEST=/empty/dir [INFO=file.json] [RECIPE=name] special/<x>.sh
# Downloads are kept in CACHE/src/debian/ and checked against the sha256 that
# Debian's Sources index gives for them; GitHub repositories are read from the
# snapshots the search tool's fetch leaves in B4K_MIRROR_DIR (owner+name/repo,
# as tests/realbuild/run.sh requires it).
# Editing this file does not change a recipe's key: rebuild the trees by hand.

MIRRORS=${B4K_MIRROR_DIR:?set B4K_MIRROR_DIR to the directory of git mirrors (<owner>+<name>/repo)}

die() {
	echo "${0##*/}: $*" >&2
	exit 1
}

# debian_mirror: the Debian archive apt uses here (DEBIAN_MIRROR overrides it).
debian_mirror() {
	if [ -n "${DEBIAN_MIRROR:-}" ]; then
		echo "$DEBIAN_MIRROR"
		return
	fi
	m=$(sed -n -e 's|^URIs: *\([^ ]*/debian\)/*$|\1|p' \
		-e 's|^deb \(\[[^]]*\] \)\{0,1\}\([^ ]*/debian\)/* .*|\2|p' \
		/etc/apt/sources.list.d/*.sources /etc/apt/sources.list.d/*.list \
		/etc/apt/sources.list 2>/dev/null | head -n 1)
	[ -n "$m" ] || die "no Debian archive in apt's sources: set DEBIAN_MIRROR"
	echo "$m"
}

# debian_file POOLDIR FILE SHA256: prints CACHE/src/debian/FILE, downloaded once
# from the archive's POOLDIR (e.g. pool/main/s/systemd) and checked.
debian_file() {
	d=$CACHE/src/debian
	mkdir -p "$d"
	if [ ! -f "$d/$2" ]; then
		echo "${0##*/}: downloading $2" >&2
		curl -fsSL --retry 3 -o "$d/$2.tmp" "$(debian_mirror)/$1/$2" ||
			die "$1/$2 is not served by $(debian_mirror)"
		mv "$d/$2.tmp" "$d/$2"
	fi
	echo "$3  $d/$2" | sha256sum -c --status ||
		die "$d/$2: sha256 is not $3; remove it and rerun"
	echo "$d/$2"
}

# mirror_git OWNER/NAME: prints the git directory of the repository's snapshot.
mirror_git() {
	g=$MIRRORS/$(echo "$1" | tr / +)/repo
	[ -d "$g/.git" ] && g=$g/.git
	[ -d "$g/objects" ] || die "no snapshot of $1 in $MIRRORS: bring it with the search tool's fetch (github:$1)"
	echo "$g"
}

# git_tree OWNER/NAME REV DIR: the files of REV (a tag, branch or commit) into DIR.
git_tree() {
	g=$(mirror_git "$1")
	git --git-dir="$g" rev-parse -q --verify "$2^{commit}" >/dev/null ||
		die "$1 has no $2 (snapshot $g)"
	git --git-dir="$g" archive --format=tar -o "$3/.git-archive.tar" "$2"
	tar -x -C "$3" -f "$3/.git-archive.tar"
	rm -f "$3/.git-archive.tar"
}

# info FROM VERSION SAME_VERSION NOTE: the provenance object overrides.py reads
# from INFO (printed when INFO is not set).
info() {
	/usr/bin/python3 -c 'import json, sys
f, v, s, n = sys.argv[1:5]
print(json.dumps({"from": f, "version": v, "same_version": s == "true", "note": n}, indent=1))' \
		"$@" >"${INFO:-/dev/stdout}"
}
