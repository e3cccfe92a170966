#!/bin/sh
# Runtime lane: the Kubernetes pieces at exactly the tree's versions, built from
# their Go modules (scripts/go-build-module; cached per module@version under
# $B4K_CACHE/go), and a STAGE directory made of them. Prints STAGE.
#   tests/runtime/build-pieces.sh [node|all]
# node: what the node's root file system holds (kubeadm, kubelet, kubectl,
# cri-dockerd); all: also every binary the bundle's images need (STAGE/bin).
# Versions: KUBERNETES_VERSION of package/kubernetes/kubernetes.mk; etcd, CoreDNS
# and pause from `kubeadm config images list`; CRI_DOCKERD_VERSION of
# package/cri-dockerd/cri-dockerd.mk; flannel, its CNI plugin and csi-driver-nfs
# and its sidecars from board/common/images/images.txt.
# B4K_BIN_DIR: a directory of binaries (named as in STAGE/bin) used instead of
# building, for modules the proxy cannot give.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
what=${1:-all}
cache=${B4K_CACHE:-$HOME/.cache/b4k/runtime}
gb=$tree/scripts/go-build-module
k8s=$("$tree/scripts/mk-version" "$tree/package/kubernetes/kubernetes.mk" || true)
cri=$("$tree/scripts/mk-version" "$tree/package/cri-dockerd/cri-dockerd.mk" || true)
tag() { sed -n "s|^$1:\(v\{0,1\}\)|v|p" "$2" | head -n1; }
if [ -z "$k8s" ] || [ -z "$cri" ]; then
	echo "build-pieces: no version in package/{kubernetes,cri-dockerd}/*.mk" >&2
	exit 1
fi
log() { echo "build-pieces: $*" >&2; }
# time NAME CMD...: run and record the wall time of one build
timed() {
	n=$1; shift
	s=$(date +%s)
	nice -n 15 "$@"
	log "$n: $(($(date +%s) - s)) s"
}

kdir=$cache/go/k8s.io/kubernetes@$k8s
kflags=''
for p in k8s.io/client-go/pkg/version k8s.io/component-base/version; do
	kflags="$kflags -X $p.gitVersion=$k8s -X $p.gitMajor=1 -X $p.gitMinor=$(echo "$k8s" | cut -d. -f2) -X $p.gitTreeState=clean"
done
# kubernetes.mk's KUBERNETES_TAGS for a source build
ktags='selinux notest grpcnotrace'
k8sbuild() { timed "$*" "$gb" -t "$ktags" -l "$kflags" "k8s.io/kubernetes@$k8s" "$kdir" "$@"; }
k8sbuild k8s.io/kubernetes/cmd/kubeadm
k8sbuild k8s.io/kubernetes/cmd/kubelet
k8sbuild k8s.io/kubernetes/cmd/kubectl
cdir=$cache/go/github.com/Mirantis/cri-dockerd@$cri
timed cri-dockerd "$gb" -l "-X github.com/Mirantis/cri-dockerd/cmd/version.Version=${cri#v} -X github.com/Mirantis/cri-dockerd/cmd/version.GitCommit=b4k-runtime-lane" \
	"github.com/Mirantis/cri-dockerd@$cri" "$cdir" github.com/Mirantis/cri-dockerd

stage=$cache/stage-$k8s-$what
rm -rf "$stage" && mkdir -p "$stage/root/usr/bin" "$stage/root/usr/lib/systemd/system" "$stage/bin"
for b in kubeadm kubelet kubectl; do cp "$kdir/$b" "$stage/root/usr/bin/"; done
cp "$cdir/cri-dockerd" "$stage/root/usr/bin/"
# package/cri-dockerd/cri-dockerd.mk installs upstream's units from the source
moddir=$(cd "$cdir" && GOFLAGS=-mod=mod go mod download -json "github.com/Mirantis/cri-dockerd@$cri" |
	sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
install -m 0644 "$moddir/packaging/systemd/cri-docker.service" "$moddir/packaging/systemd/cri-docker.socket" \
	"$stage/root/usr/lib/systemd/system/"

if [ "$what" = all ]; then
	images=$(mktemp)
	trap 'rm -f "$images"' EXIT
	{ "$kdir/kubeadm" config images list --kubernetes-version "$k8s"
	  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$tree/board/common/images/images.txt"; } >"$images"
	for b in kube-apiserver kube-controller-manager kube-scheduler kube-proxy; do
		k8sbuild "k8s.io/kubernetes/cmd/$b"
		cp "$kdir/$b" "$stage/bin/"
	done
	# pause from its C source in the k8s.io/kubernetes module, with upstream's
	# CFLAGS (build/pause/Makefile; REV, a git describe there, is b4k here)
	pause=$(tag registry.k8s.io/pause "$images")
	kmod=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$k8s" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	[ -x "$kdir/pause-$pause" ] || gcc -Os -Wall -Werror -static "-DVERSION=$pause-b4k" -o "$kdir/pause-$pause" "$kmod/build/pause/linux/pause.c"
	cp "$kdir/pause-$pause" "$stage/bin/pause"
	etcd=$(tag registry.k8s.io/etcd "$images")
	etcd=${etcd%-*}
	timed etcd "$gb" "go.etcd.io/etcd/server/v3@$etcd" "$cache/go/go.etcd.io/etcd@$etcd" go.etcd.io/etcd/server/v3
	cp "$cache/go/go.etcd.io/etcd@$etcd/v3" "$stage/bin/etcd"
	coredns=$(tag registry.k8s.io/coredns/coredns "$images")
	timed coredns "$gb" "github.com/coredns/coredns@$coredns" "$cache/go/github.com/coredns/coredns@$coredns" github.com/coredns/coredns
	cp "$cache/go/github.com/coredns/coredns@$coredns/coredns" "$stage/bin/coredns"
	flannel=$(tag ghcr.io/flannel-io/flannel "$images")
	timed flannel "$gb" -l "-X github.com/flannel-io/flannel/pkg/version.Version=$flannel" \
		"github.com/flannel-io/flannel@$flannel" "$cache/go/github.com/flannel-io/flannel@$flannel" \
		github.com/flannel-io/flannel github.com/flannel-io/flannel/cmd/install_conf
	cp "$cache/go/github.com/flannel-io/flannel@$flannel/flannel" "$stage/bin/flanneld"
	cp "$cache/go/github.com/flannel-io/flannel@$flannel/install_conf" "$stage/bin/install_conf"
	# Modules the Go module proxy here refuses (403 "not available"): taken from
	# B4K_BIN_DIR when given.
	for spec in "flannel-cni ghcr.io/flannel-io/flannel-cni-plugin github.com/flannel-io/cni-plugin" \
		"nfsplugin registry.k8s.io/sig-storage/nfsplugin github.com/kubernetes-csi/csi-driver-nfs/cmd/nfsplugin" \
		"csi-provisioner registry.k8s.io/sig-storage/csi-provisioner github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner" \
		"livenessprobe registry.k8s.io/sig-storage/livenessprobe github.com/kubernetes-csi/livenessprobe/cmd/livenessprobe" \
		"csi-node-driver-registrar registry.k8s.io/sig-storage/csi-node-driver-registrar github.com/kubernetes-csi/node-driver-registrar/cmd/csi-node-driver-registrar"; do
		# shellcheck disable=SC2086 # four words
		set -- $spec
		v=$(tag "$2" "$images")
		if [ -n "${B4K_BIN_DIR:-}" ] && [ -x "$B4K_BIN_DIR/$1" ]; then
			cp "$B4K_BIN_DIR/$1" "$stage/bin/$1"
			continue
		fi
		case $1 in
		csi-provisioner)
			timed "$1" "$gb" -l "-X main.version=$v" "github.com/kubernetes-csi/external-provisioner/v6@$v" \
				"$cache/go/$1@$v" "$3" && cp "$cache/go/$1@$v/$1" "$stage/bin/$1" ;;
		*) log "MISSING $1 $v: module $3 not served by the Go module proxy here; give it in B4K_BIN_DIR" ;;
		esac
	done
fi
echo "$stage"
