/*
 * Universe modes: which universes a story happens in, and where each beat is.
 *
 * single and crossover stories happen in one universe (a crossover's point is
 * its visitors, who come from others). A fusion merges two universes into a
 * new setting made for the story: a merged name, places taken in turn from
 * both, their objects, creatures, weather and words together, and a palette
 * mixed from both. A hopping journey passes through 2 or 3 universes, one
 * per part of the journey ("legs"): the obstacles are shared out among them in
 * order, the friends set out from the first and come home to it, and the
 * quest ends in the last.
 *
 * The plan owns what a fusion makes (struct sv_fused and the JSON in
 * pl->own); everything else points into the catalog.
 */
#include "story/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

const char *const sv_story_mode_names[MODE_N] = {"single", "crossover", "fusion", "hopping"};

int sv_story_mode(const char *name)
{
	for (int m = 0; m < MODE_N; m++) {
		if (name && strcmp(sv_story_mode_names[m], name) == 0)
			return m;
	}
	return -1;
}

/* ---- a fusion's name: "Whistlewind Meadow" + "the Lantern Sea" = "the Whistlewind Sea" ---- */

/* The parts of a universe's name: whether it starts with "the", the word that
 * makes it its own ("Whistlewind", "Dragonbright") and what kind of place it
 * is ("Meadow", "Kingdom"). */
struct name_parts {
	int the;
	char own[48], kind[48];
};

static void copy_word(char *dst, size_t cap, const char *s, size_t n)
{
	snprintf(dst, cap, "%.*s", (int)n, s);
}

static void split_name(const char *name, struct name_parts *np)
{
	np->the = strncasecmp(name, "the ", 4) == 0;
	const char *s = name + (np->the ? 4 : 0);
	const char *of = strstr(s, " of ");
	if (of) { /* "Kingdom of Dragonbright" */
		const char *last = strrchr(of + 4, ' ');
		copy_word(np->own, sizeof(np->own), last ? last + 1 : of + 4,
		          strlen(last ? last + 1 : of + 4));
		copy_word(np->kind, sizeof(np->kind), s, strcspn(s, " "));
		return;
	}
	const char *last = strrchr(s, ' ');
	copy_word(np->own, sizeof(np->own), s, strcspn(s, " "));
	copy_word(np->kind, sizeof(np->kind), last ? last + 1 : s, strlen(last ? last + 1 : s));
}

static void fused_name(const struct sv_universe *a, const struct sv_universe *b, char *out,
                       size_t cap)
{
	struct name_parts pa, pb;
	split_name(a->name, &pa);
	split_name(b->name, &pb);
	snprintf(out, cap, "%s%s %s", pb.the ? "the " : "", pa.own, pb.kind);
	if (strcmp(out, a->name) == 0 || strcmp(out, b->name) == 0 || strcmp(pa.own, pb.kind) == 0)
		snprintf(out, cap, "%s%s-%s %s", pb.the ? "the " : "", pa.own, pb.own, pb.kind);
}

/* ---- a fusion's palette: each pair of colours with their mixture between them ---- */

static unsigned hex_value(const char *s)
{
	return (unsigned)strtoul(s + 1, NULL, 16);
}

static json_t *mixed_palette(const json_t *pa, const json_t *pb)
{
	json_t *out = json_array();
	for (size_t i = 0; out && i < 2; i++) {
		const char *a = sv_story_str_at(pa, i), *b = sv_story_str_at(pb, i);
		unsigned x = hex_value(a), y = hex_value(b), mix = 0;
		for (int shift = 0; shift < 24; shift += 8)
			mix |= ((((x >> shift) & 0xFF) + ((y >> shift) & 0xFF)) / 2) << shift;
		char m[8];
		snprintf(m, sizeof(m), "#%06X", mix & 0xFFFFFF);
		json_array_append_new(out, json_string(a));
		json_array_append_new(out, json_string(m));
		json_array_append_new(out, json_string(b));
	}
	return out;
}

/* ---- a fusion's things: both worlds' lists together ---- */

static const char *const merged_lists[] = {"objects", "creatures", "barriers", "weather",
                                           "sounds",  "lights",    "snacks",   "moves"};

/* Copies, never references: the catalog's nodes are shared between threads. */
static json_t *both(const json_t *a, const json_t *b)
{
	json_t *arr = json_deep_copy(a);
	json_t *more = json_deep_copy(b);
	if (!arr || json_array_extend(arr, more) < 0) {
		json_decref(arr);
		arr = NULL;
	}
	json_decref(more);
	return arr;
}

static json_t *fused_obj(const struct sv_fused *f, const struct sv_universe *a,
                         const struct sv_universe *b)
{
	const json_t *va = json_object_get(a->obj, "vocabulary");
	const json_t *vb = json_object_get(b->obj, "vocabulary");
	char tone[256];
	snprintf(tone, sizeof(tone), "%s, with a dash of %s",
	         json_string_value(json_object_get(a->obj, "tone")),
	         json_string_value(json_object_get(b->obj, "tone")));
	json_t *o = json_pack(
	    "{s:s,s:s,s:s,s:s,s:o*,s:{s:o*,s:o*},s:o*}", "id", f->id, "name", f->name,
	    "description", f->description, "tone", tone, "palette",
	    mixed_palette(json_object_get(a->obj, "palette"), json_object_get(b->obj, "palette")),
	    "vocabulary", "simple",
	    both(json_object_get(va, "simple"), json_object_get(vb, "simple")), "rich",
	    both(json_object_get(va, "rich"), json_object_get(vb, "rich")), "arrival",
	    json_deep_copy(json_object_get(a->obj, "arrival")));
	for (size_t i = 0; o && i < COUNT(merged_lists); i++) {
		json_t *l = both(json_object_get(a->obj, merged_lists[i]),
		                 json_object_get(b->obj, merged_lists[i]));
		if (json_object_set_new(o, merged_lists[i], l) < 0)
			return json_decref(o), NULL;
	}
	return o;
}

/* Places in turn from each world (the first world's home first), one per id. */
static int fused_places(struct sv_fused *f, const struct sv_universe *a,
                        const struct sv_universe *b)
{
	size_t most = a->n_places > b->n_places ? a->n_places : b->n_places, n = 0;
	struct sv_place *places = calloc(a->n_places + b->n_places, sizeof(*places));
	if (!places)
		return -1;
	for (size_t i = 0; i < most; i++) {
		const struct sv_place *two[] = {i < a->n_places ? &a->places[i] : NULL,
		                                i < b->n_places ? &b->places[i] : NULL};
		for (int k = 0; k < 2; k++) {
			int dup = !two[k];
			for (size_t j = 0; !dup && j < n; j++)
				dup = strcmp(places[j].id, two[k]->id) == 0;
			if (!dup)
				places[n++] = *two[k];
		}
	}
	f->u.places = places;
	f->u.n_places = n;
	return 0;
}

static int build_fusion(struct sv_plan *pl, struct sv_err *err)
{
	const struct sv_universe *a = pl->worlds[0], *b = pl->worlds[1];
	struct sv_fused *f = calloc(1, sizeof(*f));
	pl->fused = f;
	if (!f || fused_places(f, a, b) < 0)
		return sv_err_set(err, "nomem", "", "out of memory merging the universes");
	snprintf(f->id, sizeof(f->id), "%s+%s", a->id, b->id);
	fused_name(a, b, f->name, sizeof(f->name));
	snprintf(f->description, sizeof(f->description), "A place that is half %s and half %s.",
	         a->name, b->name);
	json_t *obj = fused_obj(f, a, b);
	if (!obj || json_object_set_new(pl->own, "fused", obj) < 0)
		return sv_err_set(err, "nomem", "", "out of memory merging the universes");
	f->u =
	    (struct sv_universe){f->id, f->name, f->description, f->u.places, f->u.n_places, obj};
	pl->u = &f->u;
	return 0;
}

int sv_story_worlds_build(struct sv_plan *pl, struct sv_err *err)
{
	const struct sv_story_params *p = pl->p;
	int mode = sv_story_mode(p->mode[0] ? p->mode : "single");
	int n = p->n_universes > 0 ? p->n_universes : 1;
	if (mode < 0 || n > SV_STORY_UNIVERSES_MAX)
		return sv_err_set(err, "invalid_value", "mode",
		                  "story parameters must be validated before generating");
	pl->mode = (enum sv_mode)mode;
	for (int i = 0; i < n; i++) {
		pl->worlds[i] =
		    sv_story_find_universe(pl->c, p->n_universes ? p->universes[i] : p->universe);
		if (!pl->worlds[i])
			return sv_err_set(err, "invalid_value", "universes",
			                  "story parameters must be validated before generating");
	}
	pl->n_worlds = n;
	pl->u = pl->worlds[0];
	if (pl->mode == MODE_FUSION && n != 2)
		return sv_err_set(err, "invalid_value", "universes",
		                  "a fusion merges exactly 2 universes");
	if (pl->mode == MODE_FUSION && build_fusion(pl, err) < 0)
		return -1;
	pl->n_legs = pl->mode == MODE_HOPPING ? n : 1;
	pl->legs[0] = pl->u;
	for (int i = 1; i < pl->n_legs; i++)
		pl->legs[i] = pl->worlds[i];
	return 0;
}

void sv_story_worlds_free(struct sv_plan *pl)
{
	if (pl->fused)
		free(pl->fused->u.places);
	free(pl->fused);
	pl->fused = NULL;
}

int sv_story_worlds_native(const struct sv_plan *pl, const struct sv_universe *home)
{
	int n = pl->mode == MODE_FUSION ? pl->n_worlds : 1;
	for (int i = 0; i < n; i++) {
		if (pl->worlds[i] == home)
			return 1;
	}
	return 0;
}

/* ---- where each beat happens ---- */

/* The leg of the next obstacle from beat b on (the last leg when none is left). */
static int next_obstacle_leg(const struct sv_plan *pl, const int *legs, int b)
{
	for (int k = b; k < pl->n_beats; k++) {
		if (pl->beats[k].kind == BEAT_OBSTACLE)
			return legs[k];
	}
	return pl->n_legs - 1;
}

/* Obstacles are shared out among the legs in order; a journey belongs to the
 * obstacle it leads to, an encounter or a rest to where the friends already
 * are; the end of the quest is in the last leg, and home is in the first. */
static void assign_legs(const struct sv_plan *pl, int *legs)
{
	int total = 0, i = 0;
	for (int b = 0; b < pl->n_beats; b++)
		total += pl->beats[b].kind == BEAT_OBSTACLE;
	for (int b = 0; b < pl->n_beats; b++)
		legs[b] = pl->beats[b].kind == BEAT_OBSTACLE ? (i++ * pl->n_legs) / total : 0;
	for (int b = 0, here = 0; b < pl->n_beats; b++) {
		switch (pl->beats[b].kind) {
		case BEAT_OBSTACLE:
			break;
		case BEAT_JOURNEY:
			legs[b] = next_obstacle_leg(pl, legs, b);
			break;
		case BEAT_ENCOUNTER:
		case BEAT_REST:
			legs[b] = here;
			break;
		case BEAT_LOW_POINT:
		case BEAT_CHOICE:
		case BEAT_RESOLUTION:
			legs[b] = pl->n_legs - 1;
			break;
		default: /* opening, call, setout and closing: at home */
			legs[b] = 0;
			break;
		}
		here = legs[b];
	}
}

void sv_story_worlds_assign(struct sv_plan *pl)
{
	int legs[256] = {0};
	if (pl->n_beats > (int)COUNT(legs))
		return;
	assign_legs(pl, legs);
	for (int b = 0; b < pl->n_beats; b++) {
		struct sv_beat *beat = &pl->beats[b];
		beat->world = pl->legs[legs[b]];
		beat->hop = b > 0 && legs[b] != legs[b - 1] && beat->kind != BEAT_CLOSING;
	}
}

void sv_story_worlds_names(const struct sv_plan *pl, int from, char *out, size_t cap)
{
	size_t n = 0;
	out[0] = '\0';
	for (int i = from; i < pl->n_worlds && n < cap; i++) {
		const char *sep = i == from ? "" : i == pl->n_worlds - 1 ? " and " : ", ";
		int w = snprintf(out + n, cap - n, "%s%s", sep, pl->worlds[i]->name);
		n += w > 0 ? (size_t)w : 0;
	}
}
