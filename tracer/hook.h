/* hook.h: the hot path. One call in, one fixed-size ring record out.
 *
 * Every hook mechanism (profile.c, evalframe.c; internal.h, "hooks", says
 * how to add one) turns the interpreter's notification into
 * vt_tracer__hook_call() when a call starts and vt_tracer__hook_return()
 * when it ends. They push and pop the thread's stack of open calls and
 * write one ring record per finished call. Nothing here allocates, locks or
 * creates a Python object, except when the user asked for arguments, return
 * values, the caller's line or asyncio tasks (capture.c: one flag test for
 * all but return values, vt_tracer__call_rare()).
 *
 * These are static inline in a header, not functions of hook.c, so that the
 * compiler inlines them into each hook callback as it did when they all
 * shared one file: a call through the PLT per event would cost more than
 * the rest of the record. The rare paths (a filter cache miss, captures)
 * are out of line in hook.c and capture.c.
 *
 * Sections: the file filter, call, record, return.
 */
#ifndef VT_TRACER_HOOK_H
#define VT_TRACER_HOOK_H

#include "internal.h"

#include "pyframe.h"

/* capture.c: what a call carries besides its name; each runs Python code
 * (repr, asyncio), guarded by th->reentrant and th->ignore. Need the GIL. */
/* Builds {"func_args": {name: repr}} from the frame's parameters. cells says
 * whether MAKE_CELL has run (profile hook), so cell parameters are
 * unwrapped. New ref, or NULL when out of memory (the call is still
 * recorded). Leaves the pending exception as it was. */
PyObject *vt_tracer__capture_args(struct vt_thread *th, PyCodeObject *co, _PyInterpreterFrame *f,
                                  int cells);
/* Adds "return_value": repr(retval) to the args of the call fr. */
void vt_tracer__capture_retval(struct vt_thread *th, struct vt_frame *fr, PyObject *retval);
/* The call fr ends and is recorded, with VT_F_LOG_RETVAL or VT_F_SHARE_ARGS
 * set: its return value (retval, NULL when unknown) captured, its args
 * rendered into the crash-safe area. */
void vt_tracer__return_rare(struct vt_tracer *t, struct vt_thread *th, struct vt_frame *fr,
                            PyObject *retval) __attribute__((cold, noinline));
/* The line being executed in frame f (vdb mode), or -1. */
int32_t vt_tracer__caller_line(struct vt_thread *th, _PyInterpreterFrame *f);
/* A coroutine frame starts on a thread that runs no task yet: asks asyncio
 * which task it is and puts the thread's events on that task's track. */
void vt_tracer__enter_task(struct vt_tracer *t, struct vt_thread *th);
/* A coroutine frame of the running task is suspended at an await: records
 * an instant event on the task's track. Call before vt_tracer__hook_return(). */
void vt_tracer__task_await(struct vt_tracer *t, struct vt_thread *th, _PyInterpreterFrame *f);
/* The same instant event, for a hook that knows the code and line of the
 * await but has no suspended frame (sys.monitoring's PY_YIELD). */
void vt_tracer__task_await_at(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co,
                              int line);

/* hook.c: the filter's slow path */
/* Decides whether code of co's file is skipped with its whole subtree and
 * caches the answer in th. Leaves the pending exception as it was. */
int vt_tracer__filter_miss(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co);

/* ---- the file filter ------------------------------------------------ */

/* Code objects of one file share one filename object, so a small cache keyed
 * by its address answers almost every call without a string comparison. The
 * cache holds a reference, so an address is never reused while cached. */
static inline int
vt_tracer__filtered(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co)
{
    PyObject *fn = co->co_filename;
    size_t h = ((uintptr_t)fn >> 4) & (VT_FCACHE_SIZE - 1);
    if (th->fkey[h] == fn)
        return th->fval[h];
    return vt_tracer__filter_miss(t, th, co);
}

/* ---- call ----------------------------------------------------------- */

/* The options that make a call carry more than its name and times; one
 * test on the hot path sends them to vt_tracer__call_rare(). */
#define VT_F_CALL_RARE (VT_F_LOG_ARGS | VT_F_VDB | VT_F_ASYNC)

/* capture.c: fills what the rare options ask of the call fr just pushed
 * (arguments, caller line, the asyncio task), as vt_tracer__hook_call()'s
 * arguments say. Out of line: most sessions never get here. */
void vt_tracer__call_rare(struct vt_tracer *t, struct vt_thread *th, struct vt_frame *fr,
                          PyCodeObject *co, _PyInterpreterFrame *f, int cells,
                          _PyInterpreterFrame *caller) __attribute__((cold, noinline));

/* A call starts. what is the tagged pointer of struct vt_event (code object
 * or PyMethodDef | VT_EVENT_C); extra the C function's owner (borrowed), or
 * NULL; co the code object for Python calls, NULL for C calls; f the frame
 * (for arguments), cells as in vt_tracer__capture_args(); caller the
 * calling frame (for vdb's caller line). Can't fail. */
static inline __attribute__((always_inline)) void
vt_tracer__hook_call(struct vt_tracer *t, struct vt_thread *th, uintptr_t what, PyObject *extra,
                     PyCodeObject *co, _PyInterpreterFrame *f, int cells,
                     _PyInterpreterFrame *caller)
{
    if (th->ignore | th->paused) {
        th->ignore++;
        return;
    }
    if (th->depth >= t->max_depth || /* max_depth <= VT_STACK_MAX */
        (co && (t->flags & VT_F_FILTER) && vt_tracer__filtered(t, th, co))) {
        th->ignore = 1;
        return;
    }
    struct vt_frame *fr = &th->stack[th->depth++];
    fr->what = what;
    Py_XINCREF(co); /* what's reference (struct vt_frame), moved into the event */
    fr->extra = extra;
    fr->args = NULL;
    fr->caller_line = -1;
    if (__builtin_expect((t->flags & VT_F_CALL_RARE) != 0, 0))
        vt_tracer__call_rare(t, th, fr, co, f, cells, caller);
    fr->start = vt_clock_now(); /* after the captures: their time is not the call's */
}

/* A builtin function or bound builtin method func (a PyCFunctionObject) is
 * called from frame caller. */
static inline __attribute__((always_inline)) void
vt_tracer__hook_c_call(struct vt_tracer *t, struct vt_thread *th, PyObject *func,
                       _PyInterpreterFrame *caller)
{
    PyCFunctionObject *cf = (PyCFunctionObject *)func;
    PyObject *owner = cf->m_module; /* borrowed; module name of a function */
    if (owner == NULL && cf->m_self != NULL)
        owner = (PyObject *)Py_TYPE(cf->m_self); /* type of a bound method */
    vt_tracer__hook_call(t, th, (uintptr_t)cf->m_ml | VT_EVENT_C, owner, NULL, NULL, 0, caller);
}

/* ---- record --------------------------------------------------------- */

/* Fills slot e with the finished call fr, which ended at end (ticks). Moves
 * fr->args into the event. */
static inline __attribute__((always_inline)) void
vt_tracer__fill(struct vt_thread *th, struct vt_frame *fr, struct vt_event *e, int64_t end)
{
    e->start = fr->start;
    e->end = end;
    e->what = fr->what;
    e->caller_line = fr->caller_line;
    e->task = th->task;
    if ((fr->what & VT_EVENT_KIND_MASK) == VT_EVENT_PY) {
        e->extra = fr->args; /* moves both references: the code's and the args' */
    } else {
        Py_XINCREF(fr->extra);
        e->extra = fr->extra;
    }
    fr->args = NULL;
}

/* Writes the finished call fr, which ended at end (ticks), into the ring.
 * Until the ring wraps, the slot is only written, never read: a read of a
 * page not yet touched would map the zero page first and fault again on
 * the write. Once it has wrapped (the steady state of any program of more
 * calls than the ring holds) the slot still holds the oldest event: that
 * one is released only after the slot is filled, as releasing can run
 * Python code (a weakref callback), which may record events of its own.
 * Inline, as a call here cost about 20 instructions per event. */
static inline __attribute__((always_inline)) void
vt_tracer__record(struct vt_thread *th, struct vt_frame *fr, int64_t end)
{
    int evicted;
    struct vt_event *e = vt_ring_next(&th->ring, &evicted);
    if (evicted) {
        int held =
            vt_ring_full(&th->ring); /* before the fill: the drainer may still need the slot */
        /* Only the two fields the release reads, not a copy of the event:
         * that was compiled as a `rep movs` (and an initialized one as a
         * `rep stos`), about a fifth of a traced call. */
        uintptr_t old_what = e->what;
        void *old_extra = e->extra;
        vt_tracer__fill(th, fr, e, end);
        if (held)
            vt_tracer__held_release(old_what, old_extra);
    } else {
        vt_tracer__fill(th, fr, e, end);
    }
}

/* ---- return --------------------------------------------------------- */

/* A call ends. retval is the return value when known and wanted, else NULL.
 * Can't fail. */
static inline __attribute__((always_inline)) void
vt_tracer__hook_return(struct vt_tracer *t, struct vt_thread *th, PyObject *retval)
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
        if (__builtin_expect((t->flags & (VT_F_LOG_RETVAL | VT_F_SHARE_ARGS)) != 0, 0))
            vt_tracer__return_rare(t, th, fr, retval);
        vt_tracer__record(th, fr, end);
    } else {
        vt_tracer__frame_drop(fr);
    }
    if (th->task && th->depth == th->task_depth)
        th->task = 0; /* the frame that ran the task step is done */
}

#endif
