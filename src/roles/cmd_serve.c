/*
 * `storyverse serve`: the HTTP API and web page, and (unless --roles leaves
 * it out) the text workers, in one process on the store behind --database.
 * --roles picks a subset from the roles table; `serve --roles gateway,story`
 * takes requests while separate `storyverse worker` processes write stories.
 * Runs until SIGTERM or SIGINT, then stops taking requests, lets work in
 * flight finish, and exits.
 */
#include "roles/internal.h"
#include "roles/roles.h"

#include <errno.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: storyverse serve [--listen ADDR:PORT] [--data DIR] [options]\n"
    "\n"
    "Serves the web page and the API, and writes the stories, all in one process.\n"
    "  --listen ADDR:PORT   where to listen (default: 127.0.0.1:8080)\n" SV_ROLES_COMMON_USAGE
    "  --roles LIST         roles to run, comma-separated: gateway, story, text, image,\n"
    "                       audio\n"
    "                       (default: all; gateway,story serves the API without workers)\n"
    "  --threads N          HTTP threads (default: one per CPU core)\n"
    "  --workers N          story-writing threads; 0 only takes requests (default: 2)\n";

enum {
	ROLE_GATEWAY = 1,
	ROLE_STORY = 2,
	ROLE_TEXT = 4,
	ROLE_IMAGE = 8,
	ROLE_AUDIO = 16,
	ROLE_ALL = 31
};

/* The roles `serve` can run; the worker kinds beyond text run in `worker`. */
static const struct {
	const char *name;
	int bit;
} roles[] = {
    {"gateway", ROLE_GATEWAY}, {"story", ROLE_STORY}, {"text", ROLE_TEXT},
    {"image", ROLE_IMAGE},     {"audio", ROLE_AUDIO},
};

struct serve_opts {
	struct sv_roles_common common;
	long threads, workers;
	int roles;
};

static int role_bit(const char *name, size_t len)
{
	for (size_t i = 0; i < sizeof(roles) / sizeof(roles[0]); i++)
		if (strlen(roles[i].name) == len && strncmp(roles[i].name, name, len) == 0)
			return roles[i].bit;
	return 0;
}

/* Parses "gateway,story" into role bits; -1 after a one-line message. */
static int parse_roles(const char *list, int *out)
{
	*out = 0;
	for (const char *p = list;; p++) {
		size_t len = strcspn(p, ",");
		int bit = role_bit(p, len);
		if (!bit) {
			sv_roles_usage_error("serve",
			                     "--roles: unknown role '%.*s' (choose from gateway, "
			                     "story, text, image, audio)",
			                     (int)len, p);
			return -1;
		}
		*out |= bit;
		p += len;
		if (!*p)
			return 0;
	}
}

/* 0 ok, 2 bad usage (after a one-line message), -1 not an option of ours. */
static int parse_option(int ch, void *ctx)
{
	struct serve_opts *o = ctx;
	switch (ch) {
	case 'r':
		return parse_roles(optarg, &o->roles) < 0 ? 2 : 0;
	case 't':
		return sv_roles_parse_count("serve", "threads", optarg, 1, 256, &o->threads);
	case 'w':
		return sv_roles_parse_count("serve", "workers", optarg, 0, 64, &o->workers);
	}
	return sv_roles_common_option("serve", ch, &o->common);
}

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {SV_ROLES_COMMON_OPTIONS,
	                                     {"roles", required_argument, NULL, 'r'},
	                                     {"threads", required_argument, NULL, 't'},
	                                     {"workers", required_argument, NULL, 'w'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	return sv_roles_getopt("serve", usage, argc, argv, opts, parse_option, o);
}

static int start(struct sv_app *app, const void *opts, struct sv_http_server **http,
                 struct sv_err *err)
{
	const struct serve_opts *o = opts;
	if (o->roles & ROLE_TEXT)
		app->kinds[app->nkinds++] = SV_JOB_KIND_TEXT;
	if (o->roles & ROLE_IMAGE)
		app->kinds[app->nkinds++] = SV_JOB_KIND_IMAGE;
	if ((o->roles & ROLE_AUDIO) && !o->common.no_audio)
		app->kinds[app->nkinds++] = SV_JOB_KIND_AUDIO;
	int workers = app->nkinds ? (int)o->workers : 0;
	int api = o->roles & (ROLE_GATEWAY | ROLE_STORY);
	struct sv_http_config cfg = {.listen = o->common.listen, .threads = (unsigned)o->threads};
	if (sv_roles_app_open(app, &o->common, err) < 0 ||
	    sv_roles_workers_start(app, workers, err) < 0 ||
	    !(*http = sv_http_server_start(&cfg, api ? sv_roles_routes : sv_roles_health_routes,
	                                   app, app->metrics, err)))
		return -1;
	sv_log(SV_LOG_INFO, "serving",
	       json_pack("{s:s,s:i,s:i,s:s}", "listen", o->common.listen, "port",
	                 (int)sv_http_server_port(*http), "workers", workers, "version",
	                 SV_VERSION));
	return 0;
}

int sv_roles_cmd_serve(int argc, char **argv)
{
	/* One HTTP thread per core: more only adds context switches to the tail latency. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct serve_opts o = {.common = {.listen = "127.0.0.1:8080",
	                                  .data = "./data",
	                                  .lease_s = SV_JOB_LEASE_MS / 1000},
	                       .threads = cores > 1 ? cores : 2,
	                       .workers = 2,
	                       .roles = ROLE_ALL};
	int prc = parse(argc, argv, &o);
	if (prc)
		return prc == 1 ? 0 : prc;
	return sv_roles_run("serve", start, &o, 0);
}
