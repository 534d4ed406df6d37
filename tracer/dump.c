/* dump.c: buffered events -> the trace file, at save time, with the GIL.
 *
 * Steps: convert ticks with the start and end anchors; keep the newest
 * `entries` events over all threads (each ring is ordered by end time, so a
 * binary search on a cut-off time finds them without sorting); write the
 * process and thread names, every event, the metadata and file_info through
 * the streaming writer; release what the events held. Names are resolved
 * once per function (names.c).
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "base/log.h"
#include "base/mem.h"
#include "tracer.h"
#include "format/format.h"
#include "spool.h"

/* Events of all threads that ended at or after cut. */
static uint64_t
count_from(struct vt_tracer *t, int64_t cut)
{
    uint64_t n = 0;
    for (struct vt_thread *th = t->threads; th; th = th->next)
        n += vt_ring_len(&th->ring) - vt_ring_lower_bound(&th->ring, cut);
    return n;
}

/* The earliest end time to keep so that at most entries events remain. */
static int64_t
cutoff(struct vt_tracer *t)
{
    uint64_t total = count_from(t, INT64_MIN);
    if (t->entries == 0 || total <= t->entries)
        return INT64_MIN; /* 0: every event is kept */
    int64_t lo = INT64_MAX, hi = INT64_MIN;
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        uint64_t n = vt_ring_len(&th->ring);
        if (n == 0)
            continue;
        if (vt_ring_at(&th->ring, 0)->end < lo)
            lo = vt_ring_at(&th->ring, 0)->end;
        if (vt_ring_at(&th->ring, n - 1)->end > hi)
            hi = vt_ring_at(&th->ring, n - 1)->end;
    }
    hi++;
    /* Smallest cut with count_from(cut) <= entries. */
    while (lo < hi) {
        int64_t mid = lo + (hi - lo) / 2;
        if (count_from(t, mid) <= t->entries)
            hi = mid;
        else
            lo = mid + 1;
    }
    return lo;
}

static void
write_json(struct vt_writer *w, cJSON *item)
{
    char *s = cJSON_PrintUnformatted(item);
    if (s) {
        vt_writer_event(w, s, strlen(s));
        cJSON_free(s);
    }
}

static void
write_meta(struct vt_writer *w, long pid, long tid, const char *kind, PyObject *name,
           const char *fallback)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "ph", "M");
    cJSON_AddNumberToObject(ev, "pid", (double)pid);
    cJSON_AddNumberToObject(ev, "tid", (double)tid);
    cJSON_AddStringToObject(ev, "name", kind);
    cJSON *args = cJSON_AddObjectToObject(ev, "args");
    if (name && PyUnicode_Check(name))
        cJSON_AddItemToObject(args, "name", vt_tracer__to_json(name));
    else
        cJSON_AddStringToObject(args, "name", fallback);
    write_json(w, ev);
    cJSON_Delete(ev);
}

/* The process name: the tracer's, multiprocessing's (if loaded), or MainProcess. */
static PyObject *
process_name(struct vt_tracer *t)
{
    if (t->process_name) {
        Py_INCREF(t->process_name);
        return t->process_name;
    }
    PyObject *key = PyUnicode_FromString("multiprocessing"); /* new ref */
    PyObject *mp = key ? PyImport_GetModule(key) : NULL;     /* new ref, only if loaded */
    Py_XDECREF(key);
    PyObject *name = NULL;
    if (mp) {
        PyObject *cur = PyObject_CallMethod(mp, "current_process", NULL); /* new ref */
        if (cur)
            name = PyObject_GetAttrString(cur, "name");
        Py_XDECREF(cur);
        Py_DECREF(mp);
    }
    PyErr_Clear(); /* no multiprocessing name: the default below */
    return name;
}

/* A thread whose name was not learnt when it started: ask threading. */
static PyObject *
thread_name(struct vt_thread *th)
{
    if (th->name) {
        Py_INCREF(th->name);
        return th->name;
    }
    PyObject *name = NULL;
    PyObject *threading = PyImport_ImportModule("threading"); /* new ref */
    if (threading) {
        PyObject *act = PyObject_GetAttrString(threading, "_active");          /* new ref */
        PyObject *key = PyLong_FromUnsignedLong(th->ident);                    /* new ref */
        PyObject *thr = act && key ? PyDict_GetItemWithError(act, key) : NULL; /* borrowed */
        if (thr)
            name = PyObject_GetAttrString(thr, "name");
        Py_XDECREF(key);
        Py_XDECREF(act);
        Py_DECREF(threading);
    }
    PyErr_Clear(); /* unknown thread: "Thread-<tid>" below */
    return name;
}

static void
write_custom(struct vt_writer *w, struct vt_event *e, const struct vt_clock_conv *c, long pid,
             long tid)
{
    cJSON *ev = vt_tracer__to_json((PyObject *)e->extra);
    if (!cJSON_IsObject(ev)) {
        cJSON_Delete(ev);
        return;
    }
    if (!cJSON_HasObjectItem(ev, "pid"))
        cJSON_AddNumberToObject(ev, "pid", (double)pid);
    if (!cJSON_HasObjectItem(ev, "tid"))
        cJSON_AddNumberToObject(ev, "tid", (double)tid);
    if (vt_event_kind(e) == VT_EVENT_CUSTOM && !cJSON_HasObjectItem(ev, "ts")) {
        char ts[40];
        size_t n = vt_writer_format_us(ts, vt_clock_to_ns(c, e->start));
        ts[n] = '\0';
        cJSON_AddRawToObject(ev, "ts", ts);
    }
    write_json(w, ev);
    cJSON_Delete(ev);
}

/* One buffered event of thread th. Inlined: once per event. */
static inline __attribute__((always_inline)) void
write_event(struct vt_writer *w, struct vt_names *names, const struct vt_clock_conv *conv, long pid,
            const struct vt_thread *th, struct vt_event *e)
{
    enum vt_event_kind kind = vt_event_kind(e);
    long tid = e->task ? (long)e->task : th->tid;
    if (kind == VT_EVENT_CUSTOM || kind == VT_EVENT_RAW) {
        write_custom(w, e, conv, pid, tid);
        return;
    }
    size_t len;
    const char *name = vt_names_get(names, e, &len);
    char *args = NULL;
    if (kind == VT_EVENT_PY && e->extra) {
        cJSON *a = vt_tracer__to_json((PyObject *)e->extra);
        args = cJSON_PrintUnformatted(a);
        cJSON_Delete(a);
    }
    vt_writer_fee(w, pid, tid, vt_clock_to_ns(conv, e->start),
                  vt_clock_span_ns(conv, e->end - e->start), name, len, args, e->caller_line);
    cJSON_free(args);
}

/* The events th's ring spooled to the file (tracer_entries=0), oldest
 * first, each released once written (a name is resolved while its code
 * object lives); then the chunks are forgotten. Returns the events that
 * could not be read back (their references are leaked). */
static uint64_t
write_spooled(struct vt_writer *w, struct vt_names *names, const struct vt_clock_conv *conv,
              long pid, struct vt_thread *th, struct vt_event *buf)
{
    uint64_t chunks = vt_spool_chunks(&th->ring), lost = 0;
    for (uint64_t c = 0; c < chunks; c++) {
        if (buf == NULL || vt_spool_read(&th->ring, c, buf) != VT_OK) {
            lost += VT_SPOOL_CHUNK;
            continue;
        }
        for (uint64_t i = 0; i < VT_SPOOL_CHUNK; i++) {
            write_event(w, names, conv, pid, th, &buf[i]);
            vt_tracer__event_release(&buf[i]);
        }
    }
    vt_spool_forget(&th->ring);
    return lost;
}

static char *
metadata_json(struct vt_tracer *t, const struct vt_clock_anchor *end)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "version", VT_FORMAT_VIZTRACER_VERSION);
    cJSON_AddStringToObject(m, "viztracer_c_version", VT_VERSION);
    cJSON_AddBoolToObject(m, "overflow", t->overflow);
    if (t->dropped)
        cJSON_AddNumberToObject(m, "dropped_events", (double)t->dropped);
    if (t->untraced_threads)
        cJSON_AddNumberToObject(m, "untraced_threads", (double)t->untraced_threads);
    if (t->flags & VT_F_VDB)
        cJSON_AddBoolToObject(m, "vdb", 1);
    if (t->sync_marker_ns != 0) { /* microseconds with three decimals, as every ts */
        char us[32];
        snprintf(us, sizeof(us), "%lld.%03lld", (long long)(t->sync_marker_ns / 1000),
                 (long long)(t->sync_marker_ns % 1000));
        cJSON_AddRawToObject(m, "sync_marker", us);
    }
    char base[32];
    snprintf(base, sizeof(base), "%lld", (long long)(end->real_ns - end->mono_ns));
    cJSON_AddRawToObject(m, "baseTimeNanoseconds", base);
    char *s = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    return s;
}

/* What kept tracer_entries=0 from keeping every event, once a save. */
static void
report_spool(struct vt_tracer *t, uint64_t unread)
{
    const char *dir;
    int err = vt_spool_error(&dir);
    if (err)
        vt_log_error("viztracer: cannot write events to a file in %s (%s): kept the newest "
                     "%llu of each thread since then",
                     dir, strerror(err), (unsigned long long)VT_SPOOL_CAP);
    if (unread)
        vt_log_error("viztracer: %llu events could not be read back from the file in %s",
                     (unsigned long long)unread, dir);
    if (t->spool_lost)
        vt_log_error("viztracer: out of memory: some threads kept only their newest %llu events",
                     (unsigned long long)VT_SPOOL_CAP);
    vt_spool_error_clear();
    t->spool_lost = 0;
}

int
vt_tracer__dump(struct vt_tracer *t, const char *path, uint64_t *count)
{
    struct vt_clock_anchor end;
    struct vt_clock_conv conv;
    vt_clock_anchor_take(&end);
    if (!t->anchored) {
        t->first_start = end;
        t->anchored = 1;
    }
    vt_clock_conv_init(&conv, &t->first_start, &end);
    uint64_t dropped = 0;
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        vt_spool_sync(&th->ring); /* every chunk handed over is in the file */
        dropped += vt_ring_dropped(&th->ring);
    }
    int64_t cut = cutoff(t);
    if (cut != INT64_MIN)
        dropped += count_from(t, INT64_MIN) - count_from(t, cut);
    t->dropped += dropped;
    if (t->dropped)
        t->overflow = 1;

    struct vt_writer *w;
    int errnum;
    enum vt_err err = vt_writer_open(path, &w, &errnum);
    if (err != VT_OK) {
        if (err == VT_ERR_USAGE)
            PyErr_Format(PyExc_ValueError, "Only json and gz are supported: %s", path);
        else
            PyErr_Format(PyExc_OSError, "cannot write %s: %s", path,
                         errnum ? strerror(errnum) : vt_strerror(err));
        return -1;
    }
    long pid = (long)getpid();
    PyObject *pname = process_name(t); /* new ref or NULL */
    write_meta(w, pid, pid, "process_name", pname, "MainProcess");
    Py_XDECREF(pname);

    struct vt_names *names = vt_names_create(t->sanitize_function_name);
    struct vt_event *buf = NULL; /* owned: one chunk read back from the spool */
    uint64_t unread = 0;
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        uint64_t first = vt_ring_lower_bound(&th->ring, cut);
        uint64_t n = vt_ring_len(&th->ring);
        uint64_t chunks = vt_spool_chunks(&th->ring);
        if (first >= n && chunks == 0)
            continue;
        PyObject *tname = thread_name(th); /* new ref or NULL */
        char fallback[48];
        snprintf(fallback, sizeof(fallback), "Thread-%ld", th->tid);
        write_meta(w, pid, th->tid, "thread_name", tname, fallback);
        Py_XDECREF(tname);
        if (chunks && buf == NULL)
            buf = malloc(VT_SPOOL_CHUNK * sizeof(*buf));
        if (chunks)
            unread += write_spooled(w, names, &conv, pid, th, buf);
        uint64_t k = first < n ? vt_ring_index(&th->ring, first) : 0;
        for (uint64_t i = first; i < n; i++) {
            write_event(w, names, &conv, pid, th, &th->ring.slots[k]);
            if (++k == th->ring.cap)
                k = 0;
        }
    }
    free(buf);
    if (unread) {
        t->dropped += unread;
        t->overflow = 1;
    }
    /* asyncio tasks: a track name for each (--log_async). */
    PyObject *key, *tname;
    Py_ssize_t pos = 0;
    while (t->task_names && PyDict_Next(t->task_names, &pos, &key, &tname))
        write_meta(w, pid, PyLong_AsLong(key), "thread_name", tname, "Task");
    Py_CLEAR(t->task_names);
    *count = vt_writer_count(w);
    char *meta = metadata_json(t, &end);
    char *finfo = NULL;
    if (t->file_info) {
        cJSON *fi = cJSON_CreateObject();
        vt_names_file_info(names, fi);
        finfo = cJSON_PrintUnformatted(fi);
        cJSON_Delete(fi);
    }
    vt_names_destroy(names);
    err = vt_writer_close(w, meta, finfo, &errnum);
    cJSON_free(meta);
    cJSON_free(finfo);
    vt_tracer__threads_clear(t);
    report_spool(t, unread);
    /* The hook cannot report when a thread's state cannot be created; the
     * save does, whatever the verbosity, because those events are lost. */
    if (t->untraced_threads)
        vt_log_error("viztracer: %llu thread%s could not be traced (out of memory)",
                     (unsigned long long)t->untraced_threads, t->untraced_threads == 1 ? "" : "s");
    if (err != VT_OK) {
        PyErr_Format(PyExc_OSError, "cannot write %s: %s", path,
                     errnum ? strerror(errnum) : vt_strerror(err));
        return -1;
    }
    if (!t->collecting)
        vt_tracer__crash_state(t, 0); /* saved: a death from now on loses nothing */
    return 0;
}
