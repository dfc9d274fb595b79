/*
 * Starts and stops a throwaway PostgreSQL for the unit tests. Debian puts the
 * server binaries under /usr/lib/postgresql/<version>/bin; the newest version
 * found is used. The cluster lives in a mkdtemp directory owned by the
 * postgres user (PostgreSQL refuses to run as root), trusts local connections,
 * listens on 127.0.0.1 only and runs with fsync off: it is thrown away anyway.
 */
#include "pg_support.h"

#include "port_support.h"

#include <glob.h>
#include <libpq-fe.h>
#include <pwd.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int find_bin(struct pg_server *pg)
{
	glob_t g;
	if (glob("/usr/lib/postgresql/*/bin/initdb", 0, NULL, &g) != 0) {
		fprintf(stderr, "pg_support: no /usr/lib/postgresql/*/bin/initdb (apt install "
		                "postgresql)\n");
		return -1;
	}
	/* Sorted: the last entry is the newest (single-digit majors aside, 15 > 14 > 13). */
	snprintf(pg->bin, sizeof(pg->bin), "%.*s", (int)(strlen(g.gl_pathv[g.gl_pathc - 1]) - 7),
	         g.gl_pathv[g.gl_pathc - 1]);
	globfree(&g);
	return 0;
}

/* Runs one server binary with arguments, as postgres when we are root. */
static int run_tool(const struct pg_server *pg, const char *tool, const char *args)
{
	char cmd[1024];
	snprintf(cmd, sizeof(cmd), "cd %s && %s %s/%s %s >>%s/tools.log 2>&1", pg->dir,
	         pg->as_postgres ? "runuser -u postgres --" : "", pg->bin, tool, args, pg->dir);
	return system(cmd) == 0 ? 0 : -1;
}

static int make_dir(struct pg_server *pg)
{
	strcpy(pg->dir, "/tmp/sv-pg-XXXXXX");
	if (!mkdtemp(pg->dir))
		return -1;
	pg->as_postgres = geteuid() == 0;
	if (!pg->as_postgres)
		return 0;
	struct passwd *pw = getpwnam("postgres");
	if (!pw || chown(pg->dir, pw->pw_uid, pw->pw_gid) != 0) {
		fprintf(stderr, "pg_support: cannot hand %s to the postgres user\n", pg->dir);
		return -1;
	}
	return 0;
}

static int server_start(struct pg_server *pg)
{
	char args[512];
	snprintf(args, sizeof(args),
	         "start -w -t 30 -D %s/data -l %s/server.log -o \"-p %d -k %s "
	         "-c listen_addresses=127.0.0.1 -c fsync=off -c synchronous_commit=off "
	         "-c full_page_writes=off\"",
	         pg->dir, pg->dir, pg->port, pg->dir);
	if (run_tool(pg, "pg_ctl", args) < 0) {
		fprintf(stderr, "pg_support: pg_ctl start failed, see %s/server.log\n", pg->dir);
		return -1;
	}
	pg->running = true;
	return 0;
}

static void server_stop(struct pg_server *pg)
{
	char args[256];
	snprintf(args, sizeof(args), "stop -w -t 30 -m fast -D %s/data", pg->dir);
	if (run_tool(pg, "pg_ctl", args) < 0) {
		snprintf(args, sizeof(args), "stop -w -t 10 -m immediate -D %s/data", pg->dir);
		run_tool(pg, "pg_ctl", args);
	}
	pg->running = false;
}

int pg_support_start(struct pg_server *pg)
{
	memset(pg, 0, sizeof(*pg));
	if (find_bin(pg) < 0 || make_dir(pg) < 0)
		return -1;
	char args[256];
	snprintf(args, sizeof(args),
	         "-D %s/data -U postgres -A trust -E UTF8 --no-locale --no-sync", pg->dir);
	if (run_tool(pg, "initdb", args) < 0) {
		fprintf(stderr, "pg_support: initdb failed, see %s/tools.log\n", pg->dir);
		return -1;
	}
	pg->port = sv_test_free_port();
	return pg->port > 0 ? server_start(pg) : -1;
}

void pg_support_stop(struct pg_server *pg)
{
	if (pg->running)
		server_stop(pg);
	if (pg->dir[0]) {
		char cmd[128];
		snprintf(cmd, sizeof(cmd), "rm -rf %s", pg->dir);
		if (system(cmd) != 0)
			fprintf(stderr, "pg_support: cannot remove %s\n", pg->dir);
		pg->dir[0] = '\0';
	}
}

void pg_support_halt(struct pg_server *pg)
{
	server_stop(pg);
}

int pg_support_resume(struct pg_server *pg)
{
	return server_start(pg);
}

int pg_support_restart(struct pg_server *pg)
{
	server_stop(pg);
	return server_start(pg);
}

int pg_support_create_db(struct pg_server *pg, char *url, size_t n)
{
	static int counter;
	char name[32], admin[128];
	snprintf(name, sizeof(name), "t%d_%d", (int)getpid(), ++counter);
	snprintf(admin, sizeof(admin), "postgresql://postgres@127.0.0.1:%d/postgres", pg->port);
	PGconn *c = PQconnectdb(admin);
	int rc = -1;
	char *ident =
	    PQstatus(c) == CONNECTION_OK ? PQescapeIdentifier(c, name, strlen(name)) : NULL;
	if (ident) {
		char sql[96];
		snprintf(sql, sizeof(sql), "CREATE DATABASE %s STRATEGY = FILE_COPY", ident);
		PGresult *r = PQexec(c, sql);
		rc = PQresultStatus(r) == PGRES_COMMAND_OK ? 0 : -1;
		PQclear(r);
		PQfreemem(ident);
	}
	if (rc < 0)
		fprintf(stderr, "pg_support: cannot create database: %s", PQerrorMessage(c));
	PQfinish(c);
	snprintf(url, n, "postgres://postgres@127.0.0.1:%d/%s", pg->port, name);
	return rc;
}

struct pg_server pg_support_server;

int pg_support_group_setup(void **state)
{
	return pg_support_start(&pg_support_server);
}

int pg_support_group_teardown(void **state)
{
	pg_support_stop(&pg_support_server);
	return 0;
}
