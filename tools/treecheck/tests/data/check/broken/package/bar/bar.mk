BAR_VERSION = 2.0
BAR_LICENSE_FILES = LICENSE
$(eval $(generic-package))
