/* format.h: the trace file format, in one place: the only header other
 * folders include for reading, writing, checking or merging trace files.
 *
 * No Python here (and no Python.h): everything is tested without an
 * interpreter. The format itself is written down in tracer/format/FORMAT.md.
 *
 *   jscan.c   JSON checked without a tree (vt_jscan_*): find and copy spans
 *   writer.c  events -> a Chrome trace-event JSON file, plain or gzip (vt_writer_*)
 *   reader.c  a trace's text -> compact arrays for vdb (vt_reader_*)
 *   merge.c   --combine / --align_combine and the children's merge (vt_merge_*)
 *   vzt.c     the compact .vzt form: encoding, --compress / --decompress (vt_vzt_*)
 *   vzt_read.c  decoding a .vzt (vt_vzt_is, vt_vzt_decode)
 *   internal.h  the .vzt layout both share (vt_vzt__*)
 *   format.c  the one loader of trace files, the "_<pid>" output name and the
 *             "Total Entries ... vizviewer PATH" lines (vt_format_*)
 */
#ifndef VT_TRACER_FORMAT_FORMAT_H
#define VT_TRACER_FORMAT_FORMAT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../base/err.h"

/* ---- jscan.c: JSON checked without a tree ----------------------------- */

/* Merging traces copies each event's text as it is; parsing millions of
 * events into cJSON trees only to print them again was most of a merge's
 * time. These functions validate strictly (RFC 8259 syntax: strings with
 * their escapes, paired UTF-16 surrogates as cJSON wants them, numbers,
 * literals, nesting up to VT_JSCAN_MAX_DEPTH) and allocate nothing; a
 * caller that needs a tree for a small part parses that part with cJSON.
 * What they accept, cJSON parses to the same values (tests/fuzz/fuzz_jscan.c
 * and fuzz_viewer_json.c hold them to it); the viewer finds /file_info and
 * the merge finds traceEvents with vt_jscan_member. */

/* Deeper nesting is refused (cJSON's own limit is 1000). */
/* viztracer_metadata.version: the VizTracer release whose format we write,
 * so that VizTracer's tools take our traces (0.15's vdb refuses a version
 * below 0.9.5 and warns above its own); our own version goes in
 * viztracer_metadata.viztracer_c_version (FORMAT.md). */
#define VT_FORMAT_VIZTRACER_VERSION "0.15.6"

#define VT_JSCAN_MAX_DEPTH 512

/* Skips whitespace from *p (not past end). Can't fail. */
void vt_jscan_ws(const char **p, const char *end);

/* Scans one value at *p (no leading whitespace). Returns 0 with *p just
 * past it, or -1 (malformed or truncated) with *p unspecified. */
int vt_jscan_value(const char **p, const char *end);

/* Scans a string at *p ('"' first). Same convention as vt_jscan_value. */
int vt_jscan_string(const char **p, const char *end);

/* Finds, in a whole document (an object; whitespace around it allowed), the
 * value of its first member named key. Returns 0 when the document is valid
 * and has it, with the value's span in [*start, *stop); 1 when valid but
 * without it; -1 when malformed. */
int vt_jscan_member(const char *text, size_t len, const char *key, const char **start,
                    const char **stop);

/* ---- writer.c ----------------------------------------------------------- */

/* The tracer resolves names and arguments to JSON text (escaped by cJSON,
 * once per distinct name) and hands events to the writer one by one; the
 * writer formats numbers from integer nanoseconds and writes through a fixed
 * buffer, so memory stays bounded however many events there are. The file is
 * written under a temporary name and renamed on vt_writer_close(): it
 * appears whole or not at all. */

enum vt_writer_format {
    VT_WRITER_JSON, /* plain JSON text */
    VT_WRITER_GZ,   /* gzip-compressed JSON text (".gz", e.g. "x.json.gz") */
};

struct vt_writer;

/* Picks the format from path's extension. Returns VT_ERR_USAGE for anything
 * but .json and .gz. */
enum vt_err vt_writer_format_of(const char *path, enum vt_writer_format *out);

/* Opens "<path>.tmp.<pid>" for writing and writes the opening of the
 * document. On success *out is owned by the caller (close or abort it). On
 * failure errno-style detail is in *errnum (0 when not a system error). */
enum vt_err vt_writer_open(const char *path, struct vt_writer **out, int *errnum);

/* Appends one complete ("X") function event. ts_ns and dur_ns are
 * nanoseconds (written as microseconds with three decimals); name_json is
 * the name already escaped and quoted; args_json is a JSON object or NULL;
 * caller_line >= 0 adds "caller_lineno" (vdb). Errors are sticky and
 * reported by vt_writer_close(). */
void vt_writer_fee(struct vt_writer *w, long pid, long tid, int64_t ts_ns, int64_t dur_ns,
                   const char *name_json, size_t name_len, const char *args_json, int caller_line);

/* Appends one event given as a complete JSON object text. */
void vt_writer_event(struct vt_writer *w, const char *json, size_t len);

/* Writes "ts" formatted from nanoseconds, for callers that assemble their own
 * event text: appends "<us>.<3 decimals>" to dst (at least 32 bytes) and
 * returns the length written. Can't fail. */
size_t vt_writer_format_us(char *dst, int64_t ns);

/* Number of events appended so far. */
uint64_t vt_writer_count(const struct vt_writer *w);

/* Ends the document with the given JSON objects (either may be NULL), flushes,
 * and renames the temporary file over the target. Frees w in every case; on
 * failure the temporary file is removed and nothing appears at the target. */
enum vt_err vt_writer_close(struct vt_writer *w, const char *metadata_json,
                            const char *file_info_json, int *errnum);

/* Writes a whole document (len bytes of JSON text) to path, compressed when
 * path ends in .gz, through a temporary name and a rename. */
enum vt_err vt_writer_write_file(const char *path, const char *data, size_t len, int *errnum);

/* Drops a half-written file: removes the temporary file and frees w.
 * abort(NULL) does nothing. */
void vt_writer_abort(struct vt_writer *w);

/* ---- source.c ----------------------------------------------------------- */

/* Adds files[key] = [text, number of newlines] (file_info's "files") when
 * the regular file at path reads as UTF-8 without NUL bytes, up to 16 MiB. Returns 1
 * when it was added, else 0. Plain C: the supervisor's crash writer uses it
 * too. */
int vt_format_add_source(cJSON *files, const char *key, const char *path);

/* ---- reader.c ----------------------------------------------------------- */

/* A saved trace (loaded by vt_format_load) -> compact arrays, for vdb. The
 * text is parsed event by event with cJSON (only the two outer levels are
 * walked by hand), so memory is the file text plus a few dozen bytes per
 * event; the args of an event are not kept as a tree but re-parsed from the
 * text on demand (vt_reader_event_json). */

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

/* ---- vzt.c: the compact form ------------------------------------------ */

/* A .vzt holds a trace's JSON document losslessly (the same JSON values, not
 * the same bytes) in zstd-compressed columns; FORMAT.md gives the layout.
 * vt_format_load decodes it, so every reader opens a .vzt as it opens JSON. */

#define VT_VZT_MAGIC_LEN 8 /* "\x89VZT\r\n\x1a\n" */
#define VT_VZT_VERSION 1   /* the layout written; the only one read */

/* Returns 1 when data[0..len) starts with the .vzt magic. Can't fail. */
int vt_vzt_is(const void *data, size_t len);

/* Encodes the trace document text[0..len) (JSON, borrowed). On VT_OK *out
 * (owned by the caller, free()) holds *out_len bytes of .vzt. Errors:
 * VT_ERR_FORMAT (not JSON, or no traceEvents array), VT_ERR_TOOBIG; one line
 * in msg[msglen]. */
enum vt_err vt_vzt_encode(const char *text, size_t len, char **out, size_t *out_len, char *msg,
                          size_t msglen);

/* Decodes data[0..len) (a whole .vzt, borrowed) into JSON text of at most
 * max bytes. On VT_OK *text is owned by the caller (free()), NUL-terminated,
 * *text_len bytes, and valid JSON whatever the input. Errors: VT_ERR_FORMAT
 * (not a .vzt, other version, truncated, corrupt), VT_ERR_TOOBIG (past max),
 * VT_ERR_NOMEM; one line in msg[msglen]. */
enum vt_err vt_vzt_decode(const void *data, size_t len, size_t max, char **text, size_t *text_len,
                          char *msg, size_t msglen);

/* The --compress (decompress == 0: any trace the loader reads -> .vzt) and
 * --decompress (a .vzt -> .json or .json.gz) commands. Writes output through
 * a temporary name and a rename (nothing appears on failure), prints one
 * line on stdout unless quiet, or one line on stderr on failure. */
enum vt_err vt_vzt_run(int decompress, const char *input, const char *output, int quiet);

/* ---- format.c: loading, naming, the summary --------------------------- */

/* The one cap on a trace file loaded whole, in bytes of (decompressed)
 * text. Every reader of trace files (vdb, the viewer, --combine and the
 * children's merge) loads through vt_format_load and so refuses the same
 * files: the cap is the largest any of them accepted before (vdb's), well
 * above what fits in memory for most machines; it exists so that a gzip
 * bomb or a wrong path fails with VT_ERR_TOOBIG instead of exhausting
 * memory, not to bound memory use. */
#define VT_FORMAT_MAX_BYTES ((size_t)16 << 30)

/* Reads the file at path whole: gzip-compressed or .vzt (both found by their
 * magic bytes, whatever the name; a .vzt is handed out decoded) or plain, the latter into one
 * buffer of the file's size. On VT_OK, *text is owned by the caller (free()), NUL-terminated, and
 * *len bytes long. Errors: VT_ERR_NOFILE (missing), VT_ERR_IO (cannot open
 * or read, not a regular file), VT_ERR_FORMAT (corrupt or truncated gzip
 * stream or .vzt), VT_ERR_TOOBIG (more than VT_FORMAT_MAX_BYTES); *errnum gets the
 * errno (0 when not a system error) and msg[msglen] one human-readable line
 * without the path ("cannot open: ...", "not a regular file", ...). errnum
 * and msg may be NULL. */
enum vt_err vt_format_load(const char *path, char **text, size_t *len, int *errnum, char *msg,
                           size_t msglen);

/* The output name save() and the children's merge use with pid_suffix:
 * "dir/name.ext" -> "dir/name_<pid>.ext", ".json.gz" kept together, a name
 * without extension suffixed at its end. Returns an owned string. Can't fail. */
char *vt_format_pid_path(const char *path, long pid);

/* VizTracer's same_line_print: "\r", 80 spaces, "\r", then line, with no
 * newline, on stdout, flushed: a progress line the next one (or the summary)
 * overwrites on a terminal, and that scripts reading stdout find. Can't
 * fail. */
void vt_format_progress(const char *line);

/* Prints to stdout, after a trace was saved at path (shown absolute, quoted
 * when it holds a space, green on a terminal), first clearing a progress
 * line as VizTracer does (vt_format_progress("")):
 *   Total Entries: COUNT
 *   Use the following command to open the report:
 *   vizviewer PATH
 * and flushes. Can't fail. */
void vt_format_print_summary(const char *path, uint64_t count);

/* Prints VizTracer's warning that the circular buffer was full (yellow on a
 * terminal) on stdout, naming how many events were dropped when dropped > 0
 * (a merge of several processes does not know). Can't fail. */
void vt_format_print_overflow(uint64_t dropped);

/* Turns the JSON trace at json_path into the HTML report html_path (the
 * viewer's writer, given by the launcher); returns 0, or -1 with one line in
 * msg. The same type as vt_tracer_html_fn. */
typedef int (*vt_format_html_fn)(const char *json_path, const char *html_path, char *msg,
                                 size_t msglen);

/* ---- merge.c ------------------------------------------------------------ */

/* Inputs are whole trace documents (ours or VizTracer's, plain or gzip'd
 * JSON); their traceEvents are copied in order, of every kind, into one
 * output written through the writer (VizTracer's ReportBuilder, streaming). */

/* One merge in progress. Initialize with vt_merge_init, add documents,
 * then vt_merge_finish (which writes the tail and frees everything). */
struct vt_merge {
    struct vt_writer *w; /* owned: the output being written */
    cJSON *metadata;     /* owned: viztracer_metadata of the first input, or NULL */
    cJSON *file_info;    /* owned: union of the inputs' file_info, or NULL */
    int align;           /* 1: shift each input so it starts at 0 (or its sync_marker) */
    int overflow;        /* OR of the inputs' "overflow" */
    int64_t dropped;     /* sum of the inputs' "dropped_events" */
    size_t inputs;       /* documents merged so far */
};

/* merge */

/* Opens path (.json or .gz) for writing the merged document. On failure
 * returns the writer's error with errno detail in *errnum and c is left
 * empty (vt_merge_abort is still safe). */
enum vt_err vt_merge_init(struct vt_merge *c, const char *path, int align, int *errnum);

/* Parses one document (len bytes of JSON text, not compressed; borrowed)
 * and appends its events. Returns VT_ERR_FORMAT, having written nothing,
 * when the text is not a trace (not JSON, no "traceEvents" array). */
enum vt_err vt_merge_add(struct vt_merge *c, const char *text, size_t len);

/* Writes the merged metadata and file_info, renames the output into place,
 * and frees what c owns. *count gets the number of events written. On
 * failure nothing appears at the path; errno detail is in *errnum. */
enum vt_err vt_merge_finish(struct vt_merge *c, uint64_t *count, int *errnum);

/* Drops a merge in progress (removes the temporary file). Safe on a
 * finished or failed-init struct. */
void vt_merge_abort(struct vt_merge *c);

/* command */

/* The --combine command: checks that all n inputs exist (else prints
 * "viztracer: No such file as X" and returns VT_ERR_NOFILE), merges the
 * readable ones into output (.json, .gz, or .html through html, which may
 * be NULL), warning on stderr about each invalid input it skips, and prints
 * the summary unless quiet. Returns VT_ERR_FORMAT when no input was valid;
 * every failure has printed its one line. */
enum vt_err vt_merge_run(char *const *inputs, size_t n, int align, const char *output,
                         vt_format_html_fn html, int quiet);

#endif
