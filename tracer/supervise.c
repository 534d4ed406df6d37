/* supervise.c: the supervisor process, the fatal-signal handler and the
 * fork hooks of crash-safe tracing (crash.h).
 *
 * The supervisor is a grandchild of the traced process (double fork, then
 * setsid): no os.wait() of the program can reap it, no Ctrl+C or process
 * group signal reaches it, and it holds no file of the program's but the
 * area's memfd and two pipes. It learns of the death from a pidfd, and of
 * a fatal signal from the handler, which writes one byte into a pipe and
 * waits (bounded) for the byte that says the trace is written. Then, or
 * when the process is gone without having saved (SIGKILL, the OOM
 * killer), it writes the trace from the area (shm.c), says so in one
 * line on stderr, and exits. A process that saved leaves it nothing to do.
 *
 * The handler runs only async-signal-safe code (the name log append is
 * plain stores), then puts back the action it found (SIG_DFL, or
 * faulthandler's) and raises the signal again, so the process ends as it
 * would have without us.
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <linux/futex.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include "base/fs.h"
#include "base/log.h"
#include "crash.h"

/* Milliseconds the handler waits for the supervisor to write the trace:
 * more than the main program's wait for its children (VT_CHILDREN_WAIT_S)
 * and their merge. */
#define HANDLER_WAIT_MS 30000

/* pidfd exit information (Linux 6.15; older kernels refuse the ioctl). */
struct pidfd_info_v0 {
    uint64_t mask;
    uint64_t cgroupid;
    uint32_t pid, tgid, ppid, ruid, rgid, euid, egid, suid, sgid, fsuid, fsgid;
    int32_t exit_code;
};
#define VT_PIDFD_GET_INFO _IOWR(0xFF, 11, struct pidfd_info_v0)
#define VT_PIDFD_INFO_EXIT (1ull << 3)

static const int fatal[] = {SIGSEGV, SIGBUS, SIGFPE, SIGILL, SIGABRT};
#define NFATAL (sizeof(fatal) / sizeof(fatal[0]))

static struct {
    int watched;                    /* a supervisor watches the current area */
    int fired;                      /* the handler has run once */
    int installed;                  /* handlers and fork hooks are in place */
    volatile sig_atomic_t spawning; /* our own forks: the fork hooks do nothing */
    struct sigaction old[NFATAL];   /* the actions we replaced */
} s;

/* futex on a word of the shared area (not FUTEX_PRIVATE: two processes) */
static long
futex(uint32_t *word, int op, uint32_t val, int64_t timeout_ms)
{
    struct timespec ts = {.tv_sec = timeout_ms / 1000, .tv_nsec = (timeout_ms % 1000) * 1000000};
    return syscall(SYS_futex, word, op, val, timeout_ms >= 0 ? &ts : NULL, NULL, 0);
}

/* ---- the handler ------------------------------------------------------ */

static void
on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    int saved = errno;
    struct vt_shm_header *h = vt_tracer__crash.hdr;
    if (h && s.watched && !__atomic_exchange_n(&s.fired, 1, __ATOMIC_ACQ_REL) &&
        __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == VT_SHM_ARMED) {
        h->crash_ticks = vt_clock_now();
        h->crash_tid = (int64_t)syscall(SYS_gettid);
        __atomic_store_n(&h->crash_signal, (uint32_t)sig, __ATOMIC_RELEASE);
        vt_tracer__crash_name_rest();
        vt_tracer__crash_render_open();
        __atomic_store_n(&h->wake, 1, __ATOMIC_RELEASE);
        futex(&h->wake, FUTEX_WAKE, 1, -1);
        int64_t until = vt_clock_mono_ns() + (int64_t)HANDLER_WAIT_MS * 1000000;
        while (!__atomic_load_n(&h->ack, __ATOMIC_ACQUIRE)) {
            int64_t left = (until - vt_clock_mono_ns()) / 1000000;
            if (left <= 0)
                break;
            futex(&h->ack, FUTEX_WAIT, 0, left < 200 ? left : 200);
        }
    }
    for (size_t i = 0; i < NFATAL; i++)
        if (fatal[i] == sig)
            sigaction(sig, &s.old[i], NULL);
    raise(sig); /* delivered, to the action put back, when this handler returns */
    errno = saved;
}

static void
install_handlers(void)
{
    /* a stack of its own, so that a stack overflow can still be handled */
    stack_t cur;
    if (sigaltstack(NULL, &cur) == 0 && (cur.ss_flags & SS_DISABLE)) {
        size_t len = 1u << 16;
        void *mem = mmap(NULL, len, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
        if (mem != MAP_FAILED) {
            stack_t ss = {.ss_sp = mem, .ss_size = len, .ss_flags = 0};
            sigaltstack(&ss, NULL); /* kept for the life of the process */
        }
    }
    struct sigaction sa;
    memset(&sa, 0, sizeof(sa));
    sa.sa_sigaction = on_fatal;
    sa.sa_flags = SA_SIGINFO | SA_ONSTACK;
    sigemptyset(&sa.sa_mask);
    for (size_t i = 0; i < NFATAL; i++)
        sigaction(fatal[i], &sa, &s.old[i]);
}

/* ---- fork hooks ------------------------------------------------------- */

static void
hook_prepare(void)
{
    if (!s.spawning)
        vt_tracer__crash_prefork();
}

static void
hook_parent(void)
{
    if (!s.spawning)
        vt_tracer__crash_postfork_parent();
}

static void
hook_child(void)
{
    if (!s.spawning)
        vt_tracer__crash_postfork_child();
}

void
vt_tracer__supervise_forget(void)
{
    s.watched = 0;
    s.fired = 0;
}

/* ---- the supervisor --------------------------------------------------- */

/* How the process ended: its wait status from the pidfd, or -1. */
static int
exit_status(int pidfd, pid_t pid)
{
    int ioctl_works = 1;
    for (int i = 0; i < 200; i++) { /* the pidfd has it once the parent reaps: 2 s at most */
        struct pidfd_info_v0 info;
        memset(&info, 0, sizeof(info));
        info.mask = VT_PIDFD_INFO_EXIT;
        if (ioctl_works) {
            int r = ioctl(pidfd, VT_PIDFD_GET_INFO, &info);
            if (r == 0 && (info.mask & VT_PIDFD_INFO_EXIT))
                return info.exit_code;
            if (r < 0 && errno != ESRCH)
                ioctl_works = 0; /* a kernel before 6.15 */
        }
        /* still a zombie: its status is in /proc until it is reaped */
        char path[64], buf[1024];
        snprintf(path, sizeof(path), "/proc/%ld/stat", (long)pid);
        int fd = open(path, O_RDONLY | O_CLOEXEC);
        if (fd >= 0) {
            ssize_t n = read(fd, buf, sizeof(buf) - 1);
            close(fd);
            char *p = n > 0 ? (buf[n] = '\0', strrchr(buf, ')')) : NULL;
            if (p && p[1] == ' ' && p[2] == 'Z') {
                char *last = strrchr(p, ' '); /* field 52, exit_code, is the last one */
                if (last)
                    return (int)strtol(last + 1, NULL, 10);
            }
        } else if (!ioctl_works) {
            break; /* reaped, and no other way to learn how it ended */
        }
        usleep(10000);
    }
    return -1;
}

/* Writes the trace of the area in fd. sig: the signal that ended it (0:
 * unknown); how: the words for the stderr line; marker: the file to remove
 * once written (NULL: the area's). The line is printed only for the main
 * program (no marker) killed by a signal: a child's part is in the
 * parent's output, and a program that ended by os._exit() or exec said
 * nothing under python3 either, so it says nothing here (programs and
 * tests read their children's stderr). */
static void
write_crash(int fd, int sig, int64_t end_ticks, int64_t sig_tid, const char *how,
            const char *marker)
{
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0)
        return;
    size_t len = (size_t)st.st_size;
    void *base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    if (base == MAP_FAILED)
        return;
    struct vt_shm_view v;
    char msg[256];
    if (vt_shm_view_init(&v, base, len, msg, sizeof(msg)) != VT_OK) {
        vt_log_error("viztracer: %s; the trace is lost", msg);
        munmap(base, len);
        return;
    }
    const char *output = v.hdr.output;
    vt_tracer_html_fn html = vt_tracer__crash.html;
    int is_html = vt_fs_is_html(output);
    char tmp[VT_SHM_PATH_MAX + 64];
    snprintf(tmp, sizeof(tmp), "%s.%ld.crash.json", output, (long)getpid());
    struct vt_shm_end end = {.end_ticks = end_ticks, .signal = sig, .signal_tid = sig_tid};
    struct vt_shm_stats stats;
    int errnum = 0;
    enum vt_err err = VT_ERR_USAGE;
    /* The main program's children wrote into the folder: its part goes
     * there too, and the launcher's merge makes the output of them all,
     * as the program's own save would have. */
    const char *dir = vt_tracer__crash.children_dir;
    vt_tracer_children_fn merge = vt_tracer__crash.children;
    int with_children = v.hdr.marker[0] == '\0' && dir && merge && vt_fs_dir_has_files(dir);
    if (!output[0] || (is_html && !html)) {
        /* nowhere to write: err stays VT_ERR_USAGE */
    } else if (with_children) {
        size_t n = strlen(dir) + 32;
        char *own = malloc(n); /* owned */
        err = VT_ERR_NOMEM;
        if (own) {
            snprintf(own, n, "%s/parent.json", dir);
            err = vt_shm_write_trace(&v, own, &end, &stats, &errnum);
            if (err == VT_OK && merge(dir, own, output, html) < 0)
                err = VT_ERR_IO; /* the merge said why */
            free(own);
        }
    } else {
        err = vt_shm_write_trace(&v, is_html ? tmp : output, &end, &stats, &errnum);
        if (err == VT_OK && is_html) {
            if (html(tmp, output, msg, sizeof(msg)) < 0) {
                vt_log_error("viztracer: %s", msg);
                err = VT_ERR_IO;
            }
            unlink(tmp);
        }
    }
    int loud = sig != 0 && v.hdr.marker[0] == '\0';
    if (err == VT_OK) {
        if (marker ? marker[0] : v.hdr.marker[0])
            unlink(marker ? marker : v.hdr.marker);
        if (loud)
            vt_log_error("viztracer: the program %s; its trace up to then (%llu events%s) is in %s",
                         how, (unsigned long long)stats.events,
                         with_children ? ", with its child processes'" : "", output);
    } else if (loud) {
        vt_log_error("viztracer: the program %s; its trace could not be written to %s: %s", how,
                     output[0] ? output : "(no path)",
                     errnum ? strerror(errnum) : vt_strerror(err));
    }
    vt_shm_view_fini(&v);
    munmap(base, len);
}

static void
describe(int status, char *buf, size_t len, int *sig)
{
    char nb[32];
    if (status >= 0 && WIFSIGNALED(status)) {
        *sig = WTERMSIG(status);
        snprintf(buf, len, "was killed by %s", vt_shm_signal_name(*sig, nb, sizeof(nb)));
    } else if (status >= 0 && WIFEXITED(status)) {
        snprintf(buf, len, "exited (status %d) without saving", WEXITSTATUS(status));
    } else {
        snprintf(buf, len, "was killed (by SIGKILL, or it ended without saving)");
    }
}

/* The program file of process pid into buf; "" when unknown. */
static void
exe_of(pid_t pid, char *buf, size_t len)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/exe", (long)pid);
    ssize_t n = readlink(path, buf, len - 1);
    buf[n > 0 ? n : 0] = '\0';
}

/* The supervisor: two threads, one waiting for the handler's word, one
 * for the end of the process; whichever comes first writes the trace. */
struct sup {
    struct vt_shm_header *h; /* our copy of the mapping */
    int memfd, pidfd;        /* owned */
    pid_t pid;               /* the traced process */
    pthread_mutex_t lock;    /* over written */
    int written;             /* the trace is written */
};

/* The fatal handler's call: write, then answer. */
static void
on_wake(struct sup *c)
{
    struct vt_shm_header *h = c->h;
    pthread_mutex_lock(&c->lock);
    if (!c->written) {
        uint32_t sig = __atomic_load_n(&h->crash_signal, __ATOMIC_ACQUIRE);
        char how[96], nb[32];
        snprintf(how, sizeof(how), "was killed by %s",
                 vt_shm_signal_name((int)sig, nb, sizeof(nb)));
        int64_t at = h->crash_ticks, now = vt_clock_now();
        write_crash(c->memfd, (int)sig, at > 0 && at <= now ? at : now, h->crash_tid, how, NULL);
        c->written = 1;
    }
    pthread_mutex_unlock(&c->lock);
    __atomic_store_n(&h->ack, 1, __ATOMIC_RELEASE);
    futex(&h->ack, FUTEX_WAKE, 1, -1);
}

static void *
wake_thread(void *arg)
{
    struct sup *c = arg;
    while (!__atomic_load_n(&c->h->wake, __ATOMIC_ACQUIRE))
        futex(&c->h->wake, FUTEX_WAIT, 0, -1);
    on_wake(c);
    return NULL;
}

/* The process is gone: its trace, unless it was saved. Does not return. */
static void __attribute__((noreturn)) on_gone(struct sup *c)
{
    struct vt_shm_header *h = c->h;
    pthread_mutex_lock(&c->lock); /* after a write the handler asked for */
    if (!c->written && __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == VT_SHM_ARMED) {
        int64_t now = vt_clock_now();
        char how[96];
        int sig = 0;
        /* A child's marker names a process that is gone, and the parent
         * stops waiting for it: renamed after us, it makes the parent
         * wait (bounded) until its trace is written. */
        char marker[VT_SHM_PATH_MAX + 32];
        marker[0] = '\0';
        const char *slash = strrchr(h->marker, '/');
        if (h->marker[0] && slash && slash - h->marker < VT_SHM_PATH_MAX) {
            snprintf(marker, sizeof(marker), "%.*s/%ld.viztmp", (int)(slash - h->marker), h->marker,
                     (long)getpid());
            if (rename(h->marker, marker) < 0)
                snprintf(marker, sizeof(marker), "%s", h->marker);
        }
        describe(exit_status(c->pidfd, c->pid), how, sizeof(how), &sig);
        write_crash(c->memfd, sig, now, 0, how, marker[0] ? marker : NULL);
    }
    _exit(0);
}

static void __attribute__((noreturn)) supervise(int memfd, int pidfd, pid_t pid)
{
    static struct sup c;
    c.h = vt_tracer__crash.hdr;
    c.memfd = memfd;
    c.pidfd = pidfd;
    c.pid = pid;
    pthread_mutex_init(&c.lock, NULL);
    pthread_t tid;
    int threaded = pthread_create(&tid, NULL, wake_thread, &c) == 0;
    char exe[4096], now_exe[4096];
    exe_of(pid, exe, sizeof(exe));
    for (;;) {
        struct pollfd pp = {.fd = pidfd, .events = POLLIN};
        int r = poll(&pp, 1, threaded ? 1000 : 100);
        if (r == 1)
            on_gone(&c);
        if (!threaded && __atomic_load_n(&c.h->wake, __ATOMIC_ACQUIRE) && !c.written)
            on_wake(&c);
        exe_of(pid, now_exe, sizeof(now_exe));
        if (now_exe[0] && strcmp(now_exe, exe) != 0 && !c.written) {
            /* exec'd another program: the area is final. Not waiting for
             * the new program, we hold none of its pipes open. */
            if (__atomic_load_n(&c.h->state, __ATOMIC_ACQUIRE) == VT_SHM_ARMED)
                write_crash(memfd, 0, vt_clock_now(), 0,
                            "replaced itself (os.exec*) without saving", NULL);
            _exit(0);
        }
    }
}

/* Moves fd to number to (which is free or one of ours already placed). */
static int
place(int fd, int to)
{
    if (fd == to)
        return to;
    return dup2(fd, to);
}

int
vt_tracer__supervise_start(void)
{
    struct vt_crash *g = &vt_tracer__crash;
    int ready[2] = {-1, -1};
    if (pipe2(ready, O_CLOEXEC) < 0)
        return -1;
    pid_t me = getpid();
    int child = g->hdr->marker[0] != '\0'; /* a child prints nothing: no stderr kept */
    fflush(NULL);
    s.spawning = 1;
    pid_t c = fork();
    if (c == 0) {
        if (fork() != 0)
            _exit(0);
        /* the supervisor */
        setsid();
        int pidfd = (int)syscall(SYS_pidfd_open, me, 0);
        if (pidfd < 0)
            _exit(1);
        /* high numbers first, so that placing one cannot clobber another */
        int fds[3] = {g->fd, pidfd, ready[1]};
        for (int i = 0; i < 3; i++)
            fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100 + i);
        for (int i = 0; i < 3; i++)
            if (fds[i] < 0 || place(fds[i], 3 + i) < 0)
                _exit(1);
        syscall(SYS_close_range, 6u, ~0u, 0u);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
            if (child)
                dup2(null, 2);
            close(null);
        }
        struct sigaction dfl;
        memset(&dfl, 0, sizeof(dfl));
        dfl.sa_handler = SIG_DFL;
        for (int sig = 1; sig < NSIG; sig++)
            sigaction(sig, &dfl, NULL);
        signal(SIGPIPE, SIG_IGN);
        signal(SIGINT, SIG_IGN);
        sigset_t none;
        sigemptyset(&none);
        sigprocmask(SIG_SETMASK, &none, NULL);
        if (write(5, "1", 1) != 1)
            _exit(1);
        close(5);
        supervise(3, 4, me);
    }
    s.spawning = 0;
    close(ready[1]);
    if (c < 0) {
        close(ready[0]);
        return -1;
    }
    int status;
    while (waitpid(c, &status, 0) < 0 && errno == EINTR) {
    }
    char byte;
    struct pollfd p = {.fd = ready[0], .events = POLLIN};
    int ok = poll(&p, 1, 10000) == 1 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    if (!ok)
        return -1;
    /* The supervisor holds the memfd; we need no file of ours from now on. */
    close(g->fd);
    g->fd = -1;
    vt_tracer__supervise_forget();
    s.watched = 1;
    if (!s.installed) {
        s.installed = 1;
        install_handlers();
        pthread_atfork(hook_prepare, hook_parent, hook_child);
    }
    return 0;
}
