/* log.h: one-line messages for the user, on stderr or stdout.
 *
 * vt_log_error() prints "viztracer: <message>" style lines; the launcher
 * decides the exit status. Nothing here exits.
 */
#ifndef VT_TRACER_BASE_LOG_H
#define VT_TRACER_BASE_LOG_H

#include <stdio.h>

/* Prints the formatted message and a newline on stderr. */
void vt_log_error(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

/* Prints "<what> <path>: strerror(errnum)" on stderr; errnum is a saved errno. */
void vt_log_errno(const char *what, const char *path, int errnum);

/* Prints the formatted message and a newline on stdout (progress lines). */
void vt_log_info(const char *fmt, ...) __attribute__((format(printf, 1, 2)));

#endif
