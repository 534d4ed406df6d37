/* cache.c: an index kept on disk and reused while its trace is unchanged.
 *
 * Where: beside the trace as ".<name>.vzi" (hidden, so folder listings do
 * not show it) when the user may write both the trace and its folder;
 * otherwise under $XDG_CACHE_HOME/vizviewer/ (~/.cache/vizviewer/), named
 * by a hash of the trace's real path. Nothing is written next to a trace
 * the user cannot write to. The file holds the tables of struct vt_index as
 * they are in memory (this machine's byte order and sizes, which the header
 * records), behind the trace's size, mtime, inode and device: any change of
 * those, a header of another build, a short or inconsistent file, and the
 * cache is ignored and rewritten. A .json.gz still needs one inflate pass
 * after loading, for its resume checkpoints (src.c); that is much cheaper
 * than parsing.
 */
#include "index.h"

#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tracer/base/mem.h"
#include "src.h"

#define VT_CACHE_MAGIC "VZTIDX\x01\n"
#define VT_CACHE_VERSION 1u

/* The header: what the cache was made from. */
struct head {
    char magic[8];
    uint32_t version, slice_size;
    uint64_t size, ino, dev;
    int64_t mtime_s, mtime_ns;
    int64_t min_ts, max_ts;
    uint64_t nslices, text_len, meta_off, meta_len, info_off, info_len;
    uint64_t ntracks, norder, ninstants, nseries, nproc, nnames, arena_len;
};

static void
head_of(struct head *h, const struct stat *st)
{
    memset(h, 0, sizeof(*h));
    memcpy(h->magic, VT_CACHE_MAGIC, 8);
    h->version = VT_CACHE_VERSION;
    h->slice_size = (uint32_t)sizeof(struct vt_index_slice);
    h->size = (uint64_t)st->st_size;
    h->ino = (uint64_t)st->st_ino;
    h->dev = (uint64_t)st->st_dev;
    h->mtime_s = (int64_t)st->st_mtim.tv_sec;
    h->mtime_ns = (int64_t)st->st_mtim.tv_nsec;
}

char *
vt_index_cache_path(const char *trace)
{
    char *real = realpath(trace, NULL);
    if (real == NULL)
        return NULL;
    char *slash = strrchr(real, '/');
    struct vt_buf b;
    vt_buf_init(&b, (size_t)2 * PATH_MAX);
    enum vt_err err;
    *slash = '\0';
    const char *dir = real[0] != '\0' ? real : "/";
    const char *name = slash + 1;
    int beside = access(trace, W_OK) == 0 && access(dir, W_OK) == 0;
    if (beside) {
        err = vt_buf_printf(&b, "%s/.%s.vzi", dir, name);
    } else {
        const char *xdg = getenv("XDG_CACHE_HOME"), *home = getenv("HOME");
        if (xdg != NULL && xdg[0] == '/')
            err = vt_buf_printf(&b, "%s/vizviewer", xdg);
        else if (home != NULL && home[0] == '/')
            err = vt_buf_printf(&b, "%s/.cache/vizviewer", home);
        else
            err = VT_ERR_NOFILE;
        if (err == VT_OK) {
            /* ~/.cache may not exist yet either */
            char *d = b.data;
            for (char *p = d + 1; *p != '\0'; p++) {
                if (*p == '/') {
                    *p = '\0';
                    mkdir(d, 0700);
                    *p = '/';
                }
            }
            if (mkdir(d, 0700) != 0 && errno != EEXIST)
                err = VT_ERR_IO;
        }
        *slash = '/';
        if (err == VT_OK)
            err = vt_buf_printf(&b, "/%016llx-%s.vzi",
                                (unsigned long long)vt_index__hash(real, strlen(real)), name);
    }
    free(real);
    if (err != VT_OK) {
        vt_buf_fini(&b);
        return NULL;
    }
    return vt_buf_take(&b, NULL);
}

/* ---- save --------------------------------------------------------------- */

static int
put(FILE *fp, const void *p, size_t n)
{
    return n == 0 || fwrite(p, 1, n, fp) == n ? 0 : -1;
}

enum vt_err
vt_index_cache_save(const struct vt_index *ix, const char *trace, const char *cache)
{
    struct stat st;
    if (stat(trace, &st) != 0)
        return VT_ERR_IO;
    struct head h;
    head_of(&h, &st);
    h.min_ts = ix->min_ts;
    h.max_ts = ix->max_ts;
    h.nslices = ix->nslices;
    h.text_len = ix->text_len;
    h.meta_off = ix->meta_off;
    h.meta_len = ix->meta_len;
    h.info_off = ix->info_off;
    h.info_len = ix->info_len;
    h.ntracks = ix->ntracks;
    h.norder = ix->norder;
    h.ninstants = ix->ninstants;
    h.nseries = ix->nseries;
    h.nproc = ix->nproc;
    h.nnames = ix->names.n;
    h.arena_len = ix->names.arena_len;
    struct vt_buf tmp;
    vt_buf_init(&tmp, (size_t)2 * PATH_MAX);
    if (vt_buf_printf(&tmp, "%s.tmp.%ld", cache, (long)getpid()) != VT_OK)
        return VT_ERR_TOOBIG;
    int fd = open(tmp.data, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
    FILE *fp = fd >= 0 ? fdopen(fd, "wb") : NULL;
    if (fp == NULL) {
        if (fd >= 0)
            close(fd);
        vt_buf_fini(&tmp);
        return VT_ERR_IO;
    }
    int bad = put(fp, &h, sizeof(h)) || put(fp, ix->names.arena, ix->names.arena_len) ||
              put(fp, ix->names.at, ix->names.n * sizeof(*ix->names.at)) ||
              put(fp, ix->names.len, ix->names.n * sizeof(*ix->names.len));
    for (size_t i = 0; i < ix->ntracks && !bad; i++) {
        const struct vt_index_track *t = &ix->tracks[i];
        uint64_t n = t->n;
        bad = put(fp, &t->pid, 8) || put(fp, &t->tid, 8) || put(fp, &t->thread_name, 4) ||
              put(fp, &t->ndepth, 4) || put(fp, &n, 8) || put(fp, t->s, t->n * sizeof(*t->s)) ||
              put(fp, t->by_depth, t->n * sizeof(*t->by_depth)) ||
              put(fp, t->level, (t->ndepth + 1) * sizeof(*t->level));
    }
    bad = bad || put(fp, ix->order, ix->norder * sizeof(*ix->order)) ||
          put(fp, ix->instants, ix->ninstants * sizeof(*ix->instants));
    for (size_t i = 0; i < ix->nseries && !bad; i++) {
        const struct vt_index_series *s = &ix->series[i];
        uint64_t n = s->n;
        bad = put(fp, &s->pid, 8) || put(fp, &s->name, 4) || put(fp, &s->key, 4) ||
              put(fp, &n, 8) || put(fp, s->p, s->n * sizeof(*s->p));
    }
    bad = bad || put(fp, ix->proc_pid, ix->nproc * sizeof(*ix->proc_pid)) ||
          put(fp, ix->proc_name, ix->nproc * sizeof(*ix->proc_name)) || put(fp, VT_CACHE_MAGIC, 8);
    if (fclose(fp) != 0)
        bad = 1;
    if (!bad && rename(tmp.data, cache) != 0)
        bad = 1;
    if (bad)
        unlink(tmp.data);
    vt_buf_fini(&tmp);
    return bad ? VT_ERR_IO : VT_OK;
}

/* ---- load --------------------------------------------------------------- */

/* A reader that refuses to allocate more than the file still holds. */
struct in {
    FILE *fp;
    uint64_t left; /* bytes not read yet */
    int bad;
};

static void
get(struct in *r, void *p, size_t n)
{
    if (r->bad || n > r->left || (n > 0 && fread(p, 1, n, r->fp) != n)) {
        r->bad = 1;
        memset(p, 0, n);
        return;
    }
    r->left -= n;
}

/* count elements of size each, allocated (at least one) and read. */
static void *
get_array(struct in *r, uint64_t count, size_t size)
{
    if (r->bad || (size != 0 && count > r->left / size)) {
        r->bad = 1;
        return vt_xcalloc(1, size ? size : 1);
    }
    void *p = vt_xmalloc(count ? (size_t)count * size : size);
    get(r, p, (size_t)count * size);
    return p;
}

/* The checks that make a loaded index as safe as a built one. */
static int
consistent(const struct vt_index *ix)
{
    const struct vt_index_names *nm = &ix->names;
    if (nm->n == 0)
        return 0;
    for (size_t i = 0; i < nm->n; i++) {
        if (nm->at[i] > nm->arena_len || nm->len[i] > nm->arena_len - nm->at[i] || nm->len[i] < 2)
            return 0;
    }
    for (size_t i = 0; i < ix->ntracks; i++) {
        const struct vt_index_track *t = &ix->tracks[i];
        if (t->thread_name >= nm->n || t->level[0] != 0 || t->level[t->ndepth] != t->n)
            return 0;
        for (uint32_t d = 0; d < t->ndepth; d++) {
            if (t->level[d] > t->level[d + 1])
                return 0;
            for (size_t k = t->level[d]; k < t->level[d + 1]; k++) {
                uint32_t j = t->by_depth[k];
                if (j >= t->n || t->s[j].depth != d || t->s[j].name >= nm->n || t->s[j].dur < 0)
                    return 0;
            }
        }
    }
    for (size_t i = 0; i < ix->norder; i++) {
        if (ix->order[i] >= ix->ntracks)
            return 0;
    }
    for (size_t i = 0; i < ix->ninstants; i++) {
        if (ix->instants[i].track >= ix->ntracks || ix->instants[i].name >= nm->n)
            return 0;
    }
    for (size_t i = 0; i < ix->nseries; i++) {
        if (ix->series[i].name >= nm->n || ix->series[i].key >= nm->n)
            return 0;
    }
    for (size_t i = 0; i < ix->nproc; i++) {
        if (ix->proc_name[i] >= nm->n)
            return 0;
    }
    return 1;
}

enum vt_err
vt_index_cache_load(const char *trace, const char *cache, struct vt_index_progress *pg,
                    struct vt_index **out)
{
    *out = NULL;
    struct stat st, cst;
    if (stat(trace, &st) != 0 || stat(cache, &cst) != 0)
        return VT_ERR_NOFILE;
    FILE *fp = fopen(cache, "rb");
    if (fp == NULL)
        return VT_ERR_NOFILE;
    struct in r = {fp, (uint64_t)cst.st_size, 0};
    struct head h, want;
    get(&r, &h, sizeof(h));
    head_of(&want, &st);
    if (r.bad || memcmp(h.magic, want.magic, 8) != 0 || h.version != want.version ||
        h.slice_size != want.slice_size || h.size != want.size || h.ino != want.ino ||
        h.dev != want.dev || h.mtime_s != want.mtime_s || h.mtime_ns != want.mtime_ns ||
        h.ntracks > r.left / 32 || h.nseries > r.left / 24 || h.nnames == 0) {
        fclose(fp);
        return VT_ERR_STATE;
    }
    struct vt_index *ix = vt_xcalloc(1, sizeof(*ix));
    ix->min_ts = h.min_ts;
    ix->max_ts = h.max_ts;
    ix->nslices = h.nslices;
    ix->text_len = h.text_len;
    ix->meta_off = h.meta_off;
    ix->meta_len = h.meta_len;
    ix->info_off = h.info_off;
    ix->info_len = h.info_len;
    ix->names.arena = get_array(&r, h.arena_len, 1);
    ix->names.arena_len = ix->names.arena_cap = h.arena_len;
    ix->names.at = get_array(&r, h.nnames, sizeof(*ix->names.at));
    ix->names.len = get_array(&r, h.nnames, sizeof(*ix->names.len));
    ix->names.n = ix->names.cap = h.nnames;
    ix->tracks = vt_xcalloc(h.ntracks ? h.ntracks : 1, sizeof(*ix->tracks));
    for (size_t i = 0; i < h.ntracks && !r.bad; i++) {
        struct vt_index_track *t = &ix->tracks[i];
        uint64_t n = 0;
        get(&r, &t->pid, 8);
        get(&r, &t->tid, 8);
        get(&r, &t->thread_name, 4);
        get(&r, &t->ndepth, 4);
        get(&r, &n, 8);
        t->s = get_array(&r, n, sizeof(*t->s));
        t->by_depth = get_array(&r, n, sizeof(*t->by_depth));
        t->level = get_array(&r, (uint64_t)t->ndepth + 1, sizeof(*t->level));
        t->n = t->cap = r.bad ? 0 : (size_t)n;
        if (r.bad)
            t->ndepth = 0, t->level[0] = 0;
        ix->ntracks = i + 1;
        ix->mem += t->n * (sizeof(*t->s) + sizeof(*t->by_depth));
    }
    ix->order = get_array(&r, h.norder, sizeof(*ix->order));
    ix->norder = r.bad ? 0 : h.norder;
    ix->instants = get_array(&r, h.ninstants, sizeof(*ix->instants));
    ix->ninstants = ix->instants_cap = r.bad ? 0 : h.ninstants;
    ix->series = vt_xcalloc(h.nseries ? h.nseries : 1, sizeof(*ix->series));
    for (size_t i = 0; i < h.nseries && !r.bad; i++) {
        struct vt_index_series *s = &ix->series[i];
        uint64_t n = 0;
        get(&r, &s->pid, 8);
        get(&r, &s->name, 4);
        get(&r, &s->key, 4);
        get(&r, &n, 8);
        s->p = get_array(&r, n, sizeof(*s->p));
        s->n = s->cap = r.bad ? 0 : (size_t)n;
        ix->nseries = i + 1;
    }
    ix->proc_pid = get_array(&r, h.nproc, sizeof(*ix->proc_pid));
    ix->proc_name = get_array(&r, h.nproc, sizeof(*ix->proc_name));
    ix->nproc = ix->proc_cap = r.bad ? 0 : h.nproc;
    char end[8];
    get(&r, end, 8);
    fclose(fp);
    if (r.bad || r.left != 0 || memcmp(end, VT_CACHE_MAGIC, 8) != 0 || !consistent(ix)) {
        vt_index_free(ix);
        return VT_ERR_FORMAT;
    }
    ix->mem += ix->ninstants * sizeof(*ix->instants) + h.arena_len + h.nnames * 12;
    /* the trace's bytes, for details; a gzip stream is read through once
     * more for its checkpoints */
    char msg[160];
    if (vt_src_open(trace, &ix->src, msg, sizeof(msg)) != VT_OK) {
        vt_index_free(ix);
        return VT_ERR_IO;
    }
    char *scratch = vt_xmalloc((size_t)1 << 20);
    long got = 0;
    if (pg != NULL)
        pg->total = vt_src_file_size(ix->src);
    while (vt_src_is_gz(ix->src) && (got = vt_src_read(ix->src, scratch, (size_t)1 << 20)) > 0) {
        if (pg != NULL)
            pg->in = pg->done = vt_src_consumed(ix->src);
    }
    free(scratch);
    if (pg != NULL)
        pg->in = pg->done = pg->total;
    vt_src_done(ix->src);
    if (got < 0) {
        vt_index_free(ix);
        return VT_ERR_FORMAT;
    }
    ix->mem += vt_src_mem(ix->src);
    *out = ix;
    return VT_OK;
}
