/* timeline.c: call trees and the frame chain; see timeline.h.
 *
 * Sections: building the trees (group events per thread, sort, place each
 * call under the innermost open call that contains its start), the frame
 * chain moves (s sb n nb r rb u d), time (t, tid, pid), breakpoints (b c cb).
 *
 * Placement uses a stack over calls sorted by (start, longer first): O(n log n)
 * for any event order, where VizTracer's FuncTree climbs and bisects per
 * event. A call is placed under an open call when it starts before that call
 * ends; so a child whose rounded end pokes 1 ns past its parent stays a child.
 */
#include "timeline.h"

#include <stdlib.h>
#include <string.h>

#include "../tracer/base/mem.h"

#define VT_TL_ROOT_EVENT UINT32_MAX

struct vt_timeline {
    const struct vt_trace *trace; /* borrowed; outlives the timeline */
    struct vt_tl_thread *threads; /* owned array; each thread's arrays owned */
    size_t nthreads;              /* threads */
    int64_t origin;               /* absolute ns of the earliest call */
    size_t cur;                   /* index of the current thread */
    struct vt_tl_frame *frames;   /* owned: the chain, outermost first */
    size_t nframes;               /* frames used (>= 1) */
    size_t frames_cap;            /* frames allocated */
    size_t insp;                  /* inspected frame (u/d), < nframes */
    char **breaks;                /* owned array of owned strings */
    size_t nbreaks;               /* breakpoints */
    unsigned char *is_func;       /* owned: per name id, 1 if an X event uses it */
    unsigned char *hit;           /* owned: per name id, 1 if a breakpoint matches it */
};

/* ---- building ------------------------------------------------------------ */

/* Sort key of one call. */
struct key {
    int64_t ts;   /* ns */
    int64_t dur;  /* ns */
    uint32_t idx; /* index into trace->funcs */
};

static int
key_cmp(const void *a, const void *b)
{
    const struct key *x = a, *y = b;
    if (x->ts != y->ts)
        return x->ts < y->ts ? -1 : 1;
    if (x->dur != y->dur)
        return x->dur > y->dur ? -1 : 1;
    /* Same span: VizTracer writes children before parents, so the later
     * event is the outer one. */
    return x->idx > y->idx ? -1 : (x->idx < y->idx ? 1 : 0);
}

static uint64_t
hash_pt(int64_t pid, int64_t tid)
{
    uint64_t h = (uint64_t)pid * 0x9E3779B97F4A7C15ULL ^ (uint64_t)tid * 0xC2B2AE3D27D4EB4FULL;
    return h ^ (h >> 29);
}

/* Assigns each event a thread index (order of first appearance). Returns the
 * owned per-event thread index array. */
static uint32_t *
group_threads(struct vt_timeline *tl)
{
    const struct vt_trace_events *f = &tl->trace->funcs;
    size_t nslots = 64;
    while (nslots < f->n * 2 && nslots < ((size_t)1 << 40))
        nslots *= 2;
    uint32_t *slots = vt_xcalloc(nslots, sizeof(*slots));
    uint32_t *of = vt_xmalloc(f->n * sizeof(*of));
    size_t cap = 0;
    for (size_t i = 0; i < f->n; i++) {
        const struct vt_trace_event *e = &f->v[i];
        size_t h = (size_t)hash_pt(e->pid, e->tid) & (nslots - 1);
        for (;;) {
            uint32_t s = slots[h];
            if (s == 0) {
                if (tl->nthreads == cap) {
                    cap = cap ? cap * 2 : 8;
                    tl->threads = vt_xrealloc(tl->threads, cap * sizeof(*tl->threads));
                }
                struct vt_tl_thread *th = &tl->threads[tl->nthreads];
                memset(th, 0, sizeof(*th));
                th->pid = e->pid;
                th->tid = e->tid;
                slots[h] = (uint32_t)++tl->nthreads;
                of[i] = (uint32_t)(tl->nthreads - 1);
                break;
            }
            const struct vt_tl_thread *th = &tl->threads[s - 1];
            if (th->pid == e->pid && th->tid == e->tid) {
                of[i] = s - 1;
                break;
            }
            h = (h + 1) & (nslots - 1);
        }
    }
    free(slots);
    return of;
}

/* Builds one thread's tree from its calls keys[0..n), sorted by key_cmp. */
static void
build_tree(struct vt_timeline *tl, struct vt_tl_thread *th, const struct key *keys, uint32_t n)
{
    uint32_t *stack = vt_xmalloc(((size_t)n + 1) * sizeof(*stack));
    size_t sp = 0;
    th->nnodes = n + 1;
    th->nodes = vt_xcalloc((size_t)n + 1, sizeof(*th->nodes));
    th->kids = vt_xmalloc(((size_t)n + 1) * sizeof(*th->kids));
    th->nodes[0].start = INT64_MIN;
    th->nodes[0].end = INT64_MAX;
    th->nodes[0].event = VT_TL_ROOT_EVENT;
    stack[sp++] = 0;
    for (uint32_t k = 0; k < n; k++) {
        struct vt_tl_node *nd = &th->nodes[k + 1];
        nd->start = keys[k].ts - tl->origin;
        nd->end = nd->start + keys[k].dur;
        nd->event = keys[k].idx;
        while (sp > 1 && !(nd->start < th->nodes[stack[sp - 1]].end))
            sp--;
        nd->parent = stack[sp - 1];
        th->nodes[nd->parent].nkids++;
        stack[sp++] = k + 1;
    }
    /* Children lists: prefix sums, then fill in node (= start) order. */
    uint32_t off = 0;
    for (uint32_t i = 0; i < th->nnodes; i++) {
        th->nodes[i].kids = off;
        off += th->nodes[i].nkids;
        th->nodes[i].nkids = 0;
    }
    for (uint32_t i = 1; i < th->nnodes; i++) {
        struct vt_tl_node *p = &th->nodes[th->nodes[i].parent];
        th->kids[p->kids + p->nkids++] = i;
    }
    free(stack);
}

static void
set_first_position(struct vt_timeline *tl)
{
    size_t best = 0;
    for (size_t i = 1; i < tl->nthreads; i++) {
        const struct vt_tl_thread *a = &tl->threads[i], *b = &tl->threads[best];
        if (a->nodes[a->kids[0]].start < b->nodes[b->kids[0]].start)
            best = i;
    }
    tl->cur = best;
    tl->nframes = 1;
    tl->frames[0].node = tl->threads[best].kids[tl->threads[best].nodes[0].kids];
    tl->frames[0].idx = 0;
    tl->insp = 0;
}

struct vt_timeline *
vt_timeline_create(const struct vt_trace *t)
{
    const struct vt_trace_events *f = &t->funcs;
    if (f->n == 0 || f->n >= UINT32_MAX - 1)
        return NULL;
    struct vt_timeline *tl = vt_xcalloc(1, sizeof(*tl));
    tl->trace = t;
    tl->origin = f->v[0].ts;
    for (size_t i = 1; i < f->n; i++)
        if (f->v[i].ts < tl->origin)
            tl->origin = f->v[i].ts;
    uint32_t *of = group_threads(tl);
    /* Bucket the calls per thread (counting sort), then sort each bucket. */
    size_t *start = vt_xcalloc(tl->nthreads + 1, sizeof(*start));
    for (size_t i = 0; i < f->n; i++)
        start[of[i] + 1]++;
    for (size_t i = 0; i < tl->nthreads; i++)
        start[i + 1] += start[i];
    struct key *keys = vt_xmalloc(f->n * sizeof(*keys));
    size_t *fill = vt_xmalloc((tl->nthreads + 1) * sizeof(*fill));
    memcpy(fill, start, (tl->nthreads + 1) * sizeof(*fill));
    for (size_t i = 0; i < f->n; i++) {
        struct key *k = &keys[fill[of[i]]++];
        k->ts = f->v[i].ts;
        k->dur = f->v[i].dur;
        k->idx = (uint32_t)i;
    }
    for (size_t i = 0; i < tl->nthreads; i++) {
        size_t n = start[i + 1] - start[i];
        qsort(keys + start[i], n, sizeof(*keys), key_cmp);
        build_tree(tl, &tl->threads[i], keys + start[i], (uint32_t)n);
    }
    free(fill);
    free(keys);
    free(start);
    free(of);
    tl->is_func = vt_xcalloc(t->names.n + 1, 1);
    tl->hit = vt_xcalloc(t->names.n + 1, 1);
    for (size_t i = 0; i < f->n; i++)
        tl->is_func[f->v[i].name] = 1;
    tl->frames_cap = 16;
    tl->frames = vt_xmalloc(tl->frames_cap * sizeof(*tl->frames));
    set_first_position(tl);
    return tl;
}

void
vt_timeline_destroy(struct vt_timeline *tl)
{
    if (!tl)
        return;
    for (size_t i = 0; i < tl->nthreads; i++) {
        free(tl->threads[i].nodes);
        free(tl->threads[i].kids);
    }
    free(tl->threads);
    free(tl->frames);
    for (size_t i = 0; i < tl->nbreaks; i++)
        free(tl->breaks[i]);
    free(tl->breaks);
    free(tl->is_func);
    free(tl->hit);
    free(tl);
}

/* ---- the frame chain ----------------------------------------------------- */

static const struct vt_tl_thread *
th_cur(const struct vt_timeline *tl)
{
    return &tl->threads[tl->cur];
}

static uint32_t
kid(const struct vt_tl_thread *th, uint32_t node, uint32_t i)
{
    return th->kids[th->nodes[node].kids + i];
}

/* Index of node among its parent's children: they are stored in increasing
 * node order, so a binary search. */
static uint32_t
kid_pos(const struct vt_tl_thread *th, uint32_t node)
{
    const struct vt_tl_node *p = &th->nodes[th->nodes[node].parent];
    const uint32_t *k = th->kids + p->kids;
    uint32_t lo = 0, hi = p->nkids;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        if (k[mid] < node)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

static void
push(struct vt_timeline *tl, uint32_t node, uint32_t idx)
{
    if (tl->nframes == tl->frames_cap) {
        tl->frames_cap *= 2;
        tl->frames = vt_xrealloc(tl->frames, tl->frames_cap * sizeof(*tl->frames));
    }
    tl->frames[tl->nframes].node = node;
    tl->frames[tl->nframes].idx = idx;
    tl->insp = tl->nframes++;
}

static struct vt_tl_frame *
inner(struct vt_timeline *tl)
{
    tl->insp = tl->nframes - 1;
    return &tl->frames[tl->insp];
}

enum vt_tl_status
vt_timeline_return(struct vt_timeline *tl)
{
    const struct vt_tl_thread *th = th_cur(tl);
    struct vt_tl_frame *f = inner(tl);
    if (tl->nframes == 1) {
        /* Top level: on to the next top-level call, if any. */
        uint32_t i = kid_pos(th, f->node);
        if (i + 1 >= th->nodes[0].nkids)
            return VT_TL_NOCALLER;
        f->node = kid(th, 0, i + 1);
        f->idx = 0;
        return VT_TL_OK;
    }
    tl->nframes--;
    inner(tl)->idx++;
    return VT_TL_OK;
}

enum vt_tl_status
vt_timeline_return_back(struct vt_timeline *tl)
{
    const struct vt_tl_thread *th = th_cur(tl);
    struct vt_tl_frame *f = inner(tl);
    if (tl->nframes == 1) {
        uint32_t i = kid_pos(th, f->node);
        if (i == 0)
            return VT_TL_NOCALLER;
        f->node = kid(th, 0, i - 1);
        f->idx = 0;
        return VT_TL_OK;
    }
    tl->nframes--;
    inner(tl);
    return VT_TL_OK;
}

enum vt_tl_status
vt_timeline_step(struct vt_timeline *tl)
{
    const struct vt_tl_thread *th = th_cur(tl);
    struct vt_tl_frame *f = inner(tl);
    if (f->idx < th->nodes[f->node].nkids) {
        push(tl, kid(th, f->node, f->idx), 0);
        return VT_TL_OK;
    }
    return vt_timeline_return(tl) == VT_TL_OK ? VT_TL_OK : VT_TL_END;
}

enum vt_tl_status
vt_timeline_step_back(struct vt_timeline *tl)
{
    const struct vt_tl_thread *th = th_cur(tl);
    struct vt_tl_frame *f = inner(tl);
    if (f->idx > 0) {
        f->idx--;
        uint32_t k = kid(th, f->node, f->idx);
        push(tl, k, th->nodes[k].nkids);
        return VT_TL_OK;
    }
    return vt_timeline_return_back(tl) == VT_TL_OK ? VT_TL_OK : VT_TL_BEGIN;
}

enum vt_tl_status
vt_timeline_next(struct vt_timeline *tl)
{
    const struct vt_tl_thread *th = th_cur(tl);
    struct vt_tl_frame *f = inner(tl);
    if (f->idx < th->nodes[f->node].nkids) {
        f->idx++;
        return VT_TL_OK;
    }
    return vt_timeline_return(tl) == VT_TL_OK ? VT_TL_OK : VT_TL_END;
}

enum vt_tl_status
vt_timeline_next_back(struct vt_timeline *tl)
{
    struct vt_tl_frame *f = inner(tl);
    if (f->idx > 0) {
        f->idx--;
        return VT_TL_OK;
    }
    return vt_timeline_return_back(tl) == VT_TL_OK ? VT_TL_OK : VT_TL_BEGIN;
}

enum vt_tl_status
vt_timeline_up(struct vt_timeline *tl)
{
    if (tl->insp == 0)
        return VT_TL_NOOUTER;
    tl->insp--;
    return VT_TL_OK;
}

enum vt_tl_status
vt_timeline_down(struct vt_timeline *tl)
{
    if (tl->insp + 1 >= tl->nframes)
        return VT_TL_INNERMOST;
    tl->insp++;
    return VT_TL_OK;
}

/* ---- time ------------------------------------------------------------------ */

int64_t
vt_timeline_time(const struct vt_timeline *tl)
{
    const struct vt_tl_thread *th = th_cur(tl);
    const struct vt_tl_frame *f = &tl->frames[tl->nframes - 1];
    const struct vt_tl_node *n = &th->nodes[f->node];
    if (n->nkids == 0)
        return n->start;
    if (f->idx >= n->nkids)
        return th->nodes[kid(th, f->node, n->nkids - 1)].end;
    return th->nodes[kid(th, f->node, f->idx)].start;
}

/* First child position of node whose start is > ts (right) or >= ts (!right). */
static uint32_t
bisect_starts(const struct vt_tl_thread *th, uint32_t node, int64_t ts, int right)
{
    uint32_t lo = 0, hi = th->nodes[node].nkids;
    while (lo < hi) {
        uint32_t mid = lo + (hi - lo) / 2;
        int64_t s = th->nodes[kid(th, node, mid)].start;
        if (right ? s <= ts : s < ts)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}

void
vt_timeline_goto(struct vt_timeline *tl, int64_t ts)
{
    const struct vt_tl_thread *th = th_cur(tl);
    uint32_t i = bisect_starts(th, 0, ts, 1);
    tl->nframes = 0;
    push(tl, kid(th, 0, i == 0 ? 0 : i - 1), 0);
    for (;;) {
        struct vt_tl_frame *f = &tl->frames[tl->nframes - 1];
        if (th->nodes[f->node].nkids == 0)
            break;
        uint32_t k = bisect_starts(th, f->node, ts, 0);
        if (k == 0) {
            f->idx = 0;
            break;
        }
        k--;
        uint32_t child = kid(th, f->node, k);
        if (th->nodes[child].end <= ts) {
            f->idx = k + 1;
            break;
        }
        f->idx = k;
        push(tl, child, 0);
    }
    tl->insp = tl->nframes - 1;
}

static enum vt_tl_status
switch_thread(struct vt_timeline *tl, size_t to)
{
    int64_t ts = vt_timeline_time(tl);
    tl->cur = to;
    vt_timeline_goto(tl, ts);
    return VT_TL_OK;
}

enum vt_tl_status
vt_timeline_goto_tid(struct vt_timeline *tl, int64_t tid)
{
    int64_t pid = th_cur(tl)->pid;
    for (size_t i = 0; i < tl->nthreads; i++)
        if (tl->threads[i].pid == pid && tl->threads[i].tid == tid)
            return switch_thread(tl, i);
    return VT_TL_NOTID;
}

enum vt_tl_status
vt_timeline_goto_pid(struct vt_timeline *tl, int64_t pid)
{
    for (size_t i = 0; i < tl->nthreads; i++)
        if (tl->threads[i].pid == pid)
            return switch_thread(tl, i);
    return VT_TL_NOPID;
}

/* ---- breakpoints ------------------------------------------------------------- */

static int
name_matches(const char *name, const char *fn)
{
    struct vt_reader_fname p;
    const char *func = name;
    size_t len = strlen(name);
    if (strcmp(name, fn) == 0)
        return 1;
    if (vt_reader_split_name(name, &p)) {
        func = p.func;
        len = p.func_len;
    }
    size_t fl = strlen(fn);
    if (len == fl && strncmp(func, fn, fl) == 0)
        return 1;
    /* Last dotted component: "meth" for "Cls.meth", "len" for "builtins.len". */
    if (len > fl && func[len - fl - 1] == '.' && strncmp(func + len - fl, fn, fl) == 0)
        return 1;
    return 0;
}

static size_t
recompute_hits(struct vt_timeline *tl, const char *only)
{
    size_t count = 0;
    const struct vt_trace_names *nm = &tl->trace->names;
    for (size_t i = 0; i < nm->n; i++) {
        tl->hit[i] = 0;
        if (!tl->is_func[i])
            continue;
        for (size_t b = 0; b < tl->nbreaks; b++)
            if (name_matches(nm->str[i], tl->breaks[b]))
                tl->hit[i] = 1;
        if (only && name_matches(nm->str[i], only))
            count++;
    }
    return count;
}

size_t
vt_timeline_break_add(struct vt_timeline *tl, const char *fn)
{
    for (size_t i = 0; i < tl->nbreaks; i++)
        if (strcmp(tl->breaks[i], fn) == 0)
            return recompute_hits(tl, fn);
    tl->breaks = vt_xrealloc(tl->breaks, (tl->nbreaks + 1) * sizeof(*tl->breaks));
    tl->breaks[tl->nbreaks++] = vt_xstrdup(fn);
    return recompute_hits(tl, fn);
}

size_t
vt_timeline_break_clear(struct vt_timeline *tl, const char *fn)
{
    size_t removed = 0, j = 0;
    for (size_t i = 0; i < tl->nbreaks; i++) {
        if (!fn || strcmp(tl->breaks[i], fn) == 0) {
            free(tl->breaks[i]);
            removed++;
        } else {
            tl->breaks[j++] = tl->breaks[i];
        }
    }
    tl->nbreaks = j;
    recompute_hits(tl, NULL);
    return removed;
}

size_t
vt_timeline_break_count(const struct vt_timeline *tl)
{
    return tl->nbreaks;
}

const char *
vt_timeline_break_get(const struct vt_timeline *tl, size_t i)
{
    return i < tl->nbreaks ? tl->breaks[i] : NULL;
}

static int
at_break(const struct vt_timeline *tl)
{
    const struct vt_tl_frame *f = &tl->frames[tl->nframes - 1];
    uint32_t ev = th_cur(tl)->nodes[f->node].event;
    return f->idx == 0 && tl->hit[tl->trace->funcs.v[ev].name];
}

static enum vt_tl_status
run_to_break(struct vt_timeline *tl, enum vt_tl_status (*move)(struct vt_timeline *))
{
    if (tl->nbreaks == 0)
        return VT_TL_NOBREAK;
    size_t n = tl->nframes, insp = tl->insp;
    struct vt_tl_frame *saved = vt_xmalloc(n * sizeof(*saved));
    memcpy(saved, tl->frames, n * sizeof(*saved));
    enum vt_tl_status st;
    do {
        st = move(tl);
    } while (st == VT_TL_OK && !at_break(tl));
    if (st != VT_TL_OK) {
        tl->nframes = 0;
        for (size_t i = 0; i < n; i++)
            push(tl, saved[i].node, saved[i].idx);
        tl->insp = insp;
        st = VT_TL_NOTFOUND;
    }
    free(saved);
    return st;
}

enum vt_tl_status
vt_timeline_continue(struct vt_timeline *tl)
{
    return run_to_break(tl, vt_timeline_step);
}

enum vt_tl_status
vt_timeline_continue_back(struct vt_timeline *tl)
{
    return run_to_break(tl, vt_timeline_step_back);
}

/* ---- queries ------------------------------------------------------------------ */

int64_t
vt_timeline_origin(const struct vt_timeline *tl)
{
    return tl->origin;
}

const struct vt_tl_frame *
vt_timeline_frames(const struct vt_timeline *tl, size_t *n, size_t *inspected)
{
    *n = tl->nframes;
    *inspected = tl->insp;
    return tl->frames;
}

const struct vt_tl_thread *
vt_timeline_thread(const struct vt_timeline *tl)
{
    return th_cur(tl);
}

const struct vt_tl_node *
vt_timeline_node(const struct vt_timeline *tl, uint32_t i)
{
    return &th_cur(tl)->nodes[i];
}

const struct vt_trace_event *
vt_timeline_event(const struct vt_timeline *tl, uint32_t node)
{
    uint32_t ev = th_cur(tl)->nodes[node].event;
    return ev == VT_TL_ROOT_EVENT ? NULL : &tl->trace->funcs.v[ev];
}

const struct vt_tl_thread *
vt_timeline_threads(const struct vt_timeline *tl, size_t *n)
{
    *n = tl->nthreads;
    return tl->threads;
}

uint32_t
vt_timeline_kid(const struct vt_timeline *tl, uint32_t node, uint32_t i)
{
    return kid(th_cur(tl), node, i);
}

const char *
vt_timeline_strerror(enum vt_tl_status st)
{
    switch (st) {
    case VT_TL_OK:
        return "";
    case VT_TL_END:
        return "at the end of the trace";
    case VT_TL_BEGIN:
        return "at the beginning of the trace";
    case VT_TL_NOCALLER:
        return "No callers available";
    case VT_TL_NOOUTER:
        return "No outer frame anymore";
    case VT_TL_INNERMOST:
        return "Already at current frame";
    case VT_TL_NOTID:
        return "No such tid";
    case VT_TL_NOPID:
        return "No such pid";
    case VT_TL_NOBREAK:
        return "No breakpoint set, use b FUNCTION";
    case VT_TL_NOTFOUND:
        return "No more calls of the breakpoint functions";
    }
    return "unknown status";
}
