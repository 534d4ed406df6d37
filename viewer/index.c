/* index.c: one streaming pass over a trace into the tables of index.h.
 *
 * The text goes through a window (4 MiB, grown only for one value larger
 * than that, such as a big file_info): the top-level object's members are
 * skipped with vt_jscan_value, except traceEvents, whose events are checked
 * and read one at a time with jscan (no cJSON tree, nothing kept of their
 * text but the offset). Then each thread's slices are sorted by start and
 * nested by a stack as model.js nests them in the browser, and grouped by
 * depth so that a query finds the slices of a time range by binary search.
 */
#include "index_build.h"

#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tracer/base/mem.h"
#include "../tracer/format/format.h"
#include "src.h"

#define VT_INDEX_MAX_EVENT ((size_t)256 << 20) /* one event: larger is refused */
#define VT_INDEX_MAX_MEMBER ((size_t)1 << 30)  /* one other top-level member */

/* ---- the window ---------------------------------------------------------- */

/* Reads more text, keeping [pos, end); grows the window when it is full and
 * the value being read is not larger than max. Returns 0 when bytes came,
 * 1 at the end, -1 on error. */
static int
refill(struct rd *r, size_t max)
{
    if (r->src == NULL) {
        r->eof = 1;
        return 1;
    }
    if (r->pos > 0) {
        memmove(r->buf, r->buf + r->pos, r->end - r->pos);
        r->base += r->pos;
        r->end -= r->pos;
        r->pos = 0;
    }
    if (r->end == r->cap) {
        if (r->cap >= max) {
            r->fail = 1;
            return -1;
        }
        r->cap *= 2;
        r->buf = vt_xrealloc(r->buf, r->cap);
    }
    long n = vt_src_read(r->src, r->buf + r->end, r->cap - r->end);
    if (n < 0) {
        r->fail = 1;
        return -1;
    }
    if (n == 0) {
        r->eof = 1;
        return 1;
    }
    r->end += (size_t)n;
    return 0;
}

/* Skips whitespace; returns the next byte or -1 at the end or on error. */
static int
peek(struct rd *r)
{
    for (;;) {
        while (r->pos < r->end && (r->buf[r->pos] == ' ' || r->buf[r->pos] == '\n' ||
                                   r->buf[r->pos] == '\r' || r->buf[r->pos] == '\t'))
            r->pos++;
        if (r->pos < r->end)
            return (unsigned char)r->buf[r->pos];
        if (r->eof || refill(r, VT_INDEX_MAX_EVENT) != 0)
            return -1;
    }
}

/* Makes sure the whole value at pos is in the window; returns its end
 * (index into buf) or -1 when it is malformed, truncated or too large. */
static long
value_end(struct rd *r, size_t max)
{
    for (;;) {
        const char *p = r->buf + r->pos;
        const char *e = r->buf + r->end;
        if (vt_jscan_value(&p, e) == 0 && (p < e || r->eof))
            return (long)(p - r->buf);
        if (r->eof || refill(r, max) < 0)
            return -1;
    }
}

uint64_t
vt_index__hash(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ull;
    for (size_t i = 0; i < n; i++)
        h = (h ^ (unsigned char)s[i]) * 1099511628211ull;
    return h;
}

/* ---- memory accounting -------------------------------------------------- */

/* Grows *p (of *cap elements of size sz) to hold one more than n; counts the
 * bytes against the limit. Returns -1 past it. */
int
vt_index__grow(struct build *b, void **p, size_t *cap, size_t n, size_t sz)
{
    if (n < *cap)
        return 0;
    return vt_index__resize(b, p, cap, *cap ? 2 * *cap : 16, sz);
}

int
vt_index__resize(struct build *b, void **p, size_t *cap, size_t nc, size_t sz)
{
    b->ix->mem += (nc - *cap) * sz;
    if (b->limit != 0 && b->ix->mem > b->limit) {
        snprintf(b->msg, sizeof(b->msg),
                 "the index needs more than the %zu MB allowed (VIZVIEWER_INDEX_LIMIT_MB)",
                 b->limit >> 20);
        return -1;
    }
    *p = vt_xrealloc(*p, nc * sz);
    *cap = nc;
    return 0;
}

/* ---- events ------------------------------------------------------------- */

/* A plain decimal "-?[0-9]+(.[0-9]+)?" of at most 18 digits at v[0..n):
 * *mant and *frac (digits after the point). Returns 0 for anything else
 * (exponents, longer numbers), which then goes through strtod. */
static int
decimal(const char *v, size_t n, int64_t *mant, int *frac)
{
    size_t i = 0;
    int neg = 0, digits = 0, f = -1;
    int64_t m = 0;
    if (i < n && v[i] == '-') {
        neg = 1;
        i++;
    }
    for (; i < n; i++) {
        char c = v[i];
        if (c >= '0' && c <= '9') {
            if (++digits > 18)
                return 0;
            m = m * 10 + (c - '0');
            if (f >= 0)
                f++;
        } else if (c == '.' && f < 0 && digits > 0) {
            f = 0;
        } else {
            return 0;
        }
    }
    if (digits == 0 || f == 0)
        return 0;
    *mant = neg ? -m : m;
    *frac = f < 0 ? 0 : f;
    return 1;
}

static const double pow10_tab[] = {1e0,  1e1,  1e2,  1e3,  1e4,  1e5,  1e6,  1e7,  1e8, 1e9,
                                   1e10, 1e11, 1e12, 1e13, 1e14, 1e15, 1e16, 1e17, 1e18};

/* A JSON number at v[0..n) as a double; 0 when it is not a finite number. */
static int
number(const char *v, size_t n, double *out)
{
    int64_t m;
    int f;
    if (decimal(v, n, &m, &f)) {
        *out = (double)m / pow10_tab[f];
        return 1;
    }
    char tmp[64];
    if (n == 0 || n >= sizeof(tmp) || !(v[0] == '-' || (v[0] >= '0' && v[0] <= '9')))
        return 0;
    memcpy(tmp, v, n);
    tmp[n] = '\0';
    char *end;
    double d = strtod(tmp, &end);
    if (*end != '\0' || !isfinite(d))
        return 0;
    *out = d;
    return 1;
}

/* A time in µs at v[0..n) -> ns, exactly for up to three decimals (what
 * writers print), rounded otherwise; 0 when not a number or out of range. */
static int
time_ns(const char *v, size_t n, int64_t *out)
{
    int64_t m;
    int f;
    if (decimal(v, n, &m, &f)) {
        if (f <= 3 && m < 9000000000000000LL && m > -9000000000000000LL) {
            static const int64_t up[] = {1000, 100, 10, 1};
            *out = m * up[f];
            return 1;
        }
    }
    double us;
    if (!number(v, n, &us))
        return 0;
    double ns = us * 1000.0;
    if (!(ns > -9.0e17 && ns < 9.0e17))
        return 0;
    *out = llround(ns);
    return 1;
}

static size_t
track_hash(int64_t pid, int64_t tid)
{
    uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ull ^ (uint64_t)tid * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

/* The track of (pid, tid), made when new; returns its index or -1. */
long
vt_index__track_of(struct build *b, int64_t pid, int64_t tid)
{
    struct vt_index *ix = b->ix;
    if (b->last_track < ix->ntracks && ix->tracks[b->last_track].pid == pid &&
        ix->tracks[b->last_track].tid == tid)
        return (long)b->last_track;
    if (2 * (ix->ntracks + 1) > b->ntslots) {
        size_t ns = b->ntslots ? 2 * b->ntslots : 64;
        uint32_t *slots = vt_xcalloc(ns, sizeof(*slots));
        for (size_t i = 0; i < ix->ntracks; i++) {
            size_t j = track_hash(ix->tracks[i].pid, ix->tracks[i].tid) & (ns - 1);
            while (slots[j] != 0)
                j = (j + 1) & (ns - 1);
            slots[j] = (uint32_t)i + 1;
        }
        free(b->tslots);
        b->tslots = slots;
        b->ntslots = ns;
    }
    size_t j = track_hash(pid, tid) & (b->ntslots - 1);
    while (b->tslots[j] != 0) {
        size_t t = b->tslots[j] - 1;
        if (ix->tracks[t].pid == pid && ix->tracks[t].tid == tid) {
            b->last_track = t;
            return (long)t;
        }
        j = (j + 1) & (b->ntslots - 1);
    }
    if (ix->ntracks >= VT_INDEX_MAX_TRACKS) {
        snprintf(b->msg, sizeof(b->msg), "more than %d threads", VT_INDEX_MAX_TRACKS);
        return -1;
    }
    if (vt_index__grow(b, (void **)&ix->tracks, &ix->tracks_cap, ix->ntracks,
                       sizeof(*ix->tracks)) != 0)
        return -1;
    struct vt_index_track *t = &ix->tracks[ix->ntracks];
    memset(t, 0, sizeof(*t));
    t->pid = pid;
    t->tid = tid;
    b->tslots[j] = (uint32_t)ix->ntracks + 1;
    b->last_track = ix->ntracks;
    return (long)ix->ntracks++;
}

void
vt_index__saw_time(struct build *b, int64_t ts, int64_t dur)
{
    int64_t end = ts + (dur > 0 ? dur : 0);
    if (!b->have_ts) {
        b->ix->min_ts = ts;
        b->ix->max_ts = end;
        b->have_ts = 1;
        return;
    }
    if (ts < b->ix->min_ts)
        b->ix->min_ts = ts;
    if (end > b->ix->max_ts)
        b->ix->max_ts = end;
}

/* Steps through a checked object's members; *p starts after '{'. Returns 1
 * with *m filled, 0 at the end. */
static int
next_member(const char **p, const char *end, struct vt_index__member *m)
{
    const char *s = *p;
    memset(m, 0, sizeof(*m));
    vt_jscan_ws(&s, end);
    if (s < end && *s == ',') {
        s++;
        vt_jscan_ws(&s, end);
    }
    if (s >= end || *s != '"')
        return 0;
    m->k = s;
    if (vt_jscan_string(&s, end) != 0)
        return 0;
    m->klen = (size_t)(s - m->k);
    vt_jscan_ws(&s, end);
    s++; /* ':' */
    vt_jscan_ws(&s, end);
    m->v = s;
    if (vt_jscan_value(&s, end) != 0)
        return 0;
    m->vlen = (size_t)(s - m->v);
    *p = s;
    return 1;
}

static int
key_is(const struct vt_index__member *m, const char *key)
{
    size_t n = strlen(key);
    return m->klen == n + 2 && memcmp(m->k + 1, key, n) == 0;
}

/* A counter event's args: one point per numeric member. */
static int
add_counter(struct build *b, int64_t pid, uint32_t name, int64_t ts, const char *args, size_t alen)
{
    struct vt_index *ix = b->ix;
    const char *p = args + 1, *end = args + alen;
    struct vt_index__member m = {0};
    while (next_member(&p, end, &m)) {
        double v;
        if (!number(m.v, m.vlen, &v))
            continue;
        uint32_t key = vt_index__intern(ix, m.k, m.klen);
        size_t i = ix->nseries;
        while (i > 0 && !(ix->series[i - 1].pid == pid && ix->series[i - 1].name == name &&
                          ix->series[i - 1].key == key))
            i--;
        if (i == 0) {
            if (ix->nseries >= VT_INDEX_MAX_SERIES)
                continue;
            if (vt_index__grow(b, (void **)&ix->series, &ix->series_cap, ix->nseries,
                               sizeof(*ix->series)))
                return -1;
            struct vt_index_series *s = &ix->series[ix->nseries++];
            memset(s, 0, sizeof(*s));
            s->pid = pid;
            s->name = name;
            s->key = key;
            i = ix->nseries;
        }
        struct vt_index_series *s = &ix->series[i - 1];
        if (vt_index__grow(b, (void **)&s->p, &s->cap, s->n, sizeof(*s->p)) != 0)
            return -1;
        s->p[s->n].ts = ts;
        s->p[s->n].v = v;
        s->n++;
    }
    return 0;
}

int
vt_index__set_proc_name(struct build *b, int64_t pid, uint32_t name)
{
    struct vt_index *ix = b->ix;
    for (size_t i = 0; i < ix->nproc; i++) {
        if (ix->proc_pid[i] == pid) {
            ix->proc_name[i] = name;
            return 0;
        }
    }
    size_t cap = ix->proc_cap;
    if (vt_index__grow(b, (void **)&ix->proc_pid, &cap, ix->nproc, sizeof(*ix->proc_pid)) != 0)
        return -1;
    if (cap != ix->proc_cap)
        ix->proc_name = vt_xrealloc(ix->proc_name, cap * sizeof(*ix->proc_name));
    ix->proc_cap = cap;
    ix->proc_pid[ix->nproc] = pid;
    ix->proc_name[ix->nproc++] = name;
    return 0;
}

/* A metadata event: process and thread names. */
static int
add_meta(struct build *b, int64_t pid, int64_t tid, const struct vt_index__member *name,
         const struct vt_index__member *args)
{
    struct vt_index *ix = b->ix;
    int thread = name->vlen == 13 && memcmp(name->v, "\"thread_name\"", 13) == 0;
    int proc = name->vlen == 14 && memcmp(name->v, "\"process_name\"", 14) == 0;
    if ((!thread && !proc) || args->v == NULL || args->v[0] != '{')
        return 0;
    const char *p = args->v + 1, *end = args->v + args->vlen;
    struct vt_index__member m = {0};
    while (next_member(&p, end, &m)) {
        if (!key_is(&m, "name") || m.v[0] != '"')
            continue;
        uint32_t id = vt_index__intern(ix, m.v, m.vlen);
        if (thread) {
            long t = vt_index__track_of(b, pid, tid);
            if (t < 0)
                return -1;
            ix->tracks[t].thread_name = id;
            return 0;
        }
        return vt_index__set_proc_name(b, pid, id);
    }
    return 0;
}

/* pid or tid: a number, or an interned string mapped below zero. */
static int64_t
id_of(struct build *b, const struct vt_index__member *m)
{
    double d;
    if (m->v == NULL)
        return 0;
    if (m->v[0] == '"')
        return -(int64_t)vt_index__intern(b->ix, m->v, m->vlen) - 1;
    int64_t i;
    int f;
    if (decimal(m->v, m->vlen, &i, &f) && f == 0)
        return i;
    return number(m->v, m->vlen, &d) && d > -9e18 && d < 9e18 ? (int64_t)d : 0;
}

/* One event, scanned into f, at text offset off. */
static int
add_event(struct build *b, struct vt_index__fields *f, uint64_t off)
{
    struct vt_index *ix = b->ix;
    struct vt_index__member ph = f->ph, name = f->name, args = f->args;
    if (ph.v == NULL || ph.vlen < 3 || ph.v[0] != '"')
        return 0;
    char kind = ph.v[1];
    /* the numbers the fast scan already read, else from their text */
    int64_t p_id = f->have & VT_INDEX__HAVE_PID ? f->pid_n : id_of(b, &f->pid);
    int64_t t_id = f->have & VT_INDEX__HAVE_TID ? f->tid_n : id_of(b, &f->tid);
    uint32_t nm = name.v != NULL && name.v[0] == '"' ? vt_index__intern(ix, name.v, name.vlen) : 0;
    if (kind == 'M')
        return add_meta(b, p_id, t_id, &name, &args);
    int64_t t_ns, d_ns = 0;
    if (f->have & VT_INDEX__HAVE_TS)
        t_ns = f->ts_ns;
    else if (f->ts.v == NULL || !time_ns(f->ts.v, f->ts.vlen, &t_ns))
        return 0;
    if (f->have & VT_INDEX__HAVE_DUR)
        d_ns = f->dur_ns;
    else if (f->dur.v != NULL && !time_ns(f->dur.v, f->dur.vlen, &d_ns))
        d_ns = 0;
    if (d_ns < 0)
        d_ns = 0;
    vt_index__saw_time(b, t_ns, d_ns);
    if (kind == 'X' || kind == 'B' || kind == 'E') {
        long t = vt_index__track_of(b, p_id, t_id);
        if (t < 0)
            return -1;
        struct vt_index_track *tr = &ix->tracks[t];
        if (kind == 'B') {
            if (vt_index__grow(b, (void **)&tr->open, &tr->open_cap, tr->nopen,
                               sizeof(*tr->open)) != 0)
                return -1;
            tr->open[tr->nopen].ts = t_ns;
            tr->open[tr->nopen].off = off;
            tr->open[tr->nopen++].name = nm;
            return 0;
        }
        if (kind == 'E') {
            if (tr->nopen == 0 && b->second) {
                /* matched, when merged, with the first half's open "B" */
                if (vt_index__grow(b, (void **)&tr->ends, &tr->ends_cap, tr->nends,
                                   sizeof(*tr->ends)) != 0)
                    return -1;
                tr->ends[tr->nends++] = t_ns;
                return 0;
            }
            if (tr->nopen == 0)
                return 0;
            struct vt_index_open o = tr->open[--tr->nopen];
            o.ts = o.ts < t_ns ? o.ts : t_ns;
            d_ns = t_ns - o.ts;
            t_ns = o.ts;
            off = o.off;
            nm = o.name;
        }
        if (vt_index__grow(b, (void **)&tr->s, &tr->cap, tr->n, sizeof(*tr->s)) != 0)
            return -1;
        struct vt_index_slice *s = &tr->s[tr->n++];
        s->start = t_ns;
        s->dur = d_ns;
        s->off = off;
        s->name = nm;
        s->depth = 0;
        return 0;
    }
    if (kind == 'i' || kind == 'I' || kind == 'R') {
        long t = vt_index__track_of(b, p_id, t_id);
        if (t < 0 || vt_index__grow(b, (void **)&ix->instants, &ix->instants_cap, ix->ninstants,
                                    sizeof(*ix->instants)) != 0)
            return -1;
        struct vt_index_instant *in = &ix->instants[ix->ninstants++];
        in->ts = t_ns;
        in->off = off;
        in->name = nm;
        in->track = (uint32_t)t;
        return 0;
    }
    if (kind == 'C' && args.v != NULL && args.v[0] == '{')
        return add_counter(b, p_id, nm, t_ns, args.v, args.vlen);
    return 0;
}

/* ---- the document ------------------------------------------------------- */

static void
progress(struct build *b, struct rd *r, uint64_t events)
{
    struct vt_index__half *h = b->second;
    if (h != NULL) {
        __atomic_store_n(&h->events, events, __ATOMIC_RELAXED);
        __atomic_store_n(&h->done, r->base + r->pos - h->at, __ATOMIC_RELAXED);
        return;
    }
    if (b->pg == NULL)
        return;
    uint64_t he = 0, hd = 0;
    if (b->half != NULL) {
        he = __atomic_load_n(&b->half->events, __ATOMIC_RELAXED);
        hd = __atomic_load_n(&b->half->done, __ATOMIC_RELAXED);
    }
    b->pg->done = r->base + r->pos + hd;
    b->pg->events = events + he;
    if (r->src != NULL)
        b->pg->in = vt_src_consumed(r->src) + hd;
}

/* The events of an array; r->pos at '[', or with inside at its first
 * event (a second half). */
int
vt_index__read_events(struct build *b, struct rd *r, int inside)
{
    uint64_t count = 0;
    int c;
    if (!inside) {
        r->pos++;
        c = peek(r);
        if (c == ']') {
            r->pos++;
            return 0;
        }
    } else {
        c = peek(r);
    }
    for (;;) {
        if (c < 0)
            goto bad;
        if (b->half != NULL && r->base + r->pos >= b->half->at) {
            uint64_t he = 0;
            int rc = vt_index__half_take(b, r, r->base + r->pos == b->half->at, &he);
            if (rc < 0)
                return -1;
            if (rc > 0) {
                if (b->pg != NULL)
                    b->pg->events = count + he;
                return 0;
            }
        }
        if (c != '{') {
            long e = value_end(r, VT_INDEX_MAX_EVENT); /* not an event: skipped */
            if (e < 0)
                goto bad;
            r->pos = (size_t)e;
        } else {
            struct vt_index__fields f;
            size_t n;
            while ((n = vt_index__scan_event(r->buf + r->pos, r->buf + r->end, &f)) == 0) {
                if (r->eof || refill(r, VT_INDEX_MAX_EVENT) < 0)
                    goto bad;
            }
            if (add_event(b, &f, r->base + r->pos) != 0)
                return -1;
            r->pos += n;
        }
        if ((++count & 0xffff) == 0) {
            progress(b, r, count);
            if (b->second != NULL && __atomic_load_n(&b->second->stop, __ATOMIC_RELAXED))
                return -1;
        }
        c = peek(r);
        if (c == ',') {
            r->pos++;
            c = peek(r);
            continue;
        }
        if (c == ']') {
            r->pos++;
            if (b->half != NULL) /* its boundary was not between events: its count is not ours */
                vt_index__half_take(b, NULL, 0, NULL);
            progress(b, r, count);
            return 0;
        }
        goto bad;
    }
bad:
    snprintf(b->msg, sizeof(b->msg), "malformed traceEvents near byte %llu",
             (unsigned long long)r->base + r->pos);
    return -1;
}

/* The whole document: an object with traceEvents, or a bare array. */
static int
read_doc(struct build *b, struct rd *r)
{
    int c = peek(r);
    if (c == '[')
        return vt_index__read_events(b, r, 0);
    if (c != '{') {
        snprintf(b->msg, sizeof(b->msg), "not a trace: it does not start with '{' or '['");
        return -1;
    }
    r->pos++;
    int seen = 0;
    for (;;) {
        c = peek(r);
        if (c == '}' && !seen)
            break;
        if (seen) {
            if (c == '}')
                break;
            if (c != ',')
                goto bad;
            r->pos++;
            c = peek(r);
        }
        long e = c == '"' ? value_end(r, VT_INDEX_MAX_EVENT) : -1;
        if (e < 0)
            goto bad;
        size_t klen = (size_t)e - r->pos;
        char key[24] = "";
        if (klen < sizeof(key)) {
            memcpy(key, r->buf + r->pos, klen);
            key[klen] = '\0';
        }
        r->pos = (size_t)e;
        if (peek(r) != ':')
            goto bad;
        r->pos++;
        c = peek(r);
        if (c < 0)
            goto bad;
        seen = 1;
        if (strcmp(key, "\"traceEvents\"") == 0 && c == '[') {
            if (vt_index__read_events(b, r, 0) != 0)
                return -1;
            continue;
        }
        uint64_t at = r->base + r->pos;
        e = value_end(r, VT_INDEX_MAX_MEMBER);
        if (e < 0)
            goto bad;
        uint64_t len = r->base + (uint64_t)e - at;
        if (strcmp(key, "\"viztracer_metadata\"") == 0 && b->ix->meta_len == 0) {
            b->ix->meta_off = at;
            b->ix->meta_len = len;
        } else if (strcmp(key, "\"file_info\"") == 0 && b->ix->info_len == 0) {
            b->ix->info_off = at;
            b->ix->info_len = len;
        }
        r->pos = (size_t)e;
    }
    r->pos++;
    if (peek(r) >= 0 || r->fail)
        goto bad; /* text after the document */
    return 0;
bad:
    if (r->fail && b->msg[0] == '\0')
        snprintf(b->msg, sizeof(b->msg), "cannot read the trace (corrupt or cut short)");
    else if (b->msg[0] == '\0')
        snprintf(b->msg, sizeof(b->msg), "malformed JSON near byte %llu",
                 (unsigned long long)r->base + r->pos);
    return -1;
}

/* ---- entry points ------------------------------------------------------- */

static enum vt_err
run(struct build *b, struct rd *r, struct vt_index **out, char *msg, size_t msglen)
{
    int rc = read_doc(b, r);
    if (b->half != NULL) {
        /* traceEvents ended (or the text failed) before the boundary */
        __atomic_store_n(&b->half->stop, 1, __ATOMIC_RELAXED);
        vt_index__half_take(b, NULL, 0, NULL);
    }
    if (rc == 0)
        rc = vt_index__finish(b->ix, b->limit, b->msg, sizeof(b->msg));
    if (rc == 0 && b->ix->names.n == 0)
        vt_index__intern(b->ix, "\"\"", 2);
    free(b->tslots);
    if (r->src != NULL)
        free(r->buf);
    if (rc != 0) {
        snprintf(msg, msglen, "%s", b->msg);
        vt_index_free(b->ix);
        return strstr(b->msg, "allowed") != NULL ? VT_ERR_TOOBIG : VT_ERR_FORMAT;
    }
    *out = b->ix;
    return VT_OK;
}

enum vt_err
vt_index_build(const char *path, size_t mem_limit, struct vt_index_progress *pg,
               struct vt_index **out, char *msg, size_t msglen)
{
    *out = NULL;
    struct vt_index_src *src;
    enum vt_err err = vt_src_open(path, &src, msg, msglen);
    if (err != VT_OK)
        return err;
    struct build b;
    memset(&b, 0, sizeof(b));
    b.ix = vt_xcalloc(1, sizeof(*b.ix));
    b.ix->src = src;
    b.limit = mem_limit;
    b.pg = pg;
    if (pg != NULL)
        pg->total = vt_src_file_size(src);
    struct rd r = {src, NULL, 0, vt_xmalloc(VT_INDEX_WINDOW), VT_INDEX_WINDOW, 0, 0, 0, 0, 0};
    if (vt_src_is_plain(src))
        vt_index__half_start(&b, path, vt_src_file_size(src));
    err = run(&b, &r, out, msg, msglen);
    if (err == VT_OK) {
        (*out)->text_len = r.base + r.end;
        if (pg != NULL)
            pg->in = vt_src_consumed(src); /* the end, also after a merge */
        vt_src_done(src);
        (*out)->mem += vt_src_mem(src);
    }
    return err;
}

enum vt_err
vt_index_build_mem(const char *text, size_t len, size_t mem_limit, struct vt_index **out, char *msg,
                   size_t msglen)
{
    *out = NULL;
    struct build b;
    memset(&b, 0, sizeof(b));
    b.ix = vt_xcalloc(1, sizeof(*b.ix));
    b.limit = mem_limit;
    struct rd r = {NULL, text, len, (char *)(uintptr_t)text, len, 0, len, 0, 1, 0};
    enum vt_err err = run(&b, &r, out, msg, msglen);
    if (err == VT_OK)
        (*out)->text_len = len;
    return err;
}
