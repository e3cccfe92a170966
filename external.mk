include $(sort $(wildcard $(BR2_EXTERNAL_KUBERNETES_PATH)/package/*/*.mk))

# Stop the build right after the kernel is configured when an option a node
# needs was lost (board/common/kernel-requirements.toml): olddefconfig drops
# unmet fragment options without a word. The hook runs after Buildroot's own
# kernel-config fixups, on the .config that will be built.
ifeq ($(BR2_LINUX_KERNEL)$(BR2_PACKAGE_HOST_B4K),yy)
define KUBERNETES_LINT_KERNEL_CONFIG
	$(HOST_DIR)/bin/b4k lint-kernel --config $(LINUX_DIR)/.config \
		--requirements $(BR2_EXTERNAL_KUBERNETES_PATH)/board/common/kernel-requirements.toml
endef
LINUX_POST_CONFIGURE_HOOKS += KUBERNETES_LINT_KERNEL_CONFIG
# linux.mk is already evaluated here, so LINUX_DEPENDENCIES cannot take it.
$(LINUX_TARGET_CONFIGURE): | host-b4k
endif
