/* index_split.c: the two halves of a large trace, merged.
 *
 * index.c reads a large plain .json with two threads (the machines we aim
 * at have two cores or more): the second starts at an event boundary found
 * near the middle and reads to the end of traceEvents into tables of its
 * own, while the first reads up to that boundary. When the first meets the
 * boundary exactly (so the guess was right: it was not inside a string),
 * the second's tables are appended here, as if one thread had read them
 * all; the finishing sort then gives the same index as one pass.
 */
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tracer/base/mem.h"
#include "index_build.h"
#include "src.h"

/* ---- the second half's thread ------------------------------------------ */

static void
half_free(struct vt_index__half *h)
{
    free(h->r.buf);
    vt_src_close(h->src);
    free(h->b.tslots);
    vt_index_free(h->b.ix);
    free(h);
}

static void *
half_main(void *arg)
{
    struct vt_index__half *h = arg;
    h->rc = vt_index__read_events(&h->b, &h->r, 1);
    h->end = h->r.base + h->r.pos;
    return NULL;
}

/* Plain files from this size on are read by two threads;
 * VIZVIEWER_INDEX_SPLIT_MB moves the line (0: any file, for tests). */
#define VT_INDEX_SPLIT_MIN ((uint64_t)64 << 20)

/* See index_build.h. */
void
vt_index__half_start(struct build *b, const char *path, uint64_t size)
{
    const char *env = getenv("VIZVIEWER_INDEX_SPLIT_MB");
    uint64_t min = env != NULL && *env != '\0' ? strtoull(env, NULL, 10) << 20 : VT_INDEX_SPLIT_MIN;
    if (size < min || size < 2)
        return;
    struct vt_index__half *h = vt_xcalloc(1, sizeof(*h));
    char msg[160];
    if (vt_src_open(path, &h->src, msg, sizeof(msg)) != VT_OK) {
        free(h);
        return;
    }
    /* a guess at an event's start: '{' after "}," (whitespace allowed), as
     * the writers put events; checked when the first half gets there */
    enum { PROBE = 1 << 20 };
    char *probe = vt_xmalloc(PROBE);
    long got = vt_src_pread(h->src, size / 2, probe, PROBE);
    long at = -1;
    for (long i = 0; i < got && at < 0; i++) {
        if (probe[i] != '}')
            continue;
        long k = i + 1;
        while (k < got &&
               (probe[k] == ' ' || probe[k] == '\n' || probe[k] == '\r' || probe[k] == '\t'))
            k++;
        if (k >= got || probe[k] != ',')
            continue;
        k++;
        while (k < got &&
               (probe[k] == ' ' || probe[k] == '\n' || probe[k] == '\r' || probe[k] == '\t'))
            k++;
        if (k < got && probe[k] == '{')
            at = k;
    }
    free(probe);
    h->at = size / 2 + (uint64_t)at;
    if (at < 0 || vt_src_seek(h->src, h->at) != 0) {
        vt_src_close(h->src);
        free(h);
        return;
    }
    h->b.ix = vt_xcalloc(1, sizeof(*h->b.ix));
    h->b.limit = b->limit;
    h->b.second = h;
    h->r = (struct rd){h->src, NULL, 0, vt_xmalloc(VT_INDEX_WINDOW), VT_INDEX_WINDOW, 0, 0,
                       h->at,  0,    0};
    if (pthread_create(&h->thread, NULL, half_main, h) != 0) {
        half_free(h);
        return;
    }
    b->half = h;
}

/* See index_build.h. */
int
vt_index__half_take(struct build *b, struct rd *r, int exact, uint64_t *events)
{
    struct vt_index__half *h = b->half;
    b->half = NULL;
    if (!exact) /* also r NULL: the first half is done */
        __atomic_store_n(&h->stop, 1, __ATOMIC_RELAXED);
    pthread_join(h->thread, NULL);
    int rc = 0;
    if (exact && h->rc == 0) {
        if (vt_index__merge(b, &h->b) != 0) {
            rc = -1;
        } else if (vt_src_seek(r->src, h->end) != 0) {
            snprintf(b->msg, sizeof(b->msg), "cannot read the trace (corrupt or cut short)");
            rc = -1;
        } else {
            *events = h->events; /* joined: its final count */
            r->base = h->end;
            r->pos = r->end = 0;
            r->eof = 0;
            rc = 1;
        }
    }
    half_free(h);
    return rc;
}

/* ---- the merge ---------------------------------------------------------- */

/* A pid or tid of h (an interned string is -id - 1) in a's names. */
static int64_t
id_map(int64_t id, const uint32_t *map, size_t nmap)
{
    if (id >= 0 || (uint64_t)(-(id + 1)) >= nmap)
        return id;
    return -(int64_t)map[-(id + 1)] - 1;
}

/* Makes room for n more elements in *p (*cap of them, used of them in use),
 * counted against a's limit. */
static int
reserve(struct build *a, void **p, size_t *cap, size_t used, size_t n, size_t sz)
{
    if (used + n <= *cap)
        return 0;
    return vt_index__resize(a, p, cap, used + n, sz);
}

/* One track of h into track t of a. */
static int
merge_track(struct build *a, size_t t, struct vt_index_track *ht, const uint32_t *map)
{
    struct vt_index_track *at = &a->ix->tracks[t];
    if (ht->thread_name != 0)
        at->thread_name = map[ht->thread_name]; /* the later name wins, as in one pass */
    /* h's first "E" events close a's open "B" events, innermost first */
    for (size_t k = 0; k < ht->nends && at->nopen > 0; k++) {
        struct vt_index_open o = at->open[--at->nopen];
        int64_t ts = ht->ends[k];
        if (o.ts > ts)
            o.ts = ts;
        if (vt_index__grow(a, (void **)&at->s, &at->cap, at->n, sizeof(*at->s)) != 0)
            return -1;
        struct vt_index_slice *s = &at->s[at->n++];
        s->start = o.ts;
        s->dur = ts - o.ts;
        s->off = o.off;
        s->name = o.name;
        s->depth = 0;
    }
    if (reserve(a, (void **)&at->s, &at->cap, at->n, ht->n, sizeof(*at->s)) != 0)
        return -1;
    for (size_t i = 0; i < ht->n; i++) {
        at->s[at->n] = ht->s[i];
        at->s[at->n++].name = map[ht->s[i].name];
    }
    free(ht->s);
    ht->s = NULL;
    ht->n = ht->cap = 0;
    if (reserve(a, (void **)&at->open, &at->open_cap, at->nopen, ht->nopen, sizeof(*at->open)) != 0)
        return -1;
    for (size_t i = 0; i < ht->nopen; i++) {
        at->open[at->nopen] = ht->open[i];
        at->open[at->nopen++].name = map[ht->open[i].name];
    }
    return 0;
}

static int
merge_series(struct build *a, const struct vt_index_series *hs, int64_t pid, const uint32_t *map)
{
    struct vt_index *ix = a->ix;
    uint32_t name = map[hs->name], key = map[hs->key];
    size_t i = ix->nseries;
    while (i > 0 && !(ix->series[i - 1].pid == pid && ix->series[i - 1].name == name &&
                      ix->series[i - 1].key == key))
        i--;
    if (i == 0) {
        if (ix->nseries >= VT_INDEX_MAX_SERIES)
            return 0; /* as one pass: points of more series are left out */
        if (vt_index__grow(a, (void **)&ix->series, &ix->series_cap, ix->nseries,
                           sizeof(*ix->series)) != 0)
            return -1;
        struct vt_index_series *s = &ix->series[ix->nseries++];
        memset(s, 0, sizeof(*s));
        s->pid = pid;
        s->name = name;
        s->key = key;
        i = ix->nseries;
    }
    struct vt_index_series *s = &ix->series[i - 1];
    if (reserve(a, (void **)&s->p, &s->cap, s->n, hs->n, sizeof(*s->p)) != 0)
        return -1;
    memcpy(s->p + s->n, hs->p, hs->n * sizeof(*s->p));
    s->n += hs->n;
    return 0;
}

int
vt_index__merge(struct build *a, struct build *h)
{
    struct vt_index *hi = h->ix;
    size_t nmap = hi->names.n ? hi->names.n : 1;
    uint32_t *map = vt_xmalloc(nmap * sizeof(*map));    /* owned: h's name ids -> a's */
    uint32_t *tmap = vt_xmalloc((hi->ntracks + 1) * 4); /* owned: h's tracks -> a's */
    int rc = -1;
    map[0] = 0;
    for (size_t i = 1; i < hi->names.n; i++)
        map[i] = vt_index__intern(a->ix, hi->names.arena + hi->names.at[i], hi->names.len[i]);
    for (size_t i = 0; i < hi->ntracks; i++) {
        struct vt_index_track *ht = &hi->tracks[i];
        long t = vt_index__track_of(a, id_map(ht->pid, map, nmap), id_map(ht->tid, map, nmap));
        if (t < 0 || merge_track(a, (size_t)t, ht, map) != 0)
            goto out;
        tmap[i] = (uint32_t)t;
    }
    struct vt_index *ix = a->ix;
    if (reserve(a, (void **)&ix->instants, &ix->instants_cap, ix->ninstants, hi->ninstants,
                sizeof(*ix->instants)) != 0)
        goto out;
    for (size_t i = 0; i < hi->ninstants; i++) {
        struct vt_index_instant in = hi->instants[i];
        in.name = map[in.name];
        in.track = tmap[in.track];
        ix->instants[ix->ninstants++] = in;
    }
    for (size_t i = 0; i < hi->nseries; i++) {
        if (merge_series(a, &hi->series[i], id_map(hi->series[i].pid, map, nmap), map) != 0)
            goto out;
    }
    for (size_t i = 0; i < hi->nproc; i++) {
        if (vt_index__set_proc_name(a, id_map(hi->proc_pid[i], map, nmap), map[hi->proc_name[i]]) !=
            0)
            goto out;
    }
    if (h->have_ts) {
        vt_index__saw_time(a, hi->min_ts, 0);
        vt_index__saw_time(a, hi->max_ts, 0);
    }
    rc = 0;
out:
    free(tmap);
    free(map);
    return rc;
}
