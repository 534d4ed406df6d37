/* vzt.c: the compact .vzt form of a trace: encoding, and the --compress /
 * --decompress commands (decoding, the loader's third input kind, is in
 * vzt_read.c); see format.h, and FORMAT.md for the layout.
 *
 * The function events of our writer's shape (the bulk of every trace) are
 * split into columns: interned names, zigzag-varint deltas of pid, tid and
 * ts, and dur, each compressed as its own zstd frame, so that zstd sees runs
 * of small similar numbers instead of decimal text. Anything else (other
 * events, X events of another shape or with numbers we could not store
 * exactly, the document's other members) is kept as its JSON text, also in
 * zstd frames.
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
#include "internal.h"

#define ZLEVEL 6 /* measured on fib traces: see FORMAT.md */

const unsigned char vt_vzt__magic[VT_VZT_MAGIC_LEN] = {0x89, 'V', 'Z', 'T', '\r', '\n', 0x1a, '\n'};

/* ---- numbers ------------------------------------------------------------ */

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

/* ---- encoding ----------------------------------------------------------- */

struct span {
    const char *s; /* borrowed from the input text */
    size_t n;      /* bytes */
};

struct enc {
    struct vt_buf col[VT_VZT__C__COUNT]; /* the columns before compression */
    struct span *names;                  /* owned array of interned strings */
    size_t nnames, names_cap;            /* used, allocated */
    uint32_t *slots;                     /* owned open-addressing table of index+1, 0 = free */
    size_t nslots;                       /* a power of two */
    int64_t pid, tid, ts;                /* the previous column event's */
    uint64_t run;                        /* length of the current run */
    int run_text;                        /* 1 when the current run is of text events */
    size_t rest_members;                 /* members written into VT_VZT__C_REST */
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
            x->flags |= VT_VZT__FL_CAT;
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
            x->flags |= VT_VZT__FL_LINE;
            break;
        default:
            ok = *v == '{';
            x->args = (struct span){v, vn};
            x->flags |= VT_VZT__FL_ARGS;
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
        err = put_uv(&e->col[VT_VZT__C_RUNS], e->run);
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
        if ((err = run_to(e, 1)) != VT_OK || (err = put_uv(&e->col[VT_VZT__C_EVENTS], n)) != VT_OK)
            return err;
        return vt_buf_add(&e->col[VT_VZT__C_EVENTS], s, n);
    }
    if ((err = run_to(e, 0)) != VT_OK)
        return err;
    unsigned char fl = (unsigned char)x.flags;
    if ((err = vt_buf_add(&e->col[VT_VZT__C_FLAGS], &fl, 1)) != VT_OK ||
        (err = put_uv(&e->col[VT_VZT__C_NAME], intern(e, x.name.s, x.name.n))) != VT_OK ||
        (err = put_uv(&e->col[VT_VZT__C_PID],
                      vt_vzt__zigzag((uint64_t)x.pid - (uint64_t)e->pid))) != VT_OK ||
        (err = put_uv(&e->col[VT_VZT__C_TID],
                      vt_vzt__zigzag((uint64_t)x.tid - (uint64_t)e->tid))) != VT_OK ||
        (err = put_uv(&e->col[VT_VZT__C_TS], vt_vzt__zigzag((uint64_t)x.ts - (uint64_t)e->ts))) !=
            VT_OK ||
        (err = put_uv(&e->col[VT_VZT__C_DUR], vt_vzt__zigzag((uint64_t)x.dur))) != VT_OK)
        return err;
    e->pid = x.pid;
    e->tid = x.tid;
    e->ts = x.ts;
    if ((x.flags & VT_VZT__FL_CAT) != 0 &&
        (err = put_uv(&e->col[VT_VZT__C_CAT], intern(e, x.cat.s, x.cat.n))) != VT_OK)
        return err;
    if ((x.flags & VT_VZT__FL_LINE) != 0 &&
        (err = put_uv(&e->col[VT_VZT__C_LINE], vt_vzt__zigzag((uint64_t)x.line))) != VT_OK)
        return err;
    if ((x.flags & VT_VZT__FL_ARGS) != 0) {
        if ((err = put_uv(&e->col[VT_VZT__C_ARGS], x.args.n)) != VT_OK)
            return err;
        err = vt_buf_add(&e->col[VT_VZT__C_ARGS], x.args.s, x.args.n);
    }
    return err;
}

/* After an array element or object member: a ',' followed by more (not
 * by close), or close itself, which is left for the caller. 0, or -1 on
 * anything else. */
static int
after_item(const char **p, const char *end, char close)
{
    vt_jscan_ws(p, end);
    if (*p < end && **p == ',') {
        (*p)++;
        vt_jscan_ws(p, end);
        return *p < end && **p == close ? -1 : 0;
    }
    return *p < end && **p == close ? 0 : -1;
}

/* Walks the document: the first traceEvents array into events, every other
 * member into VT_VZT__C_REST. Returns VT_ERR_FORMAT with msg set on bad JSON. */
static enum vt_err
split_doc(struct enc *e, const char *text, size_t len, char *msg, size_t msglen)
{
    const char *p = text, *end = text + len;
    int have_events = 0;
    enum vt_err err = VT_OK;
    vt_jscan_ws(&p, end);
    if (p < end && *p != '{') {
        const char *q = p;
        if (vt_jscan_value(&q, end) != 0)
            goto bad;
        vt_format__msg(msg, msglen, "not a trace: not a JSON object with a traceEvents array");
        return VT_ERR_FORMAT;
    }
    if (p == end)
        goto bad;
    p++;
    vt_jscan_ws(&p, end);
    if ((err = vt_buf_add(&e->col[VT_VZT__C_REST], "{", 1)) != VT_OK)
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
                if (after_item(&p, end, ']') != 0)
                    goto bad;
            }
            if (p == end)
                goto bad;
            p++;
        } else {
            if (vt_jscan_value(&p, end) != 0)
                goto bad;
            if ((e->rest_members++ > 0 &&
                 (err = vt_buf_add(&e->col[VT_VZT__C_REST], ",", 1)) != VT_OK) ||
                (err = vt_buf_add(&e->col[VT_VZT__C_REST], k, (size_t)(p - k))) != VT_OK)
                return err;
        }
        if (after_item(&p, end, '}') != 0)
            goto bad;
    }
    if (p == end)
        goto bad;
    p++;
    vt_jscan_ws(&p, end);
    if (p != end)
        goto bad;
    if (!have_events) {
        vt_format__msg(msg, msglen, "not a trace: no traceEvents array");
        return VT_ERR_FORMAT;
    }
    if ((err = vt_buf_add(&e->col[VT_VZT__C_REST], "}", 1)) != VT_OK)
        return err;
    return put_uv(&e->col[VT_VZT__C_RUNS], e->run);
bad:
    vt_format__msg(msg, msglen, "not valid JSON (near byte %zu)", (size_t)(p - text));
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
    for (int i = 0; i < VT_VZT__C__COUNT; i++)
        vt_buf_init(&e.col[i], VT_FORMAT_MAX_BYTES);
    if ((err = split_doc(&e, text, len, msg, msglen)) != VT_OK)
        goto done;
    if ((err = put_uv(&e.col[VT_VZT__C_NAMES], e.nnames)) != VT_OK)
        goto done;
    for (size_t i = 0; i < e.nnames; i++) {
        if ((err = put_uv(&e.col[VT_VZT__C_NAMES], e.names[i].n)) != VT_OK ||
            (err = vt_buf_add(&e.col[VT_VZT__C_NAMES], e.names[i].s, e.names[i].n)) != VT_OK)
            goto done;
    }
    unsigned char hdr[VT_VZT__HEADER_LEN];
    memcpy(hdr, vt_vzt__magic, VT_VZT_MAGIC_LEN);
    put_u32(hdr + 8, VT_VZT_VERSION);
    put_u32(hdr + 12, VT_VZT__C__COUNT);
    if ((err = vt_buf_add(&o, hdr, sizeof(hdr))) != VT_OK)
        goto done;
    cc = ZSTD_createCCtx();
    if (cc == NULL) {
        err = VT_ERR_NOMEM;
        goto done;
    }
    ZSTD_CCtx_setParameter(cc, ZSTD_c_compressionLevel, ZLEVEL);
    ZSTD_CCtx_setParameter(cc, ZSTD_c_checksumFlag, 1);
    for (int i = 0; i < VT_VZT__C__COUNT; i++) {
        size_t raw = e.col[i].len;
        size_t bound = ZSTD_compressBound(raw);
        frame = vt_xrealloc(frame, bound);
        size_t n = ZSTD_compress2(cc, frame, bound, raw ? e.col[i].data : "", raw);
        if (ZSTD_isError(n)) {
            vt_format__msg(msg, msglen, "zstd: %s", ZSTD_getErrorName(n));
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
        vt_format__msg(msg, msglen, "trace too large (more than %zu bytes)",
                       (size_t)VT_FORMAT_MAX_BYTES);
    ZSTD_freeCCtx(cc);
    free(frame);
    vt_buf_fini(&o);
    for (int i = 0; i < VT_VZT__C__COUNT; i++)
        vt_buf_fini(&e.col[i]);
    free(e.names);
    free(e.slots);
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
