/*
 * story: the domain. The catalog (universes, characters, themes, morals, ages,
 * lengths), story parameters and their validation, the plot planner and the
 * grammar realiser that turns a plan into pages.
 *
 * Pure functions of their inputs: the same catalog, parameters and seed give
 * the same story JSON byte for byte. Knows nothing of HTTP or storage.
 * The format of the story JSON is described in docs/story-format.md.
 */
#ifndef SV_STORY_H
#define SV_STORY_H

#include "base/base.h"

#include <jansson.h>
#include <stdint.h>

/* Immutable after loading, so one catalog may be shared by any number of threads. */
struct sv_catalog;

/* Loads the catalog for a language ("en") from the embedded data files
 * data/<lang>/ files. Returns NULL with err filled when the data is invalid. */
struct sv_catalog *sv_story_catalog_new(const char *lang, struct sv_err *err);
void sv_story_catalog_free(struct sv_catalog *c);
/* The public catalog document (what `storyverse catalog` prints and
 * GET /api/v1/catalog returns). New reference: the caller decrefs it. */
json_t *sv_story_catalog_json(const struct sv_catalog *c);

#define SV_STORY_ID_MAX   48
#define SV_STORY_NAME_MAX 64

#define SV_STORY_TRAITS_MAX    5
#define SV_STORY_WORD_MAX      24
#define SV_STORY_UNIVERSES_MAX 3

/* A character made up by the user, cast as "custom": a friend who comes
 * along. Empty name: none. The API takes {"name","species","traits":[...]}
 * ("pronoun" optional, default they); the CLI 'name=..,species=..,traits=a;b'. */
struct sv_story_custom {
	char name[SV_STORY_NAME_MAX];
	char species[32];                                    /* a word or two */
	char traits[SV_STORY_TRAITS_MAX][SV_STORY_WORD_MAX]; /* 1 to 5 */
	int n_traits;
	char pronoun[8]; /* she, he, it or they */
};

/* What a story remembers of the episode it continues (a series), read from
 * that story's document by sv_story_params_continue. episode 0: none. */
struct sv_story_previous {
	int episode;
	char title[128];
	char far[SV_STORY_NAME_MAX];    /* where its quest ended */
	char friend[SV_STORY_NAME_MAX]; /* who was helped */
	char theme[SV_STORY_ID_MAX];
	char thread_kind[16];               /* the thread it left open: object, promise, secret */
	char thread[SV_STORY_NAME_MAX];     /* what it is about: a thing or a place */
	char thread_place[SV_STORY_ID_MAX]; /* a promise's place id */
};

/* Empty strings mean "not given" until sv_story_params_validate fills defaults. */
struct sv_story_params {
	char universe[SV_STORY_ID_MAX];
	char hero[SV_STORY_ID_MAX];
	char sidekick[SV_STORY_ID_MAX];
	char theme[SV_STORY_ID_MAX];
	char moral[SV_STORY_ID_MAX];
	char age[SV_STORY_ID_MAX];    /* "3-5", "6-8", "9-12" */
	char length[SV_STORY_ID_MAX]; /* "bedtime", "chapter", "epic" */
	char style[SV_STORY_ID_MAX];  /* the pictures' art style: "watercolour", "flat", "crayon" */
	char child_name[SV_STORY_NAME_MAX];
	uint64_t seed;                /* at most 2^53 - 1 so it survives JSON everywhere */
	char rival[SV_STORY_ID_MAX];  /* a friendly rival: competes, then helps */
	char mentor[SV_STORY_ID_MAX]; /* advises before the choice, never makes it */
	struct sv_story_custom custom;
	char pronouns[8]; /* the child's: she, he or they (default they) */
	/* How the universes meet: "single" (one world), "crossover" (one world,
	 * visitors from others), "fusion" (two worlds merged into one setting) or
	 * "hopping" (one world per part of the journey). The default is single,
	 * or crossover when a character comes from another universe. */
	char mode[16];
	/* Every universe of the story, in order; universes[0] is `universe`, and
	 * a caller may fill either (fusion: exactly 2; hopping: 2 or 3). */
	char universes[SV_STORY_UNIVERSES_MAX][SV_STORY_ID_MAX];
	int n_universes;
	char culture[SV_STORY_ID_MAX]; /* cultures.json: a greeting, foods, a festival; "" none */
	/* A series: the id of the stored story this one continues (the API's
	 * "continue_from"), and what sv_story_params_continue read from it. */
	char continue_from[SV_STORY_ID_MAX];
	struct sv_story_previous previous;
};

#define SV_STORY_SEED_MAX ((UINT64_C(1) << 53) - 1)

void sv_story_params_init(struct sv_story_params *p);

/* Checks every id against the catalog and fills defaults for what was not
 * given. On error returns -1 with err->field set to the parameter name
 * ("universe", "hero", ..., "child_name", "seed"), err->code "unknown_id" or
 * "invalid_value", and a one-sentence message that lists the valid choices. */
int sv_story_params_validate(const struct sv_catalog *c, struct sv_story_params *p,
                             struct sv_err *err);

/* Reads the API request object {"universe","hero","sidekick"?,"theme"?,
 * "moral"?,"age"?,"length"?,"child_name"?,"seed"?} into p and validates it.
 * Unknown members, wrong types and bad values are errors naming the field.
 * *seed_given tells whether the request carried a seed. When it did not,
 * p->seed keeps the value it had, and the defaults drawn from the seed
 * (sidekick, theme, moral) use it: sv_story_params_init p and set a fresh
 * seed in it before the call. null members count as absent. */
int sv_story_params_from_json(const struct sv_catalog *c, const json_t *obj,
                              struct sv_story_params *p, int *seed_given, struct sv_err *err);
/* New reference. */
json_t *sv_story_params_to_json(const struct sv_story_params *p);

/* Makes p the next episode of the story document prev (a series): the same
 * universes, mode, cast, child, pronouns and culture, and by default the same
 * age and length; p->previous remembers what happened and the thread prev
 * left open. A member p already holds must agree with prev's (else an error
 * naming it); rival, mentor, custom and culture may be added when prev had
 * none. An unreadable prev is an error naming "continue_from". Call before
 * sv_story_params_validate. */
int sv_story_params_continue(const struct sv_catalog *c, const json_t *prev,
                             struct sv_story_params *p, struct sv_err *err);

/* sv_story_params_from_json for a request that may continue a story: prev is
 * the story document named by its "continue_from" (NULL when it names none,
 * and an error naming continue_from when it names one). */
int sv_story_params_from_request(const struct sv_catalog *c, const json_t *obj, const json_t *prev,
                                 struct sv_story_params *p, int *seed_given, struct sv_err *err);

/* Reads the command-line form of a custom character,
 * "name=Zog,species=baby dragon,traits=shy;kind;curious" (",pronoun=he" may
 * follow; keys in any order), into out. The values are checked by
 * sv_story_params_validate; here only the shape, with errors naming "custom"
 * or the member ("custom.name", ...). */
int sv_story_custom_parse(const char *spec, struct sv_story_custom *out, struct sv_err *err);

/* Called after each page is realised, for progress bars and events. */
typedef void (*sv_story_progress_fn)(void *ctx, int pages_done, int pages_total);

/* Plans and writes the story for validated parameters. Returns a new
 * reference to the story document, or NULL with err filled. */
json_t *sv_story_generate(const struct sv_catalog *c, const struct sv_story_params *p,
                          sv_story_progress_fn progress, void *ctx, struct sv_err *err);

/* Serialises a story document the one canonical way (sorted keys, two-space
 * indent, trailing newline), so equal stories are equal bytes. Caller frees. */
char *sv_story_dump(const json_t *story);

/* ---- readability of English text (readability.c) ---- */

/* What the Flesch-Kincaid grade is made of. */
struct sv_story_text_stats {
	int sentences; /* with at least one word */
	int words;     /* counted as in the story document's "words" */
	int syllables;
};

/* Estimated syllables in one written word of len bytes (apostrophes,
 * hyphens and digits allowed: "didn't" 2, "sun-warmed" 2, "12" 2). */
int sv_story_syllables(const char *word, size_t len);
/* Calls fn for each sentence of text, in order: its bytes (from its first
 * word to its last mark, quotes included) and its counts (sentences 1).
 * How sentences end is described in docs/story-format.md. */
typedef void (*sv_story_sentence_fn)(void *ctx, const char *s, size_t len,
                                     const struct sv_story_text_stats *st);
void sv_story_sentences(const char *text, sv_story_sentence_fn fn, void *ctx);
void sv_story_text_stats(const char *text, struct sv_story_text_stats *st);
/* 0.39 * words / sentences + 11.8 * syllables / words - 15.59; 0 without words. */
double sv_story_fk_grade_of(const struct sv_story_text_stats *st);
double sv_story_fk_grade(const char *text);

/* ---- evaluation of the story engine (eval.c) ---- */

/* The measures of one story document. */
struct sv_story_measure {
	struct sv_story_text_stats stats; /* all the pages together */
	double grade;                     /* their Flesch-Kincaid grade */
	int repeated;                     /* sentences that come more than once */
	int names;                        /* 1 when every cast member is named on the pages */
	double bigrams;                   /* distinct word bigrams / all word bigrams */
};
/* Returns 0, or -1 when memory runs out. */
int sv_story_measure(const json_t *story, struct sv_story_measure *m);
/* How alike two stories are: the Jaccard index of their sets of sentences
 * (0: none shared, 1: the same), or -1 when memory runs out. */
double sv_story_overlap(const json_t *a, const json_t *b);

/* The sums for one age band (or for all stories: age "all"). */
struct sv_story_eval_band {
	char age[SV_STORY_ID_MAX];
	int has_target;              /* the age has a grade band */
	double grade_min, grade_max; /* the band; -HUGE_VAL or HUGE_VAL when open */
	int stories, failed;         /* measured; failed to generate */
	double grade_mean, grade_low, grade_high;
	double in_band; /* share of stories whose grade is in their band */
	int repeated;   /* stories with a sentence that comes twice */
	double overlap; /* mean overlap with the same parameters and another seed */
	double names;   /* share of stories that name every cast member */
	double bigrams; /* mean distinct-bigram ratio */
};

#define SV_STORY_EVAL_BANDS 8
#define SV_STORY_EVAL_DIMS  6

struct sv_story_eval {
	int n;
	uint64_t seed;
	int n_bands;
	struct sv_story_eval_band bands[SV_STORY_EVAL_BANDS];
	struct sv_story_eval_band all;
	/* how many universes, heroes, themes, morals, ages and lengths the sample used */
	struct {
		const char *what;
		int used, of;
	} cover[SV_STORY_EVAL_DIMS];
	char failure[400]; /* the first story that failed to generate, if any */
};

/* Generates n stories across the catalog, each twice with two seeds, and
 * measures them; n <= 0 takes enough for every id to appear twice. The same
 * catalog, n and seed give the same numbers. A story that fails to generate
 * is counted, not fatal; returns -1 only when memory runs out. */
int sv_story_eval_run(const struct sv_catalog *c, int n, uint64_t seed, struct sv_story_eval *e,
                      struct sv_err *err);
/* The parameters of story i of that sample (not yet validated): every
 * universe, hero, theme, moral, age and length in rounds shuffled by seed. */
void sv_story_sample_params(const struct sv_catalog *c, uint64_t seed, int i,
                            struct sv_story_params *p);
/* The evaluation as JSON (what `storyverse eval --json` prints). New reference. */
json_t *sv_story_eval_json(const struct sv_story_eval *e);

#endif
