# Real-build lane only: appended to the generated BR2_PACKAGE_OVERRIDE_FILE
# (Buildroot includes it before the packages' .mk files), with @HERE@ replaced
# by tests/realbuild. Each line works around the harness's Debian bookworm
# toolchain (glibc 2.36), not the product: with pc_defconfig's Bootlin
# toolchain nothing here is needed.
#
# kbd 2.9.0 calls strlcpy() and strlcat() (glibc >= 2.38) without a configure check.
KBD_CONF_ENV = CFLAGS="$(TARGET_CFLAGS) -include @HERE@/compat/strlcpy.h"
