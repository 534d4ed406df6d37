/* interp.c: the environment's interpreter and the build for it; see
 * interp.h.
 *
 * Sections: parsers (pure), finding the environment's python (virtualenv,
 * PATH, pyenv), finding a build, the dispatch.
 */
#include "interp.h"

#include <dirent.h>
#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "../tracer/base/log.h"

/* Set in the environment of the build we exec, so that it runs the program
 * itself whatever it finds: one hop at most. */
#define CHOSEN_ENV "VIZTRACER_INTERP_CHOSEN"

/* ---- parsers ------------------------------------------------------------ */

enum vt_err
vt_interp_version_parse(const char *text, struct vt_interp_version *v)
{
    char *end;
    long major = strtol(text, &end, 10);
    if (end == text || *end != '.' || major < 2 || major > 9)
        return VT_ERR_FORMAT;
    const char *p = end + 1;
    long minor = strtol(p, &end, 10);
    if (end == p || minor < 0 || minor > 99)
        return VT_ERR_FORMAT;
    v->major = (int)major;
    v->minor = (int)minor;
    return VT_OK;
}

enum vt_err
vt_interp_version_of_name(const char *path, struct vt_interp_version *v)
{
    const char *slash = strrchr(path, '/');
    const char *base = slash ? slash + 1 : path;
    if (strncmp(base, "python", 6) != 0)
        return VT_ERR_FORMAT;
    base += 6;
    /* python3.12, python3.12d: a digit, a dot, digits, and at most ABI letters. */
    if (vt_interp_version_parse(base, v) != VT_OK)
        return VT_ERR_FORMAT;
    const char *dot = strchr(base, '.');
    const char *p = dot + 1;
    while (*p >= '0' && *p <= '9')
        p++;
    while (*p >= 'a' && *p <= 'z')
        p++;
    return *p == '\0' ? VT_OK : VT_ERR_FORMAT;
}

/* The value of "key = value" lines of a pyvenv.cfg: calls each(value, arg)
 * for every line of key until it returns 1; returns 1 then, else 0. */
static int
pyvenv_values(const char *cfg, const char *key, int (*each)(const char *value, void *arg),
              void *arg)
{
    size_t klen = strlen(key);
    for (const char *next = cfg; next && *next;) {
        const char *line = next + strspn(next, " \t");
        next = strchr(line, '\n');
        next = next ? next + 1 : NULL;
        if (strncmp(line, key, klen) != 0)
            continue;
        const char *p = line + klen;
        while (*p == ' ' || *p == '\t')
            p++;
        if (*p != '=')
            continue;
        p++;
        while (*p == ' ' || *p == '\t')
            p++;
        if (each(p, arg))
            return 1;
    }
    return 0;
}

static int
take_version(const char *value, void *arg)
{
    return vt_interp_version_parse(value, arg) == VT_OK;
}

enum vt_err
vt_interp_version_of_pyvenv(const char *cfg, struct vt_interp_version *v)
{
    if (pyvenv_values(cfg, "version_info", take_version, v) ||
        pyvenv_values(cfg, "version", take_version, v))
        return VT_OK;
    return VT_ERR_FORMAT;
}

struct home_out {
    char *buf;
    size_t len;
};

static int
take_home(const char *value, void *arg)
{
    struct home_out *o = arg;
    size_t n = strcspn(value, "\r\n");
    while (n > 0 && (value[n - 1] == ' ' || value[n - 1] == '\t'))
        n--;
    if (n == 0 || n >= o->len)
        return 0;
    memcpy(o->buf, value, n);
    o->buf[n] = '\0';
    return 1;
}

enum vt_err
vt_interp_home_of_pyvenv(const char *cfg, char *home, size_t len)
{
    struct home_out o = {home, len};
    return pyvenv_values(cfg, "home", take_home, &o) ? VT_OK : VT_ERR_FORMAT;
}

/* ---- the environment's python ----------------------------------------- */

/* The first line of a small text file into buf (no newline); VT_OK or
 * VT_ERR_NOFILE. */
static enum vt_err
read_text(const char *path, char *buf, size_t len)
{
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return VT_ERR_NOFILE;
    size_t n = fread(buf, 1, len - 1, f);
    fclose(f);
    buf[n] = '\0';
    return VT_OK;
}

static int
is_exec(const char *path)
{
    struct stat st;
    return stat(path, &st) == 0 && S_ISREG(st.st_mode) && access(path, X_OK) == 0;
}

/* The version of the interpreter at path, a real file (not a shim): from
 * its name, else from the name it resolves to (python3 -> python3.12). */
static enum vt_err
version_of_binary(const char *path, struct vt_interp_version *v)
{
    char real[PATH_MAX];
    if (vt_interp_version_of_name(path, v) == VT_OK)
        return VT_OK;
    if (realpath(path, real) != NULL && vt_interp_version_of_name(real, v) == VT_OK)
        return VT_OK;
    return VT_ERR_FORMAT;
}

/* pyenv's choice for a shim, in pyenv's own order: PYENV_VERSION, a
 * .python-version file in the current folder or above, then
 * $PYENV_ROOT/version. "system" means the python3 after the shims on PATH,
 * which is not looked for here. */
static enum vt_err
pyenv_version(const char *root, char *name, size_t len)
{
    const char *env = getenv("PYENV_VERSION");
    if (env && *env) {
        snprintf(name, len, "%s", env);
    } else {
        char dir[PATH_MAX], file[PATH_MAX + 32];
        int found = 0;
        if (getcwd(dir, sizeof(dir)) != NULL) {
            for (;;) {
                snprintf(file, sizeof(file), "%s/.python-version", dir);
                if (read_text(file, name, len) == VT_OK) {
                    found = 1;
                    break;
                }
                char *slash = strrchr(dir, '/');
                if (slash == NULL || slash == dir)
                    break;
                *slash = '\0';
            }
        }
        snprintf(file, sizeof(file), "%s/version", root);
        if (!found && read_text(file, name, len) != VT_OK)
            return VT_ERR_NOFILE;
    }
    name[strcspn(name, ": \t\r\n")] = '\0'; /* the first of several */
    return *name && strcmp(name, "system") != 0 ? VT_OK : VT_ERR_NOFILE;
}

enum vt_err
vt_interp_env_python(char *path, size_t len, struct vt_interp_version *v)
{
    char buf[PATH_MAX + 32], text[4096];
    const char *venv = getenv("VIRTUAL_ENV");
    if (venv && *venv) {
        snprintf(path, len, "%s/bin/python3", venv);
        snprintf(buf, sizeof(buf), "%s/pyvenv.cfg", venv);
        if (is_exec(path) && read_text(buf, text, sizeof(text)) == VT_OK &&
            vt_interp_version_of_pyvenv(text, v) == VT_OK)
            return VT_OK;
        return is_exec(path) && version_of_binary(path, v) == VT_OK ? VT_OK : VT_ERR_NOFILE;
    }
    const char *env_path = getenv("PATH");
    if (env_path == NULL)
        return VT_ERR_NOFILE;
    const char *root_env = getenv("PYENV_ROOT");
    const char *home = getenv("HOME");
    char root[PATH_MAX];
    if (root_env && *root_env)
        snprintf(root, sizeof(root), "%s", root_env);
    else
        snprintf(root, sizeof(root), "%s/.pyenv", home ? home : "");
    for (const char *p = env_path; *p;) {
        size_t n = strcspn(p, ":");
        snprintf(buf, sizeof(buf), "%.*s/python3", (int)n, p);
        p += n + (p[n] == ':');
        if (n == 0 || !is_exec(buf))
            continue;
        snprintf(path, len, "%s", buf);
        if (version_of_binary(buf, v) == VT_OK)
            return VT_OK;
        /* A pyenv shim (a script under $PYENV_ROOT/shims): the version it
         * selects, without running pyenv. */
        size_t rlen = strlen(root);
        char name[256];
        if (strncmp(buf, root, rlen) == 0 && strncmp(buf + rlen, "/shims/", 7) == 0 &&
            pyenv_version(root, name, sizeof(name)) == VT_OK) {
            snprintf(path, len, "%s/versions/%s/bin/python3", root, name);
            if (!is_exec(path))
                return VT_ERR_NOFILE;
            if (vt_interp_version_parse(name, v) == VT_OK)
                return VT_OK;
            return version_of_binary(path, v) == VT_OK ? VT_OK : VT_ERR_NOFILE;
        }
        return VT_ERR_NOFILE; /* the first python3 on PATH is the one, and it is not telling */
    }
    return VT_ERR_NOFILE;
}

/* ---- finding a build ------------------------------------------------- */

enum vt_err
vt_interp_find_build(const char *self, const struct vt_interp_version *v, char *out, size_t len)
{
    char dir[PATH_MAX];
    snprintf(dir, sizeof(dir), "%s", self);
    char *slash = strrchr(dir, '/');
    if (slash == NULL)
        return VT_ERR_NOFILE;
    *slash = '\0';
    char ver[16];
    snprintf(ver, sizeof(ver), "%d.%d", v->major, v->minor);
    const char *const forms[] = {"%s/viztracer%s", "%s/../py%s/bin/viztracer",
                                 "%s/../lib/viztracer/py%s/bin/viztracer"};
    for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
        snprintf(out, len, forms[i], dir, ver);
        if (is_exec(out))
            return VT_OK;
    }
    /* From a versioned build back to the default one it lives beside (the
     * build tree's build/bin, or PREFIX/bin), when that is version v. */
    const char *const home[] = {"%s/../../bin/viztracer", "%s/../../../../bin/viztracer"};
    char tag[24];
    snprintf(tag, sizeof(tag), "/py%s/bin", VT_PY_VERSION);
    size_t dl = strlen(dir), tl = strlen(tag);
    if (strcmp(ver, VT_DEFAULT_PY_VERSION) == 0 && dl > tl && strcmp(dir + dl - tl, tag) == 0) {
        for (size_t i = 0; i < sizeof(home) / sizeof(home[0]); i++) {
            snprintf(out, len, home[i], dir);
            if (is_exec(out))
                return VT_OK;
        }
    }
    return VT_ERR_NOFILE;
}

/* Appends ", <version>" to list for every build named like pattern (one
 * %s for the version) in the folders that vt_interp_find_build() looks in. */
static void
list_builds(const char *dir, char *list, size_t len)
{
    static const char *const places[][2] = {
        {"", "viztracer3."}, {"/..", "py3."}, {"/../lib/viztracer", "py3."}};
    for (size_t i = 0; i < sizeof(places) / sizeof(places[0]); i++) {
        char folder[PATH_MAX];
        snprintf(folder, sizeof(folder), "%s%s", dir, places[i][0]);
        DIR *d = opendir(folder);
        struct dirent *e;
        size_t plen = strlen(places[i][1]);
        while (d && (e = readdir(d)) != NULL) {
            if (strncmp(e->d_name, places[i][1], plen) != 0)
                continue;
            const char *ver = e->d_name + plen - 2; /* "3.12" */
            char bin[PATH_MAX + 300];
            snprintf(bin, sizeof(bin), i == 0 ? "%s/%s" : "%s/%s/bin/viztracer", folder, e->d_name);
            if (!is_exec(bin) || strstr(list, ver) != NULL)
                continue;
            size_t used = strlen(list);
            snprintf(list + used, len - used, ", %s", ver);
        }
        if (d)
            closedir(d);
    }
}

/* ---- the dispatch ---------------------------------------------------- */

/* A virtualenv is made from one installation (pyvenv.cfg's home), and
 * CPython's getpath takes the standard library and its extension modules
 * from there: those of another installation of this version (a pyenv 3.11.7
 * beside Debian's 3.11.2) do not load into the interpreter this build
 * carries (_ssl: an undefined symbol). VT_OK when no virtualenv is active,
 * when it is made from this build's interpreter (the same file), or when
 * its home names no python to compare; else VT_ERR_FORMAT, with that
 * installation's python in base[len]. */
static enum vt_err
venv_of_another_install(const struct vt_interp_version *mine, char *base, size_t len)
{
    const char *venv = getenv("VIRTUAL_ENV");
    if (venv == NULL || *venv == '\0')
        return VT_OK;
    char cfg[PATH_MAX + 16], text[4096], home[PATH_MAX];
    snprintf(cfg, sizeof(cfg), "%s/pyvenv.cfg", venv);
    if (read_text(cfg, text, sizeof(text)) != VT_OK ||
        vt_interp_home_of_pyvenv(text, home, sizeof(home)) != VT_OK)
        return VT_OK;
    snprintf(base, len, "%s/python%d.%d", home, mine->major, mine->minor);
    if (!is_exec(base))
        snprintf(base, len, "%s/python3", home);
    struct stat a, b;
    if (!is_exec(base) || stat(base, &a) != 0 || stat(VT_PYTHON_EXE, &b) != 0)
        return VT_OK;
    return a.st_dev == b.st_dev && a.st_ino == b.st_ino ? VT_OK : VT_ERR_FORMAT;
}

/* VT_OK, or one line saying why this build cannot run the virtualenv's
 * programs and VT_ERR_FORMAT. */
static enum vt_err
check_venv(const struct vt_interp_version *mine)
{
    char base[PATH_MAX + 32];
    if (venv_of_another_install(mine, base, sizeof(base)) == VT_OK)
        return VT_OK;
    vt_log_error("viztracer: the virtualenv %s is made from %s, another Python %d.%d than the "
                 "one this viztracer carries (%s), whose standard library it cannot load; build "
                 "one for it with: make -C %s PYTHON=%s, and run the viztracer that builds",
                 getenv("VIRTUAL_ENV"), base, mine->major, mine->minor, VT_PYTHON_EXE, VT_SRC_DIR,
                 base);
    return VT_ERR_FORMAT;
}

int
vt_interp_chosen(void)
{
    const char *chosen = getenv(CHOSEN_ENV);
    return chosen && *chosen;
}

enum vt_err
vt_interp_dispatch(char **argv)
{
    struct vt_interp_version env, mine;
    char python[PATH_MAX], self[PATH_MAX], other[PATH_MAX];
    if (vt_interp_version_parse(VT_PY_VERSION, &mine) != VT_OK)
        return VT_OK;
    if (vt_interp_chosen()) /* the launcher that chose this build checked the version */
        return check_venv(&mine);
    if (vt_interp_env_python(python, sizeof(python), &env) != VT_OK)
        return VT_OK;
    if (env.major == mine.major && env.minor == mine.minor)
        return check_venv(&mine);
    ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);
    if (n <= 0)
        return VT_OK;
    self[n] = '\0';
    if (vt_interp_find_build(self, &env, other, sizeof(other)) == VT_OK) {
        setenv(CHOSEN_ENV, "1", 1);
        execv(other, argv);
        vt_log_errno("viztracer: cannot run", other, errno);
        return VT_ERR_IO;
    }
    char list[256];
    snprintf(list, sizeof(list), "%s", VT_PY_VERSION);
    char *slash = strrchr(self, '/');
    if (slash) {
        *slash = '\0';
        list_builds(self, list, sizeof(list));
    }
    vt_log_error("viztracer: the environment's python (%s) is Python %d.%d, and this viztracer "
                 "has builds for Python %s; build one for it with: make -C %s PYTHON=%s install",
                 python, env.major, env.minor, list, VT_SRC_DIR, python);
    return VT_ERR_NOFILE;
}
