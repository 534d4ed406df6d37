/* index_tables.c: the tables of an index besides the reading (index.c):
 * the interned names, reading an event back, freeing, and the second half
 * of a build:
 * each thread's slices sorted by start, nested by a stack as model.js nests
 * them in the browser, and grouped by depth, so that a query finds the
 * slices of a time range at one depth by binary search; the tracks put in
 * the order the page shows them, instants and counter points by time.
 */
#include "index.h"

#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tracer/base/mem.h"
#include "../tracer/format/format.h"
#include "src.h"

#define VT_INDEX_MAX_EVENT ((size_t)256 << 20) /* as index.c */

/* ---- finishing ---------------------------------------------------------- */

/* start ascending, then the longer first (the parent before its child), then file order */
static inline int
before(const struct vt_index_slice *x, const struct vt_index_slice *y)
{
    if (x->start != y->start)
        return x->start < y->start;
    if (x->dur != y->dur)
        return x->dur > y->dur;
    return x->off < y->off;
}

static void
swap_slices(struct vt_index_slice *a, struct vt_index_slice *b)
{
    struct vt_index_slice t = *a;
    *a = *b;
    *b = t;
}

/* Sorts s[0..n) in place by before(): quicksort on an explicit stack (the
 * smaller side first, so 64 levels are enough), median of three, insertion
 * sort below 24. glibc's qsort would take a copy of the whole array (a
 * merge sort) and call a comparison through a pointer for each step. */
static void
sort_slices(struct vt_index_slice *s, size_t n)
{
    size_t lo_st[64], hi_st[64];
    int sp = 0;
    size_t lo = 0, hi = n;
    for (;;) {
        while (hi - lo > 24) {
            size_t mid = lo + (hi - lo) / 2;
            if (before(&s[mid], &s[lo]))
                swap_slices(&s[mid], &s[lo]);
            if (before(&s[hi - 1], &s[lo]))
                swap_slices(&s[hi - 1], &s[lo]);
            if (before(&s[hi - 1], &s[mid]))
                swap_slices(&s[hi - 1], &s[mid]);
            struct vt_index_slice pivot = s[mid];
            size_t i = lo, j = hi - 1;
            for (;;) {
                while (before(&s[i], &pivot))
                    i++;
                while (before(&pivot, &s[j]))
                    j--;
                if (i >= j)
                    break;
                swap_slices(&s[i], &s[j]);
                i++;
                j--;
            }
            /* [lo, j] <= pivot <= [j + 1, hi) */
            size_t left = j + 1 - lo, right = hi - (j + 1);
            if (left < right) {
                lo_st[sp] = j + 1;
                hi_st[sp++] = hi;
                hi = j + 1;
            } else {
                lo_st[sp] = lo;
                hi_st[sp++] = j + 1;
                lo = j + 1;
            }
        }
        for (size_t i = lo + 1; i < hi; i++) {
            struct vt_index_slice x = s[i];
            size_t j = i;
            while (j > lo && before(&x, &s[j - 1])) {
                s[j] = s[j - 1];
                j--;
            }
            s[j] = x;
        }
        if (sp == 0)
            break;
        sp--;
        lo = lo_st[sp];
        hi = hi_st[sp];
    }
}

/* The part of a build that finishing needs. */
struct build {
    struct vt_index *ix;
    size_t limit;
    char *msg;
    size_t msglen;
    int wrote; /* atomic: 1 once msg is written */
};

static int
over_limit(struct build *b)
{
    if (b->limit == 0 || __atomic_load_n(&b->ix->mem, __ATOMIC_RELAXED) <= b->limit)
        return 0;
    if (__atomic_exchange_n(&b->wrote, 1, __ATOMIC_ACQ_REL) != 0)
        return 1; /* the other worker said it */
    snprintf(b->msg, b->msglen,
             "the index needs more than the %zu MB allowed (VIZVIEWER_INDEX_LIMIT_MB)",
             b->limit >> 20);
    return 1;
}

/* Sorts, nests and groups one track's slices by depth. */
static int
finish_track(struct build *b, struct vt_index_track *t)
{
    /* an unfinished "B" lasts to the end of the trace, as in model.js */
    for (size_t i = t->nopen; i-- > 0;) {
        if (t->n == t->cap) {
            size_t nc = t->cap ? 2 * t->cap : 16;
            __atomic_add_fetch(&b->ix->mem, (nc - t->cap) * sizeof(*t->s), __ATOMIC_RELAXED);
            if (over_limit(b))
                return -1;
            t->s = vt_xrealloc(t->s, nc * sizeof(*t->s));
            t->cap = nc;
        }
        struct vt_index_slice *s = &t->s[t->n++];
        s->start = t->open[i].ts;
        s->dur = b->ix->max_ts - t->open[i].ts;
        s->off = t->open[i].off;
        s->name = t->open[i].name;
        s->depth = 0;
    }
    free(t->open);
    t->open = NULL;
    t->nopen = t->open_cap = 0;
    if (t->n > 0 && t->n < t->cap) {
        /* doubling left up to half unused: give it back */
        __atomic_sub_fetch(&b->ix->mem, (t->cap - t->n) * sizeof(*t->s), __ATOMIC_RELAXED);
        t->s = vt_xrealloc(t->s, t->n * sizeof(*t->s));
        t->cap = t->n;
    }
    if (t->n > 1)
        sort_slices(t->s, t->n);
    int64_t *ends = NULL; /* owned: the stack of open slices' ends */
    size_t sp = 0, ends_cap = 0;
    size_t *count = NULL, count_cap = 0;
    uint32_t ndepth = 0;
    for (size_t i = 0; i < t->n; i++) {
        struct vt_index_slice *s = &t->s[i];
        while (sp > 0 && s->start >= ends[sp - 1])
            sp--;
        if (sp == ends_cap) {
            ends_cap = ends_cap ? 2 * ends_cap : 64;
            ends = vt_xrealloc(ends, ends_cap * sizeof(*ends));
        }
        s->depth = (uint32_t)sp;
        ends[sp++] = s->start + s->dur;
        if (s->depth + 1 > ndepth) {
            ndepth = s->depth + 1;
            if (ndepth > count_cap) {
                size_t old = count_cap;
                count_cap = (size_t)2 * ndepth;
                count = vt_xrealloc(count, count_cap * sizeof(*count));
                memset(count + old, 0, (count_cap - old) * sizeof(*count));
            }
        }
        count[s->depth]++;
    }
    free(ends);
    __atomic_add_fetch(&b->ix->mem, t->n * sizeof(*t->by_depth) + (ndepth + 1) * sizeof(*t->level),
                       __ATOMIC_RELAXED);
    if (over_limit(b)) {
        free(count);
        return -1;
    }
    t->ndepth = ndepth;
    t->level = vt_xmalloc((ndepth + 1) * sizeof(*t->level));
    t->by_depth = vt_xmalloc((t->n ? t->n : 1) * sizeof(*t->by_depth));
    size_t at = 0;
    for (uint32_t d = 0; d < ndepth; d++) {
        t->level[d] = at;
        at += count[d];
    }
    t->level[ndepth] = at;
    size_t *next = vt_xmalloc((ndepth ? ndepth : 1) * sizeof(*next));
    memcpy(next, t->level, ndepth * sizeof(*next));
    for (size_t i = 0; i < t->n; i++)
        t->by_depth[next[t->s[i].depth]++] = (uint32_t)i;
    free(next);
    free(count);
    __atomic_add_fetch(&b->ix->nslices, (uint64_t)t->n, __ATOMIC_RELAXED);
    return 0;
}

static const struct vt_index *sort_ix; /* qsort has no context argument */

static int
cmp_track(const void *a, const void *b)
{
    const struct vt_index_track *x = &sort_ix->tracks[*(const uint32_t *)a];
    const struct vt_index_track *y = &sort_ix->tracks[*(const uint32_t *)b];
    if (x->pid != y->pid)
        return x->pid < y->pid ? -1 : 1;
    int xm = x->tid == x->pid, ym = y->tid == y->pid;
    if (xm != ym)
        return xm ? -1 : 1;
    return x->tid < y->tid ? -1 : x->tid > y->tid;
}

static int
cmp_instant(const void *a, const void *b)
{
    const struct vt_index_instant *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts ? 1 : (x->off < y->off ? -1 : x->off > y->off);
}

static int
cmp_point(const void *a, const void *b)
{
    const struct vt_index_point *x = a, *y = b;
    return x->ts < y->ts ? -1 : x->ts > y->ts;
}

/* Tracks handed out to the two finishing threads. */
struct pool {
    struct build *b;
    size_t next; /* atomic: the next track to take */
    int failed;  /* atomic: 1 once a track failed */
};

static void *
finish_worker(void *arg)
{
    struct pool *p = arg;
    for (;;) {
        size_t i = __atomic_fetch_add(&p->next, 1, __ATOMIC_RELAXED);
        if (i >= p->b->ix->ntracks || __atomic_load_n(&p->failed, __ATOMIC_RELAXED))
            return NULL;
        if (finish_track(p->b, &p->b->ix->tracks[i]) != 0)
            __atomic_store_n(&p->failed, 1, __ATOMIC_RELAXED);
    }
}

int
vt_index__finish(struct vt_index *ix, size_t limit, char *msg, size_t msglen)
{
    struct build bb = {ix, limit, msg, msglen, 0}, *b = &bb;
    /* threads sort independently: two of them (a trace usually has several;
     * the machines we aim at, two cores or more) */
    struct pool p = {b, 0, 0};
    pthread_t helper;
    int two = ix->ntracks > 1 && pthread_create(&helper, NULL, finish_worker, &p) == 0;
    finish_worker(&p);
    if (two)
        pthread_join(helper, NULL);
    if (p.failed)
        return -1;
    ix->order = vt_xmalloc((ix->ntracks ? ix->ntracks : 1) * sizeof(*ix->order));
    for (size_t i = 0; i < ix->ntracks; i++) {
        if (ix->tracks[i].n > 0)
            ix->order[ix->norder++] = (uint32_t)i;
    }
    sort_ix = ix;
    if (ix->norder > 1)
        qsort(ix->order, ix->norder, sizeof(*ix->order), cmp_track);
    if (ix->ninstants > 1)
        qsort(ix->instants, ix->ninstants, sizeof(*ix->instants), cmp_instant);
    for (size_t i = 0; i < ix->nseries; i++) {
        if (ix->series[i].n > 1)
            qsort(ix->series[i].p, ix->series[i].n, sizeof(*ix->series[i].p), cmp_point);
    }
    ix->mem += ix->names.arena_cap + ix->names.cap * 12 + ix->names.nslots * 4;
    return 0;
}

/* ---- names -------------------------------------------------------------- */

/* The names' hash: eight bytes a step (FNV-1a's byte a step was 8% of a
 * build; the slots are rebuilt on load, so nothing on disk depends on it). */
static size_t
name_hash(const char *s, size_t n)
{
    uint64_t h = (uint64_t)n * 0x9E3779B97F4A7C15ull;
    for (; n >= 8; s += 8, n -= 8) {
        uint64_t w;
        memcpy(&w, s, 8);
        h = (h ^ w) * 0xFF51AFD7ED558CCDull;
        h ^= h >> 32;
    }
    if (n > 0) {
        uint64_t w = 0;
        memcpy(&w, s, n);
        h = (h ^ w) * 0xC4CEB9FE1A85EC53ull;
    }
    return (size_t)(h ^ (h >> 29));
}

static void
names_grow_slots(struct vt_index_names *nm)
{
    size_t ns = nm->nslots ? 2 * nm->nslots : 1024;
    uint32_t *slots = vt_xcalloc(ns, sizeof(*slots));
    for (size_t i = 1; i < nm->n; i++) {
        size_t j = name_hash(nm->arena + nm->at[i], nm->len[i]) & (ns - 1);
        while (slots[j] != 0)
            j = (j + 1) & (ns - 1);
        slots[j] = (uint32_t)i + 1;
    }
    free(nm->slots);
    nm->slots = slots;
    nm->nslots = ns;
}

uint32_t
vt_index__intern(struct vt_index *ix, const char *s, size_t n)
{
    struct vt_index_names *nm = &ix->names;
    if (nm->n == 0) {
        nm->cap = 1024;
        nm->at = vt_xmalloc(nm->cap * sizeof(*nm->at));
        nm->len = vt_xmalloc(nm->cap * sizeof(*nm->len));
        nm->at[0] = 0;
        nm->len[0] = 2;
        nm->arena_cap = 1 << 16;
        nm->arena = vt_xmalloc(nm->arena_cap);
        memcpy(nm->arena, "\"\"", 2);
        nm->arena_len = 2;
        nm->n = 1;
    }
    if (2 * (nm->n + 1) > nm->nslots)
        names_grow_slots(nm);
    size_t j = name_hash(s, n) & (nm->nslots - 1);
    while (nm->slots[j] != 0) {
        uint32_t id = nm->slots[j] - 1;
        if (nm->len[id] == n && memcmp(nm->arena + nm->at[id], s, n) == 0)
            return id;
        j = (j + 1) & (nm->nslots - 1);
    }
    if (nm->n == nm->cap) {
        nm->cap *= 2;
        nm->at = vt_xrealloc(nm->at, nm->cap * sizeof(*nm->at));
        nm->len = vt_xrealloc(nm->len, nm->cap * sizeof(*nm->len));
    }
    while (nm->arena_len + n > nm->arena_cap) {
        nm->arena_cap *= 2;
        nm->arena = vt_xrealloc(nm->arena, nm->arena_cap);
    }
    memcpy(nm->arena + nm->arena_len, s, n);
    nm->at[nm->n] = nm->arena_len;
    nm->len[nm->n] = (uint32_t)n;
    nm->arena_len += n;
    nm->slots[j] = (uint32_t)nm->n + 1;
    return (uint32_t)nm->n++;
}

const char *
vt_index_name(const struct vt_index *ix, uint32_t i, size_t *len)
{
    if (i >= ix->names.n) {
        *len = 2;
        return "\"\"";
    }
    *len = ix->names.len[i];
    return ix->names.arena + ix->names.at[i];
}

void
vt_index_free(struct vt_index *ix)
{
    if (ix == NULL)
        return;
    for (size_t i = 0; i < ix->ntracks; i++) {
        free(ix->tracks[i].s);
        free(ix->tracks[i].by_depth);
        free(ix->tracks[i].level);
        free(ix->tracks[i].open);
        free(ix->tracks[i].ends);
    }
    free(ix->tracks);
    free(ix->order);
    free(ix->instants);
    for (size_t i = 0; i < ix->nseries; i++)
        free(ix->series[i].p);
    free(ix->series);
    free(ix->names.arena);
    free(ix->names.at);
    free(ix->names.len);
    free(ix->names.slots);
    free(ix->proc_pid);
    free(ix->proc_name);
    vt_src_close(ix->src);
    free(ix);
}

enum vt_err
vt_index_event_text(const struct vt_index *ix, uint64_t off, uint64_t len, char **text,
                    size_t *text_len)
{
    *text = NULL;
    if (ix->src == NULL)
        return VT_ERR_STATE;
    if (off >= ix->text_len)
        return VT_ERR_FORMAT;
    size_t want = len != 0 ? (size_t)len : 4096;
    for (;;) {
        if (want > ix->text_len - off)
            want = (size_t)(ix->text_len - off);
        char *buf = vt_xmalloc(want + 1);
        long got = vt_src_pread(ix->src, off, buf, want);
        if (got < 0) {
            free(buf);
            return VT_ERR_IO;
        }
        const char *p = buf, *e = buf + got;
        if (vt_jscan_value(&p, e) == 0 &&
            (p < e || (size_t)got < want || len != 0 || off + (uint64_t)got == ix->text_len)) {
            *text_len = (size_t)(p - buf);
            buf[*text_len] = '\0';
            *text = buf;
            return VT_OK;
        }
        free(buf);
        if (len != 0 || (size_t)got < want || want >= VT_INDEX_MAX_EVENT)
            return VT_ERR_FORMAT;
        want *= 4;
    }
}
