/* A real PostgreSQL server for the unit tests: initdb + pg_ctl in a temporary
 * directory on a free loopback port (as the postgres user when run as root),
 * with one fresh database per test. */
#ifndef PG_SUPPORT_H
#define PG_SUPPORT_H

#include <stdbool.h>
#include <stddef.h>

struct pg_server {
	char bin[128]; /* e.g. /usr/lib/postgresql/15/bin */
	char dir[64];  /* the temporary directory: data/, the socket and logs */
	int port;
	bool as_postgres; /* run the server binaries through runuser */
	bool running;
};

/* 0 when the server accepts connections, -1 (with a message on stderr) otherwise. */
int pg_support_start(struct pg_server *pg);
/* Stops the server (bounded waits) and removes its directory; safe to call twice. */
void pg_support_stop(struct pg_server *pg);
/* Stops the server but keeps its data, then starts it again on the same port:
 * for tests of what clients do while the database is away. */
void pg_support_halt(struct pg_server *pg);
int pg_support_resume(struct pg_server *pg);
/* Restarts the server on the same port and data: open connections are dropped. */
int pg_support_restart(struct pg_server *pg);
/* The server of a cmocka group that runs on PostgreSQL: its group setup and
 * teardown start and stop it. */
extern struct pg_server pg_support_server;
int pg_support_group_setup(void **state);
int pg_support_group_teardown(void **state);
/* Creates an empty database and writes its postgres:// URL into url. */
int pg_support_create_db(struct pg_server *pg, char *url, size_t n);

#endif
