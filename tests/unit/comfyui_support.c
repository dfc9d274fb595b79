/*
 * Starts and stops the stand-in ComfyUI server for the unit tests. It listens
 * on port 0 and prints {"port":N}, so no other process can take a port picked
 * in advance. The child gets SIGKILL if the test process dies first, so a
 * crashed test leaves no server behind. Its stderr is the test's, so a
 * failure to start explains itself.
 */
#include "comfyui_support.h"

#include "base/base.h"

#include <arpa/inet.h>
#include <curl/curl.h>
#include <errno.h>
#include <fcntl.h>
#include <netinet/in.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#ifndef SV_SOURCE_DIR
#error "tests/CMakeLists.txt defines SV_SOURCE_DIR, the repository root"
#endif

#define STANDIN_JS   SV_SOURCE_DIR "/tests/lib/comfyui_standin.mjs"
#define START_MS     15000
#define STOP_MS      5000
#define SWITCHES_MAX 8

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

/* In the child: only async-signal-safe calls until exec. */
static void child_exec(int out_fd, char *const argv[])
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0)
		_exit(127);
	execvp(argv[0], argv);
	_exit(127);
}

static int spawn(struct comfyui_server *s, const char *const *switches)
{
	char js[] = STANDIN_JS;
	char *argv[5 + SWITCHES_MAX] = {"node", js, "--port", "0"};
	size_t n = 4;
	for (; switches && *switches; switches++) {
		if (n == 4 + SWITCHES_MAX)
			return -1;
		argv[n++] = (char *)*switches;
	}
	argv[n] = NULL;
	int p[2];
	if (pipe2(p, O_CLOEXEC) < 0)
		return -1;
	s->pid = fork();
	if (s->pid == 0)
		child_exec(p[1], argv);
	close(p[1]);
	if (s->pid < 0) {
		close(p[0]);
		return -1;
	}
	s->out_fd = p[0];
	return 0;
}

/* Reads the server's stdout until its first line names the port, or the deadline passes. */
static int await_port(struct comfyui_server *s)
{
	char line[128];
	size_t len = 0;
	long long deadline = now_ms() + START_MS;
	while (len < sizeof(line) - 1) {
		long long left = deadline - now_ms();
		struct pollfd pfd = {.fd = s->out_fd, .events = POLLIN};
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		ssize_t n = read(s->out_fd, line + len, sizeof(line) - 1 - len);
		if (n <= 0)
			return -1; /* it exited */
		len += (size_t)n;
		line[len] = '\0';
		if (strchr(line, '\n'))
			return sscanf(line, "{\"port\":%d}", &s->port) == 1 && s->port > 0 ? 0 : -1;
	}
	return -1;
}

int comfyui_support_start(struct comfyui_server *s, const char *const *switches)
{
	memset(s, 0, sizeof(*s));
	s->out_fd = -1;
	if (access(STANDIN_JS, R_OK) != 0) {
		fprintf(stderr, "comfyui_support: %s is missing\n", STANDIN_JS);
		return -1;
	}
	if (spawn(s, switches) < 0 || await_port(s) < 0) {
		fprintf(stderr, "comfyui_support: the ComfyUI stand-in did not start\n");
		comfyui_support_stop(s);
		return -1;
	}
	return 0;
}

/* Waits up to ms for the child to exit; true when it has. */
static bool reaped(pid_t pid, int ms)
{
	long long deadline = now_ms() + ms;
	do {
		pid_t r = waitpid(pid, NULL, WNOHANG);
		if (r == pid || (r < 0 && errno == ECHILD))
			return true;
		usleep(10000);
	} while (now_ms() < deadline);
	return false;
}

void comfyui_support_stop(struct comfyui_server *s)
{
	if (s->pid > 0) {
		kill(s->pid, SIGTERM);
		if (!reaped(s->pid, STOP_MS)) {
			kill(s->pid, SIGKILL);
			reaped(s->pid, STOP_MS);
		}
		s->pid = 0;
	}
	if (s->out_fd >= 0) {
		close(s->out_fd);
		s->out_fd = -1;
	}
}

void comfyui_support_url(const struct comfyui_server *s, char *url, size_t n)
{
	snprintf(url, n, "http://127.0.0.1:%d", s->port);
}

static size_t collect(char *data, size_t size, size_t n, void *ud)
{
	return sv_buf_append(ud, data, size * n) == 0 ? size * n : 0;
}

json_t *comfyui_support_last_prompt(const struct comfyui_server *s)
{
	char url[96];
	snprintf(url, sizeof(url), "http://127.0.0.1:%d/_standin/last-prompt", s->port);
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
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);
	struct sockaddr_in a = {.sin_family = AF_INET, .sin_addr.s_addr = htonl(INADDR_LOOPBACK)};
	socklen_t len = sizeof(a);
	int port = -1;
	if (fd >= 0 && bind(fd, (struct sockaddr *)&a, sizeof(a)) == 0 &&
	    getsockname(fd, (struct sockaddr *)&a, &len) == 0)
		port = ntohs(a.sin_port);
	if (fd >= 0)
		close(fd); /* bound but never listening: connecting to it is refused */
	return port;
}
