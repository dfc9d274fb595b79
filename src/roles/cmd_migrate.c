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

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, const char **data, const char **database)
{
	static const struct option opts[] = {{"database", required_argument, NULL, 'D'},
	                                     {"data", required_argument, NULL, 'd'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	opterr = 0;
	optind = 1;
	int ch;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'D')
			*database = optarg;
		else if (ch == 'd')
			*data = optarg;
		else if (ch == 'h') {
			fputs(usage, stdout);
			return 1;
		} else
			return sv_roles_bad_option("migrate", ch, argv);
	}
	return sv_roles_no_operands("migrate", argc, argv);
}

int sv_roles_cmd_migrate(int argc, char **argv)
{
	const char *data = "./data", *database = NULL;
	int prc = parse(argc, argv, &data, &database);
	if (prc)
		return prc == 1 ? 0 : prc;
	char url[4200];
	if (!database) {
		sv_roles_default_database(data, url, sizeof(url));
		database = url;
	}
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_store *store = sv_store_open(database, &err);
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
