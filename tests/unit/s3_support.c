/*
 * Starts and stops s3rver for the unit tests, through node_support: it
 * listens on port 0 and prints the port it got. Its stderr goes to
 * s3rver.log in its directory.
 *
 * s3rver encrypts its ListObjectsV2 continuation tokens with DES, which
 * OpenSSL 3 only offers through its legacy provider: without
 * --openssl-legacy-provider every listing past 1000 keys fails with HTTP 500.
 */
#include "s3_support.h"

#include <curl/curl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#ifndef SV_SOURCE_DIR
#error "tests/CMakeLists.txt defines SV_SOURCE_DIR, the repository root"
#endif

#define S3RVER_JS   SV_SOURCE_DIR "/node_modules/s3rver/bin/s3rver.js"
#define START_MS    30000
#define LISTEN_LINE "S3rver listening on "

/* s3rver names its port in a line "S3rver listening on ADDRESS:PORT". */
static int listen_port(const char *line)
{
	const char *at = strstr(line, LISTEN_LINE);
	const char *colon = at ? strchr(at + strlen(LISTEN_LINE), ':') : NULL;
	int port = colon ? atoi(colon + 1) : 0;
	return port > 0 ? port : 0;
}

static int spawn(struct s3_server *s3, const char *bucket)
{
	char data[96], log[96], js[] = S3RVER_JS;
	snprintf(data, sizeof(data), "%s/data", s3->dir);
	snprintf(log, sizeof(log), "%s/s3rver.log", s3->dir);
	char *argv[] = {"node",
	                "--openssl-legacy-provider",
	                js,
	                "-d",
	                data,
	                "-a",
	                "127.0.0.1",
	                "-p",
	                "0",
	                "--silent",
	                "--configure-bucket",
	                (char *)bucket,
	                NULL};
	return node_support_start(&s3->node, argv, NULL, log, START_MS, listen_port);
}

int s3_support_start(struct s3_server *s3, const char *bucket)
{
	memset(s3, 0, sizeof(*s3));
	s3->node.out_fd = -1;
	if (access(S3RVER_JS, R_OK) != 0) {
		fprintf(stderr, "s3_support: %s is missing (run npm ci in the repository)\n",
		        S3RVER_JS);
		return -1;
	}
	strcpy(s3->dir, "/tmp/sv-s3-XXXXXX");
	if (!mkdtemp(s3->dir)) {
		s3->dir[0] = '\0';
		return -1;
	}
	if (spawn(s3, bucket) < 0) {
		fprintf(stderr, "s3_support: s3rver did not start, see %s/s3rver.log\n", s3->dir);
		return -1;
	}
	return 0;
}

static int remove_entry(const char *path, const struct stat *st, int flag, struct FTW *ftw)
{
	return remove(path) == 0 ? 0 : -1;
}

void s3_support_stop(struct s3_server *s3)
{
	node_support_stop(&s3->node);
	if (s3->dir[0]) {
		if (nftw(s3->dir, remove_entry, 16, FTW_DEPTH | FTW_PHYS) != 0)
			fprintf(stderr, "s3_support: cannot remove %s\n", s3->dir);
		s3->dir[0] = '\0';
	}
}

static size_t no_body(char *buf, size_t size, size_t n, void *ud)
{
	return 0;
}

static size_t discard(char *data, size_t size, size_t n, void *ud)
{
	return size * n;
}

int s3_support_create_bucket(const struct s3_server *s3, const char *bucket)
{
	char url[160];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/%s", s3->node.port, bucket);
	CURL *h = curl_easy_init();
	struct curl_slist *hdrs = curl_slist_append(
	    NULL, "x-amz-content-sha256: "
	          "e3b0c44298fc1c149afbf4c8996fb92427ae41e4649b934ca495991b7852b855");
	long status = 0;
	if (h && hdrs) {
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_UPLOAD, 1L);
		curl_easy_setopt(h, CURLOPT_INFILESIZE_LARGE, (curl_off_t)0);
		curl_easy_setopt(h, CURLOPT_READFUNCTION, no_body);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, discard);
		curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, "aws:amz:us-east-1:s3");
		curl_easy_setopt(h, CURLOPT_USERPWD, "S3RVER:S3RVER");
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_slist_free_all(hdrs);
	curl_easy_cleanup(h);
	if (status != 200)
		fprintf(stderr, "s3_support: creating bucket %s answered %ld\n", bucket, status);
	return status == 200 ? 0 : -1;
}

void s3_support_url(const struct s3_server *s3, const char *bucket, char *url, size_t n)
{
	snprintf(url, n, "s3://%s?endpoint=http://127.0.0.1:%d&region=us-east-1", bucket,
	         s3->node.port);
}

void s3_support_env(void)
{
	setenv("AWS_ACCESS_KEY_ID", "S3RVER", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "S3RVER", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_REGION");
	unsetenv("AWS_DEFAULT_REGION");
}
