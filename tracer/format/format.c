/* format.c: the one loader of trace files, the "_<pid>" output name, and
 * the lines printed after a save; see format.h.
 *
 * Everything that reads a trace file whole (vdb through reader.c, the
 * viewer, --combine and the children's merge through merge.c) comes through
 * vt_format_load, so they accept and refuse the same files with the same
 * cap. save() (tracer/api.c) and the launcher's children's merge name their
 * pid-suffixed output with vt_format_pid_path, and both print their summary
 * with vt_format_print_summary, so the two stay byte for byte alike.
 */
#include "format.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../base/buf.h"
#include "../base/mem.h"
#include "internal.h"

/* ---- loading ------------------------------------------------------------ */

void
vt_format__msg(char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    if (msg == NULL || msglen == 0)
        return;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
}

/* Reads a plain file of size bytes (from fstat) into one exact buffer: no
 * doubling, so the peak is the file once. Owned result in *text. */
static enum vt_err
read_plain(FILE *f, size_t size, char **text, size_t *len, int *errnum, char *msg, size_t msglen)
{
    if (size > VT_FORMAT_MAX_BYTES) {
        vt_format__msg(msg, msglen, "file too large (more than %zu bytes)",
                       (size_t)VT_FORMAT_MAX_BYTES);
        return VT_ERR_TOOBIG;
    }
    char *buf = vt_xmalloc(size + 1); /* owned until *text takes it */
    size_t n = fread(buf, 1, size, f);
    if (ferror(f)) {
        *errnum = errno;
        vt_format__msg(msg, msglen, "cannot read: %s", strerror(*errnum));
        free(buf);
        return VT_ERR_IO;
    }
    buf[n] = '\0';
    *text = buf;
    *len = n;
    return VT_OK;
}

/* Inflates a gzip file through zlib into a vt_buf capped at
 * VT_FORMAT_MAX_BYTES. A stream that stops before its end (zlib still
 * returns the data, and reports Z_BUF_ERROR only when closing) is refused:
 * its text is cut somewhere, and the merge must not copy half an input. */
static enum vt_err
read_gzip(const char *path, char **text, size_t *len, int *errnum, char *msg, size_t msglen)
{
    gzFile gz = gzopen(path, "rb"); /* owned */
    if (gz == NULL) {
        *errnum = errno != 0 ? errno : ENOMEM;
        vt_format__msg(msg, msglen, "cannot open: %s", strerror(*errnum));
        return VT_ERR_IO;
    }
    gzbuffer(gz, 1 << 17);
    struct vt_buf b;
    vt_buf_init(&b, VT_FORMAT_MAX_BYTES);
    enum vt_err err = VT_OK;
    char chunk[1 << 16];
    for (;;) {
        int n = gzread(gz, chunk, sizeof(chunk));
        if (n < 0) {
            int zerr;
            const char *zmsg = gzerror(gz, &zerr);
            if (zerr == Z_ERRNO)
                *errnum = errno;
            vt_format__msg(msg, msglen, "cannot read: %s",
                           zerr == Z_ERRNO ? strerror(*errnum) : (zmsg ? zmsg : "zlib error"));
            err = zerr == Z_ERRNO ? VT_ERR_IO : VT_ERR_FORMAT;
            goto fail;
        }
        if (n == 0)
            break;
        if (vt_buf_add(&b, chunk, (size_t)n) != VT_OK) {
            vt_format__msg(msg, msglen, "file too large (more than %zu bytes)",
                           (size_t)VT_FORMAT_MAX_BYTES);
            err = VT_ERR_TOOBIG;
            goto fail;
        }
    }
    int zrc = gzclose(gz);
    gz = NULL;
    if (zrc != Z_OK) {
        vt_format__msg(msg, msglen, "truncated gzip stream: unexpected end of file after %zu bytes",
                       b.len);
        err = VT_ERR_FORMAT;
        goto fail;
    }
    *text = vt_buf_take(&b, len); /* NUL-terminated */
    return VT_OK;
fail:
    if (gz != NULL)
        gzclose(gz);
    vt_buf_fini(&b);
    return err;
}

enum vt_err
vt_format_load(const char *path, char **text, size_t *len, int *errnum, char *msg, size_t msglen)
{
    int dummy = 0;
    if (errnum == NULL)
        errnum = &dummy;
    *errnum = 0;
    *text = NULL;
    *len = 0;
    FILE *f = fopen(path, "rb"); /* owned */
    if (f == NULL) {
        *errnum = errno;
        vt_format__msg(msg, msglen, "cannot open: %s", strerror(*errnum));
        return *errnum == ENOENT ? VT_ERR_NOFILE : VT_ERR_IO;
    }
    struct stat st;
    if (fstat(fileno(f), &st) != 0) {
        *errnum = errno;
        vt_format__msg(msg, msglen, "cannot read: %s", strerror(*errnum));
        fclose(f);
        return VT_ERR_IO;
    }
    if (!S_ISREG(st.st_mode)) {
        *errnum = S_ISDIR(st.st_mode) ? EISDIR : 0;
        vt_format__msg(msg, msglen, "not a regular file");
        fclose(f);
        return VT_ERR_IO;
    }
    unsigned char magic[VT_VZT_MAGIC_LEN] = {0};
    enum vt_err err;
    size_t got = fread(magic, 1, sizeof(magic), f);
    if (got >= 2 && magic[0] == 0x1f && magic[1] == 0x8b) {
        fclose(f);
        err = read_gzip(path, text, len, errnum, msg, msglen);
    } else if (vt_vzt_is(magic, got)) {
        /* The compact form: read it whole, hand out the JSON it holds. */
        char *raw; /* owned */
        size_t raw_len;
        rewind(f);
        err = read_plain(f, (size_t)st.st_size, &raw, &raw_len, errnum, msg, msglen);
        fclose(f);
        if (err == VT_OK) {
            err = vt_vzt_decode(raw, raw_len, VT_FORMAT_MAX_BYTES, text, len, msg, msglen);
            free(raw);
        }
    } else {
        rewind(f);
        err = read_plain(f, (size_t)st.st_size, text, len, errnum, msg, msglen);
        fclose(f);
    }
    return err;
}

/* ---- naming and the summary -------------------------------------------- */

char *
vt_format_pid_path(const char *path, long pid)
{
    size_t n = strlen(path);
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    const char *dot = strrchr(base, '.');
    if (dot && n >= 8 && strcmp(path + n - 8, ".json.gz") == 0)
        dot = path + n - 8;
    size_t stem = dot && dot != base ? (size_t)(dot - path) : n;
    size_t len = n + 32; /* "_" and a long's digits */
    char *r = vt_xmalloc(len);
    snprintf(r, len, "%.*s_%ld%s", (int)stem, path, pid, path + stem);
    return r;
}

void
vt_format_progress(const char *line)
{
    printf("\r%80s\r%s", "", line);
    fflush(stdout);
}

void
vt_format_print_overflow(uint64_t dropped)
{
    int color = isatty(STDOUT_FILENO);
    char lost[48] = "";
    if (dropped > 0)
        snprintf(lost, sizeof(lost), " (%llu events)", (unsigned long long)dropped);
    printf("%sCircular buffer is full, you lost some early data%s, but you still have the most "
           "recent data.\n"
           "    If you need more buffer, use \"viztracer --tracer_entries <entry_number>\"\n"
           "    Or, you can try the filter options to filter out some data you don't need\n"
           "    use --quiet to shut me up%s\n",
           color ? "\033[93m" : "", lost, color ? "\033[0m" : "");
}

void
vt_format_print_summary(const char *path, uint64_t count)
{
    vt_format_progress("");
    char *abs = realpath(path, NULL); /* owned */
    const char *shown = abs ? abs : path;
    int quote = strchr(shown, ' ') != NULL;
    int color = isatty(STDOUT_FILENO);
    printf("Total Entries: %llu\n", (unsigned long long)count);
    printf("Use the following command to open the report:\n");
    printf("%svizviewer %s%s%s%s\n", color ? "\033[92m" : "", quote ? "\"" : "", shown,
           quote ? "\"" : "", color ? "\033[0m" : "");
    fflush(stdout);
    free(abs);
}
