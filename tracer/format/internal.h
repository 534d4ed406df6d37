/* internal.h: what the files of tracer/format/ share with each other
 * (vt_format__*, vt_vzt__*): the error-text helper every reader uses, and
 * the .vzt layout, which vzt.c writes and vzt_read.c reads.
 * Everything public is in format.h; the layout is in FORMAT.md.
 */
#ifndef VT_TRACER_FORMAT_INTERNAL_H
#define VT_TRACER_FORMAT_INTERNAL_H

#include <stddef.h>
#include <stdint.h>

/* The columns, in file order (format version 1). */
enum vt_vzt__col {
    VT_VZT__C_NAMES,  /* interned names and cats: count, then (len, JSON string text) each */
    VT_VZT__C_RUNS,   /* run lengths, alternately of column events and of text events */
    VT_VZT__C_FLAGS,  /* one byte per column event: FL_* */
    VT_VZT__C_NAME,   /* name index per column event */
    VT_VZT__C_CAT,    /* cat index per column event with VT_VZT__FL_CAT */
    VT_VZT__C_PID,    /* zigzag delta from the previous column event's pid */
    VT_VZT__C_TID,    /* zigzag delta from the previous tid */
    VT_VZT__C_TS,     /* zigzag delta from the previous ts, ns */
    VT_VZT__C_DUR,    /* zigzag dur, ns */
    VT_VZT__C_LINE,   /* zigzag caller_lineno per column event with VT_VZT__FL_LINE */
    VT_VZT__C_ARGS,   /* (len, JSON object text) per column event with VT_VZT__FL_ARGS */
    VT_VZT__C_EVENTS, /* (len, JSON text) per text event */
    VT_VZT__C_REST,   /* the document's other members, as one JSON object text */
    VT_VZT__C__COUNT
};

#define VT_VZT__FL_CAT 1u
#define VT_VZT__FL_LINE 2u
#define VT_VZT__FL_ARGS 4u
#define VT_VZT__FL_ALL (VT_VZT__FL_CAT | VT_VZT__FL_LINE | VT_VZT__FL_ARGS)

#define VT_VZT__HEADER_LEN 16 /* vt_vzt__magic, version, column count */

/* The 8 bytes that open a .vzt. */
extern const unsigned char vt_vzt__magic[8];

/* format.c: vsnprintf into msg[msglen] when msg is not NULL. Can't fail. */
void vt_format__msg(char *msg, size_t msglen, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Maps a signed 64-bit value (as its two's complement) to an unsigned one,
 * small magnitudes to small numbers, for varints. Can't fail. */
static inline uint64_t
vt_vzt__zigzag(uint64_t v)
{
    return (v << 1) ^ ((v >> 63) != 0 ? UINT64_MAX : 0);
}

#endif
