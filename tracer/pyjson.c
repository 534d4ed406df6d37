/* pyjson.c: Python values for the trace: reprs that never raise (kept in
 * events' args while tracing) and cJSON trees made from values (at dump
 * time, for args and the custom events of the Python API). The bottom of
 * the tracer's Python code: it calls no other tracer file. Needs the GIL.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <math.h>

/* Longest repr kept, in characters; longer ones are cut. */
#define VT_REPR_MAX 4096

PyObject *
vt_tracer__safe_repr(PyObject *obj)
{
    PyObject *r = PyObject_Repr(obj); /* new ref */
    if (r == NULL || !PyUnicode_Check(r)) {
        /* A Ctrl+C that arrived during repr must still stop the program:
         * it is raised again at the next check instead of being lost. */
        if (r == NULL && PyErr_ExceptionMatches(PyExc_KeyboardInterrupt))
            PyErr_SetInterrupt();
        Py_XDECREF(r);
        PyErr_Clear(); /* a repr that raises or returns a non-str is shown as such */
        r = PyUnicode_FromString("Not Displayable");
    }
    /* Every logged repr is kept until the save: a huge one (a list of a
     * million items passed to every call) would exhaust memory. */
    Py_ssize_t n = r ? PyUnicode_GET_LENGTH(r) : 0;
    if (n > VT_REPR_MAX) {
        PyObject *head = PyUnicode_Substring(r, 0, VT_REPR_MAX); /* new ref */
        PyObject *cut = head ? PyUnicode_FromFormat("%U... (%zd characters)", head, n) : NULL;
        Py_XDECREF(head);
        Py_SETREF(r, cut);
    }
    return r;
}

PyObject *
vt_tracer__loaded_module(const char *name)
{
    PyObject *n = PyUnicode_FromString(name); /* new ref */
    if (n == NULL)
        return NULL;
    PyObject *m = PyImport_GetModule(n); /* new ref or NULL */
    Py_DECREF(n);
    return m;
}

/* ---- cJSON trees ---------------------------------------------------- */

#define MAX_NESTING 64 /* deeper values are written as their repr */

static cJSON *convert(PyObject *obj, int depth);

static cJSON *
from_text(PyObject *s)
{
    Py_ssize_t n;
    const char *u = PyUnicode_AsUTF8AndSize(s, &n);
    if (u != NULL)
        return cJSON_CreateString(u);
    PyErr_Clear(); /* lone surrogates: keep them visible, escaped */
    PyObject *b = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace"); /* new ref */
    if (b == NULL) {
        PyErr_Clear();
        return cJSON_CreateString("?");
    }
    cJSON *out = cJSON_CreateString(PyBytes_AS_STRING(b));
    Py_DECREF(b);
    return out;
}

static cJSON *
from_repr(PyObject *obj)
{
    PyObject *r = vt_tracer__safe_repr(obj); /* new ref */
    if (r == NULL) {
        PyErr_Clear();
        return cJSON_CreateString("Not Displayable");
    }
    cJSON *out = from_text(r);
    Py_DECREF(r);
    return out;
}

static cJSON *
from_key(PyObject *key)
{
    return PyUnicode_Check(key) ? from_text(key) : from_repr(key);
}

static cJSON *
convert(PyObject *obj, int depth)
{
    if (obj == Py_None)
        return cJSON_CreateNull();
    if (PyBool_Check(obj))
        return cJSON_CreateBool(obj == Py_True);
    if (PyLong_Check(obj)) {
        /* Exact decimal text: a double would round large integers. */
        PyObject *s = PyObject_Str(obj); /* new ref */
        if (s == NULL) {
            PyErr_Clear();
            return cJSON_CreateNull();
        }
        cJSON *out = cJSON_CreateRaw(PyUnicode_AsUTF8(s));
        Py_DECREF(s);
        return out;
    }
    if (PyFloat_Check(obj)) {
        double d = PyFloat_AS_DOUBLE(obj);
        if (!isfinite(d))
            return cJSON_CreateNull();    /* JSON has no NaN or infinity */
        PyObject *r = PyObject_Repr(obj); /* new ref; shortest round-trip text */
        if (r == NULL) {
            PyErr_Clear();
            return cJSON_CreateNumber(d);
        }
        cJSON *out = cJSON_CreateRaw(PyUnicode_AsUTF8(r));
        Py_DECREF(r);
        return out;
    }
    if (PyUnicode_Check(obj))
        return from_text(obj);
    if (depth >= MAX_NESTING)
        return from_repr(obj);
    if (PyDict_Check(obj)) {
        cJSON *o = cJSON_CreateObject();
        PyObject *k, *v;
        Py_ssize_t pos = 0;
        while (PyDict_Next(obj, &pos, &k, &v)) {
            cJSON *key = from_key(k);
            const char *ks = cJSON_GetStringValue(key);
            cJSON_AddItemToObject(o, ks ? ks : "?", convert(v, depth + 1));
            cJSON_Delete(key);
        }
        return o;
    }
    if (PyList_Check(obj) || PyTuple_Check(obj)) {
        cJSON *a = cJSON_CreateArray();
        PyObject *seq = PySequence_Fast(obj, "sequence"); /* new ref */
        if (seq == NULL) {
            PyErr_Clear();
            return a;
        }
        for (Py_ssize_t i = 0; i < PySequence_Fast_GET_SIZE(seq); i++)
            cJSON_AddItemToArray(a, convert(PySequence_Fast_GET_ITEM(seq, i), depth + 1));
        Py_DECREF(seq);
        return a;
    }
    return from_repr(obj);
}

cJSON *
vt_tracer__to_json(PyObject *obj)
{
    cJSON *out = convert(obj, 0);
    return out ? out : cJSON_CreateNull();
}
