/* load.c: trace file -> struct vt_vdb (trace, timeline, counter and object
 * indexes), through the shared reader in tracer/format/.
 *
 * Decides what vdb accepts: VizTracer refused a file without
 * "viztracer_metadata" or older than 0.9.5 ("Error, json file version too
 * old."); our writer's own version numbers start at 0.1.0, so a file that
 * carries our writer's marks ("vdb" or "baseTimeNanoseconds", which
 * VizTracer only wrote from 1.0 on) is never "too old".
 */
#include "internal.h"

#include <stdlib.h>
#include <string.h>

#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"

#define VT_VDB_OLDEST "0.9.5"

/* The marks being sorted, for mark_cmp (qsort has no context argument).
 * Set only inside index_marks; vdb is single-threaded. */
static const struct vt_trace_event *sort_base;

static int
mark_cmp(const void *a, const void *b)
{
    uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
    int64_t tx = sort_base[x].ts, ty = sort_base[y].ts;
    if (tx != ty)
        return tx < ty ? -1 : 1;
    return x < y ? -1 : (x > y ? 1 : 0);
}

/* Indices of the marks of the given kinds (a string of ph letters), sorted
 * by time, file order among equal times. Owned result. */
static uint32_t *
index_marks(const struct vt_trace *t, const char *kinds, size_t *n)
{
    uint32_t *idx = vt_xmalloc((t->marks.n + 1) * sizeof(*idx));
    *n = 0;
    for (size_t i = 0; i < t->marks.n; i++)
        if (strchr(kinds, t->marks.v[i].ph))
            idx[(*n)++] = (uint32_t)i;
    sort_base = t->marks.v;
    qsort(idx, *n, sizeof(*idx), mark_cmp);
    sort_base = NULL;
    return idx;
}

enum vt_err
vt_vdb__attach(struct vt_vdb *v, struct vt_trace *t)
{
    v->trace = t;
    if (t->marks.n >= UINT32_MAX) {
        vt_log_error("vdb: too many events");
        return VT_ERR_TOOBIG;
    }
    v->tl = vt_timeline_create(t);
    if (!v->tl) {
        vt_log_error("vdb: the trace has no function events to walk");
        return VT_ERR_FORMAT;
    }
    v->counters = index_marks(t, "C", &v->ncounters);
    v->objects = index_marks(t, "NOD", &v->nobjects);
    return VT_OK;
}

static int
too_old(const struct vt_trace *t)
{
    if (!t->metadata)
        return 1;
    if (cJSON_GetObjectItemCaseSensitive(t->metadata, "vdb") ||
        cJSON_GetObjectItemCaseSensitive(t->metadata, "baseTimeNanoseconds"))
        return 0;
    return t->version && vt_reader_version_cmp(t->version, VT_VDB_OLDEST) < 0;
}

enum vt_err
vt_vdb__load(struct vt_vdb *v, const char *path)
{
    struct vt_trace *t;
    char err[512];
    enum vt_err rc = vt_reader_load(path, &t, err, sizeof(err));
    if (rc != VT_OK) {
        vt_log_error("vdb: %s: %s", path, err);
        return rc;
    }
    if (too_old(t)) {
        vt_log_error("Error, json file version too old.");
        vt_reader_free(t);
        return VT_ERR_FORMAT;
    }
    return vt_vdb__attach(v, t);
}

void
vt_vdb__fini(struct vt_vdb *v)
{
    vt_timeline_destroy(v->tl);
    vt_reader_free(v->trace);
    free(v->counters);
    free(v->objects);
    FILE *out = v->out;
    memset(v, 0, sizeof(*v));
    v->out = out;
}
