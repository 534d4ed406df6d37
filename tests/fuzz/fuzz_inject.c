/* fuzz_inject.c: libFuzzer target for the readers of remote attach
 * (launcher/inject_parse.c): the input is read both as /proc/PID/maps text
 * and as an ELF file whose dynamic symbols are looked up, as another
 * process may hand us either. Oracle: no crash and no sanitizer report; the
 * maps reader moves forward on every line and gives ranges that start before
 * they end. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "../../launcher/inject.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = vt_fuzz_text(data, size);
    if (text == NULL)
        return 0;
    static struct vt_inject_map m; /* PATH_MAX inside: not on the stack */
    const char *p = text;
    int r;
    while ((r = vt_inject_maps_next(&p, &m)) != 0) {
        if (p <= text || p > text + size)
            abort();
        if (r > 0 && (m.start > m.end || strlen(m.path) >= sizeof(m.path)))
            abort();
    }
    free(text);
    /* Which offsets are right depends on the symbols' types, which the
     * input makes up: only the reading itself is checked. */
    static const char *const names[] = {"PyGILState_Check", "_PyRuntime", "f", "d", ""};
    uint64_t offs[5], sizes[5];
    (void)vt_inject_elf_lookup(data, size, names, 5, offs, sizes);
    (void)vt_inject_elf_lookup(data, size, names, 2, offs, NULL);
    return 0;
}
