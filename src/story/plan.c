/*
 * The plot planner: turns validated parameters into a plan, before a single
 * sentence is written.
 *
 * A plan is the cast (hero, sidekick, the child, a guide from the universe and
 * a small friend in need) and a list of beats: opening, call, setting out,
 * obstacles that grow from small to big (with journeys between them and an
 * encounter on the road in longer stories, and nights of rest between the acts
 * of an epic), a low point, the
 * choice where the moral is shown, the resolution and a closing image. Each
 * beat has a place, the cast present, a mood, a time of day, objects and a
 * share of the story's words. Themes choose the obstacles; morals the choice.
 * All choices come from an sv_rng seeded from the parameters.
 *
 * A friendly rival, a mentor and a custom character join the cast when asked
 * for, each on stage in the beats their part needs. Which universe each beat
 * happens in (fusion, hopping) is worlds.c's business. Every story ends with a
 * thread left open for a next episode, and a next episode keeps the promise
 * the last one made.
 */
#include "story/internal.h"

#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sv_story_beat_names[BEAT_N] = {
    "opening", "call",      "setout", "journey",    "obstacle", "encounter",
    "rest",    "low_point", "choice", "resolution", "closing",
};

const char *const sv_story_role_names[ROLE_N] = {"hero",   "sidekick", "child",  "guide",
                                                 "friend", "rival",    "mentor", "custom"};

#define BIT(r) (1u << (r))
#define TRIO   (BIT(ROLE_HERO) | BIT(ROLE_SIDEKICK) | BIT(ROLE_CHILD))

/* Who is on stage in each kind of beat before the theme adds anyone. */
static const unsigned base_cast[BEAT_N] = {
    [BEAT_OPENING] = TRIO,    [BEAT_CALL] = TRIO,      [BEAT_SETOUT] = TRIO | BIT(ROLE_GUIDE),
    [BEAT_JOURNEY] = TRIO,    [BEAT_OBSTACLE] = TRIO,  [BEAT_ENCOUNTER] = TRIO,
    [BEAT_REST] = TRIO,       [BEAT_LOW_POINT] = TRIO, [BEAT_CHOICE] = TRIO,
    [BEAT_RESOLUTION] = TRIO, [BEAT_CLOSING] = TRIO,
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- small helpers shared with the realiser ---- */

static uint64_t mix64(uint64_t z)
{
	z = (z ^ (z >> 30)) * UINT64_C(0xbf58476d1ce4e5b9);
	z = (z ^ (z >> 27)) * UINT64_C(0x94d049bb133111eb);
	return z ^ (z >> 31);
}

uint64_t sv_story_subseed(uint64_t seed, const char *label, uint64_t n)
{
	unsigned char le[8]; /* little-endian, so every machine derives the same seeds */
	for (int i = 0; i < 8; i++)
		le[i] = (unsigned char)(n >> (8 * i));
	uint64_t h = sv_hash64(label, strlen(label), mix64(seed));
	return mix64(sv_hash64(le, sizeof(le), h));
}

const char *sv_story_str_at(const json_t *arr, size_t i)
{
	const char *s = json_string_value(json_array_get(arr, i));
	return s ? s : "";
}

static const char *pick_str(struct sv_rng *r, const json_t *arr)
{
	size_t n = json_array_size(arr);
	return n ? sv_story_str_at(arr, sv_rng_below(r, (uint32_t)n)) : "";
}

json_t *sv_story_cast_roles_json(unsigned cast)
{
	json_t *arr = json_array();
	for (int r = 0; arr && r < ROLE_N; r++) {
		if ((cast & BIT(r)) &&
		    json_array_append_new(arr, json_string(sv_story_role_names[r])))
			return json_decref(arr), NULL;
	}
	return arr;
}

/* ---- the cast ---- */

static void actor_from_character(const struct sv_plan *pl, struct sv_actor *a,
                                 const struct sv_character *ch)
{
	a->ch = ch;
	a->name = ch->name;
	a->species = ch->species;
	a->looks = ch->looks;
	a->pronoun = ch->pronoun;
	a->home = ch->home;
	a->traits = json_object_get(ch->obj, "traits");
	a->speech = json_object_get(ch->obj, "speech");
	a->voice = json_object_get(ch->obj, "voice");
	a->visitor = !sv_story_worlds_native(pl, ch->home);
}

static void cast_child(struct sv_plan *pl)
{
	const json_t *child = json_object_get(pl->c->beats, "child");
	struct sv_actor *a = &pl->actors[ROLE_CHILD];
	a->name = pl->p->child_name;
	a->species = json_string_value(json_object_get(child, "species"));
	a->looks = json_string_value(json_object_get(child, "looks"));
	a->pronoun = sv_story_pronoun(pl->p->pronouns[0] ? pl->p->pronouns : "they");
	a->traits = json_object_get(child, "traits");
	a->speech = json_object_get(child, "speech");
	a->voice = json_object_get(child, "voice");
	a->visitor = 1;
}

static int cast_already(const struct sv_plan *pl, const struct sv_character *ch)
{
	for (int r = 0; r < ROLE_N; r++) {
		if (pl->actors[r].ch == ch)
			return 1;
	}
	return 0;
}

/* Whether a name is already someone's in the story (the friend needs their own). */
static int name_taken(const struct sv_plan *pl, const char *name)
{
	for (int r = 0; r < ROLE_N; r++) {
		if (r != ROLE_FRIEND && pl->actors[r].name && strcmp(pl->actors[r].name, name) == 0)
			return 1;
	}
	return 0;
}

/* The guide is a native of the universe who has no other part in the story. */
static const struct sv_character *choose_guide(const struct sv_plan *pl, struct sv_rng *r)
{
	const struct sv_catalog *c = pl->c;
	const struct sv_character *pool[256];
	size_t n = 0;
	for (int native = 1; native >= 0 && n == 0; native--) {
		for (size_t i = 0; i < c->n_characters && n < COUNT(pool); i++) {
			const struct sv_character *ch = &c->characters[i];
			if ((!native || sv_story_worlds_native(pl, ch->home)) &&
			    !cast_already(pl, ch))
				pool[n++] = ch;
		}
	}
	return n ? pool[sv_rng_below(r, (uint32_t)n)] : NULL;
}

static void cast_friend(struct sv_plan *pl, struct sv_rng *r)
{
	const json_t *names = json_object_get(pl->c->beats, "names");
	const json_t *creatures = json_object_get(pl->u->obj, "creatures");
	const json_t *friend = json_object_get(pl->c->beats, "friend");
	struct sv_actor *a = &pl->actors[ROLE_FRIEND];
	size_t n = json_array_size(names), i = sv_rng_below(r, (uint32_t)n);
	for (size_t k = 0; k < n; k++, i = (i + 1) % n) {
		a->name = sv_story_str_at(names, i);
		if (!name_taken(pl, a->name))
			break;
	}
	size_t nc = json_array_size(creatures), k = sv_rng_below(r, (uint32_t)nc);
	a->species = json_string_value(json_object_get(json_array_get(creatures, k), "one"));
	if (nc > 1 && strcmp(a->species, pl->critter) == 0) /* the moral's creature is another */
		a->species = json_string_value(
		    json_object_get(json_array_get(creatures, (k + 1) % nc), "one"));
	snprintf(pl->friend_looks, sizeof(pl->friend_looks), "a little %s", a->species);
	a->looks = pl->friend_looks;
	a->pronoun = sv_story_pronoun(sv_rng_below(r, 2) ? "she" : "he");
	a->speech = json_object_get(friend, "speech");
	a->voice = json_object_get(friend, "voice");
	a->visitor = 0;
}

/* "shy, kind and curious" from the custom character's traits. */
static void join_traits(char *out, size_t cap, const struct sv_story_custom *cu)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = 0; i < cu->n_traits && n < cap; i++) {
		const char *sep = i == 0 ? "" : i == cu->n_traits - 1 ? " and " : ", ";
		int w = snprintf(out + n, cap - n, "%s%s", sep, cu->traits[i]);
		n += w > 0 ? (size_t)w : 0;
	}
}

/* The custom character's sheet, made from what the user gave and beats.json's
 * "custom" entry: a trait may bring its own speech verbs ("shy": whispered). */
static json_t *custom_sheet(const struct sv_plan *pl, const struct sv_pronoun *pn)
{
	const struct sv_story_custom *cu = &pl->p->custom;
	const json_t *data = json_object_get(pl->c->beats, "custom");
	const json_t *trait_verbs = json_object_get(data, "trait_verbs");
	json_t *traits = json_array(), *verbs = json_array();
	char joined[160], style[256];
	for (int i = 0; i < cu->n_traits; i++) {
		json_array_append_new(traits, json_string(cu->traits[i]));
		json_array_extend(verbs, json_object_get(trait_verbs, cu->traits[i]));
	}
	json_array_extend(verbs, json_object_get(json_object_get(data, "speech"), "verbs"));
	join_traits(joined, sizeof(joined), cu);
	snprintf(style, sizeof(style), "%s, in a way all %s own", joined, pn->their);
	return json_pack("{s:o,s:{s:s,s:o},s:O}", "traits", traits, "speech", "style", style,
	                 "verbs", verbs, "voice", json_object_get(data, "voice"));
}

static int cast_custom(struct sv_plan *pl, struct sv_err *err)
{
	const struct sv_story_custom *cu = &pl->p->custom;
	struct sv_actor *a = &pl->actors[ROLE_CUSTOM];
	a->pronoun = sv_story_pronoun(cu->pronoun[0] ? cu->pronoun : "they");
	json_t *sheet = custom_sheet(pl, a->pronoun);
	if (!sheet || json_object_set_new(pl->own, "custom", sheet) < 0)
		return sv_err_set(err, "nomem", "", "out of memory casting the story");
	a->name = cu->name;
	a->species = cu->species;
	snprintf(pl->custom_looks, sizeof(pl->custom_looks), "%s %s like no other",
	         sv_story_article(cu->species), cu->species);
	a->looks = pl->custom_looks;
	a->traits = json_object_get(sheet, "traits");
	a->speech = json_object_get(sheet, "speech");
	a->voice = json_object_get(sheet, "voice");
	a->visitor = 0; /* a friend of this world, whatever it is */
	return 0;
}

/* The optional roles: a friendly rival, a mentor and a custom character. */
static int cast_extras(struct sv_plan *pl, struct sv_err *err)
{
	static const struct {
		int role;
		size_t offset;
	} extras[] = {
	    {ROLE_RIVAL, offsetof(struct sv_story_params, rival)},
	    {ROLE_MENTOR, offsetof(struct sv_story_params, mentor)},
	};
	for (size_t i = 0; i < COUNT(extras); i++) {
		const char *id = (const char *)pl->p + extras[i].offset;
		const struct sv_character *ch = id[0] ? sv_story_find_character(pl->c, id) : NULL;
		if (ch)
			actor_from_character(pl, &pl->actors[extras[i].role], ch);
	}
	return pl->p->custom.name[0] ? cast_custom(pl, err) : 0;
}

static int cast_story(struct sv_plan *pl, struct sv_rng *r, struct sv_err *err)
{
	const struct sv_character *hero = sv_story_find_character(pl->c, pl->p->hero);
	const struct sv_character *side = sv_story_find_character(pl->c, pl->p->sidekick);
	if (!hero || !side)
		return sv_err_set(err, "invalid_value", "hero", "the hero and sidekick must exist");
	actor_from_character(pl, &pl->actors[ROLE_HERO], hero);
	actor_from_character(pl, &pl->actors[ROLE_SIDEKICK], side);
	cast_child(pl);
	if (cast_extras(pl, err) < 0)
		return -1;
	const struct sv_character *guide = choose_guide(pl, r);
	if (!guide)
		return sv_err_set(err, "invalid_data", "", "no character is left to be the guide");
	actor_from_character(pl, &pl->actors[ROLE_GUIDE], guide);
	cast_friend(pl, r);
	pl->chooser = sv_rng_below(r, 2) ? ROLE_HERO : ROLE_CHILD;
	return 0;
}

/* ---- the beat list ---- */

static struct sv_beat *add_beat(struct sv_plan *pl, enum sv_beat_kind kind, int act)
{
	struct sv_beat *b = &pl->beats[pl->n_beats++];
	memset(b, 0, sizeof(*b));
	b->kind = kind;
	b->act = act;
	b->thinker = ROLE_NONE;
	return b;
}

static int max_beats(const struct sv_length *len)
{
	int n = 8;
	for (int a = 0; a < len->acts; a++)
		n += 2 * len->obstacles[a] + 3;
	return n;
}

static void lay_out_beats(struct sv_plan *pl)
{
	const struct sv_length *len = pl->length;
	add_beat(pl, BEAT_OPENING, 1);
	add_beat(pl, BEAT_CALL, 1);
	add_beat(pl, BEAT_SETOUT, 1);
	for (int a = 0; a < len->acts; a++) {
		if (a > 0)
			add_beat(pl, BEAT_JOURNEY, a + 1)->dawn = 1;
		for (int i = 0; i < len->obstacles[a]; i++) {
			if (len->journeys && !(a > 0 && i == 0))
				add_beat(pl, BEAT_JOURNEY, a + 1);
			add_beat(pl, BEAT_OBSTACLE, a + 1);
			/* longer stories meet someone on the road once an act */
			if (len->journeys && i == 0 && len->obstacles[a] > 1)
				add_beat(pl, BEAT_ENCOUNTER, a + 1);
		}
		if (a + 1 < len->acts)
			add_beat(pl, BEAT_REST, a + 1);
	}
	add_beat(pl, BEAT_LOW_POINT, len->acts);
	add_beat(pl, BEAT_CHOICE, len->acts);
	add_beat(pl, BEAT_RESOLUTION, len->acts);
	add_beat(pl, BEAT_CLOSING, len->acts);
}

/* Longer stories come in chapters: the first holds the start, a new one begins
 * with the road, with each new day, after every two troubles and at the low point. */
static void assign_chapters(struct sv_plan *pl)
{
	if (!pl->length->journeys)
		return;
	int chapter = 1, obstacles = 0;
	for (int i = 0; i < pl->n_beats; i++) {
		struct sv_beat *b = &pl->beats[i];
		enum sv_beat_kind prev = i > 0 ? pl->beats[i - 1].kind : BEAT_OPENING;
		int road = b->kind == BEAT_JOURNEY && (prev == BEAT_SETOUT || obstacles >= 2);
		if (i > 0 && (road || b->dawn || b->kind == BEAT_LOW_POINT)) {
			chapter++;
			obstacles = 0;
		}
		obstacles += b->kind == BEAT_OBSTACLE;
		b->chapter = chapter;
	}
}

/* ---- obstacles: theme ones first, sizes growing through the story ---- */

struct obstacle_pool {
	const json_t *items[64];
	int from_theme[64];
	int used[64];
	size_t n;
};

static void pool_add(struct obstacle_pool *op, const json_t *arr, int from_theme)
{
	size_t i;
	const json_t *o;
	json_array_foreach(arr, i, o)
	{
		if (op->n < COUNT(op->items)) {
			op->items[op->n] = o;
			op->from_theme[op->n++] = from_theme;
		}
	}
}

static int obstacle_size(const json_t *o)
{
	return (int)json_integer_value(json_object_get(o, "size"));
}

/* Picks an unused obstacle of the wanted size, from the theme when theme is set;
 * returns -1 when there is none. */
static int pool_pick(struct obstacle_pool *op, struct sv_rng *r, int size, int theme)
{
	int idx[64], n = 0;
	for (size_t i = 0; i < op->n; i++) {
		if (!op->used[i] && op->from_theme[i] == theme &&
		    (size == 0 || obstacle_size(op->items[i]) == size))
			idx[n++] = (int)i;
	}
	return n ? idx[sv_rng_below(r, (uint32_t)n)] : -1;
}

/* An unused obstacle of the wanted size (from the theme three times in four),
 * else of the nearest size, else any; the pool starts over only when empty. */
static const json_t *choose_obstacle(struct obstacle_pool *op, struct sv_rng *r, int size)
{
	int prefer_theme = sv_rng_below(r, 4) != 0;
	static const int offsets[] = {0, -1, 1, -2, 2};
	int k = -1;
	for (size_t i = 0; k < 0 && i < COUNT(offsets); i++) {
		int want = size + offsets[i];
		if (want < 1 || want > 3)
			continue;
		k = pool_pick(op, r, want, prefer_theme);
		if (k < 0)
			k = pool_pick(op, r, want, !prefer_theme);
	}
	if (k < 0) {
		memset(op->used, 0, sizeof(op->used));
		k = pool_pick(op, r, 0, 1);
	}
	op->used[k] = 1;
	return op->items[k];
}

static void assign_obstacles(struct sv_plan *pl, struct sv_rng *r)
{
	struct obstacle_pool op = {.n = 0};
	pool_add(&op, json_object_get(pl->theme->obj, "obstacles"), 1);
	pool_add(&op, json_object_get(pl->c->beats, "obstacles"), 0);
	int total = 0, i = 0;
	for (int b = 0; b < pl->n_beats; b++)
		total += pl->beats[b].kind == BEAT_OBSTACLE;
	for (int b = 0; b < pl->n_beats; b++) {
		struct sv_beat *beat = &pl->beats[b];
		if (beat->kind != BEAT_OBSTACLE)
			continue;
		/* the planned size grows through the story, whatever the obstacle's own */
		beat->size = 1 + (i++ * 3) / total;
		beat->obstacle = choose_obstacle(&op, r, beat->size);
	}
}

/* ---- places, times, moods, cast, objects ---- */

/* The places of one leg's universe a journey can stop at, shuffled: not home
 * (where the story starts) and not the place the quest leads to. */
struct stops {
	const struct sv_place *v[32];
	size_t n, next;
};

static void shuffle_stops(const struct sv_plan *pl, int leg, struct stops *st, struct sv_rng *r)
{
	const struct sv_universe *w = pl->legs[leg];
	st->n = st->next = 0;
	for (size_t i = leg == 0 ? 1 : 0; i < w->n_places && st->n < COUNT(st->v); i++) {
		if (&w->places[i] != pl->far && &w->places[i] != pl->home)
			st->v[st->n++] = &w->places[i];
	}
	for (size_t i = st->n; i > 1; i--) { /* Fisher-Yates */
		size_t j = sv_rng_below(r, (uint32_t)i);
		const struct sv_place *t = st->v[i - 1];
		st->v[i - 1] = st->v[j];
		st->v[j] = t;
	}
}

static int leg_of(const struct sv_plan *pl, const struct sv_beat *b)
{
	for (int l = 0; l < pl->n_legs; l++) {
		if (pl->legs[l] == b->world)
			return l;
	}
	return 0;
}

static void assign_places(struct sv_plan *pl, struct sv_rng *r)
{
	struct stops stops[SV_STORY_UNIVERSES_MAX] = {0};
	for (int l = 0; l < pl->n_legs; l++)
		shuffle_stops(pl, l, &stops[l], r);
	const struct sv_place *here = pl->home;
	for (int b = 0; b < pl->n_beats; b++) {
		struct sv_beat *beat = &pl->beats[b];
		struct stops *st = &stops[leg_of(pl, beat)];
		switch (beat->kind) {
		case BEAT_JOURNEY:
		case BEAT_OBSTACLE:
			if (beat->kind == BEAT_JOURNEY || b == 0 ||
			    pl->beats[b - 1].kind != BEAT_JOURNEY)
				here = st->n ? st->v[st->next++ % st->n] : pl->far;
			break;
		case BEAT_LOW_POINT:
		case BEAT_CHOICE:
		case BEAT_RESOLUTION:
			here = pl->far;
			break;
		case BEAT_CLOSING:
			here = pl->home;
			break;
		default: /* opening, call and setout at home; a rest where the day ended */
			break;
		}
		beat->place = here;
	}
}

static void assign_times(struct sv_plan *pl)
{
	static const char *const day[] = {"morning", "midday", "afternoon", "afternoon", "evening"};
	for (int a = 1; a <= pl->length->acts; a++) {
		int m = 0, k = 0;
		for (int b = 0; b < pl->n_beats; b++)
			m += pl->beats[b].act == a && pl->beats[b].kind != BEAT_REST &&
			     pl->beats[b].kind != BEAT_CLOSING;
		for (int b = 0; b < pl->n_beats; b++) {
			struct sv_beat *beat = &pl->beats[b];
			if (beat->act != a)
				continue;
			if (beat->kind == BEAT_REST || beat->kind == BEAT_CLOSING)
				beat->time = "night";
			else if (beat->dawn)
				beat->time = "dawn", k++;
			else
				beat->time = day[(k++ * (int)COUNT(day)) / (m ? m : 1)];
		}
	}
}

static void assign_moods(struct sv_plan *pl, struct sv_rng *r)
{
	const json_t *moods = json_object_get(pl->c->beats, "moods");
	for (int b = 0; b < pl->n_beats; b++) {
		struct sv_beat *beat = &pl->beats[b];
		char key[32];
		if (beat->kind == BEAT_OBSTACLE)
			snprintf(key, sizeof(key), "obstacle%d", beat->size);
		else
			snprintf(key, sizeof(key), "%s", sv_story_beat_names[beat->kind]);
		beat->mood = pick_str(r, json_object_get(moods, key));
	}
}

static unsigned theme_cast(const struct sv_theme *t, enum sv_beat_kind kind)
{
	const json_t *roles =
	    json_object_get(json_object_get(t->obj, "cast"), sv_story_beat_names[kind]);
	unsigned cast = 0;
	size_t i;
	const json_t *v;
	json_array_foreach(roles, i, v) cast |=
	    BIT(strcmp(json_string_value(v), "guide") == 0 ? ROLE_GUIDE : ROLE_FRIEND);
	return cast;
}

/* Who has the idea that gets past an obstacle: anyone present but the grown-ups
 * and the rival (who is still racing), never twice running. */
static int choose_thinker(const struct sv_beat *b, struct sv_rng *r, int last)
{
	int pool[ROLE_N], n = 0;
	for (int role = 0; role < ROLE_N; role++) {
		if ((b->cast & BIT(role)) && role != last && role != ROLE_GUIDE &&
		    role != ROLE_MENTOR && role != ROLE_RIVAL)
			pool[n++] = role;
	}
	return n ? pool[sv_rng_below(r, (uint32_t)n)] : ROLE_HERO;
}

/* Where the optional roles are on stage. The rival races them in the call and
 * the first obstacle, comes back to help at the low point and stays to the
 * end; the mentor sees them off and stands by (saying little) at the choice;
 * a custom character goes wherever the hero goes. */
static unsigned extra_cast(const struct sv_plan *pl, const struct sv_beat *b, int first_obstacle)
{
	static const unsigned rival_beats = BIT(BEAT_CALL) | BIT(BEAT_LOW_POINT) |
	                                    BIT(BEAT_CHOICE) | BIT(BEAT_RESOLUTION) |
	                                    BIT(BEAT_CLOSING);
	static const unsigned mentor_beats =
	    BIT(BEAT_SETOUT) | BIT(BEAT_CHOICE) | BIT(BEAT_CLOSING);
	unsigned cast = 0;
	if (pl->actors[ROLE_RIVAL].name &&
	    ((rival_beats & BIT(b->kind)) || (b->kind == BEAT_OBSTACLE && first_obstacle)))
		cast |= BIT(ROLE_RIVAL);
	if (pl->actors[ROLE_MENTOR].name && (mentor_beats & BIT(b->kind)))
		cast |= BIT(ROLE_MENTOR);
	if (pl->actors[ROLE_CUSTOM].name && (base_cast[b->kind] & BIT(ROLE_HERO)))
		cast |= BIT(ROLE_CUSTOM);
	return cast;
}

static void assign_cast_and_objects(struct sv_plan *pl, struct sv_rng *r)
{
	int last = ROLE_NONE;
	for (int b = 0; b < pl->n_beats; b++) {
		struct sv_beat *beat = &pl->beats[b];
		const json_t *objects = json_object_get(beat->world->obj, "objects");
		size_t n = json_array_size(objects);
		beat->cast = base_cast[beat->kind] | theme_cast(pl->theme, beat->kind);
		beat->cast |=
		    extra_cast(pl, beat, beat->kind == BEAT_OBSTACLE && last == ROLE_NONE);
		if (beat->kind == BEAT_SETOUT && pl->actors[ROLE_MENTOR].name)
			beat->cast &= ~BIT(ROLE_GUIDE); /* the mentor sees them off instead */
		if (beat->kind == BEAT_CALL)            /* whoever brings the news is there */
			beat->cast |= BIT(pl->theme->caller);
		if (beat->kind == BEAT_OBSTACLE)
			last = beat->thinker = choose_thinker(beat, r, last);
		for (int k = 0; k < 2; k++) {
			do {
				beat->objects[k] =
				    sv_story_str_at(objects, sv_rng_below(r, (uint32_t)n));
			} while (n > 2 && (beat->objects[k] == pl->thing ||
			                   (k == 1 && beat->objects[1] == beat->objects[0])));
		}
	}
}

/* Each optional role brings lines of its own (about this many words), and
 * the story's other words make room for them. */
#define EXTRA_ROLE_WORDS 70

static double extras_words(const struct sv_plan *pl)
{
	double words = 0;
	for (int r = ROLE_RIVAL; r <= ROLE_CUSTOM; r++)
		words += pl->actors[r].name ? EXTRA_ROLE_WORDS : 0;
	return words;
}

static void assign_targets(struct sv_plan *pl)
{
	const json_t *beats = json_object_get(pl->c->beats, "beats");
	double sum = 0, total = pl->length->words * pl->age->words_scale - extras_words(pl);
	for (int b = 0; b < pl->n_beats; b++)
		sum += json_number_value(json_object_get(
		    json_object_get(beats, sv_story_beat_names[pl->beats[b].kind]), "weight"));
	for (int b = 0; b < pl->n_beats; b++) {
		double w = json_number_value(json_object_get(
		    json_object_get(beats, sv_story_beat_names[pl->beats[b].kind]), "weight"));
		pl->beats[b].target_words = (int)(total * w / sum + 0.5);
	}
}

/* ---- series: the thread left open, and the one picked up ---- */

static int place_visited(const struct sv_plan *pl, const struct sv_place *place)
{
	for (int b = 0; b < pl->n_beats; b++) {
		if (pl->beats[b].place == place)
			return 1;
	}
	return 0;
}

/* A place of the world where the quest ends that this story never went to
 * (for a promise: the next episode's quest will lead there), or NULL. */
static const struct sv_place *unvisited_place(const struct sv_plan *pl, struct sv_rng *r)
{
	const struct sv_universe *u = pl->legs[pl->n_legs - 1];
	const struct sv_place *pool[32];
	uint32_t n = 0;
	for (size_t i = 1; i < u->n_places && n < COUNT(pool); i++) {
		if (!place_visited(pl, &u->places[i]))
			pool[n++] = &u->places[i];
	}
	return n ? pool[sv_rng_below(r, n)] : NULL;
}

/* Every story ends with something left open: a mysterious thing found in a
 * pocket, a promise to go somewhere new, or a secret still to be told. The
 * choice has its own random stream, so it changes nothing else in the plan. */
static void choose_thread(struct sv_plan *pl)
{
	static const char *const kinds[] = {"object", "promise", "secret"};
	struct sv_rng r;
	sv_rng_seed(&r, sv_story_subseed(pl->seed, "thread", 0));
	pl->thread_kind = kinds[sv_rng_below(&r, COUNT(kinds))];
	const json_t *objects = json_object_get(pl->legs[pl->n_legs - 1]->obj, "objects");
	size_t n = json_array_size(objects), k = sv_rng_below(&r, (uint32_t)n);
	for (size_t i = 0; i < n && sv_story_str_at(objects, k) == pl->thing; i++)
		k = (k + 1) % n;
	pl->thread_what = sv_story_str_at(objects, k);
	if (strcmp(pl->thread_kind, "promise") == 0) {
		pl->thread_place = unvisited_place(pl, &r);
		if (pl->thread_place)
			pl->thread_what = pl->thread_place->name;
		else
			pl->thread_kind = "object";
	}
}

/* A promise made last time is kept: this quest leads to the promised place. */
static void keep_promise(struct sv_plan *pl)
{
	const struct sv_story_previous *pv = &pl->p->previous;
	const struct sv_universe *last = pl->legs[pl->n_legs - 1];
	if (pv->episode == 0 || strcmp(pv->thread_kind, "promise") != 0)
		return;
	for (size_t i = 1; i < last->n_places; i++) {
		if (strcmp(last->places[i].id, pv->thread_place) == 0)
			pl->far = &last->places[i];
	}
}

/* ---- building ---- */

/* Whether the theme is one whose occasion a culture's festival can be (beats.json). */
static int theme_listed(const struct sv_catalog *c, const struct sv_theme *t)
{
	size_t i;
	const json_t *v;
	json_array_foreach(json_object_get(json_object_get(c->beats, "culture"), "festival_themes"),
	                   i, v)
	{
		if (t && strcmp(json_string_value(v), t->id) == 0)
			return 1;
	}
	return 0;
}

static int find_all(struct sv_plan *pl, struct sv_err *err)
{
	const struct sv_catalog *c = pl->c;
	const struct sv_story_params *p = pl->p;
	if (sv_story_worlds_build(pl, err) < 0)
		return -1;
	pl->theme = sv_story_find_theme(c, p->theme);
	pl->moral = sv_story_find_moral(c, p->moral);
	pl->age = sv_story_find_age(c, p->age);
	pl->length = sv_story_find_length(c, p->length);
	pl->culture = p->culture[0] ? sv_story_find_culture(c, p->culture) : NULL;
	pl->festival = pl->culture && theme_listed(c, pl->theme);
	if (!pl->u || !pl->theme || !pl->moral || !pl->age || !pl->length)
		return sv_err_set(err, "invalid_value", "",
		                  "story parameters must be validated before generating");
	return 0;
}

/* Every parameter but the child's name goes into the story's seed: the same
 * seed with another name tells the same story about another child. */
static uint64_t story_seed(const struct sv_story_params *p)
{
	char key[16 * SV_STORY_ID_MAX];
	int n = snprintf(key, sizeof(key), "%s|%s|%s|%s|%s|%s|%s", p->universe, p->hero,
	                 p->sidekick, p->theme, p->moral, p->age, p->length);
	/* what came later joins the key only when used, so older stories stay the same */
	for (int i = 1; i < p->n_universes && n > 0 && (size_t)n < sizeof(key); i++)
		n += snprintf(key + n, sizeof(key) - (size_t)n, "|%s|%s", p->mode, p->universes[i]);
	if (n > 0 && (size_t)n < sizeof(key) && (p->rival[0] || p->mentor[0] || p->custom.name[0]))
		snprintf(key + n, sizeof(key) - (size_t)n, "|%s|%s|%s", p->rival, p->mentor,
		         p->custom.name);
	return sv_story_subseed(p->seed, key, 0);
}

static void choose_props(struct sv_plan *pl, struct sv_rng *r)
{
	const json_t *u = pl->u->obj;
	const json_t *creatures = json_object_get(u, "creatures");
	const struct sv_universe *last = pl->legs[pl->n_legs - 1];
	pl->home = &pl->u->places[0];
	pl->far = &last->places[1 + sv_rng_below(r, (uint32_t)(last->n_places - 1))];
	pl->thing = pick_str(r, json_object_get(u, "objects"));
	pl->snack = pick_str(r, json_object_get(u, "snacks"));
	pl->critter = json_string_value(json_object_get(
	    json_array_get(creatures, sv_rng_below(r, (uint32_t)json_array_size(creatures))),
	    "one"));
}

int sv_story_plan_build(const struct sv_catalog *c, const struct sv_story_params *p,
                        struct sv_plan *pl, struct sv_err *err)
{
	memset(pl, 0, sizeof(*pl));
	pl->c = c;
	pl->p = p;
	pl->own = json_object();
	if (!pl->own)
		return sv_err_set(err, "nomem", "", "out of memory planning the story");
	if (find_all(pl, err) < 0) {
		sv_story_plan_free(pl);
		return -1;
	}
	pl->seed = story_seed(p);
	struct sv_rng r;
	sv_rng_seed(&r, sv_story_subseed(pl->seed, "plan", 0));
	choose_props(pl, &r);
	keep_promise(pl);
	if (cast_story(pl, &r, err) < 0) {
		sv_story_plan_free(pl);
		return -1;
	}
	pl->beats = calloc((size_t)max_beats(pl->length), sizeof(*pl->beats));
	if (!pl->beats) {
		sv_story_plan_free(pl);
		return sv_err_set(err, "nomem", "", "out of memory planning the story");
	}
	lay_out_beats(pl);
	assign_chapters(pl);
	sv_story_worlds_assign(pl);
	assign_obstacles(pl, &r);
	assign_places(pl, &r);
	assign_times(pl);
	assign_moods(pl, &r);
	assign_cast_and_objects(pl, &r);
	assign_targets(pl);
	choose_thread(pl);
	return 0;
}

void sv_story_plan_free(struct sv_plan *pl)
{
	free(pl->beats);
	pl->beats = NULL;
	pl->n_beats = 0;
	sv_story_worlds_free(pl);
	json_decref(pl->own);
	pl->own = NULL;
}

/* ---- JSON ---- */

static int set_opt(json_t *obj, const char *key, const json_t *v)
{
	return v ? json_object_set_new(obj, key, json_deep_copy(v)) : 0;
}

static json_t *actor_json(const struct sv_plan *pl, int role)
{
	const struct sv_actor *a = &pl->actors[role];
	json_t *o = json_pack("{s:s,s:s,s:s,s:s,s:s,s:b}", "role", sv_story_role_names[role],
	                      "name", a->name, "species", a->species, "looks", a->looks, "pronoun",
	                      a->pronoun->id, "visitor", a->visitor);
	if (!o)
		return NULL;
	int bad = set_opt(o, "traits", a->traits) || set_opt(o, "voice", a->voice);
	if (a->ch)
		bad = bad || json_object_set_new(o, "id", json_string(a->ch->id)) ||
		      json_object_set_new(o, "home", json_string(a->home->id));
	if (a->speech)
		bad = bad || set_opt(o, "speech_style", json_object_get(a->speech, "style"));
	if (bad)
		return json_decref(o), NULL;
	return o;
}

json_t *sv_story_plan_cast_json(const struct sv_plan *pl)
{
	json_t *arr = json_array();
	for (int r = 0; arr && r < ROLE_N; r++) {
		if (!pl->actors[r].name) /* an optional role nobody plays */
			continue;
		if (json_array_append_new(arr, actor_json(pl, r)) < 0)
			return json_decref(arr), NULL;
	}
	return arr;
}

static json_t *beat_objects(const struct sv_plan *pl, const struct sv_beat *b)
{
	json_t *arr = json_pack("[s,s]", b->objects[0], b->objects[1]);
	int with_thing =
	    pl->theme->uses_thing && (b->kind == BEAT_CALL || b->kind == BEAT_RESOLUTION);
	if (arr && with_thing && json_array_append_new(arr, json_string(pl->thing)) < 0)
		return json_decref(arr), NULL;
	return arr;
}

static int beat_extras(const struct sv_plan *pl, const struct sv_beat *b, json_t *o)
{
	if (json_object_set_new(o, "target_words", json_integer(b->target_words)) < 0)
		return -1;
	if (b->kind == BEAT_OBSTACLE)
		return json_object_set_new(
		    o, "obstacle",
		    json_pack("{s:s,s:i,s:s}", "id",
		              json_string_value(json_object_get(b->obstacle, "id")), "size",
		              b->size, "solved_by", sv_story_role_names[b->thinker]));
	if (b->kind == BEAT_CHOICE)
		return json_object_set_new(o, "choice",
		                           json_pack("{s:s,s:s}", "moral", pl->moral->id, "chooser",
		                                     sv_story_role_names[pl->chooser]));
	return 0;
}

json_t *sv_story_plan_beat_json(const struct sv_plan *pl, const struct sv_beat *b)
{
	json_t *o =
	    json_pack("{s:s,s:i,s:s,s:s,s:o*,s:s,s:s,s:o*}", "beat", sv_story_beat_names[b->kind],
	              "act", b->act, "place", b->place->id, "place_name", b->place->name, "cast",
	              sv_story_cast_roles_json(b->cast), "mood", b->mood, "time_of_day", b->time,
	              "objects", beat_objects(pl, b));
	if (!o || json_object_size(o) != 8 || beat_extras(pl, b, o) < 0 ||
	    json_object_set_new(o, "universe", json_string(b->world->id)) < 0 ||
	    (b->chapter && json_object_set_new(o, "chapter", json_integer(b->chapter)) < 0))
		return json_decref(o), NULL;
	return o;
}
