/*
 * The store front: picks a backend from the URL scheme and forwards every call
 * to its ops table. Adding PostgreSQL is a new ops table, not new callers.
 */
#include "store/store.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

extern const struct sv_store_ops sv_store_sqlite_ops;
extern const struct sv_store_ops sv_store_postgres_ops;
extern const struct sv_store_ops sv_store_postgresql_ops;

static const struct sv_store_ops *const backends[] = {&sv_store_sqlite_ops, &sv_store_postgres_ops,
                                                      &sv_store_postgresql_ops};

#define MAX_SUBSCRIBERS 8

struct sv_store {
	const struct sv_store_ops *ops;
	void *impl;
	pthread_mutex_t lock; /* guards the subscribers */
	struct {
		sv_store_event_fn fn;
		void *ctx;
	} subs[MAX_SUBSCRIBERS];
	int nsubs;
	bool listening; /* the backend delivers the events (of every process) */
};

const char *const sv_store_statuses[SV_STORE_NSTATUSES] = {"queued", "generating", "review",
                                                           "ready",  "failed",     "rejected"};

void sv_store_story_clear(struct sv_store_story *s)
{
	free(s->params);
	free(s->title);
	free(s->story);
	free(s->error);
	free(s->review);
	memset(s, 0, sizeof(*s));
}

struct sv_store *sv_store_open(const char *url, struct sv_err *err)
{
	const char *colon = strchr(url, ':');
	if (!colon) {
		sv_err_set(err, "invalid_value", "database",
		           "database URL '%s' has no scheme (use sqlite:PATH or postgres://...)",
		           url);
		return NULL;
	}
	size_t n = (size_t)(colon - url);
	for (size_t i = 0; i < sizeof(backends) / sizeof(backends[0]); i++) {
		if (strlen(backends[i]->scheme) != n || strncmp(backends[i]->scheme, url, n) != 0)
			continue;
		struct sv_store *s = calloc(1, sizeof(*s));
		if (!s) {
			sv_err_set(err, "nomem", "", "out of memory");
			return NULL;
		}
		s->ops = backends[i];
		pthread_mutex_init(&s->lock, NULL);
		s->impl = s->ops->open(colon + 1, err);
		if (!s->impl) {
			pthread_mutex_destroy(&s->lock);
			free(s);
			return NULL;
		}
		return s;
	}
	sv_err_set(err, "invalid_value", "database",
	           "unsupported database scheme '%.*s' (supported: sqlite, postgres)", (int)n, url);
	return NULL;
}

void sv_store_close(struct sv_store *s)
{
	if (!s)
		return;
	s->ops->close(s->impl);
	pthread_mutex_destroy(&s->lock);
	free(s);
}

static void dispatch(void *ctx, enum sv_store_event event, const char *payload)
{
	struct sv_store *s = ctx;
	pthread_mutex_lock(&s->lock);
	for (int i = 0; i < s->nsubs; i++)
		s->subs[i].fn(s->subs[i].ctx, event, payload);
	pthread_mutex_unlock(&s->lock);
}

/* Tells this process's subscribers of its own change, when the backend does not. */
static void local_event(struct sv_store *s, enum sv_store_event event, const char *payload)
{
	if (!s->listening)
		dispatch(s, event, payload);
}

int sv_store_subscribe(struct sv_store *s, sv_store_event_fn fn, void *ctx, struct sv_err *err)
{
	pthread_mutex_lock(&s->lock);
	int rc = 0;
	if (s->nsubs == MAX_SUBSCRIBERS)
		rc = sv_err_set(err, "limit", "", "too many store subscribers");
	else
		s->subs[s->nsubs++] = (typeof(s->subs[0])){fn, ctx};
	bool start = rc == 0 && !s->listening && s->ops->listen;
	pthread_mutex_unlock(&s->lock);
	if (start) {
		if (s->ops->listen(s->impl, dispatch, s, err) < 0)
			return -1;
		pthread_mutex_lock(&s->lock);
		s->listening = true;
		pthread_mutex_unlock(&s->lock);
	}
	return rc;
}

bool sv_store_hears_others(struct sv_store *s)
{
	pthread_mutex_lock(&s->lock);
	bool yes = s->listening;
	pthread_mutex_unlock(&s->lock);
	return yes;
}

int sv_store_ping(struct sv_store *s, struct sv_err *err)
{
	return s->ops->ping(s->impl, err);
}

int sv_store_schema_version(struct sv_store *s, int *version, struct sv_err *err)
{
	return s->ops->schema_version(s->impl, version, err);
}

int sv_store_story_create(struct sv_store *s, const char *id, const char *params,
                          const char *job_kind, int max_attempts, int64_t now, struct sv_err *err)
{
	int rc = s->ops->story_create(s->impl, id, params, job_kind, max_attempts, now, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_JOB, job_kind);
	return rc;
}

int sv_store_story_get(struct sv_store *s, const char *id, struct sv_store_story *out,
                       struct sv_err *err)
{
	return s->ops->story_get(s->impl, id, out, err);
}

int sv_store_story_list(struct sv_store *s, int64_t before_seq, int limit,
                        struct sv_store_story *out, int *count, struct sv_err *err)
{
	return s->ops->story_list(s->impl, before_seq, limit, out, count, err);
}

int sv_store_story_delete(struct sv_store *s, const char *id, struct sv_err *err)
{
	return s->ops->story_delete(s->impl, id, err);
}

int sv_store_story_counts(struct sv_store *s, int64_t counts[SV_STORE_NSTATUSES],
                          struct sv_err *err)
{
	return s->ops->story_counts(s->impl, counts, err);
}

int sv_store_jobs_queued(struct sv_store *s, const char *kind, int64_t *count, struct sv_err *err)
{
	return s->ops->jobs_queued(s->impl, kind, count, err);
}

int sv_store_page_count(struct sv_store *s, const char *story_id, int64_t *count,
                        struct sv_err *err)
{
	return s->ops->page_count(s->impl, story_id, count, err);
}

int sv_store_job_claim(struct sv_store *s, const char *kind, const char *worker, int64_t now,
                       int64_t lease_ms, struct sv_store_job *out, struct sv_err *err)
{
	int rc = s->ops->job_claim(s->impl, kind, worker, now, lease_ms, out, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_STORY, out->story_id);
	return rc;
}

int sv_store_job_heartbeat(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                           int64_t now, int64_t lease_ms, struct sv_err *err)
{
	return s->ops->job_heartbeat(s->impl, job, worker, now, lease_ms, err);
}

int sv_store_page_put(struct sv_store *s, const char *story_id, int number, const char *page,
                      struct sv_err *err)
{
	int rc = s->ops->page_put(s->impl, story_id, number, page, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_STORY, story_id);
	return rc;
}

int sv_store_job_succeed(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                         const char *title, const char *story, int64_t now, struct sv_err *err)
{
	int rc = s->ops->job_succeed(s->impl, job, worker, title, story, now, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_STORY, job->story_id);
	return rc;
}

int sv_store_job_hand_on(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                         const char *title, const char *story, const char *next_kind, int64_t now,
                         struct sv_err *err)
{
	int rc = s->ops->job_hand_on(s->impl, job, worker, title, story, next_kind, now, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_JOB, next_kind);
	return rc;
}

int sv_store_job_fail(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                      const char *message, int64_t now, int64_t retry_at, struct sv_err *err)
{
	int rc = s->ops->job_fail(s->impl, job, worker, message, now, retry_at, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_STORY, job->story_id);
	return rc;
}

int sv_store_job_hold(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                      const char *title, const char *story, const char *review,
                      const char *next_kind, int64_t now, struct sv_err *err)
{
	if (!review)
		return sv_err_set(err, "invalid_value", "review", "a held story needs a reason");
	/* Approval queues next_kind as a job, whose kind must fit struct sv_store_job. */
	if (next_kind && (!*next_kind || strlen(next_kind) >= sizeof(job->kind)))
		return sv_err_set(err, "invalid_value", "next_kind", "'%s' is not a job kind",
		                  next_kind);
	int rc = s->ops->job_hold(s->impl, job, worker, title, story, review, next_kind, now, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_STORY, job->story_id);
	return rc;
}

int sv_store_review_list(struct sv_store *s, struct sv_store_story *out, int max, int *count,
                         struct sv_err *err)
{
	return s->ops->review_list(s->impl, out, max, count, err);
}

int sv_store_review_decide(struct sv_store *s, const char *id, bool approve, const char *note,
                           int64_t now, struct sv_err *err)
{
	char queued[16] = "";
	int rc = s->ops->review_decide(s->impl, id, approve, note, now, queued, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_STORY, id);
	if (rc == 0 && queued[0])
		local_event(s, SV_STORE_EVENT_JOB, queued);
	return rc;
}

int sv_store_media_put(struct sv_store *s, const char *story_id, const struct sv_store_media *m,
                       struct sv_err *err)
{
	int rc = s->ops->media_put(s->impl, story_id, m, err);
	if (rc == 0)
		local_event(s, SV_STORE_EVENT_STORY, story_id);
	return rc;
}

int sv_store_media_get(struct sv_store *s, const char *story_id, const char *name,
                       struct sv_store_media *out, struct sv_err *err)
{
	return s->ops->media_get(s->impl, story_id, name, out, err);
}

int sv_store_media_list(struct sv_store *s, const char *story_id, struct sv_store_media *out,
                        int max, int *count, struct sv_err *err)
{
	return s->ops->media_list(s->impl, story_id, out, max, count, err);
}

int64_t sv_store_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms)
{
	int64_t d = base_ms;
	for (int i = 1; i < attempts && d < cap_ms; i++)
		d *= 2;
	return d < cap_ms ? d : cap_ms;
}

/* ---- the backend's side of backup and restore (the archive is backup.c's) ---- */

const char *sv_store_backend(struct sv_store *s)
{
	/* "postgres" and "postgresql" are one backend: their dumps are interchangeable. */
	return strncmp(s->ops->scheme, "postgres", 8) == 0 ? "postgres" : s->ops->scheme;
}

int sv_store_dump(struct sv_store *s, const char *dir, struct sv_err *err)
{
	if (!s->ops->dump)
		return sv_err_set(err, "unsupported", "database", "the %s store cannot back up",
		                  s->ops->scheme);
	return s->ops->dump(s->impl, dir, err);
}

int sv_store_load(struct sv_store *s, const char *dir, struct sv_err *err)
{
	if (!s->ops->load)
		return sv_err_set(err, "unsupported", "database", "the %s store cannot restore",
		                  s->ops->scheme);
	return s->ops->load(s->impl, dir, err);
}
