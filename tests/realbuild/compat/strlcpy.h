/* Real-build lane only (tests/realbuild): kbd 2.9.0 calls strlcpy() and
 * strlcat(), which glibc has since 2.38; the harness's Debian bookworm toolchain has glibc 2.36
 * (Bootlin's, which pc_defconfig names, is newer). Forced into kbd's compile
 * by tests/realbuild/override-extra.mk; never part of the product. It declares
 * nothing of the C library (only GCC builtins), so that configure's checks for
 * undeclared functions see what they would without it. */
#include <stddef.h>
static inline size_t b4k_strlcpy(char *dst, const char *src, size_t size)
{
	size_t len = __builtin_strlen(src);

	if (size) {
		size_t n = len < size - 1 ? len : size - 1;
		__builtin_memcpy(dst, src, n);
		dst[n] = '\0';
	}
	return len;
}
#define strlcpy b4k_strlcpy

static inline size_t b4k_strlcat(char *dst, const char *src, size_t size)
{
	size_t used = 0;

	while (used < size && dst[used])
		used++;
	if (used == size)
		return size + __builtin_strlen(src);
	return used + b4k_strlcpy(dst + used, src, size - used);
}
#define strlcat b4k_strlcat
