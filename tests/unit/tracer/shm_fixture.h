/* shm_fixture.h: a small valid shared area (tracer/shm.h) for the unit
 * tests and the fuzz target: one thread with three finished events (two
 * named, one builtin) and two open calls, a name log of three records.
 * The layout of the thread state is made up, as the reader takes it from
 * the header. */
#ifndef VT_TESTS_SHM_FIXTURE_H
#define VT_TESTS_SHM_FIXTURE_H

#include <stdint.h>
#include <stdio.h>
#include <string.h>

#include "../../../tracer/event.h"
#include "../../../tracer/shm.h"

#define FIX_HDR (((sizeof(struct vt_shm_header)) + 4095) & ~(size_t)4095)
#define FIX_NAMES FIX_HDR
#define FIX_THREAD (FIX_HDR + 4096)
#define FIX_STACK (FIX_THREAD + 64)
#define FIX_SLOTS (FIX_THREAD + 512)
#define FIX_CAP 8
#define FIX_EXTRAS (FIX_HDR + 8192)
#define FIX_EXTRAS_CAP 8192 /* 64 segments of 128 bytes */
#define FIX_SEG (FIX_EXTRAS_CAP / VT_SHM_EXTRA_SEGS)
#define FIX_INSTANT_SEG 5 /* the instant's record is in segment 5, the args' in 0 */
#define FIX_LEN (FIX_EXTRAS + FIX_EXTRAS_CAP)
#define FIX_ARGS 0x5000u /* the args dict of the first f */
#define FIX_ARGS_JSON "{\"func_args\":{\"n\":\"1\"}}"
#define FIX_INSTANT 0x6000u /* an instant event's dict */
#define FIX_INSTANT_JSON "{\"ph\":\"i\",\"name\":\"hello\",\"s\":\"t\"}"

/* the made-up tagged pointers */
#define FIX_F 0x1000u                    /* f (a.py:3) */
#define FIX_G 0x2000u                    /* g (a.py:7), open */
#define FIX_LEN_C (0x3000u | VT_EVENT_C) /* builtins.len, owner FIX_OWNER */
#define FIX_OWNER 0x4000u

static inline size_t
fix_name(unsigned char *p, uint64_t what, uint64_t owner, int line, const char *name,
         const char *file)
{
    struct vt_shm_name rec = {.what = what,
                              .owner = owner,
                              .line = line,
                              .name_len = (uint32_t)strlen(name),
                              .file_len = (uint32_t)(file ? strlen(file) : 0)};
    memcpy(p, &rec, sizeof(rec));
    memcpy(p + sizeof(rec), name, rec.name_len);
    if (file)
        memcpy(p + sizeof(rec) + rec.name_len, file, rec.file_len);
    return (sizeof(rec) + rec.name_len + rec.file_len + 7) & ~(size_t)7;
}

static inline void
fix_put64(unsigned char *p, uint64_t v)
{
    memcpy(p, &v, sizeof(v));
}

/* Fills buf (FIX_LEN bytes, 8-aligned) with the area; the clock anchor is
 * start (taken by the caller at least 1 ms before the area is read). */
static inline void
fix_build(unsigned char *buf, const struct vt_clock_anchor *start)
{
    memset(buf, 0, FIX_LEN);
    struct vt_shm_header *h = (struct vt_shm_header *)(void *)buf;
    h->magic = VT_SHM_MAGIC;
    h->version = VT_SHM_VERSION;
    h->header_size = sizeof(*h);
    h->pid = 4242;
    h->start = *start;
    h->state = VT_SHM_ARMED;
    h->size = FIX_LEN;
    h->names_off = FIX_NAMES;
    h->names_cap = 4096;
    size_t at = 0;
    at += fix_name(buf + FIX_NAMES + at, FIX_F, 0, 3, "f", "a.py");
    at += fix_name(buf + FIX_NAMES + at, FIX_G, 0, 7, "g", "a.py");
    at += fix_name(buf + FIX_NAMES + at, FIX_LEN_C, FIX_OWNER, 0, "builtins.len", NULL);
    h->names_used = at;
    h->extras_off = FIX_EXTRAS;
    h->extras_cap = FIX_EXTRAS_CAP;
    h->extras_seg = FIX_INSTANT_SEG;
    const char *texts[3] = {"{\"stale\":1}", FIX_ARGS_JSON, FIX_INSTANT_JSON};
    const uint64_t keys[3] = {FIX_ARGS, FIX_ARGS, FIX_INSTANT};
    /* the first: the same dict address, an older event's (a reused address) */
    const int64_t starts[3] = {start->ticks + 9, start->ticks + 10, start->ticks + 65};
    const size_t segs[3] = {0, 0, FIX_INSTANT_SEG};
    for (int i = 0; i < 3; i++) {
        unsigned char *seg = buf + FIX_EXTRAS + segs[i] * FIX_SEG;
        uint64_t used;
        memcpy(&used, seg, sizeof(used));
        struct vt_shm_extra x = {
            .key = keys[i], .start = starts[i], .len = (uint32_t)strlen(texts[i])};
        memcpy(seg + VT_SHM_EXTRA_SEG_HEAD + used, &x, sizeof(x));
        memcpy(seg + VT_SHM_EXTRA_SEG_HEAD + used + sizeof(x), texts[i], x.len);
        used += (sizeof(x) + x.len + 7) & ~(size_t)7;
        memcpy(seg, &used, sizeof(used));
    }
    h->nthreads = 1;
    h->layout = (struct vt_shm_layout){.thread_size = 64,
                                       .th_depth = 0,
                                       .th_ring_pos = 8,
                                       .th_ring_written = 16,
                                       .frame_size = 40,
                                       .fr_start = 0,
                                       .fr_what = 8,
                                       .fr_args = 16,
                                       .fr_extra = 24,
                                       .fr_caller_line = 32};
    snprintf(h->output, sizeof(h->output), "unused");
    struct vt_shm_thread *t = &h->threads[0];
    t->off = FIX_THREAD;
    t->stack_off = FIX_STACK;
    t->stack_max = 4;
    t->slots_off = FIX_SLOTS;
    t->cap = FIX_CAP;
    t->tid = 4242;
    snprintf(t->name, sizeof(t->name), "MainThread");
    /* three finished events: f, len, f */
    struct vt_event *ev = (struct vt_event *)(void *)(buf + FIX_SLOTS);
    int64_t t0 = start->ticks;
    ev[0] = (struct vt_event){.start = t0 + 10,
                              .end = t0 + 20,
                              .what = FIX_F,
                              .extra = (void *)(uintptr_t)FIX_ARGS,
                              .caller_line = -1};
    ev[1] = (struct vt_event){.start = t0 + 30,
                              .end = t0 + 40,
                              .what = FIX_LEN_C,
                              .extra = (void *)(uintptr_t)FIX_OWNER,
                              .caller_line = -1};
    ev[2] = (struct vt_event){.start = t0 + 50, .end = t0 + 60, .what = FIX_F, .caller_line = -1};
    ev[3] = (struct vt_event){.start = t0 + 65,
                              .end = t0 + 65,
                              .what = VT_EVENT_CUSTOM,
                              .extra = (void *)(uintptr_t)FIX_INSTANT,
                              .caller_line = -1};
    fix_put64(buf + FIX_THREAD + 8, 4);  /* pos */
    fix_put64(buf + FIX_THREAD + 16, 4); /* written */
    /* two open calls: g, then f inside it */
    uint32_t depth = 2;
    memcpy(buf + FIX_THREAD, &depth, sizeof(depth));
    fix_put64(buf + FIX_STACK + 0, (uint64_t)(t0 + 5));
    fix_put64(buf + FIX_STACK + 8, FIX_G);
    int32_t no_line = -1;
    memcpy(buf + FIX_STACK + 32, &no_line, sizeof(no_line));
    fix_put64(buf + FIX_STACK + 40 + 0, (uint64_t)(t0 + 70));
    fix_put64(buf + FIX_STACK + 40 + 8, FIX_F);
    memcpy(buf + FIX_STACK + 40 + 32, &no_line, sizeof(no_line));
}

#endif
