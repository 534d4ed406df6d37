/* internal.h: what the files of vdb/ share (vt_vdb__* functions).
 *
 * load.c fills a struct vt_vdb, cmd.c dispatches one command line against
 * it, render.c prints frames, stacks and values, vdb.c runs the loop. Only
 * vdb.c and render.c write to the terminal, through vdb->out.
 */
#ifndef VT_VDB_INTERNAL_H
#define VT_VDB_INTERNAL_H

#include <stdint.h>
#include <stdio.h>

#include <cjson/cJSON.h>

#include "../tracer/base/buf.h"
#include "../tracer/format/format.h"
#include "timeline.h"

/* The debugger session. */
struct vt_vdb {
    struct vt_trace *trace; /* owned: the loaded trace */
    struct vt_timeline *tl; /* owned: navigation over trace */
    uint32_t *counters;     /* owned: indices of "C" events in trace->marks, by time */
    size_t ncounters;       /* entries of counters */
    uint32_t *objects;      /* owned: indices of "N"/"O"/"D" events, by time */
    size_t nobjects;        /* entries of objects */
    FILE *out;              /* borrowed: where everything is printed */
    int no_clear;           /* 1: never clear the screen */
    int extra_newline;      /* 1: print an empty line after each input */
    int quit;               /* set by q: the loop ends */
};

/* load */

/* Loads path into v (zeroed by the caller) and checks it is a VizTracer
 * trace vdb can walk. On failure prints one line on stderr, leaves v
 * releasable by vt_vdb__fini, and returns an error. */
enum vt_err vt_vdb__load(struct vt_vdb *v, const char *path);

/* Builds v's indexes around an already loaded trace t (taken: owned by v
 * from now on, also on failure). Used by load and by the tests. Returns
 * VT_ERR_FORMAT (and prints why) when t has no function events. */
enum vt_err vt_vdb__attach(struct vt_vdb *v, struct vt_trace *t);

/* Frees everything v owns; v is zeroed. Safe on a zeroed v. */
void vt_vdb__fini(struct vt_vdb *v);

/* commands */

/* Runs one input line (may be empty). Prints results or the error line.
 * Sets v->quit on q/quit/exit. */
void vt_vdb__run(struct vt_vdb *v, const char *line);

/* Name of command i of the table, or NULL past the end (for completion). */
const char *vt_vdb__command_name(size_t i);

/* Redraws: clears the screen unless --no_clear, then shows the inspected frame. */
void vt_vdb__redraw(struct vt_vdb *v);

/* render */

/* Prints the source of the inspected frame with "> " on the current line. */
void vt_vdb__show(struct vt_vdb *v);

/* Prints the call stack, outermost first, "> " on the inspected frame. */
void vt_vdb__where(struct vt_vdb *v);

/* Prints the args of the inspected frame's event (Python dict repr). */
void vt_vdb__args(struct vt_vdb *v);

/* Prints the cumulative counter values at the current time. */
void vt_vdb__counter(struct vt_vdb *v);

/* Prints "name:" and the snapshot of every object alive at the current time. */
void vt_vdb__object(struct vt_vdb *v);

/* Prints argument or logged variable name of the inspected frame; returns 0
 * when there is none (nothing printed). */
int vt_vdb__print_name(struct vt_vdb *v, const char *name);

/* Appends Python's repr() of a JSON value to b ({'a': 1}, 'x', True, None). */
enum vt_err vt_vdb__repr(struct vt_buf *b, const cJSON *item);

/* Writes relative time ns as microseconds like Python's str(float): "0.0",
 * "74.5", "12.345". Returns the length written (buf of at least 32 bytes). */
size_t vt_vdb__fmt_us(char *buf, size_t size, int64_t ns);

#endif
