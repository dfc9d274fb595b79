/* Unit tests for the store on a real SQLite file: stories, paging, the job
 * lease protocol, retries, dead letters, idempotent pages and durability. */
#include "store/store.h"

#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
	char dir[64];
	char url[160];
	char path[96];
	struct sv_store *s;
};

static int setup(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/sv-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	struct sv_err err;
	f->s = sv_store_open(f->url, &err);
	if (!f->s)
		return -1;
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sv_store_close(f->s);
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
	if (system(cmd) != 0)
		return -1;
	free(f);
	return 0;
}

static const char *id_of(int i)
{
	static char ids[8][33];
	snprintf(ids[i], sizeof(ids[i]), "%032x", i + 1);
	return ids[i];
}

static int64_t count_rows(struct fixture *f, const char *sql)
{
	sqlite3 *db;
	sqlite3_stmt *st;
	assert_int_equal(sqlite3_open(f->path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_prepare_v2(db, sql, -1, &st, NULL), SQLITE_OK);
	assert_int_equal(sqlite3_step(st), SQLITE_ROW);
	int64_t n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	sqlite3_close(db);
	return n;
}

static void open_rejects_bad_urls(void **state)
{
	struct sv_err err;
	assert_null(sv_store_open("nothing", &err));
	assert_string_equal(err.field, "database");
	assert_null(sv_store_open("mysql:x", &err));
	assert_non_null(strstr(err.message, "mysql"));
	assert_null(sv_store_open("sqlite:/nonexistent-dir/x/y.db", &err));
}

static void create_get_and_list(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	for (int i = 0; i < 5; i++)
		assert_int_equal(
		    sv_store_story_create(f->s, id_of(i), "{\"a\":1}", "text", 3, 1000 + i, &err),
		    0);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(2), &s, &err), 0);
	assert_string_equal(s.status, "queued");
	assert_string_equal(s.params, "{\"a\":1}");
	assert_null(s.story);
	sv_store_story_clear(&s);
	assert_int_equal(sv_store_story_get(f->s, "00000000000000000000000000000099", &s, &err), 1);

	struct sv_store_story rows[3];
	int n;
	assert_int_equal(sv_store_story_list(f->s, 0, 3, rows, &n, &err), 0);
	assert_int_equal(n, 3);
	assert_string_equal(rows[0].id, id_of(4)); /* newest first */
	int64_t cursor = rows[2].seq;
	for (int i = 0; i < n; i++)
		sv_store_story_clear(&rows[i]);
	assert_int_equal(sv_store_story_list(f->s, cursor, 3, rows, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[1].id, id_of(0));
	for (int i = 0; i < n; i++)
		sv_store_story_clear(&rows[i]);

	int64_t counts[4], queued;
	assert_int_equal(sv_store_story_counts(f->s, counts, &err), 0);
	assert_int_equal(counts[0], 5);
	assert_int_equal(sv_store_jobs_queued(f->s, "text", &queued, &err), 0);
	assert_int_equal(queued, 5);
}

static void duplicate_id_is_one_failed_transaction(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 2, &err), -1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM jobs"), 1);
}

static void claim_succeed_marks_ready(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct sv_store_job job;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "image", "w1", 10, 1000, &job, &err), 1);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 10, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(0));
	assert_int_equal(job.attempts, 1);
	/* Leased: nobody else gets it. */
	struct sv_store_job other;
	assert_int_equal(sv_store_job_claim(f->s, "text", "w2", 20, 1000, &other, &err), 1);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.status, "generating");
	sv_store_story_clear(&s);

	assert_int_equal(sv_store_page_put(f->s, id_of(0), 1, "{\"p\":1}", &err), 0);
	assert_int_equal(sv_store_page_put(f->s, id_of(0), 1, "{\"p\":1}", &err), 0);
	assert_int_equal(sv_store_page_put(f->s, id_of(0), 2, "{\"p\":2}", &err), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM pages"), 2);

	assert_int_equal(sv_store_job_succeed(f->s, &job, "w2", "T", "{}", 30, &err), 1);
	assert_int_equal(sv_store_job_succeed(f->s, &job, "w1", "Title", "{\"x\":1}", 30, &err), 0);
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.status, "ready");
	assert_string_equal(s.title, "Title");
	assert_string_equal(s.story, "{\"x\":1}");
	sv_store_story_clear(&s);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 10000, 1000, &job, &err), 1);
}

static void lapsed_lease_is_taken_over(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct sv_store_job a, b;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 10, 100, &a, &err), 0);
	assert_int_equal(sv_store_job_heartbeat(f->s, &a, "w1", 90, 100, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w2", 150, 100, &b, &err), 1);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w2", 200, 100, &b, &err), 0);
	assert_int_equal(b.id, a.id);
	assert_int_equal(b.attempts, 2);
	/* The first worker wakes up late: it no longer holds the job. */
	assert_int_equal(sv_store_job_heartbeat(f->s, &a, "w1", 210, 100, &err), 1);
	assert_int_equal(sv_store_job_succeed(f->s, &a, "w1", "late", "{}", 210, &err), 1);
	assert_int_equal(sv_store_job_succeed(f->s, &b, "w2", "on time", "{}", 210, &err), 0);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.title, "on time");
	sv_store_story_clear(&s);
}

static void failures_back_off_then_dead_letter(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct sv_store_job job;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 2, 1, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 10, 1000, &job, &err), 0);
	assert_int_equal(sv_store_job_fail(f->s, &job, "w", "boom", 20, 500, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 499, 1000, &job, &err), 1);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 500, 1000, &job, &err), 0);
	assert_int_equal(job.attempts, 2);
	assert_int_equal(sv_store_job_fail(f->s, &job, "w", "boom again", 600, 900, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 100000, 1000, &job, &err), 1);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.status, "failed");
	assert_string_equal(s.error, "boom again");
	sv_store_story_clear(&s);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM jobs WHERE state = 'dead'"), 1);
}

static void lapsed_last_attempt_dead_letters(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct sv_store_job job;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 1, 1, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 10, 100, &job, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 1000, 100, &job, &err), 1);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.status, "failed");
	sv_store_story_clear(&s);
}

static void delete_removes_pages_and_jobs(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_page_put(f->s, id_of(0), 1, "{}", &err), 0);
	assert_int_equal(sv_store_story_delete(f->s, id_of(0), &err), 0);
	assert_int_equal(sv_store_story_delete(f->s, id_of(0), &err), 1);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM pages"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM jobs"), 0);
}

static void data_survives_reopen(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{\"k\":2}", "text", 3, 1, &err), 0);
	sv_store_close(f->s);
	f->s = sv_store_open(f->url, &err);
	assert_non_null(f->s);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.params, "{\"k\":2}");
	sv_store_story_clear(&s);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM schema_migrations"), 1);
	assert_int_equal(sv_store_ping(f->s, &err), 0);
}

static void backoff_doubles_and_caps(void **state)
{
	assert_int_equal(sv_store_backoff_ms(1, 1000, 60000), 1000);
	assert_int_equal(sv_store_backoff_ms(2, 1000, 60000), 2000);
	assert_int_equal(sv_store_backoff_ms(4, 1000, 60000), 8000);
	assert_int_equal(sv_store_backoff_ms(40, 1000, 60000), 60000);
}

int main(void)
{
#define T(fn) cmocka_unit_test_setup_teardown(fn, setup, teardown)
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(open_rejects_bad_urls),
	    T(create_get_and_list),
	    T(duplicate_id_is_one_failed_transaction),
	    T(claim_succeed_marks_ready),
	    T(lapsed_lease_is_taken_over),
	    T(failures_back_off_then_dead_letter),
	    T(lapsed_last_attempt_dead_letters),
	    T(delete_removes_pages_and_jobs),
	    T(data_survives_reopen),
	    cmocka_unit_test(backoff_doubles_and_caps),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
