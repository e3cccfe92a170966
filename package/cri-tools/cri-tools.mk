################################################################################
#
# cri-tools
#
################################################################################

CRI_TOOLS_VERSION = 1.36.0
CRI_TOOLS_SITE = $(call github,kubernetes-sigs,cri-tools,v$(CRI_TOOLS_VERSION))
CRI_TOOLS_LICENSE = Apache-2.0
CRI_TOOLS_LICENSE_FILES = LICENSE

CRI_TOOLS_GOMOD = sigs.k8s.io/cri-tools
CRI_TOOLS_LDFLAGS = -X $(CRI_TOOLS_GOMOD)/pkg/version.Version=$(CRI_TOOLS_VERSION)
CRI_TOOLS_BUILD_TARGETS = cmd/crictl

# /etc/crictl.yaml: the endpoint of the CRI the configuration has (crictl's
# default, a list of sockets it tries in turn, warns each time it is used).
ifeq ($(BR2_PACKAGE_CRI_DOCKERD),y)
CRI_TOOLS_CRICTL_YAML = crictl-cri-dockerd.yaml
else ifeq ($(BR2_PACKAGE_CONTAINERD_CRI),y)
CRI_TOOLS_CRICTL_YAML = crictl-containerd.yaml
endif

ifneq ($(CRI_TOOLS_CRICTL_YAML),)
define CRI_TOOLS_INSTALL_CONFIG
	$(INSTALL) -D -m 0644 $(CRI_TOOLS_PKGDIR)/$(CRI_TOOLS_CRICTL_YAML) \
		$(TARGET_DIR)/etc/crictl.yaml
endef
CRI_TOOLS_POST_INSTALL_TARGET_HOOKS += CRI_TOOLS_INSTALL_CONFIG
endif

$(eval $(golang-package))
