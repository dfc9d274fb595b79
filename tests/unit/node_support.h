/* Runs a node helper script for the unit tests (the ComfyUI stand-in, s3rver)
 * as a child on a free loopback port: the script listens on port 0 and prints
 * the port it got, so no other process can take a port picked in advance.
 * Every wait is bounded. */
#ifndef NODE_SUPPORT_H
#define NODE_SUPPORT_H

#include <sys/types.h>

struct node_child {
	int port;
	pid_t pid;
	int out_fd; /* the read end of the child's stdout, kept open so it never gets EPIPE */
};

/* The port a line of the child's stdout names (> 0), or 0 when it names none. */
typedef int node_port_fn(const char *line);

/* The port of a line {"port":N}, what the repository's own scripts print. */
int node_support_json_port(const char *line);

/* Starts argv (argv[0] looked up on PATH, NULL-terminated) with env (NULL or a
 * NULL-terminated list of "NAME=value" that add to or replace ours), stdin
 * from /dev/null and stderr appended to err_log (NULL: the test's own). Reads
 * its stdout for up to start_ms until port_of (NULL: node_support_json_port)
 * finds the port in a line. 0 then; -1 otherwise, with the child stopped. */
int node_support_start(struct node_child *c, char *const argv[], const char *const *env,
                       const char *err_log, int start_ms, node_port_fn *port_of);
/* Stops the child (SIGTERM, then SIGKILL, bounded waits) and reaps it; safe to call twice. */
void node_support_stop(struct node_child *c);

#endif
