/*
 * The PostgreSQL backend: the same contract as sqlite.c on libpq. A small pool
 * of connections, each with every statement of the table below prepared once;
 * values always travel as parameters, never inside the SQL. Workers claim jobs
 * with one UPDATE over a FOR UPDATE SKIP LOCKED subquery, so many processes
 * share the queue without blocking each other. Migrations are versioned in
 * schema_migrations and applied at open under an advisory lock. A connection
 * that the server dropped is reset (and its statements prepared again) the
 * next time it is used outside a transaction.
 */
#include "store/store.h"

#include <errno.h>
#include <libpq-fe.h>
#include <poll.h>
#include <pthread.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE      4
#define MAX_ARGS       7
#define MIGRATION_LOCK 0x53564d49 /* advisory lock key: "SVMI" */
/* The LISTEN/NOTIFY channels: a job of a kind became runnable; a story moved on. */
#define NOTIFY_JOB   "sv_job"
#define NOTIFY_STORY "sv_story"

/* The start of the statements that end a job: the job done if worker ($2)
 * still holds its lease, at $3; no row in j when the lease was lost. */
#define JOB_DONE_CTE                                                                               \
	"WITH j AS (UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = $3::bigint "  \
	"WHERE id = $1::bigint AND lease_owner = $2 AND state = 'running' RETURNING story_id, "    \
	"max_attempts)"
/* Queues (and announces) the job that a CTE q (kind, story_id, max_attempts)
 * describes, runnable at $3: a job handing on, a review approving. */
#define QUEUE_CTE                                                                                  \
	"n AS (INSERT INTO jobs (kind, story_id, state, max_attempts, run_after, created_at, "     \
	"updated_at) SELECT kind, story_id, 'queued', max_attempts, $3::bigint, $3::bigint, "      \
	"$3::bigint FROM q RETURNING kind)"

enum stmt {
	ST_PING,
	ST_SCHEMA_VERSION,
	ST_STORY_INSERT,
	ST_JOB_INSERT,
	ST_STORY_GET,
	ST_STORY_LIST,
	ST_STORY_DELETE,
	ST_STORY_COUNTS,
	ST_JOBS_QUEUED,
	ST_PAGE_COUNT,
	ST_REAP_LAPSED_DEAD,
	ST_JOB_CLAIM,
	ST_JOB_HEARTBEAT,
	ST_PAGE_PUT,
	ST_JOB_DONE,
	ST_JOB_HAND_ON,
	ST_JOB_RETRY,
	ST_JOB_DEAD,
	ST_STORY_FAILED,
	ST_JOB_HOLD,
	ST_REVIEW_LIST,
	ST_REVIEW_DECIDE,
	ST_MEDIA_PUT,
	ST_MEDIA_GET,
	ST_MEDIA_LIST,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_PING] = "SELECT 1",
    [ST_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [ST_STORY_INSERT] = "INSERT INTO stories (id, status, params, created_at, updated_at) "
                        "VALUES ($1, 'queued', $2, $3::bigint, $3::bigint)",
    [ST_JOB_INSERT] = "WITH j AS (INSERT INTO jobs (kind, story_id, state, max_attempts, "
                      "run_after, created_at, updated_at) VALUES ($1, $2, 'queued', $3::int, "
                      "$4::bigint, $4::bigint, $4::bigint) RETURNING kind) "
                      "SELECT pg_notify('" NOTIFY_JOB "', kind) FROM j",
    [ST_STORY_GET] = "SELECT id, status, seq, created_at, updated_at, params, title, story, "
                     "error, review FROM stories WHERE id = $1",
    [ST_STORY_LIST] = "SELECT id, status, seq, created_at, updated_at, params, title, NULL, "
                      "error, NULL FROM stories WHERE seq < $1::bigint ORDER BY seq DESC "
                      "LIMIT $2::bigint",
    [ST_STORY_DELETE] = "DELETE FROM stories WHERE id = $1",
    [ST_STORY_COUNTS] = "SELECT status, count(*) FROM stories GROUP BY status",
    [ST_JOBS_QUEUED] = "SELECT count(*) FROM jobs WHERE kind = $1 AND state = 'queued'",
    [ST_PAGE_COUNT] = "SELECT count(*) FROM pages WHERE story_id = $1",
    /* Jobs whose worker vanished during their last attempt, and their stories,
     * go to the dead letters (a story a person holds or rejected stays so). */
    [ST_REAP_LAPSED_DEAD] =
        "WITH d AS (UPDATE jobs SET state = 'dead', last_error = 'lease lapsed on the last "
        "attempt', updated_at = $1::bigint WHERE state = 'running' AND lease_until < "
        "$1::bigint AND attempts >= max_attempts RETURNING story_id), "
        "s AS (UPDATE stories SET status = 'failed', error = 'the worker stopped during its "
        "last attempt', updated_at = $1::bigint WHERE id IN (SELECT story_id FROM d) AND "
        "status NOT IN ('review', 'rejected') RETURNING id) "
        "SELECT count(pg_notify('" NOTIFY_STORY "', id)) FROM s",
    /* One statement: the oldest due queued job, else one whose lease lapsed with
     * attempts left (each found through its own partial index), leased, and its
     * story marked generating. Its commit need not wait for the disk: a claim
     * lost in a crash is a worker that died, and the job runs again; the
     * durable commit of the job's end flushes the claim with it. */
    [ST_JOB_CLAIM] =
        "WITH j AS (UPDATE jobs SET state = 'running', attempts = attempts + 1, "
        "lease_owner = $2, lease_until = $3::bigint + $4::bigint, updated_at = $3::bigint "
        "WHERE id = coalesce((SELECT id FROM jobs WHERE kind = $1 AND state = 'queued' AND "
        "run_after <= $3::bigint ORDER BY run_after, id LIMIT 1 FOR UPDATE SKIP LOCKED), "
        "(SELECT id FROM jobs WHERE kind = $1 AND state = 'running' AND lease_until < "
        "$3::bigint AND attempts < max_attempts ORDER BY lease_until, id LIMIT 1 FOR UPDATE "
        "SKIP LOCKED)) RETURNING id, kind, story_id, attempts, max_attempts), "
        "s AS (UPDATE stories SET status = 'generating', updated_at = $3::bigint WHERE id IN "
        "(SELECT story_id FROM j) AND status IN ('queued', 'generating') RETURNING id) "
        "SELECT j.id, j.kind, j.story_id, j.attempts, j.max_attempts, "
        "(SELECT count(pg_notify('" NOTIFY_STORY "', id)) FROM s), "
        "set_config('synchronous_commit', 'off', true) FROM j",
    [ST_JOB_HEARTBEAT] = "UPDATE jobs SET lease_until = $3::bigint + $4::bigint, updated_at = "
                         "$3::bigint WHERE id = $1::bigint AND lease_owner = $2 AND state = "
                         "'running'",
    [ST_PAGE_PUT] = "WITH p AS (INSERT INTO pages (story_id, number, page) VALUES ($1, "
                    "$2::int, $3) ON CONFLICT (story_id, number) DO UPDATE SET page = "
                    "excluded.page RETURNING story_id) "
                    "SELECT pg_notify('" NOTIFY_STORY "', story_id) FROM p",
    /* The job done and its story ready, in one statement; no row when the
     * worker no longer holds the lease. */
    [ST_JOB_DONE] =
        (JOB_DONE_CTE ", s AS (UPDATE stories SET status = 'ready', title = "
                      "coalesce($4, title), story = coalesce($5, story), error = NULL, "
                      "updated_at = $3::bigint WHERE id IN (SELECT story_id FROM j) RETURNING "
                      "id) SELECT (SELECT count(*) FROM j), (SELECT count(pg_notify('" NOTIFY_STORY
                      "', id)) FROM s)"),
    /* The job done, the story's text kept, and its next job queued (and
     * announced), in one statement; no row when the lease was lost. */
    [ST_JOB_HAND_ON] =
        (JOB_DONE_CTE ", s AS (UPDATE stories SET title = coalesce($4, title), "
                      "story = coalesce($5, story), updated_at = $3::bigint WHERE id IN "
                      "(SELECT story_id FROM j)), q AS (SELECT $6::text AS kind, story_id, "
                      "max_attempts FROM j), " QUEUE_CTE " SELECT (SELECT count(*) FROM j), "
                      "(SELECT count(pg_notify('" NOTIFY_JOB "', kind)) FROM n)"),
    [ST_JOB_RETRY] = "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = "
                     "NULL, run_after = $4::bigint, last_error = $5, updated_at = $3::bigint "
                     "WHERE id = $1::bigint AND lease_owner = $2 AND state = 'running'",
    [ST_JOB_DEAD] = "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = $4, "
                    "updated_at = $3::bigint WHERE id = $1::bigint AND lease_owner = $2 AND "
                    "state = 'running'",
    [ST_STORY_FAILED] = "WITH s AS (UPDATE stories SET status = 'failed', error = $2, "
                        "updated_at = $3::bigint WHERE id = $1 AND status NOT IN ('review', "
                        "'rejected') RETURNING id) "
                        "SELECT pg_notify('" NOTIFY_STORY "', id) FROM s",
    /* The job done and its story held for review, in one statement. */
    [ST_JOB_HOLD] =
        (JOB_DONE_CTE ", s AS (UPDATE stories SET status = 'review', title = "
                      "coalesce($4, title), story = coalesce($5, story), review = $6, "
                      "review_next = $7, error = NULL, updated_at = $3::bigint WHERE id IN "
                      "(SELECT story_id FROM j) RETURNING id) SELECT (SELECT count(*) FROM j), "
                      "(SELECT count(pg_notify('" NOTIFY_STORY "', id)) FROM s)"),
    [ST_REVIEW_LIST] = "SELECT id, status, seq, created_at, updated_at, params, title, NULL, "
                       "error, review FROM stories WHERE status = 'review' ORDER BY seq "
                       "LIMIT $1::bigint",
    /* The decision ($2: 1 approve, 0 reject; $4 the note) and, for an
     * approval with a next kind, its job with the attempts the held job had
     * (the story's newest), in one statement: the kind queued, or no row
     * when the story is not waiting for review. */
    [ST_REVIEW_DECIDE] =
        "WITH s AS (UPDATE stories SET status = CASE WHEN $2::int = 0 THEN 'rejected' WHEN "
        "review_next IS NULL THEN 'ready' ELSE 'generating' END, error = CASE WHEN $2::int = 0 "
        "THEN coalesce($4, 'rejected in review') ELSE error END, updated_at = $3::bigint "
        "WHERE id = $1 AND status = 'review' RETURNING id, review_next), "
        "q AS (SELECT review_next AS kind, id AS story_id, (SELECT max_attempts FROM jobs "
        "WHERE story_id = s.id ORDER BY id DESC LIMIT 1) AS max_attempts FROM s WHERE "
        "$2::int = 1 AND review_next IS NOT NULL), " QUEUE_CTE " "
        "SELECT (SELECT kind FROM n), (SELECT count(pg_notify('" NOTIFY_JOB "', kind)) FROM n), "
        "pg_notify('" NOTIFY_STORY "', id) FROM s",
    [ST_MEDIA_PUT] = "WITH m AS (INSERT INTO media (story_id, name, blob, content_type, size) "
                     "VALUES ($1, $2, $3, $4, $5::bigint) ON CONFLICT (story_id, name) DO "
                     "UPDATE SET blob = excluded.blob, content_type = excluded.content_type, "
                     "size = excluded.size RETURNING story_id) "
                     "SELECT pg_notify('" NOTIFY_STORY "', story_id) FROM m",
    [ST_MEDIA_GET] = "SELECT name, blob, content_type, size FROM media WHERE story_id = $1 AND "
                     "name = $2",
    [ST_MEDIA_LIST] = "SELECT name, blob, content_type, size FROM media WHERE story_id = $1 "
                      "ORDER BY name",
};

/* Each entry is one schema version; applied in order, each in its own transaction. */
static const char *const migrations[] = {
    "CREATE TABLE stories ("
    " seq BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " id TEXT NOT NULL UNIQUE,"
    " status TEXT NOT NULL CHECK (status IN ('queued','generating','ready','failed')),"
    " params TEXT NOT NULL,"
    " title TEXT, story TEXT, error TEXT,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE INDEX stories_status ON stories (status);"
    "CREATE TABLE pages ("
    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL,"
    " page TEXT NOT NULL,"
    " PRIMARY KEY (story_id, number));"
    "CREATE TABLE jobs ("
    " id BIGINT GENERATED ALWAYS AS IDENTITY PRIMARY KEY,"
    " kind TEXT NOT NULL,"
    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
    " state TEXT NOT NULL CHECK (state IN ('queued','running','done','dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " max_attempts INTEGER NOT NULL,"
    " run_after BIGINT NOT NULL,"
    " lease_owner TEXT, lease_until BIGINT, last_error TEXT,"
    " created_at BIGINT NOT NULL, updated_at BIGINT NOT NULL);"
    "CREATE INDEX jobs_runnable ON jobs (kind, state, run_after);"
    "CREATE INDEX jobs_story ON jobs (story_id);",
    "CREATE TABLE media ("
    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " blob TEXT NOT NULL,"
    " content_type TEXT NOT NULL,"
    " size BIGINT NOT NULL,"
    " PRIMARY KEY (story_id, name));",
    /* What a claim looks for, in the order it wants it, whatever the number of jobs done. */
    ("CREATE INDEX jobs_queue ON jobs (kind, run_after, id) WHERE state = 'queued';"
     "CREATE INDEX jobs_leases ON jobs (kind, lease_until, id) WHERE state = 'running';"),
    /* The review queue: two statuses (the CHECK of a column is named
     * table_column_check) and two columns. */
    ("ALTER TABLE stories DROP CONSTRAINT stories_status_check,"
     " ADD CONSTRAINT stories_status_check CHECK (status IN"
     " ('queued','generating','review','ready','failed','rejected')),"
     " ADD COLUMN review TEXT, ADD COLUMN review_next TEXT;"),
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == SV_STORE_SCHEMA_VERSION,
               "one migration per schema version");

struct conn {
	PGconn *pg;
	bool in_tx; /* inside BEGIN: a lost connection must fail, not be retried */
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct conn conns[POOL_SIZE];
	int free_stack[POOL_SIZE];
	int nfree;
	char *url;                 /* "postgresql://…", for the listener's own connection */
	_Atomic int64_t reaped_at; /* when claims last looked for lapsed last attempts */
	struct listener *listener;
};

/* LISTEN runs on a connection of its own, outside the pool, read by a thread
 * that hands each notification to fn. */
struct listener {
	pthread_t thread;
	const char *url; /* the pool's */
	sv_store_event_fn fn;
	void *ctx;
	atomic_bool stop;
};

/* Parameters as text: strings as given (NULL is SQL NULL), integers printed. */
struct args {
	const char *v[MAX_ARGS];
	char num[MAX_ARGS][24];
	int n;
};

static int pg_err(struct sv_err *err, const char *what, const char *detail)
{
	size_t len = detail ? strcspn(detail, "\n") : 0;
	return sv_err_set(err, "database", "", "%s: %.*s", what, (int)len, detail ? detail : "");
}

static void quiet_notices(void *arg, const char *message) {}

static void stmt_name(char name[16], int i)
{
	snprintf(name, 16, "sv%d", i);
}

static int conn_prepare(struct conn *c, struct sv_err *err)
{
	for (int i = 0; i < ST_COUNT; i++) {
		char name[16];
		stmt_name(name, i);
		PGresult *r = PQprepare(c->pg, name, stmt_sql[i], 0, NULL);
		bool ok = PQresultStatus(r) == PGRES_COMMAND_OK;
		if (!ok)
			pg_err(err, "cannot prepare statement", PQresultErrorMessage(r));
		PQclear(r);
		if (!ok)
			return -1;
	}
	return 0;
}

/* A connection with a bounded connect, so that nobody waits forever on a
 * server that cannot be reached. */
static PGconn *connect_bounded(const char *url)
{
	const char *const keys[] = {"dbname", "connect_timeout", NULL};
	const char *const values[] = {url, "5", NULL};
	return PQconnectdbParams(keys, values, 1);
}

static int conn_open(struct conn *c, const char *url, struct sv_err *err)
{
	c->pg = connect_bounded(url);
	if (!c->pg)
		return sv_err_set(err, "nomem", "", "out of memory");
	if (PQstatus(c->pg) != CONNECTION_OK)
		return pg_err(err, "cannot connect to database", PQerrorMessage(c->pg));
	PQsetNoticeProcessor(c->pg, quiet_notices, NULL);
	return 0;
}

/* Reconnects a connection the server dropped and prepares its statements again. */
static int conn_reset(struct conn *c, struct sv_err *err)
{
	PQreset(c->pg);
	if (PQstatus(c->pg) != CONNECTION_OK)
		return pg_err(err, "cannot reconnect to database", PQerrorMessage(c->pg));
	return conn_prepare(c, err);
}

static void args_fill(struct args *a, const char *fmt, va_list ap)
{
	for (a->n = 0; fmt[a->n] && a->n < MAX_ARGS; a->n++) {
		if (fmt[a->n] == 's') {
			a->v[a->n] = va_arg(ap, const char *);
		} else {
			snprintf(a->num[a->n], sizeof(a->num[a->n]), "%lld",
			         (long long)va_arg(ap, int64_t));
			a->v[a->n] = a->num[a->n];
		}
	}
}

static bool result_ok(const PGresult *r)
{
	ExecStatusType st = PQresultStatus(r);
	return st == PGRES_COMMAND_OK || st == PGRES_TUPLES_OK;
}

/* Runs a prepared statement with arguments described by fmt ('s' text, 'i'
 * int64). Outside a transaction a dropped connection is reset and the
 * statement tried once more. Returns the result (caller clears) or NULL. */
static PGresult *run(struct conn *c, enum stmt which, struct sv_err *err, const char *fmt, ...)
{
	struct args a;
	va_list ap;
	va_start(ap, fmt);
	args_fill(&a, fmt, ap);
	va_end(ap);
	char name[16];
	stmt_name(name, which);
	for (int attempt = 0;; attempt++) {
		if (PQstatus(c->pg) != CONNECTION_OK && !c->in_tx && conn_reset(c, err) < 0)
			return NULL;
		PGresult *r = PQexecPrepared(c->pg, name, a.n, a.v, NULL, NULL, 0);
		if (result_ok(r))
			return r;
		bool lost = PQstatus(c->pg) != CONNECTION_OK;
		if (!(lost && !c->in_tx && attempt == 0)) {
			pg_err(err, "statement failed",
			       r ? PQresultErrorMessage(r) : "out of memory");
			PQclear(r);
			return NULL;
		}
		PQclear(r);
	}
}

/* Runs a transaction-control command; BEGIN may reconnect first, like run(). */
static int simple(struct conn *c, const char *sql, struct sv_err *err)
{
	for (int attempt = 0;; attempt++) {
		if (PQstatus(c->pg) != CONNECTION_OK && !c->in_tx && conn_reset(c, err) < 0)
			return -1;
		PGresult *r = PQexec(c->pg, sql);
		bool ok = result_ok(r);
		bool retry = !ok && !c->in_tx && attempt == 0 && PQstatus(c->pg) != CONNECTION_OK;
		if (!ok && !retry)
			pg_err(err, sql, r ? PQresultErrorMessage(r) : "out of memory");
		PQclear(r);
		if (ok)
			return 0;
		if (!retry)
			return -1;
	}
}

/* Number of rows a statement changed, or -1. */
static int changes(PGresult *r)
{
	if (!r)
		return -1;
	int n = atoi(PQcmdTuples(r));
	PQclear(r);
	return n;
}

static int begin(struct conn *c, struct sv_err *err)
{
	if (simple(c, "BEGIN", err) < 0)
		return -1;
	c->in_tx = true;
	return 0;
}

/* Ends a transaction: commits when rc >= 0, rolls back otherwise; passes rc on. */
static int finish(struct conn *c, int rc, struct sv_err *err)
{
	if (rc >= 0 && simple(c, "COMMIT", err) == 0) {
		c->in_tx = false;
		return rc;
	}
	if (PQstatus(c->pg) == CONNECTION_OK)
		simple(c, "ROLLBACK", NULL);
	c->in_tx = false;
	return -1;
}

/* Applies the missing migrations, each in its own transaction, holding an
 * advisory lock so that processes opening the database together take turns. */
static int migrate_locked(struct conn *c, struct sv_err *err)
{
	if (simple(c,
	           "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER PRIMARY "
	           "KEY, applied_at BIGINT NOT NULL)",
	           err) < 0)
		return -1;
	for (size_t v = 1; v <= sizeof(migrations) / sizeof(migrations[0]); v++) {
		char version[24];
		snprintf(version, sizeof(version), "%zu", v);
		const char *args[1] = {version};
		PGresult *r =
		    PQexecParams(c->pg, "SELECT 1 FROM schema_migrations WHERE version = $1", 1,
		                 NULL, args, NULL, NULL, 0);
		bool ok = result_ok(r), have = ok && PQntuples(r) > 0;
		if (!ok)
			pg_err(err, "cannot read schema_migrations", PQresultErrorMessage(r));
		PQclear(r);
		if (!ok)
			return -1;
		if (have)
			continue;
		if (begin(c, err) < 0)
			return -1;
		int rc = simple(c, migrations[v - 1], err);
		if (rc == 0) {
			r = PQexecParams(c->pg,
			                 "INSERT INTO schema_migrations VALUES ($1::int, "
			                 "(extract(epoch FROM now()) * 1000)::bigint)",
			                 1, NULL, args, NULL, NULL, 0);
			rc = result_ok(r)
			         ? 0
			         : pg_err(err, "migration failed", PQresultErrorMessage(r));
			PQclear(r);
		}
		if (finish(c, rc, err) < 0)
			return -1;
	}
	return 0;
}

static int migrate(struct conn *c, struct sv_err *err)
{
	char key[24];
	snprintf(key, sizeof(key), "%d", MIGRATION_LOCK);
	const char *args[1] = {key};
	PGresult *r = PQexecParams(c->pg, "SELECT pg_advisory_lock($1::bigint)", 1, NULL, args,
	                           NULL, NULL, 0);
	bool ok = result_ok(r);
	if (!ok)
		pg_err(err, "cannot take the migration lock", PQresultErrorMessage(r));
	PQclear(r);
	if (!ok)
		return -1;
	int rc = migrate_locked(c, err);
	r = PQexecParams(c->pg, "SELECT pg_advisory_unlock($1::bigint)", 1, NULL, args, NULL, NULL,
	                 0);
	PQclear(r);
	return rc;
}

static void listener_stop(struct listener *l);

static void pool_close(void *impl)
{
	struct pool *p = impl;
	if (!p)
		return;
	listener_stop(p->listener);
	free(p->url);
	for (int i = 0; i < POOL_SIZE; i++)
		PQfinish(p->conns[i].pg);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

/* location is what follows "postgres:" or "postgresql:", e.g. "//u@host:5432/db". */
static void *pool_open(const char *location, struct sv_err *err)
{
	if (strncmp(location, "//", 2) != 0) {
		sv_err_set(err, "invalid_value", "database",
		           "postgres: needs a URL like postgres://user@host:port/db");
		return NULL;
	}
	struct pool *p = calloc(1, sizeof(*p));
	char *url = malloc(strlen(location) + sizeof("postgresql:"));
	if (!p || !url) {
		free(p);
		free(url);
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	sprintf(url, "postgresql:%s", location);
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	for (int i = 0; i < POOL_SIZE; i++) {
		struct conn *c = &p->conns[i];
		if (conn_open(c, url, err) < 0 || (i == 0 && migrate(c, err) < 0) ||
		    conn_prepare(c, err) < 0) {
			free(url);
			pool_close(p);
			return NULL;
		}
		p->free_stack[p->nfree++] = i;
	}
	p->url = url;
	return p;
}

static struct conn *acquire(struct pool *p)
{
	pthread_mutex_lock(&p->lock);
	while (p->nfree == 0)
		pthread_cond_wait(&p->freed, &p->lock);
	struct conn *c = &p->conns[p->free_stack[--p->nfree]];
	pthread_mutex_unlock(&p->lock);
	return c;
}

static void release(struct pool *p, struct conn *c)
{
	pthread_mutex_lock(&p->lock);
	p->free_stack[p->nfree++] = (int)(c - p->conns);
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

static char *col_dup(const PGresult *r, int row, int col)
{
	return PQgetisnull(r, row, col) ? NULL : strdup(PQgetvalue(r, row, col));
}

static int64_t col_int(const PGresult *r, int row, int col)
{
	return strtoll(PQgetvalue(r, row, col), NULL, 10);
}

static void read_story(const PGresult *r, int row, struct sv_store_story *out)
{
	snprintf(out->id, sizeof(out->id), "%s", PQgetvalue(r, row, 0));
	snprintf(out->status, sizeof(out->status), "%s", PQgetvalue(r, row, 1));
	out->seq = col_int(r, row, 2);
	out->created_at = col_int(r, row, 3);
	out->updated_at = col_int(r, row, 4);
	out->params = col_dup(r, row, 5);
	out->title = col_dup(r, row, 6);
	out->story = col_dup(r, row, 7);
	out->error = col_dup(r, row, 8);
	out->review = col_dup(r, row, 9);
}

static int pg_ping(void *impl, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = changes(run(c, ST_PING, err, ""));
	release(p, c);
	return rc < 0 ? -1 : 0;
}

static int pg_schema_version(void *impl, int *version, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_SCHEMA_VERSION, err, "");
	*version = r && PQntuples(r) == 1 ? (int)col_int(r, 0, 0) : 0;
	int rc = r ? 0 : -1;
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_story_create(void *impl, const char *id, const char *params, const char *job_kind,
                           int max_attempts, int64_t now, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = begin(c, err);
	if (rc == 0)
		rc = changes(run(c, ST_STORY_INSERT, err, "ssi", id, params, now));
	if (rc >= 0)
		rc = changes(
		    run(c, ST_JOB_INSERT, err, "ssii", job_kind, id, (int64_t)max_attempts, now));
	rc = finish(c, rc, err);
	release(p, c);
	return rc < 0 ? -1 : 0;
}

static int pg_story_get(void *impl, const char *id, struct sv_store_story *out, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_STORY_GET, err, "s", id);
	int rc = !r ? -1 : PQntuples(r) == 0 ? 1 : 0;
	if (rc == 0)
		read_story(r, 0, out);
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_story_list(void *impl, int64_t before_seq, int limit, struct sv_store_story *out,
                         int *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_STORY_LIST, err, "ii", before_seq > 0 ? before_seq : INT64_MAX,
	                  (int64_t)limit);
	int n = r ? PQntuples(r) : 0;
	for (int i = 0; i < n && i < limit; i++)
		read_story(r, i, &out[i]);
	*count = n < limit ? n : limit;
	PQclear(r);
	release(p, c);
	return r ? 0 : -1;
}

static int pg_story_delete(void *impl, const char *id, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = changes(run(c, ST_STORY_DELETE, err, "s", id));
	release(p, c);
	return rc < 0 ? -1 : rc == 0 ? 1 : 0;
}

static int pg_story_counts(void *impl, int64_t counts[SV_STORE_NSTATUSES], struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	memset(counts, 0, SV_STORE_NSTATUSES * sizeof(counts[0]));
	PGresult *r = run(c, ST_STORY_COUNTS, err, "");
	for (int row = 0; r && row < PQntuples(r); row++)
		for (int i = 0; i < SV_STORE_NSTATUSES; i++)
			if (strcmp(PQgetvalue(r, row, 0), sv_store_statuses[i]) == 0)
				counts[i] = col_int(r, row, 1);
	int rc = r ? 0 : -1;
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_jobs_queued(void *impl, const char *kind, int64_t *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_JOBS_QUEUED, err, "s", kind);
	*count = r && PQntuples(r) == 1 ? col_int(r, 0, 0) : 0;
	int rc = r ? 0 : -1;
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_page_count(void *impl, const char *story_id, int64_t *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_PAGE_COUNT, err, "s", story_id);
	*count = r && PQntuples(r) == 1 ? col_int(r, 0, 0) : 0;
	int rc = r ? 0 : -1;
	PQclear(r);
	release(p, c);
	return rc;
}

static void read_job(const PGresult *r, struct sv_store_job *out)
{
	out->id = col_int(r, 0, 0);
	snprintf(out->kind, sizeof(out->kind), "%s", PQgetvalue(r, 0, 1));
	snprintf(out->story_id, sizeof(out->story_id), "%s", PQgetvalue(r, 0, 2));
	out->attempts = (int)col_int(r, 0, 3);
	out->max_attempts = (int)col_int(r, 0, 4);
}

#define REAP_EVERY_MS 1000 /* lapsed last attempts are looked for at most this often */

static int pg_job_claim(void *impl, const char *kind, const char *worker, int64_t now,
                        int64_t lease_ms, struct sv_store_job *out, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = 0;
	if (now - atomic_load(&p->reaped_at) >= REAP_EVERY_MS) {
		atomic_store(&p->reaped_at, now);
		rc = changes(run(c, ST_REAP_LAPSED_DEAD, err, "i", now));
	}
	PGresult *r =
	    rc < 0 ? NULL : run(c, ST_JOB_CLAIM, err, "ssii", kind, worker, now, lease_ms);
	rc = !r ? -1 : PQntuples(r) == 0 ? 1 : 0;
	if (rc == 0)
		read_job(r, out);
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_job_heartbeat(void *impl, const struct sv_store_job *job, const char *worker,
                            int64_t now, int64_t lease_ms, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = changes(run(c, ST_JOB_HEARTBEAT, err, "isii", job->id, worker, now, lease_ms));
	release(p, c);
	return rc < 0 ? -1 : rc == 0 ? 1 : 0;
}

static int pg_page_put(void *impl, const char *story_id, int number, const char *page,
                       struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = changes(run(c, ST_PAGE_PUT, err, "sis", story_id, (int64_t)number, page));
	release(p, c);
	return rc < 0 ? -1 : 0;
}

static int pg_job_succeed(void *impl, const struct sv_store_job *job, const char *worker,
                          const char *title, const char *story, int64_t now, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_JOB_DONE, err, "isiss", job->id, worker, now, title, story);
	int rc = !r ? -1 : col_int(r, 0, 0) == 1 ? 0 : 1; /* 1: the lease was lost */
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_job_hand_on(void *impl, const struct sv_store_job *job, const char *worker,
                          const char *title, const char *story, const char *next_kind, int64_t now,
                          struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r =
	    run(c, ST_JOB_HAND_ON, err, "isisss", job->id, worker, now, title, story, next_kind);
	int rc = !r ? -1 : col_int(r, 0, 0) == 1 ? 0 : 1; /* 1: the lease was lost */
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_job_fail(void *impl, const struct sv_store_job *job, const char *worker,
                       const char *message, int64_t now, int64_t retry_at, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	bool last = job->attempts >= job->max_attempts;
	int rc = begin(c, err);
	if (rc == 0 && !last)
		rc = changes(
		    run(c, ST_JOB_RETRY, err, "isiis", job->id, worker, now, retry_at, message));
	else if (rc == 0)
		rc = changes(run(c, ST_JOB_DEAD, err, "isis", job->id, worker, now, message));
	if (rc == 1 && last)
		rc = changes(run(c, ST_STORY_FAILED, err, "ssi", job->story_id, message, now)) < 0
		         ? -1
		         : 0;
	else if (rc == 1)
		rc = 0;
	else if (rc == 0)
		rc = 1;
	rc = finish(c, rc, err);
	release(p, c);
	return rc;
}

static int pg_job_hold(void *impl, const struct sv_store_job *job, const char *worker,
                       const char *title, const char *story, const char *review,
                       const char *next_kind, int64_t now, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_JOB_HOLD, err, "isissss", job->id, worker, now, title, story,
	                  review, next_kind);
	int rc = !r ? -1 : col_int(r, 0, 0) == 1 ? 0 : 1; /* 1: the lease was lost */
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_review_list(void *impl, struct sv_store_story *out, int max, int *count,
                          struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_REVIEW_LIST, err, "i", (int64_t)max);
	int n = r ? PQntuples(r) : 0;
	for (int i = 0; i < n && i < max; i++)
		read_story(r, i, &out[i]);
	*count = n < max ? n : max;
	PQclear(r);
	release(p, c);
	return r ? 0 : -1;
}

static int pg_review_decide(void *impl, const char *id, bool approve, const char *note, int64_t now,
                            char queued[16], struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_REVIEW_DECIDE, err, "siis", id, (int64_t)approve, now, note);
	int rc = !r ? -1 : PQntuples(r) == 0 ? 1 : 0; /* 1: not waiting for review */
	if (rc == 0)
		snprintf(queued, 16, "%s", PQgetvalue(r, 0, 0)); /* "" when NULL */
	PQclear(r);
	release(p, c);
	return rc;
}

static void read_media(const PGresult *r, int row, struct sv_store_media *out)
{
	snprintf(out->name, sizeof(out->name), "%s", PQgetvalue(r, row, 0));
	snprintf(out->blob, sizeof(out->blob), "%s", PQgetvalue(r, row, 1));
	snprintf(out->content_type, sizeof(out->content_type), "%s", PQgetvalue(r, row, 2));
	out->size = col_int(r, row, 3);
}

static int pg_media_put(void *impl, const char *story_id, const struct sv_store_media *m,
                        struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = changes(run(c, ST_MEDIA_PUT, err, "ssssi", story_id, m->name, m->blob,
	                     m->content_type, m->size));
	release(p, c);
	return rc < 0 ? -1 : 0;
}

static int pg_media_get(void *impl, const char *story_id, const char *name,
                        struct sv_store_media *out, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_MEDIA_GET, err, "ss", story_id, name);
	int rc = !r ? -1 : PQntuples(r) == 0 ? 1 : 0;
	if (rc == 0)
		read_media(r, 0, out);
	PQclear(r);
	release(p, c);
	return rc;
}

static int pg_media_list(void *impl, const char *story_id, struct sv_store_media *out, int max,
                         int *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	PGresult *r = run(c, ST_MEDIA_LIST, err, "s", story_id);
	int n = r ? PQntuples(r) : 0;
	for (int i = 0; i < n && i < max; i++)
		read_media(r, i, &out[i]);
	*count = n < max ? n : max;
	PQclear(r);
	release(p, c);
	return r ? 0 : -1;
}

/* ---- LISTEN/NOTIFY ---- */

#define LISTEN_POLL_MS  200 /* how soon the thread notices it should stop */
#define LISTEN_RETRY_MS 500 /* between attempts to reconnect */

static PGconn *listen_connect(const char *url)
{
	PGconn *pg = connect_bounded(url); /* a stop is never stuck behind a lost server */
	if (PQstatus(pg) != CONNECTION_OK) {
		PQfinish(pg);
		return NULL;
	}
	PQsetNoticeProcessor(pg, quiet_notices, NULL);
	PGresult *r = PQexec(pg, "LISTEN " NOTIFY_JOB "; LISTEN " NOTIFY_STORY);
	bool ok = result_ok(r);
	PQclear(r);
	if (!ok) {
		PQfinish(pg);
		return NULL;
	}
	return pg;
}

static void deliver(struct listener *l, PGconn *pg)
{
	PGnotify *n;
	while ((n = PQnotifies(pg)) != NULL) {
		if (strcmp(n->relname, NOTIFY_JOB) == 0)
			l->fn(l->ctx, SV_STORE_EVENT_JOB, n->extra);
		else if (strcmp(n->relname, NOTIFY_STORY) == 0)
			l->fn(l->ctx, SV_STORE_EVENT_STORY, n->extra);
		PQfreemem(n);
	}
}

static void *listen_main(void *arg)
{
	struct listener *l = arg;
	PGconn *pg = NULL;
	while (!atomic_load(&l->stop)) {
		if (!pg) {
			if (!(pg = listen_connect(l->url))) {
				poll(NULL, 0, LISTEN_RETRY_MS);
				continue;
			}
			/* Whatever happened while nobody listened: everyone looks again. */
			l->fn(l->ctx, SV_STORE_EVENT_JOB, "");
			l->fn(l->ctx, SV_STORE_EVENT_STORY, "");
		}
		struct pollfd pfd = {.fd = PQsocket(pg), .events = POLLIN};
		if (poll(&pfd, 1, LISTEN_POLL_MS) > 0 && !PQconsumeInput(pg)) {
			PQfinish(pg); /* the server went away: connect again */
			pg = NULL;
			continue;
		}
		deliver(l, pg);
	}
	PQfinish(pg);
	return NULL;
}

static int pg_listen(void *impl, sv_store_event_fn fn, void *ctx, struct sv_err *err)
{
	struct pool *p = impl;
	if (p->listener)
		return sv_err_set(err, "busy", "", "the store already listens");
	struct listener *l = calloc(1, sizeof(*l));
	if (!l)
		return sv_err_set(err, "nomem", "", "out of memory");
	*l = (struct listener){.url = p->url, .fn = fn, .ctx = ctx};
	int rc = pthread_create(&l->thread, NULL, listen_main, l);
	if (rc != 0) {
		free(l);
		return sv_err_set(err, "io", "", "cannot start the listener: %s", strerror(rc));
	}
	p->listener = l;
	return 0;
}

static void listener_stop(struct listener *l)
{
	if (!l)
		return;
	atomic_store(&l->stop, true);
	pthread_join(l->thread, NULL);
	free(l);
}

/* ---- backup and restore ---- */

/* The tables a snapshot carries, parents first (schema_migrations stays: the
 * target has migrated itself to the same version). */
static const char *const snapshot_tables[] = {"stories", "pages", "jobs", "media"};

#define COPY_CHUNK 65536

static void snapshot_path(char *out, size_t n, const char *dir, const char *table)
{
	snprintf(out, n, "%s/%s.copy", dir, table);
}

/* Drains the results that end a COPY: 0 with *rows when it succeeded. */
static int copy_end(PGconn *pg, int64_t *rows, struct sv_err *err)
{
	int rc = 0;
	PGresult *r;
	while ((r = PQgetResult(pg)) != NULL) {
		if (PQresultStatus(r) != PGRES_COMMAND_OK && rc == 0)
			rc = pg_err(err, "copy failed", PQresultErrorMessage(r));
		else if (rows)
			*rows = strtoll(PQcmdTuples(r), NULL, 10);
		PQclear(r);
	}
	return rc;
}

/* Reads every row the server sends into f; keeps reading after a failed
 * write, so the connection stays in step. */
static int copy_rows_out(PGconn *pg, FILE *f, const char *path, struct sv_err *err)
{
	int rc = 0, n;
	char *buf;
	while ((n = PQgetCopyData(pg, &buf, 0)) > 0) {
		if (fwrite(buf, 1, (size_t)n, f) != (size_t)n && rc == 0)
			rc =
			    sv_err_set(err, "io", "", "cannot write %s: %s", path, strerror(errno));
		PQfreemem(buf);
	}
	if (n == -2 && rc == 0)
		rc = pg_err(err, "copy failed", PQerrorMessage(pg));
	return copy_end(pg, NULL, rc < 0 ? NULL : err) < 0 || rc < 0 ? -1 : 0;
}

/* COPY table TO STDOUT, in the text format, into dir/table.copy. */
static int copy_out(struct conn *c, const char *dir, const char *table, struct sv_err *err)
{
	char path[4200], sql[64];
	snapshot_path(path, sizeof(path), dir, table);
	FILE *f = fopen(path, "wbxe");
	if (!f)
		return sv_err_set(err, "io", "", "cannot create %s: %s", path, strerror(errno));
	snprintf(sql, sizeof(sql), "COPY %s TO STDOUT", table);
	PGresult *r = PQexec(c->pg, sql);
	int rc = PQresultStatus(r) == PGRES_COPY_OUT
	             ? 0
	             : pg_err(err, "cannot copy out of the database", PQresultErrorMessage(r));
	PQclear(r);
	if (rc == 0)
		rc = copy_rows_out(c->pg, f, path, err);
	if (fclose(f) != 0 && rc == 0)
		rc = sv_err_set(err, "io", "", "cannot write %s: %s", path, strerror(errno));
	return rc;
}

/* The number of stories the transaction sees, or -1. */
static int64_t count_stories(struct conn *c, struct sv_err *err)
{
	PGresult *r = PQexec(c->pg, "SELECT count(*) FROM stories");
	int64_t n = -1;
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		n = col_int(r, 0, 0);
	else
		pg_err(err, "cannot count stories", PQresultErrorMessage(r));
	PQclear(r);
	return n;
}

/* Copies every table out inside one read-only repeatable-read transaction:
 * one snapshot of the whole database, however long the copy takes, and no
 * writer waits for it. */
static int pg_dump(void *impl, const char *dir, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = simple(c, "BEGIN ISOLATION LEVEL REPEATABLE READ READ ONLY", err);
	if (rc == 0) {
		c->in_tx = true;
		for (size_t i = 0;
		     rc == 0 && i < sizeof(snapshot_tables) / sizeof(snapshot_tables[0]); i++)
			rc = copy_out(c, dir, snapshot_tables[i], err);
		int64_t n = rc == 0 ? count_stories(c, err) : -1;
		rc = finish(c, n < 0 ? -1 : n > INT32_MAX ? INT32_MAX : (int)n, err);
	}
	release(p, c);
	return rc;
}

/* Sends f to a COPY FROM STDIN the server is waiting on; a failed read
 * aborts the COPY (and so the transaction). */
static int copy_rows_in(PGconn *pg, FILE *f, const char *path, int64_t *rows, struct sv_err *err)
{
	char *buf = malloc(COPY_CHUNK);
	if (!buf) {
		PQputCopyEnd(pg, "out of memory");
		copy_end(pg, NULL, NULL);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	size_t n;
	int rc = 0;
	while (rc == 0 && (n = fread(buf, 1, COPY_CHUNK, f)) > 0)
		if (PQputCopyData(pg, buf, (int)n) != 1)
			rc = pg_err(err, "copy failed", PQerrorMessage(pg));
	free(buf);
	if (rc == 0 && ferror(f))
		rc = sv_err_set(err, "io", "", "cannot read %s", path);
	if (PQputCopyEnd(pg, rc == 0 ? NULL : "the snapshot could not be sent") != 1 && rc == 0)
		rc = pg_err(err, "copy failed", PQerrorMessage(pg));
	return copy_end(pg, rows, rc < 0 ? NULL : err) < 0 || rc < 0 ? -1 : 0;
}

/* COPY table FROM STDIN out of dir/table.copy. COPY writes the identity
 * columns as given (like OVERRIDING SYSTEM VALUE), so ids and seqs survive. */
static int copy_in(struct conn *c, const char *dir, const char *table, int64_t *rows,
                   struct sv_err *err)
{
	char path[4200], sql[64];
	snapshot_path(path, sizeof(path), dir, table);
	FILE *f = fopen(path, "rbe");
	if (!f)
		return sv_err_set(err, "invalid_backup", "", "the database snapshot lacks %s.copy",
		                  table);
	snprintf(sql, sizeof(sql), "COPY %s FROM STDIN", table);
	PGresult *r = PQexec(c->pg, sql);
	int rc = PQresultStatus(r) == PGRES_COPY_IN
	             ? 0
	             : pg_err(err, "cannot copy into the database", PQresultErrorMessage(r));
	PQclear(r);
	if (rc == 0)
		rc = copy_rows_in(c->pg, f, path, rows, err);
	fclose(f);
	return rc;
}

/* Inside the load's transaction: the emptiness check under a lock that keeps
 * new stories out until commit, the rows, then the identity sequences moved
 * past the ids that came in. Returns the number of stories loaded, or -1. */
static int load_locked(struct conn *c, const char *dir, struct sv_err *err)
{
	if (simple(c, "LOCK TABLE stories IN EXCLUSIVE MODE", err) < 0)
		return -1;
	int64_t n = count_stories(c, err);
	if (n < 0)
		return -1;
	if (n > 0)
		return sv_err_set(err, "conflict", "database",
		                  "restore needs an empty database, and this one holds %lld "
		                  "stories",
		                  (long long)n);
	int64_t stories = 0, rows = 0;
	for (size_t i = 0; i < sizeof(snapshot_tables) / sizeof(snapshot_tables[0]); i++) {
		if (copy_in(c, dir, snapshot_tables[i], &rows, err) < 0)
			return -1;
		if (i == 0)
			stories = rows;
	}
	if (simple(c,
	           "SELECT setval(pg_get_serial_sequence('stories', 'seq'), (SELECT "
	           "coalesce(max(seq), 0) + 1 FROM stories), false), "
	           "setval(pg_get_serial_sequence('jobs', 'id'), (SELECT coalesce(max(id), 0) + 1 "
	           "FROM jobs), false)",
	           err) < 0)
		return -1;
	return stories > INT32_MAX ? INT32_MAX : (int)stories;
}

static int pg_load(void *impl, const char *dir, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = begin(c, err);
	if (rc == 0)
		rc = finish(c, load_locked(c, dir, err), err);
	release(p, c);
	return rc;
}

#define PG_OPS(name)                                                                               \
	{                                                                                          \
		.scheme = (name), .open = pool_open, .close = pool_close, .ping = pg_ping,         \
		.schema_version = pg_schema_version, .story_create = pg_story_create,              \
		.story_get = pg_story_get, .story_list = pg_story_list,                            \
		.story_delete = pg_story_delete, .story_counts = pg_story_counts,                  \
		.jobs_queued = pg_jobs_queued, .page_count = pg_page_count,                        \
		.job_claim = pg_job_claim, .job_heartbeat = pg_job_heartbeat,                      \
		.page_put = pg_page_put, .job_succeed = pg_job_succeed,                            \
		.job_hand_on = pg_job_hand_on, .job_fail = pg_job_fail, .job_hold = pg_job_hold,   \
		.review_list = pg_review_list, .review_decide = pg_review_decide,                  \
		.media_put = pg_media_put, .media_get = pg_media_get, .media_list = pg_media_list, \
		.listen = pg_listen, .dump = pg_dump, .load = pg_load,                             \
	}

/* libpq takes both spellings of the scheme; so do we. */
const struct sv_store_ops sv_store_postgres_ops = PG_OPS("postgres");
const struct sv_store_ops sv_store_postgresql_ops = PG_OPS("postgresql");
