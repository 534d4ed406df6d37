/* internal.h: what the tracer's files share with each other (vt_tracer__*).
 *
 * struct vt_tracer is the VizTracer Python object itself: the options the hook
 * reads on every event come first, then the cold settings and the list of
 * per-thread states. Only one tracer collects at a time (the interpreter has
 * one profile hook); vt_tracer__hook_state points to it.
 *
 * The files call each other one way (each only those after it):
 *   module.c (type, settings, init) -> api.c (methods) -> decorators.c
 *   -> session.c (start/stop, threading bootstrap)
 *   -> evalframe.c, profile.c (one file per hook mechanism; each includes
 *      hook.h, the hot path as static inline functions)
 *   -> extras.c, capture.c (exceptions, print/gc/audit; args, retval)
 *   -> hook.c (hook state, filter slow path) -> thread.c (state, TLS
 *      lookup, custom events) -> ring.c -> spool.c (tracer_entries=0);
 *   api.c -> dump.c -> names.c, writer.c, thread.c. pyjson.c (reprs,
 *   cJSON) and clock.c are used at every level and use nothing of ours.
 *
 * Include this only from files that use CPython: it includes Python.h.
 */
#ifndef VT_TRACER_INTERNAL_H
#define VT_TRACER_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include <pthread.h>
#include <stdint.h>

#include "clock.h"
#include "event.h"
#include "ring.h"

/* Option bits the hook tests with one AND (as SNAPTRACE_* in VizTracer). */
enum vt_flag {
    VT_F_IGNORE_C = 1u << 0,      /* --ignore_c_function */
    VT_F_INCLUDE = 1u << 1,       /* --include_files */
    VT_F_EXCLUDE = 1u << 2,       /* --exclude_files */
    VT_F_IGNORE_FROZEN = 1u << 3, /* --ignore_frozen */
    VT_F_LOG_ARGS = 1u << 4,      /* --log_func_args */
    VT_F_LOG_RETVAL = 1u << 5,    /* --log_func_retval */
    VT_F_VDB = 1u << 6,           /* --vdb: record the caller's line of every call */
    VT_F_LOG_EXC = 1u << 7,       /* --log_exception: exceptions leaving functions */
    VT_F_GLUE = 1u << 8,          /* skip our own Python files (not with trace_self) */
    VT_F_ASYNC = 1u << 9,         /* --log_async: asyncio tasks get tracks of their own */
    VT_F_SHARE_ARGS = 1u << 10,   /* crash-safe: render finished calls' args into the area */
};
#define VT_F_FILTER (VT_F_INCLUDE | VT_F_EXCLUDE | VT_F_IGNORE_FROZEN | VT_F_GLUE)
#define VT_F_ARGS (VT_F_LOG_ARGS | VT_F_LOG_RETVAL)

/* Deepest call stack a thread records; deeper calls are counted, not kept. */
#define VT_STACK_MAX 65536

/* The hook's depth limit for a max_stack_depth setting (-1 = none): one
 * comparison on every call covers both the setting and the stack's size. */
static inline uint32_t
vt_tracer__depth_limit(long max_stack_depth)
{
    return max_stack_depth < 0 || max_stack_depth > VT_STACK_MAX ? VT_STACK_MAX
                                                                 : (uint32_t)max_stack_depth;
}

/* The hook's depth limit for a max_stack_depth setting counted from base
 * open calls (a forked child counts from the fork: marks.c). */
static inline uint32_t
vt_tracer__depth_from(long max_stack_depth, uint32_t base)
{
    uint32_t d = vt_tracer__depth_limit(max_stack_depth);
    return d == VT_STACK_MAX || d + base >= VT_STACK_MAX ? VT_STACK_MAX : d + base;
}

/* Entries of the per-thread file-filter cache (a power of two). */
#define VT_FCACHE_SIZE 64

/* One call that has not returned yet. */
struct vt_frame {
    int64_t start;       /* ticks at entry */
    uintptr_t what;      /* tagged pointer as in struct vt_event, owning the code object of a
                            Python call (an open call can outlive its code: on 3.11 a program
                            that starts cProfile replaces our hook, and the returns of the
                            calls open then never come); 0 = glue, not recorded */
    PyObject *args;      /* owned dict of logged arguments, or NULL */
    PyObject *extra;     /* borrowed C owner (module name or type) for C calls */
    int32_t caller_line; /* line of the call in the caller (vdb mode), or -1 */
};

/* Releases what an open call fr holds when it is dropped unrecorded. */
static inline void
vt_tracer__frame_drop(struct vt_frame *fr)
{
    Py_CLEAR(fr->args);
    if (fr->what != 0 && (fr->what & VT_EVENT_KIND_MASK) == VT_EVENT_PY)
        Py_DECREF((PyObject *)fr->what);
    fr->what = 0;
}

/* Releases the references of an event whose what and extra were these
 * (a full ring reads them before it overwrites the slot). Inline: a full
 * ring releases the event it overwrites on every call. */
static inline void
vt_tracer__held_release(uintptr_t what, void *extra)
{
    if ((what & VT_EVENT_KIND_MASK) == VT_EVENT_PY)
        Py_XDECREF((PyObject *)(what & ~(uintptr_t)VT_EVENT_KIND_MASK));
    Py_XDECREF((PyObject *)extra);
}

/* Releases the references a finished event holds. */
static inline void
vt_tracer__event_release(struct vt_event *e)
{
    vt_tracer__held_release(e->what, e->extra);
    e->extra = NULL;
}

/* Entries of the per-thread (code, instruction) -> line cache of vdb mode. */
#define VT_LCACHE_SIZE 256

struct vt_line_cache {
    void *code; /* borrowed code object address (key; the caller is alive then) */
    int lasti;  /* instruction offset in code units (key) */
    int line;   /* its line number */
};

/* Per-thread state. Written by its own thread while tracing (the hot path
 * takes no lock); read and reset by the tracer with the GIL held while the
 * thread is outside the hook. Lives until the tracer is destroyed, also after
 * the thread exits, because its ring holds that thread's events. */
struct vt_thread {
    uint32_t ignore;                /* open calls being skipped (filtered subtree, pause) */
    uint32_t depth;                 /* open recorded calls, index of the next frame */
    uint32_t paused;                /* pause() nesting count */
    uint32_t reentrant;             /* > 0 while the hook runs Python code (repr) */
    struct vt_frame *stack;         /* owned, mmap'd, VT_STACK_MAX frames */
    struct vt_ring ring;            /* owned; finished events */
    PyObject *fkey[VT_FCACHE_SIZE]; /* owned filenames of the filter cache */
    uint8_t fval[VT_FCACHE_SIZE];   /* 1 = filtered out, for fkey[i] */
    struct vt_line_cache *lcache;   /* owned, VT_LCACHE_SIZE entries, vdb mode only */
    uint32_t task;                  /* track of the asyncio task running now, or 0 */
    uint32_t task_depth;            /* stack index of the frame that entered the task */
    long tid;                       /* OS thread id (gettid) */
    unsigned long ident;            /* threading.get_ident() of the thread */
    PyObject *name;                 /* owned str, thread name, or NULL until known */
    struct vt_thread *next;         /* next in the tracer's list; protected by the GIL */
    size_t chunk_len;               /* bytes of the mapping this state starts (crash.c) */
    uint32_t shm_slot;              /* index + 1 in the shared area's thread table, 0 = private */
};

struct vt_tracer {
    PyObject_HEAD
        /* hot: read on every event; written with the GIL held */
        unsigned flags;    /* enum vt_flag bits */
    uint32_t max_depth;    /* calls at depth >= this are skipped; <= VT_STACK_MAX */
    int64_t min_dur_ticks; /* events shorter than this are dropped */
    int collecting;        /* 1 between start() and stop() */
    uint64_t serial;       /* unique per tracer object; matches the thread-local cache */
    /* settings */
    uint64_t entries;           /* ring capacity in events (tracer_entries); 0 = keep every
                                   event (spool.h) */
    long max_stack_depth;       /* as given, -1 = unlimited */
    double min_duration_us;     /* as given, microseconds */
    int verbose;                /* 0 = silent */
    int pid_suffix;             /* append _<pid> to the output stem */
    int file_info;              /* write file_info on save */
    int register_global;        /* set builtins.__viz_tracer__ */
    int log_sparse;             /* only @log_sparse functions are recorded */
    int trace_self;             /* also trace our own code */
    int log_print;              /* print() becomes instant events */
    int log_gc;                 /* garbage collections become counter events */
    int sanitize_function_name; /* drop builtin names with non-printable bytes (names.c) */
    int args_added;             /* add_func_args() was called: calls may carry args */
    int minimize_memory;        /* accepted as VizTracer's; the dump always streams */
    int dump_raw;               /* accepted as VizTracer's; each process writes its own trace */
    PyObject *log_audit;        /* owned list of compiled patterns ([] = all), or NULL = off */
    PyObject *log_func_repr;    /* owned callable giving the text of logged args and return
                                   values (log_func_repr, or objprint's format for
                                   log_func_with_objprint), or NULL = repr() */
    int log_func_with_objprint; /* log_func_repr is viztracer._objstr.objstr */
    PyObject *afterfork;        /* owned (callback, args, kwargs) of set_afterfork(), or NULL */
    PyObject *plugins;          /* owned viztracer.vizplugin.PluginManager, or NULL */
    PyObject *task_names;       /* owned dict: task track (int) -> task name, or NULL */
    PyObject *include_files;    /* owned list of str, or NULL */
    PyObject *exclude_files;    /* owned list of str, or NULL */
    PyObject *output_file;      /* owned str */
    PyObject *process_name;     /* owned str, or NULL for the default */
    PyObject *child_output;     /* owned str: init_kwargs' output_file in the launcher's scheme for
                                   child processes (their own results folder), "" when the launcher
                                   traces no children (init_kwargs then raises), or NULL */
    PyObject *data;             /* owned dict from parse(), or NULL */
    /* state */
    struct vt_thread *threads;          /* owned list; protected by the GIL */
    struct vt_clock_anchor first_start; /* taken by the first start() */
    int anchored;                       /* first_start is valid */
    int64_t stop_ticks;                 /* ticks at the last stop() */
    int64_t sync_marker_ns;             /* CLOCK_MONOTONIC ns of set_sync_marker(), 0 = unset */
    uint32_t fork_depth;                /* in a forked child, the calls open in its thread at
                                           the fork: max_stack_depth counts from there */
    uint64_t dropped;                   /* events dropped since the last save, to keep entries */
    int overflow;                       /* a ring wrapped since the last dump */
    int spool_lost;                     /* tracer_entries=0 could not be set up for a thread
                                           (out of memory): it kept a ring; reported at save */
    uint64_t untraced_threads;          /* threads whose state could not be created (out of
                                           memory): their events are lost, they are not
                                           retried, and every save reports them; protected
                                           by the GIL */
};

/* The hook's depth limit of t's max_stack_depth (after a fork, from it). */
static inline uint32_t
vt_tracer__tracer_depth(const struct vt_tracer *t)
{
    return vt_tracer__depth_from(t->max_stack_depth, t->fork_depth);
}

/* ---- hooks: how a hook mechanism plugs into the hot path ------------
 *
 * A hook mechanism is one small file per way of hearing about calls:
 * profile.c (PyEval_SetProfile: Python and C calls), evalframe.c (PEP 523:
 * Python frames at full speed); a sys.monitoring hook for 3.12+ is one more
 * such file. Its callback, run by the interpreter with the GIL:
 *   1. finds the tracer: from the hook's own argument when it has one, or
 *      vt_tracer__hook_state.active (NULL = none); returns unless
 *      t->collecting;
 *   2. finds the thread: th = vt_tracer__thread(t) (below; one thread-local
 *      load and compare). NULL means this thread cannot be traced (its
 *      registration failed; thread.c counted it): return. th->reentrant > 0
 *      means the hot path itself is running Python code (a repr): return;
 *   3. calls, from hook.h (static inline, so they are inlined into the
 *      callback): vt_tracer__hook_call() when a Python call starts (code
 *      object and frame), vt_tracer__hook_c_call() for a builtin,
 *      vt_tracer__hook_return() when either ends; for log_async,
 *      vt_tracer__task_await() before the return of a suspended coroutine;
 *   4. never fails, never allocates (except the captures behind flags), and
 *      leaves Python's error state as it found it.
 * The file also has start/stop functions, declared below, that session.c
 * calls with the GIL to install it for the interpreter and remove it. */

/* The hooks' process-wide state. The interpreter's hooks take no argument
 * (PEP 523) or one the threading bootstrap cannot know, so this one
 * variable is shared between files. Written by session.c, read by every
 * hook; protected by the GIL. */
struct vt_hook_state {
    struct vt_tracer *active; /* the collecting tracer, strong reference while set; or NULL */
    uint64_t session;         /* bumped by every start and stop, so that a frame entered in
                                 an earlier session does not pop a frame of the current one */
};
extern struct vt_hook_state vt_tracer__hook_state __attribute__((visibility("hidden")));

/* hook.c */
/* The tracer that is collecting, or NULL. Borrowed. */
struct vt_tracer *vt_tracer__active(void);
/* Records the calls still open in every thread as finished at now (ticks),
 * innermost first, and resets the threads' skip counters. Needs the GIL. */
void vt_tracer__hook_finish(struct vt_tracer *t, int64_t now);
/* Whether our Python glue files are known (viztracer/__init__.py told us). */
int vt_tracer__glue_known(void);
/* _set_glue_dir(path): module function telling where our Python files are. */
PyObject *vt_tracer__set_glue_dir(PyObject *self, PyObject *path);

/* profile.c */
/* The profile callback (a Py_tracefunc); obj is the tracer. */
int vt_tracer__profile(PyObject *obj, PyFrameObject *frame, int what, PyObject *arg);
/* Installs the profile hook for t on every thread state of interp; removes it. */
void vt_tracer__profile_start(struct vt_tracer *t, PyInterpreterState *interp);
void vt_tracer__profile_stop(PyInterpreterState *interp);
/* Marks our module and types: C calls bound to them are never recorded.
 * Either may be NULL. Needs the GIL. */
void vt_tracer__hook_own(PyObject *module, PyTypeObject *type);
/* Our module and types (module.c's tracer type, decorators.c's two), as
 * vt_tracer__hook_own() set them; borrowed. Written once at import. */
struct vt_own {
    PyObject *module;
    PyTypeObject *types[4]; /* NULL = unused slot */
};
extern struct vt_own vt_tracer__own __attribute__((visibility("hidden")));
/* Whether self (a builtin method's object) is our module or one of our
 * objects, whose C calls are not recorded. On every C call: five compares,
 * no loop, no branch. */
static inline int
vt_tracer__is_own(PyObject *self)
{
    const struct vt_own *o = &vt_tracer__own;
    PyTypeObject *tp = Py_TYPE(self);
    return (self == o->module) | (tp == o->types[0]) | (tp == o->types[1]) | (tp == o->types[2]) |
           (tp == o->types[3]);
}

/* handoff.c */
/* Puts our sys.setprofile (and on 3.11 sys.getprofile) in sys, once: the
 * program's profile function then takes over without seeing the end of its
 * own sys.setprofile call, and getprofile() gives None for our hook, as
 * untraced. Errors are cleared (tracing goes on). Needs the GIL. */
void vt_tracer__handoff_install(void);

/* hook_monitor.c: the sys.monitoring hook, the only one on 3.12 and later */
#if PY_VERSION_HEX >= 0x030C0000
#define VT_HAVE_MONITORING 1
/* Registers our tool and callbacks for t's options (every thread of the
 * interpreter). Returns 0, or -1 with an exception set. Needs the GIL. */
int vt_tracer__monitor_start(struct vt_tracer *t);
/* Unregisters them; keeps a pending exception. Needs the GIL. */
void vt_tracer__monitor_stop(void);
#else
#define VT_HAVE_MONITORING 0
#endif

/* evalframe.c */
/* Installs the frame-evaluation hook for interp; restores the default. */
void vt_tracer__evalframe_start(PyInterpreterState *interp);
void vt_tracer__evalframe_stop(PyInterpreterState *interp);

/* session.c */
/* Starts a session: installs the hooks for the calling and every existing
 * thread, and the threading hook for threads started later. Returns 0, or
 * -1 with an exception set. Needs the GIL. */
int vt_tracer__hook_start(struct vt_tracer *t);
/* Ends the session: removes every hook; unfinished calls are recorded as
 * finished now. Needs the GIL. */
void vt_tracer__hook_stop(struct vt_tracer *t);
/* Hooks the calling thread (for threads not started by threading) and
 * learns its name. Needs the GIL. */
void vt_tracer__hook_thread(struct vt_tracer *t);
/* Python callable for threading.setprofile: learns the thread's name and hooks
 * the thread. Borrowed reference, valid while the module lives. */
extern PyMethodDef vt_tracer__bootstrap_def;

/* thread.c */
/* The calling thread's cached state. Owned by its thread. */
struct vt_tls {
    struct vt_thread *thread; /* this thread's state for the tracer below */
    uint64_t serial;          /* serial of that tracer, 0 = none; a serial rather than a
                                 pointer, as a destroyed tracer's memory may be reused */
};
/* initial-exec: a plain %fs-relative load instead of a __tls_get_addr call on
 * every event; the block is 16 bytes, well inside the static TLS surplus that
 * glibc keeps for dlopen'ed modules such as our extension. */
extern _Thread_local struct vt_tls vt_tracer__tls
    __attribute__((tls_model("initial-exec"), visibility("hidden")));
/* Creates the calling thread's state for t and caches it. When out of
 * memory, counts the thread in t->untraced_threads and caches NULL, so that
 * the thread's later events cost one compare and it is never retried (as
 * _lsprof.c's POF_NOMEMORY). Returns the state or NULL. Needs the GIL. */
struct vt_thread *vt_tracer__thread_register(struct vt_tracer *t);
/* Reads th's name from threading if it is still unknown (a thread's first
 * event comes before threading lists it). Needs the GIL; can't fail. */
void vt_tracer__thread_name_retry(struct vt_thread *th);
/* Settles the calling thread's cache slot tls for the tracer of serial
 * after a registration attempt that produced th (NULL = failed, counted in
 * *untraced). Pure C, so that the unit tests check it without an
 * interpreter. Can't fail. */
static inline void
vt_tracer__tls_settle(struct vt_tls *tls, uint64_t serial, struct vt_thread *th, uint64_t *untraced)
{
    if (th == NULL)
        (*untraced)++;
    tls->thread = th;
    tls->serial = serial;
}
/* The calling thread's state for t, registering it first if needed; NULL when
 * this thread cannot be traced (out of memory). Hot path. Needs the GIL. */
static inline struct vt_thread *
vt_tracer__thread(struct vt_tracer *t)
{
    if (vt_tracer__tls.serial == t->serial)
        return vt_tracer__tls.thread;
    return vt_tracer__thread_register(t);
}
/* Records a custom event (instant, counter, object, raw) owned by the tracer
 * from now on: steals the reference to dict. raw = 1 keeps the dict as the
 * event (ts given by the user). Needs the GIL. */
void vt_tracer__push_custom(struct vt_tracer *t, PyObject *dict, int raw);
/* Releases what the events r spooled hold (read back from the file) and
 * forgets them; nothing for a plain ring. Needs the GIL. */
void vt_tracer__spool_release(struct vt_ring *r);
/* Releases what every event held and empties the rings. Needs the GIL. */
void vt_tracer__threads_clear(struct vt_tracer *t);
/* Frees every thread state. Needs the GIL. */
void vt_tracer__threads_destroy(struct vt_tracer *t);
/* Drops the filter cache of every thread. */
void vt_tracer__fcache_clear(struct vt_tracer *t);
/* tracer._after_fork(): in a forked child, drops the parent's buffered
 * events and the states of threads the child does not have, and takes the
 * child's thread id for the calling thread; its open calls stay open. Needs
 * the GIL. Returns None; can't fail. */
PyObject *vt_tracer__after_fork(struct vt_tracer *t, PyObject *unused);
/* marks.c: set_sync_marker(), get_sync_marker(), set_afterfork() and
 * _after_fork() (vt_tracer__after_fork, then the fork's depth and the
 * callback), for the methods table of api.c. */
PyObject *vt_tracer__set_sync_marker(struct vt_tracer *t, PyObject *unused);
PyObject *vt_tracer__get_sync_marker(struct vt_tracer *t, PyObject *unused);
PyObject *vt_tracer__set_afterfork(struct vt_tracer *t, PyObject *args, PyObject *kw);
PyObject *vt_tracer__forked(struct vt_tracer *t, PyObject *unused);
/* marks.c: _name_shared(name), the process name of a crash trace. */
PyObject *vt_tracer__name_shared(struct vt_tracer *t, PyObject *name);

/* crash.c: the crash-safe shared area (crash.h has the rest) */
/* A zeroed thread state with its stack and a ring of cap events, in the
 * shared area when there is one (and room), else private memory. NULL
 * when out of memory. */
struct vt_thread *vt_tracer__thread_alloc(uint64_t cap);
/* Unmaps a state from vt_tracer__thread_alloc (and frees its entry). */
void vt_tracer__thread_release(struct vt_thread *th);
/* Copies th's thread id and name into the area's thread table. Needs the GIL. */
void vt_tracer__thread_shared(struct vt_thread *th);
/* The filter's slow path met co's file: registers co, its nested code and
 * the running module's functions in the name log. Needs the GIL; leaves
 * the pending exception as it was; runs no Python code. */
void vt_tracer__crash_names_miss(PyCodeObject *co);
/* Registers the functions of every loaded module. Needs the GIL. */
void vt_tracer__crash_names_start(void);
/* armed = 1: t records (a death now must be written by the supervisor);
 * 0: what t recorded is saved. Needs the GIL. */
void vt_tracer__crash_state(struct vt_tracer *t, int armed);
/* crash_raw.c: renders dict d, the args or custom event of the event that
 * started at start, as JSON into the area's extras log, reading the objects
 * without allocating or calling Python code (values other than dicts,
 * lists, tuples, str, int, float, bool and None become null); nothing when
 * there is no area or d is not a dict. Async-signal-safe (the fatal
 * handler uses it too); can't fail (a dict too large for the log is lost,
 * and counted by the reader). */
void vt_tracer__crash_render(PyObject *d, int64_t start);
/* The bit of t->flags that has finished calls' args rendered into the area
 * (VT_F_SHARE_ARGS) when there is an area and args may be recorded, else 0. */
unsigned vt_tracer__crash_share(const struct vt_tracer *t);
/* The process name a trace written from the area carries (this process's
 * area and the areas it makes later), until the next call; a tracer's own
 * process_name, copied at vt_tracer__crash_state, wins. Needs the GIL. */
void vt_tracer__crash_set_name(const char *name);
/* In a forked child of an armed process (thread.c's _after_fork): an area
 * and a supervisor of its own, t's states moved into it. Needs the GIL. */
void vt_tracer__crash_child(struct vt_tracer *t);

/* exit.c: VizTracer.register_exit(): save at the process's exit. */
PyObject *vt_tracer__register_exit(struct vt_tracer *t, PyObject *unused);

/* install.c */
/* tracer.install(): SIGUSR1 starts, SIGUSR2 stops and saves. Returns None, or
 * NULL with an exception set (signal.signal refuses outside the main
 * thread). Needs the GIL. */
PyObject *vt_tracer__install(PyObject *self, PyObject *unused);

/* extras.c */
/* Wires print, gc and audit logging in / out as t asks. Need the GIL. */
int vt_tracer__extras_start(struct vt_tracer *t);
void vt_tracer__extras_stop(struct vt_tracer *t);
/* Records the pending exception leaving the function of code co as an
 * instant event; the exception stays pending. Needs the GIL. */
void vt_tracer__log_exception(struct vt_tracer *t, struct vt_thread *th, PyCodeObject *co);
/* tracer._log_raise(exc): what the script's `raise exc` calls under
 * --log_exception (codemonkey.py): records the exception where it is raised
 * and returns what raise is to raise (exc's instance). METH_O. */
PyObject *vt_tracer__log_raise(struct vt_tracer *t, PyObject *exc);

/* api.c: plugins */
/* Tells the plugins (if any) that tracing reached `when`. Returns 0, or -1
 * with an exception set. Needs the GIL. */
int vt_tracer__plugin_event(struct vt_tracer *t, const char *when);

/* dump.c */
/* Writes every buffered event to path (.json or .gz), then empties the
 * buffers. Sets a Python exception and returns -1 on failure; on success
 * *count is the number of events written. Needs the GIL. */
int vt_tracer__dump(struct vt_tracer *t, const char *path, uint64_t *count);

/* pyjson.c */
/* repr() that never raises: "Not Displayable" when repr fails. New ref or
 * NULL on out-of-memory. Runs Python code; callers guard re-entry. */
PyObject *vt_tracer__safe_repr(PyObject *obj);
/* sys.modules[name] if that module is loaded (new ref), else NULL, perhaps
 * with an exception set. Needs the GIL. */
PyObject *vt_tracer__loaded_module(const char *name);
struct cJSON;
/* Converts a Python value to a cJSON tree (dicts, lists, tuples, str, int,
 * float, bool, None; anything else becomes its repr). Returns an owned tree;
 * never NULL. Needs the GIL; clears any exception a repr raised. */
struct cJSON *vt_tracer__to_json(PyObject *obj);

/* names.c */
struct vt_names;
struct vt_names *vt_names_create(int sanitize);
void vt_names_destroy(struct vt_names *n);
/* The escaped, quoted JSON name of a function event; borrowed, valid until
 * vt_names_destroy(). Needs the GIL. */
const char *vt_names_get(struct vt_names *n, const struct vt_event *e, size_t *len);
/* Adds file_info ({"files":..,"functions":..}) for every Python function seen
 * by vt_names_get() to obj. Needs the GIL. */
void vt_names_file_info(struct vt_names *n, struct cJSON *obj);

/* api.c */
extern PyMethodDef vt_tracer__methods[];   /* VizTracer methods */
extern PyMethodDef vt_tracer__functions[]; /* module-level functions */
/* Makes tracer the global one (builtins.__viz_tracer__). Needs the GIL. */
int vt_tracer__register_global(PyObject *tracer);

/* decorators.c */
/* Readies the helper types, given the VizTracer type (borrowed, static);
 * adds log_sparse, ignore_function, trace_and_save and the log_event context
 * manager type to module m. */
int vt_tracer__decorators_ready(PyTypeObject *tracer_type);
int vt_tracer__decorators_add(PyObject *m);
/* tracer.log_event(name): a new context manager, or NULL with an exception. */
PyObject *vt_tracer__event_ctx(struct vt_tracer *t, PyObject *name);

/* module.c */
extern PyTypeObject vt_tracer__type;

#endif
