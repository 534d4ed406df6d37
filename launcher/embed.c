/* embed.c: the embedded interpreter: configure, start, run, save, finalize.
 *
 * Order of a run: PyConfig (argv, executable, no sys.path[0] guess) ->
 * the viztracer package (our C module + the glue next to the executable)
 * -> a VizTracer built from the options -> SIGTERM handler -> fork hooks
 * (children.h) -> __main__ prepared as python3 would -> a two-line runner
 * compiled by us calls tracer.start() then exec(code) (so, as in VizTracer,
 * builtins.exec is the outermost event) -> wait for non-daemon threads ->
 * stop -> atexit -> save (merged with forked children's traces, if any) ->
 * Py_FinalizeEx.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "embed.h"

#include <limits.h>
#include <pthread.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"
#include "../tracer/tracer.h"
#include "children.h"
#include "termkick.h"

#ifndef VT_PYTHON_EXE
#define VT_PYTHON_EXE "/usr/bin/python3"
#endif

/* ---- start-up -------------------------------------------------------- */

static int
check(PyStatus status, PyConfig *config)
{
    if (!PyStatus_Exception(status))
        return 0;
    PyConfig_Clear(config);
    vt_log_error("viztracer: cannot start Python: %s%s%s", status.func ? status.func : "",
                 status.func ? ": " : "", status.err_msg ? status.err_msg : "unknown error");
    return -1;
}

/* The interpreter whose site-packages the program sees: a virtualenv's when
 * one is active, else the one we were built against. */
const char *
vt_embed_python_executable(char *buf, size_t len)
{
    const char *venv = getenv("VIRTUAL_ENV");
    if (venv && *venv) {
        snprintf(buf, len, "%s/bin/python3", venv);
        if (access(buf, X_OK) == 0)
            return buf;
    }
    return VT_PYTHON_EXE;
}

/* The python3 flags of a child's command line (cli.h, --python), as
 * CPython's own command-line parser would set them. */
static PyStatus
apply_flags(PyConfig *c, const struct vt_cli_list *flags)
{
    for (size_t i = 0; i < flags->n; i++) {
        char f = flags->items[i][1];
        if ((f == 'X' || f == 'W') && i + 1 < flags->n) {
            const char *value = flags->items[++i];
            if (f == 'X' && strcmp(value, "dev") == 0)
                c->dev_mode = 1; /* read before the -X options are */
            wchar_t *w = Py_DecodeLocale(value, NULL);
            if (w == NULL)
                return PyStatus_NoMemory();
            PyStatus st = PyWideStringList_Append(f == 'X' ? &c->xoptions : &c->warnoptions, w);
            PyMem_RawFree(w);
            if (PyStatus_Exception(st))
                return st;
            continue;
        }
        switch (f) {
        case 'b':
            c->bytes_warning++;
            break;
        case 'B':
            c->write_bytecode = 0;
            break;
        case 'd':
            c->parser_debug++;
            break;
        case 'E':
            c->use_environment = 0;
            break;
        case 'I':
            c->isolated = 1;
            c->use_environment = 0;
            c->user_site_directory = 0;
            break;
        case 'O':
            c->optimization_level++;
            break;
        case 'q':
            c->quiet = 1;
            break;
        case 's':
            c->user_site_directory = 0;
            break;
        case 'S':
            c->site_import = 0;
            break;
        case 'u':
            c->buffered_stdio = 0;
            break;
        case 'v':
            c->verbose++;
            break;
        default:
            break; /* -R: hash randomization is always on */
        }
    }
    return PyStatus_Ok();
}

static int
start_python(const struct vt_options *o)
{
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 0;
    config.safe_path = 1; /* sys.path[0] is set below, as python3 would for the target */
    char exe[PATH_MAX];
    const char *python = vt_embed_python_executable(exe, sizeof(exe));
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, python);
    if (check(st, &config) < 0)
        return -1;
    st = PyConfig_SetBytesString(&config, &config.executable, python);
    if (check(st, &config) < 0)
        return -1;
    st = PyConfig_SetBytesArgv(&config, o->argc, o->argv);
    if (check(st, &config) < 0)
        return -1;
    st = apply_flags(&config, &o->interp_flags);
    if (check(st, &config) < 0)
        return -1;
    st = Py_InitializeFromConfig(&config);
    if (check(st, &config) < 0)
        return -1;
    PyConfig_Clear(&config);
    return 0;
}

/* Folder of the glue package (viztracer/__init__.py) beside the executable:
 * build/bin/../python or PREFIX/bin/../lib/viztracer/python. */
static int
find_glue(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return -1;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return -1;
    *slash = '\0';
    static const char *const rel[] = {"/../python/viztracer", "/../lib/viztracer/python/viztracer"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        char init[PATH_MAX + 64];
        int n1 = snprintf(out, len, "%s%s", exe, rel[i]);
        int n2 = snprintf(init, sizeof(init), "%s/__init__.py", out);
        if (n1 > 0 && (size_t)n1 < len && n2 > 0 && (size_t)n2 < sizeof(init) &&
            access(init, R_OK) == 0)
            return 0;
    }
    return -1;
}

/* Runs a few lines of our own Python (before tracing starts) in a fresh
 * namespace holding the given name = value pairs. Returns 0, or -1 with a
 * Python exception set. */
static int
run_snippet(const char *code, PyObject *ns)
{
    PyObject *r = PyRun_String(code, Py_file_input, ns, ns); /* new ref */
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Makes `import viztracer` work without touching sys.path: our C module
 * goes into sys.modules as viztracer._core, and the glue package is loaded
 * from its folder (or, without it, the C module stands in for viztracer). */
static PyObject *
install_package(void)
{
    PyObject *core = PyInit__core(); /* new ref */
    if (core == NULL)
        return NULL;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    if (PyDict_SetItemString(modules, VT_TRACER_MODULE, core) < 0)
        goto fail;
    char glue[PATH_MAX];
    if (find_glue(glue, sizeof(glue)) != 0) {
        if (PyDict_SetItemString(modules, "viztracer", core) < 0)
            goto fail;
        return core;
    }
    PyObject *ns = Py_BuildValue("{s:s,s:O}", "glue", glue, "__builtins__",
                                 PyEval_GetBuiltins()); /* new ref */
    int rc = ns ? run_snippet("import importlib.util, sys\n"
                              "spec = importlib.util.spec_from_file_location('viztracer',\n"
                              "    glue + '/__init__.py', submodule_search_locations=[glue])\n"
                              "mod = importlib.util.module_from_spec(spec)\n"
                              "sys.modules['viztracer'] = mod\n"
                              "spec.loader.exec_module(mod)\n",
                              ns)
                : -1;
    Py_XDECREF(ns);
    if (rc < 0)
        goto fail;
    return core;
fail:
    Py_DECREF(core);
    return NULL;
}

/* ---- the tracer ------------------------------------------------------ */

/* The list as Python strs; None when not given, or (empty_none) when empty. */
static PyObject *
str_list(const struct vt_cli_list *l, int empty_none)
{
    if (!l->set || (empty_none && l->n == 0))
        Py_RETURN_NONE;
    PyObject *list = PyList_New((Py_ssize_t)l->n); /* new ref */
    for (size_t i = 0; list && i < l->n; i++) {
        PyObject *s = PyUnicode_DecodeFSDefault(l->items[i]);
        if (s == NULL) {
            Py_CLEAR(list);
            break;
        }
        PyList_SET_ITEM(list, (Py_ssize_t)i, s);
    }
    return list;
}

/* Sets kw[name] = value and drops the reference to value (NULL: error). */
static int
put(PyObject *kw, const char *name, PyObject *value)
{
    int rc = value ? PyDict_SetItemString(kw, name, value) : -1;
    Py_XDECREF(value);
    return rc;
}

static PyObject *
boolean(int v)
{
    return PyBool_FromLong(v);
}

/* A VizTracer configured from the command line. New ref, or NULL with an
 * exception set. */
static PyObject *
create_tracer(PyObject *core, const struct vt_options *o, const char *output)
{
    PyObject *kw = PyDict_New(); /* new ref */
    if (kw == NULL)
        return NULL;
    int rc = put(kw, "tracer_entries", PyLong_FromLongLong(o->tracer_entries)) |
             put(kw, "verbose", PyLong_FromLong(o->quiet ? 0 : 1)) |
             put(kw, "max_stack_depth", PyLong_FromLong(o->max_stack_depth)) |
             put(kw, "include_files", str_list(&o->include_files, 1)) |
             put(kw, "exclude_files", str_list(&o->exclude_files, 1)) |
             put(kw, "ignore_c_function", boolean(o->ignore_c_function)) |
             put(kw, "ignore_frozen", boolean(o->ignore_frozen)) |
             put(kw, "log_func_retval", boolean(o->log_func_retval)) |
             put(kw, "log_func_args", boolean(o->log_func_args)) |
             put(kw, "log_sparse", boolean(o->log_sparse)) |
             put(kw, "pid_suffix", boolean(o->pid_suffix)) |
             put(kw, "min_duration", PyFloat_FromDouble(o->min_duration_us)) |
             put(kw, "output_file", PyUnicode_DecodeFSDefault(output)) |
             put(kw, "trace_self", boolean(o->trace_self)) | put(kw, "vdb", boolean(o->vdb)) |
             put(kw, "log_print", boolean(o->log_print)) | put(kw, "log_gc", boolean(o->log_gc)) |
             put(kw, "log_exception", boolean(o->log_exception)) |
             put(kw, "log_audit", str_list(&o->log_audit, 0)) |
             put(kw, "plugins", str_list(&o->plugins, 1)) |
             put(kw, "log_async", boolean(o->log_async));
    PyObject *t = NULL;
    PyObject *empty = PyTuple_New(0);                           /* new ref */
    PyObject *type = PyObject_GetAttrString(core, "VizTracer"); /* new ref */
    if (rc == 0 && empty && type)
        t = PyObject_Call(type, empty, kw); /* new ref */
    Py_XDECREF(empty);
    Py_XDECREF(type);
    Py_DECREF(kw);
    return t;
}

/* SIGTERM stops the program as an exception would, so the trace is saved:
 * the handler raises SystemExit(143), the status of a terminated process. */
static PyObject *
on_sigterm(PyObject *self, PyObject *args)
{
    (void)self;
    (void)args;
    vt_termkick_handled();
    PyObject *code = PyLong_FromLong(128 + SIGTERM); /* new ref */
    if (code) {
        PyErr_SetObject(PyExc_SystemExit, code);
        Py_DECREF(code);
    }
    return NULL;
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
static int
install_sigterm(int untraced_children)
{
    PyObject *handler = PyCFunction_New(&sigterm_def, NULL); /* new ref */
    PyObject *kick = PyCFunction_New(&kick_def, NULL);       /* new ref */
    PyObject *ns = handler && kick
                       ? Py_BuildValue("{s:O,s:O,s:O,s:O}", "handler", handler, "kick", kick,
                                       "__builtins__", PyEval_GetBuiltins(), "untraced",
                                       untraced_children ? Py_True : Py_False)
                       : NULL; /* new ref */
    Py_XDECREF(handler);
    Py_XDECREF(kick);
    int rc = ns ? run_snippet("import os, signal\n"
                              "if signal.getsignal(signal.SIGTERM) == signal.SIG_DFL:\n"
                              "    signal.signal(signal.SIGTERM, handler)\n"
                              "    kick()\n"
                              "    def default_term():\n"
                              "        if signal.getsignal(signal.SIGTERM) is handler:\n"
                              "            signal.signal(signal.SIGTERM, signal.SIG_DFL)\n"
                              "    if untraced:\n"
                              "        os.register_at_fork(after_in_child=default_term)\n",
                              ns)
                : -1;
    Py_XDECREF(ns);
    return rc;
}

/* ---- forked children ------------------------------------------------ */

static void report(const char *what);

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

/* Sets up the children scheme for tracer: in a child (--subprocess_child)
 * with its parent's folder, else with a new one. Returns the namespace
 * holding save_child and save_parent (new ref) and the folder in *dir
 * (owned), or NULL with *dir NULL when it cannot be set up (the program
 * then runs with its children untraced). */
static PyObject *
fork_setup(PyObject *tracer, const struct vt_options *o, char **dir)
{
    *dir = NULL;
    if (o->subprocess_child) {
        *dir = vt_xstrdup(o->subprocess_child);
    } else if (vt_children_dir_create(dir) != VT_OK) {
        vt_log_error("viztracer: cannot create a folder for child processes; they are not traced");
        return NULL;
    }
    /* Named as a file of our package, the helpers and all they call are
     * filtered out of the trace like the rest of our Python code. */
    char glue[PATH_MAX], file[PATH_MAX + 16];
    if (find_glue(glue, sizeof(glue)) == 0)
        snprintf(file, sizeof(file), "%s/_fork.py", glue);
    else
        snprintf(file, sizeof(file), "<viztracer>");
    char **vt_argv = vt_children_argv(o, *dir);                                    /* owned */
    PyObject *args = vt_argv ? argv_list(vt_argv) : (Py_INCREF(Py_None), Py_None); /* new ref */
    vt_cli_free_argv(vt_argv);
    PyObject *kick = PyCFunction_New(&kick_def, NULL);     /* new ref */
    PyObject *kicked = PyCFunction_New(&kicked_def, NULL); /* new ref */
    PyObject *ns =
        args && kick && kicked
            ? Py_BuildValue("{s:O,s:O,s:s,s:O,s:O,s:O,s:O,s:O}", "__builtins__",
                            PyEval_GetBuiltins(), "tracer", tracer, "d", *dir, "vt_argv", args,
                            "child", o->subprocess_child ? Py_True : Py_False, "patch_only",
                            o->patch_only ? Py_True : Py_False, "kick", kick, "kicked", kicked)
            : NULL; /* new ref */
    Py_XDECREF(args);
    Py_XDECREF(kick);
    Py_XDECREF(kicked);
    PyObject *code =
        ns ? Py_CompileString(vt_children_python(), file, Py_file_input) : NULL; /* new ref */
    PyObject *r = code ? PyEval_EvalCode(code, ns, ns) : NULL;                   /* new ref */
    Py_XDECREF(code);
    if (r) {
        Py_DECREF(r);
        return ns;
    }
    PyErr_Clear(); /* without the scheme children run untraced, as with --ignore_multiprocess */
    Py_XDECREF(ns);
    if (o->subprocess_child == NULL)
        vt_children_dir_remove(*dir);
    free(*dir);
    *dir = NULL;
    return NULL;
}

/* Calls ns[name](*args). Returns 0, or -1 with an exception set. */
static int
call_helper(PyObject *ns, const char *name, const char *path)
{
    PyObject *fn = PyDict_GetItemString(ns, name); /* borrowed */
    PyObject *r = fn ? (path ? PyObject_CallFunction(fn, "s", path) : PyObject_CallNoArgs(fn))
                     : NULL; /* new ref */
    if (r == NULL && !PyErr_Occurred())
        PyErr_SetString(PyExc_RuntimeError, name);
    Py_XDECREF(r);
    return r ? 0 : -1;
}

/* The parent's save when children were forked: its own trace into the
 * folder, a bounded wait for live children, then one merged output.
 * Returns 0, or -1 after printing why. */
static int
save_with_children(const struct vt_options *o, PyObject *fork_ns, const char *dir,
                   const char *output, vt_tracer_html_fn html)
{
    size_t len = strlen(dir) + 16;
    char *mine = vt_xmalloc(len);
    snprintf(mine, len, "%s/parent.json", dir);
    int rc = -1;
    if (call_helper(fork_ns, "save_parent", mine) < 0) {
        report("cannot save the trace");
    } else {
        vt_children_wait(dir, VT_CHILDREN_WAIT_S);
        char *final = vt_children_output_path(output, o->pid_suffix);
        rc = vt_children_collect(dir, mine, final, html, o->quiet) == VT_OK ? 0 : -1;
        free(final);
    }
    free(mine);
    return rc;
}

/* ---- the program ----------------------------------------------------- */

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

static int put(PyObject *kw, const char *name, PyObject *value);
static PyObject *compile_source(PyObject *source, const char *filename);
static PyObject *str_list(const struct vt_cli_list *l, int empty_none);

/* The instrumentation the options ask for, as viztracer.codemonkey takes
 * it; NULL (no error) when none is asked for. */
static PyObject *
instrumentation(const struct vt_options *o)
{
    if (!(o->log_var.n || o->log_number.n || o->log_attr.n || o->log_func_exec.n ||
          o->log_func_entry.n || o->magic_comment))
        return NULL;
    PyObject *d = PyDict_New(); /* new ref */
    if (d && (put(d, "log_var", str_list(&o->log_var, 1)) |
              put(d, "log_number", str_list(&o->log_number, 1)) |
              put(d, "log_attr", str_list(&o->log_attr, 1)) |
              put(d, "log_func_exec", str_list(&o->log_func_exec, 1)) |
              put(d, "log_func_entry", str_list(&o->log_func_entry, 1)) |
              put(d, "magic_comment", PyBool_FromLong(o->magic_comment))) != 0)
        Py_CLEAR(d);
    return d;
}

/* Compiles the program: through viztracer.codemonkey when instrumentation
 * is asked for (opts not NULL), else with the builtin compile(). */
static PyObject *
compile_program(PyObject *source, const char *filename, PyObject *opts)
{
    if (opts == NULL)
        return compile_source(source, filename);
    PyObject *cm = PyImport_ImportModule("viztracer.codemonkey"); /* new ref */
    PyObject *code =
        cm ? PyObject_CallMethod(cm, "compile_source", "OsO", source, filename, opts) : NULL;
    Py_XDECREF(cm);
    return code;
}

static PyObject *
compile_source(PyObject *source, const char *filename)
{
    PyObject *builtins = PyEval_GetBuiltins();                     /* borrowed */
    PyObject *compile = PyDict_GetItemString(builtins, "compile"); /* borrowed */
    return PyObject_CallFunction(compile, "Oss", source, filename, "exec");
}

static void report(const char *what);

/* Prints the pending exception's message as "viztracer: <message>". */
static void
report_line(void)
{
    report(NULL);
}

/* 1 when a child's python3 flags ask for no sys.path[0] (-P, -I). */
static int
safe_path(const struct vt_options *o)
{
    for (size_t i = 0; i < o->interp_flags.n; i++) {
        const char *f = o->interp_flags.items[i];
        if (f[1] == 'X' || f[1] == 'W')
            i++; /* skip the value */
        else if (f[1] == 'P' || f[1] == 'I')
            return 1;
    }
    return 0;
}

/* Prepares __main__ and returns the code to run. As python3 does: the script's
 * folder is sys.path[0] and __file__ its absolute path; -m puts the current
 * folder first and runs the module with runpy's metadata; -c puts "". */
static PyObject *
prepare_main(const struct vt_options *o, const char *script_path, PyObject *main_dict)
{
    PyObject *ns =
        Py_BuildValue("{s:O,s:O,s:O}", "g", main_dict, "__builtins__", PyEval_GetBuiltins(),
                      "path0", safe_path(o) ? Py_False : Py_True); /* new ref */
    if (ns == NULL)
        return NULL;
    PyObject *code = NULL;
    PyObject *opts = instrumentation(o); /* new ref or NULL */
    if (opts == NULL && PyErr_Occurred()) {
        Py_DECREF(ns);
        return NULL;
    }
    if (opts) {
        PyObject *cm = PyImport_ImportModule("viztracer.codemonkey"); /* new ref */
        PyObject *ok = cm ? PyObject_CallMethod(cm, "check", "O", opts) : NULL;
        Py_XDECREF(cm);
        if (ok == NULL) {
            report_line();
            Py_DECREF(opts);
            Py_DECREF(ns);
            return NULL; /* reported; no exception left */
        }
        Py_DECREF(ok);
    }
    if (o->run == VT_CLI_RUN_SCRIPT) {
        char *real = realpath(script_path, NULL);
        PyObject *v = Py_BuildValue("(ss)", script_path, real ? real : script_path);
        free(real);
        if (v && PyDict_SetItemString(ns, "paths", v) == 0 &&
            run_snippet("import os, sys\n"
                        "path, real = paths\n"
                        "if path0:\n"
                        "    sys.path.insert(0, os.path.dirname(real))\n"
                        "g['__file__'] = os.path.abspath(path)\n"
                        "g['__cached__'] = None\n"
                        "sys.modules['__mp_main__'] = sys.modules['__main__']\n",
                        ns) == 0) {
            PyObject *src = read_source(script_path);                     /* new ref */
            PyObject *file = PyDict_GetItemString(main_dict, "__file__"); /* borrowed */
            if (src && file)
                code = compile_program(src, PyUnicode_AsUTF8(file), opts);
            Py_XDECREF(src);
        }
        Py_XDECREF(v);
    } else if (o->run == VT_CLI_RUN_STRING) {
        if (run_snippet("import sys\nif path0:\n    sys.path.insert(0, '')\n", ns) == 0) {
            PyObject *src = PyUnicode_DecodeFSDefault(o->target); /* new ref */
            if (src)
                code = compile_program(src, "<string>", opts);
            Py_XDECREF(src);
        }
    } else {
        PyObject *mod = PyUnicode_DecodeFSDefault(o->target); /* new ref */
        if (mod && PyDict_SetItemString(ns, "mod", mod) == 0 &&
            run_snippet("import os, sys, runpy\n"
                        "if path0:\n"
                        "    sys.path.insert(0, os.getcwd())\n"
                        "name, spec, code = runpy._get_module_details(mod)\n"
                        "g.update(__name__='__main__', __file__=spec.origin,\n"
                        "         __cached__=spec.cached, __doc__=None, __loader__=spec.loader,\n"
                        "         __package__=spec.parent, __spec__=spec)\n"
                        "if spec.has_location:\n"
                        "    sys.argv[0] = spec.origin\n"
                        "sys.modules['__mp_main__'] = sys.modules['__main__']\n",
                        ns) == 0) {
            code = PyDict_GetItemString(ns, "code"); /* borrowed */
            Py_XINCREF(code);
        }
        Py_XDECREF(mod);
    }
    Py_XDECREF(opts);
    Py_DECREF(ns);
    return code;
}

/* The exit status python3 would give for the pending exception, which is
 * consumed: SystemExit's code, 130 for KeyboardInterrupt (re-raised as a
 * signal by main), 1 after printing any other traceback. */
static int call_method(PyObject *obj, const char *name);

/* Removes our runner's frame from the head of the pending traceback, so
 * the user sees only their program's frames. */
static void
drop_runner_frame(void)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyErr_NormalizeException(&et, &ev, &tb);
    if (tb && PyTraceBack_Check(tb)) {
        PyTracebackObject *t = (PyTracebackObject *)tb;
        PyCodeObject *co = PyFrame_GetCode(t->tb_frame); /* new ref */
        if (PyUnicode_CompareWithASCIIString(co->co_filename, "<viztracer>") == 0 && t->tb_next) {
            PyObject *next = (PyObject *)t->tb_next;
            Py_INCREF(next);
            Py_SETREF(tb, next);
            if (ev)
                PyException_SetTraceback(ev, tb);
        }
        Py_DECREF(co);
    }
    PyErr_Restore(et, ev, tb);
}

static int
status_of_exception(int *signo)
{
    drop_runner_frame();
    if (PyErr_ExceptionMatches(PyExc_SystemExit)) {
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyErr_NormalizeException(&et, &ev, &tb);
        PyObject *code = ev ? PyObject_GetAttrString(ev, "code") : NULL; /* new ref */
        int status = 0;
        if (code == NULL || code == Py_None) {
            status = 0;
        } else if (PyLong_Check(code)) {
            status = (int)PyLong_AsLong(code);
        } else {
            PyObject *s = PyObject_Str(code); /* new ref */
            if (s)
                vt_log_error("%s", PyUnicode_AsUTF8(s));
            Py_XDECREF(s);
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

/* Prints the pending exception as one line (our own failure, not the
 * program's) and clears it. */
static void
report(const char *what)
{
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *s = ev ? PyObject_Str(ev) : NULL; /* new ref */
    const char *text = s ? PyUnicode_AsUTF8(s) : NULL;
    if (what == NULL)
        vt_log_error("viztracer: %s", text ? text : "error");
    else
        vt_log_error("viztracer: %s%s%s", what, text && *text ? ": " : "", text ? text : "");
    Py_XDECREF(s);
    Py_XDECREF(et);
    Py_XDECREF(ev);
    Py_XDECREF(tb);
    PyErr_Clear();
}

static int
call_method(PyObject *obj, const char *name)
{
    PyObject *r = PyObject_CallMethod(obj, name, NULL); /* new ref */
    if (r == NULL)
        return -1;
    Py_DECREF(r);
    return 0;
}

/* Waits for non-daemon threads, as interpreter shutdown would, while
 * tracing still runs so their events are kept; the waiting itself is not
 * the program's and is paused out of the trace. */
static void
join_threads(PyObject *tracer)
{
    PyObject *threading = PyImport_ImportModule("threading"); /* new ref */
    if (threading == NULL) {
        PyErr_Clear();
        return;
    }
    call_method(tracer, "pause");
    if (call_method(threading, "_shutdown") < 0)
        PyErr_Clear(); /* Ctrl+C while waiting: stop waiting, still save */
    call_method(tracer, "resume");
    Py_DECREF(threading);
}

static int
run_atexit(void)
{
    PyObject *atexit = PyImport_ImportModule("atexit"); /* new ref */
    if (atexit == NULL)
        return -1;
    int rc = call_method(atexit, "_run_exitfuncs");
    Py_DECREF(atexit);
    return rc;
}

static int
run_traced(const struct vt_options *o, const char *script_path, const char *output,
           vt_tracer_html_fn html, int *signo)
{
    pid_t me = getpid();
    PyObject *core = install_package(); /* new ref */
    if (core == NULL) {
        report("cannot load the viztracer module");
        return 1;
    }
    /* __main__ first: sys.path[0] is then set, so plugins and the program's
     * own modules import as they would under python3. */
    PyObject *main_mod = PyImport_AddModule("__main__");                         /* borrowed */
    PyObject *main_dict = main_mod ? PyModule_GetDict(main_mod) : NULL;          /* borrowed */
    PyObject *code = main_dict ? prepare_main(o, script_path, main_dict) : NULL; /* new ref */
    if (code == NULL) {
        Py_DECREF(core);
        if (!PyErr_Occurred())
            return 1; /* already reported */
        if (o->run == VT_CLI_RUN_MODULE && PyErr_ExceptionMatches(PyExc_ImportError)) {
            report(o->target);
            return 1;
        }
        return status_of_exception(signo);
    }
    PyObject *tracer = create_tracer(core, o, output); /* new ref */
    Py_DECREF(core);
    if (tracer == NULL) {
        Py_DECREF(code);
        report(NULL);
        return 1;
    }
    /* SIGTERM waits while our own set-up runs: its handler raises
     * SystemExit, which our Python would swallow (a pool terminating a
     * worker that is still starting would see it run on). It is delivered
     * when the program starts, to the handler the program would meet. */
    sigset_t term, saved_mask;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &saved_mask);
    if (install_sigterm(o->ignore_multiprocess) < 0)
        PyErr_Clear(); /* no SIGTERM handler: a terminated run is lost, the rest works */
    char *dir = NULL;  /* owned */
    PyObject *fork_ns = o->ignore_multiprocess ? NULL : fork_setup(tracer, o, &dir); /* new ref */
    if (fork_ns == NULL) {
        /* No children traced: pools that follow init_kwargs (loky) are told. */
        PyObject *none = PyUnicode_FromString(""); /* new ref */
        if (none == NULL || PyObject_SetAttrString(tracer, "_child_output", none) < 0)
            PyErr_Clear();
        Py_XDECREF(none);
    }
    /* The runner: tracer.start() then exec(code), so builtins.exec is recorded
     * as the outermost call (as in VizTracer), and nothing of ours is. */
    const char *runner = o->log_sparse || o->patch_only
                             ? "exec(__vt_code, __vt_globals)\n"
                             : "__vt_start()\nexec(__vt_code, __vt_globals)\n";
    PyObject *start = PyObject_GetAttrString(tracer, "start"); /* new ref */
    PyObject *ns =
        start ? Py_BuildValue("{s:O,s:N,s:O,s:O}", "__builtins__", PyEval_GetBuiltins(),
                              "__vt_start", start, "__vt_code", code, "__vt_globals", main_dict)
              : NULL; /* new ref */
    Py_DECREF(code);
    PyObject *rcode = ns ? Py_CompileString(runner, "<viztracer>", Py_file_input) : NULL;
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    PyObject *r = rcode ? PyEval_EvalCode(rcode, ns, ns) : NULL; /* new ref */
    Py_XDECREF(rcode);
    Py_XDECREF(ns);
    int status = 0;
    if (r == NULL) {
        /* Printing the traceback is not the program's work: keep it out. */
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        if (call_method(tracer, "pause") < 0)
            PyErr_Clear();
        PyErr_Restore(et, ev, tb);
        status = status_of_exception(signo);
        if (call_method(tracer, "resume") < 0)
            PyErr_Clear();
    }
    Py_XDECREF(r);
    if (getpid() != me || o->subprocess_child) {
        /* A forked child of the program ran to its end here, or this is a
         * child process of a traced program: it saves into the children's
         * folder (nothing under --patch_only), the parent owns the trace
         * file. */
        if (fork_ns) {
            join_threads(tracer);
            if (!o->log_exit && call_method(tracer, "stop") < 0)
                PyErr_Clear();
            if (run_atexit() < 0)
                PyErr_Clear(); /* atexit reports its handlers' errors itself */
            if (call_helper(fork_ns, "save_child", NULL) < 0)
                PyErr_Clear(); /* save_child catches everything; nothing to add */
        }
        Py_XDECREF(fork_ns);
        free(dir);
        Py_DECREF(tracer);
        return status;
    }
    join_threads(tracer);
    if (!o->log_exit && call_method(tracer, "stop") < 0)
        PyErr_Clear();
    if (run_atexit() < 0)
        PyErr_Clear(); /* atexit reports its handlers' errors itself */
    if (o->log_exit && call_method(tracer, "stop") < 0)
        PyErr_Clear();
    if (fork_ns && vt_children_forked(dir)) {
        if (save_with_children(o, fork_ns, dir, output, html) < 0 && status == 0)
            status = 1;
    } else if (call_method(tracer, "save") < 0) {
        report("cannot save the trace");
        if (status == 0)
            status = 1;
    }
    Py_XDECREF(fork_ns);
    vt_children_dir_remove(dir);
    free(dir);
    if (call_method(tracer, "terminate") < 0) {
        report("a plugin failed");
        if (status == 0)
            status = 1;
    }
    Py_DECREF(tracer);
    return status;
}

int
vt_embed_run(const struct vt_options *o, const char *script_path, const char *output,
             vt_tracer_html_fn html, int *signo)
{
    *signo = 0;
    if (start_python(o) < 0)
        return 1;
    int status = run_traced(o, script_path, output, html, signo);
    if (Py_FinalizeEx() < 0 && status == 0)
        status = 120; /* as python3: flushing stdout failed */
    return status;
}
