/* writer.c: streaming Chrome trace-event JSON writer; see format.h.
 *
 * Layout of the output: {"traceEvents":[ev,ev,...],"viztracer_metadata":{...},
 * "file_info":{...}}. Events are separated by ",\n" so that line-based tools
 * and a human can read the file. Numbers are formatted by hand from integer
 * nanoseconds: printf("%f") is ~10x slower and depends on the C locale,
 * which the traced program may change.
 */
#include "format.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>
#include <fcntl.h>

#include "../base/mem.h"

#define OUT_BUF_SIZE (1u << 20)

struct vt_writer {
    enum vt_writer_format format; /* chosen from the target's extension */
    FILE *fp;                     /* owned; JSON output, or NULL */
    gzFile gz;                    /* owned; gzip output, or NULL */
    char *path;                   /* owned; final target */
    char *tmp;                    /* owned; temporary name written first */
    char *buf;                    /* owned; OUT_BUF_SIZE bytes of pending output */
    size_t len;                   /* bytes pending in buf */
    uint64_t count;               /* events appended */
    long prefix_pid, prefix_tid;  /* whose '{"pid":..,"tid":..,"ts":' is in prefix */
    char prefix[64];              /* that text, formatted once per thread */
    size_t prefix_len;            /* its length; 0 = not formatted yet */
    enum vt_err err;              /* first error, sticky */
    int errnum;                   /* errno of the first error, 0 if none */
};

enum vt_err
vt_writer_format_of(const char *path, enum vt_writer_format *out)
{
    size_t n = strlen(path);
    if (n >= 5 && strcmp(path + n - 5, ".json") == 0) {
        *out = VT_WRITER_JSON;
        return VT_OK;
    }
    if (n >= 3 && strcmp(path + n - 3, ".gz") == 0) {
        *out = VT_WRITER_GZ;
        return VT_OK;
    }
    return VT_ERR_USAGE;
}

static void
flush(struct vt_writer *w)
{
    if (w->len == 0 || w->err != VT_OK) {
        w->len = 0;
        return;
    }
    if (w->format == VT_WRITER_GZ) {
        if (gzwrite(w->gz, w->buf, (unsigned)w->len) != (int)w->len) {
            int e;
            gzerror(w->gz, &e);
            w->err = VT_ERR_IO;
            w->errnum = e == Z_ERRNO ? errno : 0;
        }
    } else if (fwrite(w->buf, 1, w->len, w->fp) != w->len) {
        w->err = VT_ERR_IO;
        w->errnum = errno;
    }
    w->len = 0;
}

static void
put(struct vt_writer *w, const char *s, size_t n)
{
    if (w->len + n > OUT_BUF_SIZE) {
        flush(w);
        if (n > OUT_BUF_SIZE) {
            /* Larger than the whole buffer: write it straight through. */
            char *saved = w->buf;
            w->buf = (char *)s;
            w->len = n;
            flush(w);
            w->buf = saved;
            return;
        }
    }
    memcpy(w->buf + w->len, s, n);
    w->len += n;
}

/* Appends a string literal without measuring it at run time. */
#define PUT_LIT(w, lit) put(w, lit, sizeof(lit) - 1)

static void
puts_(struct vt_writer *w, const char *s)
{
    put(w, s, strlen(s));
}

static const char digit_pairs[201] =
    "00010203040506070809101112131415161718192021222324252627282930"
    "31323334353637383940414243444546474849505152535455565758596061"
    "62636465666768697071727374757677787980818283848586878889909192"
    "93949596979899";

/* Number of decimal digits of v (1 for 0): the bit length gives the digit
 * count to within one, a table of powers of ten settles it. */
static inline size_t
digits_of(uint64_t v)
{
    static const uint64_t pow10[20] = {1ull,
                                       10ull,
                                       100ull,
                                       1000ull,
                                       10000ull,
                                       100000ull,
                                       1000000ull,
                                       10000000ull,
                                       100000000ull,
                                       1000000000ull,
                                       10000000000ull,
                                       100000000000ull,
                                       1000000000000ull,
                                       10000000000000ull,
                                       100000000000000ull,
                                       1000000000000000ull,
                                       10000000000000000ull,
                                       100000000000000000ull,
                                       1000000000000000000ull,
                                       10000000000000000000ull};
    uint64_t x = v | 1; /* 0 has one digit, as 1 */
    unsigned bits = 64 - (unsigned)__builtin_clzll(x);
    size_t t = (bits * 1233) >> 12; /* floor(bits * log10(2)): pow10[t] <= 2^bits */
    return t + 1 - (x < pow10[t]);
}

/* Decimal digits of v, written two at a time from a table straight into
 * dst, from the last digit back (its length known first): the writer
 * formats two numbers per event, and this was most of its time when it
 * went through a scratch buffer and a memcpy of unknown length. */
static inline size_t
format_u64(char *dst, uint64_t v)
{
    size_t n = digits_of(v);
    char *p = dst + n;
    while (v >= 100) {
        size_t i = (size_t)(v % 100) * 2;
        v /= 100;
        p -= 2;
        p[0] = digit_pairs[i];
        p[1] = digit_pairs[i + 1];
    }
    if (v >= 10) {
        p[-2] = digit_pairs[v * 2];
        p[-1] = digit_pairs[v * 2 + 1];
    } else {
        p[-1] = (char)('0' + v);
    }
    return n;
}

static size_t
format_long(char *dst, long v)
{
    if (v < 0) {
        dst[0] = '-';
        return 1 + format_u64(dst + 1, (uint64_t)(-(v + 1)) + 1);
    }
    return format_u64(dst, (uint64_t)v);
}

/* Microseconds with three decimals from nanoseconds: at most 26 bytes. */
static inline size_t
format_us(char *dst, int64_t ns)
{
    size_t n = 0;
    uint64_t v;
    if (ns < 0) {
        dst[n++] = '-';
        v = (uint64_t)(-(ns + 1)) + 1;
    } else {
        v = (uint64_t)ns;
    }
    n += format_u64(dst + n, v / 1000);
    size_t frac = (size_t)(v % 1000);
    dst[n] = '.';
    dst[n + 1] = digit_pairs[frac / 10 * 2];
    dst[n + 2] = digit_pairs[frac / 10 * 2 + 1];
    dst[n + 3] = (char)('0' + frac % 10);
    return n + 4;
}

size_t
vt_writer_format_us(char *dst, int64_t ns)
{
    return format_us(dst, ns);
}

static void
release(struct vt_writer *w)
{
    free(w->buf);
    free(w->tmp);
    free(w->path);
    free(w);
}

enum vt_err
vt_writer_open(const char *path, struct vt_writer **out, int *errnum)
{
    enum vt_writer_format format;
    enum vt_err err = vt_writer_format_of(path, &format);
    *errnum = 0;
    if (err != VT_OK)
        return err;
    struct vt_writer *w = vt_xcalloc(1, sizeof(*w));
    w->format = format;
    w->path = vt_xstrdup(path);
    size_t n = strlen(path) + 32;
    w->tmp = vt_xmalloc(n);
    snprintf(w->tmp, n, "%s.tmp.%ld", path, (long)getpid());
    int fd = open(w->tmp, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
    if (fd < 0) {
        *errnum = errno;
        release(w);
        return VT_ERR_IO;
    }
    /* Each stream takes the descriptor over and closes it. */
    if (format == VT_WRITER_GZ)
        w->gz = gzdopen(fd, "wb1");
    else
        w->fp = fdopen(fd, "wb");
    if (w->gz == NULL && w->fp == NULL) {
        *errnum = errno;
        close(fd);
        unlink(w->tmp);
        release(w);
        return VT_ERR_IO;
    }
    w->buf = vt_xmalloc(OUT_BUF_SIZE);
    puts_(w, "{\"traceEvents\":[\n");
    *out = w;
    return VT_OK;
}

static void
separator(struct vt_writer *w)
{
    if (w->count++ > 0)
        PUT_LIT(w, ",\n");
}

/* The most an event's fixed text takes besides its name and args: separator,
 * pid/tid prefix, two numbers of at most 26 bytes, the literals and a caller
 * line. An event that fits this plus its name is formatted in place in the
 * buffer. */
#define FEE_FIXED_MAX 256

/* Copies a string literal to dst; its length, for the caller to advance. */
#define COPY_LIT(dst, lit) (memcpy(dst, lit, sizeof(lit) - 1), sizeof(lit) - 1)

void
vt_writer_fee(struct vt_writer *w, long pid, long tid, int64_t ts_ns, int64_t dur_ns,
              const char *name_json, size_t name_len, const char *args_json, int caller_line)
{
    if (w->prefix_len == 0 || w->prefix_pid != pid || w->prefix_tid != tid) {
        size_t n = COPY_LIT(w->prefix, "{\"pid\":");
        n += format_long(w->prefix + n, pid);
        n += COPY_LIT(w->prefix + n, ",\"tid\":");
        n += format_long(w->prefix + n, tid);
        n += COPY_LIT(w->prefix + n, ",\"ts\":");
        w->prefix_len = n;
        w->prefix_pid = pid;
        w->prefix_tid = tid;
    }
    if (name_len > OUT_BUF_SIZE - FEE_FIXED_MAX) {
        /* A name longer than the buffer (not seen in practice): in pieces. */
        char line[FEE_FIXED_MAX];
        size_t n = w->prefix_len;
        separator(w);
        memcpy(line, w->prefix, n);
        n += format_us(line + n, ts_ns);
        n += COPY_LIT(line + n, ",\"ph\":\"X\",\"cat\":\"fee\",\"dur\":");
        n += format_us(line + n, dur_ns);
        n += COPY_LIT(line + n, ",\"name\":");
        put(w, line, n);
        put(w, name_json, name_len);
    } else {
        if (w->len + FEE_FIXED_MAX + name_len > OUT_BUF_SIZE)
            flush(w);
        char *p = w->buf + w->len;
        if (w->count++ > 0) {
            p += COPY_LIT(p, ",\n");
        }
        /* The whole prefix array: a fixed-size copy is a few moves, and the
         * space is there (FEE_FIXED_MAX). */
        memcpy(p, w->prefix, sizeof(w->prefix));
        p += w->prefix_len;
        p += format_us(p, ts_ns);
        p += COPY_LIT(p, ",\"ph\":\"X\",\"cat\":\"fee\",\"dur\":");
        p += format_us(p, dur_ns);
        p += COPY_LIT(p, ",\"name\":");
        memcpy(p, name_json, name_len);
        p += name_len;
        if (caller_line >= 0) {
            p += COPY_LIT(p, ",\"caller_lineno\":");
            p += format_long(p, caller_line);
            caller_line = -1;
        }
        w->len = (size_t)(p - w->buf);
    }
    if (caller_line >= 0) {
        char num[32];
        PUT_LIT(w, ",\"caller_lineno\":");
        size_t n_num = format_long(num, caller_line);
        put(w, num, n_num);
    }
    if (args_json) {
        PUT_LIT(w, ",\"args\":");
        puts_(w, args_json);
    }
    PUT_LIT(w, "}");
}

void
vt_writer_event(struct vt_writer *w, const char *json, size_t len)
{
    separator(w);
    put(w, json, len);
}

uint64_t
vt_writer_count(const struct vt_writer *w)
{
    return w->count;
}

/* Flushes, closes and renames the temporary file over the target; frees w. */
static enum vt_err
finish(struct vt_writer *w, int *errnum)
{
    flush(w);
    if (w->format == VT_WRITER_GZ) {
        if (gzclose(w->gz) != Z_OK && w->err == VT_OK) {
            w->err = VT_ERR_IO;
            w->errnum = errno;
        }
    } else if (fclose(w->fp) != 0 && w->err == VT_OK) {
        w->err = VT_ERR_IO;
        w->errnum = errno;
    }
    enum vt_err err = w->err;
    *errnum = w->errnum;
    if (err == VT_OK && rename(w->tmp, w->path) != 0) {
        err = VT_ERR_IO;
        *errnum = errno;
    }
    if (err != VT_OK)
        unlink(w->tmp);
    release(w);
    return err;
}

enum vt_err
vt_writer_close(struct vt_writer *w, const char *metadata_json, const char *file_info_json,
                int *errnum)
{
    puts_(w, "\n]");
    if (metadata_json) {
        puts_(w, ",\"viztracer_metadata\":");
        puts_(w, metadata_json);
    }
    if (file_info_json) {
        puts_(w, ",\"file_info\":");
        puts_(w, file_info_json);
    }
    puts_(w, "}\n");
    return finish(w, errnum);
}

void
vt_writer_abort(struct vt_writer *w)
{
    if (w == NULL)
        return;
    if (w->gz)
        gzclose(w->gz);
    else if (w->fp)
        fclose(w->fp);
    unlink(w->tmp);
    release(w);
}

enum vt_err
vt_writer_write_file(const char *path, const char *data, size_t len, int *errnum)
{
    struct vt_writer *w;
    enum vt_err err = vt_writer_open(path, &w, errnum);
    if (err != VT_OK)
        return err;
    w->len = 0; /* drop the document opening that open() queued */
    put(w, data, len);
    return finish(w, errnum);
}
