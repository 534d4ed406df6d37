/* fuzz_viewer_index.c: libFuzzer target for the viewer's trace index
 * (viewer/index.c: the streaming pass over a trace's JSON) and the answers
 * built from it (viewer/query.c, query_agg.c).
 *
 * Oracle: building never crashes, whatever the bytes; a built index has
 * every slice's depth within its track's levels and by_depth a permutation
 * grouped by depth in start order; every answer (tracks, slices at two
 * widths, marks, search, flame graph, area, a detail) is one valid JSON
 * value (vt_jscan_value). Links viewer/index.c, src.c, query.c,
 * query_agg.c and tracer/format/ (FUZZ_DEPS_fuzz_viewer_index in
 * viewer/viewer.mk).
 */
#include "../../viewer/index.h"

#include <assert.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "../../tracer/format/format.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Checks that b holds one JSON value, then empties it. */
static void
check_json(struct vt_buf *b, enum vt_err err)
{
    if (err == VT_OK) {
        const char *p = b->data, *end = b->data + b->len;
        assert(vt_jscan_value(&p, end) == 0 && p == end);
    }
    vt_buf_reset(b);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_index *ix = NULL;
    char msg[200];
    if (vt_index_build_mem((const char *)data, size, (size_t)64 << 20, &ix, msg, sizeof(msg)) !=
        VT_OK) {
        assert(ix == NULL && msg[0] != '\0');
        return 0;
    }
    for (size_t i = 0; i < ix->ntracks; i++) {
        const struct vt_index_track *t = &ix->tracks[i];
        if (t->n == 0)
            continue;
        assert(t->level[0] == 0 && t->level[t->ndepth] == t->n);
        for (uint32_t d = 0; d < t->ndepth; d++) {
            for (size_t k = t->level[d]; k < t->level[d + 1]; k++) {
                assert(t->by_depth[k] < t->n && t->s[t->by_depth[k]].depth == d);
                if (k > t->level[d])
                    assert(t->s[t->by_depth[k - 1]].start <= t->s[t->by_depth[k]].start);
            }
        }
    }
    struct vt_buf b;
    vt_buf_init(&b, (size_t)256 << 20);
    struct vt_index_query q;
    vt_index_q_init(&q);
    check_json(&b, vt_index_q_tracks(ix, &b));
    check_json(&b, vt_index_q_slices(ix, &q, &b));
    check_json(&b, vt_index_q_marks(ix, &q, &b));
    check_json(&b, vt_index_q_flame(ix, &q, &b));
    check_json(&b, vt_index_q_area(ix, &q, &b));
    q.px = 3;
    q.t0 = 0.5;
    q.t1 = 2.5;
    snprintf(q.q, sizeof(q.q), "%s", "a");
    check_json(&b, vt_index_q_slices(ix, &q, &b));
    check_json(&b, vt_index_q_search(ix, &q, &b));
    q.sort = 3;
    check_json(&b, vt_index_q_area(ix, &q, &b));
    if (ix->norder > 0) {
        q.track = 0;
        q.slice = 0;
        check_json(&b, vt_index_q_detail(ix, &q, &b));
    }
    vt_buf_fini(&b);
    vt_index_free(ix);
    return 0;
}
