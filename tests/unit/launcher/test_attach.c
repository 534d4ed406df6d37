/* test_attach.c: the pure helpers of remote attach (launcher/attach.c): the
 * base64 of the kwargs, the kwargs themselves and SigCgt. */
#include <check.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>

#include "../../../launcher/attach.h"
#include "../../../launcher/cli.h"

static void
check_b64(const char *in, const char *want)
{
    char *got = vt_attach_b64(in, strlen(in));
    ck_assert_str_eq(got, want);
    free(got);
}

START_TEST(test_attach_b64_pads_and_is_url_safe)
{
    /* RFC 4648 §10 test vectors. */
    check_b64("", "");
    check_b64("f", "Zg==");
    check_b64("fo", "Zm8=");
    check_b64("foo", "Zm9v");
    check_b64("foob", "Zm9vYg==");
    check_b64("fooba", "Zm9vYmE=");
    check_b64("foobar", "Zm9vYmFy");
    /* 0xfb 0xff encodes to "+/" in standard base64, "-_" here. */
    check_b64("\xfb\xff\xbf", "-_-_");
}
END_TEST

START_TEST(test_attach_kwargs_carry_options)
{
    struct vt_options o;
    vt_cli_options_init(&o);
    const char *argv[] = {"viztracer",
                          "--attach",
                          "42",
                          "--max_stack_depth",
                          "7",
                          "--quiet",
                          "--include_files",
                          "a\"b",
                          "/src",
                          "-t",
                          "2",
                          "--log_func_args",
                          "--vdb",
                          NULL};
    char msg[256];
    ck_assert_int_eq(vt_cli_parse(&o, 13, (char **)argv, msg, sizeof(msg)), VT_OK);
    ck_assert_int_eq(o.attach, 42);
    ck_assert_double_eq(o.t, 2.0);
    char *text = vt_attach_kwargs(&o, "/tmp/out \"x\".json");
    cJSON *kw = cJSON_Parse(text);
    ck_assert_ptr_nonnull(kw);
    ck_assert_str_eq(cJSON_GetObjectItem(kw, "output_file")->valuestring, "/tmp/out \"x\".json");
    ck_assert_int_eq(cJSON_GetObjectItem(kw, "max_stack_depth")->valueint, 7);
    ck_assert_int_eq(cJSON_GetObjectItem(kw, "verbose")->valueint, 0);
    ck_assert_int_eq(cJSON_GetObjectItem(kw, "tracer_entries")->valueint, 1000000);
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(kw, "log_func_args")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(kw, "vdb")));
    ck_assert(cJSON_IsFalse(cJSON_GetObjectItem(kw, "pid_suffix")));
    ck_assert(cJSON_IsTrue(cJSON_GetObjectItem(kw, "register_global")));
    ck_assert(cJSON_IsNull(cJSON_GetObjectItem(kw, "exclude_files")));
    cJSON *inc = cJSON_GetObjectItem(kw, "include_files");
    ck_assert_int_eq(cJSON_GetArraySize(inc), 2);
    ck_assert_str_eq(cJSON_GetArrayItem(inc, 0)->valuestring, "a\"b");
    cJSON_Delete(kw);
    free(text);
    vt_cli_options_fini(&o);
}
END_TEST

START_TEST(test_attach_cli_t_is_short_only)
{
    struct vt_options o;
    vt_cli_options_init(&o);
    ck_assert_int_eq(o.attach, -1);
    ck_assert_double_eq(o.t, -1.0);
    char msg[256];
    const char *bad_long[] = {"viztracer", "--t", "1", NULL};
    ck_assert_int_eq(vt_cli_parse(&o, 3, (char **)bad_long, msg, sizeof(msg)), VT_ERR_USAGE);
    vt_cli_options_fini(&o);
    const char *bad_value[] = {"viztracer", "-t", "soon", NULL};
    ck_assert_int_eq(vt_cli_parse(&o, 3, (char **)bad_value, msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_str_eq(msg, "argument -t: invalid float value: 'soon'");
    vt_cli_options_fini(&o);
    const char *glued[] = {"viztracer", "-t0.25", "--uninstall", "9", NULL};
    ck_assert_int_eq(vt_cli_parse(&o, 4, (char **)glued, msg, sizeof(msg)), VT_OK);
    ck_assert_double_eq(o.t, 0.25);
    ck_assert_int_eq(o.uninstall, 9);
    vt_cli_options_fini(&o);
    ck_assert_int_eq(vt_cli_apply_rc(&o, "[default]\nt = 3\n", "rc", msg, sizeof(msg)), VT_OK);
    ck_assert_double_eq(o.t, 3.0);
    vt_cli_options_fini(&o);
}
END_TEST

START_TEST(test_attach_sigcgt)
{
    /* SIGUSR1 (10) and SIGUSR2 (12) caught: bits 9 and 11, 0xa00, plus SIGINT (bit 1). */
    const char *status = "Name:\tpython3\nSigIgn:\t0000000001001000\n"
                         "SigCgt:\t0000000180000a02\nCapInh:\t0\n";
    ck_assert_int_eq(vt_attach_sig_caught(status, SIGUSR1), 1);
    ck_assert_int_eq(vt_attach_sig_caught(status, SIGUSR2), 1);
    ck_assert_int_eq(vt_attach_sig_caught(status, SIGINT), 1);
    ck_assert_int_eq(vt_attach_sig_caught(status, SIGTERM), 0);
    ck_assert_int_eq(vt_attach_sig_caught(status, SIGPIPE), 0); /* ignored is not caught */
    ck_assert_int_eq(vt_attach_sig_caught("Name:\tx\nSigCgt:\tzz\n", SIGUSR1), -1);
    ck_assert_int_eq(vt_attach_sig_caught("Name:\tx\n", SIGUSR1), -1);
}
END_TEST

Suite *
attach_suite(void)
{
    Suite *s = suite_create("attach");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_attach_b64_pads_and_is_url_safe);
    tcase_add_test(tc, test_attach_kwargs_carry_options);
    tcase_add_test(tc, test_attach_cli_t_is_short_only);
    tcase_add_test(tc, test_attach_sigcgt);
    suite_add_tcase(s, tc);
    return s;
}
