/* err.h: the project's error codes, one list of code and message.
 *
 * Every function that can fail returns enum vt_err; VT_OK is 0. The message
 * is what a user reads, so the layer that knows more (the file name, the
 * option) prints its own line and uses vt_strerror() only for the cause.
 * This is the lowest layer: it includes nothing of ours.
 */
#ifndef VT_TRACER_BASE_ERR_H
#define VT_TRACER_BASE_ERR_H

#define VT_ERR_MAP(X)                                                                              \
    X(OK, "success")                                                                               \
    X(NOMEM, "out of memory")                                                                      \
    X(IO, "input/output error")                                                                    \
    X(USAGE, "invalid usage")                                                                      \
    X(NOFILE, "no such file")                                                                      \
    X(FORMAT, "malformed input")                                                                   \
    X(TOOBIG, "input too large")                                                                   \
    X(PYTHON, "python error")                                                                      \
    X(STATE, "invalid state")                                                                      \
    X(TIMEOUT, "timed out")                                                                        \
    X(GONE, "the process is gone")

enum vt_err {
#define VT_ERR_ENUM(code, msg) VT_ERR_##code,
    VT_ERR_MAP(VT_ERR_ENUM)
#undef VT_ERR_ENUM
        VT_ERR__COUNT
};

#define VT_OK VT_ERR_OK

/* Returns the static, never-NULL message of err (unknown codes included). */
const char *vt_strerror(enum vt_err err);

#endif
