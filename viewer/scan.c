/* scan.c: the pure parsers the server relies on: request paths, file
 * names, and escaping for the HTML listing.
 *
 * Nothing here does I/O or touches libmicrohttpd, so tests/fuzz/ links this
 * file alone. A trace's JSON is scanned by tracer/format/ (vt_jscan_member,
 * for /file_info), never here.
 */
#include "internal.h"

#include <string.h>

enum vt_err
vt_viewer__path_check(const char *rel)
{
    size_t n = strlen(rel);
    if (n == 0 || n > 4095 || rel[0] == '/')
        return VT_ERR_USAGE;
    const char *seg = rel;
    for (const char *p = rel;; p++) {
        unsigned char ch = (unsigned char)*p;
        if (ch == '/' || ch == '\0') {
            size_t len = (size_t)(p - seg);
            if (len == 0 || seg[0] == '.')
                return VT_ERR_USAGE; /* empty, ".", ".." or hidden */
            if (ch == '\0')
                return VT_OK;
            seg = p + 1;
            continue;
        }
        if (ch < 0x20 || ch == 0x7f || ch == '\\')
            return VT_ERR_USAGE;
    }
}

enum vt_err
vt_viewer__html_escape(struct vt_buf *b, const char *s)
{
    enum vt_err err = VT_OK;
    for (; *s != '\0' && err == VT_OK; s++) {
        switch (*s) {
        case '&':
            err = vt_buf_adds(b, "&amp;");
            break;
        case '<':
            err = vt_buf_adds(b, "&lt;");
            break;
        case '>':
            err = vt_buf_adds(b, "&gt;");
            break;
        case '"':
            err = vt_buf_adds(b, "&quot;");
            break;
        case '\'':
            err = vt_buf_adds(b, "&#39;");
            break;
        default:
            err = vt_buf_add(b, s, 1);
        }
    }
    return err;
}

enum vt_err
vt_viewer__url_escape(struct vt_buf *b, const char *s)
{
    static const char hex[] = "0123456789ABCDEF";
    enum vt_err err = VT_OK;
    for (; *s != '\0' && err == VT_OK; s++) {
        unsigned char ch = (unsigned char)*s;
        if ((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
            strchr("-._~/", ch) != NULL) {
            err = vt_buf_add(b, s, 1);
        } else {
            char enc[3] = {'%', hex[ch >> 4], hex[ch & 15]};
            err = vt_buf_add(b, enc, 3);
        }
    }
    return err;
}

/* Returns 1 when name ends with suffix. */
static int
ends_with(const char *name, const char *suffix)
{
    size_t n = strlen(name), m = strlen(suffix);
    return n > m && strcmp(name + n - m, suffix) == 0;
}

int
vt_viewer__mode_of(const char *name)
{
    /* A .vzt is served as the JSON it holds (vt_format_load decodes it). */
    if (ends_with(name, ".json") || ends_with(name, ".vzt"))
        return VT_VIEWER_MODE_JSON;
    if (ends_with(name, ".json.gz") || ends_with(name, ".gz"))
        return VT_VIEWER_MODE_GZ;
    if (ends_with(name, ".html") || ends_with(name, ".htm"))
        return VT_VIEWER_MODE_HTML;
    return -1;
}
