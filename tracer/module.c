/* module.c: the VizTracer type's life cycle and settings, and the
 * viztracer._core module.
 *
 * Sections: settings (constructor keywords and attributes, turned into the
 * hook's flag bits), type slots, module functions and init. The methods
 * that record and save are in api.c; the decorators in decorators.c.
 */
#include "internal.h"

#include <stdatomic.h>

#include <structmember.h>
#include "options.h"
#include "tracer.h"

/* 32.32 ns per tick, measured once when a min_duration first needs it.
 * Protected by the GIL. */
static uint64_t tick_mult;

/* ---- settings ------------------------------------------------------- */

static void
apply_flags(struct vt_tracer *t)
{
    unsigned f = t->flags & (VT_F_IGNORE_C | VT_F_IGNORE_FROZEN | VT_F_ARGS | VT_F_VDB |
                             VT_F_LOG_EXC | VT_F_ASYNC);
    if (vt_tracer__glue_known() && !t->trace_self)
        f |= VT_F_GLUE;
    if (t->include_files)
        f |= VT_F_INCLUDE;
    if (t->exclude_files)
        f |= VT_F_EXCLUDE;
    t->flags = f;
    t->flags |= vt_tracer__crash_share(t);
    t->max_depth = vt_tracer__tracer_depth(t);
    if (t->min_duration_us > 0) {
        if (tick_mult == 0)
            tick_mult = vt_clock_estimate_mult();
        struct vt_clock_conv c = {0, 0, tick_mult};
        t->min_dur_ticks = vt_clock_ns_to_ticks(&c, (int64_t)(t->min_duration_us * 1000.0));
    } else {
        t->min_dur_ticks = 0;
    }
    vt_tracer__fcache_clear(t);
}

/* None or [] -> NULL; a list/tuple of str -> a list with each relative entry
 * also in absolute form (as VizTracer does). Sets *out to a new ref. */
static int
files_arg(PyObject *value, const char *what, PyObject **out)
{
    *out = NULL;
    if (value == NULL || value == Py_None)
        return 0;
    if (PyUnicode_Check(value) || !PySequence_Check(value)) {
        PyErr_Format(PyExc_TypeError, "%s must be a list of paths", what);
        return -1;
    }
    PyObject *seq = PySequence_Fast(value, what); /* new ref */
    if (seq == NULL)
        return -1;
    PyObject *list = PyList_New(0);                      /* new ref */
    PyObject *ospath = PyImport_ImportModule("os.path"); /* new ref */
    if (list == NULL || ospath == NULL)
        goto fail;
    for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *item = PySequence_Fast_GET_ITEM(seq, i); /* borrowed */
        if (!PyUnicode_Check(item)) {
            PyErr_Format(PyExc_TypeError, "%s must be a list of paths", what);
            goto fail;
        }
        if (PyList_Append(list, item) < 0)
            goto fail;
        PyObject *abs = PyObject_CallMethod(ospath, "abspath", "O", item); /* new ref */
        if (abs == NULL)
            goto fail;
        int same = PyUnicode_Compare(abs, item) == 0;
        int rc = same ? 0 : PyList_Append(list, abs);
        Py_DECREF(abs);
        if (rc < 0)
            goto fail;
    }
    Py_DECREF(seq);
    Py_DECREF(ospath);
    if (PyList_GET_SIZE(list) == 0) {
        Py_DECREF(list);
        return 0;
    }
    *out = list;
    return 0;
fail:
    Py_DECREF(seq);
    Py_XDECREF(list);
    Py_XDECREF(ospath);
    return -1;
}

static int
depth_arg(PyObject *value, long *out)
{
    PyObject *num = PyUnicode_Check(value) ? PyLong_FromUnicodeObject(value, 10)
                                           : PyNumber_Long(value); /* new ref */
    if (num == NULL) {
        PyErr_Clear();
        PyErr_SetString(PyExc_ValueError, "max_stack_depth must be an integer");
        return -1;
    }
    *out = PyLong_AsLong(num);
    Py_DECREF(num);
    if (*out == -1 && PyErr_Occurred())
        return -1;
    return 0;
}

/* log_func_with_objprint: our objprint-format function (viztracer/_objstr.py),
 * as VizTracer takes objprint.objstr. New ref, or NULL with an exception. */
static PyObject *
objstr_function(void)
{
    PyObject *m = PyImport_ImportModule("viztracer._objstr"); /* new ref */
    PyObject *f = m ? PyObject_GetAttrString(m, "objstr") : NULL;
    Py_XDECREF(m);
    return f;
}

/* log_audit: a list of regular expressions (each must match a whole event
 * name), compiled once; an empty list logs every audit event. */
static int
audit_arg(PyObject *value, PyObject **out)
{
    *out = NULL;
    PyObject *seq = PySequence_Fast(value, "log_audit must be a list of regular expressions");
    if (seq == NULL)
        return -1;
    PyObject *re = PyImport_ImportModule("re"); /* new ref */
    PyObject *list = re ? PyList_New(0) : NULL; /* new ref */
    for (Py_ssize_t i = 0; list && i < PySequence_Fast_GET_SIZE(seq); i++) {
        PyObject *p = PyObject_CallMethod(re, "compile", "O", PySequence_Fast_GET_ITEM(seq, i));
        if (p == NULL || PyList_Append(list, p) < 0) {
            Py_XDECREF(p);
            Py_CLEAR(list);
            break;
        }
        Py_DECREF(p);
    }
    Py_DECREF(seq);
    Py_XDECREF(re);
    *out = list;
    return list ? 0 : -1;
}

static void
set_flag(struct vt_tracer *t, unsigned flag, int on)
{
    if (on)
        t->flags |= flag;
    else
        t->flags &= ~flag;
}

/* ---- type slots ----------------------------------------------------- */

/* A serial never used before: the thread-local caches key on it (thread.c). */
static uint64_t
next_serial(void)
{
    static atomic_uint_fast64_t serials = 1;
    return atomic_fetch_add(&serials, 1);
}

static PyObject *
tracer_new(PyTypeObject *type, PyObject *args, PyObject *kw)
{
    (void)args;
    (void)kw;
    struct vt_tracer *t = (struct vt_tracer *)type->tp_alloc(type, 0);
    if (t == NULL)
        return NULL;
    t->serial = next_serial();
    t->entries = 1000000;
    t->max_stack_depth = -1;
    t->max_depth = VT_STACK_MAX;
    t->verbose = 1;
    t->file_info = 1;
    t->register_global = 1;
    t->output_file = PyUnicode_FromString("result.json");
    if (t->output_file == NULL) {
        Py_DECREF(t);
        return NULL;
    }
    return (PyObject *)t;
}

/* VizTracer()'s keywords, from tracer/options.h: kwlist, kwformat,
 * kwnames and kwuse are in its positional order (each line's pos). The
 * positions are 0..KW_COUNT-1, each once: a repeated one is an error of
 * -Woverride-init, one past the end overflows kwformat, and KW_COUNT
 * distinct positions below KW_COUNT leave no gap. */
#define KW_SKIP(name, s, kind, def, arg, help, use)
#define KW_ENUM_OPT(name, s, kind, def, arg, help, use, pos, fmt) KW_ENUM_##name,
#define KW_ENUM(name, use, pos, fmt) KW_ENUM_##name,
#define KW_NAME_OPT(name, s, kind, def, arg, help, use, pos, fmt) [pos] = #name,
#define KW_NAME(name, use, pos, fmt) [pos] = #name,
#define KW_FMT_OPT(name, s, kind, def, arg, help, use, pos, fmt) [pos] = (fmt),
#define KW_FMT(name, use, pos, fmt) [pos] = (fmt),
#define KW_USE_OPT(name, s, kind, def, arg, help, use, pos, fmt) [pos] = (use),
#define KW_USE(name, use, pos, fmt) [pos] = (use),

enum { VT_OPTIONS(KW_SKIP, KW_ENUM_OPT, KW_ENUM) KW_COUNT };

static const char kwformat[KW_COUNT] = {VT_OPTIONS(KW_SKIP, KW_FMT_OPT, KW_FMT)};

/* kwlist's names and VT_OPT_* bits, for init_kwargs. */
static const char *const kwnames[KW_COUNT] = {VT_OPTIONS(KW_SKIP, KW_NAME_OPT, KW_NAME)};
static const unsigned kwuse[KW_COUNT] = {VT_OPTIONS(KW_SKIP, KW_USE_OPT, KW_USE)};

static int
tracer_init(struct vt_tracer *t, PyObject *args, PyObject *kw)
{
    static char *kwlist[KW_COUNT + 1] = {VT_OPTIONS(KW_SKIP, KW_NAME_OPT, KW_NAME)};
    char format[KW_COUNT + 16];
    snprintf(format, sizeof(format), "|%.*s:VizTracer", (int)KW_COUNT, kwformat);
    long long entries = 1000000;
    int verbose = 1, ignore_c = 0, ignore_frozen = 0, retval = 0, fargs = 0, sparse = 0;
    int pid_suffix = 0, file_info = 1, reg = 1, trace_self = 0, vdb = 0;
    int log_print = 0, log_gc = 0, log_exc = 0, log_async = 0;
    int sanitize = 0, minimize_memory = 0, dump_raw = 0, objprint = 0;
    PyObject *audit = NULL, *plugins = NULL, *frepr = NULL;
    double min_duration = 0;
    PyObject *depth = NULL, *incl = NULL, *excl = NULL, *output = NULL, *pname = NULL;
    /* One variable per keyword, in kwlist's order. */
    _Static_assert(KW_COUNT == 29, "a VizTracer() keyword added to tracer/options.h needs a "
                                   "variable below");
    if (!PyArg_ParseTupleAndKeywords(
            args, kw, format, kwlist, &entries, &verbose, &depth, &incl, &excl, &ignore_c,
            &ignore_frozen, &retval, &fargs, &sparse, &pid_suffix, &file_info, &reg, &trace_self,
            &min_duration, &output, &pname, &vdb, &log_print, &log_gc, &audit, &log_exc, &plugins,
            &log_async, &sanitize, &minimize_memory, &dump_raw, &objprint, &frepr))
        return -1;
    /* Every argument is checked and converted before t changes, so a
     * refused call leaves the tracer as it was. New refs until moved into t. */
    PyObject *patterns = NULL, *inc = NULL, *exc = NULL, *repr_fn = NULL;
    if (t->collecting) {
        PyErr_SetString(PyExc_RuntimeError, "cannot re-initialize a running VizTracer");
        goto fail;
    }
    if (entries < 0) {
        PyErr_SetString(PyExc_ValueError,
                        "tracer_entries must be a positive integer, or 0 to keep every event");
        goto fail;
    }
    if (min_duration < 0) {
        PyErr_SetString(PyExc_ValueError, "min_duration must not be negative");
        goto fail;
    }
    long max_depth = -1;
    if (depth && depth != Py_None && depth_arg(depth, &max_depth) < 0)
        goto fail;
    if (audit && audit != Py_None && audit_arg(audit, &patterns) < 0)
        goto fail;
    if (files_arg(incl, "include_files", &inc) < 0)
        goto fail;
    if (files_arg(excl, "exclude_files", &exc) < 0)
        goto fail;
    if (inc && exc) {
        PyErr_SetString(PyExc_ValueError,
                        "include_files and exclude_files can't be both specified!");
        goto fail;
    }
    if (output && output != Py_None && !PyUnicode_Check(output)) {
        PyErr_SetString(PyExc_TypeError, "output_file must be a str");
        goto fail;
    }
    if (pname && pname != Py_None && !PyUnicode_Check(pname)) {
        PyErr_SetString(PyExc_TypeError, "process_name must be a str");
        goto fail;
    }
    if (frepr == Py_None)
        frepr = NULL;
    if (frepr && objprint) {
        PyErr_SetString(PyExc_ValueError,
                        "log_func_repr and log_func_with_objprint can't be both set");
        goto fail;
    }
    if (frepr && !PyCallable_Check(frepr)) {
        PyErr_SetString(PyExc_TypeError, "log_func_repr must be callable");
        goto fail;
    }
    if (objprint && (repr_fn = objstr_function()) == NULL)
        goto fail;
    if (frepr) {
        Py_INCREF(frepr);
        repr_fn = frepr;
    }
    if ((uint64_t)entries != t->entries && t->threads != NULL) {
        vt_tracer__threads_destroy(t);
        /* Threads still cache pointers to the freed states under the old
         * serial: a new one makes each register again. */
        t->serial = next_serial();
    }
    Py_XSETREF(t->log_audit, patterns);
    Py_XSETREF(t->log_func_repr, repr_fn);
    t->log_func_with_objprint = objprint;
    t->entries = (uint64_t)entries;
    t->verbose = verbose;
    t->max_stack_depth = max_depth;
    Py_XSETREF(t->include_files, inc);
    Py_XSETREF(t->exclude_files, exc);
    set_flag(t, VT_F_IGNORE_C, ignore_c);
    set_flag(t, VT_F_IGNORE_FROZEN, ignore_frozen);
    set_flag(t, VT_F_LOG_RETVAL, retval);
    set_flag(t, VT_F_LOG_ARGS, fargs);
    set_flag(t, VT_F_VDB, vdb);
    set_flag(t, VT_F_LOG_EXC, log_exc);
    set_flag(t, VT_F_ASYNC, log_async);
    t->log_print = log_print;
    t->log_gc = log_gc;
    t->sanitize_function_name = sanitize;
    t->minimize_memory = minimize_memory;
    t->dump_raw = dump_raw;
    t->log_sparse = sparse;
    t->pid_suffix = pid_suffix;
    t->file_info = file_info;
    t->register_global = reg;
    t->trace_self = trace_self;
    t->min_duration_us = min_duration;
    if (output && output != Py_None) {
        Py_INCREF(output);
        Py_XSETREF(t->output_file, output);
    }
    if (pname && pname != Py_None) {
        Py_INCREF(pname);
        Py_XSETREF(t->process_name, pname);
    }
    apply_flags(t);
    Py_CLEAR(t->plugins);
    if (plugins && plugins != Py_None && PyObject_IsTrue(plugins)) {
        PyObject *vp = PyImport_ImportModule("viztracer.vizplugin"); /* new ref */
        t->plugins = vp ? PyObject_CallMethod(vp, "PluginManager", "OO", t, plugins) : NULL;
        Py_XDECREF(vp);
        if (t->plugins == NULL)
            return -1;
    }
    if (reg && vt_tracer__register_global((PyObject *)t) < 0)
        return -1;
    return 0;
fail:
    Py_XDECREF(repr_fn);
    Py_XDECREF(patterns);
    Py_XDECREF(inc);
    Py_XDECREF(exc);
    return -1;
}

static void
tracer_dealloc(struct vt_tracer *t)
{
    PyObject_GC_UnTrack(t);
    vt_tracer__threads_destroy(t);
    Py_CLEAR(t->include_files);
    Py_CLEAR(t->exclude_files);
    Py_CLEAR(t->output_file);
    Py_CLEAR(t->process_name);
    Py_CLEAR(t->child_output);
    Py_CLEAR(t->data);
    Py_CLEAR(t->log_audit);
    Py_CLEAR(t->plugins);
    Py_CLEAR(t->task_names);
    Py_CLEAR(t->log_func_repr);
    Py_CLEAR(t->afterfork);
    Py_TYPE(t)->tp_free((PyObject *)t);
}

static int
tracer_traverse(struct vt_tracer *t, visitproc visit, void *arg)
{
    Py_VISIT(t->data);
    Py_VISIT(t->plugins);
    Py_VISIT(t->include_files);
    Py_VISIT(t->exclude_files);
    Py_VISIT(t->log_func_repr);
    Py_VISIT(t->afterfork);
    return 0;
}

static int
tracer_clear_refs(struct vt_tracer *t)
{
    Py_CLEAR(t->data);
    Py_CLEAR(t->plugins);
    Py_CLEAR(t->log_func_repr);
    Py_CLEAR(t->afterfork);
    return 0;
}

/* ---- attributes ----------------------------------------------------- */

#define FLAG_GETSET(field, flag)                                                                   \
    static PyObject *get_##field(struct vt_tracer *t, void *c)                                     \
    {                                                                                              \
        (void)c;                                                                                   \
        return PyBool_FromLong((t->flags & (flag)) != 0);                                          \
    }                                                                                              \
    static int set_##field(struct vt_tracer *t, PyObject *v, void *c)                              \
    {                                                                                              \
        (void)c;                                                                                   \
        if (v == NULL || !PyBool_Check(v)) {                                                       \
            PyErr_SetString(PyExc_ValueError, #field " must be a bool");                           \
            return -1;                                                                             \
        }                                                                                          \
        if (((flag) & (VT_F_IGNORE_C | VT_F_LOG_EXC)) && t->collecting) {                          \
            PyErr_SetString(PyExc_RuntimeError, "stop the tracer before changing " #field);        \
            return -1;                                                                             \
        }                                                                                          \
        set_flag(t, flag, v == Py_True);                                                           \
        apply_flags(t);                                                                            \
        return 0;                                                                                  \
    }

FLAG_GETSET(ignore_c_function, VT_F_IGNORE_C)
FLAG_GETSET(ignore_frozen, VT_F_IGNORE_FROZEN)
FLAG_GETSET(log_func_args, VT_F_LOG_ARGS)
FLAG_GETSET(log_func_retval, VT_F_LOG_RETVAL)
FLAG_GETSET(vdb, VT_F_VDB)
FLAG_GETSET(log_exception, VT_F_LOG_EXC)
FLAG_GETSET(log_async, VT_F_ASYNC)

static PyObject *
get_max_stack_depth(struct vt_tracer *t, void *c)
{
    (void)c;
    return PyLong_FromLong(t->max_stack_depth);
}

static int
set_max_stack_depth(struct vt_tracer *t, PyObject *v, void *c)
{
    (void)c;
    long d;
    if (v == NULL || depth_arg(v, &d) < 0)
        return -1;
    t->max_stack_depth = d;
    apply_flags(t);
    return 0;
}

static PyObject *
get_min_duration(struct vt_tracer *t, void *c)
{
    (void)c;
    return PyFloat_FromDouble(t->min_duration_us);
}

static int
set_min_duration(struct vt_tracer *t, PyObject *v, void *c)
{
    (void)c;
    double d = v ? PyFloat_AsDouble(v) : -1;
    if (d == -1 && PyErr_Occurred())
        return -1;
    if (d < 0) {
        PyErr_SetString(PyExc_ValueError, "min_duration must not be negative");
        return -1;
    }
    t->min_duration_us = d;
    apply_flags(t);
    return 0;
}

static PyObject *
get_files(PyObject *list)
{
    if (list == NULL)
        Py_RETURN_NONE;
    return PyList_GetSlice(list, 0, PyList_GET_SIZE(list));
}

static PyObject *
get_include_files(struct vt_tracer *t, void *c)
{
    (void)c;
    return get_files(t->include_files);
}

static PyObject *
get_exclude_files(struct vt_tracer *t, void *c)
{
    (void)c;
    return get_files(t->exclude_files);
}

static int
set_files(struct vt_tracer *t, PyObject *v, PyObject **slot, PyObject *other, const char *what)
{
    PyObject *list;
    if (files_arg(v, what, &list) < 0)
        return -1;
    if (list && other) {
        Py_DECREF(list);
        PyErr_SetString(PyExc_ValueError,
                        "include_files and exclude_files can't be both specified!");
        return -1;
    }
    Py_XSETREF(*slot, list);
    apply_flags(t);
    return 0;
}

static int
set_include_files(struct vt_tracer *t, PyObject *v, void *c)
{
    (void)c;
    return set_files(t, v, &t->include_files, t->exclude_files, "include_files");
}

static int
set_exclude_files(struct vt_tracer *t, PyObject *v, void *c)
{
    (void)c;
    return set_files(t, v, &t->exclude_files, t->include_files, "exclude_files");
}

static PyObject *
get_output_file(struct vt_tracer *t, void *c)
{
    (void)c;
    Py_INCREF(t->output_file);
    return t->output_file;
}

static int
set_output_file(struct vt_tracer *t, PyObject *v, void *c)
{
    (void)c;
    if (v == NULL || !PyUnicode_Check(v)) {
        PyErr_SetString(PyExc_TypeError, "output_file must be a str");
        return -1;
    }
    Py_INCREF(v);
    Py_XSETREF(t->output_file, v);
    return 0;
}

static PyObject *
get_enable(struct vt_tracer *t, void *c)
{
    (void)c;
    return PyBool_FromLong(t->collecting);
}

static PyObject *
get_data(struct vt_tracer *t, void *c)
{
    (void)c;
    if (t->data == NULL)
        Py_RETURN_NONE;
    Py_INCREF(t->data);
    return t->data;
}

static PyObject *
get_init_kwargs(struct vt_tracer *t, void *c)
{
    (void)c;
    if (t->child_output && PyUnicode_Check(t->child_output) &&
        PyUnicode_GET_LENGTH(t->child_output) == 0) {
        /* A pool that builds its workers' tracers from these settings
         * (loky) must not trace them: it reports this and goes on. */
        PyErr_SetString(PyExc_RuntimeError,
                        "viztracer: child processes are not traced (--ignore_multiprocess)");
        return NULL;
    }
    /* The VT_OPT_INIT keywords, each its attribute's value. */
    PyObject *kw = PyDict_New(); /* new ref */
    for (size_t i = 0; kw && i < KW_COUNT; i++) {
        if (!(kwuse[i] & VT_OPT_INIT))
            continue;
        PyObject *v = PyObject_GetAttrString((PyObject *)t, kwnames[i]); /* new ref */
        if (v == NULL || PyDict_SetItemString(kw, kwnames[i], v) < 0)
            Py_CLEAR(kw);
        Py_XDECREF(v);
    }
    /* Under the launcher, processes it did not start itself (a pool's
     * workers, built from these settings: docs/COMPAT.md, Processes) save into its folder
     * for children, one file per pid, quietly. */
    if (kw && t->child_output) {
        PyObject *zero = PyLong_FromLong(0); /* new ref */
        if (zero == NULL || PyDict_SetItemString(kw, "output_file", t->child_output) < 0 ||
            PyDict_SetItemString(kw, "pid_suffix", Py_True) < 0 ||
            PyDict_SetItemString(kw, "verbose", zero) < 0)
            Py_CLEAR(kw);
        Py_XDECREF(zero);
    }
    return kw;
}

static PyMemberDef tracer_members[] = {
    {"verbose", T_INT, offsetof(struct vt_tracer, verbose), 0, "0 = silent"},
    {"pid_suffix", T_BOOL, offsetof(struct vt_tracer, pid_suffix), 0, "append _<pid> on save"},
    {"file_info", T_BOOL, offsetof(struct vt_tracer, file_info), 0, "write file_info on save"},
    {"log_sparse", T_BOOL, offsetof(struct vt_tracer, log_sparse), 0, "@log_sparse mode"},
    {"log_print", T_BOOL, offsetof(struct vt_tracer, log_print), 0, "print becomes events"},
    {"log_gc", T_BOOL, offsetof(struct vt_tracer, log_gc), 0, "collections become events"},
    {"sanitize_function_name", T_BOOL, offsetof(struct vt_tracer, sanitize_function_name), 0,
     "builtin names with non-printable bytes lose them"},
    {"minimize_memory", T_BOOL, offsetof(struct vt_tracer, minimize_memory), 0,
     "accepted; the dump always streams"},
    {"dump_raw", T_BOOL, offsetof(struct vt_tracer, dump_raw), 0,
     "accepted; each process writes its own trace"},
    {"log_func_with_objprint", T_BOOL, offsetof(struct vt_tracer, log_func_with_objprint), READONLY,
     "log_func_repr is objprint's format"},
    {"log_func_repr", T_OBJECT, offsetof(struct vt_tracer, log_func_repr), 0,
     "callable giving the text of logged arguments and return values; None = repr"},
    {"register_global", T_BOOL, offsetof(struct vt_tracer, register_global), READONLY, NULL},
    {"trace_self", T_BOOL, offsetof(struct vt_tracer, trace_self), READONLY, NULL},
    {"process_name", T_OBJECT, offsetof(struct vt_tracer, process_name), 0, "process name"},
    {"_child_output", T_OBJECT, offsetof(struct vt_tracer, child_output), 0,
     "init_kwargs' output_file for processes started outside the launcher; '' = untraced"},
    {"tracer_entries", T_ULONGLONG, offsetof(struct vt_tracer, entries), READONLY,
     "buffer capacity in events"},
    {NULL, 0, 0, 0, NULL},
};

static PyGetSetDef tracer_getset[] = {
    {"ignore_c_function", (getter)get_ignore_c_function, (setter)set_ignore_c_function, NULL, NULL},
    {"ignore_frozen", (getter)get_ignore_frozen, (setter)set_ignore_frozen, NULL, NULL},
    {"log_func_args", (getter)get_log_func_args, (setter)set_log_func_args, NULL, NULL},
    {"log_func_retval", (getter)get_log_func_retval, (setter)set_log_func_retval, NULL, NULL},
    {"vdb", (getter)get_vdb, (setter)set_vdb, NULL, NULL},
    {"log_exception", (getter)get_log_exception, (setter)set_log_exception, NULL, NULL},
    {"log_async", (getter)get_log_async, (setter)set_log_async, NULL, NULL},
    {"max_stack_depth", (getter)get_max_stack_depth, (setter)set_max_stack_depth, NULL, NULL},
    {"min_duration", (getter)get_min_duration, (setter)set_min_duration, NULL, NULL},
    {"include_files", (getter)get_include_files, (setter)set_include_files, NULL, NULL},
    {"exclude_files", (getter)get_exclude_files, (setter)set_exclude_files, NULL, NULL},
    {"output_file", (getter)get_output_file, (setter)set_output_file, NULL, NULL},
    {"enable", (getter)get_enable, NULL, "True while collecting", NULL},
    {"data", (getter)get_data, NULL, "the dict built by parse()", NULL},
    {"init_kwargs", (getter)get_init_kwargs, NULL, "settings to build an identical tracer", NULL},
    {NULL, NULL, NULL, NULL, NULL},
};

PyTypeObject vt_tracer__type = {
    PyVarObject_HEAD_INIT(NULL, 0).tp_name = "viztracer.VizTracer",
    .tp_basicsize = sizeof(struct vt_tracer),
    .tp_flags = Py_TPFLAGS_DEFAULT | Py_TPFLAGS_BASETYPE | Py_TPFLAGS_HAVE_GC,
    .tp_doc = "VizTracer(tracer_entries=1000000, verbose=1, max_stack_depth=-1, ...): records "
              "every function call and return of the program",
    .tp_new = tracer_new,
    .tp_init = (initproc)tracer_init,
    .tp_dealloc = (destructor)tracer_dealloc,
    .tp_traverse = (traverseproc)tracer_traverse,
    .tp_clear = (inquiry)tracer_clear_refs,
    .tp_methods = vt_tracer__methods,
    .tp_members = tracer_members,
    .tp_getset = tracer_getset,
};

/* ---- module --------------------------------------------------------- */

static struct PyModuleDef core_module = {
    PyModuleDef_HEAD_INIT,
    .m_name = VT_TRACER_MODULE,
    .m_doc = "viztracer in C: the tracer core and its Python API",
    .m_size = -1,
    .m_methods = vt_tracer__functions,
};

PyMODINIT_FUNC
PyInit__core(void)
{
    if (PyType_Ready(&vt_tracer__type) < 0 || vt_tracer__decorators_ready(&vt_tracer__type) < 0)
        return NULL;
    PyObject *m = PyModule_Create(&core_module); /* new ref */
    if (m == NULL)
        return NULL;
    Py_INCREF(&vt_tracer__type);
    if (PyModule_AddObject(m, "VizTracer", (PyObject *)&vt_tracer__type) < 0 ||
        PyModule_AddStringConstant(m, "__version__", VT_VERSION) < 0 ||
        vt_tracer__decorators_add(m) < 0) {
        Py_DECREF(m);
        return NULL;
    }
    vt_tracer__hook_own(m, &vt_tracer__type);
    return m;
}
