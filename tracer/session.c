/* session.c: a tracing session's start and stop, and the threading
 * bootstrap that hooks each thread started while it runs.
 *
 * start() installs the hook mechanisms (profile.c, evalframe.c) and the
 * extras (extras.c) and makes the tracer the active one; stop() removes
 * them and records the calls still open (hook.c). Threads created by the
 * threading module get the profile hook from bootstrap(), their first
 * event, which also learns the thread's name. Runs with the GIL, never on
 * the hot path.
 */
#include "internal.h"

/* ---- the threading bootstrap ---------------------------------------- */

static void
learn_name(struct vt_thread *th)
{
    if (th->name != NULL)
        return;
    PyObject *threading = vt_tracer__loaded_module("threading"); /* new ref */
    PyErr_Clear();
    if (threading == NULL)
        return;
    PyObject *cur = PyObject_CallMethod(threading, "current_thread", NULL); /* new ref */
    Py_DECREF(threading);
    if (cur != NULL)
        th->name = PyObject_GetAttrString(cur, "name");
    Py_XDECREF(cur);
    if (th->name != NULL && !PyUnicode_Check(th->name))
        Py_CLEAR(th->name);
    PyErr_Clear(); /* a thread without a readable name gets a default one at dump */
    vt_tracer__thread_shared(th);
}

/* threading.setprofile() target: called once in each new threading.Thread,
 * for its first event, with (frame, event, arg). */
static PyObject *
bootstrap(PyObject *self, PyObject *args)
{
    (void)self;
    struct vt_tracer *t = vt_tracer__hook_state.active;
    PyObject *frame, *event, *arg;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg))
        return NULL;
    if (t == NULL || !t->collecting) {
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL) {
        /* This thread cannot be traced (counted, reported at save): it
         * needs no hook. */
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    learn_name(th);
    if (t->flags & VT_F_IGNORE_C) {
        /* Frames are seen by the frame hook; the profile hook is not needed. */
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetProfile(vt_tracer__profile, (PyObject *)t);
    if (PyFrame_Check(frame) && PyUnicode_CompareWithASCIIString(event, "call") == 0)
        vt_tracer__profile((PyObject *)t, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

PyMethodDef vt_tracer__bootstrap_def = {"_thread_bootstrap", bootstrap, METH_VARARGS,
                                        "threading.setprofile hook of viztracer"};

void
vt_tracer__hook_thread(struct vt_tracer *t)
{
    if (vt_tracer__hook_state.active != t || !t->collecting)
        return;
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL)
        return; /* cannot be traced: counted, reported at save */
    learn_name(th);
    if (!VT_HAVE_MONITORING && !(t->flags & VT_F_IGNORE_C))
        PyEval_SetProfile(vt_tracer__profile, (PyObject *)t);
}

/* ---- start / stop --------------------------------------------------- */

/* threading.setprofile(func), at once when the program has imported
 * threading, else when it does (viztracer._children.on_import): importing it
 * ourselves would leave it in sys.modules before the program runs, where
 * python3 -c does not put it. Without our package (it is the glue), it is
 * imported now. */
static int
set_threading_profile(PyObject *func)
{
    PyObject *threading = vt_tracer__loaded_module("threading"); /* new ref */
    if (threading == NULL && !PyErr_Occurred()) {
        PyObject *glue = PyImport_ImportModule("viztracer._children"); /* new ref */
        PyObject *r =
            glue ? PyObject_CallMethod(glue, "on_import", "ssO", "threading", "setprofile", func)
                 : NULL; /* new ref */
        Py_XDECREF(glue);
        if (r != NULL) {
            Py_DECREF(r);
            return 0;
        }
        PyErr_Clear();
        threading = PyImport_ImportModule("threading");
    }
    if (threading == NULL)
        return -1;
    PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", func); /* new ref */
    Py_DECREF(threading);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* The mechanisms, per version:
 *   3.11   the profile hook (Python and C calls), plus the frame hook for
 *          log_exception; with ignore_c_function the frame hook alone;
 *   3.12+  sys.monitoring (hook_monitor.c, which also sees exceptions);
 *          with ignore_c_function the frame hook alone, which costs fewer
 *          instructions per call than PY_START + PY_RETURN callbacks (fib,
 *          callgrind: 1674 against 1829 on 3.12.1, 1648 against 1828 on
 *          3.13.0, untraced 539 and 532) and sees the same frames. */
static int
uses_evalframe(const struct vt_tracer *t)
{
    if (t->flags & VT_F_IGNORE_C)
        return 1;
    return !VT_HAVE_MONITORING && (t->flags & VT_F_LOG_EXC);
}

int
vt_tracer__hook_start(struct vt_tracer *t)
{
    struct vt_hook_state *hs = &vt_tracer__hook_state;
    if (hs->active == t)
        return 0;
    if (hs->active != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "another VizTracer is already tracing");
        return -1;
    }
    /* sys.monitoring covers every thread, threading or not; 3.11's hooks
     * are per thread, set for threading's threads when the program imports
     * it. Neither imports threading itself: python3 -c does not. */
    if (!VT_HAVE_MONITORING) {
        PyObject *bs = PyCFunction_New(&vt_tracer__bootstrap_def, NULL); /* new ref */
        if (bs == NULL)
            return -1;
        int rc = set_threading_profile(bs);
        Py_DECREF(bs);
        if (rc < 0)
            return -1;
    }
    struct vt_thread *me = vt_tracer__thread(t);
    if (me == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    learn_name(me);
    /* Without threading loaded (python3 -c does not load it) the thread
     * that starts tracing is the main one, which threading would name so;
     * under sys.monitoring its calls count once it has a name. */
    if (me->name == NULL && VT_HAVE_MONITORING) {
        me->name = PyUnicode_FromString("MainThread");
        PyErr_Clear(); /* out of memory: the default name at dump */
    }
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        while (th->depth > 0) /* left open by a fork (after_fork keeps them) */
            vt_tracer__frame_drop(&th->stack[--th->depth]);
        th->ignore = 0;
        th->paused = 0;
    }
    if (!t->anchored) {
        vt_clock_anchor_take(&t->first_start);
        t->anchored = 1;
    }
    hs->session++;
    Py_INCREF(t);
    hs->active = t;
    if (vt_tracer__glue_known() && !t->trace_self)
        t->flags |= VT_F_GLUE;
    vt_tracer__fcache_clear(t);
    if (vt_tracer__extras_start(t) < 0) {
        hs->active = NULL;
        Py_DECREF(t);
        return -1;
    }
    vt_tracer__handoff_install(); /* the program's sys.setprofile (handoff.c) */
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    if (uses_evalframe(t))
        vt_tracer__evalframe_start(interp);
#if VT_HAVE_MONITORING
    if (!(t->flags & VT_F_IGNORE_C) && vt_tracer__monitor_start(t) < 0) {
        vt_tracer__extras_stop(t);
        hs->active = NULL;
        Py_DECREF(t);
        return -1;
    }
#else
    if (!(t->flags & VT_F_IGNORE_C))
        vt_tracer__profile_start(t, interp);
#endif
    t->collecting = 1;
    vt_tracer__crash_names_start(); /* the loaded modules' names, for a crash trace */
    vt_tracer__crash_state(t, 1);
    return 0;
}

void
vt_tracer__hook_stop(struct vt_tracer *t)
{
    struct vt_hook_state *hs = &vt_tracer__hook_state;
    if (hs->active != t)
        return;
    int64_t now = vt_clock_now();
    t->collecting = 0;
    t->stop_ticks = now;
    hs->session++;
    /* Removing the hooks runs Python (audit hooks, and signal handlers with
     * them) whose own stop() must find this one under way, not do it twice;
     * hs->active's reference is ours until the end. An exception pending on
     * entry is the caller's and stays. */
    hs->active = NULL;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    vt_tracer__extras_stop(t);
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    if (uses_evalframe(t))
        vt_tracer__evalframe_stop(interp);
#if VT_HAVE_MONITORING
    vt_tracer__monitor_stop();
#else
    if (!(t->flags & VT_F_IGNORE_C))
        vt_tracer__profile_stop(interp);
#endif
    vt_tracer__hook_finish(t, now);
    /* The calls open at a fork are finished now: a later session counts
     * max_stack_depth from its own start (marks.c). */
    t->fork_depth = 0;
    t->max_depth = vt_tracer__tracer_depth(t);
    PyObject *threading = vt_tracer__loaded_module("threading"); /* new ref */
    if (threading && !VT_HAVE_MONITORING)
        set_threading_profile(Py_None);
    Py_XDECREF(threading);
    PyErr_Clear(); /* threading torn down at exit: nothing left to unhook */
    PyErr_Restore(et, ev, tb);
    Py_DECREF(t);
}
