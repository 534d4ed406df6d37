/* writer.h: streams a Chrome trace-event JSON file; no Python.
 *
 * The tracer resolves names and arguments to JSON text (escaped by cJSON,
 * once per distinct name) and hands events to the writer one by one; the
 * writer formats numbers from integer nanoseconds and writes through a fixed
 * buffer, so memory stays bounded however many events there are. The file is
 * written under a temporary name and renamed on vt_writer_close(): it
 * appears whole or not at all. The format is in tracer/FORMAT.md.
 */
#ifndef VT_TRACER_WRITER_H
#define VT_TRACER_WRITER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

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

#endif
