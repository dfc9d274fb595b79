/*
 * Blobs in an S3-compatible bucket: "s3://BUCKET?endpoint=URL&region=R".
 *
 * Objects are addressed path-style (ENDPOINT/BUCKET/KEY) because that works
 * with every S3-compatible server and needs no per-bucket DNS. Requests are
 * signed by libcurl (CURLOPT_AWS_SIGV4). The x-amz-content-sha256 header that
 * S3 requires is ours to send: for a put it is the blob key itself (the key is
 * the SHA-256 of the bytes), so S3 checks the upload's integrity for free.
 *
 * Easy handles are pooled so that connections (and TLS sessions) are reused.
 */
#include "store/store.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define EMPTY_SHA256 "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855"
#define POOL_MAX     8
#define HEAD_FIRST_BYTES                                                                           \
	((size_t)256 * 1024) /* above this, asking first is cheaper than re-sending */
#define CONNECT_TIMEOUT_MS 5000L
#define TOTAL_TIMEOUT_MS   60000L

struct s3_blobs {
	char *base;       /* ENDPOINT/BUCKET */
	char sigv4[64];   /* aws:amz:REGION:s3 */
	char *access_key; /* from the environment at open */
	char *secret_key;
	char *token_header; /* "x-amz-security-token: …" or NULL */
	pthread_mutex_t lock;
	CURL *idle[POOL_MAX];
	int nidle;
};

/* What open parses out of the URL; the strings are owned here until moved. */
struct s3_config {
	char bucket[64];
	char *endpoint;
	char *region;
};

/* ---- parsing the URL and the environment ---- */

static int bad_url(struct sv_err *err, const char *fmt, const char *what)
{
	return sv_err_set(err, "invalid_value", "blobs", fmt, what);
}

static bool is_lower_alnum(char c)
{
	return (c >= 'a' && c <= 'z') || (c >= '0' && c <= '9');
}

/* S3 bucket naming rules: 3-63 of [a-z0-9.-], alphanumeric at both ends, no "..". */
static bool bucket_valid(const char *s, size_t n)
{
	if (n < 3 || n > 63 || !is_lower_alnum(s[0]) || !is_lower_alnum(s[n - 1]))
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_lower_alnum(s[i]) && s[i] != '.' && s[i] != '-')
			return false;
		if (s[i] == '.' && s[i + 1] == '.')
			return false;
	}
	return true;
}

/* A region goes into the signing scope "aws:amz:REGION:s3", so no colons or spaces. */
static bool region_valid(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n > 32)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!is_lower_alnum(s[i]) && s[i] != '-')
			return false;
	}
	return true;
}

/* Only what a URL needs: a scheme, a host, no query or fragment, no spaces or controls. */
static bool endpoint_valid(const char *s)
{
	const char *host = NULL;
	if (strncmp(s, "http://", 7) == 0)
		host = s + 7;
	else if (strncmp(s, "https://", 8) == 0)
		host = s + 8;
	if (!host || !*host || *host == '/')
		return false;
	for (const char *p = s; *p; p++) {
		if ((unsigned char)*p <= 0x20 || (unsigned char)*p >= 0x7f || *p == '?' ||
		    *p == '#')
			return false;
	}
	return true;
}

static int hex_value(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	return -1;
}

/* Decodes %XX escapes of s[0..n); NULL for a malformed escape or an encoded NUL. */
static char *pct_decode(const char *s, size_t n)
{
	char *out = malloc(n + 1), *o = out;
	if (!out)
		return NULL;
	for (size_t i = 0; i < n; i++) {
		if (s[i] != '%') {
			*o++ = s[i];
			continue;
		}
		int hi = i + 2 < n ? hex_value(s[i + 1]) : -1;
		int lo = i + 2 < n ? hex_value(s[i + 2]) : -1;
		if (hi < 0 || lo < 0 || (hi == 0 && lo == 0)) {
			free(out);
			return NULL;
		}
		*o++ = (char)(hi * 16 + lo);
		i += 2;
	}
	*o = '\0';
	return out;
}

static char **param_slot(struct s3_config *c, const char *name)
{
	if (strcmp(name, "endpoint") == 0)
		return &c->endpoint;
	if (strcmp(name, "region") == 0)
		return &c->region;
	return NULL;
}

/* Stores one name=value pair of the query into c; unknown names are errors. */
static int query_param(struct s3_config *c, const char *pair, size_t n, struct sv_err *err)
{
	const char *eq = memchr(pair, '=', n);
	size_t name_len = eq ? (size_t)(eq - pair) : n;
	char *name = pct_decode(pair, name_len);
	char *value = eq ? pct_decode(eq + 1, n - name_len - 1) : NULL;
	char **slot = name ? param_slot(c, name) : NULL;
	int rc = -1;
	if (!name || (eq && !value))
		sv_err_set(err, "invalid_value", "blobs",
		           "blob store URL parameter '%.*s' is malformed (bad %%-escape)",
		           (int)(n > 64 ? 64 : n), pair);
	else if (!slot)
		sv_err_set(err, "invalid_value", "blobs",
		           "unknown blob store URL parameter '%.64s' (known: endpoint, region)",
		           name);
	else if (*slot)
		bad_url(err, "blob store URL parameter '%s' is given twice", name);
	else if (!value || !*value)
		bad_url(err, "blob store URL parameter '%s' needs a value", name);
	else {
		*slot = value;
		value = NULL;
		rc = 0;
	}
	free(name);
	free(value);
	return rc;
}

static int parse_query(struct s3_config *c, const char *q, struct sv_err *err)
{
	while (*q) {
		size_t n = strcspn(q, "&");
		if (n > 0 && query_param(c, q, n, err) < 0)
			return -1;
		q += n;
		if (*q == '&')
			q++;
	}
	return 0;
}

/* The region: from the URL, else AWS_REGION, else AWS_DEFAULT_REGION, else us-east-1. */
static int resolve_region(struct s3_config *c, struct sv_err *err)
{
	const char *source = "the region parameter";
	if (!c->region) {
		const char *env = getenv("AWS_REGION");
		source = "AWS_REGION";
		if (!env || !*env) {
			env = getenv("AWS_DEFAULT_REGION");
			source = "AWS_DEFAULT_REGION";
		}
		c->region = strdup(env && *env ? env : "us-east-1");
		if (!c->region)
			return sv_err_set(err, "nomem", "", "out of memory");
	}
	if (!region_valid(c->region))
		return sv_err_set(err, "invalid_value", "blobs",
		                  "S3 region '%.40s' from %s is not valid (like us-east-1)",
		                  c->region, source);
	return 0;
}

static int resolve_endpoint(struct s3_config *c, struct sv_err *err)
{
	if (!c->endpoint && asprintf(&c->endpoint, "https://s3.%s.amazonaws.com", c->region) < 0) {
		c->endpoint = NULL;
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	/* c owns the endpoint either way: s3_open frees it (the analyzer loses track). */
	if (!endpoint_valid(c->endpoint)) // NOLINT(clang-analyzer-unix.Malloc)
		return sv_err_set(err, "invalid_value", "blobs",
		                  "S3 endpoint '%.200s' is not an http:// or https:// URL",
		                  c->endpoint);
	size_t n = strlen(c->endpoint);
	while (n > 0 && c->endpoint[n - 1] == '/')
		c->endpoint[--n] = '\0';
	return 0;
}

static int parse_location(const char *location, struct s3_config *c, struct sv_err *err)
{
	if (strncmp(location, "//", 2) != 0)
		return bad_url(err, "blob store URL 's3:%.200s' must look like s3://BUCKET?...",
		               location);
	const char *bucket = location + 2;
	size_t n = strcspn(bucket, "?/");
	if (bucket[n] == '/')
		return bad_url(err,
		               "blob store URL 's3:%.200s' has a path; only s3://BUCKET is "
		               "supported",
		               location);
	if (!bucket_valid(bucket, n))
		return sv_err_set(err, "invalid_value", "blobs",
		                  "S3 bucket name '%.*s' is not valid (3-63 characters: lowercase "
		                  "letters, digits, dots, hyphens)",
		                  (int)(n > 80 ? 80 : n), bucket);
	memcpy(c->bucket, bucket, n);
	c->bucket[n] = '\0';
	if (bucket[n] == '?' && parse_query(c, bucket + n + 1, err) < 0)
		return -1;
	if (resolve_region(c, err) < 0)
		return -1;
	return resolve_endpoint(c, err);
}

/* Credentials go into headers: printable ASCII without spaces only. */
static bool credential_valid(const char *s)
{
	for (; *s; s++) {
		if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
			return false;
	}
	return true;
}

static int load_credentials(struct s3_blobs *s, struct sv_err *err)
{
	const char *id = getenv("AWS_ACCESS_KEY_ID");
	const char *secret = getenv("AWS_SECRET_ACCESS_KEY");
	const char *token = getenv("AWS_SESSION_TOKEN");
	if (!id || !*id || !secret || !*secret)
		return sv_err_set(err, "invalid_value", "blobs",
		                  "the s3 blob store needs AWS_ACCESS_KEY_ID and "
		                  "AWS_SECRET_ACCESS_KEY in the environment");
	if (!credential_valid(id) || !credential_valid(secret) ||
	    (token && !credential_valid(token)))
		return sv_err_set(err, "invalid_value", "blobs",
		                  "AWS credentials in the environment contain spaces or control "
		                  "characters");
	s->access_key = strdup(id);
	s->secret_key = strdup(secret);
	if (token && *token && asprintf(&s->token_header, "x-amz-security-token: %s", token) < 0)
		s->token_header = NULL;
	if (!s->access_key || !s->secret_key || (token && *token && !s->token_header))
		return sv_err_set(err, "nomem", "", "out of memory");
	return 0;
}

/* ---- open and close ---- */

static void s3_close(void *impl)
{
	struct s3_blobs *s = impl;
	if (!s)
		return;
	for (int i = 0; i < s->nidle; i++)
		curl_easy_cleanup(s->idle[i]);
	pthread_mutex_destroy(&s->lock);
	free(s->base);
	free(s->access_key);
	free(s->secret_key);
	free(s->token_header);
	free(s);
}

static struct s3_blobs *s3_new(const struct s3_config *c, struct sv_err *err)
{
	struct s3_blobs *s = calloc(1, sizeof(*s));
	if (!s) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&s->lock, NULL);
	snprintf(s->sigv4, sizeof(s->sigv4), "aws:amz:%s:s3", c->region);
	if (asprintf(&s->base, "%s/%s", c->endpoint, c->bucket) < 0) {
		s->base = NULL;
		sv_err_set(err, "nomem", "", "out of memory");
	} else if (load_credentials(s, err) == 0) {
		return s;
	}
	s3_close(s);
	return NULL;
}

static void *s3_open(const char *location, struct sv_err *err)
{
	if (sv_curl_init("blobs", err) < 0)
		return NULL;
	struct s3_config c = {0};
	struct s3_blobs *s = NULL;
	if (parse_location(location, &c, err) == 0)
		s = s3_new(&c, err);
	free(c.endpoint);
	free(c.region);
	return s;
}

/* ---- requests ---- */

static CURL *handle_take(struct s3_blobs *s)
{
	CURL *h = NULL;
	pthread_mutex_lock(&s->lock);
	if (s->nidle > 0)
		h = s->idle[--s->nidle];
	pthread_mutex_unlock(&s->lock);
	if (h) {
		curl_easy_reset(h); /* keeps its connections, drops every option */
		return h;
	}
	return curl_easy_init();
}

static void handle_give(struct s3_blobs *s, CURL *h)
{
	pthread_mutex_lock(&s->lock);
	if (s->nidle < POOL_MAX) {
		s->idle[s->nidle++] = h;
		h = NULL;
	}
	pthread_mutex_unlock(&s->lock);
	if (h)
		curl_easy_cleanup(h);
}

struct upload {
	const char *data;
	size_t len, pos;
};

static size_t upload_read(char *buf, size_t size, size_t n, void *ud)
{
	struct upload *u = ud;
	size_t want = size * n, left = u->len - u->pos;
	size_t k = want < left ? want : left;
	memcpy(buf, u->data + u->pos, k);
	u->pos += k;
	return k;
}

/* curl rewinds when it must send the body again (a redirect or an auth retry). */
static int upload_seek(void *ud, curl_off_t offset, int origin)
{
	struct upload *u = ud;
	if (origin != SEEK_SET || offset < 0 || (size_t)offset > u->len)
		return CURL_SEEKFUNC_FAIL;
	u->pos = (size_t)offset;
	return CURL_SEEKFUNC_OK;
}

static size_t body_write(char *data, size_t size, size_t n, void *ud)
{
	return sv_buf_append(ud, data, size * n) < 0 ? 0 : size * n;
}

/* One request. method is GET, HEAD or PUT; up is the PUT body. */
struct s3_request {
	const char *method;
	const char *url;
	const char *payload_sha256; /* hex; S3 needs it signed */
	struct upload *up;
	struct sv_buf body; /* the response body */
	long status;
};

static int set_common(struct s3_blobs *s, CURL *h, struct s3_request *r, struct curl_slist *hdrs)
{
	CURLcode rc = CURLE_OK;
	rc |= curl_easy_setopt(h, CURLOPT_URL, r->url);
	rc |= curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	rc |= curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	rc |= curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, CONNECT_TIMEOUT_MS);
	rc |= curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, TOTAL_TIMEOUT_MS);
	rc |= curl_easy_setopt(h, CURLOPT_AWS_SIGV4, s->sigv4);
	rc |= curl_easy_setopt(h, CURLOPT_USERNAME, s->access_key);
	rc |= curl_easy_setopt(h, CURLOPT_PASSWORD, s->secret_key);
	rc |= curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, body_write);
	rc |= curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	return rc == CURLE_OK ? 0 : -1;
}

static int set_method(CURL *h, struct s3_request *r)
{
	CURLcode rc = CURLE_OK;
	if (strcmp(r->method, "HEAD") == 0) {
		rc |= curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	} else if (strcmp(r->method, "PUT") == 0) {
		rc |= curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		rc |= curl_easy_setopt(h, CURLOPT_READFUNCTION, upload_read);
		rc |= curl_easy_setopt(h, CURLOPT_READDATA, r->up);
		rc |= curl_easy_setopt(h, CURLOPT_SEEKFUNCTION, upload_seek);
		rc |= curl_easy_setopt(h, CURLOPT_SEEKDATA, r->up);
		rc |= curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)r->up->len);
	}
	return rc == CURLE_OK ? 0 : -1;
}

static struct curl_slist *request_headers(struct s3_blobs *s, const struct s3_request *r)
{
	char sha[96];
	snprintf(sha, sizeof(sha), "x-amz-content-sha256: %s", r->payload_sha256);
	struct curl_slist *h = curl_slist_append(NULL, sha);
	if (h && s->token_header) {
		struct curl_slist *more = curl_slist_append(h, s->token_header);
		if (!more) {
			curl_slist_free_all(h);
			return NULL;
		}
		h = more;
	}
	return h;
}

/* Runs r on h. 0 when an HTTP status came back (any status), -1 on a transport error. */
static int perform_on(struct s3_blobs *s, CURL *h, struct s3_request *r, struct sv_err *err)
{
	struct curl_slist *hdrs = request_headers(s, r);
	char curl_err[CURL_ERROR_SIZE] = "";
	sv_buf_free(&r->body);
	if (!hdrs || set_common(s, h, r, hdrs) < 0 || set_method(h, r) < 0 ||
	    curl_easy_setopt(h, CURLOPT_ERRORBUFFER, curl_err) != CURLE_OK) {
		curl_slist_free_all(hdrs);
		return sv_err_set(err, "internal", "", "cannot set up the S3 request");
	}
	CURLcode rc = curl_easy_perform(h);
	curl_easy_setopt(h, CURLOPT_ERRORBUFFER, NULL); /* curl_err goes out of scope */
	curl_slist_free_all(hdrs);
	if (rc != CURLE_OK)
		return sv_err_set(err, "io", "", "S3 %s %s failed: %s", r->method, r->url,
		                  curl_err[0] ? curl_err : curl_easy_strerror(rc));
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	return 0;
}

static int perform(struct s3_blobs *s, struct s3_request *r, struct sv_err *err)
{
	CURL *h = handle_take(s);
	if (!h)
		return sv_err_set(err, "nomem", "", "cannot create a curl handle");
	int rc = perform_on(s, h, r, err);
	handle_give(s, h);
	return rc;
}

/* ---- minimal XML: S3 answers with flat, well-known elements ---- */

/* Finds the text of the next <tag>…</tag> at or after *from; advances *from past it. */
static bool xml_next(const char **from, const char *tag, const char **text, size_t *len)
{
	char open[48], close[48];
	snprintf(open, sizeof(open), "<%s>", tag);
	snprintf(close, sizeof(close), "</%s>", tag);
	const char *a = strstr(*from, open);
	if (!a)
		return false;
	a += strlen(open);
	const char *b = strstr(a, close);
	if (!b)
		return false;
	*text = a;
	*len = (size_t)(b - a);
	*from = b + strlen(close);
	return true;
}

/* The decoded text of the first <tag> in xml, or NULL. Only the five XML
 * entities are decoded: that is all S3 emits in codes and tokens. */
static char *xml_first(const char *xml, const char *tag)
{
	const char *text;
	size_t n;
	if (!xml || !xml_next(&xml, tag, &text, &n))
		return NULL;
	static const char *const ents[][2] = {
	    {"&amp;", "&"}, {"&lt;", "<"}, {"&gt;", ">"}, {"&quot;", "\""}, {"&apos;", "'"}};
	char *out = malloc(n + 1), *o = out;
	for (size_t i = 0; out && i < n;) {
		size_t k = 0;
		for (size_t e = 0; e < 5 && !k; e++) {
			size_t el = strlen(ents[e][0]);
			if (el <= n - i && memcmp(text + i, ents[e][0], el) == 0) {
				*o++ = ents[e][1][0];
				k = el;
			}
		}
		if (!k) {
			*o++ = text[i];
			k = 1;
		}
		i += k;
	}
	if (out)
		*o = '\0';
	return out;
}

static int http_error(const struct s3_request *r, struct sv_err *err)
{
	char *code = xml_first(r->body.data, "Code");
	char *msg = xml_first(r->body.data, "Message");
	sv_err_set(err, "io", "", "S3 %s %s: HTTP %ld%s%.60s%s%.160s", r->method, r->url, r->status,
	           code ? " " : "", code ? code : "", msg ? ": " : "", msg ? msg : "");
	free(code);
	free(msg);
	return -1;
}

/* ---- the operations ---- */

static char *object_url(const struct s3_blobs *s, const char *key)
{
	char *url;
	return asprintf(&url, "%s/%s", s->base, key) < 0 ? NULL : url;
}

static int s3_exists(struct s3_blobs *s, const char *url, struct sv_err *err)
{
	struct s3_request r = {.method = "HEAD", .url = url, .payload_sha256 = EMPTY_SHA256};
	sv_buf_init(&r.body);
	int rc = perform(s, &r, err);
	sv_buf_free(&r.body);
	return rc < 0 ? -1 : r.status == 200 ? 1 : 0;
}

static int s3_put(void *impl, const char *key, const void *data, size_t len, struct sv_err *err)
{
	struct s3_blobs *s = impl;
	char *url = object_url(s, key);
	if (!url)
		return sv_err_set(err, "nomem", "", "out of memory");
	int rc = len >= HEAD_FIRST_BYTES ? s3_exists(s, url, err) : 0;
	if (rc == 0) {
		struct upload up = {.data = data, .len = len};
		struct s3_request r = {
		    .method = "PUT", .url = url, .payload_sha256 = key, .up = &up};
		sv_buf_init(&r.body);
		rc = perform(s, &r, err);
		if (rc == 0 && r.status != 200)
			rc = http_error(&r, err);
		sv_buf_free(&r.body);
	}
	free(url);
	return rc < 0 ? -1 : 0;
}

/* What a GET answered: 0 with the bytes appended, 1 for no such key, -1 otherwise. */
static int get_result(const struct s3_request *r, struct sv_buf *out, struct sv_err *err)
{
	if (r->status == 404) {
		/* A missing bucket is a misconfiguration, not a missing blob. */
		char *code = xml_first(r->body.data, "Code");
		bool no_bucket = code && strcmp(code, "NoSuchBucket") == 0;
		free(code);
		return no_bucket ? http_error(r, err) : 1;
	}
	if (r->status != 200)
		return http_error(r, err);
	if (sv_buf_append(out, r->body.data ? r->body.data : "", r->body.len) < 0)
		return sv_err_set(err, "nomem", "", "out of memory");
	return 0;
}

static int s3_get(void *impl, const char *key, struct sv_buf *out, struct sv_err *err)
{
	struct s3_blobs *s = impl;
	char *url = object_url(s, key);
	if (!url)
		return sv_err_set(err, "nomem", "", "out of memory");
	struct s3_request r = {.method = "GET", .url = url, .payload_sha256 = EMPTY_SHA256};
	sv_buf_init(&r.body);
	int rc = perform(s, &r, err);
	if (rc == 0)
		rc = get_result(&r, out, err);
	sv_buf_free(&r.body);
	free(url);
	return rc;
}

/* Calls fn for each valid key in one ListObjectsV2 page; stops at fn's first non-zero. */
static int list_page(const char *xml, int (*fn)(void *ctx, const char *key), void *ctx)
{
	const char *text;
	size_t n;
	while (xml && xml_next(&xml, "Key", &text, &n)) {
		char key[SV_BLOB_KEY_LEN + 1];
		if (n != SV_BLOB_KEY_LEN)
			continue;
		memcpy(key, text, n);
		key[n] = '\0';
		if (!sv_store_blob_key_valid(key))
			continue;
		int rc = fn(ctx, key);
		if (rc)
			return rc;
	}
	return 0;
}

/* The query is already in the canonical order SigV4 signs (names sorted,
 * values escaped as AWS does), so no server can disagree about it. */
static char *list_url(const struct s3_blobs *s, CURL *h, const char *token)
{
	char *url = NULL, *esc = token ? curl_easy_escape(h, token, 0) : NULL;
	int n;
	if (token && !esc)
		return NULL;
	if (esc)
		n = asprintf(&url, "%s?continuation-token=%s&list-type=2", s->base, esc);
	else
		n = asprintf(&url, "%s?list-type=2", s->base);
	curl_free(esc);
	return n < 0 ? NULL : url;
}

/* Fetches one page into r; *next gets the continuation token (NULL on the last page). */
static int list_fetch(struct s3_blobs *s, CURL *h, struct s3_request *r, const char *token,
                      char **next, struct sv_err *err)
{
	char *url = list_url(s, h, token);
	if (!url)
		return sv_err_set(err, "nomem", "", "out of memory");
	r->url = url;
	int rc = perform_on(s, h, r, err);
	if (rc == 0 && r->status != 200)
		rc = http_error(r, err);
	r->url = NULL;
	free(url);
	if (rc < 0)
		return -1;
	bool truncated = r->body.data && strstr(r->body.data, "<IsTruncated>true</IsTruncated>");
	*next = truncated ? xml_first(r->body.data, "NextContinuationToken") : NULL;
	/* A server that keeps saying "more" without moving on would loop forever. */
	if (truncated && (!*next || !**next || (token && strcmp(*next, token) == 0))) {
		free(*next);
		*next = NULL;
		return sv_err_set(err, "io", "",
		                  "S3 listing of %s is truncated without a new "
		                  "continuation token",
		                  s->base);
	}
	return 0;
}

static int list_pages(struct s3_blobs *s, CURL *h, int (*fn)(void *ctx, const char *key), void *ctx,
                      struct sv_err *err)
{
	struct s3_request r = {.method = "GET", .payload_sha256 = EMPTY_SHA256};
	sv_buf_init(&r.body);
	char *token = NULL;
	int rc;
	for (;;) {
		char *next = NULL;
		rc = list_fetch(s, h, &r, token, &next, err);
		if (rc == 0)
			rc = list_page(r.body.data, fn, ctx);
		free(token);
		token = next;
		if (rc != 0 || !token)
			break;
	}
	free(token);
	sv_buf_free(&r.body);
	return rc;
}

static int s3_list(void *impl, int (*fn)(void *ctx, const char *key), void *ctx, struct sv_err *err)
{
	struct s3_blobs *s = impl;
	CURL *h = handle_take(s);
	if (!h)
		return sv_err_set(err, "nomem", "", "cannot create a curl handle");
	int rc = list_pages(s, h, fn, ctx, err);
	handle_give(s, h);
	return rc;
}

const struct sv_blob_ops sv_store_blob_s3_ops = {
    .scheme = "s3",
    .open = s3_open,
    .close = s3_close,
    .put = s3_put,
    .get = s3_get,
    .list = s3_list,
};
