/*
 * The workers: threads that take jobs of one kind from the durable queue and
 * run that kind's handler (the kinds table below). The text handler
 * generates the story (loading the one it continues, for a series), stores
 * its pages and marks it ready. A job that fails is retried with backoff by
 * the store; a worker that dies leaves a lease that lapses, so another worker
 * (or this process after a restart) finishes it. Each attempt is counted in
 * the job metrics declared in app.c.
 */
#include "export/export.h"
#include "narrate/narrate.h"
#include "roles/internal.h"
#include "textgen/textgen.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

struct worker {
	struct sv_app *app;
	struct sv_roles_held *held; /* this worker's slot in app->held */
	char name[48];
};

/* The job a worker holds now, which the heartbeat keeps leased. */
struct sv_roles_held {
	struct sv_store_job job;
	char worker[48];
	bool active;
};

/* ---- series: the story a request continues ---- */

int sv_roles_load_previous(struct sv_app *app, const json_t *request, json_t **prev,
                           struct sv_err *err)
{
	*prev = NULL;
	const char *id = json_string_value(json_object_get(request, "continue_from"));
	if (!id)
		return 0;
	if (!sv_roles_story_id_valid(id))
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

/* The tests' way to kill a worker in the middle of a job: pages stored, job not done. */
static void fault_delay(const struct sv_app *app)
{
	if (app->fault_delay_ms <= 0)
		return;
	struct timespec t = {app->fault_delay_ms / 1000, (app->fault_delay_ms % 1000) * 1000000L};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* Keeps one file of a story: the bytes in the blob store first, then the
 * row naming them, so a stored row always has its blob (sv_roles_file_fn). */
struct media_sink {
	struct sv_app *app;
	const char *story_id;
};

static int put_media(void *ctx, const char *name, const char *content_type, const void *data,
                     size_t len, struct sv_err *err)
{
	struct media_sink *sink = ctx;
	struct sv_store_media m = {.size = (int64_t)len};
	snprintf(m.name, sizeof(m.name), "%s", name);
	snprintf(m.content_type, sizeof(m.content_type), "%s", content_type);
	if (sv_store_blob_put(sink->app->blobs, data, len, m.blob, err) < 0)
		return -1;
	return sv_store_media_put(sink->app->store, sink->story_id, &m, err);
}

/* The story as one HTML page, kept as its media "story.html". */
static int store_html(struct media_sink *sink, const json_t *story, struct sv_err *err)
{
	char *html = sv_export_html(story, err);
	if (!html)
		return -1;
	int rc = put_media(sink, "story.html", "text/html; charset=utf-8", html, strlen(html), err);
	free(html);
	return rc;
}

/* Reads the story row of a job: 0 with *row filled, 1 when the story was
 * deleted meanwhile (its job is then done: nothing is left to do), -1. */
static int job_story(struct sv_app *app, const struct sv_store_job *job, const char *name,
                     struct sv_store_story *row, struct sv_err *err)
{
	int rc = sv_store_story_get(app->store, job->story_id, row, err);
	if (rc == 1 &&
	    sv_store_job_succeed(app->store, job, name, NULL, NULL, sv_time_unix_ms(), err) < 0)
		return -1;
	return rc;
}

static int lease_lost(int rc, const struct sv_store_job *job, const char *name)
{
	if (rc == 1)
		sv_log(SV_LOG_WARN, "lease lost before the job finished",
		       json_pack("{s:I,s:s}", "job", (json_int_t)job->id, "worker", name));
	return rc;
}

/* The stage after kind in this process's pipeline (text, image, audio; the
 * later ones only when enabled), or NULL when kind is the last. */
static const char *stage_after(const struct sv_app *app, const char *kind)
{
	if (strcmp(kind, SV_JOB_KIND_TEXT) == 0 && app->images)
		return SV_JOB_KIND_IMAGE;
	if (strcmp(kind, SV_JOB_KIND_AUDIO) != 0 && app->audio)
		return SV_JOB_KIND_AUDIO;
	return NULL;
}

/* Ends a job's stage: hands the story on to the next stage, or marks it
 * ready when this was the last; title and dump (the story) may be NULL to
 * keep what is stored. 0, 1 when the lease was lost, -1. */
static int finish_stage(struct sv_app *app, const struct sv_store_job *job, const char *name,
                        const char *title, const char *dump, struct sv_err *err)
{
	const char *next = stage_after(app, job->kind);
	int64_t now = sv_time_unix_ms();
	int rc = next ? sv_store_job_hand_on(app->store, job, name, title, dump, next, now, err)
	              : sv_store_job_succeed(app->store, job, name, title, dump, now, err);
	return lease_lost(rc, job, name);
}

/* Ends the text stage of a story that moderation refused: stored, but held
 * for a person (storyverse review) instead of going on; approval queues the
 * stage that would have come next. 0, 1 when the lease was lost, -1. */
static int hold_for_review(struct sv_app *app, const struct sv_store_job *job, const char *name,
                           const char *title, const char *dump, const json_t *story, json_t *flags,
                           struct sv_err *err)
{
	const json_t *params = json_object_get(story, "parameters");
	json_t *why =
	    json_pack("{s:O?,s:O}", "age", json_object_get(params, "age"), "flags", flags);
	char *text = why ? json_dumps(why, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(why);
	if (!text)
		return sv_err_set(err, "nomem", "", "out of memory");
	int rc = sv_store_job_hold(app->store, job, name, title, dump, text,
	                           stage_after(app, job->kind), sv_time_unix_ms(), err);
	free(text);
	if (rc == 0) {
		sv_log(SV_LOG_WARN, "a story is held for review",
		       json_pack("{s:s,s:i}", "story", job->story_id, "flags",
		                 (int)json_array_size(flags)));
		sv_metrics_add(app->metrics, "storyverse_stories_held_total", "", 1);
	}
	return lease_lost(rc, job, name);
}

/* Writes the story of a claimed job, stores its pages and hands it on to the
 * image job: 0 done, 1 when the lease was lost before the end (another worker
 * finishes it), -1 with err filled on failure. */
static int run_text_job(struct sv_app *app, const struct sv_store_job *job, const char *name,
                        struct sv_err *err)
{
	struct sv_store_story row = {0};
	int rc = job_story(app, job, name, &row, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	json_t *params_doc = json_loads(row.params, 0, NULL);
	struct sv_story_params p;
	json_t *story = NULL;
	rc = job_params(app, params_doc, &p, err);
	if (rc == 0 && !(story = sv_story_generate(app->catalog, &p, NULL, NULL, err)))
		rc = -1;
	json_t *review = NULL;
	if (rc == 0)
		rc = sv_textgen_write_story(app->textgen, story, &review, err);
	if (rc == 0 && app->images)
		rc = sv_roles_pictures_describe(story, err);
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
	fault_delay(app);
	/* Stored compact: the API splices it into its answers as it is. */
	char *dump = rc == 0 ? json_dumps(story, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (rc == 0 && !dump)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	struct media_sink sink = {app, job->story_id};
	if (rc == 0 && !stage_after(app, job->kind)) /* the last stage writes the page */
		rc = store_html(&sink, story, err);
	const char *title = json_string_value(json_object_get(story, "title"));
	if (rc == 0 && review)
		rc = hold_for_review(app, job, name, title ? title : "", dump, story, review, err);
	else if (rc == 0)
		rc = finish_stage(app, job, name, title ? title : "", dump, err);
	free(dump);
	json_decref(review);
	json_decref(story);
	json_decref(params_doc);
	sv_store_story_clear(&row);
	return rc;
}

/* The written story of a later stage's job, as a new reference; NULL with
 * err filled when there are no words to work on (doing: "draw", "read"). */
static json_t *stored_story(const struct sv_store_story *row, const struct sv_store_job *job,
                            const char *doing, struct sv_err *err)
{
	json_t *story = row->story ? json_loads(row->story, 0, NULL) : NULL;
	if (!story)
		sv_err_set(err, "invalid_value", "story", "story %s has no words to %s",
		           job->story_id, doing);
	return story;
}

/* Draws the pictures of a story whose words are written, keeps them and the
 * story's HTML page (which shows them) as its media, and marks it ready. */
static int run_image_job(struct sv_app *app, const struct sv_store_job *job, const char *name,
                         struct sv_err *err)
{
	struct sv_store_story row = {0};
	int rc = job_story(app, job, name, &row, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	json_t *story = stored_story(&row, job, "draw", err);
	if (!story)
		rc = -1;
	struct media_sink sink = {app, job->story_id};
	if (rc == 0)
		rc = sv_roles_pictures_draw(story, app->catalog_doc, app->remote, put_media, &sink,
		                            NULL, err);
	if (rc == 0)
		rc = store_html(&sink, story, err);
	if (rc == 0)
		rc = finish_stage(app, job, name, NULL, NULL, err);
	json_decref(story);
	sv_store_story_clear(&row);
	return rc;
}

/* Reads a written story aloud: its pages' audio and timings and the whole
 * story's audio as media, the story document updated with where they are. */
static int run_audio_job(struct sv_app *app, const struct sv_store_job *job, const char *name,
                         struct sv_err *err)
{
	struct sv_store_story row = {0};
	int rc = job_story(app, job, name, &row, err);
	if (rc != 0)
		return rc < 0 ? -1 : 0;
	json_t *story = stored_story(&row, job, "read", err);
	if (!story)
		rc = -1;
	else if (!app->narrator)
		rc = sv_err_set(err, "unavailable", "", "this process does not narrate");
	struct media_sink sink = {app, job->story_id};
	if (rc == 0)
		rc = sv_narrate_story(app->narrator, story, put_media, &sink, err);
	char *dump = rc == 0 ? json_dumps(story, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	if (rc == 0 && !dump)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	if (rc == 0)
		rc = store_html(&sink, story, err);
	if (rc == 0)
		rc = finish_stage(app, job, name, NULL, dump, err);
	free(dump);
	json_decref(story);
	sv_store_story_clear(&row);
	return rc;
}

typedef int (*job_handler)(struct sv_app *app, const struct sv_store_job *job, const char *name,
                           struct sv_err *err);

/* Every job kind of the pipeline, in order, with its handler. */
static const struct {
	const char *kind;
	job_handler run;
} kinds[] = {
    {SV_JOB_KIND_TEXT, run_text_job},
    {SV_JOB_KIND_IMAGE, run_image_job},
    {SV_JOB_KIND_AUDIO, run_audio_job},
};

#define NKINDS (sizeof(kinds) / sizeof(kinds[0]))

static size_t find_kind(const char *kind)
{
	size_t i = 0;
	while (i < NKINDS && strcmp(kinds[i].kind, kind) != 0)
		i++;
	return i;
}

static job_handler handler_of(const char *kind)
{
	size_t i = find_kind(kind);
	return i < NKINDS ? kinds[i].run : NULL;
}

bool sv_roles_job_kind(const char *kind)
{
	return find_kind(kind) < NKINDS;
}

const char *sv_roles_job_kind_at(size_t i)
{
	return i < NKINDS ? kinds[i].kind : NULL;
}

/* Counts one finished attempt: its duration, its outcome and a dead letter. */
static void count_attempt(struct sv_app *app, const struct sv_store_job *job, const char *outcome,
                          int64_t start_ns)
{
	char labels[96];
	snprintf(labels, sizeof(labels), "kind=\"%s\"", job->kind);
	sv_metrics_observe(app->metrics, "storyverse_job_duration_seconds", labels,
	                   (double)(sv_time_mono_ns() - start_ns) / 1e9);
	if (strcmp(outcome, "failed") == 0 && job->attempts >= job->max_attempts)
		sv_metrics_add(app->metrics, "storyverse_jobs_dead_letter_total", labels, 1);
	snprintf(labels, sizeof(labels), "kind=\"%s\",outcome=\"%s\"", job->kind, outcome);
	sv_metrics_add(app->metrics, "storyverse_job_attempts_total", labels, 1);
}

static void handle(struct sv_app *app, const struct sv_store_job *job, const char *name)
{
	struct sv_err err;
	sv_err_clear(&err);
	int64_t start = sv_time_mono_ns();
	job_handler run = handler_of(job->kind);
	int rc = run ? run(app, job, name, &err)
	             : sv_err_set(&err, "unsupported", "", "no worker for kind '%s'", job->kind);
	if (rc >= 0) {
		count_attempt(app, job, rc == 1 ? "lease_lost" : "succeeded", start);
		sv_log(SV_LOG_INFO, "job done",
		       json_pack("{s:I,s:s,s:s,s:i,s:f}", "job", (json_int_t)job->id, "kind",
		                 job->kind, "story", job->story_id, "attempt", job->attempts,
		                 "duration_ms", (double)(sv_time_mono_ns() - start) / 1e6));
		return;
	}
	int64_t now = sv_time_unix_ms();
	int64_t retry_at =
	    now + sv_store_backoff_ms(job->attempts, SV_JOB_BACKOFF_MS, SV_JOB_BACKOFF_CAP_MS);
	count_attempt(app, job, "failed", start);
	sv_log(SV_LOG_WARN, "job failed",
	       json_pack("{s:I,s:s,s:i,s:i,s:s}", "job", (json_int_t)job->id, "story",
	                 job->story_id, "attempt", job->attempts, "max_attempts", job->max_attempts,
	                 "error", err.message));
	struct sv_err ferr;
	if (sv_store_job_fail(app->store, job, name, err.message, now, retry_at, &ferr) < 0)
		sv_log(SV_LOG_ERROR, "cannot record job failure",
		       json_pack("{s:s}", "error", ferr.message));
}

static void hold(struct sv_app *app, struct worker *w, const struct sv_store_job *job)
{
	pthread_mutex_lock(&app->lock);
	w->held->active = job != NULL;
	if (job)
		w->held->job = *job;
	pthread_mutex_unlock(&app->lock);
}

/* Extends the lease of every job held in this process a few times per lease,
 * so a job longer than a lease stays with the worker doing it. */
static void *heartbeat_main(void *arg)
{
	struct sv_app *app = arg;
	int64_t every_ms = app->lease_ms / 3 > 0 ? app->lease_ms / 3 : 1;
	struct sv_roles_held *jobs = calloc((size_t)app->nworkers, sizeof(*jobs));
	pthread_mutex_lock(&app->lock);
	while (jobs && app->heartbeat_running) {
		struct timespec until;
		clock_gettime(CLOCK_REALTIME, &until);
		int64_t ns = until.tv_nsec + (every_ms % 1000) * 1000000;
		until.tv_sec += every_ms / 1000 + ns / 1000000000;
		until.tv_nsec = ns % 1000000000;
		pthread_cond_timedwait(&app->heartbeat_wake, &app->lock, &until);
		int n = app->nworkers;
		memcpy(jobs, app->held, (size_t)n * sizeof(*jobs));
		pthread_mutex_unlock(&app->lock);
		for (int i = 0; i < n; i++) {
			struct sv_err err;
			if (jobs[i].active &&
			    sv_store_job_heartbeat(app->store, &jobs[i].job, jobs[i].worker,
			                           sv_time_unix_ms(), app->lease_ms, &err) < 0)
				sv_log(SV_LOG_WARN, "cannot extend a lease",
				       json_pack("{s:I,s:s}", "job", (json_int_t)jobs[i].job.id,
				                 "error", err.message));
		}
		pthread_mutex_lock(&app->lock);
	}
	pthread_mutex_unlock(&app->lock);
	free(jobs);
	return NULL;
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
		int rc = 1;
		for (int k = 0; rc == 1 && k < app->nkinds; k++)
			rc = sv_store_job_claim(app->store, app->kinds[k], w->name,
			                        sv_time_unix_ms(), app->lease_ms, &job, &err);
		if (rc == 0) {
			hold(app, w, &job);
			handle(app, &job, w->name);
			hold(app, w, NULL);
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
	/* A test hook that holds each job open between its pages and its completion, so
	 * fault tests can kill a worker mid-job; anything but 1..60000 turns it off. */
	const char *delay = getenv("STORYVERSE_FAULT_JOB_DELAY_MS");
	char *end = NULL;
	long ms = delay ? strtol(delay, &end, 10) : 0;
	app->fault_delay_ms = delay && *delay && !*end && ms > 0 && ms <= 60000 ? ms : 0;
	if (n == 0)
		return 0;
	app->workers = calloc((size_t)n, sizeof(pthread_t));
	app->held = calloc((size_t)n, sizeof(*app->held));
	if (!app->workers || !app->held)
		return sv_err_set(err, "nomem", "", "out of memory");
	for (int i = 0; i < n; i++) {
		struct worker *w = calloc(1, sizeof(*w));
		if (!w)
			return sv_err_set(err, "nomem", "", "out of memory");
		w->app = app;
		w->held = &app->held[i];
		snprintf(w->name, sizeof(w->name), "%s-%s-%d", app->instance,
		         app->nkinds == 1 ? app->kinds[0] : "all", i);
		snprintf(w->held->worker, sizeof(w->held->worker), "%s", w->name);
		int rc = pthread_create(&app->workers[i], NULL, worker_main, w);
		if (rc != 0) {
			free(w);
			return sv_err_set(err, "io", "", "cannot start a worker: %s", strerror(rc));
		}
		app->nworkers++;
	}
	app->heartbeat_running = true;
	int rc = pthread_create(&app->heartbeat, NULL, heartbeat_main, app);
	if (rc != 0) {
		app->heartbeat_running = false;
		return sv_err_set(err, "io", "", "cannot start the heartbeat: %s", strerror(rc));
	}
	return 0;
}

void sv_roles_workers_stop(struct sv_app *app)
{
	pthread_mutex_lock(&app->lock);
	app->stopping = 1;
	pthread_cond_broadcast(&app->wake);
	pthread_mutex_unlock(&app->lock);
	for (int i = 0; i < app->nworkers; i++)
		pthread_join(app->workers[i], NULL);
	/* After the workers: jobs in hand keep their leases until they finish. */
	pthread_mutex_lock(&app->lock);
	bool beating = app->heartbeat_running;
	app->heartbeat_running = false;
	pthread_cond_signal(&app->heartbeat_wake);
	pthread_mutex_unlock(&app->lock);
	if (beating)
		pthread_join(app->heartbeat, NULL);
	free(app->workers);
	free(app->held);
	app->workers = NULL;
	app->held = NULL;
	app->nworkers = 0;
}
