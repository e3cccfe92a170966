#!/bin/sh
# The runtime lane's cheap part (tests/runtime/run.sh cheap: the tree's kernel
# configuration and overlay booted under QEMU; kernel config, multi-user, cgroup
# v2, docker, the images bundle, root growth, the data disk). Cold, it builds a
# kernel, a Debian userland and kubeadm/kubelet/kubectl/cri-dockerd from the Go
# module proxy: too long for `make check` on 2 cores, so it runs only when asked.
set -eu
cd "$(dirname "$0")/.."
if [ "${B4K_RUNTIME:-}" != 1 ]; then
	echo "SKIP: the runtime lane is opt-in: B4K_RUNTIME=1 make check (or make check-runtime)"
	exit 77
fi
for tool in mmdebstrap qemu-system-x86_64 genimage grub-mkimage docker-registry skopeo xorriso go; do
	command -v "$tool" >/dev/null || { echo "SKIP: $tool not found (scripts/host-deps.d/runtime.txt)"; exit 77; }
done
[ -f /usr/src/linux-source-6.12.tar.xz ] || { echo "SKIP: no linux-source-6.12"; exit 77; }
exec tests/runtime/run.sh cheap
