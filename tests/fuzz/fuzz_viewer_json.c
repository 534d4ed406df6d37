/* fuzz_viewer_json.c: libFuzzer target for the viewer's top-level JSON scan
 * (vt_viewer__json_find_key, which serves /file_info from any trace file).
 *
 * Oracle: when cJSON accepts the input as an object holding "file_info" and
 * the scan answers VT_OK, the span it found parses to the same value. Links
 * viewer/scan.c (FUZZ_DEPS_fuzz_viewer_json in viewer/viewer.mk).
 */
#include "../../viewer/internal.h"

#include <assert.h>
#include <cjson/cJSON.h>
#include <stdint.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    const char *json = (const char *)data;
    size_t start = 0, end = 0;
    enum vt_err err = vt_viewer__json_find_key(json, size, "file_info", &start, &end);
    if (err == VT_OK)
        assert(start <= end && end <= size);
    cJSON *doc = cJSON_ParseWithLength(json, size);
    cJSON *item = cJSON_IsObject(doc) ? cJSON_GetObjectItemCaseSensitive(doc, "file_info") : NULL;
    if (item != NULL && err == VT_OK) {
        cJSON *span = cJSON_ParseWithLength(json + start, end - start);
        assert(span != NULL && cJSON_Compare(span, item, 1));
        cJSON_Delete(span);
    }
    cJSON_Delete(doc);
    return 0;
}
