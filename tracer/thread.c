/* thread.c: per-thread state: the thread-local lookup and registration at
 * a thread's first event, the tracer's list of threads, custom events
 * pushed into a thread's ring, and releasing what buffered events hold.
 *
 * A state outlives its thread: its ring holds that thread's events until
 * the dump. The hot path finds its state through vt_tracer__thread()
 * (internal.h), one thread-local load and compare; this file owns
 * everything else about it.
 */
#include "internal.h"

#include <stdlib.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include "spool.h"

/* The name of a threading.Thread that is already running, read without
 * running Python code (we may be inside the hook): sys.modules ->
 * threading._active[ident] -> its instance dict's "_name". NULL if unknown. */
static PyObject *
quiet_name(unsigned long ident)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *name = NULL;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    PyObject *threading =
        modules ? PyDict_GetItemString(modules, "threading") : NULL; /* borrowed */
    PyObject *mdict = threading && PyModule_Check(threading) ? PyModule_GetDict(threading) : NULL;
    PyObject *active = mdict ? PyDict_GetItemString(mdict, "_active") : NULL; /* borrowed */
    PyObject *key = active && PyDict_Check(active) ? PyLong_FromUnsignedLong(ident) : NULL;
    PyObject *thr = key ? PyDict_GetItem(active, key) : NULL; /* borrowed */
    Py_XDECREF(key);
    PyObject **dictptr = thr ? _PyObject_GetDictPtr(thr) : NULL;
    if (dictptr && *dictptr && PyDict_Check(*dictptr)) {
        name = PyDict_GetItemString(*dictptr, "_name"); /* borrowed */
        if (name && PyUnicode_Check(name))
            Py_INCREF(name);
        else
            name = NULL;
    }
    PyErr_Clear(); /* unknown: learnt later, or a default name at dump */
    PyErr_Restore(et, ev, tb);
    return name;
}

_Thread_local struct vt_tls vt_tracer__tls;

/* Allocates and links a state for the calling thread; NULL when out of
 * memory (the stack or ring mapping failed). */
static struct vt_thread *
thread_create(struct vt_tracer *t)
{
    /* One mapping for the state, its stack and its ring, shared with the
     * supervisor when crash-safe (crash.c). Failure is not fatal: this runs
     * inside the hook, which must not abort the program; the caller counts
     * the failure instead. */
    struct vt_thread *th = vt_tracer__thread_alloc(t->entries ? t->entries : VT_SPOOL_CAP);
    if (th == NULL)
        return NULL;
    /* keep every event; when that cannot be set up, a ring of as many */
    if (t->entries == 0 && vt_spool_attach(&th->ring) != VT_OK)
        t->spool_lost = 1;
    th->tid = (long)syscall(SYS_gettid);
    th->ident = PyThread_get_thread_ident();
    th->name = quiet_name(th->ident);
    vt_tracer__thread_shared(th);
    th->next = t->threads;
    t->threads = th;
    return th;
}

void
vt_tracer__thread_name_retry(struct vt_thread *th)
{
    if (th->name == NULL) {
        th->name = quiet_name(th->ident);
        vt_tracer__thread_shared(th);
    }
}

struct vt_thread *
vt_tracer__thread_register(struct vt_tracer *t)
{
    struct vt_thread *th = thread_create(t);
    vt_tracer__tls_settle(&vt_tracer__tls, t->serial, th, &t->untraced_threads);
    return th;
}

void
vt_tracer__push_custom(struct vt_tracer *t, PyObject *dict, int raw)
{
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL) {
        Py_DECREF(dict);
        return;
    }
    int evicted;
    struct vt_event *e = vt_ring_next(&th->ring, &evicted);
    int held = evicted && vt_ring_full(&th->ring); /* before the slot is written */
    struct vt_event old = *e;
    e->start = e->end = vt_clock_now();
    e->caller_line = -1;
    e->task = th->task;
    e->what = raw ? VT_EVENT_RAW : VT_EVENT_CUSTOM;
    e->extra = dict;
    vt_tracer__crash_render(dict, e->start); /* readable after a SIGKILL too */
    if (held)
        vt_tracer__event_release(&old);
}

void
vt_tracer__spool_release(struct vt_ring *r)
{
    vt_spool_sync(r);
    uint64_t chunks = vt_spool_chunks(r);
    struct vt_event *buf = chunks ? malloc(VT_SPOOL_CHUNK * sizeof(*buf)) : NULL;
    for (uint64_t c = 0; buf && c < chunks; c++) {
        if (vt_spool_read(r, c, buf) != VT_OK)
            continue; /* unreadable: what those events hold is leaked, never freed twice */
        for (uint64_t i = 0; i < VT_SPOOL_CHUNK; i++)
            vt_tracer__event_release(&buf[i]);
    }
    free(buf); /* without it (out of memory), the same leak */
    vt_spool_forget(r);
}

void
vt_tracer__threads_clear(struct vt_tracer *t)
{
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        vt_tracer__spool_release(&th->ring);
        uint64_t n = vt_ring_len(&th->ring);
        uint64_t k = n ? vt_ring_index(&th->ring, 0) : 0;
        for (uint64_t i = 0; i < n; i++) {
            vt_tracer__event_release(&th->ring.slots[k]);
            if (++k == th->ring.cap)
                k = 0;
        }
        vt_ring_reset(&th->ring);
    }
}

void
vt_tracer__fcache_clear(struct vt_tracer *t)
{
    for (struct vt_thread *th = t->threads; th; th = th->next)
        for (size_t i = 0; i < VT_FCACHE_SIZE; i++)
            Py_CLEAR(th->fkey[i]);
}

/* Frees one state whose ring is already empty; th is dead after this. */
static void
thread_free(struct vt_thread *th)
{
    for (uint32_t i = 0; i < th->depth; i++)
        vt_tracer__frame_drop(&th->stack[i]);
    for (size_t i = 0; i < VT_FCACHE_SIZE; i++)
        Py_CLEAR(th->fkey[i]);
    free(th->lcache);
    Py_CLEAR(th->name);
    vt_spool_detach(&th->ring);
    vt_tracer__thread_release(th); /* the state, its stack and its ring */
}

void
vt_tracer__threads_destroy(struct vt_tracer *t)
{
    vt_tracer__threads_clear(t);
    vt_tracer__fcache_clear(t);
    struct vt_thread *th = t->threads;
    while (th) {
        struct vt_thread *next = th->next;
        thread_free(th);
        th = next;
    }
    t->threads = NULL;
}

PyObject *
vt_tracer__after_fork(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    unsigned long me = PyThread_get_thread_ident();
    vt_tracer__threads_clear(t);
    struct vt_thread **link = &t->threads;
    while (*link) {
        struct vt_thread *th = *link;
        if (th->ident == me) {
            th->tid = (long)syscall(SYS_gettid); /* the child's own thread id */
            link = &th->next;
        } else {
            *link = th->next; /* that thread does not exist in the child */
            thread_free(th);
        }
    }
    t->overflow = 0;
    t->dropped = 0;
    /* Of the threads that could not be traced, only this one (if it was one)
     * exists in the child. */
    t->untraced_threads = vt_tracer__tls.serial == t->serial && vt_tracer__tls.thread == NULL;
    Py_CLEAR(t->data);
    vt_tracer__crash_child(t); /* a shared area of the child's own, if the parent had one */
    Py_RETURN_NONE;
}
