/*
 * The text worker: threads that take `text` jobs from the durable queue,
 * generate the story (loading the one it continues, for a series), store its
 * pages and mark it ready. A job that fails is
 * retried with backoff by the store; a worker that dies leaves a lease that
 * lapses, so another worker (or this process after a restart) finishes it.
 */
#include "roles/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker {
	struct sv_app *app;
	char name[48];
};

/* ---- series: the story a request continues ---- */

static int story_id_ok(const char *id)
{
	size_t n = strlen(id);
	return n == SV_STORE_ID_LEN && strspn(id, "0123456789abcdef") == n;
}

int sv_roles_load_previous(struct sv_app *app, const json_t *request, json_t **prev,
                           struct sv_err *err)
{
	*prev = NULL;
	const char *id = json_string_value(json_object_get(request, "continue_from"));
	if (!id)
		return 0;
	if (!story_id_ok(id))
		return sv_err_set(err, "unknown_id", "continue_from",
		                  "there is no story '%.40s' to continue", id);
	struct sv_store_story row = {0};
	int rc = sv_store_story_get(app->store, id, &row, err);
	if (rc < 0)
		return -2;
	if (rc == 1)
		rc = sv_err_set(err, "unknown_id", "continue_from",
		                "there is no story '%s' to continue", id);
	else if (strcmp(row.status, "ready") != 0 || !row.story)
		rc =
		    sv_err_set(err, "invalid_value", "continue_from",
		               "story '%s' is not ready (its status is %s): continue it once it is "
		               "ready",
		               id, row.status);
	else if (!(*prev = json_loads(row.story, 0, NULL)))
		rc = sv_err_set(err, "invalid_value", "continue_from", "story '%s' cannot be read",
		                id);
	sv_store_story_clear(&row);
	return rc;
}

/* The parameters of a stored request, with the story it continues loaded. */
static int job_params(struct sv_app *app, const json_t *params_doc, struct sv_story_params *p,
                      struct sv_err *err)
{
	json_t *prev = NULL;
	int seed_given;
	sv_story_params_init(p);
	if (!params_doc)
		return sv_err_set(err, "invalid_json", "", "stored parameters are not JSON");
	if (sv_roles_load_previous(app, params_doc, &prev, err) < 0)
		return -1;
	int rc = sv_story_params_from_request(app->catalog, params_doc, prev, p, &seed_given, err);
	json_decref(prev);
	return rc;
}

/* Generates the story of a claimed job and stores it; fills err on failure. */
static int run_text_job(struct sv_app *app, const struct sv_store_job *job, const char *name,
                        struct sv_err *err)
{
	struct sv_store_story row = {0};
	int rc = sv_store_story_get(app->store, job->story_id, &row, err);
	if (rc != 0) /* deleted meanwhile: the job has nothing left to do */
		return rc < 0 ? -1
		       : sv_store_job_succeed(app->store, job, name, NULL, NULL, sv_time_unix_ms(),
		                              err) < 0
		           ? -1
		           : 0;
	json_t *params_doc = json_loads(row.params, 0, NULL);
	struct sv_story_params p;
	json_t *story = NULL;
	rc = job_params(app, params_doc, &p, err);
	if (rc == 0 && !(story = sv_story_generate(app->catalog, &p, NULL, NULL, err)))
		rc = -1;
	json_t *pages = json_object_get(story, "pages");
	size_t i;
	json_t *page;
	json_array_foreach(pages, i, page)
	{
		char *text = json_dumps(page, JSON_COMPACT | JSON_SORT_KEYS);
		if (rc == 0 && (!text || sv_store_page_put(app->store, job->story_id, (int)(i + 1),
		                                           text, err) < 0))
			rc = -1;
		free(text);
	}
	/* Stored compact: the API splices it into its answers as it is. */
	char *dump = rc == 0 ? json_dumps(story, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (rc == 0 && !dump)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	if (rc == 0) {
		const char *title = json_string_value(json_object_get(story, "title"));
		rc = sv_store_job_succeed(app->store, job, name, title ? title : "", dump,
		                          sv_time_unix_ms(), err);
		if (rc == 1)
			sv_log(SV_LOG_WARN, "lease lost before the job finished",
			       json_pack("{s:I,s:s}", "job", (json_int_t)job->id, "worker", name));
		rc = rc < 0 ? -1 : 0;
	}
	free(dump);
	json_decref(story);
	json_decref(params_doc);
	sv_store_story_clear(&row);
	return rc;
}

static void handle(struct sv_app *app, const struct sv_store_job *job, const char *name)
{
	struct sv_err err;
	sv_err_clear(&err);
	int64_t start = sv_time_mono_ns();
	if (run_text_job(app, job, name, &err) == 0) {
		sv_log(SV_LOG_INFO, "job done",
		       json_pack("{s:I,s:s,s:s,s:i,s:f}", "job", (json_int_t)job->id, "kind",
		                 job->kind, "story", job->story_id, "attempt", job->attempts,
		                 "duration_ms", (double)(sv_time_mono_ns() - start) / 1e6));
		return;
	}
	int64_t now = sv_time_unix_ms();
	int64_t retry_at =
	    now + sv_store_backoff_ms(job->attempts, SV_JOB_BACKOFF_MS, SV_JOB_BACKOFF_CAP_MS);
	sv_log(SV_LOG_WARN, "job failed",
	       json_pack("{s:I,s:s,s:i,s:i,s:s}", "job", (json_int_t)job->id, "story",
	                 job->story_id, "attempt", job->attempts, "max_attempts", job->max_attempts,
	                 "error", err.message));
	struct sv_err ferr;
	if (sv_store_job_fail(app->store, job, name, err.message, now, retry_at, &ferr) < 0)
		sv_log(SV_LOG_ERROR, "cannot record job failure",
		       json_pack("{s:s}", "error", ferr.message));
}

static void *worker_main(void *arg)
{
	struct worker *w = arg;
	struct sv_app *app = w->app;
	for (;;) {
		pthread_mutex_lock(&app->lock);
		int stop = app->stopping;
		pthread_mutex_unlock(&app->lock);
		if (stop)
			break;
		struct sv_store_job job;
		struct sv_err err;
		int rc = sv_store_job_claim(app->store, SV_JOB_KIND_TEXT, w->name,
		                            sv_time_unix_ms(), SV_JOB_LEASE_MS, &job, &err);
		if (rc == 0) {
			handle(app, &job, w->name);
			continue;
		}
		if (rc < 0)
			sv_log(SV_LOG_ERROR, "cannot claim a job",
			       json_pack("{s:s}", "error", err.message));
		/* Nothing runnable: sleep until woken, or a second, for retries coming due. */
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		until.tv_sec += 1;
		pthread_mutex_lock(&app->lock);
		if (!app->stopping)
			pthread_cond_timedwait(&app->wake, &app->lock, &until);
		pthread_mutex_unlock(&app->lock);
	}
	free(w);
	return NULL;
}

int sv_roles_workers_start(struct sv_app *app, int n, struct sv_err *err)
{
	app->workers = calloc((size_t)n, sizeof(pthread_t));
	if (!app->workers)
		return sv_err_set(err, "nomem", "", "out of memory");
	for (int i = 0; i < n; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		if (!w)
			return sv_err_set(err, "nomem", "", "out of memory");
		w->app = app;
		snprintf(w->name, sizeof(w->name), "%s-text-%d", app->instance, i);
		int rc = pthread_create(&app->workers[i], NULL, worker_main, w);
		if (rc != 0) {
			free(w);
			return sv_err_set(err, "io", "", "cannot start a worker: %s", strerror(rc));
		}
		app->nworkers++;
	}
	return 0;
}

void sv_roles_workers_wake(struct sv_app *app)
{
	pthread_mutex_lock(&app->lock);
	pthread_cond_signal(&app->wake);
	pthread_mutex_unlock(&app->lock);
}

void sv_roles_workers_stop(struct sv_app *app)
{
	pthread_mutex_lock(&app->lock);
	app->stopping = 1;
	pthread_cond_broadcast(&app->wake);
	pthread_mutex_unlock(&app->lock);
	for (int i = 0; i < app->nworkers; i++)
		pthread_join(app->workers[i], NULL);
	free(app->workers);
	app->workers = NULL;
	app->nworkers = 0;
}
