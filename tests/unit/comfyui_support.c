/*
 * Starts and stops the stand-in ComfyUI server for the unit tests, through
 * node_support: it prints {"port":N} once it listens on port 0. Its stderr is
 * the test's, so a failure to start explains itself.
 */
#include "comfyui_support.h"

#include "base/base.h"
#include "port_support.h"

#include <curl/curl.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#ifndef SV_SOURCE_DIR
#error "tests/CMakeLists.txt defines SV_SOURCE_DIR, the repository root"
#endif

#define STANDIN_JS   SV_SOURCE_DIR "/tests/lib/comfyui_standin.mjs"
#define START_MS     15000
#define SWITCHES_MAX 8

int comfyui_support_start(struct comfyui_server *s, const char *const *switches)
{
	memset(s, 0, sizeof(*s));
	s->node.out_fd = -1;
	if (access(STANDIN_JS, R_OK) != 0) {
		fprintf(stderr, "comfyui_support: %s is missing\n", STANDIN_JS);
		return -1;
	}
	char js[] = STANDIN_JS;
	char *argv[5 + SWITCHES_MAX] = {"node", js, "--port", "0"};
	size_t n = 4;
	for (; switches && *switches; switches++) {
		if (n == 4 + SWITCHES_MAX)
			return -1;
		argv[n++] = (char *)*switches;
	}
	argv[n] = NULL;
	if (node_support_start(&s->node, argv, NULL, NULL, START_MS, NULL) < 0) {
		fprintf(stderr, "comfyui_support: the ComfyUI stand-in did not start\n");
		return -1;
	}
	return 0;
}

void comfyui_support_stop(struct comfyui_server *s)
{
	node_support_stop(&s->node);
}

void comfyui_support_url(const struct comfyui_server *s, char *url, size_t n)
{
	snprintf(url, n, "http://127.0.0.1:%d", s->node.port);
}

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
	return sv_buf_append(ud, data, size * n) == 0 ? size * n : 0;
}

json_t *comfyui_support_last_prompt(const struct comfyui_server *s)
{
	char url[96];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/_standin/last-prompt", s->node.port);
	struct sv_buf body;
	sv_buf_init(&body);
	CURL *h = curl_easy_init();
	long status = 0;
	if (h) {
		curl_easy_setopt(h, CURLOPT_URL, url);
		curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, collect);
		curl_easy_setopt(h, CURLOPT_WRITEDATA, &body);
		curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, 10000L);
		if (curl_easy_perform(h) == CURLE_OK)
			curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &status);
	}
	curl_easy_cleanup(h);
	json_t *doc = status == 200 ? json_loadb(body.data, body.len, 0, NULL) : NULL;
	sv_buf_free(&body);
	return doc;
}

int comfyui_support_closed_port(void)
{
	return sv_test_free_port();
}
