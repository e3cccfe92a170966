################################################################################
#
# kubernetes
#
################################################################################

KUBERNETES_VERSION = 1.36.4
KUBERNETES_LICENSE = Apache-2.0
KUBERNETES_LICENSE_FILES = LICENSE
KUBERNETES_CPE_ID_VENDOR = kubernetes

# Upstream names of the architectures of the release binaries, indexed by
# Buildroot's BR2_ARCH and HOSTARCH names.
KUBERNETES_ARCH_x86_64 = amd64
KUBERNETES_ARCH_aarch64 = arm64
KUBERNETES_ARCH_powerpc64le = ppc64le

KUBERNETES_BINS = \
	$(if $(BR2_PACKAGE_KUBERNETES_KUBEADM),kubeadm) \
	$(if $(BR2_PACKAGE_KUBERNETES_KUBELET),kubelet) \
	$(if $(BR2_PACKAGE_KUBERNETES_KUBECTL),kubectl)

# The single binaries carry no license file: the one of the same tag.
KUBERNETES_LICENSE_URL = \
	https://raw.githubusercontent.com/kubernetes/kubernetes/v$(KUBERNETES_VERSION)/LICENSE

ifeq ($(BR2_PACKAGE_KUBERNETES_SOURCE),y)

# The source tarball is "git archive" of the release tag (see
# kube::release::package_src_tarball in build/lib/release.sh): it has no
# top-level directory, and it ships vendor/. Stored with its version in the
# name, because upstream names it kubernetes-src.tar.gz for every release.
KUBERNETES_SOURCE = kubernetes-src-$(KUBERNETES_VERSION).tar.gz
KUBERNETES_SITE = \
	https://dl.k8s.io/v$(KUBERNETES_VERSION)/kubernetes-src.tar.gz?buildroot-path=filename
KUBERNETES_STRIP_COMPONENTS = 0
KUBERNETES_GOMOD = k8s.io/kubernetes
KUBERNETES_BUILD_TARGETS = $(addprefix cmd/,$(KUBERNETES_BINS))
# Upstream publishes the sha512 of kubernetes-src.tar.gz in the "Downloads"
# section of CHANGELOG-1.36.md and as kubernetes-src.tar.gz.sha512 beside it;
# the one of this version could not be read where this tree is maintained, so
# kubernetes.hash has none: the pre-built binaries (the default) are hashed.
# With BR2_DOWNLOAD_FORCE_CHECK_HASHES (the tree's defconfigs set it) Buildroot
# still refuses the unhashed tarball: add its sha512 line, as published, to
# kubernetes.hash to build from source.
BR_NO_CHECK_HASH_FOR += $(KUBERNETES_SOURCE)

# Tags and version variables of a release build, as set by
# hack/lib/golang.sh and hack/lib/version.sh (kube::version::ldflags).
KUBERNETES_TAGS = selinux notest grpcnotrace
KUBERNETES_LDFLAGS = \
	$(foreach p,k8s.io/client-go/pkg/version k8s.io/component-base/version, \
		-X $(p).gitVersion=v$(KUBERNETES_VERSION) \
		-X $(p).gitMajor=$(word 1,$(subst ., ,$(KUBERNETES_VERSION))) \
		-X $(p).gitMinor=$(word 2,$(subst ., ,$(KUBERNETES_VERSION))) \
		-X $(p).gitTreeState=clean)

else # BR2_PACKAGE_KUBERNETES_PREBUILT

# The release binaries are published one file per binary, named only
# "kubelet", "kubeadm", "kubectl" (https://dl.k8s.io/v<ver>/bin/linux/<arch>/),
# and Buildroot checks every hash line that names a file, so the amd64 and
# arm64 kubelet cannot both be hashed under the name "kubelet". Each is
# stored as <bin>-<version>-linux-<arch> instead: the "?buildroot-path=filename"
# query, which the server ignores, lets Buildroot name the file it stores,
# as for package/python-bcrypt.
KUBERNETES_ARCH = $(KUBERNETES_ARCH_$(call qstrip,$(BR2_ARCH)))
KUBERNETES_BIN_SITE = https://dl.k8s.io/v$(KUBERNETES_VERSION)/bin/linux/$(KUBERNETES_ARCH)
KUBERNETES_BIN_SUFFIX = $(KUBERNETES_VERSION)-linux-$(KUBERNETES_ARCH)
KUBERNETES_SOURCE = kubelet-$(KUBERNETES_BIN_SUFFIX)
KUBERNETES_SITE = $(KUBERNETES_BIN_SITE)/kubelet?buildroot-path=filename
KUBERNETES_EXTRA_DOWNLOADS = \
	$(KUBERNETES_BIN_SITE)/kubeadm?buildroot-path=filename/kubeadm-$(KUBERNETES_BIN_SUFFIX) \
	$(KUBERNETES_BIN_SITE)/kubectl?buildroot-path=filename/kubectl-$(KUBERNETES_BIN_SUFFIX) \
	$(KUBERNETES_LICENSE_URL)

# Nothing to extract: the three binaries and the license, directly in $(@D).
define KUBERNETES_EXTRACT_CMDS
	$(foreach b,kubeadm kubelet kubectl,\
		$(INSTALL) -m 0755 $(KUBERNETES_DL_DIR)/$(b)-$(KUBERNETES_BIN_SUFFIX) $(@D)/$(b)
	)
	$(INSTALL) -m 0644 $(KUBERNETES_DL_DIR)/LICENSE $(@D)/LICENSE
endef

define KUBERNETES_INSTALL_TARGET_CMDS
	$(foreach b,$(KUBERNETES_BINS),\
		$(INSTALL) -D -m 0755 $(@D)/$(b) $(TARGET_DIR)/usr/bin/$(b)
	)
endef

endif

# Mode 0600: CIS Kubernetes Benchmark 4.1.1 (kubelet service file
# permissions 600 or more restrictive), as kube-bench checks it.
ifeq ($(BR2_PACKAGE_KUBERNETES_KUBELET),y)
ifeq ($(BR2_PACKAGE_KUBERNETES_KUBEADM),y)
define KUBERNETES_INSTALL_KUBEADM_DROPIN
	$(INSTALL) -D -m 0600 $(KUBERNETES_PKGDIR)/10-kubeadm.conf \
		$(TARGET_DIR)/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf
endef
endif

# CIS Kubernetes Benchmark 1.1.12: the owner of a kubeadm control plane's etcd
# data directory (k8s-init chowns /var/lib/etcd to it).
ifeq ($(BR2_PACKAGE_KUBERNETES_KUBEADM),y)
define KUBERNETES_USERS
	etcd -1 etcd -1 * - - - etcd data directory owner
endef
endif

define KUBERNETES_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0600 $(KUBERNETES_PKGDIR)/kubelet.service \
		$(TARGET_DIR)/usr/lib/systemd/system/kubelet.service
	$(KUBERNETES_INSTALL_KUBEADM_DROPIN)
endef
endif

# host-kubernetes: kubeadm only, from the release binary.
HOST_KUBERNETES_ARCH = $(KUBERNETES_ARCH_$(HOSTARCH))
HOST_KUBERNETES_SOURCE = kubeadm-$(KUBERNETES_VERSION)-linux-$(HOST_KUBERNETES_ARCH)
HOST_KUBERNETES_SITE = \
	https://dl.k8s.io/v$(KUBERNETES_VERSION)/bin/linux/$(HOST_KUBERNETES_ARCH)/kubeadm?buildroot-path=filename
HOST_KUBERNETES_EXTRA_DOWNLOADS = $(KUBERNETES_LICENSE_URL)
HOST_KUBERNETES_LICENSE = Apache-2.0
HOST_KUBERNETES_LICENSE_FILES = LICENSE

define HOST_KUBERNETES_EXTRACT_CMDS
	$(INSTALL) -m 0755 $(HOST_KUBERNETES_DL_DIR)/$(HOST_KUBERNETES_SOURCE) $(@D)/kubeadm
	$(INSTALL) -m 0644 $(HOST_KUBERNETES_DL_DIR)/LICENSE $(@D)/LICENSE
endef

define HOST_KUBERNETES_INSTALL_CMDS
	$(INSTALL) -D -m 0755 $(@D)/kubeadm $(HOST_DIR)/bin/kubeadm
endef

ifeq ($(BR2_PACKAGE_KUBERNETES_SOURCE),y)
$(eval $(golang-package))
# kubernetes-src.tar.gz is vendored already, but has no top-level
# directory, which go-post-process does not expect (it looks for
# */vendor, and else unpacks the archive with --strip-components=1 and
# repacks it): keep it as published, so that it is byte for byte the
# upstream file. Emptied before host-kubernetes is evaluated, so that the
# host package, which uses the release binary, does not inherit it either.
KUBERNETES_DOWNLOAD_POST_PROCESS =
else
$(eval $(generic-package))
endif

$(eval $(host-generic-package))
