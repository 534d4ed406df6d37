/* hook.c: the hot path. One Python or C call in, one fixed-size record out.
 *
 * Two ways to see calls on CPython 3.11 (DESIGN.md, "The interpreter"):
 *   - the profile hook (PyEval_SetProfile) sees Python and C calls but puts
 *     the interpreter on its slow tracing path; used by default;
 *   - the PEP 523 frame-evaluation hook sees Python frames only, with the
 *     interpreter at full speed; used with ignore_c_function.
 * Both feed on_call()/on_return(), which push and pop a per-thread stack
 * and write one ring record per finished call. Nothing here allocates,
 * locks or creates a Python object, except when the user asked for
 * argument or return-value logging (repr must run then) and on a thread's
 * first event, which registers its state.
 *
 * Sections: thread lookup, filters, argument capture, call/return, the two
 * hooks, the threading bootstrap, start/stop.
 */
#include "internal.h"

#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE

/* The tracer that is collecting; holds a strong reference while set.
 * Protected by the GIL. */
static struct vt_tracer *active;

/* Bumped by every start and stop, so that a frame entered in an earlier
 * session does not pop a frame of the current one. Protected by the GIL. */
static uint64_t session;

/* The calling thread's state and the serial of the tracer it belongs to. A
 * serial rather than a pointer comparison, because a destroyed tracer's
 * memory may be reused by a new one. Owned by its thread. */
struct tls {
    struct vt_thread *thread; /* this thread's state for the tracer below */
    uint64_t serial;          /* serial of that tracer, 0 = none */
};
/* initial-exec: a plain %fs-relative load instead of a __tls_get_addr call on
 * every event; the block is 16 bytes, well inside the static TLS surplus that
 * glibc keeps for dlopen'ed modules such as our extension. */
static _Thread_local struct tls tls __attribute__((tls_model("initial-exec")));

/* Our module and types: C calls bound to them are never recorded. Set once
 * by the module's init; borrowed. Protected by the GIL. */
static PyObject *own_module;
static PyTypeObject *own_types[8];

void
vt_tracer__hook_own(PyObject *module, PyTypeObject *type)
{
    if (module)
        own_module = module;
    for (size_t i = 0; type && i < sizeof(own_types) / sizeof(own_types[0]); i++) {
        if (own_types[i] == NULL || own_types[i] == type) {
            own_types[i] = type;
            break;
        }
    }
}

/* The folder of our Python files with a trailing '/', owned; NULL until the
 * package tells us. Protected by the GIL. */
static char *glue_dir;
static size_t glue_len;

int
vt_tracer__glue_known(void)
{
    return glue_dir != NULL;
}

PyObject *
vt_tracer__set_glue_dir(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t n;
    const char *s = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &n) : NULL;
    if (s == NULL) {
        PyErr_SetString(PyExc_TypeError, "a folder path is needed");
        return NULL;
    }
    char *copy = PyMem_RawMalloc((size_t)n + 2);
    if (copy == NULL)
        return PyErr_NoMemory();
    memcpy(copy, s, (size_t)n);
    copy[n] = '/';
    copy[n + 1] = '\0';
    PyMem_RawFree(glue_dir);
    glue_dir = copy;
    glue_len = (size_t)n + 1;
    Py_RETURN_NONE;
}

static PyObject *
loaded_module(const char *name)
{
    PyObject *n = PyUnicode_FromString(name); /* new ref */
    if (n == NULL)
        return NULL;
    PyObject *m = PyImport_GetModule(n); /* new ref or NULL */
    Py_DECREF(n);
    return m;
}

/* ---- thread lookup -------------------------------------------------- */

static struct vt_thread *
register_thread(struct vt_tracer *t)
{
    struct vt_thread *th = vt_tracer__thread_create(t);
    if (th == NULL)
        return NULL;
    tls.thread = th;
    tls.serial = t->serial;
    return th;
}

static inline struct vt_thread *
get_thread(struct vt_tracer *t)
{
    if (tls.serial == t->serial)
        return tls.thread;
    return register_thread(t);
}

struct vt_thread *
vt_tracer__thread(struct vt_tracer *t)
{
    return get_thread(t);
}

struct vt_tracer *
vt_tracer__active(void)
{
    return active;
}

/* ---- filters -------------------------------------------------------- */

static int
starts_with_any(PyObject *list, const char *s, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        Py_ssize_t plen;
        const char *p = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(list, i), &plen);
        if (p == NULL) {
            PyErr_Clear(); /* a prefix that cannot be encoded matches nothing */
            continue;
        }
        if (plen <= n && memcmp(s, p, (size_t)plen) == 0)
            return 1;
    }
    return 0;
}

/* Decides whether code from this file is skipped with its whole subtree. */
static int
judge_file(struct vt_tracer *t, PyObject *filename)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(filename, &n);
    if (s == NULL) {
        PyErr_Clear(); /* an unencodable file name is simply not filtered */
        return 0;
    }
    if ((t->flags & VT_F_IGNORE_FROZEN) && strncmp(s, "<frozen", 7) == 0)
        return 1;
    if ((t->flags & VT_F_GLUE) && glue_dir && (size_t)n >= glue_len &&
        memcmp(s, glue_dir, glue_len) == 0)
        return 1;
    if ((t->flags & VT_F_INCLUDE) &&
        (t->include_files == NULL || !starts_with_any(t->include_files, s, n)))
        return 1;
    if ((t->flags & VT_F_EXCLUDE) && t->exclude_files && starts_with_any(t->exclude_files, s, n))
        return 1;
    return 0;
}

/* Code objects of one file share one filename object, so a small cache keyed
 * by its address answers almost every call without a string comparison. The
 * cache holds a reference, so an address is never reused while cached. */
static int
filtered(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co)
{
    PyObject *fn = co->co_filename;
    size_t h = ((uintptr_t)fn >> 4) & (VT_FCACHE_SIZE - 1);
    if (th->fkey[h] == fn)
        return th->fval[h];
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    int v = judge_file(t, fn);
    PyErr_Restore(et, ev, tb);
    Py_INCREF(fn);
    Py_XSETREF(th->fkey[h], fn);
    th->fval[h] = (uint8_t)v;
    return v;
}

/* CO_FAST_CELL of internal/pycore_code.h (3.11), whose other declarations
 * we do not need: the kind bit of a local that lives in a cell. */
#define VT_CO_FAST_CELL 0x40

/* ---- argument capture (only with log_func_args / log_func_retval) ----- */

/* Builds {"func_args": {name: repr}} from the frame's parameters. cells says
 * whether MAKE_CELL has run (profile hook) so cell parameters are unwrapped. */
static PyObject *
capture_args(struct vt_thread *th, PyCodeObject *co, _PyInterpreterFrame *f, int cells)
{
    int n = co->co_argcount + co->co_kwonlyargcount;
    if (co->co_flags & CO_VARARGS)
        n++;
    if (co->co_flags & CO_VARKEYWORDS)
        n++;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    th->reentrant++;
    th->ignore++;                  /* calls made by repr() are not the program's */
    PyObject *args = PyDict_New(); /* new ref */
    PyObject *outer = NULL;        /* new ref */
    if (args == NULL)
        goto out;
    for (int i = 0; i < n && i < co->co_nlocalsplus; i++) {
        PyObject *v = f->localsplus[i]; /* borrowed */
        if (v == NULL)
            continue;
        if (cells && (PyBytes_AS_STRING(co->co_localspluskinds)[i] & VT_CO_FAST_CELL) &&
            PyCell_Check(v))
            v = PyCell_GET(v);
        if (v == NULL)
            continue;
        PyObject *r = vt_tracer__safe_repr(v); /* new ref */
        if (r == NULL)
            break;
        PyDict_SetItem(args, PyTuple_GET_ITEM(co->co_localsplusnames, i), r);
        Py_DECREF(r);
    }
    outer = PyDict_New();
    if (outer != NULL)
        PyDict_SetItemString(outer, "func_args", args);
out:
    Py_XDECREF(args);
    PyErr_Clear(); /* out of memory while logging arguments: the call is still recorded */
    th->ignore--;
    th->reentrant--;
    PyErr_Restore(et, ev, tb);
    return outer;
}

static void
capture_retval(struct vt_thread *th, struct vt_frame *fr, PyObject *retval)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    th->reentrant++;
    th->ignore++;
    if (fr->args == NULL)
        fr->args = PyDict_New();
    PyObject *r = vt_tracer__safe_repr(retval); /* new ref */
    if (fr->args != NULL && r != NULL)
        PyDict_SetItemString(fr->args, "return_value", r);
    Py_XDECREF(r);
    PyErr_Clear(); /* as in capture_args */
    th->ignore--;
    th->reentrant--;
    PyErr_Restore(et, ev, tb);
}

/* ---- vdb: the caller's line ------------------------------------------ */

/* The line being executed in frame f (skipping frames that have not started
 * yet), through a small per-thread cache: PyCode_Addr2Line scans the line
 * table, and a loop calls from the same place again and again. */
static int32_t
caller_line(struct vt_thread *th, _PyInterpreterFrame *f)
{
    while (f && f->owner != FRAME_OWNED_BY_GENERATOR &&
           f->prev_instr < _PyCode_CODE(f->f_code) + f->f_code->_co_firsttraceable)
        f = f->previous;
    if (f == NULL)
        return -1;
    int lasti = _PyInterpreterFrame_LASTI(f);
    if (th->lcache == NULL) {
        th->lcache = calloc(VT_LCACHE_SIZE, sizeof(struct vt_line_cache));
        if (th->lcache == NULL)
            return -1;
    }
    size_t h = (((uintptr_t)f->f_code >> 4) ^ (uintptr_t)lasti * 31) & (VT_LCACHE_SIZE - 1);
    struct vt_line_cache *c = &th->lcache[h];
    if (c->code != f->f_code || c->lasti != lasti) {
        c->code = f->f_code;
        c->lasti = lasti;
        c->line = PyCode_Addr2Line(f->f_code, lasti * (int)sizeof(_Py_CODEUNIT));
    }
    return c->line;
}

/* ---- asyncio tasks (--log_async) ------------------------------------- */

/* A coroutine frame starts on a thread that runs no task yet: ask asyncio
 * which task this is. Its events, until this frame returns, go on a track
 * of its own, id(task) & 0xFFFFFF as in VizTracer. */
static void
enter_task(struct vt_tracer *t, struct vt_thread *th)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    th->reentrant++;
    th->ignore++;
    PyObject *asyncio = loaded_module("asyncio"); /* new ref */
    PyObject *task = asyncio ? PyObject_CallMethod(asyncio, "current_task", NULL) : NULL;
    if (task && task != Py_None) {
        uint32_t key = (uint32_t)((uintptr_t)task & 0xFFFFFF);
        th->task = key ? key : 1;
        th->task_depth = th->depth - 1;
        PyObject *k = PyLong_FromUnsignedLong(th->task); /* new ref */
        if (t->task_names == NULL)
            t->task_names = PyDict_New();
        if (k && t->task_names && !PyDict_Contains(t->task_names, k)) {
            PyObject *name = PyObject_CallMethod(task, "get_name", NULL); /* new ref */
            if (name && PyUnicode_Check(name))
                PyDict_SetItem(t->task_names, k, name);
            Py_XDECREF(name);
        }
        Py_XDECREF(k);
    }
    Py_XDECREF(task);
    Py_XDECREF(asyncio);
    PyErr_Clear(); /* no running loop, or no asyncio: the events stay on the thread */
    th->ignore--;
    th->reentrant--;
    PyErr_Restore(et, ev, tb);
}

/* A coroutine frame of the running task hands control back to the loop at
 * an await: an instant event on the task's track marks where it waits. */
static void
task_await(struct vt_tracer *t, struct vt_thread *th, _PyInterpreterFrame *f)
{
    if (th->ignore || !(f->f_code->co_flags & CO_COROUTINE) ||
        f->owner != FRAME_OWNED_BY_GENERATOR ||
        _PyFrame_GetGenerator(f)->gi_frame_state != FRAME_SUSPENDED)
        return;
    int line =
        PyCode_Addr2Line(f->f_code, _PyInterpreterFrame_LASTI(f) * (int)sizeof(_Py_CODEUNIT));
    PyObject *d = Py_BuildValue("{s:s,s:s,s:s,s:s,s:{s:O,s:i}}", "ph", "i", "cat", "INSTANT",
                                "name", "await", "s", "t", "args", "function",
                                f->f_code->co_qualname, "line", line); /* new ref */
    if (d)
        vt_tracer__push_custom(t, d, 0);
    else
        PyErr_Clear(); /* out of memory: the await mark is lost, the slice is not */
}

/* ---- call / return -------------------------------------------------- */

/* A call starts. co is the code object for Python calls, NULL for C calls;
 * f is the frame (for arguments), cells as in capture_args(). */
static inline void
on_call(struct vt_tracer *t, struct vt_thread *th, uintptr_t what, PyObject *extra,
        PyCodeObject *co, _PyInterpreterFrame *f, int cells, _PyInterpreterFrame *caller)
{
    if (th->ignore | th->paused) {
        th->ignore++;
        return;
    }
    if (th->depth >= t->max_depth || /* max_depth <= VT_STACK_MAX */
        (co && (t->flags & VT_F_FILTER) && filtered(t, th, co))) {
        th->ignore = 1;
        return;
    }
    struct vt_frame *fr = &th->stack[th->depth++];
    fr->what = what;
    fr->extra = extra;
    fr->args = NULL;
    if (co && (t->flags & VT_F_LOG_ARGS))
        fr->args = capture_args(th, co, f, cells);
    fr->caller_line = (t->flags & VT_F_VDB) ? caller_line(th, caller) : -1;
    if ((t->flags & VT_F_ASYNC) && co && th->task == 0 && (co->co_flags & CO_COROUTINE))
        enter_task(t, th);
    fr->start = vt_clock_now();
}

/* Writes a finished call into the ring. The evicted event is released only
 * after the slot is filled: releasing can run Python code (a weakref
 * callback), which may record events of its own. */
static void
record(struct vt_thread *th, struct vt_frame *fr, int64_t end)
{
    int evicted;
    struct vt_event *e = vt_ring_next(&th->ring, &evicted);
    struct vt_event old = *e;
    e->start = fr->start;
    e->end = end;
    e->what = fr->what;
    e->caller_line = fr->caller_line;
    e->task = th->task;
    if ((fr->what & VT_EVENT_KIND_MASK) == VT_EVENT_PY) {
        Py_INCREF((PyObject *)fr->what);
        e->extra = fr->args; /* moves the reference */
    } else {
        Py_XINCREF(fr->extra);
        e->extra = fr->extra;
    }
    fr->args = NULL;
    if (evicted)
        vt_tracer__event_release(&old);
}

/* A call ends. retval is the return value when known and wanted, else NULL. */
static inline void
on_return(struct vt_tracer *t, struct vt_thread *th, PyObject *retval)
{
    if (th->ignore) {
        th->ignore--;
        return;
    }
    if (th->depth == 0)
        return; /* a call that started before tracing did */
    int64_t end = vt_clock_now();
    struct vt_frame *fr = &th->stack[--th->depth];
    if (fr->what != 0 && end - fr->start >= t->min_dur_ticks) {
        if (retval && (t->flags & VT_F_LOG_RETVAL))
            capture_retval(th, fr, retval);
        record(th, fr, end);
    } else {
        Py_CLEAR(fr->args);
    }
    if (th->task && th->depth == th->task_depth)
        th->task = 0; /* the frame that ran the task step is done */
}

/* C functions of our own module and tracer objects never show in a trace. */
static int
is_own(PyObject *func)
{
    PyObject *self = PyCFunction_GET_SELF(func);
    if (self == NULL)
        return 0;
    if (self == own_module)
        return 1;
    for (size_t i = 0; i < sizeof(own_types) / sizeof(own_types[0]) && own_types[i]; i++)
        if (Py_TYPE(self) == own_types[i])
            return 1;
    return 0;
}

static inline void
on_c_call(struct vt_tracer *t, struct vt_thread *th, PyObject *func, _PyInterpreterFrame *caller)
{
    PyCFunctionObject *cf = (PyCFunctionObject *)func;
    PyObject *owner = cf->m_module; /* borrowed; module name of a function */
    if (owner == NULL && cf->m_self != NULL)
        owner = (PyObject *)Py_TYPE(cf->m_self); /* type of a bound method */
    on_call(t, th, (uintptr_t)cf->m_ml | VT_EVENT_C, owner, NULL, NULL, 0, caller);
}

/* ---- the profile hook (Python and C calls) -------------------------- */

static int
profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    struct vt_tracer *t = (struct vt_tracer *)obj;
    if (!t->collecting)
        return 0;
    struct vt_thread *th = get_thread(t);
    if (th == NULL || th->reentrant)
        return 0;
    switch (what) {
    case PyTrace_CALL: {
        /* A Python function starts, or a generator/coroutine resumes. */
        _PyInterpreterFrame *f = frame->f_frame;
        on_call(t, th, (uintptr_t)f->f_code, NULL, f->f_code, f, 1, f->previous);
        break;
    }
    case PyTrace_RETURN:
        /* It returns, yields, or unwinds with an exception (arg NULL). */
        if (th->task && (t->flags & VT_F_ASYNC) && arg)
            task_await(t, th, frame->f_frame);
        on_return(t, th, arg);
        break;
    case PyTrace_C_CALL:
        /* A builtin function or bound builtin method is called. */
        if ((t->flags & VT_F_IGNORE_C) || !PyCFunction_Check(arg) || is_own(arg))
            break;
        on_c_call(t, th, arg, frame->f_frame);
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        /* The builtin returns or raises. */
        if ((t->flags & VT_F_IGNORE_C) || !PyCFunction_Check(arg) || is_own(arg))
            break;
        on_return(t, th, NULL);
        break;
    default:
        break;
    }
    return 0;
}

/* ---- the frame-evaluation hook (Python frames only) ----------------- */

static PyObject *
eval_frame(PyThreadState *ts, _PyInterpreterFrame *f, int throwflag)
{
    struct vt_tracer *t = active;
    if (t == NULL || !t->collecting)
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
    struct vt_thread *th = get_thread(t);
    if (th == NULL || th->reentrant)
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
    /* Calling a generator or coroutine function only builds the generator
     * (RETURN_GENERATOR); its body runs, and is recorded, when resumed. The
     * profile hook does not report this step either. */
    if ((f->f_code->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
        f->owner == FRAME_OWNED_BY_THREAD)
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
    /* With the profile hook on, this hook is here only for --log_exception. */
    int calls = (t->flags & VT_F_IGNORE_C) != 0;
    uint64_t s = session;
    if (calls)
        on_call(t, th, (uintptr_t)f->f_code, NULL, f->f_code, f, 0, ts->cframe->current_frame);
    /* f is gone once evaluated: keep its code for the exception's event. */
    PyCodeObject *co = (t->flags & VT_F_LOG_EXC) ? f->f_code : NULL; /* new ref below */
    int gen_frame = f->owner == FRAME_OWNED_BY_GENERATOR;
    Py_XINCREF(co);
    PyObject *r = _PyEval_EvalFrameDefault(ts, f, throwflag);
    if (s == session) {
        if (r == NULL && co && !th->ignore && !th->paused)
            vt_tracer__log_exception(t, th, co);
        /* Only a generator's frame outlives its evaluation (it lives in the
         * generator); a thread's frame may be freed memory by now. */
        if (calls && gen_frame && th->task && (t->flags & VT_F_ASYNC) && r)
            task_await(t, th, f);
        if (calls)
            on_return(t, th, r);
    }
    Py_XDECREF(co);
    return r;
}

/* ---- the threading bootstrap ---------------------------------------- */

static void
learn_name(struct vt_thread *th)
{
    if (th->name != NULL)
        return;
    PyObject *threading = loaded_module("threading"); /* new ref */
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
}

/* threading.setprofile() target: called once in each new threading.Thread,
 * for its first event, with (frame, event, arg). */
static PyObject *
bootstrap(PyObject *self, PyObject *args)
{
    (void)self;
    struct vt_tracer *t = active;
    PyObject *frame, *event, *arg;
    if (!PyArg_ParseTuple(args, "OOO", &frame, &event, &arg))
        return NULL;
    if (t == NULL || !t->collecting) {
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    struct vt_thread *th = get_thread(t);
    if (th != NULL)
        learn_name(th);
    if (t->flags & VT_F_IGNORE_C) {
        /* Frames are seen by the frame hook; the profile hook is not needed. */
        PyEval_SetProfile(NULL, NULL);
        Py_RETURN_NONE;
    }
    PyEval_SetProfile(profile, (PyObject *)t);
    if (th != NULL && PyFrame_Check(frame) && PyUnicode_CompareWithASCIIString(event, "call") == 0)
        profile((PyObject *)t, (PyFrameObject *)frame, PyTrace_CALL, Py_None);
    Py_RETURN_NONE;
}

PyMethodDef vt_tracer__bootstrap_def = {"_thread_bootstrap", bootstrap, METH_VARARGS,
                                        "threading.setprofile hook of viztracer"};

/* ---- start / stop --------------------------------------------------- */

static int
set_threading_profile(PyObject *func)
{
    PyObject *threading = PyImport_ImportModule("threading"); /* new ref */
    if (threading == NULL)
        return -1;
    PyObject *r = PyObject_CallMethod(threading, "setprofile", "O", func); /* new ref */
    Py_DECREF(threading);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

int
vt_tracer__hook_start(struct vt_tracer *t)
{
    if (active == t)
        return 0;
    if (active != NULL) {
        PyErr_SetString(PyExc_RuntimeError, "another VizTracer is already tracing");
        return -1;
    }
    PyObject *bs = PyCFunction_New(&vt_tracer__bootstrap_def, NULL); /* new ref */
    if (bs == NULL)
        return -1;
    int rc = set_threading_profile(bs);
    Py_DECREF(bs);
    if (rc < 0)
        return -1;
    struct vt_thread *me = get_thread(t);
    if (me == NULL) {
        PyErr_NoMemory();
        return -1;
    }
    learn_name(me);
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        th->ignore = 0;
        th->depth = 0;
        th->paused = 0;
    }
    if (!t->anchored) {
        vt_clock_anchor_take(&t->first_start);
        t->anchored = 1;
    }
    session++;
    Py_INCREF(t);
    active = t;
    if (glue_dir && !t->trace_self)
        t->flags |= VT_F_GLUE;
    vt_tracer__fcache_clear(t);
    if (vt_tracer__extras_start(t) < 0) {
        active = NULL;
        Py_DECREF(t);
        return -1;
    }
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    if (t->flags & (VT_F_IGNORE_C | VT_F_LOG_EXC))
        _PyInterpreterState_SetEvalFrameFunc(interp, eval_frame);
    if (!(t->flags & VT_F_IGNORE_C)) {
        for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
             ts = PyThreadState_Next(ts))
            _PyEval_SetProfile(ts, profile, (PyObject *)t);
    }
    t->collecting = 1;
    return 0;
}

void
vt_tracer__hook_stop(struct vt_tracer *t)
{
    if (active != t)
        return;
    int64_t now = vt_clock_now();
    t->collecting = 0;
    t->stop_ticks = now;
    session++;
    vt_tracer__extras_stop(t);
    PyInterpreterState *interp = PyThreadState_GetInterpreter(PyThreadState_Get());
    if (t->flags & (VT_F_IGNORE_C | VT_F_LOG_EXC))
        _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
    if (!(t->flags & VT_F_IGNORE_C)) {
        for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
             ts = PyThreadState_Next(ts))
            _PyEval_SetProfile(ts, NULL, NULL);
    }
    /* Calls still open are recorded as finished now, innermost first. */
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        while (th->depth > 0) {
            struct vt_frame *fr = &th->stack[--th->depth];
            if (fr->what == 0 || now - fr->start < t->min_dur_ticks) {
                Py_CLEAR(fr->args);
                continue;
            }
            record(th, fr, now);
        }
        th->ignore = 0;
        th->task = 0;
    }
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *threading = loaded_module("threading"); /* new ref */
    if (threading)
        set_threading_profile(Py_None);
    Py_XDECREF(threading);
    PyErr_Clear(); /* threading torn down at exit: nothing left to unhook */
    PyErr_Restore(et, ev, tb);
    active = NULL;
    Py_DECREF(t);
}

void
vt_tracer__push_custom(struct vt_tracer *t, PyObject *dict, int raw)
{
    struct vt_thread *th = get_thread(t);
    if (th == NULL) {
        Py_DECREF(dict);
        return;
    }
    int evicted;
    struct vt_event *e = vt_ring_next(&th->ring, &evicted);
    struct vt_event old = *e;
    e->start = e->end = vt_clock_now();
    e->caller_line = -1;
    e->task = th->task;
    e->what = raw ? VT_EVENT_RAW : VT_EVENT_CUSTOM;
    e->extra = dict;
    if (evicted)
        vt_tracer__event_release(&old);
}

void
vt_tracer__hook_thread(struct vt_tracer *t)
{
    if (active != t || !t->collecting)
        return;
    struct vt_thread *th = get_thread(t);
    if (th != NULL)
        learn_name(th);
    if (!(t->flags & VT_F_IGNORE_C))
        PyEval_SetProfile(profile, (PyObject *)t);
}
