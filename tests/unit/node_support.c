/*
 * Runs node helper scripts for the unit tests (see node_support.h). The child
 * gets SIGKILL if the test process dies first, so a crashed test leaves no
 * server behind.
 */
#include "node_support.h"

#include <errno.h>
#include <fcntl.h>
#include <poll.h>
#include <signal.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#define STOP_MS 5000

extern char **environ;

static long long now_ms(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (long long)t.tv_sec * 1000 + t.tv_nsec / 1000000;
}

int node_support_json_port(const char *line)
{
	int port;
	return sscanf(line, "{\"port\":%d}", &port) == 1 && port > 0 ? port : 0;
}

/* Whether the environment entry a sets the variable that b ("NAME=value") names. */
static bool same_name(const char *a, const char *b)
{
	size_t n = strcspn(b, "=");
	return strncmp(a, b, n) == 0 && a[n] == '=';
}

/* Our environment with extra added, built before fork because the child may
 * only make async-signal-safe calls; the caller frees the array (not its strings). */
static char **env_with(const char *const *extra)
{
	size_t n = 0, m = 0;
	while (environ[n])
		n++;
	while (extra[m])
		m++;
	char **env = malloc((n + m + 1) * sizeof(*env));
	if (!env)
		return NULL;
	size_t k = 0;
	for (size_t i = 0; i < n; i++) {
		bool replaced = false;
		for (size_t j = 0; j < m && !replaced; j++)
			replaced = same_name(environ[i], extra[j]);
		if (!replaced)
			env[k++] = environ[i];
	}
	for (size_t j = 0; j < m; j++)
		env[k++] = (char *)extra[j];
	env[k] = NULL;
	return env;
}

/* In the child: only async-signal-safe calls until exec. */
static void child_exec(int out_fd, const char *err_log, char *const argv[], char *const env[])
{
	prctl(PR_SET_PDEATHSIG, SIGKILL);
	int in = open("/dev/null", O_RDONLY);
	if (in < 0 || dup2(in, 0) < 0 || dup2(out_fd, 1) < 0)
		_exit(127);
	if (err_log) {
		int err = open(err_log, O_WRONLY | O_CREAT | O_APPEND, 0644);
		if (err < 0 || dup2(err, 2) < 0)
			_exit(127);
	}
	execvpe(argv[0], argv, env);
	_exit(127);
}

static int spawn(struct node_child *c, char *const argv[], const char *const *extra,
                 const char *err_log)
{
	char **env = extra ? env_with(extra) : environ;
	int p[2];
	if (!env || pipe2(p, O_CLOEXEC) < 0) {
		if (env != environ)
			free(env);
		return -1;
	}
	c->pid = fork();
	if (c->pid == 0)
		child_exec(p[1], err_log, argv, env);
	if (env != environ)
		free(env);
	close(p[1]);
	if (c->pid < 0) {
		c->pid = 0;
		close(p[0]);
		return -1;
	}
	c->out_fd = p[0];
	return 0;
}

/* Reads the child's stdout a line at a time until one names the port, the
 * child exits or the deadline passes. */
static int await_port(struct node_child *c, int start_ms, node_port_fn *port_of)
{
	char buf[512];
	size_t len = 0;
	long long deadline = now_ms() + start_ms;
	while (len < sizeof(buf) - 1) {
		long long left = deadline - now_ms();
		struct pollfd pfd = {.fd = c->out_fd, .events = POLLIN};
		if (left <= 0 || poll(&pfd, 1, (int)left) <= 0)
			return -1;
		ssize_t n = read(c->out_fd, buf + len, sizeof(buf) - 1 - len);
		if (n <= 0)
			return -1; /* it exited */
		len += (size_t)n;
		buf[len] = '\0';
		char *line = buf, *nl;
		while ((nl = strchr(line, '\n'))) {
			*nl = '\0';
			if ((c->port = port_of(line)) > 0)
				return 0;
			line = nl + 1;
		}
		/* Keep only the unfinished line, so a chatty child does not fill buf. */
		len -= (size_t)(line - buf);
		memmove(buf, line, len + 1);
	}
	return -1;
}

int node_support_start(struct node_child *c, char *const argv[], const char *const *env,
                       const char *err_log, int start_ms, node_port_fn *port_of)
{
	memset(c, 0, sizeof(*c));
	c->out_fd = -1;
	if (spawn(c, argv, env, err_log) == 0 &&
	    await_port(c, start_ms, port_of ? port_of : node_support_json_port) == 0)
		return 0;
	node_support_stop(c);
	return -1;
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

void node_support_stop(struct node_child *c)
{
	if (c->pid > 0) {
		kill(c->pid, SIGTERM);
		if (!reaped(c->pid, STOP_MS)) {
			kill(c->pid, SIGKILL);
			reaped(c->pid, STOP_MS);
		}
		c->pid = 0;
	}
	if (c->out_fd >= 0) {
		close(c->out_fd);
		c->out_fd = -1;
	}
}
