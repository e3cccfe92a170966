FOO_VERSION = 1.0
FOO_LICENSE = MIT
FOO_LICENSE_FILES = COPYING LICENSE
HOST_FOO_LICENSE_FILES = $(FOO_LICENSE_FILES) NOTICE

define FOO_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(FOO_PKGDIR)/foo.service \
		$(TARGET_DIR)/usr/lib/systemd/system/foo.service
	$(INSTALL) -D -m 0644 $(FOO_PKGDIR)/foo.socket \
		$(TARGET_DIR)/usr/lib/systemd/system/foo.socket
endef

$(eval $(generic-package))
