/*
 * libcurl's global set-up, once per process for every module that makes
 * HTTP requests (S3 blobs, ComfyUI, OpenAI-compatible servers):
 * curl_global_init is not thread-safe in curl 7.x, so it runs exactly once.
 */
#include "base/base.h"

#include <curl/curl.h>
#include <pthread.h>

static pthread_once_t once = PTHREAD_ONCE_INIT;
static CURLcode status = CURLE_FAILED_INIT;

static void start(void)
{
	status = curl_global_init(CURL_GLOBAL_DEFAULT);
}

int sv_curl_init(const char *field, struct sv_err *err)
{
	pthread_once(&once, start);
	if (status == CURLE_OK)
		return 0;
	return sv_err_set(err, "internal", field, "libcurl failed to initialise: %s",
	                  curl_easy_strerror(status));
}
