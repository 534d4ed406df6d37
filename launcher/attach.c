/* attach.c: remote attach, the launcher's side; see attach.h.
 *
 * --attach PID: check the pid -> a private temp folder holding a copy of
 * viztracer/_attach_step.py and the step's call -> make the target run one
 * statement that runs that file (launcher/inject.c, through ptrace) -> wait
 * for the target's one-line answer in the folder -> wait -t seconds or for
 * Ctrl+C -> the same for the stop step. --uninstall is one step;
 * --attach_installed sends SIGUSR1 and SIGUSR2 and injects nothing.
 *
 * Sections: pure helpers (unit-tested), temp folder and steps, injection,
 * waiting, the three modes.
 */
#include "attach.h"

#include <cjson/cJSON.h>
#include <errno.h>
#include <limits.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/types.h>
#include <time.h>
#include <unistd.h>

#include "../tracer/base/buf.h"
#include "../tracer/base/fs.h"
#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"
#include "embed.h"
#include "inject.h"

/* Seconds the target may take to answer: the start step runs at once or at
 * the main thread's next bytecode; the stop step also writes the report. */
#define START_TIMEOUT 15.0
#define STOP_TIMEOUT 120.0

/* ---- pure helpers ------------------------------------------------------ */

char *
vt_attach_b64(const void *data, size_t len)
{
    static const char abc[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789-_";
    const unsigned char *p = data;
    char *out = vt_xmalloc((len + 2) / 3 * 4 + 1);
    size_t o = 0;
    for (size_t i = 0; i < len; i += 3) {
        unsigned long v = (unsigned long)p[i] << 16;
        if (i + 1 < len)
            v |= (unsigned long)p[i + 1] << 8;
        if (i + 2 < len)
            v |= p[i + 2];
        out[o++] = abc[(v >> 18) & 63];
        out[o++] = abc[(v >> 12) & 63];
        out[o++] = i + 1 < len ? abc[(v >> 6) & 63] : '=';
        out[o++] = i + 2 < len ? abc[v & 63] : '=';
    }
    out[o] = '\0';
    return out;
}

/* cJSON returns NULL when out of memory; like vt_xmalloc, we stop there. */
static void
oom(void)
{
    vt_log_error("viztracer: out of memory");
    abort();
}

/* One keyword of vt_cli_kwargs() into the JSON object ctx. */
static enum vt_err
add_kwarg(void *ctx, const char *name, const struct vt_cli_value *v)
{
    cJSON *kw = ctx;
    cJSON *item = NULL;
    switch (v->type) {
    case VT_CLI_V_BOOL:
        item = cJSON_AddBoolToObject(kw, name, v->i != 0);
        break;
    case VT_CLI_V_INT:
        item = cJSON_AddNumberToObject(kw, name, (double)v->i);
        break;
    case VT_CLI_V_FLOAT:
        item = cJSON_AddNumberToObject(kw, name, v->f);
        break;
    case VT_CLI_V_STR:
        item = v->s ? cJSON_AddStringToObject(kw, name, v->s) : cJSON_AddNullToObject(kw, name);
        break;
    case VT_CLI_V_LIST:
        if (!v->list->set) {
            item = cJSON_AddNullToObject(kw, name);
            break;
        }
        item = cJSON_AddArrayToObject(kw, name);
        for (size_t i = 0; item && i < v->list->n; i++)
            cJSON_AddItemToArray(item, cJSON_CreateString(v->list->items[i]));
        break;
    }
    if (item == NULL)
        oom();
    return VT_OK;
}

char *
vt_attach_kwargs(const struct vt_options *o, const char *output)
{
    /* Only keywords both our VizTracer() and VizTracer's accept, so a target
     * that imports the other project's viztracer works too (VT_OPT_ATTACH in
     * tracer/options.h). */
    cJSON *kw = cJSON_CreateObject();
    if (kw == NULL)
        oom();
    vt_cli_kwargs(o, VT_OPT_ATTACH, output, add_kwarg, kw); /* add_kwarg can't fail */
    char *text = cJSON_PrintUnformatted(kw);
    cJSON_Delete(kw);
    if (text == NULL)
        oom();
    return text;
}

int
vt_attach_sig_caught(const char *status, int signo)
{
    const char *line = strstr(status, "\nSigCgt:");
    if (line == NULL || signo < 1 || signo > 64)
        return -1;
    char *end;
    errno = 0;
    unsigned long long mask = strtoull(line + 8, &end, 16);
    if (end == line + 8 || errno != 0)
        return -1;
    return (mask >> (signo - 1)) & 1u;
}

/* ---- temp folder and steps --------------------------------------------- */

/* Set by SIGINT and SIGTERM while attached: stop and save now. */
static volatile sig_atomic_t interrupted;

static void
on_signal(int signo)
{
    (void)signo;
    interrupted = 1;
}

/* Whether s can go inside a Python string literal as it is. */
static int
plain_path(const char *s)
{
    for (; *s; s++)
        if (!strchr("abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUVWXYZ0123456789/_.-+", *s))
            return 0;
    return 1;
}

/* One attach session's folder: the step files (ours) and the answers (the
 * target's). */
struct session {
    long pid;                   /* the target */
    char dir[PATH_MAX];         /* the temp folder, or "" */
    struct vt_inject_keep keep; /* the target's copy of a queued statement, to unmap */
};

/* Writes text into path. Returns VT_OK or VT_ERR_IO (message printed). */
static enum vt_err
write_text(const char *path, const char *text)
{
    FILE *f = fopen(path, "w");
    if (f == NULL) {
        vt_log_errno("viztracer: cannot write", path, errno);
        return VT_ERR_IO;
    }
    int bad = fputs(text, f) < 0;
    bad |= fclose(f) != 0;
    if (bad) {
        vt_log_errno("viztracer: cannot write", path, errno);
        return VT_ERR_IO;
    }
    return VT_OK;
}

/* Copies viztracer/_attach_step.py, which runs each step in the target, to
 * <dir>/step.py: a file the target can read, at a path that needs no
 * quoting. Returns VT_OK, or an error after printing it. */
static enum vt_err
copy_step_runner(const struct session *s)
{
    char glue[PATH_MAX], src[PATH_MAX + 32], dst[PATH_MAX + 32];
    enum vt_err err = vt_embed_find_glue(glue, sizeof(glue));
    if (err != VT_OK) {
        vt_log_error("viztracer: the viztracer Python package is not beside this executable");
        return err;
    }
    snprintf(src, sizeof(src), "%s/_attach_step.py", glue);
    snprintf(dst, sizeof(dst), "%s/step.py", s->dir);
    FILE *f = fopen(src, "r");
    if (f == NULL) {
        vt_log_errno("viztracer: cannot read", src, errno);
        return VT_ERR_IO;
    }
    struct vt_buf b;
    vt_buf_init(&b, 1u << 20);
    char chunk[4096];
    size_t got;
    while (err == VT_OK && (got = fread(chunk, 1, sizeof(chunk), f)) > 0)
        err = vt_buf_add(&b, chunk, got);
    if (err == VT_OK && ferror(f))
        err = VT_ERR_IO;
    fclose(f);
    if (err != VT_OK)
        vt_log_error("viztracer: cannot read %s: %s", src, vt_strerror(err));
    else
        err = write_text(dst, b.data ? b.data : "");
    vt_buf_fini(&b);
    return err;
}

/* Creates the folder, owned by the target's user when we are root, so that
 * the target can write its answers there, with the step runner in it.
 * Returns VT_OK, or an error after printing it (session_close() cleans up). */
static enum vt_err
session_open(struct session *s, long pid)
{
    s->pid = pid;
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0' || !plain_path(tmp) || strlen(tmp) > PATH_MAX - 64)
        tmp = "/tmp";
    snprintf(s->dir, sizeof(s->dir), "%s/viztracer-attach-XXXXXX", tmp);
    if (mkdtemp(s->dir) == NULL) {
        vt_log_errno("viztracer: cannot create", s->dir, errno);
        s->dir[0] = '\0';
        return VT_ERR_IO;
    }
    char proc[64];
    snprintf(proc, sizeof(proc), "/proc/%ld", pid);
    struct stat st;
    if (geteuid() == 0 && stat(proc, &st) == 0 && st.st_uid != 0 &&
        chown(s->dir, st.st_uid, (gid_t)-1) != 0) {
        vt_log_errno("viztracer: cannot chown", s->dir, errno);
        return VT_ERR_IO;
    }
    return copy_step_runner(s);
}

/* Removes the folder and what the steps left in it. */
static void
session_close(struct session *s)
{
    static const char *const names[] = {"start", "stop", "uninstall"};
    static const char *const exts[] = {".call", ".answer", ".answer.tmp"};
    char path[PATH_MAX + 32];
    if (s->dir[0] == '\0')
        return;
    snprintf(path, sizeof(path), "%s/step.py", s->dir);
    unlink(path);
    for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++)
        for (size_t j = 0; j < sizeof(exts) / sizeof(exts[0]); j++) {
            snprintf(path, sizeof(path), "%s/%s%s", s->dir, names[i], exts[j]);
            unlink(path);
        }
    rmdir(s->dir);
    s->dir[0] = '\0';
}

/* Writes <dir>/<step>.call, what viztracer/_attach_step.py is to call in
 * the target: call, a function of viztracer.attach and its arguments, one
 * word a line. Returns VT_OK or VT_ERR_IO (message printed). */
static enum vt_err
write_step(const struct session *s, const char *step, const char *call)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s.call", s->dir, step);
    return write_text(path, call);
}

/* ---- injection ---------------------------------------------------------- */

/* Makes the target run step (write_step() wrote it): one statement that
 * runs <dir>/step.py (viztracer/_attach_step.py), which never raises; paths
 * are plain_path() so they need no quoting. launcher/inject.c decides how
 * the main thread runs it (at once, or queued for its next bytecode when it
 * holds the GIL) and leaves the target as it was whatever happens. Returns
 * VT_OK, or VT_ERR_STATE after printing one line. */
static enum vt_err
inject(struct session *s, const char *step)
{
    char code[PATH_MAX * 2 + 128];
    snprintf(code, sizeof(code), "__import__('runpy').run_path('%s/step.py')['run']('%s', '%s')",
             s->dir, s->dir, step);
    struct vt_inject_result res;
    if (vt_inject_python(s->pid, code, &res) == VT_OK) {
        s->keep = res.keep;
        return VT_OK;
    }
    long pid = s->pid;
    switch (res.outcome) {
    case VT_INJECT_NOPERM:
        vt_log_error("viztracer: cannot attach to pid %ld: ptrace is not permitted (it needs the "
                     "same user and kernel.yama.ptrace_scope 0, or root)",
                     pid);
        break;
    case VT_INJECT_NOPROC:
        vt_log_error("pid %ld does not exist!", pid);
        break;
    case VT_INJECT_NOTPYTHON:
        vt_log_error("viztracer: pid %ld is not a Python process (no Python C API in its "
                     "executable or libpython)",
                     pid);
        break;
    case VT_INJECT_STOPPED:
        vt_log_error("viztracer: pid %ld is stopped; let it continue first (kill -CONT %ld)", pid,
                     pid);
        break;
    case VT_INJECT_BUSY:
        vt_log_error("viztracer: pid %ld: its main thread runs outside Python without ever "
                     "blocking, where no code may be injected; try again",
                     pid);
        break;
    case VT_INJECT_FAULT:
        vt_log_error("viztracer: Failed to inject code: the call got %s in pid %ld, which goes "
                     "on as before",
                     strsignal(res.signo), pid);
        break;
    case VT_INJECT_CALLFAIL:
        vt_log_error("viztracer: Failed to inject code: the Python C API call failed in pid %ld",
                     pid);
        break;
    case VT_INJECT_UNSUPPORTED:
        vt_log_error("viztracer: cannot attach to pid %ld: attaching works on x86-64 Linux, "
                     "to 64-bit processes only",
                     pid);
        break;
    default:
        vt_log_error("viztracer: Failed to inject code into pid %ld: %s: %s", pid, res.why,
                     strerror(res.errnum));
        break;
    }
    return VT_ERR_STATE;
}

/* ---- waiting ------------------------------------------------------------ */

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int
pid_alive(long pid)
{
    if (kill((pid_t)pid, 0) != 0 && errno != EPERM)
        return 0;
    /* A zombie (its parent has not waited for it yet) has exited too; no
     * /proc: kill() is all we know. */
    char state = vt_fs_proc_state(pid, NULL);
    return state != 'Z' && state != 'X';
}

static void
nap_ms(long ms)
{
    struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};
    nanosleep(&ts, NULL); /* a signal ends it early: the callers loop */
}

/* Waits up to seconds for the answer of step and copies its line into ans.
 * Returns VT_OK, VT_ERR_TIMEOUT, or VT_ERR_GONE when the target exited. */
static enum vt_err
wait_answer(const struct session *s, const char *step, double seconds, char *ans, size_t len)
{
    char path[PATH_MAX + 32];
    snprintf(path, sizeof(path), "%s/%s.answer", s->dir, step);
    double deadline = now_s() + seconds;
    for (;;) {
        FILE *f = fopen(path, "r");
        if (f) {
            if (fgets(ans, (int)len, f) == NULL)
                ans[0] = '\0';
            fclose(f);
            ans[strcspn(ans, "\n")] = '\0';
            return VT_OK;
        }
        if (!pid_alive(s->pid))
            return VT_ERR_GONE;
        if (now_s() > deadline)
            return VT_ERR_TIMEOUT;
        nap_ms(20);
    }
}

/* Prints the "Attach success" line, then waits -t seconds or for Ctrl+C.
 * Returns VT_OK, or VT_ERR_GONE when the target exited meanwhile (message
 * printed). */
static enum vt_err
wait_collect(const struct vt_options *o, long pid)
{
    if (o->t > 0)
        printf("Attach success, collect trace after %gs\n", o->t);
    else
        printf("Attach success, press CTRL+C to stop and save report\n");
    fflush(stdout);
    double deadline = now_s() + (o->t > 0 ? o->t : 0);
    while (!interrupted && (o->t <= 0 || now_s() < deadline)) {
        if (!pid_alive(pid)) {
            vt_log_error("viztracer: pid %ld exited before the trace was saved", pid);
            return VT_ERR_GONE;
        }
        nap_ms(50);
    }
    return VT_OK;
}

/* Reports a step's answer other than "ok" (err: how waiting for it ended)
 * in one line. */
static void
report_answer(long pid, const char *step, enum vt_err err, const char *ans)
{
    if (err == VT_ERR_GONE)
        vt_log_error("viztracer: pid %ld exited", pid);
    else if (err != VT_OK)
        vt_log_error("viztracer: pid %ld did not answer (%s); if its main thread runs Python "
                     "again later, `viztracer --uninstall %ld` removes the tracer",
                     pid, step, pid);
    else if (strstr(ans, "error ModuleNotFoundError") || strstr(ans, "error ImportError"))
        vt_log_error("viztracer: pid %ld cannot import viztracer (%s); start it with "
                     "PYTHONPATH set to the folder that holds viztracer/",
                     pid, ans + 6);
    else if (strncmp(ans, "error ", 6) == 0)
        vt_log_error("viztracer: %s in pid %ld failed: %s", step, pid, ans + 6);
    else
        vt_log_error("viztracer: %s in pid %ld failed: unexpected answer '%s'", step, pid, ans);
}

/* Runs one step in the target: write it, inject it, wait for the answer
 * (copied into ans). Returns VT_OK when the answer came (ans may still be
 * "refused"), or an error after printing why not. */
static enum vt_err
run_step(struct session *s, const char *step, const char *call, double timeout, char *ans,
         size_t len)
{
    enum vt_err err = write_step(s, step, call);
    if (err != VT_OK)
        return err;
    err = inject(s, step);
    if (err != VT_OK)
        return err;
    err = wait_answer(s, step, timeout, ans, len);
    /* The queued statement has run (or never will): its copy goes. Not
     * after a timeout, when the pending call may still read it. */
    if (err != VT_ERR_TIMEOUT)
        vt_inject_release(s->pid, &s->keep);
    if (err == VT_OK && strncmp(ans, "error ", 6) != 0)
        return VT_OK;
    report_answer(s->pid, step, err, ans);
    return err != VT_OK ? err : VT_ERR_PYTHON;
}

/* ---- the three modes ---------------------------------------------------- */

/* Returns VT_OK, or VT_ERR_GONE after printing that pid does not exist. */
static enum vt_err
check_pid(long pid)
{
    if (pid <= 0 || !pid_alive(pid)) {
        vt_log_error("pid %ld does not exist!", pid);
        return VT_ERR_GONE;
    }
    return VT_OK;
}

static void
catch_stop_signals(void)
{
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal; /* no SA_RESTART: sleeps end at once */
    sigemptyset(&sa.sa_mask);
    sigaction(SIGINT, &sa, NULL);
    sigaction(SIGTERM, &sa, NULL);
}

/* The report path as the target must see it: absolute, since its working
 * folder is not ours. Returns an owned string. */
static char *
absolute(const char *path)
{
    char cwd[PATH_MAX];
    if (path[0] == '/' || getcwd(cwd, sizeof(cwd)) == NULL)
        return vt_xstrdup(path);
    struct vt_buf b;
    vt_buf_init(&b, (size_t)2 * PATH_MAX);
    vt_buf_printf(&b, "%s/%s", cwd, path);
    return vt_buf_take(&b, NULL);
}

static int
attach(const struct vt_options *o, const char *output)
{
    long pid = o->attach;
    if (check_pid(pid) != VT_OK)
        return 1;
    struct session s = {0};
    char *path = absolute(output);
    char *kwargs = vt_attach_kwargs(o, path);
    char *b64 = vt_attach_b64(kwargs, strlen(kwargs));
    struct vt_buf call;
    vt_buf_init(&call, 1u << 20);
    vt_buf_printf(&call, "start_attach\n%s\n", b64);
    char ans[512];
    int status = 1;
    catch_stop_signals();
    if (session_open(&s, pid) != VT_OK)
        goto out;
    if (run_step(&s, "start", call.data, START_TIMEOUT, ans, sizeof(ans)) != VT_OK)
        goto out;
    if (strcmp(ans, "refused") == 0) {
        vt_log_error("viztracer: Can't attach when VizTracer is already running in pid %ld", pid);
        goto out;
    }
    if (wait_collect(o, pid) != VT_OK)
        goto out;
    if (run_step(&s, "stop", "stop_attach\n", STOP_TIMEOUT, ans, sizeof(ans)) != VT_OK)
        goto out;
    if (strcmp(ans, "refused") == 0) {
        vt_log_error("viztracer: pid %ld has no tracer to stop (was it uninstalled?)", pid);
        goto out;
    }
    if (!o->quiet) {
        printf("Use the following command to open the report:\nvizviewer %s\n", path);
        fflush(stdout);
    }
    status = 0;
out:
    session_close(&s);
    vt_buf_fini(&call);
    free(b64);
    free(kwargs);
    free(path);
    return status;
}

static int
uninstall(const struct vt_options *o)
{
    long pid = o->uninstall;
    if (check_pid(pid) != VT_OK)
        return 1;
    struct session s = {0};
    char ans[512];
    int status = 1;
    if (session_open(&s, pid) == VT_OK &&
        run_step(&s, "uninstall", "uninstall_attach\n", START_TIMEOUT, ans, sizeof(ans)) == VT_OK) {
        if (!o->quiet)
            printf("Uninstalled viztracer from pid %ld\n", pid);
        status = 0;
    }
    session_close(&s);
    return status;
}

/* Whether pid handles signo; 1 when /proc cannot tell (another system). */
static int
handles(long pid, int signo)
{
    char path[64], text[4096];
    snprintf(path, sizeof(path), "/proc/%ld/status", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 1;
    size_t n = fread(text, 1, sizeof(text) - 1, f);
    fclose(f);
    text[n] = '\0';
    return vt_attach_sig_caught(text, signo) != 0;
}

static int
attach_installed(const struct vt_options *o)
{
    long pid = o->attach_installed;
    if (check_pid(pid) != VT_OK)
        return 1;
    /* Unhandled, SIGUSR1 would kill the target: VizTracer sends it anyway. */
    if (!handles(pid, SIGUSR1) || !handles(pid, SIGUSR2)) {
        vt_log_error("viztracer: pid %ld does not handle SIGUSR1 and SIGUSR2; did it call "
                     "VizTracer().install()?",
                     pid);
        return 1;
    }
    catch_stop_signals();
    if (kill((pid_t)pid, SIGUSR1) != 0) {
        vt_log_error("pid %ld does not exist", pid);
        return 1;
    }
    if (wait_collect(o, pid) != VT_OK)
        return 1;
    if (kill((pid_t)pid, SIGUSR2) != 0) {
        vt_log_error("pid %ld already finished", pid);
        return 1;
    }
    return 0;
}

int
vt_attach_main(const struct vt_options *o, const char *output)
{
    if (o->attach >= 0)
        return attach(o, output);
    if (o->attach_installed >= 0)
        return attach_installed(o);
    return uninstall(o);
}
