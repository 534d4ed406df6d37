/* fuzz_jscan.c: libFuzzer target for the JSON checker that lets --combine
 * and the children's merge copy events verbatim (untrusted trace files).
 * Property: whatever it accepts, cJSON parses too, so a merged file is
 * never less readable than its inputs. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>

#include <cjson/cJSON.h>

#include "../../tracer/format/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *text = (const char *)data, *end = text + size;
    const char *p = text;
    vt_jscan_ws(&p, end);
    const char *start = p;
    if (vt_jscan_value(&p, end) == 0) {
        cJSON *j = cJSON_ParseWithLength(start, (size_t)(p - start));
        if (j == NULL)
            abort(); /* accepted what cJSON refuses */
        cJSON_Delete(j);
    }
    const char *a, *b;
    if (vt_jscan_member(text, size, "traceEvents", &a, &b) == 0 && (a < text || b > end || a > b))
        abort();
    return 0;
}
