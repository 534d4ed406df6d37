/* api.c: /api/..., the questions the page asks about a trace too large to
 * send it whole, and the indexes that answer them.
 *
 * An index is built on its own thread (index.c) while the server already
 * answers: /api/status reports its progress (the page shows it, and the
 * terminal's one updating line), and every other /api/ path answers 503
 * with that status until it is ready. Then queries run on the MHD thread
 * against the read-only index. A trace whose file is at most
 * VIZVIEWER_WHOLE_MAX_MB (default 64 MB of JSON, 8 MB of .gz or .vzt) is
 * "whole": the page loads it from /localtrace as before, since parsing it
 * in the browser is faster than asking about each screen, and no index is
 * built unless asked for. Folder mode keeps the indexes of the last
 * VT_API_KEEP traces it served.
 */
#define _GNU_SOURCE /* SCHED_IDLE */
#include "internal.h"

#include <pthread.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tracer/base/mem.h"
#include "index.h"

#define VT_API_KEEP 4
#define VT_API_MAX_ANSWER ((size_t)512 << 20)

enum ix_state { IX_BUILDING, IX_READY, IX_FAILED };

/* One trace's index and the thread that builds it. */
struct vt_viewer_ix {
    char *path;                  /* owned; the trace */
    pthread_t thread;            /* the builder, joined in vt_viewer__api_free */
    int state;                   /* enum ix_state, atomic: the builder publishes */
    struct vt_index *index;      /* owned; set before state becomes IX_READY */
    struct vt_index_progress pg; /* written by the builder, read by status */
    char msg[200];               /* IX_FAILED: why */
    double started;              /* monotonic seconds */
    double took;                 /* seconds the build took */
    unsigned long used;          /* last use, for folder mode's eviction */
    int print;                   /* 1: progress on the terminal */
    char *cache;                 /* owned; where the index is kept, or NULL */
    int cached;                  /* 1: loaded from the cache */
    int saved;                   /* 1: written to the cache */
    int saving;                  /* atomic: 1 while the ready index is being written */
};

/* All of them, owned by struct vt_viewer. */
struct vt_viewer_api {
    struct vt_viewer_ix *ix[VT_API_KEEP]; /* owned */
    unsigned long clock;                  /* use counter */
};

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static size_t
env_mb(const char *name, size_t dflt)
{
    const char *s = getenv(name);
    if (s == NULL || *s == '\0')
        return dflt;
    char *end;
    unsigned long long n = strtoull(s, &end, 10);
    return *end == '\0' && n < ((size_t)1 << 43) ? (size_t)n << 20 : dflt;
}

int
vt_viewer__whole(const char *path)
{
    struct stat st;
    if (stat(path, &st) != 0)
        return 1;
    unsigned char head[2] = {0};
    FILE *fp = fopen(path, "rb");
    size_t got = fp != NULL ? fread(head, 1, 2, fp) : 0;
    if (fp != NULL)
        fclose(fp);
    int compressed = (got == 2 && head[0] == 0x1f && head[1] == 0x8b) || head[0] == 0x89;
    size_t max = env_mb("VIZVIEWER_WHOLE_MAX_MB", (size_t)64 << 20);
    return (size_t)st.st_size <= (compressed ? max / 8 : max);
}

static void *
build_main(void *arg)
{
    struct vt_viewer_ix *x = arg;
    struct vt_index *index = NULL;
    /* VIZVIEWER_CACHE_MIN_MB: traces smaller than this (default 64 MB, the
     * size below which the page loads a trace whole) are not cached;
     * VIZVIEWER_NO_CACHE=1: no cache at all */
    const char *nocache = getenv("VIZVIEWER_NO_CACHE");
    char *cache = nocache != NULL && nocache[0] == '1' ? NULL : vt_index_cache_path(x->path);
    enum vt_err err = VT_ERR_NOFILE;
    if (cache != NULL)
        err = vt_index_cache_load(x->path, cache, &x->pg, &index);
    if (err == VT_OK) {
        x->cached = 1;
    } else {
        err = vt_index_build(x->path, env_mb("VIZVIEWER_INDEX_LIMIT_MB", 0), &x->pg, &index, x->msg,
                             sizeof(x->msg));
    }
    int save = err == VT_OK && !x->cached && cache != NULL &&
               index->text_len >= env_mb("VIZVIEWER_CACHE_MIN_MB", (size_t)64 << 20);
    if (err == VT_OK && x->pg.events == 0)
        x->pg.events = index->nslices + index->ninstants;
    x->cache = cache;
    x->took = now_s() - x->started;
    x->index = index;
    /* The page may use the index while it is written to the cache (1 GB for
     * 30M events, seconds of the first open otherwise): queries and the save
     * only read it. Status says "saving" meanwhile. */
    __atomic_store_n(&x->saving, save, __ATOMIC_RELAXED);
    __atomic_store_n(&x->state, err == VT_OK ? IX_READY : IX_FAILED, __ATOMIC_RELEASE);
    if (save) {
        /* Only idle CPU for the save: on two cores it competed with the
         * page's first zooms (answers waited 40-80 ms for their headers
         * instead of 10). Nothing waits for this thread at that priority
         * but the exit, which has to write the file anyway. */
        struct sched_param idle = {0};
        (void)pthread_setschedparam(pthread_self(), SCHED_IDLE, &idle);
        int ok = vt_index_cache_save(index, x->path, cache) == VT_OK;
        __atomic_store_n(&x->saved, ok, __ATOMIC_RELAXED);
        __atomic_store_n(&x->saving, 0, __ATOMIC_RELEASE);
    }
    if (x->print) {
        char line[300];
        if (err == VT_OK)
            snprintf(line, sizeof(line), "vizviewer: %s %llu events in %.1f s%s%s\n",
                     x->cached ? "loaded the index of" : "indexed",
                     (unsigned long long)x->pg.events, x->took,
                     x->cached || x->saved ? x->cached ? " from " : ", kept in " : "",
                     x->cached || x->saved ? x->cache : "");
        else
            snprintf(line, sizeof(line), "vizviewer: cannot index %s: %s\n", x->path, x->msg);
        vt_format_progress(line);
    }
    return NULL;
}

/* The terminal's progress line, from the thread that waits (viewer.c). */
void
vt_viewer__api_tick(struct vt_viewer *v)
{
    if (v->api == NULL)
        return;
    for (int i = 0; i < VT_API_KEEP; i++) {
        struct vt_viewer_ix *x = v->api->ix[i];
        if (x == NULL || !x->print || __atomic_load_n(&x->state, __ATOMIC_ACQUIRE) != IX_BUILDING)
            continue;
        char line[200];
        uint64_t total = x->pg.total ? x->pg.total : 1;
        snprintf(line, sizeof(line), "vizviewer: indexing the trace: %.0f%% (%llu events)",
                 100.0 * (double)x->pg.in / (double)total, (unsigned long long)x->pg.events);
        vt_format_progress(line);
    }
}

int
vt_viewer__api_busy(struct vt_viewer *v)
{
    for (int i = 0; v->api != NULL && i < VT_API_KEEP; i++) {
        struct vt_viewer_ix *x = v->api->ix[i];
        if (x != NULL && x->print == 1 &&
            __atomic_load_n(&x->state, __ATOMIC_ACQUIRE) == IX_BUILDING)
            return 1;
    }
    return 0;
}

/* The index of path, started when new. Never NULL. */
static struct vt_viewer_ix *
ix_for(struct vt_viewer *v, const char *path, int print)
{
    if (v->api == NULL)
        v->api = vt_xcalloc(1, sizeof(*v->api));
    struct vt_viewer_api *a = v->api;
    int slot = -1;
    for (int i = 0; i < VT_API_KEEP; i++) {
        if (a->ix[i] != NULL && strcmp(a->ix[i]->path, path) == 0) {
            a->ix[i]->used = ++a->clock;
            return a->ix[i];
        }
        if (a->ix[i] == NULL && slot < 0)
            slot = i;
    }
    if (slot < 0) {
        /* evict the least recently used index that is not being built */
        for (int i = 0; i < VT_API_KEEP; i++) {
            if (__atomic_load_n(&a->ix[i]->state, __ATOMIC_ACQUIRE) != IX_BUILDING &&
                (slot < 0 || a->ix[i]->used < a->ix[slot]->used))
                slot = i;
        }
        if (slot < 0)
            slot = 0; /* all building: wait for the oldest */
        pthread_join(a->ix[slot]->thread, NULL);
        vt_index_free(a->ix[slot]->index);
        free(a->ix[slot]->cache);
        free(a->ix[slot]->path);
        free(a->ix[slot]);
        a->ix[slot] = NULL;
    }
    struct vt_viewer_ix *x = vt_xcalloc(1, sizeof(*x));
    x->path = vt_xstrdup(path);
    x->started = now_s();
    x->used = ++a->clock;
    x->print = print;
    if (pthread_create(&x->thread, NULL, build_main, x) != 0) {
        snprintf(x->msg, sizeof(x->msg), "cannot start a thread");
        x->state = IX_FAILED;
        x->thread = pthread_self(); /* never joined: see vt_viewer__api_free */
        x->print = -1;
    }
    a->ix[slot] = x;
    return x;
}

void
vt_viewer__api_start(struct vt_viewer *v, const char *path, int print)
{
    ix_for(v, path, print);
}

void
vt_viewer__api_free(struct vt_viewer *v)
{
    if (v->api == NULL)
        return;
    for (int i = 0; i < VT_API_KEEP; i++) {
        struct vt_viewer_ix *x = v->api->ix[i];
        if (x == NULL)
            continue;
        if (x->print != -1)
            pthread_join(x->thread, NULL);
        vt_index_free(x->index);
        free(x->cache);
        free(x->path);
        free(x);
    }
    free(v->api);
    v->api = NULL;
}

/* GET arguments into a query. */
struct args {
    struct vt_index_query q;
    char msg[160];
    int bad;
};

static enum MHD_Result
one_arg(void *cls, enum MHD_ValueKind kind, const char *key, const char *value)
{
    struct args *a = cls;
    (void)kind;
    if (a->bad)
        return MHD_NO;
    if (vt_index_q_set(&a->q, key, value != NULL ? value : "", a->msg, sizeof(a->msg)) != VT_OK)
        a->bad = 1;
    return a->bad ? MHD_NO : MHD_YES;
}

static void
status_json(struct vt_viewer_ix *x, int whole, struct vt_buf *b)
{
    if (whole) {
        vt_buf_adds(b, "{\"state\":\"whole\"}");
        return;
    }
    int st = __atomic_load_n(&x->state, __ATOMIC_ACQUIRE);
    if (st == IX_FAILED) {
        cJSON *m = cJSON_CreateString(x->msg);
        char *t = cJSON_PrintUnformatted(m);
        vt_buf_printf(b, "{\"state\":\"error\",\"error\":%s}", t != NULL ? t : "\"\"");
        free(t);
        cJSON_Delete(m);
        return;
    }
    vt_buf_printf(b,
                  "{\"state\":\"%s\",\"done\":%llu,\"total\":%llu,\"events\":%llu,"
                  "\"seconds\":%.3f,\"index_bytes\":%zu,\"cache\":\"%s\"}",
                  st == IX_READY ? "ready" : "indexing", (unsigned long long)x->pg.in,
                  (unsigned long long)x->pg.total, (unsigned long long)x->pg.events,
                  st == IX_READY ? x->took : now_s() - x->started,
                  st == IX_READY ? x->index->mem : (size_t)0,
                  st != IX_READY                                  ? ""
                  : x->cached                                     ? "loaded"
                  : __atomic_load_n(&x->saving, __ATOMIC_ACQUIRE) ? "saving"
                  : __atomic_load_n(&x->saved, __ATOMIC_RELAXED)  ? "saved"
                                                                  : "none");
}

enum MHD_Result
vt_viewer__api(struct vt_viewer *v, struct MHD_Connection *c, const char *path, const char *what,
               int *served)
{
    struct vt_buf b;
    vt_buf_init(&b, VT_API_MAX_ANSWER);
    *served = 0;
    if (strcmp(what, "status") == 0) {
        struct vt_viewer_ix *x = NULL;
        for (int i = 0; v->api != NULL && i < VT_API_KEEP && x == NULL; i++) {
            if (v->api->ix[i] != NULL && strcmp(v->api->ix[i]->path, path) == 0)
                x = v->api->ix[i];
        }
        /* ?index asks for the index whatever the size (tests, and the page
         * of a trace that turns out too large for the browser) */
        if (x == NULL && (!vt_viewer__whole(path) ||
                          MHD_lookup_connection_value(c, MHD_GET_ARGUMENT_KIND, "index") != NULL))
            x = ix_for(v, path, 0);
        int whole = x == NULL;
        status_json(x, whole, &b);
        size_t len;
        char *data = vt_buf_take(&b, &len);
        return vt_viewer__respond_json(c, MHD_HTTP_OK, data, len);
    }
    static const char *names[] = {"tracks", "slices", "marks", "detail",
                                  "search", "flame",  "area",  "file_info"};
    int which = -1;
    for (int i = 0; i < 8; i++) {
        if (strcmp(what, names[i]) == 0)
            which = i;
    }
    if (which < 0) {
        vt_buf_fini(&b);
        return vt_viewer__respond_json(c, MHD_HTTP_NOT_FOUND,
                                       vt_xstrdup("{\"error\":\"no such query\"}"), 25);
    }
    struct vt_viewer_ix *x = ix_for(v, path, 0);
    int st = __atomic_load_n(&x->state, __ATOMIC_ACQUIRE);
    if (st != IX_READY) {
        status_json(x, 0, &b);
        size_t len;
        char *data = vt_buf_take(&b, &len);
        return vt_viewer__respond_json(c, st == IX_FAILED ? 422 : MHD_HTTP_SERVICE_UNAVAILABLE,
                                       data, len);
    }
    struct args a;
    memset(&a, 0, sizeof(a));
    vt_index_q_init(&a.q);
    MHD_get_connection_values(c, MHD_GET_ARGUMENT_KIND, one_arg, &a);
    if (!a.bad && vt_index_q_check(&a.q, a.msg, sizeof(a.msg)) != VT_OK)
        a.bad = 1;
    enum vt_err err = VT_ERR_USAGE;
    if (!a.bad) {
        const struct vt_index *ix = x->index;
        switch (which) {
        case 0:
            err = vt_index_q_tracks(ix, &b);
            *served = 1;
            break;
        case 1:
            err = vt_index_q_slices(ix, &a.q, &b);
            break;
        case 2:
            err = vt_index_q_marks(ix, &a.q, &b);
            break;
        case 3:
            err = vt_index_q_detail(ix, &a.q, &b);
            break;
        case 4:
            err = vt_index_q_search(ix, &a.q, &b);
            break;
        case 5:
            err = vt_index_q_flame(ix, &a.q, &b);
            break;
        case 7:
            err = vt_index_q_file_info(ix, &b);
            break;
        default:
            err = vt_index_q_area(ix, &a.q, &b);
        }
        if (err == VT_ERR_USAGE)
            snprintf(a.msg, sizeof(a.msg), "a track, slice or instant out of range");
        else if (err != VT_OK)
            snprintf(a.msg, sizeof(a.msg), "the answer is too large: %s", vt_strerror(err));
    }
    if (err != VT_OK) {
        vt_buf_reset(&b);
        cJSON *m = cJSON_CreateString(a.msg);
        char *t = cJSON_PrintUnformatted(m);
        vt_buf_printf(&b, "{\"error\":%s}", t != NULL ? t : "\"\"");
        free(t);
        cJSON_Delete(m);
    }
    size_t len;
    char *data = vt_buf_take(&b, &len);
    return vt_viewer__respond_json(c, err == VT_OK ? MHD_HTTP_OK : MHD_HTTP_BAD_REQUEST, data, len);
}
