/* trace.c: compressing responses, and the standalone HTML report.
 *
 * The server hands trace bytes to the browser unchanged (the UI parses them),
 * so the only work done here is compressing responses; files are loaded
 * whole by vt_format_load (tracer/format/). vt_viewer_write_html() splices
 * a trace into the embedded UI page, for `viztracer -o result.html`.
 */
#include "internal.h"

#include <errno.h>
#include <limits.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"

void
vt_viewer__gzip(const void *data, size_t len, int level, char **out, size_t *out_len)
{
    z_stream zs;
    memset(&zs, 0, sizeof(zs));
    /* 15 + 16: a gzip wrapper, which every browser accepts as Content-Encoding: gzip */
    if (deflateInit2(&zs, level, Z_DEFLATED, 15 + 16, 8, Z_DEFAULT_STRATEGY) != Z_OK) {
        /* Only a bad level or no memory fails here: a bug or OOM, as in vt_xmalloc. */
        vt_log_error("vizviewer: zlib could not start a gzip stream");
        abort();
    }
    size_t cap = deflateBound(&zs, (uLong)len) + 64;
    char *buf = vt_xmalloc(cap);
    zs.next_in = (Bytef *)(uintptr_t)data;
    zs.avail_in = (uInt)len;
    zs.next_out = (Bytef *)buf;
    zs.avail_out = (uInt)cap;
    int rc = deflate(&zs, Z_FINISH);
    (void)rc; /* Z_STREAM_END: deflateBound() guarantees the room */
    *out_len = zs.total_out;
    deflateEnd(&zs);
    *out = buf;
}

/* Writes the trace with every '<' as \u003c, which keeps it valid JSON ('<'
 * only occurs inside strings) and means no "</script" or "<!--" can appear. */
static int
write_escaped(FILE *fp, const char *s, size_t len)
{
    size_t from = 0;
    for (size_t i = 0; i < len; i++) {
        if (s[i] != '<')
            continue;
        if (fwrite(s + from, 1, i - from, fp) != i - from || fputs("\\u003c", fp) == EOF)
            return -1;
        from = i + 1;
    }
    return fwrite(s + from, 1, len - from, fp) == len - from ? 0 : -1;
}

/* A trace too large for a page: kept as X.json beside X.html; says so in msg. */
static enum vt_err
too_big(const char *json_path, const char *html_path, size_t len, size_t max, char *msg,
        size_t msglen)
{
    size_t n = strlen(html_path);
    size_t stem = n > 5 && strcmp(html_path + n - 5, ".html") == 0  ? n - 5
                  : n > 4 && strcmp(html_path + n - 4, ".htm") == 0 ? n - 4
                                                                    : n;
    struct vt_buf side;
    vt_buf_init(&side, (size_t)2 * PATH_MAX);
    const char *where = json_path;
    if (vt_buf_add(&side, html_path, stem) == VT_OK && vt_buf_adds(&side, ".json") == VT_OK &&
        link(json_path, side.data) == 0)
        where = side.data;
    if (msg != NULL)
        snprintf(msg, msglen,
                 "the trace is %zu MB, above the %zu MB a standalone .html holds, so no %s was "
                 "written: open %s with vizviewer",
                 len >> 20, max >> 20, html_path, where);
    vt_buf_fini(&side);
    return VT_ERR_TOOBIG;
}

enum vt_err
vt_viewer_write_html(const char *json_path, const char *html_path, int *errnum, char *msg,
                     size_t msglen)
{
    int dummy;
    if (errnum == NULL)
        errnum = &dummy;
    *errnum = 0;
    if (msg != NULL && msglen > 0)
        msg[0] = '\0';
    char *text = NULL; /* owned: the trace */
    size_t text_len = 0;
    enum vt_err err = vt_format_load(json_path, &text, &text_len, errnum, NULL, 0);
    if (err != VT_OK)
        goto out;
    /* VIZVIEWER_HTML_MAX_MB lowers the cap for tests */
    const char *env = getenv("VIZVIEWER_HTML_MAX_MB");
    size_t max =
        env != NULL && *env != '\0' ? (size_t)strtoul(env, NULL, 10) << 20 : VT_VIEWER_HTML_MAX;
    if (text_len > max) {
        err = too_big(json_path, html_path, text_len, max, msg, msglen);
        goto out;
    }
    size_t i = 0;
    while (i < text_len && strchr(" \t\r\n", text[i]) != NULL)
        i++;
    if (i >= text_len || text[i] != '{') {
        err = VT_ERR_FORMAT;
        goto out;
    }
    const char *page = (const char *)vt_viewer_assets_html;
    size_t page_len = vt_viewer_assets_html_len;
    const char *mark = strstr(page, VT_VIEWER_DATA_MARK);
    if (mark == NULL) {
        err = VT_ERR_STATE; /* the build embedded a page without the mark */
        goto out;
    }
    size_t head = (size_t)(mark - page);
    size_t tail_at = head + strlen(VT_VIEWER_DATA_MARK);

    struct vt_buf tmp;
    vt_buf_init(&tmp, 8192);
    err = vt_buf_printf(&tmp, "%s.tmp.%ld", html_path, (long)getpid());
    if (err != VT_OK)
        goto out;
    FILE *fp = fopen(tmp.data, "wb");
    if (fp == NULL) {
        *errnum = errno;
        err = VT_ERR_IO;
        vt_buf_fini(&tmp);
        goto out;
    }
    static const char open_tag[] = "<script id=\"vt-trace\" type=\"application/json\">";
    static const char close_tag[] = "</script>";
    int bad = fwrite(page, 1, head, fp) != head ||
              fwrite(open_tag, 1, sizeof(open_tag) - 1, fp) != sizeof(open_tag) - 1 ||
              write_escaped(fp, text, text_len) != 0 ||
              fwrite(close_tag, 1, sizeof(close_tag) - 1, fp) != sizeof(close_tag) - 1 ||
              fwrite(page + tail_at, 1, page_len - tail_at, fp) != page_len - tail_at;
    if (bad)
        *errnum = errno;
    if (fclose(fp) != 0 && !bad) {
        *errnum = errno;
        bad = 1;
    }
    if (!bad && rename(tmp.data, html_path) != 0) {
        *errnum = errno;
        bad = 1;
    }
    if (bad) {
        unlink(tmp.data);
        err = VT_ERR_IO;
    }
    vt_buf_fini(&tmp);
out:
    free(text);
    return err;
}
