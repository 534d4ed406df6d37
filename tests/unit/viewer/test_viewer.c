/* test_viewer.c: vizviewer's server over real HTTP on 127.0.0.1 (port 0).
 *
 * Every route in each mode (one .json, one .json.gz, one .html, a folder),
 * gzip, --once and its timeout, a port in use, path traversal and malformed
 * requests, plus the standalone HTML writer and the pure parsers of scan.c
 * (the /file_info scan is vt_jscan_member, tested in test_jscan.c).
 * The client is a plain socket with a receive timeout; nothing sleeps: the
 * server is ready once vt_viewer_create() returns (the socket listens).
 */
#include <check.h>
#include <errno.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <unistd.h>
#include <zlib.h>

#include "../../../tracer/base/buf.h"
#include "../../../viewer/internal.h"
#include "../../../viewer/viewer.h"

static char tmpdir[256];   /* the fixture's folder; owned by the fixture */
static char tracedir[300]; /* tmpdir/traces: what folder mode serves */

static const char trace_json[] =
    "{\"traceEvents\":[{\"ph\":\"X\",\"pid\":1,\"tid\":1,\"ts\":1.0,\"dur\":2.0,"
    "\"name\":\"f (/x/a.py:1)\"},{\"ph\":\"i\",\"pid\":1,\"tid\":1,\"ts\":2.0,"
    "\"name\":\"</script><script>alert(1)</script>\",\"s\":\"g\"}],"
    "\"viztracer_metadata\":{\"version\":\"0.1\"},"
    "\"file_info\":{\"files\":{\"/x/a.py\":[\"def f():\\n    pass\\n\",2]},"
    "\"functions\":{\"f (/x/a.py:1)\":[\"/x/a.py\",1]}}}";
static const char file_info[] = "{\"files\":{\"/x/a.py\":[\"def f():\\n    pass\\n\",2]},"
                                "\"functions\":{\"f (/x/a.py:1)\":[\"/x/a.py\",1]}}";
static const char report_html[] = "<!doctype html><title>report</title><p>standalone</p>";

static void
put(const char *rel, const char *data, size_t len)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(data, 1, len, fp), len);
    fclose(fp);
}

static void
put_gz(const char *rel, const char *data)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    gzFile gz = gzopen(path, "wb");
    ck_assert_ptr_nonnull(gz);
    ck_assert_int_eq(gzwrite(gz, data, (unsigned)strlen(data)), (int)strlen(data));
    gzclose(gz);
}

static void
setup(void)
{
    snprintf(tmpdir, sizeof(tmpdir), "/tmp/vt-viewer-test-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(tmpdir));
    snprintf(tracedir, sizeof(tracedir), "%s/traces", tmpdir);
    char path[512];
    ck_assert_int_eq(mkdir(tracedir, 0700), 0);
    snprintf(path, sizeof(path), "%s/traces/sub", tmpdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    snprintf(path, sizeof(path), "%s/traces/empty", tmpdir);
    ck_assert_int_eq(mkdir(path, 0700), 0);
    put("traces/trace.json", trace_json, strlen(trace_json));
    put("traces/Beta.json", trace_json, strlen(trace_json));
    put_gz("traces/trace.json.gz", trace_json);
    put("traces/report.html", report_html, strlen(report_html));
    put("traces/notes.txt", "x", 1);
    put("traces/.hidden.json", "{}", 2);
    put("traces/sub/inner.json", trace_json, strlen(trace_json));
    put("secret.json", "{\"secret\":1}", 12);
    snprintf(path, sizeof(path), "%s/traces/link.json", tmpdir);
    char target[512];
    snprintf(target, sizeof(target), "%s/secret.json", tmpdir);
    ck_assert_int_eq(symlink(target, path), 0);
}

static void
teardown(void)
{
    char cmd[600];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
    ck_assert_int_eq(system(cmd), 0);
}

/* One HTTP exchange: raw request text in, status / headers / body out. */
struct reply {
    int status;        /* HTTP status, 0 when none came */
    struct vt_buf raw; /* owned; the whole response */
    const char *body;  /* borrowed from raw */
    size_t body_len;   /* bytes of body */
};

static void
exchange(int port, const char *request, struct reply *r)
{
    memset(r, 0, sizeof(*r));
    vt_buf_init(&r->raw, (size_t)64 << 20);
    int fd = socket(AF_INET, SOCK_STREAM, 0);
    ck_assert_int_ge(fd, 0);
    struct timeval tv = {10, 0};
    setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
    struct sockaddr_in a;
    memset(&a, 0, sizeof(a));
    a.sin_family = AF_INET;
    a.sin_port = htons((unsigned short)port);
    a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
    ck_assert_int_eq(connect(fd, (struct sockaddr *)&a, sizeof(a)), 0);
    size_t len = strlen(request);
    ck_assert_int_eq(send(fd, request, len, MSG_NOSIGNAL), (ssize_t)len);
    char chunk[65536];
    ssize_t n;
    while ((n = recv(fd, chunk, sizeof(chunk), 0)) > 0)
        ck_assert_int_eq(vt_buf_add(&r->raw, chunk, (size_t)n), VT_OK);
    close(fd);
    if (r->raw.len > 12 && strncmp(r->raw.data, "HTTP/1.", 7) == 0)
        r->status = (int)strtol(r->raw.data + 9, NULL, 10);
    const char *sep = r->raw.len ? strstr(r->raw.data, "\r\n\r\n") : NULL;
    if (sep != NULL) {
        r->body = sep + 4;
        r->body_len = r->raw.len - (size_t)(r->body - r->raw.data);
    }
}

/* GET path with optional extra header lines ("" for none). */
static void
get(int port, const char *path, const char *headers, struct reply *r)
{
    struct vt_buf req;
    vt_buf_init(&req, 1 << 20);
    ck_assert_int_eq(vt_buf_printf(&req,
                                   "GET %s HTTP/1.1\r\nHost: 127.0.0.1:%d\r\n"
                                   "Connection: close\r\n%s\r\n",
                                   path, port, headers),
                     VT_OK);
    exchange(port, req.data, r);
    vt_buf_fini(&req);
}

static int
has_header(const struct reply *r, const char *line)
{
    size_t head = r->body ? (size_t)(r->body - r->raw.data) : r->raw.len;
    size_t n = strlen(line);
    for (size_t i = 0; i + n <= head; i++) {
        if (strncasecmp(r->raw.data + i, line, n) == 0)
            return 1;
    }
    return 0;
}

static void
reply_fini(struct reply *r)
{
    vt_buf_fini(&r->raw);
}

/* Inflates a gzip body; returns an owned NUL-terminated string. */
static char *
gunzip(const char *data, size_t len, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    ck_assert_int_eq(inflateInit2(&zs, 15 + 16), Z_OK);
    size_t cap = 1 << 22;
    char *out = malloc(cap);
    zs.next_in = (Bytef *)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)out;
    zs.avail_out = (uInt)cap - 1;
    ck_assert_int_eq(inflate(&zs, Z_FINISH), Z_STREAM_END);
    *out_len = zs.total_out;
    out[zs.total_out] = '\0';
    inflateEnd(&zs);
    return out;
}

static struct vt_viewer *
start(const char *rel, int once, int timeout_s)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/%s", tmpdir, rel);
    struct vt_viewer_options o;
    vt_viewer_options_init(&o);
    o.path = path;
    o.port = 0;
    o.server_only = 1;
    o.quiet = 1;
    o.once = once;
    o.timeout_s = timeout_s;
    struct vt_viewer *v;
    int errnum;
    ck_assert_int_eq(vt_viewer_create(&o, &v, &errnum), VT_OK);
    ck_assert_int_gt(vt_viewer_port(v), 0);
    return v;
}

/* ---- file mode --------------------------------------------------------- */

START_TEST(test_viewer_page_and_info)
{
    struct vt_viewer *v = start("traces/trace.json", 0, 0);
    int port = vt_viewer_port(v);
    struct reply r;
    get(port, "/", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, vt_viewer_assets_html_len);
    ck_assert(memcmp(r.body, vt_viewer_assets_html, r.body_len) == 0);
    ck_assert(has_header(&r, "Content-Type: text/html"));
    ck_assert(has_header(&r, "Cache-Control: no-store"));
    reply_fini(&r);
    get(port, "/index.html", "", &r);
    ck_assert_int_eq(r.status, 200);
    reply_fini(&r);
    get(port, "/vizviewer_info", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, "{}"); /* VizTracer 1.1's answer */
    reply_fini(&r);
    get(port, "/nope", "", &r);
    ck_assert_int_eq(r.status, 404);
    reply_fini(&r);
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_localtrace_and_file_info)
{
    struct vt_viewer *v = start("traces/trace.json", 0, 0);
    int port = vt_viewer_port(v);
    struct reply r;
    get(port, "/localtrace", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, trace_json);
    ck_assert(has_header(&r, "Content-Type: application/json"));
    reply_fini(&r);
    /* VizTracer's UI asks with a prefix: the routes match on the suffix */
    get(port, "/some/prefix/localtrace", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, strlen(trace_json));
    reply_fini(&r);
    for (int i = 0; i < 2; i++) { /* the second answer comes from the cache */
        get(port, "/file_info", "", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, file_info);
        reply_fini(&r);
    }
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_head_request)
{
    struct vt_viewer *v = start("traces/trace.json", 0, 0);
    int port = vt_viewer_port(v);
    struct reply r;
    exchange(port, "HEAD /localtrace HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, 0);
    reply_fini(&r);
    vt_viewer_destroy(v);
}
END_TEST

/* ---- gzip -------------------------------------------------------------- */

START_TEST(test_viewer_gzip_when_accepted)
{
    struct vt_viewer *v = start("traces/trace.json", 0, 0);
    int port = vt_viewer_port(v);
    struct reply r;
    size_t len;
    get(port, "/", "Accept-Encoding: gzip, deflate\r\n", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert(has_header(&r, "Content-Encoding: gzip"));
    char *page = gunzip(r.body, r.body_len, &len);
    ck_assert_uint_eq(len, vt_viewer_assets_html_len);
    free(page);
    reply_fini(&r);
    get(port, "/localtrace", "Accept-Encoding: gzip\r\n", &r);
    ck_assert(has_header(&r, "Content-Encoding: gzip"));
    char *trace = gunzip(r.body, r.body_len, &len);
    ck_assert_str_eq(trace, trace_json);
    free(trace);
    reply_fini(&r);
    get(port, "/localtrace", "Accept-Encoding: gzip;q=0\r\n", &r);
    ck_assert(!has_header(&r, "Content-Encoding"));
    ck_assert_str_eq(r.body, trace_json);
    reply_fini(&r);
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_gz_trace)
{
    struct vt_viewer *v = start("traces/trace.json.gz", 0, 0);
    int port = vt_viewer_port(v);
    struct reply r;
    get(port, "/localtrace", "", &r); /* no gzip accepted: the file as it is, as VizTracer */
    ck_assert_int_eq(r.status, 200);
    ck_assert(has_header(&r, "Content-Type: application/gzip"));
    ck_assert(!has_header(&r, "Content-Encoding"));
    size_t raw_len;
    char *raw = gunzip(r.body, r.body_len, &raw_len);
    ck_assert_str_eq(raw, trace_json);
    free(raw);
    reply_fini(&r);
    get(port, "/localtrace", "Accept-Encoding: gzip\r\n", &r); /* the file as it is */
    ck_assert(has_header(&r, "Content-Encoding: gzip"));
    size_t len;
    char *trace = gunzip(r.body, r.body_len, &len);
    ck_assert_str_eq(trace, trace_json);
    free(trace);
    reply_fini(&r);
    get(port, "/file_info", "", &r);
    ck_assert_str_eq(r.body, file_info);
    reply_fini(&r);
    get(port, "/vizviewer_info", "", &r);
    ck_assert_str_eq(r.body, "{}");
    reply_fini(&r);
    vt_viewer_destroy(v);
}
END_TEST

/* ---- html and folder modes ------------------------------------------- */

START_TEST(test_viewer_html_mode)
{
    struct vt_viewer *v = start("traces/report.html", 0, 0);
    int port = vt_viewer_port(v);
    const char *paths[] = {"/", "/localtrace", "/anything/else"};
    for (size_t i = 0; i < 3; i++) {
        struct reply r;
        get(port, paths[i], "", &r);
        ck_assert_int_eq(r.status, 200);
        ck_assert_str_eq(r.body, report_html);
        reply_fini(&r);
    }
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_directory_listing)
{
    struct vt_viewer *v = start("traces", 0, 0);
    int port = vt_viewer_port(v);
    struct reply r;
    get(port, "/", "", &r);
    ck_assert_int_eq(r.status, 200);
    const char *beta = strstr(r.body, "\"/Beta.json\"");
    const char *sub = strstr(r.body, "\"/sub/\"");
    const char *trace = strstr(r.body, "\"/trace.json\"");
    ck_assert_ptr_nonnull(beta);
    ck_assert_ptr_nonnull(sub);
    ck_assert_ptr_nonnull(trace);
    ck_assert_ptr_nonnull(strstr(r.body, "\"/trace.json.gz\""));
    ck_assert_ptr_nonnull(strstr(r.body, "\"/report.html\""));
    ck_assert(beta < sub && sub < trace); /* sorted, case-insensitive */
    ck_assert_ptr_null(strstr(r.body, "notes.txt"));
    ck_assert_ptr_null(strstr(r.body, "hidden"));
    reply_fini(&r);
    get(port, "/sub/", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "\"/sub/inner.json\""));
    reply_fini(&r);
    get(port, "/empty/", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_ptr_nonnull(strstr(r.body, "<ul id=\"listing\">\n</ul>"));
    reply_fini(&r);
    /* a trace: a server of its own (VizTracer's port+1..; any port here, as
     * the folder's is 0), the same one when asked again */
    get(port, "/sub/inner.json", "", &r);
    ck_assert_int_eq(r.status, 302);
    const char *loc = strstr(r.raw.data, "Location: http://127.0.0.1:");
    ck_assert_ptr_nonnull(loc);
    int sub_port = (int)strtol(loc + strlen("Location: http://127.0.0.1:"), NULL, 10);
    ck_assert_int_gt(sub_port, 0);
    ck_assert_int_ne(sub_port, port);
    reply_fini(&r);
    get(sub_port, "/", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_uint_eq(r.body_len, vt_viewer_assets_html_len);
    reply_fini(&r);
    get(sub_port, "/localtrace", "", &r);
    ck_assert_str_eq(r.body, trace_json);
    reply_fini(&r);
    get(port, "/sub/inner.json", "", &r);
    loc = strstr(r.raw.data, "Location: http://127.0.0.1:");
    ck_assert_ptr_nonnull(loc);
    ck_assert_int_eq(strtol(loc + strlen("Location: http://127.0.0.1:"), NULL, 10), sub_port);
    reply_fini(&r);
    get(port, "/localtrace?file=sub/inner.json", "", &r);
    ck_assert_int_eq(r.status, 200);
    ck_assert_str_eq(r.body, trace_json);
    reply_fini(&r);
    get(port, "/file_info?file=trace.json.gz", "", &r);
    ck_assert_str_eq(r.body, file_info);
    reply_fini(&r);
    get(port, "/report.html", "", &r);
    ck_assert_str_eq(r.body, report_html);
    reply_fini(&r);
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_path_traversal)
{
    struct vt_viewer *v = start("traces", 0, 0);
    int port = vt_viewer_port(v);
    const char *paths[] = {
        "/localtrace?file=../secret.json",
        "/localtrace?file=%2e%2e/secret.json",
        "/localtrace?file=/etc/passwd",
        "/localtrace?file=link.json",
        "/localtrace?file=sub/../../secret.json",
        "/localtrace?file=.hidden.json",
        "/localtrace?file=notes.txt",
        "/localtrace",
        "/%2e%2e/secret.json",
        "/link.json",
        "/../",
        "/%2e%2e/",
        "//etc/passwd",
        "/../secret.json",
        "/sub/../../",
        "/sub/../../secret.json",
    };
    for (size_t i = 0; i < sizeof(paths) / sizeof(paths[0]); i++) {
        struct reply r;
        get(port, paths[i], "", &r);
        ck_assert_msg(r.status == 404 || r.status == 400, "%s answered %d", paths[i], r.status);
        ck_assert_ptr_null(r.body != NULL ? strstr(r.body, "secret") : NULL);
        reply_fini(&r);
    }
    vt_viewer_destroy(v);
}
END_TEST

/* ---- malformed and refused requests ------------------------------------ */

START_TEST(test_viewer_malformed_requests)
{
    struct vt_viewer *v = start("traces/trace.json", 0, 0);
    int port = vt_viewer_port(v);
    struct reply r;
    exchange(port, "GARBAGE\r\n\r\n", &r);
    ck_assert_int_ne(r.status, 200);
    reply_fini(&r);
    exchange(port, "GET / HTTP/1.1\r\nConnection: close\r\n\r\n", &r); /* no Host */
    ck_assert_int_eq(r.status, 400);
    reply_fini(&r);
    exchange(port,
             "POST /localtrace HTTP/1.1\r\nHost: localhost\r\nConnection: close\r\n"
             "Content-Length: 5\r\n\r\nhello",
             &r);
    ck_assert_int_eq(r.status, 405);
    reply_fini(&r);
    exchange(port, "GET /localtrace HTTP/1.1\r\nHost: evil.example:80\r\nConnection: close\r\n\r\n",
             &r);
    ck_assert_int_eq(r.status, 403);
    reply_fini(&r);
    char *huge = malloc(200000);
    memset(huge, 'a', 199999);
    huge[0] = '/';
    huge[199999] = '\0';
    get(port, huge, "", &r);
    ck_assert_int_ge(r.status, 400);
    reply_fini(&r);
    free(huge);
    exchange(port, "GET / HTTP/1.1\r\nHost: localhost\r\nBad header line\r\n\r\n", &r);
    ck_assert_int_ne(r.status, 200);
    reply_fini(&r);
    get(port, "/vizviewer_info", "", &r); /* still serving */
    ck_assert_int_eq(r.status, 200);
    reply_fini(&r);
    vt_viewer_destroy(v);
}
END_TEST

/* ---- life: once, timeout, stop, errors ------------------------------- */

START_TEST(test_viewer_once_returns_after_trace)
{
    struct vt_viewer *v = start("traces/trace.json", 1, 30);
    struct reply r;
    get(vt_viewer_port(v), "/vizviewer_info", "", &r);
    reply_fini(&r);
    get(vt_viewer_port(v), "/localtrace", "", &r);
    ck_assert_int_eq(r.status, 200);
    reply_fini(&r);
    get(vt_viewer_port(v), "/file_info", "", &r); /* the page's last request (VizTracer 1.1) */
    ck_assert_int_eq(r.status, 200);
    reply_fini(&r);
    ck_assert_int_eq(vt_viewer_wait(v), VT_OK);
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_once_times_out)
{
    struct vt_viewer *v = start("traces/trace.json", 1, 1);
    ck_assert_int_eq(vt_viewer_wait(v), VT_ERR_STATE);
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_stop_ends_wait)
{
    struct vt_viewer *v = start("traces", 0, 0);
    vt_viewer_stop(v);
    ck_assert_int_eq(vt_viewer_wait(v), VT_OK);
    vt_viewer_destroy(v);
    vt_viewer_destroy(NULL);
}
END_TEST

START_TEST(test_viewer_port_in_use)
{
    struct vt_viewer *v = start("traces/trace.json", 0, 0);
    char path[512];
    snprintf(path, sizeof(path), "%s/traces/trace.json", tmpdir);
    struct vt_viewer_options o;
    vt_viewer_options_init(&o);
    o.path = path;
    o.port = vt_viewer_port(v);
    struct vt_viewer *w = NULL;
    int errnum = 0;
    ck_assert_int_eq(vt_viewer_create(&o, &w, &errnum), VT_ERR_IO);
    ck_assert_int_eq(errnum, EADDRINUSE);
    ck_assert_ptr_null(w);
    vt_viewer_destroy(v);
}
END_TEST

START_TEST(test_viewer_bad_paths)
{
    struct vt_viewer_options o;
    struct vt_viewer *v = NULL;
    int errnum;
    char path[512];
    vt_viewer_options_init(&o);
    o.port = 0;
    snprintf(path, sizeof(path), "%s/missing.json", tmpdir);
    o.path = path;
    ck_assert_int_eq(vt_viewer_create(&o, &v, &errnum), VT_ERR_NOFILE);
    snprintf(path, sizeof(path), "%s/traces/notes.txt", tmpdir);
    ck_assert_int_eq(vt_viewer_create(&o, &v, &errnum), VT_ERR_USAGE);
    snprintf(path, sizeof(path), "%s/traces/trace.json", tmpdir);
    o.host = "not-an-address";
    ck_assert_int_eq(vt_viewer_create(&o, &v, &errnum), VT_ERR_USAGE);
    ck_assert_ptr_null(v);
}
END_TEST

/* The "browser" is curl fetching the trace: open_once returns as soon as it
 * was served, long before its 10 s idle timeout (and this TCase's 8 s). */
START_TEST(test_viewer_open_once_serves_the_browser)
{
    char path[512];
    snprintf(path, sizeof(path), "%s/traces/trace.json", tmpdir);
    ck_assert_int_eq(
        setenv("BROWSER",
               "no-such-browser-here:curl -s -o /dev/null %slocaltrace -o /dev/null %sfile_info",
               1),
        0);
    ck_assert_int_eq(vt_viewer_open_once(path), 0);
    unsetenv("BROWSER");
}
END_TEST

/* ---- standalone HTML ----------------------------------------------------- */

static char *
slurp(const char *path)
{
    char *text;
    size_t len;
    ck_assert_int_eq(vt_format_load(path, &text, &len, NULL, NULL, 0), VT_OK);
    return text;
}

START_TEST(test_viewer_write_html)
{
    const char *inputs[] = {"traces/trace.json", "traces/trace.json.gz"};
    for (int i = 0; i < 2; i++) {
        char in[512], out[512];
        snprintf(in, sizeof(in), "%s/%s", tmpdir, inputs[i]);
        snprintf(out, sizeof(out), "%s/out.html", tmpdir);
        ck_assert_int_eq(vt_viewer_write_html(in, out, NULL, NULL, 0), VT_OK);
        char *html = slurp(out);
        ck_assert_ptr_nonnull(strstr(html, "<script id=\"vt-trace\" type=\"application/json\">{"));
        ck_assert_ptr_null(strstr(html, VT_VIEWER_DATA_MARK));
        ck_assert_ptr_null(strstr(html, "</script><script>alert"));
        ck_assert_ptr_nonnull(strstr(html, "\\u003c/script>\\u003cscript>alert(1)"));
        ck_assert_ptr_nonnull(strstr(html, "\"file_info\":{\"files\""));
        free(html);
    }
}
END_TEST

START_TEST(test_viewer_write_html_errors)
{
    char in[512], out[512];
    int errnum = 0;
    snprintf(in, sizeof(in), "%s/missing.json", tmpdir);
    snprintf(out, sizeof(out), "%s/out.html", tmpdir);
    ck_assert_int_eq(vt_viewer_write_html(in, out, &errnum, NULL, 0), VT_ERR_NOFILE);
    ck_assert_int_eq(errnum, ENOENT);
    snprintf(in, sizeof(in), "%s/traces/notes.txt", tmpdir);
    ck_assert_int_eq(vt_viewer_write_html(in, out, &errnum, NULL, 0), VT_ERR_FORMAT);
    snprintf(in, sizeof(in), "%s/traces/trace.json", tmpdir);
    snprintf(out, sizeof(out), "%s/no/such/dir/out.html", tmpdir);
    ck_assert_int_eq(vt_viewer_write_html(in, out, &errnum, NULL, 0), VT_ERR_IO);
    ck_assert_int_eq(errnum, ENOENT);
    ck_assert_int_ne(access(out, F_OK), 0);
}
END_TEST

/* ---- scan.c ------------------------------------------------------------- */

START_TEST(test_viewer_path_check)
{
    const char *good[] = {"a.json", "sub/a.json", "a b/c%.json", "x..y.json"};
    const char *bad[] = {"",      "/a.json", "../a.json", "a/../b", "a//b", "./a",
                         "a/./b", ".hidden", "a/",        "a\\b",   "a\nb", "a/.."};
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(vt_viewer__path_check(good[i]) == VT_OK, "%s", good[i]);
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(vt_viewer__path_check(bad[i]) == VT_ERR_USAGE, "%s", bad[i]);
}
END_TEST

START_TEST(test_viewer_escapes)
{
    struct vt_buf b;
    vt_buf_init(&b, 1024);
    ck_assert_int_eq(vt_viewer__html_escape(&b, "<a href=\"x\">&'"), VT_OK);
    ck_assert_str_eq(b.data, "&lt;a href=&quot;x&quot;&gt;&amp;&#39;");
    vt_buf_reset(&b);
    ck_assert_int_eq(vt_viewer__url_escape(&b, "sub/a b#?.json"), VT_OK);
    ck_assert_str_eq(b.data, "sub/a%20b%23%3F.json");
    vt_buf_fini(&b);
    ck_assert_int_eq(vt_viewer__mode_of("a.json"), VT_VIEWER_MODE_JSON);
    ck_assert_int_eq(vt_viewer__mode_of("a.json.gz"), VT_VIEWER_MODE_GZ);
    ck_assert_int_eq(vt_viewer__mode_of("a.html"), VT_VIEWER_MODE_HTML);
    ck_assert_int_eq(vt_viewer__mode_of("a.py"), -1);
    ck_assert_int_eq(vt_viewer__mode_of(".json"), -1);
}
END_TEST

Suite *viewer_suite(void);

/* One line, as the Makefile's suite list reads it. */
/* clang-format off */
Suite *viewer_suite(void)
/* clang-format on */
{
    Suite *s = suite_create("viewer");
    TCase *routes = tcase_create("routes");
    tcase_add_checked_fixture(routes, setup, teardown);
    tcase_set_timeout(routes, 30);
    tcase_add_test(routes, test_viewer_page_and_info);
    tcase_add_test(routes, test_viewer_localtrace_and_file_info);
    tcase_add_test(routes, test_viewer_head_request);
    tcase_add_test(routes, test_viewer_gzip_when_accepted);
    tcase_add_test(routes, test_viewer_gz_trace);
    tcase_add_test(routes, test_viewer_html_mode);
    tcase_add_test(routes, test_viewer_directory_listing);
    tcase_add_test(routes, test_viewer_path_traversal);
    tcase_add_test(routes, test_viewer_malformed_requests);
    suite_add_tcase(s, routes);
    TCase *life = tcase_create("life");
    tcase_add_checked_fixture(life, setup, teardown);
    tcase_set_timeout(life, 30);
    tcase_add_test(life, test_viewer_once_returns_after_trace);
    tcase_add_test(life, test_viewer_once_times_out);
    tcase_add_test(life, test_viewer_stop_ends_wait);
    tcase_add_test(life, test_viewer_port_in_use);
    tcase_add_test(life, test_viewer_bad_paths);
    suite_add_tcase(s, life);
    TCase *open = tcase_create("open");
    tcase_add_checked_fixture(open, setup, teardown);
    tcase_set_timeout(open, 8);
    tcase_add_test(open, test_viewer_open_once_serves_the_browser);
    suite_add_tcase(s, open);
    TCase *html = tcase_create("html");
    tcase_add_checked_fixture(html, setup, teardown);
    tcase_add_test(html, test_viewer_write_html);
    tcase_add_test(html, test_viewer_write_html_errors);
    suite_add_tcase(s, html);
    TCase *scan = tcase_create("scan");
    tcase_add_test(scan, test_viewer_path_check);
    tcase_add_test(scan, test_viewer_escapes);
    suite_add_tcase(s, scan);
    return s;
}
