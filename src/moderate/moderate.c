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

struct sv_moderator {
	struct sv_ac *ac;
	size_t nterms, nallow; /* patterns: terms first, then allowed phrases */
	struct term *terms;
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
	size_t nt = json_array_size(terms), na = json_array_size(allow);
	struct patterns p = {0};
	struct sv_norm n;
	sv_moderate_norm_init(&n);
	int rc = -1;
	m->terms = calloc(nt ? nt : 1, sizeof(*m->terms));
	p.text = calloc(nt + na + 1, sizeof(*p.text));
	p.run = calloc(nt + na + 1, sizeof(*p.run));
	p.len = calloc(nt + na + 1, sizeof(*p.len));
	if (!m->terms || !p.text || !p.run || !p.len) {
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
	}
	m->nterms = nt;
	m->nallow = na;
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
	for (size_t i = 0; i < h.n; i++) {
		if (h.v[i].pattern >= m->nterms)
			continue;
		bool inside = false;
		for (size_t j = 0; j < h.n && !inside; j++)
			inside = h.v[j].pattern >= m->nterms && h.v[j].start <= h.v[i].start &&
			         h.v[i].end <= h.v[j].end;
		if (inside)
			continue;
		if (hit_push(found, n->start[h.v[i].start], n->end[h.v[i].end - 1],
		             h.v[i].pattern)) {
			free(h.v);
			return -1;
		}
	}
	free(h.v);
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
	/* The policy, into a bounded list of matches. */
	struct sv_moderate_match all[SV_MODERATE_MAX_MATCHES * 2];
	size_t nall = 0;
	for (size_t i = 0; i < found.n; i++) {
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
