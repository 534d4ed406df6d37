/* interp.h: the interpreter the user's environment means, and the build of
 * viztracer that runs programs on it.
 *
 * Each executable embeds one CPython (the build's). When the environment's
 * python (an activated virtualenv's, else `python3` on PATH, following a
 * pyenv shim to the version it selects) is another major.minor, the
 * launcher runs the program with the build for that version when one is
 * installed beside this one, and otherwise says in one line which versions
 * it has and how to build the missing one. No Python here, and no process
 * is started to ask an interpreter its version: file names, pyvenv.cfg and
 * pyenv's version files say it, so the check costs a few stat() calls.
 *
 * The parsers below are pure, for tests/unit/launcher/test_interp.c.
 */
#ifndef VT_LAUNCHER_INTERP_H
#define VT_LAUNCHER_INTERP_H

#include <stddef.h>

#include "../tracer/base/err.h"

/* A Python version, major.minor. */
struct vt_interp_version {
    int major; /* 3 */
    int minor; /* 12 */
};

/* The version in a file name such as "python3.12" or ".../bin/python3.12";
 * VT_OK, or VT_ERR_FORMAT when the name carries none ("python3"). Pure. */
enum vt_err vt_interp_version_of_name(const char *path, struct vt_interp_version *v);

/* The version of a version string "3.12.1", "3.12" or "3.13.0.final.0";
 * VT_OK or VT_ERR_FORMAT. Pure. */
enum vt_err vt_interp_version_parse(const char *text, struct vt_interp_version *v);

/* The version in the text of a virtualenv's pyvenv.cfg (its "version" or
 * "version_info" key); VT_OK or VT_ERR_FORMAT. Pure. */
enum vt_err vt_interp_version_of_pyvenv(const char *cfg, struct vt_interp_version *v);

/* The base interpreter's folder of a pyvenv.cfg's text ("home = /usr/bin")
 * into home[len], without trailing blanks. VT_OK, or VT_ERR_FORMAT when it
 * has none (or it does not fit). Pure. */
enum vt_err vt_interp_home_of_pyvenv(const char *cfg, char *home, size_t len);

/* The environment's interpreter: its path in path[len] and its version.
 * VT_OK; VT_ERR_NOFILE when no python3 is found or its version cannot be
 * told without running it (then nothing is dispatched). Reads the
 * environment (VIRTUAL_ENV, PATH, PYENV_VERSION, PYENV_ROOT, HOME) and the
 * files they name; can't fail otherwise. */
enum vt_err vt_interp_env_python(char *path, size_t len, struct vt_interp_version *v);

/* The path of an installed viztracer for version v beside the executable
 * self (this build's path): self's folder's viztracer<v>, <folder>/../py<v>/
 * bin/viztracer (the build tree), <folder>/../lib/viztracer/py<v>/bin/
 * viztracer (make install), or for the default build, the viztracer those
 * live beside. VT_OK with out[len] filled, or VT_ERR_NOFILE. */
enum vt_err vt_interp_find_build(const char *self, const struct vt_interp_version *v, char *out,
                                 size_t len);

/* Called by main() before a program is run (not for a traced child, whose
 * parent chose its build): when the environment's python is not this
 * build's version, execs the build for it with argv (it does not return),
 * or prints one line naming the versions this viztracer has and the make
 * command that builds the missing one, and returns VT_ERR_NOFILE. An active
 * virtualenv of this version made from another installation of it than the
 * one this build carries is refused the same way (VT_ERR_FORMAT), also in a
 * build a launcher chose. VT_OK when this build is the one to run (also
 * when the environment's version cannot be told, or when
 * VIZTRACER_INTERP_CHOSEN says a launcher already chose). */
enum vt_err vt_interp_dispatch(char **argv);

/* 1 when a launcher already chose this build (and exec'd it): that one has
 * printed what the command line alone warns of. */
int vt_interp_chosen(void);

#endif
