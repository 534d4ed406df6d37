/* fuzz_shm.c: libFuzzer target over the reader of the crash-safe shared
 * area (tracer/shm.c), which the supervisor and --snapshot run on memory a
 * crashed process may have corrupted. The input patches a valid area
 * (tests/unit/tracer/shm_fixture.h): each 5 bytes are a 32-bit offset
 * (modulo the area's size) and a byte XORed there, so the corruption lands
 * on fields the reader trusts rather than on the magic only. Oracle: the
 * view either is refused with a message or reads; a trace written from it
 * is valid JSON (vt_jscan_value). Never a crash, a hang or undefined
 * behaviour.
 *
 *   make fuzz            (sources in FUZZ_DEPS_fuzz_shm)
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../tracer/format/format.h"
#include "../unit/tracer/shm_fixture.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static struct vt_clock_anchor start;
static char dir[] = "/tmp/vt-fuzz-shm-XXXXXX";
static unsigned char *buf;

static void
setup(void)
{
    vt_clock_anchor_take(&start);
    struct timespec ms = {0, 2000000};
    nanosleep(&ms, NULL);
    if (mkdtemp(dir) == NULL)
        abort();
    buf = aligned_alloc(4096, FIX_LEN);
    if (buf == NULL)
        abort();
}

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    if (buf == NULL)
        setup();
    fix_build(buf, &start);
    for (size_t i = 0; i + 5 <= size; i += 5) {
        uint32_t off;
        memcpy(&off, data + i, 4);
        buf[off % FIX_LEN] ^= data[i + 4];
    }
    struct vt_shm_view v;
    char msg[256] = "";
    if (vt_shm_view_init(&v, buf, FIX_LEN, msg, sizeof(msg)) != VT_OK) {
        if (msg[0] == '\0')
            abort(); /* every refusal says why */
        return 0;
    }
    char path[64];
    snprintf(path, sizeof(path), "%s/t.json", dir);
    struct vt_shm_end end = {.end_ticks = vt_clock_now(), .signal = (int)(size % 40)};
    struct vt_shm_stats st;
    int errnum;
    if (vt_shm_write_trace(&v, path, &end, &st, &errnum) == VT_OK) {
        char *text;
        size_t len;
        if (vt_format_load(path, &text, &len, NULL, NULL, 0) != VT_OK)
            abort();
        const char *p = text;
        if (vt_jscan_value(&p, text + len) != 0)
            abort(); /* what we write must be JSON */
        free(text);
        unlink(path);
    }
    vt_shm_view_fini(&v);
    return 0;
}
