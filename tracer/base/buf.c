/* buf.c: growable byte buffer with a size cap; see buf.h. */
#include "buf.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "mem.h"

void
vt_buf_init(struct vt_buf *b, size_t max)
{
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    b->max = max;
}

void
vt_buf_fini(struct vt_buf *b)
{
    free(b->data);
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
}

void
vt_buf_reset(struct vt_buf *b)
{
    b->len = 0;
    if (b->data)
        b->data[0] = '\0';
}

enum vt_err
vt_buf_add(struct vt_buf *b, const void *data, size_t n)
{
    if (n > b->max || b->len > b->max - n) {
        vt_buf_fini(b);
        return VT_ERR_TOOBIG;
    }
    if (b->len + n + 1 > b->cap) {
        size_t cap = b->cap ? b->cap : 64;
        while (cap < b->len + n + 1)
            cap *= 2;
        b->data = vt_xrealloc(b->data, cap);
        b->cap = cap;
    }
    if (n)
        memcpy(b->data + b->len, data, n);
    b->len += n;
    b->data[b->len] = '\0';
    return VT_OK;
}

enum vt_err
vt_buf_adds(struct vt_buf *b, const char *s)
{
    return vt_buf_add(b, s, strlen(s));
}

enum vt_err
vt_buf_printf(struct vt_buf *b, const char *fmt, ...)
{
    char small[256];
    va_list ap;
    va_start(ap, fmt);
    int n = vsnprintf(small, sizeof(small), fmt, ap);
    va_end(ap);
    if (n < 0)
        return VT_ERR_FORMAT;
    if ((size_t)n < sizeof(small))
        return vt_buf_add(b, small, (size_t)n);
    char *big = vt_xmalloc((size_t)n + 1);
    va_start(ap, fmt);
    vsnprintf(big, (size_t)n + 1, fmt, ap);
    va_end(ap);
    enum vt_err err = vt_buf_add(b, big, (size_t)n);
    free(big);
    return err;
}

char *
vt_buf_take(struct vt_buf *b, size_t *len)
{
    char *s = b->data ? b->data : vt_xstrdup("");
    if (len)
        *len = b->len;
    b->data = NULL;
    b->len = 0;
    b->cap = 0;
    return s;
}
