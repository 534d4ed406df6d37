/* crash.c: the traced side of the crash-safe shared area (shm.h).
 *
 * One area per process, made by vt_tracer_crash_arm() (the launcher, before
 * the program runs) or again in a forked child of an armed process. It
 * holds every thread state created after it (thread.c asks here for the
 * memory of a state, its stack and its ring, in one chunk), and a log of
 * function names appended once per function: when the filter's slow path
 * (hook.c) meets a file for the first time it registers that code object,
 * the code objects nested in it and the functions, classes and builtins of
 * the module it runs in; the modules already loaded are registered when
 * tracing starts. Every registered code object and C owner is kept alive
 * (a strong reference) so that its address, the log's key, is not reused
 * while the process runs. What the log lacks at a fatal signal is named by
 * the handler (supervise.c) from the objects themselves.
 *
 * Fork: the child must not write into its parent's area. Before fork the
 * states are copied (the GIL holder forks, so no hook is writing); in the
 * child, right after fork and before any Python code, each chunk is
 * replaced by private memory holding that copy with an empty ring, and the
 * area is let go; _after_fork (thread.c) then makes the child an area of
 * its own and moves the surviving state into it.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stddef.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "crash.h"
#include "format/format.h"
#include "spool.h"

struct vt_crash vt_tracer__crash;

#define PAGE 4096u
#define ROUND(x) (((x) + PAGE - 1) & ~(size_t)(PAGE - 1))
#define HDR_SIZE ROUND(sizeof(struct vt_shm_header))
#define NAMES_CAP ((size_t)64 << 20)
#define EXTRAS_CAP ((size_t)256 << 20) /* sparse: used as args and custom events are recorded */
/* Room for thread states, mapped once (sparse: memory is used as rings
 * fill), so that the process needs no file descriptor of ours after the
 * supervisor has started: a program sees the files it opened, no more. */
#define CHUNK_SPACE ((size_t)16 << 30)
#define LOGS_END (HDR_SIZE + NAMES_CAP + EXTRAS_CAP)

/* ---- our files ---------------------------------------------------------- */

int
vt_tracer__crash_fd_high(int fd)
{
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, VT_CRASH_FD_MIN);
    if (hi < 0)
        return fd; /* a low limit on open files: keep the number we have */
    close(fd);
    return hi;
}

/* ---- chunks ------------------------------------------------------------ */

static size_t
chunk_len(uint64_t cap, size_t *stack_at, size_t *slots_at)
{
    *stack_at = ROUND(sizeof(struct vt_thread));
    *slots_at = *stack_at + ROUND((size_t)VT_STACK_MAX * sizeof(struct vt_frame));
    return *slots_at + ROUND((size_t)cap * sizeof(struct vt_event));
}

/* The next len bytes of the area's chunk space; NULL when it is used up. */
static void *
area_grow(size_t len, uint64_t *off)
{
    struct vt_crash *g = &vt_tracer__crash;
    uint64_t at = g->hdr->size;
    if (len > g->map_len - at)
        return NULL;
    g->hdr->size = at + len;
    *off = at;
    return (char *)g->hdr + at;
}

struct vt_thread *
vt_tracer__thread_alloc(uint64_t cap)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (cap == 0)
        cap = 1;
    size_t stack_at, slots_at;
    size_t len = chunk_len(cap, &stack_at, &slots_at);
    int slot = -1;
    uint64_t off = 0;
    void *p = NULL;
    if (g->hdr) {
        for (int i = 0; i < VT_SHM_MAX_THREADS; i++)
            if (g->chunk[i] == NULL) {
                slot = i;
                break;
            }
        if (slot >= 0)
            p = area_grow(len, &off);
        if (p == NULL)
            slot = -1; /* no room in the area: a private state, lost in a crash */
    }
    if (p == NULL) {
        p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1,
                 0);
        if (p == MAP_FAILED)
            return NULL;
    }
    struct vt_thread *th = p; /* zeroed by the kernel */
    th->stack = (struct vt_frame *)(void *)((char *)p + stack_at);
    th->ring.slots = (struct vt_event *)(void *)((char *)p + slots_at);
    th->ring.cap = cap;
    th->ring.limit = cap;
    th->chunk_len = len;
    th->shm_slot = slot + 1;
    if (slot >= 0) {
        struct vt_shm_thread *e = &g->hdr->threads[slot];
        e->stack_off = off + stack_at;
        e->stack_max = VT_STACK_MAX;
        e->slots_off = off + slots_at;
        e->cap = cap;
        e->tid = 0;
        e->name[0] = '\0';
        g->chunk[slot] = th;
        g->chunk_off[slot] = off;
        __atomic_store_n(&e->off, off, __ATOMIC_RELEASE);
        if ((uint32_t)slot >= g->hdr->nthreads)
            g->hdr->nthreads = (uint32_t)slot + 1;
    }
    return th;
}

void
vt_tracer__thread_release(struct vt_thread *th)
{
    struct vt_crash *g = &vt_tracer__crash;
    size_t len = th->chunk_len;
    uint32_t slot = th->shm_slot;
    if (slot && g->hdr && g->chunk[slot - 1] == th) {
        uint64_t off = g->chunk_off[slot - 1];
        __atomic_store_n(&g->hdr->threads[slot - 1].off, 0, __ATOMIC_RELEASE);
        g->chunk[slot - 1] = NULL;
        (void)off;
        /* give the memory back; the range stays mapped, its offsets are not reused */
        madvise(th, len, MADV_REMOVE);
        return;
    }
    munmap(th, len);
}

void
vt_tracer__thread_shared(struct vt_thread *th)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (th->shm_slot == 0 || g->hdr == NULL || g->chunk[th->shm_slot - 1] != th)
        return;
    struct vt_shm_thread *e = &g->hdr->threads[th->shm_slot - 1];
    e->tid = th->tid;
    const char *name = th->name && PyUnicode_Check(th->name) ? PyUnicode_AsUTF8(th->name) : NULL;
    if (name == NULL)
        PyErr_Clear(); /* a name with surrogates: the default name in a crash trace */
    snprintf(e->name, sizeof(e->name), "%s", name ? name : "");
}

/* ---- names ------------------------------------------------------------- */

/* The key set: (what, owner) -> the object kept alive for it. */
static struct vt_crash_key *
key_slot(uintptr_t what, uintptr_t owner)
{
    struct vt_crash *g = &vt_tracer__crash;
    size_t j = vt_crash_key_hash(what, owner) & (g->keys_cap - 1);
    while (g->keys[j].what != 0 && (g->keys[j].what != what || g->keys[j].owner != owner))
        j = (j + 1) & (g->keys_cap - 1);
    return &g->keys[j];
}

/* Makes room for one more key; -1 when out of memory. */
static int
keys_reserve(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    if ((g->nkeys + 1) * 2 <= g->keys_cap)
        return 0;
    size_t cap = g->keys_cap ? g->keys_cap * 2 : 4096;
    struct vt_crash_key *tab = calloc(cap, sizeof(*tab));
    if (tab == NULL)
        return -1;
    struct vt_crash_key *old = g->keys;
    size_t oldcap = g->keys_cap;
    g->keys = tab;
    g->keys_cap = cap;
    for (size_t i = 0; i < oldcap; i++)
        if (old[i].what != 0)
            *key_slot(old[i].what, old[i].owner) = old[i];
    free(old);
    return 0;
}

/* UTF-8 of a str, surrogates escaped; "?" for anything else. Appends to b. */
static void
add_str(struct vt_buf *b, PyObject *s)
{
    Py_ssize_t len;
    const char *u = s && PyUnicode_Check(s) ? PyUnicode_AsUTF8AndSize(s, &len) : NULL;
    if (u) {
        vt_buf_add(b, u, (size_t)len);
        return;
    }
    PyErr_Clear();
    PyObject *bytes = s && PyUnicode_Check(s)
                          ? PyUnicode_AsEncodedString(s, "utf-8", "backslashreplace")
                          : NULL; /* new ref */
    PyErr_Clear();
    if (bytes)
        vt_buf_add(b, PyBytes_AS_STRING(bytes), (size_t)PyBytes_GET_SIZE(bytes));
    else
        vt_buf_adds(b, "?");
    Py_XDECREF(bytes);
}

int
vt_tracer__crash_log_name(uintptr_t what, uintptr_t owner, int line, const char *name,
                          size_t name_len, const char *file, size_t file_len)
{
    struct vt_crash *g = &vt_tracer__crash;
    struct vt_shm_header *h = g->hdr;
    if (h == NULL)
        return -1;
    size_t total = (sizeof(struct vt_shm_name) + name_len + file_len + 7) & ~(size_t)7;
    uint64_t used = h->names_used;
    if (name_len > UINT32_MAX || file_len > UINT32_MAX || total > h->names_cap - used) {
        h->unnamed_lost++;
        return -1;
    }
    unsigned char *p = g->names + used;
    struct vt_shm_name rec = {.what = what,
                              .owner = owner,
                              .line = line,
                              .name_len = (uint32_t)name_len,
                              .file_len = (uint32_t)file_len};
    memcpy(p, &rec, sizeof(rec));
    memcpy(p + sizeof(rec), name, name_len);
    if (file_len)
        memcpy(p + sizeof(rec) + name_len, file, file_len);
    __atomic_store_n(&h->names_used, used + total, __ATOMIC_RELEASE);
    return 0;
}

/* Writes the name of a registered key into the log. Needs the GIL. */
static void
log_key(const struct vt_crash_key *k)
{
    struct vt_buf name, file;
    vt_buf_init(&name, 1u << 16);
    vt_buf_init(&file, 1u << 16);
    int line = 0;
    if ((k->what & VT_EVENT_KIND_MASK) == VT_EVENT_PY) {
        PyCodeObject *co = (PyCodeObject *)k->obj;
        add_str(&name, co->co_qualname);
        add_str(&file, co->co_filename);
        line = co->co_firstlineno;
    } else {
        PyMethodDef *ml = (PyMethodDef *)(k->what & ~VT_EVENT_KIND_MASK);
        PyObject *owner = k->obj; /* borrowed from the key */
        if (owner && PyType_Check(owner)) {
            vt_buf_adds(&name, ((PyTypeObject *)owner)->tp_name);
            vt_buf_adds(&name, ".");
        } else if (owner && PyUnicode_Check(owner)) {
            add_str(&name, owner);
            vt_buf_adds(&name, ".");
        }
        vt_buf_adds(&name, ml->ml_name);
    }
    vt_tracer__crash_log_name(k->what, k->owner, line, name.data ? name.data : "", name.len,
                              file.data, file.len);
    vt_buf_fini(&name);
    vt_buf_fini(&file);
}

/* Registers (what, owner) keeping obj alive. Returns 1 when it is new. */
static int
register_key(uintptr_t what, uintptr_t owner, PyObject *obj)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (keys_reserve() < 0)
        return 0;
    struct vt_crash_key *k = key_slot(what, owner);
    if (k->what != 0)
        return 0;
    k->what = what;
    k->owner = owner;
    k->obj = obj;
    Py_XINCREF(obj);
    g->nkeys++;
    if ((what & VT_EVENT_KIND_MASK) != 2) /* 2: a walked namespace, not a function */
        log_key(k);
    return 1;
}

static void
register_code(PyCodeObject *co, int depth)
{
    if (!register_key((uintptr_t)co, 0, (PyObject *)co) || depth > 16)
        return; /* known: its nested code was registered with it */
    PyObject *consts = co->co_consts;
    if (consts == NULL || !PyTuple_Check(consts))
        return;
    for (Py_ssize_t i = 0; i < PyTuple_GET_SIZE(consts); i++) {
        PyObject *c = PyTuple_GET_ITEM(consts, i);
        if (PyCode_Check(c))
            register_code((PyCodeObject *)c, depth + 1);
    }
}

/* A builtin as hook.h's vt_tracer__hook_c_call keys it. */
static void
register_cfunc(PyObject *f)
{
    PyCFunctionObject *cf = (PyCFunctionObject *)f;
    PyObject *owner = cf->m_module;
    if (owner == NULL && cf->m_self != NULL)
        owner = (PyObject *)Py_TYPE(cf->m_self);
    register_key((uintptr_t)cf->m_ml | VT_EVENT_C, (uintptr_t)owner, owner);
}

/* A type's C methods, bound to an instance of it. */
static void
register_type(PyTypeObject *tp)
{
    for (PyMethodDef *ml = tp->tp_methods; ml && ml->ml_name; ml++)
        if (!(ml->ml_flags & (METH_CLASS | METH_STATIC)))
            register_key((uintptr_t)ml | VT_EVENT_C, (uintptr_t)tp, (PyObject *)tp);
}

/* The function a classmethod, staticmethod or property wraps (borrowed), or value. */
static PyObject *
unwrap(PyObject *value)
{
    if (Py_IS_TYPE(value, &PyClassMethod_Type) || Py_IS_TYPE(value, &PyStaticMethod_Type)) {
        PyObject *f =
            PyObject_GetAttrString(value, "__func__"); /* new ref; a member, no Python code */
        PyErr_Clear();
        Py_XDECREF(f); /* the wrapper keeps it alive */
        return f ? f : value;
    }
    if (Py_IS_TYPE(value, &PyProperty_Type)) {
        PyObject *f = PyObject_GetAttrString(value, "fget"); /* new ref */
        PyErr_Clear();
        Py_XDECREF(f);
        return f ? f : value;
    }
    return value;
}

/* One namespace: its functions, builtins, and classes (one level). */
static void
register_values(PyObject *dict, int depth)
{
    PyObject *key, *value;
    Py_ssize_t pos = 0;
    while (PyDict_Next(dict, &pos, &key, &value)) {
        value = unwrap(value);
        if (PyFunction_Check(value)) {
            PyObject *code = PyFunction_GET_CODE(value);
            if (code && PyCode_Check(code))
                register_code((PyCodeObject *)code, 0);
        } else if (PyCFunction_Check(value)) {
            register_cfunc(value);
        } else if (PyType_Check(value)) {
            PyTypeObject *tp = (PyTypeObject *)value;
            register_type(tp);
            if (depth == 0 && tp->tp_dict && register_key((uintptr_t)tp->tp_dict | 2, 1, NULL))
                register_values(tp->tp_dict, 1);
        }
    }
}

/* A module's globals, once. The dict is remembered by address under a key
 * no event uses, and not kept alive: holding a module's namespace would
 * keep its objects from being finalized at exit (their __del__ must run as
 * under python3). A new dict at a freed one's address is not walked; its
 * functions are still registered when their files are met. */
static void
register_globals(PyObject *globals)
{
    if (globals && PyDict_Check(globals) && register_key((uintptr_t)globals | 2, 0, NULL))
        register_values(globals, 0);
}

void
vt_tracer__crash_names_miss(PyCodeObject *co)
{
    if (vt_tracer__crash.hdr == NULL)
        return;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    register_code(co, 0);
    register_globals(PyEval_GetGlobals()); /* borrowed; the running frame's module */
    PyErr_Restore(et, ev, tb);
}

void
vt_tracer__crash_names_start(void)
{
    if (vt_tracer__crash.hdr == NULL)
        return;
    PyObject *et, *ev, *tb;
    PyErr_Fetch(&et, &ev, &tb);
    PyObject *modules = PyImport_GetModuleDict();             /* borrowed */
    PyObject *list = modules ? PyDict_Values(modules) : NULL; /* new ref: imports may run later */
    for (Py_ssize_t i = 0; list && i < PyList_GET_SIZE(list); i++) {
        PyObject *m = PyList_GET_ITEM(list, i);
        if (PyModule_Check(m))
            register_globals(PyModule_GetDict(m));
    }
    Py_XDECREF(list);
    PyErr_Clear();
    PyErr_Restore(et, ev, tb);
}

/* ---- state -------------------------------------------------------------- */

void
vt_tracer__crash_state(struct vt_tracer *t, int armed)
{
    struct vt_shm_header *h = vt_tracer__crash.hdr;
    if (h == NULL)
        return;
    if (armed && t->process_name && PyUnicode_Check(t->process_name)) {
        const char *s = PyUnicode_AsUTF8(t->process_name);
        if (s)
            snprintf(h->process_name, sizeof(h->process_name), "%s", s);
        PyErr_Clear();
    }
    for (struct vt_thread *th = t->threads; armed && th; th = th->next)
        vt_tracer__thread_shared(th);
    t->flags = (t->flags & ~(unsigned)VT_F_SHARE_ARGS) | vt_tracer__crash_share(t);
    __atomic_store_n(&h->state, armed ? VT_SHM_ARMED : VT_SHM_IDLE, __ATOMIC_RELEASE);
}

unsigned
vt_tracer__crash_share(const struct vt_tracer *t)
{
    if (vt_tracer__crash.hdr == NULL || !((t->flags & VT_F_ARGS) || t->args_added))
        return 0;
    return VT_F_SHARE_ARGS;
}

void
vt_tracer__crash_set_name(const char *name)
{
    struct vt_crash *g = &vt_tracer__crash;
    size_t n = strlen(name);
    if (n >= sizeof(g->process_name)) { /* cut at a character's start: the name stays UTF-8 */
        n = sizeof(g->process_name) - 1;
        while (n > 0 && ((unsigned char)name[n] & 0xC0) == 0x80)
            n--;
    }
    memcpy(g->process_name, name, n);
    g->process_name[n] = '\0';
    if (g->hdr)
        memcpy(g->hdr->process_name, g->process_name, sizeof(g->process_name));
}

/* ---- the area ----------------------------------------------------------- */

static void
set_paths(struct vt_shm_header *h, const char *output, const char *marker)
{
    snprintf(h->output, sizeof(h->output), "%s", output ? output : "");
    snprintf(h->marker, sizeof(h->marker), "%s", marker ? marker : "");
}

/* Makes a new area; 0, or -1 with errno. */
static int
area_create(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    int fd = memfd_create(VT_SHM_MEMFD_NAME, MFD_CLOEXEC);
    if (fd < 0)
        return -1;
    fd = vt_tracer__crash_fd_high(fd);
    struct stat st;
    if (fstat(fd, &st) < 0) {
        close(fd);
        return -1;
    }
    size_t len = LOGS_END + CHUNK_SPACE;
    if (ftruncate(fd, (off_t)len) < 0) {
        close(fd);
        return -1;
    }
    void *p = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_SHARED | MAP_NORESERVE, fd, 0);
    if (p == MAP_FAILED) {
        close(fd);
        return -1;
    }
    struct vt_shm_header *h = p;
    h->magic = VT_SHM_MAGIC;
    h->version = VT_SHM_VERSION;
    h->header_size = sizeof(*h);
    h->pid = (int64_t)getpid();
    vt_clock_anchor_take(&h->start);
    h->size = LOGS_END;
    h->names_off = HDR_SIZE;
    h->names_cap = NAMES_CAP;
    h->extras_off = HDR_SIZE + NAMES_CAP;
    h->extras_cap = EXTRAS_CAP;
    memcpy(h->process_name, g->process_name, sizeof(h->process_name));
    struct vt_shm_layout *l = &h->layout;
    l->thread_size = sizeof(struct vt_thread);
    l->th_depth = offsetof(struct vt_thread, depth);
    l->th_ring_pos = offsetof(struct vt_thread, ring) + offsetof(struct vt_ring, pos);
    l->th_ring_written = offsetof(struct vt_thread, ring) + offsetof(struct vt_ring, written);
    l->frame_size = sizeof(struct vt_frame);
    l->fr_start = offsetof(struct vt_frame, start);
    l->fr_what = offsetof(struct vt_frame, what);
    l->fr_extra = offsetof(struct vt_frame, extra);
    l->fr_caller_line = offsetof(struct vt_frame, caller_line);
    l->fr_args = offsetof(struct vt_frame, args);
    g->fd = fd;
    g->hdr = h;
    g->map_len = len;
    g->names = (unsigned char *)p + HDR_SIZE;
    memset(g->chunk, 0, sizeof(g->chunk));
    return 0;
}

/* Logs every registered key again (a forked child's new area). */
static void
relog_keys(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    for (size_t i = 0; i < g->keys_cap; i++)
        if (g->keys[i].what != 0 && (g->keys[i].what & 2) == 0)
            log_key(&g->keys[i]);
}

enum vt_err
vt_tracer_crash_arm(const char *output, const char *marker, const char *children_dir,
                    vt_tracer_html_fn html, vt_tracer_children_fn children)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (g->hdr != NULL || output == NULL)
        return VT_ERR_STATE;
    if (area_create() < 0)
        return VT_ERR_IO;
    set_paths(g->hdr, output, marker);
    free(g->children_dir);
    g->children_dir = children_dir ? strdup(children_dir) : NULL;
    g->html = html;
    g->children = marker ? NULL : children;
    if (vt_tracer__supervise_start() < 0) {
        vt_tracer__crash_drop();
        return VT_ERR_IO;
    }
    return VT_OK;
}

void
vt_tracer__crash_drop(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (g->hdr == NULL)
        return;
    munmap(g->hdr, g->map_len);
    if (g->fd >= 0)
        close(g->fd);
    g->hdr = NULL;
    g->names = NULL;
    g->fd = -1;
    memset(g->chunk, 0, sizeof(g->chunk));
}

/* ---- fork ----------------------------------------------------------------- */

void
vt_tracer__crash_prefork(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (g->hdr == NULL)
        return;
    for (int i = 0; i < VT_SHM_MAX_THREADS; i++) {
        struct vt_thread *th = g->chunk[i];
        g->copy[i] = NULL;
        if (th == NULL)
            continue;
        uint32_t depth = th->depth <= VT_STACK_MAX ? th->depth : VT_STACK_MAX;
        size_t n = sizeof(*th) + depth * sizeof(struct vt_frame);
        g->copy[i] = malloc(n); /* NULL: that state is lost in the child */
        if (g->copy[i]) {
            memcpy(g->copy[i], th, sizeof(*th));
            memcpy((char *)g->copy[i] + sizeof(*th), th->stack, depth * sizeof(struct vt_frame));
        }
    }
}

void
vt_tracer__crash_postfork_parent(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    for (int i = 0; i < VT_SHM_MAX_THREADS; i++) {
        free(g->copy[i]);
        g->copy[i] = NULL;
    }
}

void
vt_tracer__crash_postfork_child(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (g->hdr == NULL)
        return;
    g->armed_parent = 1;
    for (int i = 0; i < VT_SHM_MAX_THREADS; i++) {
        struct vt_thread *th = g->chunk[i];
        if (th == NULL || g->copy[i] == NULL)
            continue; /* no copy (out of memory before fork): the state stays shared */
        size_t len = th->chunk_len;
        /* private memory in place of the shared chunk, at the same address */
        void *p = mmap(th, len, PROT_READ | PROT_WRITE,
                       MAP_FIXED | MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
        if (p == MAP_FAILED)
            continue; /* cannot happen for a range we own; the state stays shared */
        uint32_t depth = g->copy[i]->depth <= VT_STACK_MAX ? g->copy[i]->depth : VT_STACK_MAX;
        memcpy(th, g->copy[i], sizeof(*th));
        memcpy(th->stack, (char *)g->copy[i] + sizeof(*th), depth * sizeof(struct vt_frame));
        /* the parent's events stay the parent's; what they hold is not
         * released in the child (a leak of references, not a double free) */
        vt_ring_reset_child(&th->ring);
        th->shm_slot = 0;
        free(g->copy[i]);
        g->copy[i] = NULL;
    }
    /* the rest of the parent's area goes: the gaps between the chunks
     * kept (private now), walked in address order */
    char *from = (char *)g->hdr, *end = (char *)g->hdr + g->map_len;
    for (;;) {
        char *next = end;
        for (int i = 0; i < VT_SHM_MAX_THREADS; i++) {
            char *c = (char *)g->chunk[i];
            if (c && c >= from && c < next)
                next = c;
        }
        if (next > from)
            munmap(from, (size_t)(next - from));
        if (next == end)
            break;
        from = next + ((struct vt_thread *)(void *)next)->chunk_len;
    }
    if (g->fd >= 0)
        close(g->fd);
    g->hdr = NULL;
    g->names = NULL;
    g->fd = -1;
    memset(g->chunk, 0, sizeof(g->chunk));
    vt_tracer__supervise_forget();
}

/* Moves th into the area (a copy with its open calls); returns the new
 * state, or th itself when the area has no room. */
static struct vt_thread *
move_in(struct vt_tracer *t, struct vt_thread *th)
{
    struct vt_thread *n = vt_tracer__thread_alloc(th->ring.cap);
    if (n == NULL || n->shm_slot == 0) {
        if (n)
            vt_tracer__thread_release(n);
        return th;
    }
    int spooled = th->ring.track != NULL;
    vt_spool_detach(&th->ring); /* its ring is empty (after _after_fork's clear) */
    struct vt_frame *stack = n->stack;
    struct vt_event *slots = n->ring.slots;
    size_t len = n->chunk_len;
    uint32_t slot = n->shm_slot;
    memcpy(n, th, sizeof(*n));
    n->stack = stack;
    n->ring.slots = slots;
    vt_ring_reset_child(&n->ring); /* track is NULL: a plain ring until attached */
    n->chunk_len = len;
    n->shm_slot = slot;
    if (spooled && vt_spool_attach(&n->ring) != VT_OK)
        t->spool_lost = 1;
    memcpy(n->stack, th->stack, th->depth * sizeof(struct vt_frame));
    munmap(th, th->chunk_len); /* private: no table entry */
    vt_tracer__thread_shared(n);
    return n;
}

void
vt_tracer__crash_child(struct vt_tracer *t)
{
    struct vt_crash *g = &vt_tracer__crash;
    if (!g->armed_parent || g->hdr != NULL)
        return;
    g->armed_parent = 0;
    if (g->children_dir == NULL)
        return; /* only the launcher's children scheme says where a child's trace goes */
    size_t len = strlen(g->children_dir) + 64;
    char *output = vt_xmalloc(len); /* owned, freed below */
    char *marker = vt_xmalloc(len); /* owned, freed below */
    snprintf(output, len, "%s/result_%ld.json", g->children_dir, (long)getpid());
    snprintf(marker, len, "%s/%ld.viztmp", g->children_dir, (long)getpid());
    if (area_create() == 0) {
        set_paths(g->hdr, output, marker);
        g->html = NULL;
        g->children = NULL; /* only the main program merges */
        relog_keys();
        for (struct vt_thread **link = &t->threads; *link; link = &(*link)->next) {
            struct vt_thread *old = *link;
            struct vt_thread *n = move_in(t, old);
            *link = n;
            if (vt_tracer__tls.thread == old)
                vt_tracer__tls.thread = n;
        }
        /* without a supervisor the states stay in the area, unwatched */
        if (vt_tracer__supervise_start() == 0)
            vt_tracer__crash_state(t, t->collecting);
    }
    free(output);
    free(marker);
}
