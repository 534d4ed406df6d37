/* jscan.c: JSON validation without a tree; see format.h. */
#include "format.h"

#include <string.h>

void
vt_jscan_ws(const char **p, const char *end)
{
    const char *s = *p;
    while (s < end && (*s == ' ' || *s == '\n' || *s == '\r' || *s == '\t'))
        s++;
    *p = s;
}

static int
is_hex(char c)
{
    return (c >= '0' && c <= '9') || (c >= 'a' && c <= 'f') || (c >= 'A' && c <= 'F');
}

/* The code unit of "\\uXXXX" at s, or 0x10000 when malformed. */
static unsigned
hex4(const char *s, const char *end)
{
    if (end - s < 6)
        return 0x10000;
    unsigned v = 0;
    for (int i = 2; i < 6; i++) {
        char c = s[i];
        if (!is_hex(c))
            return 0x10000;
        v = v * 16 + (unsigned)(c <= '9' ? c - '0' : (c | 0x20) - 'a' + 10);
    }
    return v;
}

int
vt_jscan_string(const char **p, const char *end)
{
    const char *s = *p;
    if (s >= end || *s != '"')
        return -1;
    s++;
    while (s < end) {
        unsigned char c = (unsigned char)*s;
        if (c == '"') {
            *p = s + 1;
            return 0;
        }
        if (c < 0x20)
            return -1;
        if (c != '\\') {
            s++;
            continue;
        }
        if (end - s < 2)
            return -1;
        switch (s[1]) {
        case '"':
        case '\\':
        case '/':
        case 'b':
        case 'f':
        case 'n':
        case 'r':
        case 't':
            s += 2;
            break;
        case 'u': {
            /* UTF-16 surrogates must pair, as cJSON requires. */
            unsigned u = hex4(s, end);
            if (u > 0xFFFF || (u >= 0xDC00 && u <= 0xDFFF))
                return -1;
            s += 6;
            if (u >= 0xD800 && u <= 0xDBFF) {
                if (end - s < 2 || s[0] != '\\' || s[1] != 'u')
                    return -1;
                unsigned low = hex4(s, end);
                if (low < 0xDC00 || low > 0xDFFF)
                    return -1;
                s += 6;
            }
            break;
        }
        default:
            return -1;
        }
    }
    return -1;
}

static int
digits(const char **p, const char *end)
{
    const char *s = *p;
    while (s < end && *s >= '0' && *s <= '9')
        s++;
    if (s == *p)
        return -1;
    *p = s;
    return 0;
}

static int
number(const char **p, const char *end)
{
    const char *s = *p;
    if (s < end && *s == '-')
        s++;
    if (s < end && *s == '0')
        s++;
    else if (digits(&s, end) < 0)
        return -1;
    if (s < end && *s == '.') {
        s++;
        if (digits(&s, end) < 0)
            return -1;
    }
    if (s < end && (*s == 'e' || *s == 'E')) {
        s++;
        if (s < end && (*s == '+' || *s == '-'))
            s++;
        if (digits(&s, end) < 0)
            return -1;
    }
    *p = s;
    return 0;
}

static int
literal(const char **p, const char *end, const char *word)
{
    size_t n = strlen(word);
    if ((size_t)(end - *p) < n || memcmp(*p, word, n) != 0)
        return -1;
    *p += n;
    return 0;
}

/* A member's key and its colon, with the whitespace after. */
static int
member_key(const char **p, const char *end)
{
    if (vt_jscan_string(p, end) < 0)
        return -1;
    vt_jscan_ws(p, end);
    if (*p >= end || **p != ':')
        return -1;
    ++*p;
    vt_jscan_ws(p, end);
    return 0;
}

/* Containers are walked with an explicit stack of their kinds, so deep
 * input cannot exhaust the C stack. */
int
vt_jscan_value(const char **p, const char *end)
{
    char stack[VT_JSCAN_MAX_DEPTH]; /* '[' or '{' of each open container */
    int depth = 0;
    const char *s = *p;
    for (;;) {
        /* A value. */
        if (s >= end)
            return -1;
        int rc = 0;
        switch (*s) {
        case '{':
        case '[':
            if (depth == VT_JSCAN_MAX_DEPTH)
                return -1;
            stack[depth++] = *s++;
            vt_jscan_ws(&s, end);
            if (s < end && *s == (stack[depth - 1] == '[' ? ']' : '}')) {
                s++;
                depth--;
                break; /* empty: a complete value */
            }
            if (stack[depth - 1] == '{') {
                if (member_key(&s, end) < 0)
                    return -1;
            }
            continue; /* the first member's value */
        case '"':
            rc = vt_jscan_string(&s, end);
            break;
        case 't':
            rc = literal(&s, end, "true");
            break;
        case 'f':
            rc = literal(&s, end, "false");
            break;
        case 'n':
            rc = literal(&s, end, "null");
            break;
        default:
            rc = number(&s, end);
            break;
        }
        if (rc < 0)
            return -1;
        /* After a value: close containers or go to the next member. */
        for (;;) {
            if (depth == 0) {
                *p = s;
                return 0;
            }
            vt_jscan_ws(&s, end);
            if (s >= end)
                return -1;
            char close = stack[depth - 1] == '[' ? ']' : '}';
            if (*s == close) {
                s++;
                depth--;
                continue;
            }
            if (*s != ',')
                return -1;
            s++;
            vt_jscan_ws(&s, end);
            if (stack[depth - 1] == '{') {
                if (member_key(&s, end) < 0)
                    return -1;
            }
            break; /* the next value */
        }
    }
}

int
vt_jscan_member(const char *text, size_t len, const char *key, const char **start,
                const char **stop)
{
    const char *s = text, *end = text + len;
    size_t klen = strlen(key);
    int found = 0;
    vt_jscan_ws(&s, end);
    if (s >= end || *s != '{')
        return -1;
    s++;
    vt_jscan_ws(&s, end);
    if (s < end && *s == '}') {
        s++;
    } else {
        for (;;) {
            const char *k = s;
            if (vt_jscan_string(&s, end) < 0)
                return -1;
            int match = !found && (size_t)(s - k) == klen + 2 && memcmp(k + 1, key, klen) == 0;
            vt_jscan_ws(&s, end);
            if (s >= end || *s != ':')
                return -1;
            s++;
            vt_jscan_ws(&s, end);
            const char *v = s;
            if (vt_jscan_value(&s, end) < 0)
                return -1;
            if (match) {
                found = 1;
                *start = v;
                *stop = s;
            }
            vt_jscan_ws(&s, end);
            if (s < end && *s == ',') {
                s++;
                vt_jscan_ws(&s, end);
                continue;
            }
            if (s < end && *s == '}') {
                s++;
                break;
            }
            return -1;
        }
    }
    vt_jscan_ws(&s, end);
    if (s != end)
        return -1;
    return found ? 0 : 1;
}
