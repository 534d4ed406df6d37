/* jscan.h: checks JSON text without building it, to find and copy spans.
 *
 * Merging traces copies each event's text as it is; parsing millions of
 * events into cJSON trees only to print them again was most of a merge's
 * time. These functions validate strictly (RFC 8259 syntax: strings with
 * their escapes, paired UTF-16 surrogates as cJSON wants them, numbers,
 * literals, nesting up to VT_JSCAN_MAX_DEPTH) and
 * allocate nothing; a caller that needs a tree for a small part parses
 * that part with cJSON.
 */
#ifndef VT_TRACER_BASE_JSCAN_H
#define VT_TRACER_BASE_JSCAN_H

#include <stddef.h>

/* Deeper nesting is refused (cJSON's own limit is 1000). */
#define VT_JSCAN_MAX_DEPTH 512

/* Skips whitespace from *p (not past end). Can't fail. */
void vt_jscan_ws(const char **p, const char *end);

/* Scans one value at *p (no leading whitespace). Returns 0 with *p just
 * past it, or -1 (malformed or truncated) with *p unspecified. */
int vt_jscan_value(const char **p, const char *end);

/* Scans a string at *p ('"' first). Same convention as vt_jscan_value. */
int vt_jscan_string(const char **p, const char *end);

/* Finds, in a whole document (an object; whitespace around it allowed), the
 * value of its first member named key. Returns 0 when the document is valid
 * and has it, with the value's span in [*start, *stop); 1 when valid but
 * without it; -1 when malformed. */
int vt_jscan_member(const char *text, size_t len, const char *key, const char **start,
                    const char **stop);

#endif
