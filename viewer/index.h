/* index.h: the server-side index of one trace, for traces too large to
 * hand to the browser whole.
 *
 * vt_index_build() reads a trace (.json, .json.gz or .vzt) once, streaming
 * through a fixed window (no tree, no whole-file string: a .vzt alone is
 * decoded in memory, its JSON being what the columns hold), into compact
 * per-(pid, tid) tables: 32 bytes per slice plus 4 of a by-depth index, 24
 * per instant, 16 per counter point, and the interned names. The event
 * texts stay in the file: an entry keeps the event's byte offset, and
 * vt_index_event_text() reads it back for a slice's details. query.c answers
 * the UI's questions from these tables (vt_index_q_*). No libmicrohttpd
 * here, so tests/fuzz/ links this file and query.c alone.
 */
#ifndef VT_VIEWER_INDEX_H
#define VT_VIEWER_INDEX_H

#include <stddef.h>
#include <stdint.h>

#include "../tracer/base/buf.h"
#include "../tracer/base/err.h"

/* One function slice ("X", or a "B"/"E" pair). Times are integer ns. */
struct vt_index_slice {
    int64_t start;  /* ns, as in the file (not shifted) */
    int64_t dur;    /* ns, >= 0 */
    uint64_t off;   /* byte offset of the event's JSON text in the (decompressed) trace */
    uint32_t name;  /* interned name */
    uint32_t depth; /* nesting level, 0 for a root */
};

/* One thread's slices. */
struct vt_index_track {
    int64_t pid, tid;
    uint32_t thread_name;       /* interned JSON string, or 0 when unnamed */
    struct vt_index_slice *s;   /* owned; n slices sorted by start (longer first) */
    size_t n;                   /* slices */
    size_t cap;                 /* slices allocated while building */
    uint32_t *by_depth;         /* owned; indexes into s, grouped by depth, by start within */
    size_t *level;              /* owned; ndepth + 1 bounds into by_depth */
    uint32_t ndepth;            /* levels */
    struct vt_index_open *open; /* owned while building: unmatched "B" events */
    size_t nopen, open_cap;     /* of open */
    int64_t *ends;              /* owned while building a second half: the times of its
                                 * "E" events that close a "B" of the first */
    size_t nends, ends_cap;     /* of ends */
};

/* Internal type: an unmatched "B" while building. */
struct vt_index_open {
    int64_t ts;
    uint64_t off;
    uint32_t name;
};

/* One instant ("i", "I", "R"). */
struct vt_index_instant {
    int64_t ts;     /* ns */
    uint64_t off;   /* event offset */
    uint32_t name;  /* interned */
    uint32_t track; /* index into tracks */
};

/* One counter point. */
struct vt_index_point {
    int64_t ts; /* ns */
    double v;   /* value */
};

/* One counter series: a "C" event's (pid, name, args key). */
struct vt_index_series {
    int64_t pid;
    uint32_t name, key;       /* interned JSON strings */
    struct vt_index_point *p; /* owned; sorted by ts */
    size_t n, cap;            /* points used / allocated */
};

/* The names (JSON string texts, quotes included, as in the file). */
struct vt_index_names {
    char *arena; /* owned; every name back to back */
    size_t arena_len, arena_cap;
    uint64_t *at;    /* owned; arena offset of name i (i = 0 is "") */
    uint32_t *len;   /* owned; bytes of name i */
    size_t n, cap;   /* names used / allocated */
    uint32_t *slots; /* owned; open addressing of id + 1, 0 free */
    size_t nslots;   /* a power of two */
};

/* Where the trace's bytes come from, for reading an event back. */
struct vt_index_src;

/* A whole index. Read-only once built; freed with vt_index_free(). */
struct vt_index {
    struct vt_index_track *tracks; /* owned; ntracks, in file order of appearance */
    size_t ntracks, tracks_cap;
    uint32_t *order; /* owned; the tracks shown (slices > 0), sorted */
    size_t norder;
    struct vt_index_instant *instants; /* owned; sorted by ts */
    size_t ninstants, instants_cap;
    struct vt_index_series *series; /* owned */
    size_t nseries, series_cap;
    struct vt_index_names names; /* interned names */
    int64_t *proc_pid;           /* owned; pids with a process_name */
    uint32_t *proc_name;         /* owned; their names */
    size_t nproc, proc_cap;
    int64_t min_ts, max_ts;      /* ns over every timed event (0, 0 for none) */
    uint64_t nslices;            /* slices of every track */
    uint64_t text_len;           /* bytes of the (decompressed) JSON */
    uint64_t meta_off, meta_len; /* span of "viztracer_metadata" (len 0: absent) */
    uint64_t info_off, info_len; /* span of "file_info" (len 0: absent) */
    size_t mem;                  /* bytes the tables hold */
    struct vt_index_src *src;    /* owned; NULL for an index built from memory */
};

/* Progress of a build, read by other threads while it runs. */
struct vt_index_progress {
    volatile uint64_t done;   /* bytes of JSON read so far */
    volatile uint64_t total;  /* bytes of the file (compressed size for .gz) */
    volatile uint64_t events; /* events seen */
    volatile uint64_t in;     /* bytes of the file consumed so far */
};

/* Time conversions the queries share: ns in the trace <-> µs from its start. */
static inline double
vt_index_rel_us(const struct vt_index *ix, int64_t ns)
{
    return (double)(ns - ix->min_ts) / 1000.0;
}

/* A query's µs -> absolute ns, clamped into int64 (floor). */
static inline int64_t
vt_index_abs_ns(const struct vt_index *ix, double us)
{
    double ns = us * 1000.0 + (double)ix->min_ts;
    if (ns > 9e18)
        return INT64_MAX / 2;
    if (ns < -9e18)
        return INT64_MIN / 2;
    int64_t i = (int64_t)ns; /* toward zero; floor without libm */
    return (double)i > ns ? i - 1 : i;
}

/* The names whose text holds q, case-insensitively (ASCII), as a bitmap of
 * names.n bits (all clear for an empty q); owned by the caller (free). */
unsigned char *vt_index_match_names(const struct vt_index *ix, const char *q);
/* First k in [lo, hi) of t's depth-sorted slices whose end is after ns. */
size_t vt_index_first_ending_after(const struct vt_index_track *t, size_t lo, size_t hi,
                                   int64_t ns);
#define VT_INDEX_HIT(m, id) (((m)[(id) >> 3] >> ((id)&7)) & 1)

/* build */

/* Indexes the trace at path. mem_limit (bytes, 0: none) caps the tables:
 * past it the build stops with VT_ERR_TOOBIG. progress may be NULL. On
 * failure writes one line into msg[msglen] and *out stays NULL; on success
 * *out is owned by the caller (vt_index_free). */
enum vt_err vt_index_build(const char *path, size_t mem_limit, struct vt_index_progress *progress,
                           struct vt_index **out, char *msg, size_t msglen);

/* Indexes text[0..len) (borrowed; the index keeps no pointer into it and
 * cannot read events back: vt_index_event_text fails). For the fuzz target. */
enum vt_err vt_index_build_mem(const char *text, size_t len, size_t mem_limit,
                               struct vt_index **out, char *msg, size_t msglen);

/* Frees everything. NULL does nothing. */
void vt_index_free(struct vt_index *ix);

/* cache.c: the index kept on disk */

/* Where the index of trace is kept: beside it (".<name>.vzi") when the
 * user may write the trace and its folder, else under
 * $XDG_CACHE_HOME/vizviewer/ or ~/.cache/vizviewer/ (made if missing).
 * Returns an owned path, or NULL when there is no such place. */
char *vt_index_cache_path(const char *trace);

/* Loads the index of trace from cache when that was made from the trace as
 * it is now (size, mtime, inode, device). VT_ERR_NOFILE (no cache),
 * VT_ERR_STATE (stale), VT_ERR_FORMAT (corrupt) or VT_ERR_IO: build it
 * then. On VT_OK *out is owned by the caller. */
enum vt_err vt_index_cache_load(const char *trace, const char *cache,
                                struct vt_index_progress *progress, struct vt_index **out);

/* Writes ix to cache (a temporary name, then renamed). VT_ERR_IO when it
 * cannot; nothing is left behind then. */
enum vt_err vt_index_cache_save(const struct vt_index *ix, const char *trace, const char *cache);

/* access */

/* Name i as JSON string text (borrowed, *len bytes, not NUL-terminated). */
const char *vt_index_name(const struct vt_index *ix, uint32_t i, size_t *len);

/* Reads back the JSON text of the value at off (an event, or the metadata /
 * file_info span when len is known: pass it, else 0) into an owned buffer
 * (*text, free(); NUL-terminated, *text_len bytes). VT_ERR_FORMAT when no
 * valid JSON value starts there, VT_ERR_IO on a read error, VT_ERR_STATE
 * for an index built from memory. */
enum vt_err vt_index_event_text(const struct vt_index *ix, uint64_t off, uint64_t len, char **text,
                                size_t *text_len);

/* internal: index_tables.c, for the build (index.c) */

/* Interns s[0..n) (a JSON string text). Returns its id (>= 1). */
uint32_t vt_index__intern(struct vt_index *ix, const char *s, size_t n);

/* One member of an event object: key and value spans (borrowed). */
struct vt_index__member {
    const char *k; /* key text, quotes included */
    size_t klen;
    const char *v; /* value text */
    size_t vlen;
};

#define VT_INDEX__HAVE_TS 1u
#define VT_INDEX__HAVE_DUR 2u
#define VT_INDEX__HAVE_PID 4u
#define VT_INDEX__HAVE_TID 8u

/* The members of an event the index reads; numbers the scan converted. */
struct vt_index__fields {
    struct vt_index__member ph, pid, tid, ts, dur, name, args;
    int64_t ts_ns, dur_ns, pid_n, tid_n; /* valid as have's bits say */
    unsigned have;                       /* VT_INDEX__HAVE_* */
};

/* Reads the event object at ev[0..end) (index_scan.c), every value checked
 * as JSON. Returns its length, or 0 when it is malformed or runs past end
 * (the caller reads more and tries again). */
size_t vt_index__scan_event(const char *ev, const char *end, struct vt_index__fields *f);

/* FNV-1a of s[0..n) (index.c). Can't fail. */
uint64_t vt_index__hash(const char *s, size_t n);

/* Sorts, nests and groups the slices, orders tracks, instants and points.
 * Returns -1 with one line in msg when the tables would pass limit. */
int vt_index__finish(struct vt_index *ix, size_t limit, char *msg, size_t msglen);

/* ---- query.c: the answers, as JSON appended to a vt_buf ----------------- */

/* A parsed query string: every parameter the API knows, checked. */
struct vt_index_query {
    double t0, t1;        /* µs from the trace start; t1 > t0 */
    int px;               /* width in pixels, 1..100000 */
    long track;           /* one track (index into order), -1 for all */
    uint32_t tracks[256]; /* chosen tracks (indexes into order) */
    size_t ntracks;       /* 0: all */
    long slice;           /* slice index in its track, -1 for none */
    long instant;         /* instant index, -1 for none */
    char q[256];          /* search text (NUL-terminated, may be "") */
    int sort;             /* area: 0 total, 1 self, 2 count, 3 name */
    int limit;            /* rows or hits, 1..10000 */
};

/* Sets the defaults: the whole trace, 1000 px, all tracks, no slice, no
 * search, sorted by total time, 500 rows. Can't fail. */
void vt_index_q_init(struct vt_index_query *q);

/* Sets one parameter from its (already %-decoded) value. Returns
 * VT_ERR_USAGE with one line in msg for an unknown key or a bad value (not
 * a number, px out of range, a track list too long...). */
enum vt_err vt_index_q_set(struct vt_index_query *q, const char *key, const char *value, char *msg,
                           size_t msglen);

/* Checks the parameters together (t1 > t0). VT_ERR_USAGE with msg. */
enum vt_err vt_index_q_check(const struct vt_index_query *q, char *msg, size_t msglen);

/* Parses a whole URL query string ("a=1&b=2", %-escapes and '+' decoded)
 * with init, set and check. Pure: fuzzed by tests/fuzz/fuzz_viewer_query.c. */
enum vt_err vt_index_q_parse(const char *qs, struct vt_index_query *q, char *msg, size_t msglen);

/* Each appends one JSON document to out; VT_ERR_USAGE for a track or slice
 * out of range, VT_ERR_TOOBIG when out's cap is reached. */
enum vt_err vt_index_q_tracks(const struct vt_index *ix, struct vt_buf *out);
enum vt_err vt_index_q_slices(const struct vt_index *ix, const struct vt_index_query *q,
                              struct vt_buf *out);
enum vt_err vt_index_q_marks(const struct vt_index *ix, const struct vt_index_query *q,
                             struct vt_buf *out);
enum vt_err vt_index_q_detail(const struct vt_index *ix, const struct vt_index_query *q,
                              struct vt_buf *out);
enum vt_err vt_index_q_search(const struct vt_index *ix, const struct vt_index_query *q,
                              struct vt_buf *out);
enum vt_err vt_index_q_flame(const struct vt_index *ix, const struct vt_index_query *q,
                             struct vt_buf *out);
/* The trace's file_info object as the file holds it, or {}. */
enum vt_err vt_index_q_file_info(const struct vt_index *ix, struct vt_buf *out);
enum vt_err vt_index_q_area(const struct vt_index *ix, const struct vt_index_query *q,
                            struct vt_buf *out);

#endif
