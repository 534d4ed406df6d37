/* hook.c: what the hot path (hook.h) shares between the hook mechanisms
 * and does out of line: the process-wide hook state, the file filter's slow
 * path, and recording the calls still open when a session ends.
 *
 * The interpreter calls each hook mechanism (profile.c, evalframe.c) for
 * every event; those call the static inline functions of hook.h, which call
 * back here only on a filter cache miss. session.c starts and stops the
 * mechanisms and writes vt_tracer__hook_state.
 */
#include "hook.h"

struct vt_hook_state vt_tracer__hook_state;

struct vt_tracer *
vt_tracer__active(void)
{
    return vt_tracer__hook_state.active;
}

/* ---- the file filter ------------------------------------------------ */

/* The folder of our Python files with a trailing '/', owned; NULL until the
 * package tells us. Protected by the GIL. */
static char *glue_dir;
static size_t glue_len;

int
vt_tracer__glue_known(void)
{
    return glue_dir != NULL;
}

PyObject *
vt_tracer__set_glue_dir(PyObject *self, PyObject *arg)
{
    (void)self;
    Py_ssize_t n;
    const char *s = PyUnicode_Check(arg) ? PyUnicode_AsUTF8AndSize(arg, &n) : NULL;
    if (s == NULL) {
        PyErr_SetString(PyExc_TypeError, "a folder path is needed");
        return NULL;
    }
    char *copy = PyMem_RawMalloc((size_t)n + 2);
    if (copy == NULL)
        return PyErr_NoMemory();
    memcpy(copy, s, (size_t)n);
    copy[n] = '/';
    copy[n + 1] = '\0';
    PyMem_RawFree(glue_dir);
    glue_dir = copy;
    glue_len = (size_t)n + 1;
    Py_RETURN_NONE;
}

static int
starts_with_any(PyObject *list, const char *s, Py_ssize_t n)
{
    for (Py_ssize_t i = 0; i < PyList_GET_SIZE(list); i++) {
        Py_ssize_t plen;
        const char *p = PyUnicode_AsUTF8AndSize(PyList_GET_ITEM(list, i), &plen);
        if (p == NULL) {
            PyErr_Clear(); /* a prefix that cannot be encoded matches nothing */
            continue;
        }
        if (plen <= n && memcmp(s, p, (size_t)plen) == 0)
            return 1;
    }
    return 0;
}

/* Decides whether code from this file is skipped with its whole subtree. */
static int
judge_file(struct vt_tracer *t, PyObject *filename)
{
    Py_ssize_t n;
    const char *s = PyUnicode_AsUTF8AndSize(filename, &n);
    if (s == NULL) {
        PyErr_Clear(); /* an unencodable file name is simply not filtered */
        return 0;
    }
    if ((t->flags & VT_F_IGNORE_FROZEN) && strncmp(s, "<frozen", 7) == 0)
        return 1;
    if ((t->flags & VT_F_GLUE) && glue_dir && (size_t)n >= glue_len &&
        memcmp(s, glue_dir, glue_len) == 0)
        return 1;
    if ((t->flags & VT_F_INCLUDE) &&
        (t->include_files == NULL || !starts_with_any(t->include_files, s, n)))
        return 1;
    if ((t->flags & VT_F_EXCLUDE) && t->exclude_files && starts_with_any(t->exclude_files, s, n))
        return 1;
    return 0;
}

int
vt_tracer__filter_miss(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co)
{
    PyObject *fn = co->co_filename;
    size_t h = ((uintptr_t)fn >> 4) & (VT_FCACHE_SIZE - 1);
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    int v = judge_file(t, fn);
    PyErr_Restore(et, ev, tb);
    Py_INCREF(fn);
    Py_XSETREF(th->fkey[h], fn);
    th->fval[h] = (uint8_t)v;
    if (v == 0)
        vt_tracer__crash_names_miss(co); /* once per file: its names for a crash trace */
    return v;
}

/* ---- the end of a session ------------------------------------------- */

void
vt_tracer__hook_finish(struct vt_tracer *t, int64_t now)
{
    /* Calls still open are recorded as finished now, innermost first. */
    for (struct vt_thread *th = t->threads; th; th = th->next) {
        while (th->depth > 0) {
            struct vt_frame *fr = &th->stack[--th->depth];
            if (fr->what == 0 || now - fr->start < t->min_dur_ticks) {
                vt_tracer__frame_drop(fr);
                continue;
            }
            if (fr->args && (t->flags & VT_F_SHARE_ARGS))
                vt_tracer__crash_render(fr->args, fr->start); /* as a return would */
            vt_tracer__record(th, fr, now);
        }
        th->ignore = 0;
        th->task = 0;
    }
}
