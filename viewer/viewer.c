/* viewer.c: the vizviewer command and the server's life: options, the
 * listening socket on 127.0.0.1, the MHD daemon, waiting (--once, --timeout,
 * Ctrl+C) and opening the browser.
 *
 * Requests are answered in routes.c on MHD's own thread; this file only
 * starts and stops it. The wait loop sleeps in poll() on a pipe that the
 * request handlers and the signal handler write to, so nothing polls on a
 * timer and tests never sleep.
 */
#include "internal.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "../tracer/base/log.h"
#include "../tracer/base/mem.h"

#define VT_VIEWER_DEFAULT_PORT 9001

extern char **environ;

void
vt_viewer_options_init(struct vt_viewer_options *o)
{
    memset(o, 0, sizeof(*o));
    o->path = "result.json";
    o->host = "127.0.0.1";
    o->port = VT_VIEWER_DEFAULT_PORT;
    o->timeout_s = 10;
}

/* Opens a listening TCP socket on host:port. Returns the fd, or -1 with
 * *errnum set (EINVAL for a host that is not a numeric address). */
static int
listen_on(const char *host, int port, int *errnum)
{
    struct sockaddr_storage ss;
    socklen_t sl;
    memset(&ss, 0, sizeof(ss));
    struct sockaddr_in *a4 = (struct sockaddr_in *)&ss;
    struct sockaddr_in6 *a6 = (struct sockaddr_in6 *)&ss;
    if (strcmp(host, "localhost") == 0)
        host = "127.0.0.1";
    if (inet_pton(AF_INET, host, &a4->sin_addr) == 1) {
        a4->sin_family = AF_INET;
        a4->sin_port = htons((unsigned short)port);
        sl = sizeof(*a4);
    } else if (inet_pton(AF_INET6, host, &a6->sin6_addr) == 1) {
        a6->sin6_family = AF_INET6;
        a6->sin6_port = htons((unsigned short)port);
        sl = sizeof(*a6);
    } else {
        *errnum = EINVAL;
        return -1;
    }
    int fd = socket(ss.ss_family, SOCK_STREAM | SOCK_CLOEXEC, 0);
    if (fd < 0) {
        *errnum = errno;
        return -1;
    }
    int one = 1;
    setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one)); /* TIME_WAIT only */
    if (bind(fd, (struct sockaddr *)&ss, sl) != 0 || listen(fd, 64) != 0) {
        *errnum = errno;
        close(fd);
        return -1;
    }
    return fd;
}

/* Returns the port a bound socket listens on. */
static int
port_of(int fd)
{
    struct sockaddr_storage ss;
    socklen_t sl = sizeof(ss);
    if (getsockname(fd, (struct sockaddr *)&ss, &sl) != 0)
        return -1;
    if (ss.ss_family == AF_INET6)
        return ntohs(((struct sockaddr_in6 *)&ss)->sin6_port);
    return ntohs(((struct sockaddr_in *)&ss)->sin_port);
}

enum vt_err
vt_viewer_create(const struct vt_viewer_options *o, struct vt_viewer **out, int *errnum)
{
    struct stat st;
    *out = NULL;
    *errnum = 0;
    if (stat(o->path, &st) != 0) {
        *errnum = errno;
        return errno == ENOENT ? VT_ERR_NOFILE : VT_ERR_IO;
    }
    int mode = S_ISDIR(st.st_mode) ? VT_VIEWER_MODE_DIR : vt_viewer__mode_of(o->path);
    if (mode < 0 || (mode != VT_VIEWER_MODE_DIR && !S_ISREG(st.st_mode)))
        return VT_ERR_USAGE;
    struct vt_viewer *v = vt_xcalloc(1, sizeof(*v));
    v->mode = (enum vt_viewer_mode)mode;
    v->once = o->once;
    v->timeout_s = o->timeout_s;
    v->flamegraph = o->flamegraph;
    v->asked_port = o->port;
    atomic_init(&v->last_request_ms, vt_viewer__now_ms());
    v->wake_fd[0] = v->wake_fd[1] = -1;
    v->host = vt_xstrdup(o->host);
    v->path = realpath(o->path, NULL);
    if (v->path == NULL) {
        *errnum = errno;
        vt_viewer_destroy(v);
        return VT_ERR_IO;
    }
    int loopback = strcmp(o->host, "127.0.0.1") == 0 || strcmp(o->host, "localhost") == 0 ||
                   strcmp(o->host, "::1") == 0;
    if (loopback)
        v->allowed_host = vt_xstrdup(strcmp(o->host, "::1") == 0 ? "[::1]" : o->host);
    if (pipe(v->wake_fd) != 0) {
        *errnum = errno;
        vt_viewer_destroy(v);
        return VT_ERR_IO;
    }
    for (int i = 0; i < 2; i++) {
        fcntl(v->wake_fd[i], F_SETFD, FD_CLOEXEC);
        fcntl(v->wake_fd[i], F_SETFL, O_NONBLOCK);
    }
    int fd = listen_on(o->host, o->port, errnum);
    if (fd < 0) {
        vt_viewer_destroy(v);
        return *errnum == EINVAL ? VT_ERR_USAGE : VT_ERR_IO;
    }
    v->port = port_of(fd);
    vt_viewer__gzip(vt_viewer_assets_html, vt_viewer_assets_html_len, 9, &v->page_gz,
                    &v->page_gz_len);
    v->daemon = MHD_start_daemon(MHD_USE_AUTO_INTERNAL_THREAD, 0, NULL, NULL, vt_viewer__handle, v,
                                 MHD_OPTION_LISTEN_SOCKET, fd, MHD_OPTION_NOTIFY_COMPLETED,
                                 vt_viewer__completed, v, MHD_OPTION_CONNECTION_TIMEOUT,
                                 (unsigned int)60, MHD_OPTION_CONNECTION_LIMIT, (unsigned int)256,
                                 MHD_OPTION_STRICT_FOR_CLIENT, (int)1, MHD_OPTION_END);
    if (v->daemon == NULL) {
        *errnum = errno;
        close(fd);
        vt_viewer_destroy(v);
        return VT_ERR_IO;
    }
    /* A large trace is indexed from now on, while the page loads. */
    if ((v->mode == VT_VIEWER_MODE_JSON || v->mode == VT_VIEWER_MODE_GZ) &&
        !vt_viewer__whole(v->path))
        vt_viewer__api_start(v, v->path, !o->quiet && isatty(STDOUT_FILENO));
    *out = v;
    return VT_OK;
}

int
vt_viewer_port(const struct vt_viewer *v)
{
    return v->port;
}

enum vt_err
vt_viewer_wait(struct vt_viewer *v)
{
    int timeout_ms = v->once && v->timeout_s > 0 ? v->timeout_s * 1000 : -1;
    int idle_ms = 0;  /* time without a request, counted while ticking */
    int browsing = 0; /* 1: the page of an indexed trace opened (--once) */
    for (;;) {
        /* while an index is built, wake twice a second for its progress line */
        int busy = vt_viewer__api_busy(v);
        int wait_ms = busy ? 500 : timeout_ms < 0 ? -1 : timeout_ms - idle_ms;
        if (busy && timeout_ms >= 0 && timeout_ms - idle_ms < wait_ms)
            wait_ms = timeout_ms - idle_ms;
        if (wait_ms < 0 && timeout_ms >= 0)
            wait_ms = 0;
        struct pollfd pfd = {v->wake_fd[0], POLLIN, 0};
        int n = poll(&pfd, 1, wait_ms);
        if (n < 0 && errno == EINTR)
            continue; /* the signal handler also wrote 'q' */
        if (n == 0) {
            vt_viewer__api_tick(v);
            if (busy && wait_ms >= 0)
                idle_ms += wait_ms;
            if (timeout_ms < 0 || (busy && idle_ms < timeout_ms))
                continue;
            /* idle for timeout_s: an indexed trace's page counts as served */
            return v->once && !browsing ? VT_ERR_STATE : VT_OK;
        }
        if (n < 0)
            return v->once ? VT_ERR_STATE : VT_OK;
        idle_ms = 0;
        char bytes[64];
        ssize_t got = read(v->wake_fd[0], bytes, sizeof(bytes));
        for (ssize_t i = 0; i < got; i++) {
            if (bytes[i] == 'q' || (bytes[i] == 's' && v->once))
                return VT_OK;
            if (bytes[i] == 'i')
                browsing = 1;
        }
    }
}

void
vt_viewer_stop(struct vt_viewer *v)
{
    ssize_t w = write(v->wake_fd[1], "q", 1);
    (void)w; /* a full pipe is read before it blocks anyone */
}

void
vt_viewer_destroy(struct vt_viewer *v)
{
    if (v == NULL)
        return;
    if (v->daemon != NULL)
        MHD_stop_daemon(v->daemon); /* closes the listening socket too */
    vt_viewer__folder_free(v);      /* after the daemon: its thread used them */
    vt_viewer__api_free(v);
    for (int i = 0; i < 2; i++) {
        if (v->wake_fd[i] >= 0)
            close(v->wake_fd[i]);
    }
    free(v->path);
    free(v->page_gz);
    free(v->file_info);
    free(v->allowed_host);
    free(v->host);
    free(v);
}

/* ---- the command -------------------------------------------------------- */

/* The server Ctrl+C and SIGTERM stop. Set before the handlers are installed
 * and cleared after they are removed; only the main thread writes it. */
static struct vt_viewer *volatile signal_target;

static void
on_signal(int signo)
{
    (void)signo;
    if (signal_target != NULL)
        vt_viewer_stop(signal_target);
}

/* Starts one browser command without waiting for it, as Python's webbrowser
 * reads $BROWSER: words split on blanks, every "%s" in them replaced by url,
 * url appended when no word had one. Returns 0 when it could be started. */
static int
spawn_browser(const char *cmd, const char *url, posix_spawn_file_actions_t *fa)
{
    char *argv[18] = {NULL}; /* owned words, NULL-terminated */
    int argc = 0, has_url = 0, rc = -1;
    for (const char *p = cmd; *p != '\0' && argc < 16;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p == '\0')
            break;
        struct vt_buf word;
        vt_buf_init(&word, 1 << 16);
        for (; *p != '\0' && *p != ' ' && *p != '\t'; p++) {
            enum vt_err err;
            if (p[0] == '%' && p[1] == 's') {
                err = vt_buf_adds(&word, url);
                has_url = 1;
                p++;
            } else {
                err = vt_buf_add(&word, p, 1);
            }
            if (err != VT_OK)
                goto out; /* a 64 KiB word: not a browser command */
        }
        argv[argc++] = vt_buf_take(&word, NULL);
    }
    if (argc == 0)
        goto out;
    if (!has_url)
        argv[argc++] = vt_xstrdup(url);
    pid_t pid;
    rc = posix_spawnp(&pid, argv[0], fa, NULL, argv, environ);
out:
    for (int i = 0; i < argc; i++)
        free(argv[i]);
    return rc;
}

/* Starts the user's browser on url without waiting for it: each entry of
 * $BROWSER (':'-separated), then xdg-open, then sensible-browser. Returns 0
 * when one of them could be started. */
static int
open_browser(const char *url)
{
    posix_spawn_file_actions_t fa;
    posix_spawn_file_actions_init(&fa);
    posix_spawn_file_actions_addopen(&fa, 1, "/dev/null", O_WRONLY, 0);
    posix_spawn_file_actions_addopen(&fa, 2, "/dev/null", O_WRONLY, 0);
    int rc = -1;
    const char *env = getenv("BROWSER");
    if (env != NULL) {
        char *list = vt_xstrdup(env);
        for (char *entry = list, *next; entry != NULL && rc != 0; entry = next) {
            next = strchr(entry, ':');
            if (next != NULL)
                *next++ = '\0';
            rc = spawn_browser(entry, url, &fa);
        }
        free(list);
    }
    if (rc != 0)
        rc = spawn_browser("xdg-open", url, &fa);
    if (rc != 0)
        rc = spawn_browser("sensible-browser", url, &fa);
    posix_spawn_file_actions_destroy(&fa);
    return rc;
}

static void
print_help(void)
{
    printf("usage: vizviewer [-h] [-p PORT] [-s] [--once] [--timeout SECONDS] [--flamegraph]\n"
           "                 [--host HOST] [file]\n\n"
           "Serve a trace (.json, .json.gz, .vzt, .html) or a folder of traces in the browser.\n\n"
           "  file                 trace file or folder (default: result.json)\n"
           "  -p, --port PORT      port to listen on (default: 9001)\n"
           "  -s, --server_only    do not open a browser\n"
           "  --once               exit once the trace has been served\n"
           "  --timeout SECONDS    with --once: exit after this long without a request (10)\n"
           "  --flamegraph         open on the flame graph view\n"
           "  --host HOST          address to bind (default 127.0.0.1; others expose your traces)\n"
           "  --export_html OUT    write a standalone HTML report of the trace to OUT and exit\n"
           "  -h, --help           show this help\n");
}

/* Parses a non-negative decimal int; returns -1 when s is not one. */
static int
parse_int(const char *s, int max)
{
    char *end;
    errno = 0;
    long n = strtol(s, &end, 10);
    if (errno != 0 || end == s || *end != '\0' || n < 0 || n > max)
        return -1;
    return (int)n;
}

/* Runs the server of o until served / idle / Ctrl+C; prints the user's
 * messages. Returns the exit status. */
static int
serve(const struct vt_viewer_options *o)
{
    struct vt_viewer *v;
    int errnum = 0;
    enum vt_err err = vt_viewer_create(o, &v, &errnum);
    /* VizTracer's messages, on stdout where it prints them */
    if (err == VT_ERR_NOFILE) {
        vt_log_info("File %s does not exist!", o->path);
        return 1;
    }
    if (err == VT_ERR_USAGE && errnum == EINVAL) {
        vt_log_error("vizviewer: --host %s is not a numeric address", o->host);
        return 1;
    }
    if (err == VT_ERR_USAGE) {
        vt_log_info("Do not support file type %s", o->path);
        return 1;
    }
    if (err != VT_OK && errnum == EADDRINUSE) {
        vt_log_info("Error! Port %d is already in use, try another port with \"--port\"", o->port);
        return 1;
    }
    if (err != VT_OK) {
        vt_log_errno("vizviewer: cannot serve", o->path, errnum);
        return 1;
    }
    /* Ctrl+C works from the moment the URL is printed: whoever reads it may stop us. */
    struct sigaction sa, old_int, old_term;
    memset(&sa, 0, sizeof(sa));
    sa.sa_handler = on_signal;
    sigemptyset(&sa.sa_mask);
    signal_target = v;
    sigaction(SIGINT, &sa, &old_int);
    sigaction(SIGTERM, &sa, &old_term);
    const char *shown = strcmp(o->host, "127.0.0.1") == 0 ? "localhost" : o->host;
    char url[300];
    snprintf(url, sizeof(url), "http://%s:%d/", strchr(o->host, ':') ? "[::1]" : o->host,
             vt_viewer_port(v));
    if (!o->quiet) {
        if (strcmp(o->host, "127.0.0.1") != 0 && strcmp(o->host, "localhost") != 0)
            vt_log_error("vizviewer: warning: listening on %s, other machines can read "
                         "your traces",
                         o->host);
        if (!o->once)
            vt_log_info("Running vizviewer");
        vt_log_info("You can also view your trace on http://%s:%d", shown, vt_viewer_port(v));
        if (!o->once)
            vt_log_info("Press Ctrl+C to quit");
        fflush(stdout);
    }
    if (!o->server_only && open_browser(url) != 0 && !o->quiet)
        vt_log_info("vizviewer: no browser could be started; open %s", url);
    err = vt_viewer_wait(v);
    sigaction(SIGINT, &old_int, NULL);
    sigaction(SIGTERM, &old_term, NULL);
    signal_target = NULL;
    vt_viewer_destroy(v);
    while (waitpid(-1, NULL, WNOHANG) > 0)
        ; /* reap the browser launcher */
    if (err != VT_OK && !o->quiet)
        vt_log_info("vizviewer: no request for %d s, giving up", o->timeout_s);
    return 0;
}

/* --export_html: writes the standalone report; returns the exit status. */
static int export(const char *trace, const char *html)
{
    int errnum = 0;
    char msg[PATH_MAX + 256];
    enum vt_err err = vt_viewer_write_html(trace, html, &errnum, msg, sizeof(msg));
    if (err == VT_ERR_TOOBIG && msg[0] != '\0') {
        vt_log_error("vizviewer: %s", msg);
        return 1;
    }
    if (err == VT_ERR_NOFILE) {
        vt_log_error("File %s does not exist!", trace);
        return 1;
    }
    if (err == VT_ERR_IO) {
        vt_log_errno("vizviewer: cannot write", html, errnum);
        return 1;
    }
    if (err != VT_OK) {
        vt_log_error("vizviewer: %s: %s", trace, vt_strerror(err));
        return 1;
    }
    vt_log_info("Saved the report to %s", html);
    return 0;
}

int
vt_viewer_main(int argc, char **argv)
{
    enum { OPT_ONCE = 256, OPT_TIMEOUT, OPT_FLAME, OPT_HOST, OPT_EXTERNAL, OPT_EXPORT };
    static const struct option longs[] = {
        {"port", required_argument, NULL, 'p'},
        {"server_only", no_argument, NULL, 's'},
        {"once", no_argument, NULL, OPT_ONCE},
        {"timeout", required_argument, NULL, OPT_TIMEOUT},
        {"flamegraph", no_argument, NULL, OPT_FLAME},
        {"host", required_argument, NULL, OPT_HOST},
        {"use_external_processor", no_argument, NULL, OPT_EXTERNAL},
        {"export_html", required_argument, NULL, OPT_EXPORT},
        {"help", no_argument, NULL, 'h'},
        {NULL, 0, NULL, 0},
    };
    struct vt_viewer_options o;
    const char *export_html = NULL;
    vt_viewer_options_init(&o);
    optind = 1;
    opterr = 1;
    int ch;
    while ((ch = getopt_long(argc, argv, "p:sh", longs, NULL)) != -1) {
        switch (ch) {
        case 'p':
            o.port = parse_int(optarg, 65535);
            if (o.port < 0) {
                vt_log_error("vizviewer: --port needs a number from 0 to 65535, not %s", optarg);
                return 2;
            }
            break;
        case 's':
            o.server_only = 1;
            break;
        case OPT_ONCE:
            o.once = 1;
            break;
        case OPT_TIMEOUT:
            o.timeout_s = parse_int(optarg, INT_MAX / 1000);
            if (o.timeout_s < 0) {
                vt_log_error("vizviewer: --timeout needs a number of seconds, not %s", optarg);
                return 2;
            }
            break;
        case OPT_FLAME:
            o.flamegraph = 1;
            break;
        case OPT_HOST:
            o.host = optarg;
            break;
        case OPT_EXTERNAL:
            vt_log_error("vizviewer: --use_external_processor is not supported: the built-in "
                         "viewer loads large traces itself");
            return 1;
        case OPT_EXPORT:
            export_html = optarg;
            break;
        case 'h':
            print_help();
            return 0;
        default:
            return 2;
        }
    }
    if (argc - optind > 1) {
        vt_log_error("vizviewer: one trace file or folder, please");
        return 2;
    }
    if (optind < argc)
        o.path = argv[optind];
    if (export_html != NULL)
        return export(o.path, export_html);
    return serve(&o);
}

int
vt_viewer_open_once(const char *path)
{
    struct vt_viewer_options o;
    vt_viewer_options_init(&o);
    o.path = path;
    o.once = 1;
    int fd_probe_errnum = 0;
    int probe = listen_on(o.host, o.port, &fd_probe_errnum);
    if (probe < 0)
        o.port = 0; /* 9001 is taken: any free port will do for --open */
    else
        close(probe);
    return serve(&o);
}
