/* termkick.c: see termkick.h. */
#define _GNU_SOURCE
#include "termkick.h"

#include <errno.h>
#include <signal.h>
#include <string.h>
#include <sys/syscall.h>
#include <time.h>
#include <unistd.h>

#ifndef sigev_notify_thread_id
#define sigev_notify_thread_id _sigev_un._tid
#endif

/* Interval of the repeated SIGTERM, ns. */
#define KICK_NS (20L * 1000 * 1000)

static struct sigaction python_action; /* the handler we wrap (CPython's) */
static timer_t kick_timer;             /* valid when have_timer */
static volatile sig_atomic_t have_timer;
static volatile sig_atomic_t armed;
static volatile sig_atomic_t handled;

static void
set_timer(long ns)
{
    struct itimerspec it;
    memset(&it, 0, sizeof(it));
    it.it_value.tv_nsec = ns;
    it.it_interval.tv_nsec = ns;
    timer_settime(kick_timer, 0, &it, NULL);
}

static void
on_term(int sig, siginfo_t *info, void *ctx)
{
    int saved = errno;
    if (info && info->si_code == SI_TIMER && handled) {
        errno = saved;
        return; /* a late kick after our handler ran */
    }
    if (python_action.sa_flags & SA_SIGINFO)
        python_action.sa_sigaction(sig, info, ctx);
    else if (python_action.sa_handler != SIG_DFL && python_action.sa_handler != SIG_IGN)
        python_action.sa_handler(sig);
    if (have_timer && !armed && !handled) {
        armed = 1;
        set_timer(KICK_NS);
    }
    errno = saved;
}

enum vt_err
vt_termkick_install(void)
{
    struct sigaction cur;
    if (sigaction(SIGTERM, NULL, &cur) != 0)
        return VT_ERR_IO;
    /* After fork the wrapper may be inherited: keep the handler it wraps. */
    int wrapped = (cur.sa_flags & SA_SIGINFO) && cur.sa_sigaction == on_term;
    if (!wrapped && (cur.sa_handler == SIG_DFL || cur.sa_handler == SIG_IGN)) {
        errno = EINVAL;
        return VT_ERR_IO;
    }
    struct sigevent ev;
    memset(&ev, 0, sizeof(ev));
    ev.sigev_notify = SIGEV_THREAD_ID;
    ev.sigev_signo = SIGTERM;
    ev.sigev_notify_thread_id = (pid_t)syscall(SYS_gettid);
    timer_t t;
    if (timer_create(CLOCK_MONOTONIC, &ev, &t) != 0)
        return VT_ERR_IO;
    /* Nothing of this runs in the handler yet: SIGTERM is blocked here. */
    sigset_t term, old;
    sigemptyset(&term);
    sigaddset(&term, SIGTERM);
    pthread_sigmask(SIG_BLOCK, &term, &old);
    kick_timer = t;
    have_timer = 1;
    armed = 0;
    handled = 0;
    if (!wrapped) {
        python_action = cur;
        struct sigaction sa = cur;
        sa.sa_sigaction = on_term;
        sa.sa_flags = (cur.sa_flags | SA_SIGINFO) & ~SA_RESETHAND;
        sigaction(SIGTERM, &sa, NULL);
    }
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    return VT_OK;
}

void
vt_termkick_handled(void)
{
    handled = 1;
    if (have_timer && armed)
        set_timer(0);
}
