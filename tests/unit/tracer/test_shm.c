/* test_shm.c: the reader of the crash-safe shared area and the trace it
 * writes (tracer/shm.c), on a made-up area (shm_fixture.h). */
#include <check.h>
#include <cjson/cJSON.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "../../../tracer/format/format.h"
#include "shm_fixture.h"

static unsigned char *
area(void)
{
    static struct vt_clock_anchor start;
    static int taken;
    if (!taken) {
        vt_clock_anchor_take(&start);
        taken = 1;
        struct timespec ms = {0, 2000000};
        nanosleep(&ms, NULL); /* the conversion needs 1 ms between anchors */
    }
    unsigned char *buf = aligned_alloc(4096, FIX_LEN);
    ck_assert_ptr_nonnull(buf);
    fix_build(buf, &start);
    return buf;
}

/* Writes the trace of buf and returns it parsed (cJSON_Delete it). */
static cJSON *
trace_of(unsigned char *buf, int sig, struct vt_shm_stats *st)
{
    struct vt_shm_view v;
    char msg[256];
    ck_assert_int_eq(vt_shm_view_init(&v, buf, FIX_LEN, msg, sizeof(msg)), VT_OK);
    char path[] = "/tmp/vt-test-shm-XXXXXX";
    ck_assert_ptr_nonnull(mkdtemp(path));
    char file[64];
    snprintf(file, sizeof(file), "%s/t.json", path);
    struct vt_shm_end end = {.end_ticks = vt_clock_now(), .signal = sig, .signal_tid = 0};
    int errnum;
    ck_assert_int_eq(vt_shm_write_trace(&v, file, &end, st, &errnum), VT_OK);
    vt_shm_view_fini(&v);
    char *text;
    size_t len;
    ck_assert_int_eq(vt_format_load(file, &text, &len, NULL, NULL, 0), VT_OK);
    unlink(file);
    rmdir(path);
    cJSON *doc = cJSON_Parse(text);
    free(text);
    ck_assert_ptr_nonnull(doc);
    return doc;
}

static int
count_named(cJSON *doc, const char *name)
{
    int n = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "traceEvents"))
    {
        cJSON *nm = cJSON_GetObjectItem(e, "name");
        n += cJSON_IsString(nm) && strcmp(nm->valuestring, name) == 0;
    }
    return n;
}

START_TEST(test_shm_names)
{
    unsigned char *buf = area();
    struct vt_shm_view v;
    char msg[256];
    ck_assert_int_eq(vt_shm_view_init(&v, buf, FIX_LEN, msg, sizeof(msg)), VT_OK);
    const struct vt_shm_name_ref *n = vt_shm_view_name(&v, FIX_F, 0);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->json, "\"f (a.py:3)\"");
    n = vt_shm_view_name(&v, FIX_LEN_C, FIX_OWNER);
    ck_assert_ptr_nonnull(n);
    ck_assert_str_eq(n->json, "\"builtins.len\"");
    ck_assert_ptr_null(vt_shm_view_name(&v, FIX_LEN_C, 0)); /* another owner */
    vt_shm_view_fini(&v);
    free(buf);
}
END_TEST

START_TEST(test_shm_trace)
{
    unsigned char *buf = area();
    struct vt_shm_stats st;
    cJSON *doc = trace_of(buf, SIGSEGV, &st);
    ck_assert_int_eq(count_named(doc, "f (a.py:3)"), 3); /* two finished, one open */
    ck_assert_int_eq(count_named(doc, "builtins.len"), 1);
    ck_assert_int_eq(count_named(doc, "g (a.py:7)"), 1);
    ck_assert_uint_eq(st.open_calls, 2);
    ck_assert_uint_eq(st.unnamed, 0);
    ck_assert_uint_eq(st.lost_args, 0);
    ck_assert_uint_eq(st.lost_custom, 0);
    ck_assert_int_eq(count_named(doc, "hello"), 1); /* the instant event, from its JSON */
    char *all = cJSON_PrintUnformatted(doc);
    ck_assert_ptr_null(strstr(all, "stale")); /* the args of an older dict at that address */
    cJSON_free(all);
    int with_args = 0;
    cJSON *ev;
    cJSON_ArrayForEach(ev, cJSON_GetObjectItem(doc, "traceEvents"))
    {
        cJSON *n = cJSON_GetObjectItem(
            cJSON_GetObjectItem(cJSON_GetObjectItem(ev, "args"), "func_args"), "n");
        with_args += cJSON_IsString(n) && strcmp(n->valuestring, "1") == 0;
        if (strcmp(cJSON_GetObjectItem(ev, "name")->valuestring, "hello") == 0) {
            ck_assert_int_eq(cJSON_GetObjectItem(ev, "pid")->valueint, 4242);
            ck_assert(cJSON_HasObjectItem(ev, "ts"));
        }
    }
    ck_assert_int_eq(with_args, 1);
    /* the innermost open call, f, carries the signal */
    int marked = 0;
    cJSON *e;
    cJSON_ArrayForEach(e, cJSON_GetObjectItem(doc, "traceEvents"))
    {
        cJSON *sig = cJSON_GetObjectItem(cJSON_GetObjectItem(e, "args"), "signal");
        if (cJSON_IsString(sig)) {
            ck_assert_str_eq(sig->valuestring, "SIGSEGV");
            ck_assert_str_eq(cJSON_GetObjectItem(e, "name")->valuestring, "f (a.py:3)");
            marked++;
        }
    }
    ck_assert_int_eq(marked, 1);
    cJSON *crash = cJSON_GetObjectItem(cJSON_GetObjectItem(doc, "viztracer_metadata"), "crash");
    ck_assert_str_eq(cJSON_GetObjectItem(crash, "signal")->valuestring, "SIGSEGV");
    cJSON_Delete(doc);
    free(buf);
}
END_TEST

START_TEST(test_shm_wrapped_ring)
{
    unsigned char *buf = area();
    /* 11 pushed into 8 slots: the 8 held are read oldest first */
    struct vt_event *ev = (struct vt_event *)(void *)(buf + FIX_SLOTS);
    int64_t t0 = ((struct vt_shm_header *)(void *)buf)->start.ticks;
    for (int i = 0; i < 11; i++)
        ev[i % FIX_CAP] = (struct vt_event){
            .start = t0 + 100 + i * 10, .end = t0 + 105 + i * 10, .what = FIX_F, .caller_line = -1};
    fix_put64(buf + FIX_THREAD + 8, 11 % FIX_CAP);
    fix_put64(buf + FIX_THREAD + 16, 11);
    struct vt_shm_stats st;
    cJSON *doc = trace_of(buf, 0, &st);
    ck_assert_int_eq(count_named(doc, "f (a.py:3)"), 8 + 1);
    cJSON *meta = cJSON_GetObjectItem(doc, "viztracer_metadata");
    ck_assert_int_eq(cJSON_GetObjectItem(meta, "dropped_events")->valueint, 3);
    cJSON_Delete(doc);
    free(buf);
}
END_TEST

START_TEST(test_shm_corrupt_thread_left_out)
{
    unsigned char *buf = area();
    struct vt_shm_header *h = (struct vt_shm_header *)(void *)buf;
    h->threads[0].slots_off = FIX_LEN - 8; /* the ring would run past the end */
    struct vt_shm_stats st;
    cJSON *doc = trace_of(buf, SIGABRT, &st);
    ck_assert_uint_eq(st.bad_threads, 1);
    ck_assert_int_eq(count_named(doc, "f (a.py:3)"), 0);
    cJSON_Delete(doc);
    free(buf);
}
END_TEST

START_TEST(test_shm_unnamed_and_bad_names)
{
    unsigned char *buf = area();
    struct vt_shm_header *h = (struct vt_shm_header *)(void *)buf;
    /* the last record claims more bytes than the log has: it is dropped */
    struct vt_shm_name *rec = (struct vt_shm_name *)(void *)(buf + FIX_NAMES);
    size_t first = (sizeof(*rec) + 1 + 4 + 7) & ~(size_t)7;
    size_t second = first + ((sizeof(*rec) + 1 + 4 + 7) & ~(size_t)7);
    struct vt_shm_name *third = (struct vt_shm_name *)(void *)(buf + FIX_NAMES + second);
    third->name_len = 1u << 30;
    /* and a name with invalid UTF-8 is cleaned */
    buf[FIX_NAMES + sizeof(*rec)] = 0xFF;
    (void)h;
    struct vt_shm_stats st;
    cJSON *doc = trace_of(buf, 0, &st);
    ck_assert_uint_eq(st.unnamed, 1); /* builtins.len */
    ck_assert_int_eq(count_named(doc, "? (a.py:3)"), 3);
    char expect[64];
    snprintf(expect, sizeof(expect), "<builtin at 0x%x>", 0x3000u);
    ck_assert_int_eq(count_named(doc, expect), 1);
    cJSON_Delete(doc);
    free(buf);
}
END_TEST

START_TEST(test_shm_bad_extras_dropped)
{
    unsigned char *buf = area();
    /* the args text is no longer JSON, and the instant's record overruns the log */
    size_t second = (sizeof(struct vt_shm_extra) + strlen("{\"stale\":1}") + 7) & ~(size_t)7;
    buf[FIX_EXTRAS + VT_SHM_EXTRA_SEG_HEAD + second + sizeof(struct vt_shm_extra) + 1] = '}';
    struct vt_shm_extra *x =
        (struct vt_shm_extra *)(void *)(buf + FIX_EXTRAS + FIX_INSTANT_SEG * FIX_SEG +
                                        VT_SHM_EXTRA_SEG_HEAD);
    x->len = 1u << 31;
    struct vt_shm_stats st;
    cJSON *doc = trace_of(buf, 0, &st);
    ck_assert_uint_eq(st.lost_args, 1);
    ck_assert_uint_eq(st.lost_custom, 1);
    ck_assert_int_eq(count_named(doc, "hello"), 0);
    cJSON_Delete(doc);
    free(buf);
}
END_TEST

START_TEST(test_shm_not_an_area)
{
    unsigned char *buf = area();
    struct vt_shm_view v;
    char msg[256];
    ck_assert_int_eq(vt_shm_view_init(&v, buf, 100, msg, sizeof(msg)), VT_ERR_FORMAT);
    buf[0] ^= 1;
    ck_assert_int_eq(vt_shm_view_init(&v, buf, FIX_LEN, msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_ptr_nonnull(strstr(msg, "not a viztracer shared area"));
    buf[0] ^= 1;
    ((struct vt_shm_header *)(void *)buf)->version = 99;
    ck_assert_int_eq(vt_shm_view_init(&v, buf, FIX_LEN, msg, sizeof(msg)), VT_ERR_FORMAT);
    free(buf);
}
END_TEST

START_TEST(test_shm_future_anchor_refused)
{
    unsigned char *buf = area();
    struct vt_shm_header *h = (struct vt_shm_header *)(void *)buf;
    h->start.mono_ns = INT64_MAX / 2; /* would make the conversion wait for it */
    struct vt_shm_view v;
    char msg[256];
    ck_assert_int_eq(vt_shm_view_init(&v, buf, FIX_LEN, msg, sizeof(msg)), VT_OK);
    struct vt_shm_end end = {.end_ticks = vt_clock_now()};
    struct vt_shm_stats st;
    int errnum;
    ck_assert_int_eq(vt_shm_write_trace(&v, "/tmp/never-written.json", &end, &st, &errnum),
                     VT_ERR_FORMAT);
    ck_assert_int_ne(access("/tmp/never-written.json", F_OK), 0);
    vt_shm_view_fini(&v);
    free(buf);
}
END_TEST

Suite *
shm_suite(void)
{
    Suite *s = suite_create("shm");
    TCase *tc = tcase_create("core");
    tcase_add_test(tc, test_shm_names);
    tcase_add_test(tc, test_shm_trace);
    tcase_add_test(tc, test_shm_wrapped_ring);
    tcase_add_test(tc, test_shm_corrupt_thread_left_out);
    tcase_add_test(tc, test_shm_unnamed_and_bad_names);
    tcase_add_test(tc, test_shm_bad_extras_dropped);
    tcase_add_test(tc, test_shm_not_an_area);
    tcase_add_test(tc, test_shm_future_anchor_refused);
    suite_add_tcase(s, tc);
    return s;
}
