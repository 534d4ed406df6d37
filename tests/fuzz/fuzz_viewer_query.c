/* fuzz_viewer_query.c: libFuzzer target for the viewer's /api/ query
 * strings (vt_index_q_parse in viewer/query.c: "a=1&b=2", %-escapes).
 *
 * Oracle: never crashes; an accepted query has t1 > t0, px in 1..100000,
 * limit in 1..10000, at most 256 tracks, a NUL-terminated search text and
 * a known sort; a refused one says why in one non-empty line. Links
 * viewer/query.c, query_agg.c, index.c, src.c and tracer/format/
 * (FUZZ_DEPS_fuzz_viewer_query in viewer/viewer.mk).
 */
#include "../../viewer/index.h"

#include <assert.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *s = malloc(size + 1);
    memcpy(s, data, size);
    s[size] = '\0';
    struct vt_index_query q;
    char msg[160] = "";
    if (vt_index_q_parse(s, &q, msg, sizeof(msg)) == VT_OK) {
        assert(q.t1 > q.t0);
        assert(q.px >= 1 && q.px <= 100000 && q.limit >= 1 && q.limit <= 10000);
        assert(q.ntracks <= 256 && q.sort >= 0 && q.sort <= 3);
        assert(memchr(q.q, '\0', sizeof(q.q)) != NULL);
    } else {
        assert(msg[0] != '\0' && strchr(msg, '\n') == NULL);
    }
    free(s);
    return 0;
}
