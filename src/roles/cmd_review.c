/*
 * `storyverse review`: the queue of stories that output moderation held for
 * a person to read. `list` shows each held story with the words that were
 * refused and why; `approve ID` lets it go on through the pipeline (or makes
 * it ready), `reject ID` keeps it from ever being shared.
 */
#include "roles/internal.h"
#include "roles/roles.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

static const char usage[] =
    "usage: storyverse review list [--json] [--database URL | --data DIR]\n"
    "       storyverse review approve ID [--database URL | --data DIR]\n"
    "       storyverse review reject ID [--note TEXT] [--database URL | --data DIR]\n"
    "\n"
    "Stories whose words moderation refused, after softening and rewrites, wait\n"
    "here for a person instead of reaching a child.\n"
    "  list             the waiting stories, oldest first, with the refused words\n"
    "  approve ID       the story goes on (pictures, narration) and is delivered\n"
    "  reject ID        the story is never shared; its status becomes rejected\n"
    "  --json           list as one JSON object per story\n"
    "  --note TEXT      why it was rejected (kept as the story's error)\n"
    "  --database URL   the store (default: sqlite:DATA/storyverse.db)\n"
    "  --data DIR       (default: ./data)\n";

#define MAX_LISTED 1000
#define NOTE_MAX   300

struct review_opts {
	const char *data, *database, *note;
	bool json;
};

static int parse_option(int ch, void *ctx)
{
	struct review_opts *o = ctx;
	switch (ch) {
	case 'D':
		o->database = optarg;
		return 0;
	case 'd':
		o->data = optarg;
		return 0;
	case 'j':
		o->json = true;
		return 0;
	case 'n':
		if (strlen(optarg) > NOTE_MAX) {
			sv_roles_usage_error("review", "--note: at most %d bytes", NOTE_MAX);
			return 2;
		}
		o->note = optarg;
		return 0;
	default:
		return -1;
	}
}

/* One flag of a held story, as a line a reviewer reads. */
static void print_flag(const json_t *f)
{
	const json_t *page = json_object_get(f, "page");
	if (page)
		printf("    page %d ", (int)json_integer_value(page));
	else
		printf("    ");
	printf("%s:", json_string_value(json_object_get(f, "field")));
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(f, "matches"), i, m)
	    printf("%s %s \"%s\"", i ? "," : "", json_string_value(json_object_get(m, "category")),
	           json_string_value(json_object_get(m, "words")));
	int rewrites = (int)json_integer_value(json_object_get(f, "rewrites"));
	if (rewrites)
		printf(" (after %d rewrite%s)", rewrites, rewrites == 1 ? "" : "s");
	printf("\n");
}

static void print_story(const struct sv_store_story *s, bool as_json)
{
	json_t *why = s->review ? json_loads(s->review, 0, NULL) : NULL;
	if (as_json) {
		json_t *o = json_pack("{s:s,s:s?,s:I,s:I,s:O?}", "id", s->id, "title", s->title,
		                      "created_at", (json_int_t)s->created_at, "held_at",
		                      (json_int_t)s->updated_at, "review", why);
		char *line = o ? json_dumps(o, JSON_COMPACT) : NULL;
		if (line)
			printf("%s\n", line);
		free(line);
		json_decref(o);
	} else {
		char when[32] = "";
		time_t t = (time_t)(s->updated_at / 1000);
		struct tm tm;
		if (gmtime_r(&t, &tm))
			strftime(when, sizeof when, "%Y-%m-%d %H:%M UTC", &tm);
		printf("%s  ages %s  held %s  \"%s\"\n", s->id,
		       json_string_value(json_object_get(why, "age")) ?: "?", when,
		       s->title ? s->title : "");
		size_t i;
		const json_t *f;
		json_array_foreach(json_object_get(why, "flags"), i, f) print_flag(f);
	}
	json_decref(why);
}

static int list(struct sv_store *store, bool as_json, struct sv_err *err)
{
	struct sv_store_story *rows = calloc(MAX_LISTED, sizeof(*rows));
	int n = 0;
	if (!rows)
		return sv_err_set(err, "nomem", "", "out of memory");
	int rc = sv_store_review_list(store, rows, MAX_LISTED, &n, err);
	for (int i = 0; rc == 0 && i < n; i++)
		print_story(&rows[i], as_json);
	if (rc == 0 && n == 0 && !as_json)
		printf("no stories are waiting for review\n");
	for (int i = 0; i < n; i++)
		sv_store_story_clear(&rows[i]);
	free(rows);
	return rc;
}

static int decide(struct sv_store *store, const char *id, bool approve, const char *note,
                  struct sv_err *err)
{
	if (!sv_roles_story_id_valid(id))
		return sv_err_set(err, "unknown_id", "id", "'%.40s' is not a story id", id);
	int rc = sv_store_review_decide(store, id, approve, note, sv_time_unix_ms(), err);
	if (rc == 1)
		return sv_err_set(err, "unknown_id", "id", "no story '%s' is waiting for review",
		                  id);
	struct sv_store_story s = {0};
	if (rc == 0 && (rc = sv_store_story_get(store, id, &s, err)) == 0)
		printf("story %s %s: it is now %s\n", id, approve ? "approved" : "rejected",
		       s.status);
	sv_store_story_clear(&s);
	return rc == 0 ? 0 : -1;
}

int sv_roles_cmd_review(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"database", required_argument, NULL, 'D'}, {"data", required_argument, NULL, 'd'},
	    {"json", no_argument, NULL, 'j'},           {"note", required_argument, NULL, 'n'},
	    {"help", no_argument, NULL, 'h'},           {0}};
	struct review_opts o = {.data = "./data"};
	int rc = sv_roles_getopt_operands("review", usage, argc, argv, opts, parse_option, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	const char *what = optind < argc ? argv[optind] : NULL;
	bool is_list = what && strcmp(what, "list") == 0;
	bool is_decision = what && (strcmp(what, "approve") == 0 || strcmp(what, "reject") == 0);
	int want = is_list ? 1 : 2; /* operands: list, or approve|reject ID */
	if (!is_list && !is_decision) {
		sv_roles_usage_error("review", "say list, approve ID or reject ID");
		return 2;
	}
	if (argc - optind != want) {
		sv_roles_usage_error(
		    "review", is_list ? "list takes no operands" : "%s takes one story id", what);
		return 2;
	}
	if (o.note && (is_list || strcmp(what, "reject") != 0)) {
		sv_roles_usage_error("review", "--note goes with reject");
		return 2;
	}
	char url[4200];
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_store *store = sv_roles_store_open(o.data, o.database, url, sizeof(url), &err);
	if (!store)
		return sv_roles_start_error("review", &err);
	rc = is_list ? list(store, o.json, &err)
	             : decide(store, argv[optind + 1], strcmp(what, "approve") == 0, o.note, &err);
	sv_store_close(store);
	if (rc < 0) {
		sv_roles_usage_error("review", "%s", err.message);
		return strcmp(err.code, "unknown_id") == 0 ? 2 : 1;
	}
	return 0;
}
