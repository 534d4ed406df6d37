/* children.h: the parent's side of tracing forked children (docs/COMPAT.md, Processes).
 *
 * No Python here. The launcher makes a private folder before the program
 * runs; every forked child writes a marker "<pid>.viztmp" there when it
 * starts and "result_<pid>.json" when it ends (viztracer/_fork.py, set up
 * by embed_children.c), then removes its marker. After its own program, the parent waits (bounded)
 * for children that are still alive, and merges every result with its own
 * trace through vt_merge_run (tracer/format/format.h).
 */
#ifndef VT_LAUNCHER_CHILDREN_H
#define VT_LAUNCHER_CHILDREN_H

#include "../tracer/base/err.h"
#include "../tracer/tracer.h"
#include "cli.h"

/* Seconds the parent waits for children still running after its program. */
#define VT_CHILDREN_WAIT_S 10.0

/* Seconds the parent waits for a child of its own that has not yet written
 * its marker (it was forked just before the program ended). */
#define VT_CHILDREN_GRACE_S 0.5

/* Creates an empty private folder "viztracer-<pid>-XXXXXX" under $TMPDIR
 * (else /tmp), after removing such folders of viztracers that were killed
 * before they could remove theirs. Returns VT_OK
 * and an owned path in *out, or VT_ERR_IO (nothing created). */
enum vt_err vt_children_dir_create(char **out);

/* Returns 1 when the program forked (a "forked" note, a marker or a result
 * is in dir), else 0. Can't fail. */
int vt_children_forked(const char *dir);

/* Waits while a marker names a child that is alive (not a zombie), at most
 * timeout_s seconds, or until interrupted (may be NULL) returns nonzero
 * (Ctrl+C); then prints one warning line when some still are. Unless quiet,
 * the wait shows VizTracer's progress line "Wait for child processes to
 * finish, Ctrl+C to skip". Can't fail. */
void vt_children_wait(const char *dir, double timeout_s, int quiet, int (*interrupted)(void));

/* Merges parent_json (first) and every child result in dir into output
 * (.json, .gz, or .html through html), as vt_merge_run does, printing the
 * summary unless quiet. Returns VT_OK or the error it printed. */
enum vt_err vt_children_collect(const char *dir, const char *parent_json, const char *output,
                                vt_tracer_html_fn html, int quiet);

/* The merge of a main program that died before saving, run by its
 * supervisor (vt_tracer_children_fn, tracer.h): waits as vt_children_wait
 * does (quietly, no Ctrl+C: the supervisor has no terminal), merges
 * own_json and the results in dir into output as vt_children_collect does
 * (no summary), then removes dir. Returns 0, or -1 after printing why. */
int vt_children_finish_crash(const char *dir, const char *own_json, const char *output,
                             vt_tracer_html_fn html);

/* The command line that runs a child traced as o's program is: this
 * executable, o's settings (vt_cli_child_args), --subprocess_child dir.
 * Returns an owned NULL-terminated array (vt_cli_free_argv), or NULL when
 * this executable's path is unknown. */
char **vt_children_argv(const struct vt_options *o, const char *dir);

/* Removes dir and the files in it; errors are ignored. NULL does nothing. */
void vt_children_dir_remove(const char *dir);

#endif
