################################################################################
#
# cri-dockerd
#
################################################################################

CRI_DOCKERD_VERSION = 0.4.3
CRI_DOCKERD_SITE = $(call github,Mirantis,cri-dockerd,v$(CRI_DOCKERD_VERSION))
CRI_DOCKERD_LICENSE = Apache-2.0
CRI_DOCKERD_LICENSE_FILES = LICENSE

# As upstream's Makefile sets them, without the git commit (not in the tarball)
CRI_DOCKERD_LDFLAGS = \
	-X github.com/Mirantis/cri-dockerd/cmd/version.Version=$(CRI_DOCKERD_VERSION) \
	-X github.com/Mirantis/cri-dockerd/cmd/version.GitCommit=buildroot

define CRI_DOCKERD_INSTALL_INIT_SYSTEMD
	$(INSTALL) -D -m 0644 $(@D)/packaging/systemd/cri-docker.service \
		$(TARGET_DIR)/usr/lib/systemd/system/cri-docker.service
	$(INSTALL) -D -m 0644 $(@D)/packaging/systemd/cri-docker.socket \
		$(TARGET_DIR)/usr/lib/systemd/system/cri-docker.socket
endef

$(eval $(golang-package))
