#!/bin/sh
# Real-build lane: the override tree of package/kubernetes (and host-kubernetes).
# dl.k8s.io is unreachable here, so kubeadm, kubelet and kubectl are built from
# the k8s.io/kubernetes Go module at the version package/kubernetes pins, with a
# release build's tags and version variables (tests/runtime/build-pieces.sh, whose
# cache B4K_CACHE this shares), and laid out as the package unpacks its
# downloads (KUBERNETES_EXTRACT_CMDS, which an override skips): the binaries
# and LICENSE at the top of the tree. Writes the provenance rows of the
# package's downloads.
#   tests/realbuild/kubernetes.sh CACHE
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
cache=${1:?usage: $0 CACHE}
version=$("$tree/scripts/mk-version" "$tree/package/kubernetes/kubernetes.mk")
version=${version#v}
stage=$("$tree/tests/runtime/build-pieces.sh" node)
dest=$cache/overrides/.trees/kubernetes-$version
if [ ! -d "$dest" ]; then
	rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
	for b in kubeadm kubelet kubectl; do cp "$stage/root/usr/bin/$b" "$dest.tmp/$b"; done
	mod=$(cd "$dest.tmp" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$version" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	[ -f "$mod/LICENSE" ] || { echo "kubernetes: no k8s.io/kubernetes@v$version from the Go module proxy" >&2; exit 1; }
	cp "$mod/LICENSE" "$dest.tmp/LICENSE"
	chmod -R u+w "$dest.tmp"
	mv "$dest.tmp" "$dest"
fi
for p in kubernetes host-kubernetes; do ln -sfn ".trees/kubernetes-$version" "$cache/overrides/$p"; done
# One row per download of each package in the harness's show-info.
/usr/bin/python3 - "$cache" "$version" <<'PY'
import json, os, sys
cache, version = sys.argv[1:]
info = json.load(open(os.path.join(cache, "show-info.json")))
for pkg in ("kubernetes", "host-kubernetes"):
    for dl in (info.get(pkg) or {}).get("downloads") or []:
        row = {"package": pkg, "file": dl["source"], "how": "override",
               "from": f"built here from the Go module k8s.io/kubernetes@v{version} (proxy.golang.org), "
                       "release tags and version ldflags (tests/runtime/build-pieces.sh)",
               "version": version, "same_version": True, "patches": {},
               "note": "dl.k8s.io unreachable; same version, not the release's bytes"}
        with open(os.path.join(cache, "provenance", f"{pkg}__{dl['source']}.json"), "w") as f:
            json.dump(row, f, indent=1)
PY
echo "kubernetes: override $dest ($version)" >&2
