/* fuzz_vzt.c: libFuzzer target over the .vzt reader and writer
 * (tracer/format/vzt.c). An input with the .vzt magic is decoded; any
 * other input is taken as a trace's JSON and encoded, then decoded. Oracle:
 * every failure explains itself in one line; whatever decodes is valid JSON
 * (checked with vt_jscan_value) and survives a second round trip unchanged
 * byte for byte (decode(encode(t)) is a fixed point after one step); what
 * encodes also decodes. Never a crash, a leak or undefined behaviour.
 *
 *   make fuzz            (FUZZ_SECONDS=20 by default; sources in FUZZ_DEPS_fuzz_vzt)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tracer/format/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX ((size_t)8 << 20) /* far above what a small input decodes to legitimately */

/* Encodes then decodes text; aborts when what encodes does not decode.
 * Returns the decoded text (owned), or NULL when text is not a trace. */
static char *
round_trip(const char *text, size_t len, size_t *out_len)
{
    char *vzt = NULL, *back = NULL, msg[256] = "";
    size_t vlen;
    enum vt_err err = vt_vzt_encode(text, len, &vzt, &vlen, msg, sizeof(msg));
    if (err != VT_OK) {
        if (msg[0] == '\0' || vzt != NULL)
            abort();
        return NULL;
    }
    if (vt_vzt_decode(vzt, vlen, (size_t)1 << 34, &back, out_len, msg, sizeof(msg)) != VT_OK)
        abort(); /* what we write we must read */
    free(vzt);
    return back;
}

static void
check_json(const char *text, size_t len)
{
    const char *p = text, *end = text + len;
    vt_jscan_ws(&p, end);
    if (vt_jscan_value(&p, end) != 0)
        abort();
    vt_jscan_ws(&p, end);
    if (p != end || strlen(text) != len)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *t1 = NULL, msg[256] = "";
    size_t l1 = 0;
    if (vt_vzt_is(data, size)) {
        if (vt_vzt_decode(data, size, MAX, &t1, &l1, msg, sizeof(msg)) != VT_OK) {
            if (msg[0] == '\0' || t1 != NULL)
                abort();
            return 0;
        }
    } else {
        t1 = round_trip((const char *)data, size, &l1);
        if (t1 == NULL)
            return 0;
    }
    check_json(t1, l1);
    size_t l2, l3;
    char *t2 = round_trip(t1, l1, &l2);
    if (t2 == NULL)
        abort(); /* a decoded document is a trace */
    char *t3 = round_trip(t2, l2, &l3);
    if (t3 == NULL || l2 != l3 || memcmp(t2, t3, l2) != 0)
        abort();
    free(t1);
    free(t2);
    free(t3);
    return 0;
}
