/* index_build.h: what the files of an index build share (index.c reads,
 * index_split.c merges the two halves of a large file). Internal to
 * viewer/, not for the queries. */
#ifndef VT_VIEWER_INDEX_BUILD_H
#define VT_VIEWER_INDEX_BUILD_H

#include <pthread.h>

#include "index.h"

#define VT_INDEX_MAX_TRACKS 100000
#define VT_INDEX_MAX_SERIES 100000

#define VT_INDEX_WINDOW ((size_t)4 << 20)

/* The reading window over the source (or over a text in memory). */
struct rd {
    struct vt_index_src *src; /* borrowed; NULL when reading mem */
    const char *mem;          /* borrowed text when src is NULL */
    size_t mem_len;
    char *buf;     /* owned window (src) or mem itself */
    size_t cap;    /* bytes allocated */
    size_t pos;    /* next byte to look at */
    size_t end;    /* bytes valid */
    uint64_t base; /* text offset of buf[0] */
    int eof;       /* 1: nothing more to read */
    int fail;      /* 1: a read error */
};

struct vt_index__half; /* the second half of a file, read by another thread */

/* Everything a build carries. */
struct build {
    struct vt_index *ix;
    size_t limit;                 /* 0 or the cap on ix->mem */
    struct vt_index_progress *pg; /* may be NULL */
    uint32_t *tslots;             /* owned; open addressing of track + 1 */
    size_t ntslots;
    size_t last_track;             /* cache of the last track used */
    int have_ts;                   /* 1 once min/max hold a time */
    struct vt_index__half *second; /* borrowed: the half this build reads, or NULL */
    struct vt_index__half *half;   /* owned; the second half, while another thread reads it */
    char msg[160];                 /* why it failed */
};

/* The second half of a large plain file, read by its own thread from an
 * event boundary near the middle to the end of traceEvents (index_split.c
 * says why and how it is merged). */
struct vt_index__half {
    pthread_t thread;
    struct build b;           /* its tables (b.second points here) */
    struct rd r;              /* its window */
    struct vt_index_src *src; /* owned; its own descriptor of the file */
    uint64_t at;              /* text offset of its first event */
    uint64_t end;             /* once read: offset just past traceEvents' ']' */
    int rc;                   /* once read: 0 when it reached that ']' */
    int stop;                 /* atomic: 1 asks it to stop (the guess was wrong) */
    uint64_t events, done;    /* atomic: events and bytes read, for progress */
};

/* Grows *p (of *cap elements of size sz) to hold one more than n; counts the
 * bytes against the limit. Returns -1 past it (msg says so). */
int vt_index__grow(struct build *b, void **p, size_t *cap, size_t n, size_t sz);

/* Reallocates *p (of *cap elements of size sz) to nc > *cap elements,
 * counting the bytes against the limit; -1 past it (msg says so). */
int vt_index__resize(struct build *b, void **p, size_t *cap, size_t nc, size_t sz);

/* The track of (pid, tid), made when new; returns its index or -1. */
long vt_index__track_of(struct build *b, int64_t pid, int64_t tid);

/* Names process pid (name: an interned string id), adding it to the
 * process list when it is new. 0, or -1 (out of memory, b's error set). */
int vt_index__set_proc_name(struct build *b, int64_t pid, uint32_t name);

/* Widens min/max ts with [ts, ts + dur]. Can't fail. */
void vt_index__saw_time(struct build *b, int64_t ts, int64_t dur);

/* The events of an array; r->pos at '[', or with inside at its first
 * event (a second half). 0 once its ']' is read, -1 with b->msg. */
int vt_index__read_events(struct build *b, struct rd *r, int inside);

/* index_split.c: starts reading the second half of a plain file of size
 * bytes with another thread when it is large enough (b->half); nothing
 * otherwise, or when no event boundary is found near the middle or no
 * thread starts (one thread reads it all then). */
void vt_index__half_start(struct build *b, const char *path, uint64_t size);

/* The first half has reached the second's boundary (exact: at that very
 * offset, between two events), or (r NULL) ended without reaching it.
 * Returns 1 when the second's tables were merged (*events: the events it
 * read) and r moved past traceEvents, 0 to read on alone (the guess was wrong, or the second half
 * failed: reading on finds the same error), -1 past the limit (msg).
 * b->half is freed either way. */
int vt_index__half_take(struct build *b, struct rd *r, int exact, uint64_t *events);

/* Appends the tables of h (a build of the text after a's, up to the end of
 * traceEvents) to a's, as if a had read them: names, ids, tracks, open "B"
 * events matched by h's early "E" events, instants, counters, process and
 * thread names. h's tables are freed as they are taken. Returns -1 past
 * a's limit (a->msg says so). */
int vt_index__merge(struct build *a, struct build *h);

#endif
