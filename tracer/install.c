/* install.c: VizTracer.install(): SIGUSR1 starts tracing, SIGUSR2 stops and
 * saves to the tracer's output_file (docs/COMPAT.md, Remote attach); `viztracer
 * --attach_installed PID` sends the signals (launcher/attach.c).
 *
 * The handlers are Python-level (signal.signal), so they run in the main
 * thread between bytecodes, where start, stop and save are safe; a C signal
 * handler could not take the GIL. Each handler holds a strong reference to
 * the tracer, which therefore lives as long as the handlers are installed,
 * as VizTracer's closures keep theirs alive.
 */
#include "internal.h"

#include <signal.h>
#include <stdio.h>

/* Prints the pending exception in one line and clears it: an error of the
 * tracer must not surface in whatever code the signal interrupted. */
static void
report(const char *what)
{
    PyObject *type, *value, *tb;
    PyErr_Fetch(&type, &value, &tb);
    PyObject *text = value ? PyObject_Str(value) : NULL; /* new ref */
    const char *s = text ? PyUnicode_AsUTF8(text) : NULL;
    /* A message that cannot be read is replaced by a generic one: nothing is lost that
     * the user could act on. */
    PyErr_Clear();
    fprintf(stderr, "viztracer: %s: %s\n", what, s ? s : "unknown error");
    fflush(stderr);
    Py_XDECREF(text);
    Py_XDECREF(type);
    Py_XDECREF(value);
    Py_XDECREF(tb);
}

/* SIGUSR1 handler(signum, frame); self is the tracer. Needs the GIL. */
static PyObject *
on_usr1(PyObject *self, PyObject *args)
{
    (void)args;
    struct vt_tracer *t = (struct vt_tracer *)self;
    if (t->collecting)
        Py_RETURN_NONE;
    PyObject *r = PyObject_CallMethod(self, "start", NULL); /* new ref */
    if (r == NULL)
        report("SIGUSR1: cannot start tracing");
    Py_XDECREF(r);
    Py_RETURN_NONE;
}

/* SIGUSR2 handler(signum, frame): stop and save. Needs the GIL. */
static PyObject *
on_usr2(PyObject *self, PyObject *args)
{
    (void)args;
    struct vt_tracer *t = (struct vt_tracer *)self;
    if (!t->collecting)
        Py_RETURN_NONE;
    PyObject *r = PyObject_CallMethod(self, "stop", NULL); /* new ref */
    if (r == NULL) {
        report("SIGUSR2: cannot stop tracing");
        Py_RETURN_NONE;
    }
    Py_DECREF(r);
    r = PyObject_CallMethod(self, "save", NULL); /* new ref */
    if (r == NULL)
        report("SIGUSR2: cannot save the report");
    Py_XDECREF(r);
    Py_RETURN_NONE;
}

static PyMethodDef handlers[] = {
    {"viztracer_sigusr1", on_usr1, METH_VARARGS, "SIGUSR1: start tracing"},
    {"viztracer_sigusr2", on_usr2, METH_VARARGS, "SIGUSR2: stop tracing and save"},
};

PyObject *
vt_tracer__install(PyObject *self, PyObject *unused)
{
    (void)unused;
    static const int signos[] = {SIGUSR1, SIGUSR2};
    PyObject *mod = PyImport_ImportModule("signal"); /* new ref */
    if (mod == NULL)
        return NULL;
    for (size_t i = 0; i < sizeof(signos) / sizeof(signos[0]); i++) {
        PyObject *fn = PyCFunction_New(&handlers[i], self); /* new ref, holds self */
        PyObject *r = fn ? PyObject_CallMethod(mod, "signal", "iO", signos[i], fn) : NULL;
        Py_XDECREF(fn);
        if (r == NULL) {
            Py_DECREF(mod);
            return NULL;
        }
        Py_DECREF(r);
    }
    Py_DECREF(mod);
    Py_RETURN_NONE;
}
