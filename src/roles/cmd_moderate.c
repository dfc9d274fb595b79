/*
 * `storyverse moderate`: the content-safety checker from the command line.
 * Without --eval it checks each line of stdin and prints one JSON object per
 * line; with --eval FILE it measures the checker on a labelled set.
 */
#include "moderate/moderate.h"
#include "roles/internal.h"
#include "roles/roles.h"
#include "story/story.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: storyverse moderate [--age 3-5|6-8|9-12] [--soften] [--lang L]\n"
    "       storyverse moderate --eval FILE.tsv [--age 3-5|6-8|9-12] [--lang L] [--model M]\n"
    "       storyverse moderate --train OUT.json FILE.tsv...\n"
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
    "                 false-positive rate, overall and per category\n"
    "  --model M      read the learned model from the file M (as --train writes\n"
    "                 it) instead of the built-in one, to measure it first\n"
    "  --train OUT FILE.tsv...\n"
    "                 learn the model (data/<lang>/moderation-model.json) from\n"
    "                 labelled files, every unsafe line naming its category\n";

struct mod_opts {
	const char *age, *lang, *eval, *train, *model;
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
	case 't':
		o->train = optarg;
		return 0;
	case 'm':
		o->model = optarg;
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
	int rc = sv_moderate_soften(m, line, len, age, 0, &text, &edits, &r, err);
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

/* One labelled line: its text (NUL-terminated in place), whether it is
 * unsafe, and the category it names (-1 for none). */
typedef int (*labelled_fn)(void *ctx, char *text, bool unsafe, int category);

/* Reads label<TAB>text[<TAB>category] lines, skipping comments and a header,
 * and calls fn for each. 0, 2 when the file cannot be opened (flag names the
 * option), 1 after a one-line message, or fn's non-zero. */
static int read_labelled(const char *flag, const char *path, labelled_fn fn, void *ctx)
{
	FILE *f = fopen(path, "r");
	if (!f) {
		sv_roles_usage_error("moderate", "%s: cannot open '%s'", flag, path);
		return 2;
	}
	char *line = NULL;
	size_t cap = 0;
	ssize_t n;
	long lineno = 0;
	int rc = 0;
	while (rc == 0 && (n = getline(&line, &cap, f)) >= 0) {
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
		bool unsafe = strcmp(line, "unsafe") == 0;
		if (!unsafe && strcmp(line, "safe") != 0) {
			fprintf(stderr,
			        "storyverse moderate: %s:%ld: label '%s' is not safe or unsafe\n",
			        path, lineno, line);
			rc = 1;
			break;
		}
		rc = fn(ctx, text, unsafe, want);
	}
	free(line);
	fclose(f);
	return rc;
}

struct tally {
	const struct sv_moderator *m;
	const char *age;
	struct counts all, cat[SV_MODERATE_NCATEGORIES];
	long ncat[SV_MODERATE_NCATEGORIES], lines;
};

static int tally_line(void *ctx, char *text, bool unsafe, int want)
{
	struct tally *t = ctx;
	struct sv_moderate_result r;
	struct sv_err err;
	if (sv_moderate_check(t->m, text, strlen(text), t->age, &r, &err)) {
		fprintf(stderr, "storyverse moderate: %s\n", err.message);
		return 1;
	}
	t->lines++;
	bool flagged = !r.allowed;
	if (unsafe)
		flagged ? t->all.tp++ : t->all.fn++;
	else
		flagged ? t->all.fp++ : t->all.tn++;
	/* Per category: positives are the unsafe lines naming it; a safe line
	 * flagged for it is a false positive. */
	for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++) {
		bool pred = r.categories & (1u << c);
		struct counts *k = &t->cat[c];
		if (unsafe && want == c) {
			t->ncat[c]++;
			pred ? k->tp++ : k->fn++;
		} else if (!unsafe) {
			pred ? k->fp++ : k->tn++;
		} else if (pred && want >= 0) {
			k->fp++; /* flagged for another category than the one named */
		}
	}
	return 0;
}

static int eval_file(const struct sv_moderator *m, const char *path, const char *age)
{
	struct tally t = {.m = m, .age = age};
	int rc = read_labelled("--eval", path, tally_line, &t);
	if (rc)
		return rc;
	printf("%-14s %6s %9s %7s %7s %5s %5s %5s %5s\n", "category", "lines", "precision",
	       "recall", "fpr", "tp", "fp", "fn", "tn");
	print_counts("overall", t.lines, &t.all);
	for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++)
		if (t.ncat[c] || t.cat[c].fp)
			print_counts(sv_moderate_category_name(c), t.ncat[c], &t.cat[c]);
	return 0;
}

/* ---- --train: the model from labelled files ---- */

struct examples {
	struct sv_moderate_example *v;
	size_t n, cap;
};

static int keep_example(void *ctx, char *text, bool unsafe, int want)
{
	struct examples *e = ctx;
	if (!text)
		return 0;
	if (unsafe && want < 0) {
		fprintf(stderr, "storyverse moderate: --train needs a category on every unsafe "
		                "line\n");
		return 1;
	}
	if (e->n == e->cap) {
		size_t cap = e->cap ? e->cap * 2 : 1024;
		struct sv_moderate_example *v = realloc(e->v, cap * sizeof(*v));
		if (!v)
			return 1;
		e->v = v;
		e->cap = cap;
	}
	char *copy = strdup(text);
	if (!copy)
		return 1;
	e->v[e->n++] = (struct sv_moderate_example){copy, strlen(copy), unsafe ? want : -1};
	return 0;
}

/* Our own stories are what the model reads most: a sample across the
 * catalog, two sentences at a time, and every title, are safe examples, so
 * that a page of ours is never mistaken for harm. */
#define TRAIN_STORIES 120

struct pairer {
	struct examples *e;
	struct sv_buf two;
	int in, failed;
};

static void pair_sentence(void *ctx, const char *s, size_t len,
                          const struct sv_story_text_stats *st)
{
	struct pairer *p = ctx;
	if (p->in++)
		sv_buf_puts(&p->two, " ");
	sv_buf_append(&p->two, s, len);
	if (p->in == 2) {
		p->failed |= keep_example(p->e, p->two.data ? p->two.data : "", false, -1);
		p->two.len = 0;
		p->in = 0;
	}
}

static int add_our_stories(struct examples *e, struct sv_err *err)
{
	struct sv_catalog *c = sv_story_catalog_new("en", err);
	if (!c)
		return 1;
	struct pairer p = {.e = e};
	sv_buf_init(&p.two);
	int rc = 0;
	for (int i = 0; i < TRAIN_STORIES && rc == 0; i++) {
		struct sv_story_params params;
		sv_story_sample_params(c, 17, i, &params);
		json_t *story = sv_story_params_validate(c, &params, err) == 0
		                    ? sv_story_generate(c, &params, NULL, NULL, err)
		                    : NULL;
		if (!story)
			continue; /* a sample the catalog cannot make is no example */
		rc = keep_example(e, (char *)json_string_value(json_object_get(story, "title")),
		                  false, -1);
		size_t k;
		json_t *page;
		json_array_foreach(json_object_get(story, "pages"), k, page)
		{
			const char *title =
			    json_string_value(json_object_get(page, "chapter_title"));
			if (title && k == 0)
				rc |= keep_example(e, (char *)title, false, -1);
			p.in = 0;
			p.two.len = 0;
			sv_story_sentences(json_string_value(json_object_get(page, "text")) ?: "",
			                   pair_sentence, &p);
		}
		rc |= p.failed;
		json_decref(story);
	}
	sv_buf_free(&p.two);
	sv_story_catalog_free(c);
	return rc;
}

/* Trains on every FILE and our own stories, and writes the model to out
 * (through out.tmp). */
static int train(const char *out, char **files, int nfiles)
{
	struct examples e = {0};
	int rc = 0;
	for (int i = 0; i < nfiles && rc == 0; i++)
		rc = read_labelled("--train", files[i], keep_example, &e);
	struct sv_err serr = {0};
	if (rc == 0 && (rc = add_our_stories(&e, &serr)) != 0)
		fprintf(stderr, "storyverse moderate: %s\n",
		        serr.message[0] ? serr.message : "out of memory");
	struct sv_moderate_train_options o = {.epochs = 30,
	                                      .rate = 0.5,
	                                      .l2 = 1e-4,
	                                      .threshold = 0.6,
	                                      .min_count = 2,
	                                      .prune = 0.2,
	                                      .seed = 1,
	                                      .runs = 4};
	struct sv_buf json;
	sv_buf_init(&json);
	struct sv_err err = {0};
	if (rc == 0 && sv_moderate_train(e.v, e.n, &o, &json, &err) < 0) {
		fprintf(stderr, "storyverse moderate: %s\n", err.message);
		rc = 1;
	}
	char tmp[4200];
	snprintf(tmp, sizeof tmp, "%s.tmp", out);
	FILE *f = rc == 0 ? fopen(tmp, "w") : NULL;
	if (rc == 0 && (!f || fwrite(json.data, 1, json.len, f) != json.len || fclose(f) != 0 ||
	                rename(tmp, out) != 0)) {
		fprintf(stderr, "storyverse moderate: --train: cannot write '%s'\n", out);
		rc = 1;
	} else if (rc == 0) {
		printf("%s: a model from %zu examples\n", out, e.n);
	}
	for (size_t i = 0; i < e.n; i++)
		free((char *)e.v[i].text);
	free(e.v);
	sv_buf_free(&json);
	return rc;
}

/* --model: a model file in place of the built-in one. */
static int use_model(struct sv_moderator *m, const char *path)
{
	json_error_t je;
	json_t *root = json_load_file(path, 0, &je);
	struct sv_err err = {0};
	if (!root) {
		if (je.line > 0)
			sv_roles_usage_error("moderate", "--model: %s:%d: %s", path, je.line,
			                     je.text);
		else
			sv_roles_usage_error("moderate", "--model: %s", je.text);
		return 2;
	}
	int rc = sv_moderate_use_model(m, root, &err);
	json_decref(root);
	if (rc)
		sv_roles_usage_error("moderate", "--model: %s: %s", path, err.message);
	return rc ? 2 : 0;
}

int sv_roles_cmd_moderate(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"age", required_argument, NULL, 'a'},   {"lang", required_argument, NULL, 'L'},
	    {"eval", required_argument, NULL, 'e'},  {"soften", no_argument, NULL, 's'},
	    {"train", required_argument, NULL, 't'}, {"model", required_argument, NULL, 'm'},
	    {"help", no_argument, NULL, 'h'},        {0}};
	struct mod_opts o = {.lang = "en"};
	int rc = sv_roles_getopt_operands("moderate", usage, argc, argv, opts, parse_option, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (o.train) {
		if (optind >= argc) {
			sv_roles_usage_error("moderate",
			                     "--train needs one or more labelled files");
			return 2;
		}
		return train(o.train, argv + optind, argc - optind);
	}
	if ((rc = sv_roles_no_operands("moderate", argc, argv)) != 0)
		return rc;
	struct sv_err err;
	struct sv_moderator *m = sv_moderate_new(o.lang, &err);
	if (!m) {
		sv_roles_usage_error("moderate", "%s", err.message);
		return 2;
	}
	if (o.model && use_model(m, o.model) != 0) {
		sv_moderate_free(m);
		return 2;
	}
	/* A labelled set is written for one reader: 6-8 unless told. */
	rc = o.eval ? eval_file(m, o.eval, o.age ? o.age : "6-8") : check_lines(m, o.age, o.soften);
	sv_moderate_free(m);
	return rc;
}
