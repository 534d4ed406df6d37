/* spool.c: keep every event; see spool.h.
 *
 * One spool per process: a file, a drainer thread and the list of spooled
 * rings, under one lock. The hot path never takes the lock; a ring's
 * thread takes it once per chunk (vt_spool_cross), the drainer once per
 * chunk written, the save once per ring. The drainer writes outside the
 * lock: the slots of a chunk handed over are not written again by their
 * thread until the drainer says the chunk is in the file (spooled).
 *
 * Sections: state, the file, the drainer, the ring's side, reading back,
 * fork.
 */
#include "spool.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "ring.h"

/* ---- state ------------------------------------------------------------ */

#define CHUNK_BYTES ((size_t)VT_SPOOL_CHUNK * sizeof(struct vt_event))
/* The spool file's descriptor is moved this high, away from the numbers
 * a program expects to get from its own open() (as crash.c's memfd). */
#define FD_MIN 710

/* Where one ring's chunks are in the file. Owned by the spool; the ring
 * points to it. Protected by sp.lock. */
struct vt_spool_track {
    uint64_t *off; /* owned: file offset of each chunk, oldest first */
    uint64_t n;    /* chunks */
    uint64_t cap;  /* room in off */
};

static struct {
    pthread_mutex_t lock;
    pthread_cond_t work;   /* the drainer waits here for a chunk handed over */
    pthread_cond_t done;   /* threads wait here for a chunk written (or a failure) */
    int fd;                /* the unlinked spool file, or -1 until the first chunk */
    uint64_t end;          /* bytes of the file in use */
    uint64_t chunks;       /* chunks of every ring in the file */
    int running;           /* the drainer thread exists */
    int quit;              /* asks the drainer to end (before a fork) */
    pthread_t id;          /* the drainer, while running */
    int err;               /* errno of the first failure, 0; sticky until cleared */
    struct vt_ring *busy;  /* the ring whose chunk the drainer is writing, or NULL */
    struct vt_ring **ring; /* owned array of the spooled rings (borrowed each) */
    size_t nring, ring_cap;
    size_t next;   /* where the drainer looks first (round robin) */
    char dir[512]; /* the folder of the file, for the message of a failure */
} sp = {.lock = PTHREAD_MUTEX_INITIALIZER,
        .work = PTHREAD_COND_INITIALIZER,
        .done = PTHREAD_COND_INITIALIZER,
        .fd = -1};

static pthread_once_t once = PTHREAD_ONCE_INIT;

/* ---- the file --------------------------------------------------------- */

/* Makes the file: unlinked at once, so that no ending of the process
 * leaves it behind. Returns 0 or an errno. Under sp.lock. */
static int
file_open(void)
{
    const char *tmp = getenv("TMPDIR");
    if (tmp == NULL || tmp[0] == '\0')
        tmp = "/tmp";
    snprintf(sp.dir, sizeof(sp.dir), "%s", tmp);
    char path[600];
    snprintf(path, sizeof(path), "%s/viztracer-spool-%ld-XXXXXX", sp.dir, (long)getpid());
    int fd = mkstemp(path);
    if (fd < 0)
        return errno ? errno : EIO;
    unlink(path);
    int hi = fcntl(fd, F_DUPFD_CLOEXEC, FD_MIN);
    if (hi >= 0) {
        close(fd);
        fd = hi;
    } else {
        fcntl(fd, F_SETFD, FD_CLOEXEC); /* a low limit on open files: keep the number */
    }
    sp.fd = fd;
    sp.end = 0;
    return 0;
}

/* Writes len bytes at off; 0 or an errno. */
static int
write_at(int fd, const void *p, size_t len, uint64_t off)
{
    const char *c = p;
    while (len > 0) {
        ssize_t k = pwrite(fd, c, len, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k < 0)
            return errno;
        if (k == 0)
            return EIO;
        c += k;
        len -= (size_t)k;
        off += (uint64_t)k;
    }
    return 0;
}

/* ---- the drainer ------------------------------------------------------ */

/* A ring with a chunk handed over and not yet written, or NULL. Under
 * sp.lock. */
static struct vt_ring *
pick(void)
{
    for (size_t k = 0; k < sp.nring; k++) {
        size_t i = (sp.next + k) % sp.nring;
        struct vt_ring *r = sp.ring[i];
        if (r->filled > r->spooled) {
            sp.next = i + 1;
            return r;
        }
    }
    return NULL;
}

/* The failure err ends spooling for every ring until it is cleared.
 * Under sp.lock. */
static void
fail(int err)
{
    if (sp.err == 0)
        sp.err = err;
    pthread_cond_broadcast(&sp.done);
}

static void *
drain(void *arg)
{
    (void)arg;
    pthread_mutex_lock(&sp.lock);
    for (;;) {
        if (sp.quit)
            break;
        struct vt_ring *r = sp.err ? NULL : pick();
        if (r == NULL) {
            pthread_cond_wait(&sp.work, &sp.lock);
            continue;
        }
        if (sp.fd < 0) {
            int e = file_open();
            if (e) {
                fail(e);
                continue;
            }
        }
        struct vt_spool_track *tr = r->track;
        if (tr->n == tr->cap) {
            uint64_t cap = tr->cap ? tr->cap * 2 : 64;
            uint64_t *off = realloc(tr->off, cap * sizeof(*off));
            if (off == NULL) {
                fail(ENOMEM);
                continue;
            }
            tr->off = off;
            tr->cap = cap;
        }
        uint64_t seq = r->spooled;
        const struct vt_event *src = &r->slots[seq % r->cap];
        uint64_t at = sp.end;
        int fd = sp.fd;
        sp.end += CHUNK_BYTES;
        sp.busy = r;
        pthread_mutex_unlock(&sp.lock);
        int e = write_at(fd, src, CHUNK_BYTES, at);
        pthread_mutex_lock(&sp.lock);
        sp.busy = NULL;
        if (e) {
            fail(e);
            continue;
        }
        tr->off[tr->n++] = at;
        sp.chunks++;
        __atomic_store_n(&r->spooled, seq + VT_SPOOL_CHUNK, __ATOMIC_RELEASE);
        pthread_cond_broadcast(&sp.done);
    }
    pthread_mutex_unlock(&sp.lock);
    return NULL;
}

/* Starts the drainer if it is not running. Under sp.lock. */
static void
drainer_start(void)
{
    if (sp.running || sp.err)
        return;
    /* No signal of the program's is ever delivered to our thread. */
    sigset_t all, old;
    sigfillset(&all);
    pthread_sigmask(SIG_SETMASK, &all, &old);
    int e = pthread_create(&sp.id, NULL, drain, NULL); /* joined before a fork */
    pthread_sigmask(SIG_SETMASK, &old, NULL);
    if (e)
        fail(e);
    else
        sp.running = 1;
}

/* ---- the ring's side -------------------------------------------------- */

static void at_fork_init(void);

enum vt_err
vt_spool_attach(struct vt_ring *r)
{
    pthread_once(&once, at_fork_init);
    struct vt_spool_track *tr = calloc(1, sizeof(*tr));
    if (tr == NULL || r->cap != VT_SPOOL_CAP) {
        free(tr);
        return VT_ERR_NOMEM;
    }
    pthread_mutex_lock(&sp.lock);
    if (sp.nring == sp.ring_cap) {
        size_t cap = sp.ring_cap ? sp.ring_cap * 2 : 16;
        struct vt_ring **ring = realloc(sp.ring, cap * sizeof(struct vt_ring *));
        if (ring == NULL) {
            pthread_mutex_unlock(&sp.lock);
            free(tr);
            return VT_ERR_NOMEM;
        }
        sp.ring = ring;
        sp.ring_cap = cap;
    }
    sp.ring[sp.nring++] = r;
    r->track = tr;
    r->limit = VT_SPOOL_CHUNK;
    r->spooled = 0;
    r->filled = 0;
    r->failed = 0;
    pthread_mutex_unlock(&sp.lock);
    return VT_OK;
}

/* Drops r's chunks. Under sp.lock, the drainer not writing r. */
static void
forget_locked(struct vt_ring *r)
{
    struct vt_spool_track *tr = r->track;
    sp.chunks -= tr->n;
    tr->n = 0;
    if (sp.chunks == 0 && sp.busy == NULL && sp.fd >= 0 && sp.end > 0) {
        int pending = 0;
        for (size_t i = 0; i < sp.nring; i++)
            pending |= sp.ring[i]->filled > sp.ring[i]->spooled;
        if (!pending && ftruncate(sp.fd, 0) == 0)
            sp.end = 0; /* the disk space goes back; a failed truncate only keeps it */
    }
}

void
vt_spool_detach(struct vt_ring *r)
{
    if (r->track == NULL)
        return;
    pthread_mutex_lock(&sp.lock);
    while (sp.busy == r)
        pthread_cond_wait(&sp.done, &sp.lock);
    r->filled = r->spooled; /* nothing more to write for it */
    forget_locked(r);
    for (size_t i = 0; i < sp.nring; i++)
        if (sp.ring[i] == r) {
            sp.ring[i] = sp.ring[--sp.nring];
            break;
        }
    free(r->track->off);
    free(r->track);
    r->track = NULL;
    pthread_mutex_unlock(&sp.lock);
}

/* The slot of the event just pushed, in a ring the spool gave up on:
 * whether it holds an event not in the file (the caller releases it). */
static int
plain_full(struct vt_ring *r)
{
    uint64_t seq = r->written - 1;
    return seq >= r->cap && seq - r->cap >= __atomic_load_n(&r->spooled, __ATOMIC_ACQUIRE);
}

int
vt_spool_cross(struct vt_ring *r)
{
    if (r->failed)
        return plain_full(r);
    uint64_t b = r->limit; /* the boundary crossed: events [.., b) are written */
    pthread_mutex_lock(&sp.lock);
    drainer_start();
    if (!sp.err) {
        r->filled = b;
        pthread_cond_signal(&sp.work);
        /* The next chunk, [b, b + CHUNK), must be in the file already. */
        while (!sp.err && r->spooled + r->cap < b + VT_SPOOL_CHUNK)
            pthread_cond_wait(&sp.done, &sp.lock);
    }
    if (sp.err) {
        /* A plain ring from now on: every push comes here, as a full ring's. */
        r->failed = 1;
        r->limit = 0;
        r->filled = r->spooled;
        pthread_mutex_unlock(&sp.lock);
        return plain_full(r);
    }
    r->limit = b + VT_SPOOL_CHUNK;
    pthread_mutex_unlock(&sp.lock);
    return 0;
}

void
vt_spool_sync(struct vt_ring *r)
{
    if (r->track == NULL)
        return;
    pthread_mutex_lock(&sp.lock);
    if (r->filled > r->spooled)
        drainer_start(); /* a fork child's, for chunks its parent handed over */
    while ((!sp.err && r->filled > r->spooled) || sp.busy == r)
        pthread_cond_wait(&sp.done, &sp.lock);
    pthread_mutex_unlock(&sp.lock);
}

/* ---- reading back ----------------------------------------------------- */

uint64_t
vt_spool_chunks(const struct vt_ring *r)
{
    if (r->track == NULL)
        return 0;
    pthread_mutex_lock(&sp.lock);
    uint64_t n = r->track->n;
    pthread_mutex_unlock(&sp.lock);
    return n;
}

enum vt_err
vt_spool_read(const struct vt_ring *r, uint64_t i, struct vt_event *buf)
{
    pthread_mutex_lock(&sp.lock);
    int fd = sp.fd;
    uint64_t off = r->track && i < r->track->n ? r->track->off[i] : UINT64_MAX;
    pthread_mutex_unlock(&sp.lock);
    if (fd < 0 || off == UINT64_MAX)
        return VT_ERR_IO;
    char *p = (char *)buf;
    size_t len = CHUNK_BYTES;
    while (len > 0) {
        ssize_t k = pread(fd, p, len, (off_t)off);
        if (k < 0 && errno == EINTR)
            continue;
        if (k <= 0)
            return VT_ERR_IO;
        p += k;
        len -= (size_t)k;
        off += (uint64_t)k;
    }
    return VT_OK;
}

void
vt_spool_forget(struct vt_ring *r)
{
    if (r->track == NULL)
        return;
    pthread_mutex_lock(&sp.lock);
    forget_locked(r);
    pthread_mutex_unlock(&sp.lock);
}

void
vt_spool_reset(struct vt_ring *r)
{
    pthread_mutex_lock(&sp.lock);
    forget_locked(r);
    r->limit = VT_SPOOL_CHUNK;
    __atomic_store_n(&r->spooled, 0, __ATOMIC_RELEASE);
    r->filled = 0;
    r->failed = 0;
    pthread_mutex_unlock(&sp.lock);
}

int
vt_spool_error(const char **dir)
{
    pthread_mutex_lock(&sp.lock);
    int e = sp.err;
    pthread_mutex_unlock(&sp.lock);
    *dir = sp.dir[0] ? sp.dir : "$TMPDIR";
    return e;
}

void
vt_spool_error_clear(void)
{
    pthread_mutex_lock(&sp.lock);
    sp.err = 0;
    pthread_mutex_unlock(&sp.lock);
}

/* ---- fork ------------------------------------------------------------- */

/* The drainer ends before a fork (after the chunk it is writing) and the
 * forking thread holds the lock across it, so the child never sees a
 * track half updated; and the parent has no thread of ours when it forks:
 * Python 3.12+ warns about fork() in a process with several threads, and
 * a traced program must get python3's warnings. The drainer is started
 * again by the next chunk handed over (or save). */
static void
at_fork_prepare(void)
{
    pthread_mutex_lock(&sp.lock);
    if (sp.running) {
        sp.quit = 1;
        pthread_cond_signal(&sp.work);
        pthread_mutex_unlock(&sp.lock);
        pthread_join(sp.id, NULL);
        pthread_mutex_lock(&sp.lock);
        sp.running = 0;
        sp.quit = 0;
    }
}

static void
at_fork_parent(void)
{
    pthread_mutex_unlock(&sp.lock);
}

/* In the child: no drainer, and the file is the parent's. Every chunk in
 * it is forgotten (the child's copies of what those events hold keep a
 * reference each: a leak, not a double release); chunks handed over and
 * not written stay handed over, for a drainer of the child's own, started
 * by its next chunk or save, to write into a file of its own. */
static void
at_fork_child(void)
{
    pthread_mutex_init(&sp.lock, NULL);
    pthread_cond_init(&sp.work, NULL);
    pthread_cond_init(&sp.done, NULL);
    if (sp.fd >= 0)
        close(sp.fd);
    sp.fd = -1;
    sp.end = 0;
    sp.chunks = 0;
    sp.running = 0;
    sp.busy = NULL;
    for (size_t i = 0; i < sp.nring; i++)
        sp.ring[i]->track->n = 0;
}

static void
at_fork_init(void)
{
    pthread_atfork(at_fork_prepare, at_fork_parent, at_fork_child);
}
