/*
 * The blob front: picks a backend from the URL scheme, computes keys, and
 * checks on every read that the bytes still hash to their key, so a backend
 * never has to be trusted with integrity and a damaged blob is an error, not
 * silently wrong pictures or audio.
 */
#include "store/store.h"

#include <pthread.h>
#include <sodium.h>
#include <stdlib.h>
#include <string.h>

extern const struct sv_blob_ops sv_store_blob_file_ops;
extern const struct sv_blob_ops sv_store_blob_s3_ops;

static const struct sv_blob_ops *const blob_backends[] = {&sv_store_blob_file_ops,
                                                          &sv_store_blob_s3_ops};

struct sv_blobs {
	const struct sv_blob_ops *ops;
	void *impl;
};

static pthread_once_t sodium_once = PTHREAD_ONCE_INIT;
static int sodium_status = -1;

static void sodium_start(void)
{
	sodium_status = sodium_init() < 0 ? -1 : 0;
}

/* sodium_init picks the fastest SHA-256 code for this CPU; once is enough. */
static int sodium_ready(void)
{
	pthread_once(&sodium_once, sodium_start);
	return sodium_status;
}

static const struct sv_blob_ops *backend_of(const char *url, size_t n)
{
	for (size_t i = 0; i < sizeof(blob_backends) / sizeof(blob_backends[0]); i++) {
		const char *scheme = blob_backends[i]->scheme;
		if (strlen(scheme) == n && strncmp(scheme, url, n) == 0)
			return blob_backends[i];
	}
	return NULL;
}

struct sv_blobs *sv_store_blobs_open(const char *url, struct sv_err *err)
{
	if (sodium_ready() < 0) {
		sv_err_set(err, "internal", "blobs", "libsodium failed to initialise");
		return NULL;
	}
	const char *colon = url ? strchr(url, ':') : NULL;
	if (!colon) {
		sv_err_set(err, "invalid_value", "blobs",
		           "blob store URL '%s' has no scheme (use file:DIR or s3://BUCKET)",
		           url ? url : "");
		return NULL;
	}
	size_t n = (size_t)(colon - url);
	const struct sv_blob_ops *ops = backend_of(url, n);
	if (!ops) {
		sv_err_set(err, "invalid_value", "blobs",
		           "unsupported blob store scheme '%.*s' (supported: file, s3)", (int)n,
		           url);
		return NULL;
	}
	struct sv_blobs *b = calloc(1, sizeof(*b));
	if (!b) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	b->ops = ops;
	b->impl = ops->open(colon + 1, err);
	if (!b->impl) {
		free(b);
		return NULL;
	}
	return b;
}

void sv_store_blobs_close(struct sv_blobs *b)
{
	if (!b)
		return;
	b->ops->close(b->impl);
	free(b);
}

void sv_store_blob_key(const void *data, size_t len, char key[SV_BLOB_KEY_LEN + 1])
{
	unsigned char hash[crypto_hash_sha256_BYTES];
	sodium_ready(); /* SHA-256 works either way; this only picks the fast code */
	crypto_hash_sha256(hash, data, len);
	sodium_bin2hex(key, SV_BLOB_KEY_LEN + 1, hash, sizeof(hash));
}

bool sv_store_blob_key_valid(const char *s)
{
	if (!s)
		return false;
	size_t i = 0;
	for (; s[i]; i++) {
		bool hex = (s[i] >= '0' && s[i] <= '9') || (s[i] >= 'a' && s[i] <= 'f');
		if (!hex || i >= SV_BLOB_KEY_LEN)
			return false;
	}
	return i == SV_BLOB_KEY_LEN;
}

int sv_store_blob_put(struct sv_blobs *b, const void *data, size_t len,
                      char key[SV_BLOB_KEY_LEN + 1], struct sv_err *err)
{
	sv_store_blob_key(data, len, key);
	return b->ops->put(b->impl, key, data, len, err);
}

/* Drops what a failed get appended, so out is as the caller passed it. */
static void truncate_to(struct sv_buf *out, size_t len)
{
	out->len = len;
	if (out->data)
		out->data[len] = '\0';
}

int sv_store_blob_get(struct sv_blobs *b, const char *key, struct sv_buf *out, struct sv_err *err)
{
	if (!sv_store_blob_key_valid(key))
		return sv_err_set(err, "invalid_value", "key",
		                  "'%.80s' is not a blob key (64 lowercase hex characters)",
		                  key ? key : "");
	size_t start = out->len;
	int rc = b->ops->get(b->impl, key, out, err);
	if (rc != 0) {
		truncate_to(out, start);
		return rc;
	}
	char actual[SV_BLOB_KEY_LEN + 1];
	sv_store_blob_key(out->data ? out->data + start : "", out->len - start, actual);
	if (strcmp(actual, key) != 0) {
		truncate_to(out, start);
		return sv_err_set(err, "corrupt", "key",
		                  "blob %s is corrupt: its stored bytes hash to %s", key, actual);
	}
	return 0;
}

int sv_store_blob_list(struct sv_blobs *b, int (*fn)(void *ctx, const char *key), void *ctx,
                       struct sv_err *err)
{
	return b->ops->list(b->impl, fn, ctx, err);
}
