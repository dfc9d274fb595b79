/*
 * `storyverse migrate`: brings the schema of the store behind --database up
 * to date (opening a store applies the missing migrations, each in its own
 * transaction) and says so. Safe to run again: applied migrations are skipped.
 */
#include "roles/internal.h"
#include "roles/roles.h"

#include <getopt.h>
#include <stdio.h>

static const char usage[] = "usage: storyverse migrate [--database URL | --data DIR]\n"
                            "\n"
                            "Applies the schema migrations the store lacks.\n"
                            "  --database URL   the store (default: sqlite:DATA/storyverse.db)\n"
                            "  --data DIR       (default: ./data)\n";

struct migrate_opts {
	const char *data, *database;
};

static int parse_option(int ch, void *ctx)
{
	struct migrate_opts *o = ctx;
	if (ch == 'D')
		o->database = optarg;
	else if (ch == 'd')
		o->data = optarg;
	else
		return -1;
	return 0;
}

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, struct migrate_opts *o)
{
	static const struct option opts[] = {{"database", required_argument, NULL, 'D'},
	                                     {"data", required_argument, NULL, 'd'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	return sv_roles_getopt("migrate", usage, argc, argv, opts, parse_option, o);
}

int sv_roles_cmd_migrate(int argc, char **argv)
{
	struct migrate_opts o = {"./data", NULL};
	int prc = parse(argc, argv, &o);
	if (prc)
		return prc == 1 ? 0 : prc;
	char database[4200];
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_store *store =
	    sv_roles_store_open(o.data, o.database, database, sizeof(database), &err);
	if (!store)
		return sv_roles_start_error("migrate", &err);
	int version = 0;
	int rc = sv_store_schema_version(store, &version, &err);
	sv_store_close(store);
	if (rc < 0)
		return sv_roles_start_error("migrate", &err);
	printf("%s: schema up to date at version %d\n", database, version);
	return 0;
}
