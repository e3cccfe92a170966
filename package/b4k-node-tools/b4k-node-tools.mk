################################################################################
#
# b4k-node-tools
#
################################################################################

# The node's own program, b4k-node (src/b4k-node-tools in this tree): the
# control plane's approver of kubelet serving certificates and the strict
# address parser of /usr/libexec/b4k/nfs-clients. Go's standard library
# only: no vendored module, so the local site builds offline.
B4K_NODE_TOOLS_VERSION = 0.1.0
B4K_NODE_TOOLS_SITE = $(BR2_EXTERNAL_KUBERNETES_PATH)
B4K_NODE_TOOLS_SITE_METHOD = local
B4K_NODE_TOOLS_LICENSE = GPL-2.0+
B4K_NODE_TOOLS_LICENSE_FILES = COPYING
B4K_NODE_TOOLS_SUBDIR = src/b4k-node-tools
B4K_NODE_TOOLS_GOMOD = b4k-node-tools
B4K_NODE_TOOLS_BIN_NAME = b4k-node

# As host-b4k's: the tree may hold a Buildroot checkout, build outputs and
# a cargo target directory; none of them are sources.
B4K_NODE_TOOLS_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /buildroot --exclude /output --exclude /dl \
	--exclude /target --exclude /.cache

# Beside the node's scripts that call it, not on every user's PATH.
define B4K_NODE_TOOLS_INSTALL_TARGET_CMDS
	$(INSTALL) -D -m 0755 $(@D)/bin/b4k-node \
		$(TARGET_DIR)/usr/libexec/b4k/b4k-node
endef

$(eval $(golang-package))
