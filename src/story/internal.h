/*
 * Private to the story module: the loaded catalog, the plot plan and the
 * pieces shared between catalog.c, params.c, plan.c, template.c, realise.c
 * and generate.c. Nothing outside src/story includes this, except the unit
 * tests, which use the loader hook to feed in broken data files.
 *
 * The catalog keeps the parsed JSON documents and points into them, so every
 * string here is owned by the catalog and lives as long as it does.
 */
#ifndef SV_STORY_INTERNAL_H
#define SV_STORY_INTERNAL_H

#include "story/story.h"

#include <stddef.h>

/* The data files of one language, in load order. */
enum sv_doc {
	DOC_UNIVERSES,
	DOC_CHARACTERS,
	DOC_THEMES,
	DOC_MORALS,
	DOC_OPTIONS,
	DOC_BEATS,
	DOC_CULTURES,
	DOC_N
};
extern const char *const sv_story_doc_names[DOC_N];

/* Everyone who can be named in a template. The first five are in every
 * story; rival, mentor and custom only when the parameters ask for them. */
enum sv_role {
	ROLE_HERO,
	ROLE_SIDEKICK,
	ROLE_CHILD,
	ROLE_GUIDE,
	ROLE_FRIEND,
	ROLE_RIVAL,
	ROLE_MENTOR,
	ROLE_CUSTOM,
	ROLE_N,
	ROLE_NONE = -1,
};
extern const char *const sv_story_role_names[ROLE_N];

struct sv_pronoun {
	const char *id, *they, *them, *their, *self, *was, *is, *has;
};
const struct sv_pronoun *sv_story_pronoun(const char *id);

struct sv_place {
	const char *id, *name, *description;
	const struct sv_universe *universe; /* where it is (for a fusion: its world of origin) */
};

struct sv_universe {
	const char *id, *name, *description;
	struct sv_place *places;
	size_t n_places;
	const json_t *obj; /* objects, creatures, barriers, ... are read from here */
};

struct sv_character {
	const char *id, *name, *species, *looks;
	const struct sv_universe *home;
	const struct sv_pronoun *pronoun;
	const json_t *obj;
};

struct sv_theme {
	const char *id, *name;
	int uses_thing;
	int caller; /* ROLE_FRIEND or ROLE_GUIDE */
	const json_t *obj;
};

struct sv_moral {
	const char *id, *name;
	const json_t *obj;
};

/* Cultural touches a family can ask for: a greeting, a festival, foods, places. */
struct sv_culture {
	const char *id, *name;
	const json_t *obj;
};

/* An art style for the pictures: the illustrator draws it; the story only names it. */
struct sv_style {
	const char *id, *name;
};

struct sv_age {
	const char *id, *name;
	int level; /* 1..3 */
	double words_scale;
	int page_words;
};

#define SV_MAX_ACTS 4

struct sv_length {
	const char *id, *name;
	int acts;
	int obstacles[SV_MAX_ACTS];
	int journeys;
	int words, min_words, max_words;
};

struct sv_catalog {
	char lang[16];
	json_t *docs[DOC_N];
	struct sv_universe *universes;
	size_t n_universes;
	struct sv_character *characters;
	size_t n_characters;
	struct sv_theme *themes;
	size_t n_themes;
	struct sv_moral *morals;
	size_t n_morals;
	struct sv_age *ages;
	size_t n_ages;
	struct sv_length *lengths;
	size_t n_lengths;
	struct sv_style *styles;
	size_t n_styles;
	struct sv_culture *cultures;
	size_t n_cultures;
	const json_t *beats; /* the root of beats.json */
	json_t *public_doc;  /* what sv_story_catalog_json copies */
};

/* Reads one data file; returns 0 and points *data at its bytes, or -1 when absent. */
typedef int (*sv_story_file_fn)(void *ctx, const char *name, const char **data, size_t *len);
/* sv_story_catalog_new with the files coming from fn instead of the embedded assets. */
struct sv_catalog *sv_story_catalog_load(const char *lang, sv_story_file_fn fn, void *ctx,
                                         struct sv_err *err);

const struct sv_universe *sv_story_find_universe(const struct sv_catalog *c, const char *id);
const struct sv_character *sv_story_find_character(const struct sv_catalog *c, const char *id);
const struct sv_theme *sv_story_find_theme(const struct sv_catalog *c, const char *id);
const struct sv_moral *sv_story_find_moral(const struct sv_catalog *c, const char *id);
const struct sv_age *sv_story_find_age(const struct sv_catalog *c, const char *id);
const struct sv_length *sv_story_find_length(const struct sv_catalog *c, const char *id);
const struct sv_style *sv_story_find_style(const struct sv_catalog *c, const char *id);
const struct sv_culture *sv_story_find_culture(const struct sv_catalog *c, const char *id);

/* ---- templates (template.c) ---- */

/* One parsed {token}: [a:|A:|T:]ident[.attr]; a capital first letter asks for capitals. */
struct sv_token {
	char ident[24];
	char attr[16];
	char mod; /* 0, 'a' (a/an before it) or 'T' (Title Case) */
	int cap;  /* the ident was written with a capital */
};

/* Parses the token that starts at s[0] == '{'; returns its length or -1. */
int sv_story_token_parse(const char *s, struct sv_token *t);
/* ROLE_* for a role-like ident (including the aliases chooser, thinker,
 * caller and other, returned as ROLE_N + 0..3), or ROLE_NONE. */
int sv_story_token_role(const char *ident);
#define ROLE_CHOOSER (ROLE_N + 0)
#define ROLE_THINKER (ROLE_N + 1)
#define ROLE_CALLER  (ROLE_N + 2)
#define ROLE_OTHER   (ROLE_N + 3)
/* Returns 0 when every token in s is known, else -1 with why filled. */
int sv_story_template_check(const char *s, char *why, size_t why_len);
/* Text helpers: article for a noun phrase, title case, capitalising sentences. */
const char *sv_story_article(const char *phrase);
int sv_story_title_case(struct sv_buf *out, const char *s);
void sv_story_capitalise_sentences(char *s);
int sv_story_count_words(const char *s);

/* ---- the plot plan (plan.c) ---- */

enum sv_beat_kind {
	BEAT_OPENING,
	BEAT_CALL,
	BEAT_SETOUT,
	BEAT_JOURNEY,
	BEAT_OBSTACLE,
	BEAT_ENCOUNTER,
	BEAT_REST,
	BEAT_LOW_POINT,
	BEAT_CHOICE,
	BEAT_RESOLUTION,
	BEAT_CLOSING,
	BEAT_N,
};
extern const char *const sv_story_beat_names[BEAT_N];

struct sv_beat {
	enum sv_beat_kind kind;
	int act;  /* 1-based */
	int dawn; /* first beat of an act after a night's rest */
	const struct sv_place *place;
	unsigned cast; /* bit (1u << role) for each role present */
	const char *mood;
	const char *time;
	const char *objects[2];
	const json_t *obstacle; /* obstacle beats only */
	int size;               /* obstacle size 1..3 */
	int thinker;            /* who solves it: a role present */
	int target_words;
	const struct sv_universe *world; /* the universe it happens in */
	int hop;                         /* the first beat in a new universe (hopping) */
	int chapter;                     /* 1-based; 0 when the story has no chapters */
};

struct sv_actor {
	const char *name, *species, *looks;
	const struct sv_pronoun *pronoun;
	const struct sv_universe *home; /* NULL for the child */
	const struct sv_character *ch;  /* NULL for the child and the friend */
	const json_t *traits, *speech, *voice;
	int visitor;
};

enum sv_mode { MODE_SINGLE, MODE_CROSSOVER, MODE_FUSION, MODE_HOPPING, MODE_N };
extern const char *const sv_story_mode_names[MODE_N];
int sv_story_mode(const char *name); /* MODE_*, or -1 */

/* A fusion's merged setting: a universe made for one story (worlds.c). */
struct sv_fused {
	struct sv_universe u;
	char id[2 * SV_STORY_ID_MAX], name[160], description[400];
};

struct sv_plan {
	const struct sv_catalog *c;
	const struct sv_story_params *p;
	const struct sv_universe *u; /* where the story starts and ends (a fusion's merged one) */
	enum sv_mode mode;
	const struct sv_universe *worlds[SV_STORY_UNIVERSES_MAX]; /* the catalog universes */
	int n_worlds;
	/* The universes the beats happen in: legs[0] is u; hopping has one per world. */
	const struct sv_universe *legs[SV_STORY_UNIVERSES_MAX];
	int n_legs;
	struct sv_fused *fused;           /* fusion only; owned */
	const struct sv_culture *culture; /* NULL when none was asked for */
	/* The thread this story leaves open for the next episode (a series):
	 * its kind (object, promise, secret) and what it is about. */
	const char *thread_kind, *thread_what;
	const struct sv_place *thread_place; /* a promise's */
	int festival; /* the culture's festival is the celebration's occasion */
	const struct sv_theme *theme;
	const struct sv_moral *moral;
	const struct sv_age *age;
	const struct sv_length *length;
	struct sv_actor actors[ROLE_N];
	int chooser; /* ROLE_HERO or ROLE_CHILD */
	const char *thing, *snack, *critter;
	const struct sv_place *home, *far;
	char friend_looks[96];
	char custom_looks[96];
	json_t *own; /* JSON the plan made itself (the custom character's sheet, ...) */
	struct sv_beat *beats;
	int n_beats;
	uint64_t seed; /* mixed from every parameter, not just p->seed */
};

int sv_story_plan_build(const struct sv_catalog *c, const struct sv_story_params *p,
                        struct sv_plan *pl, struct sv_err *err);

/* ---- universe modes (worlds.c) ---- */

/* Finds the story's universes and sets u, worlds and legs (merging the two
 * worlds of a fusion into pl->fused, which sv_story_worlds_free releases). */
int sv_story_worlds_build(struct sv_plan *pl, struct sv_err *err);
void sv_story_worlds_free(struct sv_plan *pl);
/* Whether a character from home belongs where the story is (not a visitor). */
int sv_story_worlds_native(const struct sv_plan *pl, const struct sv_universe *home);
/* Sets each beat's world and hop (needs the beats laid out). */
void sv_story_worlds_assign(struct sv_plan *pl);
/* "Whistlewind Meadow and the Lantern Sea": the story's catalog universes, or
 * with from > 0 only those from that one on. */
void sv_story_worlds_names(const struct sv_plan *pl, int from, char *out, size_t cap);
void sv_story_plan_free(struct sv_plan *pl);
json_t *sv_story_plan_cast_json(const struct sv_plan *pl);
json_t *sv_story_plan_beat_json(const struct sv_plan *pl, const struct sv_beat *b);
/* Role names of a beat's cast, in cast order. New reference. */
json_t *sv_story_cast_roles_json(unsigned cast);
/* Picks element i of a JSON string array, or "" when out of range. */
const char *sv_story_str_at(const json_t *arr, size_t i);
/* A seed derived from a base seed and a label, so each use draws its own stream. */
uint64_t sv_story_subseed(uint64_t seed, const char *label, uint64_t n);

/* ---- the realiser (realise.c) ---- */

/* A line of dialogue on a page: bytes [start, end) of the page's text, the
 * words between the quote marks (without the marks), and who speaks them. */
struct sv_span {
	int start, end;
	int role; /* ROLE_* */
};

struct sv_page {
	char *text;
	int beat; /* index into plan->beats */
	int words;
	struct sv_span *spans; /* owned by the page; in the order they come */
	int n_spans;
	char *chapter_title; /* owned; set on the first page of each chapter only */
};

struct sv_pages {
	struct sv_page *v;
	int n, cap;
};

/* Writes the title and the pages of a plan. On failure frees what it made. */
/* Whether a script item's "if" names a condition the realiser knows. */
int sv_story_condition_known(const char *name);
int sv_story_realise(const struct sv_plan *pl, char **title, struct sv_pages *out,
                     struct sv_err *err);
void sv_story_pages_free(struct sv_pages *pages);

/* ---- evaluation (eval.c) ---- */

/* Sentences of fewer words (speech tags such as "Pip said.", a cheer) may
 * come again; longer ones never do within a story. */
#define SV_STORY_REPEAT_WORDS 3
/* The key that tells one sentence from another (its words, without case or
 * punctuation). Returns 0 when the sentence is too short to count. */
int sv_story_sentence_key(const char *s, size_t len, const struct sv_story_text_stats *st,
                          uint64_t *key);

/* The Flesch-Kincaid grades of a reading level: min..max is the band its
 * stories are held to (min is -HUGE_VAL when open), aim_lo..aim_hi the part
 * of it the realiser steers for. NULL for a level without a band. */
struct sv_grade_band {
	double min, max, aim_lo, aim_hi;
};
const struct sv_grade_band *sv_story_grade_band(int level);

#endif
