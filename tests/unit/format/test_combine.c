/* test_combine.c: the merge of --combine (tracer/format/merge.c), on
 * documents given as text. */
#include <check.h>
#include <cjson/cJSON.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../tracer/format/format.h"
#include "../../../tracer/tracer.h"

static char dir[64];
static char out[128];

static void
setup(void)
{
    snprintf(dir, sizeof(dir), "/tmp/vt-combine-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(out, sizeof(out), "%s/out.json", dir);
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

static cJSON *
load_out(void)
{
    FILE *f = fopen(out, "rb");
    ck_assert_ptr_nonnull(f);
    static char buf[1 << 16];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    cJSON *doc = cJSON_Parse(buf);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static void
add(struct vt_merge *c, const char *text)
{
    ck_assert_int_eq(vt_merge_add(c, text, strlen(text)), VT_OK);
}

static double
ts_of(const cJSON *doc, int i)
{
    const cJSON *ev = cJSON_GetArrayItem(cJSON_GetObjectItem(doc, "traceEvents"), i);
    return cJSON_GetObjectItem(ev, "ts")->valuedouble;
}

static const char A[] =
    "{\"traceEvents\":[{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"process_name\",\"args\":"
    "{\"name\":\"MainProcess\"}},{\"pid\":1,\"tid\":1,\"ts\":1000.5,\"ph\":\"X\",\"dur\":2,"
    "\"name\":\"f\"}],\"viztracer_metadata\":{\"version\":\"0.1.0\",\"overflow\":false,"
    "\"baseTimeNanoseconds\":1795604166369350669},\"file_info\":{\"files\":{\"a.py\":[\"x\",1]},"
    "\"functions\":{\"f\":[\"a.py\",1]}}}";
static const char B[] =
    "{\"traceEvents\":[{\"ph\":\"B\",\"pid\":2,\"tid\":2,\"ts\":500.25,\"name\":\"g\"},"
    "{\"ph\":\"E\",\"pid\":2,\"tid\":2,\"ts\":700,\"name\":\"g\"},{\"ph\":\"s\",\"id\":7,"
    "\"pid\":2,\"tid\":2,\"ts\":600,\"name\":\"flow\"}],\"viztracer_metadata\":{\"version\":"
    "\"0.16.3\",\"overflow\":true,\"sync_marker\":550.25},\"file_info\":{\"files\":{\"a.py\":"
    "[\"other\",1],\"b.py\":[\"y\",1]},\"functions\":{}}}";

START_TEST(test_combine_concatenates_all_kinds)
{
    struct vt_merge c;
    int errnum = 0;
    uint64_t count = 0;
    ck_assert_int_eq(vt_merge_init(&c, out, 0, &errnum), VT_OK);
    add(&c, A);
    add(&c, B);
    ck_assert_int_eq(vt_merge_finish(&c, &count, &errnum), VT_OK);
    ck_assert_uint_eq(count, 5);
    cJSON *doc = load_out();
    cJSON *events = cJSON_GetObjectItem(doc, "traceEvents");
    ck_assert_int_eq(cJSON_GetArraySize(events), 5);
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 2), "ph")->valuestring, "B");
    ck_assert_str_eq(cJSON_GetObjectItem(cJSON_GetArrayItem(events, 4), "ph")->valuestring, "s");
    ck_assert_double_eq_tol(ts_of(doc, 1), 1000.5, 1e-9);
    ck_assert_double_eq_tol(ts_of(doc, 2), 500.25, 1e-9);
    cJSON *meta = cJSON_GetObjectItem(doc, "viztracer_metadata");
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(meta, "overflow")));
    ck_assert_str_eq(cJSON_GetObjectItem(meta, "version")->valuestring, "0.15.6");
    ck_assert_str_eq(cJSON_GetObjectItem(meta, "viztracer_c_version")->valuestring, VT_VERSION);
    cJSON *files = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "file_info"), "files");
    ck_assert_int_eq(cJSON_GetArraySize(files), 2);
    /* The first input's copy of a file wins. */
    ck_assert_str_eq(cJSON_GetArrayItem(cJSON_GetObjectItem(files, "a.py"), 0)->valuestring, "x");
    cJSON_Delete(doc);
}
END_TEST

START_TEST(test_combine_keeps_base_time_exact)
{
    struct vt_merge c;
    int errnum = 0;
    uint64_t count = 0;
    ck_assert_int_eq(vt_merge_init(&c, out, 0, &errnum), VT_OK);
    add(&c, A);
    ck_assert_int_eq(vt_merge_finish(&c, &count, &errnum), VT_OK);
    FILE *f = fopen(out, "rb");
    char buf[4096];
    size_t n = fread(buf, 1, sizeof(buf) - 1, f);
    fclose(f);
    buf[n] = '\0';
    ck_assert_ptr_nonnull(strstr(buf, "\"baseTimeNanoseconds\":1795604166369350669"));
}
END_TEST

START_TEST(test_combine_align_shifts_to_zero_or_marker)
{
    struct vt_merge c;
    int errnum = 0;
    uint64_t count = 0;
    ck_assert_int_eq(vt_merge_init(&c, out, 1, &errnum), VT_OK);
    add(&c, A);
    add(&c, B);
    ck_assert_int_eq(vt_merge_finish(&c, &count, &errnum), VT_OK);
    cJSON *doc = load_out();
    ck_assert_double_eq_tol(ts_of(doc, 1), 0.0, 1e-9);    /* A: earliest ts */
    ck_assert_double_eq_tol(ts_of(doc, 2), -50.0, 1e-9);  /* B: its sync_marker */
    ck_assert_double_eq_tol(ts_of(doc, 3), 149.75, 1e-9); /* 700 - 550.25 */
    cJSON *meta = cJSON_GetObjectItem(doc, "viztracer_metadata");
    ck_assert_ptr_null(cJSON_GetObjectItem(meta, "sync_marker"));
    cJSON_Delete(doc);
}
END_TEST

START_TEST(test_combine_rejects_non_trace)
{
    struct vt_merge c;
    int errnum = 0;
    uint64_t count = 0;
    ck_assert_int_eq(vt_merge_init(&c, out, 0, &errnum), VT_OK);
    ck_assert_int_eq(vt_merge_add(&c, "{\"traceEvents\":[", 16), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_merge_add(&c, "[1,2]", 5), VT_ERR_FORMAT);
    ck_assert_int_eq(vt_merge_add(&c, "{\"x\":1}", 7), VT_ERR_FORMAT);
    ck_assert_uint_eq(c.inputs, 0);
    add(&c, A);
    ck_assert_int_eq(vt_merge_finish(&c, &count, &errnum), VT_OK);
    ck_assert_uint_eq(count, 2);
}
END_TEST

START_TEST(test_combine_abort_leaves_nothing)
{
    struct vt_merge c;
    int errnum = 0;
    ck_assert_int_eq(vt_merge_init(&c, out, 0, &errnum), VT_OK);
    add(&c, A);
    vt_merge_abort(&c);
    vt_merge_abort(&c);
    ck_assert_int_ne(access(out, F_OK), 0);
}
END_TEST

Suite *
combine_suite(void)
{
    Suite *s = suite_create("combine");
    TCase *tc = tcase_create("merge");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_combine_concatenates_all_kinds);
    tcase_add_test(tc, test_combine_keeps_base_time_exact);
    tcase_add_test(tc, test_combine_align_shifts_to_zero_or_marker);
    tcase_add_test(tc, test_combine_rejects_non_trace);
    tcase_add_test(tc, test_combine_abort_leaves_nothing);
    suite_add_tcase(s, tc);
    return s;
}
