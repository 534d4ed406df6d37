/* options.h: the one list of viztracer's options and VizTracer() keywords.
 *
 * Every option is one line of VT_OPTIONS, as every error is one line of
 * VT_ERR_MAP (base/err.h). From it are generated: the command line, the
 * rcfile keys and the help text, struct vt_options and what a child process
 * is passed (launcher/cli.c); the keyword arguments the launcher gives
 * VizTracer() when it runs a program (launcher/embed.c) or attaches to one
 * (launcher/attach.c), and the instrumentation asked of codemonkey
 * (embed_main.c); VizTracer()'s keyword list and its PyArg format
 * (tracer/module.c). The launcher depends on the tracer, so the list lives
 * here; it is plain macros and includes nothing.
 *
 * Three kinds of line, each a macro the user of the list supplies:
 *   OPT(name, short, kind, def, arg, help, use)      a command-line option
 *   OPTKW(name, short, kind, def, arg, help, use, pos, fmt)
 *                                                    an option that is also
 *                                                    a VizTracer() keyword
 *   KW(name, use, pos, fmt)                          a keyword only
 * name:  long option (without "--"), rcfile key, struct vt_options field and
 *        keyword, spelled as in VizTracer (docs/COMPAT.md, Command line);
 *        a one-letter name is a short form only (-t);
 * short: single-letter form, or 0;
 * kind:  FLAG (int, 1 when given), INT (long), LLONG (long long, >= 0), STR
 *        (owned char *), DURATION (double <name>_us, "0.3ms"), SECONDS
 *        (double, "1.5"), LIST (every following token up to the next
 *        option), or one that the parser handles itself: HELP, VERSION,
 *        RCFILE, CMD (-c), MODULE (-m), PYTHON (--python);
 * def:   initial value of an INT, LLONG or SECONDS field (others start 0);
 * arg:   the value's name in the help, or NULL; help: one line;
 * use:   VT_OPT_* bits below;
 * pos:   the keyword's position in VizTracer(...) (VizTracer's positional
 *        order: a new keyword takes the next number);
 * fmt:   its PyArg_ParseTupleAndKeywords format unit.
 * The order of the lines is the order of the help text.
 */
#ifndef VT_TRACER_OPTIONS_H
#define VT_TRACER_OPTIONS_H

/* use bits */
#define VT_OPT_CHILD 0x01u      /* passed on to traced child processes */
#define VT_OPT_EMBED 0x02u      /* given to VizTracer() for a program the launcher runs */
#define VT_OPT_ATTACH 0x04u     /* given to VizTracer() in a process attached to */
#define VT_OPT_ATTACH_OFF 0x08u /* ... given there as False */
#define VT_OPT_ATTACH_ON 0x10u  /* ... given there as True */
#define VT_OPT_INSTR 0x20u      /* asks codemonkey to instrument the program */
#define VT_OPT_NOT_QUIET 0x40u  /* its value: 0 under --quiet, else 1 */
#define VT_OPT_OUTPUT 0x80u     /* its value: the run's output path */
#define VT_OPT_ADD 0x100u       /* a list whose occurrences on one command line add up */
#define VT_OPT_INIT 0x200u      /* a keyword in VizTracer.init_kwargs (its attribute's value) */
#define VT_OPT_LEAD 0x400u      /* set by viztracer for its children, before the program only */

/* the usual set for a tracer setting: children, runs and attaches get it */
#define VT_OPT_ALL (VT_OPT_CHILD | VT_OPT_EMBED | VT_OPT_ATTACH)
#define VT_OPT_RUN (VT_OPT_CHILD | VT_OPT_EMBED)

#define VT_OPTIONS(OPT, OPTKW, KW)                                                                 \
    OPT(help, 'h', HELP, 0, NULL, "show this help and exit", 0)                                    \
    OPT(version, 0, VERSION, 0, NULL, "print the version and exit", 0)                             \
    OPT(cmd_string, 'c', CMD, 0, "CODE", "run CODE as __main__", 0)                                \
    OPT(module, 'm', MODULE, 0, "MOD", "run library module MOD as __main__ (like python -m)", 0)   \
    OPT(rcfile, 0, RCFILE, 0, "PATH", "read defaults from PATH (default ./.viztracerrc)", 0)       \
    OPTKW(tracer_entries, 0, LLONG, 1000000, "N",                                                  \
          "buffer capacity in events; the newest N are kept (default 1000000); 0 keeps all",       \
          VT_OPT_ALL | VT_OPT_INIT, 0, 'L')                                                        \
    OPTKW(output_file, 'o', STR, 0, "PATH",                                                        \
          "output file: .json, .json.gz or .html (default result.json)",                           \
          VT_OPT_EMBED | VT_OPT_ATTACH | VT_OPT_OUTPUT | VT_OPT_INIT, 15, 'O')                     \
    OPT(open, 0, FLAG, 0, NULL, "after saving, serve the report and open the browser", 0)          \
    OPT(unique_output_file, 'u', FLAG, 0, NULL, "name the output <name>_<date>_<time>_<pid>.json", \
        0)                                                                                         \
    OPT(output_dir, 0, STR, 0, "DIR", "write the output into DIR (created)", 0)                    \
    OPTKW(pid_suffix, 0, FLAG, 0, NULL, "append _<pid> to the output name",                        \
          VT_OPT_EMBED | VT_OPT_ATTACH_OFF | VT_OPT_INIT, 10, 'p')                                 \
    OPTKW(file_info, 0, FLAG, 0, NULL, "(always on) include source in the output",                 \
          VT_OPT_CHILD | VT_OPT_ATTACH_ON | VT_OPT_INIT, 11, 'p')                                  \
    OPT(quiet, 0, FLAG, 0, NULL, "print nothing but the program's own output", 0)                  \
    OPTKW(trace_self, 0, FLAG, 0, NULL, "also trace viztracer's own code", VT_OPT_RUN, 13, 'p')    \
    OPTKW(max_stack_depth, 0, INT, -1, "N", "do not record calls deeper than N",                   \
          VT_OPT_ALL | VT_OPT_INIT, 2, 'O')                                                        \
    OPTKW(min_duration, 0, DURATION, 0, "TIME",                                                    \
          "drop calls shorter than TIME (e.g. 0.2ms, 300ns, 5us, 1s; default unit us)",            \
          VT_OPT_ALL | VT_OPT_INIT, 14, 'd')                                                       \
    OPTKW(include_files, 0, LIST, 0, "PATH...",                                                    \
          "record only code in files under these prefixes (put -- before the script)",             \
          VT_OPT_ALL | VT_OPT_INIT | VT_OPT_ADD, 3, 'O')                                           \
    OPTKW(exclude_files, 0, LIST, 0, "PATH...",                                                    \
          "do not record code in files under these prefixes",                                      \
          VT_OPT_ALL | VT_OPT_INIT | VT_OPT_ADD, 4, 'O')                                           \
    OPTKW(ignore_c_function, 0, FLAG, 0, NULL, "do not record builtin (C) functions; much faster", \
          VT_OPT_ALL | VT_OPT_INIT, 5, 'p')                                                        \
    OPTKW(ignore_frozen, 0, FLAG, 0, NULL, "do not record frozen modules (the import machinery)",  \
          VT_OPT_ALL | VT_OPT_INIT, 6, 'p')                                                        \
    OPTKW(log_func_retval, 0, FLAG, 0, NULL, "record repr() of return values",                     \
          VT_OPT_ALL | VT_OPT_INIT, 7, 'p')                                                        \
    OPTKW(log_func_args, 0, FLAG, 0, NULL, "record repr() of function arguments",                  \
          VT_OPT_ALL | VT_OPT_INIT, 8, 'p')                                                        \
    OPTKW(log_func_with_objprint, 0, FLAG, 0, NULL,                                                \
          "log arguments and return values in objprint's format (attributes of objects)",          \
          VT_OPT_ALL | VT_OPT_INIT, 27, 'p')                                                       \
    OPTKW(log_sparse, 0, FLAG, 0, NULL, "record only functions decorated @log_sparse",             \
          VT_OPT_RUN | VT_OPT_INIT, 9, 'p')                                                        \
    OPT(log_exit, 0, FLAG, 0, NULL, "keep recording while atexit handlers run", VT_OPT_CHILD)      \
    OPTKW(vdb, 0, FLAG, 0, NULL, "record the caller's line of every call, for vdb",                \
          VT_OPT_ALL | VT_OPT_INIT, 17, 'p')                                                       \
    OPTKW(log_print, 0, FLAG, 0, NULL, "print() output becomes instant events", VT_OPT_ALL, 18,    \
          'p')                                                                                     \
    OPTKW(log_gc, 0, FLAG, 0, NULL, "garbage collections become counter events", VT_OPT_ALL, 19,   \
          'p')                                                                                     \
    OPTKW(log_audit, 0, LIST, 0, "[REGEX...]",                                                     \
          "audit events (all, or those whose name matches) become instant events", VT_OPT_RUN, 20, \
          'O')                                                                                     \
    OPT(log_var, 0, LIST, 0, "REGEX...",                                                           \
        "log assignments to matching names in the script (instant events)",                        \
        VT_OPT_CHILD | VT_OPT_INSTR)                                                               \
    OPT(log_number, 0, LIST, 0, "REGEX...",                                                        \
        "log assignments to matching names in the script (counter events)",                        \
        VT_OPT_CHILD | VT_OPT_INSTR)                                                               \
    OPT(log_attr, 0, LIST, 0, "REGEX...", "log assignments to matching attributes in the script",  \
        VT_OPT_CHILD | VT_OPT_INSTR)                                                               \
    OPT(log_func_exec, 0, LIST, 0, "REGEX...",                                                     \
        "log every assignment inside matching functions of the script",                            \
        VT_OPT_CHILD | VT_OPT_INSTR)                                                               \
    OPT(log_func_entry, 0, LIST, 0, "REGEX...",                                                    \
        "log an instant event when matching functions of the script start",                        \
        VT_OPT_CHILD | VT_OPT_INSTR)                                                               \
    OPTKW(plugins, 0, LIST, 0, "\"MODULE ARGS\"...",                                               \
          "plugins: each module's get_vizplugin(\"MODULE ARGS\") is loaded", VT_OPT_RUN, 22, 'O')  \
    OPTKW(log_async, 0, FLAG, 0, NULL, "show each asyncio task as a track of its own", VT_OPT_ALL, \
          23, 'p')                                                                                 \
    OPT(magic_comment, 0, FLAG, 0, NULL, "act on '# !viztracer: ...' comments in the script",      \
        VT_OPT_CHILD | VT_OPT_INSTR)                                                               \
    OPTKW(log_exception, 0, FLAG, 0, NULL,                                                         \
          "exceptions raised in the script or leaving a function become instant events",           \
          VT_OPT_RUN | VT_OPT_INSTR, 21, 'p')                                                      \
    OPTKW(sanitize_function_name, 0, FLAG, 0, NULL,                                                \
          "leave out the name of a builtin function that is not printable ASCII",                  \
          VT_OPT_ALL | VT_OPT_INIT, 24, 'p')                                                       \
    OPTKW(minimize_memory, 0, FLAG, 0, NULL,                                                       \
          "(accepted; the trace is always written as it is read, never held whole)", VT_OPT_INIT,  \
          25, 'p')                                                                                 \
    OPTKW(dump_raw, 0, FLAG, 0, NULL, "(accepted; each process always writes its trace itself)",   \
          VT_OPT_INIT, 26, 'p')                                                                    \
    OPT(log_multiprocess, 0, FLAG, 0, NULL, "(deprecated; child processes are always traced)", 0)  \
    OPT(log_subprocess, 0, FLAG, 0, NULL, "(deprecated; child processes are always traced)", 0)    \
    OPT(ignore_multiprocess, 0, FLAG, 0, NULL, "do not trace forked child processes",              \
        VT_OPT_CHILD)                                                                              \
    OPT(subprocess_child, 0, STR, 0, "DIR",                                                        \
        "(set by viztracer for child processes) save this process's trace into DIR", VT_OPT_LEAD)  \
    OPT(patch_only, 0, FLAG, 0, NULL,                                                              \
        "(set by viztracer for multiprocessing's forkserver) trace its children only",             \
        VT_OPT_LEAD)                                                                               \
    OPT(python_executable, 0, STR, 0, "PATH",                                                      \
        "(set by viztracer for child processes) the python it was started as", VT_OPT_LEAD)        \
    OPT(python, 0, PYTHON, 0, "ARGS...",                                                           \
        "the rest is a python3 command line: interpreter flags, then -c, -m or a script",          \
        VT_OPT_LEAD)                                                                               \
    OPT(combine, 0, LIST, 0, "FILE...",                                                            \
        "merge these traces (.json, .json.gz) into the output; runs nothing", 0)                   \
    OPT(align_combine, 0, LIST, 0, "FILE...",                                                      \
        "like --combine, each file shifted so it starts at 0 (or its sync_marker)", 0)             \
    OPT(compress, 0, STR, 0, "FILE",                                                               \
        "write the trace FILE in the compact .vzt form to -o (default result.vzt); runs nothing",  \
        0)                                                                                         \
    OPT(decompress, 0, STR, 0, "FILE",                                                             \
        "write the .vzt FILE back as JSON to -o (default result.json); runs nothing", 0)           \
    OPT(attach, 0, INT, -1, "PID",                                                                 \
        "trace a running Python process (through ptrace) that can import viztracer", 0)            \
    OPT(attach_installed, 0, INT, -1, "PID",                                                       \
        "trace a process that called VizTracer().install() (SIGUSR1 starts, SIGUSR2 saves)", 0)    \
    OPT(uninstall, 0, INT, -1, "PID", "remove a tracer --attach left in PID", 0)                   \
    OPT(snapshot, 0, INT, -1, "PID",                                                               \
        "write the newest events of PID (run by viztracer) to -o; it runs on undisturbed", 0)      \
    OPT(t, 't', SECONDS, -1, "SECONDS",                                                            \
        "with --attach*: stop and save after SECONDS (default: at Ctrl+C)", 0)                     \
    KW(verbose, VT_OPT_EMBED | VT_OPT_ATTACH | VT_OPT_NOT_QUIET | VT_OPT_INIT, 1, 'i')             \
    KW(register_global, VT_OPT_ATTACH_ON, 12, 'p')                                                 \
    KW(process_name, 0, 16, 'O')                                                                   \
    KW(log_func_repr, 0, 28, 'O')

#endif
