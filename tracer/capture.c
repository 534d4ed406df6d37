/* capture.c: what a call carries besides its name, on request: argument
 * and return-value reprs (log_func_args, log_func_retval), the caller's
 * line (vdb) and the asyncio task it runs in (log_async).
 *
 * The hot path (hook.h) calls these behind one flag test (vt_tracer__call_rare). They run
 * Python code (repr, asyncio), so each saves the pending exception, counts
 * itself in th->reentrant (the hooks then ignore the calls it makes) and
 * th->ignore, and leaves Python's error state as it found it.
 */
#include "hook.h"

/* CO_FAST_CELL of internal/pycore_code.h (3.11), whose other declarations
 * we do not need: the kind bit of a local that lives in a cell. */
#define VT_CO_FAST_CELL 0x40

/* ---- the rare options of a call ------------------------------------- */

void
vt_tracer__call_rare(struct vt_tracer *t, struct vt_thread *th, struct vt_frame *fr,
                     PyCodeObject *co, _PyInterpreterFrame *f, int cells,
                     _PyInterpreterFrame *caller)
{
    if (co && (t->flags & VT_F_LOG_ARGS))
        fr->args = vt_tracer__capture_args(th, co, f, cells);
    if (t->flags & VT_F_VDB)
        fr->caller_line = vt_tracer__caller_line(th, caller);
    if ((t->flags & VT_F_ASYNC) && co && th->task == 0 && (co->co_flags & CO_COROUTINE))
        vt_tracer__enter_task(t, th);
}

void
vt_tracer__return_rare(struct vt_tracer *t, struct vt_thread *th, struct vt_frame *fr,
                       PyObject *retval)
{
    if (retval && (t->flags & VT_F_LOG_RETVAL))
        vt_tracer__capture_retval(th, fr, retval);
    /* now, while the dict can be read: a process killed later leaves
     * nothing to read it from */
    if (fr->args && (t->flags & VT_F_SHARE_ARGS) && (fr->what & VT_EVENT_KIND_MASK) == VT_EVENT_PY)
        vt_tracer__crash_render(fr->args, fr->start);
}

/* ---- arguments and return values ------------------------------------ */

/* The logged text of v: the collecting tracer's log_func_repr (objprint's
 * format, or the user's) when it has one, else repr(); "Not Displayable"
 * when that fails, as VizTracer. New ref, NULL when out of memory. */
static PyObject *
value_text(PyObject *v)
{
    struct vt_tracer *t = vt_tracer__hook_state.active; /* borrowed */
    PyObject *f = t ? t->log_func_repr : NULL;          /* borrowed */
    if (f == NULL || f == Py_None)
        return vt_tracer__safe_repr(v);
    PyObject *r = PyObject_CallOneArg(f, v); /* new ref */
    if (r != NULL && PyUnicode_Check(r))
        return r;
    Py_XDECREF(r);
    PyErr_Clear();
    return PyUnicode_FromString("Not Displayable");
}

PyObject *
vt_tracer__capture_args(struct vt_thread *th, PyCodeObject *co, _PyInterpreterFrame *f, int cells)
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
        PyObject *r = value_text(v); /* new ref */
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

void
vt_tracer__capture_retval(struct vt_thread *th, struct vt_frame *fr, PyObject *retval)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    th->reentrant++;
    th->ignore++;
    if (fr->args == NULL)
        fr->args = PyDict_New();
    PyObject *r = value_text(retval); /* new ref */
    if (fr->args != NULL && r != NULL)
        PyDict_SetItemString(fr->args, "return_value", r);
    Py_XDECREF(r);
    PyErr_Clear(); /* as in vt_tracer__capture_args */
    th->ignore--;
    th->reentrant--;
    PyErr_Restore(et, ev, tb);
}

/* ---- vdb: the caller's line ------------------------------------------ */

/* Skips frames that have not started yet, and goes through a small
 * per-thread cache: PyCode_Addr2Line scans the line table, and a loop calls
 * from the same place again and again. */
int32_t
vt_tracer__caller_line(struct vt_thread *th, _PyInterpreterFrame *f)
{
    while (f && _PyFrame_IsIncomplete(f))
        f = f->previous;
    if (f == NULL)
        return -1;
    int lasti = vt_frame_lasti(f);
    PyCodeObject *co = vt_frame_code(f);
    if (th->lcache == NULL) {
        th->lcache = calloc(VT_LCACHE_SIZE, sizeof(struct vt_line_cache));
        if (th->lcache == NULL)
            return -1;
    }
    size_t h = (((uintptr_t)co >> 4) ^ (uintptr_t)lasti * 31) & (VT_LCACHE_SIZE - 1);
    struct vt_line_cache *c = &th->lcache[h];
    if (c->code != co || c->lasti != lasti) {
        c->code = co;
        c->lasti = lasti;
        c->line = PyCode_Addr2Line(co, lasti * (int)sizeof(_Py_CODEUNIT));
    }
    return c->line;
}

/* ---- asyncio tasks (--log_async) ------------------------------------- */

/* The events of the task, until the frame that entered it returns, go on a
 * track of its own, id(task) & 0xFFFFFF as in VizTracer. */
void
vt_tracer__enter_task(struct vt_tracer *t, struct vt_thread *th)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    th->reentrant++;
    th->ignore++;
    PyObject *asyncio = vt_tracer__loaded_module("asyncio"); /* new ref */
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

/* The task hands control back to the loop at an await: an instant event on
 * its track marks where it waits. */
void
vt_tracer__task_await(struct vt_tracer *t, struct vt_thread *th, _PyInterpreterFrame *f)
{
    PyCodeObject *co = vt_frame_code(f);
    if (th->ignore || !(co->co_flags & CO_COROUTINE) || f->owner != FRAME_OWNED_BY_GENERATOR ||
        !vt_frame_suspended(f))
        return;
    vt_tracer__task_await_at(t, th, co,
                             PyCode_Addr2Line(co, vt_frame_lasti(f) * (int)sizeof(_Py_CODEUNIT)));
}

void
vt_tracer__task_await_at(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co, int line)
{
    (void)th;
    PyObject *d =
        Py_BuildValue("{s:s,s:s,s:s,s:s,s:{s:O,s:i}}", "ph", "i", "cat", "INSTANT", "name", "await",
                      "s", "t", "args", "function", co->co_qualname, "line", line); /* new ref */
    if (d)
        vt_tracer__push_custom(t, d, 0);
    else
        PyErr_Clear(); /* out of memory: the await mark is lost, the slice is not */
}
