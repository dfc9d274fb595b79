/*
 * The catalog: loads the JSON files under data/<lang>/, checks every entry, and indexes it.
 *
 * Loading is all-or-nothing: a missing file, bad JSON, a missing field, a
 * duplicate id, a character in an unknown universe or a misspelt template
 * token makes sv_story_catalog_new return NULL with a message that names the
 * file and the entry. After loading nothing changes, so threads may share it.
 * The catalog owns the parsed documents; the index structs point into them.
 */
#include "story/internal.h"

#include <ctype.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sv_story_doc_names[DOC_N] = {
    "universes", "characters", "themes", "morals", "options", "beats", "cultures",
};

/* Template keys each theme and moral must carry (scripts refer to them as @theme.x). */
static const char *const theme_templates[] = {"titles", "goal",    "call",   "plea",
                                              "low",    "resolve", "closing"};
static const char *const moral_templates[] = {"plant", "dilemma", "choose",
                                              "say",   "result",  "echo"};
static const char *const universe_lists[] = {"objects", "barriers", "weather", "sounds",
                                             "lights",  "snacks",   "moves"};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- the loader's error reporting ---- */

struct loader {
	struct sv_catalog *c;
	struct sv_err *err;
	const char *file; /* e.g. "universes" */
	char where[96];   /* e.g. "universes[2]" */
	int failed;
};

static int fail(struct loader *L, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int fail(struct loader *L, const char *fmt, ...)
{
	if (L->failed)
		return -1;
	char what[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	L->failed = 1;
	return sv_err_set(L->err, "invalid_data", "", "data/%s/%s.json: %s%s%s", L->c->lang,
	                  L->file, L->where, L->where[0] ? ": " : "", what);
}

static void at(struct loader *L, const char *list, size_t i)
{
	snprintf(L->where, sizeof(L->where), "%s[%zu]", list, i);
}

/* ---- field readers: each returns NULL (or -1) after recording the failure ---- */

static const char *need_str(struct loader *L, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_string(v) || json_string_length(v) == 0) {
		fail(L, "'%s' must be a non-empty string", key);
		return NULL;
	}
	return json_string_value(v);
}

static int valid_id(const char *s)
{
	size_t n = strlen(s);
	if (n == 0 || n >= SV_STORY_ID_MAX)
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!islower((unsigned char)s[i]) && !isdigit((unsigned char)s[i]) && s[i] != '-')
			return 0;
	}
	return 1;
}

static const char *need_id(struct loader *L, const json_t *obj, const char *key)
{
	const char *s = need_str(L, obj, key);
	if (s && !valid_id(s)) {
		fail(L, "'%s' must be lowercase letters, digits and hyphens, under %d bytes", key,
		     SV_STORY_ID_MAX);
		return NULL;
	}
	return s;
}

static const json_t *need_array(struct loader *L, const json_t *obj, const char *key, size_t min)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_array(v) || json_array_size(v) < min) {
		fail(L, "'%s' must be an array of at least %zu", key, min);
		return NULL;
	}
	return v;
}

static const json_t *need_object(struct loader *L, const json_t *obj, const char *key)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_object(v)) {
		fail(L, "'%s' must be an object", key);
		return NULL;
	}
	return v;
}

static int need_strings(struct loader *L, const json_t *obj, const char *key, size_t min)
{
	const json_t *arr = need_array(L, obj, key, min);
	if (!arr)
		return -1;
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!json_is_string(v) || json_string_length(v) == 0)
			return fail(L, "'%s' must hold only non-empty strings", key);
	}
	return 0;
}

static int need_int(struct loader *L, const json_t *obj, const char *key, long lo, long hi)
{
	const json_t *v = json_object_get(obj, key);
	if (!json_is_integer(v) || json_integer_value(v) < lo || json_integer_value(v) > hi) {
		fail(L, "'%s' must be a whole number from %ld to %ld", key, lo, hi);
		return (int)lo;
	}
	return (int)json_integer_value(v);
}

static int check_strings_tokens(struct loader *L, const json_t *arr, const char *key)
{
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		char why[80];
		if (!json_is_string(v) || json_string_length(v) == 0)
			return fail(L, "'%s' must hold only non-empty strings", key);
		if (sv_story_template_check(json_string_value(v), why, sizeof(why)) < 0)
			return fail(L, "'%s'[%zu]: %s", key, i, why);
	}
	return 0;
}

/* A template set: an array of strings, or an object whose keys "1".."3"
 * (reading levels) hold arrays; at least one template in all. */
static int check_template_node(struct loader *L, const json_t *node, const char *key)
{
	if (json_is_array(node)) {
		if (json_array_size(node) == 0)
			return fail(L, "'%s' must not be empty", key);
		return check_strings_tokens(L, node, key);
	}
	if (!json_is_object(node) || json_object_size(node) == 0)
		return fail(L, "'%s' must be an array of templates or an object of levels", key);
	const char *lvl;
	const json_t *arr;
	json_object_foreach((json_t *)node, lvl, arr)
	{
		if (strlen(lvl) != 1 || lvl[0] < '1' || lvl[0] > '3')
			return fail(L, "'%s' has level '%s' (use \"1\", \"2\" or \"3\")", key, lvl);
		if (!json_is_array(arr) || json_array_size(arr) == 0)
			return fail(L, "'%s'.%s must be a non-empty array", key, lvl);
		if (check_strings_tokens(L, arr, key) < 0)
			return -1;
	}
	return 0;
}

static int need_templates(struct loader *L, const json_t *obj, const char *key)
{
	const json_t *node = json_object_get(obj, key);
	if (!node)
		return fail(L, "missing '%s'", key);
	return check_template_node(L, node, key);
}

static int check_unique(struct loader *L, const char *list, const char *const *ids, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		for (size_t j = 0; j < i; j++) {
			if (ids[i] && ids[j] && strcmp(ids[i], ids[j]) == 0) {
				L->where[0] = '\0';
				return fail(L, "%s id '%s' is used twice", list, ids[i]);
			}
		}
	}
	return 0;
}

/* Allocates n zeroed structs of size sz for an index. */
static void *index_alloc(struct loader *L, size_t n, size_t sz)
{
	void *p = calloc(n ? n : 1, sz);
	if (!p)
		fail(L, "out of memory");
	return p;
}

typedef int (*load_fn)(struct loader *L, void *entry, const json_t *obj);

/* Loads every object of the array arr (named list, e.g. "themes") into a new
 * array of structs of size sz with load_one, and checks that their ids (a
 * const char * at id_off in each struct) are unique. *out owns the array. */
static int load_list(struct loader *L, const json_t *arr, const char *list, const char *what,
                     size_t sz, size_t id_off, load_fn load_one, void **out, size_t *n)
{
	*n = json_array_size(arr);
	char *items = index_alloc(L, *n, sz);
	const char **ids = index_alloc(L, *n, sizeof(*ids));
	*out = items;
	int rc = items && ids ? 0 : -1;
	for (size_t i = 0; rc == 0 && i < *n; i++) {
		at(L, list, i);
		rc = load_one(L, items + i * sz, json_array_get(arr, i));
		if (rc == 0)
			ids[i] = *(const char **)(items + i * sz + id_off);
	}
	if (rc == 0)
		rc = check_unique(L, what, ids, *n);
	free(ids);
	return rc;
}

/* Typed front of load_list: fills field (a pointer to type) and count. */
#define LOAD_LIST(L, arr, list, what, type, load_one, field, count)                                \
	({                                                                                         \
		void *items_ = NULL;                                                               \
		int rc_ = load_list(L, arr, list, what, sizeof(type), offsetof(type, id),          \
		                    load_one, &items_, &(count));                                  \
		(field) = items_;                                                                  \
		rc_;                                                                               \
	})

/* ---- universes ---- */

static int check_palette(struct loader *L, const json_t *u)
{
	const json_t *pal = need_array(L, u, "palette", 3);
	if (!pal)
		return -1;
	size_t i;
	const json_t *v;
	json_array_foreach(pal, i, v)
	{
		const char *s = json_string_value(v);
		int ok = s && strlen(s) == 7 && s[0] == '#';
		for (int k = 1; ok && k < 7; k++)
			ok = isxdigit((unsigned char)s[k]);
		if (!ok)
			return fail(L, "palette[%zu] must be a colour like \"#A1B2C3\"", i);
	}
	return 0;
}

static int load_places(struct loader *L, struct sv_universe *u, const json_t *obj)
{
	const json_t *arr = need_array(L, obj, "places", 3);
	if (!arr)
		return -1;
	u->n_places = json_array_size(arr);
	u->places = index_alloc(L, u->n_places, sizeof(*u->places));
	if (!u->places)
		return -1;
	for (size_t i = 0; i < u->n_places; i++) {
		const json_t *p = json_array_get(arr, i);
		struct sv_place *pl = &u->places[i];
		pl->universe = u;
		pl->id = need_id(L, p, "id");
		pl->name = need_str(L, p, "name");
		pl->description = need_str(L, p, "description");
		if (L->failed)
			return -1;
		for (size_t j = 0; j < i; j++) {
			if (strcmp(u->places[j].id, pl->id) == 0)
				return fail(L, "place id '%s' is used twice", pl->id);
		}
	}
	return 0;
}

static int check_creatures(struct loader *L, const json_t *obj)
{
	const json_t *arr = need_array(L, obj, "creatures", 2);
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!need_str(L, v, "one") || !need_str(L, v, "many"))
			return -1;
	}
	return arr ? 0 : -1;
}

static int load_universe(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_universe *u = entry;
	u->obj = obj;
	u->id = need_id(L, obj, "id");
	u->name = need_str(L, obj, "name");
	u->description = need_str(L, obj, "description");
	need_str(L, obj, "tone");
	check_palette(L, obj);
	if (L->failed || load_places(L, u, obj) < 0 || check_creatures(L, obj) < 0)
		return -1;
	for (size_t i = 0; i < COUNT(universe_lists); i++)
		need_strings(L, obj, universe_lists[i], 1);
	const json_t *vocab = need_object(L, obj, "vocabulary");
	if (vocab) {
		need_strings(L, vocab, "simple", 1);
		need_strings(L, vocab, "rich", 1);
	}
	need_templates(L, obj, "arrival");
	return L->failed ? -1 : 0;
}

static int load_universes(struct loader *L)
{
	struct sv_catalog *c = L->c;
	L->file = "universes";
	const json_t *arr = need_array(L, c->docs[DOC_UNIVERSES], "universes", 1);
	return arr ? LOAD_LIST(L, arr, "universes", "universe", struct sv_universe, load_universe,
	                       c->universes, c->n_universes)
	           : -1;
}

/* ---- characters ---- */

static int check_lines(struct loader *L, const json_t *lines)
{
	const json_t *shared = json_object_get(L->c->beats, "lines");
	const char *intent;
	const json_t *v;
	json_object_foreach((json_t *)lines, intent, v)
	{
		if (!json_object_get(shared, intent))
			return fail(L, "speech.lines has unknown intent '%s'", intent);
		if (check_template_node(L, v, intent) < 0)
			return -1;
	}
	return 0;
}

/* Openers, catchphrases and lines are spoken text, so they are checked as templates. */
static int check_speech(struct loader *L, const json_t *speech, int catalog_character)
{
	need_str(L, speech, "style");
	need_strings(L, speech, "verbs", 1);
	if (!catalog_character)
		return L->failed ? -1 : 0;
	const json_t *openers = need_array(L, speech, "openers", 0);
	const json_t *catches = need_array(L, speech, "catchphrases", 1);
	const json_t *lines = need_object(L, speech, "lines");
	if (L->failed)
		return -1;
	if (json_array_size(openers) && check_strings_tokens(L, openers, "openers") < 0)
		return -1;
	if (check_strings_tokens(L, catches, "catchphrases") < 0)
		return -1;
	return check_lines(L, lines);
}

static int check_voice(struct loader *L, const json_t *obj)
{
	const json_t *voice = need_object(L, obj, "voice");
	if (voice)
		need_str(L, voice, "hint");
	return L->failed ? -1 : 0;
}

static int load_character(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_character *ch = entry;
	ch->obj = obj;
	ch->id = need_id(L, obj, "id");
	ch->name = need_str(L, obj, "name");
	ch->species = need_str(L, obj, "species");
	ch->looks = need_str(L, obj, "looks");
	const char *uni = need_str(L, obj, "universe");
	const char *pron = need_str(L, obj, "pronoun");
	need_strings(L, obj, "traits", 3);
	if (L->failed)
		return -1;
	if (strlen(ch->name) >= SV_STORY_NAME_MAX)
		return fail(L, "name is longer than %d bytes", SV_STORY_NAME_MAX - 1);
	ch->home = sv_story_find_universe(L->c, uni);
	if (!ch->home)
		return fail(L, "universe '%s' does not exist", uni);
	ch->pronoun = sv_story_pronoun(pron);
	if (!ch->pronoun)
		return fail(L, "pronoun '%s' is not one of she, he, it, they", pron);
	const json_t *speech = need_object(L, obj, "speech");
	if (!speech || check_speech(L, speech, 1) < 0)
		return -1;
	return check_voice(L, obj);
}

static int check_cast_sizes(struct loader *L)
{
	struct sv_catalog *c = L->c;
	L->where[0] = '\0';
	for (size_t u = 0; u < c->n_universes; u++) {
		int n = 0;
		for (size_t i = 0; i < c->n_characters; i++)
			n += c->characters[i].home == &c->universes[u];
		if (n < 3)
			return fail(L, "universe '%s' has %d characters (it needs at least 3)",
			            c->universes[u].id, n);
	}
	return 0;
}

static int load_characters(struct loader *L)
{
	struct sv_catalog *c = L->c;
	L->file = "characters";
	const json_t *arr = need_array(L, c->docs[DOC_CHARACTERS], "characters", 1);
	if (!arr || LOAD_LIST(L, arr, "characters", "character", struct sv_character,
	                      load_character, c->characters, c->n_characters) < 0)
		return -1;
	return check_cast_sizes(L);
}

/* ---- themes and morals ---- */

static int check_obstacle(struct loader *L, const json_t *o)
{
	char why[80];
	const char *what = need_str(L, o, "what");
	need_id(L, o, "id");
	need_int(L, o, "size", 1, 3);
	need_templates(L, o, "problem");
	need_templates(L, o, "solve");
	if (L->failed)
		return -1;
	if (sv_story_template_check(what, why, sizeof(why)) < 0)
		return fail(L, "'what': %s", why);
	return 0;
}

static int check_obstacles(struct loader *L, const json_t *owner, size_t min)
{
	const json_t *arr = need_array(L, owner, "obstacles", min);
	size_t i;
	const json_t *o;
	json_array_foreach(arr, i, o)
	{
		if (check_obstacle(L, o) < 0)
			return fail(L, "obstacles[%zu] is not valid", i);
	}
	return arr ? 0 : -1;
}

static int check_theme_cast(struct loader *L, const json_t *cast)
{
	const char *beat;
	const json_t *roles;
	json_object_foreach((json_t *)cast, beat, roles)
	{
		int known = 0;
		for (int b = 0; b < BEAT_N; b++)
			known |= strcmp(sv_story_beat_names[b], beat) == 0;
		if (!known)
			return fail(L, "cast names unknown beat '%s'", beat);
		size_t i;
		const json_t *r;
		json_array_foreach(roles, i, r)
		{
			const char *s = json_string_value(r);
			if (!s || (strcmp(s, "friend") != 0 && strcmp(s, "guide") != 0))
				return fail(L, "cast.%s may only add \"friend\" or \"guide\"",
				            beat);
		}
		if (!json_is_array(roles))
			return fail(L, "cast.%s must be an array", beat);
	}
	return 0;
}

static int load_theme(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_theme *t = entry;
	t->obj = obj;
	t->id = need_id(L, obj, "id");
	t->name = need_str(L, obj, "name");
	need_str(L, obj, "description");
	const char *caller = need_str(L, obj, "caller");
	const json_t *thing = json_object_get(obj, "thing");
	if (L->failed)
		return -1;
	if (!json_is_boolean(thing))
		return fail(L, "'thing' must be true or false");
	t->uses_thing = json_is_true(thing);
	t->caller = strcmp(caller, "guide") == 0 ? ROLE_GUIDE : ROLE_FRIEND;
	if (strcmp(caller, "guide") != 0 && strcmp(caller, "friend") != 0)
		return fail(L, "'caller' must be \"friend\" or \"guide\"");
	for (size_t i = 0; i < COUNT(theme_templates); i++) {
		if (need_templates(L, obj, theme_templates[i]) < 0)
			return -1;
	}
	const json_t *cast = need_object(L, obj, "cast");
	if (!cast || check_theme_cast(L, cast) < 0)
		return -1;
	return check_obstacles(L, obj, 3);
}

static int load_moral(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_moral *m = entry;
	m->obj = obj;
	m->id = need_id(L, obj, "id");
	m->name = need_str(L, obj, "name");
	need_str(L, obj, "description");
	for (size_t i = 0; i < COUNT(moral_templates) && !L->failed; i++)
		need_templates(L, obj, moral_templates[i]);
	return L->failed ? -1 : 0;
}

static int load_themes(struct loader *L)
{
	struct sv_catalog *c = L->c;
	L->file = "themes";
	const json_t *arr = need_array(L, c->docs[DOC_THEMES], "themes", 1);
	return arr ? LOAD_LIST(L, arr, "themes", "theme", struct sv_theme, load_theme, c->themes,
	                       c->n_themes)
	           : -1;
}

static int load_morals(struct loader *L)
{
	struct sv_catalog *c = L->c;
	L->file = "morals";
	const json_t *arr = need_array(L, c->docs[DOC_MORALS], "morals", 1);
	return arr ? LOAD_LIST(L, arr, "morals", "moral", struct sv_moral, load_moral, c->morals,
	                       c->n_morals)
	           : -1;
}

/* ---- ages and lengths ---- */

static int load_age(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_age *a = entry;
	a->id = need_id(L, obj, "id");
	a->name = need_str(L, obj, "name");
	need_str(L, obj, "description");
	a->level = need_int(L, obj, "level", 1, 3);
	a->page_words = need_int(L, obj, "page_words", 20, 1000);
	const json_t *scale = json_object_get(obj, "words_scale");
	if (!L->failed && (!json_is_number(scale) || json_number_value(scale) <= 0.1 ||
	                   json_number_value(scale) > 10))
		return fail(L, "'words_scale' must be a number between 0.1 and 10");
	a->words_scale = json_number_value(scale);
	return L->failed ? -1 : 0;
}

static int load_length(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_length *n = entry;
	n->id = need_id(L, obj, "id");
	n->name = need_str(L, obj, "name");
	need_str(L, obj, "description");
	n->words = need_int(L, obj, "words", 50, 100000);
	n->min_words = need_int(L, obj, "min", 1, 100000);
	n->max_words = need_int(L, obj, "max", 1, 100000);
	const json_t *obs = need_array(L, obj, "obstacles", 1);
	const json_t *journeys = json_object_get(obj, "journeys");
	if (L->failed)
		return -1;
	if (!json_is_boolean(journeys))
		return fail(L, "'journeys' must be true or false");
	n->journeys = json_is_true(journeys);
	if (n->min_words > n->words || n->words > n->max_words)
		return fail(L, "'min' <= 'words' <= 'max' does not hold");
	n->acts = (int)json_array_size(obs);
	if (n->acts > SV_MAX_ACTS)
		return fail(L, "at most %d acts", SV_MAX_ACTS);
	for (int i = 0; i < n->acts; i++) {
		const json_t *v = json_array_get(obs, (size_t)i);
		if (!json_is_integer(v) || json_integer_value(v) < 1 || json_integer_value(v) > 9)
			return fail(L, "obstacles[%d] must be a whole number from 1 to 9", i);
		n->obstacles[i] = (int)json_integer_value(v);
	}
	return 0;
}

static int load_style(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_style *s = entry;
	s->id = need_id(L, obj, "id");
	s->name = need_str(L, obj, "name");
	need_str(L, obj, "description");
	return L->failed ? -1 : 0;
}

static int load_options(struct loader *L)
{
	struct sv_catalog *c = L->c;
	L->file = "options";
	const json_t *doc = c->docs[DOC_OPTIONS];
	const json_t *ages = need_array(L, doc, "ages", 1);
	const json_t *lengths = need_array(L, doc, "lengths", 1);
	const json_t *styles = need_array(L, doc, "styles", 1);
	if (!ages || !lengths || !styles)
		return -1;
	if (LOAD_LIST(L, ages, "ages", "age", struct sv_age, load_age, c->ages, c->n_ages) < 0 ||
	    LOAD_LIST(L, lengths, "lengths", "length", struct sv_length, load_length, c->lengths,
	              c->n_lengths) < 0 ||
	    LOAD_LIST(L, styles, "styles", "style", struct sv_style, load_style, c->styles,
	              c->n_styles) < 0)
		return -1;
	L->where[0] = '\0';
	if (!sv_story_find_age(c, "6-8") || !sv_story_find_length(c, "bedtime"))
		return fail(L, "the default age \"6-8\" and length \"bedtime\" must exist");
	return 0;
}

/* ---- cultures ---- */

static int load_culture(struct loader *L, void *entry, const json_t *obj)
{
	struct sv_culture *cu = entry;
	cu->obj = obj;
	cu->id = need_id(L, obj, "id");
	cu->name = need_str(L, obj, "name");
	need_str(L, obj, "description");
	need_str(L, obj, "greeting");
	need_str(L, obj, "meaning");
	const json_t *festival = need_object(L, obj, "festival");
	if (festival) {
		need_str(L, festival, "name");
		need_str(L, festival, "description");
		need_str(L, festival, "party");
	}
	need_strings(L, obj, "foods", 1);
	need_strings(L, obj, "places", 1);
	return L->failed ? -1 : 0;
}

static int load_cultures(struct loader *L)
{
	struct sv_catalog *c = L->c;
	L->file = "cultures";
	const json_t *arr = need_array(L, c->docs[DOC_CULTURES], "cultures", 1);
	return arr ? LOAD_LIST(L, arr, "cultures", "culture", struct sv_culture, load_culture,
	                       c->cultures, c->n_cultures)
	           : -1;
}

/* ---- beats.json: scripts, lines, moves ---- */

static const char *const obstacle_templates[] = {"problem", "solve"};
static const char *const universe_templates[] = {"arrival"};
static const char *const series_templates[] = {"recap", "open", "pickup", "close"};
/* The kinds of thread a story can leave open for the next episode (plan.c). */
static const char *const thread_kinds[] = {"object", "promise", "secret"};

static int check_ref(struct loader *L, const char *ref)
{
	static const struct {
		const char *prefix;
		const char *const *keys;
		size_t n;
	} refs[] = {
	    {"@theme.", theme_templates, COUNT(theme_templates)},
	    {"@moral.", moral_templates, COUNT(moral_templates)},
	    {"@obstacle.", obstacle_templates, COUNT(obstacle_templates)},
	    {"@universe.", universe_templates, COUNT(universe_templates)},
	    {"@series.", series_templates, COUNT(series_templates)},
	};
	for (size_t i = 0; i < COUNT(refs); i++) {
		size_t n = strlen(refs[i].prefix);
		if (strncmp(ref, refs[i].prefix, n) != 0)
			continue;
		for (size_t k = 0; k < refs[i].n; k++) {
			if (strcmp(ref + n, refs[i].keys[k]) == 0)
				return 0;
		}
	}
	return fail(L, "unknown reference '%s'", ref);
}

static int check_say(struct loader *L, const json_t *item)
{
	const char *who = need_str(L, item, "say");
	const char *intent = need_str(L, item, "intent");
	if (L->failed)
		return -1;
	int role = sv_story_token_role(who);
	if (role == ROLE_NONE || role == ROLE_OTHER)
		return fail(L, "'say' names unknown speaker '%s'", who);
	if (intent[0] == '@')
		return check_ref(L, intent);
	if (!json_object_get(json_object_get(L->c->beats, "lines"), intent))
		return fail(L, "unknown intent '%s'", intent);
	return 0;
}

/* "if": a condition the realiser knows ("!" before it negates it), or an array of them. */
static int check_conditions(struct loader *L, const json_t *cond)
{
	size_t i, n = json_is_array(cond) ? json_array_size(cond) : 1;
	for (i = 0; i < n; i++) {
		const json_t *c = json_is_array(cond) ? json_array_get(cond, i) : cond;
		if (!json_is_string(c) || !sv_story_condition_known(json_string_value(c)))
			return fail(L, "unknown condition in 'if'");
	}
	return n ? 0 : fail(L, "'if' must not be empty");
}

static int check_item(struct loader *L, const json_t *item)
{
	const json_t *moves = json_object_get(L->c->beats, "moves");
	const char *move = json_string_value(item);
	if (json_is_object(item)) {
		const json_t *cond = json_object_get(item, "if");
		const json_t *max = json_object_get(item, "max");
		const json_t *opt = json_object_get(item, "opt");
		if (cond && check_conditions(L, cond) < 0)
			return -1;
		if (opt && !json_is_boolean(opt))
			return fail(L, "'opt' must be true or false");
		if (max && (!json_is_integer(max) || json_integer_value(max) < 1 ||
		            json_integer_value(max) > 9))
			return fail(L, "'max' must be a whole number from 1 to 9");
		const json_t *then = json_object_get(item, "then");
		if (then && check_item(L, then) < 0)
			return -1;
		if (json_object_get(item, "say"))
			return check_say(L, item);
		move = need_str(L, item, "m");
	}
	if (!move)
		return fail(L, "a script item must be a string or an object");
	if (move[0] == '@')
		return check_ref(L, move);
	if (strcmp(move, "~fill") == 0 || json_object_get(moves, move))
		return 0;
	return fail(L, "unknown move '%s'", move);
}

static int check_beat(struct loader *L, const json_t *beat)
{
	const json_t *w = json_object_get(beat, "weight");
	if (!json_is_number(w) || json_number_value(w) <= 0 || json_number_value(w) > 10)
		return fail(L, "'weight' must be a number above 0 and at most 10");
	const json_t *script = need_array(L, beat, "script", 1);
	const json_t *fill = need_array(L, beat, "fill", 1);
	if (!script || !fill)
		return -1;
	size_t i;
	const json_t *item;
	json_array_foreach(script, i, item)
	{
		if (check_item(L, item) < 0)
			return -1;
	}
	json_array_foreach(fill, i, item)
	{
		if (json_is_string(item) && json_string_value(item)[0] == '~')
			return fail(L, "'~fill' cannot be a fill item");
		if (check_item(L, item) < 0)
			return -1;
	}
	return 0;
}

static int check_moods(struct loader *L, const json_t *moods)
{
	static const char *const keys[] = {
	    "opening",   "call", "setout",    "journey", "obstacle1",  "obstacle2", "obstacle3",
	    "encounter", "rest", "low_point", "choice",  "resolution", "closing"};
	for (size_t i = 0; i < COUNT(keys); i++) {
		if (need_strings(L, moods, keys[i], 1) < 0)
			return -1;
	}
	return 0;
}

static int check_template_map(struct loader *L, const json_t *map)
{
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)map, key, v)
	{
		if (check_template_node(L, v, key) < 0)
			return -1;
	}
	return 0;
}

/* A series: the recap, and how each kind of thread is opened, picked up and closed. */
static int check_series(struct loader *L, const json_t *doc)
{
	snprintf(L->where, sizeof(L->where), "series");
	const json_t *series = need_object(L, doc, "series");
	const json_t *threads = series ? need_object(L, series, "threads") : NULL;
	if (!threads || need_templates(L, series, "recap") < 0)
		return -1;
	for (size_t i = 0; i < COUNT(thread_kinds); i++) {
		snprintf(L->where, sizeof(L->where), "series.threads.%s", thread_kinds[i]);
		const json_t *kind = need_object(L, threads, thread_kinds[i]);
		for (size_t k = 1; kind && k < COUNT(series_templates); k++)
			need_templates(L, kind, series_templates[k]);
		if (L->failed)
			return -1;
	}
	return 0;
}

/* The sheet a custom character starts from; a trait may bring speech verbs. */
static int check_custom_sheet(struct loader *L, const json_t *doc)
{
	snprintf(L->where, sizeof(L->where), "custom");
	const json_t *custom = need_object(L, doc, "custom");
	const json_t *speech = custom ? need_object(L, custom, "speech") : NULL;
	const json_t *verbs = custom ? need_object(L, custom, "trait_verbs") : NULL;
	if (L->failed || check_speech(L, speech, 0) < 0 || check_voice(L, custom) < 0)
		return -1;
	const char *trait;
	const json_t *v;
	json_object_foreach((json_t *)verbs, trait, v)
	{
		if (need_strings(L, verbs, trait, 1) < 0)
			return -1;
	}
	return 0;
}

static int load_beats(struct loader *L)
{
	struct sv_catalog *c = L->c;
	const json_t *doc = c->docs[DOC_BEATS];
	L->file = "beats";
	c->beats = doc;
	const json_t *moods = need_object(L, doc, "moods");
	const json_t *lines = need_object(L, doc, "lines");
	const json_t *moves = need_object(L, doc, "moves");
	const json_t *beats = need_object(L, doc, "beats");
	const json_t *child = need_object(L, doc, "child");
	const json_t *friend = need_object(L, doc, "friend");
	need_strings(L, doc, "names", 1);
	need_strings(L, doc, "groups", 1);
	if (L->failed || check_moods(L, moods) < 0 || check_template_map(L, lines) < 0 ||
	    check_template_map(L, moves) < 0)
		return -1;
	snprintf(L->where, sizeof(L->where), "child");
	need_str(L, child, "species");
	need_str(L, child, "looks");
	need_strings(L, child, "traits", 3);
	const json_t *speech = need_object(L, child, "speech");
	if (L->failed || check_speech(L, speech, 0) < 0 || check_voice(L, child) < 0)
		return -1;
	if (!sv_story_pronoun(need_str(L, child, "pronoun")))
		return fail(L, "'pronoun' must be she, he, it or they");
	snprintf(L->where, sizeof(L->where), "friend");
	speech = need_object(L, friend, "speech");
	if (L->failed || check_speech(L, speech, 0) < 0 || check_voice(L, friend) < 0 ||
	    check_custom_sheet(L, doc) < 0)
		return -1;
	snprintf(L->where, sizeof(L->where), "chapter_titles");
	const json_t *chapters = need_object(L, doc, "chapter_titles");
	static const char *const chapter_kinds[] = {"opening", "journey", "dawn", "low_point"};
	for (size_t i = 0; chapters && i < COUNT(chapter_kinds); i++)
		need_templates(L, chapters, chapter_kinds[i]);
	if (L->failed)
		return -1;
	snprintf(L->where, sizeof(L->where), "culture");
	const json_t *culture = need_object(L, doc, "culture");
	if (!culture || need_strings(L, culture, "festival_themes", 0) < 0 ||
	    check_series(L, doc) < 0)
		return -1;
	for (int b = 0; b < BEAT_N; b++) {
		snprintf(L->where, sizeof(L->where), "beats.%s", sv_story_beat_names[b]);
		const json_t *beat = need_object(L, beats, sv_story_beat_names[b]);
		if (!beat || check_beat(L, beat) < 0)
			return -1;
	}
	L->where[0] = '\0';
	return check_obstacles(L, doc, 0);
}

/* ---- the public document ---- */

static json_t *pick_fields(const json_t *obj, const char *const *keys, size_t n, const char *lang)
{
	json_t *out = json_object();
	for (size_t i = 0; out && i < n; i++) {
		const json_t *v = json_object_get(obj, keys[i]);
		if (v && json_object_set_new(out, keys[i], json_deep_copy(v)) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	if (out && json_object_set_new(out, "language", json_string(lang)) < 0) {
		json_decref(out);
		return NULL;
	}
	return out;
}

static json_t *public_list(const json_t *arr, const char *const *keys, size_t n, const char *lang)
{
	json_t *out = json_array();
	size_t i;
	const json_t *v;
	json_array_foreach(arr, i, v)
	{
		if (!out || json_array_append_new(out, pick_fields(v, keys, n, lang)) < 0) {
			json_decref(out);
			return NULL;
		}
	}
	return out;
}

/* Universes list their creatures by plural name; characters show a speech summary. */
static int public_extras(json_t *doc, const struct sv_catalog *c)
{
	json_t *unis = json_object_get(doc, "universes");
	for (size_t i = 0; i < c->n_universes; i++) {
		json_t *names = json_array();
		size_t k;
		const json_t *cr;
		json_array_foreach(json_object_get(c->universes[i].obj, "creatures"), k, cr)
		    json_array_append_new(names, json_deep_copy(json_object_get(cr, "many")));
		if (json_object_set_new(json_array_get(unis, i), "creatures", names) < 0)
			return -1;
	}
	json_t *chars = json_object_get(doc, "characters");
	for (size_t i = 0; i < c->n_characters; i++) {
		const json_t *sp = json_object_get(c->characters[i].obj, "speech");
		json_t *summary = json_pack(
		    "{s:s,s:o*}", "style", json_string_value(json_object_get(sp, "style")),
		    "catchphrases", json_deep_copy(json_object_get(sp, "catchphrases")));
		if (json_object_set_new(json_array_get(chars, i), "speech", summary) < 0)
			return -1;
	}
	return 0;
}

static json_t *public_doc(const struct sv_catalog *c)
{
	static const char *const ukeys[] = {"id",      "name",   "description", "tone",
	                                    "palette", "places", "objects",     "vocabulary"};
	static const char *const ckeys[] = {"id",      "name",  "universe", "species",
	                                    "pronoun", "looks", "traits",   "voice"};
	static const char *const tkeys[] = {"id", "name", "description"};
	static const char *const lkeys[] = {"id", "name", "description", "min", "max"};
	const char *lang = c->lang;
	json_t *doc = json_pack(
	    "{s:s,s:o*,s:o*,s:o*,s:o*,s:o*,s:o*}", "language", lang, "universes",
	    public_list(json_object_get(c->docs[DOC_UNIVERSES], "universes"), ukeys, COUNT(ukeys),
	                lang),
	    "characters",
	    public_list(json_object_get(c->docs[DOC_CHARACTERS], "characters"), ckeys, COUNT(ckeys),
	                lang),
	    "themes",
	    public_list(json_object_get(c->docs[DOC_THEMES], "themes"), tkeys, COUNT(tkeys), lang),
	    "morals",
	    public_list(json_object_get(c->docs[DOC_MORALS], "morals"), tkeys, COUNT(tkeys), lang),
	    "ages",
	    public_list(json_object_get(c->docs[DOC_OPTIONS], "ages"), tkeys, COUNT(tkeys), lang),
	    "lengths",
	    public_list(json_object_get(c->docs[DOC_OPTIONS], "lengths"), lkeys, COUNT(lkeys),
	                lang));
	static const char *const kkeys[] = {"id",      "name",     "description", "greeting",
	                                    "meaning", "festival", "foods",       "places"};
	if (doc &&
	    json_object_set_new(doc, "cultures",
	                        public_list(json_object_get(c->docs[DOC_CULTURES], "cultures"),
	                                    kkeys, COUNT(kkeys), lang)) < 0) {
		json_decref(doc);
		return NULL;
	}
	if (doc && json_object_set_new(doc, "styles",
	                               public_list(json_object_get(c->docs[DOC_OPTIONS], "styles"),
	                                           tkeys, COUNT(tkeys), lang)) < 0) {
		json_decref(doc);
		return NULL;
	}
	if (!doc || json_object_size(doc) != 9 || public_extras(doc, c) < 0) {
		json_decref(doc);
		return NULL;
	}
	return doc;
}

/* ---- loading ---- */

static int asset_file(void *ctx, const char *name, const char **data, size_t *len)
{
	(void)ctx;
	const struct sv_asset *a = sv_asset_find(name);
	if (!a)
		return -1;
	*data = (const char *)a->data;
	*len = a->len;
	return 0;
}

static int valid_lang(const char *lang)
{
	size_t n = lang ? strlen(lang) : 0;
	if (n < 2 || n >= sizeof(((struct sv_catalog *)0)->lang))
		return 0;
	for (size_t i = 0; i < n; i++) {
		if (!islower((unsigned char)lang[i]) && lang[i] != '-')
			return 0;
	}
	return 1;
}

static int parse_doc(struct loader *L, int d, sv_story_file_fn fn, void *ctx)
{
	char path[96];
	const char *data;
	size_t len;
	snprintf(path, sizeof(path), "data/%s/%s.json", L->c->lang, sv_story_doc_names[d]);
	L->file = sv_story_doc_names[d];
	L->where[0] = '\0';
	if (fn(ctx, path, &data, &len) < 0)
		return fail(L, "file not found");
	json_error_t je;
	json_t *doc = json_loadb(data, len, JSON_REJECT_DUPLICATES, &je);
	if (!doc)
		return fail(L, "line %d: %s", je.line, je.text);
	L->c->docs[d] = doc;
	if (!json_is_object(doc))
		return fail(L, "the top level must be an object");
	const char *lang = json_string_value(json_object_get(doc, "language"));
	if (!lang || strcmp(lang, L->c->lang) != 0)
		return fail(L, "'language' must be \"%s\"", L->c->lang);
	return 0;
}

struct sv_catalog *sv_story_catalog_load(const char *lang, sv_story_file_fn fn, void *ctx,
                                         struct sv_err *err)
{
	if (!valid_lang(lang)) {
		sv_err_set(err, "invalid_value", "language", "unknown language '%.16s'",
		           lang ? lang : "");
		return NULL;
	}
	struct sv_catalog *c = calloc(1, sizeof(*c));
	if (!c) {
		sv_err_set(err, "nomem", "", "out of memory loading the catalog");
		return NULL;
	}
	snprintf(c->lang, sizeof(c->lang), "%s", lang);
	struct loader L = {.c = c, .err = err};
	for (int d = 0; d < DOC_N && !L.failed; d++)
		parse_doc(&L, d, fn, ctx);
	/* beats.json first: characters check their lines against its intents. */
	if (L.failed || load_beats(&L) < 0 || load_universes(&L) < 0 || load_characters(&L) < 0 ||
	    load_themes(&L) < 0 || load_morals(&L) < 0 || load_options(&L) < 0 ||
	    load_cultures(&L) < 0) {
		sv_story_catalog_free(c);
		return NULL;
	}
	c->public_doc = public_doc(c);
	if (!c->public_doc) {
		sv_err_set(err, "nomem", "", "out of memory building the catalog document");
		sv_story_catalog_free(c);
		return NULL;
	}
	return c;
}

struct sv_catalog *sv_story_catalog_new(const char *lang, struct sv_err *err)
{
	return sv_story_catalog_load(lang, asset_file, NULL, err);
}

void sv_story_catalog_free(struct sv_catalog *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < c->n_universes; i++)
		free(c->universes[i].places);
	free(c->universes);
	free(c->characters);
	free(c->themes);
	free(c->morals);
	free(c->ages);
	free(c->lengths);
	free(c->styles);
	free(c->cultures);
	json_decref(c->public_doc);
	for (int d = 0; d < DOC_N; d++)
		json_decref(c->docs[d]);
	free(c);
}

json_t *sv_story_catalog_json(const struct sv_catalog *c)
{
	return json_deep_copy(c->public_doc);
}

/* ---- lookups ---- */

#define FIND(fn, type, arr, n)                                                                     \
	const type *fn(const struct sv_catalog *c, const char *id)                                 \
	{                                                                                          \
		for (size_t i = 0; id && i < c->n; i++) {                                          \
			if (strcmp(c->arr[i].id, id) == 0)                                         \
				return &c->arr[i];                                                 \
		}                                                                                  \
		return NULL;                                                                       \
	}

FIND(sv_story_find_universe, struct sv_universe, universes, n_universes)
FIND(sv_story_find_character, struct sv_character, characters, n_characters)
FIND(sv_story_find_theme, struct sv_theme, themes, n_themes)
FIND(sv_story_find_moral, struct sv_moral, morals, n_morals)
FIND(sv_story_find_age, struct sv_age, ages, n_ages)
FIND(sv_story_find_length, struct sv_length, lengths, n_lengths)
FIND(sv_story_find_style, struct sv_style, styles, n_styles)
FIND(sv_story_find_culture, struct sv_culture, cultures, n_cultures)

static const struct sv_pronoun pronouns[] = {
    {"she", "she", "her", "her", "herself", "was", "is", "has"},
    {"he", "he", "him", "his", "himself", "was", "is", "has"},
    {"it", "it", "it", "its", "itself", "was", "is", "has"},
    {"they", "they", "them", "their", "themselves", "were", "are", "have"},
};

const struct sv_pronoun *sv_story_pronoun(const char *id)
{
	for (size_t i = 0; id && i < COUNT(pronouns); i++) {
		if (strcmp(pronouns[i].id, id) == 0)
			return &pronouns[i];
	}
	return NULL;
}
