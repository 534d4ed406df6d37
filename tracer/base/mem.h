/* mem.h: allocation that aborts with a message when memory runs out.
 *
 * Used everywhere outside the hot path, so callers carry no NULL paths that
 * are never tested (as zmalloc does in redis). The hot path allocates nothing.
 */
#ifndef VT_TRACER_BASE_MEM_H
#define VT_TRACER_BASE_MEM_H

#include <stddef.h>

/* Each returns owned memory (free with free()); on failure prints one line
 * and aborts. Sizes are in bytes; vt_xcalloc zeroes. */
void *vt_xmalloc(size_t size);
void *vt_xcalloc(size_t count, size_t size);
void *vt_xrealloc(void *ptr, size_t size);
char *vt_xstrdup(const char *s);
char *vt_xstrndup(const char *s, size_t n);

#endif
