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
    "  --kind KIND          text (writes the words), image (draws the pictures) or\n"
    "                       audio (reads the story aloud)\n"
    "  --concurrency N      jobs done at once, one thread each (default: 2)\n"
    "  --listen ADDR:PORT   health and metrics (default: 127.0.0.1:9090)\n" SV_ROLES_COMMON_USAGE;

struct worker_opts {
	struct sv_roles_common common;
	const char *kind;
	long concurrency;
};

static int check_kind(const char *kind)
{
	if (sv_roles_job_kind(kind))
		return 0;
	sv_roles_usage_error("worker", "--kind: unknown kind '%s' (choose from text, image, audio)",
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
	}
	return sv_roles_common_option("worker", ch, &o->common);
}

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, struct worker_opts *o)
{
	static const struct option opts[] = {{"kind", required_argument, NULL, 'k'},
	                                     {"concurrency", required_argument, NULL, 'c'},
	                                     SV_ROLES_COMMON_OPTIONS,
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	int rc = sv_roles_getopt("worker", usage, argc, argv, opts, parse_option, o);
	if (rc)
		return rc;
	if (!o->kind) {
		sv_roles_usage_error("worker", "--kind is required (text or image)");
		return 2;
	}
	return 0;
}

static int start(struct sv_app *app, const void *opts, struct sv_http_server **http,
                 struct sv_err *err)
{
	const struct worker_opts *o = opts;
	app->kinds[0] = o->kind;
	app->nkinds = 1;
	struct sv_http_config cfg = {.listen = o->common.listen, .threads = 2};
	if (sv_roles_app_open(app, &o->common, err) < 0 ||
	    sv_roles_workers_start(app, (int)o->concurrency, err) < 0 ||
	    !(*http = sv_http_server_start(&cfg, sv_roles_health_routes, app, app->metrics, err)))
		return -1;
	sv_log(SV_LOG_INFO, "working",
	       json_pack("{s:s,s:s,s:i,s:i,s:s}", "kind", o->kind, "listen", o->common.listen,
	                 "port", (int)sv_http_server_port(*http), "concurrency",
	                 (int)o->concurrency, "version", SV_VERSION));
	return 0;
}

int sv_roles_cmd_worker(int argc, char **argv)
{
	struct worker_opts o = {.common = {.listen = "127.0.0.1:9090",
	                                   .data = "./data",
	                                   .lease_s = SV_JOB_LEASE_MS / 1000},
	                        .concurrency = 2};
	int prc = parse(argc, argv, &o);
	if (prc)
		return prc == 1 ? 0 : prc;
	return sv_roles_run("worker", start, &o, 1);
}
