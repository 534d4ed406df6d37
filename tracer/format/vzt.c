/* vzt.c: the compact .vzt form of a trace (--compress / --decompress, and
 * the loader's third input kind); see format.h, and FORMAT.md for the layout.
 *
 * The function events of our writer's shape (the bulk of every trace) are
 * split into columns: interned names, zigzag-varint deltas of pid, tid and
 * ts, and dur, each compressed as its own zstd frame, so that zstd sees runs
 * of small similar numbers instead of decimal text. Anything else (other
 * events, X events of another shape or with numbers we could not store
 * exactly, the document's other members) is kept as its JSON text, also in
 * zstd frames. Decoding validates every text it hands out with jscan.c, so
 * whatever a .vzt holds, the loader's callers get valid JSON or an error.
 */
#include "format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zstd.h>

#include "../base/buf.h"
#include "../base/mem.h"

/* The columns, in file order (format version 1). */
enum col {
    C_NAMES,  /* interned names and cats: count, then (len, JSON string text) each */
    C_RUNS,   /* run lengths, alternately of column events and of text events */
    C_FLAGS,  /* one byte per column event: FL_* */
    C_NAME,   /* name index per column event */
    C_CAT,    /* cat index per column event with FL_CAT */
    C_PID,    /* zigzag delta from the previous column event's pid */
    C_TID,    /* zigzag delta from the previous tid */
    C_TS,     /* zigzag delta from the previous ts, ns */
    C_DUR,    /* zigzag dur, ns */
    C_LINE,   /* zigzag caller_lineno per column event with FL_LINE */
    C_ARGS,   /* (len, JSON object text) per column event with FL_ARGS */
    C_EVENTS, /* (len, JSON text) per text event */
    C_REST,   /* the document's other members, as one JSON object text */
    C__COUNT
};

#define FL_CAT 1u
#define FL_LINE 2u
#define FL_ARGS 4u
#define FL_ALL (FL_CAT | FL_LINE | FL_ARGS)

#define HEADER_LEN 16 /* magic, version, column count */
#define ZLEVEL 6      /* measured on fib traces: see FORMAT.md */

static const unsigned char magic[VT_VZT_MAGIC_LEN] = {0x89, 'V', 'Z', 'T', '\r', '\n', 0x1a, '\n'};

static void set_msg(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
set_msg(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    if (msg == NULL || msglen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

int
vt_vzt_is(const void *data, size_t len)
{
    return len >= VT_VZT_MAGIC_LEN && memcmp(data, magic, VT_VZT_MAGIC_LEN) == 0;
}

/* ---- numbers ------------------------------------------------------------ */

static uint64_t
zigzag(uint64_t v)
{
    return (v << 1) ^ ((v >> 63) != 0 ? UINT64_MAX : 0);
}

static uint64_t
unzigzag(uint64_t v)
{
    return (v >> 1) ^ ((v & 1) != 0 ? UINT64_MAX : 0);
}

static enum vt_err
put_uv(struct vt_buf *b, uint64_t v)
{
    unsigned char t[10];
    size_t n = 0;
    while (v >= 0x80) {
        t[n++] = (unsigned char)(v | 0x80);
        v >>= 7;
    }
    t[n++] = (unsigned char)v;
    return vt_buf_add(b, t, n);
}

/* An integer as our writer prints it: -?(0|[1-9][0-9]*), at most 18 digits
 * (so it fits in int64 and prints back the same), not "-0". */
static int
parse_int(const char *s, size_t n, int64_t *out)
{
    size_t i = 0;
    int neg = n > 0 && s[0] == '-';
    i += (size_t)neg;
    size_t digits = n - i;
    if (digits == 0 || digits > 18 || (s[i] == '0' && digits > 1))
        return 0;
    int64_t v = 0;
    for (; i < n; i++) {
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (neg && v == 0)
        return 0;
    *out = neg ? -v : v;
    return 1;
}

/* Microseconds as our writer prints them from nanoseconds
 * (vt_writer_format_us): -?(0|[1-9][0-9]*)\.[0-9]{3}, the whole part at
 * most 15 digits, not "-0.000". */
static int
parse_us(const char *s, size_t n, int64_t *out)
{
    int neg = n > 0 && s[0] == '-';
    size_t i = (size_t)neg;
    if (n < i + 5 || s[n - 4] != '.')
        return 0;
    size_t digits = n - 4 - i;
    if (digits > 15 || (s[i] == '0' && digits > 1))
        return 0;
    int64_t v = 0;
    for (; i < n; i++) {
        if (i == n - 4)
            continue; /* the '.' */
        if (s[i] < '0' || s[i] > '9')
            return 0;
        v = v * 10 + (s[i] - '0');
    }
    if (neg && v == 0)
        return 0;
    *out = neg ? -v : v;
    return 1;
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

/* ---- encoding ----------------------------------------------------------- */

struct span {
    const char *s; /* borrowed from the input text */
    size_t n;      /* bytes */
};

struct enc {
    struct vt_buf col[C__COUNT]; /* the columns before compression */
    struct span *names;          /* owned array of interned strings */
    size_t nnames, names_cap;    /* used, allocated */
    uint32_t *slots;             /* owned open-addressing table of index+1, 0 = free */
    size_t nslots;               /* a power of two */
    int64_t pid, tid, ts;        /* the previous column event's */
    uint64_t run;                /* length of the current run */
    int run_text;                /* 1 when the current run is of text events */
    size_t rest_members;         /* members written into C_REST */
};

static uint64_t
hash_span(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

static uint32_t
intern(struct enc *e, const char *s, size_t n)
{
    if (e->nnames * 2 >= e->nslots) {
        size_t ns = e->nslots ? e->nslots * 2 : 1024;
        uint32_t *slots = vt_xcalloc(ns, sizeof(*slots));
        for (size_t i = 0; i < e->nnames; i++) {
            size_t j = hash_span(e->names[i].s, e->names[i].n) & (ns - 1);
            while (slots[j] != 0)
                j = (j + 1) & (ns - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(e->slots);
        e->slots = slots;
        e->nslots = ns;
    }
    size_t j = hash_span(s, n) & (e->nslots - 1);
    while (e->slots[j] != 0) {
        const struct span *sp = &e->names[e->slots[j] - 1];
        if (sp->n == n && memcmp(sp->s, s, n) == 0)
            return e->slots[j] - 1;
        j = (j + 1) & (e->nslots - 1);
    }
    if (e->nnames == e->names_cap) {
        e->names_cap = e->names_cap ? e->names_cap * 2 : 256;
        e->names = vt_xrealloc(e->names, e->names_cap * sizeof(*e->names));
    }
    e->names[e->nnames] = (struct span){s, n};
    e->slots[j] = (uint32_t)++e->nnames;
    return e->slots[j] - 1;
}

/* One function event of the columns' shape. */
struct xev {
    struct span name, cat, args; /* raw JSON texts; cat and args may be empty */
    int64_t pid, tid, ts, dur, line;
    unsigned flags; /* FL_* */
};

/* Keys of the columns' shape; bit i of "seen" is keys[i]. */
static const char *const keys[] = {"\"pid\"",  "\"tid\"",           "\"ts\"",
                                   "\"ph\"",   "\"cat\"",           "\"dur\"",
                                   "\"name\"", "\"caller_lineno\"", "\"args\""};
#define REQUIRED 0x6Fu /* pid tid ts ph dur name */

/* Returns 1 when the event text [s, end) (a valid JSON value) is a function
 * event the columns can hold exactly, filling *x. */
static int
parse_x(const char *s, const char *end, struct xev *x)
{
    const char *p = s;
    unsigned seen = 0;
    if (*p != '{')
        return 0;
    p++;
    vt_jscan_ws(&p, end);
    if (*p == '}')
        return 0;
    x->flags = 0;
    for (;;) {
        const char *k = p;
        if (vt_jscan_string(&p, end) != 0)
            return 0;
        size_t kn = (size_t)(p - k);
        vt_jscan_ws(&p, end);
        p++; /* ':' */
        vt_jscan_ws(&p, end);
        const char *v = p;
        if (vt_jscan_value(&p, end) != 0)
            return 0;
        size_t vn = (size_t)(p - v);
        unsigned i;
        for (i = 0; i < sizeof(keys) / sizeof(keys[0]); i++)
            if (strlen(keys[i]) == kn && memcmp(keys[i], k, kn) == 0)
                break;
        if (i == sizeof(keys) / sizeof(keys[0]) || (seen & (1u << i)) != 0)
            return 0;
        seen |= 1u << i;
        int ok = 1;
        switch (i) {
        case 0:
            ok = parse_int(v, vn, &x->pid);
            break;
        case 1:
            ok = parse_int(v, vn, &x->tid);
            break;
        case 2:
            ok = parse_us(v, vn, &x->ts);
            break;
        case 3:
            ok = vn == 3 && memcmp(v, "\"X\"", 3) == 0;
            break;
        case 4:
            ok = *v == '"';
            x->cat = (struct span){v, vn};
            x->flags |= FL_CAT;
            break;
        case 5:
            ok = parse_us(v, vn, &x->dur);
            break;
        case 6:
            ok = *v == '"';
            x->name = (struct span){v, vn};
            break;
        case 7:
            ok = parse_int(v, vn, &x->line);
            x->flags |= FL_LINE;
            break;
        default:
            ok = *v == '{';
            x->args = (struct span){v, vn};
            x->flags |= FL_ARGS;
            break;
        }
        if (!ok)
            return 0;
        vt_jscan_ws(&p, end);
        if (*p == '}')
            break;
        p++; /* ',' */
        vt_jscan_ws(&p, end);
    }
    return (seen & REQUIRED) == REQUIRED;
}

/* Ends the current run when the next event is of the other kind. */
static enum vt_err
run_to(struct enc *e, int text)
{
    enum vt_err err = VT_OK;
    if (text != e->run_text) {
        err = put_uv(&e->col[C_RUNS], e->run);
        e->run = 0;
        e->run_text = text;
    }
    e->run++;
    return err;
}

static enum vt_err
add_event(struct enc *e, const char *s, const char *end)
{
    struct xev x;
    enum vt_err err = VT_OK;
    if (!parse_x(s, end, &x)) {
        size_t n = (size_t)(end - s);
        if ((err = run_to(e, 1)) != VT_OK || (err = put_uv(&e->col[C_EVENTS], n)) != VT_OK)
            return err;
        return vt_buf_add(&e->col[C_EVENTS], s, n);
    }
    if ((err = run_to(e, 0)) != VT_OK)
        return err;
    unsigned char fl = (unsigned char)x.flags;
    if ((err = vt_buf_add(&e->col[C_FLAGS], &fl, 1)) != VT_OK ||
        (err = put_uv(&e->col[C_NAME], intern(e, x.name.s, x.name.n))) != VT_OK ||
        (err = put_uv(&e->col[C_PID], zigzag((uint64_t)x.pid - (uint64_t)e->pid))) != VT_OK ||
        (err = put_uv(&e->col[C_TID], zigzag((uint64_t)x.tid - (uint64_t)e->tid))) != VT_OK ||
        (err = put_uv(&e->col[C_TS], zigzag((uint64_t)x.ts - (uint64_t)e->ts))) != VT_OK ||
        (err = put_uv(&e->col[C_DUR], zigzag((uint64_t)x.dur))) != VT_OK)
        return err;
    e->pid = x.pid;
    e->tid = x.tid;
    e->ts = x.ts;
    if ((x.flags & FL_CAT) != 0 &&
        (err = put_uv(&e->col[C_CAT], intern(e, x.cat.s, x.cat.n))) != VT_OK)
        return err;
    if ((x.flags & FL_LINE) != 0 &&
        (err = put_uv(&e->col[C_LINE], zigzag((uint64_t)x.line))) != VT_OK)
        return err;
    if ((x.flags & FL_ARGS) != 0) {
        if ((err = put_uv(&e->col[C_ARGS], x.args.n)) != VT_OK)
            return err;
        err = vt_buf_add(&e->col[C_ARGS], x.args.s, x.args.n);
    }
    return err;
}

/* Walks the document: the first traceEvents array into events, every other
 * member into C_REST. Returns VT_ERR_FORMAT with msg set on bad JSON. */
static enum vt_err
split_doc(struct enc *e, const char *text, size_t len, char *msg, size_t msglen)
{
    const char *p = text, *end = text + len;
    int have_events = 0;
    enum vt_err err = VT_OK;
    vt_jscan_ws(&p, end);
    if (p == end || *p != '{')
        goto bad;
    p++;
    vt_jscan_ws(&p, end);
    if ((err = vt_buf_add(&e->col[C_REST], "{", 1)) != VT_OK)
        return err;
    while (p < end && *p != '}') {
        const char *k = p;
        if (vt_jscan_string(&p, end) != 0)
            goto bad;
        size_t kn = (size_t)(p - k);
        vt_jscan_ws(&p, end);
        if (p == end || *p != ':')
            goto bad;
        p++;
        vt_jscan_ws(&p, end);
        if (!have_events && kn == 13 && memcmp(k, "\"traceEvents\"", 13) == 0 && p < end &&
            *p == '[') {
            have_events = 1;
            p++;
            vt_jscan_ws(&p, end);
            while (p < end && *p != ']') {
                const char *v = p;
                if (vt_jscan_value(&p, end) != 0)
                    goto bad;
                if ((err = add_event(e, v, p)) != VT_OK)
                    return err;
                vt_jscan_ws(&p, end);
                if (p < end && *p == ',') {
                    p++;
                    vt_jscan_ws(&p, end);
                    if (p < end && *p == ']')
                        goto bad;
                } else if (p == end || *p != ']') {
                    goto bad;
                }
            }
            if (p == end)
                goto bad;
            p++;
        } else {
            if (vt_jscan_value(&p, end) != 0)
                goto bad;
            if ((e->rest_members++ > 0 && (err = vt_buf_add(&e->col[C_REST], ",", 1)) != VT_OK) ||
                (err = vt_buf_add(&e->col[C_REST], k, (size_t)(p - k))) != VT_OK)
                return err;
        }
        vt_jscan_ws(&p, end);
        if (p < end && *p == ',') {
            p++;
            vt_jscan_ws(&p, end);
            if (p < end && *p == '}')
                goto bad;
        } else if (p == end || *p != '}') {
            goto bad;
        }
    }
    if (p == end)
        goto bad;
    p++;
    vt_jscan_ws(&p, end);
    if (p != end)
        goto bad;
    if (!have_events) {
        set_msg(msg, msglen, "not a trace: no traceEvents array");
        return VT_ERR_FORMAT;
    }
    if ((err = vt_buf_add(&e->col[C_REST], "}", 1)) != VT_OK)
        return err;
    return put_uv(&e->col[C_RUNS], e->run);
bad:
    set_msg(msg, msglen, "not valid JSON (near byte %zu)", (size_t)(p - text));
    return VT_ERR_FORMAT;
}

static void
put_u32(unsigned char *d, uint32_t v)
{
    for (int i = 0; i < 4; i++)
        d[i] = (unsigned char)(v >> (8 * i));
}

static void
put_u64(unsigned char *d, uint64_t v)
{
    for (int i = 0; i < 8; i++)
        d[i] = (unsigned char)(v >> (8 * i));
}

enum vt_err
vt_vzt_encode(const char *text, size_t len, char **out, size_t *out_len, char *msg, size_t msglen)
{
    struct enc e;
    memset(&e, 0, sizeof(e));
    struct vt_buf o;
    vt_buf_init(&o, VT_FORMAT_MAX_BYTES);
    ZSTD_CCtx *cc = NULL; /* owned */
    char *frame = NULL;   /* owned scratch */
    enum vt_err err;
    *out = NULL;
    *out_len = 0;
    for (int i = 0; i < C__COUNT; i++)
        vt_buf_init(&e.col[i], VT_FORMAT_MAX_BYTES);
    if ((err = split_doc(&e, text, len, msg, msglen)) != VT_OK)
        goto done;
    if ((err = put_uv(&e.col[C_NAMES], e.nnames)) != VT_OK)
        goto done;
    for (size_t i = 0; i < e.nnames; i++) {
        if ((err = put_uv(&e.col[C_NAMES], e.names[i].n)) != VT_OK ||
            (err = vt_buf_add(&e.col[C_NAMES], e.names[i].s, e.names[i].n)) != VT_OK)
            goto done;
    }
    unsigned char hdr[HEADER_LEN];
    memcpy(hdr, magic, VT_VZT_MAGIC_LEN);
    put_u32(hdr + 8, VT_VZT_VERSION);
    put_u32(hdr + 12, C__COUNT);
    if ((err = vt_buf_add(&o, hdr, sizeof(hdr))) != VT_OK)
        goto done;
    cc = ZSTD_createCCtx();
    if (cc == NULL) {
        err = VT_ERR_NOMEM;
        goto done;
    }
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, ZLEVEL);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    for (int i = 0; i < C__COUNT; i++) {
        size_t raw = e.col[i].len;
        size_t bound = ZSTD_compressBound(raw);
        frame = vt_xrealloc(frame, bound);
        size_t n = ZSTD_compress2(cc, frame, bound, raw ? e.col[i].data : "", raw);
        if (ZSTD_isError(n)) {
            set_msg(msg, msglen, "zstd: %s", ZSTD_getErrorName(n));
            err = VT_ERR_NOMEM;
            goto done;
        }
        unsigned char sizes[16];
        put_u64(sizes, raw);
        put_u64(sizes + 8, n);
        if ((err = vt_buf_add(&o, sizes, sizeof(sizes))) != VT_OK ||
            (err = vt_buf_add(&o, frame, n)) != VT_OK)
            goto done;
    }
    *out = vt_buf_take(&o, out_len);
done:
    if (err == VT_ERR_TOOBIG)
        set_msg(msg, msglen, "trace too large (more than %zu bytes)", (size_t)VT_FORMAT_MAX_BYTES);
    ZSTD_freeCCtx(cc);
    free(frame);
    vt_buf_fini(&o);
    for (int i = 0; i < C__COUNT; i++)
        vt_buf_fini(&e.col[i]);
    free(e.names);
    free(e.slots);
    return err;
}

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
    if (c[C_FLAGS].p == c[C_FLAGS].end)
        return 0;
    unsigned fl = *c[C_FLAGS].p++;
    if ((fl & ~FL_ALL) != 0 || !get_uv(&c[C_NAME], &name) || name >= nnames)
        return 0;
    if ((fl & FL_CAT) != 0 && (!get_uv(&c[C_CAT], &cat) || cat >= nnames))
        return 0;
    for (int i = 0; i < 3; i++) {
        if (!get_uv(&c[C_PID + i], &v))
            return 0;
        prev[i] = (int64_t)((uint64_t)prev[i] + unzigzag(v));
    }
    uint64_t dur;
    if (!get_uv(&c[C_DUR], &dur))
        return 0;
    if ((fl & FL_LINE) != 0 && !get_uv(&c[C_LINE], &line))
        return 0;
    struct span args = {NULL, 0};
    if ((fl & FL_ARGS) != 0 && !get_text(&c[C_ARGS], '{', &args))
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
    if (ok && (fl & FL_CAT) != 0)
        ok = vt_buf_add(o, ",\"cat\":", 7) == VT_OK &&
             vt_buf_add(o, names[cat].s, names[cat].n) == VT_OK;
    ok = ok && vt_buf_add(o, ",\"dur\":", 7) == VT_OK && vt_buf_add(o, d, dl) == VT_OK &&
         vt_buf_add(o, ",\"name\":", 8) == VT_OK &&
         vt_buf_add(o, names[name].s, names[name].n) == VT_OK;
    if (ok && (fl & FL_LINE) != 0) {
        char ln[24];
        size_t n = format_i64(ln, (int64_t)unzigzag(line));
        ok = vt_buf_add(o, ",\"caller_lineno\":", 17) == VT_OK && vt_buf_add(o, ln, n) == VT_OK;
    }
    if (ok && (fl & FL_ARGS) != 0)
        ok = vt_buf_add(o, ",\"args\":", 8) == VT_OK && vt_buf_add(o, args.s, args.n) == VT_OK;
    return ok && vt_buf_add(o, "}", 1) == VT_OK ? 1 : -1;
}

/* Rebuilds the document from the decompressed columns. */
static enum vt_err
rebuild(struct vt_buf *col, struct vt_buf *o, char *msg, size_t msglen)
{
    struct cur c[C__COUNT];
    for (int i = 0; i < C__COUNT; i++)
        c[i] = (struct cur){(const unsigned char *)col[i].data,
                            (const unsigned char *)col[i].data + col[i].len};
    uint64_t nnames;
    struct span *names = NULL; /* owned */
    enum vt_err err = VT_ERR_FORMAT;
    if (!get_uv(&c[C_NAMES], &nnames) || nnames > col[C_NAMES].len)
        goto corrupt;
    names = vt_xcalloc(nnames ? nnames : 1, sizeof(*names));
    for (uint64_t i = 0; i < nnames; i++)
        if (!get_text(&c[C_NAMES], '"', &names[i]))
            goto corrupt;
    struct span rest;
    /* C_REST is a bare object text, not (len, text): check it whole */
    {
        const char *p = col[C_REST].data, *end = p + col[C_REST].len;
        if (p == NULL || *p != '{' || vt_jscan_value(&p, end) != 0 || p != end)
            goto corrupt;
        rest = (struct span){col[C_REST].data, col[C_REST].len};
        c[C_REST].p = c[C_REST].end;
    }
    int64_t prev[3] = {0, 0, 0};
    uint64_t events = 0;
    if (vt_buf_add(o, "{\"traceEvents\":[\n", 17) != VT_OK)
        goto toobig;
    for (int text = 0; c[C_RUNS].p < c[C_RUNS].end; text = !text) {
        uint64_t run;
        if (!get_uv(&c[C_RUNS], &run))
            goto corrupt;
        for (uint64_t i = 0; i < run; i++) {
            if (events++ > 0 && vt_buf_add(o, ",\n", 2) != VT_OK)
                goto toobig;
            if (text) {
                struct span ev;
                if (!get_text(&c[C_EVENTS], 0, &ev))
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
    for (int i = 0; i < C__COUNT; i++)
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
    set_msg(msg, msglen, "trace too large (more than %zu bytes)", o->max);
    free(names);
    return err;
corrupt:
    set_msg(msg, msglen, "corrupt .vzt file (inconsistent columns)");
    free(names);
    return err;
}

enum vt_err
vt_vzt_decode(const void *data, size_t len, size_t max, char **text, size_t *text_len, char *msg,
              size_t msglen)
{
    const unsigned char *d = data;
    struct vt_buf col[C__COUNT];
    struct vt_buf o;
    enum vt_err err = VT_ERR_FORMAT;
    ZSTD_DCtx *dc = NULL; /* owned */
    *text = NULL;
    *text_len = 0;
    for (int i = 0; i < C__COUNT; i++)
        vt_buf_init(&col[i], max);
    vt_buf_init(&o, max);
    if (!vt_vzt_is(data, len)) {
        set_msg(msg, msglen, "not a .vzt file");
        goto done;
    }
    if (len < HEADER_LEN) {
        set_msg(msg, msglen, "truncated .vzt file (%zu bytes)", len);
        goto done;
    }
    uint32_t version = (uint32_t)(get_u64(d + 8) & 0xffffffffu);
    uint32_t ncols = (uint32_t)(get_u64(d + 8) >> 32);
    if (version != VT_VZT_VERSION) {
        set_msg(msg, msglen, "unsupported .vzt version %u (this viztracer reads version %d)",
                version, VT_VZT_VERSION);
        goto done;
    }
    if (ncols != C__COUNT) {
        set_msg(msg, msglen, "corrupt .vzt file (%u columns, not %d)", ncols, C__COUNT);
        goto done;
    }
    dc = ZSTD_createDCtx();
    if (dc == NULL) {
        err = VT_ERR_NOMEM;
        set_msg(msg, msglen, "out of memory");
        goto done;
    }
    size_t off = HEADER_LEN;
    for (int i = 0; i < C__COUNT; i++) {
        if (len - off < 16) {
            set_msg(msg, msglen, "truncated .vzt file (%zu bytes)", len);
            goto done;
        }
        uint64_t raw = get_u64(d + off), n = get_u64(d + off + 8);
        off += 16;
        if (n > len - off) {
            set_msg(msg, msglen, "truncated .vzt file (%zu bytes)", len);
            goto done;
        }
        err = unzstd(dc, d + off, (size_t)n, raw, max, &col[i]);
        if (err != VT_OK) {
            if (err == VT_ERR_TOOBIG)
                set_msg(msg, msglen, "trace too large (more than %zu bytes)", max);
            else
                set_msg(msg, msglen, "corrupt .vzt file (column %d)", i);
            goto done;
        }
        err = VT_ERR_FORMAT;
        off += (size_t)n;
    }
    if (off != len) {
        set_msg(msg, msglen, "corrupt .vzt file (%zu bytes after its end)", len - off);
        goto done;
    }
    err = rebuild(col, &o, msg, msglen);
    if (err == VT_OK)
        *text = vt_buf_take(&o, text_len);
done:
    ZSTD_freeDCtx(dc);
    for (int i = 0; i < C__COUNT; i++)
        vt_buf_fini(&col[i]);
    vt_buf_fini(&o);
    return err;
}

/* ---- the commands ------------------------------------------------------- */

/* Writes data to path through "<path>.tmp.<pid>" and a rename. */
static enum vt_err
write_whole(const char *path, const char *data, size_t len, int *errnum)
{
    size_t n = strlen(path) + 32;
    char *tmp = vt_xmalloc(n); /* owned */
    snprintf(tmp, n, "%s.tmp.%ld", path, (long)getpid());
    FILE *f = fopen(tmp, "wb"); /* owned */
    enum vt_err err = VT_OK;
    if (f == NULL) {
        *errnum = errno;
        free(tmp);
        return VT_ERR_IO;
    }
    if (fwrite(data, 1, len, f) != len)
        err = VT_ERR_IO;
    if (fclose(f) != 0)
        err = VT_ERR_IO;
    if (err == VT_OK && rename(tmp, path) != 0)
        err = VT_ERR_IO;
    if (err != VT_OK) {
        *errnum = errno;
        unlink(tmp);
    }
    free(tmp);
    return err;
}

enum vt_err
vt_vzt_run(int decompress, const char *input, const char *output, int quiet)
{
    char msg[256] = "";
    char *text = NULL, *out = NULL; /* owned */
    size_t len = 0, out_len = 0;
    int errnum = 0;
    const char *verb = decompress ? "decompress" : "compress";
    enum vt_err err = vt_format_load(input, &text, &len, &errnum, msg, sizeof(msg));
    if (err == VT_ERR_NOFILE) {
        fprintf(stderr, "viztracer: No such file as %s\n", input);
        return err;
    }
    if (err == VT_OK && decompress) {
        FILE *f = fopen(input, "rb");
        unsigned char m[VT_VZT_MAGIC_LEN] = {0};
        size_t got = f ? fread(m, 1, sizeof(m), f) : 0;
        if (f)
            fclose(f);
        if (!vt_vzt_is(m, got)) {
            snprintf(msg, sizeof(msg), "not a .vzt file");
            err = VT_ERR_FORMAT;
        }
    }
    if (err != VT_OK) {
        fprintf(stderr, "viztracer: cannot %s %s: %s\n", verb, input, msg);
        free(text);
        return err;
    }
    if (decompress) {
        err = vt_writer_write_file(output, text, len, &errnum);
        if (err == VT_ERR_USAGE)
            snprintf(msg, sizeof(msg), "the output must end in .json or .gz");
    } else {
        err = vt_vzt_encode(text, len, &out, &out_len, msg, sizeof(msg));
        if (err != VT_OK) {
            fprintf(stderr, "viztracer: cannot compress %s: %s\n", input, msg);
            free(text);
            return err;
        }
        err = write_whole(output, out, out_len, &errnum);
    }
    if (err != VT_OK && msg[0] == '\0')
        snprintf(msg, sizeof(msg), "%s", errnum ? strerror(errnum) : "write failed");
    if (err != VT_OK)
        fprintf(stderr, "viztracer: cannot write %s: %s\n", output, msg);
    else if (!quiet && decompress)
        printf("Decompressed %s -> %s (%zu bytes)\n", input, output, len);
    else if (!quiet)
        printf("Compressed %s (%zu bytes of JSON) -> %s (%zu bytes, %.1fx smaller)\n", input, len,
               output, out_len, out_len ? (double)len / (double)out_len : 0.0);
    free(text);
    free(out);
    return err;
}
