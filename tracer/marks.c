/* marks.c: VizTracer 1.1's methods around a trace's time line and its
 * processes: the synchronization marker that --align_combine aligns traces
 * on, and the callback a forked child runs (set_afterfork).
 *
 * set_sync_marker() takes CLOCK_MONOTONIC, the clock of every event's ts
 * (clock.h), so the marker needs no conversion at dump (dump.c writes it
 * into viztracer_metadata as microseconds, as VizTracer does).
 *
 * _after_fork() is what viztracer/_fork.py calls in a forked child: the
 * thread states of vt_tracer__after_fork() (thread.c), then the child counts
 * max_stack_depth from the fork (the calls open in its thread at the fork
 * are the base, as VizTracer's reset_stack() in a multiprocessing child
 * makes them), then the set_afterfork() callback, as VizTracer runs it
 * after reset_stack(); in every forked child (VizTracer: multiprocessing's
 * only).
 *
 * _name_shared(name) is what viztracer/_fork.py calls when a child learns
 * its process name (multiprocessing's after-fork hook): the name its crash
 * trace carries (crash.c), unless the tracer has a process_name of its own.
 */
#include "internal.h"

PyObject *
vt_tracer__set_sync_marker(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    if (t->sync_marker_ns != 0 &&
        PyErr_WarnEx(PyExc_RuntimeWarning, "Synchronization marker already set", 1) < 0)
        return NULL; /* warnings turned into errors */
    t->sync_marker_ns = vt_clock_mono_ns();
    Py_RETURN_NONE;
}

PyObject *
vt_tracer__get_sync_marker(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    if (t->sync_marker_ns == 0)
        Py_RETURN_NONE;
    return PyFloat_FromDouble((double)t->sync_marker_ns / 1000.0);
}

PyObject *
vt_tracer__set_afterfork(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    Py_ssize_t n = PyTuple_GET_SIZE(args);
    if (n < 1 || !PyCallable_Check(PyTuple_GET_ITEM(args, 0))) {
        PyErr_SetString(PyExc_TypeError, "set_afterfork(callback, *args, **kwargs): callback "
                                         "must be callable");
        return NULL;
    }
    PyObject *rest = PyTuple_GetSlice(args, 1, n);          /* new ref */
    PyObject *kwargs = kw ? PyDict_Copy(kw) : PyDict_New(); /* new ref */
    PyObject *cb = rest && kwargs ? PyTuple_Pack(3, PyTuple_GET_ITEM(args, 0), rest, kwargs)
                                  : NULL; /* new ref */
    Py_XDECREF(rest);
    Py_XDECREF(kwargs);
    if (cb == NULL)
        return NULL;
    Py_XSETREF(t->afterfork, cb);
    Py_RETURN_NONE;
}

PyObject *
vt_tracer__forked(struct vt_tracer *t, PyObject *unused)
{
    PyObject *r = vt_tracer__after_fork(t, unused); /* new ref: None */
    Py_XDECREF(r);
    /* The calling thread's state, if it has one (it is the child's only
     * thread): its open calls stay open, and what the function that forked
     * calls next is the child's root, like multiprocessing's
     * Process._bootstrap, in which VizTracer resets the depth to 0: its
     * calls are at depth 1. The call open on top is os.fork() itself (a C
     * call, when recorded), which returns before that. */
    struct vt_thread *th = vt_tracer__tls.serial == t->serial ? vt_tracer__tls.thread : NULL;
    uint32_t base = 0;
    if (t->collecting && th) {
        base = th->depth;
        if (base > 0 && (th->stack[base - 1].what & VT_EVENT_KIND_MASK) == VT_EVENT_C)
            base--;
        base++;
    }
    t->fork_depth = base;
    t->max_depth = vt_tracer__tracer_depth(t);
    if (t->afterfork == NULL)
        Py_RETURN_NONE;
    PyObject *cb = t->afterfork; /* the callback may replace it */
    Py_INCREF(cb);
    PyObject *cargs = PyTuple_New(1 + PyTuple_GET_SIZE(PyTuple_GET_ITEM(cb, 1))); /* new ref */
    if (cargs == NULL) {
        Py_DECREF(cb);
        return NULL;
    }
    Py_INCREF(t);
    PyTuple_SET_ITEM(cargs, 0, (PyObject *)t);
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(PyTuple_GET_ITEM(cb, 1)); i++) {
        PyObject *a = PyTuple_GET_ITEM(PyTuple_GET_ITEM(cb, 1), i); /* borrowed */
        Py_INCREF(a);
        PyTuple_SET_ITEM(cargs, i + 1, a);
    }
    r = PyObject_Call(PyTuple_GET_ITEM(cb, 0), cargs, PyTuple_GET_ITEM(cb, 2));
    Py_DECREF(cargs);
    if (r == NULL) {
        /* Shown, not raised: the child's own set-up (viztracer/_fork.py)
         * goes on after this, as multiprocessing goes on past a failed
         * after-fork callback of VizTracer's. */
        PyErr_WriteUnraisable(PyTuple_GET_ITEM(cb, 0));
    }
    Py_XDECREF(r);
    Py_DECREF(cb);
    Py_RETURN_NONE;
}

PyObject *
vt_tracer__name_shared(struct vt_tracer *t, PyObject *name)
{
    if (!PyUnicode_Check(name)) {
        PyErr_SetString(PyExc_TypeError, "_name_shared(name): name must be a str");
        return NULL;
    }
    const char *s = PyUnicode_AsUTF8(name);
    if (s == NULL)
        return NULL;
    if (t->process_name == NULL)
        vt_tracer__crash_set_name(s);
    Py_RETURN_NONE;
}
