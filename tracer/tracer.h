/* tracer.h: the tracer's public face: the viztracer._core Python module.
 *
 * Everything recorded is owned by a VizTracer object of that module (struct
 * vt_tracer, opaque here). The launcher creates one through the module like
 * any Python user would, so the command line and the inline API share one
 * code path; it needs only the module's init function and these helpers.
 */
#ifndef VT_TRACER_TRACER_H
#define VT_TRACER_TRACER_H

#include <stddef.h>
#include <stdint.h>

#include "base/err.h"

#define VT_VERSION "0.1.0"

/* The name the module is importable as. */
#define VT_TRACER_MODULE "viztracer._core"

#ifdef PY_VERSION_HEX
/* Creates the viztracer._core module (single-phase init). Returns a new
 * reference, or NULL with a Python exception set. Needs the GIL. */
PyMODINIT_FUNC PyInit__core(void);

/* The launcher runs the program's code from C, so that no frame of its own
 * is in the program's stack; these record the call of the builtin func
 * (builtins.exec) around it on the calling thread, as the hooks record a
 * builtin that Python code calls, which makes it the trace's root event as
 * in VizTracer. enter returns a token for leave: 0 when nothing was
 * recorded (tracer not collecting, ignore_c_function). leave records the
 * return, unless a stop() or start() came in between. Need the GIL; can't
 * fail. tracer is a VizTracer object of the module. */
uint64_t vt_tracer_enter_builtin(PyObject *tracer, PyObject *func);
void vt_tracer_leave_builtin(PyObject *tracer, uint64_t token);
#endif

/* Writes html_path, a standalone HTML report, from the trace at json_path.
 * Returns 0, or -1 with a one-line reason in msg (msglen bytes). */
typedef int (*vt_tracer_html_fn)(const char *json_path, const char *html_path, char *msg,
                                 size_t msglen);

/* Lets save() write .html files: the executable, which carries the viewer's
 * page, registers its writer once at start-up; without one, .html is refused.
 * Can't fail. */
void vt_tracer_set_html_writer(vt_tracer_html_fn fn);

/* Merges the trace at own_json with the results of the child processes
 * in dir, after a bounded wait for the children still running, into
 * output (.json, .gz, or .html through html), then removes dir. Returns 0,
 * or -1 after printing why. The launcher's merge (launcher/children.c),
 * handed to the tracer so that the supervisor of a main program that died
 * before saving (a fork of the launcher's process) can run it. */
typedef int (*vt_tracer_children_fn)(const char *dir, const char *own_json, const char *output,
                                     vt_tracer_html_fn html);

/* Makes this process crash-safe (tracer/crash.c): its thread states go
 * into a shared area from now on, and a supervisor process writes output
 * (.json, .gz, or .html through html, which may be NULL) from it if the
 * process dies by a fatal signal or SIGKILL before saving, then removes
 * marker (NULL: none). A forked child of this process gets the same, with
 * output "<children_dir>/result_<pid>.json" (NULL: forked children are not
 * made crash-safe). When marker is NULL (the main program) and children
 * (may be NULL) is given, a death after children wrote into children_dir
 * puts this process's trace into children_dir and has children merge it
 * with theirs into output, as the program's own save would. Call once,
 * with the GIL, before tracing starts. Returns VT_OK, VT_ERR_STATE
 * (already armed) or VT_ERR_IO (no memfd or no supervisor: the process
 * runs as before). */
enum vt_err vt_tracer_crash_arm(const char *output, const char *marker, const char *children_dir,
                                vt_tracer_html_fn html, vt_tracer_children_fn children);

/* Parses a --min_duration value ("0.2ms", "300ns", "5.5us", "1s", "13" =
 * microseconds) into microseconds. Returns VT_OK, or VT_ERR_FORMAT when
 * unparsable (*us is then unchanged). */
enum vt_err vt_tracer_parse_duration(const char *text, double *us);

#endif
