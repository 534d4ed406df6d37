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

static void
loop(struct vt_vdb *v)
{
    int tty = isatty(STDIN_FILENO) && isatty(STDOUT_FILENO);
    if (tty)
        setlocale(LC_CTYPE, "");
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
