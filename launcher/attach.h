/* attach.h: --attach, --attach_installed and --uninstall (docs/COMPAT.md, Remote attach).
 *
 * The launcher side of remote attach. No Python here: this process only makes
 * the target run one statement through ptrace (launcher/inject.h), which runs
 * viztracer/_attach_step.py, sends signals and waits. The target's side is
 * viztracer/attach.py (start_attach, stop_attach, uninstall_attach) and
 * VizTracer.install() (tracer/install.c).
 * The pure helpers below are public for tests/unit/launcher/test_attach.c.
 */
#ifndef VT_LAUNCHER_ATTACH_H
#define VT_LAUNCHER_ATTACH_H

#include <stddef.h>

#include "cli.h"

/* Runs the attach mode o asks for (o->attach, o->attach_installed or
 * o->uninstall >= 0, checked in that order, as VizTracer does). output is
 * the report path for --attach (.json or .json.gz; made absolute here).
 * Prints one line per error on stderr. Returns the exit status: 0, or 1. */
int vt_attach_main(const struct vt_options *o, const char *output);

/* helpers */
/* URL-safe base64 (RFC 4648 §5, with '=' padding, as Python's
 * base64.urlsafe_b64decode wants) of len bytes. Returns an owned string.
 * This function can't fail (aborts on OOM). */
char *vt_attach_b64(const void *data, size_t len);

/* The keyword arguments of the target's VizTracer(), as a JSON object built
 * from o's tracer options, with output_file = output, pid_suffix false,
 * file_info and register_global true, and verbose 0 under --quiet. Returns
 * an owned string (free()). This function can't fail (aborts on OOM). */
char *vt_attach_kwargs(const struct vt_options *o, const char *output);

/* Whether the text of /proc/PID/status says signal signo has a handler
 * (its SigCgt mask). Returns 1 or 0, or -1 when the text has no valid
 * SigCgt line. */
int vt_attach_sig_caught(const char *status, int signo);

#endif
