/* fs.h: small file-system helpers every stage uses. */
#ifndef VT_TRACER_BASE_FS_H
#define VT_TRACER_BASE_FS_H

#include "err.h"

/* mkdir -p of dir (mode 0777 before umask). Returns VT_OK, or VT_ERR_IO with
 * errno set;
 * *failed (when not NULL) receives an owned copy of the folder that could not
 * be made (free it), or NULL. */
enum vt_err vt_fs_mkdirs(const char *dir, char **failed);

/* mkdir -p of the folder holding path ("a/b/c.json" -> "a/b"); nothing for a
 * bare file name. Same return convention as vt_fs_mkdirs(). */
enum vt_err vt_fs_mkparents(const char *path, char **failed);

/* 1 when path ends in ".html" (a standalone report), else 0. */
int vt_fs_is_html(const char *path);

/* The state letter of process pid from /proc/<pid>/stat ('R', 'S', 'T',
 * 'Z'...), and its parent pid in *ppid when ppid is not NULL; 0 when it is
 * unknown (no such process, or no /proc). */
char vt_fs_proc_state(long pid, long *ppid);

/* 1 when dir holds a file whose name does not start with '.'; 0 when it
 * holds none or cannot be read. */
int vt_fs_dir_has_files(const char *dir);

#endif
