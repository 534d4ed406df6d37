/* internal.h: what the launcher's embedding files share (vt_embed__*).
 *
 * embed.c starts the interpreter and runs the program; embed_main.c
 * prepares __main__ and turns an ending exception into an exit status;
 * embed_children.c installs our SIGTERM handler and the children scheme;
 * embed_util.c holds the helpers all three use. They call each other one
 * way: embed.c -> embed_main.c, embed_children.c -> embed_util.c. All of
 * them need the GIL.
 */
#ifndef VT_LAUNCHER_INTERNAL_H
#define VT_LAUNCHER_INTERNAL_H

#define PY_SSIZE_T_CLEAN
#include <Python.h>

#include "../tracer/tracer.h"
#include "cli.h"

/* helpers (embed_util.c) */

/* The keywords vt_cli_kwargs() gives user `to` (VT_OPT_EMBED,
 * VT_OPT_INSTR) as a dict; output is the output file's value. New ref, or
 * NULL with an exception set. */
PyObject *vt_embed__kwargs(const struct vt_options *o, unsigned to, const char *output);

/* Prints the pending exception as one line "viztracer: [what: ]message"
 * (our own failure, not the program's) and clears it. */
void vt_embed__report(const char *what);

/* Calls scheme.name() or scheme.name(path). Returns 0, or -1 with an
 * exception set. */
int vt_embed__call_helper(PyObject *scheme, const char *name, const char *path);

/* program (embed_main.c) */

/* Prepares __main__ (main_dict) as python3 would for o's program and
 * returns the code to run (new ref); NULL with an exception set, or NULL
 * without one when the problem was already reported. */
PyObject *vt_embed__prepare_main(const struct vt_options *o, const char *script_path,
                                 PyObject *main_dict);

/* The exit status python3 would give for the pending exception, which is
 * consumed (printing its traceback); *signo gets SIGINT for Ctrl+C and
 * SIGTERM for our SIGTERM handler's SystemExit: main dies by it after saving. */
int vt_embed__status_of_exception(int *signo);

/* children (embed_children.c) */

/* Installs our SIGTERM handler (SystemExit(143), retried by termkick.h)
 * when SIGTERM has its default action; with untraced_children, forked
 * children get the default back. Returns 0, or -1 with an exception set. */
int vt_embed__install_sigterm(int untraced_children);

/* 1 when exc (borrowed) is the SystemExit our SIGTERM handler raised. */
int vt_embed__is_sigterm_exit(PyObject *exc);

/* Sets up the children scheme (children.h, viztracer/_fork.py) for
 * tracer: in a child (--subprocess_child) with its parent's folder, else
 * with a new one. Returns the scheme object, whose save_child() and
 * save_parent(path) the end of the run calls (new ref), and the folder in
 * *dir (owned), or NULL with *dir NULL when it cannot be set up (children
 * then run untraced). */
PyObject *vt_embed__fork_setup(PyObject *tracer, const struct vt_options *o, char **dir);

/* The parent's save when children ran: its own trace into the folder, a
 * bounded wait for live children, then one merged output. Returns 0, or
 * -1 after printing why. */
int vt_embed__save_with_children(const struct vt_options *o, PyObject *fork_ns, const char *dir,
                                 const char *output, vt_tracer_html_fn html);

#endif
