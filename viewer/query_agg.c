/* query_agg.c: the answers that read more than a screenful of the index: a
 * slice's details (its event read back from the file, its source from
 * file_info), search, the aggregated flame graph and the area selection
 * (functions of a time range on chosen tracks by total time, self time and
 * count). query.c has the per-pixel answers and the parameters.
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

#define S_AT(t, k) (&(t)->s[(t)->by_depth[(k)]])

/* First k in [lo, hi) of depth-sorted slices whose start is at or after ns. */
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

static enum vt_err
add_json(struct vt_buf *out, const cJSON *j)
{
    char *t = j != NULL ? cJSON_PrintUnformatted(j) : NULL;
    enum vt_err err = t != NULL ? vt_buf_adds(out, t) : vt_buf_adds(out, "null");
    free(t);
    return err;
}

/* ---- details ------------------------------------------------------------ */

/* Appends "source":{path, line, text} for the function name (unescaped), from
 * file_info's functions, else from a "name (path:line)" tail; null when the
 * trace does not hold its file. */
static enum vt_err
add_source(const struct vt_index *ix, const char *name, struct vt_buf *out)
{
    enum vt_err err = vt_buf_adds(out, ",\"source\":");
    char *info = NULL;
    size_t info_len = 0;
    cJSON *fi = NULL;
    if (ix->info_len != 0 &&
        vt_index_event_text(ix, ix->info_off, ix->info_len, &info, &info_len) == VT_OK)
        fi = cJSON_ParseWithLength(info, info_len);
    free(info);
    const char *path = NULL;
    long line = 0;
    const cJSON *f =
        cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(fi, "functions"), name);
    struct vt_reader_fname parts;
    char *tail = NULL; /* owned: the path out of the name */
    if (cJSON_IsArray(f) && cJSON_IsString(cJSON_GetArrayItem(f, 0)) &&
        cJSON_IsNumber(cJSON_GetArrayItem(f, 1))) {
        path = cJSON_GetArrayItem(f, 0)->valuestring;
        line = (long)cJSON_GetArrayItem(f, 1)->valuedouble;
    } else if (vt_reader_split_name(name, &parts)) {
        tail = vt_xstrndup(parts.file, parts.file_len);
        path = tail;
        line = parts.line;
    }
    const cJSON *file =
        path != NULL
            ? cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(fi, "files"), path)
            : NULL;
    const cJSON *text = cJSON_GetArrayItem(file, 0);
    if (path == NULL) {
        err = err == VT_OK ? vt_buf_adds(out, "null") : err;
    } else {
        cJSON *o = cJSON_CreateObject();
        cJSON_AddStringToObject(o, "path", path);
        cJSON_AddNumberToObject(o, "line", (double)line);
        if (cJSON_IsString(text))
            cJSON_AddStringToObject(o, "text", text->valuestring);
        if (err == VT_OK)
            err = add_json(out, o);
        cJSON_Delete(o);
    }
    free(tail);
    cJSON_Delete(fi);
    return err;
}

/* Appends the event's own JSON text as the file holds it (checked by
 * vt_index_event_text), or null. */
static enum vt_err
add_event_text(const struct vt_index *ix, uint64_t off, struct vt_buf *out)
{
    char *text = NULL;
    size_t len = 0;
    if (vt_index_event_text(ix, off, 0, &text, &len) != VT_OK)
        return vt_buf_adds(out, "null");
    enum vt_err err = vt_buf_add(out, text, len);
    free(text);
    return err;
}

enum vt_err
vt_index_q_detail(const struct vt_index *ix, const struct vt_index_query *q, struct vt_buf *out)
{
    if (q->instant >= 0) {
        if ((size_t)q->instant >= ix->ninstants)
            return VT_ERR_USAGE;
        const struct vt_index_instant *in = &ix->instants[q->instant];
        size_t nl;
        const char *name = vt_index_name(ix, in->name, &nl);
        enum vt_err err = vt_buf_printf(out, "{\"instant\":%ld,\"ts\":%.3f,\"name\":", q->instant,
                                        vt_index_rel_us(ix, in->ts));
        if (err == VT_OK)
            err = vt_buf_add(out, name, nl);
        if (err == VT_OK)
            err = vt_buf_adds(out, ",\"event\":");
        if (err == VT_OK)
            err = add_event_text(ix, in->off, out);
        if (err == VT_OK)
            err = vt_buf_adds(out, "}");
        return err;
    }
    if (q->track < 0 || (size_t)q->track >= ix->norder || q->slice < 0)
        return VT_ERR_USAGE;
    const struct vt_index_track *t = &ix->tracks[ix->order[q->track]];
    if ((size_t)q->slice >= t->n)
        return VT_ERR_USAGE;
    const struct vt_index_slice *s = &t->s[q->slice];
    int64_t end = s->start + s->dur, child = 0;
    if (s->depth + 1 < t->ndepth) {
        size_t hi = t->level[s->depth + 2];
        for (size_t k = first_starting_at(t, t->level[s->depth + 1], hi, s->start);
             k < hi && S_AT(t, k)->start < end; k++)
            child += S_AT(t, k)->dur;
    }
    int64_t self = s->dur - child > 0 ? s->dur - child : 0;
    size_t nl;
    const char *name = vt_index_name(ix, s->name, &nl);
    enum vt_err err = vt_buf_printf(out,
                                    "{\"track\":%ld,\"slice\":%ld,\"start\":%.3f,\"dur\":%.3f,"
                                    "\"self\":%.3f,\"depth\":%u,\"name\":",
                                    q->track, q->slice, vt_index_rel_us(ix, s->start),
                                    (double)s->dur / 1000.0, (double)self / 1000.0, s->depth);
    if (err == VT_OK)
        err = vt_buf_add(out, name, nl);
    if (err == VT_OK)
        err = vt_buf_adds(out, ",\"event\":");
    if (err == VT_OK)
        err = add_event_text(ix, s->off, out);
    cJSON *nj = cJSON_ParseWithLength(name, nl);
    if (err == VT_OK)
        err = add_source(ix, cJSON_IsString(nj) ? nj->valuestring : "", out);
    cJSON_Delete(nj);
    if (err == VT_OK)
        err = vt_buf_adds(out, "}");
    return err;
}

enum vt_err
vt_index_q_file_info(const struct vt_index *ix, struct vt_buf *out)
{
    char *info = NULL;
    size_t len = 0;
    if (ix->info_len == 0 ||
        vt_index_event_text(ix, ix->info_off, ix->info_len, &info, &len) != VT_OK ||
        info[0] != '{') {
        free(info);
        return vt_buf_adds(out, "{}");
    }
    enum vt_err err = vt_buf_add(out, info, len);
    free(info);
    return err;
}

/* ---- search ------------------------------------------------------------- */

enum vt_err
vt_index_q_search(const struct vt_index *ix, const struct vt_index_query *q, struct vt_buf *out)
{
    unsigned char *m = vt_index_match_names(ix, q->q);
    uint64_t total = 0;
    size_t hits = 0;
    enum vt_err err = vt_buf_adds(out, "{\"q\":");
    cJSON *qs = cJSON_CreateString(q->q);
    if (err == VT_OK)
        err = add_json(out, qs);
    cJSON_Delete(qs);
    if (err == VT_OK)
        err = vt_buf_adds(out, ",\"hits\":[");
    uint64_t *per = vt_xcalloc(ix->norder + 1, sizeof(*per));
    for (size_t k = 0; k < ix->norder && err == VT_OK; k++) {
        const struct vt_index_track *t = &ix->tracks[ix->order[k]];
        for (size_t i = 0; i < t->n && err == VT_OK; i++) {
            if (!VT_INDEX_HIT(m, t->s[i].name))
                continue;
            per[k]++;
            if (hits < (size_t)q->limit) {
                err = vt_buf_printf(out, "%s[%zu,%zu,%.3f,%.3f,%u]", hits ? "," : "", k, i,
                                    vt_index_rel_us(ix, t->s[i].start),
                                    (double)t->s[i].dur / 1000.0, t->s[i].depth);
                hits++;
            }
        }
        total += per[k];
    }
    if (err == VT_OK)
        err = vt_buf_printf(out, "],\"total\":%llu,\"tracks\":[", (unsigned long long)total);
    for (size_t k = 0; k < ix->norder && err == VT_OK; k++)
        err = vt_buf_printf(out, "%s%llu", k ? "," : "", (unsigned long long)per[k]);
    if (err == VT_OK)
        err = vt_buf_adds(out, "]}");
    free(per);
    free(m);
    return err;
}

/* ---- flame graph -------------------------------------------------------- */

/* The call tree merged by name along call paths. */
struct tree {
    uint32_t *parent, *name, *child, *next; /* owned; per node (0 is the root) */
    int64_t *value;                         /* owned; ns */
    size_t n, cap;
    uint32_t *slots; /* owned; open addressing of node + 1 by (parent, name) */
    size_t nslots;
};

static size_t
tree_hash(uint32_t parent, uint32_t name, size_t mask)
{
    uint64_t h = ((uint64_t)parent << 32 | name) * 0x9E3779B97F4A7C15ull;
    return (size_t)(h >> 20) & mask;
}

static void
tree_rehash(struct tree *tr)
{
    size_t ns = tr->nslots ? 2 * tr->nslots : 4096;
    free(tr->slots);
    tr->slots = vt_xcalloc(ns, sizeof(*tr->slots));
    tr->nslots = ns;
    for (size_t i = 1; i < tr->n; i++) {
        size_t j = tree_hash(tr->parent[i], tr->name[i], ns - 1);
        while (tr->slots[j] != 0)
            j = (j + 1) & (ns - 1);
        tr->slots[j] = (uint32_t)i + 1;
    }
}

static uint32_t
tree_node(struct tree *tr, uint32_t parent, uint32_t name)
{
    if (tr->n == tr->cap) {
        tr->cap = tr->cap ? 2 * tr->cap : 1024;
        tr->parent = vt_xrealloc(tr->parent, tr->cap * sizeof(*tr->parent));
        tr->name = vt_xrealloc(tr->name, tr->cap * sizeof(*tr->name));
        tr->child = vt_xrealloc(tr->child, tr->cap * sizeof(*tr->child));
        tr->next = vt_xrealloc(tr->next, tr->cap * sizeof(*tr->next));
        tr->value = vt_xrealloc(tr->value, tr->cap * sizeof(*tr->value));
    }
    if (2 * (tr->n + 1) > tr->nslots)
        tree_rehash(tr);
    size_t j = tree_hash(parent, name, tr->nslots - 1);
    while (tr->slots[j] != 0) {
        uint32_t i = tr->slots[j] - 1;
        if (tr->parent[i] == parent && tr->name[i] == name)
            return i;
        j = (j + 1) & (tr->nslots - 1);
    }
    uint32_t i = (uint32_t)tr->n++;
    tr->parent[i] = parent;
    tr->name[i] = name;
    tr->child[i] = tr->next[i] = 0;
    tr->value[i] = 0;
    if (i > 0) {
        /* children in first-seen order: appended through a walk is fine
         * here, since d3-flame-graph sorts them itself */
        tr->next[i] = tr->child[parent];
        tr->child[parent] = i;
        tr->slots[j] = i + 1;
    }
    return i;
}

static void
tree_free(struct tree *tr)
{
    free(tr->parent);
    free(tr->name);
    free(tr->child);
    free(tr->next);
    free(tr->value);
    free(tr->slots);
}

enum vt_err
vt_index_q_flame(const struct vt_index *ix, const struct vt_index_query *q, struct vt_buf *out)
{
    uint32_t *which = vt_xmalloc((ix->norder + 1) * sizeof(*which));
    size_t n = 0;
    if (q->track >= 0) {
        if ((size_t)q->track >= ix->norder) {
            free(which);
            return VT_ERR_USAGE;
        }
        which[n++] = (uint32_t)q->track;
    } else {
        for (size_t i = 0; i < ix->norder; i++)
            which[n++] = (uint32_t)i;
    }
    struct tree tr;
    memset(&tr, 0, sizeof(tr));
    tree_node(&tr, 0, 0); /* the root */
    size_t stack_cap = 1;
    for (size_t w = 0; w < n; w++) {
        uint32_t d = ix->tracks[ix->order[which[w]]].ndepth;
        stack_cap = d > stack_cap ? d : stack_cap;
    }
    uint32_t *stack = vt_xmalloc(stack_cap * sizeof(*stack)); /* owned: node per open depth */
    for (size_t w = 0; w < n; w++) {
        const struct vt_index_track *t = &ix->tracks[ix->order[which[w]]];
        /* in start order, the slice at depth d lies inside the last one seen
         * at depth d - 1 (that is how depths were given) */
        for (size_t i = 0; i < t->n; i++) {
            const struct vt_index_slice *s = &t->s[i];
            uint32_t parent = s->depth == 0 ? 0 : stack[s->depth - 1];
            uint32_t node = tree_node(&tr, parent, s->name);
            tr.value[node] += s->dur;
            if (s->depth == 0)
                tr.value[0] += s->dur;
            stack[s->depth] = node;
        }
    }
    free(stack);
    free(which);
    /* frames below 1/20000 of the whole are under a pixel on any screen */
    int64_t min = tr.value[0] / 20000;
    struct vt_buf *o = out;
    enum vt_err err = vt_buf_adds(o, "{\"tree\":");
    uint32_t *walk = vt_xmalloc(tr.n * sizeof(*walk)); /* depth-first, explicit */
    size_t sp = 0;
    walk[sp++] = 0;
    /* each node is written when pushed; closing brackets when its last child is done */
    uint32_t *open_child = vt_xcalloc(tr.n, sizeof(*open_child));
    unsigned char *wrote = vt_xcalloc(tr.n, 1); /* 1: a child of it was written */
    int first = 1;
    while (sp > 0 && err == VT_OK) {
        uint32_t cur = walk[sp - 1];
        if (first) {
            size_t nl = 2;
            const char *name = cur == 0 ? "\"\"" : vt_index_name(ix, tr.name[cur], &nl);
            err = vt_buf_adds(o, "{\"name\":");
            if (err == VT_OK)
                err = vt_buf_add(o, name, nl);
            if (err == VT_OK)
                err = vt_buf_printf(o, ",\"value\":%.3f,\"children\":[",
                                    (double)tr.value[cur] / 1000.0);
            open_child[cur] = tr.child[cur];
            first = 0;
        }
        uint32_t c = open_child[cur];
        while (c != 0 && tr.value[c] < min)
            c = tr.next[c];
        if (c == 0) {
            err = err == VT_OK ? vt_buf_adds(o, "]}") : err;
            sp--;
            continue;
        }
        open_child[cur] = tr.next[c];
        if (err == VT_OK && wrote[cur])
            err = vt_buf_adds(o, ",");
        wrote[cur] = 1;
        walk[sp++] = c;
        first = 1;
    }
    free(wrote);
    free(open_child);
    free(walk);
    if (err == VT_OK)
        err = vt_buf_printf(o, ",\"nodes\":%zu}", tr.n);
    tree_free(&tr);
    return err;
}

/* ---- area selection ----------------------------------------------------- */

struct row {
    uint32_t name;
    int64_t total, self;
    uint64_t count;
};

static int sort_key; /* qsort has no context argument: the MHD thread alone sorts */
static const struct vt_index *sort_ix;

static int
cmp_row(const void *a, const void *b)
{
    const struct row *x = a, *y = b;
    if (sort_key == 3) {
        size_t xl, yl;
        const char *xs = vt_index_name(sort_ix, x->name, &xl);
        const char *ys = vt_index_name(sort_ix, y->name, &yl);
        int c = memcmp(xs, ys, xl < yl ? xl : yl);
        return c != 0 ? c : (xl > yl) - (xl < yl);
    }
    int64_t xv = sort_key == 0 ? x->total : sort_key == 1 ? x->self : (int64_t)x->count;
    int64_t yv = sort_key == 0 ? y->total : sort_key == 1 ? y->self : (int64_t)y->count;
    if (xv != yv)
        return xv > yv ? -1 : 1;
    return x->name < y->name ? -1 : x->name > y->name;
}

static int64_t
clip(const struct vt_index_slice *s, int64_t t0, int64_t t1)
{
    int64_t a = s->start > t0 ? s->start : t0;
    int64_t b = s->start + s->dur < t1 ? s->start + s->dur : t1;
    return b > a ? b - a : 0;
}

enum vt_err
vt_index_q_area(const struct vt_index *ix, const struct vt_index_query *q, struct vt_buf *out)
{
    uint32_t *which = vt_xmalloc((ix->norder + 1) * sizeof(*which));
    size_t n = 0;
    if (q->ntracks > 0) {
        for (size_t i = 0; i < q->ntracks; i++) {
            if (q->tracks[i] >= ix->norder) {
                free(which);
                return VT_ERR_USAGE;
            }
            which[n++] = q->tracks[i];
        }
    } else if (q->track >= 0) {
        if ((size_t)q->track >= ix->norder) {
            free(which);
            return VT_ERR_USAGE;
        }
        which[n++] = (uint32_t)q->track;
    } else {
        for (size_t i = 0; i < ix->norder; i++)
            which[n++] = (uint32_t)i;
    }
    int64_t t0 = vt_index_abs_ns(ix, q->t0),
            t1 = (q->t1 > 1e15 ? ix->max_ts + 1 : vt_index_abs_ns(ix, q->t1));
    struct row *acc = vt_xcalloc(ix->names.n, sizeof(*acc));
    uint32_t *touched = vt_xmalloc(ix->names.n * sizeof(*touched));
    size_t ntouched = 0;
    uint64_t slices = 0;
    for (size_t w = 0; w < n; w++) {
        const struct vt_index_track *t = &ix->tracks[ix->order[which[w]]];
        for (uint32_t d = 0; d < t->ndepth; d++) {
            size_t lo = t->level[d], hi = t->level[d + 1];
            size_t k = vt_index_first_ending_after(t, lo, hi, t0);
            size_t p = d > 0 ? vt_index_first_ending_after(t, t->level[d - 1], t->level[d], t0) : 0;
            for (; k < hi && S_AT(t, k)->start < t1; k++) {
                const struct vt_index_slice *s = S_AT(t, k);
                int64_t c = clip(s, t0, t1);
                struct row *r = &acc[s->name];
                if (r->count == 0)
                    touched[ntouched++] = s->name;
                r->name = s->name;
                r->count++;
                r->total += c;
                r->self += c;
                slices++;
                if (d == 0)
                    continue;
                /* the parent: the slice of depth d - 1 around this one's start */
                while (p + 1 < t->level[d] && S_AT(t, p)->start + S_AT(t, p)->dur <= s->start)
                    p++;
                if (p < t->level[d] && S_AT(t, p)->start <= s->start)
                    acc[S_AT(t, p)->name].self -= c;
            }
        }
    }
    free(which);
    struct row *rows = vt_xmalloc((ntouched + 1) * sizeof(*rows));
    for (size_t i = 0; i < ntouched; i++)
        rows[i] = acc[touched[i]];
    free(acc);
    free(touched);
    sort_key = q->sort;
    sort_ix = ix;
    if (ntouched > 1)
        qsort(rows, ntouched, sizeof(*rows), cmp_row);
    static const char *sorts[] = {"total", "self", "count", "name"};
    enum vt_err err = vt_buf_printf(out,
                                    "{\"t0\":%.3f,\"t1\":%.3f,\"sort\":\"%s\",\"slices\":%llu,"
                                    "\"functions\":%zu,\"rows\":[",
                                    vt_index_rel_us(ix, t0), vt_index_rel_us(ix, t1),
                                    sorts[q->sort], (unsigned long long)slices, ntouched);
    for (size_t i = 0; i < ntouched && i < (size_t)q->limit && err == VT_OK; i++) {
        size_t nl;
        const char *name = vt_index_name(ix, rows[i].name, &nl);
        err = vt_buf_adds(out, i ? ",[" : "[");
        if (err == VT_OK)
            err = vt_buf_add(out, name, nl);
        if (err == VT_OK)
            err = vt_buf_printf(out, ",%.3f,%.3f,%llu]", (double)rows[i].total / 1000.0,
                                (double)(rows[i].self > 0 ? rows[i].self : 0) / 1000.0,
                                (unsigned long long)rows[i].count);
    }
    free(rows);
    if (err == VT_OK)
        err = vt_buf_adds(out, "]}");
    return err;
}
