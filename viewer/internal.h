/* internal.h: what the viewer's files share with each other (vt_viewer__*).
 *
 * viewer.c owns the daemon and struct vt_viewer; routes.c answers requests;
 * trace.c reads trace files and writes the standalone HTML; scan.c holds the
 * pure parsers (request paths, top-level JSON keys) that the fuzz targets
 * drive; the UI page itself is generated into build/gen/viewer_assets.c.
 */
#ifndef VT_VIEWER_INTERNAL_H
#define VT_VIEWER_INTERNAL_H

#include <stddef.h>

#include <microhttpd.h>

#include "../tracer/base/buf.h"
#include "../tracer/base/err.h"
#include "viewer.h"

/* What the server was started on. */
enum vt_viewer_mode {
    VT_VIEWER_MODE_JSON, /* one .json trace */
    VT_VIEWER_MODE_GZ,   /* one .json.gz trace */
    VT_VIEWER_MODE_HTML, /* one standalone .html report: every GET returns it */
    VT_VIEWER_MODE_DIR   /* a folder: listing at /, traces under /view/<rel> */
};

/* Internal type: the running server. Touched by the MHD thread (routes.c)
 * and by the thread in vt_viewer_wait(); they talk only through wake_fd. */
struct vt_viewer {
    struct MHD_Daemon *daemon; /* owned; stopped in vt_viewer_destroy() */
    enum vt_viewer_mode mode;  /* set once by create */
    char *path;                /* owned; realpath of the file or folder served */
    int port;                  /* the bound port */
    int once;                  /* options: return from wait when served */
    int timeout_s;             /* options: once idle timeout in seconds */
    int flamegraph;            /* options: UI opens on the flame graph */
    int wake_fd[2];            /* owned pipe: 'r' request, 's' served, 'q' stop */
    char *page_gz;             /* owned; gzip of the UI page, made at create */
    size_t page_gz_len;        /* bytes of page_gz */
    char *file_info;           /* owned; cached /file_info JSON; MHD thread only */
    size_t file_info_len;      /* bytes of file_info */
    char *allowed_host;        /* owned; host accepted in the Host header */
};

/* assets (build/gen/viewer_assets.c) */

/* The UI page: HTML with the bundled script and styles inline, and the
 * VT_VIEWER_DATA_MARK comment where the standalone report puts its trace. */
extern const unsigned char vt_viewer_assets_html[];
extern const unsigned int vt_viewer_assets_html_len;
#define VT_VIEWER_DATA_MARK "<!--VT_TRACE_DATA-->"

/* scan.c: pure parsers, no I/O */

/* Checks a relative request path such as "sub/a.json" (already %-decoded):
 * returns VT_OK when it is a non-empty path of non-empty segments with no
 * ".", "..", hidden (".x") segment, leading '/', backslash or control
 * character, and at most 4095 bytes; VT_ERR_USAGE otherwise. */
enum vt_err vt_viewer__path_check(const char *rel);

/* Finds the value of key among the top-level members of the JSON object in
 * json[0..len): on VT_OK, *start and *end delimit the value's bytes. Nested
 * objects are skipped, never searched. Returns VT_ERR_NOFILE when the key is
 * absent and VT_ERR_FORMAT when the text is not a well-nested JSON object
 * (strings, escapes and brackets are checked; numbers and literals are not). */
enum vt_err vt_viewer__json_find_key(const char *json, size_t len, const char *key, size_t *start,
                                     size_t *end);

/* Appends s with &, <, >, " and ' written as HTML entities. */
enum vt_err vt_viewer__html_escape(struct vt_buf *b, const char *s);

/* Appends s %-encoded for use as a URL path ('/' kept). */
enum vt_err vt_viewer__url_escape(struct vt_buf *b, const char *s);

/* Returns the mode a file name asks for, or -1 for an unsupported type. */
int vt_viewer__mode_of(const char *name);

/* trace.c: trace files */

/* Reads a whole trace file, gunzipping .gz (any gzip stream) on the way, into
 * b (capped by b->max). Returns VT_ERR_NOFILE / VT_ERR_IO with *errnum set,
 * VT_ERR_FORMAT for a corrupt gzip stream, or VT_ERR_TOOBIG. */
enum vt_err vt_viewer__load(const char *path, struct vt_buf *b, int *errnum);

/* gzip-compresses data[0..len) at the given zlib level into an owned
 * buffer (*out, free with free()) of *out_len bytes. Can't fail (aborts on OOM). */
void vt_viewer__gzip(const void *data, size_t len, int level, char **out, size_t *out_len);

/* routes.c */

/* The MHD access handler: the route table, one respond() helper. */
enum MHD_Result vt_viewer__handle(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req);

/* The MHD completion callback: frees per-request state, reports served traces. */
void vt_viewer__completed(void *cls, struct MHD_Connection *c, void **req,
                          enum MHD_RequestTerminationCode toe);

#endif
