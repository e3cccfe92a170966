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

$(eval $(host-cargo-package))

# A local site has no download step, so Buildroot's cargo download
# post-process (support/download/cargo-post-process) does not vendor its
# crates. host-b4k-source (hence `make source`) does it, with the same
# commands, into the download directory, in a tarball named for the hash
# of Cargo.lock; the rsync step unpacks it into the build directory, and
# the build (cargo --offline --locked) needs no network.
HOST_B4K_LOCK_HASH := $(firstword $(shell sha256sum $(B4K_SITE)/Cargo.lock 2>/dev/null))
HOST_B4K_VENDOR = $(HOST_B4K_DL_DIR)/b4k-vendor-$(HOST_B4K_LOCK_HASH).tar.gz

$(HOST_B4K_VENDOR): PKG = HOST_B4K
$(HOST_B4K_VENDOR): | host-rustc
	@$(call MESSAGE,"Vendoring the crates of Cargo.lock")
	rm -rf $@.tmp && mkdir -p $@.tmp $(BR_CARGO_HOME)
	cd $@.tmp && $(HOST_MAKE_ENV) $(HOST_PKG_CARGO_ENV) \
		flock $(BR_CARGO_HOME)/.br-lock \
		cargo vendor --manifest-path $(B4K_SITE)/Cargo.toml --locked VENDOR \
		> config.toml
	mkdir -p $@.tmp/.cargo && mv $@.tmp/config.toml $@.tmp/.cargo/
	$(TAR) -C $@.tmp --sort=name --mtime=@0 --owner=0 --group=0 \
		--numeric-owner -cf - .cargo VENDOR | gzip -n > $@.part
	rm -rf $@.tmp && mv $@.part $@

host-b4k-source: $(HOST_B4K_VENDOR)
$(HOST_B4K_TARGET_RSYNC): $(HOST_B4K_VENDOR)

define HOST_B4K_UNPACK_VENDOR
	$(TAR) -C $(@D) -xzf $(HOST_B4K_VENDOR)
endef
HOST_B4K_POST_RSYNC_HOOKS += HOST_B4K_UNPACK_VENDOR
