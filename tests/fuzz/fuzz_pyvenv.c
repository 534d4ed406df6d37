/* fuzz_pyvenv.c: libFuzzer target for the pyvenv.cfg readers of the
 * launcher (launcher/interp.c), which read a file of the user's
 * virtualenv before anything runs. Oracle: no sanitizer report, and a home
 * found is one non-empty line without the blanks around it. */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "../../launcher/interp.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    struct vt_interp_version v;
    char home[64]; /* small: the too-long case is taken often */
    char *text = vt_fuzz_text(data, size);
    if (text == NULL)
        return 0;
    (void)vt_interp_version_of_pyvenv(text, &v);
    /* Oracle: a home found is one non-empty line without the blanks around it. */
    if (vt_interp_home_of_pyvenv(text, home, sizeof(home)) == VT_OK) {
        size_t n = strlen(home);
        if (n == 0 || strpbrk(home, "\r\n") != NULL || home[0] == ' ' || home[0] == '\t' ||
            home[n - 1] == ' ' || home[n - 1] == '\t')
            abort();
    }
    free(text);
    return 0;
}
