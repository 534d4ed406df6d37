/* embed.c: the embedded interpreter: configure, start, run, save, finalize.
 *
 * Order of a run: PyConfig (argv, executable, no sys.path[0] guess) ->
 * the viztracer package (our C module + the glue next to the executable)
 * -> a VizTracer built from the options -> SIGTERM handler -> fork hooks
 * (children.h) -> __main__ prepared as python3 would -> a one-line runner
 * compiled by us calls tracer.start() then exec(code) (so, as in VizTracer,
 * builtins.exec is the outermost event) -> wait for non-daemon threads ->
 * stop -> atexit -> save (merged with forked children's traces, if any) ->
 * Py_FinalizeEx. __main__ and exit statuses are embed_main.c's; SIGTERM and
 * the children scheme are embed_children.c's (internal.h).
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
#include "../tracer/format/format.h"
#include "../tracer/tracer.h"
#include "children.h"
#include "internal.h"

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
            c->safe_path = 1;
            break;
        case 'O':
            c->optimization_level++;
            break;
        case 'P':
            c->safe_path = 1;
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

static PyStatus
append_bytes(PyWideStringList *list, const char *s)
{
    wchar_t *w = Py_DecodeLocale(s, NULL);
    if (w == NULL)
        return PyStatus_NoMemory();
    PyStatus st = PyWideStringList_Append(list, w);
    PyMem_RawFree(w);
    return st;
}

/* sys.orig_argv as python3 would have it for the program: the interpreter,
 * then a child's own python3 command line (--python), or the python3
 * command that runs the script, -c or -m with the program's arguments. */
static PyStatus
set_orig_argv(PyConfig *c, const char *python, const struct vt_options *o)
{
    PyStatus st = append_bytes(&c->orig_argv, python);
    if (o->python_argv) {
        for (char **p = o->python_argv; *p && !PyStatus_Exception(st); p++)
            st = append_bytes(&c->orig_argv, *p);
        return st;
    }
    if (!PyStatus_Exception(st) && o->run != VT_CLI_RUN_SCRIPT)
        st = append_bytes(&c->orig_argv, o->run == VT_CLI_RUN_STRING ? "-c" : "-m");
    if (!PyStatus_Exception(st))
        st = append_bytes(&c->orig_argv, o->target);
    for (int i = 1; i < o->argc && !PyStatus_Exception(st); i++)
        st = append_bytes(&c->orig_argv, o->argv[i]);
    return st;
}

static int
has_xoption(const struct vt_cli_list *flags, const char *name)
{
    for (size_t i = 0; i + 1 < flags->n; i++)
        if (strcmp(flags->items[i], "-X") == 0 && strcmp(flags->items[++i], name) == 0)
            return 1;
    return 0;
}

/* Removes name from os.environ (when os is loaded) and posix.environ, which
 * the interpreter copied from the process's environment at start-up. */
static void
forget_env(const char *name)
{
    PyObject *key = PyUnicode_FromString(name); /* new ref */
    PyObject *bkey = PyBytes_FromString(name);  /* new ref */
    static const char *const mods[] = {"os", "posix"};
    for (size_t i = 0; key && bkey && i < 2; i++) {
        PyObject *mname = PyUnicode_FromString(mods[i]);                     /* new ref */
        PyObject *mod = mname ? PyImport_GetModule(mname) : NULL;            /* new ref */
        PyObject *env = mod ? PyObject_GetAttrString(mod, "environ") : NULL; /* new ref */
        PyObject *r = env ? PyObject_CallMethod(env, "pop", "OO", i == 0 ? key : bkey, Py_None)
                          : NULL; /* new ref */
        Py_XDECREF(r);
        Py_XDECREF(env);
        Py_XDECREF(mod);
        Py_XDECREF(mname);
    }
    Py_XDECREF(key);
    Py_XDECREF(bkey);
    PyErr_Clear(); /* nothing to remove */
}

/* The flags python3 reads before its configuration (-X utf8, -X dev, -E,
 * -I): the pre-initialization, done before anything decodes a byte string. */
static int
pre_initialize(const struct vt_cli_list *flags)
{
    PyPreConfig pre;
    PyPreConfig_InitPythonConfig(&pre);
    pre.parse_argv = 0;
    for (size_t i = 0; i < flags->n; i++) {
        char f = flags->items[i][1];
        if ((f == 'X' || f == 'W') && i + 1 < flags->n) {
            const char *value = flags->items[++i];
            if (f == 'X' && strcmp(value, "utf8") == 0)
                pre.utf8_mode = 1;
            else if (f == 'X' && strncmp(value, "utf8=", 5) == 0)
                pre.utf8_mode = strcmp(value + 5, "0") != 0;
            else if (f == 'X' && strcmp(value, "dev") == 0)
                pre.dev_mode = 1;
        } else if (f == 'E' || f == 'I') {
            pre.use_environment = 0;
            pre.isolated = f == 'I';
        }
    }
    PyStatus st = Py_PreInitialize(&pre);
    if (!PyStatus_Exception(st))
        return 0;
    vt_log_error("viztracer: cannot start Python: %s", st.err_msg ? st.err_msg : "unknown error");
    return -1;
}

static int
start_python(const struct vt_options *o)
{
    if (pre_initialize(&o->interp_flags) < 0)
        return -1;
    PyConfig config;
    PyConfig_InitPythonConfig(&config);
    config.parse_argv = 0;
    /* sys.path[0] is set later (embed_main.c), as python3 would for the
     * target, unless -P, -I or PYTHONSAFEPATH ask for none (sys.flags.safe_path). */
    char exe[PATH_MAX];
    /* A python child runs as the program it was started as (its ._pth,
     * pyvenv.cfg and sys.executable), as under python3 (_children.py). */
    const char *python =
        o->python_executable ? o->python_executable : vt_embed_python_executable(exe, sizeof(exe));
    PyStatus st = PyConfig_SetBytesString(&config, &config.program_name, python);
    if (check(st, &config) < 0)
        return -1;
    st = PyConfig_SetBytesString(&config, &config.executable, python);
    if (check(st, &config) < 0)
        return -1;
    st = PyConfig_SetBytesArgv(&config, o->argc, o->argv);
    if (check(st, &config) < 0)
        return -1;
    st = set_orig_argv(&config, python, o);
    if (check(st, &config) < 0)
        return -1;
    st = apply_flags(&config, &o->interp_flags);
    if (check(st, &config) < 0)
        return -1;
    /* -X warn_default_encoding is read from the command line only when
     * PyConfig parses it (CPython's pre-command line), else from the
     * environment: it goes there for the start-up alone. */
    int wde = has_xoption(&o->interp_flags, "warn_default_encoding") &&
              getenv("PYTHONWARNDEFAULTENCODING") == NULL;
    if (wde)
        setenv("PYTHONWARNDEFAULTENCODING", "1", 1);
    st = Py_InitializeFromConfig(&config);
    if (wde) {
        unsetenv("PYTHONWARNDEFAULTENCODING");
        forget_env("PYTHONWARNDEFAULTENCODING");
    }
    if (check(st, &config) < 0)
        return -1;
    PyConfig_Clear(&config);
    return 0;
}

enum vt_err
vt_embed_find_glue(char *out, size_t len)
{
    char exe[PATH_MAX];
    ssize_t n = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (n <= 0)
        return VT_ERR_NOFILE;
    exe[n] = '\0';
    char *slash = strrchr(exe, '/');
    if (slash == NULL)
        return VT_ERR_NOFILE;
    *slash = '\0';
    static const char *const rel[] = {"/../python/viztracer", "/../lib/viztracer/python/viztracer"};
    for (size_t i = 0; i < sizeof(rel) / sizeof(rel[0]); i++) {
        char init[PATH_MAX + 64];
        int n1 = snprintf(out, len, "%s%s", exe, rel[i]);
        int n2 = snprintf(init, sizeof(init), "%s/__init__.py", out);
        if (n1 > 0 && (size_t)n1 < len && n2 > 0 && (size_t)n2 < sizeof(init) &&
            access(init, R_OK) == 0)
            return VT_OK;
    }
    return VT_ERR_NOFILE;
}

/* Loads the glue package in folder glue as sys.modules["viztracer"], as
 * importlib.util.spec_from_file_location() and module_from_spec() do for a
 * package, without touching sys.path. Both come from the import system's
 * frozen modules, which every interpreter has loaded: importing
 * importlib.util would add modules python3 -c does not import (3.12+).
 * Returns 0, or -1 with an exception set. */
static int
load_glue(const char *glue)
{
    int rc = -1;
    PyObject *fn = NULL, *args = NULL, *kw = NULL, *spec = NULL, *mod = NULL; /* new refs */
    PyObject *r = NULL;                                                       /* new ref */
    PyObject *ext = PyImport_ImportModule("_frozen_importlib_external");      /* new ref */
    PyObject *util = PyImport_ImportModule("_frozen_importlib");              /* new ref */
    if (ext == NULL || util == NULL)
        goto out;
    fn = PyObject_GetAttrString(ext, "spec_from_file_location");
    args = Py_BuildValue("(sN)", "viztracer", PyUnicode_FromFormat("%s/__init__.py", glue));
    kw = Py_BuildValue("{s:[s]}", "submodule_search_locations", glue);
    if (fn == NULL || args == NULL || kw == NULL)
        goto out;
    spec = PyObject_Call(fn, args, kw);
    mod = spec ? PyObject_CallMethod(util, "module_from_spec", "O", spec) : NULL;
    if (mod == NULL || PyDict_SetItemString(PyImport_GetModuleDict(), "viztracer", mod) < 0)
        goto out;
    PyObject *loader = PyObject_GetAttrString(spec, "loader"); /* new ref */
    r = loader ? PyObject_CallMethod(loader, "exec_module", "O", mod) : NULL;
    Py_XDECREF(loader);
    rc = r ? 0 : -1;
out:
    Py_XDECREF(r);
    Py_XDECREF(mod);
    Py_XDECREF(spec);
    Py_XDECREF(kw);
    Py_XDECREF(args);
    Py_XDECREF(fn);
    Py_XDECREF(util);
    Py_XDECREF(ext);
    return rc;
}

/* Makes `import viztracer` work without touching sys.path: our C module
 * goes into sys.modules as viztracer._core, and the glue package is loaded
 * from its folder. Without the glue nothing runs: preparing __main__ and
 * following children are its modules' work (_run.py, _fork.py). */
static PyObject *
install_package(void)
{
    char glue[PATH_MAX];
    if (vt_embed_find_glue(glue, sizeof(glue)) != VT_OK) {
        PyErr_SetString(PyExc_ImportError,
                        "its Python package (viztracer/__init__.py) is not beside this executable");
        return NULL;
    }
    PyObject *core = PyInit__core(); /* new ref */
    if (core == NULL)
        return NULL;
    PyObject *modules = PyImport_GetModuleDict(); /* borrowed */
    if (PyDict_SetItemString(modules, VT_TRACER_MODULE, core) < 0 || load_glue(glue) < 0)
        goto fail;
    return core;
fail:
    Py_DECREF(core);
    return NULL;
}

/* ---- the tracer ------------------------------------------------------ */

/* A VizTracer configured from the command line. New ref, or NULL with an
 * exception set. */
static PyObject *
create_tracer(PyObject *core, const struct vt_options *o, const char *output)
{
    PyObject *kw = vt_embed__kwargs(o, VT_OPT_EMBED, output); /* new ref */
    if (kw == NULL)
        return NULL;
    PyObject *t = NULL;
    PyObject *empty = PyTuple_New(0);                           /* new ref */
    PyObject *type = PyObject_GetAttrString(core, "VizTracer"); /* new ref */
    if (empty && type)
        t = PyObject_Call(type, empty, kw); /* new ref */
    Py_XDECREF(empty);
    Py_XDECREF(type);
    Py_DECREF(kw);
    return t;
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

/* stop() with SIGTERM held back: removing the profile hook raises an audit
 * event, whose Python hooks would run SIGTERM's handler (ours, or a child's
 * save-and-die one) in the middle of the stop. A pending SIGTERM is handled
 * after it, at the next check. */
static int
stop_tracing(PyObject *tracer)
{
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old);
    int rc = call_method(tracer, "stop");
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return rc;
}

/* Waits for non-daemon threads, as interpreter shutdown would, while
 * tracing still runs so their events are kept; the waiting itself is not
 * the program's and is paused out of the trace. SIGTERM while waiting
 * ends the wait, and the process dies by it after saving (*signo). */
static void
join_threads(PyObject *tracer, int *signo)
{
    /* As Py_FinalizeEx: only a program that imported threading has threads to wait for. */
    PyObject *name = PyUnicode_FromString("threading");           /* new ref */
    PyObject *threading = name ? PyImport_GetModule(name) : NULL; /* new ref */
    Py_XDECREF(name);
    if (threading == NULL) {
        PyErr_Clear();
        return;
    }
    call_method(tracer, "pause");
    if (call_method(threading, "_shutdown") < 0) {
        /* Ctrl+C or SIGTERM while waiting: stop waiting, still save */
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        PyErr_NormalizeException(&et, &ev, &tb);
        if (vt_embed__is_sigterm_exit(ev))
            *signo = SIGTERM;
        Py_XDECREF(et);
        Py_XDECREF(ev);
        Py_XDECREF(tb);
    }
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

/* Crash-safe tracing (tracer.h): a supervisor writes the trace if the
 * program dies before saving; a child of a traced program writes its part
 * into the children's folder, as its own save would. Without it (no memfd)
 * the run goes on as before. */
static void
arm_crash(const struct vt_options *o, const char *output, const char *dir, vt_tracer_html_fn html)
{
    char *path = NULL, *marker = NULL; /* owned */
    if (o->subprocess_child) {
        if (dir == NULL)
            return; /* no children scheme: the parent would not look for our trace */
        size_t n = strlen(dir) + 64;
        path = vt_xmalloc(n);
        marker = vt_xmalloc(n);
        snprintf(path, n, "%s/result_%ld.json", dir, (long)getpid());
        snprintf(marker, n, "%s/%ld.viztmp", dir, (long)getpid());
    } else {
        path = o->pid_suffix ? vt_format_pid_path(output, (long)getpid()) : vt_xstrdup(output);
    }
    if (vt_tracer_crash_arm(path, marker, dir, o->subprocess_child ? NULL : html,
                            o->subprocess_child ? NULL : vt_children_finish_crash) != VT_OK &&
        !o->quiet)
        vt_log_error("viztracer: crash-safe tracing is off (no shared memory or supervisor)");
    free(path);
    free(marker);
}

static int
run_traced(const struct vt_options *o, const char *script_path, const char *output,
           vt_tracer_html_fn html, int *signo)
{
    pid_t me = getpid();
    PyObject *core = install_package(); /* new ref */
    if (core == NULL) {
        vt_embed__report("cannot load the viztracer module");
        return 1;
    }
    /* __main__ first: sys.path[0] is then set, so plugins and the program's
     * own modules import as they would under python3. */
    PyObject *main_mod = PyImport_AddModule("__main__");                /* borrowed */
    PyObject *main_dict = main_mod ? PyModule_GetDict(main_mod) : NULL; /* borrowed */
    PyObject *code =
        main_dict ? vt_embed__prepare_main(o, script_path, main_dict) : NULL; /* new ref */
    if (code == NULL) {
        Py_DECREF(core);
        if (!PyErr_Occurred())
            return 1; /* already reported */
        return vt_embed__status_of_exception(signo);
    }
    PyObject *tracer = create_tracer(core, o, output); /* new ref */
    Py_DECREF(core);
    if (tracer == NULL) {
        Py_DECREF(code);
        vt_embed__report(NULL);
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
    if (vt_embed__install_sigterm(o->ignore_multiprocess) < 0)
        PyErr_Clear(); /* no SIGTERM handler: a terminated run is lost, the rest works */
    char *dir = NULL;  /* owned */
    PyObject *fork_ns =
        o->ignore_multiprocess ? NULL : vt_embed__fork_setup(tracer, o, &dir); /* new ref */
    if (fork_ns == NULL) {
        /* No children traced: pools that follow init_kwargs (loky) are told. */
        PyObject *none = PyUnicode_FromString(""); /* new ref */
        if (none == NULL || PyObject_SetAttrString(tracer, "_child_output", none) < 0)
            PyErr_Clear();
        Py_XDECREF(none);
    }
    arm_crash(o, output, dir, html);
    /* The program's code runs from here, with no frame of ours below it
     * (tracebacks, faulthandler and traceback.print_stack() show python3's
     * frames), after tracer.start(); builtins.exec is recorded around it
     * as the outermost call, as VizTracer's exec(code) from its own Python
     * gives. */
    pthread_sigmask(SIG_SETMASK, &saved_mask, NULL);
    PyObject *r = NULL; /* new ref */
    uint64_t root = 0;
    if (o->log_sparse || o->patch_only || call_method(tracer, "start") == 0) {
        PyObject *exec_fn = PyDict_GetItemString(PyEval_GetBuiltins(), "exec"); /* borrowed */
        if (exec_fn && !o->log_sparse && !o->patch_only)
            root = vt_tracer_enter_builtin(tracer, exec_fn);
        if (PyCode_Check(code))
            r = PyEval_EvalCode(code, main_dict, main_dict);
        else
            PyErr_SetString(PyExc_TypeError, "the program did not compile to a code object");
        vt_tracer_leave_builtin(tracer, root);
    }
    Py_DECREF(code);
    int status = 0;
    if (r == NULL) {
        /* Printing the traceback is not the program's work: keep it out. */
        PyObject *et, *ev, *tb;
        PyErr_Fetch(&et, &ev, &tb);
        if (call_method(tracer, "pause") < 0)
            PyErr_Clear();
        PyErr_Restore(et, ev, tb);
        status = vt_embed__status_of_exception(signo);
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
            join_threads(tracer, signo);
            if (!o->log_exit && stop_tracing(tracer) < 0)
                PyErr_Clear();
            if (run_atexit() < 0)
                PyErr_Clear(); /* atexit reports its handlers' errors itself */
            if (vt_embed__call_helper(fork_ns, "save_child", NULL) < 0)
                PyErr_Clear(); /* save_child catches everything; nothing to add */
        }
        Py_XDECREF(fork_ns);
        free(dir);
        Py_DECREF(tracer);
        return status;
    }
    join_threads(tracer, signo);
    if (!o->log_exit && stop_tracing(tracer) < 0)
        PyErr_Clear();
    if (run_atexit() < 0)
        PyErr_Clear(); /* atexit reports its handlers' errors itself */
    if (o->log_exit && stop_tracing(tracer) < 0)
        PyErr_Clear();
    if (!o->quiet) /* VizTracer's line before its save (stdout, overwritten by the summary) */
        vt_format_progress("Saving trace data, this could take a while");
    if (fork_ns && vt_children_forked(dir)) {
        if (vt_embed__save_with_children(o, fork_ns, dir, output, html) < 0 && status == 0)
            status = 1;
    } else if (call_method(tracer, "save") < 0) {
        vt_embed__report("cannot save the trace");
        if (status == 0)
            status = 1;
    }
    Py_XDECREF(fork_ns);
    vt_children_dir_remove(dir);
    free(dir);
    if (call_method(tracer, "terminate") < 0) {
        vt_embed__report("a plugin failed");
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
