/* fuzz_text.h: what the targets whose reader takes a C string share. */
#ifndef VT_FUZZ_TEXT_H
#define VT_FUZZ_TEXT_H

#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

/* The input as a NUL-terminated string (it may hold NULs of its own), or
 * NULL when out of memory. Owned by the caller: free(). */
static inline char *
vt_fuzz_text(const uint8_t *data, size_t size)
{
    char *text = malloc(size + 1);
    if (text == NULL)
        return NULL;
    memcpy(text, data, size);
    text[size] = '\0';
    return text;
}

#endif
