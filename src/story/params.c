/*
 * Story parameters: reading them from a request, checking them against the
 * catalog, and filling in defaults.
 *
 * Every error names the field at fault and, where there is a fixed set of
 * choices, lists them, so a person can fix the request from the message
 * alone. Defaults that need a choice (sidekick, theme, moral) are derived from
 * the seed, so the same request with the same seed always means the same story.
 */
#include "story/internal.h"

#include <stdio.h>
#include <string.h>

#define CHILD_NAME_MAX 40
#define COUNT(a)       (sizeof(a) / sizeof((a)[0]))

void sv_story_params_init(struct sv_story_params *p)
{
	memset(p, 0, sizeof(*p));
}

/* ---- error messages ---- */

/* Copies at most 32 printable ASCII bytes of s for quoting in a message, so a
 * hostile value can neither flood the message nor break its UTF-8. */
static void quotable(char *out, size_t cap, const char *s)
{
	size_t n = 0;
	for (; *s && n + 4 < cap && n < 32; s++)
		out[n++] = (*s >= 0x20 && *s < 0x7f) ? *s : '?';
	if (*s && n + 4 < cap)
		out[n++] = '.', out[n++] = '.', out[n++] = '.';
	out[n] = '\0';
}

enum list_kind {
	LIST_UNIVERSES,
	LIST_CHARACTERS,
	LIST_THEMES,
	LIST_MORALS,
	LIST_AGES,
	LIST_LENGTHS
};

static const char *list_id(const struct sv_catalog *c, enum list_kind k, size_t i)
{
	switch (k) {
	case LIST_UNIVERSES:
		return i < c->n_universes ? c->universes[i].id : NULL;
	case LIST_CHARACTERS:
		return i < c->n_characters ? c->characters[i].id : NULL;
	case LIST_THEMES:
		return i < c->n_themes ? c->themes[i].id : NULL;
	case LIST_MORALS:
		return i < c->n_morals ? c->morals[i].id : NULL;
	case LIST_AGES:
		return i < c->n_ages ? c->ages[i].id : NULL;
	case LIST_LENGTHS:
		return i < c->n_lengths ? c->lengths[i].id : NULL;
	}
	return NULL;
}

static void join_ids(char *out, size_t cap, const struct sv_catalog *c, enum list_kind k)
{
	size_t n = 0;
	out[0] = '\0';
	for (size_t i = 0; list_id(c, k, i) && n < cap; i++) {
		int w = snprintf(out + n, cap - n, "%s%s", i ? ", " : "", list_id(c, k, i));
		n += w > 0 ? (size_t)w : 0;
	}
}

static int unknown_id(const struct sv_catalog *c, enum list_kind k, const char *field,
                      const char *value, struct sv_err *err)
{
	char ids[300], q[40];
	join_ids(ids, sizeof(ids), c, k);
	quotable(q, sizeof(q), value);
	return sv_err_set(err, "unknown_id", field, "unknown %s '%s' (choose one of: %s)", field, q,
	                  ids);
}

static int missing(const struct sv_catalog *c, enum list_kind k, const char *field,
                   struct sv_err *err)
{
	char ids[300];
	join_ids(ids, sizeof(ids), c, k);
	return sv_err_set(err, "missing_field", field, "%s is required (choose one of: %s)", field,
	                  ids);
}

/* ---- child names ---- */

/* Code points that are not letters in a name: symbols, punctuation, digits of
 * other scripts, spaces and invisible characters, emoji, private use. */
static const struct {
	uint32_t lo, hi;
} not_letters[] = {
    {0x80, 0xA9},       {0xAB, 0xB4},       {0xB6, 0xB9},        {0xBB, 0xBF},     {0xD7, 0xD7},
    {0xF7, 0xF7},       {0x0660, 0x0669},   {0x06F0, 0x06F9},    {0x0966, 0x096F}, {0x115F, 0x1160},
    {0x2000, 0x2018},   {0x201A, 0x206F},   {0x2070, 0x2BFF},    {0x2E00, 0x2E7F}, {0x3000, 0x303F},
    {0x3164, 0x3164},   {0xD800, 0xF8FF},   {0xFE00, 0xFE1F},    {0xFE30, 0xFE6F}, {0xFEFF, 0xFEFF},
    {0xFF00, 0xFF20},   {0xFF3B, 0xFF40},   {0xFF5B, 0xFF65},    {0xFFA0, 0xFFA0}, {0xFFF0, 0xFFFF},
    {0x1D400, 0x1D7FF}, {0x1F000, 0x1FBFF}, {0xE0000, 0x10FFFF},
};

/* Decodes one UTF-8 sequence; returns its length, or 0 when it is malformed
 * (overlong forms, surrogates and values above U+10FFFF included). */
static int utf8_decode(const unsigned char *s, size_t len, uint32_t *cp)
{
	static const uint32_t min[] = {0, 0, 0x80, 0x800, 0x10000};
	int n = s[0] < 0x80             ? 1
	        : (s[0] & 0xE0) == 0xC0 ? 2
	        : (s[0] & 0xF0) == 0xE0 ? 3
	        : (s[0] & 0xF8) == 0xF0 ? 4
	                                : 0;
	if (n == 0 || (size_t)n > len)
		return 0;
	uint32_t v = n == 1 ? s[0] : (uint32_t)(s[0] & (0x7F >> n));
	for (int i = 1; i < n; i++) {
		if ((s[i] & 0xC0) != 0x80)
			return 0;
		v = (v << 6) | (s[i] & 0x3F);
	}
	if (v < min[n] || v > 0x10FFFF || (v >= 0xD800 && v <= 0xDFFF))
		return 0;
	*cp = v;
	return n;
}

static int name_char_ok(uint32_t cp, int *letter)
{
	if (cp < 0x80) {
		int alpha = (cp >= 'a' && cp <= 'z') || (cp >= 'A' && cp <= 'Z');
		*letter |= alpha;
		return alpha || cp == ' ' || cp == '-' || cp == '\'' || cp == '.';
	}
	for (size_t i = 0; i < COUNT(not_letters); i++) {
		if (cp >= not_letters[i].lo && cp <= not_letters[i].hi)
			return cp == 0x2019; /* the typographic apostrophe is welcome */
	}
	*letter |= !(cp >= 0x0300 && cp <= 0x036F); /* a combining mark alone is not a letter */
	return 1;
}

/* Trims and collapses spaces into out, checking every character on the way. */
static int normalise_name(const char *in, size_t len, char *out, struct sv_err *err)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = 0;
	int letter = 0, pending_space = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		int k = utf8_decode(s + i, len - i, &cp);
		if (k == 0)
			return sv_err_set(err, "invalid_value", "child_name",
			                  "child_name must be valid UTF-8 text");
		if (!name_char_ok(cp, &letter))
			return sv_err_set(err, "invalid_value", "child_name",
			                  "child_name may only hold letters, spaces, hyphens, "
			                  "apostrophes and full stops");
		if (cp == ' ') {
			pending_space = n > 0;
		} else {
			if (n + (size_t)pending_space + (size_t)k > CHILD_NAME_MAX)
				return sv_err_set(err, "invalid_value", "child_name",
				                  "child_name must be at most %d bytes long",
				                  CHILD_NAME_MAX);
			if (pending_space)
				out[n++] = ' ';
			memcpy(out + n, s + i, (size_t)k);
			n += (size_t)k;
			pending_space = 0;
		}
		i += (size_t)k;
	}
	out[n] = '\0';
	if (n == 0 || !letter)
		return sv_err_set(err, "invalid_value", "child_name",
		                  "child_name must hold at least one letter (1 to %d bytes)",
		                  CHILD_NAME_MAX);
	return 0;
}

/* ---- defaults ---- */

static const struct sv_character *default_sidekick(const struct sv_catalog *c,
                                                   const struct sv_universe *u,
                                                   const struct sv_character *hero, uint64_t seed)
{
	const struct sv_character *pool[256];
	size_t n = 0;
	for (size_t i = 0; i < c->n_characters && n < COUNT(pool); i++) {
		if (c->characters[i].home == u && &c->characters[i] != hero)
			pool[n++] = &c->characters[i];
	}
	return n ? pool[sv_story_subseed(seed, "sidekick", 0) % n] : NULL;
}

static void set_id(char *dst, const char *id)
{
	snprintf(dst, SV_STORY_ID_MAX, "%s", id);
}

/* Checks the optional ids and fills the ones left empty. */
static int check_choices(const struct sv_catalog *c, struct sv_story_params *p, struct sv_err *err)
{
	if (!p->theme[0])
		set_id(p->theme, c->themes[sv_story_subseed(p->seed, "theme", 0) % c->n_themes].id);
	else if (!sv_story_find_theme(c, p->theme))
		return unknown_id(c, LIST_THEMES, "theme", p->theme, err);
	if (!p->moral[0])
		set_id(p->moral, c->morals[sv_story_subseed(p->seed, "moral", 0) % c->n_morals].id);
	else if (!sv_story_find_moral(c, p->moral))
		return unknown_id(c, LIST_MORALS, "moral", p->moral, err);
	if (!p->age[0])
		set_id(p->age, "6-8");
	else if (!sv_story_find_age(c, p->age))
		return unknown_id(c, LIST_AGES, "age", p->age, err);
	if (!p->length[0])
		set_id(p->length, "bedtime");
	else if (!sv_story_find_length(c, p->length))
		return unknown_id(c, LIST_LENGTHS, "length", p->length, err);
	return 0;
}

static int check_cast(const struct sv_catalog *c, struct sv_story_params *p, struct sv_err *err)
{
	if (!p->universe[0])
		return missing(c, LIST_UNIVERSES, "universe", err);
	const struct sv_universe *u = sv_story_find_universe(c, p->universe);
	if (!u)
		return unknown_id(c, LIST_UNIVERSES, "universe", p->universe, err);
	if (!p->hero[0])
		return missing(c, LIST_CHARACTERS, "hero", err);
	const struct sv_character *hero = sv_story_find_character(c, p->hero);
	if (!hero)
		return unknown_id(c, LIST_CHARACTERS, "hero", p->hero, err);
	if (!p->sidekick[0]) {
		const struct sv_character *side = default_sidekick(c, u, hero, p->seed);
		set_id(p->sidekick, side ? side->id : "");
		return 0;
	}
	if (!sv_story_find_character(c, p->sidekick))
		return unknown_id(c, LIST_CHARACTERS, "sidekick", p->sidekick, err);
	if (strcmp(p->sidekick, p->hero) == 0)
		return sv_err_set(err, "invalid_value", "sidekick",
		                  "sidekick must be a different character from the hero '%s'",
		                  p->hero);
	return 0;
}

int sv_story_params_validate(const struct sv_catalog *c, struct sv_story_params *p,
                             struct sv_err *err)
{
	if (p->seed > SV_STORY_SEED_MAX)
		return sv_err_set(err, "invalid_value", "seed",
		                  "seed must be a whole number from 0 to %llu",
		                  (unsigned long long)SV_STORY_SEED_MAX);
	if (check_cast(c, p, err) < 0 || check_choices(c, p, err) < 0)
		return -1;
	if (!p->child_name[0]) {
		snprintf(p->child_name, sizeof(p->child_name), "Sam");
		return 0;
	}
	char name[SV_STORY_NAME_MAX];
	size_t len = strnlen(p->child_name, sizeof(p->child_name));
	if (len == sizeof(p->child_name))
		return sv_err_set(err, "invalid_value", "child_name",
		                  "child_name must be at most %d bytes long", CHILD_NAME_MAX);
	if (normalise_name(p->child_name, len, name, err) < 0)
		return -1;
	memcpy(p->child_name, name, strlen(name) + 1);
	return 0;
}

/* ---- JSON ---- */

enum field_kind { F_ID, F_NAME, F_SEED };

static const struct field {
	const char *name;
	size_t offset;
	enum field_kind kind;
	enum list_kind list;
} fields[] = {
    {"universe", offsetof(struct sv_story_params, universe), F_ID, LIST_UNIVERSES},
    {"hero", offsetof(struct sv_story_params, hero), F_ID, LIST_CHARACTERS},
    {"sidekick", offsetof(struct sv_story_params, sidekick), F_ID, LIST_CHARACTERS},
    {"theme", offsetof(struct sv_story_params, theme), F_ID, LIST_THEMES},
    {"moral", offsetof(struct sv_story_params, moral), F_ID, LIST_MORALS},
    {"age", offsetof(struct sv_story_params, age), F_ID, LIST_AGES},
    {"length", offsetof(struct sv_story_params, length), F_ID, LIST_LENGTHS},
    {"child_name", offsetof(struct sv_story_params, child_name), F_NAME, 0},
    {"seed", 0, F_SEED, 0},
};

static const struct field *find_field(const char *name)
{
	for (size_t i = 0; i < COUNT(fields); i++) {
		if (strcmp(fields[i].name, name) == 0)
			return &fields[i];
	}
	return NULL;
}

static int read_seed(const json_t *v, struct sv_story_params *p, int *seed_given,
                     struct sv_err *err)
{
	if (!json_is_integer(v))
		return sv_err_set(err, "invalid_type", "seed", "seed must be a whole number");
	json_int_t s = json_integer_value(v);
	if (s < 0 || (uint64_t)s > SV_STORY_SEED_MAX)
		return sv_err_set(err, "invalid_value", "seed",
		                  "seed must be a whole number from 0 to %llu",
		                  (unsigned long long)SV_STORY_SEED_MAX);
	p->seed = (uint64_t)s;
	*seed_given = 1;
	return 0;
}

static int read_field(const struct sv_catalog *c, const struct field *f, const json_t *v,
                      struct sv_story_params *p, int *seed_given, struct sv_err *err)
{
	if (json_is_null(v))
		return 0; /* the same as leaving it out */
	if (f->kind == F_SEED)
		return read_seed(v, p, seed_given, err);
	if (!json_is_string(v))
		return sv_err_set(err, "invalid_type", f->name, "%s must be a string", f->name);
	char *dst = (char *)p + f->offset;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (f->kind == F_NAME)
		return normalise_name(s, len, dst, err);
	if (len >= SV_STORY_ID_MAX || strlen(s) != len)
		return unknown_id(c, f->list, f->name, s, err);
	memcpy(dst, s, len + 1);
	return 0;
}

static int unknown_field(const char *key, struct sv_err *err)
{
	char q[40], names[200];
	size_t n = 0;
	quotable(q, sizeof(q), key);
	for (size_t i = 0; i < COUNT(fields); i++)
		n += (size_t)snprintf(names + n, sizeof(names) - n, "%s%s", i ? ", " : "",
		                      fields[i].name);
	char field[sizeof(err->field)];
	snprintf(field, sizeof(field), "%s", q);
	return sv_err_set(err, "unknown_field", field, "unknown field '%s' (allowed: %s)", q,
	                  names);
}

int sv_story_params_from_json(const struct sv_catalog *c, const json_t *obj,
                              struct sv_story_params *p, int *seed_given, struct sv_err *err)
{
	/* A seed the caller put in p beforehand stays when the request has none. */
	uint64_t seed = p->seed & SV_STORY_SEED_MAX;
	int given = 0;
	sv_story_params_init(p);
	p->seed = seed;
	if (seed_given)
		*seed_given = 0;
	if (!json_is_object(obj))
		return sv_err_set(err, "invalid_type", "",
		                  "the story request must be a JSON object");
	const char *key;
	const json_t *v;
	json_object_foreach((json_t *)obj, key, v)
	{
		const struct field *f = find_field(key);
		if (!f)
			return unknown_field(key, err);
		if (read_field(c, f, v, p, &given, err) < 0)
			return -1;
	}
	if (seed_given)
		*seed_given = given;
	return sv_story_params_validate(c, p, err);
}

json_t *sv_story_params_to_json(const struct sv_story_params *p)
{
	return json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I}", "universe", p->universe, "hero",
	                 p->hero, "sidekick", p->sidekick, "theme", p->theme, "moral", p->moral,
	                 "age", p->age, "length", p->length, "child_name", p->child_name, "seed",
	                 (json_int_t)p->seed);
}
