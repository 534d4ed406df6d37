/* test_writer.c: the streaming writer, parsed back with cJSON. */
#include <check.h>
#include <cjson/cJSON.h>
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>
#include <zlib.h>

#include "../../../tracer/format/format.h"

static char dir[64];

static void
setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vt-writer-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static char *
slurp(const char *path)
{
    gzFile f = gzopen(path, "rb"); /* reads plain files too */
    ck_assert_ptr_nonnull(f);
    size_t cap = 1 << 16, len = 0;
    char *buf = malloc(cap);
    int n;
    while ((n = gzread(f, buf + len, (unsigned)(cap - len - 1))) > 0) {
        len += (size_t)n;
        if (cap - len < 2) {
            cap *= 2;
            buf = realloc(buf, cap);
        }
    }
    gzclose(f);
    buf[len] = '\0';
    return buf;
}

static cJSON *
write_sample(const char *name, int events)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/%s", dir, name);
    struct vt_writer *w;
    int errnum;
    ck_assert_int_eq(vt_writer_open(path, &w, &errnum), VT_OK);
    const char *n = "\"f (a.py:1)\"";
    for (int i = 0; i < events; i++)
        vt_writer_fee(w, 12, 34 + i % 2, 1000000123LL + i, 1500, n, strlen(n),
                      i == 0 ? "{\"k\":1}" : NULL, i == 1 ? 7 : -1);
    const char *ev = "{\"ph\":\"i\",\"name\":\"x\"}";
    vt_writer_event(w, ev, strlen(ev));
    ck_assert_uint_eq(vt_writer_count(w), (uint64_t)events + 1);
    ck_assert_int_eq(vt_writer_close(w, "{\"overflow\":false}", "{\"files\":{}}", &errnum), VT_OK);
    char *text = slurp(path);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

START_TEST(test_writer_round_trip)
{
    cJSON *doc = write_sample("t.json", 3);
    cJSON *evs = cJSON_GetObjectItem(doc, "traceEvents");
    ck_assert_int_eq(cJSON_GetArraySize(evs), 4);
    cJSON *e0 = cJSON_GetArrayItem(evs, 0);
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "name")->valuestring, "f (a.py:1)");
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "ph")->valuestring, "X");
    ck_assert_str_eq(cJSON_GetObjectItem(e0, "cat")->valuestring, "fee");
    ck_assert_double_eq_tol(cJSON_GetObjectItem(e0, "ts")->valuedouble, 1000000.123, 1e-6);
    ck_assert_double_eq_tol(cJSON_GetObjectItem(e0, "dur")->valuedouble, 1.5, 1e-9);
    ck_assert_int_eq(cJSON_GetObjectItem(e0, "pid")->valueint, 12);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(e0, "args"), "k")->valueint, 1);
    ck_assert_ptr_null(cJSON_GetObjectItem(e0, "caller_lineno"));
    cJSON *e1 = cJSON_GetArrayItem(evs, 1);
    ck_assert_int_eq(cJSON_GetObjectItem(e1, "tid")->valueint, 35);
    ck_assert_int_eq(cJSON_GetObjectItem(e1, "caller_lineno")->valueint, 7);
    ck_assert_int_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(evs, 2), "tid")->valueint, 34);
    ck_assert(cJSON_IsFalse(
        cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "viztracer_metadata"), "overflow")));
    ck_assert(cJSON_IsObject(cJSON_GetObjectItem(doc, "file_info")));
    cJSON_Delete(doc);
}
END_TEST

START_TEST(test_writer_gz_and_many_events)
{
    /* More than the 1 MiB buffer, so flushing in the middle is exercised. */
    cJSON *doc = write_sample("t.json.gz", 30000);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(doc, "traceEvents")), 30001);
    cJSON_Delete(doc);
}
END_TEST

START_TEST(test_writer_format_us)
{
    char buf[40];
    size_t n = vt_writer_format_us(buf, 0);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "0.000");
    n = vt_writer_format_us(buf, 1234567);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "1234.567");
    n = vt_writer_format_us(buf, 999);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "0.999");
    n = vt_writer_format_us(buf, -1500);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "-1.500");
    n = vt_writer_format_us(buf, INT64_MAX);
    buf[n] = '\0';
    ck_assert_str_eq(buf, "9223372036854775.807");
    /* Every digit count, at both ends (the digit count is computed first). */
    for (int64_t p = 1; p <= INT64_MAX / 10; p *= 10) {
        for (int64_t v = p - 1; v <= p; v++) {
            char want[40];
            snprintf(want, sizeof(want), "%lld.%03lld", (long long)(v / 1000),
                     (long long)(v % 1000));
            n = vt_writer_format_us(buf, v);
            buf[n] = '\0';
            ck_assert_str_eq(buf, want);
        }
    }
}
END_TEST

START_TEST(test_writer_refuses_other_types)
{
    enum vt_writer_format f;
    ck_assert_int_eq(vt_writer_format_of("a.json", &f), VT_OK);
    ck_assert_int_eq(f, VT_WRITER_JSON);
    ck_assert_int_eq(vt_writer_format_of("a.json.gz", &f), VT_OK);
    ck_assert_int_eq(f, VT_WRITER_GZ);
    ck_assert_int_eq(vt_writer_format_of("a.txt", &f), VT_ERR_USAGE);
    ck_assert_int_eq(vt_writer_format_of("json", &f), VT_ERR_USAGE);
    struct vt_writer *w;
    int errnum;
    ck_assert_int_eq(vt_writer_open("x.html", &w, &errnum), VT_ERR_USAGE);
}
END_TEST

START_TEST(test_writer_unwritable_leaves_nothing)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/missing/t.json", dir);
    struct vt_writer *w;
    int errnum;
    ck_assert_int_eq(vt_writer_open(path, &w, &errnum), VT_ERR_IO);
    ck_assert_int_eq(errnum, ENOENT);
}
END_TEST

START_TEST(test_writer_abort_removes_temp)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/t.json", dir);
    struct vt_writer *w;
    int errnum;
    ck_assert_int_eq(vt_writer_open(path, &w, &errnum), VT_OK);
    vt_writer_event(w, "{}", 2);
    vt_writer_abort(w);
    vt_writer_abort(NULL);
    struct stat st;
    ck_assert_int_ne(stat(path, &st), 0);
    char cmd[160];
    snprintf(cmd, sizeof(cmd), "test -z \"$(ls -A %s)\"", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_writer_whole_file)
{
    char path[128];
    snprintf(path, sizeof(path), "%s/d.json.gz", dir);
    int errnum;
    ck_assert_int_eq(vt_writer_write_file(path, "{\"a\":1}", 7, &errnum), VT_OK);
    char *text = slurp(path);
    ck_assert_str_eq(text, "{\"a\":1}");
    free(text);
}
END_TEST

Suite *
writer_suite(void)
{
    Suite *s = suite_create("writer");
    TCase *core = tcase_create("core");
    tcase_add_checked_fixture(core, setup, teardown);
    tcase_add_test(core, test_writer_round_trip);
    tcase_add_test(core, test_writer_gz_and_many_events);
    tcase_add_test(core, test_writer_format_us);
    tcase_add_test(core, test_writer_whole_file);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_checked_fixture(errors, setup, teardown);
    tcase_add_test(errors, test_writer_refuses_other_types);
    tcase_add_test(errors, test_writer_unwritable_leaves_nothing);
    tcase_add_test(errors, test_writer_abort_removes_temp);
    suite_add_tcase(s, errors);
    return s;
}
