/*
 * The SQLite backend: one database file in WAL mode, a small pool of
 * connections (readers run side by side; writers take BEGIN IMMEDIATE and
 * queue on SQLite's busy timeout), and every statement prepared once per
 * connection from the table below.
 */
#include "store/store.h"

#include <pthread.h>
#include <sqlite3.h>
#include <stdlib.h>
#include <string.h>

#define POOL_SIZE 8

enum stmt {
	ST_BEGIN,
	ST_COMMIT,
	ST_ROLLBACK,
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
	ST_STORIES_OF_LAPSED_DEAD,
	ST_JOBS_LAPSED_DEAD,
	ST_JOB_CLAIM,
	ST_STORY_GENERATING,
	ST_JOB_HEARTBEAT,
	ST_PAGE_PUT,
	ST_JOB_DONE,
	ST_STORY_READY,
	ST_STORY_TEXT,
	ST_JOB_RETRY,
	ST_JOB_DEAD,
	ST_STORY_FAILED,
	ST_STORY_HOLD,
	ST_REVIEW_LIST,
	ST_REVIEW_DECIDE,
	ST_MEDIA_PUT,
	ST_MEDIA_GET,
	ST_MEDIA_LIST,
	ST_COUNT
};

static const char *const stmt_sql[ST_COUNT] = {
    [ST_BEGIN] = "BEGIN IMMEDIATE",
    [ST_COMMIT] = "COMMIT",
    [ST_ROLLBACK] = "ROLLBACK",
    [ST_PING] = "SELECT 1",
    [ST_SCHEMA_VERSION] = "SELECT coalesce(max(version), 0) FROM schema_migrations",
    [ST_STORY_INSERT] = "INSERT INTO stories (id, status, params, created_at, updated_at) "
                        "VALUES (?1, 'queued', ?2, ?3, ?3)",
    [ST_JOB_INSERT] = "INSERT INTO jobs (kind, story_id, state, max_attempts, run_after, "
                      "created_at, updated_at) VALUES (?1, ?2, 'queued', ?3, ?4, ?4, ?4)",
    [ST_STORY_GET] = "SELECT id, status, seq, created_at, updated_at, params, title, story, "
                     "error, review FROM stories WHERE id = ?1",
    [ST_STORY_LIST] = "SELECT id, status, seq, created_at, updated_at, params, title, NULL, "
                      "error, NULL FROM stories WHERE seq < ?1 ORDER BY seq DESC LIMIT ?2",
    [ST_STORY_DELETE] = "DELETE FROM stories WHERE id = ?1",
    [ST_STORY_COUNTS] = "SELECT status, count(*) FROM stories GROUP BY status",
    [ST_JOBS_QUEUED] = "SELECT count(*) FROM jobs WHERE kind = ?1 AND state = 'queued'",
    [ST_PAGE_COUNT] = "SELECT count(*) FROM pages WHERE story_id = ?1",
    [ST_STORIES_OF_LAPSED_DEAD] =
        "UPDATE stories SET status = 'failed', error = 'the worker stopped during its "
        "last attempt', updated_at = ?1 WHERE id IN (SELECT story_id FROM jobs WHERE "
        "state = 'running' AND lease_until < ?1 AND attempts >= max_attempts) AND status "
        "NOT IN ('review', 'rejected')",
    [ST_JOBS_LAPSED_DEAD] = "UPDATE jobs SET state = 'dead', last_error = 'lease lapsed on "
                            "the last attempt', updated_at = ?1 WHERE state = 'running' AND "
                            "lease_until < ?1 AND attempts >= max_attempts",
    /* The oldest due queued job, else one whose lease lapsed with attempts
     * left: each found through its own partial index. */
    [ST_JOB_CLAIM] = "UPDATE jobs SET state = 'running', attempts = attempts + 1, "
                     "lease_owner = ?2, lease_until = ?3 + ?4, updated_at = ?3 WHERE id = "
                     "coalesce((SELECT id FROM jobs WHERE kind = ?1 AND state = 'queued' AND "
                     "run_after <= ?3 ORDER BY run_after, id LIMIT 1), (SELECT id FROM jobs "
                     "WHERE kind = ?1 AND state = 'running' AND lease_until < ?3 AND attempts "
                     "< max_attempts ORDER BY lease_until, id LIMIT 1)) "
                     "RETURNING id, kind, story_id, attempts, max_attempts",
    [ST_STORY_GENERATING] = "UPDATE stories SET status = 'generating', updated_at = ?2 "
                            "WHERE id = ?1 AND status IN ('queued', 'generating')",
    [ST_JOB_HEARTBEAT] = "UPDATE jobs SET lease_until = ?3 + ?4, updated_at = ?3 "
                         "WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
    [ST_PAGE_PUT] = "INSERT INTO pages (story_id, number, page) VALUES (?1, ?2, ?3) "
                    "ON CONFLICT (story_id, number) DO UPDATE SET page = excluded.page",
    [ST_JOB_DONE] = "UPDATE jobs SET state = 'done', lease_until = NULL, updated_at = ?3 "
                    "WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
    [ST_STORY_TEXT] = "UPDATE stories SET title = coalesce(?2, title), story = coalesce(?3, "
                      "story), updated_at = ?4 WHERE id = ?1",
    [ST_STORY_READY] = "UPDATE stories SET status = 'ready', title = coalesce(?2, title), "
                       "story = coalesce(?3, story), "
                       "error = NULL, updated_at = ?4 WHERE id = ?1",
    [ST_JOB_RETRY] = "UPDATE jobs SET state = 'queued', lease_owner = NULL, lease_until = "
                     "NULL, run_after = ?4, last_error = ?5, updated_at = ?3 WHERE id = ?1 "
                     "AND lease_owner = ?2 AND state = 'running'",
    [ST_JOB_DEAD] = "UPDATE jobs SET state = 'dead', lease_until = NULL, last_error = ?4, "
                    "updated_at = ?3 WHERE id = ?1 AND lease_owner = ?2 AND state = 'running'",
    [ST_STORY_FAILED] = "UPDATE stories SET status = 'failed', error = ?2, updated_at = ?3 "
                        "WHERE id = ?1 AND status NOT IN ('review', 'rejected')",
    [ST_STORY_HOLD] = "UPDATE stories SET status = 'review', title = coalesce(?2, title), "
                      "story = coalesce(?3, story), review = ?4, review_next = ?5, error = "
                      "NULL, updated_at = ?6 WHERE id = ?1",
    [ST_REVIEW_LIST] = "SELECT id, status, seq, created_at, updated_at, params, title, NULL, "
                       "error, review FROM stories WHERE status = 'review' ORDER BY seq "
                       "LIMIT ?1",
    /* The decision, and what an approval queues: the kind the worker named and
     * the attempts its own job had (the story's newest job is the held one). */
    [ST_REVIEW_DECIDE] = "UPDATE stories SET status = CASE WHEN NOT ?2 THEN 'rejected' WHEN "
                         "review_next IS NULL THEN 'ready' ELSE 'generating' END, error = "
                         "CASE WHEN ?2 THEN error ELSE coalesce(?3, 'rejected in review') "
                         "END, updated_at = ?4 WHERE id = ?1 AND status = 'review' RETURNING "
                         "CASE WHEN ?2 THEN review_next END, (SELECT max_attempts FROM jobs "
                         "WHERE story_id = ?1 ORDER BY id DESC LIMIT 1)",
    [ST_MEDIA_PUT] = "INSERT INTO media (story_id, name, blob, content_type, size) VALUES "
                     "(?1, ?2, ?3, ?4, ?5) ON CONFLICT (story_id, name) DO UPDATE SET blob = "
                     "excluded.blob, content_type = excluded.content_type, size = excluded.size",
    [ST_MEDIA_GET] = "SELECT name, blob, content_type, size FROM media WHERE story_id = ?1 AND "
                     "name = ?2",
    [ST_MEDIA_LIST] = "SELECT name, blob, content_type, size FROM media WHERE story_id = ?1 "
                      "ORDER BY name",
};

/* Each entry is one schema version; applied in order, each in its own transaction. */
static const char *const migrations[] = {
    "CREATE TABLE stories ("
    " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
    " id TEXT NOT NULL UNIQUE,"
    " status TEXT NOT NULL CHECK (status IN ('queued','generating','ready','failed')),"
    " params TEXT NOT NULL,"
    " title TEXT, story TEXT, error TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX stories_status ON stories (status);"
    "CREATE TABLE pages ("
    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
    " number INTEGER NOT NULL,"
    " page TEXT NOT NULL,"
    " PRIMARY KEY (story_id, number));"
    "CREATE TABLE jobs ("
    " id INTEGER PRIMARY KEY AUTOINCREMENT,"
    " kind TEXT NOT NULL,"
    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
    " state TEXT NOT NULL CHECK (state IN ('queued','running','done','dead')),"
    " attempts INTEGER NOT NULL DEFAULT 0,"
    " max_attempts INTEGER NOT NULL,"
    " run_after INTEGER NOT NULL,"
    " lease_owner TEXT, lease_until INTEGER, last_error TEXT,"
    " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL);"
    "CREATE INDEX jobs_runnable ON jobs (kind, state, run_after);"
    "CREATE INDEX jobs_story ON jobs (story_id);",
    "CREATE TABLE media ("
    " story_id TEXT NOT NULL REFERENCES stories (id) ON DELETE CASCADE,"
    " name TEXT NOT NULL,"
    " blob TEXT NOT NULL,"
    " content_type TEXT NOT NULL,"
    " size INTEGER NOT NULL,"
    " PRIMARY KEY (story_id, name));",
    /* What a claim looks for, in the order it wants it, whatever the number of jobs done. */
    ("CREATE INDEX jobs_queue ON jobs (kind, run_after, id) WHERE state = 'queued';"
     "CREATE INDEX jobs_leases ON jobs (kind, lease_until, id) WHERE state = 'running';"),
    /* The review queue: two statuses and two columns. SQLite cannot alter a
     * CHECK, so the table is built anew and its rows copied, seqs and the
     * AUTOINCREMENT high-water mark included; migrate() runs this with foreign
     * keys off, or dropping the old table would cascade to pages, jobs and
     * media. Creating the new table before dropping the old one leaves the
     * children's REFERENCES stories (id) alone (a rename of the old table
     * would rewrite them). */
    ("CREATE TABLE stories_new ("
     " seq INTEGER PRIMARY KEY AUTOINCREMENT,"
     " id TEXT NOT NULL UNIQUE,"
     " status TEXT NOT NULL CHECK (status IN "
     "('queued','generating','review','ready','failed','rejected')),"
     " params TEXT NOT NULL,"
     " title TEXT, story TEXT, error TEXT,"
     " created_at INTEGER NOT NULL, updated_at INTEGER NOT NULL,"
     " review TEXT, review_next TEXT);"
     "INSERT INTO stories_new (seq, id, status, params, title, story, error, created_at,"
     " updated_at) SELECT seq, id, status, params, title, story, error, created_at, updated_at"
     " FROM stories;"
     "DELETE FROM sqlite_sequence WHERE name = 'stories_new';"
     "UPDATE sqlite_sequence SET name = 'stories_new' WHERE name = 'stories';"
     "DROP TABLE stories;"
     "ALTER TABLE stories_new RENAME TO stories;"
     "CREATE INDEX stories_status ON stories (status);"),
};
_Static_assert(sizeof(migrations) / sizeof(migrations[0]) == SV_STORE_SCHEMA_VERSION,
               "one migration per schema version");

struct conn {
	sqlite3 *db;
	sqlite3_stmt *stmt[ST_COUNT];
};

struct pool {
	pthread_mutex_t lock;
	pthread_cond_t freed;
	struct conn conns[POOL_SIZE];
	int free_stack[POOL_SIZE];
	int nfree;
};

static int db_err(struct sv_err *err, sqlite3 *db, const char *what)
{
	return sv_err_set(err, "database", "", "%s: %s", what, db ? sqlite3_errmsg(db) : "?");
}

static void conn_close(struct conn *c)
{
	for (int i = 0; i < ST_COUNT; i++)
		sqlite3_finalize(c->stmt[i]);
	sqlite3_close(c->db);
	memset(c, 0, sizeof(*c));
}

static int conn_open(struct conn *c, const char *path, struct sv_err *err)
{
	int flags = SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE | SQLITE_OPEN_NOMUTEX;
	if (sqlite3_open_v2(path, &c->db, flags, NULL) != SQLITE_OK) {
		db_err(err, c->db, "cannot open database");
		conn_close(c);
		return -1;
	}
	sqlite3_busy_timeout(c->db, 10000);
	const char *setup = "PRAGMA journal_mode = WAL; PRAGMA synchronous = NORMAL;"
	                    "PRAGMA foreign_keys = ON;";
	if (sqlite3_exec(c->db, setup, NULL, NULL, NULL) != SQLITE_OK) {
		db_err(err, c->db, "cannot configure database");
		conn_close(c);
		return -1;
	}
	return 0;
}

static int conn_prepare(struct conn *c, struct sv_err *err)
{
	for (int i = 0; i < ST_COUNT; i++) {
		if (sqlite3_prepare_v3(c->db, stmt_sql[i], -1, SQLITE_PREPARE_PERSISTENT,
		                       &c->stmt[i], NULL) != SQLITE_OK)
			return db_err(err, c->db, "cannot prepare statement");
	}
	return 0;
}

/* Whether the foreign keys still hold (a migration that rebuilds a parent
 * table runs with them off; this is its check before commit). */
static bool foreign_keys_hold(sqlite3 *db)
{
	sqlite3_stmt *st;
	if (sqlite3_prepare_v2(db, "PRAGMA foreign_key_check", -1, &st, NULL) != SQLITE_OK)
		return false;
	bool ok = sqlite3_step(st) == SQLITE_DONE;
	sqlite3_finalize(st);
	return ok;
}

static int migrate_versions(sqlite3 *db, struct sv_err *err)
{
	if (sqlite3_exec(db,
	                 "CREATE TABLE IF NOT EXISTS schema_migrations (version INTEGER "
	                 "PRIMARY KEY, applied_at INTEGER NOT NULL)",
	                 NULL, NULL, NULL) != SQLITE_OK)
		return db_err(err, db, "cannot create schema_migrations");
	for (size_t v = 1; v <= sizeof(migrations) / sizeof(migrations[0]); v++) {
		if (sqlite3_exec(db, "BEGIN IMMEDIATE", NULL, NULL, NULL) != SQLITE_OK)
			return db_err(err, db, "cannot begin migration");
		sqlite3_stmt *st;
		int have = 0;
		if (sqlite3_prepare_v2(db, "SELECT 1 FROM schema_migrations WHERE version = ?1", -1,
		                       &st, NULL) == SQLITE_OK) {
			sqlite3_bind_int64(st, 1, (sqlite3_int64)v);
			have = sqlite3_step(st) == SQLITE_ROW;
			sqlite3_finalize(st);
		}
		char record[128];
		snprintf(record, sizeof(record),
		         "INSERT INTO schema_migrations VALUES (%zu, unixepoch() * 1000)", v);
		if (!have && (sqlite3_exec(db, migrations[v - 1], NULL, NULL, NULL) != SQLITE_OK ||
		              sqlite3_exec(db, record, NULL, NULL, NULL) != SQLITE_OK)) {
			db_err(err, db, "migration failed");
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (!have && !foreign_keys_hold(db)) {
			sv_err_set(err, "database", "", "migration %zu broke a foreign key", v);
			sqlite3_exec(db, "ROLLBACK", NULL, NULL, NULL);
			return -1;
		}
		if (sqlite3_exec(db, "COMMIT", NULL, NULL, NULL) != SQLITE_OK)
			return db_err(err, db, "cannot commit migration");
	}
	return 0;
}

/* Foreign keys are off while migrating, so that a migration may rebuild a
 * table that others reference (the pragma is a no-op inside a transaction,
 * hence here); each migration checks them before it commits. */
static int migrate(sqlite3 *db, struct sv_err *err)
{
	if (sqlite3_exec(db, "PRAGMA foreign_keys = OFF", NULL, NULL, NULL) != SQLITE_OK)
		return db_err(err, db, "cannot configure database");
	int rc = migrate_versions(db, err);
	if (sqlite3_exec(db, "PRAGMA foreign_keys = ON", NULL, NULL, NULL) != SQLITE_OK && rc == 0)
		rc = db_err(err, db, "cannot configure database");
	return rc;
}

static void pool_close(void *impl)
{
	struct pool *p = impl;
	if (!p)
		return;
	for (int i = 0; i < POOL_SIZE; i++)
		conn_close(&p->conns[i]);
	pthread_cond_destroy(&p->freed);
	pthread_mutex_destroy(&p->lock);
	free(p);
}

static void *pool_open(const char *path, struct sv_err *err)
{
	if (!*path) {
		sv_err_set(err, "invalid_value", "database", "sqlite: needs a file path");
		return NULL;
	}
	struct pool *p = calloc(1, sizeof(*p));
	if (!p) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->freed, NULL);
	for (int i = 0; i < POOL_SIZE; i++) {
		if (conn_open(&p->conns[i], path, err) < 0 ||
		    (i == 0 && migrate(p->conns[0].db, err) < 0) ||
		    conn_prepare(&p->conns[i], err) < 0) {
			pool_close(p);
			return NULL;
		}
		p->free_stack[p->nfree++] = i;
	}
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
	for (int i = 0; i < ST_COUNT; i++) {
		sqlite3_reset(c->stmt[i]);
		sqlite3_clear_bindings(c->stmt[i]);
	}
	pthread_mutex_lock(&p->lock);
	p->free_stack[p->nfree++] = (int)(c - p->conns);
	pthread_cond_signal(&p->freed);
	pthread_mutex_unlock(&p->lock);
}

/* Binds a list of arguments described by a format: 's' text (NULL binds NULL),
 * 'i' int64. Keeps the statement wrappers below to one line each. */
static sqlite3_stmt *bind(struct conn *c, enum stmt which, const char *fmt, ...)
{
	sqlite3_stmt *st = c->stmt[which];
	sqlite3_reset(st);
	va_list ap;
	va_start(ap, fmt);
	for (int i = 0; fmt[i]; i++) {
		if (fmt[i] == 's') {
			const char *s = va_arg(ap, const char *);
			if (s)
				sqlite3_bind_text(st, i + 1, s, -1, SQLITE_STATIC);
			else
				sqlite3_bind_null(st, i + 1);
		} else {
			sqlite3_bind_int64(st, i + 1, va_arg(ap, int64_t));
		}
	}
	va_end(ap);
	return st;
}

/* Runs a statement that returns no rows; returns the number of rows changed or -1. */
static int exec(struct conn *c, sqlite3_stmt *st, struct sv_err *err)
{
	int rc = sqlite3_step(st);
	sqlite3_reset(st);
	if (rc != SQLITE_DONE && rc != SQLITE_ROW)
		return db_err(err, c->db, "statement failed");
	return sqlite3_changes(c->db);
}

static int begin(struct conn *c, struct sv_err *err)
{
	return exec(c, c->stmt[ST_BEGIN], err) < 0 ? -1 : 0;
}

/* Ends a transaction: commits when rc >= 0, rolls back otherwise; passes rc on. */
static int finish(struct conn *c, int rc, struct sv_err *err)
{
	if (rc >= 0 && exec(c, c->stmt[ST_COMMIT], err) >= 0)
		return rc;
	exec(c, c->stmt[ST_ROLLBACK], NULL);
	return -1;
}

static char *col_dup(sqlite3_stmt *st, int i)
{
	const unsigned char *t = sqlite3_column_text(st, i);
	return t ? strdup((const char *)t) : NULL;
}

static void read_story(sqlite3_stmt *st, struct sv_store_story *out)
{
	snprintf(out->id, sizeof(out->id), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(out->status, sizeof(out->status), "%s", (const char *)sqlite3_column_text(st, 1));
	out->seq = sqlite3_column_int64(st, 2);
	out->created_at = sqlite3_column_int64(st, 3);
	out->updated_at = sqlite3_column_int64(st, 4);
	out->params = col_dup(st, 5);
	out->title = col_dup(st, 6);
	out->story = col_dup(st, 7);
	out->error = col_dup(st, 8);
	out->review = col_dup(st, 9);
}

static int sq_ping(void *impl, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = exec(c, c->stmt[ST_PING], err);
	release(p, c);
	return rc < 0 ? -1 : 0;
}

static int sq_schema_version(void *impl, int *version, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = c->stmt[ST_SCHEMA_VERSION];
	int rc = sqlite3_step(st);
	*version = rc == SQLITE_ROW ? sqlite3_column_int(st, 0) : 0;
	rc = rc == SQLITE_ROW ? 0 : db_err(err, c->db, "cannot read the schema version");
	release(p, c);
	return rc;
}

/* Inside a transaction: queues a job of kind for a story, runnable now. */
static int queue_job(struct conn *c, const char *kind, const char *story_id, int max_attempts,
                     int64_t now, struct sv_err *err)
{
	sqlite3_stmt *st =
	    bind(c, ST_JOB_INSERT, "ssii", kind, story_id, (int64_t)max_attempts, now);
	return exec(c, st, err) < 0 ? -1 : 0;
}

static int sq_story_create(void *impl, const char *id, const char *params, const char *job_kind,
                           int max_attempts, int64_t now, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = begin(c, err);
	if (rc == 0)
		rc = exec(c, bind(c, ST_STORY_INSERT, "ssi", id, params, now), err);
	if (rc >= 0)
		rc = queue_job(c, job_kind, id, max_attempts, now, err);
	rc = finish(c, rc, err);
	release(p, c);
	return rc < 0 ? -1 : 0;
}

static int sq_story_get(void *impl, const char *id, struct sv_store_story *out, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = bind(c, ST_STORY_GET, "s", id);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW) {
		read_story(st, out);
		rc = 0;
	} else if (rc == SQLITE_DONE) {
		rc = 1;
	} else {
		rc = db_err(err, c->db, "cannot read story");
	}
	release(p, c);
	return rc;
}

static int sq_story_list(void *impl, int64_t before_seq, int limit, struct sv_store_story *out,
                         int *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st =
	    bind(c, ST_STORY_LIST, "ii", before_seq > 0 ? before_seq : INT64_MAX, (int64_t)limit);
	int n = 0, rc = SQLITE_DONE;
	while (n < limit && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_story(st, &out[n++]);
	*count = n;
	rc = (n == limit || rc == SQLITE_DONE) ? 0 : db_err(err, c->db, "cannot list stories");
	release(p, c);
	return rc;
}

static int sq_story_delete(void *impl, const char *id, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = exec(c, bind(c, ST_STORY_DELETE, "s", id), err);
	release(p, c);
	return rc < 0 ? -1 : rc == 0 ? 1 : 0;
}

static int sq_story_counts(void *impl, int64_t counts[SV_STORE_NSTATUSES], struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = c->stmt[ST_STORY_COUNTS];
	memset(counts, 0, SV_STORE_NSTATUSES * sizeof(counts[0]));
	int rc;
	while ((rc = sqlite3_step(st)) == SQLITE_ROW) {
		const char *status = (const char *)sqlite3_column_text(st, 0);
		for (int i = 0; i < SV_STORE_NSTATUSES; i++)
			if (status && strcmp(status, sv_store_statuses[i]) == 0)
				counts[i] = sqlite3_column_int64(st, 1);
	}
	rc = rc == SQLITE_DONE ? 0 : db_err(err, c->db, "cannot count stories");
	release(p, c);
	return rc;
}

static int sq_jobs_queued(void *impl, const char *kind, int64_t *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = bind(c, ST_JOBS_QUEUED, "s", kind);
	int rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW ? 0 : db_err(err, c->db, "cannot count jobs");
	release(p, c);
	return rc;
}

static int sq_page_count(void *impl, const char *story_id, int64_t *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = bind(c, ST_PAGE_COUNT, "s", story_id);
	int rc = sqlite3_step(st);
	*count = rc == SQLITE_ROW ? sqlite3_column_int64(st, 0) : 0;
	rc = rc == SQLITE_ROW ? 0 : db_err(err, c->db, "cannot count pages");
	release(p, c);
	return rc;
}

static int sq_job_claim(void *impl, const char *kind, const char *worker, int64_t now,
                        int64_t lease_ms, struct sv_store_job *out, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = begin(c, err);
	/* Jobs whose worker vanished during the last attempt go to the dead letters first. */
	if (rc == 0)
		rc = exec(c, bind(c, ST_STORIES_OF_LAPSED_DEAD, "i", now), err);
	if (rc >= 0)
		rc = exec(c, bind(c, ST_JOBS_LAPSED_DEAD, "i", now), err);
	if (rc >= 0) {
		sqlite3_stmt *st = bind(c, ST_JOB_CLAIM, "ssii", kind, worker, now, lease_ms);
		int step = sqlite3_step(st);
		if (step == SQLITE_ROW) {
			out->id = sqlite3_column_int64(st, 0);
			snprintf(out->kind, sizeof(out->kind), "%s", sqlite3_column_text(st, 1));
			snprintf(out->story_id, sizeof(out->story_id), "%s",
			         sqlite3_column_text(st, 2));
			out->attempts = sqlite3_column_int(st, 3);
			out->max_attempts = sqlite3_column_int(st, 4);
			rc = 0;
		} else if (step == SQLITE_DONE) {
			rc = 1;
		} else {
			rc = db_err(err, c->db, "cannot claim job");
		}
		sqlite3_reset(st);
	}
	if (rc == 0)
		rc = exec(c, bind(c, ST_STORY_GENERATING, "si", out->story_id, now), err) < 0 ? -1
		                                                                              : 0;
	rc = finish(c, rc, err);
	release(p, c);
	return rc;
}

static int sq_job_heartbeat(void *impl, const struct sv_store_job *job, const char *worker,
                            int64_t now, int64_t lease_ms, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = exec(c, bind(c, ST_JOB_HEARTBEAT, "isii", job->id, worker, now, lease_ms), err);
	release(p, c);
	return rc < 0 ? -1 : rc == 0 ? 1 : 0;
}

static int sq_page_put(void *impl, const char *story_id, int number, const char *page,
                       struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = exec(c, bind(c, ST_PAGE_PUT, "sis", story_id, (int64_t)number, page), err);
	release(p, c);
	return rc < 0 ? -1 : 0;
}

/* Inside a transaction: marks the job done if worker still holds its lease.
 * 0 done, 1 when the lease was lost (nothing changes), -1 on error. */
static int job_done(struct conn *c, const struct sv_store_job *job, const char *worker, int64_t now,
                    struct sv_err *err)
{
	int n = exec(c, bind(c, ST_JOB_DONE, "isi", job->id, worker, now), err);
	return n < 0 ? -1 : n == 0 ? 1 : 0;
}

static int sq_job_succeed(void *impl, const struct sv_store_job *job, const char *worker,
                          const char *title, const char *story, int64_t now, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = begin(c, err);
	if (rc == 0)
		rc = job_done(c, job, worker, now, err);
	if (rc == 0 &&
	    exec(c, bind(c, ST_STORY_READY, "sssi", job->story_id, title, story, now), err) < 0)
		rc = -1;
	rc = finish(c, rc, err);
	release(p, c);
	return rc;
}

static int sq_job_hand_on(void *impl, const struct sv_store_job *job, const char *worker,
                          const char *title, const char *story, const char *next_kind, int64_t now,
                          struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = begin(c, err);
	if (rc == 0)
		rc = job_done(c, job, worker, now, err);
	if (rc == 0) { /* a story deleted meanwhile gets no next job */
		int n =
		    exec(c, bind(c, ST_STORY_TEXT, "sssi", job->story_id, title, story, now), err);
		rc = n < 0 ? -1 : n == 0 ? 1 : 0;
	}
	if (rc == 0)
		rc = queue_job(c, next_kind, job->story_id, job->max_attempts, now, err);
	rc = finish(c, rc, err);
	release(p, c);
	return rc;
}

static int sq_job_fail(void *impl, const struct sv_store_job *job, const char *worker,
                       const char *message, int64_t now, int64_t retry_at, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	bool last = job->attempts >= job->max_attempts;
	int rc = begin(c, err);
	if (rc == 0 && !last)
		rc =
		    exec(c, bind(c, ST_JOB_RETRY, "isiis", job->id, worker, now, retry_at, message),
		         err);
	else if (rc == 0)
		rc = exec(c, bind(c, ST_JOB_DEAD, "isis", job->id, worker, now, message), err);
	if (rc == 1 && last)
		rc = exec(c, bind(c, ST_STORY_FAILED, "ssi", job->story_id, message, now), err) < 0
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

static int sq_job_hold(void *impl, const struct sv_store_job *job, const char *worker,
                       const char *title, const char *story, const char *review,
                       const char *next_kind, int64_t now, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = begin(c, err);
	if (rc == 0)
		rc = job_done(c, job, worker, now, err);
	if (rc == 0 && exec(c,
	                    bind(c, ST_STORY_HOLD, "sssssi", job->story_id, title, story, review,
	                         next_kind, now),
	                    err) < 0)
		rc = -1;
	rc = finish(c, rc, err);
	release(p, c);
	return rc;
}

static int sq_review_list(void *impl, struct sv_store_story *out, int max, int *count,
                          struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = bind(c, ST_REVIEW_LIST, "i", (int64_t)max);
	int n = 0, rc = SQLITE_DONE;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_story(st, &out[n++]);
	*count = n;
	rc = (n == max || rc == SQLITE_DONE) ? 0 : db_err(err, c->db, "cannot list the reviews");
	release(p, c);
	return rc;
}

/* Inside a transaction: decides the story; *next is the kind an approval
 * must queue ("" for none) and *max_attempts its attempts. 1 when the story
 * is not waiting for review. */
static int decide(struct conn *c, const char *id, bool approve, const char *note, int64_t now,
                  char next[16], int *max_attempts, struct sv_err *err)
{
	sqlite3_stmt *st = bind(c, ST_REVIEW_DECIDE, "sisi", id, (int64_t)approve, note, now);
	int step = sqlite3_step(st), rc = 1;
	if (step == SQLITE_ROW) {
		const unsigned char *kind = sqlite3_column_text(st, 0);
		snprintf(next, 16, "%s", kind ? (const char *)kind : "");
		*max_attempts = sqlite3_column_int(st, 1);
		rc = 0;
	} else if (step != SQLITE_DONE) {
		rc = db_err(err, c->db, "cannot decide the review");
	}
	sqlite3_reset(st);
	return rc;
}

static int sq_review_decide(void *impl, const char *id, bool approve, const char *note, int64_t now,
                            char queued[16], struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	char next[16] = "";
	int max_attempts = 0;
	int rc = begin(c, err);
	if (rc == 0)
		rc = decide(c, id, approve, note, now, next, &max_attempts, err);
	if (rc == 0 && next[0])
		rc = queue_job(c, next, id, max_attempts, now, err);
	rc = finish(c, rc, err);
	release(p, c);
	if (rc == 0)
		memcpy(queued, next, sizeof(next));
	return rc;
}

static void read_media(sqlite3_stmt *st, struct sv_store_media *out)
{
	snprintf(out->name, sizeof(out->name), "%s", (const char *)sqlite3_column_text(st, 0));
	snprintf(out->blob, sizeof(out->blob), "%s", (const char *)sqlite3_column_text(st, 1));
	snprintf(out->content_type, sizeof(out->content_type), "%s",
	         (const char *)sqlite3_column_text(st, 2));
	out->size = sqlite3_column_int64(st, 3);
}

static int sq_media_put(void *impl, const char *story_id, const struct sv_store_media *m,
                        struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	int rc = exec(
	    c, bind(c, ST_MEDIA_PUT, "ssssi", story_id, m->name, m->blob, m->content_type, m->size),
	    err);
	release(p, c);
	return rc < 0 ? -1 : 0;
}

static int sq_media_get(void *impl, const char *story_id, const char *name,
                        struct sv_store_media *out, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = bind(c, ST_MEDIA_GET, "ss", story_id, name);
	int rc = sqlite3_step(st);
	if (rc == SQLITE_ROW)
		read_media(st, out);
	rc = rc == SQLITE_ROW ? 0 : rc == SQLITE_DONE ? 1 : db_err(err, c->db, "cannot read media");
	release(p, c);
	return rc;
}

static int sq_media_list(void *impl, const char *story_id, struct sv_store_media *out, int max,
                         int *count, struct sv_err *err)
{
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = bind(c, ST_MEDIA_LIST, "s", story_id);
	int n = 0, rc = SQLITE_DONE;
	while (n < max && (rc = sqlite3_step(st)) == SQLITE_ROW)
		read_media(st, &out[n++]);
	*count = n;
	rc = (n == max || rc == SQLITE_DONE) ? 0 : db_err(err, c->db, "cannot list media");
	release(p, c);
	return rc;
}

/* ---- backup and restore ---- */

#define SNAPSHOT_FILE "sqlite.db"

/* The tables a snapshot carries, parents first (schema_migrations stays: the
 * target has migrated itself to the same version). */
static const char *const snapshot_tables[] = {"stories", "pages", "jobs", "media"};

static int64_t count_stories(sqlite3 *db, const char *schema)
{
	char sql[64];
	snprintf(sql, sizeof(sql), "SELECT count(*) FROM %s.stories", schema);
	sqlite3_stmt *st;
	int64_t n = -1;
	if (sqlite3_prepare_v2(db, sql, -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		n = sqlite3_column_int64(st, 0);
	sqlite3_finalize(st);
	return n;
}

/* Copies the database into a new file with the online backup API: one
 * step(-1) reads every page in a single read transaction, so the copy is
 * consistent while writers go on (WAL lets them). The copy is switched to a
 * rollback journal so that the one file is the whole snapshot. */
static int sq_dump(void *impl, const char *dir, struct sv_err *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" SNAPSHOT_FILE, dir);
	sqlite3 *dst = NULL;
	if (sqlite3_open_v2(path, &dst, SQLITE_OPEN_READWRITE | SQLITE_OPEN_CREATE, NULL) !=
	    SQLITE_OK) {
		db_err(err, dst, "cannot create the snapshot");
		sqlite3_close(dst);
		return -1;
	}
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_backup *bk = sqlite3_backup_init(dst, "main", c->db, "main");
	int step = bk ? sqlite3_backup_step(bk, -1) : SQLITE_ERROR;
	sqlite3_backup_finish(bk);
	release(p, c);
	int64_t n = -1;
	if (step != SQLITE_DONE)
		db_err(err, dst, "cannot snapshot the database");
	else if (sqlite3_exec(dst, "PRAGMA journal_mode = DELETE", NULL, NULL, NULL) != SQLITE_OK ||
	         (n = count_stories(dst, "main")) < 0)
		db_err(err, dst, "cannot finish the snapshot");
	if (sqlite3_close(dst) != SQLITE_OK && n >= 0)
		n = sv_err_set(err, "database", "", "cannot close the snapshot");
	return n < 0 ? -1 : n > INT32_MAX ? INT32_MAX : (int)n;
}

/* The snapshot's tables must be tables (not views that would run its SQL). */
static int snapshot_check(sqlite3 *db, struct sv_err *err)
{
	sqlite3_stmt *st;
	int have = -1;
	if (sqlite3_prepare_v2(db,
	                       "SELECT count(*) FROM snap.sqlite_schema WHERE type = 'table' AND "
	                       "name IN ('stories', 'pages', 'jobs', 'media')",
	                       -1, &st, NULL) == SQLITE_OK &&
	    sqlite3_step(st) == SQLITE_ROW)
		have = sqlite3_column_int(st, 0);
	sqlite3_finalize(st);
	if (have < 0)
		return db_err(err, db, "cannot read the snapshot");
	if (have != 4)
		return sv_err_set(err, "invalid_backup", "", "the database snapshot lacks tables");
	return 0;
}

/* Copies every row of the attached snapshot into the empty database. */
static int load_rows(sqlite3 *db, struct sv_err *err)
{
	int64_t n = count_stories(db, "main");
	if (n < 0)
		return db_err(err, db, "cannot count stories");
	if (n > 0)
		return sv_err_set(err, "conflict", "database",
		                  "restore needs an empty database, and this one holds %lld "
		                  "stories",
		                  (long long)n);
	for (size_t i = 0; i < sizeof(snapshot_tables) / sizeof(snapshot_tables[0]); i++) {
		char sql[128];
		snprintf(sql, sizeof(sql), "INSERT INTO main.%s SELECT * FROM snap.%s",
		         snapshot_tables[i], snapshot_tables[i]);
		if (sqlite3_exec(db, sql, NULL, NULL, NULL) != SQLITE_OK)
			return db_err(err, db, "cannot restore the rows");
	}
	n = count_stories(db, "main");
	return n < 0 ? db_err(err, db, "cannot count stories") : n > INT32_MAX ? INT32_MAX : (int)n;
}

/* Attaches the snapshot and copies its rows in one write transaction that
 * also checks the database is empty, so nothing can slip in between; unlike
 * the backup API in this direction, it leaves the file, its WAL and the
 * other connections of the pool alone. The ids and sequence numbers come
 * along, and AUTOINCREMENT moves past them. */
static int sq_load(void *impl, const char *dir, struct sv_err *err)
{
	char path[4200];
	snprintf(path, sizeof(path), "%s/" SNAPSHOT_FILE, dir);
	struct pool *p = impl;
	struct conn *c = acquire(p);
	sqlite3_stmt *st = NULL;
	int rc = sqlite3_prepare_v2(c->db, "ATTACH DATABASE ?1 AS snap", -1, &st, NULL);
	if (rc == SQLITE_OK) {
		sqlite3_bind_text(st, 1, path, -1, SQLITE_STATIC);
		rc = sqlite3_step(st);
	}
	sqlite3_finalize(st);
	if (rc != SQLITE_DONE) {
		rc = db_err(err, c->db, "cannot open the snapshot");
	} else {
		rc = snapshot_check(c->db, err);
		if (rc == 0)
			rc = begin(c, err);
		if (rc == 0)
			rc = finish(c, load_rows(c->db, err), err);
		sqlite3_exec(c->db, "DETACH DATABASE snap", NULL, NULL, NULL);
	}
	release(p, c);
	return rc;
}

const struct sv_store_ops sv_store_sqlite_ops = {
    .scheme = "sqlite",
    .open = pool_open,
    .close = pool_close,
    .ping = sq_ping,
    .schema_version = sq_schema_version,
    .story_create = sq_story_create,
    .story_get = sq_story_get,
    .story_list = sq_story_list,
    .story_delete = sq_story_delete,
    .story_counts = sq_story_counts,
    .jobs_queued = sq_jobs_queued,
    .page_count = sq_page_count,
    .job_claim = sq_job_claim,
    .job_heartbeat = sq_job_heartbeat,
    .page_put = sq_page_put,
    .job_succeed = sq_job_succeed,
    .job_hand_on = sq_job_hand_on,
    .job_fail = sq_job_fail,
    .job_hold = sq_job_hold,
    .review_list = sq_review_list,
    .review_decide = sq_review_decide,
    .media_put = sq_media_put,
    .media_get = sq_media_get,
    .media_list = sq_media_list,
    .dump = sq_dump,
    .load = sq_load,
};
