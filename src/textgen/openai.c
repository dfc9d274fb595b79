/*
 * The OpenAI-compatible text provider: POST {base}/v1/chat/completions (chat
 * models: a system and a user message) or {base}/v1/completions (completion
 * models: the page's lead to continue), over libcurl, the answer read with
 * jansson.
 *
 * A write is a loop of attempts. Each attempt reads the answer into its own
 * struct reader: the whole body, or with streaming the server-sent events as
 * they come (a line splitter in the curl write callback, one JSON chunk per
 * event, each chunk's piece of text appended at once). Only a successful
 * attempt's text reaches the caller. Connection failures, timeouts, 429 and
 * 5xx are tried again after a short exponential backoff (or the server's
 * Retry-After); anything else fails at once, with the server's own message.
 *
 * The provider holds only its options, read-only after new; every write has
 * its own curl handle, so any number of threads may write at once.
 */
#include "textgen/textgen.h"

#include <ctype.h>
#include <curl/curl.h>
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <time.h>

#define FIELD              "text_provider"
#define URL_MAX            512
#define DEFAULT_TIMEOUT_MS 60000L
#define CONNECT_TIMEOUT_MS 5000L
#define BACKOFF_FIRST_MS   100L
#define BACKOFF_MAX_MS     2000L
#define RETRY_AFTER_MAX_MS 5000L
#define BODY_MAX           ((size_t)8 << 20)         /* an answer, or one line of a stream */
#define TEXT_MAX           ((size_t)1 << 20)         /* the text of one answer */
#define MESSAGE_MAX        200                       /* bytes of the server's error we repeat */
#define SEED_MASK          ((UINT64_C(1) << 53) - 1) /* survives JSON in any language */

struct openai {
	char *url;  /* {base}/v1/chat/completions or {base}/v1/completions */
	char *base; /* for messages */
	char *auth; /* "Authorization: Bearer KEY", or NULL */
	char *model;
	bool chat, stream;
	long timeout_ms;
	int retries;
};

/* One attempt's answer as it arrives. */
struct reader {
	const struct openai *c;
	CURL *h;
	long status;          /* read at the first byte of the body */
	bool decided, events; /* the body was seen: events (else one JSON document) */
	struct sv_buf body;   /* the body while it is not events; for events, the unread rest */
	struct sv_buf data;   /* the data lines of the event being read */
	struct sv_buf text;   /* the answer's text so far */
	bool seen, done;      /* an event was read; "[DONE]" came */
	bool nomem;           /* the callback stopped curl for want of memory */
	char error[MESSAGE_MAX + 1]; /* the server's error, from an event or the body */
	long retry_after_ms;         /* from Retry-After; -1 when none */
};

static int nomem(struct sv_err *err)
{
	return sv_err_set(err, "nomem", "", "out of memory");
}

/* ---- the base URL ---- */

/* http(s)://host[...]: printable ASCII, no query or fragment, and curl reads it. */
static bool base_valid(const char *url)
{
	size_t len = strlen(url), scheme = 0;
	if (strncasecmp(url, "http://", 7) == 0)
		scheme = 7;
	else if (strncasecmp(url, "https://", 8) == 0)
		scheme = 8;
	if (!scheme || len > URL_MAX || len == scheme || url[scheme] == '/')
		return false;
	for (const char *p = url; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || strchr("?#\\", *p))
			return false;
	}
	CURLU *u = curl_url();
	bool ok = u && curl_url_set(u, CURLUPART_URL, url, 0) == CURLUE_OK;
	curl_url_cleanup(u);
	return ok;
}

/* The base without trailing slashes and without a trailing /v1: the caller frees it. */
static char *base_of(const char *url)
{
	char *b = strdup(url);
	if (!b)
		return NULL;
	size_t n = strlen(b);
	while (n > 0 && b[n - 1] == '/')
		n--;
	if (n >= 3 && strncasecmp(b + n - 3, "/v1", 3) == 0)
		n -= 3;
	while (n > 0 && b[n - 1] == '/')
		n--;
	b[n] = '\0';
	return b;
}

/* ---- the provider ---- */

static void openai_free(void *self)
{
	struct openai *c = self;
	if (!c)
		return;
	free(c->url);
	free(c->base);
	free(c->auth);
	free(c->model);
	free(c);
}

static int fill(struct openai *c, const struct sv_textgen_openai_options *o)
{
	c->base = base_of(o->base_url);
	if (!c->base || asprintf(&c->url, "%s/v1/%s", c->base,
	                         o->chat ? "chat/completions" : "completions") < 0)
		return c->url = NULL, -1;
	if (o->api_key && o->api_key[0] &&
	    asprintf(&c->auth, "Authorization: Bearer %s", o->api_key) < 0)
		return c->auth = NULL, -1;
	if (o->model && o->model[0] && !(c->model = strdup(o->model)))
		return -1;
	c->chat = o->chat;
	c->stream = o->stream;
	c->timeout_ms = o->timeout_ms > 0 ? o->timeout_ms : DEFAULT_TIMEOUT_MS;
	c->retries = o->retries > 0 ? o->retries : 0;
	return 0;
}

void *sv_textgen_openai_new(const struct sv_textgen_openai_options *o, struct sv_err *err)
{
	if (sv_curl_init(FIELD, err) < 0)
		return NULL;
	if (!o || !o->base_url || !base_valid(o->base_url)) {
		sv_err_set(err, "invalid_value", "base_url",
		           "the text server's URL '%.200s' is not like http://HOST:PORT",
		           o && o->base_url ? o->base_url : "");
		return NULL;
	}
	if (o->api_key && strpbrk(o->api_key, "\r\n")) {
		sv_err_set(err, "invalid_value", "api_key", "the API key holds a line break");
		return NULL;
	}
	struct openai *c = calloc(1, sizeof(*c));
	if (!c || fill(c, o) < 0) {
		openai_free(c);
		nomem(err);
		return NULL;
	}
	return c;
}

/* ---- the request ---- */

static json_t *request_body(const struct openai *c, const struct sv_textgen_request *r)
{
	json_t *b = json_pack("{s:i,s:f,s:f,s:I,s:b}", "max_tokens", r->max_tokens, "temperature",
	                      r->temperature, "top_p", r->top_p, "seed",
	                      (json_int_t)(r->seed & SEED_MASK), "stream", c->stream);
	if (b && c->model && json_object_set_new(b, "model", json_string(c->model)) < 0)
		return json_decref(b), NULL;
	if (b && !c->chat) {
		if (json_object_set_new(b, "prompt", json_string(r->lead ? r->lead : "")) < 0)
			return json_decref(b), NULL;
		return b;
	}
	json_t *msgs = json_array();
	if (!b || !msgs ||
	    (r->system && r->system[0] &&
	     json_array_append_new(
	         msgs, json_pack("{s:s,s:s}", "role", "system", "content", r->system)) < 0) ||
	    json_array_append_new(msgs, json_pack("{s:s,s:s}", "role", "user", "content",
	                                          r->prompt ? r->prompt : "")) < 0)
		return json_decref(msgs), json_decref(b), NULL;
	if (json_object_set_new(b, "messages", msgs) < 0)
		return json_decref(b), NULL;
	return b;
}

/* ---- reading answers ---- */

/* The text of choices[0] in an answer or a chunk; NULL when it has none. */
static const char *piece_of(const struct openai *c, const json_t *o, bool chunk)
{
	const json_t *ch = json_array_get(json_object_get(o, "choices"), 0);
	if (!c->chat)
		return json_string_value(json_object_get(ch, "text"));
	const json_t *m = json_object_get(ch, chunk ? "delta" : "message");
	return json_string_value(json_object_get(m, "content"));
}

/* The server's error message in a JSON answer: error.message, error, message, detail. */
static const char *error_of(const json_t *o)
{
	const json_t *e = json_object_get(o, "error");
	if (json_is_string(e))
		return json_string_value(e);
	if (e)
		return json_string_value(json_object_get(e, "message")) ?: "(no message)";
	if (json_object_get(o, "choices"))
		return NULL;
	return json_string_value(json_object_get(o, "message"))
	           ?: json_string_value(json_object_get(o, "detail"));
}

/* Keeps a server's message: trimmed, printable, at most MESSAGE_MAX bytes. */
static void keep_error(struct reader *rd, const char *msg, size_t n)
{
	while (n && isspace((unsigned char)*msg))
		msg++, n--;
	while (n && isspace((unsigned char)msg[n - 1]))
		n--;
	size_t k = 0;
	for (size_t i = 0; i < n && k < MESSAGE_MAX; i++)
		rd->error[k++] = (unsigned char)msg[i] < 0x20 ? ' ' : msg[i];
	while (k < n && k > 0 && ((unsigned char)msg[k] & 0xc0) == 0x80)
		k--; /* cut before a character, not inside it */
	rd->error[k] = '\0';
	if (!k)
		snprintf(rd->error, sizeof(rd->error), "(no message)");
}

/* Our own reason for failing an answer; -1 to stop the transfer. */
static int set_error(struct reader *rd, const char *why)
{
	keep_error(rd, why, strlen(why));
	return -1;
}

static int add_text(struct reader *rd, const char *s)
{
	size_t n = strlen(s);
	if (rd->text.len + n > TEXT_MAX)
		return set_error(rd, "the answer is too long");
	if (sv_buf_append(&rd->text, s, n) < 0)
		return rd->nomem = true, -1;
	return 0;
}

/* One event's data: a chunk of the answer, an error, or [DONE]. -1 stops the stream. */
static int take_event(struct reader *rd)
{
	const char *d = rd->data.data ? rd->data.data : "";
	rd->seen = true;
	if (strcmp(d, "[DONE]") == 0)
		return rd->done = true, 0;
	json_t *o = json_loads(d, 0, NULL);
	const char *e = o ? error_of(o) : NULL;
	const char *piece = o ? piece_of(rd->c, o, true) : NULL;
	int rc = !o      ? set_error(rd, "a stream chunk is not JSON")
	         : e     ? set_error(rd, e)
	         : piece ? add_text(rd, piece)
	                 : 0;
	json_decref(o);
	return rc;
}

/* One line of a stream: data is gathered, a blank line ends the event, the rest is ignored. */
static int take_line(struct reader *rd, const char *line, size_t n)
{
	if (rd->done)
		return 0; /* whatever follows [DONE] */
	if (n && line[n - 1] == '\r')
		n--;
	if (n == 0) {
		int rc = rd->data.len ? take_event(rd) : 0;
		rd->data.len = 0;
		return rc;
	}
	if (n < 5 || memcmp(line, "data:", 5) != 0)
		return 0; /* a comment (":"), or event:, id:, retry: */
	size_t skip = n > 5 && line[5] == ' ' ? 6 : 5;
	if ((rd->data.len && sv_buf_puts(&rd->data, "\n") < 0) ||
	    sv_buf_append(&rd->data, line + skip, n - skip) < 0)
		return rd->nomem = true, -1;
	return 0;
}

/* Reads the complete lines of the unread rest; what follows the last newline waits. */
static int take_lines(struct reader *rd)
{
	size_t used = 0;
	for (;;) {
		const char *s = rd->body.data + used;
		const char *nl = memchr(s, '\n', rd->body.len - used);
		if (!nl)
			break;
		if (take_line(rd, s, (size_t)(nl - s)) < 0)
			return -1;
		used += (size_t)(nl - s) + 1;
	}
	memmove(rd->body.data, rd->body.data + used, rd->body.len - used + 1);
	rd->body.len -= used;
	return 0;
}

/* Events or a JSON document? A server may answer a stream request with one document. */
static void decide(struct reader *rd)
{
	size_t i = 0;
	while (i < rd->body.len && isspace((unsigned char)rd->body.data[i]))
		i++;
	if (i == rd->body.len)
		return;
	rd->decided = true;
	rd->events = rd->c->stream && rd->status / 100 == 2 && rd->body.data[i] != '{';
}

static size_t on_body(char *data, size_t size, size_t n, void *ud)
{
	struct reader *rd = ud;
	size_t k = size * n;
	if (rd->status == 0)
		curl_easy_getinfo(rd->h, CURLINFO_RESPONSE_CODE, &rd->status);
	if (rd->done)
		return k; /* whatever follows [DONE] */
	if (k > BODY_MAX - rd->body.len)
		return set_error(rd, "the answer is too long"), 0;
	if (sv_buf_append(&rd->body, data, k) < 0)
		return rd->nomem = true, 0;
	if (!rd->decided)
		decide(rd);
	return rd->events && take_lines(rd) < 0 ? 0 : k;
}

/* Retry-After: SECONDS (the HTTP-date form is left to the backoff). */
static size_t on_header(char *data, size_t size, size_t n, void *ud)
{
	struct reader *rd = ud;
	size_t k = size * n;
	static const char name[] = "retry-after:";
	if (k > sizeof(name) && strncasecmp(data, name, sizeof(name) - 1) == 0) {
		char v[24] = "";
		size_t len =
		    k - (sizeof(name) - 1) < sizeof(v) - 1 ? k - (sizeof(name) - 1) : sizeof(v) - 1;
		memcpy(v, data + sizeof(name) - 1, len);
		char *end;
		long s = strtol(v, &end, 10);
		if (end != v && s >= 0)
			rd->retry_after_ms =
			    s > RETRY_AFTER_MAX_MS / 1000 ? RETRY_AFTER_MAX_MS : s * 1000;
	}
	return k;
}

/* ---- attempts ---- */

enum outcome { OK, RETRY, FAIL, NOMEM };

static enum outcome failed(struct reader *rd, struct sv_err *err)
{
	sv_err_set(err, "upstream", FIELD, "the text server at %.200s answered HTTP %ld: %s",
	           rd->c->base, rd->status, rd->error);
	return FAIL;
}

static enum outcome http_failed(struct reader *rd, struct sv_err *err)
{
	json_t *o = json_loadb(rd->body.data ? rd->body.data : "", rd->body.len, 0, NULL);
	const char *e = o ? error_of(o) : NULL;
	keep_error(rd, e ? e : rd->body.data ? rd->body.data : "", e ? strlen(e) : rd->body.len);
	json_decref(o);
	failed(rd, err);
	return rd->status == 429 || rd->status / 100 == 5 ? RETRY : FAIL;
}

/* The whole body of an answer that was not streamed; the error in rd->error. */
static enum outcome read_body(struct reader *rd)
{
	json_t *o = json_loadb(rd->body.data ? rd->body.data : "", rd->body.len, 0, NULL);
	const char *e = o ? error_of(o) : "the answer is not JSON";
	const char *piece = o ? piece_of(rd->c, o, false) : NULL;
	if (!e && !piece)
		e = rd->c->chat ? "the answer has no choices[0].message.content"
		                : "the answer has no choices[0].text";
	enum outcome out = FAIL;
	if (e)
		set_error(rd, e);
	else if (add_text(rd, piece) == 0)
		out = OK;
	json_decref(o);
	return rd->nomem ? NOMEM : out;
}

/* The end of a stream: the last event may lack its blank line, [DONE] may not come. */
static enum outcome read_stream(struct reader *rd)
{
	if (rd->body.len && sv_buf_puts(&rd->body, "\n") < 0)
		return NOMEM;
	if (take_lines(rd) < 0 || take_line(rd, "", 0) < 0)
		return rd->nomem ? NOMEM : FAIL;
	return OK;
}

static enum outcome transfer_failed(struct reader *rd, CURLcode rc, const char *errbuf,
                                    struct sv_err *err)
{
	sv_err_set(err, "upstream", FIELD, "the text server at %.200s: POST %.300s: %.200s",
	           rd->c->base, rd->c->url, errbuf[0] ? errbuf : curl_easy_strerror(rc));
	switch (rc) {
	case CURLE_COULDNT_RESOLVE_HOST:
	case CURLE_COULDNT_CONNECT:
	case CURLE_OPERATION_TIMEDOUT:
	case CURLE_SEND_ERROR:
	case CURLE_RECV_ERROR:
	case CURLE_GOT_NOTHING:
	case CURLE_PARTIAL_FILE:
	case CURLE_SSL_CONNECT_ERROR:
		return RETRY;
	default:
		return FAIL;
	}
}

static struct curl_slist *headers(const struct openai *c)
{
	struct curl_slist *h = curl_slist_append(NULL, "Content-Type: application/json");
	struct curl_slist *more =
	    h && c->stream ? curl_slist_append(h, "Accept: text/event-stream") : h;
	if (more && c->auth)
		more = curl_slist_append(more, c->auth);
	if (!more)
		curl_slist_free_all(h);
	return more;
}

static void set_options(CURL *h, const struct openai *c, const char *body, struct curl_slist *hdrs)
{
	curl_easy_setopt(h, CURLOPT_URL, c->url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L); /* timeouts without SIGALRM, for threads */
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_FOLLOWLOCATION, 0L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->timeout_ms);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
	                 c->timeout_ms < CONNECT_TIMEOUT_MS ? c->timeout_ms : CONNECT_TIMEOUT_MS);
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
	curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE, (curl_off_t)strlen(body));
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "storyverse/" SV_VERSION);
}

static void reader_free(struct reader *rd)
{
	sv_buf_free(&rd->body);
	sv_buf_free(&rd->data);
	sv_buf_free(&rd->text);
}

/* One POST; the text into rd->text on OK. A reason in rd->error is the server's
 * (or its answer's) fault, found by the callbacks or after the transfer. */
static enum outcome attempt(CURL *h, struct reader *rd, struct sv_err *err)
{
	char errbuf[CURL_ERROR_SIZE] = "";
	curl_easy_setopt(h, CURLOPT_WRITEDATA, rd);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, rd);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, errbuf);
	CURLcode rc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* errbuf goes out of scope */
	if (rd->nomem)
		return NOMEM;
	if (rc != CURLE_OK && !rd->error[0])
		return transfer_failed(rd, rc, errbuf, err);
	if (rd->status == 0) /* an empty body */
		curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &rd->status);
	enum outcome o = OK;
	if (!rd->error[0] && rd->status / 100 != 2)
		return http_failed(rd, err);
	if (!rd->error[0])
		o = rd->events ? read_stream(rd) : read_body(rd);
	if (o == NOMEM)
		return NOMEM;
	return rd->error[0] ? failed(rd, err) : OK;
}

static void sleep_ms(long ms)
{
	struct timespec t = {.tv_sec = ms / 1000, .tv_nsec = (ms % 1000) * 1000000};
	while (nanosleep(&t, &t) < 0 && errno == EINTR)
		;
}

/* How long to wait before try (from 1): the server's Retry-After, else 100 ms doubling. */
static long backoff_ms(int try, long retry_after_ms)
{
	if (retry_after_ms >= 0)
		return retry_after_ms;
	long ms = BACKOFF_FIRST_MS << (try - 1 < 5 ? try - 1 : 5);
	return ms < BACKOFF_MAX_MS ? ms : BACKOFF_MAX_MS;
}

static int run(const struct openai *c, CURL *h, struct sv_buf *out, struct sv_err *err)
{
	enum outcome o = FAIL;
	for (int try = 0; try <= c->retries; try++) {
		struct reader rd = {.c = c, .h = h, .retry_after_ms = -1};
		o = attempt(h, &rd, err);
		if (o == OK &&
		    sv_buf_append(out, rd.text.data ? rd.text.data : "", rd.text.len) < 0)
			o = NOMEM;
		long wait = backoff_ms(try + 1, rd.retry_after_ms);
		reader_free(&rd);
		if (o != RETRY || try == c->retries)
			break;
		sleep_ms(wait);
	}
	if (o == OK)
		sv_err_clear(err); /* no word of the attempts that failed before */
	if (o == NOMEM)
		return nomem(err);
	if (o == RETRY && c->retries > 0 && err) /* say that it was tried more than once */
		snprintf(err->message + strlen(err->message),
		         sizeof(err->message) - strlen(err->message), " (%d attempts)",
		         c->retries + 1);
	return o == OK ? 0 : -1;
}

static int openai_write(void *self, const struct sv_textgen_request *r, struct sv_buf *out,
                        struct sv_err *err)
{
	const struct openai *c = self;
	json_t *b = request_body(c, r);
	char *body = b ? json_dumps(b, JSON_COMPACT) : NULL;
	json_decref(b);
	struct curl_slist *hdrs = body ? headers(c) : NULL;
	CURL *h = hdrs ? curl_easy_init() : NULL;
	int rc = -1;
	if (!h)
		nomem(err);
	else {
		set_options(h, c, body, hdrs);
		rc = run(c, h, out, err);
		curl_easy_cleanup(h);
	}
	curl_slist_free_all(hdrs);
	free(body);
	return rc;
}

const struct sv_textgen_ops sv_textgen_openai_ops = {
    .name = "openai",
    .write = openai_write,
    .free = openai_free,
};
