/* test_format.c: tracer/format/format.c: the one trace-file loader, the
 * "_<pid>" output name and the summary printed after a save. */
#include <check.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../../tracer/format/format.h"

static char dir[256]; /* the fixture's folder */

static void
setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vt-format-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[300];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Writes len bytes to dir/name, gzip-compressed when gz; returns the path
 * in a static buffer. */
static const char *
put(const char *name, const char *data, size_t len, int gz)
{
    static char path[512];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, data, (unsigned)len), (int)len);
        ck_assert_int_eq(gzclose(f), Z_OK);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_uint_eq(fwrite(data, 1, len, f), len);
        ck_assert_int_eq(fclose(f), 0);
    }
    return path;
}

START_TEST(test_format_load_plain_and_gzip)
{
    static const char doc[] = "{\"traceEvents\":[]}\n";
    const char *names[] = {"a.json", "b.json.gz", "c.json"}; /* c: gzip under a .json name */
    for (int i = 0; i < 3; i++) {
        const char *path = put(names[i], doc, strlen(doc), i > 0);
        char *text = NULL;
        size_t len = 0;
        int errnum = -1;
        ck_assert_int_eq(vt_format_load(path, &text, &len, &errnum, NULL, 0), VT_OK);
        ck_assert_uint_eq(len, strlen(doc));
        ck_assert_str_eq(text, doc); /* NUL-terminated */
        ck_assert_int_eq(errnum, 0);
        free(text);
    }
    const char *empty = put("empty.json", "", 0, 0);
    char *text = NULL;
    size_t len = 1;
    ck_assert_int_eq(vt_format_load(empty, &text, &len, NULL, NULL, 0), VT_OK);
    ck_assert_uint_eq(len, 0);
    ck_assert_str_eq(text, "");
    free(text);
}
END_TEST

START_TEST(test_format_load_errors)
{
    char path[512], msg[256];
    char *text = (char *)1;
    size_t len;
    int errnum = 0;
    snprintf(path, sizeof(path), "%s/missing.json", dir);
    ck_assert_int_eq(vt_format_load(path, &text, &len, &errnum, msg, sizeof(msg)), VT_ERR_NOFILE);
    ck_assert_ptr_null(text);
    ck_assert_int_eq(errnum, ENOENT);
    ck_assert_ptr_nonnull(strstr(msg, "cannot open"));
    ck_assert_int_eq(vt_format_load(dir, &text, &len, &errnum, msg, sizeof(msg)), VT_ERR_IO);
    ck_assert_str_eq(msg, "not a regular file");

    /* A gzip stream cut short: zlib hands out what it inflated, but the
     * file is refused, as a merge must not copy half an input. */
    static const char doc[] = "{\"traceEvents\":[{\"ph\":\"i\",\"name\":\"x\"}]}";
    const char *whole = put("whole.json.gz", doc, strlen(doc), 1);
    FILE *f = fopen(whole, "rb");
    ck_assert_ptr_nonnull(f);
    char gz[512];
    size_t n = fread(gz, 1, sizeof(gz), f);
    fclose(f);
    ck_assert_uint_gt(n, 12);
    const char *cut = put("cut.json.gz", gz, n - 8, 0); /* without the CRC and size */
    ck_assert_int_eq(vt_format_load(cut, &text, &len, &errnum, msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(msg, "truncated"));
    ck_assert_ptr_null(text);

    const char *bad = put("bad.json.gz", "\x1f\x8b garbage", 10, 0);
    ck_assert_int_eq(vt_format_load(bad, &text, &len, &errnum, msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(msg, "cannot read"));
    /* msg and errnum are optional. */
    ck_assert_int_eq(vt_format_load(bad, &text, &len, NULL, NULL, 0), VT_ERR_FORMAT);
}
END_TEST

START_TEST(test_format_pid_path)
{
    struct {
        const char *in, *out;
    } cases[] = {
        {"out/result.json", "out/result_42.json"},
        {"out/r.json.gz", "out/r_42.json.gz"},
        {"a.b/r", "a.b/r_42"},
        {"r.html", "r_42.html"},
        {".json", ".json_42"},
        {"x.gz", "x_42.gz"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        char *p = vt_format_pid_path(cases[i].in, 42);
        ck_assert_str_eq(p, cases[i].out);
        free(p);
    }
}
END_TEST

/* Runs vt_format_print_summary with stdout sent to a file; returns what it
 * printed (owned). */
static char *
summary_of(const char *path, uint64_t count)
{
    char out[512];
    snprintf(out, sizeof(out), "%s/stdout.txt", dir);
    fflush(stdout);
    int saved = dup(STDOUT_FILENO);
    ck_assert_int_ge(saved, 0);
    ck_assert_ptr_nonnull(freopen(out, "w", stdout));
    vt_format_print_summary(path, count);
    ck_assert_int_ge(dup2(saved, STDOUT_FILENO), 0);
    close(saved);
    char *text;
    size_t len;
    ck_assert_int_eq(vt_format_load(out, &text, &len, NULL, NULL, 0), VT_OK);
    return text;
}

START_TEST(test_format_print_summary)
{
    put("t.json", "{}", 2, 0);
    char path[512], want[1200];
    snprintf(path, sizeof(path), "%s/t.json", dir);
    char *got = summary_of(path, 12345);
    char *abs = realpath(path, NULL);
    snprintf(want, sizeof(want),
             "\r%80s\rTotal Entries: 12345\nUse the following command to open the report:\n"
             "vizviewer %s\n",
             "", abs);
    ck_assert_str_eq(got, want);
    free(got);
    free(abs);
    put("a b.json", "{}", 2, 0);
    snprintf(path, sizeof(path), "%s/a b.json", dir);
    got = summary_of(path, 0);
    abs = realpath(path, NULL);
    snprintf(want, sizeof(want),
             "\r%80s\rTotal Entries: 0\nUse the following command to open the report:\n"
             "vizviewer \"%s\"\n",
             "", abs);
    ck_assert_str_eq(got, want);
    free(got);
    free(abs);
    got = summary_of("no/such/file.json", 1); /* shown as given */
    ck_assert_ptr_nonnull(strstr(got, "vizviewer no/such/file.json\n"));
    free(got);
}
END_TEST

Suite *
format_suite(void)
{
    Suite *s = suite_create("format");
    TCase *tc = tcase_create("core");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_format_load_plain_and_gzip);
    tcase_add_test(tc, test_format_load_errors);
    tcase_add_test(tc, test_format_pid_path);
    tcase_add_test(tc, test_format_print_summary);
    suite_add_tcase(s, tc);
    return s;
}
