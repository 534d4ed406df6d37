/* handoff.c: the program's own sys.setprofile() while our hook records
 * calls, and sys.getprofile().
 *
 * A program's sys.setprofile(f) called while we trace makes CPython send
 * the C_RETURN of that very call to f, which never saw its C_CALL; untraced,
 * f sees no event of that call at all, and profile.py stops with "Bad
 * return". On 3.11 our profile hook is replaced by f and ceval's C_TRACE
 * reads the profile function again after the call; on 3.12+ our
 * sys.monitoring tool has instrumented the CALL, whose C_RETURN then goes to
 * the profile tool just switched on. The event carries no arguments, so
 * sys.setprofile itself is wrapped:
 *   3.11   while our hook is in, the wrapper puts a one-shot profile function
 *          in ours' place; at the wrapper's C_RETURN (or C_EXCEPTION) it
 *          closes the call in our trace, swallows the event and installs f
 *          through the real sys.setprofile, from inside a profile callback,
 *          where that call emits nothing. sys.getprofile() gives None for
 *          our hook, as untraced;
 *   3.12+  while our tool sees C calls, the wrapper installs a one-shot
 *          proxy through the real sys.setprofile; the proxy's first event,
 *          that C_RETURN, is swallowed and f installed in its place (any
 *          other first event is f's).
 * Elsewhere the wrapper is the real function.
 */
#include "internal.h"

/* The real sys.setprofile and sys.getprofile, saved when the wrappers are
 * put in sys at the first start; owned, kept to the end (a program may hold
 * a wrapper: after stop it is the real function). Protected by the GIL. */
static PyObject *real_setprofile;
/* Our wrapper as put in sys; owned. Protected by the GIL. */
static PyObject *our_setprofile;
#if !VT_HAVE_MONITORING
static PyObject *real_getprofile; /* as real_setprofile */
static PyObject *our_getprofile;  /* as our_setprofile */
#endif

static PyObject *
gone(const char *name)
{
    PyErr_Format(PyExc_RuntimeError, "sys.%s is gone", name);
    return NULL;
}

#if !VT_HAVE_MONITORING

/* The one-shot profile function. obj is a tuple (tracer, f). */
static int
oneshot(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    PyThreadState *ts = PyThreadState_Get();
    PyObject *tracer = PyTuple_GET_ITEM(obj, 0); /* borrowed from obj */
    PyObject *func = PyTuple_GET_ITEM(obj, 1);   /* borrowed from obj */
    Py_INCREF(obj); /* replacing the profile function below releases it */
    int ours = (what == PyTrace_C_RETURN || what == PyTrace_C_EXCEPTION) && arg == our_setprofile;
    if (ours)
        vt_tracer__profile(tracer, frame, what, arg);
    PyObject *r = real_setprofile ? PyObject_CallOneArg(real_setprofile, func) : NULL; /* new ref */
    int rc = 0;
    if (r == NULL) {
        /* An audit hook refused it: as untraced, the profile function stays
         * what it was, ours, and sys.setprofile raises. */
        if (!PyErr_Occurred())
            PyErr_SetString(PyExc_RuntimeError, "sys.setprofile is gone");
        if (ts->c_profilefunc == oneshot) {
            Py_INCREF(tracer);
            ts->c_profileobj = tracer;
            ts->c_profilefunc = vt_tracer__profile;
            Py_DECREF(obj); /* the reference ts held */
        }
        rc = -1;
    } else {
        Py_DECREF(r);
        /* Not the end of the wrapper's call (a finalizer ran first): the
         * event is the program's function's, as it would be untraced. */
        if (!ours && ts->c_profilefunc && ts->c_profilefunc != oneshot)
            rc = ts->c_profilefunc(ts->c_profileobj, frame, what, arg);
    }
    Py_DECREF(obj);
    return rc;
}

static PyObject *
setprofile(PyObject *self, PyObject *func)
{
    (void)self;
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_profilefunc != vt_tracer__profile || real_setprofile == NULL)
        return real_setprofile ? PyObject_CallOneArg(real_setprofile, func) : gone("setprofile");
    PyObject *pair = PyTuple_Pack(2, ts->c_profileobj, func); /* new ref, given to ts */
    if (pair == NULL)
        return NULL;
    /* A direct swap, not _PyEval_SetProfile: the program's call raises its
     * "sys.setprofile" audit event once, from the real function. Both are
     * set, so the thread's tracing state does not change. */
    PyObject *old = ts->c_profileobj; /* the tracer; hs->active holds it too */
    ts->c_profileobj = pair;
    ts->c_profilefunc = oneshot;
    Py_XDECREF(old);
    Py_RETURN_NONE;
}

static PyObject *
getprofile(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyThreadState *ts = PyThreadState_Get();
    if (ts->c_profilefunc == vt_tracer__profile || ts->c_profilefunc == oneshot)
        Py_RETURN_NONE;
    return real_getprofile ? PyObject_CallNoArgs(real_getprofile) : gone("getprofile");
}

#else /* VT_HAVE_MONITORING */

/* The one-shot proxy, a profile function (frame, event, arg) bound to
 * (f,): f takes its place at its first event. */
static PyObject *
proxy(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    PyObject *func = PyTuple_GET_ITEM(self, 0); /* borrowed from self */
    Py_INCREF(self);                            /* the profile tool drops it below */
    PyObject *r = real_setprofile ? PyObject_CallOneArg(real_setprofile, func)
                                  : gone("setprofile"); /* new ref */
    if (r != NULL) {
        Py_DECREF(r);
        int ours = n == 3 && args[2] == our_setprofile && PyUnicode_Check(args[1]) &&
                   (PyUnicode_CompareWithASCIIString(args[1], "c_return") == 0 ||
                    PyUnicode_CompareWithASCIIString(args[1], "c_exception") == 0);
        r = ours ? Py_NewRef(Py_None) : PyObject_Vectorcall(func, args, n, NULL);
    }
    Py_DECREF(self);
    return r;
}

static PyMethodDef proxy_def = {"setprofile", (PyCFunction)(void (*)(void))proxy, METH_FASTCALL,
                                NULL};

static PyObject *
setprofile(PyObject *self, PyObject *func)
{
    (void)self;
    struct vt_tracer *t = vt_tracer__active();
    if (real_setprofile == NULL)
        return gone("setprofile");
    if (t == NULL || !t->collecting || (t->flags & VT_F_IGNORE_C) || func == Py_None)
        return PyObject_CallOneArg(real_setprofile, func);
    PyObject *bound = PyTuple_Pack(1, func);                         /* new ref */
    PyObject *p = bound ? PyCFunction_New(&proxy_def, bound) : NULL; /* new ref */
    Py_XDECREF(bound);
    if (p == NULL)
        return NULL;
    PyObject *r = PyObject_CallOneArg(real_setprofile, p); /* new ref */
    Py_DECREF(p);
    return r;
}

#endif

/* Named and documented as sys's own, bound to sys (their __self__), so
 * they read as the real ones and are recorded as sys's C calls. */
static PyMethodDef setprofile_def = {
    "setprofile", setprofile, METH_O,
    "setprofile($module, function, /)\n--\n\nSet the profiling function.\n\n"
    "It will be called on each function call and return.  See the profiler\n"
    "chapter in the library manual."};
#if !VT_HAVE_MONITORING
static PyMethodDef getprofile_def = {"getprofile", getprofile, METH_NOARGS,
                                     "getprofile($module, /)\n--\n\n"
                                     "Return the profiling function set with sys.setprofile.\n\n"
                                     "See the profiler chapter in the library manual."};
#endif

/* Puts name's wrapper in sys in place of the real one, saved in *real. */
static int
wrap(PyObject *sys, PyMethodDef *def, PyObject **real, PyObject **ours)
{
    PyObject *cur = PyObject_GetAttrString(sys, def->ml_name); /* new ref */
    if (cur == NULL)
        return -1;
    PyObject *modname = PyUnicode_FromString("sys");                     /* new ref */
    PyObject *w = modname ? PyCFunction_NewEx(def, sys, modname) : NULL; /* new ref */
    Py_XDECREF(modname);
    if (w == NULL || PyObject_SetAttrString(sys, def->ml_name, w) < 0) {
        Py_XDECREF(w);
        Py_DECREF(cur);
        return -1;
    }
    *real = cur;
    *ours = w;
    return 0;
}

void
vt_tracer__handoff_install(void)
{
    if (our_setprofile != NULL)
        return;
    PyObject *sys = PyImport_ImportModule("sys"); /* new ref */
    if (sys == NULL || wrap(sys, &setprofile_def, &real_setprofile, &our_setprofile) < 0
#if !VT_HAVE_MONITORING
        || wrap(sys, &getprofile_def, &real_getprofile, &our_getprofile) < 0
#endif
    )
        /* Without the wrappers the program's profiler sees one stray
         * event more: tracing goes on. */
        PyErr_Clear();
    Py_XDECREF(sys);
}
