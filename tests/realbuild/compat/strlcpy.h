/* Real-build lane only (tests/realbuild): kbd 2.9.0 calls strlcpy(), which
 * glibc has since 2.38; the harness's Debian bookworm toolchain has glibc 2.36
 * (Bootlin's, which pc_defconfig names, is newer). Forced into kbd's compile
 * by tests/realbuild/override-extra.mk; never part of the product. */
#include <string.h>
static inline size_t b4k_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
#define strlcpy b4k_strlcpy
