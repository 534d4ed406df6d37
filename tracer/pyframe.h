/* pyframe.h: what the hooks read of CPython's frames, per version, in one place.
 *
 * The hooks need a frame's code object, its current instruction, its caller
 * and the running thread's innermost frame. CPython 3.11 to 3.13 keep these in
 * _PyInterpreterFrame (internal/pycore_frame.h), whose fields move between
 * versions; 3.12 added PyUnstable_InterpreterFrame_* for some of them. A new
 * version is one more #if branch here, not an edit of every hook.
 *
 * Include after Python.h, only from the hook files.
 */
#ifndef VT_TRACER_PYFRAME_H
#define VT_TRACER_PYFRAME_H

#include <Python.h>

#define Py_BUILD_CORE 1
#include <internal/pycore_frame.h>
#undef Py_BUILD_CORE

/* The code object frame f runs. Borrowed. */
static inline PyCodeObject *
vt_frame_code(_PyInterpreterFrame *f)
{
#if PY_VERSION_HEX >= 0x030D0000
    return (PyCodeObject *)f->f_executable; /* 3.13: f_code became f_executable */
#else
    return f->f_code;
#endif
}

/* The innermost frame of thread ts (the one running), or NULL. Borrowed. */
static inline _PyInterpreterFrame *
vt_frame_current(PyThreadState *ts)
{
#if PY_VERSION_HEX >= 0x030D0000
    return ts->current_frame;
#else
    return ts->cframe->current_frame;
#endif
}

/* Whether generator frame f is suspended (at a yield or an await; 3.13
 * tells the two apart with FRAME_SUSPENDED_YIELD_FROM, just above). */
static inline int
vt_frame_suspended(_PyInterpreterFrame *f)
{
    int8_t state = _PyFrame_GetGenerator(f)->gi_frame_state;
    return state >= FRAME_SUSPENDED && state < FRAME_EXECUTING;
}

/* The instruction f executes, in code units from the start of its code. */
static inline int
vt_frame_lasti(_PyInterpreterFrame *f)
{
#if PY_VERSION_HEX >= 0x030C0000
    return PyUnstable_InterpreterFrame_GetLasti(f) / (int)sizeof(_Py_CODEUNIT);
#else
    return _PyInterpreterFrame_LASTI(f);
#endif
}

#endif
