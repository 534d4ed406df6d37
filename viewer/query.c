/* query.c: the UI's questions answered from an index (index.h), as JSON.
 *
 * Times in answers are µs from the trace's first event (as model.js shifts
 * them), with three decimals; names are sent once per answer in "names",
 * keyed by id, as the JSON string text the file holds. Every answer is
 * bounded by the page's width, not by the trace: a slice narrower than a
 * pixel is merged with its neighbours of the same depth into one block
 * ([start, dur, name of the first, index of the first, count]), found by
 * binary search, so a query over 10 million slices costs about
 * depth x width x log(n).
 */
#include "index.h"

#include <ctype.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>

#include "../tracer/base/mem.h"
#include "../tracer/format/format.h"

/* ---- parameters --------------------------------------------------------- */

void
vt_index_q_init(struct vt_index_query *q)
{
    memset(q, 0, sizeof(*q));
    q->t0 = 0;
    q->t1 = HUGE_VAL;
    q->px = 1000;
    q->track = -1;
    q->slice = -1;
    q->instant = -1;
    q->limit = 500;
}

static int
parse_num(const char *s, double *out)
{
    char *end;
    if (*s == '\0')
        return -1;
    double d = strtod(s, &end);
    if (*end != '\0' || !isfinite(d))
        return -1;
    *out = d;
    return 0;
}

/* key cut to 32 bytes with anything but printable ASCII as '?', for a
 * message that stays one line. */
static const char *
shown(const char *key, char out[33])
{
    size_t i = 0;
    for (; i < 32 && key[i] != '\0'; i++)
        out[i] = key[i] >= 0x20 && key[i] < 0x7f ? key[i] : '?';
    out[i] = '\0';
    return out;
}

enum vt_err
vt_index_q_set(struct vt_index_query *q, const char *key, const char *value, char *msg,
               size_t msglen)
{
    char k[33];
    double d = 0;
    int num = parse_num(value, &d) == 0;
    if (strcmp(key, "q") == 0) {
        if (strlen(value) >= sizeof(q->q)) {
            snprintf(msg, msglen, "q: longer than %zu bytes", sizeof(q->q) - 1);
            return VT_ERR_USAGE;
        }
        snprintf(q->q, sizeof(q->q), "%s", value);
        return VT_OK;
    }
    if (strcmp(key, "sort") == 0) {
        static const char *sorts[] = {"total", "self", "count", "name"};
        for (int i = 0; i < 4; i++) {
            if (strcmp(value, sorts[i]) == 0) {
                q->sort = i;
                return VT_OK;
            }
        }
        snprintf(msg, msglen, "sort: total, self, count or name");
        return VT_ERR_USAGE;
    }
    if (strcmp(key, "tracks") == 0) {
        q->ntracks = 0;
        const char *p = value;
        while (*p != '\0') {
            char *end;
            if (!isdigit((unsigned char)*p)) {
                snprintf(msg, msglen, "tracks: a comma-separated list of track numbers");
                return VT_ERR_USAGE;
            }
            unsigned long t = strtoul(p, &end, 10);
            if (q->ntracks == sizeof(q->tracks) / sizeof(q->tracks[0]) || t > 0xffffffffUL) {
                snprintf(msg, msglen, "tracks: at most 256 tracks below 2^32");
                return VT_ERR_USAGE;
            }
            q->tracks[q->ntracks++] = (uint32_t)t;
            p = end;
            if (*p == ',')
                p++;
            else if (*p != '\0') {
                snprintf(msg, msglen, "tracks: a comma-separated list of track numbers");
                return VT_ERR_USAGE;
            }
        }
        return VT_OK;
    }
    if (strcmp(key, "file") == 0 || strcmp(key, "_") == 0)
        return VT_OK; /* folder mode's trace; a cache buster */
    if (!num) {
        snprintf(msg, msglen, "%s: not a number", shown(key, k));
        return VT_ERR_USAGE;
    }
    if (strcmp(key, "t0") == 0)
        q->t0 = d;
    else if (strcmp(key, "t1") == 0)
        q->t1 = d;
    else if (strcmp(key, "px") == 0 && d >= 1 && d <= 100000)
        q->px = (int)d;
    else if (strcmp(key, "track") == 0 && d >= -1 && d < 4e9 && d == floor(d))
        q->track = (long)d;
    else if (strcmp(key, "slice") == 0 && d >= -1 && d < 9e15 && d == floor(d))
        q->slice = (long)d;
    else if (strcmp(key, "instant") == 0 && d >= -1 && d < 9e15 && d == floor(d))
        q->instant = (long)d;
    else if (strcmp(key, "limit") == 0 && d >= 1 && d <= 10000)
        q->limit = (int)d;
    else {
        snprintf(msg, msglen, "%s: unknown parameter or value out of range", shown(key, k));
        return VT_ERR_USAGE;
    }
    return VT_OK;
}

enum vt_err
vt_index_q_check(const struct vt_index_query *q, char *msg, size_t msglen)
{
    if (!(q->t1 > q->t0)) {
        snprintf(msg, msglen, "t1 must be after t0");
        return VT_ERR_USAGE;
    }
    return VT_OK;
}

static int
hexval(char c)
{
    return c >= '0' && c <= '9'   ? c - '0'
           : c >= 'a' && c <= 'f' ? c - 'a' + 10
           : c >= 'A' && c <= 'F' ? c - 'A' + 10
                                  : -1;
}

/* %-decodes s[0..n) into dst (n + 1 bytes); '+' is a space. */
static void
url_decode(const char *s, size_t n, char *dst)
{
    size_t o = 0;
    for (size_t i = 0; i < n; i++) {
        if (s[i] == '%' && i + 2 < n + 0 && hexval(s[i + 1]) >= 0 && hexval(s[i + 2]) >= 0) {
            dst[o++] = (char)(hexval(s[i + 1]) * 16 + hexval(s[i + 2]));
            i += 2;
        } else {
            dst[o++] = s[i] == '+' ? ' ' : s[i];
        }
    }
    dst[o] = '\0';
}

enum vt_err
vt_index_q_parse(const char *qs, struct vt_index_query *q, char *msg, size_t msglen)
{
    vt_index_q_init(q);
    const char *p = qs;
    while (*p != '\0') {
        const char *amp = strchr(p, '&');
        size_t n = amp != NULL ? (size_t)(amp - p) : strlen(p);
        const char *eq = memchr(p, '=', n);
        if (n > 0) {
            size_t kl = eq != NULL ? (size_t)(eq - p) : n;
            size_t vl = eq != NULL ? n - kl - 1 : 0;
            char *key = vt_xmalloc(kl + 1), *val = vt_xmalloc(vl + 1);
            url_decode(p, kl, key);
            url_decode(eq != NULL ? eq + 1 : p + n, vl, val);
            enum vt_err err = vt_index_q_set(q, key, val, msg, msglen);
            free(key);
            free(val);
            if (err != VT_OK)
                return err;
        }
        p += n;
        if (*p == '&')
            p++;
    }
    return vt_index_q_check(q, msg, msglen);
}

/* ---- helpers ------------------------------------------------------------ */

#define S_AT(t, k) (&(t)->s[(t)->by_depth[(k)]])

/* The names used by one answer, written once at its end. */
struct used {
    unsigned char *bits; /* owned; one bit per name */
    uint32_t *list;      /* owned; the ids in the order first used */
    size_t n, cap;
};

static void
use(struct used *u, uint32_t id)
{
    if (u->bits[id >> 3] & (1u << (id & 7)))
        return;
    u->bits[id >> 3] |= (unsigned char)(1u << (id & 7));
    if (u->n == u->cap) {
        u->cap = u->cap ? 2 * u->cap : 256;
        u->list = vt_xrealloc(u->list, u->cap * sizeof(*u->list));
    }
    u->list[u->n++] = id;
}

static void
used_init(struct used *u, const struct vt_index *ix)
{
    memset(u, 0, sizeof(*u));
    u->bits = vt_xcalloc(ix->names.n / 8 + 1, 1);
}

/* Appends ,"names":{...} and frees u. */
static enum vt_err
used_write(struct used *u, const struct vt_index *ix, struct vt_buf *out)
{
    enum vt_err err = vt_buf_adds(out, ",\"names\":{");
    for (size_t i = 0; i < u->n && err == VT_OK; i++) {
        size_t len;
        const char *s = vt_index_name(ix, u->list[i], &len);
        err = vt_buf_printf(out, "%s\"%u\":", i ? "," : "", u->list[i]);
        if (err == VT_OK)
            err = vt_buf_add(out, s, len);
    }
    if (err == VT_OK)
        err = vt_buf_adds(out, "}");
    free(u->bits);
    free(u->list);
    return err;
}

unsigned char *
vt_index_match_names(const struct vt_index *ix, const char *q)
{
    size_t qn = strlen(q);
    unsigned char *m = vt_xcalloc(ix->names.n / 8 + 1, 1);
    if (qn == 0)
        return m;
    for (size_t i = 1; i < ix->names.n; i++) {
        const char *s = ix->names.arena + ix->names.at[i];
        size_t n = ix->names.len[i];
        for (size_t j = 0; j + qn <= n; j++) {
            size_t k = 0;
            while (k < qn && tolower((unsigned char)s[j + k]) == tolower((unsigned char)q[k]))
                k++;
            if (k == qn) {
                m[i >> 3] |= (unsigned char)(1u << (i & 7));
                break;
            }
        }
    }
    return m;
}

size_t
vt_index_first_ending_after(const struct vt_index_track *t, size_t lo, size_t hi, int64_t ns)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        const struct vt_index_slice *s = S_AT(t, mid);
        if (s->start + s->dur > ns)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* First k in [lo, hi) whose start is at or after ns. */
static size_t
first_starting_at(const struct vt_index_track *t, size_t lo, size_t hi, int64_t ns)
{
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (S_AT(t, mid)->start >= ns)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

/* The tracks an answer covers: q->tracks, or q->track, or all. Returns the
 * count, or -1 when one is out of range. */
static long
chosen(const struct vt_index *ix, const struct vt_index_query *q, uint32_t *out)
{
    if (q->ntracks > 0) {
        for (size_t i = 0; i < q->ntracks; i++) {
            if (q->tracks[i] >= ix->norder)
                return -1;
            out[i] = q->tracks[i];
        }
        return (long)q->ntracks;
    }
    if (q->track >= 0) {
        if ((size_t)q->track >= ix->norder)
            return -1;
        out[0] = (uint32_t)q->track;
        return 1;
    }
    for (size_t i = 0; i < ix->norder; i++)
        out[i] = (uint32_t)i;
    return (long)ix->norder;
}

/* first_starting_at, galloping from lo: the answer is usually a few
 * slices on (the slices of one pixel), and probing near lo stays in cache
 * where a binary search over millions would miss it at every step. */
static size_t
gallop_from(const struct vt_index_track *t, size_t lo, size_t hi, int64_t ns)
{
    size_t step = 1, prev = lo;
    while (lo + step < hi && S_AT(t, lo + step)->start < ns) {
        prev = lo + step;
        step *= 2;
    }
    return first_starting_at(t, prev, lo + step < hi ? lo + step + 1 : hi, ns);
}

/* first_starting_at for the next pixel: it usually holds about as many
 * slices as the last (guess, the last answer's distance from its lo), so
 * look a few slices either side of lo + guess before galloping or
 * bisecting; on a wide view that spares most of the probes, each a cache
 * miss. Any guess gives the same answer. */
static size_t
next_starting_at(const struct vt_index_track *t, size_t lo, size_t hi, int64_t ns, size_t guess)
{
    if (lo >= hi)
        return lo;
    size_t g = guess < hi - lo ? lo + guess : hi - 1;
    if (S_AT(t, g)->start >= ns) {
        /* the answer is in [lo, g] */
        for (int i = 0; i < 8 && g > lo; i++, g--) {
            if (S_AT(t, g - 1)->start < ns)
                return g;
        }
        return g == lo ? lo : first_starting_at(t, lo, g, ns);
    }
    /* the answer is after g */
    for (int i = 0; i < 8; i++) {
        if (++g >= hi || S_AT(t, g)->start >= ns)
            return g;
    }
    return gallop_from(t, g, hi, ns);
}

/* ---- tracks ------------------------------------------------------------- */

enum vt_err
vt_index_q_tracks(const struct vt_index *ix, struct vt_buf *out)
{
    enum vt_err err = vt_buf_printf(
        out,
        "{\"start_us\":%.3f,\"duration\":%.3f,\"slices\":%llu,\"instants\":%zu,\"bytes\":%llu,"
        "\"tracks\":[",
        (double)ix->min_ts / 1000.0, (double)(ix->max_ts - ix->min_ts) / 1000.0,
        (unsigned long long)ix->nslices, ix->ninstants, (unsigned long long)ix->text_len);
    for (size_t k = 0; k < ix->norder && err == VT_OK; k++) {
        const struct vt_index_track *t = &ix->tracks[ix->order[k]];
        size_t len;
        const char *name = vt_index_name(ix, t->thread_name, &len);
        err = vt_buf_printf(out,
                            "%s{\"pid\":%lld,\"tid\":%lld,\"count\":%zu,\"depth\":%u,\"thread\":",
                            k ? "," : "", (long long)t->pid, (long long)t->tid, t->n, t->ndepth);
        if (err == VT_OK)
            err = t->thread_name ? vt_buf_add(out, name, len) : vt_buf_adds(out, "null");
        uint32_t proc = 0;
        for (size_t i = 0; i < ix->nproc; i++) {
            if (ix->proc_pid[i] == t->pid)
                proc = ix->proc_name[i];
        }
        name = vt_index_name(ix, proc, &len);
        if (err == VT_OK)
            err = vt_buf_adds(out, ",\"proc\":");
        if (err == VT_OK)
            err = proc ? vt_buf_add(out, name, len) : vt_buf_adds(out, "null");
        if (err == VT_OK)
            err = vt_buf_adds(out, "}");
    }
    if (err == VT_OK)
        err = vt_buf_adds(out, "],\"counters\":[");
    for (size_t i = 0; i < ix->nseries && err == VT_OK; i++) {
        const struct vt_index_series *s = &ix->series[i];
        size_t nl, kl;
        const char *n = vt_index_name(ix, s->name, &nl), *kk = vt_index_name(ix, s->key, &kl);
        err = vt_buf_printf(out, "%s{\"pid\":%lld,\"n\":%zu,\"name\":", i ? "," : "",
                            (long long)s->pid, s->n);
        if (err == VT_OK)
            err = vt_buf_add(out, n, nl);
        if (err == VT_OK)
            err = vt_buf_adds(out, ",\"key\":");
        if (err == VT_OK)
            err = vt_buf_add(out, kk, kl);
        if (err == VT_OK)
            err = vt_buf_adds(out, "}");
    }
    char *meta = NULL;
    size_t meta_len = 0;
    if (ix->meta_len != 0 &&
        vt_index_event_text(ix, ix->meta_off, ix->meta_len, &meta, &meta_len) != VT_OK)
        meta = NULL;
    if (err == VT_OK)
        err = vt_buf_adds(out, "],\"metadata\":");
    if (err == VT_OK)
        err = meta != NULL && meta[0] == '{' ? vt_buf_add(out, meta, meta_len)
                                             : vt_buf_adds(out, "{}");
    free(meta);
    if (err == VT_OK)
        err = vt_buf_adds(out, "}");
    return err;
}

/* ---- slices at a width -------------------------------------------------- */

/* Writes v in decimal at dst (21 bytes); returns the length. */
static size_t
put_u64(char *dst, uint64_t v)
{
    char tmp[21];
    size_t n = 0;
    do {
        tmp[n++] = (char)('0' + v % 10);
        v /= 10;
    } while (v != 0);
    for (size_t i = 0; i < n; i++)
        dst[i] = tmp[n - 1 - i];
    return n;
}

/* A run of merged slices not yet written. */
struct block {
    int live;
    int64_t start, end;
    size_t first; /* index into s of the first */
    uint64_t n;   /* slices */
    int hit;      /* search: 1 when a member (of the first 64) matches */
};

static enum vt_err
put_block(struct vt_buf *out, const struct vt_index *ix, const struct vt_index_track *t,
          const struct block *b, int *comma, struct used *u, int search)
{
    const struct vt_index_slice *s = &t->s[b->first];
    use(u, s->name);
    /* by hand: printf of doubles was most of the answer's time */
    char item[160];
    size_t n = 0;
    if (*comma)
        item[n++] = ',';
    n += vt_writer_format_us(item + n, b->start - ix->min_ts);
    item[n++] = ',';
    n += vt_writer_format_us(item + n, b->end - b->start);
    item[n++] = ',';
    n += put_u64(item + n, s->name);
    item[n++] = ',';
    n += put_u64(item + n, b->first);
    item[n++] = ',';
    n += put_u64(item + n, b->n);
    enum vt_err err = vt_buf_add(out, item, n);
    *comma = 1;
    if (err == VT_OK)
        err = search ? vt_buf_adds(out, b->hit ? ",1" : ",0") : VT_OK;
    return err;
}

/* The slices of one depth of t in [t0, t1) at bucket width w (ns). */
static enum vt_err
depth_slices(const struct vt_index *ix, const struct vt_index_track *t, uint32_t d, int64_t t0,
             int64_t t1, int64_t w, const unsigned char *m, struct used *u, struct vt_buf *out)
{
    size_t lo = t->level[d], hi = t->level[d + 1];
    size_t k = vt_index_first_ending_after(t, lo, hi, t0);
    struct block pend = {0};
    size_t guess = 0; /* the last search's distance from its lo */
    int comma = 0, search = m != NULL;
    enum vt_err err = VT_OK;
    while (k < hi && err == VT_OK) {
        const struct vt_index_slice *s = S_AT(t, k);
        if (s->start >= t1)
            break;
        size_t j = k + 1;
        if (s->dur < w) {
            /* every slice starting within a bucket of this one merges with it;
             * only the last of them can be wide (they do not overlap) */
            j = next_starting_at(t, k + 1, hi, s->start + w, guess);
            guess = j - (k + 1);
            if (j - 1 > k && S_AT(t, j - 1)->dur >= w)
                j--;
        }
        const struct vt_index_slice *last = S_AT(t, j - 1);
        struct block blk = {1, s->start, last->start + last->dur, t->by_depth[k], j - k, 0};
        if (search) {
            for (size_t i = k; i < j && i < k + 64 && !blk.hit; i++)
                blk.hit = VT_INDEX_HIT(m, S_AT(t, i)->name);
        }
        int narrow = blk.end - blk.start < w || blk.n > 1;
        if (pend.live && narrow && blk.start - pend.end < w) {
            pend.end = blk.end;
            pend.n += blk.n;
            pend.hit |= blk.hit;
        } else {
            if (pend.live)
                err = put_block(out, ix, t, &pend, &comma, u, search);
            pend = blk;
            if (!narrow) {
                if (err == VT_OK)
                    err = put_block(out, ix, t, &pend, &comma, u, search);
                pend.live = 0;
            }
        }
        k = j;
    }
    if (pend.live && err == VT_OK)
        err = put_block(out, ix, t, &pend, &comma, u, search);
    return err;
}

enum vt_err
vt_index_q_slices(const struct vt_index *ix, const struct vt_index_query *q, struct vt_buf *out)
{
    uint32_t *which = vt_xmalloc((ix->norder + 1) * sizeof(*which));
    long n = chosen(ix, q, which);
    if (n < 0) {
        free(which);
        return VT_ERR_USAGE;
    }
    int64_t t0 = vt_index_abs_ns(ix, q->t0),
            t1 = (q->t1 > 1e15 ? ix->max_ts + 1 : vt_index_abs_ns(ix, q->t1));
    int64_t w = (int64_t)((double)(t1 - t0) / q->px);
    if (w < 1)
        w = 1;
    unsigned char *m = q->q[0] != '\0' ? vt_index_match_names(ix, q->q) : NULL;
    struct used u;
    used_init(&u, ix);
    /* A level is one flat array of its items' numbers, `stride` each: an
     * array per item cost the page an allocation each (12,000 in a wide
     * view) in JSON.parse and the garbage collector. */
    enum vt_err err =
        vt_buf_printf(out, "{\"t0\":%.3f,\"t1\":%.3f,\"stride\":%d,\"tracks\":[",
                      vt_index_rel_us(ix, t0), vt_index_rel_us(ix, t1), m != NULL ? 6 : 5);
    for (long i = 0; i < n && err == VT_OK; i++) {
        const struct vt_index_track *t = &ix->tracks[ix->order[which[i]]];
        err = vt_buf_printf(out, "%s{\"track\":%u,\"levels\":[", i ? "," : "", which[i]);
        for (uint32_t d = 0; d < t->ndepth && err == VT_OK; d++) {
            err = vt_buf_adds(out, d ? ",[" : "[");
            if (err == VT_OK)
                err = depth_slices(ix, t, d, t0, t1, w, m, &u, out);
            if (err == VT_OK)
                err = vt_buf_adds(out, "]");
        }
        if (err == VT_OK)
            err = vt_buf_adds(out, "]}");
    }
    if (err == VT_OK)
        err = vt_buf_adds(out, "]");
    enum vt_err e2 = used_write(&u, ix, out);
    if (err == VT_OK)
        err = e2;
    if (err == VT_OK)
        err = vt_buf_adds(out, "}");
    free(m);
    free(which);
    return err;
}

/* ---- instants and counters at a width ----------------------------------- */

enum vt_err
vt_index_q_marks(const struct vt_index *ix, const struct vt_index_query *q, struct vt_buf *out)
{
    int64_t t0 = vt_index_abs_ns(ix, q->t0),
            t1 = (q->t1 > 1e15 ? ix->max_ts + 1 : vt_index_abs_ns(ix, q->t1));
    int64_t w = (int64_t)((double)(t1 - t0) / q->px);
    if (w < 1)
        w = 1;
    struct used u;
    used_init(&u, ix);
    size_t lo = 0, hi = ix->ninstants;
    while (lo < hi) {
        size_t mid = lo + (hi - lo) / 2;
        if (ix->instants[mid].ts >= t0)
            hi = mid;
        else
            lo = mid + 1;
    }
    enum vt_err err = vt_buf_adds(out, "{\"instants\":[");
    int comma = 0;
    for (size_t k = lo; k < ix->ninstants && ix->instants[k].ts < t1 && err == VT_OK;) {
        /* one mark per bucket: the first, with how many it stands for */
        int64_t until = ix->instants[k].ts + w;
        size_t j = k + 1;
        while (j < ix->ninstants && ix->instants[j].ts < until && j - k < 4096)
            j++;
        if (j - k == 4096) {
            size_t a = j, b = ix->ninstants;
            while (a < b) {
                size_t mid = a + (b - a) / 2;
                if (ix->instants[mid].ts >= until)
                    b = mid;
                else
                    a = mid + 1;
            }
            j = a;
        }
        use(&u, ix->instants[k].name);
        err =
            vt_buf_printf(out, "%s[%.3f,%u,%zu,%zu]", comma ? "," : "",
                          vt_index_rel_us(ix, ix->instants[k].ts), ix->instants[k].name, k, j - k);
        comma = 1;
        k = j;
    }
    if (err == VT_OK)
        err = vt_buf_adds(out, "],\"counters\":[");
    for (size_t i = 0; i < ix->nseries && err == VT_OK; i++) {
        const struct vt_index_series *s = &ix->series[i];
        size_t a = 0, b = s->n;
        while (a < b) {
            size_t mid = a + (b - a) / 2;
            if (s->p[mid].ts >= t0)
                b = mid;
            else
                a = mid + 1;
        }
        err = vt_buf_printf(out, "%s[", i ? "," : "");
        /* the point before the range, then per bucket its min and max in
         * time order, then the first after: the graph looks the same */
        size_t k = a > 0 ? a - 1 : a;
        comma = 0;
        while (k < s->n && err == VT_OK) {
            int64_t bstart = s->p[k].ts;
            size_t j = k + 1, kmin = k, kmax = k;
            if (s->p[k].ts >= t0) {
                while (j < s->n && s->p[j].ts < bstart + w) {
                    if (s->p[j].v < s->p[kmin].v)
                        kmin = j;
                    if (s->p[j].v > s->p[kmax].v)
                        kmax = j;
                    j++;
                }
            }
            size_t first = kmin < kmax ? kmin : kmax, second = kmin < kmax ? kmax : kmin;
            err = vt_buf_printf(out, "%s[%.3f,%.17g]", comma ? "," : "",
                                vt_index_rel_us(ix, s->p[first].ts), s->p[first].v);
            if (err == VT_OK && second != first)
                err = vt_buf_printf(out, ",[%.3f,%.17g]", vt_index_rel_us(ix, s->p[second].ts),
                                    s->p[second].v);
            comma = 1;
            if (s->p[k].ts >= t1)
                break;
            k = j;
        }
        if (err == VT_OK)
            err = vt_buf_adds(out, "]");
    }
    if (err == VT_OK)
        err = vt_buf_adds(out, "]");
    enum vt_err e2 = used_write(&u, ix, out);
    if (err == VT_OK)
        err = e2;
    if (err == VT_OK)
        err = vt_buf_adds(out, "}");
    return err;
}
