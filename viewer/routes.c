/* routes.c: what the server answers, as a table of path, match and handler.
 *
 * Runs on the MHD thread only. Every handler builds a struct body and hands
 * it to respond(), the one place that creates, decorates, queues and destroys
 * responses. Paths from the request are checked by vt_viewer__path_check()
 * and resolved with realpath() under the served folder, so "..", absolute
 * paths and symlinks leading outside it all get 404.
 * Sections: request state, respond(), file helpers, handlers, the table.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tracer/base/mem.h"

#define VT_ROUTE_GZIP_MIN 1024               /* bytes; smaller bodies are sent as they are */
#define VT_ROUTE_GZIP_MAX ((size_t)64 << 20) /* bytes; larger traces are sent from the fd */

/* ---- request state ------------------------------------------------------ */

/* Per-request state: made on the first handler call, freed in completed(). */
struct vt_route_req {
    int serves_trace; /* 1: this response is the trace (--once counts it); 2: the
                       * tracks of an indexed trace (--once then waits for idle) */
};

/* ---- respond() ---------------------------------------------------------- */

enum body_kind {
    BODY_STATIC, /* data is compiled in or lives as long as the daemon */
    BODY_OWNED,  /* data is malloc'd; MHD frees it */
    BODY_FD      /* fd is an open file of len bytes; MHD closes it */
};

struct body {
    enum body_kind kind;  /* how data or fd is owned */
    const char *data;     /* BODY_STATIC: borrowed; BODY_OWNED: owned, moves to MHD */
    size_t len;           /* bytes */
    int fd;               /* BODY_FD: owned, moves to MHD */
    const char *type;     /* borrowed static Content-Type */
    const char *encoding; /* borrowed static Content-Encoding, or NULL */
    const char *location; /* borrowed; Location header for redirects, or NULL */
};

/* Returns 1 when the request accepts gzip (and does not say q=0 for it). */
static int
accepts_gzip(struct MHD_Connection *c)
{
    const char *ae = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Accept-Encoding");
    if (ae == NULL)
        return 0;
    const char *g = strstr(ae, "gzip");
    if (g == NULL)
        return 0;
    g += 4;
    while (*g == ' ')
        g++;
    return !(strncmp(g, ";q=0", 4) == 0 && strspn(g + 4, ".0") == strlen(g + 4));
}

/* Creates, queues and destroys the response for b, compressing memory bodies
 * when the client accepts gzip. Takes ownership of an owned body or fd. */
static enum MHD_Result
respond(struct MHD_Connection *c, unsigned int status, struct body b)
{
    struct MHD_Response *resp;
    if (b.kind != BODY_FD && b.encoding == NULL && b.len >= VT_ROUTE_GZIP_MIN && accepts_gzip(c)) {
        char *gz;
        size_t gz_len;
        vt_viewer__gzip(b.data, b.len, 6, &gz, &gz_len);
        if (b.kind == BODY_OWNED)
            free((void *)(uintptr_t)b.data);
        b.kind = BODY_OWNED;
        b.data = gz;
        b.len = gz_len;
        b.encoding = "gzip";
    }
    if (b.kind == BODY_FD)
        resp = MHD_create_response_from_fd64(b.len, b.fd);
    else
        resp = MHD_create_response_from_buffer(b.len, (void *)(uintptr_t)b.data,
                                               b.kind == BODY_OWNED ? MHD_RESPMEM_MUST_FREE
                                                                    : MHD_RESPMEM_PERSISTENT);
    if (resp == NULL) {
        if (b.kind == BODY_FD)
            close(b.fd);
        else if (b.kind == BODY_OWNED)
            free((void *)(uintptr_t)b.data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, b.type);
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_VARY, "Accept-Encoding");
    if (b.encoding != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_ENCODING, b.encoding);
    if (b.location != NULL)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_LOCATION, b.location);
    if (status == MHD_HTTP_METHOD_NOT_ALLOWED)
        MHD_add_response_header(resp, MHD_HTTP_HEADER_ALLOW, "GET, HEAD");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

enum MHD_Result
vt_viewer__respond_json(struct MHD_Connection *c, unsigned int status, char *data, size_t len)
{
    /* not through respond(): never compressed, since on loopback deflating
     * an answer costs more than sending it */
    struct MHD_Response *resp = MHD_create_response_from_buffer(len, data, MHD_RESPMEM_MUST_FREE);
    if (resp == NULL) {
        free(data);
        return MHD_NO;
    }
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CONTENT_TYPE, "application/json");
    MHD_add_response_header(resp, MHD_HTTP_HEADER_CACHE_CONTROL, "no-store");
    MHD_add_response_header(resp, "X-Content-Type-Options", "nosniff");
    enum MHD_Result ret = MHD_queue_response(c, status, resp);
    MHD_destroy_response(resp);
    return ret;
}

static enum MHD_Result
respond_text(struct MHD_Connection *c, unsigned int status, const char *text)
{
    struct body b = {BODY_STATIC, text, strlen(text), -1, "text/plain; charset=utf-8", NULL, NULL};
    return respond(c, status, b);
}

static enum MHD_Result
not_found(struct MHD_Connection *c)
{
    return respond_text(c, MHD_HTTP_NOT_FOUND, "404 not found\n");
}

/* ---- file helpers ------------------------------------------------------- */

/* Resolves the request path rel under the served folder. Returns an owned
 * real path (free()), or NULL when rel is refused, missing, or leads outside
 * the folder. want_dir: 1 for a folder, 0 for a regular file. */
static char *
resolve(const struct vt_viewer *v, const char *rel, int want_dir)
{
    if (rel[0] == '\0' && want_dir)
        return vt_xstrdup(v->path);
    if (vt_viewer__path_check(rel) != VT_OK)
        return NULL;
    struct vt_buf joined;
    vt_buf_init(&joined, PATH_MAX);
    if (vt_buf_printf(&joined, "%s/%s", v->path, rel) != VT_OK)
        return NULL;
    char *real = realpath(joined.data, NULL);
    vt_buf_fini(&joined);
    if (real == NULL)
        return NULL;
    size_t n = strlen(v->path);
    struct stat st;
    int inside = strncmp(real, v->path, n) == 0 && (real[n] == '/' || real[n] == '\0');
    if (!inside || stat(real, &st) != 0 ||
        (want_dir ? !S_ISDIR(st.st_mode) : !S_ISREG(st.st_mode))) {
        free(real);
        return NULL;
    }
    return real;
}

/* The trace file a request is about: the served file, or ?file= in a folder. */
static char *
trace_path(const struct vt_viewer *v, struct MHD_Connection *c)
{
    if (v->mode != VT_VIEWER_MODE_DIR)
        return vt_xstrdup(v->path);
    const char *rel = MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "file");
    if (rel == NULL)
        return NULL;
    char *p = resolve(v, rel, 0);
    if (p != NULL && vt_viewer__mode_of(p) < 0) {
        free(p);
        return NULL;
    }
    return p;
}

/* Sends the file at path (owned by the caller) whole from its fd. */
static enum MHD_Result
send_file(struct MHD_Connection *c, const char *path, const char *type, const char *encoding)
{
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    struct stat st;
    if (fd < 0)
        return not_found(c);
    if (fstat(fd, &st) != 0) {
        close(fd);
        return not_found(c);
    }
    struct body b = {BODY_FD, NULL, (size_t)st.st_size, fd, type, encoding, NULL};
    return respond(c, MHD_HTTP_OK, b);
}

/* Sends a trace: the file's bytes, gzip-encoded when the browser accepts it
 * (a .gz file as it is; a .json up to VT_ROUTE_GZIP_MAX compressed here, a
 * larger one from the fd, since loopback is faster than deflate; a .vzt
 * decoded to its JSON, whatever its size). A client that does not accept
 * gzip gets a .gz file as it is too, as application/gzip with no
 * Content-Encoding: VizTracer's server sends it so. */
static enum MHD_Result
send_trace(struct MHD_Connection *c, const char *path)
{
    static const char json[] = "application/json";
    int gz_file = vt_viewer__mode_of(path) == VT_VIEWER_MODE_GZ;
    size_t n = strlen(path);
    int vzt = n > 4 && strcmp(path + n - 4, ".vzt") == 0; /* always decoded here */
    int gz_ok = accepts_gzip(c);
    struct stat st;
    if (stat(path, &st) != 0)
        return not_found(c);
    if (gz_file && gz_ok)
        return send_file(c, path, json, "gzip");
    if (gz_file)
        return send_file(c, path, "application/gzip", NULL);
    if (!gz_file && !vzt && (!gz_ok || (size_t)st.st_size > VT_ROUTE_GZIP_MAX))
        return send_file(c, path, json, NULL);
    char *data; /* owned, then by out */
    size_t len;
    if (vt_format_load(path, &data, &len, NULL, NULL, 0) != VT_OK)
        return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "cannot read the trace\n");
    struct body out = {BODY_OWNED, data, len, -1, json, NULL, NULL};
    if (gz_ok) {
        /* level 1: several times faster than 6 on trace JSON, still ~10:1 */
        vt_viewer__gzip(data, len, 1, (char **)&out.data, &out.len);
        free(data);
        out.encoding = "gzip";
    }
    return respond(c, MHD_HTTP_OK, out);
}

/* ---- handlers ----------------------------------------------------------- */

typedef enum MHD_Result (*route_fn)(struct vt_viewer *v, struct MHD_Connection *c, const char *rest,
                                    struct vt_route_req *r);

/* The UI page (gzip made once at start). */
static enum MHD_Result
route_page(struct vt_viewer *v, struct MHD_Connection *c, const char *rest, struct vt_route_req *r)
{
    (void)rest;
    (void)r;
    struct body b = {BODY_STATIC, (const char *)vt_viewer_assets_html, vt_viewer_assets_html_len,
                     -1,          "text/html; charset=utf-8",          NULL,
                     NULL};
    if (accepts_gzip(c)) {
        b.data = v->page_gz;
        b.len = v->page_gz_len;
        b.encoding = "gzip";
    }
    return respond(c, MHD_HTTP_OK, b);
}

/* HTML mode: every GET answers the report itself. */
static enum MHD_Result
route_html(struct vt_viewer *v, struct MHD_Connection *c, const char *rest, struct vt_route_req *r)
{
    (void)rest;
    r->serves_trace = 1;
    return send_file(c, v->path, "text/html; charset=utf-8", NULL);
}

/* VizTracer 1.1's answer, {}; with --flamegraph (a 0.15.6 option, which
 * 1.1 removed) 0.15.6's {"is_flamegraph": true}, which opens our page on
 * its flame graph. */
static enum MHD_Result
route_info(struct vt_viewer *v, struct MHD_Connection *c, const char *rest, struct vt_route_req *r)
{
    (void)rest;
    (void)r;
    const char *info = v->flamegraph ? "{\"is_flamegraph\":true}" : "{}";
    struct body out = {BODY_STATIC, info, strlen(info), -1, "application/json", NULL, NULL};
    return respond(c, MHD_HTTP_OK, out);
}

static enum MHD_Result
route_localtrace(struct vt_viewer *v, struct MHD_Connection *c, const char *rest,
                 struct vt_route_req *r)
{
    (void)rest;
    (void)r; /* --once counts /file_info, the page's last request */
    char *path = trace_path(v, c);
    if (path == NULL)
        return not_found(c);
    enum MHD_Result ret = send_trace(c, path);
    free(path);
    return ret;
}

/* The trace's top-level file_info member, or {} (cached for the served file).
 * As in VizTracer 1.1, the page asks for it last, after the trace: --once
 * counts the trace served when it has been sent. */
static enum MHD_Result
route_file_info(struct vt_viewer *v, struct MHD_Connection *c, const char *rest,
                struct vt_route_req *r)
{
    (void)rest;
    char *path = trace_path(v, c);
    if (path == NULL)
        return not_found(c);
    if (!vt_viewer__whole(path)) {
        /* a large trace: from its index's span, never by loading it whole */
        enum MHD_Result ret = vt_viewer__api(v, c, path, "file_info", &(int){0});
        free(path);
        return ret;
    }
    r->serves_trace = 1;
    int cache = v->mode != VT_VIEWER_MODE_DIR;
    if (!cache || v->file_info == NULL) {
        char *text = NULL; /* owned: the whole trace */
        size_t text_len = 0;
        const char *start = NULL, *end = NULL;
        char *info;
        size_t info_len;
        if (vt_format_load(path, &text, &text_len, NULL, NULL, 0) == VT_OK &&
            vt_jscan_member(text, text_len, "file_info", &start, &end) == 0) {
            info = vt_xstrndup(start, (size_t)(end - start));
            info_len = (size_t)(end - start);
        } else {
            info = vt_xstrdup("{}");
            info_len = 2;
        }
        free(text);
        if (!cache) {
            free(path);
            struct body out = {BODY_OWNED, info, info_len, -1, "application/json", NULL, NULL};
            return respond(c, MHD_HTTP_OK, out);
        }
        v->file_info = info;
        v->file_info_len = info_len;
    }
    free(path);
    struct body out = {BODY_STATIC, v->file_info, v->file_info_len, -1, "application/json",
                       NULL,        NULL};
    return respond(c, MHD_HTTP_OK, out);
}

/* /api/<what>: the index of a large trace (api.c). */
static enum MHD_Result
route_api(struct vt_viewer *v, struct MHD_Connection *c, const char *rest, struct vt_route_req *r)
{
    char *path = trace_path(v, c);
    if (path == NULL)
        return not_found(c);
    int served = 0;
    enum MHD_Result ret = vt_viewer__api(v, c, path, rest, &served);
    if (served)
        r->serves_trace = 2;
    free(path);
    return ret;
}

static int
cmp_names(const void *a, const void *b)
{
    return strcasecmp(*(char *const *)a, *(char *const *)b);
}

/* Appends one <li> of the listing for name inside rel (rel "" or "sub/"). */
static enum vt_err
list_item(struct vt_buf *b, const char *rel, const char *name, int is_dir)
{
    /* VizTracer's links: a folder lists itself, a trace opens in a new tab */
    enum vt_err err = vt_buf_adds(b, is_dir ? "<li class=\"dir\"><a href=\"/"
                                            : "<li><a target=\"_blank\" href=\"/");
    struct vt_buf link;
    vt_buf_init(&link, (size_t)2 * PATH_MAX);
    if (err == VT_OK)
        err = vt_buf_printf(&link, "%s%s%s", rel, name, is_dir ? "/" : "");
    if (err == VT_OK)
        err = vt_viewer__url_escape(b, link.data);
    if (err == VT_OK)
        err = vt_buf_adds(b, "\">");
    if (err == VT_OK)
        err = vt_viewer__html_escape(b, name);
    if (err == VT_OK)
        err = vt_buf_adds(b, is_dir ? "/</a></li>\n" : "</a></li>\n");
    vt_buf_fini(&link);
    return err;
}

/* Folder mode: sorted sub-folders and traces (.json, .json.gz, .vzt, .html). */
static enum MHD_Result
route_list(struct vt_viewer *v, struct MHD_Connection *c, const char *rest, struct vt_route_req *r)
{
    (void)r;
    size_t n = strlen(rest);
    char *rel = vt_xstrndup(rest, n > 0 && rest[n - 1] == '/' ? n - 1 : n);
    char *dir = resolve(v, rel, 1);
    DIR *d = dir != NULL ? opendir(dir) : NULL;
    if (d == NULL) {
        free(rel);
        free(dir);
        return not_found(c);
    }
    char **names = NULL;
    size_t count = 0, cap = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] == '.')
            continue;
        struct vt_buf full;
        struct stat st;
        vt_buf_init(&full, (size_t)2 * PATH_MAX);
        int is_dir = vt_buf_printf(&full, "%s/%s", dir, e->d_name) == VT_OK &&
                     stat(full.data, &st) == 0 && S_ISDIR(st.st_mode);
        vt_buf_fini(&full);
        if (!is_dir && vt_viewer__mode_of(e->d_name) < 0)
            continue;
        if (count == cap) {
            cap = cap ? 2 * cap : 32;
            names = vt_xrealloc(names, cap * sizeof(*names));
        }
        /* a trailing '/' marks folders; it sorts them among the files by name */
        size_t len = strlen(e->d_name);
        names[count] = vt_xmalloc(len + 2);
        memcpy(names[count], e->d_name, len);
        names[count][len] = is_dir ? '/' : '\0';
        names[count][len + 1] = '\0';
        count++;
    }
    closedir(d);
    if (count > 1) /* qsort() wants a non-NULL array even for 0 elements */
        qsort(names, count, sizeof(*names), cmp_names);
    struct vt_buf b;
    vt_buf_init(&b, (size_t)64 << 20);
    enum vt_err err = vt_buf_adds(&b, "<!doctype html><html><head><meta charset=\"utf-8\">"
                                      "<title>vizviewer</title></head><body><h1>");
    if (err == VT_OK)
        err = vt_viewer__html_escape(&b, rel[0] ? rel : "traces");
    if (err == VT_OK)
        err = vt_buf_adds(&b, "</h1><ul id=\"listing\">\n");
    const char *prefix = rel[0] ? "/" : "";
    struct vt_buf relslash;
    vt_buf_init(&relslash, (size_t)2 * PATH_MAX);
    if (err == VT_OK)
        err = vt_buf_printf(&relslash, "%s%s", rel, prefix);
    for (size_t i = 0; i < count; i++) {
        size_t len = strlen(names[i]);
        int is_dir = names[i][len - 1] == '/';
        if (is_dir)
            names[i][len - 1] = '\0';
        if (err == VT_OK)
            err = list_item(&b, relslash.len ? relslash.data : "", names[i], is_dir);
        free(names[i]);
    }
    free(names);
    vt_buf_fini(&relslash);
    if (err == VT_OK)
        err = vt_buf_adds(&b, "</ul></body></html>\n");
    free(rel);
    free(dir);
    if (err != VT_OK)
        return respond_text(c, MHD_HTTP_INTERNAL_SERVER_ERROR, "listing too large\n");
    size_t len;
    char *data = vt_buf_take(&b, &len);
    struct body out = {BODY_OWNED, data, len, -1, "text/html; charset=utf-8", NULL, NULL};
    return respond(c, MHD_HTTP_OK, out);
}

/* Folder mode: /<rel>/ lists a sub-folder; /<rel> of a trace redirects to a
 * server of that trace alone (folder.c), as VizTracer's DirectoryViewer; a
 * report is sent as it is. */
static enum MHD_Result
route_entry(struct vt_viewer *v, struct MHD_Connection *c, const char *rest, struct vt_route_req *r)
{
    size_t n = strlen(rest);
    if (n > 0 && rest[n - 1] == '/')
        return route_list(v, c, rest, r);
    char *path = resolve(v, rest, 0);
    int mode = path != NULL ? vt_viewer__mode_of(path) : -1;
    enum MHD_Result ret;
    if (mode < 0) {
        ret = not_found(c);
    } else if (mode == VT_VIEWER_MODE_HTML) {
        ret = send_file(c, path, "text/html; charset=utf-8", NULL);
    } else {
        int port = vt_viewer__folder_port(v, path);
        /* the name the browser reached us by (host_ok() let it in), without
         * its port, so the page keeps its host; VizTracer's own is 127.0.0.1 */
        const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
        if (host == NULL || host[0] == '\0' || host[0] == ':')
            host = "127.0.0.1";
        size_t hn =
            host[0] == '[' ? strcspn(host, "]") + (strchr(host, ']') != NULL) : strcspn(host, ":");
        struct vt_buf loc;
        vt_buf_init(&loc, 1024);
        if (port < 0 || vt_buf_printf(&loc, "http://%.*s:%d/", (int)hn, host, port) != VT_OK) {
            vt_buf_fini(&loc);
            free(path);
            return respond_text(c, MHD_HTTP_SERVICE_UNAVAILABLE, "no server could be started\n");
        }
        struct body b = {BODY_STATIC, "", 0, -1, "text/plain; charset=utf-8", NULL, loc.data};
        ret = respond(c, MHD_HTTP_FOUND, b);
        vt_buf_fini(&loc);
    }
    free(path);
    return ret;
}

/* ---- the table ---------------------------------------------------------- */

enum match {
    MATCH_EXACT,  /* url == path */
    MATCH_PREFIX, /* url starts with path; the rest is handed to the handler */
    MATCH_SUFFIX  /* url ends with path (VizTracer's own UI asks for .../localtrace) */
};

#define M_FILE ((1 << VT_VIEWER_MODE_JSON) | (1 << VT_VIEWER_MODE_GZ))
#define M_HTML (1 << VT_VIEWER_MODE_HTML)
#define M_DIR (1 << VT_VIEWER_MODE_DIR)

static const struct route {
    const char *path; /* request path or its prefix / suffix */
    enum match match; /* how path is compared */
    int modes;        /* bit mask of the modes that serve it */
    route_fn fn;      /* handler */
} routes[] = {
    {"/", MATCH_EXACT, M_FILE, route_page},
    {"/index.html", MATCH_EXACT, M_FILE, route_page},
    {"/", MATCH_EXACT, M_DIR, route_list},
    {"vizviewer_info", MATCH_SUFFIX, M_FILE | M_DIR, route_info},
    {"localtrace", MATCH_SUFFIX, M_FILE | M_DIR, route_localtrace},
    {"file_info", MATCH_SUFFIX, M_FILE | M_DIR, route_file_info},
    {"/api/", MATCH_PREFIX, M_FILE | M_DIR, route_api},
    {"/", MATCH_PREFIX, M_DIR, route_entry},
    {"", MATCH_PREFIX, M_HTML, route_html},
};

/* Returns 1 when the Host header names this machine's loopback (or is absent),
 * which keeps DNS-rebinding pages of other sites away from the traces. */
static int
host_ok(const struct vt_viewer *v, struct MHD_Connection *c)
{
    const char *host = MHD_lookup_connection_value(c, MHD_HEADER_KIND, MHD_HTTP_HEADER_HOST);
    if (host == NULL || v->allowed_host == NULL)
        return 1;
    const char *names[] = {"127.0.0.1", "localhost", "[::1]", v->allowed_host};
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
        size_t n = strlen(names[i]);
        if (strncmp(host, names[i], n) == 0 && (host[n] == '\0' || host[n] == ':'))
            return 1;
    }
    return 0;
}

enum MHD_Result
vt_viewer__handle(void *cls, struct MHD_Connection *c, const char *url, const char *method,
                  const char *version, const char *upload_data, size_t *upload_size, void **req)
{
    struct vt_viewer *v = cls;
    (void)version;
    (void)upload_data;
    if (*req == NULL) {
        *req = vt_xcalloc(1, sizeof(struct vt_route_req));
        atomic_store(&v->last_request_ms, vt_viewer__now_ms()); /* folder.c's idle clock */
        ssize_t w = write(v->wake_fd[1], "r", 1);               /* restarts the --once idle clock */
        (void)w; /* a full pipe already holds a wake-up */
        return MHD_YES;
    }
    if (*upload_size != 0) {
        *upload_size = 0; /* a body is read and dropped; the method is refused below */
        return MHD_YES;
    }
    if (strcmp(method, MHD_HTTP_METHOD_GET) != 0 && strcmp(method, MHD_HTTP_METHOD_HEAD) != 0)
        return respond_text(c, MHD_HTTP_METHOD_NOT_ALLOWED, "405 method not allowed\n");
    if (!host_ok(v, c))
        return respond_text(c, MHD_HTTP_FORBIDDEN, "403 unknown host\n");
    size_t ulen = strlen(url);
    for (size_t i = 0; i < sizeof(routes) / sizeof(routes[0]); i++) {
        const struct route *rt = &routes[i];
        size_t plen = strlen(rt->path);
        if ((rt->modes & (1 << v->mode)) == 0)
            continue;
        if (rt->match == MATCH_EXACT && strcmp(url, rt->path) == 0)
            return rt->fn(v, c, "", *req);
        if (rt->match == MATCH_PREFIX && strncmp(url, rt->path, plen) == 0)
            return rt->fn(v, c, url + plen, *req);
        if (rt->match == MATCH_SUFFIX && ulen >= plen && strcmp(url + ulen - plen, rt->path) == 0)
            return rt->fn(v, c, "", *req);
    }
    return not_found(c);
}

void
vt_viewer__completed(void *cls, struct MHD_Connection *c, void **req,
                     enum MHD_RequestTerminationCode toe)
{
    struct vt_viewer *v = cls;
    struct vt_route_req *r = *req;
    (void)c;
    if (r == NULL)
        return;
    if (r->serves_trace && toe == MHD_REQUEST_TERMINATED_COMPLETED_OK) {
        /* 'i': the page of an indexed trace, which keeps asking */
        ssize_t w = write(v->wake_fd[1], r->serves_trace == 2 ? "i" : "s", 1);
        (void)w; /* the pipe is nonblocking and drained by vt_viewer_wait() */
    }
    free(r);
    *req = NULL;
}
