/* scan.c: the pure parsers the server relies on: request paths, the top
 * level of a trace's JSON, and escaping for the HTML listing.
 *
 * Nothing here does I/O or touches libmicrohttpd, so tests/fuzz/ links this
 * file alone. The trace is never parsed into a tree: for /file_info only the
 * byte span of one top-level member is needed, and a 1M-event trace would
 * cost ~1 GB as a cJSON tree (DESIGN.md, "JSON and cJSON").
 */
#include "internal.h"

#include <string.h>

#define VT_SCAN_MAX_DEPTH 512 /* nesting beyond this is refused as malformed */

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

/* Skips blanks; returns the new offset. */
static size_t
skip_ws(const char *s, size_t i, size_t len)
{
    while (i < len && (s[i] == ' ' || s[i] == '\t' || s[i] == '\n' || s[i] == '\r'))
        i++;
    return i;
}

/* s[i] is '"': returns the offset after the closing quote, or len + 1 when
 * the string is unterminated or holds a raw control character. */
static size_t
skip_string(const char *s, size_t i, size_t len)
{
    for (i++; i < len; i++) {
        unsigned char ch = (unsigned char)s[i];
        if (ch == '"')
            return i + 1;
        if (ch == '\\')
            i++; /* the escaped byte, whatever it is */
        else if (ch < 0x20)
            return len + 1;
    }
    return len + 1;
}

/* Skips one JSON value at s[i] (after blanks). Returns the offset after it,
 * or len + 1 when it is malformed. */
static size_t
skip_value(const char *s, size_t i, size_t len)
{
    char stack[VT_SCAN_MAX_DEPTH]; /* the closing bracket each open one expects */
    size_t depth = 0;
    i = skip_ws(s, i, len);
    if (i >= len)
        return len + 1;
    do {
        i = skip_ws(s, i, len);
        if (i >= len)
            return len + 1;
        char ch = s[i];
        if (ch == '"') {
            i = skip_string(s, i, len);
            if (i > len)
                return i;
        } else if (ch == '{' || ch == '[') {
            if (depth == VT_SCAN_MAX_DEPTH)
                return len + 1;
            stack[depth++] = ch == '{' ? '}' : ']';
            i++;
            continue;
        } else if (ch == '}' || ch == ']') {
            if (depth == 0 || stack[depth - 1] != ch)
                return len + 1;
            depth--;
            i++;
        } else if (ch == ',' || ch == ':') {
            if (depth == 0)
                return len + 1;
            i++;
            continue;
        } else {
            size_t from = i;
            while (i < len && strchr(",:{}[]\" \t\r\n", s[i]) == NULL)
                i++;
            if (i == from)
                return len + 1;
        }
    } while (depth > 0);
    return i;
}

enum vt_err
vt_viewer__json_find_key(const char *json, size_t len, const char *key, size_t *start, size_t *end)
{
    size_t klen = strlen(key);
    size_t i = skip_ws(json, 0, len);
    if (i >= len || json[i] != '{')
        return VT_ERR_FORMAT;
    i = skip_ws(json, i + 1, len);
    if (i < len && json[i] == '}')
        return VT_ERR_NOFILE;
    for (;;) {
        if (i >= len || json[i] != '"')
            return VT_ERR_FORMAT;
        size_t kstart = i + 1;
        i = skip_string(json, i, len);
        if (i > len)
            return VT_ERR_FORMAT;
        int match = i - 1 - kstart == klen && memcmp(json + kstart, key, klen) == 0;
        i = skip_ws(json, i, len);
        if (i >= len || json[i] != ':')
            return VT_ERR_FORMAT;
        size_t vstart = skip_ws(json, i + 1, len);
        i = skip_value(json, vstart, len);
        if (i > len)
            return VT_ERR_FORMAT;
        if (match) {
            *start = vstart;
            *end = i;
            return VT_OK;
        }
        i = skip_ws(json, i, len);
        if (i >= len)
            return VT_ERR_FORMAT;
        if (json[i] == '}')
            return VT_ERR_NOFILE;
        if (json[i] != ',')
            return VT_ERR_FORMAT;
        i = skip_ws(json, i + 1, len);
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
    if (ends_with(name, ".json"))
        return VT_VIEWER_MODE_JSON;
    if (ends_with(name, ".json.gz") || ends_with(name, ".gz"))
        return VT_VIEWER_MODE_GZ;
    if (ends_with(name, ".html") || ends_with(name, ".htm"))
        return VT_VIEWER_MODE_HTML;
    return -1;
}
