/* ring.h: fixed-capacity event ring, one per thread; no Python.
 *
 * The slots are reserved with mmap once, when the thread registers, and the
 * kernel backs them with memory only as they are first written, so a ring
 * of a million slots costs nothing until it fills. A full ring overwrites
 * its oldest event and counts it; the caller releases what the old event
 * held. Written only by its own thread, read only after tracing stops.
 *
 * A spooled ring (tracer_entries=0, spool.h) is drained to a file in the
 * background, a chunk at a time: `limit` is then the next chunk boundary
 * instead of the capacity, so the hot path makes the same one compare, and
 * the held events are those not yet in the file.
 */
#ifndef VT_TRACER_RING_H
#define VT_TRACER_RING_H

#include <stdint.h>

#include "base/err.h"
#include "event.h"

struct vt_spool_track;

struct vt_ring {
    struct vt_event *slots;       /* owned, mmap'd, cap slots */
    uint64_t cap;                 /* capacity in events, > 0 */
    uint64_t pos;                 /* next slot to write, < cap */
    uint64_t written;             /* events pushed since the last reset */
    uint64_t limit;               /* vt_ring_next() reports "full" from this written count on:
                                     cap, or a spooled ring's next chunk boundary */
    uint64_t spooled;             /* events [0, spooled) are in the spool file, not held; written
                                     by the drainer under the spool's lock, 0 for a ring */
    uint64_t filled;              /* events handed to the drainer; under the spool's lock */
    int failed;                   /* the spool failed: a plain ring from here; its thread's */
    struct vt_spool_track *track; /* owned by spool.c: where the chunks went; NULL = a ring */
};

/* Reserves cap slots. Returns VT_ERR_NOMEM when the mapping fails. */
enum vt_err vt_ring_init(struct vt_ring *r, uint64_t cap);

/* Releases the slots; fini of a zeroed ring does nothing. */
void vt_ring_fini(struct vt_ring *r);

/* Forgets every event (the caller released what they held), a spooled
 * ring's chunks too (vt_spool_reset). */
void vt_ring_reset(struct vt_ring *r);

/* vt_ring_reset() for a fork child, before the spool's own fork handler
 * has run (its lock is not usable yet): the counters only. */
void vt_ring_reset_child(struct vt_ring *r);

/* vt_ring_next() set *evicted: makes the slot it gave writable. Returns 1
 * when the slot still holds the oldest event, which the caller releases
 * after filling the slot, or 0 when that event is in the spool file (a
 * spooled ring at a chunk boundary; this may wait for the drainer). Inline
 * for a plain ring, which calls it once an event when full; a spooled ring
 * goes out of line (spool.c) once a chunk. */
int vt_spool_cross(struct vt_ring *r);
static inline int
vt_ring_full(struct vt_ring *r)
{
    return __builtin_expect(r->track != 0, 0) ? vt_spool_cross(r) : 1;
}

/* Returns the slot to fill next. When the ring is full, *evicted is set to 1
 * and the slot still holds the oldest event, which the caller must release
 * before overwriting it. Hot path: no allocation, no lock. */
static inline struct vt_event *
vt_ring_next(struct vt_ring *r, int *evicted)
{
    struct vt_event *e = &r->slots[r->pos];
    if (++r->pos == r->cap)
        r->pos = 0;
    *evicted = r->written >= r->limit;
    r->written++;
    return e;
}

/* Number of events held in memory (at most cap): neither overwritten nor
 * spooled. */
static inline uint64_t
vt_ring_len(const struct vt_ring *r)
{
    uint64_t n = r->written - __atomic_load_n(&r->spooled, __ATOMIC_ACQUIRE);
    return n < r->cap ? n : r->cap;
}

/* Events overwritten since the last reset. */
static inline uint64_t
vt_ring_dropped(const struct vt_ring *r)
{
    uint64_t n = r->written - __atomic_load_n(&r->spooled, __ATOMIC_ACQUIRE);
    return n > r->cap ? n - r->cap : 0;
}

/* The slot index of the i-th oldest event held, i < vt_ring_len(). */
static inline uint64_t
vt_ring_index(const struct vt_ring *r, uint64_t i)
{
    uint64_t len = vt_ring_len(r);
    uint64_t first = r->pos >= len ? r->pos - len : r->pos + r->cap - len;
    uint64_t k = first + i;
    return k >= r->cap ? k - r->cap : k;
}

/* The i-th oldest event held, i < vt_ring_len(). Borrowed. A loop over
 * many walks slots from vt_ring_index() instead (the spooled count is
 * loaded here each time). */
static inline struct vt_event *
vt_ring_at(const struct vt_ring *r, uint64_t i)
{
    return &r->slots[vt_ring_index(r, i)];
}

/* Index of the first held event whose end is >= ticks (events are held in
 * the order they ended, so this is a binary search). Returns vt_ring_len()
 * when there is none. */
uint64_t vt_ring_lower_bound(const struct vt_ring *r, int64_t ticks);

#endif
