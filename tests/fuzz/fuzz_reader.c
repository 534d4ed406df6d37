/* fuzz_reader.c: libFuzzer target over the trace reader
 * (tracer/format/reader.c) and, when a trace loads, the call-tree builder and a walk over it
 * (vdb/timeline.c). Any input must give VT_OK or an error with a message,
 * never a crash, a leak or undefined behaviour.
 *
 *   make fuzz            (FUZZ_SECONDS=20 by default; sources in FUZZ_DEPS_fuzz_reader)
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "../../tracer/format/format.h"
#include "../../vdb/timeline.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void
exercise(const struct vt_trace *t)
{
    struct vt_timeline *tl = vt_timeline_create(t);
    if (!tl)
        return;
    for (int i = 0; i < 64 && vt_timeline_step(tl) == VT_TL_OK; i++)
        vt_timeline_time(tl);
    for (int i = 0; i < 64 && vt_timeline_step_back(tl) == VT_TL_OK; i++)
        vt_timeline_up(tl);
    vt_timeline_goto(tl, vt_timeline_time(tl) + 1000);
    vt_timeline_return(tl);
    vt_timeline_next_back(tl);
    vt_timeline_break_add(tl, "f");
    vt_timeline_continue(tl);
    vt_timeline_continue_back(tl);
    size_t n;
    const struct vt_tl_thread *th = vt_timeline_threads(tl, &n);
    if (n > 1)
        vt_timeline_goto_tid(tl, th[n - 1].tid);
    vt_timeline_goto_pid(tl, th[0].pid);
    for (size_t i = 0; i < t->funcs.n && i < 4; i++) {
        struct vt_reader_fname f;
        vt_reader_split_name(vt_reader_name(t, t->funcs.v[i].name), &f);
        cJSON_Delete(vt_reader_event_json(t, &t->funcs.v[i]));
    }
    vt_timeline_destroy(tl);
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_trace *t = NULL;
    char err[256];
    char *text = vt_fuzz_text(data, size);
    if (text == NULL)
        return 0;
    if (vt_reader_parse(text, size, &t, err, sizeof(err)) == VT_OK) {
        exercise(t);
        vt_reader_free(t);
    } else if (err[0] == '\0') {
        abort(); /* every failure must explain itself */
    }
    return 0;
}
