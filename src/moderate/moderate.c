/*
 * The moderator: loads the lexicon, allowed phrases and age policy from the
 * embedded data/<lang>/moderation.json, and checks text against them.
 */
#include "moderate/moderate.h"

#include "moderate/internal.h"

#include <stdlib.h>
#include <string.h>

#define NAGES 3
static const char *const age_names[NAGES] = {"3-5", "6-8", "9-12"};
static const char *const category_names[SV_MODERATE_NCATEGORIES] = {
    "violence",  "weapons",   "sexual",      "drugs",        "hate",
    "self_harm", "profanity", "frightening", "personal_data"};

struct term {
	uint8_t category, severity;
};

/* A combination: a word from list a and one from list b within window
 * normalised bytes of each other ("immigrants ... are animals"), where
 * neither word is unsafe alone. */
struct combo {
	size_t window;
};

struct sv_moderator {
	struct sv_ac *ac;
	/* patterns: terms first, then allowed phrases, then the combinations'
	 * words */
	size_t nterms, nallow, ncwords, ncombos;
	struct term *terms; /* nterms, then one per combination */
	struct combo *combos;
	uint32_t *cword_combo; /* per combination word: its combination */
	uint8_t *cword_side;   /* 0: list a, 1: list b */
	size_t cword_maxlen;   /* the longest combination word, normalised */
	size_t allow_maxlen;   /* the longest allowed phrase, normalised */
	int max_severity[NAGES][SV_MODERATE_NCATEGORIES];
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
	}
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
	struct patterns p = {0};
	struct sv_norm n;
	sv_moderate_norm_init(&n);
	int rc = -1;
	m->terms = calloc(nt + nc + 1, sizeof(*m->terms));
	m->combos = calloc(nc + 1, sizeof(*m->combos));
	m->cword_combo = calloc(nw + 1, sizeof(*m->cword_combo));
	m->cword_side = calloc(nw + 1, sizeof(*m->cword_side));
	p.text = calloc(nt + na + nw + 1, sizeof(*p.text));
	p.run = calloc(nt + na + nw + 1, sizeof(*p.run));
	p.len = calloc(nt + na + nw + 1, sizeof(*p.len));
	if (!m->terms || !m->combos || !m->cword_combo || !m->cword_side || !p.text || !p.run ||
	    !p.len) {
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
		m->terms[i] = (struct term){(uint8_t)c, (uint8_t)sev};
		if (add_pattern(&p, term, &n, err))
			goto out;
	}
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
		m->terms[nt + i] = (struct term){(uint8_t)ci, (uint8_t)sev};
		m->combos[i].window = (size_t)win;
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
	m->nterms = nt;
	m->nallow = na;
	m->ncwords = nw;
	m->ncombos = nc;
	m->ac = sv_moderate_ac_build(p.n, p.text, p.run, p.len);
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
	struct sv_moderator *m = calloc(1, sizeof(*m));
	if (!m) {
		json_decref(root);
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	int rc = load(m, root, name, err);
	json_decref(root);
	if (rc) {
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
static int scan(const struct sv_moderator *m, const struct sv_norm *n, struct hits *found)
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
			else if (b->end <= a->start)
				gap = a->start - b->end;
			else
				continue;
			if (gap > m->combos[c].window)
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
	struct sv_norm n;
	sv_moderate_norm_init(&n);
	struct hits found = {0};
	int rc = -1;
	if (sv_moderate_normalise(text, len, false, &n) || scan(m, &n, &found))
		goto out;
	/* A second reading where the first was ambiguous ("ki11", "a g u n"). */
	if (n.used_one && (sv_moderate_normalise(text, len, true, &n) || scan(m, &n, &found)))
		goto out;
	if (sv_moderate_personal(text, len, on_personal, &found))
		goto out;
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
		if (found.v[i].pattern != UINT32_MAX) {
			c = m->terms[found.v[i].pattern].category;
			sev = m->terms[found.v[i].pattern].severity;
		}
		if (sev <= m->max_severity[a][c])
			continue;
		struct sv_moderate_match x = {found.v[i].start, found.v[i].end, c, sev};
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
	sv_moderate_norm_free(&n);
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
