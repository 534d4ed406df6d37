/* crash.h: crash-safe tracing, what crash.c and supervise.c share with
 * the tracer's other files.
 *
 * crash.c owns the shared area of this process (shm.h): the memory of the
 * thread states, the name log and the fork hand-over. crash_raw.c is what
 * the fatal-signal handler reads from Python objects (names, args, custom
 * events). supervise.c owns the supervisor process, the fatal-signal
 * handler and the fork hooks.
 */
#ifndef VT_TRACER_CRASH_H
#define VT_TRACER_CRASH_H

#include "internal.h"

#include <stddef.h>
#include <stdint.h>

#include "base/buf.h"
#include "base/mem.h"
#include "shm.h"
#include "tracer.h"

/* A registered function: the key the name log has it under, and the object
 * kept alive so the key's addresses are not reused. */
struct vt_crash_key {
    uintptr_t what;  /* the event's tagged pointer; 0 = empty slot */
    uintptr_t owner; /* C owner, 0 for Python functions */
    PyObject *obj;   /* owned: the code object or the C owner; NULL for a walked namespace */
};

static inline size_t
vt_crash_key_hash(uintptr_t what, uintptr_t owner)
{
    uint64_t h = (uint64_t)what * 0x9E3779B97F4A7C15ull;
    h ^= (uint64_t)owner * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

/* The process's crash-safety state. Written with the GIL held (the fork
 * hooks run while the forking thread holds it); read by the fatal-signal
 * handler. */
struct vt_crash {
    int fd;                                      /* owned memfd of the area until the supervisor
                                                    has its own, then -1 */
    struct vt_shm_header *hdr;                   /* owned mapping of header + names, or NULL */
    size_t map_len;                              /* its bytes */
    unsigned char *names;                        /* the name log, inside that mapping */
    struct vt_thread *chunk[VT_SHM_MAX_THREADS]; /* states in the area, by table index */
    uint64_t chunk_off[VT_SHM_MAX_THREADS];      /* their offsets in the memfd */
    struct vt_thread *copy[VT_SHM_MAX_THREADS];  /* owned copies taken before a fork */
    struct vt_crash_key *keys;                   /* owned: registered functions, open addressing */
    size_t keys_cap;                             /* a power of two, or 0 */
    size_t nkeys;                                /* used slots */
    char *children_dir;                 /* owned: the launcher's children folder, or NULL */
    vt_tracer_html_fn html;             /* writes .html outputs, or NULL */
    vt_tracer_children_fn children;     /* the main program's merge with its children, or NULL */
    int armed_parent;                   /* a forked child of an armed process */
    char process_name[VT_SHM_NAME_MAX]; /* for the header of a new area; "" = MainProcess */
};
extern struct vt_crash vt_tracer__crash __attribute__((visibility("hidden")));

/* The lowest fd number our own files take: far from the small numbers a
 * program dup2()s onto. */
#define VT_CRASH_FD_MIN 700

/* fd moved to VT_CRASH_FD_MIN or above (close-on-exec), or fd itself. */
int vt_tracer__crash_fd_high(int fd);

/* crash.c */
/* Appends one record to the name log; -1 when the log is full or absent.
 * Async-signal-safe (the fatal handler names what the log lacks). */
int vt_tracer__crash_log_name(uintptr_t what, uintptr_t owner, int line, const char *name,
                              size_t name_len, const char *file, size_t file_len);
/* crash_raw.c */
/* Logs the names of the functions in the rings and stacks that the log
 * lacks, read from the objects without allocating: for the fatal-signal
 * handler (async-signal-safe as faulthandler's traceback is). */
void vt_tracer__crash_name_rest(void);
/* Renders the args of the calls still open, held as Python dicts, into
 * the area's extras log (vt_tracer__crash_render): for the fatal-signal
 * handler (the finished events' were rendered when they were recorded). */
void vt_tracer__crash_render_open(void);
/* crash.c */
/* Lets the area go (munmap, close); thread states already in it stay mapped. */
void vt_tracer__crash_drop(void);
/* The fork hooks' halves (supervise.c registers them). */
void vt_tracer__crash_prefork(void);
void vt_tracer__crash_postfork_parent(void);
void vt_tracer__crash_postfork_child(void);

/* supervise.c */
/* Starts the supervisor of the current area, and, once per process, the
 * fatal-signal handlers and fork hooks. Returns 0, or -1 (no supervisor:
 * the caller drops the area). Needs the GIL. */
int vt_tracer__supervise_start(void);
/* In a forked child: the parent's supervisor is not the child's. */
void vt_tracer__supervise_forget(void);

#endif
