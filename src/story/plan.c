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
 */
#include "story/internal.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

const char *const sv_story_beat_names[BEAT_N] = {
    "opening", "call",      "setout", "journey",    "obstacle", "encounter",
    "rest",    "low_point", "choice", "resolution", "closing",
};

const char *const sv_story_role_names[ROLE_N] = {"hero", "sidekick", "child", "guide", "friend"};

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

static void actor_from_character(struct sv_actor *a, const struct sv_character *ch,
                                 const struct sv_universe *u)
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
	a->visitor = ch->home != u;
}

static void cast_child(struct sv_plan *pl)
{
	const json_t *child = json_object_get(pl->c->beats, "child");
	struct sv_actor *a = &pl->actors[ROLE_CHILD];
	a->name = pl->p->child_name;
	a->species = json_string_value(json_object_get(child, "species"));
	a->looks = json_string_value(json_object_get(child, "looks"));
	a->pronoun = sv_story_pronoun(json_string_value(json_object_get(child, "pronoun")));
	a->traits = json_object_get(child, "traits");
	a->speech = json_object_get(child, "speech");
	a->voice = json_object_get(child, "voice");
	a->visitor = 1;
}

/* The guide is a native of the universe who is neither hero nor sidekick. */
static const struct sv_character *choose_guide(const struct sv_plan *pl, struct sv_rng *r)
{
	const struct sv_catalog *c = pl->c;
	const struct sv_character *pool[256];
	size_t n = 0;
	for (int native = 1; native >= 0 && n == 0; native--) {
		for (size_t i = 0; i < c->n_characters && n < COUNT(pool); i++) {
			const struct sv_character *ch = &c->characters[i];
			if ((!native || ch->home == pl->u) && ch != pl->actors[ROLE_HERO].ch &&
			    ch != pl->actors[ROLE_SIDEKICK].ch)
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
		if (strcmp(a->name, pl->p->child_name) != 0)
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

static int cast_story(struct sv_plan *pl, struct sv_rng *r, struct sv_err *err)
{
	const struct sv_character *hero = sv_story_find_character(pl->c, pl->p->hero);
	const struct sv_character *side = sv_story_find_character(pl->c, pl->p->sidekick);
	if (!hero || !side)
		return sv_err_set(err, "invalid_value", "hero", "the hero and sidekick must exist");
	actor_from_character(&pl->actors[ROLE_HERO], hero, pl->u);
	actor_from_character(&pl->actors[ROLE_SIDEKICK], side, pl->u);
	cast_child(pl);
	const struct sv_character *guide = choose_guide(pl, r);
	if (!guide)
		return sv_err_set(err, "invalid_data", "", "no character is left to be the guide");
	actor_from_character(&pl->actors[ROLE_GUIDE], guide, pl->u);
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

static void assign_places(struct sv_plan *pl, struct sv_rng *r)
{
	const struct sv_place *stops[32];
	size_t n = 0;
	for (size_t i = 1; i < pl->u->n_places && n < COUNT(stops); i++) {
		if (&pl->u->places[i] != pl->far)
			stops[n++] = &pl->u->places[i];
	}
	for (size_t i = n; i > 1; i--) { /* Fisher-Yates */
		size_t j = sv_rng_below(r, (uint32_t)i);
		const struct sv_place *t = stops[i - 1];
		stops[i - 1] = stops[j];
		stops[j] = t;
	}
	size_t next = 0;
	const struct sv_place *here = pl->home;
	for (int b = 0; b < pl->n_beats; b++) {
		struct sv_beat *beat = &pl->beats[b];
		switch (beat->kind) {
		case BEAT_JOURNEY:
		case BEAT_OBSTACLE:
			if (beat->kind == BEAT_JOURNEY || b == 0 ||
			    pl->beats[b - 1].kind != BEAT_JOURNEY)
				here = n ? stops[next++ % n] : pl->far;
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

/* Who has the idea that gets past an obstacle: anyone present, never twice running. */
static int choose_thinker(const struct sv_beat *b, struct sv_rng *r, int last)
{
	int pool[ROLE_N], n = 0;
	for (int role = 0; role < ROLE_N; role++) {
		if ((b->cast & BIT(role)) && role != last && role != ROLE_GUIDE)
			pool[n++] = role;
	}
	return n ? pool[sv_rng_below(r, (uint32_t)n)] : ROLE_HERO;
}

static void assign_cast_and_objects(struct sv_plan *pl, struct sv_rng *r)
{
	const json_t *objects = json_object_get(pl->u->obj, "objects");
	size_t n = json_array_size(objects);
	int last = ROLE_NONE;
	for (int b = 0; b < pl->n_beats; b++) {
		struct sv_beat *beat = &pl->beats[b];
		beat->cast = base_cast[beat->kind] | theme_cast(pl->theme, beat->kind);
		if (beat->kind == BEAT_CALL) /* whoever brings the news is there */
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

static void assign_targets(struct sv_plan *pl)
{
	const json_t *beats = json_object_get(pl->c->beats, "beats");
	double sum = 0, total = pl->length->words * pl->age->words_scale;
	for (int b = 0; b < pl->n_beats; b++)
		sum += json_number_value(json_object_get(
		    json_object_get(beats, sv_story_beat_names[pl->beats[b].kind]), "weight"));
	for (int b = 0; b < pl->n_beats; b++) {
		double w = json_number_value(json_object_get(
		    json_object_get(beats, sv_story_beat_names[pl->beats[b].kind]), "weight"));
		pl->beats[b].target_words = (int)(total * w / sum + 0.5);
	}
}

/* ---- building ---- */

static int find_all(struct sv_plan *pl, struct sv_err *err)
{
	const struct sv_catalog *c = pl->c;
	const struct sv_story_params *p = pl->p;
	pl->u = sv_story_find_universe(c, p->universe);
	pl->theme = sv_story_find_theme(c, p->theme);
	pl->moral = sv_story_find_moral(c, p->moral);
	pl->age = sv_story_find_age(c, p->age);
	pl->length = sv_story_find_length(c, p->length);
	if (!pl->u || !pl->theme || !pl->moral || !pl->age || !pl->length)
		return sv_err_set(err, "invalid_value", "",
		                  "story parameters must be validated before generating");
	return 0;
}

/* Every parameter but the child's name goes into the story's seed: the same
 * seed with another name tells the same story about another child. */
static uint64_t story_seed(const struct sv_story_params *p)
{
	char key[8 * SV_STORY_ID_MAX];
	snprintf(key, sizeof(key), "%s|%s|%s|%s|%s|%s|%s", p->universe, p->hero, p->sidekick,
	         p->theme, p->moral, p->age, p->length);
	return sv_story_subseed(p->seed, key, 0);
}

static void choose_props(struct sv_plan *pl, struct sv_rng *r)
{
	const json_t *u = pl->u->obj;
	const json_t *creatures = json_object_get(u, "creatures");
	pl->home = &pl->u->places[0];
	pl->far = &pl->u->places[1 + sv_rng_below(r, (uint32_t)(pl->u->n_places - 1))];
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
	if (find_all(pl, err) < 0)
		return -1;
	pl->seed = story_seed(p);
	struct sv_rng r;
	sv_rng_seed(&r, sv_story_subseed(pl->seed, "plan", 0));
	choose_props(pl, &r);
	if (cast_story(pl, &r, err) < 0)
		return -1;
	pl->beats = calloc((size_t)max_beats(pl->length), sizeof(*pl->beats));
	if (!pl->beats)
		return sv_err_set(err, "nomem", "", "out of memory planning the story");
	lay_out_beats(pl);
	assign_obstacles(pl, &r);
	assign_places(pl, &r);
	assign_times(pl);
	assign_moods(pl, &r);
	assign_cast_and_objects(pl, &r);
	assign_targets(pl);
	return 0;
}

void sv_story_plan_free(struct sv_plan *pl)
{
	free(pl->beats);
	pl->beats = NULL;
	pl->n_beats = 0;
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
	if (!o || json_object_size(o) != 8 || beat_extras(pl, b, o) < 0)
		return json_decref(o), NULL;
	return o;
}
