/*
 * `storyverse moderate`: the content-safety checker from the command line.
 * Without --eval it checks each line of stdin and prints one JSON object per
 * line; with --eval FILE it measures the checker on a labelled set.
 */
#include "moderate/moderate.h"
#include "roles/internal.h"
#include "roles/roles.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: storyverse moderate [--age 3-5|6-8|9-12] [--soften] [--lang L]\n"
    "       storyverse moderate --eval FILE.tsv [--age 3-5|6-8|9-12] [--lang L]\n"
    "\n"
    "Checks children's text for unsafe content. Reads lines on stdin and writes one\n"
    "JSON object per line: {\"allowed\",\"categories\",\"severity\",\"matches\":[{\"start\",\n"
    "\"end\",\"category\",\"severity\"}]}, offsets in bytes into the line.\n"
    "  --age A        the reader's age group (default 3-5, the strictest; 6-8\n"
    "                 with --eval)\n"
    "  --soften       put gentler words in place of the mild ones the age group\n"
    "                 refuses, as written pages get (\"scared\" -> \"worried\" for\n"
    "                 3-5), and add the softened line as \"text\"; the result is the\n"
    "                 softened line's check\n"
    "  --lang L       lexicon language (default en)\n"
    "  --eval FILE    read label<TAB>text[<TAB>category] lines (label safe or unsafe;\n"
    "                 the optional category names what an unsafe line should be\n"
    "                 flagged for; lines starting with # and a first line starting\n"
    "                 with 'label' are skipped) and print precision, recall and\n"
    "                 false-positive rate, overall and per category\n";

struct mod_opts {
	const char *age, *lang, *eval;
	bool soften;
};

static int parse_option(int ch, void *ctx)
{
	struct mod_opts *o = ctx;
	switch (ch) {
	case 'a':
		if (strcmp(optarg, "3-5") != 0 && strcmp(optarg, "6-8") != 0 &&
		    strcmp(optarg, "9-12") != 0) {
			sv_roles_usage_error("moderate", "--age: '%s' is not one of 3-5, 6-8, 9-12",
			                     optarg);
			return 2;
		}
		o->age = optarg;
		return 0;
	case 'L':
		o->lang = optarg;
		return 0;
	case 'e':
		o->eval = optarg;
		return 0;
	case 's':
		o->soften = true;
		return 0;
	default:
		return -1;
	}
}

/* One line's check, or with soften its softened text's, as JSON in out. */
static int check_line(const struct sv_moderator *m, const char *line, size_t len, const char *age,
                      bool soften, struct sv_buf *out, struct sv_err *err)
{
	struct sv_moderate_result r;
	if (!soften)
		return sv_moderate_check(m, line, len, age, &r, err) ||
		               sv_moderate_result_json(&r, out)
		           ? -1
		           : 0;
	struct sv_buf text;
	sv_buf_init(&text);
	struct sv_moderate_softened edits;
	int rc = sv_moderate_soften(m, line, len, age, &text, &edits, &r, err);
	if (rc == 0 && sv_moderate_result_json(&r, out) == 0) {
		json_t *t = json_stringn(text.data ? text.data : "", text.len);
		char *enc = t ? json_dumps(t, JSON_ENCODE_ANY) : NULL;
		out->len--; /* the closing brace, reopened for "text" */
		rc = enc ? sv_buf_printf(out, ",\"text\":%s}", enc) : -1;
		free(enc);
		json_decref(t);
	} else if (rc == 0) {
		rc = -1;
	}
	sv_buf_free(&text);
	return rc;
}

static int check_lines(const struct sv_moderator *m, const char *age, bool soften)
{
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	struct sv_buf out;
	sv_buf_init(&out);
	int rc = 0;
	while ((n = getline(&line, &cap, stdin)) >= 0) {
		size_t len = (size_t)n;
		if (len && line[len - 1] == '\n')
			len--;
		if (len && line[len - 1] == '\r')
			len--;
		struct sv_err err = {0};
		out.len = 0;
		if (check_line(m, line, len, age, soften, &out, &err) || sv_buf_puts(&out, "\n")) {
			if (!err.message[0])
				sv_err_set(&err, "nomem", "", "out of memory");
			fprintf(stderr, "storyverse moderate: %s\n", err.message);
			rc = 1;
			break;
		}
		fwrite(out.data, 1, out.len, stdout);
	}
	free(line);
	sv_buf_free(&out);
	return rc;
}

struct counts {
	long tp, fp, fn, tn;
};

static double ratio(long a, long b)
{
	return b ? (double)a / (double)b : 0.0;
}

static void print_counts(const char *name, long n, const struct counts *c)
{
	printf("%-14s %6ld %9.3f %7.3f %7.3f %5ld %5ld %5ld %5ld\n", name, n,
	       ratio(c->tp, c->tp + c->fp), ratio(c->tp, c->tp + c->fn),
	       ratio(c->fp, c->fp + c->tn), c->tp, c->fp, c->fn, c->tn);
}

static int eval_file(const struct sv_moderator *m, const char *path, const char *age)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		sv_roles_usage_error("moderate", "--eval: cannot open '%s'", path);
		return 2;
	}
	struct counts all = {0}, cat[SV_MODERATE_NCATEGORIES] = {0};
	long ncat[SV_MODERATE_NCATEGORIES] = {0}, lines = 0, lineno = 0;
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	int rc = 0;
	while ((n = getline(&line, &cap, f)) >= 0) {
		lineno++;
		size_t len = (size_t)n;
		while (len && (line[len - 1] == '\n' || line[len - 1] == '\r'))
			line[--len] = '\0';
		if (len == 0 || line[0] == '#' || (lineno == 1 && strncmp(line, "label", 5) == 0))
			continue;
		char *tab = strchr(line, '\t');
		if (!tab) {
			fprintf(stderr, "storyverse moderate: %s:%ld: no tab after the label\n",
			        path, lineno);
			rc = 1;
			break;
		}
		*tab = '\0';
		char *text = tab + 1, *third = strchr(text, '\t');
		int want = -1;
		if (third) {
			*third++ = '\0';
			if (*third && (want = sv_moderate_category_parse(third)) < 0) {
				fprintf(stderr,
				        "storyverse moderate: %s:%ld: unknown category '%s'\n",
				        path, lineno, third);
				rc = 1;
				break;
			}
		}
		bool unsafe;
		if (strcmp(line, "unsafe") == 0)
			unsafe = true;
		else if (strcmp(line, "safe") == 0)
			unsafe = false;
		else {
			fprintf(stderr,
			        "storyverse moderate: %s:%ld: label '%s' is not safe or unsafe\n",
			        path, lineno, line);
			rc = 1;
			break;
		}
		struct sv_moderate_result r;
		struct sv_err err;
		if (sv_moderate_check(m, text, strlen(text), age, &r, &err)) {
			fprintf(stderr, "storyverse moderate: %s\n", err.message);
			rc = 1;
			break;
		}
		lines++;
		bool flagged = !r.allowed;
		if (unsafe)
			flagged ? all.tp++ : all.fn++;
		else
			flagged ? all.fp++ : all.tn++;
		/* Per category: positives are the unsafe lines naming it; a safe
		 * line flagged for it is a false positive. */
		for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++) {
			bool pred = r.categories & (1u << c);
			if (unsafe && want == c) {
				ncat[c]++;
				pred ? cat[c].tp++ : cat[c].fn++;
			} else if (!unsafe) {
				pred ? cat[c].fp++ : cat[c].tn++;
			} else if (pred && want >= 0) {
				cat[c].fp++; /* flagged for another category than the one named */
			}
		}
	}
	free(line);
	fclose(f);
	if (rc)
		return rc;
	printf("%-14s %6s %9s %7s %7s %5s %5s %5s %5s\n", "category", "lines", "precision",
	       "recall", "fpr", "tp", "fp", "fn", "tn");
	print_counts("overall", lines, &all);
	for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++)
		if (ncat[c] || cat[c].fp)
			print_counts(sv_moderate_category_name(c), ncat[c], &cat[c]);
	return 0;
}

int sv_roles_cmd_moderate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"age", required_argument, NULL, 'a'},  {"lang", required_argument, NULL, 'L'},
	    {"eval", required_argument, NULL, 'e'}, {"soften", no_argument, NULL, 's'},
	    {"help", no_argument, NULL, 'h'},       {0}};
	struct mod_opts o = {.lang = "en"};
	int rc = sv_roles_getopt("moderate", usage, argc, argv, opts, parse_option, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	struct sv_err err;
	struct sv_moderator *m = sv_moderate_new(o.lang, &err);
	if (!m) {
		sv_roles_usage_error("moderate", "%s", err.message);
		return 2;
	}
	/* A labelled set is written for one reader: 6-8 unless told. */
	rc = o.eval ? eval_file(m, o.eval, o.age ? o.age : "6-8") : check_lines(m, o.age, o.soften);
	sv_moderate_free(m);
	return rc;
}
