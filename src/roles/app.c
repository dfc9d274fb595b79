/*
 * The state every serving process holds (struct sv_app): the catalog, the
 * store behind --database and the metrics registry. `serve` and `worker`
 * open and close it the same way; the metric families of the job pipeline
 * are declared here, once, for every process.
 */
#include "illustrate/illustrate.h"
#include "roles/internal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Every metric family a role records besides the HTTP server's own. */
static const struct {
	const char *name, *type, *help;
} families[] = {
    {"storyverse_stories", "gauge", "Stories by status."},
    {"storyverse_jobs_queued", "gauge", "Jobs waiting to run, by kind."},
    {"storyverse_job_duration_seconds", "histogram", "Time a worker spent on one job, by kind."},
    {"storyverse_job_attempts_total", "counter",
     "Job attempts a worker finished, by kind and outcome (succeeded, failed, lease_lost)."},
    {"storyverse_jobs_dead_letter_total", "counter",
     "Jobs a worker dead-lettered because their last attempt failed, by kind."},
    {"storyverse_stories_held_total", "counter",
     "Stories the text worker held for review: moderation refused words it could not soften "
     "or have rewritten."},
    {"storyverse_lm_requests_total", "counter",
     "Completions served from the language model, by outcome (ok, invalid, failed)."},
    {"storyverse_lm_tokens_total", "counter",
     "Tokens through the language model for /v1/completions, by kind (prompt, completion)."},
};

static int metrics_declare(struct sv_metrics *m)
{
	for (size_t i = 0; i < sizeof(families) / sizeof(families[0]); i++)
		if (sv_metrics_declare(m, families[i].name, families[i].type, families[i].help) < 0)
			return -1;
	return 0;
}

#define DEFAULT_DATABASE "sqlite:%s/storyverse.db" /* %s: --data */
#define DEFAULT_BLOBS    "file:%s/blobs"

void sv_roles_default_database(const char *data, char *out, size_t n)
{
	snprintf(out, n, DEFAULT_DATABASE, data);
}

struct sv_store *sv_roles_store_open(const char *data, const char *database, char *url, size_t n,
                                     struct sv_err *err)
{
	if (database)
		snprintf(url, n, "%s", database);
	else
		sv_roles_default_database(data, url, n);
	return sv_store_open(url, err);
}

/* given when the option was given; else the default under --data (fmt with
 * the folder), which is created for it. */
static int url_or_default(const char *given, const char *data, const char *fmt, char *out, size_t n,
                          struct sv_err *err)
{
	if (given) {
		snprintf(out, n, "%s", given);
		return 0;
	}
	if (mkdir(data, 0755) < 0 && errno != EEXIST)
		return sv_err_set(err, "io", "data", "cannot create '%s': %s", data,
		                  strerror(errno));
	snprintf(out, n, fmt, data);
	return 0;
}

int sv_roles_database_url(const struct sv_roles_common *opts, char *out, size_t n,
                          struct sv_err *err)
{
	return url_or_default(opts->database, opts->data, DEFAULT_DATABASE, out, n, err);
}

int sv_roles_blobs_url(const struct sv_roles_common *opts, char *out, size_t n, struct sv_err *err)
{
	return url_or_default(opts->blobs, opts->data, DEFAULT_BLOBS, out, n, err);
}

bool sv_roles_takes_kind(const struct sv_app *app, const char *kind)
{
	for (int i = 0; i < app->nkinds; i++)
		if (!*kind || strcmp(kind, app->kinds[i]) == 0)
			return true;
	return false;
}

/* The store's events, heard from any thread: wake the workers of a kind when a
 * job of theirs comes, and the streams of a story when it moves on. */
static void on_store_event(void *ctx, enum sv_store_event event, const char *payload)
{
	struct sv_app *app = ctx;
	if (event == SV_STORE_EVENT_STORY) {
		sv_roles_events_changed(app, payload);
	} else if (sv_roles_takes_kind(app, payload)) {
		pthread_mutex_lock(&app->lock);
		pthread_cond_broadcast(&app->wake);
		pthread_mutex_unlock(&app->lock);
	}
}

int sv_roles_app_open(struct sv_app *app, const struct sv_roles_common *opts, struct sv_err *err)
{
	pthread_mutex_init(&app->lock, NULL);
	pthread_cond_init(&app->wake, NULL);
	pthread_cond_init(&app->heartbeat_wake, NULL);
	pthread_mutex_init(&app->follow_lock, NULL);
	app->lease_ms = opts->lease_s > 0 ? (int64_t)opts->lease_s * 1000 : SV_JOB_LEASE_MS;
	app->images = !opts->no_images;
	app->audio = !opts->no_audio;
	if (sv_random_hex(app->instance, 4) < 0)
		strcpy(app->instance, "local");
	if (!(app->catalog = sv_story_catalog_new("en", err)))
		return -1;
	app->catalog_doc = sv_story_catalog_json(app->catalog);
	app->catalog_json = app->catalog_doc
	                        ? json_dumps(app->catalog_doc, JSON_COMPACT | JSON_PRESERVE_ORDER)
	                        : NULL;
	if (!app->catalog_json)
		return sv_err_set(err, "nomem", "", "cannot render the catalog");
	char database[4200], blobs[4200];
	if (sv_roles_database_url(opts, database, sizeof(database), err) < 0 ||
	    sv_roles_blobs_url(opts, blobs, sizeof(blobs), err) < 0)
		return -1;
	if (!(app->store = sv_store_open(database, err)) ||
	    !(app->blobs = sv_store_blobs_open(blobs, err)))
		return -1;
	if (!(app->metrics = sv_metrics_new()) || metrics_declare(app->metrics) < 0)
		return sv_err_set(err, "nomem", "", "out of memory");
	if (sv_roles_image_provider(opts->image_provider, opts->comfyui_url, &app->remote, err) <
	        0 ||
	    sv_roles_moderate_open(app, err) < 0 || sv_roles_text_open(app, opts, err) < 0 ||
	    sv_roles_audio_open(app, opts, false, err) < 0)
		return -1;
	return sv_store_subscribe(app->store, on_store_event, app, err);
}

void sv_roles_app_close(struct sv_app *app)
{
	sv_store_close(app->store); /* first: its listener calls into the app */
	sv_store_blobs_close(app->blobs);
	sv_illustrate_remote_close(app->remote);
	sv_roles_text_close(app);
	sv_roles_audio_close(app);
	sv_roles_moderate_close(app);
	sv_story_catalog_free(app->catalog);
	sv_metrics_free(app->metrics);
	free(app->catalog_json);
	json_decref(app->catalog_doc);
	pthread_cond_destroy(&app->wake);
	pthread_cond_destroy(&app->heartbeat_wake);
	pthread_mutex_destroy(&app->follow_lock);
	pthread_mutex_destroy(&app->lock);
}

/* Blocks SIGTERM and SIGINT before any thread starts, so only sigwait sees them. */
static void block_stop_signals(sigset_t *stop)
{
	sigemptyset(stop);
	sigaddset(stop, SIGTERM);
	sigaddset(stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, stop, NULL);
	signal(SIGPIPE, SIG_IGN);
}

int sv_roles_run(const char *cmd, sv_roles_start_fn start, const void *opts, int drain_first)
{
	sigset_t stop;
	block_stop_signals(&stop);
	struct sv_app app = {0};
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_http_server *http = NULL;
	int rc;
	if (start(&app, opts, &http, &err) < 0) {
		rc = sv_roles_start_error(cmd, &err);
	} else {
		int sig = 0;
		sigwait(&stop, &sig);
		sv_log(SV_LOG_INFO, "stopping", json_pack("{s:s}", "signal", strsignal(sig)));
		rc = 0;
	}
	if (drain_first)
		sv_roles_workers_stop(&app);
	sv_http_server_stop(http);
	if (!drain_first)
		sv_roles_workers_stop(&app);
	sv_roles_app_close(&app);
	if (rc == 0)
		sv_log(SV_LOG_INFO, "stopped", NULL);
	return rc;
}

int sv_roles_start_error(const char *cmd, const struct sv_err *err)
{
	if (err->field[0])
		sv_roles_usage_error(cmd, "--%s: %s", err->field, err->message);
	else
		sv_roles_usage_error(cmd, "%s", err->message);
	return err->field[0] ? 2 : 1;
}
