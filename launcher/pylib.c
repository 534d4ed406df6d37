/* pylib.c: the start-up check of pylib.h. */
#include "pylib.h"

#include <stdlib.h>

#include "../tracer/base/log.h"

int
vt_pylib_differs(const struct vt_pylib_stamp *built, const struct stat *st)
{
    return (long long)st->st_size != built->size || (long long)st->st_mtime != built->mtime;
}

int
vt_pylib_warn_if_changed(void)
{
    const struct vt_pylib_stamp *b = &vt_pylib_built;
    const char *path = getenv("VIZTRACER_TEST_PYLIB");
    if (path == NULL || *path == '\0')
        path = b->path;
    struct stat st;
    if (*path == '\0' || b->size < 0 || stat(path, &st) != 0 || !vt_pylib_differs(b, &st))
        return 0;
    vt_log_error("viztracer: %s changed since this viztracer was built, so the Python it "
                 "carries is not the installed one; rebuild with: %s",
                 path, b->fix);
    return 1;
}
