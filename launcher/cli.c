/* cli.c: option table, command-line and rcfile parsing; see cli.h.
 *
 * One table describes every option (name, short form, kind, field), so the
 * command line, the rcfile and the help text cannot disagree.
 */
#include "cli.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../tracer/base/buf.h"
#include "../tracer/base/mem.h"
#include "../tracer/tracer.h"

enum kind {
    K_FLAG,     /* int, set to 1 */
    K_INT,      /* long */
    K_LLONG,    /* long long, > 0 */
    K_STR,      /* char *, owned */
    K_DURATION, /* double microseconds, "0.3ms" */
    K_SECONDS,  /* double seconds, "1.5" */
    K_LIST,     /* struct vt_cli_list: every following token up to the next option */
    K_SPECIAL,  /* -c, -m, --help, --version, --rcfile: handled by the parser */
};

struct opt {
    const char *name; /* long name without "--"; also the rcfile key */
    char shortname;   /* single-letter form, or 0 */
    enum kind kind;   /* value kind */
    size_t offset;    /* field in struct vt_options */
    const char *arg;  /* value name in the help, or NULL */
    const char *help; /* one line */
};

#define F(field) offsetof(struct vt_options, field)

static const struct opt opts[] = {
    {"help", 'h', K_SPECIAL, 0, NULL, "show this help and exit"},
    {"version", 0, K_SPECIAL, 0, NULL, "print the version and exit"},
    {"cmd_string", 'c', K_SPECIAL, 0, "CODE", "run CODE as __main__"},
    {"module", 'm', K_SPECIAL, 0, "MOD", "run library module MOD as __main__ (like python -m)"},
    {"rcfile", 0, K_SPECIAL, 0, "PATH", "read defaults from PATH (default ./.viztracerrc)"},
    {"tracer_entries", 0, K_LLONG, F(tracer_entries), "N",
     "buffer capacity in events; the newest N are kept (default 1000000)"},
    {"output_file", 'o', K_STR, F(output_file), "PATH",
     "output file: .json, .json.gz or .html (default result.json)"},
    {"open", 0, K_FLAG, F(open), NULL, "after saving, serve the report and open the browser"},
    {"unique_output_file", 'u', K_FLAG, F(unique_output_file), NULL,
     "name the output <name>_<date>_<time>_<pid>.json"},
    {"output_dir", 0, K_STR, F(output_dir), "DIR", "write the output into DIR (created)"},
    {"pid_suffix", 0, K_FLAG, F(pid_suffix), NULL, "append _<pid> to the output name"},
    {"file_info", 0, K_FLAG, F(file_info), NULL, "(always on) include source in the output"},
    {"quiet", 0, K_FLAG, F(quiet), NULL, "print nothing but the program's own output"},
    {"trace_self", 0, K_FLAG, F(trace_self), NULL, "also trace viztracer's own code"},
    {"max_stack_depth", 0, K_INT, F(max_stack_depth), "N", "do not record calls deeper than N"},
    {"min_duration", 0, K_DURATION, F(min_duration_us), "TIME",
     "drop calls shorter than TIME (e.g. 0.2ms, 300ns, 5us, 1s; default unit us)"},
    {"include_files", 0, K_LIST, F(include_files), "PATH...",
     "record only code in files under these prefixes (put -- before the script)"},
    {"exclude_files", 0, K_LIST, F(exclude_files), "PATH...",
     "do not record code in files under these prefixes"},
    {"ignore_c_function", 0, K_FLAG, F(ignore_c_function), NULL,
     "do not record builtin (C) functions; much faster"},
    {"ignore_frozen", 0, K_FLAG, F(ignore_frozen), NULL,
     "do not record frozen modules (the import machinery)"},
    {"log_func_retval", 0, K_FLAG, F(log_func_retval), NULL, "record repr() of return values"},
    {"log_func_args", 0, K_FLAG, F(log_func_args), NULL, "record repr() of function arguments"},
    {"log_sparse", 0, K_FLAG, F(log_sparse), NULL, "record only functions decorated @log_sparse"},
    {"log_exit", 0, K_FLAG, F(log_exit), NULL, "keep recording while atexit handlers run"},
    {"vdb", 0, K_FLAG, F(vdb), NULL, "record the caller's line of every call, for vdb"},
    {"log_print", 0, K_FLAG, F(log_print), NULL, "print() output becomes instant events"},
    {"log_gc", 0, K_FLAG, F(log_gc), NULL, "garbage collections become counter events"},
    {"log_audit", 0, K_LIST, F(log_audit), "[REGEX...]",
     "audit events (all, or those whose name matches) become instant events"},
    {"log_var", 0, K_LIST, F(log_var), "REGEX...",
     "log assignments to matching names in the script (instant events)"},
    {"log_number", 0, K_LIST, F(log_number), "REGEX...",
     "log assignments to matching names in the script (counter events)"},
    {"log_attr", 0, K_LIST, F(log_attr), "REGEX...",
     "log assignments to matching attributes in the script"},
    {"log_func_exec", 0, K_LIST, F(log_func_exec), "REGEX...",
     "log every assignment inside matching functions of the script"},
    {"log_func_entry", 0, K_LIST, F(log_func_entry), "REGEX...",
     "log an instant event when matching functions of the script start"},
    {"plugins", 0, K_LIST, F(plugins), "\"MODULE ARGS\"...",
     "plugins: each module's get_vizplugin(\"MODULE ARGS\") is loaded"},
    {"log_async", 0, K_FLAG, F(log_async), NULL, "show each asyncio task as a track of its own"},
    {"magic_comment", 0, K_FLAG, F(magic_comment), NULL,
     "act on '# !viztracer: ...' comments in the script"},
    {"log_exception", 0, K_FLAG, F(log_exception), NULL,
     "exceptions leaving a function become instant events"},
    {"ignore_multiprocess", 0, K_FLAG, F(ignore_multiprocess), NULL,
     "do not trace forked child processes"},
    {"subprocess_child", 0, K_STR, F(subprocess_child), "DIR",
     "(set by viztracer for child processes) save this process's trace into DIR"},
    {"patch_only", 0, K_FLAG, F(patch_only), NULL,
     "(set by viztracer for multiprocessing's forkserver) trace its children only"},
    {"python", 0, K_SPECIAL, 0, "ARGS...",
     "the rest is a python3 command line: interpreter flags, then -c, -m or a script"},
    {"combine", 0, K_LIST, F(combine), "FILE...",
     "merge these traces (.json, .json.gz) into the output; runs nothing"},
    {"align_combine", 0, K_LIST, F(align_combine), "FILE...",
     "like --combine, each file shifted so it starts at 0 (or its sync_marker)"},
    {"compress", 0, K_STR, F(compress), "FILE",
     "write the trace FILE in the compact .vzt form to -o (default result.vzt); runs nothing"},
    {"decompress", 0, K_STR, F(decompress), "FILE",
     "write the .vzt FILE back as JSON to -o (default result.json); runs nothing"},
    {"attach", 0, K_INT, F(attach), "PID",
     "trace a running Python process (through gdb) that can import viztracer"},
    {"attach_installed", 0, K_INT, F(attach_installed), "PID",
     "trace a process that called VizTracer().install() (SIGUSR1 starts, SIGUSR2 saves)"},
    {"uninstall", 0, K_INT, F(uninstall), "PID", "remove a tracer --attach left in PID"},
    /* A one-letter name is the short form only, as VizTracer's argparse `-t`. */
    {"t", 't', K_SECONDS, F(t), "SECONDS",
     "with --attach*: stop and save after SECONDS (default: at Ctrl+C)"},
};

#define NOPTS (sizeof(opts) / sizeof(opts[0]))

static void
list_fini(struct vt_cli_list *l)
{
    for (size_t i = 0; i < l->n; i++)
        free(l->items[i]);
    free(l->items);
    l->items = NULL;
    l->n = 0;
    l->set = 0;
}

static void
list_add(struct vt_cli_list *l, const char *s)
{
    l->items = vt_xrealloc(l->items, (l->n + 1) * sizeof(char *));
    l->items[l->n++] = vt_xstrdup(s);
}

void
vt_cli_options_init(struct vt_options *o)
{
    memset(o, 0, sizeof(*o));
    o->tracer_entries = 1000000;
    o->max_stack_depth = -1;
    o->attach = -1;
    o->attach_installed = -1;
    o->uninstall = -1;
    o->t = -1;
}

void
vt_cli_options_fini(struct vt_options *o)
{
    free(o->target);
    for (int i = 0; i < o->argc; i++)
        free(o->argv[i]);
    free(o->argv);
    free(o->rcfile);
    free(o->output_file);
    free(o->output_dir);
    list_fini(&o->include_files);
    list_fini(&o->exclude_files);
    list_fini(&o->log_audit);
    list_fini(&o->log_var);
    list_fini(&o->log_number);
    list_fini(&o->log_attr);
    list_fini(&o->log_func_exec);
    list_fini(&o->log_func_entry);
    list_fini(&o->plugins);
    list_fini(&o->combine);
    list_fini(&o->align_combine);
    free(o->subprocess_child);
    free(o->compress);
    free(o->decompress);
    list_fini(&o->interp_flags);
    vt_cli_free_argv(o->python_argv);
    vt_cli_options_init(o);
}

static enum vt_err fail(enum vt_err err, char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));

static enum vt_err
fail(enum vt_err err, char *msg, size_t msglen, const char *fmt, ...)
{
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, msglen, fmt, ap);
    va_end(ap);
    return err;
}

static const struct opt *
find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (strlen(opts[i].name) == len && strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static const struct opt *
find_short(char c)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].shortname == c)
            return &opts[i];
    return NULL;
}

/* Stores one value of option op. Returns VT_OK or a bad-value error. */
static enum vt_err
set_value(struct vt_options *o, const struct opt *op, const char *value, char *msg, size_t msglen)
{
    char *base = (char *)o;
    char *end;
    switch (op->kind) {
    case K_FLAG:
        *(int *)(base + op->offset) = 1;
        return VT_OK;
    case K_INT:
    case K_LLONG: {
        errno = 0;
        long long v = strtoll(value, &end, 10);
        if (*value == '\0' || *end != '\0' || errno != 0 || (op->kind == K_LLONG && v <= 0) ||
            (op->kind == K_INT && (v < -1 || v > 1000000000)))
            return fail(VT_ERR_FORMAT, msg, msglen, "argument --%s: invalid value '%s'", op->name,
                        value);
        if (op->kind == K_INT)
            *(long *)(base + op->offset) = (long)v;
        else
            *(long long *)(base + op->offset) = v;
        return VT_OK;
    }
    case K_STR: {
        char **slot = (char **)(base + op->offset);
        free(*slot);
        *slot = vt_xstrdup(value);
        return VT_OK;
    }
    case K_DURATION: {
        double us;
        if (vt_tracer_parse_duration(value, &us) != 0)
            return fail(VT_ERR_FORMAT, msg, msglen,
                        "Can't convert %s to time. Format should be 0.3ms or 13us", value);
        memcpy(base + op->offset, &us, sizeof(us));
        return VT_OK;
    }
    case K_SECONDS: {
        errno = 0;
        double v = strtod(value, &end);
        if (*value == '\0' || *end != '\0' || errno != 0 || !(v > -1e9 && v < 1e9))
            return fail(VT_ERR_FORMAT, msg, msglen, "argument -%s: invalid float value: '%s'",
                        op->name, value);
        memcpy(base + op->offset, &v, sizeof(v));
        return VT_OK;
    }
    case K_LIST: {
        struct vt_cli_list *l = (struct vt_cli_list *)(base + op->offset);
        l->set = 1;
        list_add(l, value);
        return VT_OK;
    }
    case K_SPECIAL:
        break;
    }
    return VT_OK;
}

static void
set_command(struct vt_options *o, enum vt_cli_run run, const char *target, int argc, char **argv,
            const char *argv0)
{
    o->run = run;
    free(o->target);
    o->target = vt_xstrdup(target);
    o->argc = argc + 1;
    o->argv = vt_xcalloc((size_t)o->argc + 1, sizeof(char *));
    o->argv[0] = vt_xstrdup(argv0);
    for (int i = 0; i < argc; i++)
        o->argv[i + 1] = vt_xstrdup(argv[i]);
}

static enum vt_err
read_rcfile(struct vt_options *o, const char *path, int named, char *msg, size_t msglen)
{
    FILE *fp = fopen(path, "r");
    if (fp == NULL) {
        if (!named && errno == ENOENT)
            return VT_OK;
        return fail(VT_ERR_NOFILE, msg, msglen, "cannot read rcfile %s: %s", path, strerror(errno));
    }
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    char chunk[4096];
    size_t got;
    enum vt_err err = VT_OK;
    while (err == VT_OK && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        err = vt_buf_add(&b, chunk, got);
    fclose(fp);
    if (err != VT_OK)
        return fail(err, msg, msglen, "rcfile %s is too large", path);
    err = vt_cli_apply_rc(o, b.data ? b.data : "", path, msg, msglen);
    vt_buf_fini(&b);
    return err;
}

static char *
trim(char *s)
{
    while (*s == ' ' || *s == '\t' || *s == '\r')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\r'))
        *--e = '\0';
    return s;
}

enum vt_err
vt_cli_apply_rc(struct vt_options *o, const char *text, const char *name, char *msg, size_t msglen)
{
    char *copy = vt_xstrdup(text);
    char *save = NULL;
    int in_default = 0, seen_default = 0, lineno = 0;
    enum vt_err err = VT_OK;
    for (char *line = strtok_r(copy, "\n", &save); line && err == VT_OK;
         line = strtok_r(NULL, "\n", &save)) {
        lineno++;
        char *s = trim(line);
        if (*s == '\0' || *s == '#' || *s == ';')
            continue;
        if (*s == '[') {
            char *close = strchr(s, ']');
            if (close == NULL) {
                err = fail(VT_ERR_FORMAT, msg, msglen, "rcfile %s: bad section line: %s", name, s);
                break;
            }
            *close = '\0';
            in_default = strcmp(trim(s + 1), "default") == 0;
            seen_default |= in_default;
            continue;
        }
        if (!in_default)
            continue;
        char *sep = strpbrk(s, "=:");
        char *value = "";
        if (sep) {
            *sep = '\0';
            value = trim(sep + 1);
        }
        char *key = trim(s);
        const struct opt *op = find_long(key, strlen(key));
        if (op == NULL || op->kind == K_SPECIAL) {
            err = fail(VT_ERR_FORMAT, msg, msglen, "rcfile %s: unknown option '%s'", name, key);
            break;
        }
        if (op->kind == K_LIST) {
            /* Multi-value options: the value split on whitespace. */
            struct vt_cli_list *l = (struct vt_cli_list *)((char *)o + op->offset);
            list_fini(l);
            l->set = 1;
            char *wsave = NULL;
            for (char *w = strtok_r(value, " \t", &wsave); w; w = strtok_r(NULL, " \t", &wsave))
                list_add(l, w);
            continue;
        }
        if (op->kind != K_FLAG && *value == '\0') {
            err =
                fail(VT_ERR_FORMAT, msg, msglen, "rcfile %s: option '%s' needs a value", name, key);
            break;
        }
        /* A flag is turned on by its key alone, as in VizTracer. */
        err = set_value(o, op, value, msg, msglen);
    }
    free(copy);
    if (err == VT_OK && !seen_default)
        err = fail(VT_ERR_FORMAT, msg, msglen, "rcfile %s has no [default] section", name);
    return err;
}

/* The rcfile is read before the command line, so look for --rcfile first. */
static const char *
find_rcfile(int argc, char **argv, int *child)
{
    *child = 0;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--") == 0 || strcmp(argv[i], "--run") == 0 ||
            strcmp(argv[i], "--python") == 0)
            break;
        if (strcmp(argv[i], "--subprocess_child") == 0)
            *child = 1;
        if (strcmp(argv[i], "--rcfile") == 0 && i + 1 < argc)
            return argv[i + 1];
        if (strncmp(argv[i], "--rcfile=", 9) == 0)
            return argv[i] + 9;
    }
    return NULL;
}

static int
is_option(const char *s)
{
    return s[0] == '-' && s[1] != '\0';
}

enum vt_err
vt_cli_parse(struct vt_options *o, int argc, char **argv, char *msg, size_t msglen)
{
    /* A child gets its parent's effective options on its command line; the
     * rcfile of the folder it happens to run in must not add to them. */
    int child;
    const char *rc = find_rcfile(argc, argv, &child);
    enum vt_err err =
        rc || !child ? read_rcfile(o, rc ? rc : ".viztracerrc", rc != NULL, msg, msglen) : VT_OK;
    if (err != VT_OK)
        return err;
    if (rc)
        o->rcfile = vt_xstrdup(rc);
    /* The command-line lists replace the rcfile's. */
    int cleared_incl = 0, cleared_excl = 0;
    int i = 1;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0 || strcmp(a, "--run") == 0) {
            i++;
            break;
        }
        if (!is_option(a))
            break;
        const struct opt *op;
        const char *inline_value = NULL;
        if (a[1] == '-') {
            const char *eq = strchr(a + 2, '=');
            op = find_long(a + 2, eq ? (size_t)(eq - a - 2) : strlen(a + 2));
            if (op && op->name[1] == '\0')
                op = NULL; /* "-t" has no long form */
            inline_value = eq ? eq + 1 : NULL;
        } else {
            op = find_short(a[1]);
            if (op && a[2] != '\0')
                inline_value = a + 2;
        }
        if (op == NULL)
            return fail(VT_ERR_USAGE, msg, msglen, "unrecognized option: %s", a);
        i++;
        if (op->kind == K_FLAG) {
            if (inline_value)
                return fail(VT_ERR_USAGE, msg, msglen, "option --%s takes no value", op->name);
            set_value(o, op, NULL, msg, msglen);
            continue;
        }
        if (op->kind == K_LIST) {
            struct vt_cli_list *l = (struct vt_cli_list *)((char *)o + op->offset);
            int cleared_audit = 0;
            int *cleared = op->offset == F(include_files)   ? &cleared_incl
                           : op->offset == F(exclude_files) ? &cleared_excl
                                                            : &cleared_audit;
            if (!*cleared) {
                list_fini(l);
                *cleared = 1;
            }
            l->set = 1;
            if (inline_value)
                list_add(l, inline_value);
            while (i < argc && !is_option(argv[i]))
                list_add(l, argv[i++]);
            continue;
        }
        if (op->kind == K_SPECIAL &&
            (strcmp(op->name, "help") == 0 || strcmp(op->name, "version") == 0)) {
            if (op->name[0] == 'h')
                o->help = 1;
            else
                o->version = 1;
            continue;
        }
        if (op->kind == K_SPECIAL && strcmp(op->name, "python") == 0) {
            if (inline_value)
                return fail(VT_ERR_USAGE, msg, msglen, "option --python takes no value");
            vt_cli_parse_python(o, argc - i, argv + i);
            return VT_OK;
        }
        const char *value = inline_value;
        if (value == NULL) {
            if (i >= argc)
                return fail(VT_ERR_USAGE, msg, msglen, "option --%s needs a value", op->name);
            value = argv[i++];
        }
        if (op->kind == K_SPECIAL) {
            if (strcmp(op->name, "rcfile") == 0)
                continue; /* read above */
            if (strcmp(op->name, "cmd_string") == 0) {
                set_command(o, VT_CLI_RUN_STRING, value, argc - i, argv + i, "-c");
            } else {
                set_command(o, VT_CLI_RUN_MODULE, value, argc - i, argv + i, value);
            }
            return VT_OK;
        }
        err = set_value(o, op, value, msg, msglen);
        if (err != VT_OK)
            return err;
    }
    if (o->help || o->version)
        return VT_OK;
    if (i < argc)
        set_command(o, VT_CLI_RUN_SCRIPT, argv[i], argc - i - 1, argv + i + 1, argv[i]);
    if (o->unique_output_file && o->output_file)
        return fail(VT_ERR_USAGE, msg, msglen,
                    "argument -u/--unique_output_file: not allowed with argument -o/--output_file");
    if (o->include_files.n && o->exclude_files.n)
        return fail(VT_ERR_FORMAT, msg, msglen,
                    "include_files and exclude_files can't be both specified!");
    return VT_OK;
}

void
vt_cli_print_help(void)
{
    printf("usage: viztracer [options] [--] script.py [args...]\n"
           "       viztracer [options] -m module [args...]\n"
           "       viztracer [options] -c \"code\" [args...]\n\n"
           "Runs a Python program with every function call recorded, and writes a Chrome\n"
           "trace-event JSON file (open it with vizviewer, Perfetto or chrome://tracing).\n\n"
           "options:\n");
    for (size_t i = 0; i < NOPTS; i++) {
        char left[64];
        if (opts[i].shortname && opts[i].name[1] == '\0')
            snprintf(left, sizeof(left), "-%c%s%s", opts[i].shortname, opts[i].arg ? " " : "",
                     opts[i].arg ? opts[i].arg : "");
        else if (opts[i].shortname)
            snprintf(left, sizeof(left), "-%c, --%s%s%s", opts[i].shortname, opts[i].name,
                     opts[i].arg ? " " : "", opts[i].arg ? opts[i].arg : "");
        else
            snprintf(left, sizeof(left), "--%s%s%s", opts[i].name, opts[i].arg ? " " : "",
                     opts[i].arg ? opts[i].arg : "");
        printf("  %-32s %s\n", left, opts[i].help);
    }
    printf("  %-32s %s\n", "--, --run", "end of viztracer's options; the program follows");
}

/* ---- python3 command lines (children started by subprocess) ---------- */

/* python3's single-letter flags that take no value and that PyConfig can
 * set (embed.c applies them), and those that are accepted and ignored. */
static const char py_flags[] = "bBdEIOPqsSuvR";
/* Flags followed by a value: -X opt, -W arg. */
static const char py_value_flags[] = "XW";

void
vt_cli_parse_python(struct vt_options *o, int argc, char **argv)
{
    vt_cli_free_argv(o->python_argv);
    o->python_argv = vt_xcalloc((size_t)argc + 1, sizeof(char *));
    for (int k = 0; k < argc; k++)
        o->python_argv[k] = vt_xstrdup(argv[k]);
    list_fini(&o->interp_flags);
    o->interp_flags.set = 1;
    int i = 0;
    while (i < argc) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0) {
            i++;
            break;
        }
        if (a[0] != '-' || a[1] == '\0' || a[1] == '-')
            break; /* the script, "-" (stdin) or a long option */
        i++;
        for (const char *c = a + 1; *c; c++) {
            if (*c == 'c' || *c == 'm') {
                const char *value = c[1] ? c + 1 : (i < argc ? argv[i++] : NULL);
                if (value == NULL)
                    goto unsupported;
                set_command(o, *c == 'c' ? VT_CLI_RUN_STRING : VT_CLI_RUN_MODULE, value, argc - i,
                            argv + i, *c == 'c' ? "-c" : value);
                return;
            }
            if (strchr(py_value_flags, *c)) {
                const char *value = c[1] ? c + 1 : (i < argc ? argv[i++] : NULL);
                if (value == NULL)
                    goto unsupported;
                char flag[3] = {'-', *c, '\0'};
                list_add(&o->interp_flags, flag);
                list_add(&o->interp_flags, value);
                break;
            }
            if (strchr(py_flags, *c) == NULL)
                goto unsupported; /* -i, -x, -h, -V, unknown */
            char flag[3] = {'-', *c, '\0'};
            list_add(&o->interp_flags, flag);
        }
    }
    if (i >= argc || strcmp(argv[i], "-") == 0 || (argv[i][0] == '-' && argv[i][1] == '-'))
        goto unsupported;
    set_command(o, VT_CLI_RUN_SCRIPT, argv[i], argc - i - 1, argv + i + 1, argv[i]);
    return;
unsupported:
    o->python_unsupported = 1;
    o->run = VT_CLI_RUN_NONE;
}

/* Options that are not passed on to children: what to run, where the
 * result goes (the parent merges), the child scheme's own, one-shot modes. */
static int
child_skips(const char *name)
{
    static const char *const skip[] = {
        "help",          "version",    "cmd_string",
        "module",        "rcfile",     "output_file",
        "open",          "output_dir", "unique_output_file",
        "pid_suffix",    "quiet",      "subprocess_child",
        "patch_only",    "python",     "combine",
        "align_combine", "attach",     "attach_installed",
        "uninstall",     "t",          "compress",
        "decompress",
    };
    for (size_t i = 0; i < sizeof(skip) / sizeof(skip[0]); i++)
        if (strcmp(name, skip[i]) == 0)
            return 1;
    return 0;
}

static void
argv_add(char ***argv, int *n, const char *s)
{
    *argv = vt_xrealloc(*argv, ((size_t)*n + 2) * sizeof(char *));
    (*argv)[(*n)++] = vt_xstrdup(s);
    (*argv)[*n] = NULL;
}

char **
vt_cli_child_args(const struct vt_options *o, int *n)
{
    struct vt_options def;
    vt_cli_options_init(&def);
    char **argv = vt_xcalloc(1, sizeof(char *));
    *n = 0;
    const char *base = (const char *)o, *dbase = (const char *)&def;
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *op = &opts[i];
        if (child_skips(op->name))
            continue;
        char name[64], value[64];
        snprintf(name, sizeof(name), "--%s", op->name);
        switch (op->kind) {
        case K_FLAG:
            if (*(const int *)(base + op->offset))
                argv_add(&argv, n, name);
            break;
        case K_INT: {
            long v = *(const long *)(base + op->offset);
            if (v != *(const long *)(dbase + op->offset)) {
                snprintf(value, sizeof(value), "%ld", v);
                argv_add(&argv, n, name);
                argv_add(&argv, n, value);
            }
            break;
        }
        case K_LLONG: {
            long long v = *(const long long *)(base + op->offset);
            if (v != *(const long long *)(dbase + op->offset)) {
                snprintf(value, sizeof(value), "%lld", v);
                argv_add(&argv, n, name);
                argv_add(&argv, n, value);
            }
            break;
        }
        case K_DURATION: {
            double v;
            memcpy(&v, base + op->offset, sizeof(v));
            if (v != 0) {
                snprintf(value, sizeof(value), "%.17gus", v);
                argv_add(&argv, n, name);
                argv_add(&argv, n, value);
            }
            break;
        }
        case K_LIST: {
            const struct vt_cli_list *l = (const struct vt_cli_list *)(base + op->offset);
            if (l->set) {
                argv_add(&argv, n, name);
                for (size_t k = 0; k < l->n; k++)
                    argv_add(&argv, n, l->items[k]);
            }
            break;
        }
        case K_STR:
        case K_SECONDS:
        case K_SPECIAL:
            break;
        }
    }
    return argv;
}

void
vt_cli_free_argv(char **argv)
{
    if (argv == NULL)
        return;
    for (char **p = argv; *p; p++)
        free(*p);
    free(argv);
}
