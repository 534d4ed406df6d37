/* src.c: the bytes of a trace for the index: read once in order while
 * indexing, then at any offset for a slice's details.
 *
 * A plain .json is read with read() and pread(); nothing is mapped, so the
 * server's RSS holds the index, not the file. A .json.gz is inflated as a
 * stream; every VT_SRC_CKPT_EVERY bytes of output a copy of zlib's state
 * (inflateCopy: the 32 KiB window and the bit buffer, about 44 KiB) is kept
 * with the compressed offset it had reached, so reading at an offset later
 * resumes from the checkpoint before it and inflates at most that much. A
 * .vzt is decoded in memory (vt_vzt_decode), as its columns need.
 */
#include "src.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../tracer/base/mem.h"
#include "../tracer/format/format.h"

#define VT_SRC_CKPT_EVERY ((uint64_t)8 << 20)
#define VT_SRC_INBUF (256 << 10)

enum src_kind { SRC_PLAIN, SRC_GZ, SRC_MEM };

/* One resume point of a gzip stream. */
struct ckpt {
    z_stream zs;      /* owned (inflateEnd): a copy of the state at that point */
    uint64_t in_off;  /* compressed offset of the next byte the copy reads */
    uint64_t out_off; /* uncompressed bytes before that point */
};

struct vt_index_src {
    enum src_kind kind;
    int fd;             /* owned; -1 for SRC_MEM */
    char *mem;          /* owned; SRC_MEM: the decoded JSON */
    size_t mem_len;     /* bytes of mem */
    uint64_t pos;       /* sequential read: uncompressed bytes handed out */
    uint64_t in_pos;    /* sequential read: compressed bytes read from fd */
    uint64_t file_size; /* bytes of the file */
    z_stream zs;        /* SRC_GZ: the sequential stream */
    int zs_live;        /* 1 while zs needs inflateEnd */
    int zs_end;         /* 1 once the last member ended at EOF */
    unsigned char *in;  /* owned; VT_SRC_INBUF bytes of compressed input */
    struct ckpt *ck;    /* owned; nck checkpoints, by out_off */
    size_t nck, ck_cap;
};

static int
gz_init(z_stream *zs)
{
    memset(zs, 0, sizeof(*zs));
    return inflateInit2(zs, 15 + 32) == Z_OK ? 0 : -1; /* gzip or zlib header */
}

enum vt_err
vt_src_open(const char *path, struct vt_index_src **out, char *msg, size_t msglen)
{
    *out = NULL;
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0) {
        snprintf(msg, msglen, "cannot open: %s", strerror(errno));
        return errno == ENOENT ? VT_ERR_NOFILE : VT_ERR_IO;
    }
    struct stat st;
    unsigned char head[VT_VZT_MAGIC_LEN] = {0};
    ssize_t got =
        fstat(fd, &st) == 0 && S_ISREG(st.st_mode) ? pread(fd, head, sizeof(head), 0) : -1;
    if (got < 0) {
        snprintf(msg, msglen, "not a regular file");
        close(fd);
        return VT_ERR_IO;
    }
    struct vt_index_src *s = vt_xcalloc(1, sizeof(*s));
    s->fd = fd;
    s->file_size = (uint64_t)st.st_size;
    if (got >= 2 && head[0] == 0x1f && head[1] == 0x8b) {
        s->kind = SRC_GZ;
        s->in = vt_xmalloc(VT_SRC_INBUF);
        if (gz_init(&s->zs) != 0) {
            vt_src_close(s);
            snprintf(msg, msglen, "zlib could not start");
            return VT_ERR_NOMEM;
        }
        s->zs_live = 1;
    } else if (vt_vzt_is(head, (size_t)got)) {
        /* A .vzt is read whole and decoded: its columns are not a stream. */
        char *text = NULL;
        size_t len = 0;
        int errnum = 0;
        enum vt_err err = vt_format_load(path, &text, &len, &errnum, msg, msglen);
        if (err != VT_OK) {
            vt_src_close(s);
            return err;
        }
        s->kind = SRC_MEM;
        s->mem = text;
        s->mem_len = len;
        close(s->fd);
        s->fd = -1;
    }
    *out = s;
    return VT_OK;
}

uint64_t
vt_src_file_size(const struct vt_index_src *s)
{
    return s->kind == SRC_MEM ? s->mem_len : s->file_size;
}

int
vt_src_is_plain(const struct vt_index_src *s)
{
    return s->kind == SRC_PLAIN;
}

int
vt_src_is_gz(const struct vt_index_src *s)
{
    return s->kind == SRC_GZ;
}

uint64_t
vt_src_consumed(const struct vt_index_src *s)
{
    return s->kind == SRC_GZ ? s->in_pos : s->pos;
}

/* Keeps a resume point of the sequential stream at its current place. */
static int
checkpoint(struct vt_index_src *s)
{
    if (s->nck == s->ck_cap) {
        s->ck_cap = s->ck_cap ? 2 * s->ck_cap : 64;
        s->ck = vt_xrealloc(s->ck, s->ck_cap * sizeof(*s->ck));
    }
    struct ckpt *c = &s->ck[s->nck];
    if (inflateCopy(&c->zs, &s->zs) != Z_OK)
        return -1;
    c->in_off = s->in_pos - s->zs.avail_in;
    c->out_off = s->pos;
    s->nck++;
    return 0;
}

long
vt_src_read(struct vt_index_src *s, char *dst, size_t cap)
{
    if (s->kind == SRC_MEM) {
        size_t n = s->mem_len - (size_t)s->pos < cap ? s->mem_len - (size_t)s->pos : cap;
        memcpy(dst, s->mem + s->pos, n);
        s->pos += n;
        return (long)n;
    }
    if (s->kind == SRC_PLAIN) {
        ssize_t n;
        do
            n = read(s->fd, dst, cap);
        while (n < 0 && errno == EINTR);
        if (n > 0)
            s->pos += (uint64_t)n;
        return (long)n;
    }
    if (s->zs_end)
        return 0;
    if (s->nck == 0 || s->pos - s->ck[s->nck - 1].out_off >= VT_SRC_CKPT_EVERY) {
        if (checkpoint(s) != 0)
            return -1;
    }
    s->zs.next_out = (Bytef *)dst;
    s->zs.avail_out = (uInt)(cap > (1u << 30) ? 1u << 30 : cap);
    uInt want = s->zs.avail_out;
    while (s->zs.avail_out == want) {
        if (s->zs.avail_in == 0) {
            ssize_t n;
            do
                n = read(s->fd, s->in, VT_SRC_INBUF);
            while (n < 0 && errno == EINTR);
            if (n < 0)
                return -1;
            if (n == 0)
                return -1; /* the stream ends before its trailer: cut short */
            s->in_pos += (uint64_t)n;
            s->zs.next_in = s->in;
            s->zs.avail_in = (uInt)n;
        }
        int rc = inflate(&s->zs, Z_NO_FLUSH);
        if (rc == Z_STREAM_END) {
            /* another member may follow (gzip allows concatenation) */
            if (s->zs.avail_in == 0 && s->in_pos == s->file_size) {
                s->zs_end = 1;
                break;
            }
            if (inflateReset(&s->zs) != Z_OK)
                return -1;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            return -1;
        }
    }
    size_t got = want - s->zs.avail_out;
    s->pos += got;
    return (long)got;
}

/* Reads up to len bytes at uncompressed offset off of a gzip source. */
static long
gz_pread(const struct vt_index_src *s, uint64_t off, char *dst, size_t len)
{
    size_t lo = 0, hi = s->nck;
    while (hi - lo > 1) {
        size_t mid = (lo + hi) / 2;
        if (s->ck[mid].out_off <= off)
            lo = mid;
        else
            hi = mid;
    }
    if (s->nck == 0 || s->ck[lo].out_off > off)
        return -1;
    z_stream zs;
    if (inflateCopy(&zs, (z_stream *)&s->ck[lo].zs) != Z_OK)
        return -1;
    unsigned char *in = vt_xmalloc(VT_SRC_INBUF);
    char *scratch = vt_xmalloc(VT_SRC_INBUF);
    uint64_t in_off = s->ck[lo].in_off, out = s->ck[lo].out_off;
    size_t got = 0;
    long ret = -1;
    zs.avail_in = 0;
    while (got < len) {
        if (zs.avail_in == 0) {
            ssize_t n = pread(s->fd, in, VT_SRC_INBUF, (off_t)in_off);
            if (n <= 0)
                break;
            in_off += (uint64_t)n;
            zs.next_in = in;
            zs.avail_in = (uInt)n;
        }
        /* bytes before off go to scratch, the wanted ones straight to dst */
        int into_dst = out >= off;
        zs.next_out = into_dst ? (Bytef *)dst + got : (Bytef *)scratch;
        size_t room = into_dst ? len - got : off - out;
        zs.avail_out = (uInt)(room < VT_SRC_INBUF ? room : VT_SRC_INBUF);
        uInt before = zs.avail_out;
        int rc = inflate(&zs, Z_NO_FLUSH);
        size_t made = before - zs.avail_out;
        out += made;
        if (into_dst)
            got += made;
        if (rc == Z_STREAM_END) {
            if (zs.avail_in == 0 && in_off >= s->file_size)
                break;
            if (inflateReset(&zs) != Z_OK)
                goto out;
        } else if (rc != Z_OK && rc != Z_BUF_ERROR) {
            goto out;
        }
    }
    ret = (long)got;
out:
    inflateEnd(&zs);
    free(in);
    free(scratch);
    return ret;
}

long
vt_src_pread(const struct vt_index_src *s, uint64_t off, char *dst, size_t len)
{
    if (s->kind == SRC_MEM) {
        if (off >= s->mem_len)
            return 0;
        size_t n = s->mem_len - (size_t)off < len ? s->mem_len - (size_t)off : len;
        memcpy(dst, s->mem + off, n);
        return (long)n;
    }
    if (s->kind == SRC_GZ)
        return gz_pread(s, off, dst, len);
    size_t got = 0;
    while (got < len) {
        ssize_t n = pread(s->fd, dst + got, len - got, (off_t)(off + got));
        if (n < 0 && errno == EINTR)
            continue;
        if (n < 0)
            return -1;
        if (n == 0)
            break;
        got += (size_t)n;
    }
    return (long)got;
}

int
vt_src_seek(struct vt_index_src *s, uint64_t off)
{
    if (s->kind != SRC_PLAIN || off > s->file_size || lseek(s->fd, (off_t)off, SEEK_SET) < 0)
        return -1;
    s->pos = off;
    return 0;
}

void
vt_src_done(struct vt_index_src *s)
{
    if (s->zs_live) {
        inflateEnd(&s->zs);
        s->zs_live = 0;
    }
    free(s->in);
    s->in = NULL;
}

size_t
vt_src_mem(const struct vt_index_src *s)
{
    return s->mem_len + s->nck * (sizeof(struct ckpt) + (44u << 10));
}

void
vt_src_close(struct vt_index_src *s)
{
    if (s == NULL)
        return;
    vt_src_done(s);
    for (size_t i = 0; i < s->nck; i++)
        inflateEnd(&s->ck[i].zs);
    free(s->ck);
    free(s->mem);
    if (s->fd >= 0)
        close(s->fd);
    free(s);
}
