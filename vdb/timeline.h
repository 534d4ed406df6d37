/* timeline.h: navigation over the call trees of a trace (pure logic).
 *
 * Built from a struct vt_trace (tracer/format/format.h): one call tree per
 * (pid, tid), nodes placed by time containment. The position is a chain of
 * frames, outermost first, each a node plus an index *between* its children
 * (0 = before the first call, nkids = after the last), as in VizTracer 0.15's
 * prog_snapshot.py (docs/COMPAT.md, vdb). Every command moves by index arithmetic on
 * the recorded trees, forwards and backwards alike. Nothing here prints.
 */
#ifndef VT_VDB_TIMELINE_H
#define VT_VDB_TIMELINE_H

#include <stddef.h>
#include <stdint.h>

#include "../tracer/format/format.h"

/* Outcome of a navigation command; vt_timeline_strerror() gives the text
 * VizTracer's vdb printed. */
enum vt_tl_status {
    VT_TL_OK = 0,
    VT_TL_END,       /* "at the end of the trace" */
    VT_TL_BEGIN,     /* "at the beginning of the trace" */
    VT_TL_NOCALLER,  /* "No callers available" */
    VT_TL_NOOUTER,   /* "No outer frame anymore" */
    VT_TL_INNERMOST, /* "Already at current frame" */
    VT_TL_NOTID,     /* "No such tid" */
    VT_TL_NOPID,     /* "No such pid" */
    VT_TL_NOBREAK,   /* "No breakpoint set, use b FUNCTION" */
    VT_TL_NOTFOUND,  /* "No more calls of the breakpoint functions" */
};

/* One call (an X event) in a thread's tree. Node 0 of every tree is a
 * virtual root spanning all time whose children are the top-level calls. */
struct vt_tl_node {
    int64_t start;   /* ns, relative to the trace origin */
    int64_t end;     /* ns, relative to the trace origin */
    uint32_t event;  /* index into trace->funcs; UINT32_MAX for the root */
    uint32_t parent; /* node index; 0 (the root) for top-level calls */
    uint32_t kids;   /* offset of the first child in the thread's kids[] */
    uint32_t nkids;  /* number of children */
};

/* One thread's tree. */
struct vt_tl_thread {
    int64_t pid;              /* process id */
    int64_t tid;              /* thread id */
    struct vt_tl_node *nodes; /* owned; nodes[0] is the root, then calls in start order */
    uint32_t nnodes;          /* nodes, root included */
    uint32_t *kids;           /* owned: child node indices, grouped per parent, start order */
};

/* One frame of the position. */
struct vt_tl_frame {
    uint32_t node; /* node index in the current thread; never the root */
    uint32_t idx;  /* position between children, 0..nkids */
};

struct vt_timeline;

/* build */

/* Builds the trees of t, which stays borrowed and must outlive the timeline.
 * Returns NULL when t has no complete events (nothing to walk). O(n log n).
 * Aborts on out of memory (vt_xmalloc). The position starts at the first
 * top-level call of the thread that starts first. */
struct vt_timeline *vt_timeline_create(const struct vt_trace *t);

/* Frees the timeline. NULL does nothing. */
void vt_timeline_destroy(struct vt_timeline *tl);

/* movement (each returns VT_TL_OK or the reason nothing moved) */

enum vt_tl_status vt_timeline_step(struct vt_timeline *tl);        /* s */
enum vt_tl_status vt_timeline_step_back(struct vt_timeline *tl);   /* sb */
enum vt_tl_status vt_timeline_next(struct vt_timeline *tl);        /* n */
enum vt_tl_status vt_timeline_next_back(struct vt_timeline *tl);   /* nb */
enum vt_tl_status vt_timeline_return(struct vt_timeline *tl);      /* r */
enum vt_tl_status vt_timeline_return_back(struct vt_timeline *tl); /* rb */
enum vt_tl_status vt_timeline_up(struct vt_timeline *tl);          /* u */
enum vt_tl_status vt_timeline_down(struct vt_timeline *tl);        /* d */

/* t <ts>: moves to relative time ts (ns) in the current thread. Can't fail. */
void vt_timeline_goto(struct vt_timeline *tl, int64_t ts);

/* tid <n> / pid <n>: switch thread (same pid) or process (its first thread)
 * keeping the current time. VT_TL_NOTID / VT_TL_NOPID when absent. */
enum vt_tl_status vt_timeline_goto_tid(struct vt_timeline *tl, int64_t tid);
enum vt_tl_status vt_timeline_goto_pid(struct vt_timeline *tl, int64_t pid);

/* breakpoints */

/* Adds a function breakpoint; fn matches a node whose name equals it, whose
 * function part ("Cls.meth" of "Cls.meth (f.py:3)") equals it, or whose last
 * dotted component equals it ("meth", "len" for "builtins.len"). Returns the
 * number of distinct function names it matches now (0 is allowed: the
 * breakpoint is kept). */
size_t vt_timeline_break_add(struct vt_timeline *tl, const char *fn);

/* Removes the breakpoint fn, or all of them when fn is NULL. Returns the
 * number removed. */
size_t vt_timeline_break_clear(struct vt_timeline *tl, const char *fn);

/* Number of breakpoints, and breakpoint i (borrowed, valid until it is cleared). */
size_t vt_timeline_break_count(const struct vt_timeline *tl);
const char *vt_timeline_break_get(const struct vt_timeline *tl, size_t i);

/* c / cb: steps (as s / sb) until the entry of a call of a breakpoint
 * function. The position is unchanged on VT_TL_NOBREAK / VT_TL_NOTFOUND. */
enum vt_tl_status vt_timeline_continue(struct vt_timeline *tl);
enum vt_tl_status vt_timeline_continue_back(struct vt_timeline *tl);

/* queries (borrowed results valid until the next movement) */

/* Relative time (ns) of the position: start of the next call of the innermost
 * frame, end of its last call when past it, or its start for a leaf. */
int64_t vt_timeline_time(const struct vt_timeline *tl);

/* The trace origin (absolute ns of the earliest call); relative = abs - origin. */
int64_t vt_timeline_origin(const struct vt_timeline *tl);

/* The frame chain, outermost first: *n frames; *inspected is the index of
 * the frame u/d selected (n-1 unless moved). */
const struct vt_tl_frame *vt_timeline_frames(const struct vt_timeline *tl, size_t *n,
                                             size_t *inspected);

/* The current thread and its node i. */
const struct vt_tl_thread *vt_timeline_thread(const struct vt_timeline *tl);
const struct vt_tl_node *vt_timeline_node(const struct vt_timeline *tl, uint32_t i);

/* The node's X event in the trace, or NULL for the root. */
const struct vt_trace_event *vt_timeline_event(const struct vt_timeline *tl, uint32_t node);

/* All threads, in order of first appearance in the trace (processes too). */
const struct vt_tl_thread *vt_timeline_threads(const struct vt_timeline *tl, size_t *n);

/* Child i of node (its node index), for 0 <= i < nkids. */
uint32_t vt_timeline_kid(const struct vt_timeline *tl, uint32_t node, uint32_t i);

/* The message for a status; static, never NULL. */
const char *vt_timeline_strerror(enum vt_tl_status st);

#endif
