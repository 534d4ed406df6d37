/* decorators.c: log_sparse, ignore_function, trace_and_save and the
 * log_event context manager.
 *
 * They are written in C so that no Python frame of ours ever runs while
 * tracing (our frames would otherwise need a per-call file filter): a
 * wrapper is a callable object whose tp_call is C, which the interpreter
 * reports to no hook.
 */
#include "internal.h"

#include "tracer.h"

enum wrap_kind {
    WRAP_SPARSE, /* @log_sparse: one event for the whole call, or a traced call */
    WRAP_IGNORE, /* @ignore_function: pause the tracer around the call */
    WRAP_SAVE,   /* @trace_and_save: a fresh tracer per call, saved after it */
};

struct wrapper {
    PyObject_HEAD enum wrap_kind kind; /* what a call does */
    PyObject *func;                    /* owned; the wrapped callable */
    PyObject *tracer;                  /* owned VizTracer, or NULL = the global one at call time */
    PyObject *name;                    /* owned event name for WRAP_SPARSE, or NULL */
    long stack_depth;                  /* WRAP_SPARSE: > 0 traces the call down to this depth */
    PyObject *kwargs;                  /* owned VizTracer keywords for WRAP_SAVE, or NULL */
    PyObject *output_dir;              /* owned str for WRAP_SAVE, or NULL */
    PyObject *dict;                    /* owned __dict__ (functools.update_wrapper fills it) */
};

/* The VizTracer type (module.c), given by vt_tracer__decorators_ready();
 * borrowed, static. Handed in rather than named, so that this file does not
 * depend on module.c, which depends on it. */
static PyTypeObject *tracer_type;

static PyObject *
global_tracer(void)
{
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    PyObject *t = builtins ? PyDict_GetItemString(builtins, "__viz_tracer__") : NULL;
    return t && PyObject_TypeCheck(t, tracer_type) ? t : NULL; /* borrowed */
}

static PyObject *
event_name_of(PyObject *func)
{
    PyObject *code = PyObject_GetAttrString(func, "__code__"); /* new ref */
    if (code == NULL || !PyCode_Check(code)) {
        Py_XDECREF(code);
        PyErr_Clear(); /* not a Python function: use its repr */
        return vt_tracer__safe_repr(func);
    }
    PyCodeObject *co = (PyCodeObject *)code;
    PyObject *name =
        PyUnicode_FromFormat("%U (%U:%d)", co->co_qualname, co->co_filename, co->co_firstlineno);
    Py_DECREF(code);
    return name;
}

static PyObject *
call_sparse(struct wrapper *w, struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    /* While the tracer collects (inside a stack_depth call, or started by
     * hand), the call is one of the traced ones, as in VizTracer: no event
     * of its own. */
    if (t->collecting)
        return PyObject_Call(w->func, args, kw);
    if (w->stack_depth > 0) {
        long saved = t->max_stack_depth;
        t->max_stack_depth = w->stack_depth;
        t->max_depth = vt_tracer__depth_from(w->stack_depth, t->fork_depth);
        if (vt_tracer__hook_start(t) < 0)
            return NULL;
        PyObject *r = PyObject_Call(w->func, args, kw);
        vt_tracer__hook_stop(t);
        t->max_stack_depth = saved;
        t->max_depth = vt_tracer__depth_from(saved, t->fork_depth);
        return r;
    }
    double start = (double)vt_clock_mono_ns() / 1000.0;
    PyObject *r = PyObject_Call(w->func, args, kw);
    double end = (double)vt_clock_mono_ns() / 1000.0;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *d = Py_BuildValue("{s:s,s:O,s:d,s:d,s:s}", "ph", "X", "name", w->name, "ts", start,
                                "dur", end - start, "cat", "FEE"); /* new ref */
    if (d)
        vt_tracer__push_custom(t, d, 1);
    PyErr_Clear(); /* out of memory for the event: the call's own result matters more */
    PyErr_Restore(et, ev, tb);
    return r;
}

static PyObject *
call_save(struct wrapper *w, PyObject *args, PyObject *kw)
{
    if (vt_tracer__active() != NULL) /* already traced by another tracer */
        return PyObject_Call(w->func, args, kw);
    PyObject *kwargs = w->kwargs ? PyDict_Copy(w->kwargs) : PyDict_New(); /* new ref */
    if (kwargs == NULL)
        return NULL;
    if (PyDict_SetDefault(kwargs, PyUnicode_FromString("register_global"), Py_False) == NULL) {
        Py_DECREF(kwargs);
        return NULL;
    }
    PyObject *empty = PyTuple_New(0); /* new ref */
    PyObject *t = empty ? PyObject_Call((PyObject *)tracer_type, empty, kwargs) : NULL;
    Py_XDECREF(empty);
    Py_DECREF(kwargs);
    if (t == NULL)
        return NULL;
    if (vt_tracer__hook_start((struct vt_tracer *)t) < 0) {
        Py_DECREF(t);
        return NULL;
    }
    PyObject *r = PyObject_Call(w->func, args, kw);
    vt_tracer__hook_stop((struct vt_tracer *)t);
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *fname = PyObject_GetAttrString(w->func, "__name__"); /* new ref */
    if (fname == NULL) {
        PyErr_Clear();
        fname = PyUnicode_FromString("function");
    }
    PyObject *time = PyImport_ImportModule("time");                        /* new ref */
    PyObject *now = time ? PyObject_CallMethod(time, "time", NULL) : NULL; /* new ref */
    double secs = now ? PyFloat_AsDouble(now) : 0;
    PyObject *path = PyUnicode_FromFormat("%U/result_%U_%lld.json", w->output_dir, fname,
                                          (long long)(secs * 100000));     /* new ref */
    PyObject *s = path ? PyObject_CallMethod(t, "save", "O", path) : NULL; /* new ref */
    Py_XDECREF(s);
    Py_XDECREF(path);
    Py_XDECREF(now);
    Py_XDECREF(time);
    Py_XDECREF(fname);
    Py_DECREF(t);
    if (s == NULL) {
        Py_XDECREF(r);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return NULL;
    }
    PyErr_Restore(et, ev, tb);
    return r;
}

static PyObject *
wrapper_call(struct wrapper *w, PyObject *args, PyObject *kw)
{
    if (w->kind == WRAP_SAVE)
        return call_save(w, args, kw);
    PyObject *tobj = w->tracer ? w->tracer : global_tracer(); /* borrowed */
    if (tobj == NULL) {
        if (w->kind == WRAP_IGNORE) {
            PyErr_SetString(PyExc_NameError, "ignore_function only works with global tracer");
            return NULL;
        }
        return PyObject_Call(w->func, args, kw);
    }
    struct vt_tracer *t = (struct vt_tracer *)tobj;
    if (w->kind == WRAP_SPARSE)
        return t->log_sparse ? call_sparse(w, t, args, kw) : PyObject_Call(w->func, args, kw);
    struct vt_thread *th = t->collecting ? vt_tracer__thread(t) : NULL;
    if (th)
        th->paused++;
    PyObject *r = PyObject_Call(w->func, args, kw);
    /* Looked up again: a fork() in the call moves the child's state (crash.c). */
    th = th && t->collecting ? vt_tracer__thread(t) : NULL;
    if (th && th->paused)
        th->paused--;
    return r;
}

static PyObject *
wrapper_get(PyObject *self, PyObject *obj, PyObject *type)
{
    (void)type;
    if (obj == NULL || obj == Py_None) {
        Py_INCREF(self);
        return self;
    }
    return PyMethod_New(self, obj);
}

static int
wrapper_traverse(struct wrapper *w, visitproc visit, void *arg)
{
    Py_VISIT(w->func);
    Py_VISIT(w->tracer);
    Py_VISIT(w->kwargs);
    Py_VISIT(w->dict);
    return 0;
}

static int
wrapper_clear(struct wrapper *w)
{
    Py_CLEAR(w->func);
    Py_CLEAR(w->tracer);
    Py_CLEAR(w->name);
    Py_CLEAR(w->kwargs);
    Py_CLEAR(w->output_dir);
    Py_CLEAR(w->dict);
    return 0;
}

static void
wrapper_dealloc(struct wrapper *w)
{
    PyObject_GC_UnTrack(w);
    wrapper_clear(w);
    Py_TYPE(w)->tp_free((PyObject *)w);
}

static PyGetSetDef wrapper_getset[] = {
    {"__dict__", PyObject_GenericGetDict, PyObject_GenericSetDict, NULL, NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

static PyTypeObject wrapper_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "viztracer.FunctionWrapper",
    .tp_basicsize = sizeof(struct wrapper),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "a function wrapped by a viztracer decorator",
    .tp_call = (ternaryfunc)wrapper_call,
    .tp_descr_get = wrapper_get,
    .tp_dictoffset = offsetof(struct wrapper, dict),
    .tp_getset = wrapper_getset,
    .tp_traverse = (traverseproc)wrapper_traverse,
    .tp_clear = (inquiry)wrapper_clear,
    .tp_dealloc = (destructor)wrapper_dealloc,
};

/* A new wrapper of func with its name, doc and __wrapped__ copied over. */
static PyObject *
wrap(enum wrap_kind kind, PyObject *func, PyObject *tracer)
{
    if (!PyCallable_Check(func)) {
        PyErr_SetString(PyExc_TypeError, "the decorated object must be callable");
        return NULL;
    }
    struct wrapper *w = PyObject_GC_New(struct wrapper, &wrapper_type);
    if (w == NULL)
        return NULL;
    w->kind = kind;
    Py_INCREF(func);
    w->func = func;
    Py_XINCREF(tracer);
    w->tracer = tracer;
    w->name = NULL;
    w->stack_depth = 0;
    w->kwargs = NULL;
    w->output_dir = NULL;
    w->dict = NULL;
    PyObject_GC_Track(w);
    PyObject *functools = PyImport_ImportModule("functools"); /* new ref */
    PyObject *r = functools ? PyObject_CallMethod(functools, "update_wrapper", "OO", w, func)
                            : NULL; /* new ref */
    Py_XDECREF(functools);
    if (r == NULL) {
        Py_DECREF(w);
        return NULL;
    }
    Py_DECREF(r);
    return (PyObject *)w;
}

/* decorator(func=None, **kw): without func, returns functools.partial(self, **kw). */
static PyObject *
partial_of(PyObject *self_func, PyObject *kw)
{
    PyObject *functools = PyImport_ImportModule("functools"); /* new ref */
    if (functools == NULL)
        return NULL;
    PyObject *partial = PyObject_GetAttrString(functools, "partial"); /* new ref */
    Py_DECREF(functools);
    if (partial == NULL)
        return NULL;
    PyObject *args = PyTuple_Pack(1, self_func); /* new ref */
    PyObject *r = args ? PyObject_Call(partial, args, kw) : NULL;
    Py_XDECREF(args);
    Py_DECREF(partial);
    return r;
}

static PyObject *log_sparse_obj, *ignore_function_obj, *trace_and_save_obj; /* owned by the
                                                                              module; GIL */

static PyObject *
log_sparse(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self; /* the module */
    static char *kwlist[] = {"func", "stack_depth", "dynamic_tracer_check", NULL};
    PyObject *func = Py_None;
    long depth = 0;
    int dynamic = 0;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|Olp:log_sparse", kwlist, &func, &depth, &dynamic))
        return NULL;
    if (func == Py_None)
        return partial_of(log_sparse_obj, kw);
    PyObject *t = global_tracer(); /* borrowed */
    if (!dynamic && (t == NULL || !((struct vt_tracer *)t)->log_sparse)) {
        Py_INCREF(func);
        return func;
    }
    struct wrapper *w = (struct wrapper *)wrap(WRAP_SPARSE, func, dynamic ? NULL : t);
    if (w == NULL)
        return NULL;
    w->stack_depth = depth;
    w->name = event_name_of(func);
    if (w->name == NULL) {
        Py_DECREF(w);
        return NULL;
    }
    return (PyObject *)w;
}

static PyObject *
ignore_function(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    static char *kwlist[] = {"method", "tracer", NULL};
    PyObject *func = Py_None, *tracer = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OO:ignore_function", kwlist, &func, &tracer))
        return NULL;
    if (tracer != Py_None && !PyObject_TypeCheck(tracer, tracer_type)) {
        PyErr_SetString(PyExc_TypeError, "tracer must be a VizTracer");
        return NULL;
    }
    if (func == Py_None)
        return partial_of(ignore_function_obj, kw);
    return wrap(WRAP_IGNORE, func, tracer == Py_None ? NULL : tracer);
}

static PyObject *
trace_and_save(PyObject *self, PyObject *args, PyObject *kw)
{
    (void)self;
    PyObject *func = Py_None;
    if (!PyArg_ParseTuple(args, "|O:trace_and_save", &func))
        return NULL;
    if (func == Py_None)
        return partial_of(trace_and_save_obj, kw);
    PyObject *kwargs = kw ? PyDict_Copy(kw) : PyDict_New(); /* new ref */
    if (kwargs == NULL)
        return NULL;
    PyObject *dir = PyDict_GetItemString(kwargs, "output_dir"); /* borrowed */
    dir = dir ? dir : PyUnicode_FromString("./");
    if (dir == NULL || !PyUnicode_Check(dir)) {
        Py_DECREF(kwargs);
        PyErr_SetString(PyExc_TypeError, "output_dir must be a str");
        return NULL;
    }
    Py_INCREF(dir);
    if (PyDict_GetItemString(kwargs, "output_dir"))
        PyDict_DelItemString(kwargs, "output_dir");
    else
        Py_DECREF(dir); /* drop the ref of the default created above */
    struct wrapper *w = (struct wrapper *)wrap(WRAP_SAVE, func, NULL);
    if (w == NULL) {
        Py_DECREF(kwargs);
        Py_DECREF(dir);
        return NULL;
    }
    w->kwargs = kwargs;
    w->output_dir = dir;
    return (PyObject *)w;
}

static PyMethodDef decorator_defs[] = {
    {"log_sparse", (PyCFunction)(void (*)(void))log_sparse, METH_VARARGS | METH_KEYWORDS,
     "@log_sparse / @log_sparse(stack_depth=N): record only this function (--log_sparse)"},
    {"ignore_function", (PyCFunction)(void (*)(void))ignore_function, METH_VARARGS | METH_KEYWORDS,
     "@ignore_function: leave this function out of the trace"},
    {"trace_and_save", (PyCFunction)(void (*)(void))trace_and_save, METH_VARARGS | METH_KEYWORDS,
     "@trace_and_save(output_dir='./', **kwargs): trace and save each call"},
    {NULL, NULL, 0, NULL},
};

/* ---- log_event context manager -------------------------------------- */

struct event_ctx {
    PyObject_HEAD PyObject *tracer; /* owned VizTracer */
    PyObject *name;                 /* owned str */
    double start;                   /* microseconds at __enter__ */
};

static PyObject *
ctx_enter(struct event_ctx *c, PyObject *unused)
{
    (void)unused;
    c->start = (double)vt_clock_mono_ns() / 1000.0;
    Py_INCREF(c);
    return (PyObject *)c;
}

static PyObject *
ctx_exit(struct event_ctx *c, PyObject *args)
{
    (void)args;
    double end = (double)vt_clock_mono_ns() / 1000.0;
    PyObject *d = Py_BuildValue("{s:s,s:O,s:d,s:d,s:s}", "ph", "X", "name", c->name, "ts", c->start,
                                "dur", end - c->start, "cat", "FEE"); /* new ref */
    if (d == NULL)
        return NULL;
    vt_tracer__push_custom((struct vt_tracer *)c->tracer, d, 1);
    Py_RETURN_FALSE;
}

static void
ctx_dealloc(struct event_ctx *c)
{
    Py_CLEAR(c->tracer);
    Py_CLEAR(c->name);
    Py_TYPE(c)->tp_free((PyObject *)c);
}

static PyMethodDef ctx_methods[] = {
    {"__enter__", (PyCFunction)ctx_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)ctx_exit, METH_VARARGS, NULL},
    {NULL, NULL, 0, NULL},
};

static PyTypeObject ctx_type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "viztracer.EventLogger",
    .tp_basicsize = sizeof(struct event_ctx),
    .tp_flags = Py_TPFLAGS_DEFAULT,
    .tp_doc = "records the with-block as one event",
    .tp_methods = ctx_methods,
    .tp_dealloc = (destructor)ctx_dealloc,
};

PyObject *
vt_tracer__event_ctx(struct vt_tracer *t, PyObject *name)
{
    PyFrameObject *f = PyEval_GetFrame(); /* borrowed: the caller's frame */
    PyObject *full;
    if (f) {
        PyCodeObject *co = PyFrame_GetCode(f); /* new ref */
        full = PyUnicode_FromFormat("%S (%U:%d)", name, co->co_filename, PyFrame_GetLineNumber(f));
        Py_DECREF(co);
    } else {
        full = PyObject_Str(name);
    }
    if (full == NULL)
        return NULL;
    struct event_ctx *c = PyObject_New(struct event_ctx, &ctx_type);
    if (c == NULL) {
        Py_DECREF(full);
        return NULL;
    }
    Py_INCREF(t);
    c->tracer = (PyObject *)t;
    c->name = full;
    c->start = 0;
    return (PyObject *)c;
}

int
vt_tracer__decorators_ready(PyTypeObject *type)
{
    tracer_type = type;
    if (PyType_Ready(&wrapper_type) < 0 || PyType_Ready(&ctx_type) < 0)
        return -1;
    return 0;
}

int
vt_tracer__decorators_add(PyObject *m)
{
    PyObject **objs[] = {&log_sparse_obj, &ignore_function_obj, &trace_and_save_obj};
    for (size_t i = 0; i < 3; i++) {
        PyObject *f = PyCFunction_NewEx(&decorator_defs[i], m, PyModule_GetNameObject(m));
        if (f == NULL)
            return -1;
        Py_XSETREF(*objs[i], f);
        Py_INCREF(f);
        if (PyModule_AddObject(m, decorator_defs[i].ml_name, f) < 0) {
            Py_DECREF(f);
            return -1;
        }
    }
    vt_tracer__hook_own(NULL, &wrapper_type);
    vt_tracer__hook_own(NULL, &ctx_type);
    return 0;
}
