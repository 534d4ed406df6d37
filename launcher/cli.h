/* cli.h: the viztracer command line and .viztracerrc -> struct vt_options.
 *
 * No Python here, so its tests need no interpreter. Spellings follow
 * VizTracer's (reference/viztracer-spec.md §1.2). Parsing stops at the
 * first token that is not an option (the script) or at "--" / "--run";
 * everything after is the traced program's own command line.
 */
#ifndef VT_LAUNCHER_CLI_H
#define VT_LAUNCHER_CLI_H

#include <stddef.h>

#include "../tracer/base/err.h"

enum vt_cli_run {
    VT_CLI_RUN_NONE,   /* nothing to run (help, version, or an error) */
    VT_CLI_RUN_SCRIPT, /* a file, or a Python file found on PATH */
    VT_CLI_RUN_MODULE, /* -m module */
    VT_CLI_RUN_STRING, /* -c code */
};

struct vt_cli_list {
    char **items; /* owned strings */
    size_t n;     /* number of items */
    int set;      /* given (possibly empty) */
};

struct vt_options {
    enum vt_cli_run run;               /* what to run */
    char *target;                      /* owned: script path, module name or code */
    char **argv;                       /* owned NULL-terminated sys.argv of the program */
    int argc;                          /* entries of argv */
    int help;                          /* -h/--help */
    int version;                       /* --version */
    char *rcfile;                      /* owned --rcfile, or NULL for the default */
    long long tracer_entries;          /* ring capacity */
    char *output_file;                 /* owned -o, or NULL for result.json */
    int unique_output_file;            /* -u */
    char *output_dir;                  /* owned --output_dir, or NULL */
    int pid_suffix;                    /* --pid_suffix */
    int quiet;                         /* --quiet */
    int trace_self;                    /* --trace_self */
    int file_info;                     /* --file_info (no effect: always written) */
    long max_stack_depth;              /* -1 = unlimited */
    double min_duration_us;            /* microseconds */
    struct vt_cli_list include_files;  /* --include_files */
    struct vt_cli_list exclude_files;  /* --exclude_files */
    int ignore_c_function;             /* --ignore_c_function */
    int ignore_frozen;                 /* --ignore_frozen */
    int log_func_retval;               /* --log_func_retval */
    int log_func_args;                 /* --log_func_args */
    int log_sparse;                    /* --log_sparse */
    int log_exit;                      /* --log_exit */
    int vdb;                           /* --vdb */
    int log_print;                     /* --log_print */
    int log_gc;                        /* --log_gc */
    int log_exception;                 /* --log_exception */
    struct vt_cli_list log_audit;      /* --log_audit [REGEX...]; given with no items = all */
    struct vt_cli_list log_var;        /* --log_var REGEX... */
    struct vt_cli_list log_number;     /* --log_number REGEX... */
    struct vt_cli_list log_attr;       /* --log_attr REGEX... */
    struct vt_cli_list log_func_exec;  /* --log_func_exec REGEX... */
    struct vt_cli_list log_func_entry; /* --log_func_entry REGEX... */
    int magic_comment;                 /* --magic_comment */
    int log_async;                     /* --log_async */
    int open;                          /* --open: serve the report and open the browser */
    struct vt_cli_list plugins;        /* --plugins "module args"... */
    int ignore_multiprocess;           /* --ignore_multiprocess: forked children untraced */
    struct vt_cli_list combine;        /* --combine FILE...: merge traces, run nothing */
    struct vt_cli_list align_combine;  /* --align_combine FILE...: the same, each shifted to 0 */
    char *subprocess_child;            /* owned --subprocess_child DIR: a traced child's folder */
    char *compress;                    /* owned --compress FILE: JSON -> .vzt, run nothing */
    char *decompress;                  /* owned --decompress FILE: .vzt -> JSON, run nothing */
    int patch_only;                    /* --patch_only: follow children, trace nothing here */
    struct vt_cli_list
        interp_flags;       /* python3 flags of a --python command line ("-u", "-X", "dev") */
    char **python_argv;     /* owned NULL-terminated tokens after --python, or NULL */
    int python_unsupported; /* --python line we cannot run traced: run python3 itself */
    long attach;            /* --attach PID: inject a tracer, or -1 */
    long attach_installed;  /* --attach_installed PID: signal install()ed tracer, or -1 */
    long uninstall;         /* --uninstall PID: remove an injected tracer, or -1 */
    double t;               /* -t: seconds to collect when attached; <= 0 = until ^C */
};

/* Sets defaults. Can't fail. */
void vt_cli_options_init(struct vt_options *o);

/* Frees what o owns; fini of an initialized, unused struct is safe. */
void vt_cli_options_fini(struct vt_options *o);

/* Parses argv (argv[0] is the program) into o, after reading the rcfile
 * (--rcfile, else ./.viztracerrc when it exists) whose values the command
 * line overrides. On failure returns VT_ERR_USAGE (unknown option, missing
 * value: exit 2) or another code (bad value, rcfile problem: exit 1), with a
 * one-line message in msg (msglen bytes). */
enum vt_err vt_cli_parse(struct vt_options *o, int argc, char **argv, char *msg, size_t msglen);

/* Applies an rc file's text: "[default]" section, "key = value" lines. name
 * is used in messages. Same return convention as vt_cli_parse(). */
enum vt_err vt_cli_apply_rc(struct vt_options *o, const char *text, const char *name, char *msg,
                            size_t msglen);

/* Parses a python3 command line (the tokens after --python: interpreter
 * flags, then -c CODE, -m MOD or a script, then the program's arguments)
 * into o's run, target, argv and interp_flags. What the launcher cannot run
 * traced (-i, -x, reading stdin, no program, --help...) sets
 * o->python_unsupported instead: such a child runs untraced. Can't fail. */
void vt_cli_parse_python(struct vt_options *o, int argc, char **argv);

/* The options a child process needs to be traced as o traces: every
 * setting that differs from the default, as command-line tokens, except
 * the output, the run and the child scheme's own. Returns an owned
 * NULL-terminated array (free with vt_cli_free_argv) and its length in *n. */
char **vt_cli_child_args(const struct vt_options *o, int *n);

/* Frees a NULL-terminated array of owned strings; NULL does nothing. */
void vt_cli_free_argv(char **argv);

/* Prints the help text to stdout. */
void vt_cli_print_help(void);

#endif
