/* snapshot.c: `viztracer --snapshot PID`: the newest events of a running
 * traced process, written from outside it (shm.h). The area is found
 * among the open files of the processes we may read (its supervisor holds
 * the memfd), mapped read-only and written by vt_shm_write_trace() as a
 * crash is, without stopping, pausing or signalling the process. */
#include "shm.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#include "base/err.h"
#include "tracer.h"

/* An open fd of the memfd holding pid's area, found among the files of
 * every process we may read (the supervisor of pid holds it; the traced
 * process itself keeps none), or -1. */
static int
find_area(long pid)
{
    DIR *procs = opendir("/proc");
    if (procs == NULL)
        return -1;
    int found = -1;
    struct dirent *p;
    while (found < 0 && (p = readdir(procs)) != NULL) {
        if (p->d_name[0] < '1' || p->d_name[0] > '9')
            continue;
        char dirpath[300];
        snprintf(dirpath, sizeof(dirpath), "/proc/%s/fd", p->d_name);
        DIR *d = opendir(dirpath);
        if (d == NULL)
            continue; /* another user's, or gone */
        struct dirent *ent;
        while (found < 0 && (ent = readdir(d)) != NULL) {
            char fdpath[sizeof(dirpath) + 260], target[256];
            snprintf(fdpath, sizeof(fdpath), "%s/%s", dirpath, ent->d_name);
            ssize_t n = readlink(fdpath, target, sizeof(target) - 1);
            if (n <= 0)
                continue;
            target[n] = '\0';
            if (strncmp(target, "/memfd:" VT_SHM_MEMFD_NAME " ", strlen(VT_SHM_MEMFD_NAME) + 8) !=
                0)
                continue;
            int fd = open(fdpath, O_RDONLY | O_CLOEXEC);
            struct vt_shm_header h;
            if (fd >= 0 && pread(fd, &h, sizeof(h), 0) == (ssize_t)sizeof(h) &&
                h.magic == VT_SHM_MAGIC && h.pid == pid)
                found = fd;
            else if (fd >= 0)
                close(fd);
        }
        closedir(d);
    }
    closedir(procs);
    return found;
}

enum vt_err
vt_shm_snapshot(long pid, const char *path, struct vt_shm_stats *stats, char *msg, size_t msglen)
{
    char procpath[64];
    snprintf(procpath, sizeof(procpath), "/proc/%ld", pid);
    if (pid <= 0 || access(procpath, F_OK) != 0) {
        snprintf(msg, msglen, "no process %ld", pid);
        return VT_ERR_GONE;
    }
    int fd = find_area(pid);
    if (fd < 0) {
        snprintf(msg, msglen, "process %ld is not traced by viztracer (no shared area)", pid);
        return VT_ERR_NOFILE;
    }
    struct stat st;
    if (fstat(fd, &st) < 0 || st.st_size <= 0) {
        snprintf(msg, msglen, "cannot read the shared area of process %ld: %s", pid,
                 strerror(errno));
        close(fd);
        return VT_ERR_IO;
    }
    size_t len = (size_t)st.st_size;
    void *base = mmap(NULL, len, PROT_READ, MAP_SHARED, fd, 0);
    close(fd);
    if (base == MAP_FAILED) {
        snprintf(msg, msglen, "cannot map the shared area of process %ld: %s", pid,
                 strerror(errno));
        return VT_ERR_IO;
    }
    struct vt_shm_view v;
    enum vt_err err = vt_shm_view_init(&v, base, len, msg, msglen);
    if (err == VT_OK) {
        struct vt_shm_end end = {.end_ticks = vt_clock_now(), .snapshot = 1};
        int errnum = 0;
        err = vt_shm_write_trace(&v, path, &end, stats, &errnum);
        if (err != VT_OK)
            snprintf(msg, msglen, "cannot write %s: %s", path,
                     errnum ? strerror(errnum) : vt_strerror(err));
    }
    vt_shm_view_fini(&v);
    munmap(base, len);
    return err;
}
