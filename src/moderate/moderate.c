/*
 * The moderator: loads the lexicon, allowed phrases and age policy from the
 * embedded data/<lang>/moderation.json, and checks text against them.
 */
#include "moderate/moderate.h"

#include "moderate/internal.h"

#include <ctype.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define NAGES 3
static const char *const age_names[NAGES] = {"3-5", "6-8", "9-12"};
static const char *const category_names[SV_MODERATE_NCATEGORIES] = {
    "violence",  "weapons",   "sexual",      "drugs",        "hate",
    "self_harm", "profanity", "frightening", "personal_data"};

struct term {
	uint8_t category, severity;
	char *gentle; /* a softer word to put in its place, or NULL */
	bool joined;  /* a phrase's words run together, for letters spelled out */
	/* A word innocent as often as not ("the heron stabbed its beak into
	 * the water", "naked mole rats"): it counts only where the model does
	 * not find its text plainly safe. */
	bool context;
};

/* A combination: a word from list a and one from list b within window
 * normalised bytes of each other ("immigrants ... are animals"), where
 * neither word is unsafe alone. */
struct combo {
	size_t window;
	bool ordered; /* the word of list a must come first ("kicked the puppy") */
};

struct sv_moderator {
	struct sv_ac *ac;
	/* patterns: terms first, then allowed phrases, then the combinations'
	 * words */
	size_t nterms, nallow, ncwords, ncombos;
	struct term *terms; /* nterms, then one per combination */
	struct combo *combos;
	uint32_t *cword_combo;  /* per combination word: its combination */
	uint8_t *cword_side;    /* 0: list a, 1: list b */
	size_t cword_maxlen;    /* the longest combination word, normalised */
	size_t masked;          /* the term that stands for a masked swear word ("f***") */
	size_t model_term;      /* then one term per category for verdicts that are no
	                         * lexicon entry's: the model's, a masked word's */
	struct sv_model *model; /* NULL when the language has none */
	size_t allow_maxlen;    /* the longest allowed phrase, normalised */
	double context_safe;    /* a context term counts where P(safe) is below this */
	int max_severity[NAGES][SV_MODERATE_NCATEGORIES];
	/* The strictest groups count context terms whatever the model says. */
	bool context_always[NAGES];
};

const char *sv_moderate_category_name(int category)
{
	return category >= 0 && category < SV_MODERATE_NCATEGORIES ? category_names[category]
	                                                           : NULL;
}

int sv_moderate_category_parse(const char *name)
{
	for (int i = 0; i < SV_MODERATE_NCATEGORIES; i++)
		if (strcmp(name, category_names[i]) == 0)
			return i;
	return -1;
}

void sv_moderate_free(struct sv_moderator *m)
{
	if (!m)
		return;
	sv_moderate_ac_free(m->ac);
	sv_moderate_model_free(m->model);
	for (size_t i = 0; m->terms && i < m->nterms; i++)
		free(m->terms[i].gentle);
	free(m->terms);
	free(m->combos);
	free(m->cword_combo);
	free(m->cword_side);
	free(m);
}

/* The normalised forms of the patterns, owned until the automaton is built. */
struct patterns {
	char **text;
	uint8_t **run;
	size_t *len;
	uint8_t *within; /* enum sv_ac_within */
	size_t n;
};

static void patterns_free(struct patterns *p)
{
	for (size_t i = 0; i < p->n; i++) {
		free(p->text[i]);
		free(p->run[i]);
	}
	free(p->text);
	free(p->run);
	free(p->len);
	free(p->within);
}

static int add_pattern(struct patterns *p, const char *s, struct sv_norm *n, struct sv_err *err)
{
	if (sv_moderate_normalise(s, strlen(s), false, n))
		return sv_err_set(err, "nomem", "", "out of memory");
	if (n->len == 0)
		return sv_err_set(err, "invalid_value", "terms", "'%s' is empty once normalised",
		                  s);
	char *t = malloc(n->len);
	uint8_t *r = malloc(n->len);
	if (!t || !r) {
		free(t);
		free(r);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	memcpy(t, n->text, n->len);
	memcpy(r, n->run, n->len);
	p->text[p->n] = t;
	p->run[p->n] = r;
	p->len[p->n] = n->len;
	p->n++;
	return 0;
}

/* A term's softer word: a short phrase of letters and spaces, or none. */
static int load_gentle(struct term *t, const json_t *entry, const char *name, struct sv_err *err)
{
	const json_t *g = json_object_get(entry, "gentle");
	if (!g)
		return 0;
	const char *s = json_string_value(g);
	size_t len = s ? strlen(s) : 0;
	bool ok = len > 0 && len <= 32;
	for (size_t i = 0; ok && i < len; i++)
		ok = (s[i] >= 'a' && s[i] <= 'z') || s[i] == ' ';
	if (!ok)
		return sv_err_set(err, "invalid_json", "terms",
		                  "%s: a gentle word must be 1 to 32 lowercase letters and spaces",
		                  name);
	if (t->severity != 1)
		return sv_err_set(err, "invalid_json", "terms",
		                  "%s: only a mild term may have a gentle word ('%s')", name, s);
	t->gentle = strdup(s);
	return t->gentle ? 0 : sv_err_set(err, "nomem", "", "out of memory");
}

/* ---- verbs: a base word and its regular forms ---- */

#define NFORMS   4 /* stab, stabs, stabbed, stabbing */
#define VERB_MAX 32

static bool vowel(char c)
{
	return strchr("aeiou", c) != NULL;
}

/* A short word ending consonant-vowel-consonant doubles its last letter
 * before -ed and -ing ("stab" -> "stabbed"). */
static bool doubles(const char *w, size_t n)
{
	return n >= 3 && n <= 4 && !vowel(w[n - 1]) && !strchr("wxy", w[n - 1]) &&
	       vowel(w[n - 2]) && !vowel(w[n - 3]);
}

/* The regular forms of an English verb: base, -s, -ed, -ing. */
static void inflect(const char *w, char forms[NFORMS][VERB_MAX + 8])
{
	size_t n = strlen(w);
	char last = w[n - 1];
	bool e = last == 'e', y = last == 'y' && n > 1 && !vowel(w[n - 2]);
	bool sibilant = strchr("sxz", last) ||
	                (n > 1 && (strcmp(w + n - 2, "ch") == 0 || strcmp(w + n - 2, "sh") == 0));
	int stem = (int)n;
	snprintf(forms[0], sizeof forms[0], "%s", w);
	if (y)
		snprintf(forms[1], sizeof forms[1], "%.*sies", stem - 1, w);
	else
		snprintf(forms[1], sizeof forms[1], "%s%s", w, sibilant ? "es" : "s");
	if (e)
		snprintf(forms[2], sizeof forms[2], "%sd", w);
	else if (y)
		snprintf(forms[2], sizeof forms[2], "%.*sied", stem - 1, w);
	else if (doubles(w, n))
		snprintf(forms[2], sizeof forms[2], "%s%ced", w, last);
	else
		snprintf(forms[2], sizeof forms[2], "%sed", w);
	if (e && n > 2 && w[n - 2] == 'i')
		snprintf(forms[3], sizeof forms[3], "%.*sying", stem - 2, w);
	else if (e && n > 2 && w[n - 2] != 'e')
		snprintf(forms[3], sizeof forms[3], "%.*sing", stem - 1, w);
	else if (doubles(w, n))
		snprintf(forms[3], sizeof forms[3], "%s%cing", w, last);
	else
		snprintf(forms[3], sizeof forms[3], "%sing", w);
}

/* "verbs": [{"category","severity","words":[...]}]: each word with its
 * regular forms, as terms. */
static int add_verbs(struct sv_moderator *m, const json_t *verbs, const char *name,
                     struct patterns *p, struct sv_norm *n, struct sv_err *err)
{
	size_t i;
	const json_t *v;
	json_array_foreach(verbs, i, v)
	{
		const char *cat = json_string_value(json_object_get(v, "category"));
		json_int_t sev = json_integer_value(json_object_get(v, "severity"));
		int c = cat ? sv_moderate_category_parse(cat) : -1;
		bool context = json_is_true(json_object_get(v, "context"));
		if (c < 0 || sev < 1 || sev > 3)
			return sv_err_set(
			    err, "invalid_json", "verbs",
			    "%s: verbs %zu needs a known category and severity 1 to 3", name, i);
		size_t k;
		const json_t *word;
		json_array_foreach(json_object_get(v, "words"), k, word)
		{
			const char *w = json_string_value(word);
			size_t len = w ? strlen(w) : 0;
			bool ok = len >= 2 && len <= VERB_MAX;
			for (size_t q = 0; ok && q < len; q++)
				ok = w[q] >= 'a' && w[q] <= 'z';
			if (!ok)
				return sv_err_set(err, "invalid_json", "verbs",
				                  "%s: a verb must be 2 to %d lowercase letters",
				                  name, VERB_MAX);
			char forms[NFORMS][VERB_MAX + 8];
			inflect(w, forms);
			for (int f = 0; f < NFORMS; f++) {
				m->terms[m->nterms++] = (struct term){.category = (uint8_t)c,
				                                      .severity = (uint8_t)sev,
				                                      .context = context};
				if (add_pattern(p, forms[f], n, err))
					return -1;
			}
		}
	}
	return 0;
}

/* Letters spelled out one by one lose the spaces between words too ("b e a
 * t h i m u p" reads "beathimup"): every phrase of the lexicon is also a
 * pattern with its words run together, which counts only where the original
 * text was spelled out (see spelled_out). Appended after the terms. */
#define JOINED_MIN 6 /* shorter run-together phrases are too like real words */

static int add_joined(struct sv_moderator *m, const json_t *terms, struct patterns *p,
                      struct sv_norm *n, struct sv_err *err)
{
	size_t nt = m->nterms, k = nt;
	for (size_t i = 0; i < nt; i++) {
		const char *term =
		    json_string_value(json_object_get(json_array_get(terms, i), "term"));
		char joined[128];
		size_t len = 0;
		for (const char *c = term; *c && len + 1 < sizeof joined; c++)
			if (*c != ' ')
				joined[len++] = *c;
		joined[len] = '\0';
		if (!strchr(term, ' ') || len < JOINED_MIN)
			continue;
		m->terms[k] = (struct term){.category = m->terms[i].category,
		                            .severity = m->terms[i].severity,
		                            .joined = true,
		                            .context = m->terms[i].context};
		m->nterms = ++k;
		if (add_pattern(p, joined, n, err))
			return -1;
	}
	return 0;
}

/* A term's "within" (enum sv_ac_within): a swear that taints the words it
 * is part of ("Shitbeard"); 0xff for a value that is none. */
static uint8_t within_of(const json_t *term)
{
	const char *w = json_string_value(json_object_get(term, "within"));
	return !w                           ? SV_AC_WHOLE
	       : strcmp(w, "anywhere") == 0 ? SV_AC_ANYWHERE
	       : strcmp(w, "edge") == 0     ? SV_AC_EDGE
	                                    : 0xff;
}

/* Orders pattern indices by their normalised bytes, letter runs and where
 * they may be found, so that equal terms sit side by side. */
static int same_term_order(const void *a, const void *b, void *ctx)
{
	const struct patterns *p = ctx;
	size_t i = *(const size_t *)a, j = *(const size_t *)b;
	if (p->len[i] != p->len[j])
		return p->len[i] < p->len[j] ? -1 : 1;
	int d = memcmp(p->text[i], p->text[j], p->len[i]);
	if (!d)
		d = memcmp(p->run[i], p->run[j], p->len[i]);
	return d ? d : (int)p->within[i] - (int)p->within[j];
}

/* A word listed twice (as a term and as a verb's form) is matched twice, and
 * the stricter entry silently wins ("context" on one of them does nothing):
 * refuse it, naming the word. */
static int no_twice_listed(const struct sv_moderator *m, const struct patterns *p, const char *name,
                           struct sv_err *err)
{
	size_t *idx = malloc((m->nterms ? m->nterms : 1) * sizeof(*idx)), k = 0;
	if (!idx)
		return sv_err_set(err, "nomem", "", "out of memory");
	for (size_t i = 0; i < m->nterms; i++)
		if (!m->terms[i].joined)
			idx[k++] = i;
	qsort_r(idx, k, sizeof(*idx), same_term_order, (void *)p);
	int rc = 0;
	for (size_t i = 1; i < k && !rc; i++)
		if (same_term_order(&idx[i - 1], &idx[i], (void *)p) == 0)
			rc = sv_err_set(err, "invalid_json", "terms", "%s: '%.*s' is listed twice",
			                name, (int)p->len[idx[i]], p->text[idx[i]]);
	free(idx);
	return rc;
}

static int load(struct sv_moderator *m, json_t *root, const char *name, struct sv_err *err)
{
	json_t *terms = json_object_get(root, "terms");
	json_t *allow = json_object_get(root, "allow");
	json_t *ages = json_object_get(root, "ages");
	if (!json_is_array(terms) || !json_is_array(allow) || !json_is_object(ages))
		return sv_err_set(err, "invalid_json", "", "%s: needs terms, allow and ages", name);
	for (int a = 0; a < NAGES; a++) {
		json_t *age = json_object_get(ages, age_names[a]);
		if (!json_is_object(age))
			return sv_err_set(err, "invalid_json", "ages", "%s: no age group %s", name,
			                  age_names[a]);
		for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++) {
			json_t *v = json_object_get(age, category_names[c]);
			m->max_severity[a][c] = json_is_integer(v) ? (int)json_integer_value(v) : 0;
		}
		m->context_always[a] = json_is_true(json_object_get(age, "context_always"));
	}
	/* Above 1, context terms always count (as where there is no model). */
	json_t *context = json_object_get(root, "context_safe");
	m->context_safe = json_is_number(context) ? json_number_value(context) : 2;
	json_t *combos = json_object_get(root, "combos");
	if (combos && !json_is_array(combos))
		return sv_err_set(err, "invalid_json", "combos", "%s: combos is not an array",
		                  name);
	size_t nt = json_array_size(terms), na = json_array_size(allow);
	size_t nc = json_array_size(combos), nw = 0;
	for (size_t i = 0; i < nc; i++) {
		json_t *c = json_array_get(combos, i);
		json_t *a = json_object_get(c, "a"), *b = json_object_get(c, "b");
		if (!json_is_array(a) || !json_is_array(b))
			return sv_err_set(err, "invalid_json", "combos",
			                  "%s: combo %zu needs lists a and b", name, i);
		nw += json_array_size(a) + json_array_size(b);
	}
	json_t *verbs = json_object_get(root, "verbs");
	if (verbs && !json_is_array(verbs))
		return sv_err_set(err, "invalid_json", "verbs", "%s: verbs is not an array", name);
	size_t nv = 0; /* every verb's forms */
	for (size_t i = 0; i < json_array_size(verbs); i++)
		nv += NFORMS * json_array_size(json_object_get(json_array_get(verbs, i), "words"));
	struct patterns p = {0};
	struct sv_norm n;
	sv_moderate_norm_init(&n);
	int rc = -1;
	m->terms = calloc(2 * nt + nv + nc + 2 + SV_MODERATE_NCATEGORIES, sizeof(*m->terms));
	m->combos = calloc(nc + 1, sizeof(*m->combos));
	m->cword_combo = calloc(nw + 1, sizeof(*m->cword_combo));
	m->cword_side = calloc(nw + 1, sizeof(*m->cword_side));
	p.text = calloc(2 * nt + nv + na + nw + 1, sizeof(*p.text));
	p.run = calloc(2 * nt + nv + na + nw + 1, sizeof(*p.run));
	p.len = calloc(2 * nt + nv + na + nw + 1, sizeof(*p.len));
	p.within = calloc(2 * nt + nv + na + nw + 1, sizeof(*p.within));
	if (!m->terms || !m->combos || !m->cword_combo || !m->cword_side || !p.text || !p.run ||
	    !p.len || !p.within) {
		sv_err_set(err, "nomem", "", "out of memory");
		goto out;
	}
	for (size_t i = 0; i < nt; i++) {
		json_t *t = json_array_get(terms, i);
		const char *term = json_string_value(json_object_get(t, "term"));
		const char *cat = json_string_value(json_object_get(t, "category"));
		json_int_t sev = json_integer_value(json_object_get(t, "severity"));
		int c = cat ? sv_moderate_category_parse(cat) : -1;
		if (!term || c < 0 || sev < 1 || sev > 3) {
			sv_err_set(err, "invalid_json", "terms",
			           "%s: term %zu needs term, a known "
			           "category and severity 1 to 3",
			           name, i);
			goto out;
		}
		m->terms[i] = (struct term){.category = (uint8_t)c, .severity = (uint8_t)sev};
		m->nterms = i + 1; /* so that sv_moderate_free frees what is set */
		if (add_pattern(&p, term, &n, err) || load_gentle(&m->terms[i], t, name, err))
			goto out;
		m->terms[i].context = json_is_true(json_object_get(t, "context"));
		if ((p.within[p.n - 1] = within_of(t)) == 0xff) {
			sv_err_set(err, "invalid_json", "terms",
			           "%s: term %zu: within is \"edge\" or \"anywhere\"", name, i);
			goto out;
		}
	}
	if (add_joined(m, terms, &p, &n, err) < 0 || add_verbs(m, verbs, name, &p, &n, err) < 0 ||
	    no_twice_listed(m, &p, name, err) < 0)
		goto out;
	size_t nterms = m->nterms;
	for (size_t i = 0; i < na; i++) {
		const char *phrase = json_string_value(json_array_get(allow, i));
		if (!phrase) {
			sv_err_set(err, "invalid_json", "allow", "%s: allow %zu is not a string",
			           name, i);
			goto out;
		}
		if (add_pattern(&p, phrase, &n, err))
			goto out;
		if (n.len > m->allow_maxlen)
			m->allow_maxlen = n.len;
	}
	size_t w = 0;
	for (size_t i = 0; i < nc; i++) {
		json_t *c = json_array_get(combos, i);
		const char *cat = json_string_value(json_object_get(c, "category"));
		json_int_t sev = json_integer_value(json_object_get(c, "severity"));
		json_int_t win = json_integer_value(json_object_get(c, "window"));
		int ci = cat ? sv_moderate_category_parse(cat) : -1;
		if (ci < 0 || sev < 1 || sev > 3 || win < 1) {
			sv_err_set(err, "invalid_json", "combos",
			           "%s: combo %zu needs a known category, severity 1 to 3 "
			           "and a window",
			           name, i);
			goto out;
		}
		m->terms[nterms + i] =
		    (struct term){.category = (uint8_t)ci, .severity = (uint8_t)sev};
		m->combos[i].window = (size_t)win;
		m->combos[i].ordered = json_is_true(json_object_get(c, "ordered"));
		for (int side = 0; side < 2; side++) {
			json_t *list = json_object_get(c, side ? "b" : "a");
			for (size_t k = 0; k < json_array_size(list); k++) {
				const char *word = json_string_value(json_array_get(list, k));
				if (!word) {
					sv_err_set(err, "invalid_json", "combos",
					           "%s: combo %zu has a word that is not a string",
					           name, i);
					goto out;
				}
				if (add_pattern(&p, word, &n, err))
					goto out;
				if (n.len > m->cword_maxlen)
					m->cword_maxlen = n.len;
				m->cword_combo[w] = (uint32_t)i;
				m->cword_side[w] = (uint8_t)side;
				w++;
			}
		}
	}
	m->masked = nterms + nc; /* after the combinations' terms */
	m->terms[m->masked] = (struct term){.category = SV_MODERATE_PROFANITY, .severity = 2};
	m->model_term = m->masked + 1;
	for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++)
		m->terms[m->model_term + (size_t)c] =
		    (struct term){.category = (uint8_t)c, .severity = 2};
	m->nallow = na;
	m->ncwords = nw;
	m->ncombos = nc;
	m->ac = sv_moderate_ac_build(p.n, p.text, p.run, p.len, p.within);
	if (!m->ac) {
		sv_err_set(err, "nomem", "", "out of memory building the matcher");
		goto out;
	}
	rc = 0;
out:
	patterns_free(&p);
	sv_moderate_norm_free(&n);
	return rc;
}

static int check(const struct sv_moderator *m, const char *text, size_t len, const char *age,
                 unsigned flags, struct sv_moderate_result *out, struct sv_err *err);

/* A gentle word the strictest policy refuses would soften nothing: the
 * lexicon must not refuse its own gentle words. (The model's view of one
 * word alone means little: a softened page is read whole again.) */
static int gentle_words_pass(const struct sv_moderator *m, const char *name, struct sv_err *err)
{
	for (size_t i = 0; i < m->nterms; i++) {
		const char *g = m->terms[i].gentle;
		struct sv_moderate_result r;
		if (g && check(m, g, strlen(g), NULL, SV_MODERATE_OURS, &r, err) < 0)
			return -1;
		if (g && !r.allowed)
			return sv_err_set(err, "invalid_json", "terms",
			                  "%s: the gentle word '%s' is itself refused", name, g);
	}
	return 0;
}

int sv_moderate_use_model(struct sv_moderator *m, const json_t *root, struct sv_err *err)
{
	struct sv_model *model = sv_moderate_model_load(root, err);
	if (!model)
		return -1;
	sv_moderate_model_free(m->model);
	m->model = model;
	return 0;
}

/* data/<lang>/moderation-model.json, when the language has one. */
static int load_model(struct sv_moderator *m, const char *lang, struct sv_err *err)
{
	char name[64];
	snprintf(name, sizeof(name), "data/%s/moderation-model.json", lang);
	const struct sv_asset *a = sv_asset_find(name);
	if (!a)
		return 0;
	json_error_t je;
	json_t *root = json_loadb((const char *)a->data, a->len, 0, &je);
	if (!root)
		return sv_err_set(err, "invalid_json", "", "%s:%d: %s", name, je.line, je.text);
	int rc = sv_moderate_use_model(m, root, err);
	json_decref(root);
	return rc;
}

struct sv_moderator *sv_moderate_new(const char *lang, struct sv_err *err)
{
	char name[64];
	if (!lang || strlen(lang) > 16 || strchr(lang, '/')) {
		sv_err_set(err, "invalid_value", "lang", "no such language");
		return NULL;
	}
	snprintf(name, sizeof(name), "data/%s/moderation.json", lang);
	const struct sv_asset *a = sv_asset_find(name);
	if (!a) {
		sv_err_set(err, "invalid_value", "lang", "no moderation data for '%s'", lang);
		return NULL;
	}
	json_error_t je;
	json_t *root = json_loadb((const char *)a->data, a->len, 0, &je);
	if (!root) {
		sv_err_set(err, "invalid_json", "", "%s:%d: %s", name, je.line, je.text);
		return NULL;
	}
	struct sv_moderator *m = sv_moderate_from_json(root, name, err);
	json_decref(root);
	if (m && (load_model(m, lang, err) || gentle_words_pass(m, name, err))) {
		sv_moderate_free(m);
		return NULL;
	}
	return m;
}

struct sv_moderator *sv_moderate_from_json(json_t *root, const char *name, struct sv_err *err)
{
	struct sv_moderator *m = calloc(1, sizeof(*m));
	if (!m) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	if (load(m, root, name, err)) {
		sv_moderate_free(m);
		return NULL;
	}
	return m;
}

/* ---- checking ---- */

struct span {
	size_t start, end; /* normalised, then original offsets */
	uint32_t pattern;
};

struct hits {
	struct span *v;
	size_t n, cap;
	size_t nterms;
};

static int hit_push(struct hits *h, size_t start, size_t end, size_t pattern)
{
	if (h->n == h->cap) {
		size_t cap = h->cap ? h->cap * 2 : 32;
		struct span *v = realloc(h->v, cap * sizeof(*v));
		if (!v)
			return -1;
		h->v = v;
		h->cap = cap;
	}
	h->v[h->n++] = (struct span){start, end, (uint32_t)pattern};
	return 0;
}

static int on_hit(size_t pattern, size_t start, size_t end, void *ctx)
{
	return hit_push(ctx, start, end, pattern);
}

static int on_personal(size_t start, size_t end, void *ctx)
{
	struct hits *h = ctx;
	return hit_push(h, start, end, SIZE_MAX); /* SIZE_MAX marks personal data */
}

/* Scans one normalised form; appends the term hits not inside an allowed
 * phrase, mapped to original offsets, to found. */
/* Whether the original bytes [s, e) were spelled out: letters apart, with
 * spaces, dots, dashes, underscores or zero-width characters between them. */
static bool spelled_out(const char *text, size_t s, size_t e)
{
	for (size_t i = s; i < e; i++)
		if (strchr(" .-_*", text[i]) || (unsigned char)text[i] == 0xe2)
			return true;
	return false;
}

/* Whether original bytes [s, e) cross a clause: a doer and whom it is done
 * to belong to one ("Max's tummy hurt, so Mum ..." is two). */
static bool crosses_clause(const char *text, size_t s, size_t e)
{
	for (size_t i = s; i < e; i++)
		if (strchr(".,;:!?\"()", text[i]))
			return true;
	return false;
}

static int scan(const struct sv_moderator *m, const char *text, const struct sv_norm *n,
                struct hits *found)
{
	struct hits h = {0};
	if (sv_moderate_ac_scan(m->ac, n, on_hit, &h)) {
		free(h.v);
		return -1;
	}
	size_t allow_end = m->nterms + m->nallow;
	bool any_cword = false;
	for (size_t i = 0; i < h.n; i++) {
		if (h.v[i].pattern >= m->nterms && h.v[i].pattern < allow_end)
			continue;
		/* Inside an allowed phrase: one ending with it or after, but no
		 * further than the longest phrase reaches. */
		bool inside = false;
		size_t from = i;
		while (from > 0 && h.v[from - 1].end == h.v[i].end)
			from--;
		for (size_t j = from;
		     j < h.n && !inside && h.v[j].end <= h.v[i].start + m->allow_maxlen; j++)
			inside = h.v[j].pattern >= m->nterms && h.v[j].pattern < allow_end &&
			         h.v[j].start <= h.v[i].start && h.v[i].end <= h.v[j].end;
		if (inside) {
			h.v[i].pattern = UINT32_MAX; /* inside an allowed phrase */
			continue;
		}
		if (h.v[i].pattern >= allow_end) {
			any_cword = true;
			continue;
		}
		if (m->terms[h.v[i].pattern].joined &&
		    !spelled_out(text, n->start[h.v[i].start], n->end[h.v[i].end - 1]))
			continue;
		if (hit_push(found, n->start[h.v[i].start], n->end[h.v[i].end - 1],
		             h.v[i].pattern)) {
			free(h.v);
			return -1;
		}
	}
	/* Combinations: a word of list a and one of list b, apart and close. */
	for (size_t i = 0; any_cword && i < h.n; i++) {
		if (h.v[i].pattern < allow_end || h.v[i].pattern == UINT32_MAX)
			continue;
		size_t wi = h.v[i].pattern - allow_end;
		if (m->cword_side[wi] != 0)
			continue;
		uint32_t c = m->cword_combo[wi];
		size_t st = SIZE_MAX, en = 0; /* every partner in reach, as one span */
		/* Hits come in order of their ends: look only as far as the window
		 * and the longest word reach. */
		size_t reach = m->combos[c].window + m->cword_maxlen;
		size_t from = i;
		while (from > 0 && h.v[from - 1].end + reach >= h.v[i].start)
			from--;
		for (size_t j = from; j < h.n && h.v[j].end <= h.v[i].end + reach; j++) {
			if (h.v[j].pattern < allow_end || h.v[j].pattern == UINT32_MAX)
				continue;
			size_t wj = h.v[j].pattern - allow_end;
			if (m->cword_side[wj] != 1 || m->cword_combo[wj] != c)
				continue;
			const struct span *a = &h.v[i], *b = &h.v[j];
			size_t gap;
			if (a->end <= b->start)
				gap = b->start - a->end;
			else if (b->end <= a->start && !m->combos[c].ordered)
				gap = a->start - b->end;
			else
				continue;
			if (gap > m->combos[c].window ||
			    (m->combos[c].ordered &&
			     crosses_clause(text, n->end[a->end - 1], n->start[b->start])))
				continue;
			size_t lo = a->start < b->start ? a->start : b->start;
			size_t hi = a->end > b->end ? a->end : b->end;
			st = lo < st ? lo : st;
			en = hi > en ? hi : en;
		}
		if (en && hit_push(found, n->start[st], n->end[en - 1], m->nterms + c)) {
			free(h.v);
			return -1;
		}
	}
	free(h.v);
	return 0;
}

/* A word with one or two letters masked inside it ("sh*thead", "PR*CK",
 * "Buttf*ce"): each masked letter is tried as each vowel, and a term the
 * word then holds is a match over the whole word, in the term's category
 * and whatever the model says (the mask shows what was meant). Reads the
 * words into n, so it comes after everything that reads the text's own
 * normalisation. */
#define MASKED_WORD_MAX 32
static int masked_vowels(const struct sv_moderator *m, const char *text, size_t len,
                         struct sv_norm *n, struct hits *found)
{
	static const char vowels[] = "aeiou";
	for (size_t i = 0; i < len;) {
		size_t j = i, masks = 0, at[2] = {0};
		while (j < len && (isalpha((unsigned char)text[j]) || text[j] == '*')) {
			bool inside = text[j] == '*' && j > i &&
			              isalpha((unsigned char)text[j - 1]) && j + 1 < len &&
			              isalpha((unsigned char)text[j + 1]);
			if (inside && masks < 2)
				at[masks] = j;
			masks += inside;
			j++;
		}
		if (masks == 0 || masks > 2 || j - i > MASKED_WORD_MAX) {
			i = j > i ? j : i + 1;
			continue;
		}
		char word[MASKED_WORD_MAX];
		memcpy(word, text + i, j - i);
		size_t tries = masks == 1 ? 5 : 25, before = found->n;
		for (size_t t = 0; t < tries && found->n == before; t++) {
			word[at[0] - i] = vowels[t % 5];
			if (masks == 2)
				word[at[1] - i] = vowels[t / 5];
			struct hits h = {0};
			if (sv_moderate_normalise(word, j - i, false, n) || scan(m, word, n, &h)) {
				free(h.v);
				return -1;
			}
			for (size_t k = 0; k < h.n; k++)
				if (h.v[k].pattern < m->nterms &&
				    hit_push(found, i, j,
				             m->model_term + m->terms[h.v[k].pattern].category)) {
					free(h.v);
					return -1;
				}
			free(h.v);
		}
		i = j;
	}
	return 0;
}

/* What the learned model says of the normalised text, as a hit over the
 * feature that weighed most. */
static int model_verdict(const struct sv_moderator *m, const struct sv_norm *n, struct hits *found,
                         double *p_safe)
{
	struct sv_model_verdict v = {.p_safe = 1};
	int rc = m->model ? sv_moderate_model_flag(m->model, n, m->context_safe, &v) : 0;
	*p_safe = m->model ? v.p_safe : 0; /* no model: every context term counts */
	if (rc <= 0 || v.end <= v.start)
		return rc;
	return hit_push(found, n->start[v.start], n->end[v.end - 1],
	                m->model_term + (size_t)v.category);
}

/* A swear word with its letters masked, "f***", "s**t", "b*****": a
 * letter swear words start with, then at least two masking characters. */
static int masked_swears(const struct sv_moderator *m, const char *text, size_t len,
                         struct hits *found)
{
	if (!memchr(text, '*', len) && !memchr(text, '#', len))
		return 0;
	for (size_t i = 0; i + 2 < len; i++) {
		bool start = i == 0 || !isalnum((unsigned char)text[i - 1]);
		if (!start || !strchr("fFsScCbBdDpPwWaA", text[i]))
			continue;
		size_t j = i + 1;
		while (j < len && isalpha((unsigned char)text[j]) && j - i < 3)
			j++;
		size_t stars = 0;
		while (j < len && (text[j] == '*' || text[j] == '#')) {
			j++;
			stars++;
		}
		while (j < len && isalpha((unsigned char)text[j]))
			j++;
		if (stars >= 2 && (j == len || !isalnum((unsigned char)text[j])) &&
		    hit_push(found, i, j, m->masked))
			return -1;
	}
	return 0;
}

/* ---- scratch space: one normalised text per thread, kept between calls ---- */

#define SCRATCH_KEEP ((size_t)1 << 20) /* a text larger than this gives its room back */

static pthread_key_t scratch_key;
static pthread_once_t scratch_once = PTHREAD_ONCE_INIT;
static bool scratch_ok;

static void scratch_free(void *p)
{
	sv_moderate_norm_free(p);
	free(p);
}

static void scratch_init(void)
{
	scratch_ok = pthread_key_create(&scratch_key, scratch_free) == 0;
}

/* This thread's normalised text, or NULL (the caller uses one of its own). */
static struct sv_norm *scratch(void)
{
	pthread_once(&scratch_once, scratch_init);
	if (!scratch_ok)
		return NULL;
	struct sv_norm *n = pthread_getspecific(scratch_key);
	if (!n && (n = malloc(sizeof(*n)))) {
		sv_moderate_norm_init(n);
		if (pthread_setspecific(scratch_key, n) != 0) {
			free(n);
			n = NULL;
		}
	}
	return n;
}

/* By start, the longest first. */
static int span_order(const void *a, const void *b)
{
	const struct span *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end > y->end ? -1 : 1;
	return 0;
}

static int by_start(const void *a, const void *b)
{
	const struct sv_moderate_match *x = a, *y = b;
	if (x->start != y->start)
		return x->start < y->start ? -1 : 1;
	if (x->end != y->end)
		return x->end < y->end ? -1 : 1;
	return x->category - y->category;
}

int sv_moderate_check(const struct sv_moderator *m, const char *text, size_t len, const char *age,
                      struct sv_moderate_result *out, struct sv_err *err)
{
	return check(m, text, len, age, 0, out, err);
}

static int check(const struct sv_moderator *m, const char *text, size_t len, const char *age,
                 unsigned flags, struct sv_moderate_result *out, struct sv_err *err)
{
	int a = 0; /* NULL: the strictest, 3-5 */
	if (age) {
		for (a = 0; a < NAGES && strcmp(age, age_names[a]) != 0; a++)
			;
		if (a == NAGES)
			return sv_err_set(err, "invalid_value", "age",
			                  "age '%s' is not one of 3-5, 6-8, 9-12", age);
	}
	memset(out, 0, sizeof(*out));
	out->allowed = true;
	struct sv_norm own, *n = scratch();
	if (!n) {
		sv_moderate_norm_init(&own);
		n = &own;
	}
	struct hits found = {0};
	int rc = -1;
	double p_safe = 0; /* the model's, when it reads the text */
	if (sv_moderate_normalise(text, len, false, n) || scan(m, text, n, &found) ||
	    (!(flags & SV_MODERATE_OURS) && model_verdict(m, n, &found, &p_safe) < 0))
		goto out;
	/* A second reading where the first was ambiguous ("ki11", "a g u n"). */
	if (n->used_one && (sv_moderate_normalise(text, len, true, n) || scan(m, text, n, &found)))
		goto out;
	if (sv_moderate_personal(text, len, on_personal, &found) ||
	    masked_swears(m, text, len, &found) ||
	    (memchr(text, '*', len) && masked_vowels(m, text, len, n, &found)))
		goto out;
	/* A context term in text the model finds plainly safe is innocent. */
	if (p_safe >= m->context_safe && !m->context_always[a]) {
		size_t kept = 0;
		for (size_t i = 0; i < found.n; i++)
			if (found.v[i].pattern >= m->nterms ||
			    !m->terms[found.v[i].pattern].context)
				found.v[kept++] = found.v[i];
		found.n = kept;
	}
	/* A term inside a longer lexicon match of another category is part of
	 * that phrase ("kill" in "kill myself", "cocktail" in "molotov
	 * cocktail"): the longer one says what it is. */
	if (found.n > 1)
		qsort(found.v, found.n, sizeof(found.v[0]), span_order);
	const struct span *widest = NULL; /* the first span reaching furthest */
	for (size_t i = 0; i < found.n; i++) {
		struct span *x = &found.v[i];
		if (x->pattern == UINT32_MAX)
			continue;
		if (widest && widest->end >= x->end &&
		    (widest->start < x->start || widest->end > x->end) &&
		    m->terms[widest->pattern].category != m->terms[x->pattern].category) {
			x->pattern = UINT32_MAX - 1; /* dropped */
			continue;
		}
		if (!widest || x->end > widest->end)
			widest = x;
	}
	/* The policy, into a bounded list of matches. */
	struct sv_moderate_match all[SV_MODERATE_MAX_MATCHES * 2];
	size_t nall = 0;
	for (size_t i = 0; i < found.n; i++) {
		if (found.v[i].pattern == UINT32_MAX - 1)
			continue;
		int c = SV_MODERATE_PERSONAL_DATA, sev = 2;
		const char *gentle = NULL;
		if (found.v[i].pattern != UINT32_MAX) {
			c = m->terms[found.v[i].pattern].category;
			sev = m->terms[found.v[i].pattern].severity;
			gentle = m->terms[found.v[i].pattern].gentle;
		}
		if (sev <= m->max_severity[a][c])
			continue;
		struct sv_moderate_match x = {found.v[i].start, found.v[i].end, c, sev, gentle};
		bool dup = false;
		for (size_t j = 0; j < nall && !dup; j++)
			dup = all[j].start == x.start && all[j].end == x.end &&
			      all[j].category == x.category;
		if (dup)
			continue;
		out->allowed = false;
		out->categories |= 1u << c;
		if (sev > out->severity)
			out->severity = sev;
		if (nall < sizeof(all) / sizeof(all[0]))
			all[nall++] = x;
		else
			out->truncated = true;
	}
	qsort(all, nall, sizeof(all[0]), by_start);
	out->nmatches = nall < SV_MODERATE_MAX_MATCHES ? nall : SV_MODERATE_MAX_MATCHES;
	out->truncated |= nall > SV_MODERATE_MAX_MATCHES;
	memcpy(out->matches, all, out->nmatches * sizeof(all[0]));
	rc = 0;
out:
	if (rc)
		sv_err_set(err, "nomem", "", "out of memory");
	if (n == &own || n->cap > SCRATCH_KEEP)
		sv_moderate_norm_free(n);
	free(found.v);
	return rc;
}

int sv_moderate_result_json(const struct sv_moderate_result *r, struct sv_buf *out)
{
	int rc =
	    sv_buf_printf(out, "{\"allowed\":%s,\"categories\":[", r->allowed ? "true" : "false");
	bool first = true;
	for (int c = 0; c < SV_MODERATE_NCATEGORIES; c++)
		if (r->categories & (1u << c)) {
			rc |= sv_buf_printf(out, "%s\"%s\"", first ? "" : ",", category_names[c]);
			first = false;
		}
	rc |= sv_buf_printf(out, "],\"severity\":%d,\"matches\":[", r->severity);
	for (size_t i = 0; i < r->nmatches; i++)
		rc |= sv_buf_printf(
		    out, "%s{\"start\":%zu,\"end\":%zu,\"category\":\"%s\",\"severity\":%d}",
		    i ? "," : "", r->matches[i].start, r->matches[i].end,
		    category_names[r->matches[i].category], r->matches[i].severity);
	rc |= sv_buf_puts(out, "]}");
	return rc ? -1 : 0;
}

/* ---- softening ---- */

static bool is_upper(char c)
{
	return c >= 'A' && c <= 'Z';
}

/* The gentle word in the case of the word it replaces: "Scared" ->
 * "Worried", "SCARED" -> "WORRIED". */
static int put_gentle(struct sv_buf *out, const char *gentle, const char *word, size_t len)
{
	bool first = is_upper(word[0]), all = first && len > 1 && is_upper(word[1]);
	size_t at = out->len;
	if (sv_buf_puts(out, gentle) < 0)
		return -1;
	for (size_t i = at; i < out->len && (all || i == at) && first; i++)
		if (out->data[i] >= 'a' && out->data[i] <= 'z')
			out->data[i] = (char)(out->data[i] - 'a' + 'A');
	return 0;
}

int sv_moderate_soften(const struct sv_moderator *m, const char *text, size_t len, const char *age,
                       unsigned flags, struct sv_buf *out, struct sv_moderate_softened *edits,
                       struct sv_moderate_result *res, struct sv_err *err)
{
	edits->nedits = 0;
	out->len = 0;
	if (check(m, text, len, age, flags, res, err) < 0)
		return -1;
	size_t at = 0;
	int rc = 0;
	for (size_t i = 0; i < res->nmatches; i++) {
		const struct sv_moderate_match *x = &res->matches[i];
		/* The longest softenable match starting here ("scared of" before "scared"). */
		for (size_t j = i + 1; j < res->nmatches && res->matches[j].start == x->start; j++)
			if (res->matches[j].gentle)
				x = &res->matches[j];
		if (!x->gentle || x->start < at)
			continue; /* nothing softer, or overlapping a softened word */
		rc |= sv_buf_append(out, text + at, x->start - at);
		size_t from = out->len;
		rc |= put_gentle(out, x->gentle, text + x->start, x->end - x->start);
		edits->edits[edits->nedits++] =
		    (struct sv_moderate_edit){x->start, x->end, out->len - from};
		at = x->end;
	}
	rc |= sv_buf_append(out, text + at, len - at);
	if (rc)
		return sv_err_set(err, "nomem", "", "out of memory");
	if (edits->nedits == 0)
		return 0;
	return check(m, out->data, out->len, age, flags, res, err);
}

size_t sv_moderate_softened_offset(const struct sv_moderate_softened *s, size_t offset)
{
	size_t shifted = offset;
	for (size_t i = 0; i < s->nedits; i++) {
		const struct sv_moderate_edit *e = &s->edits[i];
		if (offset >= e->end) {
			shifted = shifted + e->len - (e->end - e->start);
		} else if (offset > e->start) { /* inside: at most the new word's end */
			size_t into = offset - e->start;
			return shifted - into + (into < e->len ? into : e->len);
		}
	}
	return shifted;
}
