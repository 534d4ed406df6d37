/* cli.h: the viztracer command line and .viztracerrc -> struct vt_options.
 *
 * No Python here, so its tests need no interpreter. Spellings follow
 * VizTracer's (docs/COMPAT.md, Command line). As in VizTracer, options are
 * read anywhere up to "--" / "--run"; the first other token is the script
 * and the rest, unknown options among them, its arguments.
 */
#ifndef VT_LAUNCHER_CLI_H
#define VT_LAUNCHER_CLI_H

#include <stddef.h>

#include "../tracer/base/err.h"
#include "../tracer/options.h"

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

/* The field of each option of tracer/options.h, by kind; -c, -m and
 * --python have none (they set run, target and argv). */
#define VT_CLI_FIELD_FLAG(name) int name;                /* 1 when given */
#define VT_CLI_FIELD_INT(name) long name;                /* as given, or the default */
#define VT_CLI_FIELD_LLONG(name) long long name;         /* as given, or the default */
#define VT_CLI_FIELD_STR(name) char *name;               /* owned, or NULL */
#define VT_CLI_FIELD_DURATION(name) double name##_us;    /* microseconds */
#define VT_CLI_FIELD_SECONDS(name) double name;          /* seconds */
#define VT_CLI_FIELD_LIST(name) struct vt_cli_list name; /* owned items */
#define VT_CLI_FIELD_HELP(name) int name;                /* 1 when given */
#define VT_CLI_FIELD_VERSION(name) int name;             /* 1 when given */
#define VT_CLI_FIELD_RCFILE(name) char *name;            /* owned, or NULL for the default */
#define VT_CLI_FIELD_CMD(name)
#define VT_CLI_FIELD_MODULE(name)
#define VT_CLI_FIELD_PYTHON(name)
#define VT_CLI_OPT_FIELD(name, s, kind, def, arg, help, use) VT_CLI_FIELD_##kind(name)
#define VT_CLI_OPTKW_FIELD(name, s, kind, def, arg, help, use, pos, fmt) VT_CLI_FIELD_##kind(name)
#define VT_CLI_KW_FIELD(name, use, pos, fmt)

struct vt_options {
    enum vt_cli_run run; /* what to run */
    char *target;        /* owned: script path, module name or code */
    char **argv;         /* owned NULL-terminated sys.argv of the program */
    int argc;            /* entries of argv */
    struct vt_cli_list
        interp_flags;       /* python3 flags of a --python command line ("-u", "-X", "dev") */
    char **python_argv;     /* owned NULL-terminated tokens after --python, or NULL */
    int python_unsupported; /* --python line we cannot run traced: run python3 itself */
    /* One field per option, named as the option (tracer/options.h):
     * o->max_stack_depth, o->include_files, o->min_duration_us... An
     * --attach, --attach_installed or --uninstall PID is -1 when not given;
     * -t (seconds to collect when attached) is <= 0 for "until ^C". */
    VT_OPTIONS(VT_CLI_OPT_FIELD, VT_CLI_OPTKW_FIELD, VT_CLI_KW_FIELD)
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

/* kwargs: VizTracer()'s keywords from the options */

enum vt_cli_vtype {
    VT_CLI_V_BOOL,  /* i is 0 or 1 */
    VT_CLI_V_INT,   /* i */
    VT_CLI_V_FLOAT, /* f */
    VT_CLI_V_STR,   /* s */
    VT_CLI_V_LIST,  /* list; None when list->set is 0 */
};

/* One keyword's value. */
struct vt_cli_value {
    enum vt_cli_vtype type;         /* which member holds the value */
    long long i;                    /* BOOL and INT */
    double f;                       /* FLOAT */
    const char *s;                  /* STR: borrowed from the caller of vt_cli_kwargs */
    const struct vt_cli_list *list; /* LIST: borrowed from the options */
};

/* Receives one keyword (name: static) and its value (valid during the call).
 * Returns VT_OK to go on, or an error that stops vt_cli_kwargs(). */
typedef enum vt_err (*vt_cli_kwarg_fn)(void *ctx, const char *name, const struct vt_cli_value *v);

/* Calls fn for every keyword that o gives to the user `to` names:
 * VT_OPT_EMBED (the VizTracer() of a program the launcher runs),
 * VT_OPT_ATTACH (that of a process attached to) or VT_OPT_INSTR
 * (viztracer.codemonkey's options), in the order of tracer/options.h.
 * output is the value of the output file. Returns VT_OK or fn's first
 * error. */
enum vt_err vt_cli_kwargs(const struct vt_options *o, unsigned to, const char *output,
                          vt_cli_kwarg_fn fn, void *ctx);

/* 1 when o asks codemonkey to instrument the program (a VT_OPT_INSTR list
 * with items, or flag, is given), else 0. Can't fail. */
int vt_cli_instrumented(const struct vt_options *o);

/* Frees a NULL-terminated array of owned strings; NULL does nothing. */
void vt_cli_free_argv(char **argv);

/* Prints the help text to stdout. */
void vt_cli_print_help(void);

#endif
