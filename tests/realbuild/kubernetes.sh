#!/bin/sh
# Real-build lane: the override trees of package/kubernetes and host-kubernetes.
# dl.k8s.io is unreachable here, so kubeadm, kubelet and kubectl are built from
# the k8s.io/kubernetes Go module at the version package/kubernetes pins, with a
# release build's tags and version variables (tests/runtime/build-pieces.sh, whose
# cache B4K_CACHE this shares), for the architecture of the release binaries the
# board's show-info asks for (kubelet-<version>-linux-<arch>: amd64 for the pc,
# arm64 for the Raspberry Pi), and laid out as the package unpacks its downloads
# (KUBERNETES_EXTRACT_CMDS, which an override skips): the binaries and LICENSE at
# the top of the tree. host-kubernetes gets the build machine's kubeadm (amd64).
# Writes OVERRIDE_MK (the two <PKG>_OVERRIDE_SRCDIR lines: one board's, as the
# trees differ by architecture) and the provenance rows of the packages' downloads.
#   tests/realbuild/kubernetes.sh CACHE SHOW_INFO OVERRIDE_MK
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
[ $# -eq 3 ] || { echo "usage: $0 CACHE SHOW_INFO OVERRIDE_MK" >&2; exit 2; }
cache=$1 info=$2 mk=$3
version=$("$tree/scripts/mk-version" "$tree/package/kubernetes/kubernetes.mk")
version=${version#v}
# The target's architecture, from the file name Buildroot would download.
arch=$(/usr/bin/python3 - "$info" "$version" <<'PY'
import json, sys
info, version = json.load(open(sys.argv[1])), sys.argv[2]
prefix = f"kubelet-{version}-linux-"
names = [d["source"] for d in (info.get("kubernetes") or {}).get("downloads") or []]
arch = [n[len(prefix):] for n in names if n.startswith(prefix)]
if len(arch) != 1:
    sys.exit(f"kubernetes: no {prefix}<arch> download in show-info ({names})")
print(arch[0])
PY
)
host_arch=$(go env GOHOSTARCH)

# tree_of ARCH: prints the override tree of the binaries for ARCH, made once.
tree_of() {
	dest=$cache/overrides/.trees/kubernetes-$version-linux-$1
	if [ ! -d "$dest" ]; then
		stage=$(GOARCH=$1 "$tree/tests/runtime/build-pieces.sh" node)
		rm -rf "$dest.tmp" && mkdir -p "$dest.tmp"
		for b in kubeadm kubelet kubectl; do cp "$stage/root/usr/bin/$b" "$dest.tmp/$b"; done
		mod=$(cd "$dest.tmp" && GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@v$version" |
			sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
		[ -f "$mod/LICENSE" ] || { echo "kubernetes: no k8s.io/kubernetes@v$version from the Go module proxy" >&2; exit 1; }
		cp "$mod/LICENSE" "$dest.tmp/LICENSE"
		chmod -R u+w "$dest.tmp"
		mv "$dest.tmp" "$dest"
	fi
	file "$dest/kubelet" >&2
	echo "$dest"
}
target=$(tree_of "$arch")
host=$(tree_of "$host_arch")
# Links of an older layout would give every board the same tree.
rm -f "$cache/overrides/kubernetes" "$cache/overrides/host-kubernetes"
{
	echo "# Made by tests/realbuild/kubernetes.sh: Kubernetes $version, linux-$arch (host: linux-$host_arch)."
	echo "KUBERNETES_OVERRIDE_SRCDIR = $target"
	echo "HOST_KUBERNETES_OVERRIDE_SRCDIR = $host"
} >"$mk.tmp"
mv "$mk.tmp" "$mk"
# One row per download of each package in the harness's show-info.
/usr/bin/python3 - "$cache" "$info" "$version" <<'PY'
import json, os, sys
cache, info, version = sys.argv[1:]
info = json.load(open(info))
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
echo "kubernetes: override $target ($version, $arch), host $host" >&2
