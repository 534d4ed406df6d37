/* fuzz_viewer_json.c: libFuzzer target for the viewer's /file_info lookup:
 * vt_jscan_member(text, "file_info") on any trace file (tracer/format/).
 *
 * Oracle: when the scan finds the member, cJSON parses the whole input as an
 * object holding "file_info" too, and the span the scan found parses to the
 * same value. Inputs that once broke it are in
 * tests/fuzz/regressions/fuzz_viewer_json/ (FUZZ_DEPS_fuzz_viewer_json in
 * viewer/viewer.mk links the files of tracer/format/).
 */
#include <cjson/cJSON.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "../../tracer/format/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    const char *start = NULL, *end = NULL;
    if (vt_jscan_member(json, size, "file_info", &start, &end) != 0)
        return 0;
    if (start < json || end > json + size || start > end)
        abort();
    cJSON *doc = cJSON_ParseWithLength(json, size);
    cJSON *item = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "file_info") : NULL;
    cJSON *span = cJSON_ParseWithLength(start, (size_t)(end - start));
    if (item == NULL || span == NULL)
        abort(); /* found a member cJSON does not see */
    /* Compared as printed: cJSON_Compare calls inf (1e999) unequal to itself. */
    char *a = cJSON_PrintUnformatted(span), *b = cJSON_PrintUnformatted(item);
    if (a == NULL || b == NULL || strcmp(a, b) != 0)
        abort(); /* reads the member differently */
    cJSON_free(a);
    cJSON_free(b);
    cJSON_Delete(span);
    cJSON_Delete(doc);
    return 0;
}
