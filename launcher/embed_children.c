/* embed_children.c: the interpreter's side of SIGTERM and of tracing child
 * processes: our SIGTERM handler (with termkick.h's retry), and the
 * children scheme of children.h set up in the interpreter, saved into and
 * merged at the end. See embed.c for where each runs in a run.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"
#include "../tracer/format/format.h"
#include "children.h"
#include "internal.h"
#include "termkick.h"

/* The SystemExit our handler raised last (owned), so the end of the run
 * knows the program was terminated and dies by SIGTERM after saving, as it
 * would have without us. */
static PyObject *sigterm_exit;

/* SIGTERM stops the program as an exception would, so the trace is saved:
 * the handler raises SystemExit(143), which vt_embed__is_sigterm_exit()
 * recognizes. */
static PyObject *
on_sigterm(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    vt_termkick_handled();
    PyObject *code = PyLong_FromLong(128 + SIGTERM);                           /* new ref */
    PyObject *exc = code ? PyObject_CallOneArg(PyExc_SystemExit, code) : NULL; /* new ref */
    Py_XDECREF(code);
    if (exc) {
        PyErr_SetObject(PyExc_SystemExit, exc);
        Py_XSETREF(sigterm_exit, exc);
    }
    return NULL;
}

int
vt_embed__is_sigterm_exit(PyObject *exc)
{
    return exc != NULL && exc == sigterm_exit;
}

static PyMethodDef sigterm_def = {"_viztracer_sigterm", on_sigterm, METH_VARARGS, NULL};

/* termkick.h for our Python: kick() after installing a SIGTERM handler of
 * ours, kicked() first thing in it. */
static PyObject *
py_kick(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    vt_termkick_install(); /* without it SIGTERM works as before, minus the retry */
    Py_RETURN_NONE;
}

static PyObject *
py_kicked(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    vt_termkick_handled();
    Py_RETURN_NONE;
}

static PyMethodDef kick_def = {"kick", py_kick, METH_NOARGS, NULL};
static PyMethodDef kicked_def = {"kicked", py_kicked, METH_NOARGS, NULL};

/* untraced_children: forked children are not traced (--ignore_multiprocess),
 * so they get the default SIGTERM back, as under python3: a pool's
 * terminate() must kill its workers, not raise SystemExit inside them. */
int
vt_embed__install_sigterm(int untraced_children)
{
    PyObject *handler = PyCFunction_New(&sigterm_def, NULL); /* new ref */
    PyObject *kick = PyCFunction_New(&kick_def, NULL);       /* new ref */
    PyObject *run = PyImport_ImportModule("viztracer._run"); /* new ref */
    PyObject *r = handler && kick && run
                      ? PyObject_CallMethod(run, "install_sigterm", "OOO", handler, kick,
                                            untraced_children ? Py_True : Py_False)
                      : NULL; /* new ref */
    Py_XDECREF(handler);
    Py_XDECREF(kick);
    Py_XDECREF(run);
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* The argv list for Python; new ref, or NULL with an exception set. */
static PyObject *
argv_list(char **argv)
{
    PyObject *list = PyList_New(0); /* new ref */
    for (char **p = argv; list && *p; p++) {
        PyObject *s = PyUnicode_DecodeFSDefault(*p); /* new ref */
        if (s == NULL || PyList_Append(list, s) < 0)
            Py_CLEAR(list);
        Py_XDECREF(s);
    }
    return list;
}

/* Sets up the children scheme for tracer (viztracer/_fork.py): in a child
 * (--subprocess_child) with its parent's folder, else with a new one.
 * Returns the scheme holding save_child and save_parent (new ref) and the
 * folder in *dir (owned), or NULL with *dir NULL when it cannot be set up
 * (the program then runs with its children untraced). */
PyObject *
vt_embed__fork_setup(PyObject *tracer, const struct vt_options *o, char **dir)
{
    *dir = NULL;
    if (o->subprocess_child) {
        *dir = vt_xstrdup(o->subprocess_child);
    } else if (vt_children_dir_create(dir) != VT_OK) {
        vt_log_error("viztracer: cannot create a folder for child processes; they are not traced");
        return NULL;
    }
    PyObject *scheme = NULL;                                   /* new ref: the result */
    PyObject *kick = PyCFunction_New(&kick_def, NULL);         /* new ref */
    PyObject *kicked = PyCFunction_New(&kicked_def, NULL);     /* new ref */
    PyObject *fork = PyImport_ImportModule("viztracer._fork"); /* new ref */
    char **vt_argv = vt_children_argv(o, *dir);                /* owned */
    PyObject *args = vt_argv ? argv_list(vt_argv) : (Py_INCREF(Py_None), Py_None); /* new ref */
    vt_cli_free_argv(vt_argv);
    if (kick && kicked && fork && args)
        scheme = PyObject_CallMethod(fork, "setup", "OsOOOOO", tracer, *dir, args,
                                     o->subprocess_child ? Py_True : Py_False,
                                     o->patch_only ? Py_True : Py_False, kick, kicked);
    Py_XDECREF(kick);
    Py_XDECREF(kicked);
    Py_XDECREF(fork);
    Py_XDECREF(args);
    if (scheme)
        return scheme;
    PyErr_Clear(); /* without the scheme children run untraced, as with --ignore_multiprocess */
    if (o->subprocess_child == NULL)
        vt_children_dir_remove(*dir);
    free(*dir);
    *dir = NULL;
    return NULL;
}

/* The parent's save when children were forked: its own trace into the
 * folder, a bounded wait for live children, then one merged output.
 * Returns 0, or -1 after printing why. */
int
vt_embed__save_with_children(const struct vt_options *o, PyObject *fork_ns, const char *dir,
                             const char *output, vt_tracer_html_fn html)
{
    size_t len = strlen(dir) + 16;
    char *mine = vt_xmalloc(len);
    snprintf(mine, len, "%s/parent.json", dir);
    int rc = -1;
    if (vt_embed__call_helper(fork_ns, "save_parent", mine) < 0) {
        vt_embed__report("cannot save the trace");
    } else {
        vt_children_wait(dir, VT_CHILDREN_WAIT_S, o->quiet, PyOS_InterruptOccurred);
        char *final = /* owned */
            o->pid_suffix ? vt_format_pid_path(output, (long)getpid()) : vt_xstrdup(output);
        rc = vt_children_collect(dir, mine, final, html, o->quiet) == VT_OK ? 0 : -1;
        free(final);
    }
    free(mine);
    return rc;
}
