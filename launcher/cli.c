/* cli.c: command-line and rcfile parsing, and what the options give child
 * processes and VizTracer(); see cli.h.
 *
 * opts[] is generated from tracer/options.h, the one list of options (name,
 * short form, kind, field, help, users), so the command line, the rcfile,
 * the help text, the children's command lines and the keyword arguments
 * cannot disagree. Sections: the table, parsing, help, python3 command
 * lines, child options, VizTracer()'s keywords.
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
    K_LLONG,    /* long long, >= 0 */
    K_STR,      /* char *, owned */
    K_DURATION, /* double microseconds, "0.3ms" */
    K_SECONDS,  /* double seconds, "1.5" */
    K_LIST,     /* struct vt_cli_list: every following token up to the next option */
    K_HELP,     /* -h, --help */
    K_VERSION,  /* --version */
    K_RCFILE,   /* --rcfile: read before the rest */
    K_CMD,      /* -c CODE and the program's arguments */
    K_MODULE,   /* -m MOD and the program's arguments */
    K_PYTHON,   /* --python and a python3 command line */
    K_NONE,     /* a VizTracer() keyword only: not on the command line */
};

struct opt {
    const char *name; /* long name without "--"; also the rcfile key and keyword */
    char shortname;   /* single-letter form, or 0 */
    enum kind kind;   /* value kind */
    size_t offset;    /* field in struct vt_options; 0 for CMD, MODULE, PYTHON, NONE */
    double def;       /* initial value of an INT, LLONG or SECONDS field */
    const char *arg;  /* value name in the help, or NULL */
    const char *help; /* one line, or NULL */
    unsigned use;     /* VT_OPT_* bits (tracer/options.h) */
};

#define F(field) offsetof(struct vt_options, field)
#define OFF_FLAG(name) F(name)
#define OFF_INT(name) F(name)
#define OFF_LLONG(name) F(name)
#define OFF_STR(name) F(name)
#define OFF_DURATION(name) F(name##_us)
#define OFF_SECONDS(name) F(name)
#define OFF_LIST(name) F(name)
#define OFF_HELP(name) F(name)
#define OFF_VERSION(name) F(name)
#define OFF_RCFILE(name) F(name)
#define OFF_CMD(name) 0
#define OFF_MODULE(name) 0
#define OFF_PYTHON(name) 0

#define ROW_OPT(name, s, kind, def, arg, help, use)                                                \
    {#name, s, K_##kind, OFF_##kind(name), def, arg, help, use},
#define ROW_OPTKW(name, s, kind, def, arg, help, use, pos, fmt)                                    \
    ROW_OPT(name, s, kind, def, arg, help, use)
#define ROW_KW(name, use, pos, fmt) {#name, 0, K_NONE, 0, 0, NULL, NULL, use},

static const struct opt opts[] = {VT_OPTIONS(ROW_OPT, ROW_OPTKW, ROW_KW)};

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
    char *base = (char *)o;
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *op = &opts[i];
        if (op->kind == K_INT)
            *(long *)(base + op->offset) = (long)op->def;
        else if (op->kind == K_LLONG)
            *(long long *)(base + op->offset) = (long long)op->def;
        else if (op->kind == K_SECONDS)
            memcpy(base + op->offset, &op->def, sizeof(double));
    }
}

void
vt_cli_options_fini(struct vt_options *o)
{
    free(o->target);
    for (int i = 0; i < o->argc; i++)
        free(o->argv[i]);
    free(o->argv);
    char *base = (char *)o;
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *op = &opts[i];
        if (op->kind == K_STR || op->kind == K_RCFILE)
            free(*(char **)(base + op->offset));
        else if (op->kind == K_LIST)
            list_fini((struct vt_cli_list *)(base + op->offset));
    }
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

/* The option named name (len bytes), or NULL; keywords only are not options. */
static const struct opt *
find_long(const char *name, size_t len)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (opts[i].kind != K_NONE && strlen(opts[i].name) == len &&
            strncmp(opts[i].name, name, len) == 0)
            return &opts[i];
    return NULL;
}

static const struct opt *
find_short(char c)
{
    for (size_t i = 0; i < NOPTS; i++)
        if (c != 0 && opts[i].shortname == c)
            return &opts[i];
    return NULL;
}

/* The option that token ("--name" or "--name=value") names, or NULL. */
static const struct opt *
find_token(const char *token)
{
    if (strncmp(token, "--", 2) != 0)
        return NULL;
    const char *eq = strchr(token + 2, '=');
    return find_long(token + 2, eq ? (size_t)(eq - token - 2) : strlen(token + 2));
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
        if (*value == '\0' || *end != '\0' || errno != 0 || (op->kind == K_LLONG && v < 0) ||
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
    default:
        break; /* the parser's own kinds */
    }
    return VT_OK;
}

static void
set_command(struct vt_options *o, enum vt_cli_run run, const char *target, int argc,
            char *const *argv, const char *argv0)
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
    if (err == VT_OK && ferror(fp))
        err = fail(VT_ERR_IO, msg, msglen, "cannot read rcfile %s", path);
    else if (err != VT_OK)
        err = fail(err, msg, msglen, "rcfile %s is too large", path);
    else
        err = vt_cli_apply_rc(o, b.data ? b.data : "", path, msg, msglen);
    fclose(fp);
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
        if (op == NULL || op->kind > K_LIST) {
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
        if (strcmp(argv[i], "--") == 0 || strcmp(argv[i], "--run") == 0)
            break;
        const struct opt *op = find_token(argv[i]);
        if (op == NULL)
            continue;
        if (op->kind == K_PYTHON)
            break;
        if (op->offset == F(subprocess_child) && op->kind == K_STR)
            *child = 1;
        const char *eq = strchr(argv[i], '=');
        if (op->kind == K_RCFILE && eq)
            return eq + 1;
        if (op->kind == K_RCFILE && i + 1 < argc)
            return argv[i + 1];
    }
    return NULL;
}

/* An option-like token, as argparse sees one: "-x...", but not "-" and not
 * a negative number ("-1", "-.5"), which are values. */
static int
is_option(const char *s)
{
    if (s[0] != '-' || s[1] == '\0')
        return 0;
    const char *p = s + 1;
    while (*p >= '0' && *p <= '9')
        p++;
    if (*p == '.' && p[1] != '\0') {
        p++;
        while (*p >= '0' && *p <= '9')
            p++;
    }
    return !(*p == '\0' && p > s + 1 && p[-1] != '.');
}

/* The program's command line as the parser collects it: borrowed tokens. */
struct prog {
    enum vt_cli_run run; /* VT_CLI_RUN_NONE until -c, -m or the script */
    const char *target;  /* borrowed: the code, module or script */
    const char **args;   /* owned array of borrowed tokens: the program's arguments */
    int n;               /* number of args */
};

static void
prog_add(struct prog *p, const char *s)
{
    p->args = vt_xrealloc(p->args, ((size_t)p->n + 1) * sizeof(char *));
    p->args[p->n++] = s;
}

/* One option token a at argv[*i] (already past it in *i), op found.
 * Returns VT_OK, or an error with msg set. *done is set when the parse ends
 * here (--python). */
static enum vt_err
take_option(struct vt_options *o, struct prog *p, const struct opt *op, const char *inline_value,
            int argc, char **argv, int *i, unsigned char *cleared, int *done, char *msg,
            size_t msglen)
{
    if (op->kind == K_FLAG) {
        if (inline_value)
            return fail(VT_ERR_USAGE, msg, msglen, "option --%s takes no value", op->name);
        return set_value(o, op, NULL, msg, msglen);
    }
    if (op->kind == K_LIST) {
        struct vt_cli_list *l = (struct vt_cli_list *)((char *)o + op->offset);
        size_t k = (size_t)(op - opts);
        if (!cleared[k]) {
            list_fini(l);
            cleared[k] = (op->use & VT_OPT_ADD) != 0;
        }
        l->set = 1;
        if (inline_value)
            list_add(l, inline_value);
        while (*i < argc && !is_option(argv[*i]))
            list_add(l, argv[(*i)++]);
        return VT_OK;
    }
    if (op->kind == K_HELP || op->kind == K_VERSION) {
        *(int *)((char *)o + op->offset) = 1;
        return VT_OK;
    }
    if (op->kind == K_PYTHON) {
        if (inline_value)
            return fail(VT_ERR_USAGE, msg, msglen, "option --python takes no value");
        vt_cli_parse_python(o, argc - *i, argv + *i);
        *done = 1;
        return VT_OK;
    }
    const char *value = inline_value;
    if (value == NULL) {
        if (*i >= argc)
            return fail(VT_ERR_USAGE, msg, msglen, "option --%s needs a value", op->name);
        value = argv[(*i)++];
    }
    if (op->kind == K_RCFILE)
        return VT_OK; /* read before the command line */
    if (op->kind == K_CMD || op->kind == K_MODULE) {
        if (p->run != VT_CLI_RUN_NONE)
            return fail(VT_ERR_USAGE, msg, msglen,
                        "argument -%c: the program is already given; put -- before its "
                        "own arguments",
                        op->shortname);
        p->run = op->kind == K_CMD ? VT_CLI_RUN_STRING : VT_CLI_RUN_MODULE;
        p->target = value;
        return VT_OK;
    }
    return set_value(o, op, value, msg, msglen);
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
    /* As VizTracer (argparse's parse_known_args): viztracer's own options
     * are read anywhere up to "--" or "--run"; the first other token is the
     * script, and the other tokens, unknown options among them, are its
     * arguments in their order. The command-line lists replace the
     * rcfile's: those that add up are cleared at their first occurrence,
     * the others at each. */
    unsigned char cleared[NOPTS] = {0};
    struct prog p = {VT_CLI_RUN_NONE, NULL, NULL, 0};
    int i = 1, done = 0;
    while (i < argc && !done && err == VT_OK) {
        const char *a = argv[i];
        if (strcmp(a, "--") == 0 || strcmp(a, "--run") == 0) {
            for (i++; i < argc; i++) {
                if (p.run == VT_CLI_RUN_NONE) {
                    p.run = VT_CLI_RUN_SCRIPT;
                    p.target = argv[i];
                } else {
                    prog_add(&p, argv[i]);
                }
            }
            break;
        }
        i++;
        if (!is_option(a)) {
            if (p.run == VT_CLI_RUN_NONE) {
                p.run = VT_CLI_RUN_SCRIPT;
                p.target = a;
            } else {
                prog_add(&p, a);
            }
            continue;
        }
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
        /* Once the program is known, what viztracer does not know is the
         * program's, and so are the options viztracer sets for its
         * children, which only ever come first. */
        if (p.run != VT_CLI_RUN_NONE && (op == NULL || (op->use & VT_OPT_LEAD))) {
            prog_add(&p, a);
            continue;
        }
        if (op == NULL)
            err = fail(VT_ERR_USAGE, msg, msglen, "unrecognized option: %s", a);
        else
            err = take_option(o, &p, op, inline_value, argc, argv, &i, cleared, &done, msg, msglen);
    }
    if (err == VT_OK && !done && p.run != VT_CLI_RUN_NONE && !o->help && !o->version)
        set_command(o, p.run, p.target, p.n, (char *const *)p.args,
                    p.run == VT_CLI_RUN_STRING ? "-c" : p.target);
    free(p.args);
    if (err != VT_OK || done || o->help || o->version)
        return err;
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
        if (opts[i].kind == K_NONE)
            continue;
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
        if (!(op->use & VT_OPT_CHILD))
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
        default:
            break; /* not passed on: the use bits say so too */
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

/* ---- VizTracer()'s keywords ------------------------------------------ */

enum vt_err
vt_cli_kwargs(const struct vt_options *o, unsigned to, const char *output, vt_cli_kwarg_fn fn,
              void *ctx)
{
    const char *base = (const char *)o;
    /* For the attached process, constant values are part of what it gets. */
    unsigned also = to == VT_OPT_ATTACH ? VT_OPT_ATTACH_OFF | VT_OPT_ATTACH_ON : 0;
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *op = &opts[i];
        if (!(op->use & (to | also)))
            continue;
        struct vt_cli_value v = {VT_CLI_V_BOOL, 0, 0, NULL, NULL};
        if (op->use & also & VT_OPT_ATTACH_OFF) {
            v.i = 0;
        } else if (op->use & also & VT_OPT_ATTACH_ON) {
            v.i = 1;
        } else if (op->use & VT_OPT_NOT_QUIET) {
            v.type = VT_CLI_V_INT;
            v.i = o->quiet ? 0 : 1;
        } else if (op->use & VT_OPT_OUTPUT) {
            v.type = VT_CLI_V_STR;
            v.s = output;
        } else {
            switch (op->kind) {
            case K_FLAG:
                v.i = *(const int *)(base + op->offset) != 0;
                break;
            case K_INT:
                v.type = VT_CLI_V_INT;
                v.i = *(const long *)(base + op->offset);
                break;
            case K_LLONG:
                v.type = VT_CLI_V_INT;
                v.i = *(const long long *)(base + op->offset);
                break;
            case K_DURATION:
            case K_SECONDS:
                v.type = VT_CLI_V_FLOAT;
                memcpy(&v.f, base + op->offset, sizeof(v.f));
                break;
            case K_STR:
                v.type = VT_CLI_V_STR;
                v.s = *(char *const *)(base + op->offset);
                break;
            case K_LIST:
                v.type = VT_CLI_V_LIST;
                v.list = (const struct vt_cli_list *)(base + op->offset);
                break;
            default:
                continue; /* cannot happen: no such use in options.h */
            }
        }
        enum vt_err err = fn(ctx, op->name, &v);
        if (err != VT_OK)
            return err;
    }
    return VT_OK;
}

int
vt_cli_instrumented(const struct vt_options *o)
{
    const char *base = (const char *)o;
    for (size_t i = 0; i < NOPTS; i++) {
        const struct opt *op = &opts[i];
        if (!(op->use & VT_OPT_INSTR))
            continue;
        if (op->kind == K_LIST && ((const struct vt_cli_list *)(base + op->offset))->n > 0)
            return 1;
        if (op->kind == K_FLAG && *(const int *)(base + op->offset))
            return 1;
    }
    return 0;
}
