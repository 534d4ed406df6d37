/* inject.c: one Python statement run in another process, through ptrace;
 * see inject.h. x86-64 Linux only; elsewhere vt_inject_python() refuses.
 *
 * find the C API (the target's maps -> the ELF file defining it) -> seize
 * and interrupt the main thread, save its general registers -> map a few
 * pages in it with a raw mmap system call (single-stepping a syscall
 * instruction of its own text) -> write a trampoline there that saves the
 * thread's extended state with XSAVE, calls a function and restores it, so
 * no register of any kind changes and ptrace never touches the extended
 * state (on AMX machines the kernel refuses such writes, which is what broke
 * gdb's inferior calls) -> PyGILState_Check, then Py_AddPendingCall or
 * PyGILState_Ensure + PyRun_SimpleString + PyGILState_Release -> unmap,
 * registers back, detach, signals that came meanwhile sent again.
 *
 * A thread interrupted inside a system call (time.sleep, select, read) has
 * rax = -ERESTART* and orig_rax = the call: the injected runs use
 * orig_rax = -1, so the kernel's restart logic leaves them alone, and the
 * saved registers put back make the kernel restart the interrupted call on
 * detach as if nothing happened (an absolute clock_nanosleep ends on time).
 *
 * Sections: the target's files, ptrace steps, the injection.
 */
#include "inject.h"

#if defined(__x86_64__) && defined(__linux__)

#include <cpuid.h>
#include <elf.h>
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/ptrace.h>
#include <sys/stat.h>
#include <sys/syscall.h>
#include <sys/user.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "../tracer/base/buf.h"
#include "../tracer/base/fs.h"

/* Cap on the maps text we read: a process with this much mapped is odd. */
#define MAPS_MAX ((size_t)16 << 20)
/* Seconds the main thread may take to stop (it is not in a D state long). */
#define STOP_TIMEOUT 10.0
/* Seconds spent looking for a place where the main thread may run code. */
#define SAFE_TIMEOUT 5.0
#define PAGE ((uint64_t)4096)

/* The C API functions, in this order, then the runtime state, which holds
 * the GIL (inject.c: run_code()); FN_RUNTIME may be missing. */
enum { FN_CHECK, FN_ENSURE, FN_RELEASE, FN_RUN, FN_PENDING, FN_RUNTIME, FN_COUNT };
static const char *const fn_names[FN_COUNT] = {"PyGILState_Check",   "PyGILState_Ensure",
                                               "PyGILState_Release", "PyRun_SimpleString",
                                               "Py_AddPendingCall",  "_PyRuntime"};

/* Where the target's C API is. */
struct api {
    uint64_t addr[FN_COUNT]; /* addresses in the target; addr[FN_RUNTIME] may be 0 */
    uint64_t runtime_size;   /* bytes of _PyRuntime, 0 when unknown */
};

/* ---- the target's files ------------------------------------------------ */

/* Reads /proc/PID/maps into an owned NUL-terminated string ("" for a
 * zombie). Returns 0, or an errno value (EFBIG past MAPS_MAX bytes). */
static int
read_maps(long pid, char **out)
{
    char path[64], chunk[16384];
    snprintf(path, sizeof(path), "/proc/%ld/maps", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    int err = errno; /* saved: the checks below read it once */
    if (fd < 0)
        return err != 0 ? err : EIO;
    struct vt_buf b;
    vt_buf_init(&b, MAPS_MAX);
    err = 0;
    for (;;) {
        ssize_t got = read(fd, chunk, sizeof(chunk));
        if (got < 0 && errno == EINTR)
            continue;
        int e = errno;
        if (got < 0)
            err = e != 0 ? e : EIO;
        else if (got > 0 && vt_buf_add(&b, chunk, (size_t)got) != VT_OK)
            err = EFBIG;
        if (got <= 0 || err != 0)
            break;
    }
    close(fd);
    if (err != 0) {
        vt_buf_fini(&b);
        return err;
    }
    *out = vt_buf_take(&b, NULL);
    return 0;
}

/* Whether path (from the target's maps) names a file that may define the
 * C API: libpython, or the executable that links it in (the first mapping). */
static int
candidate(const struct vt_inject_map *m, int first)
{
    const char *base = strrchr(m->path, '/');
    return m->path[0] == '/' && !m->deleted && (first || (base && strstr(base, "libpython")));
}

/* Looks up the C API in the file path as the target sees it (through
 * /proc/PID/root, so a container's files are found) and, when every name is
 * there, turns each file offset into an address through the maps of that
 * path. Returns 1 when all were found. */
static int
lookup_in(long pid, const char *maps, const char *path, struct api *api)
{
    memset(api, 0, sizeof(*api));
    char full[PATH_MAX + 64];
    snprintf(full, sizeof(full), "/proc/%ld/root%s", pid, path);
    int fd = open(full, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 0;
    struct stat st;
    void *img = MAP_FAILED;
    if (fstat(fd, &st) == 0 && st.st_size > 0)
        img = mmap(NULL, (size_t)st.st_size, PROT_READ, MAP_PRIVATE, fd, 0);
    close(fd);
    if (img == MAP_FAILED)
        return 0;
    uint64_t offs[FN_COUNT], sizes[FN_COUNT];
    int found =
        vt_inject_elf_lookup(img, (size_t)st.st_size, fn_names, FN_COUNT, offs, sizes) == VT_OK;
    munmap(img, (size_t)st.st_size);
    for (int i = 0; found && i < FN_COUNT; i++) {
        uint64_t *addr = &api->addr[i];
        *addr = 0;
        struct vt_inject_map m;
        const char *p = maps;
        int r;
        /* functions in an executable mapping of the file; the runtime in any */
        while (*addr == 0 && offs[i] != 0 && (r = vt_inject_maps_next(&p, &m)) != 0)
            if (r > 0 && (i == FN_RUNTIME || (m.prot & PROT_EXEC)) && strcmp(m.path, path) == 0 &&
                offs[i] >= m.offset && offs[i] - m.offset < m.end - m.start)
                *addr = m.start + (offs[i] - m.offset);
        found = *addr != 0 || i == FN_RUNTIME;
    }
    api->runtime_size = api->addr[FN_RUNTIME] ? sizes[FN_RUNTIME] : 0;
    return found;
}

/* Whether pid runs a 64-bit executable (1 when it cannot be told). */
static int
is_64bit(long pid)
{
    char path[64];
    unsigned char ident[EI_NIDENT];
    snprintf(path, sizeof(path), "/proc/%ld/exe", pid);
    int fd = open(path, O_RDONLY | O_CLOEXEC);
    if (fd < 0)
        return 1;
    ssize_t got = read(fd, ident, sizeof(ident));
    close(fd);
    return got != (ssize_t)sizeof(ident) || memcmp(ident, ELFMAG, SELFMAG) != 0 ||
           ident[EI_CLASS] != ELFCLASS32;
}

/* Finds the C API functions of pid. Returns 0, ESRCH when the process is
 * gone, EACCES/EPERM when its maps are not ours to read, or ENOENT when no
 * mapped file defines them all. */
static int
find_api(long pid, struct api *api)
{
    char *maps;
    int err = read_maps(pid, &maps);
    if (err == ENOENT)
        return ESRCH;
    if (err != 0)
        return err;
    if (maps[0] == '\0') { /* a zombie maps nothing */
        free(maps);
        return ESRCH;
    }
    /* libpython first, then the executable (a static build, as ours). */
    err = ENOENT;
    for (int pass = 0; pass < 2 && err == ENOENT; pass++) {
        const char *p = maps;
        struct vt_inject_map m;
        int r, first = 1;
        char tried[PATH_MAX] = "";
        while (err == ENOENT && (r = vt_inject_maps_next(&p, &m)) != 0) {
            if (r > 0 && candidate(&m, pass == 1 && first) && strcmp(m.path, tried) != 0) {
                snprintf(tried, sizeof(tried), "%s", m.path);
                if (lookup_in(pid, maps, m.path, api))
                    err = 0;
            }
            if (r > 0)
                first = 0;
        }
    }
    free(maps);
    return err;
}

/* ---- ptrace steps ------------------------------------------------------ */

/* The stopped thread: the main thread, whose id is the process id. */
struct tracee {
    pid_t pid;                     /* the process and its main thread */
    int mem;                       /* /proc/PID/mem, owned, or -1 */
    int seized;                    /* 1 once PTRACE_SEIZE succeeded */
    struct user_regs_struct saved; /* the registers at the stop, put back at the end */
    uint64_t deferred;             /* bit signo-1: signals held back while our code ran */
    uint64_t syscall;              /* address of a syscall instruction in its text */
};

static void
nap_us(long us)
{
    struct timespec ts = {0, us * 1000L};
    nanosleep(&ts, NULL);
}

static double
now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* Waits for the next stop or the end of t, up to timeout seconds (<= 0:
 * as long as it takes). Returns 0 with *st set, ESRCH when the process
 * ended, or ETIMEDOUT. */
static int
wait_stop(struct tracee *t, double timeout, int *st)
{
    double deadline = now_s() + timeout;
    long pause = 20;
    for (;;) {
        pid_t got = waitpid(t->pid, st, __WALL | WNOHANG);
        if (got == t->pid)
            return WIFSTOPPED(*st) ? 0 : ESRCH;
        if (got < 0 && errno != EINTR)
            return ESRCH;
        if (timeout > 0 && now_s() > deadline)
            return ETIMEDOUT;
        nap_us(pause);
        if (pause < 2000)
            pause *= 2;
    }
}

/* Stops the seized, running t with PTRACE_INTERRUPT and saves its
 * registers; signals that come first are held back. Returns the outcome
 * (VT_INJECT_RAN for done). */
static enum vt_inject_outcome
interrupt_main(struct tracee *t, struct vt_inject_result *res)
{
    if (ptrace(PTRACE_INTERRUPT, t->pid, NULL, NULL) != 0)
        return VT_INJECT_NOPROC;
    for (;;) {
        int st, err = wait_stop(t, STOP_TIMEOUT, &st);
        if (err == ESRCH)
            return VT_INJECT_NOPROC;
        if (err != 0) {
            res->why = "its main thread did not stop";
            res->errnum = err;
            return VT_INJECT_FAILED;
        }
        int sig = WSTOPSIG(st);
        if (st >> 16 == PTRACE_EVENT_STOP) {
            /* SIGTRAP: our interrupt; a stop signal: a group-stop, kept */
            if (sig != SIGTRAP)
                return VT_INJECT_STOPPED;
            break;
        }
        if (sig >= 1 && sig <= 64)
            t->deferred |= 1ull << (sig - 1);
        /* A stop signal sent just before we seized it, not delivered yet:
         * the process is being stopped, and let_go() sends it again. */
        if (sig == SIGSTOP || sig == SIGTSTP || sig == SIGTTIN || sig == SIGTTOU)
            return VT_INJECT_STOPPED;
        if (ptrace(PTRACE_CONT, t->pid, NULL, NULL) != 0)
            return VT_INJECT_NOPROC;
    }
    if (ptrace(PTRACE_GETREGS, t->pid, NULL, &t->saved) != 0)
        return VT_INJECT_NOPROC;
    return VT_INJECT_RAN;
}

/* Seizes t and stops it (interrupt_main()). */
static enum vt_inject_outcome
stop_main(struct tracee *t, struct vt_inject_result *res)
{
    if (ptrace(PTRACE_SEIZE, t->pid, NULL, NULL) != 0) {
        res->errnum = errno;
        return errno == ESRCH ? VT_INJECT_NOPROC : VT_INJECT_NOPERM;
    }
    t->seized = 1;
    return interrupt_main(t, res);
}

/* Whether the saved registers show a thread blocked in a system call that
 * the interrupt broke off, which the kernel restarts on resume (rax is
 * -ERESTARTSYS, -ERESTARTNOINTR, -ERESTARTNOHAND or -ERESTART_RESTARTBLOCK,
 * kernel-internal codes): time.sleep, select, read, a lock's futex wait;
 * but not a futex wait inside the runtime state, where the GIL's mutex and
 * condition variable live: a second wait on that condition variable from
 * the same thread deadlocks glibc's condvar (a signaller waits for the
 * first, suspended, waiter to leave its group), and so would every thread. */
static int
blocked(const struct user_regs_struct *r, const struct api *api)
{
    int64_t rax = (int64_t)r->rax;
    if ((int64_t)r->orig_rax < 0 || (rax != -512 && rax != -513 && rax != -514 && rax != -516))
        return 0;
    if (r->orig_rax == 449) /* futex_waitv: its futexes are not in the registers */
        return 0;
    /* restart_syscall resumes a call broken off before (a futex wait with a
     * relative timeout, which our own interrupt may have broken off): the
     * registers still hold that call's arguments. */
    if (r->orig_rax != SYS_futex && r->orig_rax != SYS_restart_syscall)
        return 1;
    if (api->addr[FN_RUNTIME] == 0)
        return 0; /* the GIL's place unknown: no futex wait is safe */
    return r->rdi - api->addr[FN_RUNTIME] >= api->runtime_size;
}

/* Resumes t with regs (step: one instruction) and waits until it stops at
 * our trap, rip == want; other signals are held back. Returns 0 with regs
 * as they are there, ESRCH when the process ended, or EFAULT when the code
 * faulted (*fault: the signal). */
static int
run_until(struct tracee *t, struct user_regs_struct *regs, int step, uint64_t want, int *fault)
{
    if (ptrace(PTRACE_SETREGS, t->pid, NULL, regs) != 0)
        return ESRCH;
    for (;;) {
        if (ptrace(step ? PTRACE_SINGLESTEP : PTRACE_CONT, t->pid, NULL, NULL) != 0)
            return ESRCH;
        int st;
        if (wait_stop(t, 0, &st) != 0)
            return ESRCH;
        int sig = WSTOPSIG(st);
        if (st >> 16 != 0)
            continue; /* a late PTRACE_INTERRUPT stop */
        if (sig == SIGTRAP || sig == SIGSEGV || sig == SIGBUS || sig == SIGILL || sig == SIGFPE) {
            if (ptrace(PTRACE_GETREGS, t->pid, NULL, regs) != 0)
                return ESRCH;
            if (sig == SIGTRAP && regs->rip == want)
                return 0;
            *fault = sig;
            return EFAULT;
        }
        if (sig >= 1 && sig <= 64)
            t->deferred |= 1ull << (sig - 1);
    }
}

/* Runs system call nr with its six arguments in t, at its own syscall
 * instruction: registers are untouched by it but rax, rcx and r11, which
 * the saved set puts back. Returns 0 with the kernel's result in *ret, or
 * what run_until() returns. */
static int
remote_syscall(struct tracee *t, long nr, uint64_t a, uint64_t b, uint64_t c, uint64_t d,
               uint64_t e, uint64_t f, int64_t *ret, int *fault)
{
    struct user_regs_struct r = t->saved;
    r.rax = (uint64_t)nr;
    r.orig_rax = (uint64_t)-1; /* not in a system call: no restart */
    r.rdi = a;
    r.rsi = b;
    r.rdx = c;
    r.r10 = d;
    r.r8 = e;
    r.r9 = f;
    r.rip = t->syscall;
    r.eflags &= ~(uint64_t)0x100; /* TF: ptrace sets it for the step */
    int err = run_until(t, &r, 1, t->syscall + 2, fault);
    if (err == 0)
        *ret = (int64_t)r.rax;
    return err;
}

/* Finds a syscall instruction (0f 05) in an executable file mapping of t:
 * bytes that decode as one from where we jump, whatever they are part of. */
static int
find_syscall(struct tracee *t, const char *maps)
{
    const char *p = maps;
    struct vt_inject_map m;
    int r;
    unsigned char buf[65536];
    while ((r = vt_inject_maps_next(&p, &m)) != 0) {
        if (r < 0 || !(m.prot & PROT_EXEC) || !(m.prot & PROT_READ) || m.path[0] != '/')
            continue;
        for (uint64_t at = m.start; at < m.end; at += sizeof(buf) - 1) {
            size_t want = m.end - at < sizeof(buf) ? (size_t)(m.end - at) : sizeof(buf);
            ssize_t got = pread(t->mem, buf, want, (off_t)at);
            if (got < 2)
                break;
            for (ssize_t i = 0; i + 1 < got; i++)
                if (buf[i] == 0x0f && buf[i + 1] == 0x05) {
                    t->syscall = at + (uint64_t)i;
                    return 0;
                }
        }
    }
    return ENOENT;
}

/* Writes len bytes at addr of t. Returns 0 or an errno value. */
static int
poke(struct tracee *t, uint64_t addr, const void *data, size_t len)
{
    ssize_t put = pwrite(t->mem, data, len, (off_t)addr);
    return put == (ssize_t)len ? 0 : put < 0 ? errno : EIO;
}

/* ---- the injection ----------------------------------------------------- */

/* The trampoline, written at the start of the mapped pages: r12 = a
 * 64-byte aligned save area, rbx = the function, rdi/rsi its arguments.
 *   mov eax,0xfff9ffff; mov edx,-1; xsave64 [r12]  (every component but
 *       AMX tiles, bits 17 and 18, which CPython never uses)
 *   call rbx; mov r13,rax
 *   mov eax,0xfff9ffff; mov edx,-1; xrstor64 [r12]; mov rax,r13; int3
 * Without XSAVE the two state instructions are fxsave64/fxrstor64 (x87 and
 * SSE, all there is then). rbx, r12 and r13 are callee-saved. */
static const unsigned char tramp_xsave[] = {
    0xb8, 0xff, 0xff, 0xf9, 0xff, 0xba, 0xff, 0xff, 0xff, 0xff, 0x49, 0x0f, 0xae,
    0x24, 0x24, 0xff, 0xd3, 0x49, 0x89, 0xc5, 0xb8, 0xff, 0xff, 0xf9, 0xff, 0xba,
    0xff, 0xff, 0xff, 0xff, 0x49, 0x0f, 0xae, 0x2c, 0x24, 0x4c, 0x89, 0xe8, 0xcc};
#define TRAMP_LEN sizeof(tramp_xsave)
#define TRAMP_SAVE_AT 10    /* offset of the xsave64 */
#define TRAMP_RESTORE_AT 30 /* offset of the xrstor64 */

/* Bytes of the extended state save area XSAVE needs here (the same CPU and
 * kernel as the target's), 0 when the OS does not enable XSAVE. */
static size_t
xsave_size(void)
{
    unsigned a, b, c, d;
    if (!__get_cpuid(1, &a, &b, &c, &d) || !(c & (1u << 27))) /* OSXSAVE */
        return 0;
    __cpuid_count(0xd, 0, a, b, c, d);
    return b;
}

/* The pages mapped in the target: trampoline, save area, statement. */
struct remote {
    uint64_t base; /* start of the mapping, 0 before it exists */
    uint64_t len;  /* its length */
    uint64_t save; /* the save area (64-byte aligned) */
    uint64_t text; /* the statement, NUL-terminated */
};

/* Calls fn(a, b) in t through the trampoline, on t's own stack below its
 * red zone. Returns 0 with the function's rax in *ret, or run_until()'s. */
static int
remote_call(struct tracee *t, const struct remote *rm, uint64_t fn, uint64_t a, uint64_t b,
            uint64_t *ret, int *fault)
{
    struct user_regs_struct r = t->saved;
    r.rsp = (t->saved.rsp - 128) & ~(uint64_t)15; /* call leaves it 8 mod 16, as the ABI wants */
    r.rip = rm->base;
    r.orig_rax = (uint64_t)-1;
    r.rbx = fn;
    r.r12 = rm->save;
    r.rdi = a;
    r.rsi = b;
    r.rax = 0;
    r.eflags &= ~(uint64_t)0x500; /* DF clear at a call (ABI); TF clear */
    int err = run_until(t, &r, 0, rm->base + TRAMP_LEN, fault);
    if (err == 0)
        *ret = r.rax;
    return err;
}

/* Maps the pages in t and fills them. Returns 0 or an errno value. */
static int
remote_map(struct tracee *t, struct remote *rm, const char *code, int *fault)
{
    size_t xs = xsave_size();
    unsigned char tramp[TRAMP_LEN];
    memcpy(tramp, tramp_xsave, TRAMP_LEN);
    if (xs == 0) {
        xs = 512;
        tramp[TRAMP_SAVE_AT + 3] = 0x04;    /* /0: fxsave64 */
        tramp[TRAMP_RESTORE_AT + 3] = 0x0c; /* /1: fxrstor64 */
    }
    size_t xs_pages = (xs + PAGE - 1) / PAGE * PAGE;
    uint64_t len = PAGE + xs_pages + (strlen(code) + 1 + PAGE - 1) / PAGE * PAGE;
    int64_t ret;
    int err = remote_syscall(t, SYS_mmap, 0, len, PROT_READ | PROT_WRITE,
                             MAP_PRIVATE | MAP_ANONYMOUS, (uint64_t)-1, 0, &ret, fault);
    if (err != 0)
        return err;
    if (ret < 0 && ret > -4096)
        return (int)-ret;
    rm->base = (uint64_t)ret;
    rm->len = len;
    rm->save = rm->base + PAGE; /* fresh zero pages: the XSAVE header is clean */
    rm->text = rm->save + xs_pages;
    err = poke(t, rm->base, tramp, sizeof(tramp));
    if (err == 0)
        err = poke(t, rm->text, code, strlen(code) + 1);
    if (err != 0)
        return err;
    err = remote_syscall(t, SYS_mprotect, rm->base, PAGE, PROT_READ | PROT_EXEC, 0, 0, 0, &ret,
                         fault);
    return err != 0 ? err : ret < 0 ? (int)-ret : 0;
}

/* Seconds let_go() waits for a stopped process to be stopped again. */
#define RESTOP_TIMEOUT 5.0

/* Puts the registers back, detaches and sends again the signals that came
 * while our code ran (they were not lost, only late). A process that was
 * stopped (job control) when we came is left stopped: the detach wakes it
 * only to stop again before it runs any of its code, and we wait until it
 * has, so that whoever looks next sees it stopped. */
static void
let_go(struct tracee *t, int restore, int stopped)
{
    if (t->seized) {
        if (restore)
            ptrace(PTRACE_SETREGS, t->pid, NULL, &t->saved);
        ptrace(PTRACE_DETACH, t->pid, NULL, NULL);
        for (int s = 1; s <= 64; s++)
            if (t->deferred >> (s - 1) & 1)
                syscall(SYS_tgkill, t->pid, t->pid, s);
        double deadline = now_s() + RESTOP_TIMEOUT;
        for (char st; stopped && (st = vt_fs_proc_state(t->pid, NULL)) != 'T' && st != 0 &&
                      st != 'Z' && now_s() < deadline;)
            nap_us(1000);
    }
    if (t->mem >= 0)
        close(t->mem);
}

/* Lets t run a moment and stops it again: a new place to try. */
static enum vt_inject_outcome
move_on(struct tracee *t, long us, struct vt_inject_result *res)
{
    if (ptrace(PTRACE_SETREGS, t->pid, NULL, &t->saved) != 0 ||
        ptrace(PTRACE_CONT, t->pid, NULL, NULL) != 0)
        return VT_INJECT_NOPROC;
    nap_us(us);
    return interrupt_main(t, res);
}

/* Runs code in the stopped t; see vt_inject_python(). Where the main thread
 * stopped decides what may run there:
 * - it holds the GIL (PyGILState_Check() is 1): it is somewhere inside the
 *   interpreter, where running Python could break what it does, so the code
 *   is queued with Py_AddPendingCall (a short lock, nothing else) and runs
 *   at the next bytecode boundary of the main thread, the safe point signal
 *   handlers use;
 * - it does not and is blocked in a system call (sleeping, waiting for I/O
 *   or a lock): it holds none of the interpreter's locks, so it takes the
 *   GIL with PyGILState_Ensure, as any C callback does, runs the code and
 *   gives the GIL back; the other threads run meanwhile, so one of them
 *   holding the GIL can hand it over;
 * - anywhere else (between the GIL and a system call, where it may hold the
 *   GIL's own mutex or malloc's lock), nothing may run: it goes on a moment
 *   and is stopped again, for up to SAFE_TIMEOUT seconds. */
static enum vt_inject_outcome
run_code(struct tracee *t, const struct api *api, const char *code, struct vt_inject_result *res)
{
    const uint64_t *fn = api->addr;
    struct remote rm = {0};
    uint64_t gil = 0, rc = 0, st;
    int fault = 0, safe = 0;
    enum vt_inject_outcome out = VT_INJECT_RAN;
    double deadline = now_s() + SAFE_TIMEOUT;
    int err = remote_map(t, &rm, code, &fault);
    for (long us = 500; err == 0 && !safe; us = us < 20000 ? us * 2 : us) {
        err = remote_call(t, &rm, fn[FN_CHECK], 0, 0, &gil, &fault);
        safe = (int)gil == 1 || blocked(&t->saved, api);
        if (err != 0 || safe)
            break;
        if (now_s() > deadline)
            break;
        out = move_on(t, us, res);
        if (out != VT_INJECT_RAN)
            return out; /* gone, or not stopping: the pages stay */
    }
    if (err == 0 && safe && (int)gil == 1) {
        err = remote_call(t, &rm, fn[FN_PENDING], fn[FN_RUN], rm.text, &rc, &fault);
    } else if (err == 0 && safe) {
        err = remote_call(t, &rm, fn[FN_ENSURE], 0, 0, &st, &fault);
        if (err == 0)
            err = remote_call(t, &rm, fn[FN_RUN], rm.text, 0, &rc, &fault);
        if (err == 0)
            err = remote_call(t, &rm, fn[FN_RELEASE], st & 0xffffffffu, 0, &st, &fault);
    }
    int queued = err == 0 && safe && (int)gil == 1 && (int)rc == 0;
    if (queued) {
        res->keep.addr = rm.base;
        res->keep.len = rm.len;
        res->keep.syscall = t->syscall;
    } else if (rm.base != 0 && err != ESRCH) {
        int64_t ignored;
        int fault2;
        remote_syscall(t, SYS_munmap, rm.base, rm.len, 0, 0, 0, 0, &ignored, &fault2);
    }
    if (err == ESRCH)
        return VT_INJECT_NOPROC;
    if (err == EFAULT) {
        res->signo = fault;
        return VT_INJECT_FAULT;
    }
    if (err != 0) {
        res->why = rm.base ? "cannot write into it" : "cannot map memory in it";
        res->errnum = err;
        return VT_INJECT_FAILED;
    }
    if (!safe)
        return VT_INJECT_BUSY;
    res->rc = (int)rc;
    if ((int)rc != 0)
        return VT_INJECT_CALLFAIL;
    return queued ? VT_INJECT_QUEUED : VT_INJECT_RAN;
}

/* Blocks the signals that end the caller, so that nothing stops it between
 * changing the target's registers and putting them back. */
static void
hold_signals(sigset_t *old)
{
    sigset_t set;
    sigemptyset(&set);
    sigaddset(&set, SIGINT);
    sigaddset(&set, SIGTERM);
    sigaddset(&set, SIGHUP);
    sigaddset(&set, SIGQUIT);
    sigprocmask(SIG_BLOCK, &set, old);
}

enum vt_err
vt_inject_python(long pid, const char *code, struct vt_inject_result *res)
{
    memset(res, 0, sizeof(*res));
    res->why = "";
    struct api api;
    int err = find_api(pid, &api);
    if (err != 0) {
        res->errnum = err;
        res->outcome = err == ESRCH                      ? VT_INJECT_NOPROC
                       : err == ENOENT                   ? VT_INJECT_NOTPYTHON
                       : (err == EACCES || err == EPERM) ? VT_INJECT_NOPERM
                                                         : VT_INJECT_FAILED;
        res->why = "cannot read its memory map";
        if (err == ENOENT && !is_64bit(pid))
            res->outcome = VT_INJECT_UNSUPPORTED;
        return VT_ERR_STATE;
    }
    struct tracee t = {.pid = (pid_t)pid, .mem = -1};
    sigset_t old;
    hold_signals(&old);
    enum vt_inject_outcome out = stop_main(&t, res);
    int restore = out == VT_INJECT_RAN;
    char *maps = NULL;
    if (out == VT_INJECT_RAN) {
        char path[64];
        snprintf(path, sizeof(path), "/proc/%ld/mem", pid);
        t.mem = open(path, O_RDWR | O_CLOEXEC);
        err = t.mem < 0 ? errno : read_maps(pid, &maps);
        if (err == 0)
            err = find_syscall(&t, maps);
        if (err != 0) {
            res->why = t.mem < 0 ? "cannot open its memory" : "no syscall instruction in its code";
            res->errnum = err;
            out = VT_INJECT_FAILED;
        }
    }
    if (out == VT_INJECT_RAN)
        out = run_code(&t, &api, code, res);
    free(maps);
    let_go(&t, restore, out == VT_INJECT_STOPPED);
    sigprocmask(SIG_SETMASK, &old, NULL);
    res->outcome = out;
    return out == VT_INJECT_RAN || out == VT_INJECT_QUEUED ? VT_OK : VT_ERR_STATE;
}

void
vt_inject_release(long pid, struct vt_inject_keep *keep)
{
    if (keep->addr == 0)
        return;
    struct tracee t = {.pid = (pid_t)pid, .mem = -1, .syscall = keep->syscall};
    struct vt_inject_result res = {0};
    sigset_t old;
    hold_signals(&old);
    enum vt_inject_outcome out = stop_main(&t, &res);
    if (out == VT_INJECT_RAN) {
        int64_t ignored;
        int fault;
        remote_syscall(&t, SYS_munmap, keep->addr, keep->len, 0, 0, 0, 0, &ignored, &fault);
    }
    let_go(&t, out == VT_INJECT_RAN, out == VT_INJECT_STOPPED);
    sigprocmask(SIG_SETMASK, &old, NULL);
    memset(keep, 0, sizeof(*keep));
}

#else /* not x86-64 Linux */

#include <string.h>

enum vt_err
vt_inject_python(long pid, const char *code, struct vt_inject_result *res)
{
    (void)pid;
    (void)code;
    memset(res, 0, sizeof(*res));
    res->why = "";
    res->outcome = VT_INJECT_UNSUPPORTED;
    return VT_ERR_STATE;
}

void
vt_inject_release(long pid, struct vt_inject_keep *keep)
{
    (void)pid;
    memset(keep, 0, sizeof(*keep));
}

#endif
