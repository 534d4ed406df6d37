/* event.h: the fixed-size record the hot path writes, one per finished
 * function or logged event.
 *
 * Plain data, no Python: the tracer stores raw ticks and a tagged pointer,
 * and turns them into names and microseconds only at dump time.
 */
#ifndef VT_TRACER_EVENT_H
#define VT_TRACER_EVENT_H

#include <stdint.h>

/* The low bits of vt_event.what say what it points to. Every pointed-to
 * object is at least 8-byte aligned, so the tag never collides. */
enum vt_event_kind {
    VT_EVENT_PY = 0,     /* what: PyCodeObject *, one strong reference held */
    VT_EVENT_C = 1,      /* what: PyMethodDef *; extra: owner (module name or type), strong ref */
    VT_EVENT_CUSTOM = 2, /* extra: dict of an instant/counter/object event; ts added at dump */
    VT_EVENT_RAW = 3,    /* extra: dict given to add_raw(), written as it is (plus pid/tid) */
};

#define VT_EVENT_KIND_MASK ((uintptr_t)3)

struct vt_event {
    int64_t start;       /* ticks at entry (or the timestamp of a custom event) */
    int64_t end;         /* ticks at exit; == start for custom events */
    uintptr_t what;      /* tagged pointer, see enum vt_event_kind */
    void *extra;         /* owned PyObject *: C owner, args dict or custom dict; or NULL */
    int32_t caller_line; /* line of the call in the caller (vdb mode), or -1 */
    uint32_t task;       /* asyncio task track (--log_async), or 0 = the thread's */
};

static inline enum vt_event_kind
vt_event_kind(const struct vt_event *e)
{
    return (enum vt_event_kind)(e->what & VT_EVENT_KIND_MASK);
}

static inline void *
vt_event_ptr(const struct vt_event *e)
{
    return (void *)(e->what & ~VT_EVENT_KIND_MASK);
}

#endif
