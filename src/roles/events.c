/*
 * GET /api/v1/stories/{id}/events: a story's progress as Server-Sent Events.
 * The stream reads the store (the story's status, how many of its pages are
 * stored and how many drawn) when the store's events say the story moved on
 * (LISTEN/NOTIFY on PostgreSQL, so workers in other processes are heard as
 * well as ours), and once a second regardless in case one was missed (at
 * every poll on SQLite, where other processes are not heard): an event for
 * each status (queued, generating), one per page written, one per page
 * drawn, and finally ready or failed, after which the stream ends. A client
 * that comes after the end gets the end at once. Quiet streams get a comment
 * now and then so that proxies keep them open.
 */
#include "roles/internal.h"

#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define POLL_MS 100 /* how often the stream asks whether to look */
/* Look at least this often: when events come from every process, only in
 * case one was missed; when not (SQLite), at every poll. */
#define FALLBACK_NS  ((int64_t)1000 * 1000000)
#define KEEPALIVE_NS ((int64_t)15 * 1000000000) /* a comment when quiet this long */

struct sv_roles_follow {
	struct sv_roles_follow *next; /* in app->follows */
	atomic_bool changed;          /* an event came for this story since the last look */
	int64_t looked_ns;            /* when the store was last read */
	struct sv_app *app;
	char id[SV_STORE_ID_LEN + 1];
	char status[16]; /* the last status sent; "" before the first event */
	int64_t pages;   /* pages reported so far */
	int64_t drawn;   /* pictures of pages reported so far */
	int64_t last_ns; /* when something was last sent */
};

/* Appends one event whose data is a JSON object (stolen). */
static int event(struct sv_buf *out, const char *name, json_t *data)
{
	char *text = data ? json_dumps(data, JSON_COMPACT) : NULL;
	json_decref(data);
	int rc = text ? sv_buf_printf(out, "event: %s\ndata: %s\n\n", name, text) : -1;
	free(text);
	return rc;
}

static int status_event(struct sv_buf *out, const struct sv_roles_follow *f, const char *status)
{
	return event(out, status, json_pack("{s:s,s:s}", "id", f->id, "status", status));
}

/* How far the story has got: pages written, pages drawn. */
struct tally {
	int64_t pages, drawn;
};

/* One event per page newly counted: name {"number"} for sent+1 .. now. */
static int count_events(struct sv_buf *out, const char *name, int64_t *sent, int64_t now)
{
	int rc = 0;
	for (; *sent < now && rc == 0; (*sent)++)
		rc = event(out, name, json_pack("{s:I}", "number", (json_int_t)*sent + 1));
	return rc;
}

static int page_events(struct sv_buf *out, struct sv_roles_follow *f, const struct tally *t)
{
	if (count_events(out, "page", &f->pages, t->pages) < 0)
		return -1;
	return count_events(out, "drawn", &f->drawn, t->drawn);
}

/* How many page pictures a story has (its media "images/page-NN.png"). */
static int count_drawn(struct sv_app *app, const char *id, int64_t *drawn, struct sv_err *err)
{
	enum { MAX = 256 };
	struct sv_store_media *m = calloc(MAX, sizeof(*m));
	int n = 0;
	if (!m)
		return sv_err_set(err, "nomem", "", "out of memory");
	int rc = sv_store_media_list(app->store, id, m, MAX, &n, err);
	*drawn = 0;
	for (int i = 0; rc == 0 && i < n; i++)
		if (strncmp(m[i].name, SV_ROLES_PICTURES_DIR "/page-", 12) == 0 &&
		    !strstr(m[i].name, ".thumb."))
			(*drawn)++;
	free(m);
	return rc;
}

/* The last event: ready (with the title and the number of pages), failed,
 * or rejected in review. */
static int end_event(struct sv_buf *out, const struct sv_roles_follow *f,
                     const struct sv_store_story *s, int64_t stored)
{
	if (strcmp(s->status, "ready") == 0)
		return event(out, "ready",
		             json_pack("{s:s,s:s,s:s,s:I}", "id", f->id, "status", "ready", "title",
		                       s->title ? s->title : "", "pages", (json_int_t)stored));
	bool rejected = strcmp(s->status, "rejected") == 0;
	return event(out, s->status,
	             json_pack("{s:s,s:s,s:s}", "id", f->id, "status",
	                       rejected ? "rejected" : "failed", "error",
	                       s->error ? s->error : "the story could not be written"));
}

/* Appends the events between what was sent and the stored state s; 1 at the end. */
static int progress(struct sv_buf *out, struct sv_roles_follow *f, const struct sv_store_story *s,
                    const struct tally *t)
{
	int final = strcmp(s->status, "ready") == 0 || strcmp(s->status, "failed") == 0 ||
	            strcmp(s->status, "rejected") == 0;
	int first = f->status[0] == '\0';
	if (!final && strcmp(s->status, f->status) != 0 && status_event(out, f, s->status) < 0)
		return -1;
	snprintf(f->status, sizeof(f->status), "%s", s->status);
	/* One who comes after the end learns the end, not the story's history. */
	if (!(final && first) && page_events(out, f, t) < 0)
		return -1;
	if (!final)
		return 0;
	return end_event(out, f, s, t->pages) < 0 ? -1 : 1;
}

void sv_roles_events_changed(struct sv_app *app, const char *id)
{
	pthread_mutex_lock(&app->follow_lock);
	for (struct sv_roles_follow *f = app->follows; f; f = f->next)
		if (!*id || strcmp(f->id, id) == 0)
			atomic_store(&f->changed, true);
	pthread_mutex_unlock(&app->follow_lock);
}

static void follow_add(struct sv_roles_follow *f)
{
	pthread_mutex_lock(&f->app->follow_lock);
	f->next = f->app->follows;
	f->app->follows = f;
	pthread_mutex_unlock(&f->app->follow_lock);
}

/* The stream's end: leaves the list and frees the follower. */
static void follow_done(void *ctx)
{
	struct sv_roles_follow *f = ctx;
	pthread_mutex_lock(&f->app->follow_lock);
	struct sv_roles_follow **p = &f->app->follows;
	while (*p && *p != f)
		p = &(*p)->next;
	if (*p)
		*p = f->next;
	pthread_mutex_unlock(&f->app->follow_lock);
	free(f);
}

/* Reads the store and appends what changed: 0, 1 at the end, -1 on failure. */
static int look(struct sv_roles_follow *f, struct sv_buf *out)
{
	struct sv_store_story s = {0};
	struct sv_err err;
	struct tally t = {0, 0};
	int rc = sv_store_story_get(f->app->store, f->id, &s, &err);
	if (rc == 0)
		rc = sv_store_page_count(f->app->store, f->id, &t.pages, &err);
	if (rc == 0)
		rc = count_drawn(f->app, f->id, &t.drawn, &err);
	if (rc == 1) { /* deleted meanwhile */
		rc = event(out, "failed",
		           json_pack("{s:s,s:s,s:s}", "id", f->id, "status", "failed", "error",
		                     "the story was deleted"));
		rc = rc < 0 ? -1 : 1;
	} else if (rc == 0) {
		rc = progress(out, f, &s, &t);
	} else { /* the store is not answering: keep the stream, try again */
		sv_log(SV_LOG_WARN, "story events", json_pack("{s:s}", "error", err.message));
		rc = 0;
	}
	sv_store_story_clear(&s);
	return rc;
}

static int poll_story(void *ctx, struct sv_buf *out)
{
	struct sv_roles_follow *f = ctx;
	int64_t now = sv_time_mono_ns();
	int rc = 0;
	int64_t fallback = sv_store_hears_others(f->app->store) ? FALLBACK_NS : 0;
	if (atomic_exchange(&f->changed, false) || now - f->looked_ns >= fallback) {
		f->looked_ns = now;
		rc = look(f, out);
	}
	if (rc == 0 && out->len == 0 && now - f->last_ns >= KEEPALIVE_NS)
		rc = sv_buf_puts(out, ": keep-alive\n\n");
	if (out->len)
		f->last_ns = now;
	return rc;
}

void sv_roles_story_events(void *ctx, const struct sv_http_request *req,
                           struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	const char *id = req->params[0];
	struct sv_store_story s = {0};
	struct sv_err err;
	int rc = sv_roles_story_id_valid(id) ? sv_store_story_get(app->store, id, &s, &err) : 1;
	sv_store_story_clear(&s);
	if (rc == 1) {
		sv_http_error(res, 404, "not_found", "id", "no story with id '%.40s'", id);
		return;
	}
	struct sv_roles_follow *f = rc == 0 ? calloc(1, sizeof(*f)) : NULL;
	if (!f) {
		if (rc < 0)
			sv_log(SV_LOG_ERROR, "store failure",
			       json_pack("{s:s}", "error", err.message));
		sv_http_error(res, 503, "unavailable", NULL,
		              "cannot follow the story now; try again");
		return;
	}
	f->app = app;
	snprintf(f->id, sizeof(f->id), "%s", id);
	f->last_ns = sv_time_mono_ns();
	atomic_init(&f->changed, true); /* the first poll looks */
	follow_add(f);
	res->content_type = "text/event-stream; charset=utf-8";
	sv_http_set_header(res, "Cache-Control", "no-store");
	sv_http_set_header(res, "X-Accel-Buffering", "no");
	res->stream = (struct sv_http_stream){poll_story, follow_done, f, POLL_MS};
}
