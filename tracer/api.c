/* api.c: the VizTracer methods of the Python API: start/stop/pause,
 * saving and parsing, and the custom events (instants, counters, objects,
 * raw events, function arguments).
 *
 * Custom events are plain dicts in the shape of the output format; they go
 * into the calling thread's ring like function events and are written at
 * dump time (pid, tid and ts added there).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/fs.h"
#include "tracer.h"
#include "format/format.h"

/* The standalone-HTML writer the executable registered, or NULL. Set once
 * before Python starts. */
static vt_tracer_html_fn html_writer;

void
vt_tracer_set_html_writer(vt_tracer_html_fn fn)
{
    html_writer = fn;
}

int
vt_tracer__register_global(PyObject *tracer)
{
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    if (builtins == NULL)
        return 0; /* no frame yet (embedding start-up): nothing to register into */
    return PyDict_SetItemString(builtins, "__viz_tracer__", tracer);
}

/* ---- plugins -------------------------------------------------------- */

int
vt_tracer__plugin_event(struct vt_tracer *t, const char *when)
{
    if (t->plugins == NULL)
        return 0;
    PyObject *r = PyObject_CallMethod(t->plugins, "event", "s", when); /* new ref */
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Whether a plugin asked to see the data before it is written. */
static int
plugins_want_data(struct vt_tracer *t)
{
    if (t->plugins == NULL)
        return 0;
    PyObject *r = PyObject_GetAttrString(t->plugins, "has_handlers"); /* new ref */
    int want = r ? PyObject_IsTrue(r) : -1;
    Py_XDECREF(r);
    return want;
}

static PyObject *
tracer_terminate(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    if (t->plugins) {
        PyObject *r = PyObject_CallMethod(t->plugins, "terminate", NULL); /* new ref */
        if (r == NULL)
            return NULL;
        Py_DECREF(r);
    }
    Py_RETURN_NONE;
}

/* ---- start / stop --------------------------------------------------- */

static PyObject *
tracer_start(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    if (!t->collecting && vt_tracer__plugin_event(t, "pre-start") < 0)
        return NULL;
    if (vt_tracer__hook_start(t) < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
tracer_stop(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"stop_option", NULL};
    PyObject *option = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|O:stop", kwlist, &option))
        return NULL;
    int was = t->collecting;
    vt_tracer__hook_stop(t);
    if (was && vt_tracer__plugin_event(t, "post-stop") < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
tracer_pause(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    struct vt_thread *th = t->collecting ? vt_tracer__thread(t) : NULL;
    if (th)
        th->paused++;
    Py_RETURN_NONE;
}

static PyObject *
tracer_resume(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    struct vt_thread *th = t->collecting ? vt_tracer__thread(t) : NULL;
    if (th && th->paused)
        th->paused--;
    Py_RETURN_NONE;
}

static PyObject *
tracer_clear(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    vt_tracer__threads_clear(t);
    t->overflow = 0;
    t->dropped = 0;
    Py_CLEAR(t->data);
    Py_RETURN_NONE;
}

static PyObject *
tracer_enable_thread_tracing(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    vt_tracer__hook_thread(t);
    Py_RETURN_NONE;
}

static PyObject *
tracer_getts(struct vt_tracer *t, PyObject *unused)
{
    (void)t;
    (void)unused;
    return PyFloat_FromDouble((double)vt_clock_mono_ns() / 1000.0);
}

static PyObject *
tracer_get_base_time(struct vt_tracer *t, PyObject *unused)
{
    (void)t;
    (void)unused;
    struct vt_clock_anchor a;
    vt_clock_anchor_take(&a);
    return PyLong_FromLongLong(a.real_ns - a.mono_ns);
}

/* ---- saving --------------------------------------------------------- */

/* "dir/name.ext" -> "dir/name_<pid>.ext" (vt_format_pid_path). */
static PyObject *
with_pid_suffix(PyObject *path)
{
    const char *s = PyUnicode_AsUTF8(path);
    if (s == NULL)
        return NULL;
    char *named = vt_format_pid_path(s, (long)getpid()); /* owned */
    PyObject *r = PyUnicode_DecodeUTF8(named, (Py_ssize_t)strlen(named), "surrogateescape");
    free(named);
    return r;
}

static int
save_data(struct vt_tracer *t, const char *path)
{
    PyObject *json = PyImport_ImportModule("json"); /* new ref */
    if (json == NULL)
        return -1;
    PyObject *text = PyObject_CallMethod(json, "dumps", "O", t->data); /* new ref */
    Py_DECREF(json);
    if (text == NULL)
        return -1;
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(text, &n);
    int errnum = 0;
    enum vt_err err = s ? vt_writer_write_file(path, s, (size_t)n, &errnum) : VT_ERR_PYTHON;
    Py_DECREF(text);
    if (err == VT_ERR_PYTHON)
        return -1;
    if (err != VT_OK) {
        PyErr_Format(PyExc_OSError, "cannot write %s: %s", path,
                     errnum ? strerror(errnum) : vt_strerror(err));
        return -1;
    }
    return 0;
}

static void
print_summary(struct vt_tracer *t, const char *path, uint64_t count)
{
    if (t->overflow)
        vt_format_print_overflow(t->dropped);
    vt_format_print_summary(path, count);
}

/* Dumps the buffer to path; an HTML report goes through a JSON file beside
 * it, which the registered writer turns into the page. */
static int
dump_to(struct vt_tracer *t, const char *path, int html, uint64_t *count)
{
    if (!html)
        return vt_tracer__dump(t, path, count);
    char tmp[4096];
    int n = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp.json", path, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(tmp)) {
        PyErr_Format(PyExc_OSError, "path too long: %s", path);
        return -1;
    }
    if (vt_tracer__dump(t, tmp, count) < 0)
        return -1;
    char msg[512];
    int rc = html_writer(tmp, path, msg, sizeof(msg));
    unlink(tmp);
    if (rc < 0) {
        PyErr_Format(PyExc_OSError, "%s", msg);
        return -1;
    }
    return 0;
}

static PyObject *
tracer_save(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"output_file", "file_info", "verbose", NULL};
    PyObject *output = NULL, *file_info = NULL, *verbose = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "|OOO:save", kwlist, &output, &file_info, &verbose))
        return NULL;
    if (output == NULL || output == Py_None)
        output = t->output_file;
    output = PyOS_FSPath(output); /* new ref */
    if (output == NULL)
        return NULL;
    if (!PyUnicode_Check(output)) {
        Py_DECREF(output);
        PyErr_SetString(PyExc_TypeError, "output_file must be a str path");
        return NULL;
    }
    if (t->pid_suffix)
        Py_SETREF(output, with_pid_suffix(output));
    if (output == NULL)
        return NULL;
    int loud = t->verbose > 0;
    if (verbose && verbose != Py_None)
        loud = PyObject_IsTrue(verbose) > 0;
    int saved_info = t->file_info;
    if (file_info && file_info != Py_None)
        t->file_info = PyObject_IsTrue(file_info) > 0;
    const char *path = PyUnicode_AsUTF8(output);
    PyObject *result = NULL;
    enum vt_writer_format fmt;
    if (path == NULL)
        goto out;
    int html = vt_fs_is_html(path);
    if (html && html_writer == NULL) {
        PyErr_Format(PyExc_ValueError,
                     "%s: HTML reports are written by the viztracer executable only", path);
        goto out;
    }
    if (!html && vt_writer_format_of(path, &fmt) != VT_OK) {
        PyErr_Format(PyExc_ValueError, "Only %sjson and gz are supported: %s",
                     html_writer ? "html, " : "", path);
        goto out;
    }
    char *failed;
    if (vt_fs_mkparents(path, &failed) != VT_OK) {
        PyErr_Format(PyExc_OSError, "cannot create folder %s: %s", failed ? failed : path,
                     strerror(errno));
        free(failed);
        goto out;
    }
    int was = t->collecting;
    if (was)
        vt_tracer__hook_stop(t);
    uint64_t count = 0;
    int rc = vt_tracer__plugin_event(t, "pre-save");
    int want = rc == 0 ? plugins_want_data(t) : -1;
    if (want > 0 && t->data == NULL) {
        /* A plugin rewrites the data: build it, hand it over, write it. */
        PyObject *n = PyObject_CallMethod((PyObject *)t, "parse", NULL); /* new ref */
        PyObject *h = n ? PyObject_CallMethod(t->plugins, "handle_data", "O", t->data) : NULL;
        Py_XDECREF(n);
        Py_XDECREF(h);
        if (h == NULL)
            rc = -1;
    }
    if (rc < 0 || want < 0) {
        rc = -1;
    } else if (t->data) {
        rc = save_data(t, path);
        PyObject *ev = rc == 0 ? PyDict_GetItemString(t->data, "traceEvents") : NULL;
        count = ev && PyList_Check(ev) ? (uint64_t)PyList_GET_SIZE(ev) : 0;
        if (rc == 0)
            Py_CLEAR(t->data);
    } else {
        rc = dump_to(t, path, html, &count);
    }
    if (rc == 0 && loud)
        print_summary(t, path, count);
    if (rc == 0) {
        t->overflow = 0;
        t->dropped = 0;
    }
    if (was && vt_tracer__hook_start(t) < 0)
        rc = -1;
    if (rc == 0) {
        Py_INCREF(Py_None);
        result = Py_None;
    }
out:
    t->file_info = saved_info;
    Py_DECREF(output);
    return result;
}

static PyObject *
tracer_parse(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    vt_tracer__hook_stop(t);
    char path[] = "/tmp/viztracer-parse-XXXXXX.json";
    int fd = mkstemps(path, 5);
    if (fd < 0)
        return PyErr_SetFromErrnoWithFilename(PyExc_OSError, path);
    close(fd);
    uint64_t count;
    PyObject *data = NULL;
    if (vt_tracer__dump(t, path, &count) == 0) {
        PyObject *json = PyImport_ImportModule("json");                              /* new ref */
        PyObject *io = PyImport_ImportModule("io");                                  /* new ref */
        PyObject *f = io ? PyObject_CallMethod(io, "open", "ss", path, "rb") : NULL; /* new ref */
        data = json && f ? PyObject_CallMethod(json, "load", "O", f) : NULL;         /* new ref */
        if (f) {
            PyObject *r = PyObject_CallMethod(f, "close", NULL);
            Py_XDECREF(r);
        }
        Py_XDECREF(f);
        Py_XDECREF(io);
        Py_XDECREF(json);
    }
    unlink(path);
    if (data == NULL)
        return NULL;
    Py_XSETREF(t->data, data);
    Py_ssize_t n = 0;
    PyObject *events = PyDict_GetItemString(data, "traceEvents"); /* borrowed */
    for (Py_ssize_t i = 0; events && PyList_Check(events) && i < PyList_GET_SIZE(events); i++) {
        PyObject *ph = PyDict_GetItemString(PyList_GET_ITEM(events, i), "ph"); /* borrowed */
        if (!(ph && PyUnicode_Check(ph) && PyUnicode_CompareWithASCIIString(ph, "M") == 0))
            n++;
    }
    return PyLong_FromSsize_t(n);
}

static PyObject *
tracer_run(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"command", "output_file", NULL};
    PyObject *command, *output = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|O:run", kwlist, &command, &output))
        return NULL;
    PyObject *main = PyImport_AddModule("__main__"); /* borrowed */
    if (main == NULL)
        return NULL;
    PyObject *globals = PyModule_GetDict(main); /* borrowed */
    if (vt_tracer__hook_start(t) < 0)
        return NULL;
    PyObject *builtins = PyEval_GetBuiltins();                                /* borrowed */
    PyObject *exec = PyDict_GetItemString(builtins, "exec");                  /* borrowed */
    PyObject *r = PyObject_CallFunctionObjArgs(exec, command, globals, NULL); /* new ref */
    vt_tracer__hook_stop(t);
    if (r == NULL)
        return NULL;
    Py_DECREF(r);
    PyObject *sargs = Py_BuildValue("(O)", output); /* new ref */
    if (sargs == NULL)
        return NULL;
    PyObject *s = tracer_save(t, sargs, NULL);
    Py_DECREF(sargs);
    return s;
}

static PyObject *
tracer_enter(struct vt_tracer *t, PyObject *unused)
{
    (void)unused;
    if (!t->log_sparse && vt_tracer__hook_start(t) < 0)
        return NULL;
    Py_INCREF(t);
    return (PyObject *)t;
}

static PyObject *
tracer_exit(struct vt_tracer *t, PyObject *args)
{
    (void)args;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    vt_tracer__hook_stop(t);
    PyObject *empty = PyTuple_New(0); /* new ref */
    PyObject *r = empty ? tracer_save(t, empty, NULL) : NULL;
    Py_XDECREF(empty);
    if (r != NULL) {
        Py_SETREF(r, tracer_terminate(t, NULL));
    }
    if (r == NULL) {
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
        return NULL;
    }
    Py_DECREF(r);
    PyErr_Restore(et, ev, tb);
    Py_RETURN_FALSE;
}

/* ---- custom events -------------------------------------------------- */

/* The scope of an instant event: "g", "p" or "t"; dflt when not given.
 * Returns the C string, or NULL with ValueError set. */
static const char *
scope_of(PyObject *scope, const char *dflt)
{
    if (scope == NULL)
        return dflt;
    const char *s = PyUnicode_Check(scope) ? PyUnicode_AsUTF8(scope) : NULL;
    if (s && (strcmp(s, "g") == 0 || strcmp(s, "p") == 0 || strcmp(s, "t") == 0))
        return s;
    PyErr_Clear();
    PyErr_SetString(PyExc_ValueError, "Scope has to be one of g, p, t");
    return NULL;
}

/* Records an instant event; iargs is a dict, or Py_None for none. */
static PyObject *
instant(struct vt_tracer *t, PyObject *name, PyObject *iargs, const char *scope)
{
    if (!t->collecting)
        Py_RETURN_NONE;
    PyObject *d = Py_BuildValue("{s:s,s:s,s:O,s:s}", "ph", "i", "cat", "INSTANT", "name", name, "s",
                                scope); /* new ref */
    if (d == NULL)
        return NULL;
    if (iargs != Py_None && PyDict_SetItemString(d, "args", iargs) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    vt_tracer__push_custom(t, d, 0);
    Py_RETURN_NONE;
}

static PyObject *
tracer_log_instant(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "args", "scope", "cond", NULL};
    PyObject *name, *iargs = Py_None, *scope = NULL, *cond = Py_True;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OOO:log_instant", kwlist, &name, &iargs, &scope,
                                     &cond))
        return NULL;
    const char *sc = scope_of(scope, "t");
    int c = sc ? PyObject_IsTrue(cond) : -1;
    if (c <= 0)
        return c < 0 ? NULL : (Py_INCREF(Py_None), Py_None);
    return instant(t, name, iargs, sc);
}

static PyObject *
tracer_add_instant(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "args", "scope", NULL};
    PyObject *name, *iargs = Py_None, *scope = NULL;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "O|OO:add_instant", kwlist, &name, &iargs, &scope))
        return NULL;
    const char *sc = scope_of(scope, "g");
    return sc ? instant(t, name, iargs, sc) : NULL;
}

static PyObject *
counter(struct vt_tracer *t, PyObject *name, PyObject *cargs)
{
    if (!t->collecting)
        Py_RETURN_NONE;
    PyObject *d =
        Py_BuildValue("{s:s,s:O,s:O}", "ph", "C", "name", name, "args", cargs); /* new ref */
    if (d == NULL)
        return NULL;
    vt_tracer__push_custom(t, d, 0);
    Py_RETURN_NONE;
}

static PyObject *
tracer_add_counter(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "args", NULL};
    PyObject *name, *cargs;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO!:add_counter", kwlist, &name, &PyDict_Type,
                                     &cargs))
        return NULL;
    return counter(t, name, cargs);
}

static PyObject *
tracer_log_var(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "var", "cond", NULL};
    PyObject *name, *var, *cond = Py_True;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OO|O:log_var", kwlist, &name, &var, &cond))
        return NULL;
    int c = PyObject_IsTrue(cond);
    if (c <= 0)
        return c < 0 ? NULL : (Py_INCREF(Py_None), Py_None);
    if ((PyLong_Check(var) && !PyBool_Check(var)) || PyFloat_Check(var)) {
        PyObject *cargs = Py_BuildValue("{s:O}", "value", var); /* new ref */
        if (cargs == NULL)
            return NULL;
        PyObject *r = counter(t, name, cargs);
        Py_DECREF(cargs);
        return r;
    }
    /* objprint's text, as VizTracer's log_var (viztracer/_objstr.py) */
    PyObject *m = PyImport_ImportModule("viztracer._objstr");               /* new ref */
    PyObject *text = m ? PyObject_CallMethod(m, "objstr", "O", var) : NULL; /* new ref */
    Py_XDECREF(m);
    if (text == NULL)
        return NULL;
    PyObject *iargs = Py_BuildValue("{s:N}", "object", text); /* new ref */
    PyObject *r = iargs ? instant(t, name, iargs, "t") : NULL;
    Py_XDECREF(iargs);
    return r;
}

static PyObject *
tracer_add_object(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"ph", "obj_id", "name", "args", NULL};
    PyObject *ph, *id, *name, *oargs = Py_None;
    if (!PyArg_ParseTupleAndKeywords(args, kw, "OOO|O:add_object", kwlist, &ph, &id, &name, &oargs))
        return NULL;
    if (!t->collecting)
        Py_RETURN_NONE;
    PyObject *d = Py_BuildValue("{s:O,s:O,s:O}", "ph", ph, "id", id, "name", name); /* new ref */
    if (d == NULL)
        return NULL;
    if (oargs != Py_None && PyDict_SetItemString(d, "args", oargs) < 0) {
        Py_DECREF(d);
        return NULL;
    }
    vt_tracer__push_custom(t, d, 0);
    Py_RETURN_NONE;
}

static PyObject *
tracer_add_raw(struct vt_tracer *t, PyObject *raw)
{
    if (!PyDict_Check(raw)) {
        PyErr_SetString(PyExc_TypeError, "add_raw() takes a dict");
        return NULL;
    }
    PyObject *d = PyDict_Copy(raw); /* new ref: later changes by the caller don't show */
    if (d == NULL)
        return NULL;
    vt_tracer__push_custom(t, d, 1);
    Py_RETURN_NONE;
}

/* The innermost recorded Python function of the calling thread, or NULL. */
static struct vt_frame *
innermost_python(struct vt_tracer *t)
{
    struct vt_thread *th = t->collecting ? vt_tracer__thread(t) : NULL;
    for (uint32_t i = th ? th->depth : 0; i > 0; i--) {
        struct vt_frame *fr = &th->stack[i - 1];
        if (fr->what != 0 && (fr->what & VT_EVENT_KIND_MASK) == VT_EVENT_PY)
            return fr;
    }
    return NULL;
}

/* The args dict of the innermost Python function being recorded, made on
 * first use (borrowed); NULL when there is none, or with *err set and an
 * exception on failure. */
static PyObject *
frame_args(struct vt_tracer *t, int *err)
{
    struct vt_frame *fr = innermost_python(t);
    if (fr == NULL)
        return NULL;
    if (fr->args == NULL && (fr->args = PyDict_New()) == NULL)
        *err = 1;
    return fr->args;
}

static PyObject *
tracer_add_func_args(struct vt_tracer *t, PyObject *args)
{
    PyObject *key, *value;
    if (!PyArg_ParseTuple(args, "OO:add_func_args", &key, &value))
        return NULL;
    int err = 0;
    PyObject *fargs = frame_args(t, &err); /* borrowed */
    if (!t->args_added) { /* from now on calls' args are rendered into the crash-safe area */
        t->args_added = 1;
        t->flags |= vt_tracer__crash_share(t);
    }
    if (fargs && PyDict_SetItem(fargs, key, value) < 0)
        return NULL;
    if (err)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
tracer_add_variable(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[] = {"name", "var", "event", NULL};
    PyObject *name, *var;
    const char *event = "instant";
    if (!PyArg_ParseTupleAndKeywords(args, kw, "UO|s:add_variable", kwlist, &name, &var, &event))
        return NULL;
    if (strcmp(event, "counter") == 0) {
        if (!(PyLong_Check(var) || PyFloat_Check(var)) || PyBool_Check(var)) {
            PyErr_Format(PyExc_TypeError, "%U: a counter takes numbers, not %s", name,
                         Py_TYPE(var)->tp_name);
            return NULL;
        }
        PyObject *cargs = Py_BuildValue("{O:O}", name, var); /* new ref */
        PyObject *r = cargs ? counter(t, name, cargs) : NULL;
        Py_XDECREF(cargs);
        return r;
    }
    if (strcmp(event, "instant") != 0) {
        PyErr_SetString(PyExc_ValueError, "event has to be 'instant' or 'counter'");
        return NULL;
    }
    if (!t->collecting)
        Py_RETURN_NONE;
    PyObject *text = vt_tracer__safe_repr(var);                                 /* new ref */
    PyObject *full = text ? PyUnicode_FromFormat("%U = %U", name, text) : NULL; /* new ref */
    Py_XDECREF(text);
    PyObject *r = full ? instant(t, full, Py_None, "p") : NULL;
    Py_XDECREF(full);
    return r;
}

static PyObject *
tracer_add_func_exec(struct vt_tracer *t, PyObject *args)
{
    PyObject *name, *val;
    int lineno;
    if (!PyArg_ParseTuple(args, "UOi:add_func_exec", &name, &val, &lineno))
        return NULL;
    int err = 0;
    PyObject *fargs = frame_args(t, &err); /* borrowed */
    if (fargs == NULL) {
        if (err)
            return NULL;
        Py_RETURN_NONE;
    }
    PyObject *steps = PyDict_GetItemString(fargs, "exec_steps"); /* borrowed */
    if (steps == NULL || !PyList_Check(steps)) {
        PyObject *list = PyList_New(0); /* new ref */
        if (list == NULL || PyDict_SetItemString(fargs, "exec_steps", list) < 0) {
            Py_XDECREF(list);
            return NULL;
        }
        Py_DECREF(list);
        steps = list;
    }
    PyObject *text = vt_tracer__safe_repr(val); /* new ref */
    PyObject *line = text ? PyUnicode_FromFormat("(%d) %U = %U", lineno, name, text) : NULL;
    Py_XDECREF(text);
    int rc = line ? PyList_Append(steps, line) : -1;
    Py_XDECREF(line);
    if (rc < 0)
        return NULL;
    Py_RETURN_NONE;
}

static PyObject *
tracer_log_event(struct vt_tracer *t, PyObject *name)
{
    return vt_tracer__event_ctx(t, name);
}

PyMethodDef vt_tracer__methods[] = {
    {"start", (PyCFunction)tracer_start, METH_NOARGS, "start recording"},
    {"stop", (PyCFunction)(void (*)(void))tracer_stop, METH_VARARGS | METH_KEYWORDS,
     "stop recording; calls still running are recorded as finished now"},
    {"pause", (PyCFunction)tracer_pause, METH_NOARGS, "stop recording in this thread"},
    {"resume", (PyCFunction)tracer_resume, METH_NOARGS, "undo pause()"},
    {"clear", (PyCFunction)tracer_clear, METH_NOARGS, "drop every buffered event"},
    {"cleanup", (PyCFunction)tracer_clear, METH_NOARGS, "same as clear()"},
    {"_after_fork", (PyCFunction)vt_tracer__forked, METH_NOARGS,
     "in a forked child: its own buffers, depth from the fork, the set_afterfork callback"},
    {"_name_shared", (PyCFunction)vt_tracer__name_shared, METH_O,
     "the process name a crash trace of this process carries"},
    {"set_afterfork", (PyCFunction)(void (*)(void))vt_tracer__set_afterfork,
     METH_VARARGS | METH_KEYWORDS,
     "set_afterfork(callback, *args, **kwargs): a forked child calls callback(tracer, ...)"},
    {"_log_raise", (PyCFunction)vt_tracer__log_raise, METH_O,
     "used by the script's raise statements under --log_exception"},
    {"set_sync_marker", (PyCFunction)vt_tracer__set_sync_marker, METH_NOARGS,
     "mark now as the point --align_combine aligns traces on"},
    {"get_sync_marker", (PyCFunction)vt_tracer__get_sync_marker, METH_NOARGS,
     "the synchronization marker in microseconds, or None"},
    {"register_exit", (PyCFunction)vt_tracer__register_exit, METH_NOARGS,
     "save the trace when this process exits (atexit, multiprocessing, SIGTERM)"},
    {"install", vt_tracer__install, METH_NOARGS,
     "SIGUSR1 starts tracing, SIGUSR2 stops and saves (viztracer --attach_installed)"},
    {"save", (PyCFunction)(void (*)(void))tracer_save, METH_VARARGS | METH_KEYWORDS,
     "save(output_file=None, file_info=None, verbose=None): write the trace"},
    {"parse", (PyCFunction)tracer_parse, METH_NOARGS,
     "stop and load the buffer into .data; returns the number of events"},
    {"run", (PyCFunction)(void (*)(void))tracer_run, METH_VARARGS | METH_KEYWORDS,
     "run(command, output_file=None): trace exec(command) and save"},
    {"__enter__", (PyCFunction)tracer_enter, METH_NOARGS, NULL},
    {"__exit__", (PyCFunction)tracer_exit, METH_VARARGS, NULL},
    {"terminate", (PyCFunction)tracer_terminate, METH_NOARGS,
     "tell the plugins that the tracer is done"},
    {"enable_thread_tracing", (PyCFunction)tracer_enable_thread_tracing, METH_NOARGS,
     "trace the calling thread (one not started by threading)"},
    {"getts", (PyCFunction)tracer_getts, METH_NOARGS, "now, in microseconds, on the trace clock"},
    {"get_base_time", (PyCFunction)tracer_get_base_time, METH_NOARGS,
     "epoch nanoseconds minus monotonic nanoseconds"},
    {"log_instant", (PyCFunction)(void (*)(void))tracer_log_instant, METH_VARARGS | METH_KEYWORDS,
     "log_instant(name, args=None, scope='t', cond=True)"},
    {"add_instant", (PyCFunction)(void (*)(void))tracer_add_instant, METH_VARARGS | METH_KEYWORDS,
     "add_instant(name, args=None, scope='g')"},
    {"log_var", (PyCFunction)(void (*)(void))tracer_log_var, METH_VARARGS | METH_KEYWORDS,
     "log_var(name, var, cond=True)"},
    {"add_counter", (PyCFunction)(void (*)(void))tracer_add_counter, METH_VARARGS | METH_KEYWORDS,
     "add_counter(name, args)"},
    {"add_object", (PyCFunction)(void (*)(void))tracer_add_object, METH_VARARGS | METH_KEYWORDS,
     "add_object(ph, obj_id, name, args=None)"},
    {"add_raw", (PyCFunction)tracer_add_raw, METH_O, "add_raw(dict): add an event as it is"},
    {"add_func_args", (PyCFunction)tracer_add_func_args, METH_VARARGS,
     "add_func_args(key, value): attach to the running function's event"},
    {"add_variable", (PyCFunction)(void (*)(void))tracer_add_variable, METH_VARARGS | METH_KEYWORDS,
     "add_variable(name, var, event='instant'|'counter'): used by instrumented code"},
    {"add_func_exec", (PyCFunction)tracer_add_func_exec, METH_VARARGS,
     "add_func_exec(name, value, lineno): used by --log_func_exec"},
    {"log_event", (PyCFunction)tracer_log_event, METH_O,
     "with tracer.log_event(name): record the block as one event"},
    {NULL, NULL, 0, NULL},
};

static PyObject *
get_tracer(PyObject *self, PyObject *unused)
{
    (void)self;
    (void)unused;
    PyObject *builtins = PyEval_GetBuiltins(); /* borrowed */
    PyObject *t = builtins ? PyDict_GetItemString(builtins, "__viz_tracer__") : NULL;
    if (t == NULL)
        Py_RETURN_NONE;
    Py_INCREF(t);
    return t;
}

PyMethodDef vt_tracer__functions[] = {
    {"get_tracer", get_tracer, METH_NOARGS, "the global VizTracer, or None"},
    {"_set_glue_dir", vt_tracer__set_glue_dir, METH_O,
     "viztracer/__init__.py: where our Python files are"},
    {NULL, NULL, 0, NULL},
};
