/* cmd.c: the command table of vdb and dispatch of one input line.
 *
 * Each row is name, argument count, help and handler, walked by
 * vt_vdb__run() like callback_table in snaptrace.c. Commands and messages
 * follow VizTracer 0.15's simulator.py (docs/COMPAT.md, vdb); b / cl / c / cb / p /
 * help are ours.
 */
#include "internal.h"

#include <errno.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define VT_VDB_MAX_ARGS 8

typedef void (*vt_cmd_fn)(struct vt_vdb *v, int argc, char **argv);

/* One command. */
struct vt_cmd {
    const char *name;  /* static: what the user types */
    int min_args;      /* arguments after the name, at least */
    int max_args;      /* and at most */
    const char *usage; /* static: arguments for help, "" if none */
    const char *help;  /* static: one line */
    vt_cmd_fn fn;      /* handler; arity already checked */
};

static void
moved(struct vt_vdb *v, enum vt_tl_status st)
{
    if (st == VT_TL_OK)
        vt_vdb__redraw(v);
    else
        fprintf(v->out, "%s\n", vt_timeline_strerror(st));
}

static void
cmd_step(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_step(v->tl));
}

static void
cmd_step_back(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_step_back(v->tl));
}

static void
cmd_next(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_next(v->tl));
}

static void
cmd_next_back(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_next_back(v->tl));
}

static void
cmd_return(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_return(v->tl));
}

static void
cmd_return_back(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_return_back(v->tl));
}

static void
cmd_up(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_up(v->tl));
}

static void
cmd_down(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_down(v->tl));
}

static void
cmd_time(struct vt_vdb *v, int argc, char **argv)
{
    char buf[48];
    if (argc == 0) {
        vt_vdb__fmt_us(buf, sizeof(buf), vt_timeline_time(v->tl));
        fprintf(v->out, "%s\n", buf);
        return;
    }
    char *end;
    errno = 0;
    double us = strtod(argv[0], &end);
    if (end == argv[0] || *end != '\0' || errno != 0 || !isfinite(us) || fabs(us) > 9.0e15) {
        fprintf(v->out, "t needs a timestamp in microseconds\n");
        return;
    }
    vt_timeline_goto(v->tl, (int64_t)llround(us * 1000.0));
    vt_vdb__redraw(v);
}

static int
parse_int(const char *s, int64_t *out)
{
    char *end;
    errno = 0;
    long long x = strtoll(s, &end, 10);
    if (end == s || *end != '\0' || errno != 0)
        return 0;
    *out = (int64_t)x;
    return 1;
}

static void
list_ids(struct vt_vdb *v, int threads)
{
    size_t n;
    const struct vt_tl_thread *all = vt_timeline_threads(v->tl, &n);
    const struct vt_tl_thread *cur = vt_timeline_thread(v->tl);
    for (size_t i = 0; i < n; i++) {
        int first = 1;
        if (threads && all[i].pid != cur->pid)
            continue;
        for (size_t j = 0; !threads && j < i; j++)
            if (all[j].pid == all[i].pid)
                first = 0;
        if (!first)
            continue;
        int64_t id = threads ? all[i].tid : all[i].pid;
        int here = threads ? (all[i].tid == cur->tid) : (all[i].pid == cur->pid);
        const char *name = vt_reader_label(v->trace, all[i].pid, all[i].tid, threads);
        fprintf(v->out, "%s%lld%s%s%s\n", here ? "> " : "  ", (long long)id, name ? " (" : "",
                name ? name : "", name ? ")" : "");
    }
}

static void
cmd_tid(struct vt_vdb *v, int argc, char **argv)
{
    int64_t id;
    if (argc == 0) {
        list_ids(v, 1);
        return;
    }
    if (!parse_int(argv[0], &id)) {
        fprintf(v->out, "tid needs to be an integer\n");
        return;
    }
    moved(v, vt_timeline_goto_tid(v->tl, id));
}

static void
cmd_pid(struct vt_vdb *v, int argc, char **argv)
{
    int64_t id;
    if (argc == 0) {
        list_ids(v, 0);
        return;
    }
    if (!parse_int(argv[0], &id)) {
        fprintf(v->out, "pid needs to be an integer\n");
        return;
    }
    moved(v, vt_timeline_goto_pid(v->tl, id));
}

static void
cmd_where(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    vt_vdb__where(v);
}

static void
cmd_args(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    vt_vdb__args(v);
}

static void
cmd_counter(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    vt_vdb__counter(v);
}

static void
cmd_object(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    vt_vdb__object(v);
}

static void
cmd_print(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    if (!vt_vdb__print_name(v, argv[0]))
        fprintf(v->out, "No argument or logged variable named %s in this frame\n", argv[0]);
}

static void
cmd_break(struct vt_vdb *v, int argc, char **argv)
{
    if (argc == 0) {
        size_t n = vt_timeline_break_count(v->tl);
        if (n == 0)
            fprintf(v->out, "No breakpoints\n");
        for (size_t i = 0; i < n; i++)
            fprintf(v->out, "  %s\n", vt_timeline_break_get(v->tl, i));
        return;
    }
    size_t n = vt_timeline_break_add(v->tl, argv[0]);
    fprintf(v->out, "Breakpoint at %s (%zu function%s in the trace)\n", argv[0], n,
            n == 1 ? "" : "s");
}

static void
cmd_clear(struct vt_vdb *v, int argc, char **argv)
{
    size_t n = vt_timeline_break_clear(v->tl, argc ? argv[0] : NULL);
    fprintf(v->out, "Cleared %zu breakpoint%s\n", n, n == 1 ? "" : "s");
}

static void
cmd_continue(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_continue(v->tl));
}

static void
cmd_continue_back(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    moved(v, vt_timeline_continue_back(v->tl));
}

static void
cmd_quit(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    v->quit = 1;
}

static void cmd_help(struct vt_vdb *v, int argc, char **argv);

static const struct vt_cmd table[] = {
    {"s", 0, 0, "", "step: enter the next call, or return when none is left", cmd_step},
    {"sb", 0, 0, "", "step back: enter the previous call at its end, or leave to the caller",
     cmd_step_back},
    {"n", 0, 0, "", "next: go over the next call", cmd_next},
    {"nb", 0, 0, "", "next back: go back over the previous call", cmd_next_back},
    {"r", 0, 0, "", "return: run until this function returns", cmd_return},
    {"rb", 0, 0, "", "return back: go back to where this function was called", cmd_return_back},
    {"c", 0, 0, "", "continue to the next call of a breakpoint function", cmd_continue},
    {"cb", 0, 0, "", "continue backward to the previous call of a breakpoint function",
     cmd_continue_back},
    {"b", 0, 1, "[FUNCTION]", "break on calls of FUNCTION (func, Cls.meth, meth, len); or list",
     cmd_break},
    {"cl", 0, 1, "[FUNCTION]", "clear the breakpoint on FUNCTION, or all", cmd_clear},
    {"t", 0, 1, "[TS]", "print the time (us from the start), or go to time TS", cmd_time},
    {"u", 0, 0, "", "up: inspect the caller's frame", cmd_up},
    {"d", 0, 0, "", "down: inspect the callee's frame", cmd_down},
    {"w", 0, 0, "", "where: print the call stack", cmd_where},
    {"tid", 0, 1, "[TID]", "list the threads of this process, or switch to TID", cmd_tid},
    {"pid", 0, 1, "[PID]", "list the processes, or switch to PID", cmd_pid},
    {"a", 0, 0, "", "print the args of this frame (arguments, return value, ...)", cmd_args},
    {"arg", 0, 0, "", "same as a", cmd_args},
    {"args", 0, 0, "", "same as a", cmd_args},
    {"p", 1, 1, "NAME", "print argument or logged variable NAME of this frame", cmd_print},
    {"counter", 0, 0, "", "print the counter values at this time", cmd_counter},
    {"object", 0, 0, "", "print the objects alive at this time", cmd_object},
    {"help", 0, 0, "", "list the commands", cmd_help},
    {"h", 0, 0, "", "same as help", cmd_help},
    {"q", 0, 0, "", "quit", cmd_quit},
    {"quit", 0, 0, "", "same as q", cmd_quit},
    {"exit", 0, 0, "", "same as q", cmd_quit},
};

static void
cmd_help(struct vt_vdb *v, int argc, char **argv)
{
    (void)argc;
    (void)argv;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        char left[32];
        snprintf(left, sizeof(left), "%s %s", table[i].name, table[i].usage);
        fprintf(v->out, "  %-16s %s\n", left, table[i].help);
    }
}

const char *
vt_vdb__command_name(size_t i)
{
    return i < sizeof(table) / sizeof(table[0]) ? table[i].name : NULL;
}

void
vt_vdb__redraw(struct vt_vdb *v)
{
    if (!v->no_clear)
        fputs("\033[H\033[2J", v->out);
    vt_vdb__show(v);
}

void
vt_vdb__run(struct vt_vdb *v, const char *line)
{
    char copy[1024];
    char *argv[VT_VDB_MAX_ARGS];
    int argc = 0;
    snprintf(copy, sizeof(copy), "%s", line);
    for (char *p = copy; *p;) {
        while (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r')
            *p++ = '\0';
        if (!*p)
            break;
        if (argc == VT_VDB_MAX_ARGS) {
            argc++;
            break;
        }
        argv[argc++] = p;
        while (*p && *p != ' ' && *p != '\t' && *p != '\n' && *p != '\r')
            p++;
    }
    if (argc == 0)
        return;
    for (size_t i = 0; i < sizeof(table) / sizeof(table[0]); i++) {
        const struct vt_cmd *c = &table[i];
        if (strcmp(c->name, argv[0]) != 0)
            continue;
        int n = argc - 1;
        if (n < c->min_args || n > c->max_args) {
            if (c->min_args == 0 && c->max_args == 1)
                fprintf(v->out, "%s takes 1 or no argument\n", c->name);
            else if (c->max_args == 0)
                fprintf(v->out, "%s takes no argument\n", c->name);
            else
                fprintf(v->out, "%s takes %d argument%s\n", c->name, c->max_args,
                        c->max_args == 1 ? "" : "s");
            return;
        }
        c->fn(v, n, argv + 1);
        return;
    }
    size_t len = strcspn(line, "\r\n");
    fprintf(v->out, "Invalid command: %.*s\n", (int)len, line);
}
