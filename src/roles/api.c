/*
 * The HTTP API of the gateway and story roles: catalog, story CRUD (a story's
 * progress events are in events.c), health,
 * metrics and the embedded web page; and the health-and-metrics-only routes
 * of a worker process. Handlers validate, talk to the store and
 * answer; generation itself happens on the workers.
 */
#include "roles/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define LIST_LIMIT_DEFAULT 20
#define LIST_LIMIT_MAX     100

static void store_failure(struct sv_http_response *res, const struct sv_err *err)
{
	sv_log(SV_LOG_ERROR, "store failure", json_pack("{s:s}", "error", err->message));
	sv_http_error(res, 503, "unavailable", NULL, "the database is not answering; try again");
}

static void get_catalog(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	res->content_type = "application/json; charset=utf-8";
	res->static_body = (const unsigned char *)app->catalog_json;
	res->static_len = strlen(app->catalog_json);
	sv_http_set_header(res, "Cache-Control", "public, max-age=300");
}

static void create_story(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	json_error_t jerr;
	json_t *body = json_loadb(req->body, req->body_len, JSON_REJECT_DUPLICATES, &jerr);
	if (!body || !json_is_object(body)) {
		json_decref(body);
		sv_http_error(res, 400, "invalid_json", NULL, "the body must be a JSON object%s%s",
		              body ? "" : ": ", body ? "" : jerr.text);
		return;
	}
	/* The seed drawn here stays when the request brings none; defaults derive from it. */
	struct sv_story_params p;
	sv_story_params_init(&p);
	p.seed = sv_roles_random_seed();
	struct sv_err err;
	sv_err_clear(&err);
	int seed_given = 0;
	json_t *prev = NULL; /* the story this one continues, for a series */
	int rc = sv_roles_load_previous(app, body, &prev, &err);
	if (rc == 0)
		rc = sv_story_params_from_request(app->catalog, body, prev, &p, &seed_given, &err);
	json_decref(prev);
	json_decref(body);
	if (rc == -2) {
		store_failure(res, &err);
		return;
	}
	if (rc < 0) {
		sv_http_error(res, 422, err.code, err.field, "%s", err.message);
		return;
	}
	const char *field = NULL, *category = NULL;
	rc = sv_roles_moderate_request(app, &p, &field, &category, &err);
	if (rc < 0) {
		sv_http_error(res, 503, "unavailable", NULL, "%s", err.message);
		return;
	}
	if (rc == 1) { /* named, never echoed */
		sv_http_json(res, 422,
		             json_pack("{s:{s:s,s:s,s:s,s:s+}}", "error", "code", "unsafe_content",
		                       "field", field, "category", category, "message", field,
		                       " is not something we can put in a story for children"));
		return;
	}
	json_t *params = sv_story_params_to_json(&p);
	char *params_text = params ? json_dumps(params, JSON_COMPACT | JSON_SORT_KEYS) : NULL;
	json_decref(params);
	char id[SV_STORE_ID_LEN + 1];
	if (!params_text || sv_random_hex(id, SV_STORE_ID_LEN / 2) < 0) {
		free(params_text);
		sv_http_error(res, 503, "unavailable", NULL, "out of resources; try again");
		return;
	}
	rc = sv_store_story_create(app->store, id, params_text, SV_JOB_KIND_TEXT,
	                           SV_JOB_MAX_ATTEMPTS, sv_time_unix_ms(), &err);
	free(params_text);
	if (rc < 0) {
		store_failure(res, &err);
		return;
	}
	char location[64];
	snprintf(location, sizeof(location), "/api/v1/stories/%s", id);
	sv_http_set_header(res, "Location", location);
	sv_http_json(res, 202, json_pack("{s:s,s:s}", "id", id, "status", "queued"));
}

/* Whether a story's words may be shown: not while a person reviews them,
 * nor once they were rejected. */
static bool deliverable(const char *status)
{
	return strcmp(status, "review") != 0 && strcmp(status, "rejected") != 0;
}

/* The story resource as text: the stored JSON documents are spliced in as
 * they are, so reading a story never parses it. */
static int story_resource(struct sv_buf *b, const struct sv_store_story *s)
{
	int rc =
	    sv_buf_printf(b,
	                  "{\"id\":\"%s\",\"status\":\"%s\",\"created_at\":%lld,"
	                  "\"updated_at\":%lld,\"parameters\":",
	                  s->id, s->status, (long long)s->created_at, (long long)s->updated_at);
	rc |= sv_buf_puts(b, s->params ? s->params : "null");
	const char *names[] = {"title", "error"};
	bool shown = deliverable(s->status);
	const char *values[] = {shown ? s->title : NULL, s->error};
	for (int i = 0; i < 2; i++) {
		if (!values[i])
			continue;
		json_t *str = json_string(values[i]);
		char *enc = str ? json_dumps(str, JSON_ENCODE_ANY) : NULL;
		json_decref(str);
		rc |= enc ? sv_buf_printf(b, ",\"%s\":%s", names[i], enc) : -1;
		free(enc);
	}
	if (s->story && shown) /* appended, not formatted: it is the bulk of the answer */
		rc |= sv_buf_puts(b, ",\"story\":") | sv_buf_puts(b, s->story);
	rc |= sv_buf_puts(b, "}\n");
	return rc;
}

static void get_story(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	const char *id = req->params[0];
	if (!sv_roles_story_id_valid(id)) {
		sv_http_error(res, 404, "not_found", "id", "no story with id '%.40s'", id);
		return;
	}
	struct sv_store_story s = {0};
	struct sv_err err;
	int rc = sv_store_story_get(app->store, id, &s, &err);
	if (rc < 0) {
		store_failure(res, &err);
	} else if (rc == 1) {
		sv_http_error(res, 404, "not_found", "id", "no story with id '%s'", id);
	} else if (story_resource(&res->body, &s) < 0) {
		sv_http_error(res, 503, "unavailable", NULL, "out of memory");
	} else {
		res->content_type = "application/json; charset=utf-8";
		sv_http_set_header(res, "Cache-Control", "no-store");
	}
	sv_store_story_clear(&s);
}

/* Parses a whole decimal number in [lo, hi]; -1 when it is anything else. */
static int parse_bounded(const char *s, long long lo, long long hi, long long *out)
{
	if (!s || !*s || !isdigit((unsigned char)s[0]))
		return -1;
	char *end;
	long long v = strtoll(s, &end, 10);
	if (*end || v < lo || v > hi)
		return -1;
	*out = v;
	return 0;
}

static void list_stories(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	long long limit = LIST_LIMIT_DEFAULT, cursor = 0;
	const char *ls = sv_http_query(req, "limit"), *cs = sv_http_query(req, "cursor");
	if (ls && parse_bounded(ls, 1, LIST_LIMIT_MAX, &limit) < 0) {
		sv_http_error(res, 400, "invalid_query", "limit",
		              "limit must be a whole number from 1 to %d", LIST_LIMIT_MAX);
		return;
	}
	if (cs && parse_bounded(cs, 1, INT64_MAX, &cursor) < 0) {
		sv_http_error(res, 400, "invalid_query", "cursor",
		              "cursor must be a value from next_cursor of an earlier page");
		return;
	}
	struct sv_store_story rows[LIST_LIMIT_MAX];
	memset(rows, 0, sizeof(rows));
	int n = 0;
	struct sv_err err;
	if (sv_store_story_list(app->store, cursor, (int)limit, rows, &n, &err) < 0) {
		store_failure(res, &err);
		return;
	}
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		json_t *item = json_pack(
		    "{s:s,s:s,s:I,s:I}", "id", rows[i].id, "status", rows[i].status, "created_at",
		    (json_int_t)rows[i].created_at, "updated_at", (json_int_t)rows[i].updated_at);
		if (item && rows[i].title && deliverable(rows[i].status))
			json_object_set_new(item, "title", json_string(rows[i].title));
		json_t *params = rows[i].params ? json_loads(rows[i].params, 0, NULL) : NULL;
		if (item && params)
			json_object_set_new(item, "parameters", params);
		else
			json_decref(params);
		json_array_append_new(list, item);
	}
	json_t *next = json_null();
	if (n == limit && n > 0) {
		char c[24];
		snprintf(c, sizeof(c), "%lld", (long long)rows[n - 1].seq);
		json_decref(next);
		next = json_string(c);
	}
	for (int i = 0; i < n; i++)
		sv_store_story_clear(&rows[i]);
	sv_http_set_header(res, "Cache-Control", "no-store");
	sv_http_json(res, 200, json_pack("{s:o,s:o}", "stories", list, "next_cursor", next));
}

static void delete_story(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	const char *id = req->params[0];
	struct sv_err err;
	int rc = sv_roles_story_id_valid(id) ? sv_store_story_delete(app->store, id, &err) : 1;
	if (rc < 0)
		store_failure(res, &err);
	else if (rc == 1)
		sv_http_error(res, 404, "not_found", "id", "no story with id '%.40s'", id);
	else
		res->status = 204;
}

static void healthz(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	sv_http_json(res, 200, json_pack("{s:s}", "status", "ok"));
}

static void readyz(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	struct sv_err err;
	if (sv_store_ping(app->store, &err) < 0)
		sv_http_json(res, 503,
		             json_pack("{s:s,s:s}", "status", "unavailable", "error", err.message));
	else
		sv_http_json(res, 200, json_pack("{s:s}", "status", "ready"));
}

static void metrics(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	int64_t counts[SV_STORE_NSTATUSES], queued;
	struct sv_err err;
	if (sv_store_story_counts(app->store, counts, &err) == 0) {
		for (int i = 0; i < SV_STORE_NSTATUSES; i++) {
			char labels[48];
			snprintf(labels, sizeof(labels), "status=\"%s\"", sv_store_statuses[i]);
			sv_metrics_set(app->metrics, "storyverse_stories", labels,
			               (double)counts[i]);
		}
	}
	const char *kind;
	for (size_t i = 0; (kind = sv_roles_job_kind_at(i)); i++) {
		char labels[48];
		snprintf(labels, sizeof(labels), "kind=\"%s\"", kind);
		if (sv_store_jobs_queued(app->store, kind, &queued, &err) == 0)
			sv_metrics_set(app->metrics, "storyverse_jobs_queued", labels,
			               (double)queued);
	}
	res->content_type = "text/plain; version=0.0.4; charset=utf-8";
	if (sv_metrics_render(app->metrics, &res->body) < 0)
		sv_http_error(res, 503, "unavailable", NULL, "out of memory");
}

static const struct {
	const char *ext, *type;
} content_types[] = {
    {".html", "text/html; charset=utf-8"},
    {".js", "text/javascript; charset=utf-8"},
    {".css", "text/css; charset=utf-8"},
    {".svg", "image/svg+xml"},
    {".png", "image/png"},
    {".ico", "image/x-icon"},
};

static void serve_asset(struct sv_http_response *res, const char *file)
{
	char name[128];
	snprintf(name, sizeof(name), "web/%s", file);
	const struct sv_asset *a = strchr(file, '/') ? NULL : sv_asset_find(name);
	if (!a) {
		sv_http_error(res, 404, "not_found", NULL, "no such file: /%.60s", file);
		return;
	}
	const char *dot = strrchr(file, '.');
	res->content_type = "application/octet-stream";
	for (size_t i = 0; dot && i < sizeof(content_types) / sizeof(content_types[0]); i++)
		if (strcmp(dot, content_types[i].ext) == 0)
			res->content_type = content_types[i].type;
	res->static_body = a->data;
	res->static_len = a->len;
	sv_http_set_header(res, "Cache-Control", "no-cache");
}

/* ---- a story's media: files kept in the blob store ---- */

/* The content types media may have; the response wants a static string. */
static const char *const media_types[] = {
    "text/html; charset=utf-8",
    "image/png",
    "audio/ogg",
    "audio/mpeg",
    "audio/wav",
    "application/pdf",
    "application/epub+zip",
    "application/json",
};

static const char *media_type(const char *stored)
{
	for (size_t i = 0; i < sizeof(media_types) / sizeof(media_types[0]); i++)
		if (strcmp(stored, media_types[i]) == 0)
			return media_types[i];
	return "application/octet-stream";
}

/* The folders media may sit in: the pictures and the narration. */
static const char *const media_dirs[] = {SV_ROLES_PICTURES_DIR, "audio"};

static int valid_media_part(const char *part)
{
	size_t n = strlen(part);
	return n > 0 && n < sizeof(((struct sv_store_media *)0)->name) && part[0] != '.' &&
	       strspn(part, "abcdefghijklmnopqrstuvwxyz0123456789._-") == n;
}

/* The media name a request names: "story.html", or "images/page-01.png"
 * when dir is given; 0, or -1 when it cannot be a media name. */
static int media_name(const char *dir, const char *file, char out[64])
{
	if (!valid_media_part(file))
		return -1;
	if (!dir)
		return snprintf(out, 64, "%s", file) < 64 ? 0 : -1;
	for (size_t i = 0; i < sizeof(media_dirs) / sizeof(media_dirs[0]); i++)
		if (strcmp(dir, media_dirs[i]) == 0)
			return snprintf(out, 64, "%s/%s", dir, file) < 64 ? 0 : -1;
	return -1;
}

/* Whether the story of a media request exists: 0, or -1 with the answer set. */
static int media_story(struct sv_app *app, const char *id, struct sv_http_response *res)
{
	struct sv_store_story s = {0};
	struct sv_err err;
	int rc = sv_roles_story_id_valid(id) ? sv_store_story_get(app->store, id, &s, &err) : 1;
	if (rc < 0)
		store_failure(res, &err);
	else if (rc == 1)
		sv_http_error(res, 404, "not_found", "id", "no story with id '%.40s'", id);
	else if (!deliverable(s.status))
		sv_http_error(res, strcmp(s.status, "review") == 0 ? 409 : 410,
		              strcmp(s.status, "review") == 0 ? "in_review" : "rejected", "id",
		              strcmp(s.status, "review") == 0
		                  ? "story '%s' is being read by a person before it can be shared"
		                  : "story '%s' was not approved in review and cannot be shared",
		              id);
	if (rc == 0 && !deliverable(s.status))
		rc = 1;
	sv_store_story_clear(&s);
	return rc == 0 ? 0 : -1;
}

#define MAX_MEDIA 256

static void list_media(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	const char *id = req->params[0];
	if (media_story(app, id, res) < 0)
		return;
	struct sv_store_media *m = calloc(MAX_MEDIA, sizeof(*m));
	int n = 0;
	struct sv_err err;
	if (!m || sv_store_media_list(app->store, id, m, MAX_MEDIA, &n, &err) < 0) {
		if (m)
			store_failure(res, &err);
		else
			sv_http_error(res, 503, "unavailable", NULL, "out of memory");
		free(m);
		return;
	}
	json_t *list = json_array();
	for (int i = 0; i < n; i++) {
		char url[160];
		snprintf(url, sizeof(url), "/api/v1/stories/%s/media/%s", id, m[i].name);
		json_array_append_new(list, json_pack("{s:s,s:s,s:I,s:s,s:s}", "name", m[i].name,
		                                      "content_type", m[i].content_type, "size",
		                                      (json_int_t)m[i].size, "blob", m[i].blob,
		                                      "url", url));
	}
	free(m);
	sv_http_json(res, 200, json_pack("{s:o}", "media", list));
	sv_http_set_header(res, "Cache-Control", "no-cache");
}

/* Parses a single "bytes=FIRST-LAST", "bytes=FIRST-" or "bytes=-SUFFIX" range
 * of a body of len bytes: 1 with [*from, *to] (inclusive) when it can be
 * served, 0 when the header asks for something else (several ranges, other
 * units: the whole body is sent), -1 when it cannot be satisfied. */
static int byte_range(const char *h, size_t len, size_t *from, size_t *to)
{
	if (strncmp(h, "bytes=", 6) != 0 || strchr(h, ','))
		return 0;
	const char *p = h + 6;
	char *end;
	if (*p == '-') {
		unsigned long long suffix = strtoull(p + 1, &end, 10);
		if (end == p + 1 || *end || suffix == 0)
			return end == p + 1 || *end ? 0 : -1;
		*from = suffix >= len ? 0 : len - (size_t)suffix;
		*to = len - 1;
		return len ? 1 : -1;
	}
	if (*p < '0' || *p > '9')
		return 0;
	unsigned long long a = strtoull(p, &end, 10), b = len ? len - 1 : 0;
	if (*end != '-')
		return 0;
	if (end[1]) {
		const char *q = end + 1;
		b = strtoull(q, &end, 10);
		if (*end || b < a)
			return 0;
	}
	if (a >= len)
		return -1;
	*from = (size_t)a;
	*to = b >= len ? len - 1 : (size_t)b;
	return 1;
}

/* Cuts a whole body to the Range a request asks for (206, or 416). */
static void answer_range(const struct sv_http_request *req, struct sv_http_response *res)
{
	sv_http_set_header(res, "Accept-Ranges", "bytes");
	const char *h = sv_http_header(req, "Range");
	size_t len = res->body.len, from = 0, to = 0;
	int r = h ? byte_range(h, len, &from, &to) : 0;
	char cr[80];
	if (r < 0) {
		snprintf(cr, sizeof cr, "bytes */%zu", len);
		sv_http_error(res, 416, "range_not_satisfiable", "Range",
		              "the range '%.60s' is outside the %zu bytes of this file", h, len);
		sv_http_set_header(res, "Content-Range", cr);
		return;
	}
	if (r == 0)
		return;
	memmove(res->body.data, res->body.data + from, to - from + 1);
	res->body.len = to - from + 1;
	res->status = 206;
	snprintf(cr, sizeof cr, "bytes %zu-%zu/%zu", from, to, len);
	sv_http_set_header(res, "Content-Range", cr);
}

/* The bytes of one media file. Its ETag is its blob key, so a client that has
 * it already gets 304 without the bytes being read. A Range asks for part of it. */
static void send_media(struct sv_app *app, const struct sv_http_request *req,
                       struct sv_http_response *res, const char *dir, const char *file)
{
	const char *id = req->params[0];
	if (media_story(app, id, res) < 0)
		return;
	struct sv_store_media m;
	struct sv_err err;
	char name[64];
	int rc = media_name(dir, file, name) == 0
	             ? sv_store_media_get(app->store, id, name, &m, &err)
	             : 1;
	if (rc < 0) {
		store_failure(res, &err);
		return;
	}
	if (rc == 1) {
		sv_http_error(res, 404, "not_found", "name",
		              "story '%s' has no media '%.40s%s%.60s'", id, dir ? dir : "",
		              dir ? "/" : "", file);
		return;
	}
	char etag[SV_BLOB_KEY_LEN + 3];
	snprintf(etag, sizeof(etag), "\"%s\"", m.blob);
	const char *have = sv_http_header(req, "If-None-Match");
	if (have && strstr(have, etag)) {
		res->status = 304;
	} else if ((rc = sv_store_blob_get(app->blobs, m.blob, &res->body, &err)) != 0) {
		sv_log(SV_LOG_ERROR, "cannot read media",
		       json_pack("{s:s,s:s,s:s}", "story", id, "name", name, "error",
		                 rc == 1 ? "the blob is missing" : err.message));
		sv_http_error(res, 503, "unavailable", NULL, "cannot read '%s' now; try again",
		              name);
		return;
	}
	res->content_type = media_type(m.content_type);
	sv_http_set_header(res, "ETag", etag);
	sv_http_set_header(res, "Cache-Control", "no-cache");
	if (res->status != 304)
		answer_range(req, res);
}

static void get_media(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	send_media(ctx, req, res, NULL, req->params[1]);
}

static void get_media_in(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	send_media(ctx, req, res, req->params[1], req->params[2]);
}

static void web_index(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	serve_asset(res, "index.html");
}

static void web_file(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	serve_asset(res, req->params[0]);
}

const struct sv_http_route sv_roles_routes[] = {
    {"GET", "/api/v1/catalog", get_catalog, 0},
    {"POST", "/api/v1/stories", create_story, 1},
    {"GET", "/api/v1/stories", list_stories, 0},
    {"GET", "/api/v1/stories/{id}", get_story, 0},
    {"DELETE", "/api/v1/stories/{id}", delete_story, 0},
    {"GET", "/api/v1/stories/{id}/events", sv_roles_story_events, 0},
    {"GET", "/api/v1/stories/{id}/media", list_media, 0},
    {"GET", "/api/v1/stories/{id}/media/{name}", get_media, 0},
    {"GET", "/api/v1/stories/{id}/media/{dir}/{name}", get_media_in, 0},
    {"POST", "/v1/completions", sv_roles_completions, 1},
    {"GET", "/v1/models", sv_roles_models, 0},
    {"GET", "/healthz", healthz, 0},
    {"GET", "/readyz", readyz, 0},
    {"GET", "/metrics", metrics, 0},
    {"GET", "/", web_index, 0},
    {"GET", "/{file}", web_file, 0},
    {NULL, NULL, NULL, 0},
};

const struct sv_http_route sv_roles_health_routes[] = {
    {"POST", "/v1/completions", sv_roles_completions, 1},
    {"GET", "/v1/models", sv_roles_models, 0},
    {"GET", "/healthz", healthz, 0},
    {"GET", "/readyz", readyz, 0},
    {"GET", "/metrics", metrics, 0},
    {NULL, NULL, NULL, 0},
};
