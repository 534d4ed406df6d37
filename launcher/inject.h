/* inject.h: run one Python statement in another process through ptrace
 * (docs/COMPAT.md, Remote attach). x86-64 Linux only.
 *
 * The launcher side of --attach: stop the target's main thread, call
 * CPython's own C API there (Py_AddPendingCall, or PyGILState_Ensure +
 * PyRun_SimpleString), put everything back and let it go. inject.c does the
 * ptrace work; inject_parse.c reads what comes from the target (its
 * /proc/PID/maps text and the ELF files it maps), which is untrusted input:
 * those parsers are public for tests/unit/launcher/test_inject.c and
 * tests/fuzz/fuzz_inject.c.
 */
#ifndef VT_LAUNCHER_INJECT_H
#define VT_LAUNCHER_INJECT_H

#include <limits.h>
#include <stddef.h>
#include <stdint.h>

#include "../tracer/base/err.h"

/* What one injection did. */
enum vt_inject_outcome {
    VT_INJECT_RAN,         /* the statement ran in the main thread, which held no GIL */
    VT_INJECT_QUEUED,      /* queued with Py_AddPendingCall: runs at the next bytecode */
    VT_INJECT_CALLFAIL,    /* PyRun_SimpleString or Py_AddPendingCall returned non-zero */
    VT_INJECT_NOPERM,      /* ptrace was refused (other user, Yama, seccomp, no capability) */
    VT_INJECT_NOPROC,      /* the process is gone, or exited meanwhile */
    VT_INJECT_NOTPYTHON,   /* no mapped file defines the Python C API functions */
    VT_INJECT_STOPPED,     /* the process is stopped (SIGSTOP, Ctrl+Z): nothing can run */
    VT_INJECT_BUSY,        /* the main thread never stopped where code may run (see inject.c) */
    VT_INJECT_FAULT,       /* the injected call faulted: registers put back, detached */
    VT_INJECT_UNSUPPORTED, /* not x86-64 Linux, or a 32-bit target */
    VT_INJECT_FAILED,      /* anything else: see vt_inject_result.why and .errnum */
};

/* Memory the target keeps for a queued statement (the pending call reads it
 * later), to be given back with vt_inject_release(). Internal type, do not
 * use its fields outside inject.c. */
struct vt_inject_keep {
    uint64_t addr;    /* start of the mapping in the target, 0 for none */
    uint64_t len;     /* its length in bytes */
    uint64_t syscall; /* a syscall instruction in the target's text */
};

/* The details behind an outcome, for the caller's one message. */
struct vt_inject_result {
    enum vt_inject_outcome outcome; /* what happened */
    const char *why; /* static text naming the step that failed (VT_INJECT_FAILED), or "" */
    int errnum;      /* the errno of that step, or 0 */
    int signo;       /* the signal of VT_INJECT_FAULT, or 0 */
    long rc;         /* the C API call's result (VT_INJECT_CALLFAIL) */
    struct vt_inject_keep keep; /* set for VT_INJECT_QUEUED */
};

/* injection */
/* Makes process pid run the NUL-terminated Python statement code in its
 * main thread, as a C callback would: when that thread holds the GIL the
 * statement is queued with Py_AddPendingCall (res->keep then holds the
 * copy the target reads later), otherwise it runs at once under
 * PyGILState_Ensure. The thread's general registers, its extended state
 * (saved and restored by the target itself, with XSAVE) and an interrupted
 * system call come back as they were, so the program goes on as untraced.
 * Waits for the call as long as the target lives; SIGINT and SIGTERM of
 * the caller are best blocked meanwhile (an abandoned call would kill the
 * target). Fills res; returns VT_OK when res->outcome is VT_INJECT_RAN or
 * VT_INJECT_QUEUED, VT_ERR_STATE otherwise. Prints nothing. */
enum vt_err vt_inject_python(long pid, const char *code, struct vt_inject_result *res);

/* Unmaps the memory a queued statement kept in pid, once the statement has
 * run, the same way (a short stop of the main thread). Does nothing when
 * keep holds nothing or the target is gone. Clears keep. Can't fail as far
 * as the caller is concerned: a target that refuses keeps a few pages. */
void vt_inject_release(long pid, struct vt_inject_keep *keep);

/* parsers (inject_parse.c) */
/* One line of /proc/PID/maps. */
struct vt_inject_map {
    uint64_t start;      /* first address */
    uint64_t end;        /* one past the last address */
    uint64_t offset;     /* file offset of start */
    int prot;            /* PROT_READ | PROT_WRITE | PROT_EXEC */
    int deleted;         /* 1 when the path ends in " (deleted)" (removed from it) */
    char path[PATH_MAX]; /* the file, "[name]" for a kernel mapping, "" when anonymous */
};

/* Reads the line of /proc/PID/maps text at *text into m and moves *text past
 * it. Returns 1 for a line read, 0 at the end of the text, -1 for a
 * malformed line (skipped: *text still moves past it). A path too long for
 * m->path reads as malformed. Can't fail otherwise. */
int vt_inject_maps_next(const char **text, struct vt_inject_map *m);

/* Looks up the n names in the dynamic symbol table of an ELF64 x86-64
 * image (a whole file, len bytes): offs[i] becomes the file offset where
 * names[i] (a defined, global or weak, function or object) is loaded from,
 * or 0 when the image does not define it; a function's lies inside the
 * file, an object's may lie past its end (.bss). sizes[i] (sizes may be
 * NULL) becomes its st_size. Every header and table is bounds-checked
 * against len. Returns VT_OK, or VT_ERR_FORMAT (all 0) when the image is
 * not a little-endian ELF64 x86-64 file with a readable .dynsym. */
enum vt_err vt_inject_elf_lookup(const unsigned char *img, size_t len, const char *const *names,
                                 size_t n, uint64_t *offs, uint64_t *sizes);

#endif
