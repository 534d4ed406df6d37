/* profile.c: the profile hook (PyEval_SetProfile), the default mechanism.
 *
 * It sees Python and C calls, at the price of putting the interpreter on
 * its slow tracing path (docs/DESIGN.md, "The interpreter"). Each PyTrace_*
 * event becomes one call of the hot path in hook.h. session.c installs it
 * on every thread at start, and on each new thread through the threading
 * bootstrap; with ignore_c_function the frame hook (evalframe.c) is used
 * instead.
 */
#include "hook.h"

#include <stdio.h>

struct vt_own vt_tracer__own;

void
vt_tracer__hook_own(PyObject *module, PyTypeObject *type)
{
    struct vt_own *o = &vt_tracer__own;
    if (module)
        o->module = module;
    for (size_t i = 0; type && i < sizeof(o->types) / sizeof(o->types[0]); i++) {
        if (o->types[i] == NULL || o->types[i] == type) {
            o->types[i] = type;
            return;
        }
    }
    /* More types than slots: a change of ours to fix here (every run says
     * so), not something a user can cause; their C calls would be recorded. */
    if (type)
        fprintf(stderr, "viztracer: internal: more own types than struct vt_own has slots\n");
}

/* Whether arg of a C event is a builtin we record: a builtin function or
 * method (the exact types first: PyCFunction_Check() alone walks the MRO
 * of every other type), not bound to our module or objects. */
static inline int
recorded_builtin(PyObject *arg)
{
    if (!Py_IS_TYPE(arg, &PyCFunction_Type) && !Py_IS_TYPE(arg, &PyCMethod_Type) &&
        !PyCFunction_Check(arg))
        return 0;
    PyObject *self = PyCFunction_GET_SELF(arg);
    return self == NULL || !vt_tracer__is_own(self);
}

int
vt_tracer__profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    struct vt_tracer *t = (struct vt_tracer *)obj;
    if (!t->collecting)
        return 0;
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL || th->reentrant)
        return 0;
    switch (what) {
    case PyTrace_CALL: {
        /* A Python function starts, or a generator/coroutine resumes. */
        _PyInterpreterFrame *f = frame->f_frame;
        PyCodeObject *co = vt_frame_code(f);
        vt_tracer__hook_call(t, th, (uintptr_t)co, NULL, co, f, 1, f->previous);
        break;
    }
    case PyTrace_RETURN:
        /* It returns, yields, or unwinds with an exception (arg NULL). */
        if (th->task && (t->flags & VT_F_ASYNC) && arg)
            vt_tracer__task_await(t, th, frame->f_frame);
        vt_tracer__hook_return(t, th, arg);
        break;
    case PyTrace_C_CALL:
        /* A builtin function or bound builtin method is called. */
        if ((t->flags & VT_F_IGNORE_C) || !recorded_builtin(arg))
            break;
        vt_tracer__hook_c_call(t, th, arg, frame->f_frame);
        break;
    case PyTrace_C_RETURN:
    case PyTrace_C_EXCEPTION:
        /* The builtin returns or raises. */
        if ((t->flags & VT_F_IGNORE_C) || !recorded_builtin(arg))
            break;
        vt_tracer__hook_return(t, th, NULL);
        break;
    default:
        break;
    }
    return 0;
}

/* 3.12 has a public call for every thread (and 3.13 no longer exports
 * _PyEval_SetProfile); 3.11 sets each thread state. */
void
vt_tracer__profile_start(struct vt_tracer *t, PyInterpreterState *interp)
{
#if PY_VERSION_HEX >= 0x030C0000
    (void)interp;
    PyEval_SetProfileAllThreads(vt_tracer__profile, (PyObject *)t);
#else
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts; ts = PyThreadState_Next(ts))
        _PyEval_SetProfile(ts, vt_tracer__profile, (PyObject *)t);
#endif
}

#if PY_VERSION_HEX < 0x030C0000
/* An error while the hook is removed is not the caller's (stop() has no
 * failure of its own), so it goes where 3.12's PyEval_SetProfileAllThreads
 * sends it; Ctrl+C is not lost but raised again at the next check. */
static void
report_stop_error(void)
{
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        PyErr_Clear();
        PyErr_SetInterrupt();
        return;
    }
    PyErr_WriteUnraisable(NULL);
}
#endif

void
vt_tracer__profile_stop(PyInterpreterState *interp)
{
#if PY_VERSION_HEX >= 0x030C0000
    (void)interp;
    PyEval_SetProfileAllThreads(NULL, NULL);
#else
    for (PyThreadState *ts = PyInterpreterState_ThreadHead(interp); ts;
         ts = PyThreadState_Next(ts)) {
        if (_PyEval_SetProfile(ts, NULL, NULL) == 0)
            continue;
        /* Its "sys.setprofile" audit event runs Python hooks, and with them
         * signal handlers; one that failed must not leave the hook in: the
         * second try runs no handler that already ran. */
        report_stop_error();
        if (_PyEval_SetProfile(ts, NULL, NULL) < 0)
            report_stop_error();
    }
#endif
}
