/* combine.h: --combine and --align_combine: merge saved traces into one file.
 *
 * No Python here. Inputs are whole trace documents (ours or VizTracer's,
 * plain or gzip'd JSON); their traceEvents are copied in order, of every
 * kind, into one output written through tracer/writer.h (spec §7.6).
 */
#ifndef VT_LAUNCHER_COMBINE_H
#define VT_LAUNCHER_COMBINE_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "../tracer/base/err.h"
#include "../tracer/tracer.h"

struct vt_writer;

/* One merge in progress. Initialize with vt_combine_init, add documents,
 * then vt_combine_finish (which writes the tail and frees everything). */
struct vt_combine {
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
 * empty (vt_combine_abort is still safe). */
enum vt_err vt_combine_init(struct vt_combine *c, const char *path, int align, int *errnum);

/* Parses one document (len bytes of JSON text, not compressed; borrowed)
 * and appends its events. Returns VT_ERR_FORMAT, having written nothing,
 * when the text is not a trace (not JSON, no "traceEvents" array). */
enum vt_err vt_combine_add(struct vt_combine *c, const char *text, size_t len);

/* Writes the merged metadata and file_info, renames the output into place,
 * and frees what c owns. *count gets the number of events written. On
 * failure nothing appears at the path; errno detail is in *errnum. */
enum vt_err vt_combine_finish(struct vt_combine *c, uint64_t *count, int *errnum);

/* Drops a merge in progress (removes the temporary file). Safe on a
 * finished or failed-init struct. */
void vt_combine_abort(struct vt_combine *c);

/* command */

/* The --combine command: checks that all n inputs exist (else prints
 * "viztracer: No such file as X" and returns VT_ERR_NOFILE), merges the
 * readable ones into output (.json, .gz, or .html through html, which may
 * be NULL), warning on stderr about each invalid input it skips, and prints
 * the summary unless quiet. Returns VT_ERR_FORMAT when no input was valid;
 * every failure has printed its one line. */
enum vt_err vt_combine_run(char *const *inputs, size_t n, int align, const char *output,
                           vt_tracer_html_fn html, int quiet);

#endif
