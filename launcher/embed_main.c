/* embed_main.c: the program as python3 would run it: __main__ prepared
 * (sys.path[0], __file__, runpy for -m), the source compiled (through
 * viztracer.codemonkey when instrumentation is asked for), and the exit
 * status python3 would give for an exception that ended it.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"
#include "embed.h"
#include "internal.h"

static PyObject *
read_source(const char *path)
{
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    PyObject *bytes = NULL;
    char *data = NULL;
    size_t len = 0, cap = 0, got;
    char chunk[65536];
    while ((got = fread(chunk, 1, sizeof(chunk), fp)) > 0) {
        if (len + got > cap) {
            cap = (len + got) * 2;
            data = vt_xrealloc(data, cap);
        }
        memcpy(data + len, chunk, got);
        len += got;
    }
    fclose(fp);
    bytes = PyBytes_FromStringAndSize(data ? data : "", (Py_ssize_t)len);
    free(data);
    return bytes;
}

/* The instrumentation the options ask for, as viztracer.codemonkey takes
 * it; NULL (no error) when none is asked for. */
static PyObject *
instrumentation(const struct vt_options *o)
{
    if (!vt_cli_instrumented(o))
        return NULL;
    return vt_embed__kwargs(o, VT_OPT_INSTR, NULL);
}

static PyObject *
compile_source(PyObject *source, PyObject *filename)
{
    PyObject *builtins = PyEval_GetBuiltins();                     /* borrowed */
    PyObject *compile = PyDict_GetItemString(builtins, "compile"); /* borrowed */
    return PyObject_CallFunction(compile, "OOs", source, filename, "exec");
}

/* Compiles the program: through viztracer.codemonkey when instrumentation
 * is asked for (opts not NULL), else with the builtin compile(). */
static PyObject *
compile_program(PyObject *source, PyObject *filename, PyObject *opts)
{
    if (opts == NULL)
        return compile_source(source, filename);
    PyObject *cm = PyImport_ImportModule("viztracer.codemonkey"); /* new ref */
    PyObject *code =
        cm ? PyObject_CallMethod(cm, "compile_source", "OOO", source, filename, opts) : NULL;
    Py_XDECREF(cm);
    return code;
}

/* 1 when python3 would put no sys.path[0] (-P, -I, PYTHONSAFEPATH):
 * sys.flags.safe_path, as the configuration (embed.c) set it. */
static int
safe_path(void)
{
    PyObject *flags = PySys_GetObject("flags");                              /* borrowed */
    PyObject *v = flags ? PyObject_GetAttrString(flags, "safe_path") : NULL; /* new ref */
    int r = v ? PyObject_IsTrue(v) == 1 : 0;
    Py_XDECREF(v);
    PyErr_Clear(); /* without sys.flags.safe_path (before 3.11): python3 puts one */
    return r;
}

/* Prepares __main__ and returns the code to run, through viztracer/_run.py.
 * As python3 does: the script's folder is sys.path[0] and __file__ its
 * absolute path; -m puts the current folder first and runs the module with
 * runpy's metadata; -c puts "". */
PyObject *
vt_embed__prepare_main(const struct vt_options *o, const char *script_path, PyObject *main_dict)
{
    PyObject *path0 = safe_path() ? Py_False : Py_True; /* borrowed */
    PyObject *code = NULL;                              /* new ref: the result */
    PyObject *run = NULL;                               /* new ref */
    PyObject *r = NULL;                                 /* new ref */
    PyObject *opts = instrumentation(o);                /* new ref or NULL */
    if (opts == NULL && PyErr_Occurred())
        return NULL;
    if (opts) {
        PyObject *cm = PyImport_ImportModule("viztracer.codemonkey"); /* new ref */
        r = cm ? PyObject_CallMethod(cm, "check", "O", opts) : NULL;
        Py_XDECREF(cm);
        if (r == NULL) {
            vt_embed__report(NULL);
            goto out; /* reported; no exception left */
        }
        Py_CLEAR(r);
    }
    run = PyImport_ImportModule("viztracer._run");
    if (run == NULL)
        goto out;
    if (o->run == VT_CLI_RUN_SCRIPT) {
        char *real = realpath(script_path, NULL); /* owned */
        /* Paths as the file system encodes them: a name need not be UTF-8. */
        PyObject *given = PyUnicode_DecodeFSDefault(script_path);                  /* new ref */
        PyObject *resolved = PyUnicode_DecodeFSDefault(real ? real : script_path); /* new ref */
        free(real);
        r = given && resolved ? PyObject_CallMethod(run, "prepare_script", "OOOO", main_dict, given,
                                                    resolved, path0)
                              : NULL;
        Py_XDECREF(given);
        Py_XDECREF(resolved);
        if (r == NULL)
            goto out;
        if (r != Py_None) {
            code = r; /* a directory or zip file's __main__ */
            r = NULL;
            goto out;
        }
        PyObject *src = read_source(script_path);                     /* new ref */
        PyObject *file = PyDict_GetItemString(main_dict, "__file__"); /* borrowed */
        if (src && file)
            code = compile_program(src, file, opts);
        if (code == NULL && src && file && PyErr_ExceptionMatches(PyExc_SyntaxError)) {
            /* python3's own message for a source it cannot decode */
            PyObject *et, *ev, *tb;
            PyErr_Fetch(&et, &ev, &tb);
            PyObject *mine =
                PyObject_CallMethod(run, "source_error", "OO", src, file); /* new ref */
            if (mine == Py_None) {
                PyErr_Restore(et, ev, tb);
            } else {
                Py_XDECREF(et);
                Py_XDECREF(ev);
                Py_XDECREF(tb);
                if (mine)
                    PyErr_SetObject((PyObject *)Py_TYPE(mine), mine);
            }
            Py_XDECREF(mine);
        }
        Py_XDECREF(src);
    } else if (o->run == VT_CLI_RUN_STRING) {
        r = PyObject_CallMethod(run, "prepare_string", "O", path0);
        if (r == NULL)
            goto out;
        PyObject *src = PyUnicode_DecodeFSDefault(o->target); /* new ref */
        PyObject *name = PyUnicode_FromString("<string>");    /* new ref */
        if (src && name)
            code = compile_program(src, name, opts);
        /* python3 -c keeps the source for warnings and tracebacks (3.13+). */
        PyObject *rr = code ? PyObject_CallMethod(run, "register_string_source", "O", src)
                            : NULL; /* new ref */
        if (code && rr == NULL)
            PyErr_Clear(); /* only the lines shown with a warning are lost */
        Py_XDECREF(rr);
        Py_XDECREF(name);
        Py_XDECREF(src);
    } else {
        PyObject *mod = PyUnicode_DecodeFSDefault(o->target); /* new ref */
        if (mod)
            code = PyObject_CallMethod(run, "prepare_module", "OOOO", main_dict, mod, path0,
                                       o->python_argv ? Py_True : Py_False);
        Py_XDECREF(mod);
    }
out:
    Py_XDECREF(r);
    Py_XDECREF(run);
    Py_XDECREF(opts);
    return code;
}

/* 1 when code is of a file of the glue package (folder glue, its length n). */
static int
our_code(PyCodeObject *co, const char *glue, size_t n)
{
    const char *file = PyUnicode_AsUTF8(co->co_filename);
    if (file == NULL) {
        PyErr_Clear();
        return 0;
    }
    return n > 0 && strncmp(file, glue, n) == 0 && file[n] == '/';
}

/* Removes our frames (our package's) from the head of the
 * pending traceback, so the user sees only what python3 would show. */
static void
drop_runner_frame(void)
{
    char glue[PATH_MAX];
    size_t n = vt_embed_find_glue(glue, sizeof(glue)) == VT_OK ? strlen(glue) : 0;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyErr_NormalizeException(&et, &ev, &tb);
    int changed = 0;
    while (tb && PyTraceBack_Check(tb) && ((PyTracebackObject *)tb)->tb_next) {
        PyTracebackObject *t = (PyTracebackObject *)tb;
        PyCodeObject *co = PyFrame_GetCode(t->tb_frame); /* new ref */
        int ours = our_code(co, glue, n);
        Py_DECREF(co);
        if (!ours)
            break;
        PyObject *next = (PyObject *)t->tb_next;
        Py_INCREF(next);
        Py_SETREF(tb, next);
        changed = 1;
    }
    if (changed && ev)
        PyException_SetTraceback(ev, tb);
    PyErr_Restore(et, ev, tb);
}

/* The exit status python3 would give for the pending exception, which is
 * consumed: SystemExit's code, 130 for KeyboardInterrupt and 143 for our
 * SIGTERM handler's SystemExit (both re-raised as signals by main), 1 after
 * printing any other traceback. */
int
vt_embed__status_of_exception(int *signo)
{
    drop_runner_frame();
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyErr_NormalizeException(&et, &ev, &tb);
        PyObject *code = ev ? PyObject_GetAttrString(ev, "code") : NULL; /* new ref */
        int status = 0;
        if (vt_embed__is_sigterm_exit(ev))
            *signo = SIGTERM;
        if (code == NULL || code == Py_None) {
            status = 0;
        } else if (PyLong_Check(code)) {
            status = (int)PyLong_AsLong(code);
        } else {
            /* As python3: through sys.stderr, after what the program left in
             * its buffer; C's stderr only when there is none. */
            PyObject *err = PySys_GetObject("stderr"); /* borrowed */
            if (err == NULL || err == Py_None || PyFile_WriteObject(code, err, Py_PRINT_RAW) < 0) {
                PyErr_Clear();
                PyObject_Print(code, stderr, Py_PRINT_RAW);
                fflush(stderr);
            }
            PySys_WriteStderr("\n");
            status = 1;
        }
        PyErr_Clear();
        Py_XDECREF(code);
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return status;
    }
    if (PyErr_ExceptionMatches(PyExc_KeyboardInterrupt)) {
        PyErr_Print();
        *signo = SIGINT;
        return 130;
    }
    PyErr_Print();
    return 1;
}
