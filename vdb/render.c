/* render.c: what vdb prints about the position (with vdb.c, the only code
 * writing to the terminal).
 *
 * Sections: Python repr of JSON values (args, counters and objects print as
 * VizTracer's str(dict) did), times, the source view (docs/COMPAT.md, vdb), the
 * stack, args / counter / object / p.
 */
#include "internal.h"

#include <inttypes.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#include "../tracer/base/mem.h"

/* Largest source file read from disk for the source view, in bytes. */
#define VT_VDB_MAX_SOURCE ((size_t)64 << 20)

/* ---- repr ------------------------------------------------------------------ */

static enum vt_err
repr_str(struct vt_buf *b, const char *s)
{
    char q = (strchr(s, '\'') && !strchr(s, '"')) ? '"' : '\'';
    enum vt_err rc = vt_buf_add(b, &q, 1);
    for (const unsigned char *p = (const unsigned char *)s; rc == VT_OK && *p; p++) {
        if (*p == '\\' || *p == (unsigned char)q)
            rc = vt_buf_printf(b, "\\%c", *p);
        else if (*p == '\n')
            rc = vt_buf_adds(b, "\\n");
        else if (*p == '\r')
            rc = vt_buf_adds(b, "\\r");
        else if (*p == '\t')
            rc = vt_buf_adds(b, "\\t");
        else if (*p < 0x20 || *p == 0x7f)
            rc = vt_buf_printf(b, "\\x%02x", *p);
        else
            rc = vt_buf_add(b, p, 1);
    }
    return rc == VT_OK ? vt_buf_add(b, &q, 1) : rc;
}

static enum vt_err
repr_num(struct vt_buf *b, double d)
{
    char tmp[64];
    if (isnan(d))
        return vt_buf_adds(b, "nan");
    if (isinf(d))
        return vt_buf_adds(b, d < 0 ? "-inf" : "inf");
    if (d == floor(d) && fabs(d) < 9007199254740992.0)
        return vt_buf_printf(b, "%lld", (long long)d);
    /* Shortest text that reads back the same, like Python's float repr. */
    for (int prec = 1; prec <= 17; prec++) {
        snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
        if (strtod(tmp, NULL) == d)
            break;
    }
    if (!strpbrk(tmp, ".e"))
        return vt_buf_printf(b, "%s.0", tmp);
    return vt_buf_adds(b, tmp);
}

enum vt_err
vt_vdb__repr(struct vt_buf *b, const cJSON *item)
{
    enum vt_err rc = VT_OK;
    const cJSON *c;
    if (!item || cJSON_IsNull(item))
        return vt_buf_adds(b, "None");
    if (cJSON_IsTrue(item))
        return vt_buf_adds(b, "True");
    if (cJSON_IsFalse(item))
        return vt_buf_adds(b, "False");
    if (cJSON_IsNumber(item))
        return repr_num(b, item->valuedouble);
    if (cJSON_IsString(item))
        return repr_str(b, item->valuestring);
    if (cJSON_IsArray(item)) {
        rc = vt_buf_adds(b, "[");
        cJSON_ArrayForEach(c, item)
        {
            if (rc == VT_OK && c != item->child)
                rc = vt_buf_adds(b, ", ");
            if (rc == VT_OK)
                rc = vt_vdb__repr(b, c);
        }
        return rc == VT_OK ? vt_buf_adds(b, "]") : rc;
    }
    if (cJSON_IsObject(item)) {
        rc = vt_buf_adds(b, "{");
        cJSON_ArrayForEach(c, item)
        {
            if (rc == VT_OK && c != item->child)
                rc = vt_buf_adds(b, ", ");
            if (rc == VT_OK)
                rc = repr_str(b, c->string ? c->string : "");
            if (rc == VT_OK)
                rc = vt_buf_adds(b, ": ");
            if (rc == VT_OK)
                rc = vt_vdb__repr(b, c);
        }
        return rc == VT_OK ? vt_buf_adds(b, "}") : rc;
    }
    return vt_buf_adds(b, "None");
}

static void
print_repr(struct vt_vdb *v, const cJSON *item)
{
    struct vt_buf b;
    vt_buf_init(&b, (size_t)256 << 20);
    if (vt_vdb__repr(&b, item) == VT_OK)
        fprintf(v->out, "%s\n", b.data ? b.data : "");
    else
        fprintf(v->out, "<value too large to print>\n");
    vt_buf_fini(&b);
}

size_t
vt_vdb__fmt_us(char *buf, size_t size, int64_t ns)
{
    uint64_t a = ns < 0 ? (uint64_t)0 - (uint64_t)ns : (uint64_t)ns;
    int n = snprintf(buf, size, "%s%" PRIu64 ".%03" PRIu64, ns < 0 ? "-" : "", a / 1000, a % 1000);
    if (n < 0 || (size_t)n >= size)
        return 0;
    while (n > 2 && buf[n - 1] == '0' && buf[n - 2] != '.')
        buf[--n] = '\0';
    return (size_t)n;
}

/* ---- source view -------------------------------------------------------------- */

/* Lines of a text: starts[i] is the offset of line i; starts[n] == len. */
struct lines {
    const char *text; /* borrowed */
    size_t *starts;   /* owned: n + 1 offsets */
    size_t n;         /* lines */
};

static void
split_lines(struct lines *l, const char *text)
{
    size_t len = strlen(text), cap = 64;
    l->text = text;
    l->n = 0;
    l->starts = vt_xmalloc(cap * sizeof(*l->starts));
    for (size_t i = 0; i < len;) {
        if (l->n + 2 > cap) {
            cap *= 2;
            l->starts = vt_xrealloc(l->starts, cap * sizeof(*l->starts));
        }
        l->starts[l->n++] = i;
        const char *nl = memchr(text + i, '\n', len - i);
        i = nl ? (size_t)(nl - text) + 1 : len;
    }
    l->starts[l->n] = len;
}

/* Line i without its newline: pointer and length. */
static const char *
line_at(const struct lines *l, size_t i, size_t *len)
{
    size_t a = l->starts[i], b = l->starts[i + 1];
    while (b > a && (l->text[b - 1] == '\n' || l->text[b - 1] == '\r'))
        b--;
    *len = b - a;
    return l->text + a;
}

static size_t
indent_of(const char *s, size_t n)
{
    size_t i = 0;
    while (i < n && (s[i] == ' ' || s[i] == '\t'))
        i++;
    return i;
}

static int
blank_or_comment(const char *s, size_t n)
{
    size_t i = indent_of(s, n);
    return i == n || s[i] == '#';
}

/* Net bracket depth change of a line, ignoring strings and comments (roughly). */
static int
bracket_delta(const char *s, size_t n)
{
    int d = 0;
    char q = 0;
    for (size_t i = 0; i < n; i++) {
        char c = s[i];
        if (q) {
            if (c == '\\')
                i++;
            else if (c == q)
                q = 0;
        } else if (c == '\'' || c == '"') {
            q = c;
        } else if (c == '#') {
            break;
        } else if (c == '(' || c == '[' || c == '{') {
            d++;
        } else if (c == ')' || c == ']' || c == '}') {
            d--;
        }
    }
    return d;
}

/* End (exclusive line index) of the function starting at line start: the
 * decorators and the header (to balanced brackets), then every line indented
 * deeper than the header, blank and comment lines included; trailing blank
 * lines dropped. VizTracer's loop ran to the end of the file for a one-line
 * def and cut a black-style signature; this one does neither. */
static size_t
function_end(const struct lines *l, size_t start)
{
    size_t len, i = start;
    const char *s = line_at(l, start, &len);
    size_t base = indent_of(s, len);
    while (i < l->n) {
        s = line_at(l, i, &len);
        int depth = bracket_delta(s, len);
        int deco = indent_of(s, len) < len && s[indent_of(s, len)] == '@';
        i++;
        while (depth > 0 && i < l->n) {
            s = line_at(l, i++, &len);
            depth += bracket_delta(s, len);
        }
        if (!deco)
            break;
    }
    while (i < l->n) {
        s = line_at(l, i, &len);
        if (!blank_or_comment(s, len) && indent_of(s, len) <= base)
            break;
        i++;
    }
    while (i > start + 1) {
        s = line_at(l, i - 1, &len);
        if (indent_of(s, len) != len)
            break;
        i--;
    }
    return i;
}

/* Reads a file for the source view; owned result or NULL. */
static char *
read_source(const char *path)
{
    FILE *f = fopen(path, "rb");
    struct vt_buf b;
    char chunk[8192];
    size_t n;
    if (!f)
        return NULL;
    vt_buf_init(&b, VT_VDB_MAX_SOURCE);
    while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
        if (vt_buf_add(&b, chunk, n) != VT_OK) {
            fclose(f);
            return NULL;
        }
    }
    fclose(f);
    return vt_buf_take(&b, NULL);
}

void
vt_vdb__show(struct vt_vdb *v)
{
    size_t nf, insp;
    const struct vt_tl_frame *fr = vt_timeline_frames(v->tl, &nf, &insp);
    const struct vt_tl_frame *f = &fr[insp];
    const struct vt_tl_node *node = vt_timeline_node(v->tl, f->node);
    const struct vt_trace_event *e = vt_timeline_event(v->tl, f->node);
    const char *name = vt_reader_name(v->trace, e->name);
    struct vt_reader_fname fn;
    if (!vt_reader_split_name(name, &fn)) {
        fprintf(v->out, "> %s\n", name);
        return;
    }
    char *path = vt_xstrndup(fn.file, fn.file_len);
    char *owned = NULL;
    const char *src = vt_reader_source(v->trace, path);
    if (!src)
        src = owned = read_source(path);
    free(path);
    struct lines l = {NULL, NULL, 0};
    if (src)
        split_lines(&l, src);
    if (!src || fn.line < 1 || (size_t)fn.line > l.n) {
        fprintf(v->out, "> Not able to locate the source\n");
        free(l.starts);
        free(owned);
        return;
    }
    size_t start = (size_t)fn.line - 1;
    int module = fn.func_len == 8 && strncmp(fn.func, "<module>", 8) == 0;
    size_t end = module ? l.n : function_end(&l, start);
    /* The current line: where the next call is made, or past the end. */
    long cur = -1;
    if (f->idx >= node->nkids) {
        cur = (long)end;
    } else {
        uint32_t k = vt_timeline_kid(v->tl, f->node, f->idx);
        int32_t cl = vt_timeline_event(v->tl, k)->caller_lineno;
        if (cl > 0)
            cur = (long)cl - 1;
    }
    for (size_t i = start; i < end; i++) {
        size_t len;
        const char *s = line_at(&l, i, &len);
        if (indent_of(s, len) == len)
            fprintf(v->out, "%.*s\n", (int)len, s);
        else
            fprintf(v->out, "%s%.*s\n", (long)i == cur ? "> " : "  ", (int)len, s);
    }
    fprintf(v->out, "%s\n", cur == (long)end ? "> " : "");
    free(l.starts);
    free(owned);
}

void
vt_vdb__where(struct vt_vdb *v)
{
    size_t nf, insp;
    const struct vt_tl_frame *fr = vt_timeline_frames(v->tl, &nf, &insp);
    for (size_t i = 0; i < nf; i++) {
        const struct vt_trace_event *e = vt_timeline_event(v->tl, fr[i].node);
        fprintf(v->out, "%s%s\n", i == insp ? "> " : "  ", vt_reader_name(v->trace, e->name));
    }
}

/* ---- values ------------------------------------------------------------------- */

static const struct vt_trace_event *
inspected_event(struct vt_vdb *v)
{
    size_t nf, insp;
    const struct vt_tl_frame *fr = vt_timeline_frames(v->tl, &nf, &insp);
    return vt_timeline_event(v->tl, fr[insp].node);
}

void
vt_vdb__args(struct vt_vdb *v)
{
    const struct vt_trace_event *e = inspected_event(v);
    cJSON *ev = e->has_args ? vt_reader_event_json(v->trace, e) : NULL;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args");
    if (args)
        print_repr(v, args);
    else
        fprintf(v->out, "\n");
    cJSON_Delete(ev);
}

static int64_t
rel(const struct vt_vdb *v, const struct vt_trace_event *e)
{
    return e->ts - vt_timeline_origin(v->tl);
}

void
vt_vdb__counter(struct vt_vdb *v)
{
    int64_t now = vt_timeline_time(v->tl);
    cJSON *acc = cJSON_CreateObject();
    for (size_t i = 0; i < v->ncounters; i++) {
        const struct vt_trace_event *e = &v->trace->marks.v[v->counters[i]];
        if (rel(v, e) > now)
            break;
        cJSON *ev = vt_reader_event_json(v->trace, e);
        cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args");
        cJSON *c;
        cJSON_ArrayForEach(c, args)
        {
            if (!c->string)
                continue;
            cJSON *copy = cJSON_Duplicate(c, 1);
            if (cJSON_HasObjectItem(acc, c->string))
                cJSON_ReplaceItemInObjectCaseSensitive(acc, c->string, copy);
            else
                cJSON_AddItemToObject(acc, c->string, copy);
        }
        cJSON_Delete(ev);
    }
    print_repr(v, acc);
    cJSON_Delete(acc);
}

void
vt_vdb__object(struct vt_vdb *v)
{
    int64_t now = vt_timeline_time(v->tl);
    size_t nnames = v->trace->names.n + 1;
    /* Latest event per object id at now; ids in order of first appearance.
     * Slots indexed by interned id and name keep this linear. */
    uint32_t *id_slot = vt_xmalloc(nnames * sizeof(*id_slot));
    uint32_t *name_slot = vt_xmalloc(nnames * sizeof(*name_slot));
    memset(id_slot, 0xff, nnames * sizeof(*id_slot));
    memset(name_slot, 0xff, nnames * sizeof(*name_slot));
    uint32_t *last = vt_xmalloc((v->nobjects + 1) * sizeof(*last));
    uint32_t *shown = vt_xmalloc((v->nobjects + 1) * sizeof(*shown));
    size_t n = 0, nshown = 0;
    for (size_t i = 0; i < v->nobjects; i++) {
        const struct vt_trace_event *e = &v->trace->marks.v[v->objects[i]];
        if (rel(v, e) > now)
            break;
        if (id_slot[e->id] == UINT32_MAX)
            id_slot[e->id] = (uint32_t)n++;
        last[id_slot[e->id]] = v->objects[i];
    }
    /* As VizTracer's dict: one entry per name, first position, last value. */
    for (size_t j = 0; j < n; j++) {
        const struct vt_trace_event *e = &v->trace->marks.v[last[j]];
        if (e->ph != 'O')
            continue;
        if (name_slot[e->name] == UINT32_MAX)
            name_slot[e->name] = (uint32_t)nshown++;
        shown[name_slot[e->name]] = last[j];
    }
    for (size_t j = 0; j < nshown; j++) {
        const struct vt_trace_event *e = &v->trace->marks.v[shown[j]];
        cJSON *ev = vt_reader_event_json(v->trace, e);
        const cJSON *snap = cJSON_GetObjectItemCaseSensitive(
            cJSON_GetObjectItemCaseSensitive(ev, "args"), "snapshot");
        fprintf(v->out, "%s:\n", vt_reader_name(v->trace, e->name));
        print_repr(v, snap);
        cJSON_Delete(ev);
    }
    free(id_slot);
    free(name_slot);
    free(last);
    free(shown);
}

static void
print_value(struct vt_vdb *v, const cJSON *val)
{
    if (cJSON_IsString(val))
        fprintf(v->out, "%s\n", val->valuestring);
    else
        print_repr(v, val);
}

/* The value a logged-variable mark gives for name, or NULL (borrowed from ev). */
static const cJSON *
mark_value(struct vt_vdb *v, const struct vt_trace_event *e, cJSON *ev, const char *name,
           const char **text)
{
    const char *mname = vt_reader_name(v->trace, e->name);
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args");
    size_t nl = strlen(name);
    *text = NULL;
    if (strncmp(mname, "Variable Assign - ", 18) == 0 && strncmp(mname + 18, name, nl) == 0) {
        const char *rest = mname + 18 + nl;
        if (e->ph == 'i' && strncmp(rest, " = ", 3) == 0) {
            *text = rest + 3;
            return NULL;
        }
        if (e->ph == 'C' && *rest == '\0')
            return args && args->child ? args->child : NULL;
    }
    if (strcmp(mname, name) == 0) {
        if (e->ph == 'C') {
            const cJSON *val = cJSON_GetObjectItemCaseSensitive(args, "value");
            return val ? val : args;
        }
        if (e->ph == 'i') {
            const cJSON *obj = cJSON_GetObjectItemCaseSensitive(args, "object");
            return obj ? obj : args;
        }
    }
    return NULL;
}

int
vt_vdb__print_name(struct vt_vdb *v, const char *name)
{
    const struct vt_trace_event *e = inspected_event(v);
    cJSON *ev = e->has_args ? vt_reader_event_json(v->trace, e) : NULL;
    const cJSON *args = cJSON_GetObjectItemCaseSensitive(ev, "args");
    const cJSON *fa = cJSON_GetObjectItemCaseSensitive(args, "func_args");
    const cJSON *val = cJSON_GetObjectItemCaseSensitive(fa, name);
    if (!val)
        val = cJSON_GetObjectItemCaseSensitive(args, name);
    if (val) {
        print_value(v, val);
        cJSON_Delete(ev);
        return 1;
    }
    cJSON_Delete(ev);
    /* Logged variables of this frame up to now: the latest one wins. */
    int64_t from = rel(v, e), now = vt_timeline_time(v->tl);
    size_t best = SIZE_MAX;
    for (size_t i = 0; i < v->trace->marks.n; i++) {
        const struct vt_trace_event *m = &v->trace->marks.v[i];
        if (m->pid != e->pid || m->tid != e->tid || rel(v, m) < from || rel(v, m) > now)
            continue;
        if ((m->ph != 'i' && m->ph != 'C') || !strstr(vt_reader_name(v->trace, m->name), name))
            continue;
        if (best != SIZE_MAX && v->trace->marks.v[best].ts > m->ts)
            continue;
        cJSON *mev = vt_reader_event_json(v->trace, m);
        const char *text;
        if (mark_value(v, m, mev, name, &text) || text)
            best = i;
        cJSON_Delete(mev);
    }
    if (best == SIZE_MAX)
        return 0;
    const struct vt_trace_event *m = &v->trace->marks.v[best];
    cJSON *mev = vt_reader_event_json(v->trace, m);
    const char *text;
    const cJSON *mv = mark_value(v, m, mev, name, &text);
    if (text)
        fprintf(v->out, "%s\n", text);
    else
        print_value(v, mv);
    cJSON_Delete(mev);
    return 1;
}
