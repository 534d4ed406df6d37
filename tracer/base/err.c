/* err.c: messages of enum vt_err, generated from VT_ERR_MAP. */
#include "err.h"

static const char *const messages[] = {
#define VT_ERR_MSG(code, msg) msg,
    VT_ERR_MAP(VT_ERR_MSG)
#undef VT_ERR_MSG
};

const char *
vt_strerror(enum vt_err err)
{
    if ((unsigned)err >= VT_ERR__COUNT)
        return "unknown error";
    return messages[err];
}
