/* root.c: the call of builtins.exec that the launcher records around the
 * program it runs (tracer.h, vt_tracer_enter_builtin).
 *
 * VizTracer's command line runs the program with exec() from its own
 * Python, so builtins.exec is the root event of its traces. The launcher
 * runs the program's code from C instead: no frame of ours is then in the
 * program's stack (tracebacks, faulthandler, traceback.print_stack() show
 * what python3 shows; docs/COMPAT.md, "The traced program"). The root event
 * is recorded here, through the hot path's own call and return, as the
 * profile hook would record a builtin called by Python code: it counts for
 * max_stack_depth and is skipped by pause() and ignore_c_function alike.
 */
#include "hook.h"

#include "tracer.h"

uint64_t
vt_tracer_enter_builtin(PyObject *tracer, PyObject *func)
{
    struct vt_tracer *t = (struct vt_tracer *)tracer;
    if (!t->collecting || (t->flags & VT_F_IGNORE_C) || !PyCFunction_Check(func))
        return 0;
    struct vt_thread *th = vt_tracer__thread(t);
    if (th == NULL)
        return 0;
    vt_tracer__hook_c_call(t, th, func, NULL);
    /* Sessions count from 1: 0 is "nothing recorded". */
    return vt_tracer__hook_state.session;
}

void
vt_tracer_leave_builtin(PyObject *tracer, uint64_t token)
{
    struct vt_tracer *t = (struct vt_tracer *)tracer;
    /* A stop() in between recorded the call as finished; a start() after it
     * began a session that this call is not part of. */
    if (token == 0 || !t->collecting || token != vt_tracer__hook_state.session)
        return;
    struct vt_thread *th = vt_tracer__thread(t);
    if (th != NULL)
        vt_tracer__hook_return(t, th, NULL);
}
