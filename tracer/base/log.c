/* log.c: one-line messages; see log.h. */
#include "log.h"

#include <stdarg.h>
#include <string.h>

void
vt_log_error(const char *fmt, ...)
{
    va_list ap;
    fflush(stdout);
    va_start(ap, fmt);
    vfprintf(stderr, fmt, ap);
    va_end(ap);
    fputc('\n', stderr);
    fflush(stderr);
}

void
vt_log_errno(const char *what, const char *path, int errnum)
{
    vt_log_error("%s %s: %s", what, path, strerror(errnum));
}

void
vt_log_info(const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vfprintf(stdout, fmt, ap);
    va_end(ap);
    fputc('\n', stdout);
    fflush(stdout);
}
