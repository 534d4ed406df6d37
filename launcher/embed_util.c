/* embed_util.c: the helpers every embedding file uses (internal.h,
 * "helpers"): the VizTracer() keywords of the options as a dict, one-line
 * reports of our own failures, and calls into the glue's scheme objects.
 *
 * It is the bottom of the launcher's embedding files, which call each other
 * one way: embed.c -> embed_main.c, embed_children.c -> embed_util.c.
 */
#include "internal.h"

#include "../tracer/base/log.h"

/* One keyword of vt_cli_kwargs() into the dict ctx. */
static enum vt_err
put_kwarg(void *ctx, const char *name, const struct vt_cli_value *v)
{
    PyObject *value = NULL; /* new ref */
    switch (v->type) {
    case VT_CLI_V_BOOL:
        value = PyBool_FromLong((long)v->i);
        break;
    case VT_CLI_V_INT:
        value = PyLong_FromLongLong(v->i);
        break;
    case VT_CLI_V_FLOAT:
        value = PyFloat_FromDouble(v->f);
        break;
    case VT_CLI_V_STR:
        value = v->s ? PyUnicode_DecodeFSDefault(v->s) : (Py_INCREF(Py_None), Py_None);
        break;
    case VT_CLI_V_LIST:
        if (!v->list->set) {
            value = Py_None;
            Py_INCREF(value);
            break;
        }
        value = PyList_New((Py_ssize_t)v->list->n);
        for (size_t i = 0; value && i < v->list->n; i++) {
            PyObject *s = PyUnicode_DecodeFSDefault(v->list->items[i]); /* new ref */
            if (s == NULL)
                Py_CLEAR(value);
            else
                PyList_SET_ITEM(value, (Py_ssize_t)i, s); /* steals s */
        }
        break;
    }
    int rc = value ? PyDict_SetItemString(ctx, name, value) : -1;
    Py_XDECREF(value);
    return rc == 0 ? VT_OK : VT_ERR_PYTHON;
}

PyObject *
vt_embed__kwargs(const struct vt_options *o, unsigned to, const char *output)
{
    PyObject *kw = PyDict_New(); /* new ref */
    if (kw && vt_cli_kwargs(o, to, output, put_kwarg, kw) != VT_OK)
        Py_CLEAR(kw);
    return kw;
}

/* Prints the pending exception as one line (our own failure, not the
 * program's) and clears it. */
void
vt_embed__report(const char *what)
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

/* Calls scheme.name() or scheme.name(path). Returns 0, or -1 with an
 * exception set. */
int
vt_embed__call_helper(PyObject *scheme, const char *name, const char *path)
{
    PyObject *r = path ? PyObject_CallMethod(scheme, name, "s", path)
                       : PyObject_CallMethod(scheme, name, NULL); /* new ref */
    Py_XDECREF(r);
    return r ? 0 : -1;
}
