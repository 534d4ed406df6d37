/* reader.h: load a saved trace (JSON or gzip'd JSON) into compact arrays.
 *
 * The other direction of writer.c: vdb and the viewer read traces through
 * this, so the trace format is known in one folder. No Python here. The
 * file is parsed event by event with cJSON (only the two outer levels are
 * walked by hand), so memory is the file text plus a few dozen bytes per
 * event; the args of an event are not kept as a tree but re-parsed from the
 * text on demand (vt_reader_event_json).
 */
#ifndef VT_TRACER_READER_H
#define VT_TRACER_READER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "base/err.h"

/* One event of the trace. Times are integer nanoseconds, exactly as in the
 * file (not shifted). */
struct vt_trace_event {
    int64_t ts;            /* start, ns */
    int64_t dur;           /* duration, ns; 0 for non-"X" events */
    int64_t pid;           /* process id */
    int64_t tid;           /* thread id */
    uint64_t off;          /* byte offset of the event's JSON text in trace->text */
    uint32_t len;          /* byte length of that text */
    uint32_t name;         /* index into trace->names */
    uint32_t id;           /* objects (N/O/D): index of the "id" string in names; else 0 */
    int32_t caller_lineno; /* "caller_lineno" of X events (--vdb); -1 when absent */
    char ph;               /* 'X', 'C', 'i', 'N', 'O', 'D' */
    char has_args;         /* 1 when the event carries an "args" member */
};

/* An array of events, in file order. */
struct vt_trace_events {
    struct vt_trace_event *v; /* owned */
    size_t n;                 /* events used */
    size_t cap;               /* events allocated */
};

/* A process or thread name from a "ph":"M" event. */
struct vt_trace_label {
    int64_t pid;   /* process id */
    int64_t tid;   /* thread id (== pid for process names) */
    uint32_t name; /* index into names */
    int thread;    /* 1 for thread_name, 0 for process_name */
};

/* Internal type, do not use: the name interning table. */
struct vt_trace_names {
    char **str;      /* owned strings, each owned; str[0] == "" */
    size_t n;        /* strings used */
    size_t cap;      /* strings allocated */
    uint32_t *slots; /* owned open-addressing table of index+1, 0 = free */
    size_t nslots;   /* a power of two */
};

/* A loaded trace. Everything is owned by it and freed by vt_reader_free. */
struct vt_trace {
    char *text;                    /* owned: the whole (decompressed) file, NUL-terminated */
    size_t text_len;               /* bytes */
    struct vt_trace_events funcs;  /* complete ("X") events */
    struct vt_trace_events marks;  /* counters, instants and object events */
    struct vt_trace_label *labels; /* owned: process and thread names */
    size_t nlabels;                /* labels used */
    size_t labels_cap;             /* labels allocated */
    struct vt_trace_names names;   /* interned event names, ids and labels */
    cJSON *metadata;               /* owned: "viztracer_metadata", or NULL when absent */
    cJSON *file_info;              /* owned: "file_info", or NULL when absent */
    const char *version;           /* borrowed from metadata: "version", or NULL */
    int has_caller_lineno;         /* 1 when any X event has caller_lineno */
    size_t skipped;                /* events of kinds we do not keep (B/E, flows, ...) */
};

/* load */

/* Reads the trace at path (plain or gzip-compressed JSON) into *out.
 * On failure returns VT_ERR_NOFILE / VT_ERR_IO / VT_ERR_FORMAT / VT_ERR_TOOBIG,
 * leaves *out NULL and writes one human-readable line (no newline, without
 * the path) into err[errlen]. The caller frees *out with vt_reader_free. */
enum vt_err vt_reader_load(const char *path, struct vt_trace **out, char *err, size_t errlen);

/* Parses text[0..len) (JSON, not compressed), taking ownership of text, which
 * must be malloc'd with room for len+1 bytes. Same results as vt_reader_load;
 * text is freed on failure too. */
enum vt_err vt_reader_parse(char *text, size_t len, struct vt_trace **out, char *err,
                            size_t errlen);

/* Frees the trace and everything in it. NULL does nothing. */
void vt_reader_free(struct vt_trace *t);

/* access */

/* Returns the interned string of index i (borrowed, valid until
 * vt_reader_free); "" for an index out of range. Can't fail. */
const char *vt_reader_name(const struct vt_trace *t, uint32_t i);

/* Parses and returns the whole JSON object of event e (new tree, owned by the
 * caller: cJSON_Delete it), or NULL if it cannot be parsed (cannot happen for
 * an event the reader accepted). */
cJSON *vt_reader_event_json(const struct vt_trace *t, const struct vt_trace_event *e);

/* Returns the source text of path from file_info (borrowed, valid until
 * vt_reader_free), or NULL when the trace does not carry it. */
const char *vt_reader_source(const struct vt_trace *t, const char *path);

/* Name of a process (thread == 0) or thread (thread == 1) from the trace's
 * metadata events; NULL when unnamed. Borrowed. O(number of labels). */
const char *vt_reader_label(const struct vt_trace *t, int64_t pid, int64_t tid, int thread);

/* names */

/* The parts of a function event name "func (file:line)" as written for Python
 * functions. C functions ("builtins.len") and custom events do not match. */
struct vt_reader_fname {
    const char *func; /* borrowed: start of the function part */
    size_t func_len;  /* bytes */
    const char *file; /* borrowed: start of the file part */
    size_t file_len;  /* bytes */
    long line;        /* first line of the function */
};

/* Splits name like VizTracer's regex `(.*) \((.*?):([0-9]+)\)`. Returns 1 and
 * fills *out on a match, 0 otherwise. Can't fail. */
int vt_reader_split_name(const char *name, struct vt_reader_fname *out);

/* Compares two dotted version strings ("0.15.6") numerically part by part;
 * returns <0, 0 or >0. Non-digits end a part. Can't fail. */
int vt_reader_version_cmp(const char *a, const char *b);

#endif
