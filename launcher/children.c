/* children.c: waiting for forked children and merging their traces; see
 * children.h.
 *
 * A marker whose process is gone (SIGKILL, a crash) or a zombie (exited,
 * not yet reaped by the program) is not waited for: only a live process
 * could still write its result. A live one is waited for a few seconds at
 * most (VizTracer issues #401, #364: a child that never exits must not
 * hang the parent).
 */
#include "children.h"

#include <dirent.h>
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

#include "../tracer/base/fs.h"
#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"
#include "../tracer/format/format.h"

static int alive(long pid);

/* Removes the folders "viztracer-<pid>-*" in tmp whose viztracer is gone
 * (killed before it could clean up). Ours only: same owner. */
static void
sweep_stale(const char *tmp)
{
    DIR *d = opendir(tmp);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "viztracer-", 10) != 0)
            continue;
        char *end;
        long pid = strtol(e->d_name + 10, &end, 10);
        if (pid <= 0 || *end != '-' || alive(pid))
            continue;
        char path[PATH_MAX];
        struct stat st;
        int n = snprintf(path, sizeof(path), "%s/%s", tmp, e->d_name);
        if (n > 0 && (size_t)n < sizeof(path) && lstat(path, &st) == 0 && S_ISDIR(st.st_mode) &&
            st.st_uid == geteuid())
            vt_children_dir_remove(path);
    }
    if (d)
        closedir(d);
}

enum vt_err
vt_children_dir_create(char **out)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || *tmp == '\0')
        tmp = "/tmp";
    sweep_stale(tmp);
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/viztracer-%ld-XXXXXX", tmp, (long)getpid());
    if (n < 0 || (size_t)n >= sizeof(path) || mkdtemp(path) == NULL)
        return VT_ERR_IO;
    /* Absolute: children may run in other folders (a relative $TMPDIR). */
    char *abs = realpath(path, NULL);
    *out = abs ? abs : vt_xstrdup(path);
    return VT_OK;
}

static int
has_suffix(const char *s, const char *suffix)
{
    size_t n = strlen(s), m = strlen(suffix);
    return n >= m && strcmp(s + n - m, suffix) == 0;
}

int
vt_children_forked(const char *dir)
{
    return vt_fs_dir_has_files(dir);
}

/* 1 when pid runs (exists and is not a zombie). */
static int
alive(long pid)
{
    if (pid <= 0 || kill((pid_t)pid, 0) != 0)
        return errno == EPERM;
    char state = vt_fs_proc_state(pid, NULL);
    return state != 'Z' && state != 'X';
}

/* 1 when dir holds "<pid><suffix>". */
static int
has_file(const char *dir, long pid, const char *suffix, const char *prefix)
{
    char path[PATH_MAX];
    int n = snprintf(path, sizeof(path), "%s/%s%ld%s", dir, prefix, pid, suffix);
    return n > 0 && (size_t)n < sizeof(path) && access(path, F_OK) == 0;
}

/* 1 when pid runs this executable (a fork of ours, or a child started as
 * viztracer --subprocess_child), not another program (multiprocessing's
 * resource tracker, a program started by subprocess). */
static int
runs_us(long pid, const char *self)
{
    char path[64], exe[PATH_MAX];
    snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
    ssize_t n = readlink(path, exe, sizeof(exe) - 1);
    if (n <= 0)
        return 1; /* unknown: count it, the wait is bounded */
    exe[n] = '\0';
    return strcmp(exe, self) == 0;
}

/* Number of our own running children that have neither a marker nor a
 * result yet: just forked or started, before their first Python code ran.
 * Children running other programs never write one, nor does
 * multiprocessing's fork server, which notes itself "<pid>.server". */
static int
unmarked_children(const char *dir)
{
    DIR *d = opendir("/proc");
    if (d == NULL)
        return 0;
    char self[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", self, sizeof(self) - 1);
    self[len > 0 ? len : 0] = '\0';
    long me = (long)getpid();
    int n = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (e->d_name[0] < '1' || e->d_name[0] > '9')
            continue;
        long pid = strtol(e->d_name, NULL, 10);
        long ppid = 0;
        char state = vt_fs_proc_state(pid, &ppid);
        if (ppid != me || state == 0 || state == 'Z' || state == 'X')
            continue;
        n += !has_file(dir, pid, ".viztmp", "") && !has_file(dir, pid, ".json", "result_") &&
             !has_file(dir, pid, ".server", "") && runs_us(pid, self);
    }
    closedir(d);
    return n;
}

/* Number of markers in dir whose child is alive. */
static int
live_children(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int live = 0;
    struct dirent *e;
    while ((e = readdir(d)) != NULL) {
        if (!has_suffix(e->d_name, ".viztmp"))
            continue;
        live += alive(strtol(e->d_name, NULL, 10));
    }
    closedir(d);
    return live;
}

void
vt_children_wait(const char *dir, double timeout_s, int quiet, int (*interrupted)(void))
{
    struct timespec start, now;
    clock_gettime(CLOCK_MONOTONIC, &start);
    int shown = quiet;
    for (;;) {
        clock_gettime(CLOCK_MONOTONIC, &now);
        double spent = (double)(now.tv_sec - start.tv_sec) + (now.tv_nsec - start.tv_nsec) / 1e9;
        /* A child forked at the very end may not have written its marker
         * yet; running children of ours without one are waited for a
         * moment only, since children that exec'd another program never
         * write one. */
        /* Unmarked first: a marker written between the two scans is then
         * seen by the second. */
        int unmarked = spent < VT_CHILDREN_GRACE_S ? unmarked_children(dir) : 0;
        int live = live_children(dir);
        if (live == 0 && unmarked == 0)
            return;
        if (interrupted && interrupted())
            return; /* Ctrl+C: skip the wait, as VizTracer */
        if (live > 0 && !shown) {
            vt_format_progress("Wait for child processes to finish, Ctrl+C to skip");
            shown = 1;
        }
        if (spent >= timeout_s) {
            vt_log_error("viztracer: %d child process%s still running after %.0f s; "
                         "%s not in the trace",
                         live, live == 1 ? " is" : "es are", timeout_s,
                         live == 1 ? "its events are" : "their events are");
            return;
        }
        struct timespec nap = {0, 20L * 1000 * 1000}; /* 20 ms */
        nanosleep(&nap, NULL);
    }
}

static int
cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

enum vt_err
vt_children_collect(const char *dir, const char *parent_json, const char *output,
                    vt_tracer_html_fn html, int quiet)
{
    size_t n = 1, cap = 8;
    char **files = vt_xcalloc(cap, sizeof(char *));
    files[0] = vt_xstrdup(parent_json);
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strncmp(e->d_name, "result_", 7) != 0 || !has_suffix(e->d_name, ".json"))
            continue;
        if (n == cap) {
            cap *= 2;
            files = vt_xrealloc(files, cap * sizeof(char *));
        }
        size_t len = strlen(dir) + strlen(e->d_name) + 2;
        files[n] = vt_xmalloc(len);
        snprintf(files[n], len, "%s/%s", dir, e->d_name);
        n++;
    }
    if (d)
        closedir(d);
    qsort(files + 1, n - 1, sizeof(char *), cmp_str);
    enum vt_err err = vt_merge_run(files, n, 0, output, html, quiet);
    for (size_t i = 0; i < n; i++)
        free(files[i]);
    free(files);
    return err;
}

int
vt_children_finish_crash(const char *dir, const char *own_json, const char *output,
                         vt_tracer_html_fn html)
{
    vt_children_wait(dir, VT_CHILDREN_WAIT_S, 1, NULL);
    enum vt_err err = vt_children_collect(dir, own_json, output, html, 1);
    vt_children_dir_remove(dir); /* the program that made it is gone */
    return err == VT_OK ? 0 : -1;
}

char **
vt_children_argv(const struct vt_options *o, const char *dir)
{
    char exe[PATH_MAX];
    ssize_t len = readlink("/proc/self/exe", exe, sizeof(exe) - 1);
    if (len <= 0)
        return NULL;
    exe[len] = '\0';
    int n = 0;
    char **opts = vt_cli_child_args(o, &n);
    char **argv = vt_xcalloc((size_t)n + 4, sizeof(char *));
    argv[0] = vt_xstrdup(exe);
    for (int i = 0; i < n; i++) {
        argv[i + 1] = opts[i]; /* moved */
        opts[i] = NULL;
    }
    argv[n + 1] = vt_xstrdup("--subprocess_child");
    argv[n + 2] = vt_xstrdup(dir);
    vt_cli_free_argv(opts);
    return argv;
}

void
vt_children_dir_remove(const char *dir)
{
    if (dir == NULL)
        return;
    DIR *d = opendir(dir);
    struct dirent *e;
    while (d && (e = readdir(d)) != NULL) {
        if (strcmp(e->d_name, ".") == 0 || strcmp(e->d_name, "..") == 0)
            continue;
        char path[PATH_MAX];
        int len = snprintf(path, sizeof(path), "%s/%s", dir, e->d_name);
        if (len > 0 && (size_t)len < sizeof(path))
            unlink(path);
    }
    if (d)
        closedir(d);
    rmdir(dir);
}
