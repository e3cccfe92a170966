# Convenience targets for users of buildroot4kubernetes.
#
#   make                  check out Buildroot, configure BOARD, build, compress images
#   make BOARD=raspberrypi3-64
#   make RUNTIME=containerd   containerd instead of docker (output/<board>-containerd)
#   make run              boot the pc image in QEMU (disk.img, data.img, images.iso)
#   make images.iso       the offline container images of BOARD (README.md, "Offline images")
#   make graph-size.png   Buildroot's filesystem size graph
#   make sbom             CycloneDX SBOM from Buildroot's own generator
#   make check            the test suite (docs/testing.md)
#   make check-runtime    the runtime lane in QEMU: boot, docker, bundle, storage
#   make check-e2e        the runtime lane: kubeadm init, node Ready, CoreDNS, RWX volume, reboot
#   make check-cluster    the runtime lane, two nodes: k8s-join, pod to pod over VXLAN, shared RWX
#   make check-build      the real-build lane: Buildroot builds pc_defconfig offline, then check-e2e on it
#
# This tree is a BR2_EXTERNAL: Buildroot-native users can ignore this file and run
#   make -C /path/to/buildroot BR2_EXTERNAL=$(CURDIR) pc_defconfig

# The Buildroot LTS release this tree is checked against (README.md, "Two commands").
BUILDROOT_VERSION := 2026.02.3
BUILDROOT_URL := https://gitlab.com/buildroot.org/buildroot.git

BOARDS := pc raspberrypi3-64
BOARD ?= pc
# The container runtime: docker (through cri-dockerd) or containerd (its CRI
# plugin); each board has one defconfig per runtime (configs/defconfigs.toml).
RUNTIME ?= docker
defconfig_pc_docker := pc_defconfig
defconfig_pc_containerd := pc_containerd_defconfig
defconfig_raspberrypi3-64_docker := raspberrypi3_64_k8s_defconfig
defconfig_raspberrypi3-64_containerd := raspberrypi3_64_k8s_containerd_defconfig
DEFCONFIG := $(defconfig_$(BOARD)_$(RUNTIME))
ifeq ($(DEFCONFIG),)
$(error unknown BOARD '$(BOARD)' or RUNTIME '$(RUNTIME)'; boards: $(BOARDS); runtimes: docker containerd)
endif

# A user-provided Buildroot checkout wins; otherwise ./buildroot is cloned.
BUILDROOT_DIR ?= $(CURDIR)/buildroot
O ?= $(CURDIR)/output/$(BOARD)$(if $(filter containerd,$(RUNTIME)),-containerd)
IMAGES := $(O)/images
BR := $(MAKE) -C $(BUILDROOT_DIR) O=$(O) BR2_EXTERNAL=$(CURDIR)

.PHONY: all build config buildroot run images.iso sbom check check-runtime check-e2e check-cluster check-kernels check-build menuconfig savedefconfig clean

all: build

$(BUILDROOT_DIR)/Makefile:
	git clone --depth 1 --branch $(BUILDROOT_VERSION) $(BUILDROOT_URL) $(BUILDROOT_DIR)

buildroot: $(BUILDROOT_DIR)/Makefile

$(O)/.config: configs/$(DEFCONFIG) | $(BUILDROOT_DIR)/Makefile
	$(BR) $(DEFCONFIG)

config: $(O)/.config

# A bundle made before the image (`make images.iso`) is trusted by it: its list
# is baked into the root file system (board/common/post-build.sh).
IMAGES_MANIFEST ?= $(wildcard $(IMAGES_ISO:.iso=.manifest))
build: $(O)/.config
	B4K_IMAGES_MANIFEST=$(IMAGES_MANIFEST) $(BR)
	@echo "images in $(IMAGES):"; ls -l $(IMAGES)

menuconfig savedefconfig: $(O)/.config
	$(BR) $@

graph-size.png: $(O)/.config
	$(BR) BR2_GRAPH_OUT=png graph-size
	cp $(O)/graphs/graph-size.png $@

sbom: $(O)/.config
	$(BR) --no-print-directory -s show-info > $(O)/show-info.json
	python3 $(BUILDROOT_DIR)/utils/generate-cyclonedx -i $(O)/show-info.json -o $(O)/sbom.cdx.json
	@echo "SBOM: $(O)/sbom.cdx.json"

# The pc image as the seed booted it: disk.img (system), data.img (/data, created
# empty on first run), images.iso (offline container images, if built).
DATA_IMG := $(CURDIR)/output/data.img
QEMU_MEM ?= 4096
QEMU_CPUS ?= 2
run:
	@test -f $(CURDIR)/output/pc/images/disk.img || { echo "no output/pc/images/disk.img: run 'make' first" >&2; exit 1; }
	@test -f $(DATA_IMG) || qemu-img create -f raw $(DATA_IMG) 20G
	qemu-system-x86_64 -m $(QEMU_MEM) -smp $(QEMU_CPUS) \
		$$(test -w /dev/kvm && echo -enable-kvm -cpu host) \
		-drive file=$(CURDIR)/output/pc/images/disk.img,format=raw,if=virtio \
		-drive file=$(DATA_IMG),format=raw,if=virtio \
		$$(test -f $(IMAGES_ISO) && echo -drive file=$(IMAGES_ISO),media=cdrom,readonly=on) \
		-netdev user,id=net0,hostfwd=tcp::6443-:6443,hostfwd=tcp::2222-:22 \
		-device virtio-net-pci,netdev=net0 \
		-nographic

# The offline image bundle (scripts/images-iso): kubeadm's images for the pinned
# Kubernetes plus board/common/images/images.txt, for the board's architecture.
# KUBEADM: a kubeadm for this host (default: Buildroot's host-kubernetes if built,
# else one built from the Go module proxy); REGISTRY_MIRROR=host:port: pull
# through a plain-HTTP registry instead of the images' own registries.
IMAGES_ISO ?= $(CURDIR)/output/images-$(BOARD).iso
arch_pc := amd64
arch_raspberrypi3-64 := arm64
KUBEADM ?= $(wildcard $(O)/host/bin/kubeadm)
images.iso:
	ARCH=$(arch_$(BOARD)) KUBEADM=$(KUBEADM) REGISTRY_MIRROR=$(REGISTRY_MIRROR) \
		scripts/images-iso $(IMAGES_ISO)

check:
	tests/run

# The runtime lane (tests/runtime/run.sh; a test harness, not a product path):
# the tree's kernel configuration, overlay and post-build on a Debian userland,
# with the Kubernetes pieces at the tree's versions, booted under QEMU.
check-runtime:
	tests/runtime/run.sh cheap

check-e2e:
	tests/runtime/run.sh e2e

check-cluster:
	tests/runtime/run.sh cluster

# Both boards' kernels from their own base configuration: sizes, module counts,
# build times, and a boot of each under QEMU (pc: SeaBIOS and OVMF; Pi: raspi3b).
check-kernels:
	tests/kernels/run.sh

# The real-build lane (tests/realbuild/run.sh; a test harness, not a product
# path): Buildroot at BUILDROOT_DIR builds configs/pc_defconfig offline with the
# substitutions listed in its provenance table, then the runtime lane's e2e
# checks run on the disk.img it made. Hours; caches in ~/.cache/b4k/realbuild.
check-build:
	@test -f "$(BUILDROOT_DIR)/Makefile" || { echo "check-build: set BUILDROOT_DIR to a Buildroot $(BUILDROOT_VERSION) checkout" >&2; exit 1; }
	BUILDROOT_DIR=$(BUILDROOT_DIR) tests/realbuild/run.sh all

clean:
	rm -rf $(O)
