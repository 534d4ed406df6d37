/* main.c: viztracer's entry point: parse -> check -> embed and run -> exit.
 *
 * The only place that picks an exit status. Everything that can be checked
 * before the program runs is checked here (the script exists, the output
 * type is known and its folder writable), so a long run is never lost to a
 * typo in -o.
 */
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>
#include <unistd.h>

#include "../tracer/base/buf.h"
#include "../tracer/base/fs.h"
#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"
#include "../tracer/tracer.h"
#include "../tracer/format/format.h"
#include "../tracer/shm.h"
#include "attach.h"
#include "cli.h"
#include "embed.h"
#include "interp.h"
#include "pylib.h"

/* vizviewer and vdb are the same executable, chosen by the name it is called
 * by or by a first argument "view" / "vdb". Each part is dispatched to once
 * it exists in the tree. */
#if __has_include("../viewer/viewer.h")
#include "../viewer/viewer.h"
#define VT_HAVE_VIEWER 1
#endif
#if __has_include("../vdb/vdb.h")
#include "../vdb/vdb.h"
#define VT_HAVE_VDB 1
#endif

static int
is_file(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode);
}

/* The script as given (a file, or a directory with __main__.py as python3
 * runs it), or found on PATH (console scripts such as `flask`). Returns an
 * owned path or NULL. */
static char *
find_script(const char *name)
{
    struct stat st;
    if (is_file(name) || (stat(name, &st) == 0 && S_ISDIR(st.st_mode)))
        return vt_xstrdup(name);
    if (strchr(name, '/'))
        return NULL;
    const char *path = getenv("PATH");
    if (path == NULL)
        return NULL;
    char *copy = vt_xstrdup(path);
    char *save = NULL;
    char *found = NULL;
    for (char *dir = strtok_r(copy, ":", &save); dir && !found; dir = strtok_r(NULL, ":", &save)) {
        struct vt_buf b;
        vt_buf_init(&b, PATH_MAX);
        if (vt_buf_printf(&b, "%s/%s", *dir ? dir : ".", name) == VT_OK && is_file(b.data))
            found = vt_buf_take(&b, NULL);
        vt_buf_fini(&b);
    }
    free(copy);
    return found;
}

static int
ends_with(const char *s, const char *tail)
{
    size_t n = strlen(s), k = strlen(tail);
    return n > k && strcmp(s + n - k, tail) == 0;
}

/* A trace file's name: what vizviewer opens, not a program. */
static int
is_trace(const char *name)
{
    return ends_with(name, ".json") || ends_with(name, ".json.gz") || ends_with(name, ".vzt");
}

static const char *
base_name(const char *path)
{
    const char *s = strrchr(path, '/');
    return s ? s + 1 : path;
}

/* The output path from -o, -u, --output_dir. Returns an owned string. */
static char *
output_path(const struct vt_options *o)
{
    struct vt_buf b;
    vt_buf_init(&b, PATH_MAX);
    if (o->output_dir)
        vt_buf_printf(&b, "%s/", o->output_dir);
    if (o->unique_output_file) {
        const char *stem = o->run == VT_CLI_RUN_SCRIPT   ? base_name(o->target)
                           : o->run == VT_CLI_RUN_MODULE ? o->target
                                                         : "python";
        const char *dot = strrchr(stem, '.');
        int len = dot && o->run == VT_CLI_RUN_SCRIPT ? (int)(dot - stem) : (int)strlen(stem);
        time_t now = time(NULL);
        struct tm tm;
        localtime_r(&now, &tm);
        char when[32];
        strftime(when, sizeof(when), "%Y%m%d_%H%M%S", &tm);
        vt_buf_printf(&b, "%.*s_%s_%ld.json", len, stem, when, (long)getpid());
    } else {
        vt_buf_adds(&b, o->output_file ? o->output_file : "result.json");
    }
    return vt_buf_take(&b, NULL);
}

/* path made absolute, so that a program that changes its folder still
 * writes where the user asked (VizTracer: its output path is absolute from
 * the start). Takes and returns an owned string. */
static char *
absolute(char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return path;
    struct vt_buf b;
    vt_buf_init(&b, PATH_MAX);
    if (vt_buf_printf(&b, "%s%s%s", cwd, strcmp(cwd, "/") == 0 ? "" : "/", path) != VT_OK) {
        vt_buf_fini(&b);
        return path; /* longer than a path can be: left as given */
    }
    free(path);
    return vt_buf_take(&b, NULL);
}

#ifdef VT_HAVE_VIEWER
/* The tracer's HTML writer: the viewer's page with the trace inline. */
static int
write_html(const char *json_path, const char *html_path, char *msg, size_t msglen)
{
    int errnum = 0;
    enum vt_err err = vt_viewer_write_html(json_path, html_path, &errnum, msg, msglen);
    if (err == VT_OK)
        return 0;
    if (err == VT_ERR_TOOBIG && msg[0] != '\0')
        return -1; /* msg says where the trace is kept instead */
    snprintf(msg, msglen, "cannot write %s: %s", html_path,
             errnum ? strerror(errnum) : vt_strerror(err));
    return -1;
}
#endif

/* Checks that the output's kind is one we write and that its folder exists
 * (creating it) and is writable. Returns VT_OK, or VT_ERR_FORMAT or
 * VT_ERR_IO after printing why. */
static enum vt_err
check_output(const char *path)
{
    enum vt_writer_format fmt;
#ifdef VT_HAVE_VIEWER
    if (!vt_fs_is_html(path) && vt_writer_format_of(path, &fmt) != VT_OK) {
        printf("Only html, json and gz are supported: %s\n", path); /* stdout, as VizTracer */
        fflush(stdout);
        return VT_ERR_FORMAT;
    }
#else
    if (vt_writer_format_of(path, &fmt) != VT_OK || vt_fs_is_html(path)) {
        printf("Only json and gz are supported: %s\n", path);
        fflush(stdout);
        return VT_ERR_FORMAT;
    }
#endif
    char *dir = vt_xstrdup(path);
    char *slash = strrchr(dir, '/');
    if (slash == NULL) {
        free(dir);
        dir = vt_xstrdup(".");
    } else if (slash == dir) {
        slash[1] = '\0';
    } else {
        *slash = '\0';
    }
    enum vt_err err = VT_OK;
    struct stat st;
    if (vt_fs_mkdirs(dir, NULL) != VT_OK || stat(dir, &st) != 0 || access(dir, W_OK) != 0) {
        vt_log_error("viztracer: cannot write %s: %s", path, strerror(errno));
        err = VT_ERR_IO;
    } else if (!S_ISDIR(st.st_mode)) {
        vt_log_error("viztracer: cannot write %s: %s", path, strerror(ENOTDIR));
        err = VT_ERR_IO;
    }
    free(dir);
    return err;
}

/* --combine / --align_combine: merge saved traces into the output; no
 * program runs. Frees o's contents. Returns the exit status. */
static int
run_combine(struct vt_options *o)
{
    int align = o->combine.n == 0;
    const struct vt_cli_list *files = align ? &o->align_combine : &o->combine;
    char *output = output_path(o);
    int status = 1;
    if (check_output(output) == VT_OK) {
        vt_tracer_html_fn html = NULL;
#ifdef VT_HAVE_VIEWER
        html = write_html;
#endif
        status =
            vt_merge_run(files->items, files->n, align, output, html, o->quiet) == VT_OK ? 0 : 1;
    }
    free(output);
    vt_cli_options_fini(o);
    return status;
}

/* --compress / --decompress: one trace file to or from the .vzt form; no
 * program runs. Frees o's contents. Returns the exit status. */
static int
run_compress(struct vt_options *o)
{
    int decompress = o->compress == NULL;
    const char *input = decompress ? o->decompress : o->compress;
    const char *output =
        o->output_file ? o->output_file : (decompress ? "result.json" : "result.vzt");
    int status = vt_vzt_run(decompress, input, output, o->quiet) == VT_OK ? 0 : 1;
    vt_cli_options_fini(o);
    return status;
}

/* A child's python3 command line that we cannot run traced (reading the
 * program from stdin, -i, -x...): python3 runs it as it would have without
 * us. Returns only when that fails (exit status 1). */
static int
run_untraced_python(struct vt_options *o)
{
    int n = 0;
    while (o->python_argv[n])
        n++;
    char **argv = vt_xcalloc((size_t)n + 2, sizeof(char *));
    char exe[PATH_MAX];
    argv[0] = (char *)vt_embed_python_executable(exe, sizeof(exe));
    for (int i = 0; i < n; i++)
        argv[i + 1] = o->python_argv[i];
    execv(argv[0], argv);
    vt_log_error("viztracer: cannot run %s: %s", argv[0], strerror(errno));
    free(argv);
    vt_cli_options_fini(o);
    return 1;
}

/* --attach / --attach_installed / --uninstall: work on a running process.
 * Frees o's contents. Returns the exit status. */
static int
run_attach(struct vt_options *o)
{
    char *output = output_path(o);
    int status = 1;
    /* Only --attach writes the report; the target saves with its own
     * VizTracer, which writes JSON only. */
    int bad = o->attach >= 0 && vt_fs_is_html(output);
    if (bad)
        vt_log_error("viztracer: an attached process writes .json or .json.gz, not %s", output);
    if (!bad && (o->attach < 0 || check_output(output) == VT_OK))
        status = vt_attach_main(o, output);
    free(output);
    vt_cli_options_fini(o);
    return status;
}

/* --snapshot PID: the newest events of a running traced process, read from
 * its shared area (tracer/shm.h) without stopping it. Frees o's contents. */
static int
run_snapshot(struct vt_options *o)
{
    char *output = output_path(o);
    int status = 1;
    enum vt_writer_format fmt;
    if (vt_writer_format_of(output, &fmt) != VT_OK) {
        vt_log_error("viztracer: --snapshot writes .json or .json.gz, not %s", output);
    } else if (check_output(output) == VT_OK) {
        struct vt_shm_stats st;
        char msg[512];
        if (vt_shm_snapshot(o->snapshot, output, &st, msg, sizeof(msg)) != VT_OK) {
            vt_log_error("viztracer: %s", msg);
        } else {
            status = 0;
            if (!o->quiet)
                vt_format_print_summary(output, st.events);
        }
    }
    free(output);
    vt_cli_options_fini(o);
    return status;
}

/* Returns 1 and sets *status when argv names another tool of this executable. */
static int
dispatch(int argc, char **argv, int *status)
{
    const char *self = base_name(argv[0]);
    (void)self;
    (void)argc;
    (void)status;
#ifdef VT_HAVE_VIEWER
    if (strcmp(self, "vizviewer") == 0) {
        *status = vt_viewer_main(argc, argv);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "view") == 0) {
        *status = vt_viewer_main(argc - 1, argv + 1);
        return 1;
    }
#endif
#ifdef VT_HAVE_VDB
    if (strcmp(self, "vdb") == 0) {
        *status = vt_vdb_main(argc, argv);
        return 1;
    }
    if (argc > 1 && strcmp(argv[1], "vdb") == 0) {
        *status = vt_vdb_main(argc - 1, argv + 1);
        return 1;
    }
#endif
    return 0;
}

int
main(int argc, char **argv)
{
    struct vt_options o;
    char msg[512];
    int tool_status;
    if (dispatch(argc, argv, &tool_status))
        return tool_status;
    vt_cli_options_init(&o);
    if (argc < 2) {
        vt_cli_print_help();
        return 0;
    }
    enum vt_err err = vt_cli_parse(&o, argc, argv, msg, sizeof(msg));
    if (err != VT_OK) {
        vt_log_error("viztracer: %s", msg);
        vt_cli_options_fini(&o);
        return err == VT_ERR_USAGE ? 2 : 1;
    }
    if ((o.log_multiprocess || o.log_subprocess) && !vt_interp_chosen()) {
        /* VizTracer's words and stream (its color_print: stdout, any --quiet);
         * once, by the launcher the user ran, before it execs another build. */
        int color = isatty(STDOUT_FILENO);
        printf("%s--log_multiprocess and --log_subprocess are no longer needed to trace "
               "multi-process program%s\n",
               color ? "\033[93m" : "", color ? "\033[0m" : "");
        fflush(stdout);
    }
    if (o.version) {
        printf("%s\n", VT_VERSION);
        vt_cli_options_fini(&o);
        return 0;
    }
    if (!o.help && (o.attach >= 0 || o.attach_installed >= 0 || o.uninstall >= 0))
        return run_attach(&o);
    if (!o.help && o.snapshot >= 0)
        return run_snapshot(&o);
    if (!o.help && (o.combine.n > 0 || o.align_combine.n > 0))
        return run_combine(&o);
    if (!o.help && (o.compress != NULL || o.decompress != NULL))
        return run_compress(&o);
    if (o.python_unsupported)
        return run_untraced_python(&o);
    if (o.subprocess_child)
        o.quiet = 1; /* a child's output is the program's own */
    if (o.help || o.run == VT_CLI_RUN_NONE) {
        vt_cli_print_help();
        vt_cli_options_fini(&o);
        return 0;
    }
    /* The environment's interpreter, when it is another version, runs the
     * program through its own build; a traced child runs the build its
     * parent chose. */
    if (o.subprocess_child == NULL && vt_interp_dispatch(argv) != VT_OK) {
        vt_cli_options_fini(&o);
        return 1;
    }
    char *script = NULL;
    if (o.run == VT_CLI_RUN_SCRIPT && o.python_argv) {
        /* A child's python3 command line: python3's lookup and message. */
        struct stat st;
        if (stat(o.target, &st) != 0) {
            int errnum = errno;
            char cwd[PATH_MAX], exe[PATH_MAX];
            int rel = o.target[0] != '/' && getcwd(cwd, sizeof(cwd)) != NULL;
            vt_log_error("%s: can't open file '%s%s%s': [Errno %d] %s",
                         vt_embed_python_executable(exe, sizeof(exe)), rel ? cwd : "",
                         rel ? "/" : "", o.target, errnum, strerror(errnum));
            vt_cli_options_fini(&o);
            return 2;
        }
        script = vt_xstrdup(o.target);
    } else if (o.run == VT_CLI_RUN_SCRIPT) {
        /* VizTracer's order and words, on stdout as VizTracer prints them:
         * a missing file first, then a trace given as the program. */
        script = find_script(o.target);
        const char *msg_fmt = script == NULL       ? "No such file as %s\n"
                              : is_trace(o.target) ? "viztracer can't run json file, did you mean "
                                                     "\"vizviewer %s\"?\n"
                                                   : NULL;
        if (msg_fmt) {
            printf(msg_fmt, o.target);
            fflush(stdout);
            free(script);
            vt_cli_options_fini(&o);
            return 1;
        }
    }
    char *output = output_path(&o);
    /* A child saves into its parent's folder; its own -o is never written. */
    if (o.subprocess_child == NULL && check_output(output) != VT_OK) {
        free(output);
        free(script);
        vt_cli_options_fini(&o);
        return 1;
    }
    if (o.subprocess_child == NULL)
        vt_pylib_warn_if_changed(); /* once: a traced child would repeat it */
    output = absolute(output);
#ifdef VT_HAVE_VIEWER
    vt_tracer_set_html_writer(write_html);
#endif
    int signo = 0;
    vt_tracer_html_fn html = NULL;
#ifdef VT_HAVE_VIEWER
    html = write_html;
#endif
    int status = vt_embed_run(&o, script, output, html, &signo);
#ifdef VT_HAVE_VIEWER
    /* --open: after the save, serve the report once and open the browser. */
    if (o.open && signo == 0 && access(output, R_OK) == 0) {
        int st = vt_viewer_open_once(output);
        if (status == 0)
            status = st;
    }
#endif
    free(output);
    free(script);
    vt_cli_options_fini(&o);
    if (signo) {
        /* Killed by signo (SIGINT, SIGTERM) with the trace saved: die by it,
         * as python3 would have, so shells and parents see the signal. */
        fflush(NULL);
        signal(signo, SIG_DFL);
        sigset_t set;
        sigemptyset(&set);
        sigaddset(&set, signo);
        sigprocmask(SIG_UNBLOCK, &set, NULL);
        kill(getpid(), signo);
    }
    return status;
}
