/* test_index.c: the viewer's index of large traces (viewer/index.c,
 * index_tables.c, src.c, cache.c) and its answers (query.c, query_agg.c),
 * without a server: built from files written here (plain and gzip) and from
 * memory, every answer checked as JSON, the cache saved, reloaded and found
 * stale, and everything freed (the ASan pass runs LeakSanitizer on it).
 */
#include <check.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>
#include <zlib.h>

#include <cjson/cJSON.h>

#include "../../../viewer/index.h"

static const char trace[] =
    "{\"traceEvents\":[\n"
    "{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"thread_name\",\"args\":{\"name\":\"Main\"}},\n"
    "{\"ph\":\"M\",\"pid\":1,\"tid\":1,\"name\":\"process_name\",\"args\":{\"name\":\"P\"}},\n"
    "{\"pid\":1,\"tid\":1,\"ts\":12.000,\"ph\":\"X\",\"dur\":3.000,\"name\":\"g (/x/a.py:3)\"},\n"
    "{\"pid\":1,\"tid\":1,\"ts\":16.000,\"ph\":\"X\",\"dur\":1.000,\"name\":\"g (/x/a.py:3)\","
    "\"args\":{\"k\":1}},\n"
    "{\"pid\":1,\"tid\":1,\"ts\":10.000,\"ph\":\"X\",\"dur\":10.000,\"name\":\"f (/x/a.py:1)\"},\n"
    "{\"ph\":\"i\",\"pid\":1,\"tid\":1,\"ts\":11,\"name\":\"mark\",\"s\":\"g\"},\n"
    "{\"ph\":\"C\",\"pid\":1,\"tid\":1,\"ts\":10,\"name\":\"c\",\"args\":{\"v\":3}},\n"
    "{\"ph\":\"B\",\"pid\":1,\"tid\":2,\"ts\":10,\"name\":\"b\"},\n"
    "{\"ph\":\"E\",\"pid\":1,\"tid\":2,\"ts\":14}\n"
    "],\"viztracer_metadata\":{\"version\":\"0.15.6\"},"
    "\"file_info\":{\"files\":{\"/x/a.py\":[\"def f():\\n    g()\\ndef g():\\n    pass\\n\",4]},"
    "\"functions\":{\"f (/x/a.py:1)\":[\"/x/a.py\",1]}}}\n";

static char dir[64];

static void
setup(void)
{
    snprintf(dir, sizeof(dir), "%s", "/tmp/vt-index-XXXXXX");
    ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void
teardown(void)
{
    char cmd[128];
    snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
    ck_assert_int_eq(system(cmd), 0);
}

/* Parses the answer in b (which must be one JSON value) and empties b. */
static cJSON *
answer(struct vt_buf *b, enum vt_err err)
{
    ck_assert_int_eq(err, VT_OK);
    cJSON *j = cJSON_ParseWithLength(b->data, b->len);
    ck_assert_ptr_nonnull(j);
    vt_buf_reset(b);
    return j;
}

static void
write_file(const char *path, int gz)
{
    if (gz) {
        gzFile f = gzopen(path, "wb");
        ck_assert_ptr_nonnull(f);
        ck_assert_int_eq(gzwrite(f, trace, (unsigned)strlen(trace)), (int)strlen(trace));
        gzclose(f);
        return;
    }
    FILE *fp = fopen(path, "wb");
    ck_assert_ptr_nonnull(fp);
    ck_assert_uint_eq(fwrite(trace, 1, strlen(trace), fp), strlen(trace));
    fclose(fp);
}

/* The answers every form of the trace must give. */
static void
check_index(const struct vt_index *ix, int from_file)
{
    ck_assert_uint_eq(ix->norder, 2);
    ck_assert_uint_eq(ix->nslices, 4);
    struct vt_buf b;
    vt_buf_init(&b, 1 << 20);
    struct vt_index_query q;
    vt_index_q_init(&q);
    cJSON *j = answer(&b, vt_index_q_tracks(ix, &b));
    ck_assert_double_eq(cJSON_GetObjectItem(j, "duration")->valuedouble, 10);
    cJSON *t0 = cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tracks"), 0);
    ck_assert_str_eq(cJSON_GetObjectItem(t0, "thread")->valuestring, "Main");
    ck_assert_str_eq(cJSON_GetObjectItem(t0, "proc")->valuestring, "P");
    ck_assert_int_eq(cJSON_GetObjectItem(t0, "depth")->valueint, 2);
    cJSON_Delete(j);
    /* at 2 px the two g slices (1 and 3 µs of a 10 µs range) merge */
    q.px = 2;
    q.track = 0;
    j = answer(&b, vt_index_q_slices(ix, &q, &b));
    cJSON *levels =
        cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tracks"), 0), "levels");
    /* a level is one flat array of `stride` numbers per item */
    ck_assert_int_eq(cJSON_GetObjectItem(j, "stride")->valueint, 5);
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(levels, 1)), 5);
    ck_assert_int_eq(cJSON_GetArrayItem(cJSON_GetArrayItem(levels, 1), 4)->valueint, 2);
    cJSON_Delete(j);
    q.px = 1000;
    j = answer(&b, vt_index_q_slices(ix, &q, &b));
    levels = cJSON_GetObjectItem(cJSON_GetArrayItem(cJSON_GetObjectItem(j, "tracks"), 0), "levels");
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetArrayItem(levels, 1)), 2 * 5);
    cJSON_Delete(j);
    /* details: self time, and from a file the event and the source */
    q.slice = 0;
    j = answer(&b, vt_index_q_detail(ix, &q, &b));
    ck_assert_str_eq(cJSON_GetObjectItem(j, "name")->valuestring, "f (/x/a.py:1)");
    ck_assert_double_eq(cJSON_GetObjectItem(j, "self")->valuedouble, 6);
    if (from_file) {
        cJSON *src = cJSON_GetObjectItem(j, "source");
        ck_assert_int_eq(cJSON_GetObjectItem(src, "line")->valueint, 1);
        ck_assert_ptr_nonnull(strstr(cJSON_GetObjectItem(src, "text")->valuestring, "def g"));
        ck_assert_ptr_nonnull(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "event"), "dur"));
    } else {
        ck_assert(cJSON_IsNull(cJSON_GetObjectItem(j, "event")));
    }
    cJSON_Delete(j);
    q.slice = 2;
    j = answer(&b, vt_index_q_detail(ix, &q, &b));
    if (from_file)
        ck_assert_int_eq(
            cJSON_GetObjectItem(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "event"), "args"), "k")
                ->valueint,
            1);
    cJSON_Delete(j);
    q.slice = 9;
    ck_assert_int_eq(vt_index_q_detail(ix, &q, &b), VT_ERR_USAGE);
    vt_buf_reset(&b);
    /* search, flame graph, area */
    q.track = -1;
    snprintf(q.q, sizeof(q.q), "%s", "G (");
    j = answer(&b, vt_index_q_search(ix, &q, &b));
    ck_assert_int_eq(cJSON_GetObjectItem(j, "total")->valueint, 2);
    cJSON_Delete(j);
    j = answer(&b, vt_index_q_flame(ix, &q, &b));
    ck_assert_double_eq(cJSON_GetObjectItem(cJSON_GetObjectItem(j, "tree"), "value")->valuedouble,
                        14);
    cJSON_Delete(j);
    q.t0 = 1;
    q.t1 = 6;
    q.tracks[0] = 0;
    q.ntracks = 1;
    j = answer(&b, vt_index_q_area(ix, &q, &b));
    cJSON *rows = cJSON_GetObjectItem(j, "rows");
    ck_assert_int_eq(cJSON_GetArraySize(rows), 2);
    cJSON *f = cJSON_GetArrayItem(rows, 0); /* f: 5 µs in range, 3 of it in g */
    ck_assert_str_eq(cJSON_GetArrayItem(f, 0)->valuestring, "f (/x/a.py:1)");
    ck_assert_double_eq(cJSON_GetArrayItem(f, 1)->valuedouble, 5);
    ck_assert_double_eq(cJSON_GetArrayItem(f, 2)->valuedouble, 2);
    cJSON_Delete(j);
    j = answer(&b, vt_index_q_marks(ix, &q, &b));
    ck_assert_int_eq(cJSON_GetArraySize(cJSON_GetObjectItem(j, "instants")), 1);
    cJSON_Delete(j);
    vt_buf_fini(&b);
}

START_TEST(test_index_from_memory)
{
    struct vt_index *ix;
    char msg[200];
    ck_assert_int_eq(vt_index_build_mem(trace, strlen(trace), 0, &ix, msg, sizeof(msg)), VT_OK);
    check_index(ix, 0);
    vt_index_free(ix);
    ck_assert_int_eq(vt_index_build_mem(trace, 40, 0, &ix, msg, sizeof(msg)), VT_ERR_FORMAT);
    ck_assert_ptr_null(ix);
    ck_assert_ptr_nonnull(strstr(msg, "malformed"));
    ck_assert_int_eq(vt_index_build_mem(trace, strlen(trace), 1, &ix, msg, sizeof(msg)),
                     VT_ERR_TOOBIG);
    ck_assert_ptr_nonnull(strstr(msg, "VIZVIEWER_INDEX_LIMIT_MB"));
}
END_TEST

START_TEST(test_index_files_and_cache)
{
    for (int gz = 0; gz < 2; gz++) {
        char path[128], cache[160];
        snprintf(path, sizeof(path), "%s/t%d.json%s", dir, gz, gz ? ".gz" : "");
        write_file(path, gz);
        struct vt_index *ix;
        struct vt_index_progress pg = {0};
        char msg[200];
        ck_assert_int_eq(vt_index_build(path, 0, &pg, &ix, msg, sizeof(msg)), VT_OK);
        ck_assert_uint_eq(pg.in, pg.total);
        check_index(ix, 1);
        char *where = vt_index_cache_path(path);
        ck_assert_ptr_nonnull(where);
        snprintf(cache, sizeof(cache), "%s/.t%d.json%s.vzi", dir, gz, gz ? ".gz" : "");
        ck_assert_str_eq(where, cache);
        ck_assert_int_eq(vt_index_cache_save(ix, path, where), VT_OK);
        vt_index_free(ix);
        ck_assert_int_eq(vt_index_cache_load(path, where, NULL, &ix), VT_OK);
        check_index(ix, 1);
        vt_index_free(ix);
        /* a changed trace makes the cache stale */
        ck_assert_int_eq(truncate(path, 10), 0);
        ck_assert_int_ne(vt_index_cache_load(path, where, NULL, &ix), VT_OK);
        ck_assert_ptr_null(ix);
        free(where);
    }
}
END_TEST

START_TEST(test_index_query_parse)
{
    struct vt_index_query q;
    char msg[160];
    ck_assert_int_eq(vt_index_q_parse("t0=1.5&t1=9&px=200&tracks=0,3&q=a%20b+c&sort=self&limit=7",
                                      &q, msg, sizeof(msg)),
                     VT_OK);
    ck_assert_double_eq(q.t0, 1.5);
    ck_assert_int_eq(q.px, 200);
    ck_assert_uint_eq(q.ntracks, 2);
    ck_assert_uint_eq(q.tracks[1], 3);
    ck_assert_str_eq(q.q, "a b c");
    ck_assert_int_eq(q.sort, 1);
    ck_assert_int_eq(vt_index_q_parse("t0=5&t1=1", &q, msg, sizeof(msg)), VT_ERR_USAGE);
    ck_assert_int_eq(vt_index_q_parse("px=0", &q, msg, sizeof(msg)), VT_ERR_USAGE);
    ck_assert_int_eq(vt_index_q_parse("tracks=1,x", &q, msg, sizeof(msg)), VT_ERR_USAGE);
    ck_assert_int_eq(vt_index_q_parse("nope=1", &q, msg, sizeof(msg)), VT_ERR_USAGE);
    ck_assert_ptr_nonnull(strstr(msg, "nope"));
}
END_TEST

Suite *index_suite(void);

Suite *
index_suite(void)
{
    Suite *s = suite_create("index");
    TCase *tc = tcase_create("index");
    tcase_add_checked_fixture(tc, setup, teardown);
    tcase_add_test(tc, test_index_from_memory);
    tcase_add_test(tc, test_index_files_and_cache);
    tcase_add_test(tc, test_index_query_parse);
    suite_add_tcase(s, tc);
    return s;
}
