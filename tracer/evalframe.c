/* evalframe.c: the PEP 523 frame-evaluation hook (CPython 3.11).
 *
 * It sees Python frames only, with the interpreter at full speed: used
 * with ignore_c_function, where each frame becomes one call of the hot path
 * in hook.h around the default evaluator. With the profile hook on, it is
 * installed only for log_exception, to see exceptions leaving a function.
 * session.c installs it for the interpreter; it has no argument, so it
 * finds the tracer in vt_tracer__hook_state.
 */
#include "hook.h"

static PyObject *
eval_frame(PyThreadState *ts, _PyInterpreterFrame *f, int throwflag)
{
    struct vt_tracer *t = vt_tracer__hook_state.active;
    if (t == NULL || !t->collecting)
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL || th->reentrant)
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
#if VT_HAVE_MONITORING
    /* 3.12+ installs no threading bootstrap (session.c): a new thread's name
     * is read once threading lists it, a few frames into its bootstrap. */
    if (th->name == NULL && th->depth < 4)
        vt_tracer__thread_name_retry(th);
#endif
    /* Calling a generator or coroutine function only builds the generator
     * (RETURN_GENERATOR); its body runs, and is recorded, when resumed. The
     * profile hook does not report this step either. */
    PyCodeObject *code = vt_frame_code(f);
    if ((code->co_flags & (CO_GENERATOR | CO_COROUTINE | CO_ASYNC_GENERATOR)) &&
        f->owner == FRAME_OWNED_BY_THREAD)
        return _PyEval_EvalFrameDefault(ts, f, throwflag);
    uint64_t s = vt_tracer__hook_state.session;
    /* After the evaluation th is looked up again (one thread-local compare):
     * a fork() inside it moves the child's state into an area of its own
     * (crash.c), and the th of before is then unmapped memory. */
    /* The common case, --ignore_c_function alone or with filters: the call
     * around the default evaluator and nothing else to remember. */
    if ((t->flags & (VT_F_IGNORE_C | VT_F_LOG_EXC | VT_F_ASYNC)) == VT_F_IGNORE_C) {
        vt_tracer__hook_call(t, th, (uintptr_t)code, NULL, code, f, 0, vt_frame_current(ts));
        PyObject *r = _PyEval_EvalFrameDefault(ts, f, throwflag);
        if (s == vt_tracer__hook_state.session && (th = vt_tracer__thread(t)) != NULL)
            vt_tracer__hook_return(t, th, r);
        return r;
    }
    /* With the profile hook on, this hook is here only for --log_exception. */
    int calls = (t->flags & VT_F_IGNORE_C) != 0;
    if (calls)
        vt_tracer__hook_call(t, th, (uintptr_t)code, NULL, code, f, 0, vt_frame_current(ts));
    /* f is gone once evaluated: keep its code for the exception's event. */
    PyCodeObject *co = (t->flags & VT_F_LOG_EXC) ? code : NULL; /* new ref below */
    int gen_frame = f->owner == FRAME_OWNED_BY_GENERATOR;
    Py_XINCREF(co);
    PyObject *r = _PyEval_EvalFrameDefault(ts, f, throwflag);
    if (s == vt_tracer__hook_state.session && (th = vt_tracer__thread(t)) != NULL) {
        if (r == NULL && co && !th->ignore && !th->paused)
            vt_tracer__log_exception(t, th, co);
        /* Only a generator's frame outlives its evaluation (it lives in the
         * generator); a thread's frame may be freed memory by now. */
        if (calls && gen_frame && th->task && (t->flags & VT_F_ASYNC) && r)
            vt_tracer__task_await(t, th, f);
        if (calls)
            vt_tracer__hook_return(t, th, r);
    }
    Py_XDECREF(co);
    return r;
}

void
vt_tracer__evalframe_start(PyInterpreterState *interp)
{
    _PyInterpreterState_SetEvalFrameFunc(interp, eval_frame);
}

void
vt_tracer__evalframe_stop(PyInterpreterState *interp)
{
    _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
}
