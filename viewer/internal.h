/* internal.h: what the viewer's files share with each other (vt_viewer__*).
 *
 * viewer.c owns the daemon and struct vt_viewer; routes.c answers requests;
 * trace.c compresses responses and writes the standalone HTML; scan.c holds
 * the pure parsers (request paths, file names) that the fuzz target drives;
 * trace files are loaded and scanned by tracer/format/ (format.h); the UI
 * page itself is generated into build/gen/viewer_assets.c.
 */
#ifndef VT_VIEWER_INTERNAL_H
#define VT_VIEWER_INTERNAL_H

#include <stdatomic.h>
#include <stddef.h>
#include <stdint.h>

#include <microhttpd.h>

#include "../tracer/base/buf.h"
#include "../tracer/base/err.h"
#include "../tracer/format/format.h"
#include "viewer.h"

/* What the server was started on. */
enum vt_viewer_mode {
    VT_VIEWER_MODE_JSON, /* one .json trace */
    VT_VIEWER_MODE_GZ,   /* one .json.gz trace */
    VT_VIEWER_MODE_HTML, /* one standalone .html report: every GET returns it */
    VT_VIEWER_MODE_DIR   /* a folder: listing at /, traces under /view/<rel> */
};

/* Folder mode: at most this many servers of one trace each, on port+1 ... */
#define VT_VIEWER_FOLDER_MAX 10

/* One of them (folder.c). */
struct vt_viewer__sub {
    char *path;               /* owned realpath of its trace, or NULL when the slot is free */
    struct vt_viewer *server; /* owned, or NULL */
};

/* Internal type: the running server. Touched by the MHD thread (routes.c)
 * and by the thread in vt_viewer_wait(); they talk only through wake_fd. */
struct vt_viewer {
    struct MHD_Daemon *daemon;       /* owned; stopped in vt_viewer_destroy() */
    enum vt_viewer_mode mode;        /* set once by create */
    char *path;                      /* owned; realpath of the file or folder served */
    int port;                        /* the bound port */
    int once;                        /* options: return from wait when served */
    int timeout_s;                   /* options: once idle timeout in seconds */
    int flamegraph;                  /* options: UI opens on the flame graph */
    int wake_fd[2];                  /* owned pipe: 'r' request, 's' served, 'q' stop */
    char *page_gz;                   /* owned; gzip of the UI page, made at create */
    size_t page_gz_len;              /* bytes of page_gz */
    char *file_info;                 /* owned; cached /file_info JSON; MHD thread only */
    size_t file_info_len;            /* bytes of file_info */
    char *allowed_host;              /* owned; host accepted in the Host header */
    char *host;                      /* owned; the address bound, as given */
    int asked_port;                  /* options: the port asked for (0: any) */
    _Atomic int64_t last_request_ms; /* vt_viewer__now_ms() of the last request */
    struct vt_viewer__sub subs[VT_VIEWER_FOLDER_MAX]; /* folder mode; folder.c */
    struct vt_viewer_api *api; /* owned; the indexes of large traces (api.c), or NULL */
};

struct vt_viewer_api;

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

/* Appends s with &, <, >, " and ' written as HTML entities. */
enum vt_err vt_viewer__html_escape(struct vt_buf *b, const char *s);

/* Appends s %-encoded for use as a URL path ('/' kept). */
enum vt_err vt_viewer__url_escape(struct vt_buf *b, const char *s);

/* Returns the mode a file name asks for, or -1 for an unsupported type. */
int vt_viewer__mode_of(const char *name);

/* trace.c: responses and the standalone report */

/* gzip-compresses data[0..len) at the given zlib level into an owned
 * buffer (*out, free with free()) of *out_len bytes. Can't fail (aborts on OOM). */
void vt_viewer__gzip(const void *data, size_t len, int level, char **out, size_t *out_len);

/* folder.c: the servers of one trace each (folder server's MHD thread only) */

/* CLOCK_MONOTONIC in milliseconds. Can't fail. */
int64_t vt_viewer__now_ms(void);

/* The port of the server of the trace at path (a realpath under the folder),
 * started now when there is none (VizTracer's DirectoryViewer.get_link), or
 * -1 when it cannot be started. */
int vt_viewer__folder_port(struct vt_viewer *v, const char *path);

/* Stops and frees every trace server of v. Can't fail. */
void vt_viewer__folder_free(struct vt_viewer *v);

/* routes.c */

/* The MHD access handler: the route table, one respond() helper. */
enum MHD_Result vt_viewer__handle(void *cls, struct MHD_Connection *c, const char *url,
                                  const char *method, const char *version, const char *upload_data,
                                  size_t *upload_size, void **req);

/* The MHD completion callback: frees per-request state, reports served traces. */
void vt_viewer__completed(void *cls, struct MHD_Connection *c, void **req,
                          enum MHD_RequestTerminationCode toe);

/* Sends data[0..len) (owned, moves to MHD) as application/json. */
enum MHD_Result vt_viewer__respond_json(struct MHD_Connection *c, unsigned int status, char *data,
                                        size_t len);

/* api.c: /api/... over the indexes of large traces */

/* 1 when the trace at path is small enough for the page to load whole
 * (VIZVIEWER_WHOLE_MAX_MB). */
int vt_viewer__whole(const char *path);

/* Starts indexing path in the background (print: 1 for the terminal's
 * progress line). Can't fail: a failure is reported by /api/status. */
void vt_viewer__api_start(struct vt_viewer *v, const char *path, int print);

/* Updates the terminal's progress line of builds that print. Can't fail. */
void vt_viewer__api_tick(struct vt_viewer *v);

/* 1 while an index that prints is being built. */
int vt_viewer__api_busy(struct vt_viewer *v);

/* Waits for the builders and frees every index. Can't fail. */
void vt_viewer__api_free(struct vt_viewer *v);

/* Answers /api/<what> about the trace at path; *served becomes 1 for the
 * answer that opens the page (--once counts it). */
enum MHD_Result vt_viewer__api(struct vt_viewer *v, struct MHD_Connection *c, const char *path,
                               const char *what, int *served);

#endif
