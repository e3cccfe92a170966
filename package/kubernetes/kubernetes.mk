################################################################################
#
# kubernetes
#
################################################################################

KUBERNETES_VERSION = 1.36.0
KUBERNETES_SITE = https://dl.k8s.io/v$(KUBERNETES_VERSION)
KUBERNETES_LICENSE = Apache-2.0
KUBERNETES_CPE_ID_VENDOR = kubernetes

# Upstream names of the architectures of the "Node Binaries" tarballs,
# indexed by Buildroot's BR2_ARCH and HOSTARCH names.
KUBERNETES_ARCH_x86_64 = amd64
KUBERNETES_ARCH_aarch64 = arm64
KUBERNETES_ARCH_powerpc64le = ppc64le
KUBERNETES_ARCH_s390x = s390x

KUBERNETES_BINS = \
	$(if $(BR2_PACKAGE_KUBERNETES_KUBEADM),kubeadm) \
	$(if $(BR2_PACKAGE_KUBERNETES_KUBELET),kubelet) \
	$(if $(BR2_PACKAGE_KUBERNETES_KUBECTL),kubectl)

ifeq ($(BR2_PACKAGE_KUBERNETES_SOURCE),y)

# The source tarball is "git archive" of the release tag (see
# kube::release::package_src_tarball in build/lib/release.sh): it has no
# top-level directory, and it ships vendor/.
KUBERNETES_SOURCE = kubernetes-src.tar.gz
KUBERNETES_STRIP_COMPONENTS = 0
KUBERNETES_LICENSE_FILES = LICENSE
KUBERNETES_GOMOD = k8s.io/kubernetes
KUBERNETES_BUILD_TARGETS = $(addprefix cmd/,$(KUBERNETES_BINS))

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

# kubernetes/node/bin/ holds the binaries, kubernetes/LICENSES/ the
# licenses (kube::release::package_node_tarballs in build/lib/release.sh).
KUBERNETES_SOURCE = \
	kubernetes-node-linux-$(KUBERNETES_ARCH_$(call qstrip,$(BR2_ARCH))).tar.gz
KUBERNETES_LICENSE_FILES = LICENSES/LICENSE

define KUBERNETES_INSTALL_TARGET_CMDS
	$(foreach b,$(KUBERNETES_BINS),\
		$(INSTALL) -D -m 0755 $(@D)/node/bin/$(b) $(TARGET_DIR)/usr/bin/$(b)
	)
endef

endif

ifeq ($(BR2_PACKAGE_KUBERNETES_KUBELET),y)
ifeq ($(BR2_PACKAGE_KUBERNETES_KUBEADM),y)
define KUBERNETES_INSTALL_KUBEADM_DROPIN
	$(INSTALL) -D -m 0644 $(KUBERNETES_PKGDIR)/10-kubeadm.conf \
		$(TARGET_DIR)/usr/lib/systemd/system/kubelet.service.d/10-kubeadm.conf
endef
endif

define KUBERNETES_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(KUBERNETES_PKGDIR)/kubelet.service \
		$(TARGET_DIR)/usr/lib/systemd/system/kubelet.service
	$(KUBERNETES_INSTALL_KUBEADM_DROPIN)
endef
endif

# host-kubernetes: kubeadm only, from the release binaries.
HOST_KUBERNETES_SOURCE = \
	kubernetes-node-linux-$(KUBERNETES_ARCH_$(HOSTARCH)).tar.gz
HOST_KUBERNETES_STRIP_COMPONENTS = 1
HOST_KUBERNETES_LICENSE = Apache-2.0
HOST_KUBERNETES_LICENSE_FILES = LICENSES/LICENSE

define HOST_KUBERNETES_INSTALL_CMDS
	$(INSTALL) -D -m 0755 $(@D)/node/bin/kubeadm $(HOST_DIR)/bin/kubeadm
endef

ifeq ($(BR2_PACKAGE_KUBERNETES_SOURCE),y)
$(eval $(golang-package))
# kubernetes-src.tar.gz is vendored already, but has no top-level
# directory, which go-post-process does not expect (it looks for
# */vendor, and else unpacks the archive with --strip-components=1 and
# repacks it): keep it as published, so that its upstream sha512
# applies. Emptied before host-kubernetes is evaluated, so that the host
# package, which uses the node tarball, does not inherit it either.
KUBERNETES_DOWNLOAD_POST_PROCESS =
else
$(eval $(generic-package))
endif

$(eval $(host-generic-package))
