/* test_jscan.c: JSON checked without a tree (tracer/base/jscan.h). */
#include <check.h>
#include <string.h>

#include "../../tracer/base/jscan.h"

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

Suite *
jscan_suite(void)
{
    Suite *s = suite_create("jscan");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_jscan_accepts_json);
    tcase_add_test(tc, test_jscan_rejects_malformed);
    tcase_add_test(tc, test_jscan_value_stops_after_one);
    tcase_add_test(tc, test_jscan_member);
    suite_add_tcase(s, tc);
    return s;
}
