/* index_scan.c: one event object of traceEvents, read for the index.
 *
 * Two readers with one answer. The strict one (jscan: every member checked
 * by vt_jscan_string / vt_jscan_value, then its key compared) reads any
 * valid event. The fast one reads the events writers print (ours, Chrome's,
 * VizTracer's: strings without escapes, plain decimals) in one pass: strings
 * eight bytes at a time, numbers checked and converted as they are scanned,
 * keys told apart by their length and first bytes, and object or array
 * values (args) left to vt_jscan_value. What it accepts is valid JSON and it
 * yields the same members; anything else (an escape, an exponent, more than
 * 18 digits, text cut by the window's end) makes it give up, and the strict
 * reader decides. Profiled on 10M events, the strict reader alone was about
 * 60% of the index build.
 */
#include <string.h>

#include "../tracer/format/format.h"
#include "index.h"

/* ---- the strict reader ---------------------------------------------------- */

static int
key_is(const struct vt_index__member *m, const char *key)
{
    size_t n = strlen(key);
    return m->klen == n + 2 && memcmp(m->k + 1, key, n) == 0;
}

/* Scans the object at ev[0..end) strictly, keeping the members of f.
 * Returns its length, or 0 when it is malformed or runs past end. */
static size_t
scan_strict(const char *ev, const char *end, struct vt_index__fields *f)
{
    const char *p = ev + 1;
    vt_jscan_ws(&p, end);
    if (p < end && *p == '}')
        return (size_t)(p + 1 - ev);
    for (;;) {
        struct vt_index__member m;
        m.k = p;
        if (vt_jscan_string(&p, end) != 0)
            return 0;
        m.klen = (size_t)(p - m.k);
        vt_jscan_ws(&p, end);
        if (p >= end || *p != ':')
            return 0;
        p++;
        vt_jscan_ws(&p, end);
        m.v = p;
        if (vt_jscan_value(&p, end) != 0)
            return 0;
        m.vlen = (size_t)(p - m.v);
        if (m.klen >= 4 && m.klen <= 6) {
            struct vt_index__member *slot = key_is(&m, "ph")     ? &f->ph
                                            : key_is(&m, "pid")  ? &f->pid
                                            : key_is(&m, "tid")  ? &f->tid
                                            : key_is(&m, "ts")   ? &f->ts
                                            : key_is(&m, "dur")  ? &f->dur
                                            : key_is(&m, "name") ? &f->name
                                            : key_is(&m, "args") ? &f->args
                                                                 : NULL;
            if (slot != NULL && slot->v == NULL)
                *slot = m;
        }
        vt_jscan_ws(&p, end);
        if (p >= end)
            return 0;
        if (*p == '}')
            return (size_t)(p + 1 - ev);
        if (*p != ',')
            return 0;
        p++;
        vt_jscan_ws(&p, end);
    }
}

/* ---- the fast reader ---------------------------------------------------- */

#define ONES 0x0101010101010101ull
#define HIGH 0x8080808080808080ull

/* Bytes of w equal to 0 get their high bit set (and no false negatives;
 * a false positive only sends the word to the byte loop). */
static inline uint64_t
zero_bytes(uint64_t w)
{
    return (w - ONES) & ~w & HIGH;
}

/* The string at *p (at its '"'); *p moves past its closing quote. 0, or -1
 * for an escape, a control byte or the window's end (the strict reader
 * then decides). */
static inline int
fast_string(const char **p, const char *end)
{
    const char *s = *p + 1;
    while (end - s >= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        /* '"', '\\', or a byte below 0x20 (its bits 5-7 clear: w & 0xe0 == 0) */
        uint64_t hit = zero_bytes(w ^ (ONES * '"')) | zero_bytes(w ^ (ONES * '\\')) |
                       zero_bytes(w & (ONES * 0xe0));
        if (hit != 0)
            break;
        s += 8;
    }
    for (; s < end; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"') {
            *p = s + 1;
            return 0;
        }
        if (c == '\\' || c < 0x20)
            return -1;
    }
    return -1;
}

/* The number at *p, as JSON writes it without an exponent: -?(0|[1-9][0-9]*)
 * (.[0-9]+)?, at most 18 digits; *mant and *frac (digits after the point).
 * -1 for anything else, or when it may go on past end. */
static inline int
fast_number(const char **p, const char *end, int64_t *mant, int *frac)
{
    const char *s = *p;
    int neg = 0, digits = 0, f = 0;
    int64_t m = 0;
    if (s < end && *s == '-') {
        neg = 1;
        s++;
    }
    if (s >= end || *s < '0' || *s > '9')
        return -1;
    if (*s == '0') {
        s++;
        digits = 1;
    } else {
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
            if (++digits <= 18)
                m = m * 10 + (*s - '0');
        }
    }
    if (s < end && *s == '.') {
        s++;
        for (; s < end && *s >= '0' && *s <= '9'; s++) {
            if (++digits <= 18)
                m = m * 10 + (*s - '0');
            f++;
        }
        if (f == 0)
            return -1;
    }
    if (s >= end || *s == 'e' || *s == 'E' || digits > 18)
        return -1;
    *mant = neg ? -m : m;
    *frac = f;
    *p = s;
    return 0;
}

static inline void
fast_ws(const char **p, const char *end)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++;
    *p = s;
}

/* The slot of a key (quotes included), or NULL for one the index skips. */
static inline struct vt_index__member *
slot_of(struct vt_index__fields *f, const char *k, size_t klen)
{
    switch (klen) {
    case 4: /* "ph" "ts" */
        if (k[1] == 'p' && k[2] == 'h')
            return &f->ph;
        if (k[1] == 't' && k[2] == 's')
            return &f->ts;
        return NULL;
    case 5: /* "pid" "tid" "dur" */
        if (k[2] == 'i' && k[3] == 'd')
            return k[1] == 'p' ? &f->pid : k[1] == 't' ? &f->tid : NULL;
        return k[1] == 'd' && k[2] == 'u' && k[3] == 'r' ? &f->dur : NULL;
    case 6: /* "name" "args" */
        if (memcmp(k + 1, "name", 4) == 0)
            return &f->name;
        return memcmp(k + 1, "args", 4) == 0 ? &f->args : NULL;
    default:
        return NULL;
    }
}

/* The object at ev[0..end) by the fast reader; its length, or 0 to leave
 * it to the strict one. */
static size_t
scan_fast(const char *ev, const char *end, struct vt_index__fields *f)
{
    const char *p = ev + 1;
    fast_ws(&p, end);
    if (p < end && *p == '}')
        return (size_t)(p + 1 - ev);
    for (;;) {
        const char *k = p;
        if (p >= end || *p != '"' || fast_string(&p, end) != 0)
            return 0;
        size_t klen = (size_t)(p - k);
        fast_ws(&p, end);
        if (p >= end || *p != ':')
            return 0;
        p++;
        fast_ws(&p, end);
        const char *v = p;
        int64_t mant = 0;
        int frac = -1; /* >= 0: a number, read */
        if (p >= end)
            return 0;
        if (*p == '"') {
            if (fast_string(&p, end) != 0)
                return 0;
        } else if (*p == '-' || (*p >= '0' && *p <= '9')) {
            if (fast_number(&p, end, &mant, &frac) != 0)
                return 0;
        } else if (vt_jscan_value(&p, end) != 0) {
            return 0;
        }
        struct vt_index__member *slot = slot_of(f, k, klen);
        if (slot != NULL && slot->v == NULL) {
            slot->k = k;
            slot->klen = klen;
            slot->v = v;
            slot->vlen = (size_t)(p - v);
            /* the conversions add_event would make from the text: ns
             * exactly for up to three decimals, ids when integral */
            if (frac >= 0 && frac <= 3 && (slot == &f->ts || slot == &f->dur) &&
                mant < 9000000000000000LL && mant > -9000000000000000LL) {
                static const int64_t up[] = {1000, 100, 10, 1};
                if (slot == &f->ts) {
                    f->ts_ns = mant * up[frac];
                    f->have |= VT_INDEX__HAVE_TS;
                } else {
                    f->dur_ns = mant * up[frac];
                    f->have |= VT_INDEX__HAVE_DUR;
                }
            } else if (frac == 0 && slot == &f->pid) {
                f->pid_n = mant;
                f->have |= VT_INDEX__HAVE_PID;
            } else if (frac == 0 && slot == &f->tid) {
                f->tid_n = mant;
                f->have |= VT_INDEX__HAVE_TID;
            }
        }
        fast_ws(&p, end);
        if (p >= end)
            return 0;
        if (*p == '}')
            return (size_t)(p + 1 - ev);
        if (*p != ',')
            return 0;
        p++;
        fast_ws(&p, end);
    }
}

size_t
vt_index__scan_event(const char *ev, const char *end, struct vt_index__fields *f)
{
    memset(f, 0, sizeof(*f));
    size_t n = scan_fast(ev, end, f);
    if (n != 0)
        return n;
    memset(f, 0, sizeof(*f));
    return scan_strict(ev, end, f);
}
