/*
 * Story parameters: reading them from a request, checking them against the
 * catalog, and filling in defaults.
 *
 * Every error names the field at fault and, where there is a fixed set of
 * choices, lists them, so a person can fix the request from the message
 * alone. Defaults that need a choice (sidekick, theme, moral) are derived from
 * the seed, so the same request with the same seed always means the same story.
 *
 * Beyond the basic cast: a friendly rival, a mentor and a custom character
 * (from a request object or the command line's 'name=..,species=..,traits=a;b'),
 * nobody in two roles; the child's pronouns; how the universes meet (mode and
 * universes); a culture; and series, where a story continues another one and
 * keeps its world and cast (sv_story_params_continue).
 */
#include "story/internal.h"

#include <stdio.h>
#include <string.h>
#include <strings.h>

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
	LIST_LENGTHS,
	LIST_CULTURES,
	LIST_STYLES
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
	case LIST_CULTURES:
		return i < c->n_cultures ? c->cultures[i].id : NULL;
	case LIST_STYLES:
		return i < c->n_styles ? c->styles[i].id : NULL;
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
	const char *noun = strcmp(field, "universes") == 0 ? "universe" : field;
	return sv_err_set(err, "unknown_id", field, "unknown %s '%s' (choose one of: %s)", noun, q,
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

/* Trims and collapses spaces into out, checking every character on the way;
 * errors name field (child_name, custom.name). */
static int normalise_name(const char *in, size_t len, char *out, const char *field,
                          struct sv_err *err)
{
	const unsigned char *s = (const unsigned char *)in;
	size_t n = 0;
	int letter = 0, pending_space = 0;
	for (size_t i = 0; i < len;) {
		uint32_t cp;
		int k = utf8_decode(s + i, len - i, &cp);
		if (k == 0)
			return sv_err_set(err, "invalid_value", field,
			                  "%s must be valid UTF-8 text", field);
		if (!name_char_ok(cp, &letter))
			return sv_err_set(err, "invalid_value", field,
			                  "%s may only hold letters, spaces, hyphens, "
			                  "apostrophes and full stops",
			                  field);
		if (cp == ' ') {
			pending_space = n > 0;
		} else {
			if (n + (size_t)pending_space + (size_t)k > CHILD_NAME_MAX)
				return sv_err_set(err, "invalid_value", field,
				                  "%s must be at most %d bytes long", field,
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
		return sv_err_set(err, "invalid_value", field,
		                  "%s must hold at least one letter (1 to %d bytes)", field,
		                  CHILD_NAME_MAX);
	return 0;
}

/* Checks a name already in dst (from a C caller or a request) in place. */
static int check_name(char *dst, size_t cap, const char *field, struct sv_err *err)
{
	char name[SV_STORY_NAME_MAX];
	size_t len = strnlen(dst, cap);
	if (len == cap)
		return sv_err_set(err, "invalid_value", field, "%s must be at most %d bytes long",
		                  field, CHILD_NAME_MAX);
	if (normalise_name(dst, len, name, field, err) < 0)
		return -1;
	memcpy(dst, name, strlen(name) + 1);
	return 0;
}

/* ---- defaults ---- */

/* The catalog characters a story casts, in the order their errors are reported. */
static const struct {
	const char *field;
	size_t offset;
} cast_fields[] = {
    {"hero", offsetof(struct sv_story_params, hero)},
    {"sidekick", offsetof(struct sv_story_params, sidekick)},
    {"rival", offsetof(struct sv_story_params, rival)},
    {"mentor", offsetof(struct sv_story_params, mentor)},
};

static char *cast_id(struct sv_story_params *p, size_t i)
{
	return (char *)p + cast_fields[i].offset;
}

/* Whether ch is already cast in p (hero, sidekick, rival or mentor). */
static int is_cast(struct sv_story_params *p, const struct sv_character *ch)
{
	for (size_t i = 0; i < COUNT(cast_fields); i++) {
		if (strcmp(cast_id(p, i), ch->id) == 0)
			return 1;
	}
	return 0;
}

/* Whether a character is at home where the story happens: in any world of a
 * fusion, in the first world of a hopping journey, in the one world otherwise. */
static int at_home(const struct sv_story_params *p, const struct sv_character *ch)
{
	int n = strcmp(p->mode, "fusion") == 0 ? p->n_universes : 1;
	for (int i = 0; i < n; i++) {
		if (strcmp(ch->home->id, p->universes[i]) == 0)
			return 1;
	}
	return 0;
}

/* Whether any catalog character cast so far comes from elsewhere. */
static int any_visitor(const struct sv_catalog *c, struct sv_story_params *p)
{
	for (size_t i = 0; i < COUNT(cast_fields); i++) {
		const struct sv_character *ch = sv_story_find_character(c, cast_id(p, i));
		if (ch && !at_home(p, ch))
			return 1;
	}
	return 0;
}

/* A sidekick from home, or for a crossover that has no visitor yet, from elsewhere. */
static const struct sv_character *default_sidekick(const struct sv_catalog *c,
                                                   struct sv_story_params *p)
{
	int want_home = !(strcmp(p->mode, "crossover") == 0 && !any_visitor(c, p));
	const struct sv_character *pool[256];
	size_t n = 0;
	for (size_t i = 0; i < c->n_characters && n < COUNT(pool); i++) {
		const struct sv_character *ch = &c->characters[i];
		if (at_home(p, ch) == want_home && !is_cast(p, ch))
			pool[n++] = ch;
	}
	return n ? pool[sv_story_subseed(p->seed, "sidekick", 0) % n] : NULL;
}

static void set_id(char *dst, const char *id)
{
	snprintf(dst, SV_STORY_ID_MAX, "%s", id);
}

/* A theme drawn by the seed; the next episode of a series tells a new kind of story. */
static const struct sv_theme *default_theme(const struct sv_catalog *c,
                                            const struct sv_story_params *p)
{
	size_t k = sv_story_subseed(p->seed, "theme", 0) % c->n_themes;
	if (strcmp(c->themes[k].id, p->previous.theme) == 0 && c->n_themes > 1)
		k = (k + 1 + sv_story_subseed(p->seed, "theme", 1) % (c->n_themes - 1)) %
		    c->n_themes;
	return &c->themes[k];
}

/* Checks the optional ids and fills the ones left empty. */
static int check_choices(const struct sv_catalog *c, struct sv_story_params *p, struct sv_err *err)
{
	if (!p->theme[0])
		set_id(p->theme, default_theme(c, p)->id);
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
	if (!p->style[0])
		set_id(p->style, c->styles[0].id);
	else if (!sv_story_find_style(c, p->style))
		return unknown_id(c, LIST_STYLES, "style", p->style, err);
	if (p->culture[0] && !sv_story_find_culture(c, p->culture))
		return unknown_id(c, LIST_CULTURES, "culture", p->culture, err);
	return 0;
}

/* Every catalog character given must exist, and nobody may play two roles. */
static int check_characters(const struct sv_catalog *c, struct sv_story_params *p,
                            struct sv_err *err)
{
	if (!p->hero[0])
		return missing(c, LIST_CHARACTERS, "hero", err);
	for (size_t i = 0; i < COUNT(cast_fields); i++) {
		const char *id = cast_id(p, i);
		if (id[0] && !sv_story_find_character(c, id))
			return unknown_id(c, LIST_CHARACTERS, cast_fields[i].field, id, err);
		for (size_t j = 0; id[0] && j < i; j++) {
			if (strcmp(id, cast_id(p, j)) == 0)
				return sv_err_set(
				    err, "invalid_value", cast_fields[i].field,
				    "%s must be a different character from the %s '%s' "
				    "(nobody can play two roles)",
				    cast_fields[i].field, cast_fields[j].field, id);
		}
	}
	return 0;
}

/* ---- universes and modes ---- */

static int first_universe(const struct sv_story_params *p, struct sv_err *err)
{
	char q[40];
	quotable(q, sizeof(q), p->universe);
	return sv_err_set(err, "invalid_value", "universe",
	                  "universe '%s' must be the first of universes when both are given", q);
}

static int check_universes(const struct sv_catalog *c, struct sv_story_params *p,
                           struct sv_err *err)
{
	if (p->n_universes < 0 || p->n_universes > SV_STORY_UNIVERSES_MAX)
		return sv_err_set(err, "invalid_value", "universes",
		                  "universes must list 1 to %d universes", SV_STORY_UNIVERSES_MAX);
	if (p->n_universes <= 1) { /* one world: "universe" says which (C callers may change it) */
		if (!p->universe[0] && p->n_universes == 0)
			return missing(c, LIST_UNIVERSES, "universe", err);
		if (p->universe[0])
			set_id(p->universes[0], p->universe);
		p->n_universes = 1;
	} else if (p->universe[0] && strcmp(p->universe, p->universes[0]) != 0) {
		return first_universe(p, err);
	}
	for (int i = 0; i < p->n_universes; i++) {
		const char *field =
		    p->n_universes > 1 || !p->universe[0] ? "universes" : "universe";
		if (!sv_story_find_universe(c, p->universes[i]))
			return unknown_id(c, LIST_UNIVERSES, field, p->universes[i], err);
		for (int j = 0; j < i; j++) {
			if (strcmp(p->universes[i], p->universes[j]) == 0)
				return sv_err_set(err, "invalid_value", "universes",
				                  "universes lists '%s' twice", p->universes[i]);
		}
	}
	set_id(p->universe, p->universes[0]);
	return 0;
}

static const struct {
	const char *mode;
	int min, max;
	const char *rule;
} mode_rules[] = {
    {"single", 1, 1, "a single story happens in exactly 1 universe"},
    {"crossover", 1, 1,
     "a crossover happens in exactly 1 universe (its visitors come from others)"},
    {"fusion", 2, 2, "a fusion merges exactly 2 universes"},
    {"hopping", 2, SV_STORY_UNIVERSES_MAX, "a hopping journey passes through 2 or 3 universes"},
};

static int check_mode(struct sv_story_params *p, struct sv_err *err)
{
	if (!p->mode[0])
		return p->n_universes == 1
		           ? 0 /* single or crossover: the cast decides */
		           : sv_err_set(
		                 err, "missing_field", "mode",
		                 "mode is required with %d universes (choose fusion or hopping)",
		                 p->n_universes);
	for (size_t i = 0; i < COUNT(mode_rules); i++) {
		if (strcmp(p->mode, mode_rules[i].mode) != 0)
			continue;
		if (p->n_universes < mode_rules[i].min || p->n_universes > mode_rules[i].max)
			return sv_err_set(err, "invalid_value", "universes", "%s (got %d)",
			                  mode_rules[i].rule, p->n_universes);
		return 0;
	}
	char q[40];
	quotable(q, sizeof(q), p->mode);
	return sv_err_set(err, "invalid_value", "mode",
	                  "unknown mode '%s' (choose one of: single, crossover, fusion, hopping)",
	                  q);
}

/* The mode left open becomes crossover when someone visits; a crossover
 * needs a visitor, so its default sidekick comes from another universe. */
static int settle_cast(const struct sv_catalog *c, struct sv_story_params *p, struct sv_err *err)
{
	if (!p->mode[0])
		snprintf(p->mode, sizeof(p->mode), "%s",
		         any_visitor(c, p) ? "crossover" : "single");
	if (!p->sidekick[0]) {
		const struct sv_character *side = default_sidekick(c, p);
		set_id(p->sidekick, side ? side->id : "");
	}
	if (strcmp(p->mode, "crossover") == 0 && !any_visitor(c, p))
		return sv_err_set(err, "invalid_value", "mode",
		                  "a crossover needs a visitor: choose a hero, sidekick, rival or "
		                  "mentor from a universe other than '%s'",
		                  p->universe);
	return 0;
}

/* A hopping journey spends at least one obstacle in each universe. */
static int check_hops(const struct sv_catalog *c, const struct sv_story_params *p,
                      struct sv_err *err)
{
	const struct sv_length *len = sv_story_find_length(c, p->length);
	int obstacles = 0;
	for (int a = 0; len && a < len->acts; a++)
		obstacles += len->obstacles[a];
	if (strcmp(p->mode, "hopping") != 0 || !len || p->n_universes <= obstacles)
		return 0;
	return sv_err_set(err, "invalid_value", "universes",
	                  "hopping through %d universes needs a longer story than '%s' (it has "
	                  "room for %d): choose another length",
	                  p->n_universes, p->length, obstacles);
}

static int check_cast(const struct sv_catalog *c, struct sv_story_params *p, struct sv_err *err)
{
	if (check_universes(c, p, err) < 0 || check_mode(p, err) < 0 ||
	    check_characters(c, p, err) < 0)
		return -1;
	return settle_cast(c, p, err);
}

/* ---- pronouns and the custom character ---- */

static const char *const child_pronouns[] = {"she", "he", "they"};

static int check_pronouns(struct sv_story_params *p, struct sv_err *err)
{
	if (!p->pronouns[0]) {
		snprintf(p->pronouns, sizeof(p->pronouns), "they");
		return 0;
	}
	for (size_t i = 0; i < COUNT(child_pronouns); i++) {
		if (strcmp(p->pronouns, child_pronouns[i]) == 0)
			return 0;
	}
	char q[40];
	quotable(q, sizeof(q), p->pronouns);
	return sv_err_set(err, "invalid_value", "pronouns",
	                  "unknown pronouns '%s' (choose one of: she, he, they)", q);
}

/* A word of letters only, lowercased in place; 1 to cap - 1 bytes. */
static int letters_word(char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	if (n == 0 || n == cap)
		return 0;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z')))
			return 0;
		s[i] = (char)(ch | 0x20);
	}
	return 1;
}

/* "dragon" or "baby dragon": one or two words of letters, lowercased in place. */
static int check_species(char *s, size_t cap)
{
	size_t n = strnlen(s, cap);
	char *space = memchr(s, ' ', n);
	if (n == cap || (space && memchr(space + 1, ' ', n - (size_t)(space - s) - 1)))
		return 0;
	if (!space)
		return letters_word(s, cap);
	*space = '\0';
	int ok = letters_word(s, cap) && letters_word(space + 1, cap - (size_t)(space + 1 - s));
	*space = ' ';
	return ok;
}

static int same_name(const char *a, const char *b)
{
	return strcasecmp(a, b) == 0;
}

/* The custom character's name may be no one else's: not the child's, not a cast member's. */
static int check_custom_name(const struct sv_catalog *c, struct sv_story_params *p,
                             struct sv_err *err)
{
	struct sv_story_custom *cu = &p->custom;
	if (check_name(cu->name, sizeof(cu->name), "custom.name", err) < 0)
		return -1;
	if (same_name(cu->name, p->child_name))
		return sv_err_set(err, "invalid_value", "custom.name",
		                  "custom.name '%s' is the child's name too; choose another",
		                  cu->name);
	for (size_t i = 0; i < COUNT(cast_fields); i++) {
		const struct sv_character *ch = sv_story_find_character(c, cast_id(p, i));
		if (ch && same_name(cu->name, ch->name))
			return sv_err_set(
			    err, "invalid_value", "custom.name",
			    "custom.name '%s' is already the %s's name; choose another", cu->name,
			    cast_fields[i].field);
	}
	return 0;
}

static int check_custom(const struct sv_catalog *c, struct sv_story_params *p, struct sv_err *err)
{
	struct sv_story_custom *cu = &p->custom;
	if (!cu->name[0] && !cu->species[0] && cu->n_traits == 0)
		return 0; /* no custom character */
	if (check_custom_name(c, p, err) < 0)
		return -1;
	if (!check_species(cu->species, sizeof(cu->species)))
		return sv_err_set(err, "invalid_value", "custom.species",
		                  "custom.species must be one or two words of letters, at most "
		                  "%zu bytes (like \"dragon\" or \"sea otter\")",
		                  sizeof(cu->species) - 1);
	if (cu->n_traits < 1 || cu->n_traits > SV_STORY_TRAITS_MAX)
		return sv_err_set(err, "invalid_value", "custom.traits",
		                  "custom.traits must hold 1 to %d traits", SV_STORY_TRAITS_MAX);
	for (int i = 0; i < cu->n_traits; i++) {
		if (!letters_word(cu->traits[i], sizeof(cu->traits[i])))
			return sv_err_set(err, "invalid_value", "custom.traits",
			                  "each of custom.traits must be one word of letters, at "
			                  "most %d bytes (like \"shy\" or \"curious\")",
			                  SV_STORY_WORD_MAX - 1);
		for (int j = 0; j < i; j++) {
			if (strcmp(cu->traits[i], cu->traits[j]) == 0)
				return sv_err_set(err, "invalid_value", "custom.traits",
				                  "custom.traits names '%s' twice", cu->traits[i]);
		}
	}
	if (!cu->pronoun[0])
		snprintf(cu->pronoun, sizeof(cu->pronoun), "they");
	else if (!sv_story_pronoun(cu->pronoun))
		return sv_err_set(err, "invalid_value", "custom.pronoun",
		                  "custom.pronoun must be one of: she, he, it, they");
	return 0;
}

int sv_story_params_validate(const struct sv_catalog *c, struct sv_story_params *p,
                             struct sv_err *err)
{
	if (p->seed > SV_STORY_SEED_MAX)
		return sv_err_set(err, "invalid_value", "seed",
		                  "seed must be a whole number from 0 to %llu",
		                  (unsigned long long)SV_STORY_SEED_MAX);
	if (check_cast(c, p, err) < 0 || check_choices(c, p, err) < 0 || check_hops(c, p, err) < 0)
		return -1;
	if (!p->child_name[0])
		snprintf(p->child_name, sizeof(p->child_name), "Sam");
	else if (check_name(p->child_name, sizeof(p->child_name), "child_name", err) < 0)
		return -1;
	if (check_pronouns(p, err) < 0)
		return -1;
	return check_custom(c, p, err);
}

/* ---- the custom character: from a request object or a command-line string ---- */

/* Copies a value of at most cap - 1 bytes into dst, or fails naming field. */
static int copy_value(char *dst, size_t cap, const char *v, size_t len, const char *field,
                      struct sv_err *err)
{
	if (len == 0 || len >= cap || strnlen(v, len) != len)
		return sv_err_set(err, "invalid_value", field, "%s must be 1 to %zu bytes long",
		                  field, cap - 1);
	memcpy(dst, v, len);
	dst[len] = '\0';
	return 0;
}

static int add_trait(struct sv_story_custom *cu, const char *v, size_t len, struct sv_err *err)
{
	if (cu->n_traits == SV_STORY_TRAITS_MAX)
		return sv_err_set(err, "invalid_value", "custom.traits",
		                  "custom.traits must hold 1 to %d traits", SV_STORY_TRAITS_MAX);
	return copy_value(cu->traits[cu->n_traits++], SV_STORY_WORD_MAX, v, len, "custom.traits",
	                  err);
}

enum custom_key { CK_NAME, CK_SPECIES, CK_TRAITS, CK_PRONOUN, CK_N };
static const char *const custom_keys[CK_N] = {"name", "species", "traits", "pronoun"};

static int custom_key(const char *k, size_t len)
{
	for (int i = 0; i < CK_N; i++) {
		if (strlen(custom_keys[i]) == len && strncmp(custom_keys[i], k, len) == 0)
			return i;
	}
	return -1;
}

/* Stores one value of the custom character; traits come separated by ';' in a string. */
static int custom_set(struct sv_story_custom *cu, int key, const char *v, size_t len,
                      struct sv_err *err)
{
	switch (key) {
	case CK_NAME:
		return normalise_name(v, len, cu->name, "custom.name", err);
	case CK_SPECIES:
		return copy_value(cu->species, sizeof(cu->species), v, len, "custom.species", err);
	case CK_PRONOUN:
		return copy_value(cu->pronoun, sizeof(cu->pronoun), v, len, "custom.pronoun", err);
	default:
		for (const char *t = v, *end = v + len; t <= end;) {
			const char *semi = memchr(t, ';', (size_t)(end - t));
			size_t n = semi ? (size_t)(semi - t) : (size_t)(end - t);
			if (add_trait(cu, t, n, err) < 0)
				return -1;
			t += n + 1;
		}
		return 0;
	}
}

static int custom_syntax(struct sv_err *err)
{
	return sv_err_set(err, "invalid_value", "custom",
	                  "custom must look like 'name=Zog,species=baby dragon,traits=shy;kind' "
	                  "(pronoun=she|he|it|they may follow)");
}

/* Name, species and traits must all be given (seen[k]: member k was). */
static int custom_missing(const int seen[CK_N], struct sv_err *err)
{
	for (int k = 0; k < CK_PRONOUN; k++) {
		char field[32];
		snprintf(field, sizeof(field), "custom.%s", custom_keys[k]);
		if (!seen[k])
			return sv_err_set(err, "missing_field", field,
			                  "%s is required for a custom character", field);
	}
	return 0;
}

int sv_story_custom_parse(const char *spec, struct sv_story_custom *out, struct sv_err *err)
{
	memset(out, 0, sizeof(*out));
	int seen[CK_N] = {0};
	const char *s = spec, *end = spec + strlen(spec);
	while (s < end) {
		const char *comma = memchr(s, ',', (size_t)(end - s));
		const char *stop = comma ? comma : end;
		const char *eq = memchr(s, '=', (size_t)(stop - s));
		int key = eq ? custom_key(s, (size_t)(eq - s)) : -1;
		if (key < 0)
			return custom_syntax(err);
		if (seen[key]++)
			return sv_err_set(err, "invalid_value", "custom", "custom gives %s twice",
			                  custom_keys[key]);
		if (custom_set(out, key, eq + 1, (size_t)(stop - eq - 1), err) < 0)
			return -1;
		s = comma ? comma + 1 : end;
	}
	return custom_missing(seen, err);
}

static int read_custom_member(struct sv_story_custom *cu, int key, const json_t *v,
                              struct sv_err *err)
{
	char field[32];
	snprintf(field, sizeof(field), "custom.%s", custom_keys[key]);
	if (key != CK_TRAITS) {
		if (!json_is_string(v))
			return sv_err_set(err, "invalid_type", field, "%s must be a string", field);
		return custom_set(cu, key, json_string_value(v), json_string_length(v), err);
	}
	if (!json_is_array(v))
		return sv_err_set(err, "invalid_type", field,
		                  "%s must be an array of 1 to %d words", field,
		                  SV_STORY_TRAITS_MAX);
	size_t i;
	const json_t *t;
	json_array_foreach(v, i, t)
	{
		if (!json_is_string(t))
			return sv_err_set(err, "invalid_type", field, "%s must hold strings",
			                  field);
		if (add_trait(cu, json_string_value(t), json_string_length(t), err) < 0)
			return -1;
	}
	return 0;
}

static int read_custom(const json_t *v, struct sv_story_custom *cu, struct sv_err *err)
{
	if (!json_is_object(v))
		return sv_err_set(
		    err, "invalid_type", "custom",
		    "custom must be an object {\"name\",\"species\",\"traits\":[...]}");
	memset(cu, 0, sizeof(*cu));
	int seen[CK_N] = {0};
	const char *key;
	const json_t *m;
	json_object_foreach((json_t *)v, key, m)
	{
		int k = custom_key(key, strlen(key));
		if (k < 0) {
			char q[40];
			quotable(q, sizeof(q), key);
			return sv_err_set(
			    err, "unknown_field", "custom",
			    "unknown field 'custom.%s' (allowed: name, species, traits, "
			    "pronoun)",
			    q);
		}
		seen[k] = !json_is_null(m);
		if (seen[k] && read_custom_member(cu, k, m, err) < 0)
			return -1;
	}
	return custom_missing(seen, err);
}

static json_t *custom_json(const struct sv_story_custom *cu)
{
	json_t *traits = json_array();
	for (int i = 0; traits && i < cu->n_traits; i++)
		json_array_append_new(traits, json_string(cu->traits[i]));
	return json_pack("{s:s,s:s,s:o*,s:s}", "name", cu->name, "species", cu->species, "traits",
	                 traits, "pronoun", cu->pronoun);
}

/* ---- JSON ---- */

enum field_kind { F_ID, F_NAME, F_SEED, F_WORD, F_CUSTOM, F_UNIVERSES };

static const struct field {
	const char *name;
	size_t offset, size;
	enum field_kind kind;
	enum list_kind list;
} fields[] = {
#define FIELD(name, kind, list)                                                                    \
	{                                                                                          \
#name, offsetof(struct sv_story_params, name),                                     \
		    sizeof(((struct sv_story_params *)0)->name), kind, list                        \
	}
    FIELD(universe, F_ID, LIST_UNIVERSES),
    FIELD(hero, F_ID, LIST_CHARACTERS),
    FIELD(sidekick, F_ID, LIST_CHARACTERS),
    FIELD(theme, F_ID, LIST_THEMES),
    FIELD(moral, F_ID, LIST_MORALS),
    FIELD(age, F_ID, LIST_AGES),
    FIELD(length, F_ID, LIST_LENGTHS),
    FIELD(style, F_ID, LIST_STYLES),
    FIELD(child_name, F_NAME, 0),
    FIELD(seed, F_SEED, 0),
    FIELD(rival, F_ID, LIST_CHARACTERS),
    FIELD(mentor, F_ID, LIST_CHARACTERS),
    FIELD(custom, F_CUSTOM, 0),
    FIELD(pronouns, F_WORD, 0),
    FIELD(mode, F_WORD, 0),
    FIELD(universes, F_UNIVERSES, LIST_UNIVERSES),
    FIELD(culture, F_ID, LIST_CULTURES),
    FIELD(continue_from, F_WORD, 0),
#undef FIELD
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

/* "universes": an array of 1 to 3 universe ids. */
static int read_universes(const struct sv_catalog *c, const json_t *v, struct sv_story_params *p,
                          struct sv_err *err)
{
	size_t n = json_array_size(v);
	if (!json_is_array(v))
		return sv_err_set(err, "invalid_type", "universes",
		                  "universes must be an array of universe ids");
	if (n < 1 || n > SV_STORY_UNIVERSES_MAX)
		return sv_err_set(err, "invalid_value", "universes",
		                  "universes must list 1 to %d universes (got %zu)",
		                  SV_STORY_UNIVERSES_MAX, n);
	for (size_t i = 0; i < n; i++) {
		const json_t *u = json_array_get(v, i);
		if (!json_is_string(u))
			return sv_err_set(err, "invalid_type", "universes",
			                  "universes must hold strings (universe ids)");
		const char *s = json_string_value(u);
		size_t len = json_string_length(u);
		if (len >= SV_STORY_ID_MAX || strlen(s) != len)
			return unknown_id(c, LIST_UNIVERSES, "universes", s, err);
		memcpy(p->universes[i], s, len + 1);
	}
	p->n_universes = (int)n;
	return 0;
}

static int read_field(const struct sv_catalog *c, const struct field *f, const json_t *v,
                      struct sv_story_params *p, int *seed_given, struct sv_err *err)
{
	if (json_is_null(v))
		return 0; /* the same as leaving it out */
	if (f->kind == F_SEED)
		return read_seed(v, p, seed_given, err);
	if (f->kind == F_CUSTOM)
		return read_custom(v, &p->custom, err);
	if (f->kind == F_UNIVERSES)
		return read_universes(c, v, p, err);
	if (!json_is_string(v))
		return sv_err_set(err, "invalid_type", f->name, "%s must be a string", f->name);
	char *dst = (char *)p + f->offset;
	const char *s = json_string_value(v);
	size_t len = json_string_length(v);
	if (f->kind == F_NAME)
		return normalise_name(s, len, dst, f->name, err);
	if (len >= f->size || strlen(s) != len) {
		if (f->kind == F_ID)
			return unknown_id(c, f->list, f->name, s, err);
		char q[40];
		quotable(q, sizeof(q), s);
		return sv_err_set(err, "invalid_value", f->name, "%s '%s' is not a valid choice",
		                  f->name, q);
	}
	memcpy(dst, s, len + 1);
	return 0;
}

static int unknown_field(const char *key, struct sv_err *err)
{
	char q[40], names[300];
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

/* Reads every member of a request object into p (already initialised), without validating. */
static int read_members(const struct sv_catalog *c, const json_t *obj, struct sv_story_params *p,
                        int *given, struct sv_err *err)
{
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
		if (read_field(c, f, v, p, given, err) < 0)
			return -1;
	}
	return 0;
}

int sv_story_params_from_request(const struct sv_catalog *c, const json_t *obj, const json_t *prev,
                                 struct sv_story_params *p, int *seed_given, struct sv_err *err)
{
	/* A seed the caller put in p beforehand stays when the request has none. */
	uint64_t seed = p->seed & SV_STORY_SEED_MAX;
	int given = 0;
	sv_story_params_init(p);
	p->seed = seed;
	if (seed_given)
		*seed_given = 0;
	if (read_members(c, obj, p, &given, err) < 0)
		return -1;
	if (seed_given)
		*seed_given = given;
	if (p->universe[0] && p->n_universes && strcmp(p->universe, p->universes[0]) != 0)
		return first_universe(p, err);
	if (p->continue_from[0] && !prev) {
		char q[40];
		quotable(q, sizeof(q), p->continue_from);
		return sv_err_set(err, "unknown_id", "continue_from",
		                  "there is no story '%s' to continue", q);
	}
	if (prev && sv_story_params_continue(c, prev, p, err) < 0)
		return -1;
	return sv_story_params_validate(c, p, err);
}

int sv_story_params_from_json(const struct sv_catalog *c, const json_t *obj,
                              struct sv_story_params *p, int *seed_given, struct sv_err *err)
{
	return sv_story_params_from_request(c, obj, NULL, p, seed_given, err);
}

/* ---- series: continuing a story ---- */

static int damaged(const char *what, struct sv_err *err)
{
	return sv_err_set(err, "invalid_value", "continue_from",
	                  "the story to continue is not a finished StoryVerse story (its %s is "
	                  "missing or unreadable)",
	                  what);
}

/* Plain text of 1 to cap - 1 bytes: no control characters and no braces. */
static int copy_text(char *dst, size_t cap, const char *s)
{
	if (!s || !s[0] || strlen(s) >= cap)
		return -1;
	for (const unsigned char *q = (const unsigned char *)s; *q; q++) {
		if (*q < 0x20 || *q == 0x7f || *q == '{' || *q == '}')
			return -1;
	}
	memcpy(dst, s, strlen(s) + 1);
	return 0;
}

/* The member key of the last entry of list (in prev) whose `match` member is value. */
static const char *entry_member(const json_t *prev, const char *list, const char *match,
                                const char *value, const char *key)
{
	const char *found = NULL;
	size_t i;
	const json_t *e;
	json_array_foreach(json_object_get(prev, list), i, e)
	{
		const char *m = json_string_value(json_object_get(e, match));
		if (m && strcmp(m, value) == 0)
			found = json_string_value(json_object_get(e, key));
	}
	return found;
}

static int read_thread(const json_t *prev, struct sv_story_previous *pv, struct sv_err *err)
{
	const json_t *thread = json_object_get(prev, "thread");
	if (!thread)
		return 0; /* an older story: nothing left open to pick up */
	const char *kind = json_string_value(json_object_get(thread, "kind"));
	const char *place = json_string_value(json_object_get(thread, "place"));
	if (copy_text(pv->thread_kind, sizeof(pv->thread_kind), kind) < 0 ||
	    copy_text(pv->thread, sizeof(pv->thread),
	              json_string_value(json_object_get(thread, "what"))) < 0 ||
	    (place && copy_text(pv->thread_place, sizeof(pv->thread_place), place) < 0))
		return damaged("thread", err);
	return 0;
}

static int read_previous(const json_t *prev, const struct sv_story_params *pp,
                         struct sv_story_previous *pv, struct sv_err *err)
{
	const json_t *ep = json_object_get(prev, "episode");
	json_int_t episode = ep ? json_integer_value(ep) : 1;
	if ((ep && !json_is_integer(ep)) || episode < 1 || episode > 9999)
		return damaged("episode number", err);
	pv->episode = (int)episode;
	if (copy_text(pv->title, sizeof(pv->title),
	              json_string_value(json_object_get(prev, "title"))))
		return damaged("title", err);
	if (copy_text(pv->far, sizeof(pv->far),
	              entry_member(prev, "plan", "beat", "resolution", "place_name")))
		return damaged("plan", err);
	if (copy_text(pv->friend, sizeof(pv->friend),
	              entry_member(prev, "cast", "role", "friend", "name")))
		return damaged("cast", err);
	memcpy(pv->theme, pp->theme, sizeof(pv->theme));
	return read_thread(prev, pv, err);
}

/* A member of the next episode: taken from the last one when not given; when
 * given, the same as before (or something the last one did not have at all). */
static int keep(char *dst, size_t cap, const char *before, const char *field, struct sv_err *err)
{
	if (!dst[0]) {
		snprintf(dst, cap, "%s", before);
		return 0;
	}
	if (!before[0] || strcmp(dst, before) == 0)
		return 0;
	char q[40];
	quotable(q, sizeof(q), before);
	return sv_err_set(err, "invalid_value", field,
	                  "%s must stay '%s' in the next episode (a series keeps its world and "
	                  "its cast)",
	                  field, q);
}

static int keep_universes(struct sv_story_params *p, const struct sv_story_params *pp,
                          struct sv_err *err)
{
	if (p->n_universes == 0 && !p->universe[0]) {
		memcpy(p->universes, pp->universes, sizeof(p->universes));
		p->n_universes = pp->n_universes;
		return 0;
	}
	int n = p->n_universes ? p->n_universes : 1;
	const char *first = p->n_universes ? p->universes[0] : p->universe;
	int same = n == pp->n_universes && strcmp(first, pp->universes[0]) == 0;
	for (int i = 1; same && i < n; i++)
		same = strcmp(p->universes[i], pp->universes[i]) == 0;
	if (same)
		return 0;
	return sv_err_set(err, "invalid_value", p->n_universes ? "universes" : "universe",
	                  "the universes must stay as they were ('%s'%s) in the next episode",
	                  pp->universes[0], pp->n_universes > 1 ? " and the others" : "");
}

static int keep_cast(struct sv_story_params *p, const struct sv_story_params *pp,
                     struct sv_err *err)
{
	static const struct {
		const char *field;
		size_t offset, size;
	} kept[] = {
#define K(m) {#m, offsetof(struct sv_story_params, m), sizeof(((struct sv_story_params *)0)->m)}
	    K(mode),     K(hero),    K(sidekick), K(rival),  K(mentor),
	    K(pronouns), K(culture), K(age),      K(length), K(style),
#undef K
	};
	for (size_t i = 0; i < COUNT(kept); i++) {
		char *dst = (char *)p + kept[i].offset;
		const char *before = (const char *)pp + kept[i].offset;
		int free_choice = strcmp(kept[i].field, "age") == 0 ||
		                  strcmp(kept[i].field, "length") == 0 ||
		                  strcmp(kept[i].field, "style") == 0;
		if (free_choice && dst[0])
			continue; /* an older child, a longer story: both are fine */
		if (keep(dst, kept[i].size, before, kept[i].field, err) < 0)
			return -1;
	}
	if (p->child_name[0] && check_name(p->child_name, sizeof(p->child_name), "child_name", err))
		return -1;
	if (keep(p->child_name, sizeof(p->child_name), pp->child_name, "child_name", err) < 0)
		return -1;
	if (!p->custom.name[0])
		p->custom = pp->custom;
	else if (pp->custom.name[0] && !same_name(p->custom.name, pp->custom.name))
		return sv_err_set(err, "invalid_value", "custom.name",
		                  "custom.name must stay '%s' in the next episode",
		                  pp->custom.name);
	return 0;
}

int sv_story_params_continue(const struct sv_catalog *c, const json_t *prev,
                             struct sv_story_params *p, struct sv_err *err)
{
	struct sv_story_params pp;
	struct sv_err perr;
	int given = 0;
	sv_story_params_init(&pp);
	const json_t *params = json_object_get(prev, "parameters");
	if (!json_is_object(prev) || !json_is_object(params))
		return damaged("parameters", err);
	if (read_members(c, params, &pp, &given, &perr) < 0 ||
	    sv_story_params_validate(c, &pp, &perr) < 0)
		return sv_err_set(err, "invalid_value", "continue_from",
		                  "the story to continue no longer fits the catalog: %s",
		                  perr.message);
	if (read_previous(prev, &pp, &p->previous, err) < 0 || keep_universes(p, &pp, err) < 0)
		return -1;
	return keep_cast(p, &pp, err);
}

/* Optional members are left out when empty, so a request without them reads the same. */
static int set_optional(json_t *o, const char *key, const char *value)
{
	return value[0] ? json_object_set_new(o, key, json_string(value)) : 0;
}

static json_t *universes_json(const struct sv_story_params *p)
{
	json_t *arr = json_array();
	for (int i = 0; arr && i < p->n_universes; i++) {
		if (json_array_append_new(arr, json_string(p->universes[i])) < 0)
			return json_decref(arr), NULL;
	}
	return arr;
}

json_t *sv_story_params_to_json(const struct sv_story_params *p)
{
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:s,s:I,s:s,s:s,s:o*}", "universe",
	                      p->universe, "hero", p->hero, "sidekick", p->sidekick, "theme",
	                      p->theme, "moral", p->moral, "age", p->age, "length", p->length,
	                      "child_name", p->child_name, "seed", (json_int_t)p->seed, "pronouns",
	                      p->pronouns, "mode", p->mode, "universes", universes_json(p));
	if (!o || json_object_size(o) != 12)
		return json_decref(o), NULL;
	int bad = set_optional(o, "rival", p->rival) || set_optional(o, "mentor", p->mentor) ||
	          set_optional(o, "culture", p->culture) ||
	          set_optional(o, "continue_from", p->continue_from) ||
	          set_optional(o, "style", p->style);
	if (!bad && p->custom.name[0])
		bad = json_object_set_new(o, "custom", custom_json(&p->custom)) < 0;
	if (bad) {
		json_decref(o);
		return NULL;
	}
	return o;
}
