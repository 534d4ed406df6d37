/* shm.c: reading a shared area (shm.h) and writing its trace; no Python.
 *
 * Nothing read from the area is trusted: offsets and lengths are checked
 * against the mapping before use, names are made valid UTF-8, times are
 * kept within the run, and a thread entry that does not add up is left
 * out and counted. The rings may still be written while we read (a
 * snapshot, or threads still running while one crashes): the held events
 * are copied first and the ring counter read again, and events the
 * writer may have overwritten meanwhile are dropped.
 */
#include "shm.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/mem.h"
#include "event.h"
#include "format/format.h"
#include "tracer.h"

/* off + size <= lim, without overflow. */
static int
fits(uint64_t off, uint64_t size, uint64_t lim)
{
    return off <= lim && size <= lim - off;
}

/* A 64-bit field another process may be writing: one load when aligned. */
static uint64_t
load64(const unsigned char *p)
{
    if (((uintptr_t)p & 7) == 0)
        return __atomic_load_n((const uint64_t *)(const void *)p, __ATOMIC_ACQUIRE);
    uint64_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

static uint32_t
load32(const unsigned char *p)
{
    if (((uintptr_t)p & 3) == 0)
        return __atomic_load_n((const uint32_t *)(const void *)p, __ATOMIC_ACQUIRE);
    uint32_t v;
    memcpy(&v, p, sizeof(v));
    return v;
}

/* Length of the valid UTF-8 sequence at s[0..n), or 0 when invalid. */
static size_t
utf8_seq(const unsigned char *s, size_t n)
{
    unsigned c = s[0];
    size_t k;
    if (c == 0)
        return 0;
    if (c < 0x80)
        return 1;
    if ((c & 0xE0) == 0xC0 && c >= 0xC2)
        k = 1;
    else if ((c & 0xF0) == 0xE0)
        k = 2;
    else if ((c & 0xF8) == 0xF0 && c <= 0xF4)
        k = 3;
    else
        return 0;
    if (k >= n)
        return 0;
    for (size_t j = 1; j <= k; j++)
        if ((s[j] & 0xC0) != 0x80)
            return 0;
    return k + 1;
}

/* An owned NUL-terminated copy of s[0..n) with every byte that is not
 * valid UTF-8 (NUL included) replaced by '?'. */
static char *
clean_utf8(const char *s, size_t n)
{
    char *out = vt_xmalloc(n + 1);
    const unsigned char *u = (const unsigned char *)s;
    size_t i = 0;
    while (i < n) {
        size_t k = utf8_seq(u + i, n - i);
        if (k == 0) {
            out[i++] = '?';
            continue;
        }
        memcpy(out + i, u + i, k);
        i += k;
    }
    out[n] = '\0';
    return out;
}

/* cJSON's quoted, escaped form of s (valid UTF-8). Owned. */
static char *
quote(const char *s, size_t *len)
{
    cJSON *item = cJSON_CreateString(s);
    char *out = item ? cJSON_PrintUnformatted(item) : NULL;
    cJSON_Delete(item);
    if (out == NULL)
        out = vt_xstrdup("\"?\"");
    char *mine = vt_xstrdup(out); /* free() for every owned string, whatever cJSON's hooks */
    cJSON_free(out);
    *len = strlen(mine);
    return mine;
}

static size_t
hash(uint64_t what, uint64_t owner)
{
    uint64_t h = what * 0x9E3779B97F4A7C15ull;
    h ^= owner * 0xC2B2AE3D27D4EB4Full;
    return (size_t)(h ^ (h >> 29));
}

static void
names_insert(struct vt_shm_view *v, const struct vt_shm_name_ref *ref, size_t *n)
{
    if ((*n + 1) * 2 > v->names_cap) {
        size_t cap = v->names_cap ? v->names_cap * 2 : 256;
        struct vt_shm_name_ref *tab = vt_xcalloc(cap, sizeof(*tab));
        for (size_t i = 0; i < v->names_cap; i++) {
            if (v->names[i].what == 0)
                continue;
            size_t j = hash(v->names[i].what, v->names[i].owner) & (cap - 1);
            while (tab[j].what != 0)
                j = (j + 1) & (cap - 1);
            tab[j] = v->names[i];
        }
        free(v->names);
        v->names = tab;
        v->names_cap = cap;
    }
    size_t j = hash(ref->what, ref->owner) & (v->names_cap - 1);
    while (v->names[j].what != 0) {
        if (v->names[j].what == ref->what && v->names[j].owner == ref->owner)
            return; /* the first record of a key wins */
        j = (j + 1) & (v->names_cap - 1);
    }
    v->names[j] = *ref;
    /* "qualname (file:line)" as names.c writes Python functions; a builtin's name as it is */
    char *name = clean_utf8(ref->name, ref->name_len);
    char *text = name;
    if (ref->file) {
        char *file = clean_utf8(ref->file, ref->file_len);
        size_t tl = strlen(name) + strlen(file) + 32;
        text = vt_xmalloc(tl);
        snprintf(text, tl, "%s (%s:%d)", name, file, (int)ref->line);
        free(file);
        free(name);
    }
    v->names[j].json = quote(text, &v->names[j].json_len);
    free(text);
    (*n)++;
}

static void
extras_insert(struct vt_shm_view *v, const struct vt_shm_extra_ref *ref, size_t *n)
{
    if ((*n + 1) * 2 > v->extras_cap) {
        size_t cap = v->extras_cap ? v->extras_cap * 2 : 256;
        struct vt_shm_extra_ref *tab = vt_xcalloc(cap, sizeof(*tab));
        for (size_t i = 0; i < v->extras_cap; i++) {
            if (v->extras[i].key == 0)
                continue;
            size_t j = hash(v->extras[i].key, (uint64_t)v->extras[i].start) & (cap - 1);
            while (tab[j].key != 0)
                j = (j + 1) & (cap - 1);
            tab[j] = v->extras[i];
        }
        free(v->extras);
        v->extras = tab;
        v->extras_cap = cap;
    }
    size_t j = hash(ref->key, (uint64_t)ref->start) & (v->extras_cap - 1);
    while (v->extras[j].key != 0) {
        if (v->extras[j].key == ref->key && v->extras[j].start == ref->start)
            return;
        j = (j + 1) & (v->extras_cap - 1);
    }
    v->extras[j] = *ref;
    (*n)++;
}

/* 1 when text[0..len) is one JSON object and nothing else. */
static int
json_object(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    if (len == 0 || *p != '{' || vt_jscan_value(&p, end) != 0)
        return 0;
    vt_jscan_ws(&p, end);
    return p == end;
}

/* The records of one segment of the extras log, up to the first one that
 * does not fit; the text of each is checked, as it comes from memory a
 * crash may have corrupted. */
static void
index_segment(struct vt_shm_view *v, const unsigned char *seg, uint64_t seg_len, size_t *n)
{
    uint64_t used = load64(seg); /* the live counter */
    if (used > seg_len - VT_SHM_EXTRA_SEG_HEAD)
        used = seg_len - VT_SHM_EXTRA_SEG_HEAD;
    const unsigned char *p = seg + VT_SHM_EXTRA_SEG_HEAD;
    uint64_t at = 0;
    while (used - at >= sizeof(struct vt_shm_extra)) {
        struct vt_shm_extra rec;
        memcpy(&rec, p + at, sizeof(rec));
        if (rec.len > used - at - sizeof(rec))
            break;
        const char *text = (const char *)p + at + sizeof(rec);
        if (rec.key != 0 && json_object(text, rec.len)) {
            struct vt_shm_extra_ref ref = {
                .key = rec.key, .start = rec.start, .json = text, .len = rec.len};
            extras_insert(v, &ref, n);
        }
        uint64_t total = (sizeof(rec) + (uint64_t)rec.len + 7) & ~(uint64_t)7;
        if (total > used - at)
            break;
        at += total;
    }
}

/* The extras log: every segment's records. */
static void
index_extras(struct vt_shm_view *v)
{
    const struct vt_shm_header *h = &v->hdr;
    uint64_t seg_len = (h->extras_cap / VT_SHM_EXTRA_SEGS) & ~(uint64_t)7;
    if (seg_len <= VT_SHM_EXTRA_SEG_HEAD || !fits(h->extras_off, h->extras_cap, v->len))
        return;
    size_t n = 0;
    for (uint64_t i = 0; i < VT_SHM_EXTRA_SEGS; i++)
        index_segment(v, v->base + h->extras_off + i * seg_len, seg_len, &n);
}

const struct vt_shm_extra_ref *
vt_shm_view_extra(const struct vt_shm_view *v, uint64_t key, int64_t start)
{
    if (v->extras_cap == 0 || key == 0)
        return NULL;
    size_t j = hash(key, (uint64_t)start) & (v->extras_cap - 1);
    while (v->extras[j].key != 0) {
        if (v->extras[j].key == key && v->extras[j].start == start)
            return &v->extras[j];
        j = (j + 1) & (v->extras_cap - 1);
    }
    return NULL;
}

enum vt_err
vt_shm_view_init(struct vt_shm_view *v, const void *base, size_t len, char *msg, size_t msglen)
{
    memset(v, 0, sizeof(*v));
    v->base = base;
    v->len = len;
    if (len < sizeof(struct vt_shm_header)) {
        snprintf(msg, msglen, "not a viztracer shared area (%zu bytes)", len);
        return VT_ERR_FORMAT;
    }
    memcpy(&v->hdr, base, sizeof(v->hdr));
    const struct vt_shm_header *h = &v->hdr;
    if (h->magic != VT_SHM_MAGIC || h->header_size != sizeof(struct vt_shm_header)) {
        snprintf(msg, msglen, "not a viztracer shared area");
        return VT_ERR_FORMAT;
    }
    if (h->version != VT_SHM_VERSION) {
        snprintf(msg, msglen, "shared area of version %u, not %d", h->version, VT_SHM_VERSION);
        return VT_ERR_FORMAT;
    }
    v->hdr.output[VT_SHM_PATH_MAX - 1] = '\0';
    v->hdr.marker[VT_SHM_PATH_MAX - 1] = '\0';
    v->hdr.process_name[VT_SHM_NAME_MAX - 1] = '\0';
    if (v->hdr.nthreads > VT_SHM_MAX_THREADS)
        v->hdr.nthreads = VT_SHM_MAX_THREADS;
    /* the name log: records up to the first one that does not fit */
    uint64_t used = load64((const unsigned char *)base +
                           offsetof(struct vt_shm_header, names_used)); /* the live counter */
    if (used > h->names_cap)
        used = h->names_cap;
    if (!fits(h->names_off, used, len))
        used = 0;
    const unsigned char *p = (const unsigned char *)base + h->names_off;
    uint64_t at = 0;
    size_t n = 0;
    while (used - at >= sizeof(struct vt_shm_name)) {
        struct vt_shm_name rec;
        memcpy(&rec, p + at, sizeof(rec));
        uint64_t body = (uint64_t)rec.name_len + rec.file_len;
        uint64_t total = (sizeof(rec) + body + 7) & ~(uint64_t)7;
        if (body > used - at - sizeof(rec))
            break;
        if (rec.what != 0) {
            struct vt_shm_name_ref ref = {
                .what = rec.what,
                .owner = rec.owner,
                .name = (const char *)p + at + sizeof(rec),
                .name_len = rec.name_len,
                .file = rec.file_len ? (const char *)p + at + sizeof(rec) + rec.name_len : NULL,
                .file_len = rec.file_len,
                .line = rec.line,
            };
            names_insert(v, &ref, &n);
        }
        if (total > used - at)
            break;
        at += total;
    }
    index_extras(v);
    return VT_OK;
}

void
vt_shm_view_fini(struct vt_shm_view *v)
{
    for (size_t i = 0; i < v->names_cap; i++)
        free(v->names[i].json);
    free(v->names);
    v->names = NULL;
    v->names_cap = 0;
    free(v->extras);
    v->extras = NULL;
    v->extras_cap = 0;
}

const struct vt_shm_name_ref *
vt_shm_view_name(const struct vt_shm_view *v, uint64_t what, uint64_t owner)
{
    if (v->names_cap == 0 || what == 0)
        return NULL;
    size_t j = hash(what, owner) & (v->names_cap - 1);
    while (v->names[j].what != 0) {
        if (v->names[j].what == what && v->names[j].owner == owner)
            return &v->names[j];
        j = (j + 1) & (v->names_cap - 1);
    }
    return NULL;
}

const char *
vt_shm_signal_name(int sig, char *buf, size_t len)
{
    switch (sig) {
    case SIGSEGV:
        return "SIGSEGV";
    case SIGBUS:
        return "SIGBUS";
    case SIGFPE:
        return "SIGFPE";
    case SIGILL:
        return "SIGILL";
    case SIGABRT:
        return "SIGABRT";
    case SIGKILL:
        return "SIGKILL";
    case SIGTERM:
        return "SIGTERM";
    case SIGINT:
        return "SIGINT";
    default:
        snprintf(buf, len, "signal %d", sig);
        return buf;
    }
}

/* ---- writing --------------------------------------------------------- */

/* One thread entry, checked. */
struct thread_view {
    const unsigned char *th;     /* its struct vt_thread */
    const unsigned char *stack;  /* stack_max frames */
    const struct vt_event *ring; /* cap events */
    uint64_t stack_max, cap;
    int64_t tid;
};

static int
thread_check(const struct vt_shm_view *v, const struct vt_shm_thread *e, struct thread_view *out)
{
    const struct vt_shm_layout *l = &v->hdr.layout;
    if (l->frame_size == 0 || l->frame_size > 4096 || e->cap == 0 || e->stack_max == 0)
        return -1;
    if (l->th_depth > l->thread_size - 4 || l->th_ring_pos > l->thread_size - 8 ||
        l->th_ring_written > l->thread_size - 8 || l->thread_size < 8)
        return -1;
    if (l->fr_start > l->frame_size - 8 || l->fr_what > l->frame_size - 8 ||
        l->fr_extra > l->frame_size - 8 || l->fr_caller_line > l->frame_size - 4 ||
        l->fr_args > l->frame_size - 8 || l->frame_size < 8)
        return -1;
    if (!fits(e->off, l->thread_size, v->len))
        return -1;
    if (e->stack_max > UINT64_MAX / l->frame_size ||
        !fits(e->stack_off, e->stack_max * l->frame_size, v->len))
        return -1;
    if (e->cap > UINT64_MAX / sizeof(struct vt_event) ||
        !fits(e->slots_off, e->cap * sizeof(struct vt_event), v->len) || (e->slots_off & 7))
        return -1;
    out->th = v->base + e->off;
    out->stack = v->base + e->stack_off;
    out->ring = (const struct vt_event *)(const void *)(v->base + e->slots_off);
    out->stack_max = e->stack_max;
    out->cap = e->cap;
    out->tid = e->tid;
    return 0;
}

struct writing {
    const struct vt_shm_view *v;
    struct vt_writer *w;
    struct vt_clock_conv conv;
    int64_t lo, hi; /* ticks of the run: the area's start to the end */
    long pid;
    struct vt_shm_stats *st;
    unsigned char *used; /* owned: 1 per v->names slot an event names, or NULL */
};

/* The quoted name of (what, owner); a placeholder naming the address when
 * the log lacks it (counted). buf holds the placeholder. */
static const char *
event_name(struct writing *wr, uint64_t what, uint64_t owner, char *buf, size_t buflen, size_t *len)
{
    const struct vt_shm_name_ref *n = vt_shm_view_name(wr->v, what, owner);
    if (n) {
        if (wr->used)
            wr->used[n - wr->v->names] = 1;
        *len = n->json_len;
        return n->json;
    }
    wr->st->unnamed++;
    int k = snprintf(buf, buflen, "\"<%s at 0x%llx>\"",
                     (what & VT_EVENT_KIND_MASK) == VT_EVENT_C ? "builtin" : "function",
                     (unsigned long long)(what & ~VT_EVENT_KIND_MASK));
    *len = k > 0 && (size_t)k < buflen ? (size_t)k : 0;
    return buf;
}

static void
write_meta(struct writing *wr, long tid, const char *kind, const char *name)
{
    cJSON *ev = cJSON_CreateObject();
    cJSON_AddStringToObject(ev, "ph", "M");
    cJSON_AddNumberToObject(ev, "pid", (double)wr->pid);
    cJSON_AddNumberToObject(ev, "tid", (double)tid);
    cJSON_AddStringToObject(ev, "name", kind);
    cJSON *args = cJSON_AddObjectToObject(ev, "args");
    cJSON_AddStringToObject(args, "name", name);
    char *s = cJSON_PrintUnformatted(ev);
    if (s)
        vt_writer_event(wr->w, s, strlen(s));
    cJSON_free(s);
    cJSON_Delete(ev);
}

/* The ring's held events, copied; *n of them. Events the process
 * overwrote while they were copied are dropped. Owned, or NULL. */
static struct vt_event *
copy_ring(const struct thread_view *tv, const struct vt_shm_layout *l, uint64_t *n)
{
    uint64_t written = load64(tv->th + l->th_ring_written);
    uint64_t held = written < tv->cap ? written : tv->cap;
    *n = 0;
    if (held == 0)
        return NULL;
    struct vt_event *out = vt_xmalloc(held * sizeof(*out));
    uint64_t first_seq = written - held; /* sequence number of the oldest held event */
    for (uint64_t i = 0; i < held; i++)
        memcpy(&out[i], &tv->ring[(first_seq + i) % tv->cap], sizeof(*out));
    uint64_t after = load64(tv->th + l->th_ring_written);
    uint64_t skip = 0;
    if (after > written) { /* the oldest (after - written) slots may hold newer events now */
        skip = after - written;
        if (skip > held)
            skip = held;
        /* and the newest slot the writer was filling may be torn */
    }
    if (skip)
        memmove(out, out + skip, (held - skip) * sizeof(*out));
    *n = held - skip;
    return out;
}

/* An owned NUL-terminated copy of the JSON text of the dict at key, with
 * "signal": sig added when sig is given; NULL when the area lacks it and
 * there is no signal. */
static char *
args_of(struct writing *wr, uint64_t key, int64_t start, const char *sig)
{
    const struct vt_shm_extra_ref *x = key ? vt_shm_view_extra(wr->v, key, start) : NULL;
    if (x == NULL && key)
        wr->st->lost_args++;
    if (x == NULL && sig == NULL)
        return NULL;
    cJSON *obj = x ? cJSON_ParseWithLength(x->json, x->len) : cJSON_CreateObject();
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        obj = cJSON_CreateObject();
    }
    if (sig)
        cJSON_AddStringToObject(obj, "signal", sig);
    char *s = cJSON_PrintUnformatted(obj);
    cJSON_Delete(obj);
    char *mine = s ? vt_xstrdup(s) : NULL;
    cJSON_free(s);
    return mine;
}

/* A custom event (instant, counter, object, raw) as dump.c writes it. */
static void
write_custom(struct writing *wr, const struct vt_event *ev, long tid)
{
    const struct vt_shm_extra_ref *x =
        vt_shm_view_extra(wr->v, (uint64_t)(uintptr_t)ev->extra, ev->start);
    cJSON *obj = x ? cJSON_ParseWithLength(x->json, x->len) : NULL;
    if (!cJSON_IsObject(obj)) {
        cJSON_Delete(obj);
        wr->st->lost_custom++;
        return;
    }
    if (!cJSON_HasObjectItem(obj, "pid"))
        cJSON_AddNumberToObject(obj, "pid", (double)wr->pid);
    if (!cJSON_HasObjectItem(obj, "tid"))
        cJSON_AddNumberToObject(obj, "tid", (double)tid);
    if (vt_event_kind(ev) == VT_EVENT_CUSTOM && !cJSON_HasObjectItem(obj, "ts")) {
        char ts[40];
        size_t n = vt_writer_format_us(ts, vt_clock_to_ns(&wr->conv, ev->start));
        ts[n] = '\0';
        cJSON_AddRawToObject(obj, "ts", ts);
    }
    char *s = cJSON_PrintUnformatted(obj);
    if (s)
        vt_writer_event(wr->w, s, strlen(s));
    cJSON_free(s);
    cJSON_Delete(obj);
}

static void
write_thread(struct writing *wr, const struct vt_shm_thread *e, const struct vt_shm_end *end)
{
    struct thread_view tv;
    const struct vt_shm_layout *l = &wr->v->hdr.layout;
    if (thread_check(wr->v, e, &tv) < 0) {
        wr->st->bad_threads++;
        return;
    }
    char tname[VT_SHM_NAME_MAX + 1];
    memcpy(tname, e->name, VT_SHM_NAME_MAX);
    tname[VT_SHM_NAME_MAX] = '\0';
    char *clean = clean_utf8(tname, strlen(tname));
    char fallback[48];
    if (tv.tid == wr->pid)
        snprintf(fallback, sizeof(fallback), "MainThread");
    else
        snprintf(fallback, sizeof(fallback), "Thread-%lld", (long long)tv.tid);
    write_meta(wr, (long)tv.tid, "thread_name", clean[0] ? clean : fallback);
    free(clean);
    char buf[64];
    uint64_t n;
    struct vt_event *evs = copy_ring(&tv, l, &n);
    for (uint64_t i = 0; i < n; i++) {
        const struct vt_event *ev = &evs[i];
        enum vt_event_kind kind = vt_event_kind(ev);
        long tid = ev->task ? (long)ev->task : (long)tv.tid;
        if (ev->start < wr->lo || ev->end < ev->start || ev->end > wr->hi)
            continue; /* torn, or not of this run */
        if (kind == VT_EVENT_CUSTOM || kind == VT_EVENT_RAW) {
            write_custom(wr, ev, tid);
            continue;
        }
        uint64_t owner = kind == VT_EVENT_C ? (uint64_t)(uintptr_t)ev->extra : 0;
        char *args = kind == VT_EVENT_PY
                         ? args_of(wr, (uint64_t)(uintptr_t)ev->extra, ev->start, NULL)
                         : NULL;
        size_t len;
        const char *name = event_name(wr, ev->what, owner, buf, sizeof(buf), &len);
        vt_writer_fee(wr->w, wr->pid, tid, vt_clock_to_ns(&wr->conv, ev->start),
                      vt_clock_span_ns(&wr->conv, ev->end - ev->start), name, len, args,
                      ev->caller_line >= 0 ? ev->caller_line : -1);
        free(args);
    }
    free(evs);
    /* the calls still open end now, the innermost marked with the signal */
    uint64_t depth = load32(tv.th + l->th_depth);
    if (depth > tv.stack_max)
        depth = tv.stack_max;
    int64_t last = -1;
    for (uint64_t d = 0; d < depth; d++)
        if (load64(tv.stack + d * l->frame_size + l->fr_what) != 0)
            last = (int64_t)d;
    char sigbuf[32];
    for (uint64_t d = 0; d < depth; d++) {
        const unsigned char *fr = tv.stack + d * l->frame_size;
        uint64_t what = load64(fr + l->fr_what);
        int64_t start = (int64_t)load64(fr + l->fr_start);
        if (what == 0 || start < wr->lo || start > end->end_ticks)
            continue;
        uint64_t owner = (what & VT_EVENT_KIND_MASK) == VT_EVENT_C ? load64(fr + l->fr_extra) : 0;
        size_t len;
        const char *name = event_name(wr, what, owner, buf, sizeof(buf), &len);
        const char *sig =
            (int64_t)d == last && end->signal && (end->signal_tid == 0 || end->signal_tid == tv.tid)
                ? vt_shm_signal_name(end->signal, sigbuf, sizeof(sigbuf))
                : NULL;
        char *a =
            args_of(wr, (what & VT_EVENT_KIND_MASK) == VT_EVENT_PY ? load64(fr + l->fr_args) : 0,
                    start, sig);
        int32_t cl = (int32_t)load32(fr + l->fr_caller_line);
        vt_writer_fee(wr->w, wr->pid, (long)tv.tid, vt_clock_to_ns(&wr->conv, start),
                      vt_clock_span_ns(&wr->conv, end->end_ticks - start), name, len, a,
                      cl >= 0 ? cl : -1);
        free(a);
        wr->st->open_calls++;
    }
}

static char *
metadata(const struct vt_shm_view *v, const struct vt_shm_end *end, const struct vt_shm_stats *st,
         const struct vt_clock_anchor *now, uint64_t dropped)
{
    cJSON *m = cJSON_CreateObject();
    cJSON_AddStringToObject(m, "version", VT_FORMAT_VIZTRACER_VERSION);
    cJSON_AddStringToObject(m, "viztracer_c_version", VT_VERSION);
    cJSON_AddBoolToObject(m, "overflow", dropped > 0);
    if (dropped)
        cJSON_AddNumberToObject(m, "dropped_events", (double)dropped);
    char base[32];
    snprintf(base, sizeof(base), "%lld", (long long)(now->real_ns - now->mono_ns));
    cJSON_AddRawToObject(m, "baseTimeNanoseconds", base);
    cJSON *c = cJSON_AddObjectToObject(m, end->snapshot ? "snapshot" : "crash");
    char sigbuf[32];
    if (end->signal)
        cJSON_AddStringToObject(c, "signal",
                                vt_shm_signal_name(end->signal, sigbuf, sizeof(sigbuf)));
    else if (!end->snapshot)
        cJSON_AddNullToObject(c, "signal");
    cJSON_AddNumberToObject(c, "open_calls", (double)st->open_calls);
    cJSON_AddNumberToObject(c, "lost_args", (double)st->lost_args);
    cJSON_AddNumberToObject(c, "lost_custom_events", (double)st->lost_custom);
    cJSON_AddNumberToObject(c, "unnamed_functions", (double)st->unnamed);
    if (st->bad_threads)
        cJSON_AddNumberToObject(c, "corrupt_threads", (double)st->bad_threads);
    (void)v;
    char *s = cJSON_PrintUnformatted(m);
    cJSON_Delete(m);
    return s;
}

/* The file_info of the Python functions the events name, their sources
 * read from disk now through the reader a save uses (format.h): what the
 * viewer shows on a click. A frozen module's source ("<frozen ...>") is
 * left out: finding it takes the interpreter. Owned JSON text, or NULL. */
static char *
file_info(const struct writing *wr)
{
    if (wr->used == NULL)
        return NULL;
    cJSON *fi = cJSON_CreateObject();
    cJSON *files = cJSON_AddObjectToObject(fi, "files");
    cJSON *functions = cJSON_AddObjectToObject(fi, "functions");
    cJSON *unreadable = cJSON_CreateObject(); /* each path tried in vain is tried once */
    for (size_t i = 0; i < wr->v->names_cap; i++) {
        const struct vt_shm_name_ref *n = &wr->v->names[i];
        if (!wr->used[i] || n->file == NULL)
            continue;
        char *file = clean_utf8(n->file, n->file_len);
        int ok = cJSON_GetObjectItemCaseSensitive(files, file) != NULL;
        if (!ok && file[0] != '<' && cJSON_GetObjectItemCaseSensitive(unreadable, file) == NULL) {
            ok = vt_format_add_source(files, file, file);
            if (!ok)
                cJSON_AddNullToObject(unreadable, file);
        }
        if (ok) {
            /* keyed by the event's name, as names.c keys them */
            char *name = clean_utf8(n->name, n->name_len);
            size_t tl = strlen(name) + strlen(file) + 32;
            char *text = vt_xmalloc(tl);
            snprintf(text, tl, "%s (%s:%d)", name, file, (int)n->line);
            cJSON *pair = cJSON_CreateArray();
            cJSON_AddItemToArray(pair, cJSON_CreateString(file));
            cJSON_AddItemToArray(pair, cJSON_CreateNumber(n->line));
            cJSON_AddItemToObject(functions, text, pair);
            free(text);
            free(name);
        }
        free(file);
    }
    cJSON_Delete(unreadable);
    char *s = cJSON_PrintUnformatted(fi);
    cJSON_Delete(fi);
    char *mine = s ? vt_xstrdup(s) : NULL; /* free() for every owned string */
    cJSON_free(s);
    return mine;
}

enum vt_err
vt_shm_write_trace(const struct vt_shm_view *v, const char *path, const struct vt_shm_end *end,
                   struct vt_shm_stats *stats, int *errnum)
{
    *errnum = 0;
    memset(stats, 0, sizeof(*stats));
    struct vt_clock_anchor now;
    vt_clock_anchor_take(&now);
    const struct vt_clock_anchor *start = &v->hdr.start;
    /* A start anchor that is not in the past would make the conversion
     * wait for it (clock.c) or overflow. */
    if (start->mono_ns <= 0 || start->mono_ns > now.mono_ns || start->ticks > now.ticks ||
        end->end_ticks < start->ticks || end->end_ticks > now.ticks)
        return VT_ERR_FORMAT;
    struct writing wr = {.v = v, .pid = (long)v->hdr.pid, .st = stats};
    vt_clock_conv_init(&wr.conv, start, &now);
    if (VT_CLOCK_TSC && (wr.conv.mult < ((uint64_t)1 << 26) || wr.conv.mult > ((uint64_t)1 << 38)))
        return VT_ERR_FORMAT; /* not 1/64 .. 64 ns per tick: not a clock */
    wr.lo = start->ticks;
    wr.hi = end->end_ticks;
    enum vt_err err = vt_writer_open(path, &wr.w, errnum);
    if (err != VT_OK)
        return err;
    wr.used = v->names_cap ? vt_xcalloc(v->names_cap, 1) : NULL;
    write_meta(&wr, wr.pid, "process_name",
               v->hdr.process_name[0] ? v->hdr.process_name : "MainProcess");
    uint64_t dropped = 0;
    for (uint32_t i = 0; i < v->hdr.nthreads; i++) {
        const struct vt_shm_thread *e = &v->hdr.threads[i];
        if (e->off == 0)
            continue;
        struct thread_view tv;
        if (thread_check(v, e, &tv) == 0) {
            uint64_t written = load64(tv.th + v->hdr.layout.th_ring_written);
            dropped += written > tv.cap ? written - tv.cap : 0;
        }
        write_thread(&wr, e, end);
    }
    stats->events = vt_writer_count(wr.w);
    char *meta = metadata(v, end, stats, &now, dropped);
    char *fi = file_info(&wr); /* owned */
    free(wr.used);
    err = vt_writer_close(wr.w, meta, fi, errnum);
    cJSON_free(meta);
    free(fi);
    return err;
}
