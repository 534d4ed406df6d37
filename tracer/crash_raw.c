/* crash_raw.c: what a crash trace reads from Python objects: the names
 * the name log lacks (in the fatal-signal handler, supervise.c), and the
 * args and custom events held as dicts, rendered as JSON into the extras
 * log (when an event is recorded, and in the handler for the calls still
 * open). Everything here reads objects as they lie in memory, as
 * faulthandler reads a traceback: no allocation, no lock, no Python call
 * that could run code; a corrupt object may fault, and then the process
 * dies by the signal with what was written so far (crash.h).
 */
#include "internal.h"

#include <stdio.h>
#include <string.h>

#include "crash.h"

/* ---- naming in the fatal handler --------------------------------------- */

/* Keys the handler logged (it cannot grow the key set). */
#define REST_CAP 16384
static struct {
    uintptr_t what, owner;
} rest[REST_CAP];

/* UTF-8 of str s into out (cap bytes), read from the object as it lies in
 * memory, as faulthandler reads names: no allocation, no Python call. */
static size_t
raw_utf8(PyObject *s, char *out, size_t cap)
{
    if (s == NULL || Py_TYPE(s) != &PyUnicode_Type)
        return 0;
#if PY_VERSION_HEX < 0x030C0000
    if (!PyUnicode_IS_READY(s))
        return 0;
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    size_t o = 0;
    for (Py_ssize_t i = 0; i < n && o + 4 <= cap; i++) {
        Py_UCS4 c = PyUnicode_READ(kind, data, i);
        if (c < 0x80) {
            out[o++] = (char)c;
        } else if (c < 0x800) {
            out[o++] = (char)(0xC0 | (c >> 6));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else if (c >= 0xD800 && c <= 0xDFFF) {
            out[o++] = '?'; /* a lone surrogate */
        } else if (c < 0x10000) {
            out[o++] = (char)(0xE0 | (c >> 12));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        } else {
            out[o++] = (char)(0xF0 | (c >> 18));
            out[o++] = (char)(0x80 | ((c >> 12) & 0x3F));
            out[o++] = (char)(0x80 | ((c >> 6) & 0x3F));
            out[o++] = (char)(0x80 | (c & 0x3F));
        }
    }
    return o;
}

static size_t
raw_cstr(const char *s, char *out, size_t cap)
{
    size_t n = 0;
    while (s && s[n] && n < cap) {
        out[n] = s[n];
        n++;
    }
    return n;
}

/* 1 when (what, owner) is new to both the key set and the handler's. */
static int
rest_new(uintptr_t what, uintptr_t owner)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (g->keys_cap) {
        size_t j = vt_crash_key_hash(what, owner) & (g->keys_cap - 1);
        for (; g->keys[j].what != 0; j = (j + 1) & (g->keys_cap - 1))
            if (g->keys[j].what == what && g->keys[j].owner == owner)
                return 0;
    }
    size_t j = vt_crash_key_hash(what, owner) & (REST_CAP - 1);
    for (size_t probes = 0; probes < REST_CAP; probes++, j = (j + 1) & (REST_CAP - 1)) {
        if (rest[j].what == what && rest[j].owner == owner)
            return 0;
        if (rest[j].what == 0) {
            rest[j].what = what;
            rest[j].owner = owner;
            return 1;
        }
    }
    return 0; /* full */
}

static void
name_one(uintptr_t what, uintptr_t owner)
{
    static char name[1024], file[2048]; /* the handler runs once */
    if (what == 0 || !rest_new(what, owner))
        return;
    size_t nl = 0, fl = 0;
    int line = 0;
    if ((what & VT_EVENT_KIND_MASK) == VT_EVENT_PY) {
        PyCodeObject *co = (PyCodeObject *)what;
        if (Py_TYPE(co) != &PyCode_Type)
            return;
        nl = raw_utf8(co->co_qualname, name, sizeof(name));
        fl = raw_utf8(co->co_filename, file, sizeof(file));
        line = co->co_firstlineno;
    } else if ((what & VT_EVENT_KIND_MASK) == VT_EVENT_C) {
        PyMethodDef *ml = (PyMethodDef *)(what & ~VT_EVENT_KIND_MASK);
        PyObject *o = (PyObject *)owner;
        if (o && PyType_Check(o))
            nl = raw_cstr(((PyTypeObject *)o)->tp_name, name, sizeof(name) - 1);
        else if (o && PyUnicode_Check(o))
            nl = raw_utf8(o, name, sizeof(name) - 1);
        if (nl)
            name[nl++] = '.';
        nl += raw_cstr(ml->ml_name, name + nl, sizeof(name) - nl);
    } else {
        return;
    }
    vt_tracer__crash_log_name(what, owner, line, name, nl, file, fl);
}

/* The slots the supervisor writes (shm.c): the newest min(written, cap),
 * spooled ones included (tracer_entries=0), whose objects the records in
 * the spool file keep alive. */
static uint64_t
slots_written(const struct vt_ring *r)
{
    return r->written < r->cap ? r->written : r->cap;
}

/* The k-th oldest of those n slots. */
static const struct vt_event *
slot_newest(const struct vt_ring *r, uint64_t n, uint64_t k)
{
    return &r->slots[(r->written - n + k) % r->cap];
}

void
vt_tracer__crash_name_rest(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (g->hdr == NULL)
        return;
    for (int i = 0; i < VT_SHM_MAX_THREADS; i++) {
        struct vt_thread *th = g->chunk[i];
        if (th == NULL)
            continue;
        uint64_t n = slots_written(&th->ring);
        for (uint64_t k = 0; k < n; k++) {
            const struct vt_event *e = slot_newest(&th->ring, n, k);
            enum vt_event_kind kind = vt_event_kind(e);
            if (kind == VT_EVENT_PY || kind == VT_EVENT_C)
                name_one(e->what, kind == VT_EVENT_C ? (uintptr_t)e->extra : 0);
        }
        uint32_t depth = th->depth <= VT_STACK_MAX ? th->depth : VT_STACK_MAX;
        for (uint32_t d = 0; d < depth; d++) {
            const struct vt_frame *fr = &th->stack[d];
            name_one(fr->what,
                     (fr->what & VT_EVENT_KIND_MASK) == VT_EVENT_C ? (uintptr_t)fr->extra : 0);
        }
    }
}

/* ---- extras in the fatal handler ---------------------------------------- */

/* A bounded output buffer; full is sticky. */
struct rj {
    char *buf;
    size_t cap, len;
    int full;
};

static void
rj_put(struct rj *o, const char *s, size_t n)
{
    if (o->full || n > o->cap - o->len) {
        o->full = 1;
        return;
    }
    memcpy(o->buf + o->len, s, n);
    o->len += n;
}

/* Code point c of a JSON string: escaped, or UTF-8 (a lone surrogate: ?). */
static void
rj_char(struct rj *o, Py_UCS4 c)
{
    char u[8];
    size_t k = 0;
    if (c == '"' || c == '\\') {
        u[k++] = '\\';
        u[k++] = (char)c;
    } else if (c < 0x20) {
        static const char hex[] = "0123456789abcdef";
        u[0] = '\\';
        u[1] = 'u';
        u[2] = '0';
        u[3] = '0';
        u[4] = hex[c >> 4];
        u[5] = hex[c & 15];
        k = 6;
    } else if (c < 0x80) {
        u[k++] = (char)c;
    } else if (c < 0x800) {
        u[k++] = (char)(0xC0 | (c >> 6));
        u[k++] = (char)(0x80 | (c & 0x3F));
    } else if (c >= 0xD800 && c <= 0xDFFF) {
        u[k++] = '?';
    } else if (c < 0x10000) {
        u[k++] = (char)(0xE0 | (c >> 12));
        u[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[k++] = (char)(0x80 | (c & 0x3F));
    } else {
        u[k++] = (char)(0xF0 | (c >> 18));
        u[k++] = (char)(0x80 | ((c >> 12) & 0x3F));
        u[k++] = (char)(0x80 | ((c >> 6) & 0x3F));
        u[k++] = (char)(0x80 | (c & 0x3F));
    }
    rj_put(o, u, k);
}

/* A str as a JSON string, read from the object as raw_utf8() does. */
static void
rj_str(struct rj *o, PyObject *s)
{
#if PY_VERSION_HEX < 0x030C0000
    if (!PyUnicode_IS_READY(s)) {
        rj_put(o, "null", 4);
        return;
    }
#endif
    Py_ssize_t n = PyUnicode_GET_LENGTH(s);
    int kind = PyUnicode_KIND(s);
    const void *data = PyUnicode_DATA(s);
    rj_put(o, "\"", 1);
    if (PyUnicode_IS_ASCII(s)) {
        /* the common case (reprs, names), rendered on every recorded call
         * with args: the runs that need no escape are copied whole */
        const char *a = data;
        Py_ssize_t i = 0;
        while (i < n && !o->full) {
            Py_ssize_t run = i;
            while (run < n && a[run] != '"' && a[run] != '\\' && (unsigned char)a[run] >= 0x20)
                run++;
            rj_put(o, a + i, (size_t)(run - i));
            if (run < n)
                rj_char(o, (unsigned char)a[run]);
            i = run + 1;
        }
    } else {
        for (Py_ssize_t i = 0; i < n && !o->full; i++)
            rj_char(o, PyUnicode_READ(kind, data, i));
    }
    rj_put(o, "\"", 1);
}

/* A value as JSON: dicts (str keys), lists, tuples, str, int, float,
 * bool, None; anything else (which the dump would repr) is null. */
static void
rj_value(struct rj *o, PyObject *v, int depth)
{
    if (v == NULL || depth > 16 || v == Py_None) {
        rj_put(o, "null", 4); /* also anything not below */
        return;
    }
    if (v == Py_True) {
        rj_put(o, "true", 4);
    } else if (v == Py_False) {
        rj_put(o, "false", 5);
    } else if (PyUnicode_Check(v)) {
        rj_str(o, v);
    } else if (PyLong_Check(v)) {
        int overflow = 0;
        long long x = PyLong_AsLongLongAndOverflow(v, &overflow);
        char num[32];
        int n = overflow ? 0 : snprintf(num, sizeof(num), "%lld", x);
        if (n > 0)
            rj_put(o, num, (size_t)n);
        else
            rj_put(o, "null", 4);
    } else if (PyFloat_Check(v)) {
        double d = PyFloat_AS_DOUBLE(v);
        char num[40];
        int n = d - d == 0 ? snprintf(num, sizeof(num), "%.17g", d) : 0; /* finite only */
        if (n > 0)
            rj_put(o, num, (size_t)n);
        else
            rj_put(o, "null", 4);
    } else if (PyDict_Check(v)) {
        PyObject *k, *x;
        Py_ssize_t pos = 0;
        int first = 1;
        rj_put(o, "{", 1);
        while (!o->full && PyDict_Next(v, &pos, &k, &x)) {
            if (!PyUnicode_Check(k))
                continue;
            if (!first)
                rj_put(o, ",", 1);
            first = 0;
            rj_str(o, k);
            rj_put(o, ":", 1);
            rj_value(o, x, depth + 1);
        }
        rj_put(o, "}", 1);
    } else if (PyList_Check(v) || PyTuple_Check(v)) {
        Py_ssize_t n = PySequence_Fast_GET_SIZE(v);
        rj_put(o, "[", 1);
        for (Py_ssize_t i = 0; i < n && !o->full; i++) {
            if (i)
                rj_put(o, ",", 1);
            rj_value(o, PySequence_Fast_GET_ITEM(v, i), depth + 1);
        }
        rj_put(o, "]", 1);
    } else {
        rj_value(o, NULL, depth);
    }
}

/* The segment i of the extras log. */
static unsigned char *
segment(struct vt_shm_header *h, uint64_t seg_len, uint64_t i)
{
    return (unsigned char *)h + h->extras_off + i * seg_len;
}

void
vt_tracer__crash_render(PyObject *d, int64_t start)
{
    struct vt_shm_header *h = vt_tracer__crash.hdr;
    if (h == NULL || d == NULL || !PyDict_Check(d))
        return;
    uint64_t seg_len = (h->extras_cap / VT_SHM_EXTRA_SEGS) & ~(uint64_t)7;
    for (int tries = 0; tries < 2; tries++) {
        unsigned char *seg = segment(h, seg_len, h->extras_seg);
        uint64_t used;
        memcpy(&used, seg, sizeof(used));
        /* a multiple of 8, as every record's size is */
        uint64_t room = seg_len - VT_SHM_EXTRA_SEG_HEAD - used;
        unsigned char *p = seg + VT_SHM_EXTRA_SEG_HEAD + used;
        if (room > sizeof(struct vt_shm_extra)) {
            /* rendered in place: a record is only published by the count */
            struct rj o = {.buf = (char *)p + sizeof(struct vt_shm_extra),
                           .cap = room - sizeof(struct vt_shm_extra)};
            rj_value(&o, d, 0);
            if (!o.full) {
                struct vt_shm_extra rec = {
                    .key = (uint64_t)(uintptr_t)d, .start = start, .len = (uint32_t)o.len};
                memcpy(p, &rec, sizeof(rec));
                uint64_t total = (sizeof(rec) + o.len + 7) & ~(uint64_t)7;
                __atomic_store_n((uint64_t *)(void *)seg, used + total, __ATOMIC_RELEASE);
                return;
            }
        }
        if (used == 0)
            return; /* larger than a segment: lost (counted by the reader) */
        /* the next segment, emptied: its records were the oldest */
        uint64_t next = (h->extras_seg + 1) % VT_SHM_EXTRA_SEGS;
        __atomic_store_n((uint64_t *)(void *)segment(h, seg_len, next), 0, __ATOMIC_RELEASE);
        h->extras_seg = next;
    }
}

void
vt_tracer__crash_render_open(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (g->hdr == NULL)
        return;
    for (int i = 0; i < VT_SHM_MAX_THREADS; i++) {
        struct vt_thread *th = g->chunk[i];
        if (th == NULL)
            continue;
        uint32_t depth = th->depth <= VT_STACK_MAX ? th->depth : VT_STACK_MAX;
        for (uint32_t d = 0; d < depth; d++)
            if ((th->stack[d].what & VT_EVENT_KIND_MASK) == VT_EVENT_PY)
                vt_tracer__crash_render(th->stack[d].args, th->stack[d].start);
    }
}
