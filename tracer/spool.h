/* spool.h: keep every event (tracer_entries=0): rings drained to a file in
 * the background; no Python.
 *
 * A spooled ring is a plain ring of VT_SPOOL_CAP slots cut into
 * VT_SPOOL_CHUNKS chunks. When its thread crosses a chunk boundary (the
 * ring's `limit`, the same one compare on the hot path as a ring's
 * "full"), vt_spool_cross() hands the chunk just filled to the drainer, a
 * pthread of ours that never touches Python, and makes sure the next
 * chunk is free: it waits only when the drainer is a whole ring behind,
 * which bounds memory. The drainer appends each chunk to one unlinked file
 * in $TMPDIR (or /tmp), so nothing is left behind whatever ends the
 * process, and notes where it went. The records keep their pointers and
 * the references they hold (code objects, C owners, args dicts) until the
 * save reads them back (vt_spool_read) and releases them with the GIL.
 *
 * If the file cannot be made or written (a full disk), the ring goes on
 * as a plain ring from then on: the newest VT_SPOOL_CAP events stay in
 * memory, the ones overwritten are counted as dropped, and
 * vt_spool_error() tells the save why.
 *
 * Fork: a child's drainer does not exist and its file is the parent's;
 * the child forgets its spooled chunks (a leak of references, as crash.c's
 * child does) and starts a file of its own at its next chunk.
 */
#ifndef VT_TRACER_SPOOL_H
#define VT_TRACER_SPOOL_H

#include <stdint.h>

#include "base/err.h"
#include "event.h"

struct vt_ring;

#define VT_SPOOL_CHUNK 65536u /* events a chunk: 2.5 MB a write */
#define VT_SPOOL_CHUNKS 16u   /* chunks a ring: the drainer may lag 15 of them */
#define VT_SPOOL_CAP ((uint64_t)VT_SPOOL_CHUNK * VT_SPOOL_CHUNKS)

/* Makes r, a ring of VT_SPOOL_CAP slots just initialised, a spooled one.
 * Returns VT_OK, or VT_ERR_NOMEM (r stays a plain ring). Thread-safe. */
enum vt_err vt_spool_attach(struct vt_ring *r);

/* Forgets r (its state is being freed): waits for the chunk the drainer
 * may be writing, drops r's chunks. The caller released their events or
 * gives them up. Thread-safe; nothing for a plain ring. */
void vt_spool_detach(struct vt_ring *r);

/* The slow part of vt_ring_next() for a spooled ring, at a chunk boundary:
 * hands the chunk before it to the drainer and waits until the chunk after
 * it is free. Returns 0, or 1 when the spool failed and the slot still
 * holds the oldest event (the caller releases it, as a ring's). Called by
 * r's thread only. */
int vt_spool_cross(struct vt_ring *r);

/* Hands r's filled chunks (if any are still in memory) to the drainer...
 * and waits until every chunk handed over is in the file. After this and
 * until r records again, r's chunks are final. */
void vt_spool_sync(struct vt_ring *r);

/* Chunks of r in the file, oldest first; each holds VT_SPOOL_CHUNK events. */
uint64_t vt_spool_chunks(const struct vt_ring *r);

/* Reads chunk i (< vt_spool_chunks(r), after vt_spool_sync) into buf, which
 * has room for VT_SPOOL_CHUNK events. Returns VT_OK, or VT_ERR_IO (buf's
 * events are then not valid). */
enum vt_err vt_spool_read(const struct vt_ring *r, uint64_t i, struct vt_event *buf);

/* Forgets r's chunks (their events were released or are given up); the
 * events r holds in memory stay. Once no ring has chunks, the file is
 * emptied. After vt_spool_sync(r). Thread-safe. */
void vt_spool_forget(struct vt_ring *r);

/* vt_ring_reset() of a spooled ring: forgets its chunks and its counters.
 * After vt_spool_sync(r), or in a fork child. */
void vt_spool_reset(struct vt_ring *r);

/* errno of the first failure to make or write the spool file since the
 * last vt_spool_error_clear(), or 0; path gets the folder. */
int vt_spool_error(const char **dir);
void vt_spool_error_clear(void);

#endif
