/* vdb.h: the time-travel debugger over a saved trace (VizTracer 0.15's vdb).
 *
 * `vdb [--no_clear] [--extra_newline] FILE` (also `viztracer vdb ...`):
 * loads the trace through tracer/format/format.h, builds the call trees
 * (vdb/timeline.h) and runs a command loop on the terminal. launcher/main.c
 * dispatches here; nothing else is public.
 */
#ifndef VT_VDB_VDB_H
#define VT_VDB_VDB_H

/* Runs vdb with argv[0] == "vdb" and the options and file after it. Returns
 * the exit status: 0 on q/EOF, 1 when the file cannot be loaded, 2 on a
 * usage error. Reads stdin, writes stdout (and stderr for errors). */
int vt_vdb_main(int argc, char **argv);

#endif
