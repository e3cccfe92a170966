################################################################################
#
# flannel-cni-plugin
#
################################################################################

FLANNEL_CNI_PLUGIN_VERSION = 1.9.1-flannel1
FLANNEL_CNI_PLUGIN_SITE = $(call github,flannel-io,cni-plugin,v$(FLANNEL_CNI_PLUGIN_VERSION))
FLANNEL_CNI_PLUGIN_LICENSE = Apache-2.0
FLANNEL_CNI_PLUGIN_LICENSE_FILES = LICENSE

# As upstream's scripts/build_flannel.sh sets them, without the git commit
FLANNEL_CNI_PLUGIN_LDFLAGS = \
	-X main.Program=flannel \
	-X main.Version=v$(FLANNEL_CNI_PLUGIN_VERSION)

FLANNEL_CNI_PLUGIN_BIN_NAME = flannel

# CNI plugins live in /opt/cni/bin, next to package/cni-plugins
define FLANNEL_CNI_PLUGIN_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/bin/flannel \
		$(TARGET_DIR)/opt/cni/bin/flannel
endef

$(eval $(golang-package))
