/* buf.h: growable byte buffer with a size cap (like curl's dynbuf).
 *
 * A vt_buf lives in caller storage: vt_buf_init() / vt_buf_fini(). Appends
 * fail with VT_ERR_TOOBIG past the cap and then free the contents, so a
 * runaway input fails cleanly instead of eating memory.
 */
#ifndef VT_TRACER_BASE_BUF_H
#define VT_TRACER_BASE_BUF_H

#include <stddef.h>

#include "err.h"

struct vt_buf {
    char *data; /* owned; NUL-terminated when len > 0; NULL when empty */
    size_t len; /* bytes used, excluding the terminating NUL */
    size_t cap; /* bytes allocated */
    size_t max; /* size cap in bytes; appends past it fail */
};

/* Initializes an empty buffer that may hold at most max bytes. Can't fail. */
void vt_buf_init(struct vt_buf *b, size_t max);

/* Frees the contents; the buffer is empty and reusable. fini of a zeroed
 * struct does nothing. */
void vt_buf_fini(struct vt_buf *b);

/* Empties the buffer but keeps its memory. Can't fail. */
void vt_buf_reset(struct vt_buf *b);

/* Appends n bytes. Returns VT_ERR_TOOBIG (and frees the contents) past the cap. */
enum vt_err vt_buf_add(struct vt_buf *b, const void *data, size_t n);

/* Appends a NUL-terminated string. */
enum vt_err vt_buf_adds(struct vt_buf *b, const char *s);

/* Appends printf-formatted text. */
enum vt_err vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Moves the contents out: returns the owned, NUL-terminated string (never
 * NULL; "" for an empty buffer) and leaves b empty. *len receives the length
 * when len is not NULL. */
char *vt_buf_take(struct vt_buf *b, size_t *len);

#endif
