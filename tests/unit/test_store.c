/* Unit tests for the store, run twice: on a real SQLite file and on a real
 * PostgreSQL server (pg_support starts one per run, a fresh database per
 * test): stories, paging, the job lease protocol, retries, dead letters,
 * idempotent pages, durability and, on PostgreSQL, reconnecting. */
#include "pg_support.h"
#include "store/store.h"

#include <libpq-fe.h>
#include <pthread.h>
#include <setjmp.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
	char dir[64]; /* sqlite only */
	char url[160];
	char path[96]; /* sqlite only */
	struct sv_store *s;
};

static int open_store(struct fixture *f, void **state)
{
	struct sv_err err;
	f->s = sv_store_open(f->url, &err);
	if (!f->s) {
		fprintf(stderr, "cannot open %s: %s\n", f->url, err.message);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_sqlite(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/sv-store-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	snprintf(f->path, sizeof(f->path), "%s/t.db", f->dir);
	snprintf(f->url, sizeof(f->url), "sqlite:%s", f->path);
	return open_store(f, state);
}

static int setup_postgres(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	if (pg_support_create_db(&pg_support_server, f->url, sizeof(f->url)) < 0) {
		free(f);
		return -1;
	}
	return open_store(f, state);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sv_store_close(f->s);
	int rc = 0;
	if (f->dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		rc = system(cmd) == 0 ? 0 : -1;
	}
	free(f);
	return rc;
}

static const char *id_of(int i)
{
	static char ids[8][33];
	snprintf(ids[i], sizeof(ids[i]), "%032x", i + 1);
	return ids[i];
}

static int64_t count_rows_pg(struct fixture *f, const char *sql)
{
	PGconn *c = PQconnectdb(f->url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, sql);
	assert_int_equal(PQresultStatus(r), PGRES_TUPLES_OK);
	int64_t n = strtoll(PQgetvalue(r, 0, 0), NULL, 10);
	PQclear(r);
	PQfinish(c);
	return n;
}

/* Counts rows behind the store's back, on whichever backend the fixture uses. */
static int64_t count_rows(struct fixture *f, const char *sql)
{
	if (!f->path[0])
		return count_rows_pg(f, sql);
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
	assert_null(sv_store_open("postgres:nohost", &err));
	assert_string_equal(err.field, "database");
	assert_null(sv_store_open("postgres://nobody@127.0.0.1:1/x", &err));
	assert_string_equal(err.code, "database");
}

static void reconnects_after_restart(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(pg_support_restart(&pg_support_server), 0);
	/* Every pooled connection was dropped; each call must reconnect, not fail. */
	for (int i = 0; i < 8; i++)
		assert_int_equal(sv_store_ping(f->s, &err), 0);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	sv_store_story_clear(&s);
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 10, 100, &job, &err), 0);
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

	int64_t counts[SV_STORE_NSTATUSES], queued;
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
	int64_t pages = -1;
	assert_int_equal(sv_store_page_count(f->s, id_of(0), &pages, &err), 0);
	assert_int_equal(pages, 2);
	assert_int_equal(sv_store_page_count(f->s, id_of(1), &pages, &err), 0);
	assert_int_equal(pages, 0);

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
	assert_int_equal(count_rows(f, "SELECT count(*) FROM schema_migrations"),
	                 SV_STORE_SCHEMA_VERSION);
	int version = 0;
	assert_int_equal(sv_store_schema_version(f->s, &version, &err), 0);
	assert_int_equal(version, SV_STORE_SCHEMA_VERSION);
	assert_int_equal(sv_store_ping(f->s, &err), 0);
}

static void errors_while_down_then_recovers(void **state)
{
	struct fixture *f = *state;
	struct sv_err err = {0};
	struct sv_store_job job;
	pg_support_halt(&pg_support_server);
	assert_int_equal(sv_store_ping(f->s, &err), -1);
	assert_string_equal(err.code, "database");
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), -1);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 10, 100, &job, &err), -1);
	assert_int_equal(pg_support_resume(&pg_support_server), 0);
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w", 10, 100, &job, &err), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM jobs"), 1);
}

struct claimer {
	struct sv_store *s;
	char worker[8];
	int claimed;
	int errors;
};

/* Claims and finishes text jobs until none is left. */
static void *claim_all(void *arg)
{
	struct claimer *c = arg;
	struct sv_err err;
	struct sv_store_job job;
	int rc;
	while ((rc = sv_store_job_claim(c->s, "text", c->worker, 10, 60000, &job, &err)) != 1) {
		if (rc == 0 &&
		    sv_store_job_succeed(c->s, &job, c->worker, "t", "{}", 20, &err) == 0)
			c->claimed++;
		else
			c->errors++;
		if (c->errors > 100)
			break;
	}
	return NULL;
}

static void concurrent_claims_take_each_job_once(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	enum { STORIES = 40, WORKERS = 4 };
	for (int i = 0; i < STORIES; i++) {
		char id[SV_STORE_ID_LEN + 1];
		snprintf(id, sizeof(id), "%032x", 100 + i);
		assert_int_equal(sv_store_story_create(f->s, id, "{}", "text", 3, 1, &err), 0);
	}
	struct claimer c[WORKERS];
	pthread_t t[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		c[i] = (struct claimer){.s = f->s};
		snprintf(c[i].worker, sizeof(c[i].worker), "w%d", i);
		assert_int_equal(pthread_create(&t[i], NULL, claim_all, &c[i]), 0);
	}
	int total = 0;
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(c[i].errors, 0);
		total += c[i].claimed;
	}
	assert_int_equal(total, STORIES);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM jobs WHERE attempts = 1 AND state = "
	                               "'done'"),
	                 STORIES);
}

struct opener {
	const char *url;
	struct sv_store *s;
};

static void *open_one(void *arg)
{
	struct opener *o = arg;
	struct sv_err err;
	o->s = sv_store_open(o->url, &err);
	return NULL;
}

static void concurrent_opens_migrate_once(void **state)
{
	struct fixture f = {0};
	assert_int_equal(pg_support_create_db(&pg_support_server, f.url, sizeof(f.url)), 0);
	enum { OPENERS = 4 };
	struct opener o[OPENERS];
	pthread_t t[OPENERS];
	for (int i = 0; i < OPENERS; i++) {
		o[i] = (struct opener){.url = f.url};
		assert_int_equal(pthread_create(&t[i], NULL, open_one, &o[i]), 0);
	}
	for (int i = 0; i < OPENERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < OPENERS; i++) {
		assert_non_null(o[i].s);
		sv_store_close(o[i].s);
	}
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM schema_migrations"),
	                 SV_STORE_SCHEMA_VERSION);
}

static void media_round_trip_and_cascade(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	struct sv_store_media m = {.name = "story.html", .content_type = "text/html", .size = 5};
	memset(m.blob, 'a', SV_BLOB_KEY_LEN);
	assert_int_equal(sv_store_media_put(f->s, id_of(0), &m, &err), 0);
	m.size = 7; /* storing the same name again replaces it */
	assert_int_equal(sv_store_media_put(f->s, id_of(0), &m, &err), 0);
	struct sv_store_media b = {.name = "cover.png", .content_type = "image/png", .size = 9};
	memset(b.blob, 'b', SV_BLOB_KEY_LEN);
	assert_int_equal(sv_store_media_put(f->s, id_of(0), &b, &err), 0);

	struct sv_store_media got;
	assert_int_equal(sv_store_media_get(f->s, id_of(0), "story.html", &got, &err), 0);
	assert_string_equal(got.blob, m.blob);
	assert_string_equal(got.content_type, "text/html");
	assert_int_equal(got.size, 7);
	assert_int_equal(sv_store_media_get(f->s, id_of(0), "nope.png", &got, &err), 1);
	assert_int_equal(sv_store_media_get(f->s, id_of(1), "story.html", &got, &err), 1);

	struct sv_store_media list[4];
	int n = 0;
	assert_int_equal(sv_store_media_list(f->s, id_of(0), list, 4, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(list[0].name, "cover.png"); /* by name */
	assert_string_equal(list[1].name, "story.html");

	assert_int_equal(sv_store_story_delete(f->s, id_of(0), &err), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM media"), 0);
}

/* What a subscriber heard, for the event tests. */
struct heard {
	pthread_mutex_t lock;
	pthread_cond_t changed;
	int jobs, stories;
	char last_kind[16], last_story[40];
};

static void on_event(void *ctx, enum sv_store_event event, const char *payload)
{
	struct heard *h = ctx;
	pthread_mutex_lock(&h->lock);
	if (event == SV_STORE_EVENT_JOB && *payload) {
		h->jobs++;
		snprintf(h->last_kind, sizeof(h->last_kind), "%s", payload);
	} else if (event == SV_STORE_EVENT_STORY && *payload) {
		h->stories++;
		snprintf(h->last_story, sizeof(h->last_story), "%s", payload);
	}
	pthread_cond_broadcast(&h->changed);
	pthread_mutex_unlock(&h->lock);
}

/* Waits (at most 5 s) until h has heard at least jobs and stories events. */
static void wait_heard(struct heard *h, int jobs, int stories)
{
	struct timespec until;
	clock_gettime(CLOCK_REALTIME, &until);
	until.tv_sec += 5;
	pthread_mutex_lock(&h->lock);
	while ((h->jobs < jobs || h->stories < stories) &&
	       pthread_cond_timedwait(&h->changed, &h->lock, &until) == 0)
		;
	int ok = h->jobs >= jobs && h->stories >= stories;
	pthread_mutex_unlock(&h->lock);
	assert_true(ok);
}

/* Subscribes h to the fixture's store and returns who writes: the store
 * itself on SQLite (it hears only itself), another opener on PostgreSQL. */
static struct sv_store *heard_writer(struct fixture *f, struct heard *h)
{
	struct sv_err err;
	assert_int_equal(sv_store_subscribe(f->s, on_event, h, &err), 0);
	struct sv_store *writer = f->path[0] ? f->s : sv_store_open(f->url, &err);
	assert_non_null(writer);
	return writer;
}

/* The events of another opener of the same database: on PostgreSQL another
 * process is heard through LISTEN/NOTIFY; on SQLite a store hears itself. */
static void events_reach_subscribers(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
	struct sv_store *writer = heard_writer(f, &h);

	assert_int_equal(sv_store_story_create(writer, id_of(2), "{}", "image", 3, 1, &err), 0);
	wait_heard(&h, 1, 0);
	pthread_mutex_lock(&h.lock);
	assert_string_equal(h.last_kind, "image");
	pthread_mutex_unlock(&h.lock);

	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(writer, "image", "w", 2, 1000, &job, &err), 0);
	assert_int_equal(sv_store_page_put(writer, id_of(2), 1, "{}", &err), 0);
	assert_int_equal(sv_store_job_succeed(writer, &job, "w", "T", "{}", 3, &err), 0);
	wait_heard(&h, 1, 3); /* generating, a page, ready */
	pthread_mutex_lock(&h.lock);
	assert_string_equal(h.last_story, id_of(2));
	pthread_mutex_unlock(&h.lock);
	if (writer != f->s)
		sv_store_close(writer);
}

/* A pipeline: the text job hands the story on to an image job; the story is
 * ready only when the last job succeeds, with the text the first one stored. */
static void hand_on_queues_the_next_kind(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	assert_int_equal(sv_store_story_create(f->s, id_of(3), "{}", "text", 3, 1, &err), 0);
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 2, 1000, &job, &err), 0);
	/* Only the lease holder hands on. */
	assert_int_equal(sv_store_job_hand_on(f->s, &job, "w2", "T", "{}", "image", 3, &err), 1);
	assert_int_equal(
	    sv_store_job_hand_on(f->s, &job, "w1", "Title", "{\"p\":1}", "image", 3, &err), 0);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(3), &s, &err), 0);
	assert_string_equal(s.status, "generating");
	assert_string_equal(s.title, "Title");
	sv_store_story_clear(&s);
	int64_t queued = 0;
	assert_int_equal(sv_store_jobs_queued(f->s, "image", &queued, &err), 0);
	assert_int_equal(queued, 1);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 4, 1000, &job, &err), 1);

	struct sv_store_job img;
	assert_int_equal(sv_store_job_claim(f->s, "image", "w3", 4, 1000, &img, &err), 0);
	assert_string_equal(img.story_id, id_of(3));
	assert_int_equal(img.attempts, 1);
	assert_int_equal(img.max_attempts, 3);
	assert_int_equal(sv_store_job_succeed(f->s, &img, "w3", NULL, NULL, 5, &err), 0);
	assert_int_equal(sv_store_story_get(f->s, id_of(3), &s, &err), 0);
	assert_string_equal(s.status, "ready");
	assert_string_equal(s.title, "Title");
	assert_string_equal(s.story, "{\"p\":1}");
	sv_store_story_clear(&s);
}

static void assert_story(struct fixture *f, const char *id, const char *status, const char *error)
{
	struct sv_err err;
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id, &s, &err), 0);
	assert_string_equal(s.status, status);
	if (error)
		assert_string_equal(s.error, error);
	else
		assert_null(s.error);
	sv_store_story_clear(&s);
}

/* Claims the text job of the oldest queued story (it must be id) and holds
 * the story for review, to be followed by next (NULL: nothing). */
static void claim_and_hold(struct fixture *f, const char *id, const char *review, const char *next)
{
	struct sv_err err;
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 10, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id);
	assert_int_equal(
	    sv_store_job_hold(f->s, &job, "w1", "T", "{\"p\":1}", review, next, 20, &err), 0);
}

static int64_t queued_of(struct fixture *f, const char *kind)
{
	struct sv_err err;
	int64_t n = -1;
	assert_int_equal(sv_store_jobs_queued(f->s, kind, &n, &err), 0);
	return n;
}

/* Output moderation holds a story for a person: the text job is done, the
 * story waits in the review queue with the reason, and nothing runs for it
 * until the decision, which either goes on (the next job, with the text
 * job's attempts, or ready), or rejects it for good. */
static void review_holds_then_decides(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	static const char why[] = "{\"category\":\"violence\",\"page\":2}";
	for (int i = 0; i < 5; i++)
		assert_int_equal(sv_store_story_create(f->s, id_of(i), "{\"a\":1}", "text",
		                                       i ? 3 : 4, 1 + i, &err),
		                 0);
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 10, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(0));
	/* Only the lease holder holds, and a hold needs its reason. */
	assert_int_equal(sv_store_job_hold(f->s, &job, "w2", "T", "{}", why, "image", 20, &err), 1);
	assert_int_equal(sv_store_job_hold(f->s, &job, "w1", "T", "{}", NULL, "image", 20, &err),
	                 -1);
	assert_int_equal(
	    sv_store_job_hold(f->s, &job, "w1", "Title", "{\"p\":0}", why, "image", 20, &err), 0);
	struct sv_store_story s = {0};
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.status, "review");
	assert_string_equal(s.title, "Title");
	assert_string_equal(s.story, "{\"p\":0}");
	assert_string_equal(s.review, why);
	sv_store_story_clear(&s);
	assert_int_equal(queued_of(f, "image"), 0);
	assert_int_equal(sv_store_job_claim(f->s, "image", "w1", 30, 1000, &job, &err), 1);
	claim_and_hold(f, id_of(1), "{}", NULL);
	claim_and_hold(f, id_of(2), "{\"r\":2}", NULL);
	claim_and_hold(f, id_of(3), "{\"r\":3}", "audio");

	/* The queue: held stories only (4 is still queued), oldest first. */
	struct sv_store_story rows[8];
	int n = -1;
	assert_int_equal(sv_store_review_list(f->s, rows, 8, &n, &err), 0);
	assert_int_equal(n, 4);
	for (int i = 0; i < n; i++) {
		assert_string_equal(rows[i].id, id_of(i));
		assert_string_equal(rows[i].status, "review");
		assert_string_equal(rows[i].params, "{\"a\":1}");
		assert_non_null(rows[i].title);
		assert_null(rows[i].story);
		sv_store_story_clear(&rows[i]);
	}
	assert_int_equal(sv_store_review_list(f->s, rows, 2, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(rows[0].review, why);
	assert_string_equal(rows[1].id, id_of(1));
	sv_store_story_clear(&rows[0]);
	sv_store_story_clear(&rows[1]);
	int64_t counts[SV_STORE_NSTATUSES];
	assert_int_equal(sv_store_story_counts(f->s, counts, &err), 0);
	assert_int_equal(counts[0], 1); /* queued */
	assert_int_equal(counts[2], 4); /* review */

	/* Approved with a next kind: generating, and that job queued with the
	 * attempts the text job had. Decided once only. */
	assert_int_equal(sv_store_review_decide(f->s, id_of(0), true, NULL, 40, &err), 0);
	assert_int_equal(sv_store_review_decide(f->s, id_of(0), true, NULL, 41, &err), 1);
	assert_int_equal(sv_store_review_decide(f->s, id_of(0), false, "no", 41, &err), 1);
	assert_int_equal(sv_store_story_get(f->s, id_of(0), &s, &err), 0);
	assert_string_equal(s.status, "generating");
	assert_string_equal(s.review, why); /* the record of why */
	sv_store_story_clear(&s);
	assert_int_equal(queued_of(f, "image"), 1);
	assert_int_equal(sv_store_job_claim(f->s, "image", "w3", 50, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(0));
	assert_int_equal(job.max_attempts, 4);
	assert_int_equal(sv_store_job_succeed(f->s, &job, "w3", NULL, NULL, 60, &err), 0);
	assert_story(f, id_of(0), "ready", NULL);

	/* Approved with nothing next: ready, no job. */
	assert_int_equal(sv_store_review_decide(f->s, id_of(1), true, "fine", 70, &err), 0);
	assert_story(f, id_of(1), "ready", NULL);
	/* Rejected, with a note and without. */
	assert_int_equal(sv_store_review_decide(f->s, id_of(2), false, "too scary", 70, &err), 0);
	assert_story(f, id_of(2), "rejected", "too scary");
	assert_int_equal(sv_store_story_get(f->s, id_of(2), &s, &err), 0);
	assert_string_equal(s.review, "{\"r\":2}");
	sv_store_story_clear(&s);
	assert_int_equal(sv_store_review_decide(f->s, id_of(3), false, NULL, 70, &err), 0);
	assert_story(f, id_of(3), "rejected", "rejected in review");
	assert_int_equal(queued_of(f, "image") + queued_of(f, "audio"), 0);
	assert_int_equal(count_rows(f, "SELECT count(*) FROM jobs WHERE state <> 'done'"), 1);
	/* Not waiting for review: a queued story, an unknown one. */
	assert_int_equal(sv_store_review_decide(f->s, id_of(4), true, NULL, 70, &err), 1);
	assert_int_equal(sv_store_review_decide(f->s, id_of(7), true, NULL, 70, &err), 1);
	assert_story(f, id_of(4), "queued", NULL);

	assert_int_equal(sv_store_review_list(f->s, rows, 8, &n, &err), 0);
	assert_int_equal(n, 0);
	assert_int_equal(sv_store_story_counts(f->s, counts, &err), 0);
	assert_int_equal(counts[0], 1);
	assert_int_equal(counts[1], 0);
	assert_int_equal(counts[2], 0);
	assert_int_equal(counts[3], 2); /* ready */
	assert_int_equal(counts[4], 0);
	assert_int_equal(counts[5], 2); /* rejected */
	assert_string_equal(sv_store_statuses[5], "rejected");
	/* A rejected story is deleted like any other. */
	assert_int_equal(sv_store_story_delete(f->s, id_of(2), &err), 0);
	assert_int_equal(sv_store_story_get(f->s, id_of(2), &s, &err), 1);
}

/* A worker that lost its lease cannot hold the story: the one that took the
 * job over decides. */
static void hold_after_lost_lease_changes_nothing(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct sv_store_job a, b;
	assert_int_equal(sv_store_story_create(f->s, id_of(0), "{}", "text", 3, 1, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w1", 10, 100, &a, &err), 0);
	assert_int_equal(sv_store_job_claim(f->s, "text", "w2", 200, 100, &b, &err), 0);
	assert_int_equal(sv_store_job_hold(f->s, &a, "w1", "late", "{}", "{}", "image", 210, &err),
	                 1);
	assert_story(f, id_of(0), "generating", NULL);
	assert_int_equal(sv_store_review_decide(f->s, id_of(0), true, NULL, 220, &err), 1);
	assert_int_equal(sv_store_job_hold(f->s, &b, "w2", "T", "{}", "{}", NULL, 230, &err), 0);
	assert_story(f, id_of(0), "review", NULL);
	/* Nothing left to claim, however late. */
	assert_int_equal(sv_store_job_claim(f->s, "text", "w3", 100000, 100, &a, &err), 1);
	assert_story(f, id_of(0), "review", NULL);
}

/* Holding and deciding are state changes like the others: subscribers hear
 * the story move, and the job an approval queues. */
static void review_events_reach_subscribers(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct heard h = {.lock = PTHREAD_MUTEX_INITIALIZER, .changed = PTHREAD_COND_INITIALIZER};
	struct sv_store *writer = heard_writer(f, &h);
	assert_int_equal(sv_store_story_create(writer, id_of(1), "{}", "text", 3, 1, &err), 0);
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(writer, "text", "w", 2, 1000, &job, &err), 0);
	assert_int_equal(sv_store_job_hold(writer, &job, "w", "T", "{}", "{}", "image", 3, &err),
	                 0);
	wait_heard(&h, 1, 2); /* queued text; generating, review */
	assert_int_equal(sv_store_review_decide(writer, id_of(1), true, NULL, 4, &err), 0);
	wait_heard(&h, 2, 3); /* approved: generating, and an image job */
	pthread_mutex_lock(&h.lock);
	assert_string_equal(h.last_kind, "image");
	assert_string_equal(h.last_story, id_of(1));
	pthread_mutex_unlock(&h.lock);
	if (writer != f->s)
		sv_store_close(writer);
}

/* A database at schema version 3 (as the previous release left it) migrates
 * in place: its rows, sequence numbers and foreign keys survive the rebuild
 * of the stories table, and the new statuses and columns work. */
/* Opens a store written at schema 3: it must migrate to 4, keeping story 0
 * ready, whose row is left in *s. */
static void open_migrated(struct fixture *f, struct sv_store_story *s)
{
	struct sv_err err;
	f->s = sv_store_open(f->url, &err);
	assert_non_null(f->s);
	int version = 0;
	assert_int_equal(sv_store_schema_version(f->s, &version, &err), 0);
	assert_int_equal(version, 4);
	assert_int_equal(sv_store_story_get(f->s, id_of(0), s, &err), 0);
	assert_string_equal(s->status, "ready");
}

static void schema_3_migrates_keeping_rows(void **state)
{
	char dir[] = "/tmp/sv-store-v3-XXXXXX";
	assert_non_null(mkdtemp(dir));
	struct fixture f = {0};
	snprintf(f.path, sizeof(f.path), "%s/v3.db", dir);
	snprintf(f.url, sizeof(f.url), "sqlite:%s", f.path);
	static const char v3[] =
	    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at INTEGER NOT "
	    "NULL);"
	    "INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0);"
	    "CREATE TABLE stories (seq INTEGER PRIMARY KEY AUTOINCREMENT, id TEXT NOT NULL UNIQUE,"
	    " status TEXT NOT NULL CHECK (status IN ('queued','generating','ready','failed')),"
	    " params TEXT NOT NULL, title TEXT, story TEXT, error TEXT,"
	    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	    "CREATE INDEX stories_status ON stories (status);"
	    "CREATE TABLE pages (story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	    " number INTEGER NOT NULL, page TEXT NOT NULL, PRIMARY KEY (story_id, number));"
	    "CREATE TABLE jobs (id INTEGER PRIMARY KEY AUTOINCREMENT, kind TEXT NOT NULL,"
	    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	    " state TEXT NOT NULL CHECK (state IN ('queued','running','done','dead')),"
	    " attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,"
	    " run_after INTEGER NOT NULL, lease_owner TEXT, lease_until INTEGER, last_error TEXT,"
	    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
	    "CREATE INDEX jobs_runnable ON jobs (kind, state, run_after);"
	    "CREATE INDEX jobs_story ON jobs (story_id);"
	    "CREATE TABLE media (story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	    " name TEXT NOT NULL, blob TEXT NOT NULL, content_type TEXT NOT NULL,"
	    " size INTEGER NOT NULL, PRIMARY KEY (story_id, name));"
	    "CREATE INDEX jobs_queue ON jobs (kind, run_after, id) WHERE state = 'queued';"
	    "CREATE INDEX jobs_leases ON jobs (kind, lease_until, id) WHERE state = 'running';"
	    "INSERT INTO stories (id, status, params, title, story, created_at, updated_at) VALUES"
	    " ('00000000000000000000000000000001', 'ready', '{\"a\":1}', 'Old', '{\"s\":1}', 5, 6),"
	    " ('00000000000000000000000000000002', 'queued', '{}', NULL, NULL, 7, 7),"
	    " ('00000000000000000000000000000003', 'queued', '{}', NULL, NULL, 8, 8);"
	    "DELETE FROM stories WHERE seq = 3;"
	    "INSERT INTO pages VALUES ('00000000000000000000000000000001', 1, '{}');"
	    "INSERT INTO media VALUES ('00000000000000000000000000000001', 'story.html', 'b',"
	    " 'text/html', 1);"
	    "INSERT INTO jobs (kind, story_id, state, max_attempts, run_after, created_at,"
	    " updated_at) VALUES ('text', '00000000000000000000000000000002', 'queued', 2, 7, 7, "
	    "7);";
	sqlite3 *db;
	assert_int_equal(sqlite3_open(f.path, &db), SQLITE_OK);
	assert_int_equal(sqlite3_exec(db, v3, NULL, NULL, NULL), SQLITE_OK);
	sqlite3_close(db);

	struct sv_err err;
	struct sv_store_story s = {0};
	open_migrated(&f, &s);
	assert_int_equal(s.seq, 1);
	assert_string_equal(s.params, "{\"a\":1}");
	assert_string_equal(s.title, "Old");
	assert_string_equal(s.story, "{\"s\":1}");
	assert_int_equal(s.created_at, 5);
	assert_null(s.review);
	sv_store_story_clear(&s);
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM pages"), 1);
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM media"), 1);
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM pragma_foreign_key_check"), 0);
	/* A new story numbers after the deleted one, as AUTOINCREMENT promised. */
	assert_int_equal(sv_store_story_create(f.s, id_of(3), "{}", "text", 3, 9, &err), 0);
	assert_int_equal(sv_store_story_get(f.s, id_of(3), &s, &err), 0);
	assert_int_equal(s.seq, 4);
	sv_store_story_clear(&s);
	/* The old queue goes on, into the new statuses. */
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(f.s, "text", "w", 10, 1000, &job, &err), 0);
	assert_string_equal(job.story_id, id_of(1));
	assert_int_equal(sv_store_job_hold(f.s, &job, "w", "T", "{}", "{}", "image", 11, &err), 0);
	assert_int_equal(sv_store_review_decide(f.s, id_of(1), true, NULL, 12, &err), 0);
	assert_int_equal(sv_store_job_claim(f.s, "image", "w", 13, 1000, &job, &err), 0);
	assert_int_equal(job.max_attempts, 2);
	/* The children still follow their story. */
	assert_int_equal(sv_store_story_delete(f.s, id_of(0), &err), 0);
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM pages"), 0);
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM media"), 0);
	assert_int_equal(sv_store_story_delete(f.s, id_of(1), &err), 0);
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM jobs WHERE story_id = '"
	                                "00000000000000000000000000000002'"),
	                 0);
	sv_store_close(f.s);
	char cmd[64];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	assert_int_equal(system(cmd), 0);
}

/* The same on PostgreSQL, where the CHECK is altered in place. */
static void schema_3_migrates_keeping_rows_pg(void **state)
{
	struct fixture f = {0};
	assert_int_equal(pg_support_create_db(&pg_support_server, f.url, sizeof(f.url)), 0);
	static const char v3[] =
	    "CREATE TABLE schema_migrations (version INTEGER PRIMARY KEY, applied_at BIGINT NOT "
	    "NULL);"
	    "INSERT INTO schema_migrations VALUES (1, 0), (2, 0), (3, 0);"
	    "CREATE TABLE stories (seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	    " id TEXT NOT NULL UNIQUE,"
	    " status TEXT NOT NULL CHECK (status IN ('queued','generating','ready','failed')),"
	    " params TEXT NOT NULL, title TEXT, story TEXT, error TEXT,"
	    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	    "CREATE INDEX stories_status ON stories (status);"
	    "CREATE TABLE pages (story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	    " number INTEGER NOT NULL, page TEXT NOT NULL, PRIMARY KEY (story_id, number));"
	    "CREATE TABLE jobs (id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
	    " kind TEXT NOT NULL,"
	    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	    " state TEXT NOT NULL CHECK (state IN ('queued','running','done','dead')),"
	    " attempts INTEGER NOT NULL DEFAULT 0, max_attempts INTEGER NOT NULL,"
	    " run_after BIGINT NOT NULL, lease_owner TEXT, lease_until BIGINT, last_error TEXT,"
	    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
	    "CREATE INDEX jobs_runnable ON jobs (kind, state, run_after);"
	    "CREATE INDEX jobs_story ON jobs (story_id);"
	    "CREATE TABLE media (story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
	    " name TEXT NOT NULL, blob TEXT NOT NULL, content_type TEXT NOT NULL,"
	    " size BIGINT NOT NULL, PRIMARY KEY (story_id, name));"
	    "CREATE INDEX jobs_queue ON jobs (kind, run_after, id) WHERE state = 'queued';"
	    "CREATE INDEX jobs_leases ON jobs (kind, lease_until, id) WHERE state = 'running';"
	    "INSERT INTO stories (id, status, params, title, story, created_at, updated_at) VALUES"
	    " ('00000000000000000000000000000001', 'ready', '{\"a\":1}', 'Old', '{\"s\":1}', 5, 6),"
	    " ('00000000000000000000000000000002', 'queued', '{}', NULL, NULL, 7, 7);"
	    "INSERT INTO pages VALUES ('00000000000000000000000000000001', 1, '{}');"
	    "INSERT INTO jobs (kind, story_id, state, max_attempts, run_after, created_at,"
	    " updated_at) VALUES ('text', '00000000000000000000000000000002', 'queued', 2, 7, 7, "
	    "7);";
	PGconn *c = PQconnectdb(f.url);
	assert_int_equal(PQstatus(c), CONNECTION_OK);
	PGresult *r = PQexec(c, v3);
	assert_int_equal(PQresultStatus(r), PGRES_COMMAND_OK);
	PQclear(r);
	PQfinish(c);

	struct sv_err err;
	struct sv_store_story s = {0};
	open_migrated(&f, &s);
	assert_string_equal(s.title, "Old");
	assert_null(s.review);
	sv_store_story_clear(&s);
	struct sv_store_job job;
	assert_int_equal(sv_store_job_claim(f.s, "text", "w", 10, 1000, &job, &err), 0);
	assert_int_equal(sv_store_job_hold(f.s, &job, "w", "T", "{}", "{}", NULL, 11, &err), 0);
	assert_int_equal(sv_store_review_decide(f.s, id_of(1), false, NULL, 12, &err), 0);
	assert_int_equal(sv_store_story_get(f.s, id_of(1), &s, &err), 0);
	assert_string_equal(s.status, "rejected");
	sv_store_story_clear(&s);
	assert_int_equal(sv_store_story_delete(f.s, id_of(0), &err), 0);
	assert_int_equal(count_rows(&f, "SELECT count(*) FROM pages"), 0);
	sv_store_close(f.s);
}

static void backoff_doubles_and_caps(void **state)
{
	assert_int_equal(sv_store_backoff_ms(1, 1000, 60000), 1000);
	assert_int_equal(sv_store_backoff_ms(2, 1000, 60000), 2000);
	assert_int_equal(sv_store_backoff_ms(4, 1000, 60000), 8000);
	assert_int_equal(sv_store_backoff_ms(40, 1000, 60000), 60000);
}

/* The tests every backend must pass, with the fixture setup of that backend. */
#define STORE_TESTS(setup)                                                                         \
	cmocka_unit_test_setup_teardown(create_get_and_list, setup, teardown),                     \
	    cmocka_unit_test_setup_teardown(duplicate_id_is_one_failed_transaction, setup,         \
	                                    teardown),                                             \
	    cmocka_unit_test_setup_teardown(claim_succeed_marks_ready, setup, teardown),           \
	    cmocka_unit_test_setup_teardown(lapsed_lease_is_taken_over, setup, teardown),          \
	    cmocka_unit_test_setup_teardown(failures_back_off_then_dead_letter, setup, teardown),  \
	    cmocka_unit_test_setup_teardown(lapsed_last_attempt_dead_letters, setup, teardown),    \
	    cmocka_unit_test_setup_teardown(delete_removes_pages_and_jobs, setup, teardown),       \
	    cmocka_unit_test_setup_teardown(data_survives_reopen, setup, teardown),                \
	    cmocka_unit_test_setup_teardown(concurrent_claims_take_each_job_once, setup,           \
	                                    teardown),                                             \
	    cmocka_unit_test_setup_teardown(media_round_trip_and_cascade, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(events_reach_subscribers, setup, teardown),            \
	    cmocka_unit_test_setup_teardown(hand_on_queues_the_next_kind, setup, teardown),        \
	    cmocka_unit_test_setup_teardown(review_holds_then_decides, setup, teardown),           \
	    cmocka_unit_test_setup_teardown(hold_after_lost_lease_changes_nothing, setup,          \
	                                    teardown),                                             \
	    cmocka_unit_test_setup_teardown(review_events_reach_subscribers, setup, teardown)

int main(void)
{
	const struct CMUnitTest sqlite_tests[] = {
	    cmocka_unit_test(open_rejects_bad_urls),
	    STORE_TESTS(setup_sqlite),
	    cmocka_unit_test(schema_3_migrates_keeping_rows),
	    cmocka_unit_test(backoff_doubles_and_caps),
	};
	const struct CMUnitTest postgres_tests[] = {
	    STORE_TESTS(setup_postgres),
	    cmocka_unit_test_setup_teardown(reconnects_after_restart, setup_postgres, teardown),
	    cmocka_unit_test_setup_teardown(errors_while_down_then_recovers, setup_postgres,
	                                    teardown),
	    cmocka_unit_test(concurrent_opens_migrate_once),
	    cmocka_unit_test(schema_3_migrates_keeping_rows_pg),
	};
	int failed = cmocka_run_group_tests_name("sqlite", sqlite_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("postgres", postgres_tests, pg_support_group_setup,
	                                      pg_support_group_teardown);
	return failed;
}
