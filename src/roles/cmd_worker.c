/*
 * `storyverse worker --kind KIND`: a process that only takes jobs of one
 * kind from the store behind --database, on --concurrency threads, and
 * serves nothing but /healthz, /readyz and /metrics on --listen. On SIGTERM
 * or SIGINT it finishes the jobs in hand, then exits 0; a worker killed
 * outright leaves leases that lapse after --lease-seconds.
 */
#include "roles/internal.h"
#include "roles/roles.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

static const char usage[] =
    "usage: storyverse worker --kind KIND [options]\n"
    "\n"
    "Takes jobs of one kind from the queue and does them; serves only health and metrics.\n"
    "  --kind KIND          text (image and audio have no worker yet)\n"
    "  --concurrency N      jobs done at once, one thread each (default: 2)\n"
    "  --data DIR           where stories are kept (default: ./data)\n"
    "  --database URL       the store (default: sqlite:DATA/storyverse.db)\n"
    "  --listen ADDR:PORT   health and metrics (default: 127.0.0.1:9090)\n"
    "  --lease-seconds N    how long a job stays leased to this worker (default: 60)\n"
    "  --log-level LEVEL    debug, info, warn or error (default: info)\n";

struct worker_opts {
	const char *kind, *listen, *data, *database;
	long concurrency, lease_s;
};

static int check_kind(const char *kind)
{
	int known = sv_roles_job_kind(kind);
	if (known == 1)
		return 0;
	if (known == 0)
		sv_roles_usage_error("worker", "--kind: no worker for kind '%s' yet", kind);
	else
		sv_roles_usage_error("worker",
		                     "--kind: unknown kind '%s' (choose from text, image, "
		                     "audio)",
		                     kind);
	return -1;
}

/* 0 ok, 2 bad usage (after a one-line message), -1 not an option of ours. */
static int parse_option(int ch, void *ctx)
{
	struct worker_opts *o = ctx;
	switch (ch) {
	case 'k':
		o->kind = optarg;
		return check_kind(optarg) < 0 ? 2 : 0;
	case 'c':
		return sv_roles_parse_count("worker", "concurrency", optarg, 1, 64,
		                            &o->concurrency);
	case 'l':
		o->listen = optarg;
		return 0;
	case 'd':
		o->data = optarg;
		return 0;
	case 'D':
		o->database = optarg;
		return 0;
	case 'L':
		return sv_roles_parse_count("worker", "lease-seconds", optarg, 1, 86400,
		                            &o->lease_s);
	case 'v':
		return sv_roles_parse_log_level("worker", optarg);
	}
	return -1;
}

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, struct worker_opts *o)
{
	static const struct option opts[] = {{"kind", required_argument, NULL, 'k'},
	                                     {"concurrency", required_argument, NULL, 'c'},
	                                     {"listen", required_argument, NULL, 'l'},
	                                     {"data", required_argument, NULL, 'd'},
	                                     {"database", required_argument, NULL, 'D'},
	                                     {"lease-seconds", required_argument, NULL, 'L'},
	                                     {"log-level", required_argument, NULL, 'v'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	int rc = sv_roles_getopt("worker", usage, argc, argv, opts, parse_option, o);
	if (rc)
		return rc;
	if (!o->kind) {
		sv_roles_usage_error("worker", "--kind is required (text)");
		return 2;
	}
	return 0;
}

static int start(struct sv_app *app, const void *opts, struct sv_http_server **http,
                 struct sv_err *err)
{
	const struct worker_opts *o = opts;
	char url[4200];
	const char *database = o->database;
	if (!database) {
		sv_roles_default_database(o->data, url, sizeof(url));
		database = url;
	}
	app->kind = o->kind;
	app->lease_ms = (int64_t)o->lease_s * 1000;
	struct sv_http_config cfg = {.listen = o->listen, .threads = 2};
	if (sv_roles_app_open(app, database, err) < 0 ||
	    sv_roles_workers_start(app, (int)o->concurrency, err) < 0 ||
	    !(*http = sv_http_server_start(&cfg, sv_roles_health_routes, app, app->metrics, err)))
		return -1;
	sv_log(SV_LOG_INFO, "working",
	       json_pack("{s:s,s:s,s:i,s:i,s:s,s:s}", "kind", o->kind, "listen", o->listen, "port",
	                 (int)sv_http_server_port(*http), "concurrency", (int)o->concurrency,
	                 "database", database, "version", SV_VERSION));
	return 0;
}

int sv_roles_cmd_worker(int argc, char **argv)
{
	struct worker_opts o = {NULL, "127.0.0.1:9090", "./data", NULL, 2, SV_JOB_LEASE_MS / 1000};
	int prc = parse(argc, argv, &o);
	if (prc)
		return prc == 1 ? 0 : prc;
	return sv_roles_run("worker", start, &o, 1);
}
