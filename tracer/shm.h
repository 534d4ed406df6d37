/* shm.h: the crash-safe shared area of a traced process; no Python.
 *
 * Each traced process keeps its per-thread states (struct vt_thread, with
 * the ring counters and the stack depth), their stacks of open calls and
 * their event rings in one memfd mapped MAP_SHARED, with the same layout
 * as before, so the hot path is unchanged. A header at offset 0 says where
 * everything is; a log of names (code object or builtin -> qualified name,
 * file, line) is appended to once per function, never per call. A
 * supervisor process (crash.c) maps the same memfd and, when the traced
 * process dies without having saved, turns it into the trace file through
 * tracer/format's writer; `viztracer --snapshot PID` does the same while
 * the process runs.
 *
 * The traced process may have been killed in the middle of any write, or
 * have corrupted its own memory before it crashed, so the reader trusts
 * nothing in the area: every offset, count and length is checked against
 * the mapping (tests/fuzz/fuzz_shm.c), and a bad thread or name is left
 * out rather than read. Fields the traced side's C structs hold (ring
 * position, depth, frames) are found through offsets it writes into the
 * header (struct vt_shm_layout), so this file needs no Python headers.
 */
#ifndef VT_TRACER_SHM_H
#define VT_TRACER_SHM_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"
#include "clock.h"

#define VT_SHM_MAGIC 0x31414552415A5456ull /* "VTZAREA1" little-endian */
#define VT_SHM_VERSION 2
#define VT_SHM_MAX_THREADS 256
#define VT_SHM_PATH_MAX 4096
#define VT_SHM_NAME_MAX 64
#define VT_SHM_MEMFD_NAME "viztracer" /* /proc/PID/fd/N -> "/memfd:viztracer (deleted)" */

/* header.state */
enum vt_shm_state {
    VT_SHM_IDLE = 0,  /* not tracing, or everything recorded was saved */
    VT_SHM_ARMED = 1, /* recording: a death now loses events unless the supervisor writes */
};

/* Where the traced side's C structs keep what the reader needs, in bytes. */
struct vt_shm_layout {
    uint32_t thread_size;     /* sizeof(struct vt_thread) */
    uint32_t th_depth;        /* uint32_t: open recorded calls */
    uint32_t th_ring_pos;     /* uint64_t: next slot to write */
    uint32_t th_ring_written; /* uint64_t: events pushed since the last reset */
    uint32_t frame_size;      /* sizeof(struct vt_frame) */
    uint32_t fr_start;        /* int64_t: ticks at entry */
    uint32_t fr_what;         /* uintptr_t: tagged pointer as in struct vt_event */
    uint32_t fr_extra;        /* void *: owner of a C call */
    uint32_t fr_caller_line;  /* int32_t */
    uint32_t fr_args;         /* void *: logged arguments (lost in a crash) */
};

/* One thread of the traced process. off == 0 marks a free entry. */
struct vt_shm_thread {
    uint64_t off;               /* offset of its struct vt_thread */
    uint64_t stack_off;         /* offset of its stack of stack_max frames */
    uint64_t stack_max;         /* frames */
    uint64_t slots_off;         /* offset of its ring of cap events */
    uint64_t cap;               /* ring capacity, events */
    int64_t tid;                /* OS thread id */
    char name[VT_SHM_NAME_MAX]; /* UTF-8 thread name, NUL-terminated; "" = unknown */
};

/* One name record of the log, followed by name_len bytes of name and
 * file_len bytes of file (no NULs), the whole padded to 8 bytes. */
struct vt_shm_name {
    uint64_t what;     /* the event's tagged pointer (code object or PyMethodDef | C) */
    uint64_t owner;    /* C owner pointer, 0 for Python functions */
    int32_t line;      /* co_firstlineno, 0 for C functions */
    uint32_t name_len; /* bytes: qualname, or "module.name" of a builtin */
    uint32_t file_len; /* bytes: co_filename, 0 for builtins */
    uint32_t pad;      /* 0 */
};

/* One record of the extras log: the JSON text of the Python dict at key
 * (an event's args or custom event) of the event that started at start,
 * rendered when the event is recorded (the args of calls still open: by the
 * fatal-signal handler), followed by len bytes of text, the whole padded to
 * 8 bytes. A dict's address may be reused once its event is gone; with the
 * start it names one event. */
struct vt_shm_extra {
    uint64_t key;  /* the dict's address, as the event's extra holds it */
    int64_t start; /* the event's start, ticks */
    uint32_t len;  /* bytes of JSON text (an object) */
    uint32_t pad;  /* 0 */
};

/* The extras log is VT_SHM_EXTRA_SEGS segments of extras_cap /
 * VT_SHM_EXTRA_SEGS bytes (a multiple of 8), filled in turn: a full one
 * makes the next one current, emptied, so the oldest records go as the
 * rings' oldest events do. Each starts with its bytes in use (of whole
 * records after this word, published last), then the records. */
#define VT_SHM_EXTRA_SEGS 64
#define VT_SHM_EXTRA_SEG_HEAD 8

struct vt_shm_header {
    uint64_t magic;                     /* VT_SHM_MAGIC */
    uint32_t version;                   /* VT_SHM_VERSION */
    uint32_t header_size;               /* sizeof(struct vt_shm_header) */
    int64_t pid;                        /* the traced process */
    struct vt_clock_anchor start;       /* ticks -> ns: the first tracing start */
    uint32_t state;                     /* enum vt_shm_state */
    uint32_t crash_signal;              /* signal the fatal handler caught, or 0 */
    int64_t crash_ticks;                /* when */
    int64_t crash_tid;                  /* in which thread */
    uint64_t size;                      /* bytes of the memfd in use */
    uint64_t names_off;                 /* offset of the name log */
    uint64_t names_cap;                 /* its bytes */
    uint64_t names_used;                /* bytes of whole records (published last) */
    uint64_t extras_off;                /* offset of the extras log (segments, see above) */
    uint64_t extras_cap;                /* its bytes */
    uint64_t extras_seg;                /* the segment being filled */
    uint32_t wake;                      /* futex: 1 = the fatal handler waits for the trace */
    uint32_t ack;                       /* futex: 1 = the supervisor wrote it */
    uint32_t nthreads;                  /* entries of threads[] ever used */
    uint32_t unnamed_lost;              /* names that did not fit in the log */
    struct vt_shm_layout layout;        /* see above */
    char output[VT_SHM_PATH_MAX];       /* the trace file the supervisor writes, or "" */
    char marker[VT_SHM_PATH_MAX];       /* a file the supervisor removes after writing, or "" */
    char process_name[VT_SHM_NAME_MAX]; /* or "" for MainProcess */
    struct vt_shm_thread threads[VT_SHM_MAX_THREADS];
};

/* ---- reading (the supervisor, --snapshot, the fuzz target) ----------- */

struct vt_shm_name_ref {
    uint64_t what, owner; /* key */
    const char *name;     /* borrowed from the area */
    uint32_t name_len;    /* bytes */
    const char *file;     /* borrowed, or NULL for builtins */
    uint32_t file_len;    /* bytes */
    int32_t line;         /* first line */
    char *json;           /* owned: the event name, quoted and escaped ("qualname (file:line)") */
    size_t json_len;      /* strlen(json) */
};

struct vt_shm_extra_ref {
    uint64_t key;     /* the dict's address */
    int64_t start;    /* its event's start */
    const char *json; /* borrowed from the area: a JSON object, checked */
    uint32_t len;     /* bytes */
};

/* A checked view of an area. Everything borrowed points into the mapping,
 * which must outlive the view. */
struct vt_shm_view {
    const unsigned char *base;       /* borrowed: the mapping */
    size_t len;                      /* its bytes */
    struct vt_shm_header hdr;        /* a copy, taken once (the process may still write) */
    struct vt_shm_name_ref *names;   /* owned: open-addressing table, cap slots (what 0 = empty) */
    size_t names_cap;                /* a power of two */
    struct vt_shm_extra_ref *extras; /* owned: open-addressing table (key 0 = empty) */
    size_t extras_cap;               /* a power of two, or 0 */
};

/* Checks the header of base[0..len) and indexes its names. Returns VT_OK,
 * or VT_ERR_FORMAT with one line in msg (not an area, another version,
 * truncated), or VT_ERR_NOMEM. vt_shm_view_fini() in every case after
 * VT_OK. */
enum vt_err vt_shm_view_init(struct vt_shm_view *v, const void *base, size_t len, char *msg,
                             size_t msglen);
void vt_shm_view_fini(struct vt_shm_view *v);

/* The name of (what, owner), or NULL when the log does not have it. */
const struct vt_shm_name_ref *vt_shm_view_name(const struct vt_shm_view *v, uint64_t what,
                                               uint64_t owner);

/* The JSON text of the dict at key of the event that started at start, or NULL. */
const struct vt_shm_extra_ref *vt_shm_view_extra(const struct vt_shm_view *v, uint64_t key,
                                                 int64_t start);

/* How the trace of an area ends. */
struct vt_shm_end {
    int64_t end_ticks;  /* open calls end here */
    int signal;         /* the signal that ended the process, 0 = unknown or none */
    int64_t signal_tid; /* thread whose innermost call gets the signal's name; 0 = every thread */
    int snapshot;       /* 1: taken from a running process (nothing ended) */
};

/* What was written. */
struct vt_shm_stats {
    uint64_t events;      /* events written */
    uint64_t open_calls;  /* calls still open, written as ending at end_ticks */
    uint64_t lost_args;   /* events whose args (Python objects) were not kept */
    uint64_t lost_custom; /* instant/counter/object/raw events not kept */
    uint64_t unnamed;     /* events whose function has no name in the log */
    uint64_t bad_threads; /* thread entries left out as corrupt */
};

/* Writes the trace of v to path (.json or .gz; through a temporary name
 * and a rename). Returns VT_OK, or the writer's error with errno detail in
 * *errnum. Reads the rings while the process may still write them: events
 * overwritten during the read are left out. */
enum vt_err vt_shm_write_trace(const struct vt_shm_view *v, const char *path,
                               const struct vt_shm_end *end, struct vt_shm_stats *stats,
                               int *errnum);

/* --snapshot: finds the shared area of process pid (the memfd named
 * VT_SHM_MEMFD_NAME that its supervisor holds) and writes its trace to path as
 * vt_shm_write_trace does, the calls still open ending now. The process is
 * not stopped or signalled: the area is read as it is being written.
 * Returns VT_OK; VT_ERR_GONE (no such process), VT_ERR_NOFILE (not traced
 * crash-safe), VT_ERR_IO (not allowed to read it), VT_ERR_FORMAT, or the
 * writer's error; one line in msg. */
enum vt_err vt_shm_snapshot(long pid, const char *path, struct vt_shm_stats *stats, char *msg,
                            size_t msglen);

/* "SIGSEGV" for SIGSEGV, ...; "signal N" in buf otherwise. Can't fail. */
const char *vt_shm_signal_name(int sig, char *buf, size_t len);

#endif
