/*
 * `storyverse serve`: every role in one process — the HTTP API and web page,
 * and the text workers — on SQLite under --data. Runs until SIGTERM or
 * SIGINT, then stops taking requests, lets work in flight finish, and exits.
 */
#include "roles/internal.h"
#include "roles/roles.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

static const char usage[] =
    "usage: storyverse serve [--listen ADDR:PORT] [--data DIR] [options]\n"
    "\n"
    "Serves the web page and the API, and writes the stories, all in one process.\n"
    "  --listen ADDR:PORT   where to listen (default: 127.0.0.1:8080)\n"
    "  --data DIR           where stories are kept (default: ./data)\n"
    "  --threads N          HTTP threads (default: one per CPU core)\n"
    "  --workers N          story-writing threads; 0 only takes requests (default: 2)\n"
    "  --log-level LEVEL    debug, info, warn or error (default: info)\n";

struct serve_opts {
	const char *listen, *data;
	long threads, workers;
};

static int parse_count(const char *flag, const char *s, long min, long max, long *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || *end || !*s || v < min || v > max) {
		sv_roles_usage_error("serve", "--%s: '%s' is not a whole number from %ld to %ld",
		                     flag, s, min, max);
		return -1;
	}
	*out = v;
	return 0;
}

/* Returns 0 to run, 1 when --help was printed, 2 on bad usage. */
static int parse(int argc, char **argv, struct serve_opts *o)
{
	static const struct option opts[] = {{"listen", required_argument, NULL, 'l'},
	                                     {"data", required_argument, NULL, 'd'},
	                                     {"threads", required_argument, NULL, 't'},
	                                     {"workers", required_argument, NULL, 'w'},
	                                     {"log-level", required_argument, NULL, 'v'},
	                                     {"help", no_argument, NULL, 'h'},
	                                     {0}};
	opterr = 0;
	optind = 1;
	int ch;
	enum sv_log_level level;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		switch (ch) {
		case 'l':
			o->listen = optarg;
			break;
		case 'd':
			o->data = optarg;
			break;
		case 't':
			if (parse_count("threads", optarg, 1, 256, &o->threads) < 0)
				return 2;
			break;
		case 'w':
			if (parse_count("workers", optarg, 0, 64, &o->workers) < 0)
				return 2;
			break;
		case 'v':
			if (sv_log_parse_level(optarg, &level) < 0) {
				sv_roles_usage_error("serve",
				                     "--log-level: '%s' is not one of debug, "
				                     "info, warn, error",
				                     optarg);
				return 2;
			}
			sv_log_set_level(level);
			break;
		case 'h':
			fputs(usage, stdout);
			return 1;
		default:
			return sv_roles_bad_option("serve", ch, argv);
		}
	}
	return sv_roles_no_operands("serve", argc, argv);
}

static int app_open(struct sv_app *app, const struct serve_opts *o, struct sv_err *err)
{
	pthread_mutex_init(&app->lock, NULL);
	pthread_cond_init(&app->wake, NULL);
	if (sv_random_hex(app->instance, 4) < 0)
		strcpy(app->instance, "local");
	if (mkdir(o->data, 0755) < 0 && errno != EEXIST)
		return sv_err_set(err, "io", "data", "cannot create '%s': %s", o->data,
		                  strerror(errno));
	if (!(app->catalog = sv_story_catalog_new("en", err)))
		return -1;
	json_t *doc = sv_story_catalog_json(app->catalog);
	app->catalog_json = doc ? json_dumps(doc, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(doc);
	if (!app->catalog_json)
		return sv_err_set(err, "nomem", "", "cannot render the catalog");
	char url[4200];
	snprintf(url, sizeof(url), "sqlite:%s/storyverse.db", o->data);
	if (!(app->store = sv_store_open(url, err)))
		return -1;
	if (!(app->metrics = sv_metrics_new()))
		return sv_err_set(err, "nomem", "", "out of memory");
	sv_metrics_declare(app->metrics, "storyverse_stories", "gauge", "Stories by status.");
	sv_metrics_declare(app->metrics, "storyverse_jobs_queued", "gauge",
	                   "Jobs waiting to run, by kind.");
	return 0;
}

static void app_close(struct sv_app *app)
{
	sv_store_close(app->store);
	sv_story_catalog_free(app->catalog);
	sv_metrics_free(app->metrics);
	free(app->catalog_json);
	pthread_cond_destroy(&app->wake);
	pthread_mutex_destroy(&app->lock);
}

int sv_roles_cmd_serve(int argc, char **argv)
{
	/* One HTTP thread per core: more only adds context switches to the tail latency. */
	long cores = sysconf(_SC_NPROCESSORS_ONLN);
	struct serve_opts o = {"127.0.0.1:8080", "./data", cores > 1 ? cores : 2, 2};
	int prc = parse(argc, argv, &o);
	if (prc)
		return prc == 1 ? 0 : prc;

	/* Block the stop signals before any thread starts, so only sigwait sees them. */
	sigset_t stop;
	sigemptyset(&stop);
	sigaddset(&stop, SIGTERM);
	sigaddset(&stop, SIGINT);
	pthread_sigmask(SIG_BLOCK, &stop, NULL);
	signal(SIGPIPE, SIG_IGN);

	struct sv_app app = {0};
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_http_config cfg = {.listen = o.listen, .threads = (unsigned)o.threads};
	struct sv_http_server *http = NULL;
	int rc = 1;
	if (app_open(&app, &o, &err) < 0 ||
	    sv_roles_workers_start(&app, (int)o.workers, &err) < 0 ||
	    !(http = sv_http_server_start(&cfg, sv_roles_routes, &app, app.metrics, &err))) {
		if (err.field[0])
			sv_roles_usage_error("serve", "--%s: %s", err.field, err.message);
		else
			sv_roles_usage_error("serve", "%s", err.message);
		rc = err.field[0] ? 2 : 1;
	} else {
		sv_log(SV_LOG_INFO, "serving",
		       json_pack("{s:s,s:i,s:s,s:s}", "listen", o.listen, "port",
		                 (int)sv_http_server_port(http), "data", o.data, "version",
		                 SV_VERSION));
		int sig = 0;
		sigwait(&stop, &sig);
		sv_log(SV_LOG_INFO, "stopping", json_pack("{s:s}", "signal", strsignal(sig)));
		rc = 0;
	}
	sv_http_server_stop(http);
	sv_roles_workers_stop(&app);
	app_close(&app);
	if (rc == 0)
		sv_log(SV_LOG_INFO, "stopped", NULL);
	return rc;
}
