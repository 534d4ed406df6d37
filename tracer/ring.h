/* ring.h: fixed-capacity event ring, one per thread; no Python.
 *
 * The slots are reserved with mmap once, when the thread registers, and the
 * kernel backs them with memory only as they are first written, so a ring
 * of a million slots costs nothing until it fills. A full ring overwrites
 * its oldest event and counts it; the caller releases what the old event
 * held. Written only by its own thread, read only after tracing stops.
 */
#ifndef VT_TRACER_RING_H
#define VT_TRACER_RING_H

#include <stdint.h>

#include "base/err.h"
#include "event.h"

struct vt_ring {
    struct vt_event *slots; /* owned, mmap'd, cap slots */
    uint64_t cap;           /* capacity in events, > 0 */
    uint64_t pos;           /* next slot to write, < cap */
    uint64_t written;       /* events pushed since the last reset */
};

/* Reserves cap slots. Returns VT_ERR_NOMEM when the mapping fails. */
enum vt_err vt_ring_init(struct vt_ring *r, uint64_t cap);

/* Releases the slots; fini of a zeroed ring does nothing. */
void vt_ring_fini(struct vt_ring *r);

/* Forgets every event (the caller released what they held). */
void vt_ring_reset(struct vt_ring *r);

/* Returns the slot to fill next. When the ring is full, *evicted is set to 1
 * and the slot still holds the oldest event, which the caller must release
 * before overwriting it. Hot path: no allocation, no lock. */
static inline struct vt_event *
vt_ring_next(struct vt_ring *r, int *evicted)
{
    struct vt_event *e = &r->slots[r->pos];
    if (++r->pos == r->cap)
        r->pos = 0;
    *evicted = r->written >= r->cap;
    r->written++;
    return e;
}

/* Number of events held (at most cap). */
static inline uint64_t
vt_ring_len(const struct vt_ring *r)
{
    return r->written < r->cap ? r->written : r->cap;
}

/* Events overwritten since the last reset. */
static inline uint64_t
vt_ring_dropped(const struct vt_ring *r)
{
    return r->written > r->cap ? r->written - r->cap : 0;
}

/* The i-th oldest event held, i < vt_ring_len(). Borrowed. */
static inline struct vt_event *
vt_ring_at(const struct vt_ring *r, uint64_t i)
{
    uint64_t first = r->written > r->cap ? r->pos : 0;
    uint64_t k = first + i;
    if (k >= r->cap)
        k -= r->cap;
    return &r->slots[k];
}

/* Index of the first held event whose end is >= ticks (events are held in
 * the order they ended, so this is a binary search). Returns vt_ring_len()
 * when there is none. */
uint64_t vt_ring_lower_bound(const struct vt_ring *r, int64_t ticks);

#endif
