/*
 * storyverse-queue-bench: how many no-op jobs per second move through the job
 * queue (sv_store_job_claim + sv_store_job_succeed) with W worker threads.
 *
 * Each run enqueues N stories with one "noop" job each (timed on its own and
 * printed as enqueue/s), then W threads claim and finish jobs until the queue
 * is empty; only that phase counts as jobs/s. The bench is also a correctness
 * check: every story must be finished exactly once, by one claim, and end up
 * ready, otherwise it exits 1.
 *
 *   storyverse-queue-bench (--database URL | --sqlite DIR | --postgres [--pg-test-settings])
 *                          --jobs N --workers W[,W...]
 *
 * --postgres starts a throwaway server (tests/unit/pg_support.c) and, unless
 * --pg-test-settings, restarts it with PostgreSQL's default durability
 * (fsync, synchronous_commit, full_page_writes on) so the numbers are those
 * of a real deployment rather than of the tests' fsync=off server.
 * Prints one "settings ..." line, then one "run ..." line of key=value pairs
 * per worker count.
 */
#include "pg_support.h"
#include "store/store.h"

#include <errno.h>
#include <libpq-fe.h>
#include <pthread.h>
#include <sqlite3.h>
#include <stdarg.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define KIND         "noop"
#define LEASE_MS     60000
#define MAX_RUNS     8
#define MAX_WORKERS  64
#define PREFIX_BYTES 8 /* 16 hex characters of run id, then 16 of story index */

struct opts {
	const char *database;   /* --database URL: every run shares it */
	const char *sqlite_dir; /* --sqlite DIR: a fresh file per run */
	bool postgres;          /* --postgres: our own server, a fresh database per run */
	bool pg_test_settings;  /* keep pg_support's fsync=off server */
	long jobs;
	int workers[MAX_RUNS];
	int nruns;
};

/* One run: the store, the expected stories and how often each was finished. */
struct run {
	struct sv_store *store;
	char prefix[2 * PREFIX_BYTES + 1]; /* random, so runs sharing a database never mix */
	long jobs;
	atomic_long next; /* next story index to enqueue */
	atomic_int *done; /* successful job_succeed calls per story index */
	atomic_bool failed;
	pthread_mutex_t lock; /* guards error */
	char error[512];
};

static void usage(const char *msg)
{
	fprintf(stderr,
	        "storyverse-queue-bench: %s (usage: --database URL | --sqlite DIR | --postgres "
	        "[--pg-test-settings], --jobs N, --workers W[,W...])\n",
	        msg);
	exit(2);
}

/* Records the first failure; every thread stops at its next loop. */
static void fail(struct run *r, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static void fail(struct run *r, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	pthread_mutex_lock(&r->lock);
	if (!atomic_load(&r->failed))
		vsnprintf(r->error, sizeof(r->error), fmt, ap);
	atomic_store(&r->failed, true);
	pthread_mutex_unlock(&r->lock);
	va_end(ap);
}

static void story_id(const struct run *r, long i, char id[SV_STORE_ID_LEN + 1])
{
	snprintf(id, SV_STORE_ID_LEN + 1, "%s%016lx", r->prefix, (unsigned long)i);
}

/* The story index an id of this run encodes, or -1 for a story not of this run. */
static long story_index(const struct run *r, const char *id)
{
	if (strncmp(id, r->prefix, 2 * PREFIX_BYTES) != 0)
		return -1;
	char *end;
	errno = 0;
	unsigned long i = strtoul(id + 2 * PREFIX_BYTES, &end, 16);
	return errno || *end || i >= (unsigned long)r->jobs ? -1 : (long)i;
}

static void *enqueue_thread(void *arg)
{
	struct run *r = arg;
	for (long i; !atomic_load(&r->failed) && (i = atomic_fetch_add(&r->next, 1)) < r->jobs;) {
		char id[SV_STORE_ID_LEN + 1];
		struct sv_err err = {0};
		story_id(r, i, id);
		if (sv_store_story_create(r->store, id, "{}", KIND, 3, sv_time_unix_ms(), &err) < 0)
			fail(r, "story_create %s: %s", id, err.message);
	}
	return NULL;
}

/* Checks a claimed job and counts its completion against its story. */
static void finish_job(struct run *r, const struct sv_store_job *job, const char *worker)
{
	struct sv_err err = {0};
	long i = story_index(r, job->story_id);
	if (i < 0 || strcmp(job->kind, KIND) != 0 || job->attempts != 1) {
		fail(r, "claimed a job that is not a fresh one of this run (story %s, %s)",
		     job->story_id, job->kind);
		return;
	}
	int rc = sv_store_job_succeed(r->store, job, worker, "noop", "{}", sv_time_unix_ms(), &err);
	if (rc != 0)
		fail(r, "job_succeed %s: %s", job->story_id, rc < 0 ? err.message : "lease lost");
	else
		atomic_fetch_add(&r->done[i], 1);
}

static void *work_thread(void *arg)
{
	struct run *r = arg;
	char worker[32];
	snprintf(worker, sizeof(worker), "bench-%lx", (unsigned long)pthread_self());
	while (!atomic_load(&r->failed)) {
		struct sv_store_job job;
		struct sv_err err = {0};
		int rc = sv_store_job_claim(r->store, KIND, worker, sv_time_unix_ms(), LEASE_MS,
		                            &job, &err);
		/* Every job was enqueued before the workers started, and a job another
		 * worker holds locked is finished by that worker: none runnable means done. */
		if (rc == 1)
			break;
		if (rc < 0)
			fail(r, "job_claim: %s", err.message);
		else
			finish_job(r, &job, worker);
	}
	return NULL;
}

/* Runs fn on n threads and returns the seconds they took together. */
static double timed_threads(struct run *r, int n, void *(*fn)(void *))
{
	pthread_t t[MAX_WORKERS];
	int started = 0;
	int64_t t0 = sv_time_mono_ns();
	for (; started < n; started++)
		if (pthread_create(&t[started], NULL, fn, r) != 0) {
			fail(r, "cannot start a thread");
			break;
		}
	for (int i = 0; i < started; i++)
		pthread_join(t[i], NULL);
	return (double)(sv_time_mono_ns() - t0) / 1e9;
}

/* Every story finished exactly once, and the store agrees that nothing is left. */
static void verify(struct run *r)
{
	for (long i = 0; i < r->jobs && !atomic_load(&r->failed); i++) {
		int n = atomic_load(&r->done[i]);
		if (n != 1) {
			char id[SV_STORE_ID_LEN + 1];
			story_id(r, i, id);
			fail(r, "story %s was finished %d times, not once", id, n);
		}
	}
	int64_t queued = -1;
	struct sv_err err = {0};
	if (!atomic_load(&r->failed) &&
	    (sv_store_jobs_queued(r->store, KIND, &queued, &err) < 0 || queued != 0))
		fail(r, "%lld jobs still queued after the run %s", (long long)queued, err.message);
}

/* One run against one (fresh) database; prints its line. 0, or -1 on failure. */
static int bench_run(const char *url, const char *backend, long jobs, int workers)
{
	struct run r = {.jobs = jobs};
	struct sv_err err = {0};
	pthread_mutex_init(&r.lock, NULL);
	r.done = calloc((size_t)jobs, sizeof(*r.done));
	r.store = r.done ? sv_store_open(url, &err) : NULL;
	if (!r.store || sv_random_hex(r.prefix, PREFIX_BYTES) < 0) {
		fprintf(stderr, "storyverse-queue-bench: cannot open %s: %s\n", url, err.message);
		free(r.done);
		sv_store_close(r.store);
		return -1;
	}
	double enqueue_s = timed_threads(&r, workers, enqueue_thread);
	double work_s = atomic_load(&r.failed) ? 0 : timed_threads(&r, workers, work_thread);
	verify(&r);
	int rc = atomic_load(&r.failed) ? -1 : 0;
	if (rc < 0)
		fprintf(stderr, "storyverse-queue-bench: %s, %d workers: %s\n", backend, workers,
		        r.error);
	else
		printf("run backend=%s workers=%d jobs=%ld enqueue_per_s=%.0f jobs_per_s=%.0f "
		       "seconds=%.3f\n",
		       backend, workers, jobs, (double)jobs / enqueue_s, (double)jobs / work_s,
		       work_s);
	fflush(stdout);
	sv_store_close(r.store);
	free(r.done);
	pthread_mutex_destroy(&r.lock);
	return rc;
}

static int parse_workers(struct opts *o, const char *list)
{
	char *copy = strdup(list), *save = NULL;
	o->nruns = 0;
	for (char *t = strtok_r(copy, ",", &save); t; t = strtok_r(NULL, ",", &save)) {
		char *end;
		long w = strtol(t, &end, 10);
		if (*end || w < 1 || w > MAX_WORKERS || o->nruns == MAX_RUNS) {
			free(copy);
			return -1;
		}
		o->workers[o->nruns++] = (int)w;
	}
	free(copy);
	return o->nruns > 0 ? 0 : -1;
}

static void parse_args(struct opts *o, int argc, char **argv)
{
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : NULL;
		if (strcmp(a, "--postgres") == 0) {
			o->postgres = true;
		} else if (strcmp(a, "--pg-test-settings") == 0) {
			o->pg_test_settings = true;
		} else if (!v) {
			usage("unknown option or missing value");
		} else if (strcmp(a, "--database") == 0) {
			o->database = argv[++i];
		} else if (strcmp(a, "--sqlite") == 0) {
			o->sqlite_dir = argv[++i];
		} else if (strcmp(a, "--jobs") == 0) {
			o->jobs = strtol(argv[++i], NULL, 10);
		} else if (strcmp(a, "--workers") == 0) {
			if (parse_workers(o, argv[++i]) < 0)
				usage("--workers takes 1 to 8 counts, each 1 to 64");
		} else {
			usage("unknown option");
		}
	}
	if (!!o->database + !!o->sqlite_dir + o->postgres != 1)
		usage("give exactly one of --database, --sqlite, --postgres");
	if (o->jobs < 1 || o->nruns == 0)
		usage("--jobs N (N >= 1) and --workers W are required");
}

/* Prints the durability settings a PostgreSQL server really runs with. */
static void print_pg_settings(const char *url)
{
	PGconn *c = PQconnectdb(url);
	PGresult *r = PQexec(c, "SELECT split_part(current_setting('server_version'), ' ', 1), "
	                        "current_setting('fsync'), current_setting('synchronous_commit'), "
	                        "current_setting('full_page_writes')");
	if (PQresultStatus(r) == PGRES_TUPLES_OK && PQntuples(r) == 1)
		printf("settings backend=postgres version=%s fsync=%s synchronous_commit=%s "
		       "full_page_writes=%s\n",
		       PQgetvalue(r, 0, 0), PQgetvalue(r, 0, 1), PQgetvalue(r, 0, 2),
		       PQgetvalue(r, 0, 3));
	PQclear(r);
	PQfinish(c);
}

/* pg_support always starts its server with fsync, synchronous_commit and
 * full_page_writes off; a benchmark of a durable queue wants the defaults,
 * so restart the same cluster with no overrides. */
static int pg_make_durable(struct pg_server *pg)
{
	pg_support_halt(pg);
	char cmd[1024];
	snprintf(cmd, sizeof(cmd),
	         "cd %s && %s %s/pg_ctl start -w -t 30 -D %s/data -l %s/server.log -o \"-p %d -k "
	         "%s -c listen_addresses=127.0.0.1\" >>%s/tools.log 2>&1",
	         pg->dir, pg->as_postgres ? "runuser -u postgres --" : "", pg->bin, pg->dir,
	         pg->dir, pg->port, pg->dir, pg->dir);
	if (system(cmd) != 0) {
		fprintf(stderr, "storyverse-queue-bench: pg_ctl start failed, see %s/server.log\n",
		        pg->dir);
		return -1;
	}
	pg->running = true;
	return 0;
}

static int bench_postgres(const struct opts *o)
{
	struct pg_server pg;
	int rc = pg_support_start(&pg);
	if (rc == 0 && !o->pg_test_settings)
		rc = pg_make_durable(&pg);
	for (int i = 0; rc == 0 && i < o->nruns; i++) {
		char url[256];
		rc = pg_support_create_db(&pg, url, sizeof(url));
		if (rc == 0 && i == 0)
			print_pg_settings(url);
		if (rc == 0)
			rc = bench_run(url, "postgres", o->jobs, o->workers[i]);
	}
	pg_support_stop(&pg);
	return rc;
}

static int bench_sqlite(const struct opts *o)
{
	if (mkdir(o->sqlite_dir, 0700) < 0 && errno != EEXIST) {
		fprintf(stderr, "storyverse-queue-bench: cannot create %s\n", o->sqlite_dir);
		return -1;
	}
	printf("settings backend=sqlite version=%s journal_mode=wal synchronous=normal\n",
	       sqlite3_libversion());
	int rc = 0;
	for (int i = 0; rc == 0 && i < o->nruns; i++) {
		char path[1024], url[1100];
		snprintf(path, sizeof(path), "%s/queue-bench-%d.db", o->sqlite_dir, i);
		/* A fresh file per run: leftovers would be claimed as foreign jobs. */
		for (int k = 0; k < 3; k++) {
			char f[1100];
			snprintf(f, sizeof(f), "%s%s", path,
			         (const char *[]){"", "-wal", "-shm"}[k]);
			unlink(f);
		}
		snprintf(url, sizeof(url), "sqlite:%s", path);
		rc = bench_run(url, "sqlite", o->jobs, o->workers[i]);
	}
	return rc;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	parse_args(&o, argc, argv);
	int rc = 0;
	if (o.postgres) {
		rc = bench_postgres(&o);
	} else if (o.sqlite_dir) {
		rc = bench_sqlite(&o);
	} else {
		const char *backend =
		    strncmp(o.database, "sqlite:", 7) == 0 ? "sqlite" : "postgres";
		if (strcmp(backend, "postgres") == 0)
			print_pg_settings(o.database);
		for (int i = 0; rc == 0 && i < o.nruns; i++)
			rc = bench_run(o.database, backend, o.jobs, o.workers[i]);
	}
	return rc == 0 ? 0 : 1;
}
