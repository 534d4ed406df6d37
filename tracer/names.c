/* names.c: function identity -> escaped JSON name, resolved once per
 * function at dump time, and the file_info section built from them.
 *
 * Python functions are named "qualname (file:line)" (co_qualname, as
 * VizTracer does on 3.11+); builtins "module.name" or "type.name". The
 * table is keyed by the event's pointers (code object; method def plus
 * owner), so millions of events cost one hash probe each.
 */
#include "internal.h"

#include <cjson/cJSON.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#include "base/buf.h"
#include "base/mem.h"
#include "format/format.h"

struct entry {
    uintptr_t what; /* key: tagged pointer (0 = empty slot) */
    void *owner;    /* key: C owner, NULL for Python functions */
    char *json;     /* owned, quoted and escaped name */
    size_t len;     /* strlen(json) */
    char *name;     /* owned UTF-8 name, Python functions only */
    char *file;     /* owned UTF-8 co_filename, Python functions only */
    int line;       /* co_firstlineno */
};

struct vt_names {
    struct entry *tab; /* owned, cap slots, open addressing */
    size_t cap;        /* a power of two */
    size_t n;          /* used slots */
    int sanitize;      /* --sanitize_function_name */
};

struct vt_names *
vt_names_create(int sanitize)
{
    struct vt_names *n = vt_xcalloc(1, sizeof(*n));
    n->sanitize = sanitize;
    n->cap = 1024;
    n->tab = vt_xcalloc(n->cap, sizeof(struct entry));
    return n;
}

void
vt_names_destroy(struct vt_names *n)
{
    if (n == NULL)
        return;
    for (size_t i = 0; i < n->cap; i++) {
        free(n->tab[i].json);
        free(n->tab[i].name);
        free(n->tab[i].file);
    }
    free(n->tab);
    free(n);
}

static size_t
hash(uintptr_t what, void *owner)
{
    uint64_t h = (uint64_t)what * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)(uintptr_t)owner * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

static void
grow(struct vt_names *n)
{
    struct entry *old = n->tab;
    size_t oldcap = n->cap;
    n->cap *= 2;
    n->tab = vt_xcalloc(n->cap, sizeof(struct entry));
    for (size_t i = 0; i < oldcap; i++) {
        if (old[i].what == 0)
            continue;
        size_t j = hash(old[i].what, old[i].owner) & (n->cap - 1);
        while (n->tab[j].what != 0)
            j = (j + 1) & (n->cap - 1);
        n->tab[j] = old[i];
    }
    free(old);
}

/* UTF-8 of a str; lone surrogates are escaped rather than failing. Appends
 * to b. Needs the GIL. */
static void
add_str(struct vt_buf *b, PyObject *s)
{
    if (s == NULL || !PyUnicode_Check(s)) {
        vt_buf_adds(b, "?");
        return;
    }
    Py_ssize_t len;
    const char *u = PyUnicode_AsUTF8AndSize(s, &len);
    if (u != NULL) {
        vt_buf_add(b, u, (size_t)len);
        return;
    }
    PyErr_Clear(); /* surrogates: fall back to an escaped form below */
    PyObject *bytes = PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace"); /* new ref */
    if (bytes == NULL) {
        PyErr_Clear();
        vt_buf_adds(b, "?");
        return;
    }
    vt_buf_add(b, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
    Py_DECREF(bytes);
}

static char *
escape(const char *s, size_t *len)
{
    cJSON *item = cJSON_CreateString(s);
    char *out = item ? cJSON_PrintUnformatted(item) : NULL;
    cJSON_Delete(item);
    if (out == NULL) {
        out = vt_xstrdup("\"?\"");
    }
    *len = strlen(out);
    return out;
}

/* VizTracer's --sanitize_function_name: a builtin's ml_name with a byte
 * that is not printable ASCII (Py_UNICODE_ISPRINTABLE of each signed char:
 * bytes of 0x80 and up fail it too) is left out of the name, and only its
 * owner's "module." or "type." remains. */
static int
printable_ascii(const char *s)
{
    for (; *s; s++)
        if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
            return 0;
    return 1;
}

static void
resolve(struct entry *en, const struct vt_event *e, int sanitize)
{
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    if (vt_event_kind(e) == VT_EVENT_PY) {
        PyCodeObject *co = vt_event_ptr(e);
        struct vt_buf f;
        vt_buf_init(&f, 1u << 20);
        add_str(&f, co->co_filename);
        add_str(&b, co->co_qualname);
        vt_buf_printf(&b, " (%s:%d)", f.data ? f.data : "", co->co_firstlineno);
        en->file = vt_buf_take(&f, NULL);
        en->line = co->co_firstlineno;
        en->name = vt_xstrdup(b.data ? b.data : "");
    } else {
        PyMethodDef *ml = vt_event_ptr(e);
        PyObject *owner = e->extra; /* borrowed */
        if (owner && PyType_Check(owner)) {
            vt_buf_adds(&b, ((PyTypeObject *)owner)->tp_name);
            vt_buf_adds(&b, ".");
        } else if (owner && PyUnicode_Check(owner)) {
            add_str(&b, owner);
            vt_buf_adds(&b, ".");
        } else if (owner) {
            PyObject *s = PyObject_Str(owner); /* new ref */
            if (s) {
                add_str(&b, s);
                vt_buf_adds(&b, ".");
            }
            Py_XDECREF(s);
            PyErr_Clear(); /* an owner without str(): the bare name is enough */
        }
        if (!sanitize || printable_ascii(ml->ml_name))
            vt_buf_adds(&b, ml->ml_name);
    }
    en->json = escape(b.data ? b.data : "", &en->len);
    vt_buf_fini(&b);
}

const char *
vt_names_get(struct vt_names *n, const struct vt_event *e, size_t *len)
{
    void *owner = vt_event_kind(e) == VT_EVENT_C ? e->extra : NULL;
    size_t j = hash(e->what, owner) & (n->cap - 1);
    while (n->tab[j].what != 0) {
        if (n->tab[j].what == e->what && n->tab[j].owner == owner) {
            *len = n->tab[j].len;
            return n->tab[j].json;
        }
        j = (j + 1) & (n->cap - 1);
    }
    struct entry *en = &n->tab[j];
    en->what = e->what;
    en->owner = owner;
    resolve(en, e, n->sanitize);
    *len = en->len;
    const char *json = en->json;
    if (++n->n * 2 > n->cap)
        grow(n);
    return json;
}

/* The file a frozen module's code came from ("<frozen importlib._bootstrap>"
 * -> that module's __file__), as VizTracer's report builder reads it. It
 * imports the module; we do not, so a module not in sys.modules under that
 * name (3.12 loads importlib._bootstrap as _frozen_importlib only) is found
 * where CPython sets a frozen module's __file__: under sys._stdlib_dir.
 * Owned string, or NULL. Needs the GIL. */
static char *
frozen_source(const char *path)
{
    size_t n = strlen(path);
    if (strncmp(path, "<frozen ", 8) != 0 || n < 10 || path[n - 1] != '>')
        return NULL;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *name = PyUnicode_FromStringAndSize(path + 8, (Py_ssize_t)(n - 9)); /* new ref */
    PyObject *mods = PySys_GetObject("modules");                                 /* borrowed */
    PyObject *mod = name && mods ? PyObject_GetItem(mods, name) : NULL;          /* new ref */
    PyObject *file = mod ? PyObject_GetAttrString(mod, "__file__") : NULL;       /* new ref */
    const char *s = file && PyUnicode_Check(file) ? PyUnicode_AsUTF8(file) : NULL;
    char *out = s ? vt_xstrdup(s) : NULL;
    PyErr_Clear();                                  /* not loaded, or no __file__ */
    PyObject *dir = PySys_GetObject("_stdlib_dir"); /* borrowed */
    const char *d = out == NULL && dir && PyUnicode_Check(dir) ? PyUnicode_AsUTF8(dir) : NULL;
    if (d) {
        /* <dir>/importlib/_bootstrap.py, or a package's __init__.py */
        size_t cap = strlen(d) + n + 16;
        out = vt_xmalloc(cap);
        int len = snprintf(out, cap, "%s/%.*s", d, (int)(n - 9), path + 8);
        for (char *c = out + strlen(d) + 1; *c; c++)
            *c = *c == '.' ? '/' : *c;
        snprintf(out + len, cap - (size_t)len, ".py");
        if (access(out, R_OK) != 0)
            snprintf(out + len, cap - (size_t)len, "/__init__.py");
    }
    Py_XDECREF(file);
    Py_XDECREF(mod);
    Py_XDECREF(name);
    PyErr_Clear(); /* out of memory: no source */
    PyErr_Restore(et, ev, tb);
    return out;
}

/* Adds files[path] = [source, newline count] when the file (for a frozen
 * module, its __file__) reads as UTF-8. Returns 1 when it was added. Called
 * once per path. */
static int
add_file(cJSON *files, const char *path)
{
    char *frozen = frozen_source(path); /* owned */
    int added = vt_format_add_source(files, path, frozen ? frozen : path);
    free(frozen);
    return added;
}

void
vt_names_file_info(struct vt_names *n, cJSON *obj)
{
    cJSON *files = cJSON_AddObjectToObject(obj, "files");
    cJSON *functions = cJSON_AddObjectToObject(obj, "functions");
    /* cJSON objects search linearly; a side table of files seen keeps this
     * linear in the number of functions. */
    struct vt_names *seen = vt_names_create(0);
    for (size_t i = 0; i < n->cap; i++) {
        struct entry *en = &n->tab[i];
        if (en->what == 0 || en->file == NULL)
            continue;
        /* Reuse the names table as a string set: key = a hash of the path. */
        uintptr_t key = 0;
        for (const char *p = en->file; *p; p++)
            key = key * 131 + (unsigned char)*p;
        key = (key << 2) | 4; /* never 0, never a real pointer tag clash */
        struct vt_event probe = {.what = key, .extra = NULL};
        size_t j = hash(probe.what, NULL) & (seen->cap - 1);
        int readable = -1;
        while (seen->tab[j].what != 0) {
            if (seen->tab[j].what == key && strcmp(seen->tab[j].file, en->file) == 0) {
                readable = seen->tab[j].line;
                break;
            }
            j = (j + 1) & (seen->cap - 1);
        }
        if (readable < 0) {
            readable = add_file(files, en->file);
            seen->tab[j].what = key;
            seen->tab[j].file = vt_xstrdup(en->file);
            seen->tab[j].line = readable;
            if (++seen->n * 2 > seen->cap)
                grow(seen);
        }
        if (!readable)
            continue;
        cJSON *pair = cJSON_CreateArray();
        cJSON_AddItemToArray(pair, cJSON_CreateString(en->file));
        cJSON_AddItemToArray(pair, cJSON_CreateNumber(en->line));
        cJSON_AddItemToObject(functions, en->name, pair);
    }
    vt_names_destroy(seen);
}
