/* merge.c: --combine / --align_combine and the children's merge; see format.h.
 *
 * Like VizTracer's ReportBuilder (src/viztracer/report_builder.py) but streaming: each input is
 * read whole, its events written out before the next input is read, so
 * memory is one input at a time, not the sum. Without alignment the events
 * are copied as written (checked, not parsed: jscan.c). With it, the
 * input is parsed with cJSON and every numeric "ts" is rewritten from
 * integer nanoseconds with three decimals (what both writers produce), so
 * shifting never loses precision to a double printed with 15 digits.
 *
 * Sections: merge (pure, testable on text), command (files, messages).
 */
#include "format.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../base/fs.h"
#include "../base/log.h"
#include "../base/mem.h"
#include "../tracer.h" /* VT_VERSION, written into the merged metadata */

/* merge */

enum vt_err
vt_merge_init(struct vt_merge *c, const char *path, int align, int *errnum)
{
    memset(c, 0, sizeof(*c));
    c->align = align;
    return vt_writer_open(path, &c->w, errnum);
}

static int64_t
us_to_ns(double us)
{
    return (int64_t)llround(us * 1000.0);
}

/* The shift of one input, in ns: its sync_marker, else its earliest ts. */
static int64_t
align_shift(const cJSON *doc, const cJSON *events)
{
    const cJSON *meta = cJSON_GetObjectItemCaseSensitive(doc, "viztracer_metadata");
    const cJSON *marker = cJSON_GetObjectItemCaseSensitive(meta, "sync_marker");
    if (cJSON_IsNumber(marker))
        return us_to_ns(marker->valuedouble);
    int found = 0;
    int64_t min = 0;
    const cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "ts");
        if (!cJSON_IsObject(e) || !cJSON_IsNumber(ts))
            continue;
        int64_t v = us_to_ns(ts->valuedouble);
        if (!found || v < min)
            min = v;
        found = 1;
    }
    return min;
}

/* Moves the members of from that into lacks into it (first input wins). */
static void
merge_object(cJSON *into, cJSON *from)
{
    cJSON *item = from->child;
    while (item) {
        cJSON *next = item->next;
        if (item->string && !cJSON_HasObjectItem(into, item->string))
            cJSON_AddItemToObject(into, item->string, cJSON_DetachItemViaPointer(from, item));
        item = next;
    }
}

/* Merges file_info (taken out of doc) into c->file_info, one level deep:
 * "files" and "functions" are unions. */
static void
merge_file_info(struct vt_merge *c, cJSON *doc)
{
    cJSON *fi = cJSON_DetachItemFromObjectCaseSensitive(doc, "file_info"); /* owned */
    if (!cJSON_IsObject(fi)) {
        cJSON_Delete(fi);
        return;
    }
    if (c->file_info == NULL) {
        c->file_info = fi;
        return;
    }
    cJSON *item = fi->child;
    while (item) {
        cJSON *next = item->next;
        cJSON *mine = cJSON_GetObjectItemCaseSensitive(c->file_info, item->string);
        if (mine == NULL)
            cJSON_AddItemToObject(c->file_info, item->string, cJSON_DetachItemViaPointer(fi, item));
        else if (cJSON_IsObject(mine) && cJSON_IsObject(item))
            merge_object(mine, item);
        item = next;
    }
    cJSON_Delete(fi);
}

/* cJSON keeps numbers as doubles, which cannot hold baseTimeNanoseconds
 * (about 1.8e18). Its digits are found in the text instead (the last
 * occurrence: the metadata follows the events) and kept as a raw number
 * when they agree with the parsed value. */
static void
keep_exact_int(cJSON *meta, const char *text, size_t len, const char *key)
{
    cJSON *item = cJSON_GetObjectItemCaseSensitive(meta, key);
    if (!cJSON_IsNumber(item))
        return;
    char pat[64];
    int plen = snprintf(pat, sizeof(pat), "\"%s\":", key);
    if (plen < 0 || (size_t)plen >= sizeof(pat))
        return;
    const char *last = NULL;
    for (size_t i = len >= (size_t)plen ? len - (size_t)plen + 1 : 0; i > 0 && last == NULL; i--)
        if (memcmp(text + i - 1, pat, (size_t)plen) == 0)
            last = text + i - 1;
    if (last == NULL)
        return;
    char digits[32];
    size_t n = 0;
    const char *d = last + plen;
    while ((size_t)(d - text) < len && n + 1 < sizeof(digits) &&
           ((*d >= '0' && *d <= '9') || (n == 0 && *d == '-')))
        digits[n++] = *d++;
    digits[n] = '\0';
    if (n == 0 || (size_t)(d - text) >= len || (*d != ',' && *d != '}' && *d != ' '))
        return;
    errno = 0;
    long long v = strtoll(digits, NULL, 10);
    if (errno != 0 || (double)v != item->valuedouble)
        return;
    cJSON_ReplaceItemInObjectCaseSensitive(meta, key, cJSON_CreateRaw(digits));
}

static void
merge_metadata(struct vt_merge *c, cJSON *doc, const char *text, size_t len)
{
    cJSON *meta = cJSON_DetachItemFromObjectCaseSensitive(doc, "viztracer_metadata"); /* owned */
    if (!cJSON_IsObject(meta)) {
        cJSON_Delete(meta);
        return;
    }
    keep_exact_int(meta, text, len, "baseTimeNanoseconds");
    if (cJSON_IsTrue(cJSON_GetObjectItemCaseSensitive(meta, "overflow")))
        c->overflow = 1;
    const cJSON *dropped = cJSON_GetObjectItemCaseSensitive(meta, "dropped_events");
    if (cJSON_IsNumber(dropped) && dropped->valuedouble > 0)
        c->dropped += (int64_t)dropped->valuedouble;
    if (c->metadata == NULL)
        c->metadata = meta;
    else
        cJSON_Delete(meta);
}

/* Without alignment events are copied as written: the document is checked
 * by jscan.c, each event's text goes to the writer as it is, and only the
 * rest (metadata, file_info: the events replaced by []) is parsed. Returns
 * 0, or -1 having written nothing (the caller then parses it whole, which
 * decides whether it is a trace). */
static int
add_verbatim(struct vt_merge *c, const char *text, size_t len)
{
    const char *a, *b;
    if (vt_jscan_member(text, len, "traceEvents", &a, &b) != 0 || *a != '[')
        return -1;
    size_t head = (size_t)(a - text), tail = len - (size_t)(b - text);
    size_t rest_len = head + 2 + tail;
    char *rest = vt_xmalloc(rest_len + 1); /* owned */
    memcpy(rest, text, head);
    memcpy(rest + head, "[]", 2);
    memcpy(rest + head + 2, b, tail);
    rest[rest_len] = '\0';
    cJSON *doc = cJSON_ParseWithLength(rest, rest_len); /* owned */
    if (!cJSON_IsObject(doc)) {
        cJSON_Delete(doc);
        free(rest);
        return -1;
    }
    const char *s = a + 1;
    vt_jscan_ws(&s, b);
    while (*s != ']') {
        const char *e = s;
        if (vt_jscan_value(&s, b) < 0)
            break; /* cannot happen: the whole document was checked */
        vt_writer_event(c->w, e, (size_t)(s - e));
        vt_jscan_ws(&s, b);
        if (*s == ',')
            s++;
        vt_jscan_ws(&s, b);
    }
    merge_metadata(c, doc, rest, rest_len);
    merge_file_info(c, doc);
    cJSON_Delete(doc);
    free(rest);
    c->inputs++;
    return 0;
}

enum vt_err
vt_merge_add(struct vt_merge *c, const char *text, size_t len)
{
    if (!c->align && add_verbatim(c, text, len) == 0)
        return VT_OK;
    cJSON *doc = cJSON_ParseWithLength(text, len); /* owned */
    cJSON *events = cJSON_GetObjectItemCaseSensitive(doc, "traceEvents");
    if (!cJSON_IsObject(doc) || !cJSON_IsArray(events)) {
        cJSON_Delete(doc);
        return VT_ERR_FORMAT;
    }
    int64_t shift = c->align ? align_shift(doc, events) : 0;
    cJSON *e;
    cJSON_ArrayForEach(e, events)
    {
        const cJSON *ts = cJSON_GetObjectItemCaseSensitive(e, "ts");
        if (cJSON_IsObject(e) && cJSON_IsNumber(ts)) {
            char num[32];
            size_t n = vt_writer_format_us(num, us_to_ns(ts->valuedouble) - shift);
            num[n] = '\0';
            cJSON_ReplaceItemInObjectCaseSensitive(e, "ts", cJSON_CreateRaw(num));
        }
        char *s = cJSON_PrintUnformatted(e); /* owned */
        if (s == NULL) {
            cJSON_Delete(doc);
            return VT_ERR_NOMEM;
        }
        vt_writer_event(c->w, s, strlen(s));
        cJSON_free(s);
    }
    merge_metadata(c, doc, text, len);
    merge_file_info(c, doc);
    cJSON_Delete(doc);
    c->inputs++;
    return VT_OK;
}

static void
merge_fini(struct vt_merge *c)
{
    cJSON_Delete(c->metadata);
    cJSON_Delete(c->file_info);
    memset(c, 0, sizeof(*c));
}

enum vt_err
vt_merge_finish(struct vt_merge *c, uint64_t *count, int *errnum)
{
    cJSON *meta = c->metadata ? c->metadata : cJSON_CreateObject();
    c->metadata = meta;
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "version");
    cJSON_AddStringToObject(meta, "version", VT_FORMAT_VIZTRACER_VERSION);
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "viztracer_c_version");
    cJSON_AddStringToObject(meta, "viztracer_c_version", VT_VERSION);
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "overflow");
    cJSON_AddBoolToObject(meta, "overflow", c->overflow);
    cJSON_DeleteItemFromObjectCaseSensitive(meta, "dropped_events");
    if (c->dropped > 0)
        cJSON_AddNumberToObject(meta, "dropped_events", (double)c->dropped);
    if (c->align) {
        /* Shifted times no longer sit on the recorded clock. */
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "sync_marker");
        cJSON_DeleteItemFromObjectCaseSensitive(meta, "baseTimeNanoseconds");
    }
    char *meta_json = cJSON_PrintUnformatted(meta);                               /* owned */
    char *info_json = c->file_info ? cJSON_PrintUnformatted(c->file_info) : NULL; /* owned */
    *count = vt_writer_count(c->w);
    enum vt_err err = vt_writer_close(c->w, meta_json, info_json, errnum);
    c->w = NULL;
    cJSON_free(meta_json);
    cJSON_free(info_json);
    merge_fini(c);
    return err;
}

void
vt_merge_abort(struct vt_merge *c)
{
    vt_writer_abort(c->w);
    merge_fini(c);
}

/* command */

static int
is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* Merges the inputs into json_path. Returns VT_OK, or an error it printed. */
static enum vt_err
combine_into(char *const *inputs, size_t n, int align, const char *json_path, const char *shown,
             uint64_t *count, int *overflow)
{
    struct vt_merge c;
    int errnum = 0;
    enum vt_err err = vt_merge_init(&c, json_path, align, &errnum);
    if (err != VT_OK) {
        vt_log_error("viztracer: cannot write %s: %s", shown,
                     errnum ? strerror(errnum) : vt_strerror(err));
        return err;
    }
    for (size_t i = 0; i < n; i++) {
        char *text = NULL;
        size_t len = 0;
        err = vt_format_load(inputs[i], &text, &len, NULL, NULL, 0);
        if (err == VT_OK)
            err = vt_merge_add(&c, text, len);
        free(text);
        if (err == VT_ERR_NOMEM) {
            vt_merge_abort(&c);
            vt_log_error("viztracer: %s", vt_strerror(err));
            return err;
        }
        if (err != VT_OK)
            vt_log_error("viztracer: Found and ignored invalid json file %s (%s)", inputs[i],
                         vt_strerror(err));
    }
    if (c.inputs == 0) {
        vt_merge_abort(&c);
        vt_log_error("viztracer: no valid trace to combine");
        return VT_ERR_FORMAT;
    }
    *overflow = c.overflow;
    err = vt_merge_finish(&c, count, &errnum);
    if (err != VT_OK)
        vt_log_error("viztracer: cannot write %s: %s", shown,
                     errnum ? strerror(errnum) : vt_strerror(err));
    return err;
}

enum vt_err
vt_merge_run(char *const *inputs, size_t n, int align, const char *output, vt_format_html_fn html,
             int quiet)
{
    for (size_t i = 0; i < n; i++) {
        if (!is_file(inputs[i])) {
            vt_log_error("viztracer: No such file as %s", inputs[i]);
            return VT_ERR_NOFILE;
        }
    }
    uint64_t count = 0;
    int overflow = 0;
    enum vt_err err;
    if (vt_fs_is_html(output) && html != NULL) {
        /* The page is made from a JSON file beside it, as save() does. */
        char tmp[PATH_MAX];
        int len = snprintf(tmp, sizeof(tmp), "%s.%ld.tmp.json", output, (long)getpid());
        if (len < 0 || (size_t)len >= sizeof(tmp)) {
            vt_log_error("viztracer: cannot write %s: %s", output, strerror(ENAMETOOLONG));
            return VT_ERR_USAGE;
        }
        err = combine_into(inputs, n, align, tmp, output, &count, &overflow);
        if (err == VT_OK) {
            char msg[512];
            if (html(tmp, output, msg, sizeof(msg)) != 0) {
                vt_log_error("viztracer: %s", msg);
                err = VT_ERR_IO;
            }
            unlink(tmp);
        }
    } else {
        err = combine_into(inputs, n, align, output, output, &count, &overflow);
    }
    if (err == VT_OK && !quiet) {
        if (overflow) /* one of the processes lost its oldest events (ReportBuilder says so too) */
            vt_format_print_overflow(0);
        vt_format_print_summary(output, count);
    }
    return err;
}
