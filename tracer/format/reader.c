/* reader.c: saved trace -> struct vt_trace; see format.h.
 *
 * Sections: names (interning), file input (through vt_format_load), the
 * outer walk (top-level object and the traceEvents array, by hand: only
 * whitespace and punctuation), one event (cJSON), access helpers.
 *
 * Why not one cJSON tree of the whole file: measured 0.9 GB for 1M events
 * (docs/DESIGN.md, "JSON"). Parsing each event alone with cJSON_ParseWithLengthOpts and
 * dropping its tree keeps the peak at the text plus the compact arrays.
 */
#include "format.h"

#include <math.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../base/mem.h"

/* Largest |timestamp| in microseconds: keeps ns inside int64_t. */
#define VT_READER_MAX_US 9.0e15

/* ---- names ------------------------------------------------------------- */

static uint64_t
hash_bytes(const char *s, size_t n)
{
    uint64_t h = 1469598103934665603ULL;
    for (size_t i = 0; i < n; i++) {
        h ^= (unsigned char)s[i];
        h *= 1099511628211ULL;
    }
    return h;
}

static void
names_grow(struct vt_trace_names *nm)
{
    size_t nslots = nm->nslots ? nm->nslots * 2 : 256;
    uint32_t *slots = vt_xcalloc(nslots, sizeof(*slots));
    for (size_t i = 0; i < nm->n; i++) {
        size_t h = (size_t)hash_bytes(nm->str[i], strlen(nm->str[i])) & (nslots - 1);
        while (slots[h])
            h = (h + 1) & (nslots - 1);
        slots[h] = (uint32_t)(i + 1);
    }
    free(nm->slots);
    nm->slots = slots;
    nm->nslots = nslots;
}

/* Returns the index of s[0..n), adding a copy when new. */
static uint32_t
names_intern(struct vt_trace_names *nm, const char *s, size_t n)
{
    if ((nm->n + 1) * 2 > nm->nslots)
        names_grow(nm);
    size_t h = (size_t)hash_bytes(s, n) & (nm->nslots - 1);
    while (nm->slots[h]) {
        const char *c = nm->str[nm->slots[h] - 1];
        if (strncmp(c, s, n) == 0 && c[n] == '\0')
            return nm->slots[h] - 1;
        h = (h + 1) & (nm->nslots - 1);
    }
    if (nm->n == nm->cap) {
        nm->cap = nm->cap ? nm->cap * 2 : 64;
        nm->str = vt_xrealloc(nm->str, nm->cap * sizeof(*nm->str));
    }
    nm->str[nm->n] = vt_xstrndup(s, n);
    nm->slots[h] = (uint32_t)(nm->n + 1);
    return (uint32_t)nm->n++;
}

static void
names_fini(struct vt_trace_names *nm)
{
    for (size_t i = 0; i < nm->n; i++)
        free(nm->str[i]);
    free(nm->str);
    free(nm->slots);
    memset(nm, 0, sizeof(*nm));
}

/* ---- messages and file input ------------------------------------------- */

static void seterr(char *err, size_t errlen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

static void
seterr(char *err, size_t errlen, const char *fmt, ...)
{
    va_list ap;
    if (!err || errlen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(err, errlen, fmt, ap);
    va_end(ap);
}

enum vt_err
vt_reader_load(const char *path, struct vt_trace **out, char *err, size_t errlen)
{
    char *text = NULL;
    size_t len = 0;
    *out = NULL;
    enum vt_err rc = vt_format_load(path, &text, &len, NULL, err, errlen);
    if (rc != VT_OK)
        return rc;
    return vt_reader_parse(text, len, out, err, errlen);
}

/* ---- the outer walk ---------------------------------------------------- */

/* Cursor over the text while walking the outer levels. */
struct walk {
    const char *base; /* borrowed: start of the text */
    const char *p;    /* borrowed: current position */
    const char *end;  /* borrowed: one past the last byte */
    char *err;        /* borrowed: where the message goes */
    size_t errlen;    /* bytes of err */
};

static void
skip_ws(struct walk *w)
{
    while (w->p < w->end && (*w->p == ' ' || *w->p == '\t' || *w->p == '\n' || *w->p == '\r'))
        w->p++;
}

/* Reports a syntax problem at position at: "truncated" when only whitespace
 * follows (or, for a value cJSON rejected, when the text stops mid-value),
 * else the byte offset. */
static enum vt_err
syntax_error_in(struct walk *w, const char *at, const char *what, int in_value)
{
    if (at < w->base || at > w->end)
        at = w->end;
    const char *q = at;
    while (q < w->end && (*q == ' ' || *q == '\t' || *q == '\n' || *q == '\r' || *q == '\0'))
        q++;
    /* cJSON reports the last byte for an end of input, and the start of an
     * unterminated string's content: both mean the text stops mid-value. */
    size_t rest = (size_t)(w->end - q);
    int no_quote = rest == 0 || !memchr(q, '"', rest);
    int no_close = rest == 0 || (!memchr(q, '}', rest) && !memchr(q, ']', rest));
    int in_string = q > w->base && q[-1] == '"';
    if (q >= w->end || (in_value && no_quote && (no_close || in_string)))
        seterr(w->err, w->errlen, "truncated trace: unexpected end of file after %zu bytes",
               (size_t)(w->end - w->base));
    else
        seterr(w->err, w->errlen, "malformed trace: %s at byte %zu", what, (size_t)(at - w->base));
    return VT_ERR_FORMAT;
}

static enum vt_err
syntax_error(struct walk *w, const char *at, const char *what)
{
    return syntax_error_in(w, at, what, 0);
}

/* Parses one JSON value at the cursor with cJSON and moves past it. */
static enum vt_err
parse_value(struct walk *w, cJSON **out)
{
    const char *endp = NULL;
    *out = NULL;
    skip_ws(w);
    if (w->p >= w->end)
        return syntax_error(w, w->end, "value expected");
    *out = cJSON_ParseWithLengthOpts(w->p, (size_t)(w->end - w->p), &endp, 0);
    if (!*out)
        return syntax_error_in(w, endp ? endp : cJSON_GetErrorPtr(), "invalid JSON", 1);
    w->p = endp;
    return VT_OK;
}

static int
to_ns(double us, int64_t *ns)
{
    if (!isfinite(us) || fabs(us) > VT_READER_MAX_US)
        return 0;
    *ns = (int64_t)llround(us * 1000.0);
    return 1;
}

static int64_t
get_id(const cJSON *v)
{
    if (cJSON_IsNumber(v) && isfinite(v->valuedouble) && fabs(v->valuedouble) < 9.0e18)
        return (int64_t)v->valuedouble;
    if (cJSON_IsString(v))
        return strtoll(v->valuestring, NULL, 10);
    return 0;
}

/* The members of one event the reader looks at, borrowed from its tree; the
 * first of each key wins, as with cJSON_GetObjectItemCaseSensitive. One pass
 * over the members instead of a look-up per key: the loader's hot loop. */
struct fields {
    const cJSON *ph, *ts, *dur, *pid, *tid, *name, *cl, *id, *args; /* borrowed or NULL */
};

static void
collect(const cJSON *ev, struct fields *f)
{
    memset(f, 0, sizeof(*f));
    for (const cJSON *c = ev->child; c; c = c->next) {
        const char *k = c->string;
        const cJSON **slot = NULL;
        if (!k)
            continue;
        switch (k[0]) {
        case 'p':
            slot = strcmp(k, "ph") == 0 ? &f->ph : (strcmp(k, "pid") == 0 ? &f->pid : NULL);
            break;
        case 't':
            slot = strcmp(k, "ts") == 0 ? &f->ts : (strcmp(k, "tid") == 0 ? &f->tid : NULL);
            break;
        case 'd':
            slot = strcmp(k, "dur") == 0 ? &f->dur : NULL;
            break;
        case 'n':
            slot = strcmp(k, "name") == 0 ? &f->name : NULL;
            break;
        case 'c':
            slot = strcmp(k, "caller_lineno") == 0 ? &f->cl : NULL;
            break;
        case 'i':
            slot = strcmp(k, "id") == 0 ? &f->id : NULL;
            break;
        case 'a':
            slot = strcmp(k, "args") == 0 ? &f->args : NULL;
            break;
        default:
            break;
        }
        if (slot && !*slot)
            *slot = c;
    }
}

static void
events_push(struct vt_trace_events *a, const struct vt_trace_event *e)
{
    if (a->n == a->cap) {
        a->cap = a->cap ? a->cap * 2 : 1024;
        a->v = vt_xrealloc(a->v, a->cap * sizeof(*a->v));
    }
    a->v[a->n++] = *e;
}

static void
label_push(struct vt_trace *t, const struct fields *f, int thread)
{
    const cJSON *nm = cJSON_GetObjectItemCaseSensitive(f->args, "name");
    if (!cJSON_IsString(nm))
        return;
    if (t->nlabels == t->labels_cap) {
        t->labels_cap = t->labels_cap ? t->labels_cap * 2 : 16;
        t->labels = vt_xrealloc(t->labels, t->labels_cap * sizeof(*t->labels));
    }
    struct vt_trace_label *l = &t->labels[t->nlabels++];
    l->pid = get_id(f->pid);
    l->tid = get_id(f->tid);
    l->name = names_intern(&t->names, nm->valuestring, strlen(nm->valuestring));
    l->thread = thread;
}

/* ---- one event --------------------------------------------------------- */

static enum vt_err
add_event(struct vt_trace *t, struct walk *w, const cJSON *ev, const char *start, size_t index)
{
    struct vt_trace_event e;
    memset(&e, 0, sizeof(e));
    if (!cJSON_IsObject(ev)) {
        seterr(w->err, w->errlen, "malformed trace: event %zu is not an object", index);
        return VT_ERR_FORMAT;
    }
    struct fields f;
    collect(ev, &f);
    const cJSON *ph = f.ph;
    if (!cJSON_IsString(ph) || ph->valuestring[0] == '\0' || ph->valuestring[1] != '\0') {
        t->skipped++;
        return VT_OK;
    }
    e.ph = ph->valuestring[0];
    if (e.ph == 'M') {
        const cJSON *nm = f.name;
        if (cJSON_IsString(nm) && strcmp(nm->valuestring, "process_name") == 0)
            label_push(t, &f, 0);
        else if (cJSON_IsString(nm) && strcmp(nm->valuestring, "thread_name") == 0)
            label_push(t, &f, 1);
        return VT_OK;
    }
    if (e.ph == 'I')
        e.ph = 'i';
    if (!strchr("XCiNOD", e.ph)) {
        t->skipped++;
        return VT_OK;
    }
    if (!cJSON_IsNumber(f.ts) || !to_ns(f.ts->valuedouble, &e.ts)) {
        seterr(w->err, w->errlen, "malformed trace: event %zu has no valid \"ts\"", index);
        return VT_ERR_FORMAT;
    }
    if (e.ph == 'X') {
        if (cJSON_IsNumber(f.dur) && !to_ns(f.dur->valuedouble, &e.dur)) {
            seterr(w->err, w->errlen, "malformed trace: event %zu has an invalid \"dur\"", index);
            return VT_ERR_FORMAT;
        }
        if (e.dur < 0)
            e.dur = 0;
        if (e.ts > INT64_MAX - e.dur)
            e.dur = 0;
    }
    e.pid = get_id(f.pid);
    e.tid = get_id(f.tid);
    if (cJSON_IsString(f.name))
        e.name = names_intern(&t->names, f.name->valuestring, strlen(f.name->valuestring));
    e.caller_lineno = -1;
    if (cJSON_IsNumber(f.cl) && f.cl->valuedouble >= 0 && f.cl->valuedouble < 2147483647.0) {
        e.caller_lineno = (int32_t)f.cl->valuedouble;
        t->has_caller_lineno = 1;
    }
    if (cJSON_IsString(f.id)) {
        e.id = names_intern(&t->names, f.id->valuestring, strlen(f.id->valuestring));
    } else if (cJSON_IsNumber(f.id)) {
        char num[64];
        int n = snprintf(num, sizeof(num), "%.17g", f.id->valuedouble);
        e.id = names_intern(&t->names, num, (size_t)n);
    }
    e.has_args = f.args != NULL;
    e.off = (uint64_t)(start - w->base);
    if ((size_t)(w->p - start) > UINT32_MAX) {
        seterr(w->err, w->errlen, "malformed trace: event %zu is too large", index);
        return VT_ERR_FORMAT;
    }
    e.len = (uint32_t)(w->p - start);
    events_push(e.ph == 'X' ? &t->funcs : &t->marks, &e);
    return VT_OK;
}

static enum vt_err
walk_events(struct vt_trace *t, struct walk *w)
{
    enum vt_err rc;
    size_t index = 0;
    skip_ws(w);
    if (w->p >= w->end || *w->p != '[') {
        if (w->p >= w->end)
            return syntax_error(w, w->p, "'[' expected");
        seterr(w->err, w->errlen, "malformed trace: \"traceEvents\" is not an array");
        return VT_ERR_FORMAT;
    }
    w->p++;
    skip_ws(w);
    if (w->p < w->end && *w->p == ']') {
        w->p++;
        return VT_OK;
    }
    for (;;) {
        cJSON *ev = NULL;
        skip_ws(w);
        const char *start = w->p;
        rc = parse_value(w, &ev);
        if (rc != VT_OK)
            return rc;
        rc = add_event(t, w, ev, start, index++);
        cJSON_Delete(ev);
        if (rc != VT_OK)
            return rc;
        skip_ws(w);
        if (w->p < w->end && *w->p == ',') {
            w->p++;
            continue;
        }
        if (w->p < w->end && *w->p == ']') {
            w->p++;
            return VT_OK;
        }
        return syntax_error(w, w->p, "',' or ']' expected in traceEvents");
    }
}

static enum vt_err
walk_top(struct vt_trace *t, struct walk *w)
{
    enum vt_err rc;
    int seen_events = 0;
    skip_ws(w);
    if (w->p >= w->end) {
        seterr(w->err, w->errlen, "empty file");
        return VT_ERR_FORMAT;
    }
    if (*w->p == '[') {
        /* Chrome's bare-array form: readable, but it carries no metadata. */
        rc = walk_events(t, w);
        seen_events = 1;
        goto tail;
    }
    if (*w->p != '{')
        return syntax_error(w, w->p, "a JSON object expected");
    w->p++;
    skip_ws(w);
    if (w->p < w->end && *w->p == '}') {
        w->p++;
        goto tail_ok;
    }
    for (;;) {
        cJSON *key = NULL;
        skip_ws(w);
        if (w->p >= w->end || *w->p != '"')
            return syntax_error(w, w->p, "a key expected");
        rc = parse_value(w, &key);
        if (rc != VT_OK)
            return rc;
        skip_ws(w);
        if (w->p >= w->end || *w->p != ':') {
            cJSON_Delete(key);
            return syntax_error(w, w->p, "':' expected");
        }
        w->p++;
        if (strcmp(key->valuestring, "traceEvents") == 0 && !seen_events) {
            seen_events = 1;
            rc = walk_events(t, w);
        } else {
            cJSON *v = NULL;
            rc = parse_value(w, &v);
            if (rc == VT_OK) {
                if (strcmp(key->valuestring, "viztracer_metadata") == 0 && cJSON_IsObject(v) &&
                    !t->metadata) {
                    t->metadata = v;
                } else if (strcmp(key->valuestring, "file_info") == 0 && cJSON_IsObject(v) &&
                           !t->file_info) {
                    t->file_info = v;
                } else {
                    cJSON_Delete(v);
                }
            }
        }
        cJSON_Delete(key);
        if (rc != VT_OK)
            return rc;
        skip_ws(w);
        if (w->p < w->end && *w->p == ',') {
            w->p++;
            continue;
        }
        if (w->p < w->end && *w->p == '}') {
            w->p++;
            break;
        }
        return syntax_error(w, w->p, "',' or '}' expected");
    }
tail_ok:
    rc = VT_OK;
tail:
    if (rc != VT_OK)
        return rc;
    skip_ws(w);
    while (w->p < w->end && *w->p == '\0')
        w->p++;
    if (w->p < w->end)
        return syntax_error(w, w->p, "unexpected data after the trace");
    if (!seen_events) {
        seterr(w->err, w->errlen, "not a trace: no \"traceEvents\"");
        return VT_ERR_FORMAT;
    }
    return VT_OK;
}

enum vt_err
vt_reader_parse(char *text, size_t len, struct vt_trace **out, char *err, size_t errlen)
{
    struct vt_trace *t = vt_xcalloc(1, sizeof(*t));
    struct walk w = {text, text, text + len, err, errlen};
    *out = NULL;
    t->text = text;
    t->text_len = len;
    names_intern(&t->names, "", 0);
    enum vt_err rc = walk_top(t, &w);
    if (rc != VT_OK) {
        vt_reader_free(t);
        return rc;
    }
    const cJSON *v = cJSON_GetObjectItemCaseSensitive(t->metadata, "version");
    t->version = cJSON_IsString(v) ? v->valuestring : NULL;
    *out = t;
    return VT_OK;
}

void
vt_reader_free(struct vt_trace *t)
{
    if (!t)
        return;
    free(t->text);
    free(t->funcs.v);
    free(t->marks.v);
    free(t->labels);
    names_fini(&t->names);
    cJSON_Delete(t->metadata);
    cJSON_Delete(t->file_info);
    free(t);
}

/* ---- access -------------------------------------------------------------- */

const char *
vt_reader_name(const struct vt_trace *t, uint32_t i)
{
    return i < t->names.n ? t->names.str[i] : "";
}

cJSON *
vt_reader_event_json(const struct vt_trace *t, const struct vt_trace_event *e)
{
    if (e->off + e->len > t->text_len)
        return NULL;
    return cJSON_ParseWithLength(t->text + e->off, e->len);
}

const char *
vt_reader_source(const struct vt_trace *t, const char *path)
{
    const cJSON *files = cJSON_GetObjectItemCaseSensitive(t->file_info, "files");
    const cJSON *f = cJSON_GetObjectItemCaseSensitive(files, path);
    const cJSON *src = cJSON_IsArray(f) ? cJSON_GetArrayItem(f, 0) : f;
    return cJSON_IsString(src) ? src->valuestring : NULL;
}

const char *
vt_reader_label(const struct vt_trace *t, int64_t pid, int64_t tid, int thread)
{
    const char *found = NULL;
    for (size_t i = 0; i < t->nlabels; i++) {
        const struct vt_trace_label *l = &t->labels[i];
        if (l->thread == thread && l->pid == pid && (!thread || l->tid == tid))
            found = vt_reader_name(t, l->name);
    }
    return found;
}

/* ---- names --------------------------------------------------------------- */

int
vt_reader_split_name(const char *name, struct vt_reader_fname *out)
{
    size_t n = strlen(name);
    /* Trailing ":<digits>)" */
    if (n < 6 || name[n - 1] != ')')
        return 0;
    size_t d = n - 1;
    while (d > 0 && name[d - 1] >= '0' && name[d - 1] <= '9')
        d--;
    if (d == n - 1 || d == 0 || name[d - 1] != ':')
        return 0;
    size_t colon = d - 1;
    /* The last " (" before the colon: the greedy (.*) of the regex. */
    size_t open = 0;
    int found = 0;
    for (size_t i = colon; i >= 2; i--) {
        if (name[i - 1] == '(' && name[i - 2] == ' ') {
            open = i - 1;
            found = 1;
            break;
        }
    }
    if (!found)
        return 0;
    out->func = name;
    out->func_len = open - 1;
    out->file = name + open + 1;
    out->file_len = colon - (open + 1);
    out->line = 0;
    for (size_t i = d; i < n - 1 && out->line < 100000000; i++)
        out->line = out->line * 10 + (name[i] - '0');
    return 1;
}

int
vt_reader_version_cmp(const char *a, const char *b)
{
    while (*a || *b) {
        long x = 0, y = 0;
        while (*a >= '0' && *a <= '9' && x < 100000000)
            x = x * 10 + (*a++ - '0');
        while (*b >= '0' && *b <= '9' && y < 100000000)
            y = y * 10 + (*b++ - '0');
        if (x != y)
            return x < y ? -1 : 1;
        while (*a && *a != '.')
            a++;
        while (*b && *b != '.')
            b++;
        if (*a == '.')
            a++;
        if (*b == '.')
            b++;
    }
    return 0;
}
