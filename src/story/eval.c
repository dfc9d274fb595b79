/*
 * Evaluation of the story engine over a sample of the catalog: what
 * `storyverse eval` prints and the tests assert.
 *
 * sv_story_measure reads one story document: its Flesch-Kincaid grade,
 * sentences said twice, whether every cast member is named, and the share of
 * distinct word bigrams. sv_story_overlap compares two stories' sets of
 * sentences. sv_story_eval_run generates a sample that walks every
 * dimension of the catalog in shuffled rounds (so with enough stories every
 * universe, hero, theme, moral, age and length appears), writes each story
 * twice with two seeds, and sums the measures per age band.
 *
 * Sentences and bigrams are kept as sorted arrays of 64-bit hashes of their
 * normalised words (lower case, punctuation dropped): small, and the same on
 * every machine. Everything here is a function of the catalog and the seed.
 */
#include "story/internal.h"

#include <ctype.h>
#include <math.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The Flesch-Kincaid grades each reading level reads at (level 1 is 3-5,
 * 2 is 6-8, 3 is 9-12), and the part of each band the realiser aims for. */
static const struct sv_grade_band grade_bands[] = {
    {-HUGE_VAL, 2.0, 0.0, 1.2},
    {2.0, 4.0, 2.6, 3.4},
    {4.0, 7.0, 4.8, 6.0},
};

const struct sv_grade_band *sv_story_grade_band(int level)
{
	return level >= 1 && level <= (int)COUNT(grade_bands) ? &grade_bands[level - 1] : NULL;
}

/* Children's names for the sample; none is a catalog character's. */
static const char *const child_names[] = {
    "Mia",   "Leo",    "Aisha", "Kenji", "Sofia",  "Noah",   "Zara",  "Mateo",
    "Priya", "Oliver", "Amara", "Yusuf", "Ingrid", "Tomasz", "Lucia", "Kofi",
};

/* ---- sorted sets of hashes ---- */

struct hashes {
	uint64_t *v;
	size_t n, cap;
	int oom;
};

static void hashes_push(struct hashes *h, uint64_t x)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 256;
		uint64_t *v = realloc(h->v, cap * sizeof(*v));
		if (!v) {
			h->oom = 1;
			return;
		}
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = x;
}

static void hashes_free(struct hashes *h)
{
	free(h->v);
	memset(h, 0, sizeof(*h));
}

static int cmp_u64(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;
	return (x > y) - (x < y);
}

/* Sorts h and drops repeats; returns how many values were repeats. */
static size_t hashes_unique(struct hashes *h)
{
	if (h->n == 0)
		return 0;
	qsort(h->v, h->n, sizeof(*h->v), cmp_u64);
	size_t k = 1;
	for (size_t i = 1; i < h->n; i++) {
		if (h->v[i] != h->v[k - 1])
			h->v[k++] = h->v[i];
	}
	size_t dropped = h->n - k;
	h->n = k;
	return dropped;
}

/* Values in both of two sorted, unique sets. */
static size_t common(const struct hashes *a, const struct hashes *b)
{
	size_t i = 0, j = 0, k = 0;
	while (i < a->n && j < b->n) {
		if (a->v[i] == b->v[j])
			k++, i++, j++;
		else if (a->v[i] < b->v[j])
			i++;
		else
			j++;
	}
	return k;
}

/* ---- words and sentences ---- */

#define FNV_OFFSET UINT64_C(0xcbf29ce484222325)
#define FNV_PRIME  UINT64_C(0x100000001b3)

static int word_byte(unsigned char ch)
{
	return isalnum(ch) || ch >= 0x80 || ch == '\'';
}

/* The hash of the next word at or after *p (below end), or 0 when none is left. */
static uint64_t next_word(const char **p, const char *end)
{
	const char *s = *p;
	while (s < end && !word_byte((unsigned char)*s))
		s++;
	uint64_t h = FNV_OFFSET;
	int any = 0;
	for (; s < end && word_byte((unsigned char)*s); s++, any = 1)
		h = (h ^ (uint64_t)tolower((unsigned char)*s)) * FNV_PRIME;
	*p = s;
	return any ? h | 1 : 0;
}

struct reading {
	struct sv_story_text_stats stats;
	struct hashes sentences; /* one key per sentence long enough to count */
	struct hashes bigrams;
	uint64_t last_word;
	int oom;
};

int sv_story_sentence_key(const char *s, size_t len, const struct sv_story_text_stats *st,
                          uint64_t *key)
{
	uint64_t k = FNV_OFFSET;
	const char *p = s, *end = s + len;
	for (uint64_t w; (w = next_word(&p, end)) != 0;)
		k = (k ^ w) * FNV_PRIME;
	*key = k;
	return st->words >= SV_STORY_REPEAT_WORDS;
}

static void on_sentence(void *ctx, const char *s, size_t len, const struct sv_story_text_stats *st)
{
	struct reading *r = ctx;
	const char *p = s, *end = s + len;
	for (uint64_t w; (w = next_word(&p, end)) != 0;) {
		if (r->last_word)
			hashes_push(&r->bigrams, r->last_word * FNV_PRIME ^ w);
		r->last_word = w;
	}
	uint64_t key;
	if (sv_story_sentence_key(s, len, st, &key))
		hashes_push(&r->sentences, key);
	r->stats.sentences++;
	r->stats.words += st->words;
	r->stats.syllables += st->syllables;
}

static int read_story(const json_t *story, struct reading *r)
{
	memset(r, 0, sizeof(*r));
	size_t i;
	const json_t *pg;
	json_array_foreach(json_object_get(story, "pages"), i, pg)
	{
		const char *text = json_string_value(json_object_get(pg, "text"));
		sv_story_sentences(text ? text : "", on_sentence, r);
	}
	r->oom = r->sentences.oom || r->bigrams.oom;
	return r->oom ? -1 : 0;
}

static void reading_free(struct reading *r)
{
	hashes_free(&r->sentences);
	hashes_free(&r->bigrams);
}

/* Whether name appears in text as a whole word (or words). */
static int has_name(const char *text, const char *name)
{
	size_t n = strlen(name);
	if (n == 0)
		return 1;
	for (const char *p = strstr(text, name); p; p = strstr(p + 1, name)) {
		int before = p > text && isalnum((unsigned char)p[-1]);
		int after = isalnum((unsigned char)p[n]);
		if (!before && !after)
			return 1;
	}
	return 0;
}

/* Whether every member of the cast is named somewhere on the pages. */
static int names_present(const json_t *story)
{
	size_t i, j;
	const json_t *member, *pg;
	json_array_foreach(json_object_get(story, "cast"), i, member)
	{
		const char *name = json_string_value(json_object_get(member, "name"));
		int found = 0;
		json_array_foreach(json_object_get(story, "pages"), j, pg)
		{
			const char *text = json_string_value(json_object_get(pg, "text"));
			if (!found && text && name && has_name(text, name))
				found = 1;
		}
		if (!found)
			return 0;
	}
	return 1;
}

int sv_story_measure(const json_t *story, struct sv_story_measure *m)
{
	struct reading r;
	memset(m, 0, sizeof(*m));
	if (read_story(story, &r) < 0) {
		reading_free(&r);
		return -1;
	}
	m->stats = r.stats;
	m->grade = sv_story_fk_grade_of(&r.stats);
	m->repeated = (int)hashes_unique(&r.sentences);
	size_t all = r.bigrams.n;
	m->bigrams = all ? (double)(all - hashes_unique(&r.bigrams)) / (double)all : 0.0;
	m->names = names_present(story);
	reading_free(&r);
	return 0;
}

double sv_story_overlap(const json_t *a, const json_t *b)
{
	struct reading ra, rb;
	double overlap = -1.0;
	memset(&rb, 0, sizeof(rb));
	if (read_story(a, &ra) == 0 && read_story(b, &rb) == 0) {
		hashes_unique(&ra.sentences);
		hashes_unique(&rb.sentences);
		size_t both = common(&ra.sentences, &rb.sentences);
		size_t either = ra.sentences.n + rb.sentences.n - both;
		overlap = either ? (double)both / (double)either : 0.0;
	}
	reading_free(&ra);
	reading_free(&rb);
	return overlap;
}

/* ---- the sample ---- */

/* The dimensions of the catalog the sample walks, and where each goes. */
enum dim { DIM_UNIVERSE, DIM_HERO, DIM_THEME, DIM_MORAL, DIM_AGE, DIM_LENGTH, DIM_N };

_Static_assert(DIM_N == SV_STORY_EVAL_DIMS, "one cover entry per dimension");

static const char *const dim_names[DIM_N] = {"universes", "heroes", "themes",
                                             "morals",    "ages",   "lengths"};

static size_t dim_size(const struct sv_catalog *c, enum dim d)
{
	const size_t sizes[DIM_N] = {c->n_universes, c->n_characters, c->n_themes,
	                             c->n_morals,    c->n_ages,       c->n_lengths};
	return sizes[d];
}

static const char *dim_id(const struct sv_catalog *c, enum dim d, size_t k)
{
	switch (d) {
	case DIM_UNIVERSE:
		return c->universes[k].id;
	case DIM_HERO:
		return c->characters[k].id;
	case DIM_THEME:
		return c->themes[k].id;
	case DIM_MORAL:
		return c->morals[k].id;
	case DIM_AGE:
		return c->ages[k].id;
	default:
		return c->lengths[k].id;
	}
}

/* Story i's choice in a dimension of size k: the rounds of k stories each
 * take every value once, in an order shuffled by the seed. */
static size_t pick_index(uint64_t seed, enum dim d, size_t k, int i)
{
	size_t order[256];
	k = k > COUNT(order) ? COUNT(order) : k;
	struct sv_rng r;
	sv_rng_seed(&r, sv_story_subseed(seed, dim_names[d], (uint64_t)i / k));
	for (size_t j = 0; j < k; j++)
		order[j] = j;
	for (size_t j = k; j > 1; j--) {
		size_t s = sv_rng_below(&r, (uint32_t)j);
		size_t t = order[j - 1];
		order[j - 1] = order[s];
		order[s] = t;
	}
	return order[(size_t)i % k];
}

static void sample_params(const struct sv_catalog *c, uint64_t seed, int i,
                          struct sv_story_params *p, size_t picked[DIM_N])
{
	char *fields[DIM_N] = {p->universe, p->hero, p->theme, p->moral, p->age, p->length};
	sv_story_params_init(p);
	for (int d = 0; d < DIM_N; d++) {
		picked[d] = pick_index(seed, (enum dim)d, dim_size(c, (enum dim)d), i);
		snprintf(fields[d], SV_STORY_ID_MAX, "%s", dim_id(c, (enum dim)d, picked[d]));
	}
	snprintf(p->child_name, sizeof(p->child_name), "%s",
	         child_names[(size_t)i % COUNT(child_names)]);
	p->seed = sv_story_subseed(seed, "story", (uint64_t)i) & SV_STORY_SEED_MAX;
}

void sv_story_sample_params(const struct sv_catalog *c, uint64_t seed, int i,
                            struct sv_story_params *p)
{
	size_t picked[DIM_N];
	sample_params(c, seed, i, p, picked);
}

/* ---- sums per age band ---- */

struct sums {
	int stories, failed, in_band, repeated, names;
	double grade, low, high, overlap, bigrams;
};

static void add_story(struct sums *s, const struct sv_story_measure *m, double overlap, int in_band)
{
	s->low = s->stories == 0 || m->grade < s->low ? m->grade : s->low;
	s->high = s->stories == 0 || m->grade > s->high ? m->grade : s->high;
	s->stories++;
	s->grade += m->grade;
	s->in_band += in_band;
	s->repeated += m->repeated > 0;
	s->names += m->names;
	s->overlap += overlap;
	s->bigrams += m->bigrams;
}

static void finish_band(const struct sums *s, struct sv_story_eval_band *b)
{
	double n = s->stories ? (double)s->stories : 1.0;
	b->stories = s->stories;
	b->failed = s->failed;
	b->grade_mean = s->grade / n;
	b->grade_low = s->low;
	b->grade_high = s->high;
	b->in_band = s->in_band / n;
	b->repeated = s->repeated;
	b->names = s->names / n;
	b->overlap = s->overlap / n;
	b->bigrams = s->bigrams / n;
}

static int band_of(int level, double *min, double *max)
{
	const struct sv_grade_band *b = sv_story_grade_band(level);
	*min = b ? b->min : -HUGE_VAL;
	*max = b ? b->max : HUGE_VAL;
	return b != NULL;
}

/* Writes one story twice (two seeds) and adds its measures to its band and the total. */
static int eval_one(const struct sv_catalog *c, const struct sv_story_params *p, uint64_t seed2,
                    double min, double max, struct sums *band, struct sums *all,
                    struct sv_story_eval *e)
{
	struct sv_story_params again = *p;
	again.seed = seed2;
	struct sv_err err;
	json_t *a = sv_story_generate(c, p, NULL, NULL, &err);
	json_t *b = a ? sv_story_generate(c, &again, NULL, NULL, &err) : NULL;
	int rc = 0;
	if (!a || !b) {
		band->failed++;
		all->failed++;
		if (!e->failure[0])
			snprintf(e->failure, sizeof(e->failure),
			         "%.40s/%.40s/%.40s/%.40s/%.40s/%.40s: %.120s", p->universe,
			         p->hero, p->theme, p->moral, p->age, p->length, err.message);
	} else {
		struct sv_story_measure m;
		double overlap = sv_story_overlap(a, b);
		rc = sv_story_measure(a, &m) < 0 || overlap < 0 ? -1 : 0;
		if (rc == 0) {
			int in = m.grade >= min && m.grade <= max;
			add_story(band, &m, overlap, in);
			add_story(all, &m, overlap, in);
		}
	}
	json_decref(a);
	json_decref(b);
	return rc;
}

static int default_n(const struct sv_catalog *c)
{
	int n = 90;
	for (int d = 0; d < DIM_N; d++) {
		int k = (int)dim_size(c, (enum dim)d) * 2;
		n = k > n ? k : n;
	}
	return n;
}

static void setup_bands(const struct sv_catalog *c, struct sv_story_eval *e)
{
	e->n_bands = c->n_ages < SV_STORY_EVAL_BANDS ? (int)c->n_ages : SV_STORY_EVAL_BANDS;
	for (int k = 0; k < e->n_bands; k++) {
		struct sv_story_eval_band *b = &e->bands[k];
		snprintf(b->age, sizeof(b->age), "%s", c->ages[k].id);
		b->has_target = band_of(c->ages[k].level, &b->grade_min, &b->grade_max);
	}
	snprintf(e->all.age, sizeof(e->all.age), "all");
}

int sv_story_eval_run(const struct sv_catalog *c, int n, uint64_t seed, struct sv_story_eval *e,
                      struct sv_err *err)
{
	memset(e, 0, sizeof(*e));
	e->n = n > 0 ? n : default_n(c);
	e->seed = seed;
	setup_bands(c, e);
	struct sums sums[SV_STORY_EVAL_BANDS + 1] = {0}, *all = &sums[SV_STORY_EVAL_BANDS];
	unsigned char seen[DIM_N][256] = {{0}};
	for (int i = 0; i < e->n; i++) {
		struct sv_story_params p;
		size_t picked[DIM_N];
		sample_params(c, seed, i, &p, picked);
		for (int d = 0; d < DIM_N; d++)
			seen[d][picked[d] % 256] = 1;
		int k = (int)picked[DIM_AGE] < e->n_bands ? (int)picked[DIM_AGE] : 0;
		uint64_t seed2 = sv_story_subseed(seed, "again", (uint64_t)i) & SV_STORY_SEED_MAX;
		if (eval_one(c, &p, seed2, e->bands[k].grade_min, e->bands[k].grade_max, &sums[k],
		             all, e) < 0)
			return sv_err_set(err, "nomem", "", "out of memory measuring the stories");
	}
	for (int k = 0; k < e->n_bands; k++)
		finish_band(&sums[k], &e->bands[k]);
	finish_band(all, &e->all);
	for (int d = 0; d < DIM_N; d++) {
		e->cover[d].what = dim_names[d];
		e->cover[d].of = (int)dim_size(c, (enum dim)d);
		for (int k = 0; k < 256 && k < e->cover[d].of; k++)
			e->cover[d].used += seen[d][k];
	}
	return 0;
}

/* ---- the report as JSON ---- */

static json_t *bound_json(double v)
{
	return isinf(v) ? json_null() : json_real(v);
}

static json_t *band_json(const struct sv_story_eval_band *b, int with_target)
{
	json_t *o =
	    json_pack("{s:s,s:i,s:i,s:f,s:f,s:f,s:f,s:i,s:f,s:f,s:f}", "age", b->age, "stories",
	              b->stories, "failed", b->failed, "grade_mean", b->grade_mean, "grade_low",
	              b->grade_low, "grade_high", b->grade_high, "in_band", b->in_band, "repeated",
	              b->repeated, "overlap", b->overlap, "names", b->names, "bigrams", b->bigrams);
	if (o && with_target) {
		json_t *t = b->has_target ? json_pack("{s:o,s:o}", "min", bound_json(b->grade_min),
		                                      "max", bound_json(b->grade_max))
		                          : json_null();
		json_object_set_new(o, "target", t);
	}
	return o;
}

json_t *sv_story_eval_json(const struct sv_story_eval *e)
{
	json_t *bands = json_array(), *cover = json_object();
	for (int k = 0; bands && k < e->n_bands; k++)
		json_array_append_new(bands, band_json(&e->bands[k], 1));
	for (int d = 0; cover && d < DIM_N; d++)
		json_object_set_new(
		    cover, e->cover[d].what,
		    json_pack("{s:i,s:i}", "used", e->cover[d].used, "of", e->cover[d].of));
	return json_pack("{s:i,s:I,s:o*,s:o*,s:o*,s:s?}", "n", e->n, "seed", (json_int_t)e->seed,
	                 "bands", bands, "all", band_json(&e->all, 0), "coverage", cover, "failure",
	                 e->failure[0] ? e->failure : NULL);
}
