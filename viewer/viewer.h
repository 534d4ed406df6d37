/* viewer.h: vizviewer, the embedded HTTP viewer of trace files.
 *
 * Serves one trace (.json, .json.gz, .html) or a folder of traces on
 * 127.0.0.1 with libmicrohttpd, together with the browser UI that the build
 * bundles from viewer/web/ and embeds into the executable. Also writes the
 * standalone HTML report (UI and trace in one file). The launcher calls
 * vt_viewer_main() for `vizviewer ...` and `viztracer view ...`; the tests
 * drive the server through vt_viewer_create() with port 0.
 */
#ifndef VT_VIEWER_VIEWER_H
#define VT_VIEWER_VIEWER_H

#include <stddef.h>

#include "../tracer/base/err.h"

/* What to serve and how; fill with vt_viewer_options_init() first. */
struct vt_viewer_options {
    const char *path; /* borrowed; trace file or folder to serve */
    const char *host; /* borrowed; address to bind, "127.0.0.1" by default */
    int port;         /* TCP port; 0 picks a free one (tests) */
    int server_only;  /* 1: do not open a browser */
    int once;         /* 1: vt_viewer_wait() returns once the trace was served */
    int timeout_s;    /* with once: seconds without a request before giving up */
    int flamegraph;   /* 1: the UI opens on its flame graph tab */
    int quiet;        /* 1: print nothing (tests) */
};

struct vt_viewer; /* opaque; one running server */

/* server */

/* Sets the defaults: result.json, 127.0.0.1, port 9001, timeout 10 s. Can't fail. */
void vt_viewer_options_init(struct vt_viewer_options *o);

/* Starts a server for o->path; it runs on its own thread until
 * vt_viewer_destroy(). Returns VT_ERR_NOFILE for a missing path, VT_ERR_USAGE
 * for an unsupported file type or host, VT_ERR_IO when the socket cannot be
 * bound (*errnum gets the saved errno: EADDRINUSE for a port in use). Prints
 * nothing: vt_viewer_main() writes the user's message. *out is owned by the
 * caller and freed with vt_viewer_destroy(). */
enum vt_err vt_viewer_create(const struct vt_viewer_options *o, struct vt_viewer **out,
                             int *errnum);

/* The TCP port the server listens on (useful after port 0). Can't fail. */
int vt_viewer_port(const struct vt_viewer *v);

/* Blocks until vt_viewer_stop() is called or, with once, until the trace has
 * been sent whole or no request came for timeout_s seconds. Returns VT_OK, or
 * VT_ERR_STATE when the once timeout fired before the trace was served. */
enum vt_err vt_viewer_wait(struct vt_viewer *v);

/* Makes vt_viewer_wait() return. Async-signal-safe (writes one byte to a pipe). */
void vt_viewer_stop(struct vt_viewer *v);

/* Stops the server and frees everything. destroy(NULL) does nothing. */
void vt_viewer_destroy(struct vt_viewer *v);

/* commands */

/* `vizviewer [options] path`; argv[0] is the program name ("vizviewer" or
 * "view"). Prints its own messages and returns the exit status: 0, 1 for a
 * missing file / port in use / bad type, 2 for a usage error. */
int vt_viewer_main(int argc, char **argv);

/* For `viztracer --open`: serves path once (port 9001, or any free port when
 * 9001 is taken), opens the browser and returns the exit status when the trace
 * was served or after 10 s without a request. */
int vt_viewer_open_once(const char *path);

/* standalone HTML */

/* The largest trace (bytes of JSON) a standalone report holds: the page
 * parses it whole, and past this the tab's heap would pass 1 GB. */
#define VT_VIEWER_HTML_MAX ((size_t)128 << 20)

/* Writes html_path: one self-contained HTML file holding the UI and the trace
 * of json_path (.json or .json.gz), which opens from file:// with no server.
 * A trace above VT_VIEWER_HTML_MAX is not written into a page: it is kept as
 * the .json beside html_path (X.html -> X.json, a hard link of json_path,
 * unless that name exists) and VT_ERR_TOOBIG comes back with one line in
 * msg[msglen] (msg may be NULL) saying where it is and to open it with
 * vizviewer, which indexes large traces on the server.
 * Every '<' of the trace is written as \u003c, so no "</script>" can end the
 * data block. Writes to html_path.tmp.<pid> and renames, so the file appears
 * whole or not at all. Returns VT_ERR_NOFILE / VT_ERR_IO (with *errnum the
 * saved errno, when errnum is not NULL) or VT_ERR_FORMAT when the trace does
 * not start with '{'. Prints nothing. */
enum vt_err vt_viewer_write_html(const char *json_path, const char *html_path, int *errnum,
                                 char *msg, size_t msglen);

#endif
