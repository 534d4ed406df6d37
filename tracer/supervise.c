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

/* Seconds the handler waits for the supervisor to write the trace. */
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
    int wake_w;                     /* owned: the handler's byte goes here, or -1 */
    int ack_r;                      /* owned: the supervisor's reply comes here, or -1 */
    uint64_t wake_ino, ack_ino;     /* their inodes: the program may close or reuse them */
    int fired;                      /* the handler has run once */
    int installed;                  /* handlers and fork hooks are in place */
    volatile sig_atomic_t spawning; /* our own forks: the fork hooks do nothing */
    struct sigaction old[NFATAL];   /* the actions we replaced */
} s = {.wake_w = -1, .ack_r = -1};

/* ---- the handler ------------------------------------------------------ */

static void
on_fatal(int sig, siginfo_t *si, void *uc)
{
    (void)si;
    (void)uc;
    int saved = errno;
    struct vt_shm_header *h = vt_tracer__crash.hdr;
    if (h && s.wake_w >= 0 && !__atomic_exchange_n(&s.fired, 1, __ATOMIC_ACQ_REL) &&
        __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == VT_SHM_ARMED) {
        h->crash_ticks = vt_clock_now();
        h->crash_tid = (int64_t)syscall(SYS_gettid);
        __atomic_store_n(&h->crash_signal, (uint32_t)sig, __ATOMIC_RELEASE);
        vt_tracer__crash_name_rest();
        vt_tracer__crash_render_extras();
        if (vt_tracer__crash_fd_is(s.wake_w, s.wake_ino) &&
            vt_tracer__crash_fd_is(s.ack_r, s.ack_ino) && write(s.wake_w, "S", 1) == 1) {
            struct pollfd p = {.fd = s.ack_r, .events = POLLIN};
            int64_t until = vt_clock_mono_ns() + (int64_t)HANDLER_WAIT_MS * 1000000;
            for (;;) {
                int64_t left = (until - vt_clock_mono_ns()) / 1000000;
                if (left <= 0 || poll(&p, 1, (int)left) != -1 || errno != EINTR)
                    break;
            }
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
    if (s.wake_w >= 0)
        close(s.wake_w);
    if (s.ack_r >= 0)
        close(s.ack_r);
    s.wake_w = s.ack_r = -1;
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
                    return atoi(last + 1);
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
    if (output[0] && (!is_html || html)) {
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
            vt_log_error("viztracer: the program %s; its trace up to then (%llu events) is in %s",
                         how, (unsigned long long)stats.events, output);
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

/* 1 when process pid still maps our area (0: it replaced itself with
 * os.exec*, so nothing more will be recorded in it); 1 when unknown. */
static int
maps_area(pid_t pid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/maps", (long)pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    static const char needle[] = "/memfd:" VT_SHM_MEMFD_NAME " ";
    const size_t keep = sizeof(needle) - 1;
    char buf[65536 + sizeof(needle)];
    size_t have = 0;
    int found = 0;
    ssize_t n;
    while (!found && (n = read(fd, buf + have, sizeof(buf) - 1 - have)) > 0) {
        have += (size_t)n;
        buf[have] = '\0';
        found = memmem(buf, have, needle, keep) != NULL;
        if (have > keep) { /* keep the tail: a match may straddle two reads */
            memmove(buf, buf + have - keep, keep);
            have = keep;
        }
    }
    close(fd);
    return found || n < 0;
}

static void __attribute__((noreturn))
supervise(int memfd, int pidfd, int wake_r, int ack_w, pid_t pid)
{
    const struct vt_shm_header *h = vt_tracer__crash.hdr; /* our copy of the mapping */
    struct pollfd p[2] = {{.fd = pidfd, .events = POLLIN}, {.fd = wake_r, .events = POLLIN}};
    int written = 0;
    for (;;) {
        if (poll(p, 2, -1) < 0) {
            if (errno == EINTR)
                continue;
            _exit(1);
        }
        int gone = (p[0].revents & (POLLIN | POLLHUP)) != 0;
        if (p[1].revents & (POLLIN | POLLHUP)) {
            char c = 0;
            ssize_t n = read(wake_r, &c, 1);
            if (n == 1 && c == 'S' && !written) {
                uint32_t sig = __atomic_load_n(&h->crash_signal, __ATOMIC_ACQUIRE);
                char how[96], nb[32];
                snprintf(how, sizeof(how), "was killed by %s",
                         vt_shm_signal_name((int)sig, nb, sizeof(nb)));
                int64_t at = h->crash_ticks, now = vt_clock_now();
                write_crash(memfd, (int)sig, at > 0 && at <= now ? at : now, h->crash_tid, how,
                            NULL);
                written = 1;
                if (write(ack_w, "1", 1) < 0) {
                    /* the process is gone already: nothing waits for the reply */
                }
            } else if (n == 0) {
                /* every write end closed: it died, replaced itself (exec) or
                 * closed our pipe; only the pidfd says which */
                p[1].fd = -1;
                /* a dying process closes its files before its pidfd says
                 * so (and drops its memory before that): give it a moment */
                struct pollfd pp = {.fd = pidfd, .events = POLLIN};
                gone = gone || poll(&pp, 1, 500) == 1;
                if (!gone && !written && !maps_area(pid)) {
                    /* exec'd: the area is final. Not waiting for the new
                     * program, we hold none of its pipes (stderr) open. */
                    if (__atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == VT_SHM_ARMED)
                        write_crash(memfd, 0, vt_clock_now(), 0,
                                    "replaced itself (os.exec*) without saving", NULL);
                    _exit(0);
                }
            }
        }
        if (gone) {
            if (!written && __atomic_load_n(&h->state, __ATOMIC_ACQUIRE) == VT_SHM_ARMED) {
                int64_t now = vt_clock_now();
                char how[96];
                int sig = 0;
                /* A child's marker names a process that is gone, and the
                 * parent stops waiting for it: renamed after us, it makes
                 * the parent wait (bounded) until its trace is written. */
                char marker[VT_SHM_PATH_MAX + 32];
                marker[0] = '\0';
                const char *slash = strrchr(h->marker, '/');
                if (h->marker[0] && slash && slash - h->marker < VT_SHM_PATH_MAX) {
                    snprintf(marker, sizeof(marker), "%.*s/%ld.viztmp", (int)(slash - h->marker),
                             h->marker, (long)getpid());
                    if (rename(h->marker, marker) < 0)
                        snprintf(marker, sizeof(marker), "%s", h->marker);
                }
                describe(exit_status(pidfd, pid), how, sizeof(how), &sig);
                write_crash(memfd, sig, now, 0, how, marker[0] ? marker : NULL);
            }
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
    int wake[2] = {-1, -1}, ack[2] = {-1, -1}, ready[2] = {-1, -1};
    if (pipe2(wake, O_CLOEXEC) < 0 || pipe2(ack, O_CLOEXEC) < 0 || pipe2(ready, O_CLOEXEC) < 0)
        goto fail;
    fcntl(wake[1], F_SETFL, O_NONBLOCK); /* the handler never blocks on it */
    pid_t me = getpid();
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
        int fds[5] = {g->fd, pidfd, wake[0], ack[1], ready[1]};
        for (int i = 0; i < 5; i++)
            fds[i] = fcntl(fds[i], F_DUPFD_CLOEXEC, 100 + i);
        for (int i = 0; i < 5; i++)
            if (fds[i] < 0 || place(fds[i], 3 + i) < 0)
                _exit(1);
        syscall(SYS_close_range, 8u, ~0u, 0u);
        int null = open("/dev/null", O_RDWR | O_CLOEXEC);
        if (null >= 0) {
            dup2(null, 0);
            dup2(null, 1);
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
        if (write(7, "1", 1) != 1)
            _exit(1);
        close(7);
        supervise(3, 4, 5, 6, me);
    }
    s.spawning = 0;
    if (c < 0)
        goto fail;
    int status;
    while (waitpid(c, &status, 0) < 0 && errno == EINTR) {
    }
    close(wake[0]);
    close(ack[1]);
    close(ready[1]);
    wake[0] = ack[1] = ready[1] = -1;
    char byte;
    struct pollfd p = {.fd = ready[0], .events = POLLIN};
    int ok = poll(&p, 1, 10000) == 1 && read(ready[0], &byte, 1) == 1;
    close(ready[0]);
    if (!ok) {
        close(wake[1]);
        close(ack[0]);
        return -1;
    }
    vt_tracer__supervise_forget();
    s.wake_w = vt_tracer__crash_fd_high(wake[1]);
    s.ack_r = vt_tracer__crash_fd_high(ack[0]);
    struct stat st;
    s.wake_ino = fstat(s.wake_w, &st) == 0 ? (uint64_t)st.st_ino : 0;
    s.ack_ino = fstat(s.ack_r, &st) == 0 ? (uint64_t)st.st_ino : 0;
    if (!s.installed) {
        s.installed = 1;
        install_handlers();
        pthread_atfork(hook_prepare, hook_parent, hook_child);
    }
    return 0;
fail:
    s.spawning = 0;
    for (int i = 0; i < 2; i++) {
        if (wake[i] >= 0)
            close(wake[i]);
        if (ack[i] >= 0)
            close(ack[i]);
        if (ready[i] >= 0)
            close(ready[i]);
    }
    return -1;
}
