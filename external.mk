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

# GRUB's i386-pc MBR boot code (boot.img, 512 bytes) is what the pc board's
# disk starts with, but Buildroot leaves it in grub2's build directory: host-grub2
# is built --with-platform=none, and only BR2_TARGET_GRUB2_INSTALL_TOOLS copies
# it (with all of GRUB's tools and modules) into the target. Copy it to
# BINARIES_DIR beside grub.img, where `b4k post-image` reads its inputs.
ifeq ($(BR2_TARGET_GRUB2_I386_PC),y)
define KUBERNETES_GRUB2_INSTALL_BOOT_IMG
	$(INSTALL) -D -m 0644 $(@D)/build-i386-pc/grub-core/boot.img \
		$(BINARIES_DIR)/boot.img
endef
GRUB2_POST_INSTALL_IMAGES_HOOKS += KUBERNETES_GRUB2_INSTALL_BOOT_IMG
endif
