/* vzt_read.c: decoding the compact .vzt form (the loader's and
 * --decompress's half of vzt.c); see format.h, and FORMAT.md for the layout.
 *
 * Every text handed out is checked with jscan.c, every index against its
 * table, and every column must be used up exactly, so whatever bytes a .vzt
 * holds the caller gets valid JSON or one line saying why not. Buffers grow
 * only as zstd produces data: a forged length costs nothing.
 */
#include "format.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <zstd.h>

#include "../base/buf.h"
#include "../base/mem.h"
#include "internal.h"

int
vt_vzt_is(const void *data, size_t len)
{
    return len >= VT_VZT_MAGIC_LEN && memcmp(data, vt_vzt__magic, VT_VZT_MAGIC_LEN) == 0;
}

static uint64_t
unzigzag(uint64_t v)
{
    return (v >> 1) ^ ((v & 1) != 0 ? UINT64_MAX : 0);
}

static size_t
format_i64(char *dst, int64_t v)
{
    char tmp[24];
    char *p = tmp + sizeof(tmp);
    uint64_t u = v < 0 ? (uint64_t)0 - (uint64_t)v : (uint64_t)v;
    do {
        *--p = (char)('0' + u % 10);
        u /= 10;
    } while (u != 0);
    if (v < 0)
        *--p = '-';
    size_t n = (size_t)(tmp + sizeof(tmp) - p);
    memcpy(dst, p, n);
    return n;
}

struct span {
    const char *s; /* borrowed */
    size_t n;      /* bytes */
};

/* ---- decoding ----------------------------------------------------------- */

struct cur {
    const unsigned char *p, *end; /* borrowed from a decompressed column */
};

static int
get_uv(struct cur *c, uint64_t *v)
{
    uint64_t r = 0;
    for (unsigned shift = 0; shift < 64; shift += 7) {
        if (c->p == c->end)
            return 0;
        unsigned char b = *c->p++;
        r |= (uint64_t)(b & 0x7f) << shift;
        if ((b & 0x80) == 0) {
            *v = r;
            return 1;
        }
    }
    return 0;
}

/* Reads (len, bytes) whose bytes are exactly one JSON value starting with
 * first (0: any). */
static int
get_text(struct cur *c, char first, struct span *out)
{
    uint64_t n;
    if (!get_uv(c, &n) || n == 0 || n > (uint64_t)(c->end - c->p))
        return 0;
    const char *s = (const char *)c->p, *p = s;
    if ((first != 0 && *s != first) || vt_jscan_value(&p, s + n) != 0 || p != s + n)
        return 0;
    c->p += n;
    *out = (struct span){s, (size_t)n};
    return 1;
}

static uint64_t
get_u64(const unsigned char *d)
{
    uint64_t v = 0;
    for (int i = 7; i >= 0; i--)
        v = (v << 8) | d[i];
    return v;
}

/* Decompresses one frame of exactly raw bytes, growing the output only as
 * data comes out (a forged size cannot make us allocate it). */
static enum vt_err
unzstd(ZSTD_DCtx *dc, const unsigned char *src, size_t n, uint64_t raw, size_t max,
       struct vt_buf *out)
{
    if (raw > max)
        return VT_ERR_TOOBIG;
    ZSTD_DCtx_reset(dc, ZSTD_reset_session_only);
    ZSTD_inBuffer in = {src, n, 0};
    char chunk[1 << 16];
    size_t rc = 1;
    while (rc != 0) {
        ZSTD_outBuffer o = {chunk, sizeof(chunk), 0};
        rc = ZSTD_decompressStream(dc, &o, &in);
        if (ZSTD_isError(rc))
            return VT_ERR_FORMAT;
        if (o.pos > 0 && (out->len + o.pos > raw || vt_buf_add(out, chunk, o.pos) != VT_OK))
            return VT_ERR_FORMAT;
        if (rc != 0 && in.pos == in.size && o.pos < o.size)
            return VT_ERR_FORMAT; /* the frame stops short */
    }
    return in.pos == in.size && out->len == raw ? VT_OK : VT_ERR_FORMAT;
}

/* Appends one column event to o, from the cursors. Returns 1, 0 when the
 * columns are inconsistent, -1 past o's cap. */
static int
put_x(struct vt_buf *o, struct cur *c, const struct span *names, uint64_t nnames, int64_t *prev)
{
    char num[3][40];
    size_t nl[3];
    uint64_t v, name, cat = 0, line = 0;
    if (c[VT_VZT__C_FLAGS].p == c[VT_VZT__C_FLAGS].end)
        return 0;
    unsigned fl = *c[VT_VZT__C_FLAGS].p++;
    if ((fl & ~VT_VZT__FL_ALL) != 0 || !get_uv(&c[VT_VZT__C_NAME], &name) || name >= nnames)
        return 0;
    if ((fl & VT_VZT__FL_CAT) != 0 && (!get_uv(&c[VT_VZT__C_CAT], &cat) || cat >= nnames))
        return 0;
    for (int i = 0; i < 3; i++) {
        if (!get_uv(&c[VT_VZT__C_PID + i], &v))
            return 0;
        prev[i] = (int64_t)((uint64_t)prev[i] + unzigzag(v));
    }
    uint64_t dur;
    if (!get_uv(&c[VT_VZT__C_DUR], &dur))
        return 0;
    if ((fl & VT_VZT__FL_LINE) != 0 && !get_uv(&c[VT_VZT__C_LINE], &line))
        return 0;
    struct span args = {NULL, 0};
    if ((fl & VT_VZT__FL_ARGS) != 0 && !get_text(&c[VT_VZT__C_ARGS], '{', &args))
        return 0;
    nl[0] = format_i64(num[0], prev[0]);
    nl[1] = format_i64(num[1], prev[1]);
    nl[2] = vt_writer_format_us(num[2], prev[2]);
    char d[40];
    size_t dl = vt_writer_format_us(d, (int64_t)unzigzag(dur));
    int ok = vt_buf_add(o, "{\"pid\":", 7) == VT_OK && vt_buf_add(o, num[0], nl[0]) == VT_OK &&
             vt_buf_add(o, ",\"tid\":", 7) == VT_OK && vt_buf_add(o, num[1], nl[1]) == VT_OK &&
             vt_buf_add(o, ",\"ts\":", 6) == VT_OK && vt_buf_add(o, num[2], nl[2]) == VT_OK &&
             vt_buf_add(o, ",\"ph\":\"X\"", 9) == VT_OK;
    if (ok && (fl & VT_VZT__FL_CAT) != 0)
        ok = vt_buf_add(o, ",\"cat\":", 7) == VT_OK &&
             vt_buf_add(o, names[cat].s, names[cat].n) == VT_OK;
    ok = ok && vt_buf_add(o, ",\"dur\":", 7) == VT_OK && vt_buf_add(o, d, dl) == VT_OK &&
         vt_buf_add(o, ",\"name\":", 8) == VT_OK &&
         vt_buf_add(o, names[name].s, names[name].n) == VT_OK;
    if (ok && (fl & VT_VZT__FL_LINE) != 0) {
        char ln[24];
        size_t n = format_i64(ln, (int64_t)unzigzag(line));
        ok = vt_buf_add(o, ",\"caller_lineno\":", 17) == VT_OK && vt_buf_add(o, ln, n) == VT_OK;
    }
    if (ok && (fl & VT_VZT__FL_ARGS) != 0)
        ok = vt_buf_add(o, ",\"args\":", 8) == VT_OK && vt_buf_add(o, args.s, args.n) == VT_OK;
    return ok && vt_buf_add(o, "}", 1) == VT_OK ? 1 : -1;
}

/* Rebuilds the document from the decompressed columns. */
static enum vt_err
rebuild(struct vt_buf *col, struct vt_buf *o, char *msg, size_t msglen)
{
    struct cur c[VT_VZT__C__COUNT];
    static const unsigned char none[1] = {0}; /* an empty column (data NULL) */
    for (int i = 0; i < VT_VZT__C__COUNT; i++) {
        const unsigned char *d = col[i].data ? (const unsigned char *)col[i].data : none;
        c[i] = (struct cur){d, d + col[i].len};
    }
    uint64_t nnames;
    struct span *names = NULL; /* owned */
    enum vt_err err = VT_ERR_FORMAT;
    if (!get_uv(&c[VT_VZT__C_NAMES], &nnames) || nnames > col[VT_VZT__C_NAMES].len)
        goto corrupt;
    names = vt_xcalloc(nnames ? nnames : 1, sizeof(*names));
    for (uint64_t i = 0; i < nnames; i++)
        if (!get_text(&c[VT_VZT__C_NAMES], '"', &names[i]))
            goto corrupt;
    struct span rest;
    /* VT_VZT__C_REST is a bare object text, not (len, text): check it whole */
    {
        if (col[VT_VZT__C_REST].data == NULL)
            goto corrupt;
        const char *p = col[VT_VZT__C_REST].data, *end = p + col[VT_VZT__C_REST].len;
        if (*p != '{' || vt_jscan_value(&p, end) != 0 || p != end)
            goto corrupt;
        rest = (struct span){col[VT_VZT__C_REST].data, col[VT_VZT__C_REST].len};
        c[VT_VZT__C_REST].p = c[VT_VZT__C_REST].end;
    }
    int64_t prev[3] = {0, 0, 0};
    uint64_t events = 0;
    if (vt_buf_add(o, "{\"traceEvents\":[\n", 17) != VT_OK)
        goto toobig;
    for (int text = 0; c[VT_VZT__C_RUNS].p < c[VT_VZT__C_RUNS].end; text = !text) {
        uint64_t run;
        if (!get_uv(&c[VT_VZT__C_RUNS], &run))
            goto corrupt;
        for (uint64_t i = 0; i < run; i++) {
            if (events++ > 0 && vt_buf_add(o, ",\n", 2) != VT_OK)
                goto toobig;
            if (text) {
                struct span ev;
                if (!get_text(&c[VT_VZT__C_EVENTS], 0, &ev))
                    goto corrupt;
                if (vt_buf_add(o, ev.s, ev.n) != VT_OK)
                    goto toobig;
            } else {
                int rc = put_x(o, c, names, nnames, prev);
                if (rc < 0)
                    goto toobig;
                if (rc == 0)
                    goto corrupt;
            }
        }
    }
    for (int i = 0; i < VT_VZT__C__COUNT; i++)
        if (c[i].p != c[i].end)
            goto corrupt;
    if (vt_buf_add(o, "\n]", 2) != VT_OK)
        goto toobig;
    if (rest.n > 2 &&
        (vt_buf_add(o, ",", 1) != VT_OK || vt_buf_add(o, rest.s + 1, rest.n - 1) != VT_OK))
        goto toobig;
    if (rest.n <= 2 && vt_buf_add(o, "}", 1) != VT_OK)
        goto toobig;
    if (vt_buf_add(o, "\n", 1) != VT_OK)
        goto toobig;
    free(names);
    return VT_OK;
toobig:
    err = VT_ERR_TOOBIG;
    vt_format__msg(msg, msglen, "trace too large (more than %zu bytes)", o->max);
    free(names);
    return err;
corrupt:
    vt_format__msg(msg, msglen, "corrupt .vzt file (inconsistent columns)");
    free(names);
    return err;
}

enum vt_err
vt_vzt_decode(const void *data, size_t len, size_t max, char **text, size_t *text_len, char *msg,
              size_t msglen)
{
    const unsigned char *d = data;
    struct vt_buf col[VT_VZT__C__COUNT];
    struct vt_buf o;
    enum vt_err err = VT_ERR_FORMAT;
    ZSTD_DCtx *dc = NULL; /* owned */
    *text = NULL;
    *text_len = 0;
    for (int i = 0; i < VT_VZT__C__COUNT; i++)
        vt_buf_init(&col[i], max);
    vt_buf_init(&o, max);
    if (!vt_vzt_is(data, len)) {
        vt_format__msg(msg, msglen, "not a .vzt file");
        goto done;
    }
    if (len < VT_VZT__HEADER_LEN) {
        vt_format__msg(msg, msglen, "truncated .vzt file (%zu bytes)", len);
        goto done;
    }
    uint32_t version = (uint32_t)(get_u64(d + 8) & 0xffffffffu);
    uint32_t ncols = (uint32_t)(get_u64(d + 8) >> 32);
    if (version != VT_VZT_VERSION) {
        vt_format__msg(msg, msglen, "unsupported .vzt version %u (this viztracer reads version %d)",
                       version, VT_VZT_VERSION);
        goto done;
    }
    if (ncols != VT_VZT__C__COUNT) {
        vt_format__msg(msg, msglen, "corrupt .vzt file (%u columns, not %d)", ncols,
                       VT_VZT__C__COUNT);
        goto done;
    }
    dc = ZSTD_createDCtx();
    if (dc == NULL) {
        err = VT_ERR_NOMEM;
        vt_format__msg(msg, msglen, "out of memory");
        goto done;
    }
    size_t off = VT_VZT__HEADER_LEN;
    for (int i = 0; i < VT_VZT__C__COUNT; i++) {
        if (len - off < 16) {
            vt_format__msg(msg, msglen, "truncated .vzt file (%zu bytes)", len);
            goto done;
        }
        uint64_t raw = get_u64(d + off), n = get_u64(d + off + 8);
        off += 16;
        if (n > len - off) {
            vt_format__msg(msg, msglen, "truncated .vzt file (%zu bytes)", len);
            goto done;
        }
        err = unzstd(dc, d + off, (size_t)n, raw, max, &col[i]);
        if (err != VT_OK) {
            if (err == VT_ERR_TOOBIG)
                vt_format__msg(msg, msglen, "trace too large (more than %zu bytes)", max);
            else
                vt_format__msg(msg, msglen, "corrupt .vzt file (column %d)", i);
            goto done;
        }
        err = VT_ERR_FORMAT;
        off += (size_t)n;
    }
    if (off != len) {
        vt_format__msg(msg, msglen, "corrupt .vzt file (%zu bytes after its end)", len - off);
        goto done;
    }
    err = rebuild(col, &o, msg, msglen);
    if (err == VT_OK)
        *text = vt_buf_take(&o, text_len);
done:
    ZSTD_freeDCtx(dc);
    for (int i = 0; i < VT_VZT__C__COUNT; i++)
        vt_buf_fini(&col[i]);
    vt_buf_fini(&o);
    return err;
}
