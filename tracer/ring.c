/* ring.c: fixed-capacity event ring; see ring.h. */
#include "ring.h"

#include <stddef.h>
#include <sys/mman.h>

#include "spool.h"

enum vt_err
vt_ring_init(struct vt_ring *r, uint64_t cap)
{
    r->slots = NULL;
    r->cap = cap ? cap : 1;
    r->pos = 0;
    r->written = 0;
    r->limit = r->cap;
    r->spooled = 0;
    r->filled = 0;
    r->failed = 0;
    r->track = NULL;
    void *p = mmap(NULL, r->cap * sizeof(struct vt_event), PROT_READ | PROT_WRITE,
                   MAP_PRIVATE | MAP_ANONYMOUS | MAP_NORESERVE, -1, 0);
    if (p == MAP_FAILED)
        return VT_ERR_NOMEM;
    r->slots = p;
    return VT_OK;
}

void
vt_ring_fini(struct vt_ring *r)
{
    vt_spool_detach(r);
    if (r->slots)
        munmap(r->slots, r->cap * sizeof(struct vt_event));
    r->slots = NULL;
    r->written = 0;
    r->pos = 0;
}

void
vt_ring_reset(struct vt_ring *r)
{
    if (r->track)
        vt_spool_reset(r);
    else
        r->limit = r->cap;
    r->pos = 0;
    r->written = 0;
}

void
vt_ring_reset_child(struct vt_ring *r)
{
    r->pos = 0;
    r->written = 0;
    r->spooled = 0;
    r->filled = 0;
    r->failed = 0;
    r->limit = r->track ? VT_SPOOL_CHUNK : r->cap;
}

uint64_t
vt_ring_lower_bound(const struct vt_ring *r, int64_t ticks)
{
    uint64_t lo = 0, hi = vt_ring_len(r);
    while (lo < hi) {
        uint64_t mid = lo + (hi - lo) / 2;
        if (vt_ring_at(r, mid)->end < ticks)
            lo = mid + 1;
        else
            hi = mid;
    }
    return lo;
}
