/*
 * Characters: a sheet per character, and drawing it in any expression and pose.
 *
 * A sheet is read from a character's catalog entry: the species picks a body
 * plan, a size and default colours from data/art/bodies.json, and the words of
 * its looks ("a small brown mouse with a red scarf") override the colours and
 * add accessories. The sheet is a pure function of the entry, so a character
 * looks the same on every page and in every episode.
 *
 * Drawing works in units of the character's height with the feet at the
 * origin, facing right (x grows forward, y grows down); facing left is the
 * same drawing mirrored. Every shape is filled and outlined through the
 * style's ill_fill and ill_stroke, with a soft highlight on the big rounds.
 *
 * The sheet's two integers carry what a body plan needs: `body` packs the plan,
 * the ears, the tail, the detail colour (nose, beak, horns or hair) and the
 * body's own features; `features` holds the rest of the feature flags.
 */
#include "illustrate/internal.h"

#include <ctype.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* ---- what a sheet can say ---- */

enum plan {
	P_HUMAN,
	P_CRITTER,
	P_QUADRUPED,
	P_DINO,
	P_LONGNECK,
	P_BIRD,
	P_FLYER,
	P_FISH,
	P_OCTOPUS,
	P_TURTLE,
	P_SNAIL,
	P_ROBOT,
	P_STAR,
	P_SPRITE,
	P_FROG,
	P_SEAL,
	P_BUG,
	P_COUNT
};

static const char *const plan_names[P_COUNT] = {
    "human",  "critter", "quadruped", "dino", "longneck", "bird", "flyer", "fish", "octopus",
    "turtle", "snail",   "robot",     "star", "sprite",   "frog", "seal",  "bug"};

enum ears { E_NONE, E_ROUND, E_SMALL, E_LONG, E_POINTED, E_HUGE, E_FLOPPY, E_SIDE };
static const char *const ear_names[] = {"none",    "round", "small",  "long",
                                        "pointed", "huge",  "floppy", "side"};

enum tail { T_NONE, T_THIN, T_FLUFFY, T_BUSHY, T_STUB, T_LONG, T_THICK, T_CURLY };
static const char *const tail_names[] = {"none", "thin", "fluffy", "bushy",
                                         "stub", "long", "thick",  "curly"};

/* Feature flags, by bit: 0-31 live in sheet.features, 32-46 in sheet.body. */
enum feature {
	F_SCARF,
	F_HAT,
	F_CROWN,
	F_CAPE,
	F_PATCH,
	F_GLASSES,
	F_BOWTIE,
	F_HELMET,
	F_BACKPACK,
	F_FLOWER,
	F_VEST,
	F_SUIT,
	F_BAG,
	F_DRUM,
	F_WAND,
	F_DRESS,
	F_WIZHAT,
	F_LONGHAIR,
	F_STRIPY,
	F_SPOTS,
	F_STRIPES,
	F_EGGHAT,
	F_BIGBEAK,
	F_FLATBEAK,
	F_FACEPATCH,
	F_OWLEYES,
	F_GLOW,
	F_STARS,
	F_EYERINGS,
	F_BIGPAWS,
	F_CLAWS,
	F_SLIM,
	F_SPIKES,
	F_WINGS,
	F_HORNS,
	F_FRILL,
	F_PLATES,
	F_CREST,
	F_SPINES,
	F_TUSKS,
	F_HUMP,
	F_SNOUT,
	F_WHISKERS,
	F_MANE,
	F_TRUNK,
	F_ANTLERS,
	F_COUNT
};

static const char *const feature_names[F_COUNT] = {
    "scarf",     "hat",      "crown",      "cape",       "patch",    "glasses", "bow-tie",
    "helmet",    "backpack", "flower",     "vest",       "suit",     "bag",     "drum",
    "wand",      "dress",    "wizard-hat", "long-hair",  "stripy",   "spots",   "stripes",
    "egg-hat",   "big-beak", "flat-beak",  "face-patch", "owl-eyes", "glow",    "stars",
    "eye-rings", "big-paws", "claws",      "slim",       "spikes",   "wings",   "horns",
    "frill",     "plates",   "crest",      "spines",     "tusks",    "hump",    "snout",
    "whiskers",  "mane",     "trunk",      "antlers"};

/* Named colours: the colour words of looks, and the detail colours of bodies.json. */
struct named_rgb {
	const char *name;
	unsigned hex;
};

static const struct named_rgb colours[] = {
    {"brown", 0x9A6B47},      {"red", 0xD9433A},    {"blue", 0x4A90D9},      {"golden", 0xE8B33A},
    {"gold", 0xE8B33A},       {"silver", 0xC9CED6}, {"white", 0xF6F4EF},     {"black", 0x2E2A30},
    {"grey", 0x9A9AA2},       {"gray", 0x9A9AA2},   {"orange", 0xF08A3C},    {"pink", 0xF4A3B8},
    {"purple", 0x9C6ADE},     {"green", 0x6DBE5A},  {"yellow", 0xF7D44A},    {"lime", 0xA5D64B},
    {"sandy", 0xE3C08E},      {"tan", 0xD2B48C},    {"cream", 0xF4E8CC},     {"ginger", 0xD9772E},
    {"ivory", 0xF3EEDC},      {"teal", 0x26A69A},   {"auburn", 0xA5502E},    {"blonde", 0xE9C46A},
    {"dark-brown", 0x5A3A28}, {"violet", 0x8E6AD8}, {"turquoise", 0x40C4C4}, {"rosy", 0xF2A1A1},
    {"lilac", 0xC8A2C8},      {"copper", 0xB87333}, {"crimson", 0xC0283C},
};

/* The detail colours a sheet can hold (5 bits), the first the default. */
static const char *const detail_names[] = {
    "black",  "pink",       "orange", "yellow", "ivory",  "brown",  "grey",  "red",
    "white",  "green",      "gold",   "blue",   "purple", "tan",    "teal",  "auburn",
    "blonde", "dark-brown", "silver", "sandy",  "lime",   "golden", "cream", "ginger"};

/* Words for what a colour in looks describes. */
enum noun_kind { N_MAIN, N_SECOND, N_ACCENT, N_DETAIL, N_EYES, N_OUTFIT };

struct noun {
	const char *word;
	enum noun_kind kind;
	int feature;  /* set when the word is seen, -1 for none */
	unsigned hex; /* the accessory's own colour when looks give none, 0 for none */
};

static const struct noun nouns[] = {
    {"fur", N_MAIN, -1, 0},
    {"skin", N_MAIN, -1, 0},
    {"scales", N_MAIN, -1, 0},
    {"coat", N_MAIN, -1, 0},
    {"prickles", N_MAIN, -1, 0},
    {"feathers", N_MAIN, -1, 0},
    {"body", N_MAIN, -1, 0},
    {"belly", N_SECOND, -1, 0},
    {"tummy", N_SECOND, -1, 0},
    {"face", N_SECOND, -1, 0},
    {"chest", N_SECOND, -1, 0},
    {"eyes", N_EYES, -1, 0},
    {"scarf", N_ACCENT, F_SCARF, 0},
    {"shawl", N_ACCENT, F_SCARF, 0},
    {"bandana", N_ACCENT, F_SCARF, 0},
    {"hat", N_ACCENT, F_HAT, 0},
    {"cap", N_ACCENT, F_HAT, 0},
    {"beanie", N_ACCENT, F_HAT, 0},
    {"flowerpot", N_ACCENT, F_HAT, 0xC46A3F},
    {"crown", N_ACCENT, F_CROWN, 0xF2C230},
    {"tiara", N_ACCENT, F_CROWN, 0xF2C230},
    {"cape", N_ACCENT, F_CAPE, 0},
    {"cloak", N_OUTFIT, F_CAPE, 0},
    {"patch", N_ACCENT, F_PATCH, 0},
    {"spectacles", N_ACCENT, F_GLASSES, 0},
    {"glasses", N_ACCENT, F_GLASSES, 0},
    {"goggles", N_ACCENT, F_GLASSES, 0},
    {"bow", N_ACCENT, F_BOWTIE, 0},
    {"helmet", N_ACCENT, F_HELMET, 0},
    {"backpack", N_ACCENT, F_BACKPACK, 0},
    {"satchel", N_ACCENT, F_BAG, 0xA1795A},
    {"saddlebag", N_ACCENT, F_BAG, 0xA1795A},
    {"bag", N_ACCENT, F_BAG, 0},
    {"belt", N_ACCENT, F_BAG, 0x8A5A3C},
    {"daisy", N_ACCENT, F_FLOWER, 0},
    {"flower", N_ACCENT, F_FLOWER, 0},
    {"waistcoat", N_ACCENT, F_VEST, 0},
    {"vest", N_ACCENT, F_VEST, 0},
    {"jumper", N_ACCENT, F_VEST, 0},
    {"sweater", N_ACCENT, F_VEST, 0},
    {"suit", N_OUTFIT, F_SUIT, 0},
    {"gown", N_OUTFIT, F_DRESS, 0},
    {"dress", N_OUTFIT, F_DRESS, 0},
    {"robe", N_OUTFIT, F_CAPE, 0},
    {"drum", N_ACCENT, F_DRUM, 0xC2562C},
    {"wand", N_ACCENT, F_WAND, 0},
    {"light", N_ACCENT, -1, 0},
    {"beak", N_DETAIL, -1, 0},
    {"nose", N_DETAIL, -1, 0},
    {"horns", N_DETAIL, F_HORNS, 0},
    {"tusks", N_DETAIL, F_TUSKS, 0},
    {"hair", N_DETAIL, -1, 0},
    {"plait", N_DETAIL, F_LONGHAIR, 0},
    {"braid", N_DETAIL, F_LONGHAIR, 0},
    {"pigtails", N_DETAIL, F_LONGHAIR, 0},
    {"curls", N_DETAIL, -1, 0},
    {"spots", N_DETAIL, F_SPOTS, 0},
    {"stripes", N_DETAIL, F_STRIPES, 0},
    {"toes", N_DETAIL, -1, 0},
    {"crest", N_DETAIL, F_CREST, 0},
    {"mane", N_DETAIL, F_MANE, 0},
    {"spines", N_DETAIL, F_SPIKES, 0},
    {"wings", N_MAIN, F_WINGS, 0},
    {"whiskers", N_DETAIL, F_WHISKERS, 0},
    {"hump", N_MAIN, F_HUMP, 0},
    {"claws", N_DETAIL, F_CLAWS, 0},
};

/* Words that only set a feature. */
static const struct {
	const char *word;
	int feature;
} markers[] = {
    {"spotted", F_SPOTS}, {"spotty", F_SPOTS}, {"starry", F_STARS}, {"frilly", F_FRILL},
    {"frill", F_FRILL},   {"glows", F_GLOW},   {"glowing", F_GLOW}, {"rings", F_EYERINGS},
};

/* ---- packing the sheet ---- */

#define BODY_PLAN(b)   ((unsigned)(b)&0x1Fu)
#define BODY_EARS(b)   (((unsigned)(b) >> 5) & 0x7u)
#define BODY_TAIL(b)   (((unsigned)(b) >> 8) & 0x7u)
#define BODY_DETAIL(b) (((unsigned)(b) >> 11) & 0x1Fu)

static uint64_t sheet_bits(const struct ill_sheet *sh)
{
	return sh->features | ((uint64_t)(((unsigned)sh->body >> 16) & 0x7FFFu) << 32);
}

static void set_bits(struct ill_sheet *sh, uint64_t bits)
{
	sh->features = (unsigned)(bits & 0xFFFFFFFFu);
	sh->body = (int)(((unsigned)sh->body & 0xFFFFu) | (unsigned)((bits >> 32) & 0x7FFFu) << 16);
}

static void set_feature(struct ill_sheet *sh, int f)
{
	if (f >= 0)
		set_bits(sh, sheet_bits(sh) | (uint64_t)1 << f);
}

static void pack_body(struct ill_sheet *sh, unsigned plan, unsigned ears, unsigned tail,
                      unsigned detail)
{
	uint64_t bits = sheet_bits(sh);
	sh->body = (int)(plan | ears << 5 | tail << 8 | detail << 11);
	set_bits(sh, bits);
}

static struct ill_rgb rgb_hex(unsigned hex)
{
	return (struct ill_rgb){((hex >> 16) & 0xFF) / 255.0, ((hex >> 8) & 0xFF) / 255.0,
	                        (hex & 0xFF) / 255.0};
}

static int index_of(const char *const *names, size_t n, const char *s)
{
	for (size_t i = 0; s && i < n; i++) {
		if (strcmp(names[i], s) == 0)
			return (int)i;
	}
	return -1;
}

static const struct named_rgb *colour_named(const char *w)
{
	for (size_t i = 0; i < COUNT(colours); i++) {
		if (strcmp(colours[i].name, w) == 0)
			return &colours[i];
	}
	return NULL;
}

static struct ill_rgb detail_rgb(unsigned i)
{
	const struct named_rgb *c =
	    colour_named(i < COUNT(detail_names) ? detail_names[i] : detail_names[0]);
	return rgb_hex(c ? c->hex : 0x2E2A30);
}

/* ---- bodies.json, parsed once ---- */

static json_t *bodies;
static pthread_once_t bodies_once = PTHREAD_ONCE_INIT;

static void load_bodies(void)
{
	const struct sv_asset *a = sv_asset_find("data/art/bodies.json");
	if (a)
		bodies = json_loadb((const char *)a->data, a->len, 0, NULL);
}

static const json_t *species_table(void)
{
	pthread_once(&bodies_once, load_bodies);
	return json_object_get(bodies, "species");
}

/* The body entry of a species: the exact name, else the longest listed name
 * that ends it as whole words ("baby star-whale", "purple cat"), else the
 * fallback. */
static const json_t *body_entry(const char *species)
{
	const json_t *table = species_table();
	const json_t *exact = json_object_get(table, species);
	if (exact)
		return exact;
	const char *key, *best = NULL;
	const json_t *v;
	size_t n = strlen(species);
	json_object_foreach((json_t *)table, key, v)
	{
		size_t k = strlen(key);
		if (k < n && strcmp(species + n - k, key) == 0 && species[n - k - 1] == ' ' &&
		    (!best || k > strlen(best)))
			best = key;
	}
	return best ? json_object_get(table, best) : json_object_get(bodies, "fallback");
}

static struct ill_rgb entry_rgb(const json_t *e, const char *key, unsigned dflt)
{
	struct ill_rgb c = rgb_hex(dflt);
	const char *hex = json_string_value(json_object_get(e, key));
	if (hex)
		ill_rgb_parse(hex, &c);
	return c;
}

static void apply_entry(struct ill_sheet *sh, const json_t *e)
{
	sh->size = json_number_value(json_object_get(e, "size"));
	if (sh->size <= 0.1 || sh->size > 3)
		sh->size = 0.7;
	sh->main = entry_rgb(e, "main", 0xB0967A);
	sh->second = entry_rgb(e, "second", 0xF1E2CF);
	sh->accent = entry_rgb(e, "accent", 0xE0533F);
	sh->eyes = entry_rgb(e, "eyes", 0x1E1A1A);
	int plan = index_of(plan_names, P_COUNT, json_string_value(json_object_get(e, "plan")));
	int ears =
	    index_of(ear_names, COUNT(ear_names), json_string_value(json_object_get(e, "ears")));
	int tail =
	    index_of(tail_names, COUNT(tail_names), json_string_value(json_object_get(e, "tail")));
	int detail = index_of(detail_names, COUNT(detail_names),
	                      json_string_value(json_object_get(e, "detail")));
	pack_body(sh, plan < 0 ? P_CRITTER : (unsigned)plan, ears < 0 ? E_NONE : (unsigned)ears,
	          tail < 0 ? T_NONE : (unsigned)tail, detail < 0 ? 0 : (unsigned)detail);
	size_t i;
	const json_t *f;
	json_array_foreach(json_object_get(e, "features"), i, f)
	    set_feature(sh, index_of(feature_names, F_COUNT, json_string_value(f)));
}

/* ---- reading looks ---- */

#define MAX_WORDS 64

/* Lower-case words of letters; "," and "." and ";" become "," so a colour
 * never reaches across a clause. Hyphens split words ("lime-green"). */
static int tokenise(const char *s, char words[][24], int max)
{
	int n = 0;
	while (*s && n < max) {
		if (isalpha((unsigned char)*s)) {
			int k = 0;
			while (isalpha((unsigned char)*s) || *s == '\'') {
				if (k < 23 && *s != '\'')
					words[n][k++] = (char)tolower((unsigned char)*s);
				s++;
			}
			words[n++][k] = '\0';
		} else {
			if (strchr(",.;:", *s) && n > 0 && strcmp(words[n - 1], ",") != 0)
				strcpy(words[n++], ",");
			s++;
		}
	}
	return n;
}

static const struct noun *noun_named(const char *w)
{
	for (size_t i = 0; i < COUNT(nouns); i++) {
		if (strcmp(nouns[i].word, w) == 0)
			return &nouns[i];
	}
	return NULL;
}

static bool is_species_word(const char *w, const char *species)
{
	size_t n = strlen(w);
	for (const char *p = strstr(species, w); p; p = strstr(p + 1, w)) {
		if ((p == species || !isalpha((unsigned char)p[-1])) &&
		    !isalpha((unsigned char)p[n]))
			return true;
	}
	return false;
}

struct looks_state {
	struct ill_sheet *sh;
	bool human;
	bool has_main, has_second, has_accent, has_detail, has_eyes;
};

static void give_colour(struct looks_state *ls, enum noun_kind kind, struct ill_rgb c,
                        const char *name)
{
	struct ill_sheet *sh = ls->sh;
	if (kind == N_OUTFIT)
		kind = ls->human ? N_MAIN : N_ACCENT;
	if (kind == N_MAIN && !ls->has_main) {
		sh->main = c;
		ls->has_main = true;
	} else if (kind == N_SECOND && !ls->has_second) {
		sh->second = c;
		ls->has_second = true;
	} else if (kind == N_ACCENT && !ls->has_accent) {
		sh->accent = c;
		ls->has_accent = true;
	} else if (kind == N_EYES && !ls->has_eyes) {
		sh->eyes = c;
		ls->has_eyes = true;
	} else if (kind == N_DETAIL && !ls->has_detail) {
		int d = index_of(detail_names, COUNT(detail_names), name);
		if (d >= 0) {
			pack_body(sh, BODY_PLAN(sh->body), BODY_EARS(sh->body), BODY_TAIL(sh->body),
			          (unsigned)d);
			ls->has_detail = true;
		}
	}
}

/* What the colour at words[i] describes: the first noun within three words
 * after it, or the species; -1 when nothing it could colour follows. */
static int colour_target(char words[][24], int i, int n, const char *species,
                         const struct noun **noun)
{
	for (int k = i + 1; k < n && k <= i + 3 && strcmp(words[k], ",") != 0; k++) {
		*noun = noun_named(words[k]);
		if (*noun)
			return (*noun)->kind;
		if (is_species_word(words[k], species))
			return N_MAIN;
	}
	return -1;
}

static void read_colour(struct looks_state *ls, char words[][24], int i, int n, const char *species,
                        const char *context)
{
	const struct named_rgb *c = colour_named(words[i]);
	const struct noun *noun = NULL;
	int kind = colour_target(words, i, n, species, &noun);
	if (kind < 0 && context)
		kind = noun_named(context) ? (int)noun_named(context)->kind : -1;
	if (kind < 0 && !ls->has_main)
		kind = N_MAIN; /* "a golden star": the first colour is the body's */
	if (kind >= 0)
		give_colour(ls, (enum noun_kind)kind, rgb_hex(c->hex), c->name);
}

static void read_word(struct looks_state *ls, char words[][24], int i, const char **context)
{
	const struct noun *nn = noun_named(words[i]);
	for (size_t m = 0; m < COUNT(markers); m++) {
		if (strcmp(markers[m].word, words[i]) == 0)
			set_feature(ls->sh, markers[m].feature);
	}
	if (strcmp(words[i], "striped") == 0) /* stripes on the accessory that follows */
		set_feature(ls->sh, F_STRIPY);
	if (!nn)
		return;
	*context = nn->word;
	int f = nn->feature;
	if (f == F_HAT && i > 0 &&
	    (!strcmp(words[i - 1], "pointy") || !strcmp(words[i - 1], "wizard")))
		f = F_WIZHAT;
	if (f == F_SUIT && ls->human)
		f = -1; /* a person's suit is their outfit, drawn as the body */
	set_feature(ls->sh, f);
	if (nn->hex && !ls->has_accent) {
		ls->sh->accent = rgb_hex(nn->hex);
		ls->has_accent = true;
	}
}

static void read_looks(struct ill_sheet *sh, const char *looks, const char *species, bool human,
                       bool *named_hair)
{
	char words[MAX_WORDS][24];
	int n = tokenise(looks, words, MAX_WORDS);
	struct looks_state ls = {.sh = sh, .human = human};
	const char *context = NULL;
	for (int i = 0; i < n; i++) {
		if (!strcmp(words[i], "like") || !strcmp(words[i], "as")) {
			while (i < n &&
			       strcmp(words[i], ",") != 0) /* a simile says what it is not */
				i++;
			continue;
		}
		if (!strcmp(words[i], ",")) {
			context = NULL;
			continue;
		}
		if (colour_named(words[i])) {
			read_colour(&ls, words, i, n, species, context);
			while (i + 1 < n && colour_named(words[i + 1]))
				i++; /* "lime green", "orange, yellow": the first names it */
		} else {
			read_word(&ls, words, i, &context);
		}
	}
	*named_hair = ls.has_detail;
}

/* A person's skin and hair, from their name when looks do not say. */
static void person_colours(struct ill_sheet *sh, uint64_t h, bool named_hair)
{
	static const unsigned skins[] = {0xF6D2B4, 0xE9B48A, 0xC98E62, 0x9C6844, 0x6E4A33};
	static const char *const hairs[] = {"dark-brown", "black", "blonde", "auburn", "brown"};
	sh->second = rgb_hex(skins[h % COUNT(skins)]);
	if (!named_hair) {
		int d = index_of(detail_names, COUNT(detail_names), hairs[(h >> 8) % COUNT(hairs)]);
		pack_body(sh, BODY_PLAN(sh->body), BODY_EARS(sh->body), BODY_TAIL(sh->body),
		          (unsigned)d);
	}
}

/* A custom character with no looks: friendly colours from its name and species. */
static void custom_colours(struct ill_sheet *sh, uint64_t h)
{
	static const unsigned palette[] = {0xE8964A, 0x6DBE5A, 0x5DA9E9, 0xC77DD9, 0xF2C230,
	                                   0xE86A8A, 0x4DB6AC, 0xA1795A, 0x9575CD, 0xF08A3C};
	if (BODY_PLAN(sh->body) != P_HUMAN) {
		struct ill_rgb base = rgb_hex(palette[h % COUNT(palette)]);
		sh->main = ill_rgb_mix(sh->main, base, 0.6);
		sh->second = ill_rgb_mix(sh->main, (struct ill_rgb){1, 1, 1}, 0.7);
	} else {
		sh->main = rgb_hex(palette[h % COUNT(palette)]);
	}
	sh->accent = rgb_hex(palette[(h >> 16) % COUNT(palette)]);
}

static void copy_lower(char *dst, size_t cap, const char *src)
{
	size_t i = 0;
	for (; src[i] && i + 1 < cap; i++)
		dst[i] = (char)tolower((unsigned char)src[i]);
	dst[i] = '\0';
}

/* What a custom character's traits show when nothing describes its looks:
 * the same traits give the same things to wear or carry. */
static const struct {
	const char *trait;
	int feature;
} trait_features[] = {
    {"brave", F_CAPE},   {"bold", F_CAPE},        {"clever", F_GLASSES},
    {"wise", F_GLASSES}, {"bookish", F_GLASSES},  {"smart", F_GLASSES},
    {"shy", F_SCARF},    {"gentle", F_SCARF},     {"cosy", F_SCARF},
    {"funny", F_BOWTIE}, {"silly", F_BOWTIE},     {"cheerful", F_FLOWER},
    {"kind", F_FLOWER},  {"curious", F_BACKPACK}, {"adventurous", F_BACKPACK},
    {"musical", F_DRUM}, {"magical", F_WAND},     {"royal", F_CROWN},
    {"proud", F_CROWN},  {"sporty", F_HAT},       {"sleepy", F_HAT},
};

static void trait_looks(struct ill_sheet *sh, const json_t *traits)
{
	size_t i;
	const json_t *t;
	json_array_foreach(traits, i, t)
	{
		for (size_t k = 0; json_is_string(t) && k < COUNT(trait_features); k++)
			if (strcasecmp(json_string_value(t), trait_features[k].trait) == 0)
				set_feature(sh, trait_features[k].feature);
	}
}

int ill_sheet_from_json(const json_t *character, struct ill_sheet *out, struct sv_err *err)
{
	const char *species = json_string_value(json_object_get(character, "species"));
	if (!species || !*species)
		return sv_err_set(err, "invalid_value", "species", "the character has no species");
	const char *name = json_string_value(json_object_get(character, "name"));
	const char *id = json_string_value(json_object_get(character, "id"));
	const char *looks = json_string_value(json_object_get(character, "looks"));
	memset(out, 0, sizeof(*out));
	snprintf(out->name, sizeof(out->name), "%s", name ? name : id ? id : species);
	copy_lower(out->species, sizeof(out->species), species);
	apply_entry(out, body_entry(out->species));
	bool human = BODY_PLAN(out->body) == P_HUMAN, named_hair = false;
	if (looks)
		read_looks(out, looks, out->species, human, &named_hair);
	char key[160];
	int n = snprintf(key, sizeof(key), "%s/%s", out->name, out->species);
	uint64_t h = sv_hash64(key, (size_t)(n < (int)sizeof(key) ? n : (int)sizeof(key) - 1), 7);
	if (!looks) {
		custom_colours(out, h);
		trait_looks(out, json_object_get(character, "traits"));
	}
	if (human)
		person_colours(out, h, named_hair);
	return 0;
}

/* ---- expressions ---- */

const char *const ill_expression_names[ILL_EXPRESSION_COUNT] = {"happy", "scared",     "surprised",
                                                                "sad",   "determined", "sleepy"};

static const struct {
	const char *mood;
	enum ill_expression e;
} moods[] = {
    {"cheerful", ILL_HAPPY},
    {"calm", ILL_HAPPY},
    {"sunny", ILL_HAPPY},
    {"worried", ILL_SCARED},
    {"curious", ILL_SURPRISED},
    {"surprised", ILL_SURPRISED},
    {"excited", ILL_SURPRISED},
    {"hopeful", ILL_HAPPY},
    {"adventurous", ILL_DETERMINED},
    {"determined", ILL_DETERMINED},
    {"tense", ILL_SCARED},
    {"brave", ILL_DETERMINED},
    {"peaceful", ILL_SLEEPY},
    {"sleepy", ILL_SLEEPY},
    {"sad", ILL_SAD},
    {"gloomy", ILL_SAD},
    {"thoughtful", ILL_HAPPY},
    {"joyful", ILL_HAPPY},
    {"proud", ILL_DETERMINED},
    {"friendly", ILL_HAPPY},
    {"scared", ILL_SCARED},
    {"stormy", ILL_SCARED},
    {"spooky", ILL_SCARED},
    {"happy", ILL_HAPPY},
};

enum ill_expression ill_expression_for_mood(const char *mood)
{
	for (size_t i = 0; mood && i < COUNT(moods); i++) {
		if (strcasecmp(moods[i].mood, mood) == 0)
			return moods[i].e;
	}
	return ILL_HAPPY;
}

/* ---- drawing: a pen in character units ---- */

struct pen {
	cairo_t *cr;
	double u;  /* pixels per unit: the character's whole height */
	double lw; /* outline width in pixels */
	const struct ill_style *st;
	struct sv_rng *rng;
	const struct ill_sheet *sh;
	uint64_t bits;
	unsigned ears, tail;
	struct ill_rgb detail;
	enum ill_expression e;
	enum ill_pose pose;
};

static bool has(const struct pen *p, enum feature f)
{
	return (p->bits >> f) & 1u;
}

static struct ill_rgb outline_of(struct ill_rgb c)
{
	return ill_rgb_mix(ill_rgb_shade(c, -0.55), (struct ill_rgb){0.22, 0.15, 0.18}, 0.35);
}

static void ell(const struct pen *p, double cx, double cy, double rx, double ry)
{
	cairo_save(p->cr);
	cairo_translate(p->cr, cx * p->u, cy * p->u);
	cairo_scale(p->cr, rx * p->u, ry * p->u);
	cairo_new_sub_path(p->cr);
	cairo_arc(p->cr, 0, 0, 1, 0, 2 * M_PI);
	cairo_close_path(p->cr);
	cairo_restore(p->cr);
}

static void move(const struct pen *p, double x, double y)
{
	cairo_move_to(p->cr, x * p->u, y * p->u);
}

static void line(const struct pen *p, double x, double y)
{
	cairo_line_to(p->cr, x * p->u, y * p->u);
}

static void curve(const struct pen *p, double x1, double y1, double x2, double y2, double x3,
                  double y3)
{
	cairo_curve_to(p->cr, x1 * p->u, y1 * p->u, x2 * p->u, y2 * p->u, x3 * p->u, y3 * p->u);
}

/* A limb: a tube from a to b with round ends. */
static void capsule(const struct pen *p, double ax, double ay, double bx, double by, double r)
{
	double a = atan2(by - ay, bx - ax);
	cairo_new_sub_path(p->cr);
	cairo_arc(p->cr, bx * p->u, by * p->u, r * p->u, a - M_PI / 2, a + M_PI / 2);
	cairo_arc(p->cr, ax * p->u, ay * p->u, r * p->u, a + M_PI / 2, a + 3 * M_PI / 2);
	cairo_close_path(p->cr);
}

/* A tapering tube along a quadratic curve a → (via c) → b, from radius r0 to r1. */
static void taper(const struct pen *p, double ax, double ay, double cx, double cy, double bx,
                  double by, double r0, double r1)
{
	enum { N = 12 };
	double xs[N + 1], ys[N + 1], nx[N + 1], ny[N + 1];
	for (int i = 0; i <= N; i++) {
		double t = (double)i / N, s = 1 - t;
		xs[i] = s * s * ax + 2 * s * t * cx + t * t * bx;
		ys[i] = s * s * ay + 2 * s * t * cy + t * t * by;
		double dx = 2 * s * (cx - ax) + 2 * t * (bx - cx),
		       dy = 2 * s * (cy - ay) + 2 * t * (by - cy);
		double len = hypot(dx, dy) + 1e-9, r = r0 + (r1 - r0) * t;
		nx[i] = -dy / len * r;
		ny[i] = dx / len * r;
	}
	cairo_new_sub_path(p->cr);
	for (int i = 0; i <= N; i++)
		line(p, xs[i] + nx[i], ys[i] + ny[i]);
	double a = atan2(ny[N], nx[N]);
	cairo_arc_negative(p->cr, xs[N] * p->u, ys[N] * p->u, r1 * p->u, a, a - M_PI);
	for (int i = N; i >= 0; i--)
		line(p, xs[i] - nx[i], ys[i] - ny[i]);
	a = atan2(-ny[0], -nx[0]);
	cairo_arc_negative(p->cr, xs[0] * p->u, ys[0] * p->u, r0 * p->u, a, a - M_PI);
	cairo_close_path(p->cr);
}

/* Fills the current path the style's way and outlines it. */
static void paint(const struct pen *p, struct ill_rgb c)
{
	cairo_path_t *path = cairo_copy_path(p->cr);
	ill_fill(p->cr, p->st, c, p->rng);
	cairo_append_path(p->cr, path);
	cairo_path_destroy(path);
	ill_stroke(p->cr, p->st, outline_of(c), p->lw, p->rng);
}

/* Fills without an outline: small marks, patterns. */
static void dab(const struct pen *p, struct ill_rgb c)
{
	ill_fill(p->cr, p->st, c, p->rng);
}

static void ink(const struct pen *p, struct ill_rgb c, double width)
{
	ill_stroke(p->cr, p->st, c, width * p->lw, p->rng);
}

/* A soft light on the upper side of a round, the picture book's sheen. */
static void gloss(const struct pen *p, double cx, double cy, double rx, double ry)
{
	cairo_t *cr = p->cr;
	cairo_save(cr);
	cairo_translate(cr, (cx - 0.25 * rx) * p->u, (cy - 0.35 * ry) * p->u);
	cairo_scale(cr, rx * 0.6 * p->u, ry * 0.5 * p->u);
	cairo_pattern_t *g = cairo_pattern_create_radial(0, 0, 0, 0, 0, 1);
	cairo_pattern_add_color_stop_rgba(g, 0, 1, 1, 1, 0.38);
	cairo_pattern_add_color_stop_rgba(g, 1, 1, 1, 1, 0);
	cairo_set_source(cr, g);
	cairo_arc(cr, 0, 0, 1, 0, 2 * M_PI);
	cairo_fill(cr);
	cairo_pattern_destroy(g);
	cairo_restore(cr);
}

/* A round part with its highlight. */
static void ball(const struct pen *p, double cx, double cy, double rx, double ry, struct ill_rgb c)
{
	ell(p, cx, cy, rx, ry);
	paint(p, c);
	gloss(p, cx, cy, rx, ry);
}

static const struct ill_rgb WHITE = {1, 1, 1}, DARK = {0.16, 0.12, 0.14};
static const struct ill_rgb BLUSH = {0.96, 0.55, 0.58}, MOUTH = {0.55, 0.18, 0.22};

/* ---- faces ---- */

struct face {
	double ex[2], ey;    /* the eyes' centres, back eye first */
	double r;            /* eye radius */
	double mx, my, mw;   /* mouth centre and half width */
	struct ill_rgb skin; /* what the lids are made of */
	bool no_mouth;       /* a beak speaks for it */
	bool no_blush;
};

static void sparkle(const struct pen *p, double x, double y, double r)
{
	ell(p, x + 0.32 * r, y - 0.35 * r, 0.3 * r, 0.3 * r);
	dab(p, WHITE);
	ell(p, x - 0.25 * r, y + 0.35 * r, 0.13 * r, 0.13 * r);
	dab(p, WHITE);
}

/* One eye: a dark bead with a sparkle, or wide and white when startled. */
static void eye(const struct pen *p, const struct face *f, double x, double y)
{
	double r = f->r;
	struct ill_rgb iris = p->sh->eyes;
	bool light = 0.3 * iris.r + 0.59 * iris.g + 0.11 * iris.b > 0.3;
	if (p->e == ILL_SURPRISED || p->e == ILL_SCARED) {
		ell(p, x, y, 1.15 * r, 1.25 * r);
		paint(p, WHITE);
		double pr = p->e == ILL_SCARED ? 0.45 : 0.62;
		ell(p, x + 0.1 * r, y, pr * r, pr * r * 1.1);
		dab(p, light ? iris : DARK);
		sparkle(p, x + 0.1 * r, y, pr * r);
		return;
	}
	double dy = p->e == ILL_SAD ? 0.15 * r : 0;
	if (light) { /* coloured eyes get a pupil */
		ell(p, x, y + dy, 0.85 * r, r);
		paint(p, iris);
		ell(p, x + 0.1 * r, y + dy, 0.42 * r, 0.55 * r);
		dab(p, DARK);
	} else {
		ell(p, x, y + dy, 0.8 * r, r);
		dab(p, iris);
	}
	sparkle(p, x, y + dy, p->e == ILL_SAD ? 1.15 * r : r);
}

/* The lid over an eye: sleepy halfway down, determined slanted. */
static void lid(const struct pen *p, const struct face *f, double x, double y, int side)
{
	double r = f->r * 1.3;
	if (p->e == ILL_SLEEPY) {
		move(p, x - r, y - 1.4 * r);
		line(p, x + r, y - 1.4 * r);
		line(p, x + r, y + 0.05 * f->r);
		curve(p, x + 0.4 * r, y + 0.35 * f->r, x - 0.4 * r, y + 0.35 * f->r, x - r,
		      y + 0.05 * f->r);
		cairo_close_path(p->cr);
		dab(p, f->skin);
		move(p, x - 0.85 * r, y + 0.05 * f->r);
		curve(p, x - 0.3 * r, y + 0.4 * f->r, x + 0.3 * r, y + 0.4 * f->r, x + 0.85 * r,
		      y + 0.05 * f->r);
		ink(p, outline_of(f->skin), 1.1);
	} else if (p->e == ILL_DETERMINED) {
		double inner = side ? -1 : 1; /* the lid dips towards the nose */
		move(p, x - r, y - 1.5 * r);
		line(p, x + r, y - 1.5 * r);
		line(p, x + r, y + (inner > 0 ? -0.5 : 0.0) * f->r);
		line(p, x - r, y + (inner > 0 ? 0.0 : -0.5) * f->r);
		cairo_close_path(p->cr);
		dab(p, f->skin);
	}
}

/* Brows: outer and inner heights above the eye, in eye radii, per expression. */
static const struct {
	double outer, inner;
	bool shown;
} brows[ILL_EXPRESSION_COUNT] = {
    [ILL_HAPPY] = {1.7, 1.75, false},     [ILL_SCARED] = {1.5, 2.1, true},
    [ILL_SURPRISED] = {2.1, 2.1, true},   [ILL_SAD] = {1.45, 2.0, true},
    [ILL_DETERMINED] = {1.8, 1.05, true}, [ILL_SLEEPY] = {1.5, 1.5, false},
};

static void brow(const struct pen *p, const struct face *f, double x, int side)
{
	if (!brows[p->e].shown)
		return;
	double r = f->r, toward = side ? -1 : 1; /* +1: the inner end is to the right */
	double xo = x - toward * 0.8 * r, xi = x + toward * 0.8 * r;
	move(p, xo, f->ey - brows[p->e].outer * r);
	line(p, xi, f->ey - brows[p->e].inner * r);
	ink(p, outline_of(f->skin), 1.6);
}

static void mouth(const struct pen *p, const struct face *f)
{
	double x = f->mx, y = f->my, w = f->mw;
	switch (p->e) {
	case ILL_HAPPY:
		move(p, x - w, y);
		curve(p, x - w * 0.7, y + w * 1.2, x + w * 0.7, y + w * 1.2, x + w, y);
		curve(p, x + w * 0.4, y + w * 0.25, x - w * 0.4, y + w * 0.25, x - w, y);
		cairo_close_path(p->cr);
		paint(p, MOUTH);
		break;
	case ILL_SURPRISED:
		ell(p, x, y + 0.3 * w, 0.42 * w, 0.55 * w);
		paint(p, MOUTH);
		break;
	case ILL_SCARED:
		move(p, x - w, y + 0.3 * w);
		for (int i = 1; i <= 4; i++)
			line(p, x - w + i * 0.5 * w, y + (i % 2 ? 0.05 : 0.3) * w);
		ink(p, DARK, 1.3);
		break;
	case ILL_SAD:
		move(p, x - 0.8 * w, y + 0.45 * w);
		curve(p, x - 0.4 * w, y - 0.05 * w, x + 0.4 * w, y - 0.05 * w, x + 0.8 * w,
		      y + 0.45 * w);
		ink(p, DARK, 1.4);
		break;
	case ILL_DETERMINED:
		move(p, x - 0.7 * w, y + 0.25 * w);
		curve(p, x - 0.2 * w, y + 0.3 * w, x + 0.3 * w, y + 0.2 * w, x + 0.75 * w,
		      y + 0.05 * w);
		ink(p, DARK, 1.5);
		break;
	default: /* sleepy: a small yawn */
		ell(p, x, y + 0.25 * w, 0.25 * w, 0.3 * w);
		paint(p, MOUTH);
		break;
	}
}

/* The little signs around a face: a tear, a drop of worry, sleepy z's. */
static void face_signs(const struct pen *p, const struct face *f)
{
	double r = f->r, x = f->ex[1];
	if (p->e == ILL_SAD) {
		move(p, x + 0.2 * r, f->ey + 1.1 * r);
		curve(p, x - 0.6 * r, f->ey + 2.2 * r, x + 1.0 * r, f->ey + 2.2 * r, x + 0.2 * r,
		      f->ey + 1.1 * r);
		paint(p, (struct ill_rgb){0.55, 0.8, 0.98});
	} else if (p->e == ILL_SCARED) {
		double sx = x + 2.6 * r, sy = f->ey - 1.8 * r;
		move(p, sx, sy);
		curve(p, sx - 0.8 * r, sy + 1.3 * r, sx + 0.8 * r, sy + 1.3 * r, sx, sy);
		paint(p, (struct ill_rgb){0.6, 0.85, 1});
	} else if (p->e == ILL_SLEEPY) {
		for (int i = 0; i < 2; i++) {
			double zx = x + (2.0 + 1.3 * i) * r, zy = f->ey - (2.2 + 1.4 * i) * r,
			       s = (0.7 + 0.3 * i) * r;
			move(p, zx - s, zy - s);
			line(p, zx + s, zy - s);
			line(p, zx - s, zy + s);
			line(p, zx + s, zy + s);
			ink(p, (struct ill_rgb){0.35, 0.4, 0.7}, 1.4);
		}
	}
}

static void face(const struct pen *p, const struct face *f)
{
	if (!f->no_blush && p->e != ILL_SCARED) {
		for (int i = 0; i < 2; i++) {
			ell(p, f->ex[i] + (i ? 0.5 : -0.5) * f->r, f->ey + 1.55 * f->r, 0.75 * f->r,
			    0.45 * f->r);
			cairo_save(p->cr);
			cairo_set_source_rgba(p->cr, BLUSH.r, BLUSH.g, BLUSH.b, 0.45);
			cairo_fill(p->cr);
			cairo_restore(p->cr);
		}
	}
	for (int i = 0; i < 2; i++) {
		eye(p, f, f->ex[i], f->ey);
		lid(p, f, f->ex[i], f->ey, i);
		brow(p, f, f->ex[i], i);
	}
	if (!f->no_mouth)
		mouth(p, f);
	face_signs(p, f);
}

/* A face on a round head at (x, y) of radius r, turned a little forward. */
static struct face head_face(double x, double y, double r, struct ill_rgb skin)
{
	return (struct face){.ex = {x - 0.22 * r, x + 0.42 * r},
	                     .ey = y - 0.02 * r,
	                     .r = 0.15 * r,
	                     .mx = x + 0.12 * r,
	                     .my = y + 0.42 * r,
	                     .mw = 0.17 * r,
	                     .skin = skin};
}

/* ---- arms, poses and the things a character wears ---- */

/* Where a hand goes from its shoulder, in arm lengths, per pose: back, front. */
static const double reach[ILL_POSE_COUNT][2][2] = {
    [ILL_POSE_STAND] = {{-0.35, 0.95}, {0.35, 0.95}},
    [ILL_POSE_WAVE] = {{-0.35, 0.95}, {0.55, -0.85}},
    [ILL_POSE_POINT] = {{-0.35, 0.95}, {1.0, -0.1}},
    [ILL_POSE_CHEER] = {{-0.55, -0.85}, {0.55, -0.85}},
};

struct arm {
	double sx, sy; /* the front shoulder; the back one mirrors it */
	double len, r;
	struct ill_rgb sleeve, hand;
};

/* Draws the back (side 0) or front (1) arm; returns its hand in *hx, *hy. */
static void arm(const struct pen *p, const struct arm *a, int side, double *hx, double *hy)
{
	double sx = side ? a->sx : -a->sx * 0.6;
	double x = sx + reach[p->pose][side][0] * a->len,
	       y = a->sy + reach[p->pose][side][1] * a->len;
	capsule(p, sx, a->sy, x, y, a->r);
	paint(p, side ? a->sleeve : ill_rgb_shade(a->sleeve, -0.12));
	ell(p, x, y, 1.2 * a->r, 1.2 * a->r);
	paint(p, side ? a->hand : ill_rgb_shade(a->hand, -0.12));
	if (hx)
		*hx = x, *hy = y;
}

/* The head and neck every plan reports, so the accessories fit any body. */
struct anchor {
	double hx, hy, hr;       /* head */
	double nx, ny, nw;       /* neck: centre and half width */
	double bx, by, brx, bry; /* body */
	double handx, handy;     /* the front hand (for a wand) */
};

static void stripes_over(const struct pen *p, double x0, double y0, double x1, double y1,
                         struct ill_rgb c)
{
	for (double x = x0 + (x1 - x0) / 6; x < x1; x += (x1 - x0) / 3) {
		cairo_rectangle(p->cr, x * p->u, y0 * p->u, (x1 - x0) / 8 * p->u, (y1 - y0) * p->u);
		dab(p, c);
	}
}

static void scarf(const struct pen *p, const struct anchor *a)
{
	struct ill_rgb c = p->sh->accent;
	capsule(p, a->nx - a->nw, a->ny, a->nx + a->nw, a->ny, 0.045);
	paint(p, c);
	double tx = a->nx - 0.35 * a->nw;
	move(p, tx - 0.04, a->ny);
	line(p, tx + 0.05, a->ny);
	line(p, tx + 0.02, a->ny + 0.2);
	line(p, tx - 0.07, a->ny + 0.18);
	cairo_close_path(p->cr);
	paint(p, ill_rgb_shade(c, -0.08));
	if (has(p, F_STRIPY))
		stripes_over(p, a->nx - a->nw, a->ny - 0.02, a->nx + a->nw, a->ny + 0.02, WHITE);
}

static void bow_tie(const struct pen *p, const struct anchor *a)
{
	double x = a->nx + 0.02, y = a->ny, s = 0.05;
	move(p, x, y);
	line(p, x - 1.4 * s, y - s);
	line(p, x - 1.4 * s, y + s);
	cairo_close_path(p->cr);
	move(p, x, y);
	line(p, x + 1.4 * s, y - s);
	line(p, x + 1.4 * s, y + s);
	cairo_close_path(p->cr);
	paint(p, p->sh->accent);
	ell(p, x, y, 0.35 * s, 0.45 * s);
	paint(p, ill_rgb_shade(p->sh->accent, -0.15));
}

static void hat(const struct pen *p, const struct anchor *a)
{
	double x = a->hx, y = a->hy, r = a->hr;
	struct ill_rgb c = p->sh->accent;
	/* A snug bobble hat: a dome over the crown, a brim, a pompom. */
	move(p, x - 0.95 * r, y - 0.45 * r);
	curve(p, x - 0.95 * r, y - 1.45 * r, x + 0.95 * r, y - 1.45 * r, x + 0.95 * r,
	      y - 0.45 * r);
	cairo_close_path(p->cr);
	paint(p, c);
	if (has(p, F_STRIPY))
		for (int i = 0; i < 2; i++) {
			capsule(p, x - 0.8 * r, y - (0.75 + 0.25 * i) * r, x + 0.8 * r,
			        y - (0.75 + 0.25 * i) * r, 0.05 * r);
			dab(p, WHITE);
		}
	capsule(p, x - 0.98 * r, y - 0.45 * r, x + 0.98 * r, y - 0.45 * r, 0.12 * r);
	paint(p, ill_rgb_shade(c, -0.12));
	ball(p, x, y - 1.25 * r, 0.22 * r, 0.22 * r,
	     has(p, F_STRIPY) ? WHITE : ill_rgb_shade(c, 0.3));
}

static void wizard_hat(const struct pen *p, const struct anchor *a)
{
	double x = a->hx, y = a->hy, r = a->hr;
	struct ill_rgb c = p->sh->main;
	move(p, x - 0.9 * r, y - 0.55 * r);
	curve(p, x - 0.3 * r, y - 1.0 * r, x - 0.2 * r, y - 1.6 * r, x - 0.55 * r, y - 2.05 * r);
	curve(p, x + 0.3 * r, y - 1.6 * r, x + 0.6 * r, y - 1.0 * r, x + 0.9 * r, y - 0.55 * r);
	cairo_close_path(p->cr);
	paint(p, c);
	ell(p, x, y - 0.55 * r, 1.2 * r, 0.2 * r);
	paint(p, ill_rgb_shade(c, -0.1));
	ell(p, x + 0.05 * r, y - 1.2 * r, 0.12 * r, 0.12 * r);
	dab(p, p->sh->accent);
}

static void crown(const struct pen *p, const struct anchor *a)
{
	double x = a->hx + 0.1 * a->hr, y = a->hy - 0.82 * a->hr, w = 0.6 * a->hr, h = 0.55 * a->hr;
	move(p, x - w, y);
	line(p, x - w, y - h);
	line(p, x - w / 2, y - h * 0.55);
	line(p, x, y - h * 1.1);
	line(p, x + w / 2, y - h * 0.55);
	line(p, x + w, y - h);
	line(p, x + w, y);
	cairo_close_path(p->cr);
	paint(p, p->sh->accent);
	ell(p, x, y - 0.3 * h, 0.12 * w, 0.12 * w);
	dab(p, (struct ill_rgb){0.85, 0.2, 0.35});
}

/* A round glass bubble over the head, with a gleam. */
static void helmet(const struct pen *p, const struct anchor *a)
{
	double r = a->hr * 1.3;
	cairo_t *cr = p->cr;
	ell(p, a->hx, a->hy, r, r);
	cairo_save(cr);
	cairo_set_source_rgba(cr, 0.75, 0.9, 1.0, 0.25);
	cairo_fill(cr);
	cairo_restore(cr);
	ell(p, a->hx, a->hy, r, r);
	ink(p, (struct ill_rgb){0.55, 0.65, 0.75}, 1.4);
	cairo_new_sub_path(cr);
	cairo_arc(cr, a->hx * p->u, a->hy * p->u, 0.8 * r * p->u, 1.1 * M_PI, 1.4 * M_PI);
	ink(p, WHITE, 2.2);
	capsule(p, a->hx - 0.85 * r, a->hy + 0.72 * r, a->hx + 0.85 * r, a->hy + 0.72 * r, 0.1 * r);
	paint(p, ill_rgb_mix(p->sh->accent, WHITE, 0.5));
}

/* A little knight's helmet, for creatures too small for a bubble. */
static void cap_helmet(const struct pen *p, const struct anchor *a)
{
	double x = a->hx, y = a->hy, r = a->hr;
	move(p, x - 1.0 * r, y - 0.1 * r);
	curve(p, x - 1.0 * r, y - 1.4 * r, x + 1.0 * r, y - 1.4 * r, x + 1.0 * r, y - 0.1 * r);
	cairo_close_path(p->cr);
	paint(p, p->sh->accent);
	gloss(p, x, y - 0.6 * r, 0.9 * r, 0.6 * r);
	move(p, x, y - 1.0 * r);
	curve(p, x - 0.3 * r, y - 1.6 * r, x - 0.7 * r, y - 1.5 * r, x - 0.9 * r, y - 1.3 * r);
	ink(p, (struct ill_rgb){0.85, 0.25, 0.3}, 3.0);
}

static void glasses(const struct pen *p, const struct face *f)
{
	for (int i = 0; i < 2; i++) {
		ell(p, f->ex[i], f->ey, 1.7 * f->r, 1.7 * f->r);
		ink(p, (struct ill_rgb){0.35, 0.25, 0.2}, 1.3);
	}
	move(p, f->ex[0] + 1.7 * f->r, f->ey);
	line(p, f->ex[1] - 1.7 * f->r, f->ey);
	ink(p, (struct ill_rgb){0.35, 0.25, 0.2}, 1.3);
}

static void flower(const struct pen *p, double x, double y, double s)
{
	for (int i = 0; i < 6; i++) {
		double t = i * M_PI / 3;
		ell(p, x + cos(t) * s, y + sin(t) * s, 0.6 * s, 0.6 * s);
		paint(p, WHITE);
	}
	ell(p, x, y, 0.6 * s, 0.6 * s);
	paint(p, (struct ill_rgb){1, 0.8, 0.2});
}

static void egg_hat(const struct pen *p, const struct anchor *a)
{
	double x = a->hx, y = a->hy - 0.5 * a->hr, r = a->hr * 1.02;
	move(p, x - r, y);
	curve(p, x - r, y - 1.3 * r, x + r, y - 1.3 * r, x + r, y);
	for (int i = 1; i <= 6; i++)
		line(p, x + r - i * r / 3, y + (i % 2 ? 0.2 : 0) * r);
	cairo_close_path(p->cr);
	paint(p, p->detail);
}

static void star_path(const struct pen *p, double x, double y, double ro, double ri, double turn)
{
	cairo_new_sub_path(p->cr);
	for (int i = 0; i < 10; i++) {
		double t = -M_PI / 2 + turn + i * M_PI / 5, r = i % 2 ? ri : ro;
		line(p, x + cos(t) * r, y + sin(t) * r);
	}
	cairo_close_path(p->cr);
}

static void wand(const struct pen *p, const struct anchor *a)
{
	double x = a->handx, y = a->handy;
	capsule(p, x, y, x + 0.14, y - 0.12, 0.012);
	paint(p, (struct ill_rgb){0.35, 0.22, 0.15});
	star_path(p, x + 0.15, y - 0.13, 0.05, 0.022, 0);
	paint(p, (struct ill_rgb){1, 0.85, 0.3});
}

static void bag(const struct pen *p, const struct anchor *a)
{
	move(p, a->nx + 0.6 * a->nw, a->ny);
	line(p, a->bx - 0.6 * a->brx, a->by + 0.5 * a->bry);
	ink(p, ill_rgb_shade(p->sh->accent, -0.3), 2.5);
	double x = a->bx - 0.55 * a->brx, y = a->by + 0.55 * a->bry;
	cairo_rectangle(p->cr, (x - 0.07) * p->u, (y - 0.05) * p->u, 0.14 * p->u, 0.11 * p->u);
	paint(p, p->sh->accent);
}

static void drum(const struct pen *p, const struct anchor *a)
{
	double x = a->nx + 0.03, y = a->ny + 0.1;
	move(p, a->nx - a->nw * 0.7, a->ny);
	line(p, x, y - 0.03);
	line(p, a->nx + a->nw * 0.7, a->ny);
	ink(p, DARK, 1);
	cairo_rectangle(p->cr, (x - 0.05) * p->u, (y - 0.02) * p->u, 0.1 * p->u, 0.07 * p->u);
	paint(p, p->sh->accent);
	ell(p, x, y - 0.02, 0.05, 0.018);
	paint(p, (struct ill_rgb){0.98, 0.93, 0.8});
}

static void vest(const struct pen *p, const struct anchor *a)
{
	double x = a->bx, y = a->by, rx = a->brx, ry = a->bry;
	cairo_save(p->cr);
	ell(p, x, y, rx, ry);
	cairo_clip(p->cr);
	cairo_rectangle(p->cr, (x - rx) * p->u, (y - ry) * p->u, 2 * rx * p->u, 1.25 * ry * p->u);
	paint(p, p->sh->accent);
	move(p, x + 0.2 * rx, y - ry);
	line(p, x + 0.5 * rx, y + 0.25 * ry);
	ink(p, outline_of(p->sh->accent), 1);
	cairo_restore(p->cr);
	for (int i = 0; i < 2; i++) {
		ell(p, x + 0.42 * rx, y - (0.3 - 0.35 * i) * ry, 0.035, 0.035);
		dab(p, (struct ill_rgb){0.95, 0.85, 0.4});
	}
}

static void patch(const struct pen *p, const struct anchor *a)
{
	double x = a->bx + 0.25 * a->brx, y = a->by + 0.72 * a->bry, s = 0.05;
	cairo_rectangle(p->cr, (x - s) * p->u, (y - s) * p->u, 2 * s * p->u, 2 * s * p->u);
	paint(p, ill_rgb_mix(p->sh->accent, (struct ill_rgb){0.4, 0.6, 0.9}, 0.6));
	move(p, x - 0.6 * s, y - 0.6 * s);
	line(p, x + 0.6 * s, y + 0.6 * s);
	ink(p, WHITE, 1);
}

/* Space suit: a coat of the accent colour over the body, with a chest panel. */
static void suit(const struct pen *p, const struct anchor *a)
{
	ell(p, a->bx, a->by + 0.05 * a->bry, a->brx * 1.02, a->bry * 0.98);
	paint(p, ill_rgb_mix(p->sh->accent, WHITE, 0.55));
	cairo_rectangle(p->cr, (a->bx - 0.05) * p->u, (a->by - 0.1) * p->u, 0.1 * p->u,
	                0.08 * p->u);
	paint(p, p->sh->accent);
}

static void backpack(const struct pen *p, const struct anchor *a)
{
	ell(p, a->bx - a->brx * 0.95, a->by - 0.1 * a->bry, 0.55 * a->brx, 0.65 * a->bry);
	paint(p, p->sh->accent);
}

static void cape(const struct pen *p, const struct anchor *a)
{
	double x = a->nx, y = a->ny, w = a->nw;
	move(p, x - w, y);
	line(p, x + w * 0.6, y);
	curve(p, x + w, y + 0.25, x + 0.1, y + 0.35, x + 0.05, y + 0.44);
	line(p, x - 0.3, y + 0.44);
	curve(p, x - 0.3, y + 0.3, x - 1.4 * w, y + 0.1, x - w, y);
	cairo_close_path(p->cr);
	struct ill_rgb c =
	    BODY_PLAN(p->sh->body) == P_HUMAN ? ill_rgb_shade(p->sh->main, -0.15) : p->sh->accent;
	paint(p, c);
	if (has(p, F_STARS))
		for (int i = 0; i < 3; i++) {
			star_path(p, x - 0.2 + 0.08 * i, y + 0.18 + 0.07 * (i % 2), 0.025, 0.011,
			          0);
			dab(p, (struct ill_rgb){1, 0.86, 0.35});
		}
}

/* What is worn behind the body: drawn first. */
static void wear_behind(const struct pen *p, const struct anchor *a)
{
	if (has(p, F_CAPE))
		cape(p, a);
	if (has(p, F_BACKPACK))
		backpack(p, a);
}

/* What is worn over the body, below the head. */
static void wear_body(const struct pen *p, const struct anchor *a)
{
	if (has(p, F_SUIT) && BODY_PLAN(p->sh->body) != P_HUMAN)
		suit(p, a);
	if (has(p, F_VEST))
		vest(p, a);
	if (has(p, F_PATCH))
		patch(p, a);
	if (has(p, F_BAG))
		bag(p, a);
	if (has(p, F_SCARF))
		scarf(p, a);
	if (has(p, F_BOWTIE))
		bow_tie(p, a);
	if (has(p, F_DRUM))
		drum(p, a);
}

/* What is worn on the head, over the face. */
static void wear_head(const struct pen *p, const struct anchor *a, const struct face *f)
{
	if (has(p, F_GLASSES))
		glasses(p, f);
	if (has(p, F_EGGHAT))
		egg_hat(p, a);
	if (has(p, F_WIZHAT))
		wizard_hat(p, a);
	else if (has(p, F_HAT))
		hat(p, a);
	if (has(p, F_CROWN))
		crown(p, a);
	if (has(p, F_FLOWER))
		flower(p, a->hx - 0.55 * a->hr, a->hy - 0.8 * a->hr, 0.12 * a->hr);
	if (has(p, F_HELMET)) {
		if (BODY_PLAN(p->sh->body) == P_SNAIL)
			cap_helmet(p, a);
		else
			helmet(p, a);
	}
	if (has(p, F_WAND))
		wand(p, a);
}

/* ---- ears, tails and body features ---- */

static void ears(const struct pen *p, double x, double y, double r)
{
	struct ill_rgb c = p->sh->main, in = ill_rgb_mix(p->sh->second, BLUSH, 0.45);
	for (int s = -1; s <= 1; s += 2) {
		double ex = x + s * 0.62 * r;
		switch (p->ears) {
		case E_ROUND:
		case E_SMALL: {
			double er = p->ears == E_ROUND ? 0.45 * r : 0.24 * r;
			ell(p, x + s * 0.72 * r, y - 0.72 * r, er, er);
			paint(p, c);
			ell(p, x + s * 0.72 * r, y - 0.72 * r, 0.6 * er, 0.6 * er);
			dab(p, in);
			break;
		}
		case E_LONG:
			ell(p, x + s * 0.32 * r, y - 1.5 * r, 0.22 * r, 0.75 * r);
			paint(p, c);
			ell(p, x + s * 0.32 * r, y - 1.45 * r, 0.11 * r, 0.55 * r);
			dab(p, in);
			break;
		case E_POINTED:
		case E_HUGE: {
			double k = p->ears == E_HUGE ? 1.7 : 1.0;
			move(p, ex - 0.35 * r, y - 0.6 * r);
			line(p, x + s * (0.6 + 0.3 * k) * r, y - (0.8 + 0.55 * k) * r);
			line(p, ex + 0.35 * r, y - 0.6 * r);
			cairo_close_path(p->cr);
			paint(p, c);
			move(p, ex - 0.18 * r, y - 0.7 * r);
			line(p, x + s * (0.6 + 0.25 * k) * r, y - (0.85 + 0.45 * k) * r);
			line(p, ex + 0.18 * r, y - 0.7 * r);
			cairo_close_path(p->cr);
			dab(p, in);
			break;
		}
		case E_FLOPPY:
			ell(p, x + s * 0.88 * r, y + 0.05 * r, 0.26 * r, 0.55 * r);
			paint(p, ill_rgb_shade(c, -0.12));
			break;
		case E_SIDE:
			ell(p, x + s * 0.98 * r, y + 0.05 * r, 0.3 * r, 0.32 * r);
			paint(p, c);
			ell(p, x + s * 0.98 * r, y + 0.05 * r, 0.16 * r, 0.18 * r);
			dab(p, in);
			break;
		default:
			return;
		}
	}
}

/* A tail from the body's back at (x, y), the back being -x. */
static void tail(const struct pen *p, double x, double y)
{
	struct ill_rgb c = p->sh->main;
	switch (p->tail) {
	case T_THIN:
		taper(p, x, y, x - 0.3, y + 0.15, x - 0.28, y - 0.2, 0.022, 0.012);
		paint(p, ill_rgb_mix(c, p->detail, 0.3));
		break;
	case T_FLUFFY:
		ball(p, x - 0.02, y, 0.08, 0.08, ill_rgb_mix(p->sh->second, WHITE, 0.5));
		break;
	case T_BUSHY:
		taper(p, x + 0.02, y + 0.05, x - 0.35, y + 0.05, x - 0.3, y - 0.3, 0.05, 0.09);
		paint(p, c);
		ell(p, x - 0.3, y - 0.33, 0.075, 0.07);
		paint(p, ill_rgb_mix(p->sh->second, WHITE, 0.5));
		break;
	case T_STUB:
		ball(p, x - 0.01, y, 0.05, 0.05, c);
		break;
	case T_LONG:
		taper(p, x + 0.05, y - 0.05, x - 0.2, y + 0.15, x - 0.38, y + 0.12, 0.09, 0.015);
		paint(p, c);
		break;
	case T_THICK:
		taper(p, x + 0.02, y, x - 0.18, y + 0.16, x - 0.3, y + 0.12, 0.06, 0.035);
		paint(p, c);
		break;
	case T_CURLY:
		taper(p, x, y, x - 0.35, y + 0.1, x - 0.3, y - 0.25, 0.025, 0.02);
		paint(p, c);
		ell(p, x - 0.27, y - 0.3, 0.06, 0.06);
		ink(p, outline_of(c), 2.5);
		break;
	default:
		break;
	}
}

/* A spiky coat behind the head and body (hedgehog, pufferfish). */
static void spikes(const struct pen *p, double x, double y, double r, double from, double to,
                   struct ill_rgb c)
{
	int n = 16;
	cairo_new_sub_path(p->cr);
	line(p, x, y);
	for (int i = 0; i <= 2 * n; i++) {
		double t = from + (to - from) * i / (2.0 * n), rr = i % 2 ? 1.22 * r : r;
		line(p, x + cos(t) * rr, y + sin(t) * rr);
	}
	cairo_close_path(p->cr);
	paint(p, c);
}

static void wing(const struct pen *p, double x, double y, double span, double lift,
                 struct ill_rgb c)
{
	move(p, x, y);
	curve(p, x - 0.3 * span, y - 0.3 * span - lift, x - 0.8 * span, y - 0.6 * span - lift,
	      x - span, y - 0.75 * span - lift);
	curve(p, x - 0.8 * span, y - 0.3 * span - lift / 2, x - 0.7 * span, y - 0.1 * span,
	      x - 0.55 * span, y);
	curve(p, x - 0.4 * span, y - 0.05 * span, x - 0.3 * span, y + 0.1 * span, x - 0.15 * span,
	      y + 0.05 * span);
	cairo_close_path(p->cr);
	paint(p, c);
}

static void horns(const struct pen *p, double x, double y, double r)
{
	for (int s = -1; s <= 1; s += 2) {
		move(p, x + s * 0.45 * r - 0.12 * r, y - 0.8 * r);
		line(p, x + s * 0.55 * r, y - 1.35 * r);
		line(p, x + s * 0.45 * r + 0.12 * r, y - 0.82 * r);
		cairo_close_path(p->cr);
		paint(p, p->detail);
	}
}

static void back_spines(const struct pen *p, double x, double y, double rx, double ry)
{
	for (int i = 0; i < 4; i++) {
		double t = M_PI * (1.15 + 0.17 * i), bx = x + cos(t) * rx, by = y + sin(t) * ry;
		move(p, bx - 0.03, by + 0.01);
		line(p, bx + cos(t) * 0.07, by + sin(t) * 0.07);
		line(p, bx + 0.03, by - 0.01);
		cairo_close_path(p->cr);
		paint(p, p->sh->accent);
	}
}

static void spots(const struct pen *p, double x, double y, double rx, double ry, struct ill_rgb c)
{
	static const double at[][2] = {{-0.5, -0.3}, {0.1, -0.55},  {0.35, 0.1},
	                               {-0.3, 0.35}, {-0.05, 0.05}, {0.55, -0.25}};
	cairo_save(p->cr);
	ell(p, x, y, rx, ry);
	cairo_clip(p->cr);
	for (size_t i = 0; i < COUNT(at); i++) {
		ell(p, x + at[i][0] * rx, y + at[i][1] * ry, 0.14 * rx, 0.12 * ry);
		dab(p, c);
	}
	cairo_restore(p->cr);
}

static void whiskers(const struct pen *p, double x, double y, double r)
{
	for (int i = -1; i <= 1; i++) {
		move(p, x + 0.1 * r, y);
		line(p, x + 0.75 * r, y + i * 0.18 * r);
		move(p, x - 0.1 * r, y);
		line(p, x - 0.6 * r, y + i * 0.18 * r);
	}
	ink(p, outline_of(p->sh->main), 0.8);
}

/* A round head with its ears, muzzle, face and hats. */
static void round_head(const struct pen *p, struct anchor *a)
{
	double x = a->hx, y = a->hy, r = a->hr;
	struct ill_rgb c = p->sh->main;
	if (has(p, F_HORNS))
		horns(p, x, y, r);
	ears(p, x, y, r);
	ball(p, x, y, r, r * 0.95, c);
	struct face f = head_face(x, y, r, c);
	if (has(p, F_EYERINGS))
		for (int i = 0; i < 2; i++) {
			ell(p, f.ex[i], f.ey, 2.0 * f.r, 1.9 * f.r);
			dab(p, ill_rgb_shade(c, -0.35));
		}
	if (has(p, F_SNOUT)) {
		ell(p, x + 0.3 * r, y + 0.38 * r, 0.42 * r, 0.3 * r);
		paint(p, p->sh->second);
		f.mx = x + 0.32 * r, f.my = y + 0.45 * r, f.mw = 0.15 * r;
	}
	double nx = has(p, F_SNOUT) ? x + 0.42 * r : x + 0.15 * r, ny = y + 0.27 * r;
	ell(p, nx, ny, 0.1 * r, 0.075 * r);
	paint(p, p->detail);
	if (has(p, F_TUSKS))
		for (int s = 0; s < 2; s++) {
			move(p, nx - 0.2 * r + s * 0.3 * r, y + 0.55 * r);
			line(p, nx - 0.16 * r + s * 0.3 * r, y + 1.05 * r);
			line(p, nx - 0.08 * r + s * 0.3 * r, y + 0.55 * r);
			cairo_close_path(p->cr);
			paint(p, p->detail);
		}
	face(p, &f);
	if (has(p, F_WHISKERS))
		whiskers(p, nx, ny + 0.08 * r, r);
	wear_head(p, a, &f);
}

/* ---- body plans: each fits x in [-0.8, 0.8], y in [-1, 0] ---- */

static void critter(const struct pen *p0)
{
	struct pen q = *p0, *p = &q;
	if (p->ears == E_LONG || p->ears == E_HUGE || has(p, F_HAT) || has(p, F_EGGHAT))
		q.u *= 0.85; /* room above the head for ears or a hat */
	double slim = has(p, F_SLIM) ? 0.8 : 1.0;
	struct anchor a = {.hx = 0.03,
	                   .hy = -0.66,
	                   .hr = 0.25,
	                   .nx = 0.02,
	                   .ny = -0.47,
	                   .nw = 0.13,
	                   .bx = 0,
	                   .by = -0.27,
	                   .brx = 0.22 * slim,
	                   .bry = 0.25};
	struct ill_rgb c = p->sh->main;
	tail(p, a.bx - 0.8 * a.brx, a.by + 0.12);
	if (has(p, F_WINGS))
		wing(p, -0.05, -0.4, 0.42, p->pose == ILL_POSE_CHEER ? 0.1 : 0,
		     ill_rgb_shade(c, -0.15));
	if (has(p, F_SPIKES))
		spikes(p, -0.02, -0.47, 0.36, 0.55 * M_PI, 1.75 * M_PI, ill_rgb_shade(c, -0.2));
	wear_behind(p, &a);
	struct arm ar = {0.15 * slim, -0.4, 0.21, has(p, F_BIGPAWS) ? 0.05 : 0.042, c, c};
	arm(p, &ar, 0, NULL, NULL);
	for (int s = -1; s <= 1; s += 2) {
		ell(p, s * 0.1 + 0.03, -0.035, has(p, F_BIGPAWS) ? 0.1 : 0.085, 0.045);
		paint(p, ill_rgb_shade(c, -0.08));
	}
	ball(p, a.bx, a.by, a.brx, a.bry, c);
	ell(p, a.bx + 0.04, a.by + 0.03, 0.13 * slim, 0.17);
	dab(p, p->sh->second);
	if (has(p, F_SPOTS) && !has(p, F_SNOUT))
		spots(p, a.bx, a.by, a.brx, a.bry, ill_rgb_shade(p->detail, 0));
	else if (has(p, F_SPOTS))
		spots(p, a.bx, a.by, a.brx, a.bry, ill_rgb_mix(p->detail, c, 0.35));
	if (has(p, F_STRIPES))
		stripes_over(p, a.bx - a.brx, a.by - a.bry, a.bx - 0.2 * a.brx, a.by,
		             ill_rgb_shade(c, -0.2));
	if (has(p, F_SPINES))
		back_spines(p, a.bx, a.by - 0.1, a.brx, a.bry + 0.1);
	wear_body(p, &a);
	round_head(p, &a);
	arm(p, &ar, 1, &a.handx, &a.handy);
	if (has(p, F_WAND))
		wand(p, &a);
}

/* A child-like person: big head, round body, short legs. */
static void human(const struct pen *p0)
{
	struct pen q = *p0, *p = &q;
	if (has(p, F_WIZHAT) || has(p, F_CROWN))
		q.u *= 0.88;
	struct ill_rgb outfit = p->sh->main, skin = p->sh->second, hair = p->detail;
	struct anchor a = {.hx = 0.0,
	                   .hy = -0.72,
	                   .hr = 0.21,
	                   .nx = 0,
	                   .ny = -0.52,
	                   .nw = 0.1,
	                   .bx = 0,
	                   .by = -0.4,
	                   .brx = 0.16,
	                   .bry = 0.14};
	if (has(p, F_LONGHAIR)) {
		taper(p, -0.1, -0.72, -0.24, -0.55, -0.17, -0.36, 0.055, 0.035);
		paint(p, hair);
	}
	wear_behind(p, &a);
	struct ill_rgb legs = has(p, F_SUIT) ? outfit : (struct ill_rgb){0.3, 0.36, 0.55};
	for (int s = -1; s <= 1; s += 2) {
		capsule(p, s * 0.065, -0.3, s * 0.07, -0.07, 0.048);
		paint(p, has(p, F_DRESS) ? skin : legs);
		ell(p, s * 0.07 + 0.025, -0.035, 0.07, 0.04);
		paint(p, has(p, F_SUIT) ? ill_rgb_shade(outfit, -0.1)
		                        : (struct ill_rgb){0.45, 0.28, 0.2});
	}
	struct arm ar = {0.14, -0.49, 0.2, 0.045, outfit, skin};
	arm(p, &ar, 0, NULL, NULL);
	if (has(p, F_DRESS)) {
		move(p, -0.13, -0.52);
		line(p, 0.13, -0.52);
		curve(p, 0.16, -0.35, 0.24, -0.2, 0.25, -0.13);
		curve(p, 0.1, -0.09, -0.1, -0.09, -0.25, -0.13);
		curve(p, -0.24, -0.2, -0.16, -0.35, -0.13, -0.52);
		cairo_close_path(p->cr);
		paint(p, outfit);
	} else {
		move(p, -0.15, -0.5);
		curve(p, -0.1, -0.56, 0.1, -0.56, 0.15, -0.5);
		curve(p, 0.19, -0.4, 0.18, -0.3, 0.17, -0.26);
		curve(p, 0.05, -0.23, -0.05, -0.23, -0.17, -0.26);
		curve(p, -0.18, -0.3, -0.19, -0.4, -0.15, -0.5);
		cairo_close_path(p->cr);
		paint(p, outfit);
		if (has(p, F_SUIT)) {
			cairo_rectangle(p->cr, -0.05 * p->u, -0.45 * p->u, 0.1 * p->u, 0.08 * p->u);
			paint(p, p->sh->accent);
		}
	}
	gloss(p, 0, -0.4, 0.16, 0.14);
	wear_body(p, &a);
	/* Hair behind the head, then the face, then the fringe. */
	ell(p, a.hx - 0.02, a.hy - 0.02, 1.08 * a.hr, 1.05 * a.hr);
	paint(p, hair);
	ball(p, a.hx, a.hy, a.hr, a.hr, skin);
	move(p, a.hx - 1.02 * a.hr, a.hy - 0.1 * a.hr);
	curve(p, a.hx - 1.0 * a.hr, a.hy - 1.25 * a.hr, a.hx + 1.0 * a.hr, a.hy - 1.25 * a.hr,
	      a.hx + 1.02 * a.hr, a.hy - 0.2 * a.hr);
	curve(p, a.hx + 0.6 * a.hr, a.hy - 0.55 * a.hr, a.hx - 0.2 * a.hr, a.hy - 0.6 * a.hr,
	      a.hx - 1.02 * a.hr, a.hy - 0.1 * a.hr);
	cairo_close_path(p->cr);
	paint(p, hair);
	struct face f = head_face(a.hx, a.hy + 0.05 * a.hr, a.hr, skin);
	f.r = 0.13 * a.hr;
	face(p, &f);
	arm(p, &ar, 1, &a.handx, &a.handy);
	wear_head(p, &a, &f);
}

/* Birds: an egg-shaped body with the head on top, wings at the sides. */
static void beak(const struct pen *p, double x, double y, double r)
{
	struct ill_rgb c = p->detail;
	bool open = p->e == ILL_SURPRISED || p->e == ILL_HAPPY || p->e == ILL_SCARED;
	if (has(p, F_BIGBEAK)) {
		move(p, x - 0.1 * r, y - 0.35 * r);
		curve(p, x + 0.8 * r, y - 0.6 * r, x + 1.5 * r, y - 0.1 * r, x + 1.6 * r,
		      y + 0.3 * r);
		curve(p, x + 1.0 * r, y + 0.3 * r, x + 0.4 * r, y + 0.35 * r, x - 0.1 * r,
		      y + 0.3 * r);
		cairo_close_path(p->cr);
		paint(p, c);
		ell(p, x + 1.45 * r, y + 0.1 * r, 0.2 * r, 0.25 * r);
		dab(p, (struct ill_rgb){0.2, 0.15, 0.15});
		stripes_over(p, x, y - 0.4 * r, x + 0.9 * r, y + 0.3 * r,
		             (struct ill_rgb){0.98, 0.85, 0.25});
		return;
	}
	double len = has(p, F_FLATBEAK) ? 0.55 : 0.45, gap = open ? 0.12 : 0;
	move(p, x, y - 0.22 * r);
	line(p, x + len * r, y - gap * r * 0.5);
	line(p, x, y + 0.05 * r);
	cairo_close_path(p->cr);
	paint(p, c);
	move(p, x, y + 0.05 * r);
	line(p, x + 0.8 * len * r, y + gap * r);
	line(p, x, y + 0.22 * r);
	cairo_close_path(p->cr);
	paint(p, ill_rgb_shade(c, -0.1));
}

static void bird_wing(const struct pen *p, double x, double y, int side, struct ill_rgb c)
{
	double ang = side ? 0.25 : -0.25; /* hanging down at the sides, radians from down */
	if ((p->pose == ILL_POSE_WAVE && side) || p->pose == ILL_POSE_CHEER)
		ang = side ? 2.4 : -2.4;
	else if (p->pose == ILL_POSE_POINT && side)
		ang = 1.5;
	cairo_save(p->cr);
	cairo_translate(p->cr, x * p->u, y * p->u);
	cairo_rotate(p->cr, -ang);
	ell(p, 0, 0.15, 0.08, 0.17);
	cairo_restore(p->cr);
	paint(p, c);
}

static void bird(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	struct anchor a = {.hx = 0.06,
	                   .hy = -0.7,
	                   .hr = 0.22,
	                   .nx = 0.04,
	                   .ny = -0.52,
	                   .nw = 0.14,
	                   .bx = 0,
	                   .by = -0.36,
	                   .brx = 0.27,
	                   .bry = 0.32};
	bird_wing(p, -0.24, -0.45, 0, ill_rgb_shade(c, -0.1));
	wear_behind(p, &a);
	for (int s = -1; s <= 1; s += 2) {
		capsule(p, s * 0.08, -0.06, s * 0.08 + 0.05, -0.02, 0.03);
		paint(p, p->detail);
	}
	move(p, -0.22, -0.25);
	line(p, -0.42, -0.15);
	line(p, -0.38, -0.3);
	cairo_close_path(p->cr);
	paint(p, ill_rgb_shade(c, -0.1));
	ball(p, a.bx, a.by, a.brx, a.bry, c);
	ell(p, 0.06, -0.3, 0.18, 0.24);
	dab(p, p->sh->second);
	if (has(p, F_SPOTS))
		spots(p, a.bx, a.by, a.brx, a.bry, ill_rgb_shade(c, -0.3));
	wear_body(p, &a);
	if (p->ears == E_POINTED)
		for (int s = -1; s <= 1; s += 2) {
			move(p, a.hx + s * 0.12, a.hy - 0.16);
			line(p, a.hx + s * 0.2, a.hy - 0.3);
			line(p, a.hx + s * 0.2 - s * 0.08, a.hy - 0.15);
			cairo_close_path(p->cr);
			paint(p, c);
		}
	if (has(p, F_CREST))
		for (int i = 0; i < 3; i++) {
			taper(p, a.hx - 0.02, a.hy - 0.18, a.hx - 0.06 - 0.04 * i, a.hy - 0.3,
			      a.hx - 0.14 - 0.05 * i, a.hy - 0.3 + 0.03 * i, 0.025, 0.01);
			paint(p, p->sh->accent);
		}
	ball(p, a.hx, a.hy, a.hr, a.hr, c);
	struct face f = head_face(a.hx, a.hy, a.hr, c);
	f.no_mouth = true;
	if (has(p, F_FACEPATCH) || has(p, F_OWLEYES)) {
		ell(p, a.hx + 0.06, a.hy, 0.15, 0.13);
		dab(p, p->sh->second);
	}
	if (has(p, F_OWLEYES))
		f.r *= 1.3;
	face(p, &f);
	beak(p, a.hx + 0.7 * a.hr, a.hy + 0.2 * a.hr, a.hr);
	bird_wing(p, 0.18, -0.42, 1, ill_rgb_shade(c, -0.05));
	wear_head(p, &a, &f);
}

/* A flyer: small body, wide wings, a long beak and a crest (pterodactyl). */
static void flyer(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	struct anchor a = {.hx = 0.12,
	                   .hy = -0.72,
	                   .hr = 0.14,
	                   .nx = 0.06,
	                   .ny = -0.58,
	                   .nw = 0.08,
	                   .bx = 0,
	                   .by = -0.38,
	                   .brx = 0.14,
	                   .bry = 0.22};
	double lift[2] = {0, 0};
	if (p->pose == ILL_POSE_CHEER)
		lift[0] = lift[1] = 0.2;
	else if (p->pose == ILL_POSE_WAVE)
		lift[1] = 0.2;
	else if (p->pose == ILL_POSE_POINT)
		lift[1] = -0.1;
	wing(p, -0.05, -0.45, 0.5, lift[0], ill_rgb_shade(c, -0.15));
	wear_behind(p, &a);
	for (int s = -1; s <= 1; s += 2) {
		capsule(p, s * 0.06, -0.2, s * 0.07, -0.03, 0.03);
		paint(p, c);
	}
	ball(p, a.bx, a.by, a.brx, a.bry, c);
	ell(p, 0.03, -0.34, 0.08, 0.15);
	dab(p, p->sh->second);
	wear_body(p, &a);
	move(p, a.hx - 0.05, a.hy - 0.08);
	line(p, a.hx - 0.3, a.hy - 0.2);
	line(p, a.hx + 0.02, a.hy - 0.13);
	cairo_close_path(p->cr);
	paint(p, has(p, F_CREST) ? p->sh->accent : c);
	move(p, a.hx + 0.05, a.hy - 0.05);
	line(p, a.hx + 0.42, a.hy + 0.03);
	line(p, a.hx + 0.05, a.hy + 0.08);
	cairo_close_path(p->cr);
	paint(p, p->detail);
	ball(p, a.hx, a.hy, a.hr, a.hr, c);
	struct face f = head_face(a.hx, a.hy, a.hr, c);
	f.no_mouth = true;
	face(p, &f);
	/* The front wing spreads forward over the body. */
	cairo_save(p->cr);
	cairo_scale(p->cr, -1, 1);
	wing(p, -0.05, -0.45, 0.5, lift[1], c);
	cairo_restore(p->cr);
	wear_head(p, &a, &f);
}

/* Fins that move with the pose: a side fin raised to wave or cheer. */
static double fin_lift(const struct pen *p, int side)
{
	if (p->pose == ILL_POSE_CHEER || (p->pose == ILL_POSE_WAVE && side))
		return -0.9;
	if (p->pose == ILL_POSE_POINT && side)
		return -0.4;
	return 0.3;
}

static void fin(const struct pen *p, double x, double y, double s, double ang, struct ill_rgb c)
{
	cairo_save(p->cr);
	cairo_translate(p->cr, x * p->u, y * p->u);
	cairo_rotate(p->cr, ang);
	ell(p, s, 0, s, 0.45 * s);
	cairo_restore(p->cr);
	paint(p, c);
}

static void fish(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	double cx = 0, cy = -0.5, r = 0.36;
	struct anchor a = {.hx = 0.1,
	                   .hy = -0.58,
	                   .hr = 0.3,
	                   .nx = 0.1,
	                   .ny = -0.3,
	                   .nw = 0.15,
	                   .bx = cx,
	                   .by = cy,
	                   .brx = r,
	                   .bry = r};
	move(p, -0.3, -0.5);
	line(p, -0.62, -0.72);
	curve(p, -0.55, -0.55, -0.55, -0.45, -0.62, -0.28);
	cairo_close_path(p->cr);
	paint(p, ill_rgb_shade(c, -0.1));
	fin(p, -0.05, -0.8, 0.1, -2.0, ill_rgb_shade(c, -0.1));
	if (has(p, F_SPIKES) || has(p, F_SPINES))
		spikes(p, cx, cy, r * (p->e == ILL_SCARED || p->e == ILL_SURPRISED ? 1.02 : 0.95),
		       0, 2 * M_PI, p->detail);
	ball(p, cx, cy, r, r * 0.92, c);
	ell(p, cx + 0.08, cy + 0.14, 0.22, 0.15);
	dab(p, p->sh->second);
	if (has(p, F_SPOTS))
		spots(p, cx, cy, r, r, p->detail);
	if (has(p, F_STRIPES))
		for (int i = 0; i < 2; i++) {
			ell(p, cx - 0.12 + 0.2 * i, cy, 0.04, 0.3);
			paint(p, p->sh->second);
		}
	if (has(p, F_STARS))
		for (int i = 0; i < 3; i++) {
			star_path(p, cx - 0.15 + 0.12 * i, cy - 0.22 + 0.05 * (i % 2), 0.035, 0.015,
			          0);
			dab(p, p->sh->accent);
		}
	wear_body(p, &a);
	struct face f = head_face(0.12, -0.56, 0.3, c);
	face(p, &f);
	fin(p, 0.0, -0.42, 0.13, fin_lift(p, 1) + 1.6, ill_rgb_shade(c, 0.1));
	wear_head(p, &a, &f);
}

static void octopus(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	struct anchor a = {.hx = 0,
	                   .hy = -0.62,
	                   .hr = 0.3,
	                   .nx = 0,
	                   .ny = -0.38,
	                   .nw = 0.2,
	                   .bx = 0,
	                   .by = -0.62,
	                   .brx = 0.3,
	                   .bry = 0.3};
	static const double legs[6][2] = {{-0.42, -0.05}, {-0.25, 0.0}, {-0.08, 0.0},
	                                  {0.1, 0.0},     {0.27, 0.0},  {0.44, -0.05}};
	for (int i = 0; i < 6; i++) {
		double tx = legs[i][0], ty = legs[i][1];
		if ((i == 5 && p->pose != ILL_POSE_STAND) || (i == 0 && p->pose == ILL_POSE_CHEER))
			tx *= 1.4, ty = -0.75;
		else if (i == 5 && p->pose == ILL_POSE_POINT)
			tx = 0.65, ty = -0.4;
		taper(p, tx * 0.35, -0.4, tx * 1.1 + (i % 2 ? 0.1 : -0.1), (ty - 0.4) / 2, tx, ty,
		      0.06, 0.02);
		paint(p, i % 2 ? c : ill_rgb_shade(c, -0.08));
	}
	ball(p, a.hx, a.hy, 0.3, 0.33, c);
	if (has(p, F_SPOTS)) {
		for (int i = 0; i < 3; i++) {
			ell(p, -0.15 + 0.08 * i, -0.82 + 0.06 * i, 0.03, 0.025);
			dab(p, p->sh->second);
		}
	}
	wear_body(p, &a);
	struct face f = head_face(0.02, -0.55, 0.3, c);
	face(p, &f);
	wear_head(p, &a, &f);
}

static void turtle(const struct pen *p)
{
	struct ill_rgb c = p->sh->main, shell = p->sh->second;
	struct anchor a = {.hx = 0.45,
	                   .hy = -0.5,
	                   .hr = 0.17,
	                   .nx = 0.35,
	                   .ny = -0.36,
	                   .nw = 0.08,
	                   .bx = -0.05,
	                   .by = -0.32,
	                   .brx = 0.42,
	                   .bry = 0.3};
	fin(p, -0.3, -0.2, 0.1, 2.6, ill_rgb_shade(c, -0.1));
	fin(p, 0.18, -0.22, 0.11, fin_lift(p, 0) + 0.9, ill_rgb_shade(c, -0.1));
	taper(p, 0.22, -0.22, 0.35, -0.3, a.hx - 0.05, a.hy + 0.05, 0.09, 0.1);
	paint(p, c);
	move(p, -0.48, -0.14);
	curve(p, -0.48, -0.75, 0.38, -0.75, 0.38, -0.14);
	cairo_close_path(p->cr);
	paint(p, shell);
	gloss(p, -0.05, -0.45, 0.35, 0.25);
	for (int i = 0; i < 3; i++) {
		ell(p, -0.25 + 0.2 * i, -0.36 - (i == 1 ? 0.12 : 0), 0.08, 0.07);
		paint(p, ill_rgb_mix(shell, c, 0.5));
	}
	capsule(p, -0.5, -0.14, 0.4, -0.14, 0.035);
	paint(p, ill_rgb_shade(shell, -0.15));
	wear_body(p, &a);
	ball(p, a.hx, a.hy, a.hr, a.hr, c);
	struct face f = head_face(a.hx, a.hy, a.hr, c);
	face(p, &f);
	fin(p, 0.15, -0.2, 0.12, fin_lift(p, 1) + 0.1, c);
	wear_head(p, &a, &f);
}

static void snail(const struct pen *p)
{
	struct ill_rgb c = p->sh->main, shell = p->sh->second;
	struct anchor a = {.hx = 0.36,
	                   .hy = -0.42,
	                   .hr = 0.13,
	                   .nx = 0.33,
	                   .ny = -0.3,
	                   .nw = 0.08,
	                   .bx = -0.08,
	                   .by = -0.45,
	                   .brx = 0.3,
	                   .bry = 0.3};
	move(p, -0.5, -0.02);
	curve(p, -0.3, -0.14, 0.2, -0.14, 0.28, -0.3);
	line(p, 0.46, -0.36);
	curve(p, 0.5, -0.15, 0.45, 0, 0.3, 0);
	cairo_close_path(p->cr);
	paint(p, c);
	double sy = p->pose == ILL_POSE_CHEER ? -0.5 : -0.45;
	ball(p, -0.08, sy, 0.3, 0.3, shell);
	cairo_new_sub_path(p->cr);
	for (int i = 0; i <= 40; i++) {
		double t = i * 0.3, r = 0.26 * (1 - i / 46.0);
		line(p, -0.08 + cos(t) * r * (i / 40.0), sy + sin(t) * r * (i / 40.0));
	}
	ink(p, outline_of(shell), 1.6);
	for (int s = 0; s < 2; s++) {
		double tx = a.hx - 0.04 + 0.12 * s,
		       ty = a.hy - 0.32 + (p->pose == ILL_POSE_WAVE && s ? -0.06 : 0);
		move(p, a.hx - 0.02 + 0.06 * s, a.hy - 0.08);
		line(p, tx, ty);
		ink(p, outline_of(c), 2.2);
	}
	wear_body(p, &a);
	ball(p, a.hx, a.hy, a.hr, a.hr, c);
	struct face f = head_face(a.hx, a.hy, a.hr, c);
	f.ex[0] = a.hx - 0.04, f.ex[1] = a.hx + 0.08, f.ey = a.hy - 0.32;
	f.r = 0.035;
	for (int s = 0; s < 2; s++) {
		ell(p, f.ex[s], f.ey, 0.055, 0.055);
		paint(p, c);
	}
	face(p, &f);
	wear_head(p, &a, &f);
}

static void rounded_rect(const struct pen *p, double x, double y, double w, double h, double r)
{
	cairo_new_sub_path(p->cr);
	cairo_arc(p->cr, (x + w - r) * p->u, (y + r) * p->u, r * p->u, -M_PI / 2, 0);
	cairo_arc(p->cr, (x + w - r) * p->u, (y + h - r) * p->u, r * p->u, 0, M_PI / 2);
	cairo_arc(p->cr, (x + r) * p->u, (y + h - r) * p->u, r * p->u, M_PI / 2, M_PI);
	cairo_arc(p->cr, (x + r) * p->u, (y + r) * p->u, r * p->u, M_PI, 1.5 * M_PI);
	cairo_close_path(p->cr);
}

static void robot(const struct pen *p)
{
	struct ill_rgb c = p->sh->main, dark = p->sh->second;
	struct anchor a = {.hx = 0,
	                   .hy = -0.7,
	                   .hr = 0.2,
	                   .nx = 0,
	                   .ny = -0.52,
	                   .nw = 0.1,
	                   .bx = 0,
	                   .by = -0.32,
	                   .brx = 0.22,
	                   .bry = 0.2};
	struct arm ar = {0.2, -0.42, 0.2, 0.035, dark, c};
	arm(p, &ar, 0, NULL, NULL);
	for (int s = -1; s <= 1; s += 2) {
		ball(p, s * 0.13, -0.07, 0.07, 0.07, (struct ill_rgb){0.3, 0.32, 0.38});
		ell(p, s * 0.13, -0.07, 0.025, 0.025);
		dab(p, c);
	}
	rounded_rect(p, -0.22, -0.52, 0.44, 0.42, 0.1);
	paint(p, c);
	gloss(p, 0, -0.35, 0.2, 0.18);
	rounded_rect(p, -0.1, -0.42, 0.2, 0.14, 0.03);
	paint(p, dark);
	for (int i = 0; i < 3; i++) {
		ell(p, -0.05 + 0.05 * i, -0.35, 0.018, 0.018);
		dab(p, i == 1 ? p->sh->accent : (struct ill_rgb){1, 0.8, 0.3});
	}
	wear_body(p, &a);
	move(p, 0, -0.88);
	line(p, 0, -0.95);
	ink(p, outline_of(c), 2);
	ball(p, 0, -0.95, 0.04, 0.04, p->sh->accent);
	rounded_rect(p, -0.2, -0.9, 0.4, 0.34, 0.12);
	paint(p, c);
	rounded_rect(p, -0.14, -0.83, 0.3, 0.2, 0.07);
	paint(p, ill_rgb_shade(dark, -0.45));
	struct face f = head_face(0.02, -0.74, 0.16, ill_rgb_shade(dark, -0.45));
	f.no_blush = true;
	struct ill_sheet glow = *p->sh; /* the screen's eyes glow in the light's colour */
	glow.eyes = ill_rgb_mix(p->sh->accent, WHITE, 0.3);
	struct pen lit = *p;
	lit.sh = &glow;
	face(&lit, &f);
	arm(p, &ar, 1, &a.handx, &a.handy);
	wear_head(p, &a, &f);
}

static void halo(const struct pen *p, double x, double y, double r, struct ill_rgb c)
{
	cairo_t *cr = p->cr;
	cairo_pattern_t *g =
	    cairo_pattern_create_radial(x * p->u, y * p->u, 0, x * p->u, y * p->u, r * p->u);
	cairo_pattern_add_color_stop_rgba(g, 0, c.r, c.g, c.b, 0.45);
	cairo_pattern_add_color_stop_rgba(g, 1, c.r, c.g, c.b, 0);
	cairo_save(cr);
	cairo_set_source(cr, g);
	cairo_arc(cr, x * p->u, y * p->u, r * p->u, 0, 2 * M_PI);
	cairo_fill(cr);
	cairo_restore(cr);
	cairo_pattern_destroy(g);
}

static void star(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	double turn = p->pose == ILL_POSE_WAVE ? 0.15 : p->pose == ILL_POSE_POINT ? -0.12 : 0;
	struct anchor a = {.hx = 0,
	                   .hy = -0.48,
	                   .hr = 0.25,
	                   .nx = 0,
	                   .ny = -0.3,
	                   .nw = 0.12,
	                   .bx = 0,
	                   .by = -0.48,
	                   .brx = 0.3,
	                   .bry = 0.3};
	halo(p, 0, -0.48, p->e == ILL_SAD ? 0.42 : 0.5, p->sh->second);
	star_path(p, 0, -0.46, 0.46, 0.24, turn);
	paint(p, c);
	gloss(p, 0, -0.5, 0.25, 0.25);
	wear_body(p, &a);
	struct face f = head_face(0, -0.45, 0.25, c);
	face(p, &f);
	wear_head(p, &a, &f);
}

static void sprite(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	struct anchor a = {.hx = 0,
	                   .hy = -0.68,
	                   .hr = 0.24,
	                   .nx = 0,
	                   .ny = -0.5,
	                   .nw = 0.14,
	                   .bx = 0,
	                   .by = -0.4,
	                   .brx = 0.2,
	                   .bry = 0.3};
	halo(p, 0, -0.55, 0.45, p->sh->second);
	for (int i = 5; i >= 0; i--) {
		double y = -0.1 - 0.13 * i, rx = 0.06 + 0.05 * i, sway = 0.04 * sin(i * 1.3);
		ell(p, sway, y, rx, 0.06 + 0.01 * i);
		paint(p, i % 2 ? c : ill_rgb_mix(c, p->sh->second, 0.5));
	}
	for (int i = 0; i < 8; i++) {
		double t = i * 0.8, r = 0.3 + 0.05 * (i % 3);
		ell(p, cos(t) * r, -0.5 + sin(t) * 0.3, 0.012, 0.012);
		dab(p, ill_rgb_shade(c, -0.2));
	}
	struct face f = head_face(0.03, -0.76, 0.22, c);
	f.no_blush = true;
	face(p, &f);
	wear_head(p, &a, &f);
}

/* Four-legged bodies differ in proportion only. */
struct quad {
	double bx, by, brx, bry; /* body */
	double leg_r, neck_r;
	double hx, hy, hr; /* head */
};

static const struct quad quads[] = {
    [P_QUADRUPED] = {-0.1, -0.55, 0.34, 0.2, 0.05, 0.08, 0.38, -0.82, 0.14},
    [P_DINO] = {-0.12, -0.42, 0.4, 0.28, 0.085, 0.14, 0.4, -0.55, 0.2},
    [P_LONGNECK] = {-0.15, -0.36, 0.38, 0.24, 0.085, 0.07, 0.45, -0.9, 0.09},
};

static void quad_legs(const struct pen *p, const struct quad *q, int front, struct ill_rgb c)
{
	double lift = p->pose == ILL_POSE_WAVE || p->pose == ILL_POSE_CHEER ? 0.12 : 0;
	for (int i = 0; i < 2; i++) {
		double x = q->bx + (front ? 0.55 : -0.6) * q->brx + i * 0.12;
		double up = front && i ? lift : 0;
		capsule(p, x, q->by, x + up, -q->leg_r - up, q->leg_r);
		paint(p, i ? c : ill_rgb_shade(c, -0.12));
	}
}

static void quadruped(const struct pen *p)
{
	const struct quad *q = &quads[BODY_PLAN(p->sh->body)];
	struct ill_rgb c = p->sh->main;
	double lift = p->pose == ILL_POSE_POINT ? -0.04 : 0;
	struct anchor a = {.hx = q->hx,
	                   .hy = q->hy + lift,
	                   .hr = q->hr,
	                   .nx = q->hx - 0.1,
	                   .ny = q->hy + lift + q->hr + 0.05,
	                   .nw = 0.08,
	                   .bx = q->bx,
	                   .by = q->by,
	                   .brx = q->brx,
	                   .bry = q->bry};
	if (p->tail == T_LONG) {
		taper(p, q->bx - 0.7 * q->brx, q->by, q->bx - q->brx - 0.15, q->by + 0.05,
		      q->bx - q->brx - 0.3, -0.12, 0.1, 0.02);
		paint(p, c);
	} else {
		tail(p, q->bx - 0.9 * q->brx, q->by + 0.05);
	}
	quad_legs(p, q, 0, c);
	quad_legs(p, q, 1, c);
	if (has(p, F_FRILL)) {
		ell(p, a.hx - 0.12, a.hy - 0.06, 0.24, 0.26);
		paint(p, p->sh->second);
	}
	if (has(p, F_PLATES))
		for (int i = 0; i < 5; i++) {
			double t = M_PI * (1.15 + 0.17 * i), x = q->bx + cos(t) * q->brx,
			       y = q->by + sin(t) * q->bry;
			move(p, x - 0.05, y + 0.03);
			line(p, x + cos(t) * 0.11, y + sin(t) * 0.11);
			line(p, x + 0.05, y + 0.03);
			cairo_close_path(p->cr);
			paint(p, p->sh->accent);
		}
	taper(p, q->bx + 0.6 * q->brx, q->by - 0.05, a.hx - 0.1, q->by - 0.05, a.hx - 0.02,
	      a.hy + 0.02, q->neck_r * 1.3, q->neck_r);
	paint(p, c);
	if (has(p, F_MANE)) {
		taper(p, q->bx + 0.55 * q->brx, q->by - 0.12, a.hx - 0.18, q->by - 0.1, a.hx - 0.08,
		      a.hy - 0.08, 0.05, 0.04);
		paint(p, p->detail);
	}
	if (has(p, F_HUMP))
		ball(p, q->bx - 0.05, q->by - q->bry * 0.85, 0.16, 0.13, c);
	ball(p, q->bx, q->by, q->brx, q->bry, c);
	ell(p, q->bx + 0.05, q->by + 0.35 * q->bry, 0.7 * q->brx, 0.5 * q->bry);
	dab(p, ill_rgb_mix(p->sh->second, c, 0.3));
	if (has(p, F_SPOTS))
		spots(p, q->bx, q->by, q->brx, q->bry, ill_rgb_shade(c, -0.18));
	wear_body(p, &a);
	if (has(p, F_ANTLERS))
		for (int s = 0; s < 2; s++) {
			move(p, a.hx - 0.03 + 0.06 * s, a.hy - 0.1);
			line(p, a.hx - 0.08 + 0.1 * s, a.hy - 0.28);
			line(p, a.hx - 0.14 + 0.1 * s, a.hy - 0.34);
			move(p, a.hx - 0.06 + 0.1 * s, a.hy - 0.22);
			line(p, a.hx + 0.02 + 0.1 * s, a.hy - 0.3);
			ink(p, p->detail, 2.5);
		}
	ears(p, a.hx - 0.03, a.hy + 0.05, a.hr * 0.9);
	if (has(p, F_HORNS) && BODY_PLAN(p->sh->body) == P_DINO) {
		for (int i = 0; i < 2; i++) {
			move(p, a.hx + 0.02 + 0.08 * i, a.hy - 0.15);
			line(p, a.hx + 0.2 + 0.05 * i, a.hy - 0.36);
			line(p, a.hx + 0.08 + 0.08 * i, a.hy - 0.12);
			cairo_close_path(p->cr);
			paint(p, p->detail);
		}
	} else if (has(p, F_HORNS)) {
		horns(p, a.hx, a.hy, a.hr);
	}
	if (has(p, F_CREST)) {
		ell(p, a.hx - 0.1, a.hy - 0.14, 0.14, 0.05);
		paint(p, p->sh->accent);
	}
	ell(p, a.hx + 0.5 * a.hr, a.hy + 0.25 * a.hr, 0.85 * a.hr, 0.6 * a.hr); /* muzzle */
	paint(p, c);
	ball(p, a.hx, a.hy, a.hr * 1.05, a.hr * 0.95, c);
	ell(p, a.hx + 0.95 * a.hr, a.hy + 0.2 * a.hr, 0.07 * a.hr, 0.06 * a.hr);
	dab(p, outline_of(c));
	if (has(p, F_HORNS) && BODY_PLAN(p->sh->body) == P_DINO) {
		move(p, a.hx + 0.95 * a.hr, a.hy - 0.05 * a.hr);
		line(p, a.hx + 1.3 * a.hr, a.hy - 0.55 * a.hr);
		line(p, a.hx + 0.75 * a.hr, a.hy - 0.2 * a.hr);
		cairo_close_path(p->cr);
		paint(p, p->detail);
	}
	struct face f = head_face(a.hx, a.hy, a.hr, c);
	f.r = fmax(0.15 * a.hr, 0.018);
	f.mx = a.hx + 0.55 * a.hr, f.my = a.hy + 0.5 * a.hr;
	face(p, &f);
	wear_head(p, &a, &f);
}

static void frog(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	struct anchor a = {.hx = 0,
	                   .hy = -0.55,
	                   .hr = 0.3,
	                   .nx = 0,
	                   .ny = -0.42,
	                   .nw = 0.2,
	                   .bx = 0,
	                   .by = -0.28,
	                   .brx = 0.3,
	                   .bry = 0.25};
	wear_behind(p, &a);
	for (int s = -1; s <= 1; s += 2) {
		ell(p, s * 0.26, -0.12, 0.14, 0.1);
		paint(p, ill_rgb_shade(c, -0.1));
		for (int t = -1; t <= 1; t++) {
			ell(p, s * 0.28 + t * 0.05 + 0.08, -0.02, 0.025, 0.02);
			paint(p, p->detail);
		}
	}
	struct arm ar = {0.2, -0.35, 0.18, 0.04, c, p->detail};
	arm(p, &ar, 0, NULL, NULL);
	ball(p, a.bx, a.by, a.brx, a.bry, c);
	ell(p, 0.04, -0.25, 0.2, 0.17);
	dab(p, p->sh->second);
	wear_body(p, &a);
	ball(p, 0, -0.55, 0.33, 0.22, c);
	for (int s = 0; s < 2; s++)
		ball(p, -0.12 + 0.26 * s, -0.74, 0.11, 0.11, c);
	struct face f = head_face(0.02, -0.58, 0.3, c);
	f.ex[0] = -0.12, f.ex[1] = 0.14, f.ey = -0.75, f.r = 0.06;
	f.mw = 0.09, f.my = -0.5;
	face(p, &f);
	arm(p, &ar, 1, &a.handx, &a.handy);
	a.hy = -0.7;
	wear_head(p, &a, &f);
}

static void seal(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	struct anchor a = {.hx = 0.04,
	                   .hy = -0.68,
	                   .hr = 0.24,
	                   .nx = 0.02,
	                   .ny = -0.5,
	                   .nw = 0.18,
	                   .bx = 0,
	                   .by = -0.28,
	                   .brx = 0.34,
	                   .bry = 0.28};
	wear_behind(p, &a);
	fin(p, -0.28, -0.04, 0.12, 2.9, ill_rgb_shade(c, -0.1));
	move(p, -0.36, -0.05);
	curve(p, -0.42, -0.45, -0.25, -0.7, 0.04, -0.7);
	curve(p, 0.3, -0.7, 0.42, -0.45, 0.36, -0.05);
	curve(p, 0.2, 0.01, -0.2, 0.01, -0.36, -0.05);
	cairo_close_path(p->cr);
	paint(p, c);
	gloss(p, 0, -0.4, 0.3, 0.3);
	ell(p, 0.05, -0.25, 0.2, 0.18);
	dab(p, p->sh->second);
	fin(p, -0.22, -0.35, 0.12, fin_lift(p, 0) + 1.9, ill_rgb_shade(c, -0.1));
	wear_body(p, &a);
	round_head(p, &a);
	fin(p, 0.22, -0.35, 0.12, fin_lift(p, 1) + 0.3, c);
}

static void bug(const struct pen *p)
{
	struct ill_rgb c = p->sh->main;
	struct anchor a = {.hx = 0.22,
	                   .hy = -0.42,
	                   .hr = 0.17,
	                   .nx = 0.12,
	                   .ny = -0.32,
	                   .nw = 0.08,
	                   .bx = -0.05,
	                   .by = -0.3,
	                   .brx = 0.28,
	                   .bry = 0.22};
	if (has(p, F_WINGS)) {
		double up = p->pose == ILL_POSE_CHEER ? -0.08 : 0;
		for (int i = 0; i < 2; i++) {
			ell(p, -0.12 - 0.12 * i, -0.6 + up, 0.2 - 0.04 * i, 0.16 - 0.03 * i);
			paint(p, ill_rgb_mix(p->sh->second, WHITE, 0.2));
			if (has(p, F_SPOTS)) {
				ell(p, -0.12 - 0.12 * i, -0.62 + up, 0.06, 0.05);
				dab(p, p->sh->accent);
			}
		}
	}
	for (int i = 0; i < 3; i++) {
		move(p, -0.15 + 0.12 * i, -0.15);
		line(p, -0.2 + 0.14 * i, -0.02);
		ink(p, DARK, 2);
	}
	if (p->tail == T_LONG) {
		taper(p, -0.2, -0.3, -0.4, -0.3, -0.6, -0.25, 0.06, 0.02);
		paint(p, c);
	}
	ball(p, a.bx, a.by, a.brx, a.bry, c);
	if (has(p, F_SPOTS) && !has(p, F_WINGS))
		spots(p, a.bx, a.by, a.brx, a.bry, p->sh->second);
	if (has(p, F_STRIPES))
		stripes_over(p, a.bx - a.brx, a.by - a.bry, a.bx + a.brx, a.by + a.bry,
		             p->sh->second);
	if (has(p, F_GLOW))
		halo(p, a.bx - 0.15, a.by, 0.25, p->sh->second);
	wear_body(p, &a);
	for (int s = 0; s < 2; s++) {
		double tx = a.hx + 0.02 + 0.1 * s,
		       ty = a.hy - 0.36 - (p->pose == ILL_POSE_WAVE && s ? 0.06 : 0);
		move(p, a.hx - 0.02 + 0.06 * s, a.hy - 0.12);
		curve(p, a.hx, a.hy - 0.3, tx - 0.05, ty, tx, ty);
		ink(p, DARK, 1.6);
		ell(p, tx, ty, 0.025, 0.025);
		dab(p, DARK);
	}
	if (has(p, F_CLAWS))
		for (int s = 0; s < 2; s++) {
			ball(p, a.hx + 0.15 - 0.3 * s,
			     a.hy - 0.3 - (p->pose != ILL_POSE_STAND ? 0.1 : 0), 0.08, 0.06, c);
		}
	struct ill_rgb head = has(p, F_CLAWS) ? c : ill_rgb_shade(p->sh->second, 0.1);
	ball(p, a.hx, a.hy, a.hr, a.hr, head);
	struct face f = head_face(a.hx, a.hy, a.hr, head);
	f.r = 0.18 * a.hr;
	face(p, &f);
	wear_head(p, &a, &f);
}

/* ---- drawing a character ---- */

static void (*const plans[P_COUNT])(const struct pen *p) = {
    [P_HUMAN] = human,
    [P_CRITTER] = critter,
    [P_QUADRUPED] = quadruped,
    [P_DINO] = quadruped,
    [P_LONGNECK] = quadruped,
    [P_BIRD] = bird,
    [P_FLYER] = flyer,
    [P_FISH] = fish,
    [P_OCTOPUS] = octopus,
    [P_TURTLE] = turtle,
    [P_SNAIL] = snail,
    [P_ROBOT] = robot,
    [P_STAR] = star,
    [P_SPRITE] = sprite,
    [P_FROG] = frog,
    [P_SEAL] = seal,
    [P_BUG] = bug,
};

void ill_character(cairo_t *cr, const struct ill_sheet *sh, double x, double y, double h,
                   bool facing_left, enum ill_expression e, enum ill_pose pose,
                   const struct ill_style *st, struct sv_rng *rng)
{
	double u = h * sh->size;
	if (!(u > 1))
		return;
	struct pen p = {.cr = cr,
	                .u = u,
	                .lw = fmin(5.0, fmax(1.0, 0.011 * u)),
	                .st = st,
	                .rng = rng,
	                .sh = sh,
	                .bits = sheet_bits(sh),
	                .ears = BODY_EARS(sh->body),
	                .tail = BODY_TAIL(sh->body),
	                .detail = detail_rgb(BODY_DETAIL(sh->body)),
	                .e = (unsigned)e < ILL_EXPRESSION_COUNT ? e : ILL_HAPPY,
	                .pose = (unsigned)pose < ILL_POSE_COUNT ? pose : ILL_POSE_STAND};
	unsigned plan = BODY_PLAN(sh->body);
	cairo_save(cr);
	cairo_new_path(cr);
	cairo_translate(cr, x, y);
	if (facing_left)
		cairo_scale(cr, -1, 1);
	cairo_set_line_join(cr, CAIRO_LINE_JOIN_ROUND);
	cairo_set_line_cap(cr, CAIRO_LINE_CAP_ROUND);
	plans[plan < P_COUNT ? plan : P_CRITTER](&p);
	cairo_restore(cr);
}
