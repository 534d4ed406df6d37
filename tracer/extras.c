/* extras.c: events beyond calls and returns: print (--log_print), garbage
 * collections (--log_gc), audit events (--log_audit) and exceptions
 * (--log_exception): those the script raises (its raise statements call
 * _log_raise: codemonkey.py) and those that propagate out of functions.
 *
 * Each becomes a custom event in the calling thread's ring. They are wired
 * in when tracing starts and out when it stops (vt_tracer__extras_start /
 * _stop); the audit hook cannot be removed from an interpreter, so it is
 * added once and does nothing while no tracer asks for audit events.
 */
#include "internal.h"

#include <opcode.h> /* RAISE_VARARGS */

/* builtins.print as it was before we replaced it; owned. Protected by the GIL. */
static PyObject *saved_print;
/* Our gc.callbacks entry while installed; owned. Protected by the GIL. */
static PyObject *gc_callback;
/* Whether our audit hook was added to the interpreter. Protected by the GIL. */
static int audit_hook_added;

/* ---- print ---------------------------------------------------------- */

/* print(*args, sep=' ', end='\n', file=None, flush=False): while tracing,
 * output to stdout becomes an instant event "print - <text>" instead. */
static PyObject *
log_print(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    struct vt_tracer *t = vt_tracer__active();
    PyObject *file = kw ? PyDict_GetItemString(kw, "file") : NULL; /* borrowed */
    PyObject *stdout_ = PySys_GetObject("stdout");                 /* borrowed */
    if (t == NULL || !t->collecting || !t->log_print || saved_print == NULL ||
        (file && file != Py_None && file != stdout_))
        return saved_print ? PyObject_Call(saved_print, args, kw) : (Py_INCREF(Py_None), Py_None);
    PyObject *sep = kw ? PyDict_GetItemString(kw, "sep") : NULL; /* borrowed */
    PyObject *end = kw ? PyDict_GetItemString(kw, "end") : NULL; /* borrowed */
    struct vt_thread *th = vt_tracer__thread(t);
    if (th)
        th->ignore++; /* the str() calls below are print's work, not the program's */
    PyObject *text = PyUnicode_FromString("print - "); /* new ref */
    for (Py_ssize_t i = 0; text && i < PyTuple_GET_SIZE(args); i++) {
        if (i > 0) {
            PyObject *s = sep && sep != Py_None ? PyObject_Str(sep) : PyUnicode_FromString(" ");
            Py_XSETREF(text, s ? PyUnicode_Concat(text, s) : NULL);
            Py_XDECREF(s);
        }
        PyObject *s = text ? PyObject_Str(PyTuple_GET_ITEM(args, i)) : NULL; /* new ref */
        Py_XSETREF(text, s ? PyUnicode_Concat(text, s) : NULL);
        Py_XDECREF(s);
    }
    if (text) {
        PyObject *s = end && end != Py_None ? PyObject_Str(end) : PyUnicode_FromString("\n");
        Py_XSETREF(text, s ? PyUnicode_Concat(text, s) : NULL);
        Py_XDECREF(s);
    }
    if (th)
        th->ignore--;
    if (text == NULL)
        return NULL;
    PyObject *d = Py_BuildValue("{s:s,s:s,s:N,s:s}", "ph", "i", "cat", "INSTANT", "name", text, "s",
                                "g"); /* new ref */
    if (d == NULL)
        return NULL;
    vt_tracer__push_custom(t, d, 0);
    Py_RETURN_NONE;
}

static PyMethodDef print_def = {"print", (PyCFunction)(void (*)(void))log_print,
                                METH_VARARGS | METH_KEYWORDS,
                                "print() while viztracer --log_print records it"};

/* ---- garbage collection --------------------------------------------- */

/* gc.callbacks entry: (phase, info) with info = {generation, collected,
 * uncollectable}. Start and stop of each collection become two counter
 * events; the stop event carries that collection's own numbers. */
static PyObject *
on_gc(PyObject *self, PyObject *args)
{
    (void)self;
    struct vt_tracer *t = vt_tracer__active();
    PyObject *phase, *info;
    if (!PyArg_ParseTuple(args, "OO", &phase, &info))
        return NULL;
    if (t == NULL || !t->collecting || !t->log_gc)
        Py_RETURN_NONE;
    int start = PyUnicode_Check(phase) && PyUnicode_CompareWithASCIIString(phase, "start") == 0;
    PyObject *gen = PyDict_Check(info) ? PyDict_GetItemString(info, "generation") : NULL;
    PyObject *col = PyDict_Check(info) ? PyDict_GetItemString(info, "collected") : NULL;
    PyObject *unc = PyDict_Check(info) ? PyDict_GetItemString(info, "uncollectable") : NULL;
    PyObject *zero = PyLong_FromLong(0); /* new ref */
    PyObject *counts = Py_BuildValue("{s:i,s:O,s:O,s:O}", "collecting", start, "generation",
                                     gen ? gen : zero, "collected", !start && col ? col : zero,
                                     "uncollectable", !start && unc ? unc : zero); /* new ref */
    Py_XDECREF(zero);
    PyObject *d = counts ? Py_BuildValue("{s:s,s:s,s:N}", "ph", "C", "name", "garbage collection",
                                         "args", counts)
                         : NULL; /* new ref */
    if (d == NULL)
        return NULL;
    vt_tracer__push_custom(t, d, 0);
    Py_RETURN_NONE;
}

static PyMethodDef gc_def = {"_viztracer_gc", on_gc, METH_VARARGS, NULL};

static int
gc_callbacks(PyObject **out)
{
    PyObject *gc = PyImport_ImportModule("gc"); /* new ref */
    if (gc == NULL)
        return -1;
    *out = PyObject_GetAttrString(gc, "callbacks"); /* new ref */
    Py_DECREF(gc);
    return *out ? 0 : -1;
}

/* ---- audit events --------------------------------------------------- */

/* Whether event matches one of the tracer's patterns (all when none). */
static int
audit_wanted(struct vt_tracer *t, const char *event)
{
    Py_ssize_t n = PyList_GET_SIZE(t->log_audit);
    if (n == 0)
        return 1;
    PyObject *name = PyUnicode_FromString(event); /* new ref */
    int found = 0;
    for (Py_ssize_t i = 0; name && !found && i < n; i++) {
        PyObject *m = PyObject_CallMethod(PyList_GET_ITEM(t->log_audit, i), "fullmatch", "O",
                                          name); /* new ref */
        found = m != NULL && m != Py_None;
        Py_XDECREF(m);
    }
    Py_XDECREF(name);
    PyErr_Clear(); /* a pattern that fails to match is no match */
    return found;
}

static int
on_audit(const char *event, PyObject *args, void *data)
{
    (void)data;
    struct vt_tracer *t = vt_tracer__active();
    if (t == NULL || !t->collecting || t->log_audit == NULL)
        return 0;
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL || th->reentrant)
        return 0;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    th->reentrant++; /* our own Python calls below raise no audit events of their own */
    th->ignore++;
    if (audit_wanted(t, event)) {
        Py_ssize_t n = PyTuple_Check(args) ? PyTuple_GET_SIZE(args) : 0;
        PyObject *list = PyList_New(n); /* new ref */
        for (Py_ssize_t i = 0; list && i < n; i++) {
            PyObject *r = vt_tracer__safe_repr(PyTuple_GET_ITEM(args, i));
            if (r == NULL) {
                Py_CLEAR(list);
                break;
            }
            PyList_SET_ITEM(list, i, r);
        }
        PyObject *d = list ? Py_BuildValue("{s:s,s:s,s:s,s:s,s:{s:N}}", "ph", "i", "cat", "INSTANT",
                                           "name", event, "s", "t", "args", "args", list)
                           : NULL; /* new ref */
        if (d)
            vt_tracer__push_custom(t, d, 0);
    }
    PyErr_Clear(); /* out of memory while logging an audit event: the event is lost */
    th->ignore--;
    th->reentrant--;
    PyErr_Restore(et, ev, tb);
    return 0;
}

/* ---- exceptions ----------------------------------------------------- */

/* Records exception ev (an instance) as an instant event of function co.
 * Leaves the error state as it found it (none pending). */
static void
record_exception(struct vt_tracer *t, struct vt_thread *th, PyObject *ev, PyCodeObject *co)
{
    th->reentrant++;
    th->ignore++; /* str()/repr() of the exception are not the program's calls */
    PyObject *type = PyObject_GetAttrString((PyObject *)Py_TYPE(ev), "__name__"); /* new ref */
    PyObject *msg = PyObject_Str(ev);                                             /* new ref */
    PyObject *r = vt_tracer__safe_repr(ev);                                       /* new ref */
    PyObject *func = PyUnicode_FromFormat("%U (%U:%d)", co->co_qualname, co->co_filename,
                                          co->co_firstlineno); /* new ref */
    if (msg == NULL) {
        PyErr_Clear();
        msg = PyUnicode_FromString("");
    }
    PyObject *name = r ? PyUnicode_FromFormat("Exception - %U", r) : NULL; /* new ref */
    PyObject *d = name && type && msg && func
                      ? Py_BuildValue("{s:s,s:s,s:O,s:s,s:{s:O,s:O,s:O}}", "ph", "i", "cat",
                                      "INSTANT", "name", name, "s", "t", "args", "type", type,
                                      "message", msg, "function", func)
                      : NULL; /* new ref */
    if (d)
        vt_tracer__push_custom(t, d, 0);
    Py_XDECREF(type);
    Py_XDECREF(msg);
    Py_XDECREF(r);
    Py_XDECREF(func);
    Py_XDECREF(name);
    PyErr_Clear(); /* logging failed (out of memory): the program's exception matters more */
    th->ignore--;
    th->reentrant--;
}

/* Whether the exception whose traceback is tb, leaving the function of
 * code co, was raised there by a raise statement of the instrumented script,
 * which _log_raise recorded already: co calls _log_raise, and tb's newest
 * entry (co's own) is at a RAISE_VARARGS. Nothing is kept between the raise
 * and here, so the program's objects live as long as without us; a bare
 * raise, or the end of an except block that does not match, re-raises with
 * the entry of the first raise. Clears what it raises. */
static int
raised_by_statement(PyCodeObject *co, PyObject *tb)
{
    static PyObject *name; /* owned, interned "_log_raise"; lives as long as the process */
    if (name == NULL && (name = PyUnicode_InternFromString("_log_raise")) == NULL)
        goto no;
    if (tb == NULL || !PyTraceBack_Check(tb) || PySequence_Contains(co->co_names, name) != 1)
        goto no;
    PyTracebackObject *entry = (PyTracebackObject *)tb;
    PyCodeObject *fco = PyFrame_GetCode(entry->tb_frame); /* new ref */
    Py_DECREF(fco);
    if (fco != co || entry->tb_lasti < 0)
        goto no;
    PyObject *bytes = PyCode_GetCode(co); /* new ref: the unspecialized instructions */
    int raise = bytes && entry->tb_lasti < PyBytes_GET_SIZE(bytes) &&
                (unsigned char)PyBytes_AS_STRING(bytes)[entry->tb_lasti] == RAISE_VARARGS;
    Py_XDECREF(bytes);
    PyErr_Clear();
    return raise;
no:
    PyErr_Clear();
    return 0;
}

void
vt_tracer__log_exception(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (et == NULL)
        return;
    PyErr_NormalizeException(&et, &ev, &tb);
    if (ev && PyExceptionInstance_Check(ev) && !raised_by_statement(co, tb))
        record_exception(t, th, ev, co);
    PyErr_Restore(et, ev, tb);
}

/* The instance `raise exc` raises: exc itself, or exc() for a class, as
 * the interpreter's do_raise makes it. New ref; NULL with an exception. */
static PyObject *
instance_of(PyObject *exc)
{
    if (!PyExceptionClass_Check(exc)) {
        Py_INCREF(exc);
        return exc; /* an instance, or what raise refuses itself */
    }
    PyObject *v = PyObject_CallNoArgs(exc); /* new ref */
    if (v != NULL && !PyExceptionInstance_Check(v)) {
        PyErr_Format(PyExc_TypeError,
                     "calling %R should have returned an instance of BaseException, not %R", exc,
                     Py_TYPE(v));
        Py_CLEAR(v);
    }
    return v;
}

PyObject *
vt_tracer__log_raise(struct vt_tracer *t, PyObject *exc)
{
    if (!t->collecting || !(t->flags & VT_F_LOG_EXC) || vt_tracer__active() != t) {
        Py_INCREF(exc);
        return exc; /* raise does the rest, as without us */
    }
    PyObject *inst = instance_of(exc); /* new ref */
    if (inst == NULL)
        return NULL;
    struct vt_thread *th = vt_tracer__thread(t);
    PyFrameObject *f = PyEval_GetFrame();             /* borrowed: the raising function's */
    PyCodeObject *co = f ? PyFrame_GetCode(f) : NULL; /* new ref */
    if (th && co && !th->ignore && !th->paused && PyExceptionInstance_Check(inst))
        record_exception(t, th, inst, co);
    Py_XDECREF(co);
    return inst;
}

/* ---- start / stop --------------------------------------------------- */

int
vt_tracer__extras_start(struct vt_tracer *t)
{
    if (t->log_print && saved_print == NULL) {
        PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
        PyObject *orig = builtins ? PyDict_GetItemString(builtins, "print") : NULL;
        /* Bound to the tracer, so the hook sees it as ours and never records it. */
        PyObject *ours = PyCFunction_New(&print_def, (PyObject *)t); /* new ref */
        if (orig == NULL || ours == NULL || PyDict_SetItemString(builtins, "print", ours) < 0) {
            Py_XDECREF(ours);
            return -1;
        }
        Py_DECREF(ours);
        Py_INCREF(orig);
        saved_print = orig;
    }
    if (t->log_gc && gc_callback == NULL) {
        PyObject *cbs;
        if (gc_callbacks(&cbs) < 0)
            return -1;
        gc_callback = PyCFunction_New(&gc_def, (PyObject *)t);
        int rc = gc_callback ? PyList_Append(cbs, gc_callback) : -1;
        Py_DECREF(cbs);
        if (rc < 0) {
            Py_CLEAR(gc_callback);
            return -1;
        }
    }
    if (t->log_audit && !audit_hook_added) {
        if (PySys_AddAuditHook(on_audit, NULL) < 0)
            return -1;
        audit_hook_added = 1;
    }
    return 0;
}

void
vt_tracer__extras_stop(struct vt_tracer *t)
{
    (void)t;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (saved_print) {
        PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
        if (builtins && PyDict_SetItemString(builtins, "print", saved_print) < 0)
            PyErr_Clear(); /* builtins torn down at exit: nothing to restore */
        Py_CLEAR(saved_print);
    }
    if (gc_callback) {
        PyObject *cbs;
        if (gc_callbacks(&cbs) == 0) {
            PyObject *r = PyObject_CallMethod(cbs, "remove", "O", gc_callback); /* new ref */
            Py_XDECREF(r);
            Py_DECREF(cbs);
        }
        PyErr_Clear(); /* gc module gone at exit: the callback goes with it */
        Py_CLEAR(gc_callback);
    }
    PyErr_Restore(et, ev, tb);
}
