/* embed.h: start CPython with the tracer in it, run the program, save.
 *
 * The only launcher file that includes Python.h. It follows the start-up
 * of CPython's own Modules/main.c (PyConfig, checked PyStatus) but runs the
 * target itself, because Py_RunMain exits the process on SystemExit and
 * KeyboardInterrupt before the trace could be saved.
 */
#ifndef VT_LAUNCHER_EMBED_H
#define VT_LAUNCHER_EMBED_H

#include <stddef.h>

#include "../tracer/base/err.h"
#include "../tracer/tracer.h"
#include "cli.h"

/* Runs o's program traced and saves the trace to output (a path with a .json
 * or .gz extension, or .html through html, which may be NULL). Forked
 * children of the program are traced into the same output unless
 * o->ignore_multiprocess (children.h). Returns the process exit status: the program's own, 1
 * for an uncaught exception or a failed save. *signo is set to a signal the
 * launcher should re-raise on itself after cleaning up (SIGINT), or 0. */
int vt_embed_run(const struct vt_options *o, const char *script_path, const char *output,
                 vt_tracer_html_fn html, int *signo);

/* The python3 whose site-packages programs see: $VIRTUAL_ENV's when one is
 * active, else the one we were built against. Returns buf or a static
 * string. Can't fail. */
const char *vt_embed_python_executable(char *buf, size_t len);

/* The folder of the Python package (viztracer/__init__.py) beside the
 * executable, build/bin/../python/viztracer or
 * PREFIX/bin/../lib/viztracer/python/viztracer, into out (len bytes).
 * Returns VT_OK, or VT_ERR_NOFILE when there is none. No Python needed. */
enum vt_err vt_embed_find_glue(char *out, size_t len);

#endif
