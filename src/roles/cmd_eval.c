/*
 * `storyverse eval`: generates a sample of stories across the catalog and
 * prints how they read, per age band (a table, or JSON with --json). The
 * measuring is the story module's (sv_story_eval_run); this file only parses
 * the options and lays out the numbers.
 */
#include "roles/internal.h"
#include "roles/roles.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>

static const char usage[] =
    "usage: storyverse eval [--n N] [--seed S] [--json]\n"
    "\n"
    "Generates N stories across the catalog (every universe, hero, theme, moral,\n"
    "age and length, in shuffled rounds), each twice with two seeds, and prints per\n"
    "age band: the mean Flesch-Kincaid grade and the share of stories in the band\n"
    "(3-5: at most 2, 6-8: 2 to 4, 9-12: 4 to 7), stories with a sentence said\n"
    "twice, the sentence overlap between the two seeds (Jaccard), the share of\n"
    "stories that name every cast member, and the distinct-bigram ratio.\n"
    "The same N and seed give the same numbers.\n"
    "\n"
    "  --n N      stories in the sample (default: enough for every id twice, at least 90)\n"
    "  --seed S   0 to 9007199254740991 (default: 1)\n"
    "  --json     print JSON instead of the table\n";

static int parse_number(const char *s, unsigned long long max, unsigned long long *out)
{
	char *end;
	errno = 0;
	if (!*s || *s == '-' || *s == '+')
		return -1;
	unsigned long long v = strtoull(s, &end, 10);
	if (errno || *end || v > max)
		return -1;
	*out = v;
	return 0;
}

static void print_row(const struct sv_story_eval_band *b)
{
	char target[24] = "";
	if (b->has_target && isinf(b->grade_min))
		snprintf(target, sizeof(target), "<= %.0f", b->grade_max);
	else if (b->has_target)
		snprintf(target, sizeof(target), "%.0f to %.0f", b->grade_min, b->grade_max);
	printf("%-5s %7d %6d %6.2f  %4.1f-%-4.1f  %-7s %6.0f%% %7d %8.3f %5.0f%% %8.3f\n", b->age,
	       b->stories, b->failed, b->grade_mean, b->grade_low, b->grade_high,
	       target[0] ? target : "-", 100.0 * b->in_band, b->repeated, b->overlap,
	       100.0 * b->names, b->bigrams);
}

static void print_table(const struct sv_story_eval *e)
{
	printf("%d stories (seed %llu), each also written with a second seed\n\n", e->n,
	       (unsigned long long)e->seed);
	printf("%-5s %7s %6s %6s  %-9s  %-7s %7s %7s %8s %6s %8s\n", "age", "stories", "failed",
	       "grade", "range", "target", "in band", "repeats", "overlap", "names", "bigrams");
	for (int k = 0; k < e->n_bands; k++)
		print_row(&e->bands[k]);
	print_row(&e->all);
	printf("\ncoverage:");
	for (int d = 0; d < SV_STORY_EVAL_DIMS; d++)
		printf(" %s %d/%d%s", e->cover[d].what, e->cover[d].used, e->cover[d].of,
		       d + 1 < SV_STORY_EVAL_DIMS ? "," : "\n");
	if (e->failure[0])
		printf("first failure: %s\n", e->failure);
}

static int report(const struct sv_catalog *c, int n, uint64_t seed, int json)
{
	struct sv_story_eval *e = malloc(sizeof(*e));
	struct sv_err err;
	sv_err_clear(&err);
	if (!e || sv_story_eval_run(c, n, seed, e, &err) < 0) {
		sv_roles_usage_error("eval", "%s", err.message[0] ? err.message : "out of memory");
		free(e);
		return 1;
	}
	int rc = 0;
	if (json) {
		json_t *doc = sv_story_eval_json(e);
		rc = doc && json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0
		                                                                               : 1;
		fputc('\n', stdout);
		json_decref(doc);
	} else {
		print_table(e);
	}
	free(e);
	return rc;
}

int sv_roles_cmd_eval(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"n", required_argument, NULL, 'n'},
	    {"seed", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {0},
	};
	unsigned long long n = 0, seed = 1;
	int json = 0, ch;
	opterr = 0;
	optind = 1;
	while ((ch = getopt_long(argc, argv, ":h", opts, NULL)) != -1) {
		if (ch == 'n' && parse_number(optarg, 100000, &n) < 0) {
			sv_roles_usage_error(
			    "eval", "--n: '%s' is not a whole number from 0 to 100000", optarg);
			return 2;
		} else if (ch == 's' && parse_number(optarg, SV_STORY_SEED_MAX, &seed) < 0) {
			sv_roles_usage_error("eval",
			                     "--seed: '%s' is not a whole number from 0 to %llu",
			                     optarg, (unsigned long long)SV_STORY_SEED_MAX);
			return 2;
		} else if (ch == 'j') {
			json = 1;
		} else if (ch == 'h') {
			fputs(usage, stdout);
			return 0;
		} else if (ch != 'n' && ch != 's') {
			return sv_roles_bad_option("eval", ch, argv);
		}
	}
	if (sv_roles_no_operands("eval", argc, argv))
		return 2;
	struct sv_err err;
	sv_err_clear(&err);
	struct sv_catalog *c = sv_story_catalog_new("en", &err);
	if (!c) {
		sv_roles_usage_error("eval", "catalog: %s", err.message);
		return 1;
	}
	int rc = report(c, (int)n, seed, json);
	sv_story_catalog_free(c);
	return rc;
}
