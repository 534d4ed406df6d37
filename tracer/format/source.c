/* source.c: a Python file's text for file_info (FORMAT.md, "file_info");
 * see format.h. The tracer's save (tracer/names.c) and the crash writer
 * (tracer/shm.c, which runs in the supervisor, without Python) read the
 * sources the same way, so a crash trace shows the same source as a saved
 * one. */
#include "format.h"

#include <stdio.h>
#include <sys/stat.h>

#include "../base/buf.h"

/* Sources larger than this are left out. */
#define SOURCE_MAX_BYTES (16u << 20)

/* Returns 1 when s[0..n) is valid UTF-8 without NUL bytes. */
static int
valid_utf8(const unsigned char *s, size_t n)
{
    size_t i = 0;
    while (i < n) {
        unsigned c = s[i];
        size_t k;
        if (c == 0)
            return 0;
        if (c < 0x80) {
            i++;
            continue;
        } else if ((c & 0xE0) == 0xC0 && c >= 0xC2) {
            k = 1;
        } else if ((c & 0xF0) == 0xE0) {
            k = 2;
        } else if ((c & 0xF8) == 0xF0 && c <= 0xF4) {
            k = 3;
        } else {
            return 0;
        }
        for (size_t j = 1; j <= k; j++)
            if (i + j >= n || (s[i + j] & 0xC0) != 0x80)
                return 0;
        i += k + 1;
    }
    return 1;
}

int
vt_format_add_source(cJSON *files, const char *key, const char *path)
{
    /* Regular files only: a FIFO or a device named by a corrupt area (the
     * crash writer's input) would block or never end. */
    struct stat st;
    if (stat(path, &st) != 0 || !S_ISREG(st.st_mode))
        return 0;
    FILE *fp = fopen(path, "rb");
    if (fp == NULL)
        return 0;
    struct vt_buf b;
    vt_buf_init(&b, SOURCE_MAX_BYTES);
    char chunk[65536];
    size_t got;
    enum vt_err err = VT_OK;
    while (err == VT_OK && (got = fread(chunk, 1, sizeof(chunk), fp)) > 0)
        err = vt_buf_add(&b, chunk, got);
    fclose(fp);
    const char *text = b.data ? b.data : "";
    if (err != VT_OK || !valid_utf8((const unsigned char *)text, b.len)) {
        vt_buf_fini(&b);
        return 0;
    }
    int lines = 0;
    for (size_t i = 0; i < b.len; i++)
        lines += text[i] == '\n';
    cJSON *pair = cJSON_CreateArray();
    cJSON_AddItemToArray(pair, cJSON_CreateString(text));
    cJSON_AddItemToArray(pair, cJSON_CreateNumber(lines));
    cJSON_AddItemToObject(files, key, pair);
    vt_buf_fini(&b);
    return 1;
}
