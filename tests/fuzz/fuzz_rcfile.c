/* fuzz_rcfile.c: libFuzzer target for the .viztracerrc reader (untrusted file). */
#include <stddef.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "fuzz_text.h"
#include "../../launcher/cli.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int
LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char *text = vt_fuzz_text(data, size);
    if (text == NULL)
        return 0;
    struct vt_options o;
    char msg[256];
    vt_cli_options_init(&o);
    (void)vt_cli_apply_rc(&o, text, "fuzz", msg, sizeof(msg));
    vt_cli_options_fini(&o);
    free(text);
    return 0;
}
