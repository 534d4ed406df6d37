/* hook_floor.c: the cost of each hook mechanism with almost nothing in it,
 * a floor for tracer/'s hooks (bench/floor/hook_floor.sh builds and runs it).
 *
 * hook_floor.set(mode) installs, for the calling interpreter:
 *   0  nothing (removes what an earlier call installed)
 *   1  a PEP 523 frame-evaluation function that only calls the default one
 *   2  the same, reading the TSC before and after and storing the difference
 *   3  a profile hook (PyEval_SetProfile) that returns at once
 *   4  a profile hook that stores one TSC reading per event
 * and hook_floor.empty / hook_floor.rec are METH_FASTCALL functions to
 * register as sys.monitoring callbacks (3.12+): rec stores one TSC reading.
 * The stores go to a small static ring, so that the compiler keeps them.
 */
#define PY_SSIZE_T_CLEAN
#include <Python.h> /* struct _PyInterpreterFrame is only passed through */

#if defined(__x86_64__) || defined(__i386__)
#include <x86intrin.h>
static inline unsigned long long
ticks(void)
{
    return __rdtsc();
}
#else
#include <time.h>
static inline unsigned long long
ticks(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (unsigned long long)ts.tv_sec * 1000000000ull + (unsigned long long)ts.tv_nsec;
}
#endif

static unsigned long long ring[1 << 16];
static unsigned idx;

static PyObject *
eval_empty(PyThreadState *ts, struct _PyInterpreterFrame *f, int throwflag)
{
    return _PyEval_EvalFrameDefault(ts, f, throwflag);
}

static PyObject *
eval_rec(PyThreadState *ts, struct _PyInterpreterFrame *f, int throwflag)
{
    unsigned long long s = ticks();
    PyObject *r = _PyEval_EvalFrameDefault(ts, f, throwflag);
    ring[idx++ & 0xffff] = (ticks() - s) ^ (unsigned long long)(uintptr_t)r;
    return r;
}

static int
prof_empty(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    (void)what;
    (void)arg;
    return 0;
}

static int
prof_rec(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg)
{
    (void)obj;
    (void)frame;
    ring[idx++ & 0xffff] = ticks() ^ (unsigned long long)(uintptr_t)arg ^ (unsigned)what;
    return 0;
}

static PyObject *
set(PyObject *self, PyObject *arg)
{
    (void)self;
    long mode = PyLong_AsLong(arg);
    if (mode == -1 && PyErr_Occurred())
        return NULL;
    PyInterpreterState *interp = PyInterpreterState_Get();
    _PyInterpreterState_SetEvalFrameFunc(interp, _PyEval_EvalFrameDefault);
    PyEval_SetProfile(NULL, NULL);
    if (mode == 1)
        _PyInterpreterState_SetEvalFrameFunc(interp, eval_empty);
    else if (mode == 2)
        _PyInterpreterState_SetEvalFrameFunc(interp, eval_rec);
    else if (mode == 3)
        PyEval_SetProfile(prof_empty, NULL);
    else if (mode == 4)
        PyEval_SetProfile(prof_rec, NULL);
    Py_RETURN_NONE;
}

static PyObject *
mon_empty(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)args;
    (void)n;
    Py_RETURN_NONE;
}

static PyObject *
mon_rec(PyObject *self, PyObject *const *args, Py_ssize_t n)
{
    (void)self;
    (void)n;
    ring[idx++ & 0xffff] = ticks() ^ (unsigned long long)(uintptr_t)args[0];
    Py_RETURN_NONE;
}

static PyMethodDef methods[] = {
    {"set", set, METH_O, "installs hook mode 0-4 (see hook_floor.c)"},
    {"empty", (PyCFunction)(void (*)(void))mon_empty, METH_FASTCALL, "does nothing"},
    {"rec", (PyCFunction)(void (*)(void))mon_rec, METH_FASTCALL, "stores a TSC reading"},
    {NULL, NULL, 0, NULL},
};

static struct PyModuleDef module = {
    PyModuleDef_HEAD_INIT, "hook_floor", NULL, -1, methods, NULL, NULL, NULL, NULL};

PyMODINIT_FUNC PyInit_hook_floor(void);

PyMODINIT_FUNC
PyInit_hook_floor(void)
{
    return PyModule_Create(&module);
}
