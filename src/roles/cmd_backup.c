/*
 * `storyverse backup --out FILE` and `storyverse restore --in FILE`: the
 * whole of a StoryVerse system (the database behind --database and the blobs
 * behind --blobs) into one archive file and back. Backup runs beside a live
 * server; restore wants an empty database of the same kind (see
 * sv_store_backup in store/store.h). Each prints one line when done, or one
 * line saying what went wrong (exit 1; 2 for bad usage).
 */
#include "roles/internal.h"
#include "roles/roles.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

/* The common options these commands take: serve's, less --listen and --lease-seconds. */
#define OPTIONS_USAGE SV_ROLES_STORE_USAGE SV_ROLES_LOG_USAGE

static const char backup_usage[] =
    "usage: storyverse backup --out FILE [--data DIR] [--database URL] [--blobs URL]\n"
    "\n"
    "Writes a consistent snapshot of the stories and every blob into FILE (a gzip'd tar),\n"
    "while the server goes on serving.\n"
    "  --out FILE           the archive to write (replaced only once it is whole)\n" OPTIONS_USAGE;

static const char restore_usage[] =
    "usage: storyverse restore --in FILE [--data DIR] [--database URL] [--blobs URL]\n"
    "\n"
    "Puts a backup made by `storyverse backup` into an empty database and blob store\n"
    "of the same kind (sqlite or postgres) and schema version.\n"
    "  --in FILE            the archive to read\n" OPTIONS_USAGE;

struct backup_opts {
	const char *cmd; /* "backup" or "restore" */
	struct sv_roles_common common;
	const char *file; /* --out or --in */
};

static int parse_option(int ch, void *ctx)
{
	struct backup_opts *o = ctx;
	if (ch == 'f') {
		o->file = optarg;
		return 0;
	}
	return sv_roles_common_option(o->cmd, ch, &o->common);
}

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, struct backup_opts *o, const char *file_flag,
                 const char *usage)
{
	/* Only the common options that mean something here: no --listen, no leases. */
	const struct option opts[] = {{file_flag, required_argument, NULL, 'f'},
	                              {"data", required_argument, NULL, 'd'},
	                              {"database", required_argument, NULL, 'D'},
	                              {"blobs", required_argument, NULL, 'B'},
	                              {"log-level", required_argument, NULL, 'v'},
	                              {"help", no_argument, NULL, 'h'},
	                              {0}};
	int rc = sv_roles_getopt(o->cmd, usage, argc, argv, opts, parse_option, o);
	if (rc)
		return rc;
	if (!o->file || !*o->file) {
		sv_roles_usage_error(o->cmd, "--%s FILE is required (see --help)", file_flag);
		return 2;
	}
	return 0;
}

/* Reports a failure as one line; exit status 1. */
static int failed(const char *cmd, const struct sv_err *err)
{
	sv_roles_usage_error(cmd, "%s", err->message);
	return 1;
}

/* A backup reads a database that must be there: a SQLite file that is not
 * (a wrong --data, say) would otherwise be created empty and backed up. */
static int database_exists(const char *cmd, const char *url)
{
	struct stat st;
	if (strncmp(url, "sqlite:", 7) != 0 || stat(url + 7, &st) == 0)
		return 0;
	sv_roles_usage_error(cmd, "no database at %s (see --data and --database)", url + 7);
	return -1;
}

/* Opens the store and blobs the options name; 0, or the exit status after a message. */
static int open_both(const struct backup_opts *o, const char *database, struct sv_store **store,
                     struct sv_blobs **blobs)
{
	struct sv_err err;
	sv_err_clear(&err);
	char url[4200];
	if (sv_roles_blobs_url(&o->common, url, sizeof(url), &err) < 0 ||
	    !(*store = sv_store_open(database, &err)) || !(*blobs = sv_store_blobs_open(url, &err)))
		return sv_roles_start_error(o->cmd, &err);
	return 0;
}

/* "3 stories, 1 blob": what an archive holds, for the line a command ends with. */
static const char *counts(const struct sv_store_backup_info *info, char *out, size_t n)
{
	snprintf(out, n, "%lld %s, %lld %s", (long long)info->stories,
	         info->stories == 1 ? "story" : "stories", (long long)info->blobs,
	         info->blobs == 1 ? "blob" : "blobs");
	return out;
}

static int backup(const struct backup_opts *o)
{
	char database[4200];
	if (o->common.database)
		snprintf(database, sizeof(database), "%s", o->common.database);
	else
		sv_roles_default_database(o->common.data, database, sizeof(database));
	if (database_exists(o->cmd, database) < 0)
		return 1;
	struct sv_store *store = NULL;
	struct sv_blobs *blobs = NULL;
	int rc = open_both(o, database, &store, &blobs);
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_store_backup_info info;
	char line[96];
	if (rc == 0 && sv_store_backup(store, blobs, o->file, &info, &err) < 0)
		rc = failed(o->cmd, &err);
	else if (rc == 0)
		printf("backup: %s -> %s\n", counts(&info, line, sizeof(line)), o->file);
	sv_store_blobs_close(blobs);
	sv_store_close(store);
	return rc;
}

/* The backend a database URL names, as a backup records it. */
static const char *backend_of(const char *url)
{
	return strncmp(url, "postgres", 8) == 0 ? "postgres" : "sqlite";
}

static int restore(const struct backup_opts *o)
{
	/* The archive is checked before anything is opened, so that a wrong file
	 * or the wrong kind of database leaves no new data folder behind. */
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_store_backup_info info;
	if (sv_store_backup_info(o->file, &info, &err) < 0)
		return failed(o->cmd, &err);
	const char *target = o->common.database ? backend_of(o->common.database) : "sqlite";
	if (strcmp(info.backend, target) != 0) {
		sv_roles_usage_error(o->cmd, "%s holds a %s database; --database names a %s one",
		                     o->file, info.backend, target);
		return 1;
	}
	char database[4200];
	if (sv_roles_database_url(&o->common, database, sizeof(database), &err) < 0)
		return sv_roles_start_error(o->cmd, &err);
	struct sv_store *store = NULL;
	struct sv_blobs *blobs = NULL;
	int rc = open_both(o, database, &store, &blobs);
	char line[96];
	if (rc == 0 && sv_store_restore(store, blobs, o->file, &info, &err) < 0)
		rc = failed(o->cmd, &err);
	else if (rc == 0)
		printf("restore: %s <- %s\n", counts(&info, line, sizeof(line)), o->file);
	sv_store_blobs_close(blobs);
	sv_store_close(store);
	return rc;
}

int sv_roles_cmd_backup(int argc, char **argv)
{
	struct backup_opts o = {.cmd = "backup", .common = {.data = "./data"}};
	int prc = parse(argc, argv, &o, "out", backup_usage);
	if (prc)
		return prc == 1 ? 0 : prc;
	return backup(&o);
}

int sv_roles_cmd_restore(int argc, char **argv)
{
	struct backup_opts o = {.cmd = "restore", .common = {.data = "./data"}};
	int prc = parse(argc, argv, &o, "in", restore_usage);
	if (prc)
		return prc == 1 ? 0 : prc;
	return restore(&o);
}
