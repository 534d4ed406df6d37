/* test_reader.c: the trace loader (tracer/format/reader.c) on good, odd and broken
 * input: our format, VizTracer 0.15's, gzip, truncation, garbage. */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include "../../../tracer/format/format.h"

static char err[256];

static enum vt_err
parse(const char *json, struct vt_trace **out)
{
    size_t n = strlen(json);
    char *text = malloc(n + 1);
    memcpy(text, json, n + 1);
    err[0] = '\0';
    return vt_reader_parse(text, n, out, err, sizeof(err));
}

/* Our writer's shape: compact, 3 decimals, file_info, metadata last. */
static const char *ours =
    "{\"traceEvents\":[{\"ph\":\"M\",\"pid\":7,\"tid\":7,\"name\":\"process_name\",\"args\":{"
    "\"name\":\"MainProcess\"}},{\"ph\":\"M\",\"pid\":7,\"tid\":8,\"name\":\"thread_name\","
    "\"args\":{\"name\":\"worker\"}},"
    "{\"pid\":7,\"tid\":8,\"ts\":1911304330.239,\"ph\":\"X\",\"cat\":\"fee\",\"dur\":0.42,"
    "\"name\":\"fib (/tmp/t1.py:3)\",\"caller_lineno\":12,\"args\":{\"func_args\":{\"n\":\"0\"},"
    "\"return_value\":\"0\"}},"
    "{\"pid\":7,\"tid\":8,\"ts\":1911304331,\"ph\":\"X\",\"cat\":\"fee\",\"dur\":1,\"name\":"
    "\"builtins.len\"},"
    "{\"pid\":7,\"tid\":7,\"ts\":1911304332.5,\"ph\":\"C\",\"name\":\"c\",\"args\":{\"a\":1}},"
    "{\"pid\":7,\"tid\":7,\"ts\":1911304333,\"ph\":\"i\",\"name\":\"hi\",\"s\":\"p\"},"
    "{\"pid\":7,\"tid\":7,\"ts\":1911304334,\"ph\":\"N\",\"id\":\"0x1\",\"name\":\"o\"},"
    "{\"pid\":7,\"tid\":7,\"ts\":1911304335,\"ph\":\"O\",\"id\":12,\"name\":\"o\",\"args\":{"
    "\"snapshot\":{\"x\":1}}},"
    "{\"pid\":7,\"tid\":7,\"ts\":1911304336,\"ph\":\"B\",\"name\":\"unfinished\"}"
    "],\"viztracer_metadata\":{\"version\":\"0.1.0\",\"overflow\":false,\"vdb\":true},"
    "\"file_info\":{\"files\":{\"/tmp/t1.py\":[\"def fib(n):\\n    return n\\n\",2]},"
    "\"functions\":{\"fib (/tmp/t1.py:3)\":[\"/tmp/t1.py\",3]}}}";

START_TEST(test_ours)
{
    struct vt_trace *t;
    ck_assert_int_eq(parse(ours, &t), VT_OK);
    ck_assert_int_eq(t->funcs.n, 2);
    ck_assert_int_eq(t->marks.n, 4);
    ck_assert_int_eq(t->skipped, 1);
    const struct vt_trace_event *e = &t->funcs.v[0];
    ck_assert_int_eq(e->ts, 1911304330239LL);
    ck_assert_int_eq(e->dur, 420);
    ck_assert_int_eq(e->pid, 7);
    ck_assert_int_eq(e->tid, 8);
    ck_assert_int_eq(e->caller_lineno, 12);
    ck_assert_int_eq(e->has_args, 1);
    ck_assert_str_eq(vt_reader_name(t, e->name), "fib (/tmp/t1.py:3)");
    ck_assert_int_eq(t->funcs.v[1].caller_lineno, -1);
    ck_assert_int_eq(t->funcs.v[1].has_args, 0);
    ck_assert_int_eq(t->has_caller_lineno, 1);
    cJSON *ev = vt_reader_event_json(t, e);
    ck_assert_ptr_nonnull(ev);
    const cJSON *rv = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(ev, "args"),
                                                       "return_value");
    ck_assert_str_eq(rv->valuestring, "0");
    cJSON_Delete(ev);
    ck_assert_str_eq(t->version, "0.1.0");
    ck_assert_str_eq(vt_reader_source(t, "/tmp/t1.py"), "def fib(n):\n    return n\n");
    ck_assert_ptr_null(vt_reader_source(t, "/nope.py"));
    ck_assert_str_eq(vt_reader_label(t, 7, 7, 0), "MainProcess");
    ck_assert_str_eq(vt_reader_label(t, 7, 8, 1), "worker");
    ck_assert_ptr_null(vt_reader_label(t, 7, 9, 1));
    /* Object ids, string or number, are interned. */
    ck_assert_str_eq(vt_reader_name(t, t->marks.v[2].id), "0x1");
    ck_assert_str_eq(vt_reader_name(t, t->marks.v[3].id), "12");
    ck_assert_int_eq(t->marks.v[0].ph, 'C');
    ck_assert_int_eq(t->marks.v[1].ph, 'i');
    ck_assert_str_eq(vt_reader_name(t, 12345), "");
    vt_reader_free(t);
    vt_reader_free(NULL);
}
END_TEST

/* VizTracer 0.15's Python save path: spaces, "FEE", metadata first, no caller_lineno. */
START_TEST(test_viztracer_015)
{
    struct vt_trace *t;
    ck_assert_int_eq(
        parse("{\"viztracer_metadata\": {\"version\": \"0.15.6\", \"overflow\": false},\n"
              " \"traceEvents\": [\n  {\"ph\": \"X\", \"name\": \"f (/a.py:1)\", \"ts\": 5.5, "
              "\"dur\": 2.25, \"pid\": 1, \"tid\": 2, \"cat\": \"FEE\"},\n"
              "  {\"ph\": \"i\", \"name\": \"x\", \"ts\": 6, \"pid\": 1, \"tid\": 2, \"s\": \"p\", "
              "\"args\": null}\n ]\n}\n",
              &t),
        VT_OK);
    ck_assert_int_eq(t->funcs.n, 1);
    ck_assert_int_eq(t->funcs.v[0].ts, 5500);
    ck_assert_int_eq(t->funcs.v[0].dur, 2250);
    ck_assert_int_eq(t->has_caller_lineno, 0);
    ck_assert_str_eq(t->version, "0.15.6");
    ck_assert_ptr_null(t->file_info);
    vt_reader_free(t);
}
END_TEST

START_TEST(test_no_metadata)
{
    struct vt_trace *t;
    ck_assert_int_eq(parse("{\"traceEvents\":[]}", &t), VT_OK);
    ck_assert_ptr_null(t->metadata);
    ck_assert_ptr_null(t->version);
    vt_reader_free(t);
    /* Chrome's bare array form: events, no metadata. */
    ck_assert_int_eq(parse("[{\"ph\":\"X\",\"ts\":1,\"dur\":1,\"pid\":1,\"tid\":1}]", &t), VT_OK);
    ck_assert_int_eq(t->funcs.n, 1);
    ck_assert_ptr_null(t->metadata);
    vt_reader_free(t);
}
END_TEST

START_TEST(test_broken)
{
    static const struct {
        const char *json;
        const char *msg;
    } cases[] = {
        {"", "empty file"},
        {"   \n", "empty file"},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1", "truncated"},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1,\"dur\":2}", "truncated"},
        {"{\"traceEvents\":[", "truncated"},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"name\":\"f (a{b", "truncated"},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1,", "truncated"},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":tr", "truncated"},
        {"{\"traceEvents\"", "truncated"},
        {"{", "truncated"},
        {"{\"traceEvents\":[] } x", "unexpected data"},
        {"hello", "a JSON object expected"},
        {"{\"traceEvents\":[1]}", "event 0 is not an object"},
        {"{\"traceEvents\":[{\"ph\":\"X\"}]}", "no valid \"ts\""},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":\"1\"}]}", "no valid \"ts\""},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1e300}]}", "no valid \"ts\""},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1,\"dur\":1e300}]}", "invalid \"dur\""},
        {"{\"traceEvents\":{}}", "not an array"},
        {"{\"traceEvents\":[{} {}]}", "',' or ']' expected"},
        {"{\"traceEvents\":[]  \"x\":1}", "',' or '}' expected"},
        {"{\"traceEvents\" 1}", "':' expected"},
        {"{1:2}", "a key expected"},
        {"{\"viztracer_metadata\":{}}", "no \"traceEvents\""},
        {"{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1,]}", "invalid JSON"},
    };
    for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
        struct vt_trace *t = (struct vt_trace *)1;
        enum vt_err rc = parse(cases[i].json, &t);
        ck_assert_msg(rc == VT_ERR_FORMAT, "case %zu: rc %d", i, (int)rc);
        ck_assert_ptr_null(t);
        ck_assert_msg(strstr(err, cases[i].msg) != NULL, "case %zu: '%s' lacks '%s'", i, err,
                      cases[i].msg);
        ck_assert_ptr_null(strchr(err, '\n'));
    }
}
END_TEST

START_TEST(test_lenient)
{
    struct vt_trace *t;
    /* Missing ph, unknown ph, negative dur, string pid, odd caller_lineno. */
    ck_assert_int_eq(parse("{\"traceEvents\":[{\"ts\":1},{\"ph\":\"s\",\"ts\":1},"
                           "{\"ph\":\"X\",\"ts\":1,\"dur\":-3,\"pid\":\"12\",\"tid\":3,"
                           "\"caller_lineno\":-4}]}",
                           &t),
                     VT_OK);
    ck_assert_int_eq(t->skipped, 2);
    ck_assert_int_eq(t->funcs.n, 1);
    ck_assert_int_eq(t->funcs.v[0].dur, 0);
    ck_assert_int_eq(t->funcs.v[0].pid, 12);
    ck_assert_int_eq(t->funcs.v[0].caller_lineno, -1);
    ck_assert_int_eq(t->funcs.v[0].name, 0);
    vt_reader_free(t);
}
END_TEST

static void
write_file(const char *path, const char *data, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        gzwrite(f, data, (unsigned)strlen(data));
        gzclose(f);
    } else {
        FILE *f = fopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        fwrite(data, 1, strlen(data), f);
        fclose(f);
    }
}

START_TEST(test_files)
{
    char dir[] = "/tmp/vt_reader_XXXXXX";
    char path[256];
    struct vt_trace *t;
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/a.json.gz", dir);
    write_file(path, ours, 1);
    ck_assert_int_eq(vt_reader_load(path, &t, err, sizeof(err)), VT_OK);
    ck_assert_int_eq(t->funcs.n, 2);
    vt_reader_free(t);
    unlink(path);
    snprintf(path, sizeof(path), "%s/a.json", dir);
    write_file(path, ours, 0);
    ck_assert_int_eq(vt_reader_load(path, &t, err, sizeof(err)), VT_OK);
    vt_reader_free(t);
    /* Truncated gzip stream. */
    {
        size_t n = strlen(ours);
        gzFile f = gzopen(path, "wb");
        gzwrite(f, ours, (unsigned)n);
        gzclose(f);
        FILE *raw = fopen(path, "rb");
        unsigned char buf[8192];
        size_t got = fread(buf, 1, sizeof(buf), raw);
        fclose(raw);
        raw = fopen(path, "wb");
        fwrite(buf, 1, got / 2, raw);
        fclose(raw);
        ck_assert_int_ne(vt_reader_load(path, &t, err, sizeof(err)), VT_OK);
        ck_assert_ptr_null(t);
    }
    unlink(path);
    ck_assert_int_eq(vt_reader_load(path, &t, err, sizeof(err)), VT_ERR_NOFILE);
    ck_assert_ptr_nonnull(strstr(err, "cannot open"));
    ck_assert_int_eq(vt_reader_load(dir, &t, err, sizeof(err)), VT_ERR_IO);
    ck_assert_str_eq(err, "not a regular file");
    rmdir(dir);
}
END_TEST

START_TEST(test_split_name)
{
    struct vt_reader_fname f;
    ck_assert_int_eq(vt_reader_split_name("fib (/tmp/t1.py:3)", &f), 1);
    ck_assert_int_eq((int)f.func_len, 3);
    ck_assert_int_eq(strncmp(f.func, "fib", 3), 0);
    ck_assert_int_eq((int)f.file_len, 10);
    ck_assert_int_eq(strncmp(f.file, "/tmp/t1.py", 10), 0);
    ck_assert_int_eq(f.line, 3);
    ck_assert_int_eq(vt_reader_split_name("<module> (/a b/c (1).py:12)", &f), 1);
    ck_assert_int_eq(strncmp(f.func, "<module> (/a b/c", f.func_len), 0);
    ck_assert_int_eq(f.line, 12);
    ck_assert_int_eq(vt_reader_split_name("normcase (<frozen posixpath>:52)", &f), 1);
    ck_assert_int_eq(strncmp(f.file, "<frozen posixpath>", f.file_len), 0);
    ck_assert_int_eq(vt_reader_split_name("builtins.len", &f), 0);
    ck_assert_int_eq(vt_reader_split_name("x (a.py:)", &f), 0);
    ck_assert_int_eq(vt_reader_split_name("x (a.py:1", &f), 0);
    ck_assert_int_eq(vt_reader_split_name("(a.py:1)", &f), 0);
    ck_assert_int_eq(vt_reader_split_name("", &f), 0);
}
END_TEST

START_TEST(test_version_cmp)
{
    ck_assert_int_lt(vt_reader_version_cmp("0.9.4", "0.9.5"), 0);
    ck_assert_int_gt(vt_reader_version_cmp("0.15.6", "0.9.5"), 0);
    ck_assert_int_eq(vt_reader_version_cmp("1.0", "1.0.0"), 0);
    ck_assert_int_gt(vt_reader_version_cmp("1.1.1", "1.1"), 0);
    ck_assert_int_lt(vt_reader_version_cmp("0.1.0", "0.9.5"), 0);
    ck_assert_int_eq(vt_reader_version_cmp("", ""), 0);
    ck_assert_int_gt(vt_reader_version_cmp("0.16.0rc1", "0.15.99"), 0);
}
END_TEST

Suite *
reader_suite(void)
{
    Suite *s = suite_create("reader");
    TCase *core = tcase_create("core");
    tcase_add_test(core, test_ours);
    tcase_add_test(core, test_viztracer_015);
    tcase_add_test(core, test_no_metadata);
    tcase_add_test(core, test_lenient);
    tcase_add_test(core, test_files);
    suite_add_tcase(s, core);
    TCase *errors = tcase_create("errors");
    tcase_add_test(errors, test_broken);
    suite_add_tcase(s, errors);
    TCase *names = tcase_create("names");
    tcase_add_test(names, test_split_name);
    tcase_add_test(names, test_version_cmp);
    suite_add_tcase(s, names);
    return s;
}
