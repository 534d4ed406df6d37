/* folder.c: folder mode's servers of one trace each, as VizTracer's
 * DirectoryViewer starts them.
 *
 * The folder's server lists the traces; asking it for one of them
 * ("/sub/a.json") redirects to a server of that trace alone, started on the
 * first free port of port+1 ... port+VT_VIEWER_FOLDER_MAX (any free port when
 * the folder's own port was 0). A server idle for longer than --timeout is
 * stopped when another trace is opened; when all ports are taken the most
 * idle one makes room. Runs on the folder server's MHD thread only (and in
 * vt_viewer_destroy() after that thread stopped), so the table needs no
 * lock; each trace server writes only its own last_request.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "../tracer/base/mem.h"

int64_t
vt_viewer__now_ms(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static void
drop(struct vt_viewer__sub *s)
{
    vt_viewer_destroy(s->server);
    free(s->path);
    s->server = NULL;
    s->path = NULL;
}

/* Milliseconds since the last request to s's server. */
static int64_t
idle_ms(const struct vt_viewer__sub *s, int64_t now)
{
    return now - atomic_load(&s->server->last_request_ms);
}

/* Stops the servers idle for longer than the timeout; with force, and when
 * none was, the most idle one (VizTracer's clean_servers). */
static void
clean(struct vt_viewer *v, int force)
{
    int64_t now = vt_viewer__now_ms(), limit = (int64_t)v->timeout_s * 1000;
    int removed = 0, worst = -1;
    for (int i = 0; i < VT_VIEWER_FOLDER_MAX; i++) {
        struct vt_viewer__sub *s = &v->subs[i];
        if (s->server == NULL)
            continue;
        if (idle_ms(s, now) > limit) {
            drop(s);
            removed = 1;
        } else if (worst < 0 || idle_ms(s, now) > idle_ms(&v->subs[worst], now)) {
            worst = i;
        }
    }
    if (force && !removed && worst >= 0)
        drop(&v->subs[worst]);
}

/* Starts a server for path on a free slot; returns its slot or -1. */
static int
start(struct vt_viewer *v, const char *path)
{
    int used = 0;
    for (int i = 0; i < VT_VIEWER_FOLDER_MAX; i++)
        used += v->subs[i].server != NULL;
    clean(v, used == VT_VIEWER_FOLDER_MAX);
    for (int i = 0; i < VT_VIEWER_FOLDER_MAX; i++) {
        struct vt_viewer__sub *s = &v->subs[i];
        if (s->server != NULL)
            continue;
        struct vt_viewer_options o;
        vt_viewer_options_init(&o);
        o.path = path;
        o.host = v->host;
        o.port = v->asked_port == 0 ? 0 : v->asked_port + 1 + i;
        o.server_only = 1;
        o.timeout_s = v->timeout_s;
        o.flamegraph = v->flamegraph;
        o.quiet = 1;
        int errnum = 0;
        if (vt_viewer_create(&o, &s->server, &errnum) != VT_OK) {
            s->server = NULL;
            if (errnum == EADDRINUSE)
                continue; /* another program holds this port: the next slot's */
            return -1;
        }
        s->path = vt_xstrdup(path);
        return i;
    }
    return -1;
}

int
vt_viewer__folder_port(struct vt_viewer *v, const char *path)
{
    for (int i = 0; i < VT_VIEWER_FOLDER_MAX; i++) {
        struct vt_viewer__sub *s = &v->subs[i];
        if (s->server != NULL && strcmp(s->path, path) == 0)
            return vt_viewer_port(s->server);
    }
    int i = start(v, path);
    return i < 0 ? -1 : vt_viewer_port(v->subs[i].server);
}

void
vt_viewer__folder_free(struct vt_viewer *v)
{
    for (int i = 0; i < VT_VIEWER_FOLDER_MAX; i++) {
        if (v->subs[i].server != NULL)
            drop(&v->subs[i]);
    }
}
