/* Unit tests for the content-addressed blob stores, run on both backends: a
 * directory tree and a real S3-compatible server (s3rver, started once for
 * its group, a fresh bucket per test). Round trips of awkward and large
 * bytes, deduplication, listing, integrity checks, failed writes that leave
 * nothing behind, and URLs that must be refused with a clear error. */
#include "s3_support.h"
#include "store/store.h"

#include <arpa/inet.h>
#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <netinet/in.h>
#include <pthread.h>
#include <setjmp.h>
#include <signal.h>
#include <sodium.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cmocka.h>

struct fixture {
	char dir[64]; /* file backend only */
	char url[256];
	struct sv_blobs *b;
	/* s3rver writes objects in place, so a get racing a put of the same key can
	 * see a torn object (real S3 cannot): only share keys between threads where
	 * the store promises atomic puts. */
	bool atomic_puts;
};

static struct s3_server s3; /* the server of the s3 group */

static int open_blobs(struct fixture *f, void **state)
{
	struct sv_err err;
	f->b = sv_store_blobs_open(f->url, &err);
	if (!f->b) {
		fprintf(stderr, "cannot open %s: %s\n", f->url, err.message);
		free(f);
		return -1;
	}
	*state = f;
	return 0;
}

static int setup_file(void **state)
{
	struct fixture *f = calloc(1, sizeof(*f));
	strcpy(f->dir, "/tmp/sv-blobs-XXXXXX");
	if (!mkdtemp(f->dir))
		return -1;
	/* A folder that does not exist yet: open must create it and its parent. */
	snprintf(f->url, sizeof(f->url), "file:%s/a/blobs", f->dir);
	f->atomic_puts = true;
	return open_blobs(f, state);
}

static int setup_s3(void **state)
{
	static int counter;
	char bucket[32];
	snprintf(bucket, sizeof(bucket), "test-%d", ++counter);
	struct fixture *f = calloc(1, sizeof(*f));
	if (s3_support_create_bucket(&s3, bucket) < 0) {
		free(f);
		return -1;
	}
	s3_support_url(&s3, bucket, f->url, sizeof(f->url));
	return open_blobs(f, state);
}

static int teardown(void **state)
{
	struct fixture *f = *state;
	sv_store_blobs_close(f->b);
	int rc = 0;
	if (f->dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", f->dir);
		rc = system(cmd) == 0 ? 0 : -1;
	}
	free(f);
	return rc;
}

static int start_s3(void **state)
{
	s3_support_env();
	return s3_support_start(&s3, "first-bucket");
}

static int stop_s3(void **state)
{
	s3_support_stop(&s3);
	return 0;
}

/* ---- helpers ---- */

/* Deterministic bytes, NULs and all. */
static unsigned char *bytes(size_t len, uint64_t seed)
{
	unsigned char *p = malloc(len ? len : 1);
	struct sv_rng r;
	sv_rng_seed(&r, seed);
	for (size_t i = 0; i < len; i++)
		p[i] = (unsigned char)sv_rng_next(&r);
	return p;
}

static void put_ok(struct sv_blobs *b, const void *data, size_t len, char key[65])
{
	struct sv_err err;
	int rc = sv_store_blob_put(b, data, len, key, &err);
	if (rc != 0)
		fail_msg("put: %s: %s", err.code, err.message);
	char expect[65];
	sv_store_blob_key(data, len, expect);
	assert_string_equal(key, expect);
}

static void get_equals(struct sv_blobs *b, const char *key, const void *data, size_t len)
{
	struct sv_err err;
	struct sv_buf out;
	sv_buf_init(&out);
	int rc = sv_store_blob_get(b, key, &out, &err);
	if (rc != 0)
		fail_msg("get %s: %d %s: %s", key, rc, err.code, err.message);
	assert_int_equal(out.len, len);
	if (len)
		assert_memory_equal(out.data, data, len);
	sv_buf_free(&out);
}

struct key_set {
	char keys[1100][65];
	int n;
};

static int collect(void *ctx, const char *key)
{
	struct key_set *ks = ctx;
	if (ks->n >= (int)(sizeof(ks->keys) / sizeof(ks->keys[0])))
		return -2;
	snprintf(ks->keys[ks->n++], 65, "%s", key);
	return 0;
}

static int cmp_key(const void *a, const void *b)
{
	return strcmp(a, b);
}

/* Lists b into a sorted, heap-allocated key set. */
static struct key_set *list_all(struct sv_blobs *b)
{
	struct key_set *ks = calloc(1, sizeof(*ks));
	struct sv_err err;
	int rc = sv_store_blob_list(b, collect, ks, &err);
	if (rc != 0)
		fail_msg("list: %d %s: %s", rc, err.code, err.message);
	qsort(ks->keys, (size_t)ks->n, sizeof(ks->keys[0]), cmp_key);
	return ks;
}

/* ---- without a backend ---- */

static void keys_are_hex_sha256(void **state)
{
	char key[65];
	sv_store_blob_key("", 0, key);
	assert_string_equal(key,
	                    "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	sv_store_blob_key("abc", 3, key);
	assert_string_equal(key,
	                    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad");
	assert_true(sv_store_blob_key_valid(key));
	assert_false(sv_store_blob_key_valid(NULL));
	assert_false(sv_store_blob_key_valid(""));
	key[63] = '\0';
	assert_false(sv_store_blob_key_valid(key));
	assert_false(sv_store_blob_key_valid(
	    "BA7816BF8F01CFEA414140DE5DAE2223B00361A396177A9CB410FF61F20015AD"));
	assert_false(sv_store_blob_key_valid(
	    "ba7816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad0"));
	assert_false(sv_store_blob_key_valid(
	    "../816bf8f01cfea414140de5dae2223b00361a396177a9cb410ff61f20015ad"));
}

static void refused(const char *url, const char *needle)
{
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_blobs *b = sv_store_blobs_open(url, &err);
	if (b) {
		sv_store_blobs_close(b);
		fail_msg("%s was accepted", url);
	}
	assert_string_equal(err.field, "blobs");
	if (!strstr(err.message, needle))
		fail_msg("%s: message '%s' does not mention '%s'", url, err.message, needle);
}

static void open_rejects_bad_urls(void **state)
{
	s3_support_env();
	refused("nothing", "no scheme");
	refused("ftp://host/x", "ftp");
	refused("file:", "directory");
	refused("file:/proc/sv-no-such/x", "/proc/sv-no-such/x");
	refused("s3:bucket", "s3://BUCKET");
	refused("s3://Bad_Bucket", "Bad_Bucket");
	refused("s3://ab", "'ab'");
	refused("s3://-bucket", "-bucket");
	refused("s3://a..b", "a..b");
	refused("s3://bucket/prefix", "path");
	refused("s3://bucket?colour=blue", "colour");
	refused("s3://bucket?endpoint=http://a&endpoint=http://b", "twice");
	refused("s3://bucket?endpoint=ftp://a", "ftp://a");
	refused("s3://bucket?endpoint=", "endpoint");
	refused("s3://bucket?endpoint=http://a%zz", "malformed");
	refused("s3://bucket?region=us%20east", "region");
	refused("s3://bucket?region=us:east", "us:east");
	setenv("AWS_REGION", "bad region", 1);
	refused("s3://bucket", "AWS_REGION");
	unsetenv("AWS_REGION");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	refused("s3://bucket", "AWS_SECRET_ACCESS_KEY");
	s3_support_env();
	unsetenv("AWS_ACCESS_KEY_ID");
	refused("s3://bucket?endpoint=http://127.0.0.1:1", "AWS_ACCESS_KEY_ID");
	s3_support_env();
	setenv("AWS_SESSION_TOKEN", "a\r\nx-evil: 1", 1);
	refused("s3://bucket", "control");
	s3_support_env();
	/* Well-formed URLs open without touching the network. */
	struct sv_err err;
	struct sv_blobs *b = sv_store_blobs_open("s3://my.bucket-1", &err);
	assert_non_null(b);
	sv_store_blobs_close(b);
}

/* ---- every backend ---- */

static void round_trips_any_bytes(void **state)
{
	struct fixture *f = *state;
	char key[65];
	static const char nuls[] = "a\0b\0\0\xff\xfe";
	put_ok(f->b, nuls, sizeof(nuls), key);
	get_equals(f->b, key, nuls, sizeof(nuls));
	put_ok(f->b, "", 0, key);
	get_equals(f->b, key, "", 0);
	size_t big_len = 5u << 20;
	unsigned char *big = bytes(big_len, 5);
	put_ok(f->b, big, big_len, key);
	get_equals(f->b, key, big, big_len);
	/* get appends, it does not replace. */
	struct sv_buf out;
	struct sv_err err;
	sv_buf_init(&out);
	sv_buf_puts(&out, "head:");
	assert_int_equal(sv_store_blob_get(f->b, key, &out, &err), 0);
	assert_int_equal(out.len, 5 + big_len);
	assert_memory_equal(out.data, "head:", 5);
	assert_memory_equal(out.data + 5, big, big_len);
	sv_buf_free(&out);
	free(big);
}

static void same_bytes_are_one_blob(void **state)
{
	struct fixture *f = *state;
	char k1[65], k2[65];
	unsigned char *data = bytes(300000, 7); /* above the S3 backend's HEAD-first size */
	put_ok(f->b, data, 300000, k1);
	put_ok(f->b, data, 300000, k2);
	assert_string_equal(k1, k2);
	put_ok(f->b, "story", 5, k1);
	put_ok(f->b, "story", 5, k2);
	assert_string_equal(k1, k2);
	struct key_set *ks = list_all(f->b);
	assert_int_equal(ks->n, 2);
	free(ks);
	free(data);
}

static void unknown_and_invalid_keys(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	struct sv_buf out;
	sv_buf_init(&out);
	char key[65];
	sv_store_blob_key("never stored", 12, key);
	assert_int_equal(sv_store_blob_get(f->b, key, &out, &err), 1);
	assert_int_equal(out.len, 0);
	assert_int_equal(sv_store_blob_get(f->b, "../../etc/passwd", &out, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_int_equal(out.len, 0);
	sv_buf_free(&out);
}

static void list_returns_exactly_the_stored_keys(void **state)
{
	struct fixture *f = *state;
	struct key_set *ks = list_all(f->b);
	assert_int_equal(ks->n, 0);
	free(ks);
	char expect[20][65];
	for (int i = 0; i < 20; i++) {
		char text[16];
		int n = snprintf(text, sizeof(text), "blob %d", i);
		put_ok(f->b, text, (size_t)n, expect[i]);
	}
	qsort(expect, 20, sizeof(expect[0]), cmp_key);
	ks = list_all(f->b);
	assert_int_equal(ks->n, 20);
	for (int i = 0; i < 20; i++)
		assert_string_equal(ks->keys[i], expect[i]);
	free(ks);
}

static int stop_at_third(void *ctx, const char *key)
{
	return ++*(int *)ctx == 3 ? 42 : 0;
}

static void list_stops_when_told(void **state)
{
	struct fixture *f = *state;
	char key[65];
	for (int i = 0; i < 5; i++)
		put_ok(f->b, &i, sizeof(i), key);
	int calls = 0;
	struct sv_err err;
	assert_int_equal(sv_store_blob_list(f->b, stop_at_third, &calls, &err), 42);
	assert_int_equal(calls, 3);
}

struct worker {
	struct sv_blobs *b;
	int id, failures;
	bool share;
};

static void *work(void *arg)
{
	struct worker *w = arg;
	for (int i = 0; i < 10; i++) {
		char text[32], key[65];
		struct sv_err err;
		struct sv_buf out;
		/* Half the blobs may be shared between workers: concurrent puts of one key. */
		int n = snprintf(text, sizeof(text), "w%d-%d", i % 2 || !w->share ? w->id : 0, i);
		sv_buf_init(&out);
		if (sv_store_blob_put(w->b, text, (size_t)n, key, &err) != 0 ||
		    sv_store_blob_get(w->b, key, &out, &err) != 0 || out.len != (size_t)n ||
		    memcmp(out.data, text, (size_t)n) != 0) {
			fprintf(stderr, "worker %d, %s: %s\n", w->id, text, err.message);
			w->failures++;
		}
		sv_buf_free(&out);
	}
	return NULL;
}

static void concurrent_puts_and_gets(void **state)
{
	struct fixture *f = *state;
	enum { WORKERS = 4 };
	struct worker w[WORKERS];
	pthread_t t[WORKERS];
	for (int i = 0; i < WORKERS; i++) {
		w[i] = (struct worker){.b = f->b, .id = i + 1, .share = f->atomic_puts};
		assert_int_equal(pthread_create(&t[i], NULL, work, &w[i]), 0);
	}
	for (int i = 0; i < WORKERS; i++) {
		pthread_join(t[i], NULL);
		assert_int_equal(w[i].failures, 0);
	}
	struct key_set *ks = list_all(f->b);
	/* Shared even-numbered blobs, each worker's own odd-numbered ones. */
	assert_int_equal(ks->n, f->atomic_puts ? 5 + WORKERS * 5 : WORKERS * 10);
	free(ks);
}

/* ---- the file backend ---- */

static void blob_path(struct fixture *f, const char *key, char *path, size_t n)
{
	snprintf(path, n, "%s/a/blobs/%.2s/%s", f->dir, key, key);
}

static void corrupt_file_is_an_error(void **state)
{
	struct fixture *f = *state;
	char key[65], path[256];
	put_ok(f->b, "once upon a time", 16, key);
	blob_path(f, key, path, sizeof(path));
	FILE *fp = fopen(path, "r+");
	assert_non_null(fp);
	fputc('O', fp);
	fclose(fp);
	struct sv_err err;
	struct sv_buf out;
	sv_buf_init(&out);
	sv_buf_puts(&out, "kept");
	assert_int_equal(sv_store_blob_get(f->b, key, &out, &err), -1);
	assert_string_equal(err.code, "corrupt");
	assert_non_null(strstr(err.message, key));
	assert_string_equal(out.data, "kept");
	sv_buf_free(&out);
}

static void list_skips_strangers(void **state)
{
	struct fixture *f = *state;
	char key[65], path[256];
	put_ok(f->b, "x", 1, key);
	/* A temporary file left by a crash, junk, a misplaced key, a non-shard folder. */
	snprintf(path, sizeof(path), "%s/a/blobs/%.2s/.tmp-%s-abcdef", f->dir, key, key);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/a/blobs/%.2s/README", f->dir, key);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/a/blobs/%s", f->dir, key[0] == '0' ? "11" : "00");
	assert_int_equal(mkdir(path, 0755), 0);
	snprintf(path + strlen(path), sizeof(path) - strlen(path), "/%s", key);
	fclose(fopen(path, "w"));
	snprintf(path, sizeof(path), "%s/a/blobs/zz", f->dir);
	assert_int_equal(mkdir(path, 0755), 0);
	struct key_set *ks = list_all(f->b);
	assert_int_equal(ks->n, 1);
	assert_string_equal(ks->keys[0], key);
	free(ks);
}

static int count_entries(const char *dir)
{
	DIR *d = opendir(dir);
	if (!d)
		return errno == ENOENT ? 0 : -1;
	int n = 0;
	struct dirent *e;
	while ((e = readdir(d)) != NULL)
		n += strcmp(e->d_name, ".") != 0 && strcmp(e->d_name, "..") != 0;
	closedir(d);
	return n;
}

static void failed_write_leaves_nothing(void **state)
{
	struct fixture *f = *state;
	size_t len = 3u << 20;
	unsigned char *data = bytes(len, 11);
	char key[65], shard[256];
	struct sv_err err;
	struct rlimit old, small;
	/* Past the limit write() fails with EFBIG instead of killing us with SIGXFSZ. */
	void (*old_handler)(int) = signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	small = old;
	small.rlim_cur = 1u << 20;
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &small), 0);
	int rc = sv_store_blob_put(f->b, data, len, key, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, old_handler);
	assert_int_equal(rc, -1);
	assert_string_equal(err.code, "io");
	if (!strstr(err.message, strerror(EFBIG)))
		fail_msg("message does not name the error: %s", err.message);
	snprintf(shard, sizeof(shard), "%s/a/blobs/%.2s", f->dir, key);
	assert_int_equal(count_entries(shard), 0);
	struct key_set *ks = list_all(f->b);
	assert_int_equal(ks->n, 0);
	free(ks);
	struct sv_buf out;
	sv_buf_init(&out);
	assert_int_equal(sv_store_blob_get(f->b, key, &out, &err), 1);
	sv_buf_free(&out);
	/* With room again, the same put works. */
	put_ok(f->b, data, len, key);
	get_equals(f->b, key, data, len);
	assert_int_equal(count_entries(shard), 1);
	free(data);
}

static void reopen_sees_blobs(void **state)
{
	struct fixture *f = *state;
	char key[65];
	put_ok(f->b, "kept", 4, key);
	sv_store_blobs_close(f->b);
	struct sv_err err;
	f->b = sv_store_blobs_open(f->url, &err);
	assert_non_null(f->b);
	get_equals(f->b, key, "kept", 4);
}

/* ---- the S3 backend ---- */

static void unreachable_endpoint_fails_fast(void **state)
{
	struct sv_err err;
	/* Port 1 on loopback: nothing listens, the connection is refused at once. */
	struct sv_blobs *b =
	    sv_store_blobs_open("s3://bucket?endpoint=http://127.0.0.1:1&region=us-east-1", &err);
	assert_non_null(b);
	char key[65];
	int64_t t0 = sv_time_mono_ns();
	assert_int_equal(sv_store_blob_put(b, "x", 1, key, &err), -1);
	assert_string_equal(err.code, "io");
	assert_non_null(strstr(err.message, "127.0.0.1"));
	struct sv_buf out;
	sv_buf_init(&out);
	assert_int_equal(sv_store_blob_get(b, key, &out, &err), -1);
	assert_string_equal(err.code, "io");
	assert_int_equal(sv_store_blob_list(b, collect, NULL, &err), -1);
	assert_string_equal(err.code, "io");
	assert_true(sv_time_mono_ns() - t0 < 5000000000LL);
	sv_buf_free(&out);
	sv_store_blobs_close(b);
}

static void missing_bucket_is_an_error(void **state)
{
	char url[256];
	struct sv_err err;
	s3_support_url(&s3, "no-such-bucket", url, sizeof(url));
	struct sv_blobs *b = sv_store_blobs_open(url, &err);
	assert_non_null(b);
	char key[65];
	sv_store_blob_key("x", 1, key);
	struct sv_buf out;
	sv_buf_init(&out);
	/* A missing bucket must not read as a missing blob. */
	assert_int_equal(sv_store_blob_get(b, key, &out, &err), -1);
	assert_string_equal(err.code, "io");
	assert_non_null(strstr(err.message, "NoSuchBucket"));
	assert_int_equal(sv_store_blob_put(b, "x", 1, key, &err), -1);
	assert_non_null(strstr(err.message, "404"));
	sv_buf_free(&out);
	sv_store_blobs_close(b);
}

/* s3rver checks the access key id (not SigV4 signatures: see sigv4_matches_the_spec). */
static void unknown_access_key_is_refused(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	setenv("AWS_ACCESS_KEY_ID", "NOT-A-KEY", 1);
	struct sv_blobs *b = sv_store_blobs_open(f->url, &err);
	s3_support_env();
	assert_non_null(b);
	char key[65];
	assert_int_equal(sv_store_blob_put(b, "x", 1, key, &err), -1);
	assert_string_equal(err.code, "io");
	assert_non_null(strstr(err.message, "403"));
	assert_non_null(strstr(err.message, "InvalidAccessKeyId"));
	sv_store_blobs_close(b);
}

static void session_token_is_sent_and_signed(void **state)
{
	struct fixture *f = *state;
	struct sv_err err;
	setenv("AWS_SESSION_TOKEN", "FwoGZXIvYXdzEJr//token+with/odd=chars", 1);
	struct sv_blobs *b = sv_store_blobs_open(f->url, &err);
	s3_support_env();
	assert_non_null(b);
	char key[65];
	put_ok(b, "with a token", 12, key);
	get_equals(b, key, "with a token", 12);
	sv_store_blobs_close(b);
}

static void list_follows_continuation_tokens(void **state)
{
	struct fixture *f = *state;
	enum { N = 1005 }; /* S3 returns at most 1000 keys a page */
	char key[65];
	for (int i = 0; i < N; i++)
		put_ok(f->b, &i, sizeof(i), key);
	struct key_set *ks = list_all(f->b);
	assert_int_equal(ks->n, N);
	for (int i = 1; i < N; i++)
		assert_true(strcmp(ks->keys[i - 1], ks->keys[i]) < 0);
	free(ks);
}

/* ---- SigV4, checked independently: s3rver does not verify V4 signatures ---- */

/* A one-request-per-connection HTTP server that records what it is sent. */
struct capture {
	int fd, port, n;
	char req[4][2048];
};

static const char *capture_answer(const char *req, int *len)
{
	static const char *const answers[] = {
	    /* an answer in parts is one literal: the brackets say so to clang */
	    ("<ListBucketResult><IsTruncated>true</IsTruncated><NextContinuationToken>a/b+c=d&amp;e"
	     "</NextContinuationToken><Contents><Key>"
	     "2cf24dba5fb0a30e26e83b2ac5b9e29e1b161e5c1fa7425e73043362938b9824</Key></Contents>"
	     "</ListBucketResult>"),
	    ("<ListBucketResult><IsTruncated>false</IsTruncated><Contents><Key>not-a-key</Key>"
	     "</Contents></ListBucketResult>"),
	    "hello", ""};
	int i = !strstr(req, "list-type")           ? (strncmp(req, "GET", 3) == 0 ? 2 : 3)
	        : strstr(req, "continuation-token") ? 1
	                                            : 0;
	*len = (int)strlen(answers[i]);
	return answers[i];
}

static void *capture_run(void *arg)
{
	struct capture *c = arg;
	for (; c->n < 4; c->n++) {
		int fd = accept(c->fd, NULL, NULL);
		if (fd < 0)
			break;
		char *r = c->req[c->n];
		size_t len = 0;
		/* Reads the headers and then Content-Length bytes of body (small here). */
		for (;;) {
			const char *end = strstr(r, "\r\n\r\n");
			const char *cl = strcasestr(r, "content-length:");
			if (end &&
			    (size_t)(end + 4 - r) + (cl ? strtoul(cl + 15, NULL, 10) : 0) <= len)
				break;
			ssize_t k = read(fd, r + len, sizeof(c->req[0]) - 1 - len);
			if (k <= 0)
				break;
			len += (size_t)k;
			r[len] = '\0';
		}
		int blen;
		const char *body = capture_answer(r, &blen);
		char head[160];
		int hlen = snprintf(
		    head, sizeof(head),
		    "HTTP/1.1 200 OK\r\nContent-Length: %d\r\nConnection: close\r\n\r\n", blen);
		if (write(fd, head, (size_t)hlen) < 0 || write(fd, body, (size_t)blen) < 0)
			fprintf(stderr, "capture: write failed\n");
		close(fd);
	}
	return NULL;
}

static void capture_start(struct capture *c, pthread_t *t)
{
	memset(c, 0, sizeof(*c));
	c->fd = socket(AF_INET, SOCK_STREAM, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t alen = sizeof(a);
	assert_int_equal(bind(c->fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(listen(c->fd, 4), 0);
	assert_int_equal(getsockname(c->fd, (struct sockaddr *)&a, &alen), 0);
	c->port = ntohs(a.sin_port);
	assert_int_equal(pthread_create(t, NULL, capture_run, c), 0);
}

static void hmac(unsigned char out[32], const void *key, size_t klen, const char *msg)
{
	crypto_auth_hmacsha256_state st;
	crypto_auth_hmacsha256_init(&st, key, klen);
	crypto_auth_hmacsha256_update(&st, (const unsigned char *)msg, strlen(msg));
	crypto_auth_hmacsha256_final(&st, out);
}

/* The value of header name (lowercase) in a raw request, trimmed; "" when absent. */
static void header_value(const char *req, const char *name, char *out, size_t n)
{
	out[0] = '\0';
	for (const char *l = strstr(req, "\r\n"); l && l[2] != '\r'; l = strstr(l + 2, "\r\n")) {
		size_t nl = strlen(name);
		if (strncasecmp(l + 2, name, nl) != 0 || l[2 + nl] != ':')
			continue;
		const char *v = l + 3 + nl, *end = strstr(v, "\r\n");
		while (*v == ' ')
			v++;
		snprintf(out, n, "%.*s", (int)(end - v), v);
	}
}

/* Appends s[0..n) %-decoded, then re-encoded the AWS way (only A-Z a-z 0-9 - _ . ~ bare). */
static size_t aws_reencode(const char *s, size_t n, char *out)
{
	size_t o = 0;
	for (size_t i = 0; i < n; i++) {
		unsigned v = (unsigned char)s[i];
		if (s[i] == '%' && i + 2 < n + 1 && sscanf(s + i + 1, "%2x", &v) == 1)
			i += 2;
		if (isalnum((int)v) || strchr("-_.~", (int)v))
			out[o++] = (char)v;
		else
			o += (size_t)sprintf(out + o, "%%%02X", v);
	}
	out[o] = '\0';
	return o;
}

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* The query as S3 canonicalises it: names and values re-encoded, pairs sorted. */
static void canonical_query(const char *q, char *out, size_t n)
{
	char buf[8][512], *parts[8];
	int np = 0;
	out[0] = '\0';
	while (*q && np < 8) {
		size_t len = strcspn(q, "&"), name = strcspn(q, "=&");
		size_t o = aws_reencode(q, name, buf[np]);
		buf[np][o++] = '=';
		aws_reencode(q + name + 1, name < len ? len - name - 1 : 0, buf[np] + o);
		parts[np] = buf[np];
		np++;
		q += len + (q[len] == '&');
	}
	qsort(parts, (size_t)np, sizeof(parts[0]), cmp_str);
	for (int i = 0; i < np; i++)
		snprintf(out + strlen(out), n - strlen(out), "%s%s", i ? "&" : "", parts[i]);
}

/* Recomputes the request's signature from the spec and compares it with the one sent. */
static void assert_sigv4(const char *req, const char *secret, const char *body_sha)
{
	char method[8], target[400], auth[600], sha[80], date[32], signed_hdrs[200];
	assert_int_equal(sscanf(req, "%7s %399s", method, target), 2);
	header_value(req, "authorization", auth, sizeof(auth));
	header_value(req, "x-amz-content-sha256", sha, sizeof(sha));
	header_value(req, "x-amz-date", date, sizeof(date));
	assert_string_equal(sha, body_sha);
	const char *sh = strstr(auth, "SignedHeaders="), *sig = strstr(auth, "Signature=");
	const char *cred = strstr(auth, "Credential=");
	assert_true(sh && sig && cred && strncmp(auth, "AWS4-HMAC-SHA256 ", 17) == 0);
	snprintf(signed_hdrs, sizeof(signed_hdrs), "%.*s", (int)strcspn(sh + 14, ", "), sh + 14);
	assert_non_null(strstr(signed_hdrs, "host"));
	assert_non_null(strstr(signed_hdrs, "x-amz-content-sha256"));
	assert_non_null(strstr(signed_hdrs, "x-amz-date"));
	char scope[120];
	snprintf(scope, sizeof(scope), "%.8s/us-east-1/s3/aws4_request", date);
	char expect_cred[160];
	snprintf(expect_cred, sizeof(expect_cred), "Credential=S3RVER/%s", scope);
	assert_memory_equal(cred, expect_cred, strlen(expect_cred));

	struct sv_buf cr;
	sv_buf_init(&cr);
	char *q = strchr(target, '?'), cq[1024] = "";
	if (q) {
		*q = '\0';
		canonical_query(q + 1, cq, sizeof(cq));
	}
	sv_buf_printf(&cr, "%s\n%s\n%s\n", method, target, cq);
	char hdrs[200];
	snprintf(hdrs, sizeof(hdrs), "%s", signed_hdrs);
	for (char *save = NULL, *h = strtok_r(hdrs, ";", &save); h;
	     h = strtok_r(NULL, ";", &save)) {
		char v[600];
		header_value(req, h, v, sizeof(v));
		sv_buf_printf(&cr, "%s:%s\n", h, v);
	}
	sv_buf_printf(&cr, "\n%s\n%s", signed_hdrs, sha);
	char cr_hash[65], sts[400];
	sv_store_blob_key(cr.data, cr.len, cr_hash);
	snprintf(sts, sizeof(sts), "AWS4-HMAC-SHA256\n%s\n%s\n%s", date, scope, cr_hash);
	sv_buf_free(&cr);

	char k0[80], day[9];
	unsigned char k[32];
	snprintf(k0, sizeof(k0), "AWS4%s", secret);
	snprintf(day, sizeof(day), "%.8s", date);
	hmac(k, k0, strlen(k0), day);
	hmac(k, k, 32, "us-east-1");
	hmac(k, k, 32, "s3");
	hmac(k, k, 32, "aws4_request");
	hmac(k, k, 32, sts);
	char hex[65];
	sodium_bin2hex(hex, sizeof(hex), k, 32);
	assert_memory_equal(sig + 10, hex, 64);
}

static int count_keys(void *ctx, const char *key)
{
	++*(int *)ctx;
	return 0;
}

static void sigv4_matches_the_spec(void **state)
{
	struct capture c;
	pthread_t t;
	capture_start(&c, &t);
	s3_support_env();
	setenv("AWS_SESSION_TOKEN", "token/with+odd=chars", 1);
	char url[160], key[65];
	snprintf(url, sizeof(url), "s3://sig-bucket?endpoint=http://127.0.0.1:%d", c.port);
	struct sv_err err;
	struct sv_blobs *b = sv_store_blobs_open(url, &err);
	s3_support_env();
	assert_non_null(b);
	put_ok(b, "hello", 5, key);
	get_equals(b, key, "hello", 5);
	int n = 0;
	assert_int_equal(sv_store_blob_list(b, count_keys, &n, &err), 0);
	assert_int_equal(n, 1); /* "not-a-key" on the second page is skipped */
	sv_store_blobs_close(b);
	pthread_join(t, NULL);
	close(c.fd);
	assert_int_equal(c.n, 4);
	assert_non_null(strstr(c.req[0], "PUT /sig-bucket/"));
	assert_non_null(strstr(c.req[3], "continuation-token=a%2Fb%2Bc%3Dd%26e&list-type=2"));
	for (int i = 0; i < 4; i++) {
		char tok[80];
		header_value(c.req[i], "x-amz-security-token", tok, sizeof(tok));
		assert_string_equal(tok, "token/with+odd=chars");
		assert_non_null(strstr(c.req[i], "x-amz-security-token"));
		assert_sigv4(
		    c.req[i], "S3RVER",
		    i == 0 ? key
		           : "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	}
}

/* The tests every backend must pass, with the fixture setup of that backend. */
#define BLOB_TESTS(setup)                                                                          \
	cmocka_unit_test_setup_teardown(round_trips_any_bytes, setup, teardown),                   \
	    cmocka_unit_test_setup_teardown(same_bytes_are_one_blob, setup, teardown),             \
	    cmocka_unit_test_setup_teardown(unknown_and_invalid_keys, setup, teardown),            \
	    cmocka_unit_test_setup_teardown(list_returns_exactly_the_stored_keys, setup,           \
	                                    teardown),                                             \
	    cmocka_unit_test_setup_teardown(list_stops_when_told, setup, teardown),                \
	    cmocka_unit_test_setup_teardown(concurrent_puts_and_gets, setup, teardown),            \
	    cmocka_unit_test_setup_teardown(reopen_sees_blobs, setup, teardown)

int main(void)
{
	const struct CMUnitTest common_tests[] = {
	    cmocka_unit_test(keys_are_hex_sha256),
	    cmocka_unit_test(open_rejects_bad_urls),
	    cmocka_unit_test(sigv4_matches_the_spec),
	};
	const struct CMUnitTest file_tests[] = {
	    BLOB_TESTS(setup_file),
	    cmocka_unit_test_setup_teardown(corrupt_file_is_an_error, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(list_skips_strangers, setup_file, teardown),
	    cmocka_unit_test_setup_teardown(failed_write_leaves_nothing, setup_file, teardown),
	};
	const struct CMUnitTest s3_tests[] = {
	    BLOB_TESTS(setup_s3),
	    cmocka_unit_test(unreachable_endpoint_fails_fast),
	    cmocka_unit_test(missing_bucket_is_an_error),
	    cmocka_unit_test_setup_teardown(unknown_access_key_is_refused, setup_s3, teardown),
	    cmocka_unit_test_setup_teardown(session_token_is_sent_and_signed, setup_s3, teardown),
	    cmocka_unit_test_setup_teardown(list_follows_continuation_tokens, setup_s3, teardown),
	};
	int failed = cmocka_run_group_tests_name("blobs", common_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("file", file_tests, NULL, NULL);
	failed += cmocka_run_group_tests_name("s3", s3_tests, start_s3, stop_s3);
	return failed;
}
