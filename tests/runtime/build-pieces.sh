#!/bin/sh
# Runtime lane: the Kubernetes pieces at exactly the tree's versions, built from
# their Go modules (scripts/go-build-module; cached per module@version under
# $B4K_CACHE/go), and a STAGE directory made of them. Prints STAGE.
#   tests/runtime/build-pieces.sh [node|all]
# node: what the node's root file system holds (kubeadm, kubelet, kubectl,
# cri-dockerd, the tree's b4k-node); all: also every binary the bundle's images need (STAGE/bin).
# Versions: KUBERNETES_VERSION of package/kubernetes/kubernetes.mk; etcd, CoreDNS
# and pause from `kubeadm config images list`; CRI_DOCKERD_VERSION of
# package/cri-dockerd/cri-dockerd.mk; flannel, its CNI plugin and csi-driver-nfs
# and its sidecars from board/common/images/images.txt.
# B4K_BIN_DIR: a directory of binaries (named as in STAGE/bin) used instead of
# building, for modules the proxy cannot give; B4K_GIT_DIR: a directory of git
# repositories (cni-plugin, csi-driver-nfs, livenessprobe, node-driver-registrar,
# tencentcloud-sdk-go) to build those from instead. RUNTIME (default docker):
# containerd builds the node's containerd (the version Buildroot's
# package/containerd pins: CONTAINERD_VERSION of $BUILDROOT_DIR's containerd.mk,
# else 2.0.7, Buildroot 2026.02.3's), its runc shim, ctr and crictl
# (package/cri-tools) instead of cri-dockerd. GOARCH (default amd64):
# the pieces' architecture; another than amd64 (arm64: the Raspberry Pi, a
# worker) is cached apart (CACHE/GOARCH), and its `all` leaves out the control
# plane's binaries (kube-apiserver, -controller-manager, -scheduler, etcd: their
# images are make-images.py's stand-ins, which a worker never runs) and kube-bench.
set -eu
here=$(cd "$(dirname "$0")" && pwd)
tree=$(cd "$here/../.." && pwd)
what=${1:-all}
cache=${B4K_CACHE:-$HOME/.cache/b4k/runtime}
hostcache=$cache
if [ "${GOARCH:-amd64}" != amd64 ]; then
	cache=$cache/$GOARCH
fi
arch=${GOARCH:-amd64}
gb=$tree/scripts/go-build-module
k8s=$("$tree/scripts/mk-version" "$tree/package/kubernetes/kubernetes.mk" || true)
cri=$("$tree/scripts/mk-version" "$tree/package/cri-dockerd/cri-dockerd.mk" || true)
runtime=${RUNTIME:-docker}
case $runtime in docker | containerd) ;; *) echo "build-pieces: RUNTIME is docker or containerd, not '$runtime'" >&2; exit 2 ;; esac
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
if [ "$runtime" = docker ]; then
	# cri-dockerd with the patches Buildroot applies (package/cri-dockerd/*.patch, the
	# same files): the module's source copied and patched, given to go-build-module
	# with -r; cached by a hash of the patches.
	crimod=$(GOFLAGS=-mod=mod go mod download -json "github.com/Mirantis/cri-dockerd@$cri" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	set -- "$tree"/package/cri-dockerd/*.patch
	crikey=$(cat "$@" | sha256sum | cut -c1-16)
	csrc=$cache/go/cri-dockerd-src-$cri-$crikey
	if [ ! -f "$csrc/go.mod" ]; then
		rm -rf "$csrc.tmp" && cp -r "$crimod" "$csrc.tmp" && chmod -R u+w "$csrc.tmp"
		for p in "$@"; do patch -s -d "$csrc.tmp" -p1 <"$p"; done
		mv "$csrc.tmp" "$csrc"
	fi
	cdir=$cache/go/github.com/Mirantis/cri-dockerd@$cri-$crikey
	timed cri-dockerd "$gb" -r "github.com/Mirantis/cri-dockerd=$csrc" \
		-l "-X github.com/Mirantis/cri-dockerd/cmd/version.Version=${cri#v} -X github.com/Mirantis/cri-dockerd/cmd/version.GitCommit=b4k-runtime-lane" \
		"github.com/Mirantis/cri-dockerd@$cri" "$cdir" github.com/Mirantis/cri-dockerd
else
	# containerd as package/containerd builds it (CONTAINERD_BUILD_TARGETS,
	# _TAGS with libseccomp and no btrfs, devmapper or zfs driver, _LDFLAGS),
	# crictl as package/cri-tools does.
	ctd=${CONTAINERD_VERSION:-$("$tree/scripts/mk-version" "${BUILDROOT_DIR:-/nonexistent}/package/containerd/containerd.mk" 2>/dev/null || echo 2.0.7)}
	ctd=v${ctd#v}
	ctddir=$cache/go/github.com/containerd/containerd@$ctd
	timed containerd "$gb" -t 'no_aufs seccomp no_btrfs no_devmapper no_zfs' \
		-l "-X github.com/containerd/containerd/v2/version.Version=${ctd#v}" \
		"github.com/containerd/containerd/v2@$ctd" "$ctddir" github.com/containerd/containerd/v2/cmd/containerd \
		github.com/containerd/containerd/v2/cmd/containerd-shim-runc-v2 github.com/containerd/containerd/v2/cmd/ctr
	crictl=$("$tree/scripts/mk-version" "$tree/package/cri-tools/cri-tools.mk")
	crictldir=$cache/go/sigs.k8s.io/cri-tools@$crictl
	timed crictl "$gb" -l "-X sigs.k8s.io/cri-tools/pkg/version.Version=${crictl#v}" \
		"sigs.k8s.io/cri-tools@$crictl" "$crictldir" sigs.k8s.io/cri-tools/cmd/crictl
	ctdmod=$(GOFLAGS=-mod=mod go mod download -json "github.com/containerd/containerd/v2@$ctd" |
		sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
fi

stage=$cache/stage-$k8s-$what
[ "$runtime" = docker ] || stage=$stage-$runtime
rm -rf "$stage" && mkdir -p "$stage/root/usr/bin" "$stage/root/usr/lib/systemd/system" "$stage/bin"
for b in kubeadm kubelet kubectl; do cp "$kdir/$b" "$stage/root/usr/bin/"; done
if [ "$runtime" = docker ]; then
	cp "$cdir/cri-dockerd" "$stage/root/usr/bin/"
	# package/cri-dockerd/cri-dockerd.mk installs upstream's units from the source
	install -m 0644 "$csrc/packaging/systemd/cri-docker.service" "$csrc/packaging/systemd/cri-docker.socket" \
		"$stage/root/usr/lib/systemd/system/"
else
	for b in containerd containerd-shim-runc-v2 ctr; do cp "$ctddir/$b" "$stage/root/usr/bin/"; done
	cp "$crictldir/crictl" "$stage/root/usr/bin/"
	# package/containerd's CONTAINERD_INSTALL_INIT_SYSTEMD; package/cri-tools'
	# crictl.yaml of a configuration with containerd's CRI
	sed 's,/usr/local/bin,/usr/bin,g' "$ctdmod/containerd.service" >"$stage/root/usr/lib/systemd/system/containerd.service"
	install -D -m 0644 "$tree/package/cri-tools/crictl-containerd.yaml" "$stage/root/etc/crictl.yaml"
fi
# package/b4k-node-tools: the tree's own program (src/b4k-node-tools, Go's
# standard library only), where the package installs it.
mkdir -p "$stage/root/usr/libexec/b4k"
# shellcheck disable=SC2016 # expanded by the inner shell
timed b4k-node sh -c 'cd "$1/src/b4k-node-tools" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS=-mod=mod GOPROXY=off \
	go build -trimpath -o "$2" .' - "$tree" "$stage/root/usr/libexec/b4k/b4k-node"

if [ "$what" = all ]; then
	# the image list from a kubeadm that runs here (amd64, the host's cache)
	hkdir=$kdir
	if [ "$arch" != amd64 ]; then
		hkdir=$hostcache/go/k8s.io/kubernetes@$k8s
		GOARCH=amd64 timed "host kubeadm" "$gb" -t "$ktags" -l "$kflags" "k8s.io/kubernetes@$k8s" "$hkdir" \
			k8s.io/kubernetes/cmd/kubeadm
	fi
	images=$(mktemp)
	trap 'rm -f "$images"' EXIT
	{ "$hkdir/kubeadm" config images list --kubernetes-version "$k8s"
	  sed -e 's/#.*//' -e '/^[[:space:]]*$/d' "$tree/board/common/images/images.txt"; } >"$images"
	if [ "$arch" = amd64 ]; then set -- kube-apiserver kube-controller-manager kube-scheduler kube-proxy; else set -- kube-proxy; fi
	for b in "$@"; do
		k8sbuild "k8s.io/kubernetes/cmd/$b"
		cp "$kdir/$b" "$stage/bin/"
	done
	# pause from its C source in the k8s.io/kubernetes module, with upstream's
	# CFLAGS (build/pause/Makefile; REV, a git describe there, is b4k here)
	pause=$(tag registry.k8s.io/pause "$images")
	kmod=$(GOFLAGS=-mod=mod go mod download -json "k8s.io/kubernetes@$k8s" | sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
	# arm64: Debian's cross compiler (gcc-aarch64-linux-gnu, libc6-dev-arm64-cross)
	cc=gcc
	if [ "$arch" = arm64 ]; then
		cc=aarch64-linux-gnu-gcc
		command -v $cc >/dev/null || { log "needs $cc for pause (tests/realbuild/host-deps.txt)"; exit 1; }
	fi
	[ -x "$kdir/pause-$pause" ] || $cc -Os -Wall -Werror -static "-DVERSION=$pause-b4k" -o "$kdir/pause-$pause" "$kmod/build/pause/linux/pause.c"
	cp "$kdir/pause-$pause" "$stage/bin/pause"
	if [ "$arch" = amd64 ]; then
		etcd=$(tag registry.k8s.io/etcd "$images")
		etcd=${etcd%-*}
		timed etcd "$gb" "go.etcd.io/etcd/server/v3@$etcd" "$cache/go/go.etcd.io/etcd@$etcd" go.etcd.io/etcd/server/v3
		cp "$cache/go/go.etcd.io/etcd@$etcd/v3" "$stage/bin/etcd"
	fi
	coredns=$(tag registry.k8s.io/coredns/coredns "$images")
	timed coredns "$gb" "github.com/coredns/coredns@$coredns" "$cache/go/github.com/coredns/coredns@$coredns" github.com/coredns/coredns
	cp "$cache/go/github.com/coredns/coredns@$coredns/coredns" "$stage/bin/coredns"
	flannel=$(tag ghcr.io/flannel-io/flannel "$images")
	# flannel's tencentvpc backend needs tencentcloud-sdk-go modules the proxy
	# does not serve: from B4K_GIT_DIR/tencentcloud-sdk-go at the tags flannel's
	# go.mod requires (tencentcloud/<m>/<version>), when given.
	set --
	notc=0
	fout=$cache/go/github.com/flannel-io/flannel@$flannel
	fmod=$(GOFLAGS=-mod=mod go mod download -json "github.com/flannel-io/flannel@$flannel" |
		sed -n 's/^[[:space:]]*"GoMod": "\(.*\)",*$/\1/p')
	tc=${B4K_GIT_DIR:-/nonexistent}/tencentcloud-sdk-go
	# shellcheck disable=SC2013 # one word per line
	for m in $(sed -n 's|^[[:space:]]*github.com/tencentcloud/tencentcloud-sdk-go/\(tencentcloud/[a-z]*\) \(v[0-9.]*\).*|\1@\2|p' "$fmod"); do
		dir=$cache/go/tencentcloud-sdk-go/$m
		if [ ! -f "$dir/go.mod" ] && git -C "$tc" rev-parse -q --verify "${m%@*}/${m#*@}^{commit}" >/dev/null 2>&1; then
			rm -rf "$dir.tmp" && mkdir -p "$dir.tmp"
			git -C "$tc" archive "${m%@*}/${m#*@}" "${m%@*}" | tar -C "$dir.tmp" --strip-components=2 -xf -
			mv "$dir.tmp" "$dir"
		fi
		if [ -f "$dir/go.mod" ]; then
			set -- "$@" -r "github.com/tencentcloud/tencentcloud-sdk-go/${m%@*}=$dir"
		else
			notc=1
		fi
	done
	# Neither the proxy nor B4K_GIT_DIR has them (this machine: the proxy 404s
	# tencentcloud/vpc, fetch has no snapshot): a harness substitution, flannel
	# from a copy of its module with main.go's import of the tencentvpc backend
	# (Tencent Cloud's VPC routes; the node uses VXLAN) deleted. The same flags.
	if [ "$notc" = 1 ]; then
		fsrc=$cache/go/flannel-src-$flannel-no-tencentvpc
		if [ ! -f "$fsrc/main.go" ]; then
			fdir=$(GOFLAGS=-mod=mod go mod download -json "github.com/flannel-io/flannel@$flannel" |
				sed -n 's/^[[:space:]]*"Dir": "\(.*\)",*$/\1/p')
			rm -rf "$fsrc.tmp" && cp -r "$fdir" "$fsrc.tmp" && chmod -R u+w "$fsrc.tmp"
			sed -i '\|"github.com/flannel-io/flannel/pkg/backend/tencentvpc"|d' "$fsrc.tmp/main.go"
			mv "$fsrc.tmp" "$fsrc"
		fi
		log "flannel $flannel without its tencentvpc backend: tencentcloud-sdk-go is not served here (see docs/testing.md)"
		set -- -r "github.com/flannel-io/flannel=$fsrc"
		fout=$fout-no-tencentvpc
	fi
	# upstream's Makefile (amd64: CGO_ENABLED=1, static; other architectures:
	# CGO_ENABLED=0) and images/Dockerfile (install-conf: CGO_ENABLED=0)
	fcgo=0
	[ "$arch" = amd64 ] && fcgo=1
	CGO_ENABLED=$fcgo timed flannel "$gb" "$@" \
		-l "-X github.com/flannel-io/flannel/pkg/version.Version=$flannel -extldflags -static" \
		"github.com/flannel-io/flannel@$flannel" "$fout" github.com/flannel-io/flannel
	timed install-conf "$gb" "github.com/flannel-io/flannel@$flannel" "$cache/go/github.com/flannel-io/flannel@$flannel" \
		github.com/flannel-io/flannel/cmd/install_conf
	cp "$fout/flannel" "$stage/bin/flanneld"
	cp "$cache/go/github.com/flannel-io/flannel@$flannel/install_conf" "$stage/bin/install_conf"
	# Modules the Go module proxy here refuses (403 "not available"): taken
	# from B4K_BIN_DIR when given, else built from a git repository of their
	# source, B4K_GIT_DIR/<name> (bare or not; `git archive` of the tag), with
	# upstream's build flags. flannel-io/cni-plugin: the tag of
	# package/flannel-cni-plugin (the node's own CNI plugin); the image keeps
	# the manifest's tag (see README, known gaps).
	cniver=v$(sed -n 's/^FLANNEL_CNI_PLUGIN_VERSION[[:space:]]*=[[:space:]]*//p' \
		"$tree/package/flannel-cni-plugin/flannel-cni-plugin.mk")
	for spec in "flannel-cni ghcr.io/flannel-io/flannel-cni-plugin cni-plugin . -X_main.Version=VERSION" \
		"nfsplugin registry.k8s.io/sig-storage/nfsplugin csi-driver-nfs ./cmd/nfsplugin -X_github.com/kubernetes-csi/csi-driver-nfs/pkg/nfs.driverVersion=VERSION" \
		"csi-provisioner registry.k8s.io/sig-storage/csi-provisioner - - -" \
		"livenessprobe registry.k8s.io/sig-storage/livenessprobe livenessprobe ./cmd/livenessprobe -X_main.version=VERSION" \
		"csi-node-driver-registrar registry.k8s.io/sig-storage/csi-node-driver-registrar node-driver-registrar ./cmd/csi-node-driver-registrar -X_main.version=VERSION"; do
		# shellcheck disable=SC2086 # five words
		set -- $spec
		v=$(tag "$2" "$images")
		[ "$1" = flannel-cni ] && v=$cniver
		if [ -n "${B4K_BIN_DIR:-}" ] && [ -x "$B4K_BIN_DIR/$1" ]; then
			cp "$B4K_BIN_DIR/$1" "$stage/bin/$1"
			continue
		fi
		out=$cache/go/$1@$v
		if [ "$1" = csi-provisioner ]; then
			timed "$1" "$gb" -l "-X main.version=$v" "github.com/kubernetes-csi/external-provisioner/v6@$v" \
				"$out" github.com/kubernetes-csi/external-provisioner/v6/cmd/csi-provisioner
		elif [ ! -x "$out/$1" ] && [ -n "${B4K_GIT_DIR:-}" ] && git -C "$B4K_GIT_DIR/$3" rev-parse -q --verify "$v^{commit}" >/dev/null 2>&1; then
			src=$(mktemp -d)
			git -C "$B4K_GIT_DIR/$3" archive "$v" | tar -C "$src" -xf -
			mode=mod
			[ -d "$src/vendor" ] && mode=vendor
			ldflags=$(echo "$5" | sed -e "s/VERSION/$v/" -e 's/_/ /')
			mkdir -p "$out"
			# shellcheck disable=SC2016 # expanded by the inner shell
			timed "$1" sh -c 'cd "$1" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS= go build -trimpath -mod="$2" \
				-ldflags "-s -w $3" -o "$4.tmp" "$5" && mv "$4.tmp" "$4"' - "$src" "$mode" "$ldflags" "$out/$1" "$4"
			rm -rf "$src"
		fi
		if [ -x "$out/$1" ]; then
			cp "$out/$1" "$stage/bin/$1"
		else
			log "MISSING $1 $v: not served by the Go module proxy here; give it in B4K_BIN_DIR, or its git repository as B4K_GIT_DIR/$3"
		fi
	done
	# kube-bench, for the e2e lane's CIS check
	# (check-node.py kube-bench): the Go module proxy here refuses
	# github.com/aquasecurity/kube-bench (403), so, like the modules above, from
	# B4K_BIN_DIR/kube-bench (with B4K_BIN_DIR/kube-bench-cfg) or built from
	# B4K_GIT_DIR/kube-bench at its newest tag (`git archive`; its dependencies
	# from the proxy), with that tag's own cfg/. Into the node's root file system
	# (a test tool: not a product file): /usr/local/bin/kube-bench, /etc/kube-bench/cfg.
	kb=${B4K_GIT_DIR:-/nonexistent}/kube-bench
	if [ "$arch" != amd64 ]; then
		kbout=''
	elif [ -n "${B4K_BIN_DIR:-}" ] && [ -x "$B4K_BIN_DIR/kube-bench" ] && [ -d "$B4K_BIN_DIR/kube-bench-cfg" ]; then
		kbout=$B4K_BIN_DIR kbcfg=$B4K_BIN_DIR/kube-bench-cfg
	elif [ -d "$kb" ] && kbv=$(git -C "$kb" tag --list 'v*' --sort=-v:refname | head -n1) && [ -n "$kbv" ]; then
		kbout=$cache/go/github.com/aquasecurity/kube-bench@$kbv kbcfg=$cache/go/github.com/aquasecurity/kube-bench@$kbv/cfg
		if [ ! -x "$kbout/kube-bench" ]; then
			src=$(mktemp -d)
			git -C "$kb" archive "$kbv" | tar -C "$src" -xf -
			mkdir -p "$kbout"
			# shellcheck disable=SC2016 # expanded by the inner shell
			timed kube-bench sh -c 'cd "$1" && CGO_ENABLED=0 GOTOOLCHAIN=local GOFLAGS= go build -trimpath -mod=mod \
				-ldflags "-s -w -X github.com/aquasecurity/kube-bench/cmd.KubeBenchVersion=$2" -o "$3.tmp" . &&
				mv "$3.tmp" "$3"' - "$src" "$kbv" "$kbout/kube-bench"
			rm -rf "$kbcfg" && cp -r "$src/cfg" "$kbcfg"
			rm -rf "$src"
		fi
	else
		kbout=''
		log "MISSING kube-bench: not served by the Go module proxy here; give B4K_BIN_DIR/kube-bench and kube-bench-cfg, or its git repository as B4K_GIT_DIR/kube-bench"
	fi
	if [ -n "$kbout" ]; then
		install -D -m 0755 "$kbout/kube-bench" "$stage/root/usr/local/bin/kube-bench"
		mkdir -p "$stage/root/etc/kube-bench"
		cp -r "$kbcfg" "$stage/root/etc/kube-bench/cfg"
	fi
fi
echo "$stage"
