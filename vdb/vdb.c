/* vdb.c: vt_vdb_main: options, loading, and the command loop.
 *
 * With a terminal on stdin and stdout the loop reads through libedit
 * (line editing, in-session history); otherwise it prints the ">>> " prompt
 * itself and reads plain lines, as VizTracer's input() did, so pipes and
 * tests work the same way. EOF ends the session with status 0.
 */
#include "vdb.h"

#include <locale.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <editline/readline.h>

#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"
#include "internal.h"

#define VT_VDB_PROMPT ">>> "

static void
usage(FILE *f)
{
    fprintf(f, "usage: vdb [--no_clear] [--extra_newline] FILE\n"
               "\n"
               "Walks a trace recorded by viztracer (--vdb adds the calling lines) forwards\n"
               "and backwards like a debugger. Type help at the >>> prompt for the commands.\n"
               "\n"
               "options:\n"
               "  -h, --help        show this help and exit\n"
               "  --no_clear        do not clear the screen before showing a frame\n"
               "  --extra_newline   print an empty line after each command read\n");
}

/* Reads one line without libedit; owned result without the newline, or
 * NULL at EOF. */
static char *
read_plain(void)
{
    char *line = NULL;
    size_t cap = 0;
    fputs(VT_VDB_PROMPT, stdout);
    fflush(stdout);
    ssize_t n = getline(&line, &cap, stdin);
    if (n < 0) {
        free(line);
        return NULL;
    }
    line[strcspn(line, "\r\n")] = '\0';
    return line;
}

/* ---- completion (libedit) ----------------------------------------------------
 * libedit's callbacks take no context, so the session and the word list live
 * here. Only the REPL thread touches them, and only inside loop(). */

static struct vt_vdb *complete_vdb; /* borrowed: the session being edited */
static char **func_words;           /* owned: function names for b / cl, sorted */
static size_t nfunc_words;          /* entries of func_words */

static int
str_cmp(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Function parts of the names of the trace's calls, once ("fib",
 * "Thread.run", "builtins.len"). */
static void
collect_func_words(void)
{
    const struct vt_trace *t = complete_vdb->trace;
    unsigned char *seen = vt_xcalloc(t->names.n + 1, 1);
    func_words = vt_xmalloc((t->names.n + 1) * sizeof(*func_words));
    for (size_t i = 0; i < t->funcs.n; i++) {
        uint32_t id = t->funcs.v[i].name;
        if (seen[id])
            continue;
        seen[id] = 1;
        const char *name = vt_reader_name(t, id);
        struct vt_reader_fname f;
        size_t len = vt_reader_split_name(name, &f) ? f.func_len : strlen(name);
        func_words[nfunc_words++] = vt_xstrndup(name, len);
    }
    free(seen);
    qsort(func_words, nfunc_words, sizeof(*func_words), str_cmp);
    size_t j = 0;
    for (size_t i = 0; i < nfunc_words; i++) {
        if (j > 0 && strcmp(func_words[i], func_words[j - 1]) == 0)
            free(func_words[i]);
        else
            func_words[j++] = func_words[i];
    }
    nfunc_words = j;
}

static char *
next_command(const char *text, int state)
{
    static size_t i;
    if (!state)
        i = 0;
    for (const char *name; (name = vt_vdb__command_name(i)) != NULL;) {
        i++;
        if (strncmp(name, text, strlen(text)) == 0)
            return strdup(name);
    }
    return NULL;
}

static char *
next_function(const char *text, int state)
{
    static size_t i;
    if (!state)
        i = 0;
    while (i < nfunc_words) {
        const char *w = func_words[i++];
        if (strncmp(w, text, strlen(text)) == 0)
            return strdup(w);
    }
    return NULL;
}

static char **
complete(const char *text, int start, int end)
{
    (void)end;
    rl_attempted_completion_over = 1; /* never fall back to file names */
    if (start == 0)
        return rl_completion_matches(text, next_command);
    if (strncmp(rl_line_buffer, "b ", 2) == 0 || strncmp(rl_line_buffer, "cl ", 3) == 0) {
        if (!func_words)
            collect_func_words();
        return rl_completion_matches(text, next_function);
    }
    return NULL;
}

static void
complete_fini(void)
{
    for (size_t i = 0; i < nfunc_words; i++)
        free(func_words[i]);
    free(func_words);
    func_words = NULL;
    nfunc_words = 0;
    complete_vdb = NULL;
}

/* ---- the loop ------------------------------------------------------------------- */

static void
loop(struct vt_vdb *v)
{
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (tty) {
        setlocale(LC_CTYPE, "");
        complete_vdb = v;
        rl_attempted_completion_function = complete;
    }
    vt_vdb__redraw(v);
    fflush(v->out);
    while (!v->quit) {
        char *line = tty ? readline(VT_VDB_PROMPT) : read_plain();
        if (!line) {
            if (tty)
                fputc('\n', v->out);
            break;
        }
        if (v->extra_newline)
            fputc('\n', v->out);
        if (tty && line[strspn(line, " \t")] != '\0')
            add_history(line);
        vt_vdb__run(v, line);
        free(line);
        fflush(v->out);
    }
    fflush(v->out);
    complete_fini();
}

int
vt_vdb_main(int argc, char **argv)
{
    struct vt_vdb v;
    const char *path = NULL;
    memset(&v, 0, sizeof(v));
    v.out = stdout;
    for (int i = 1; i < argc; i++) {
        if (strcmp(argv[i], "--no_clear") == 0) {
            v.no_clear = 1;
        } else if (strcmp(argv[i], "--extra_newline") == 0) {
            v.extra_newline = 1;
        } else if (strcmp(argv[i], "-h") == 0 || strcmp(argv[i], "--help") == 0) {
            usage(stdout);
            return 0;
        } else if (strcmp(argv[i], "--") == 0 && i + 1 < argc && !path && i + 2 == argc) {
            path = argv[++i];
        } else if (argv[i][0] == '-' && argv[i][1] != '\0') {
            vt_log_error("vdb: unknown option %s", argv[i]);
            usage(stderr);
            return 2;
        } else if (!path) {
            path = argv[i];
        } else {
            vt_log_error("vdb: only one trace file can be walked at a time");
            return 2;
        }
    }
    if (!path) {
        usage(stderr);
        return 2;
    }
    if (vt_vdb__load(&v, path) != VT_OK) {
        vt_vdb__fini(&v);
        return 1;
    }
    loop(&v);
    vt_vdb__fini(&v);
    return 0;
}
