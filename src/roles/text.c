/*
 * The text role's model: the language model a process loads (--lm-model),
 * the provider that writes its pages (--text-provider), and the
 * OpenAI-compatible API it serves from that model: POST /v1/completions
 * (whole, or streamed as server-sent events) and GET /v1/models. All
 * requests, whether from this API or from the story workers, share one
 * batcher, so they are decoded together.
 */
#include "lm/lm.h"
#include "roles/internal.h"
#include "textgen/textgen.h"

#include <getopt.h>
#include <libgen.h>
#include <stdlib.h>
#include <string.h>

struct sv_roles_lm {
	struct lm_model *model;
	struct lm_tokenizer *tok;
	struct lm_engine *engine;
	struct lm_batcher *batcher;
	char name[128]; /* the model file's name: its id in the API */
	/* Streamed completions run on threads of their own; closing waits for them. */
	pthread_mutex_t lock;
	pthread_cond_t idle;
	int streaming;
};

int sv_roles_text_option(const char *cmd, int ch, struct sv_roles_common *c)
{
	switch (ch) {
	case SV_OPT_TEXT_PROVIDER: {
		enum sv_textgen_provider p;
		if (sv_textgen_provider_parse(optarg, &p) == 0) {
			c->text_provider = optarg;
			return 0;
		}
		sv_roles_usage_error(
		    cmd, "--text-provider: '%s' is not one of grammar, local, openai", optarg);
		return 2;
	}
	case SV_OPT_LM_MODEL:
		c->lm_model = optarg;
		return 0;
	case SV_OPT_LM_TOKENIZER:
		c->lm_tokenizer = optarg;
		return 0;
	case SV_OPT_LM_THREADS:
		return sv_roles_parse_count(cmd, "lm-threads", optarg, 1, LM_MAX_THREADS,
		                            &c->lm_threads);
	case SV_OPT_LM_INT8:
		c->lm_int8 = true;
		return 0;
	case SV_OPT_OPENAI_MODEL:
		c->openai_model = optarg;
		return 0;
	case SV_OPT_OPENAI_API:
		if (strcmp(optarg, "chat") == 0 || strcmp(optarg, "completions") == 0) {
			c->openai_api = optarg;
			return 0;
		}
		sv_roles_usage_error(cmd, "--openai-api: '%s' is not chat or completions", optarg);
		return 2;
	}
	return -1;
}

static void lm_close(struct sv_roles_lm *l)
{
	if (!l)
		return;
	pthread_mutex_lock(&l->lock);
	while (l->streaming > 0) /* their clients are gone: each ends at its next piece */
		pthread_cond_wait(&l->idle, &l->lock);
	pthread_mutex_unlock(&l->lock);
	pthread_mutex_destroy(&l->lock);
	pthread_cond_destroy(&l->idle);
	lm_batcher_free(l->batcher);
	lm_engine_free(l->engine);
	lm_tokenizer_free(l->tok);
	lm_model_free(l->model);
	free(l);
}

static struct sv_roles_lm *lm_open(const struct sv_roles_common *o, struct sv_err *err)
{
	if (!o->lm_tokenizer) {
		sv_err_set(err, "invalid_value", "lm-tokenizer",
		           "--lm-model needs --lm-tokenizer too");
		return NULL;
	}
	struct sv_roles_lm *l = calloc(1, sizeof *l);
	if (!l) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&l->lock, NULL);
	pthread_cond_init(&l->idle, NULL);
	struct lm_open_options oo = {.int8 = o->lm_int8};
	if (lm_model_open(o->lm_model, &oo, &l->model, err) < 0 ||
	    lm_tokenizer_open(o->lm_tokenizer, lm_model_config(l->model)->vocab_size, &l->tok,
	                      err) < 0 ||
	    !(l->engine = lm_engine_new(l->model, (int)o->lm_threads, LM_KERNELS_AUTO, err)) ||
	    !(l->batcher = lm_batcher_new(l->engine, l->tok, err))) {
		/* The engine's errors name its own fields; these are the flags. */
		if (strcmp(err->field, "model") == 0)
			strcpy(err->field, "lm-model");
		else if (strcmp(err->field, "tokenizer") == 0)
			strcpy(err->field, "lm-tokenizer");
		lm_close(l);
		return NULL;
	}
	char path[sizeof l->name];
	snprintf(path, sizeof path, "%s", o->lm_model);
	snprintf(l->name, sizeof l->name, "%s", basename(path));
	return l;
}

int sv_roles_text_open(struct sv_app *app, const struct sv_roles_common *opts, struct sv_err *err)
{
	enum sv_textgen_provider p = SV_TEXTGEN_GRAMMAR;
	if (opts->text_provider)
		sv_textgen_provider_parse(opts->text_provider, &p);
	if (opts->lm_model && !(app->lm = lm_open(opts, err)))
		return -1;
	if (p == SV_TEXTGEN_LOCAL && !app->lm)
		return sv_err_set(err, "invalid_value", "text-provider",
		                  "the local provider needs --lm-model and --lm-tokenizer");
	const char *key = getenv("STORYVERSE_OPENAI_API_KEY");
	struct sv_textgen_openai_options oo = {
	    .base_url = getenv("STORYVERSE_OPENAI_BASE_URL"),
	    .api_key = key ? key : "",
	    .model = opts->openai_model ? opts->openai_model : "default",
	    .chat = !opts->openai_api || strcmp(opts->openai_api, "chat") == 0,
	    .stream = true,
	    .retries = 2,
	};
	if (p == SV_TEXTGEN_OPENAI && !oo.base_url)
		return sv_err_set(err, "invalid_value", "text-provider",
		                  "the openai provider needs STORYVERSE_OPENAI_BASE_URL");
	app->textgen = sv_textgen_new(p, app->lm ? app->lm->batcher : NULL, &oo, err);
	if (app->textgen && app->moderator)
		sv_textgen_set_moderator(app->textgen, app->moderator, SV_TEXT_REWRITES);
	return app->textgen ? 0 : -1;
}

void sv_roles_text_close(struct sv_app *app)
{
	sv_textgen_free(app->textgen);
	app->textgen = NULL;
	lm_close(app->lm);
	app->lm = NULL;
}

/* ---- GET /v1/models ---- */

void sv_roles_models(void *ctx, const struct sv_http_request *req, struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	json_t *data = json_array();
	if (app->lm)
		json_array_append_new(data,
		                      json_pack("{s:s,s:s,s:i,s:s}", "id", app->lm->name, "object",
		                                "model", "created", 0, "owned_by", "storyverse"));
	sv_http_json(res, 200, json_pack("{s:s,s:o}", "object", "list", "data", data));
}

/* ---- POST /v1/completions ---- */

#define MAX_STOPS 4

/* A completion in progress: what the request asked, and what has come so
 * far. Shared by the HTTP side and (when streamed) the thread that runs it. */
struct completion {
	struct sv_app *app;
	struct lm_request rq;
	char *prompt;
	char *stops[MAX_STOPS];
	int nstops;
	bool stream;
	char id[40];
	int64_t created;
	struct sv_buf text; /* the whole continuation */
	size_t held;        /* bytes of text kept back: they might begin a stop sequence */
	size_t sent;        /* bytes of text already streamed */
	bool stopped;       /* a stop sequence was met */
	/* Streaming: */
	pthread_mutex_t lock;
	struct sv_buf pending; /* events not yet polled */
	bool finished, cancelled;
	int refs;
	struct lm_result result;
	struct sv_err err;
	int rc;
};

static void completion_free(struct completion *c)
{
	free(c->prompt);
	for (int i = 0; i < c->nstops; i++)
		free(c->stops[i]);
	sv_buf_free(&c->text);
	sv_buf_free(&c->pending);
	pthread_mutex_destroy(&c->lock);
	free(c);
}

static void completion_release(struct completion *c)
{
	pthread_mutex_lock(&c->lock);
	int left = --c->refs;
	pthread_mutex_unlock(&c->lock);
	if (left == 0)
		completion_free(c);
}

static int bad(struct sv_http_response *res, const char *field, const char *why)
{
	sv_http_error(res, 400, "invalid_value", field, "%s: %s", field, why);
	return -1;
}

static int read_number(const json_t *body, const char *key, double lo, double hi, double *out,
                       struct sv_http_response *res)
{
	const json_t *v = json_object_get(body, key);
	if (!v || json_is_null(v))
		return 0;
	if (!json_is_number(v) || json_number_value(v) < lo || json_number_value(v) > hi) {
		char why[80];
		snprintf(why, sizeof why, "must be a number from %g to %g", lo, hi);
		return bad(res, key, why);
	}
	*out = json_number_value(v);
	return 0;
}

static int read_stops(struct completion *c, const json_t *v, struct sv_http_response *res)
{
	if (!v || json_is_null(v))
		return 0;
	const json_t *one = v;
	size_t n = json_is_array(v) ? json_array_size(v) : 1;
	if ((!json_is_string(v) && !json_is_array(v)) || n > MAX_STOPS)
		return bad(res, "stop", "must be a string or up to 4 strings");
	for (size_t i = 0; i < n; i++) {
		if (json_is_array(v))
			one = json_array_get(v, i);
		if (!json_is_string(one) || json_string_length(one) == 0 ||
		    json_string_length(one) > 64)
			return bad(res, "stop",
			           "each stop sequence must be a string of 1 to 64 bytes");
		if (!(c->stops[c->nstops++] = strdup(json_string_value(one))))
			return bad(res, "stop", "out of memory");
	}
	return 0;
}

static const char *read_prompt(const json_t *body)
{
	const json_t *p = json_object_get(body, "prompt");
	if (json_is_array(p) && json_array_size(p) == 1)
		p = json_array_get(p, 0);
	return json_string_value(p);
}

/* Reads the request body into c; -1 after a 400 answer. */
static int read_request(struct completion *c, const json_t *body, int seq_len,
                        struct sv_http_response *res)
{
	const char *prompt = read_prompt(body);
	if (!prompt)
		return bad(res, "prompt", "must be a string");
	double max_tokens = 16, temperature = 1, top_p = 1, seed = 0, n = 1;
	if (read_number(body, "max_tokens", 1, seq_len, &max_tokens, res) < 0 ||
	    read_number(body, "temperature", 0, 2, &temperature, res) < 0 ||
	    read_number(body, "top_p", 0, 1, &top_p, res) < 0 ||
	    read_number(body, "seed", 0, 9007199254740991.0, &seed, res) < 0 ||
	    read_number(body, "n", 1, 1, &n, res) < 0 ||
	    read_stops(c, json_object_get(body, "stop"), res) < 0)
		return -1;
	const json_t *stream = json_object_get(body, "stream");
	if (stream && !json_is_boolean(stream) && !json_is_null(stream))
		return bad(res, "stream", "must be true or false");
	if (max_tokens != (int)max_tokens)
		return bad(res, "max_tokens", "must be a whole number");
	c->stream = json_is_true(stream);
	if (!(c->prompt = strdup(prompt)))
		return bad(res, "prompt", "out of memory");
	c->rq = (struct lm_request){.prompt = c->prompt,
	                            .max_tokens = (int)max_tokens,
	                            .temperature = (float)temperature,
	                            .top_p = (float)top_p,
	                            .seed = (uint64_t)seed};
	return 0;
}

/* A choice of len bytes of text: a model's pieces may be raw bytes, so
 * whatever is not valid UTF-8 becomes U+FFFD. */
static json_t *choice(const char *text, size_t len, const char *finish)
{
	struct sv_buf b;
	sv_buf_init(&b);
	json_t *j = sv_buf_utf8(&b, text, len) == 0
	                ? json_pack("{s:s%,s:i,s:n,s:s?}", "text", b.data ? b.data : "", b.len,
	                            "index", 0, "logprobs", "finish_reason", finish)
	                : NULL;
	sv_buf_free(&b);
	return j;
}

/* Bytes at the end of text that begin a UTF-8 sequence whose last bytes
 * have not come yet: a stream holds them back. */
static size_t utf8_unfinished(const char *text, size_t len)
{
	for (size_t k = 1; k <= 3 && k <= len; k++) {
		unsigned char c = (unsigned char)text[len - k];
		if ((c & 0xc0) == 0x80)
			continue;
		size_t need = c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : c >= 0xc0 ? 2 : 1;
		return need > k ? k : 0;
	}
	return 0;
}

static json_t *envelope(const struct completion *c, json_t *choice_obj)
{
	return json_pack("{s:s,s:s,s:I,s:s,s:[o]}", "id", c->id, "object", "text_completion",
	                 "created", (json_int_t)c->created, "model", c->app->lm->name, "choices",
	                 choice_obj);
}

/* Appends one server-sent event holding doc (stolen) to pending. */
static void queue_event(struct completion *c, json_t *doc)
{
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	if (s)
		sv_buf_printf(&c->pending, "data: %s\n\n", s);
	free(s);
}

/* Where a stop sequence begins in text, or len when none does. */
static size_t stop_at(const struct completion *c, const char *text, size_t len)
{
	size_t at = len;
	for (int i = 0; i < c->nstops; i++) {
		const char *hit = memmem(text, len, c->stops[i], strlen(c->stops[i]));
		if (hit && (size_t)(hit - text) < at)
			at = (size_t)(hit - text);
	}
	return at;
}

/* Bytes at the end of text that could still grow into a stop sequence. */
static size_t stop_prefix(const struct completion *c, const char *text, size_t len)
{
	size_t keep = 0;
	for (int i = 0; i < c->nstops; i++) {
		size_t sl = strlen(c->stops[i]);
		for (size_t k = sl - 1; k > keep; k--)
			if (k <= len && memcmp(text + len - k, c->stops[i], k) == 0) {
				keep = k;
				break;
			}
	}
	return keep;
}

/* The batcher's callback: keeps the piece, ends at a stop sequence, and
 * when streaming queues what is safe to send. */
static int on_piece(void *ctx, const char *piece)
{
	struct completion *c = ctx;
	if (sv_buf_puts(&c->text, piece) < 0)
		return 1;
	size_t at = stop_at(c, c->text.data, c->text.len);
	if (at < c->text.len) {
		c->text.len = at;
		c->text.data[at] = '\0';
		c->stopped = true;
	}
	if (c->stream) {
		size_t safe = c->stopped ? c->text.len
		                         : c->text.len - stop_prefix(c, c->text.data, c->text.len);
		safe -= utf8_unfinished(c->text.data, safe);
		pthread_mutex_lock(&c->lock);
		if (safe > c->sent)
			queue_event(
			    c, envelope(c, choice(c->text.data + c->sent, safe - c->sent, NULL)));
		c->sent = safe > c->sent ? safe : c->sent;
		bool cancelled = c->cancelled;
		pthread_mutex_unlock(&c->lock);
		if (cancelled)
			return 1;
	}
	return c->stopped ? 1 : 0;
}

/* Counts a finished completion (r NULL when it failed). */
static void count(struct sv_app *app, const char *outcome, const struct lm_result *r)
{
	char labels[40];
	snprintf(labels, sizeof labels, "outcome=\"%s\"", outcome);
	sv_metrics_add(app->metrics, "storyverse_lm_requests_total", labels, 1);
	if (!r)
		return;
	sv_metrics_add(app->metrics, "storyverse_lm_tokens_total", "kind=\"prompt\"",
	               r->prompt_tokens);
	sv_metrics_add(app->metrics, "storyverse_lm_tokens_total", "kind=\"completion\"",
	               r->completion_tokens);
}

static const char *finish_reason(const struct completion *c)
{
	return c->stopped ? "stop" : c->result.finish_reason;
}

static void *stream_main(void *arg)
{
	struct completion *c = arg;
	c->rc = lm_batcher_run(c->app->lm->batcher, &c->rq, &c->result, &c->err);
	count(c->app, c->rc == 0 ? "ok" : "failed", c->rc == 0 ? &c->result : NULL);
	pthread_mutex_lock(&c->lock);
	if (c->rc == 0) {
		if (c->text.len > c->sent)
			queue_event(c, envelope(c, choice(c->text.data + c->sent,
			                                  c->text.len - c->sent, NULL)));
		queue_event(c, envelope(c, choice("", 0, finish_reason(c))));
	} else {
		queue_event(c, json_pack("{s:{s:s,s:s}}", "error", "code", c->err.code, "message",
		                         c->err.message));
	}
	sv_buf_puts(&c->pending, "data: [DONE]\n\n");
	c->finished = true;
	pthread_mutex_unlock(&c->lock);
	struct sv_roles_lm *l = c->app->lm;
	completion_release(c);
	pthread_mutex_lock(&l->lock);
	if (--l->streaming == 0)
		pthread_cond_broadcast(&l->idle);
	pthread_mutex_unlock(&l->lock);
	return NULL;
}

static int stream_poll(void *ctx, struct sv_buf *out)
{
	struct completion *c = ctx;
	pthread_mutex_lock(&c->lock);
	int rc = 0;
	if (c->pending.len) {
		rc = sv_buf_append(out, c->pending.data, c->pending.len) < 0 ? -1 : 0;
		c->pending.len = 0;
	}
	if (rc == 0 && c->finished)
		rc = 1;
	pthread_mutex_unlock(&c->lock);
	return rc;
}

static void stream_done(void *ctx)
{
	struct completion *c = ctx;
	pthread_mutex_lock(&c->lock);
	c->cancelled = true; /* the client is gone: the next piece ends the request */
	pthread_mutex_unlock(&c->lock);
	completion_release(c);
}

static int start_stream(struct completion *c, struct sv_http_response *res)
{
	c->refs = 2; /* the thread's and the response's */
	struct sv_roles_lm *l = c->app->lm;
	pthread_mutex_lock(&l->lock);
	l->streaming++;
	pthread_mutex_unlock(&l->lock);
	pthread_t t;
	pthread_attr_t attr;
	pthread_attr_init(&attr);
	pthread_attr_setdetachstate(&attr, PTHREAD_CREATE_DETACHED);
	int rc = pthread_create(&t, &attr, stream_main, c);
	pthread_attr_destroy(&attr);
	if (rc != 0) {
		c->refs = 1;
		pthread_mutex_lock(&l->lock);
		l->streaming--;
		pthread_mutex_unlock(&l->lock);
		return -1;
	}
	res->status = 200;
	res->content_type = "text/event-stream";
	sv_http_set_header(res, "Cache-Control", "no-cache");
	res->stream = (struct sv_http_stream){stream_poll, stream_done, c, 20};
	return 0;
}

static void answer_whole(struct completion *c, struct sv_http_response *res)
{
	struct sv_err err = {0};
	struct lm_result r;
	if (lm_batcher_run(c->app->lm->batcher, &c->rq, &r, &err) < 0) {
		int status = strcmp(err.code, "invalid_value") == 0 ? 400 : 503;
		count(c->app, status == 400 ? "invalid" : "failed", NULL);
		sv_http_error(res, status, err.code, err.field, "%s", err.message);
		return;
	}
	count(c->app, "ok", &r);
	c->result = r;
	json_t *doc =
	    envelope(c, choice(c->text.data ? c->text.data : "", c->text.len, finish_reason(c)));
	json_object_set_new(doc, "usage",
	                    json_pack("{s:i,s:i,s:i}", "prompt_tokens", r.prompt_tokens,
	                              "completion_tokens", r.completion_tokens, "total_tokens",
	                              r.prompt_tokens + r.completion_tokens));
	sv_http_json(res, 200, doc);
}

void sv_roles_completions(void *ctx, const struct sv_http_request *req,
                          struct sv_http_response *res)
{
	struct sv_app *app = ctx;
	if (!app->lm) {
		sv_http_error(res, 503, "unavailable", NULL,
		              "no language model is loaded here (start with --lm-model and "
		              "--lm-tokenizer)");
		return;
	}
	json_error_t jerr;
	json_t *body = json_loads(req->body, 0, &jerr);
	if (!json_is_object(body)) {
		json_decref(body);
		sv_http_error(res, 400, "invalid_json", NULL, "the body must be a JSON object");
		return;
	}
	struct completion *c = calloc(1, sizeof *c);
	if (!c) {
		json_decref(body);
		sv_http_error(res, 503, "nomem", NULL, "out of memory");
		return;
	}
	pthread_mutex_init(&c->lock, NULL);
	c->app = app;
	c->refs = 1;
	c->created = sv_time_unix_ms() / 1000;
	strcpy(c->id, "cmpl-");
	if (sv_random_hex(c->id + 5, 12) < 0)
		strcpy(c->id + 5, "local");
	int rc = read_request(c, body, lm_engine_config(app->lm->engine)->seq_len, res);
	json_decref(body);
	if (rc < 0)
		count(app, "invalid", NULL);
	if (rc == 0) {
		c->rq.on_piece = on_piece;
		c->rq.ctx = c;
		if (!c->stream)
			answer_whole(c, res);
		else if (start_stream(c, res) == 0)
			return; /* the stream owns c now */
		else
			sv_http_error(res, 503, "unavailable", NULL, "cannot start the completion");
	}
	completion_release(c);
}
