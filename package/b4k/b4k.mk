################################################################################
#
# b4k
#
################################################################################

# The tools live in this external tree: the root is their Cargo workspace.
B4K_VERSION = 0.1.0
B4K_SITE = $(BR2_EXTERNAL_KUBERNETES_PATH)
B4K_SITE_METHOD = local
B4K_LICENSE = GPL-2.0+
B4K_LICENSE_FILES = COPYING

# The tree may hold a Buildroot checkout, build outputs and a cargo
# target directory (see its Makefile); none of them are sources.
HOST_B4K_OVERRIDE_SRCDIR_RSYNC_EXCLUSIONS = \
	--exclude /buildroot --exclude /output --exclude /dl \
	--exclude /target --exclude /.cache

# post-image compresses the images with xz (Buildroot builds host-xz only
# when the build machine lacks it).
HOST_B4K_DEPENDENCIES = host-xz

# Only the product tool (post-image, the kernel-config check): its crate
# is tools/b4k; the workspace (and its Cargo.lock) is found from there.
# The maintainer tool b4k-dev is built with cargo alone.
HOST_B4K_SUBDIR = tools/b4k
HOST_B4K_CARGO_BUILD_OPTS = --bin b4k
HOST_B4K_CARGO_INSTALL_OPTS = --bin b4k

# A local site is not downloaded, so Buildroot's cargo download
# post-process does not vendor its crates: do it here, the same way
# (support/download/cargo-post-process), into the rsynced copy.
define HOST_B4K_CARGO_VENDOR
	cd $(@D) && mkdir -p .cargo $(BR_CARGO_HOME) && \
		$(HOST_MAKE_ENV) $(HOST_PKG_CARGO_ENV) \
		flock $(BR_CARGO_HOME)/.br-lock \
		cargo vendor --locked VENDOR > .cargo/config.toml
endef
HOST_B4K_POST_RSYNC_HOOKS += HOST_B4K_CARGO_VENDOR

$(eval $(host-cargo-package))
