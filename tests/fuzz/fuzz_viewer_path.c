/* fuzz_viewer_path.c: libFuzzer target for the viewer's request-path checks
 * (vt_viewer__path_check) and the escaping of names in folder listings.
 *
 * Oracle: an accepted path has no ".." or "." segment, no leading '/', no
 * hidden segment and no control byte; escaped HTML holds no raw '<', '>' or
 * '"'; an escaped URL holds only unreserved bytes, '/' and %XX. Links
 * viewer/scan.c (FUZZ_DEPS_fuzz_viewer_path in viewer/viewer.mk).
 */
#include "../../viewer/internal.h"

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
    if (vt_viewer__path_check(s) == VT_OK) {
        assert(s[0] != '/' && s[0] != '.' && strstr(s, "/.") == NULL && strstr(s, "//") == NULL);
        for (const char *p = s; *p; p++)
            assert((unsigned char)*p >= 0x20 && *p != 0x7f && *p != '\\');
    }
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    if (vt_viewer__html_escape(&b, s) == VT_OK && b.len > 0)
        assert(strpbrk(b.data, "<>\"'") == NULL);
    vt_buf_reset(&b);
    if (vt_viewer__url_escape(&b, s) == VT_OK && b.len > 0) {
        for (const char *p = b.data; *p; p++)
            assert(strchr("-._~/%", *p) != NULL || (*p >= '0' && *p <= '9') ||
                   (*p >= 'a' && *p <= 'z') || (*p >= 'A' && *p <= 'Z'));
    }
    vt_buf_fini(&b);
    free(s);
    return 0;
}
