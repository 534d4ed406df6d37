/* hook_monitor.c: the sys.monitoring hook (PEP 669), CPython 3.12 and later.
 *
 * From 3.12 the profile hook is emulated over sys.monitoring, with a Python
 * tuple and a frame object built per event; so here we register as a tool
 * ourselves. There is no C API to subscribe a C function pointer (3.12,
 * 3.13): the callbacks are builtin function objects (METH_FASTCALL), which
 * the interpreter calls through vectorcall with no Python frame, argument
 * tuple or frame object. Each event becomes one call of the hot path in
 * hook.h:
 *   PY_START, PY_RESUME, PY_THROW     a Python frame starts or resumes: call
 *   PY_RETURN, PY_YIELD, PY_UNWIND    it returns, yields or unwinds: return
 *   CALL, C_RETURN, C_RAISE           a builtin is called and ends; only
 *                                     subscribed when C functions are recorded
 * sys.monitoring is per interpreter, so every thread, also those that existed
 * before start, is covered without threading.setprofile.
 *
 * Filters: a filtered function is skipped with everything it calls, as on
 * 3.11, so its start and return must still be seen (to know where its
 * subtree ends); but the call sites inside it answer CALL with DISABLE,
 * which removes that event at that location for us: the builtins and
 * functions a filtered function calls cost one event less each, and none
 * for builtins. (Disabling its PY_START too would record the functions it
 * calls, our glue's imports for one.) Disabled locations stay disabled
 * until restart_events(), called at the next start.
 */
#include "hook.h"
#include "pyframe.h"

#if VT_HAVE_MONITORING

/* sys.monitoring objects, strong references while a session runs. Protected
 * by the GIL. */
static PyObject *monitoring; /* the sys.monitoring module */
static PyObject *disable;    /* sys.monitoring.DISABLE */
static PyObject *missing;    /* sys.monitoring.MISSING (CALL without arguments) */
static int tool = -1;        /* our tool id while registered, else -1 */
static int disabled_any;     /* some location was disabled: restart_events() at start */

/* When a thread's calls start to count. On 3.11 a threading.Thread is
 * hooked by threading.setprofile() just before it calls run(), after it is
 * listed in threading._active; sys.monitoring shows its every call from
 * its first bytecode. For the same events, a thread is "open" once
 * threading lists it (its name is known; the main thread's and those
 * running at start are at once); until then its events are not ours, and
 * their returns, at depth 0, pop nothing. A thread threading never lists
 * (started with _thread) is not traced, as on 3.11, and is given up on
 * after VT_OPEN_TRIES events. Per thread, for the tracer of that serial. */
#define VT_OPEN_TRIES 256
static _Thread_local uint64_t open_serial __attribute__((tls_model("initial-exec")));
static _Thread_local uint64_t closed_serial __attribute__((tls_model("initial-exec")));
static _Thread_local uint32_t open_tries __attribute__((tls_model("initial-exec")));

static inline PyObject *
keep_going(void)
{
    Py_RETURN_NONE;
}

static inline PyObject *
stop_here(void)
{
    disabled_any = 1;
    return Py_NewRef(disable);
}

/* Whether the calling thread's calls count from now on (see open_serial):
 * at once when its name was known at its first event, else at the first
 * Python call after threading lists it (run(), where 3.11 starts). */
static int
thread_opens(struct vt_tracer *t, struct vt_thread *th, int py_start)
{
    if (closed_serial == t->serial)
        return 0;
    if (th->name == NULL && py_start)
        vt_tracer__thread_name_retry(th);
    if (th->name != NULL) {
        open_serial = t->serial;
        return 1;
    }
    if (++open_tries >= VT_OPEN_TRIES) {
        closed_serial = t->serial;
        open_tries = 0;
    }
    return 0;
}

/* The calling thread's state, or NULL when this event is not ours to see. */
static inline struct vt_thread *
enter(struct vt_tracer **tp, int py_start)
{
    struct vt_tracer *t = vt_tracer__hook_state.active;
    if (t == NULL || !t->collecting)
        return NULL;
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL || th->reentrant || (open_serial != t->serial && !thread_opens(t, th, py_start)))
        return NULL;
    *tp = t;
    return th;
}

/* PY_START, PY_RESUME, PY_THROW (code, instruction_offset[, exception]). */
static PyObject *
mon_start(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)n;
    struct vt_tracer *t;
    struct vt_thread *th = enter(&t, 1);
    if (th == NULL)
        return keep_going();
    PyCodeObject *co = (PyCodeObject *)args[0];
    _PyInterpreterFrame *f = NULL;
    if (t->flags & (VT_F_LOG_ARGS | VT_F_VDB))
        f = vt_frame_current(PyThreadState_GET()); /* the frame starting: no frame of ours */
    vt_tracer__hook_call(t, th, (uintptr_t)co, NULL, co, f, 1, f ? f->previous : NULL);
    return keep_going();
}

/* PY_RETURN (code, instruction_offset, retval). */
static PyObject *
mon_return(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)n;
    struct vt_tracer *t;
    struct vt_thread *th = enter(&t, 0);
    if (th == NULL)
        return keep_going();
    vt_tracer__hook_return(t, th, args[2]);
    return keep_going();
}

/* PY_YIELD (code, instruction_offset, value): a generator or coroutine is
 * suspended. For log_async, a coroutine of the running task at an await. */
static PyObject *
mon_yield(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)n;
    struct vt_tracer *t;
    struct vt_thread *th = enter(&t, 0);
    if (th == NULL)
        return keep_going();
    PyCodeObject *co = (PyCodeObject *)args[0];
    if (th->task && (t->flags & VT_F_ASYNC) && !th->ignore && (co->co_flags & CO_COROUTINE)) {
        long off = PyLong_AsLong(args[1]); /* in bytes */
        if (off < 0)
            PyErr_Clear(); /* cannot happen: the interpreter passes a small int */
        else
            vt_tracer__task_await_at(t, th, co, PyCode_Addr2Line(co, (int)off));
    }
    vt_tracer__hook_return(t, th, args[2]);
    return keep_going();
}

/* PY_UNWIND (code, instruction_offset, exception): the frame exits with an
 * exception. For log_exception, the exception is recorded after the call. */
static PyObject *
mon_unwind(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)n;
    struct vt_tracer *t;
    struct vt_thread *th = enter(&t, 0);
    if (th == NULL)
        return keep_going();
    PyCodeObject *co = (PyCodeObject *)args[0];
    vt_tracer__hook_return(t, th, NULL);
    if ((t->flags & VT_F_LOG_EXC) && !th->ignore && !th->paused) {
        /* The interpreter holds the exception aside while we run. */
        PyErr_SetRaisedException(Py_NewRef(args[2]));
        vt_tracer__log_exception(t, th, co);
        PyErr_Clear();
    }
    return keep_going();
}

/* Whether callable (called with first argument arg0, or MISSING) is a
 * builtin we record: a builtin function or bound method (PyCFunction), or
 * a method descriptor called with its object, which the 3.11 hooks see as
 * the bound builtin (3.12's CALL gets list.append and the list for
 * lst.append(1)), or a method object bound to a builtin (classmethod(repr)),
 * which 3.11 unwraps before its C call event. Sets *ml and *owner
 * (borrowed) for the event. */
static inline int
builtin_call(PyObject *callable, PyObject *arg0, PyMethodDef **ml, PyObject **owner)
{
    if (PyMethod_Check(callable) && PyCFunction_Check(PyMethod_GET_FUNCTION(callable)))
        callable = PyMethod_GET_FUNCTION(callable);
    if (PyCFunction_Check(callable)) {
        PyCFunctionObject *cf = (PyCFunctionObject *)callable;
        if (cf->m_self && vt_tracer__is_own(cf->m_self))
            return 0;
        *ml = cf->m_ml;
        *owner = cf->m_module; /* module name of a function */
        if (*owner == NULL && cf->m_self != NULL)
            *owner = (PyObject *)Py_TYPE(cf->m_self); /* type of a bound method */
        return 1;
    }
    if (Py_IS_TYPE(callable, &PyMethodDescr_Type) && arg0 != missing) {
        if (vt_tracer__is_own(arg0))
            return 0;
        *ml = ((PyMethodDescrObject *)callable)->d_method;
        *owner = (PyObject *)Py_TYPE(arg0);
        return 1;
    }
    return 0;
}

/* Whether this call site is in a function whose calls are all skipped: a
 * filtered one (the frame that entered tracing, say our glue's runner that
 * calls exec, is filtered but not skipped). */
static inline int
skipped_site(struct vt_tracer *t, struct vt_thread *th, PyObject *code)
{
    return th->ignore && (t->flags & VT_F_FILTER) &&
           vt_tracer__filtered(t, th, (PyCodeObject *)code);
}

/* CALL (code, instruction_offset, callable, arg0): any call; builtins only
 * are recorded here (Python functions get their PY_START). */
static PyObject *
mon_call(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)n;
    /* Most calls are of Python functions, which PyCFunction_Check() would
     * only reject after a walk of the type's MRO. */
    if (Py_IS_TYPE(args[2], &PyFunction_Type))
        return keep_going();
    struct vt_tracer *t;
    struct vt_thread *th = enter(&t, 0);
    if (th == NULL)
        return keep_going();
    if (skipped_site(t, th, args[0]))
        return stop_here(); /* its C_RETURN and C_RAISE go with it */
    PyMethodDef *ml;
    PyObject *owner;
    if (!builtin_call(args[2], args[3], &ml, &owner))
        return keep_going();
    _PyInterpreterFrame *caller =
        (t->flags & VT_F_VDB) ? vt_frame_current(PyThreadState_GET()) : NULL;
    vt_tracer__hook_call(t, th, (uintptr_t)ml | VT_EVENT_C, owner, NULL, NULL, 0, caller);
    return keep_going();
}

/* C_RETURN, C_RAISE (code, instruction_offset, callable, arg0): the builtin
 * of the matching CALL ends. Neither can be disabled on its own. */
static PyObject *
mon_c_return(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)n;
    struct vt_tracer *t;
    struct vt_thread *th = enter(&t, 0);
    if (th == NULL)
        return keep_going();
    PyMethodDef *ml;
    PyObject *owner;
    if (skipped_site(t, th, args[0]) || !builtin_call(args[2], args[3], &ml, &owner))
        return keep_going(); /* as its CALL was */
    vt_tracer__hook_return(t, th, NULL);
    return keep_going();
}

#define VT_FASTCALL(fn) ((PyCFunction)(void (*)(void))(fn))
/* The events we subscribe to and their callbacks; c = only when C functions
 * are recorded. Static: the function objects made from them borrow them. */
static PyMethodDef callback_defs[] = {
    {"PY_START", VT_FASTCALL(mon_start), METH_FASTCALL, NULL},
    {"PY_RESUME", VT_FASTCALL(mon_start), METH_FASTCALL, NULL},
    {"PY_THROW", VT_FASTCALL(mon_start), METH_FASTCALL, NULL},
    {"PY_RETURN", VT_FASTCALL(mon_return), METH_FASTCALL, NULL},
    {"PY_YIELD", VT_FASTCALL(mon_yield), METH_FASTCALL, NULL},
    {"PY_UNWIND", VT_FASTCALL(mon_unwind), METH_FASTCALL, NULL},
    {"CALL", VT_FASTCALL(mon_call), METH_FASTCALL, NULL},
    {"C_RETURN", VT_FASTCALL(mon_c_return), METH_FASTCALL, NULL},
    {"C_RAISE", VT_FASTCALL(mon_c_return), METH_FASTCALL, NULL},
};
#define VT_N_CALLBACKS (sizeof(callback_defs) / sizeof(callback_defs[0]))
#define VT_FIRST_C_CALLBACK 6 /* CALL, C_RETURN, C_RAISE */

/* sys.monitoring.events.<name>, or -1 with an exception set. */
static long
event_bit(PyObject *events, const char *name)
{
    PyObject *v = PyObject_GetAttrString(events, name); /* new ref */
    if (v == NULL)
        return -1;
    long bit = PyLong_AsLong(v);
    Py_DECREF(v);
    return bit;
}

/* Registers callback (a new function object, or None) for every event of
 * ours; ORs their bits into *mask. Returns 0, or -1 with an exception set. */
static int
register_all(int with_c, long *mask, int install)
{
    PyObject *events = PyObject_GetAttrString(monitoring, "events"); /* new ref */
    if (events == NULL)
        return -1;
    int rc = -1;
    for (size_t i = 0; i < VT_N_CALLBACKS; i++) {
        if (i >= VT_FIRST_C_CALLBACK && !with_c)
            break;
        long bit = event_bit(events, callback_defs[i].ml_name);
        if (bit < 0)
            goto out;
        PyObject *fn = install ? PyCFunction_New(&callback_defs[i], NULL) : Py_NewRef(Py_None);
        if (fn == NULL)
            goto out;
        PyObject *r = PyObject_CallMethod(monitoring, "register_callback", "ilO", tool, bit, fn);
        Py_DECREF(fn);
        if (r == NULL)
            goto out;
        Py_DECREF(r);
        *mask |= bit;
    }
    rc = 0;
out:
    Py_DECREF(events);
    return rc;
}

/* Takes a tool id. Not PROFILER_ID first: cProfile (3.12+) insists on it,
 * and a traced program that runs cProfile would fail with "Another
 * profiling tool is already active"; 3 and 4 have no assigned role, so we
 * take one of them, and PROFILER_ID only when both are in use. Returns 0,
 * or -1 with an exception set. */
static int
take_tool_id(void)
{
    PyObject *pid = PyObject_GetAttrString(monitoring, "PROFILER_ID"); /* new ref */
    if (pid == NULL)
        return -1;
    int ids[] = {4, 3, (int)PyLong_AsLong(pid)};
    Py_DECREF(pid);
    for (size_t i = 0; i < sizeof(ids) / sizeof(ids[0]); i++) {
        PyObject *who = PyObject_CallMethod(monitoring, "get_tool", "i", ids[i]); /* new ref */
        if (who == NULL)
            return -1;
        int free_id = who == Py_None;
        Py_DECREF(who);
        if (!free_id)
            continue;
        PyObject *r = PyObject_CallMethod(monitoring, "use_tool_id", "is", ids[i], "viztracer");
        if (r == NULL)
            return -1;
        Py_DECREF(r);
        tool = ids[i];
        return 0;
    }
    PyErr_SetString(PyExc_RuntimeError,
                    "sys.monitoring: tool ids 3, 4 and PROFILER_ID are all in use");
    return -1;
}

int
vt_tracer__monitor_start(struct vt_tracer *t)
{
    if (tool >= 0)
        return 0;
    monitoring = PySys_GetObject("monitoring"); /* borrowed */
    if (monitoring == NULL) {
        PyErr_SetString(PyExc_RuntimeError, "sys.monitoring is missing");
        return -1;
    }
    Py_INCREF(monitoring);
    disable = PyObject_GetAttrString(monitoring, "DISABLE");
    missing = disable ? PyObject_GetAttrString(monitoring, "MISSING") : NULL;
    if (missing == NULL || take_tool_id() < 0)
        goto fail;
    if (disabled_any) {
        /* An earlier session disabled filtered code; this one's filters may differ. */
        PyObject *r = PyObject_CallMethod(monitoring, "restart_events", NULL);
        if (r == NULL)
            goto fail;
        Py_DECREF(r);
        disabled_any = 0;
    }
    long mask = 0;
    if (register_all(!(t->flags & VT_F_IGNORE_C), &mask, 1) < 0)
        goto fail;
    PyObject *r = PyObject_CallMethod(monitoring, "set_events", "il", tool, mask);
    if (r == NULL)
        goto fail;
    Py_DECREF(r);
    return 0;
fail:
    vt_tracer__monitor_stop();
    return -1;
}

void
vt_tracer__monitor_stop(void)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    if (tool >= 0 && monitoring) {
        long mask = 0;
        PyObject *r = PyObject_CallMethod(monitoring, "set_events", "ii", tool, 0);
        Py_XDECREF(r);
        register_all(1, &mask, 0);
        r = PyObject_CallMethod(monitoring, "free_tool_id", "i", tool);
        Py_XDECREF(r);
        PyErr_Clear(); /* at exit sys.monitoring may be gone: nothing left to remove */
    }
    tool = -1;
    Py_CLEAR(missing);
    Py_CLEAR(disable);
    Py_CLEAR(monitoring);
    PyErr_Restore(et, ev, tb);
}

#endif
