/* exit.c: VizTracer.register_exit(), the "generic multi-process" recipe of
 * VizTracer's docs (docs/COMPAT.md, Processes): a process started by a third-party pool
 * (loky's workers) builds a tracer from the parent's init_kwargs, calls
 * register_exit() and start(), and its trace is saved when it exits.
 *
 * The exit handling itself is Python (viztracer/_exit.py): it rides on
 * atexit, multiprocessing's finalizers and a SIGTERM handler, none of which
 * is on the hot path.
 */
#include "internal.h"

PyObject *
vt_tracer__register_exit(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    PyObject *mod = PyImport_ImportModule("viztracer._exit"); /* new ref */
    if (mod == NULL)
        return NULL;
    PyObject *r = PyObject_CallMethod(mod, "register_exit", "O", (PyObject *)t); /* new ref */
    Py_DECREF(mod);
    return r;
}
