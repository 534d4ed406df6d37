/* test_vzt.c: tracer/format/vzt.c: the compact .vzt form round-trips a
 * trace's JSON values, and refuses what is not a whole .vzt of its version. */
#include <check.h>
#include <dirent.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "../../../tracer/base/buf.h"
#include "../../../tracer/format/format.h"

#define MAX ((size_t)1 << 28)

/* A trace of every kind: our X events (with and without cat, args and
 * caller_lineno; negative and sub-microsecond times), X events whose numbers
 * the columns cannot hold exactly (VizTracer's floats, an exponent, a
 * string pid), one with a key of its own, instants, counters, objects,
 * metadata events, a non-object event, viztracer_metadata and file_info. */
static char *
make_trace(size_t nx)
{
    struct vt_buf b;
    vt_buf_init(&b, MAX);
    vt_buf_adds(&b, "{\"traceEvents\":[\n"
                    "{\"ph\":\"M\",\"pid\":7,\"tid\":7,\"name\":\"process_name\","
                    "\"args\":{\"name\":\"MainProcess\"}},\n"
                    "{\"ph\":\"M\",\"pid\":7,\"tid\":8,\"name\":\"thread_name\","
                    "\"args\":{\"name\":\"MainThread\"}}");
    for (size_t i = 0; i < nx; i++) {
        char ts[40], dur[40];
        ts[vt_writer_format_us(ts, (int64_t)(1000000 + i * 1371))] = '\0';
        dur[vt_writer_format_us(dur, (int64_t)(i % 977) * 13)] = '\0';
        vt_buf_printf(&b,
                      ",\n{\"pid\":7,\"tid\":%d,\"ts\":%s,\"ph\":\"X\",\"cat\":\"fee\",\"dur\":%s,"
                      "\"name\":\"f%zu (/tmp/a \\\"b\\\".py:%zu)\"%s%s}",
                      8 + (int)(i % 3), ts, dur, i % 17, i % 17,
                      i % 5 == 0 ? ",\"caller_lineno\":12" : "",
                      i % 7 == 0 ? ",\"args\":{\"return_value\":\"[1, 2]\",\"n\":3}" : "");
    }
    vt_buf_adds(
        &b, ",\n{\"pid\":7,\"tid\":8,\"ts\":-0.500,\"ph\":\"X\",\"dur\":0.000,\"name\":\"neg\"}"
            ",\n{\"name\":\"no cat\",\"ph\":\"X\",\"ts\":5.000,\"dur\":1.000,\"pid\":-3,\"tid\":0}"
            ",\n{\"pid\":7,\"tid\":8,\"ts\":12.3456,\"ph\":\"X\",\"dur\":1.5,\"name\":\"vt\"}"
            ",\n{\"pid\":7,\"tid\":8,\"ts\":1e3,\"ph\":\"X\",\"dur\":1.000,\"name\":\"exp\"}"
            ",\n{\"pid\":\"7\",\"tid\":8,\"ts\":1.000,\"ph\":\"X\",\"dur\":1.000,\"name\":\"s\"}"
            ",\n{\"pid\":7,\"tid\":8,\"ts\":1.000,\"ph\":\"X\",\"dur\":1.000,\"name\":\"x\","
            "\"extra\":null}"
            ",\n{\"ph\":\"i\",\"cat\":\"INSTANT\",\"name\":\"mark\",\"s\":\"g\","
            "\"args\":{\"k\":[1,2,{\"u\":\"\\u00e9\"}]},\"pid\":7,\"tid\":8,\"ts\":3.000}"
            ",\n{\"ph\":\"C\",\"name\":\"mem\",\"args\":{\"rss\":1.25e6},\"pid\":7,\"tid\":8,"
            "\"ts\":4.000}"
            ",\n{\"ph\":\"N\",\"id\":\"0x1\",\"name\":\"obj\",\"pid\":7,\"tid\":8,\"ts\":4.000}"
            ",\n42"
            "\n],\"viztracer_metadata\":{\"version\":\"0.1.0\",\"overflow\":false,"
            "\"baseTimeNanoseconds\":1796167622277894285},"
            "\"file_info\":{\"files\":{\"/tmp/a.py\":[\"def f():\\n    pass\\n\",2]},"
            "\"functions\":{\"f (/tmp/a.py:1)\":[\"/tmp/a.py\",1]}}}\n");
    return vt_buf_take(&b, NULL);
}

/* Asserts that the two documents hold the same JSON values. */
static void
assert_same_json(const char *a, const char *b)
{
    cJSON *ja = cJSON_Parse(a), *jb = cJSON_Parse(b);
    ck_assert_ptr_nonnull(ja);
    ck_assert_ptr_nonnull(jb);
    ck_assert_msg(cJSON_Compare(ja, jb, 1), "decoded JSON differs");
    cJSON_Delete(ja);
    cJSON_Delete(jb);
}

static void
encode(const char *text, char **out, size_t *len)
{
    char msg[256] = "";
    ck_assert_int_eq(vt_vzt_encode(text, strlen(text), out, len, msg, sizeof(msg)), VT_OK);
    ck_assert(vt_vzt_is(*out, *len));
}

START_TEST(test_vzt_round_trip)
{
    char *text = make_trace(5000);
    char *vzt, *back, msg[256] = "";
    size_t vlen, blen;
    encode(text, &vzt, &vlen);
    ck_assert_uint_lt(vlen * 10, strlen(text));
    ck_assert_int_eq(vt_vzt_decode(vzt, vlen, MAX, &back, &blen, msg, sizeof(msg)), VT_OK);
    ck_assert_uint_eq(strlen(back), blen);
    assert_same_json(text, back);
    /* the columns' events come back byte for byte, the others as written */
    ck_assert_ptr_nonnull(
        strstr(back, "\"ts\":-0.500,\"ph\":\"X\",\"dur\":0.000,\"name\":\"neg\""));
    ck_assert_ptr_nonnull(strstr(back, "\"ts\":12.3456,\"ph\":\"X\",\"dur\":1.5"));
    /* an empty trace, one with members before traceEvents, and one with a
     * duplicate key (kept as text: cJSON_Compare cannot compare those) */
    const char *small[] = {"{\"traceEvents\":[]}", " {\"a\":1,\"traceEvents\":[ ] } ",
                           "{\"traceEvents\":[{\"pid\":7,\"tid\":8,\"ts\":1.000,\"ph\":\"X\","
                           "\"dur\":1.000,\"name\":\"a\",\"name\":\"b\"}]}"};
    for (size_t i = 0; i < 3; i++) {
        char *v2, *b2;
        size_t l2, bl2;
        encode(small[i], &v2, &l2);
        ck_assert_int_eq(vt_vzt_decode(v2, l2, MAX, &b2, &bl2, msg, sizeof(msg)), VT_OK);
        if (i < 2)
            assert_same_json(small[i], b2);
        else
            ck_assert_ptr_nonnull(strstr(b2, "\"name\":\"a\",\"name\":\"b\"}"));
        free(v2);
        free(b2);
    }
    free(back);
    free(vzt);
    free(text);
}
END_TEST

START_TEST(test_vzt_loader_and_commands)
{
    char dir[] = "/tmp/vt-vzt-XXXXXX", path[64], out[64], json[64];
    ck_assert_ptr_nonnull(mkdtemp(dir));
    snprintf(path, sizeof(path), "%s/t.json", dir);
    snprintf(out, sizeof(out), "%s/t.vzt", dir);
    snprintf(json, sizeof(json), "%s/back.json", dir);
    char *text = make_trace(300);
    FILE *f = fopen(path, "wb");
    ck_assert_ptr_nonnull(f);
    fputs(text, f);
    fclose(f);
    ck_assert_int_eq(vt_vzt_run(0, path, out, 1), VT_OK);
    /* the one loader hands out the JSON a .vzt holds, and so does --decompress */
    char *loaded, msg[256] = "";
    size_t len;
    ck_assert_int_eq(vt_format_load(out, &loaded, &len, NULL, msg, sizeof(msg)), VT_OK);
    assert_same_json(text, loaded);
    free(loaded);
    ck_assert_int_eq(vt_vzt_run(1, out, json, 1), VT_OK);
    ck_assert_int_eq(vt_format_load(json, &loaded, &len, NULL, msg, sizeof(msg)), VT_OK);
    assert_same_json(text, loaded);
    free(loaded);
    /* refused inputs leave nothing behind: not a .vzt, not a trace */
    char bad[64];
    snprintf(bad, sizeof(bad), "%s/bad.json", dir);
    ck_assert_int_ne(vt_vzt_run(1, path, bad, 1), VT_OK);
    f = fopen(path, "wb");
    fputs("{\"traceEvents\":[{\"ph\":\"X\"}", f); /* cut short */
    fclose(f);
    snprintf(bad, sizeof(bad), "%s/bad.vzt", dir);
    ck_assert_int_ne(vt_vzt_run(0, path, bad, 1), VT_OK);
    DIR *d = opendir(dir);
    ck_assert_ptr_nonnull(d);
    int files = 0;
    for (struct dirent *e; (e = readdir(d)) != NULL;)
        files += e->d_name[0] != '.';
    closedir(d);
    ck_assert_int_eq(files, 3); /* t.json, t.vzt, back.json */
    free(text);
    char cmd[64];
    snprintf(cmd, sizeof(cmd), "rm -rf '%s'", dir);
    ck_assert_int_eq(system(cmd), 0);
}
END_TEST

START_TEST(test_vzt_encode_refuses)
{
    const char *bad[] = {"",
                         "[]",
                         "{\"traceEvents\":{}}",
                         "{\"a\":1}",
                         "{\"traceEvents\":[1,]}",
                         "{\"traceEvents\":[]} x",
                         "{\"traceEvents\":[{\"a\":}]}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
        char *out = NULL, msg[256] = "";
        size_t len;
        ck_assert_int_eq(vt_vzt_encode(bad[i], strlen(bad[i]), &out, &len, msg, sizeof(msg)),
                         VT_ERR_FORMAT);
        ck_assert_ptr_null(out);
        ck_assert_msg(msg[0] != '\0', "no message for %s", bad[i]);
    }
    char *out = NULL, msg[256] = "";
    size_t len;
    ck_assert_int_eq(vt_vzt_encode("[{}]", 4, &out, &len, msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "not a trace: not a JSON object with a traceEvents array");
}
END_TEST

START_TEST(test_vzt_decode_refuses)
{
    char *text = make_trace(200);
    char *vzt, *back, msg[256];
    size_t vlen, blen;
    encode(text, &vzt, &vlen);
    /* every truncation */
    for (size_t n = 0; n < vlen; n++) {
        msg[0] = '\0';
        ck_assert_int_eq(vt_vzt_decode(vzt, n, MAX, &back, &blen, msg, sizeof(msg)), VT_ERR_FORMAT);
        ck_assert_ptr_null(back);
        ck_assert(msg[0] != '\0');
    }
    /* one byte more */
    char *longer = malloc(vlen + 1);
    memcpy(longer, vzt, vlen);
    longer[vlen] = 0;
    ck_assert_int_eq(vt_vzt_decode(longer, vlen + 1, MAX, &back, &blen, msg, sizeof(msg)),
                     VT_ERR_FORMAT);
    free(longer);
    /* every byte flipped: refused, or (a zstd header field that does not
     * matter) the same document */
    for (size_t i = 0; i < vlen; i++) {
        vzt[i] ^= 0x5a;
        msg[0] = '\0';
        enum vt_err err = vt_vzt_decode(vzt, vlen, MAX, &back, &blen, msg, sizeof(msg));
        if (err == VT_OK) {
            assert_same_json(text, back);
            free(back);
        } else {
            ck_assert(msg[0] != '\0');
        }
        vzt[i] ^= 0x5a;
    }
    /* not a .vzt; another version; past the cap */
    ck_assert_int_eq(vt_vzt_decode(text, strlen(text), MAX, &back, &blen, msg, sizeof(msg)),
                     VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "not a .vzt file");
    vzt[8] = 2;
    ck_assert_int_eq(vt_vzt_decode(vzt, vlen, MAX, &back, &blen, msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(msg, "version 2"));
    vzt[8] = 1;
    ck_assert_int_eq(vt_vzt_decode(vzt, vlen, 1000, &back, &blen, msg, sizeof(msg)), VT_ERR_TOOBIG);
    free(vzt);
    free(text);
}
END_TEST

Suite *
vzt_suite(void)
{
    Suite *s = suite_create("vzt");
    TCase *tc = tcase_create("vzt");
    tcase_set_timeout(tc, 60);
    tcase_add_test(tc, test_vzt_round_trip);
    tcase_add_test(tc, test_vzt_loader_and_commands);
    tcase_add_test(tc, test_vzt_encode_refuses);
    tcase_add_test(tc, test_vzt_decode_refuses);
    suite_add_tcase(s, tc);
    return s;
}
