/* src.h: the bytes of a trace file for the index (src.c): one sequential
 * read while indexing, then reads at any offset of the JSON text, whether
 * the file is plain JSON, gzip (resumed from kept checkpoints) or .vzt
 * (decoded in memory). Used by index.c only. */
#ifndef VT_VIEWER_SRC_H
#define VT_VIEWER_SRC_H

#include <stddef.h>
#include <stdint.h>

#include "../tracer/base/err.h"

struct vt_index_src;

/* Opens path, finding gzip and .vzt by their magic. On failure one line in
 * msg (without the path). *out is owned by the caller (vt_src_close). */
enum vt_err vt_src_open(const char *path, struct vt_index_src **out, char *msg, size_t msglen);

/* Reads the next bytes of JSON text into dst[0..cap). Returns the count, 0
 * at the end, -1 on a read error or a corrupt or truncated gzip stream. */
long vt_src_read(struct vt_index_src *s, char *dst, size_t cap);

/* Reads up to len bytes of JSON text at offset off (after the sequential
 * read has gone past it). Returns the count (short at the end), -1 on error.
 * Thread-safe against other vt_src_pread calls. */
long vt_src_pread(const struct vt_index_src *s, uint64_t off, char *dst, size_t len);

/* Moves the sequential read of a plain .json to offset off. -1 for another
 * kind of source (a stream) or an offset past the end. */
int vt_src_seek(struct vt_index_src *s, uint64_t off);

/* Ends the sequential read (frees its buffers). Can't fail. */
void vt_src_done(struct vt_index_src *s);

/* Bytes of the file (for progress), bytes of it consumed so far, and bytes
 * the source holds in memory. Can't fail. */
uint64_t vt_src_file_size(const struct vt_index_src *s);
uint64_t vt_src_consumed(const struct vt_index_src *s);
size_t vt_src_mem(const struct vt_index_src *s);

/* 1 for a gzip source (reading at an offset needs its checkpoints, made by
 * one sequential read to the end). Can't fail. */
int vt_src_is_gz(const struct vt_index_src *s);

/* 1 for a plain .json (vt_src_seek works). Can't fail. */
int vt_src_is_plain(const struct vt_index_src *s);

/* Closes and frees. NULL does nothing. */
void vt_src_close(struct vt_index_src *s);

#endif
