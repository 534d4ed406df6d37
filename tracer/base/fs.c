/* fs.c: small file-system helpers; see fs.h. */
#include "fs.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "mem.h"

enum vt_err
vt_fs_mkdirs(const char *dir, char **failed)
{
    if (failed)
        *failed = NULL;
    char *p = vt_xstrdup(dir);
    for (char *s = p + 1; *p; s++) {
        if (*s != '/' && *s != '\0')
            continue;
        char c = *s;
        *s = '\0';
        if (mkdir(p, 0777) != 0 && errno != EEXIST) {
            int e = errno;
            if (failed)
                *failed = p;
            else
                free(p);
            errno = e;
            return VT_ERR_IO;
        }
        *s = c;
        if (c == '\0')
            break;
    }
    free(p);
    return VT_OK;
}

enum vt_err
vt_fs_mkparents(const char *path, char **failed)
{
    if (failed)
        *failed = NULL;
    const char *slash = strrchr(path, '/');
    if (slash == NULL || slash == path)
        return VT_OK;
    char *dir = vt_xstrndup(path, (size_t)(slash - path));
    enum vt_err rc = vt_fs_mkdirs(dir, failed);
    int e = errno;
    free(dir);
    errno = e;
    return rc;
}

int
vt_fs_is_html(const char *path)
{
    size_t n = strlen(path);
    return n >= 5 && strcmp(path + n - 5, ".html") == 0;
}

/* "pid (comm) S ppid ...": comm may hold spaces and parentheses, so the
 * fields are read after the last ')'. */
char
vt_fs_proc_state(long pid, long *ppid)
{
    char path[64];
    snprintf(path, sizeof(path), "/proc/%ld/stat", pid);
    FILE *f = fopen(path, "r");
    if (f == NULL)
        return 0;
    char state = 0;
    char line[512];
    if (fgets(line, sizeof(line), f)) {
        char *close = strrchr(line, ')');
        if (close && close[1] == ' ') {
            state = close[2];
            if (ppid)
                *ppid = strtol(close + 3, NULL, 10);
        }
    }
    fclose(f);
    return state;
}

int
vt_fs_dir_has_files(const char *dir)
{
    DIR *d = opendir(dir);
    if (d == NULL)
        return 0;
    int found = 0;
    struct dirent *e;
    while (!found && (e = readdir(d)) != NULL)
        found = e->d_name[0] != '.';
    closedir(d);
    return found;
}
