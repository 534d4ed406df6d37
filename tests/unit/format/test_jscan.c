/* test_jscan.c: JSON checked without a tree (tracer/format/jscan.c). */
#include <check.h>
#include <cjson/cJSON.h>
#include <string.h>

#include "../../../tracer/format/format.h"

/* 1 when text is exactly one valid value. */
static int
valid(const char *text)
{
    const char *p = text, *end = text + strlen(text);
    return vt_jscan_value(&p, end) == 0 && p == end;
}

START_TEST(test_jscan_accepts_json)
{
    const char *good[] = {
        "0",
        "-0",
        "12",
        "-3.25e+10",
        "1E5",
        "0.5",
        "true",
        "false",
        "null",
        "\"\"",
        "\"a\\\"b\\\\c\\/\\b\\f\\n\\r\\t\"",
        "\"\\u00e9\\uD83D\\uDE00\"",
        "\"\xc3\xa9\"",
        "[]",
        "{}",
        "[ 1 , [ ] , { } ]",
        "{\"a\":{\"b\":[1,2,{\"c\":null}]},\"d\":\"e\"}",
        "[\n\t1\r\n]",
    };
    for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++)
        ck_assert_msg(valid(good[i]), "rejected %s", good[i]);
}
END_TEST

START_TEST(test_jscan_rejects_malformed)
{
    const char *bad[] = {
        "",
        "01",
        "1.",
        ".5",
        "-",
        "1e",
        "+1",
        "tru",
        "nul",
        "\"abc",
        "\"\\x\"",
        "\"\\u12\"",
        "\"a\nb\"",
        "[1,]",
        "[1 2]",
        "{\"a\"}",
        "{\"a\":1,}",
        "{1:2}",
        "[",
        "{",
        "]",
        "[1}",
        "{\"a\":1]",
        "\"\\uDE00\"",
        "\"\\uD83D\"",
        "\"\\uD83Dx\"",
        "NaN",
    };
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_msg(!valid(bad[i]), "accepted %s", bad[i]);
    /* Nesting beyond the limit is refused, at the limit accepted. */
    char deep[2 * VT_JSCAN_MAX_DEPTH + 3];
    memset(deep, '[', VT_JSCAN_MAX_DEPTH);
    memset(deep + VT_JSCAN_MAX_DEPTH, ']', VT_JSCAN_MAX_DEPTH);
    deep[2 * VT_JSCAN_MAX_DEPTH] = '\0';
    ck_assert(valid(deep));
    memset(deep, '[', VT_JSCAN_MAX_DEPTH + 1);
    memset(deep + VT_JSCAN_MAX_DEPTH + 1, ']', VT_JSCAN_MAX_DEPTH + 1);
    deep[2 * VT_JSCAN_MAX_DEPTH + 2] = '\0';
    ck_assert(!valid(deep));
}
END_TEST

START_TEST(test_jscan_value_stops_after_one)
{
    const char *text = "{\"a\":[1]} , 2";
    const char *p = text;
    ck_assert_int_eq(vt_jscan_value(&p, text + strlen(text)), 0);
    ck_assert_str_eq(p, " , 2");
    /* Truncated anywhere: refused, never read past end. */
    const char *full = "{\"k\":[\"x\\u00e9\",-1.5e3,true,{\"z\":null}]}";
    for (size_t n = 0; n < strlen(full); n++) {
        char cut[64];
        memcpy(cut, full, n);
        cut[n] = '\0';
        p = cut;
        ck_assert_int_eq(vt_jscan_value(&p, cut + n), -1);
    }
}
END_TEST

START_TEST(test_jscan_member)
{
    const char *doc = " {\"x\":1, \"traceEvents\" : [{\"a\":1},2] ,\"traceEvents\":3 } \n";
    const char *a, *b;
    ck_assert_int_eq(vt_jscan_member(doc, strlen(doc), "traceEvents", &a, &b), 0);
    ck_assert_int_eq((int)(b - a), (int)strlen("[{\"a\":1},2]"));
    ck_assert(strncmp(a, "[{\"a\":1},2]", (size_t)(b - a)) == 0);
    ck_assert_int_eq(vt_jscan_member(doc, strlen(doc), "nope", &a, &b), 1);
    ck_assert_int_eq(vt_jscan_member("{}", 2, "x", &a, &b), 1);
    const char *bad[] = {"[]", "{\"x\":1} x", "{\"x\":1", "{\"x\" 1}", "", "{\"x\":1,}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        ck_assert_int_eq(vt_jscan_member(bad[i], strlen(bad[i]), "x", &a, &b), -1);
}
END_TEST

/* The viewer's /file_info lookup (routes.c): 0 with the span, 1 absent, -1
 * malformed; nested members are skipped, never matched. */
static void
check_member(const char *doc, const char *key, int want, const char *value)
{
    const char *a = NULL, *b = NULL;
    int rc = vt_jscan_member(doc, strlen(doc), key, &a, &b);
    ck_assert_msg(rc == want, "%s: got %d", doc, rc);
    if (value != NULL) {
        ck_assert_uint_eq((size_t)(b - a), strlen(value));
        ck_assert(memcmp(a, value, (size_t)(b - a)) == 0);
    }
}

START_TEST(test_jscan_member_file_info)
{
    check_member("{\"traceEvents\":[{\"ph\":\"X\",\"ts\":1.0}],\"viztracer_metadata\":"
                 "{\"version\":\"0.1\"},\"file_info\":{\"files\":{\"/x/a.py\":[\"x\",2]}}}",
                 "file_info", 0, "{\"files\":{\"/x/a.py\":[\"x\",2]}}");
    check_member("{\"a\":{\"file_info\":1},\"b\":2}", "file_info", 1, NULL);
    check_member(" { \"k\" : [1, {\"x\":\"]}\"}] , \"file_info\" : 12 } ", "file_info", 0, "12");
    check_member("{\"s\":\"a\\\"file_info\\\"\",\"file_info\":null}", "file_info", 0, "null");
    check_member("{}", "file_info", 1, NULL);
    const char *bad[] = {"[]",
                         "{\"a\":[1,2}",
                         "{\"a\":\"unterminated",
                         "{\"a\" 1}",
                         "{\"a\":}",
                         "{\"a\":1",
                         "",
                         "{\"file_info\":1} x",
                         "{\"file_info\":tru}",
                         "{\"file_info\":1,\"b\":[}"};
    for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
        check_member(bad[i], "file_info", -1, NULL);
}
END_TEST

/* The input of tests/fuzz/regressions/fuzz_viewer_json/scan-esc-nul.json:
 * {"file_info": ESC, seven NULs, {}}} . The viewer's own scanner (the old
 * viewer/scan.c) took the ESC for a value and answered the span "\x1b",
 * which cJSON cannot parse, while cJSON (which skips every byte up to
 * 0x20 as blank and ignores what follows a value) reads file_info as {}.
 * The one scanner refuses it: ESC and NUL are not JSON whitespace, and
 * cJSON itself refuses it once trailing bytes count. */
START_TEST(test_jscan_regression_file_info_esc_nul)
{
    static const char input[] = "{\"file_info\":\x1b\0\0\0\0\0\0\0{}}}";
    size_t len = sizeof(input) - 1;
    ck_assert_uint_eq(len, 25);
    const char *a = NULL, *b = NULL;
    ck_assert_int_eq(vt_jscan_member(input, len, "file_info", &a, &b), -1);
    const char *p = input;
    ck_assert_int_eq(vt_jscan_value(&p, input + len), -1);
    /* cJSON, lenient, finds file_info = {} ... */
    cJSON *doc = cJSON_ParseWithLength(input, len);
    ck_assert_ptr_nonnull(doc);
    const cJSON *item = cJSON_GetObjectItemCaseSensitive(doc, "file_info");
    ck_assert(cJSON_IsObject(item) && item->child == NULL);
    cJSON_Delete(doc);
    /* ... but not when the whole input must be the document (cJSON wants
     * the terminating NUL inside the length for that). */
    const char *endp = NULL;
    ck_assert_ptr_null(cJSON_ParseWithLengthOpts(input, sizeof(input), &endp, 1));
    /* The same bytes with JSON whitespace in place of ESC and NULs, and
     * without the extra brace: both read file_info as {}, span for span. */
    static const char fixed[] = "{\"file_info\": \t\n\r    {}}";
    ck_assert_int_eq(vt_jscan_member(fixed, sizeof(fixed) - 1, "file_info", &a, &b), 0);
    cJSON *span = cJSON_ParseWithLength(a, (size_t)(b - a));
    doc = cJSON_ParseWithLengthOpts(fixed, sizeof(fixed), &endp, 1);
    ck_assert_ptr_nonnull(span);
    ck_assert_ptr_nonnull(doc);
    ck_assert(cJSON_Compare(span, cJSON_GetObjectItemCaseSensitive(doc, "file_info"), 1));
    cJSON_Delete(span);
    cJSON_Delete(doc);
}
END_TEST

Suite *
jscan_suite(void)
{
    Suite *s = suite_create("jscan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_jscan_accepts_json);
    tcase_add_test(tc, test_jscan_rejects_malformed);
    tcase_add_test(tc, test_jscan_value_stops_after_one);
    tcase_add_test(tc, test_jscan_member);
    tcase_add_test(tc, test_jscan_member_file_info);
    tcase_add_test(tc, test_jscan_regression_file_info_esc_nul);
    suite_add_tcase(s, tc);
    return s;
}
