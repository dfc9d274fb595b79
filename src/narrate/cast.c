/*
 * Voice casting: a voice for the narrator and one for each character,
 * read from the character's entry alone — its pronoun picks the family of
 * voices, its catalog voice (pitch, rate) and species the pitch and pace,
 * its traits how lively the pitch moves, and a hash of its id the member of
 * the family — so a character sounds the same in every story and episode.
 */
#include "narrate/narrate.h"

#include <stdio.h>
#include <string.h>

/* Voice families per provider: espeak-ng's English voice with a variant,
 * flite's four voices. */
static const char *const espeak_female[] = {"en-us+f1", "en-us+f2", "en-us+f3",
                                            "en-us+f4", "en+f2",    "en+f3"};
static const char *const espeak_male[] = {"en-us+m1", "en-us+m2", "en-us+m3", "en-us+m4",
                                          "en+m3",    "en+m5",    "en-us+m6"};
static const char *const espeak_other[] = {"en-us+f5", "en-us+m7", "en+f4", "en-us+aunty"};
static const char *const flite_female[] = {"slt"};
static const char *const flite_male[] = {"rms", "awb", "kal16"};
static const char *const flite_other[] = {"slt", "kal16"};

struct family {
	const char *const *names;
	size_t n;
};
#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The catalog's words for a voice: its pitch (0-100) and pace (words a minute). */
struct word_level {
	const char *word;
	int value;
};
static const struct word_level pitches[] = {{"high", 74}, {"medium", 50}, {"low", 26}};
static const struct word_level rates[] = {{"fast", 185}, {"normal", 160}, {"slow", 135}};

static int level(const struct word_level *table, size_t n, const char *word, int otherwise)
{
	for (size_t i = 0; i < n; i++)
		if (strcmp(table[i].word, word) == 0)
			return table[i].value;
	return otherwise;
}

/* Small creatures speak higher, big ones lower. */
static const struct {
	const char *species;
	int pitch;
} species_pitch[] = {
    {"mouse", 8},   {"bird", 8},       {"frog", 6},   {"bee", 8},       {"fairy", 8},
    {"sprite", 8},  {"firefly", 8},    {"bear", -8},  {"dragon", -6},   {"whale", -10},
    {"giant", -10}, {"elephant", -10}, {"troll", -8}, {"dinosaur", -8}, {"owl", -4},
};

/* Traits that make a voice's pitch move more, or less. */
static const struct {
	const char *trait;
	int range;
} trait_range[] = {
    {"bubbly", 20},  {"cheerful", 15}, {"excited", 20}, {"playful", 15},
    {"silly", 20},   {"brave", 10},    {"shy", -15},    {"calm", -15},
    {"gentle", -10}, {"wise", -10},    {"sleepy", -20}, {"careful", -10},
};

static const char *str(const json_t *o, const char *key)
{
	const char *s = json_string_value(json_object_get(o, key));
	return s ? s : "";
}

/* The family of voices: by pronoun, and for "they" (or "it") by how high
 * the catalog says the voice is, so a deep-voiced "they" is not given a
 * high voice to pitch down. */
static struct family family_of(const char *provider, const char *pronoun, const char *pitch)
{
	bool flite = strcmp(provider, "flite") == 0;
	bool she = strcmp(pronoun, "she") == 0, he = strcmp(pronoun, "he") == 0;
	if (!she && !he) {
		she = strcmp(pitch, "high") == 0;
		he = strcmp(pitch, "low") == 0;
	}
	if (she)
		return flite ? (struct family){flite_female, COUNT(flite_female)}
		             : (struct family){espeak_female, COUNT(espeak_female)};
	if (he)
		return flite ? (struct family){flite_male, COUNT(flite_male)}
		             : (struct family){espeak_male, COUNT(espeak_male)};
	return flite ? (struct family){flite_other, COUNT(flite_other)}
	             : (struct family){espeak_other, COUNT(espeak_other)};
}

static int clamp(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

void sv_narrate_cast(const json_t *member, const char *provider, struct sv_voice *out)
{
	bool flite = strcmp(provider, "flite") == 0;
	*out = (struct sv_voice){.pitch = 46, .range = 40, .rate = 150};
	snprintf(out->provider, sizeof out->provider, "%s", provider);
	if (!member) { /* the narrator: warm, unhurried, in the middle of the range */
		snprintf(out->name, sizeof out->name, "%s", flite ? "kal16" : "en+f3");
		return;
	}
	const char *id = str(member, "id")[0] ? str(member, "id") : str(member, "name");
	uint64_t h = sv_hash64(id, strlen(id), 0x766f696365ULL);
	const json_t *voice = json_object_get(member, "voice");
	struct family f = family_of(provider, str(member, "pronoun"), str(voice, "pitch"));
	snprintf(out->name, sizeof out->name, "%s", f.names[h % f.n]);
	int pitch = level(pitches, sizeof pitches / sizeof pitches[0], str(voice, "pitch"), 50) +
	            (int)((h >> 8) % 9) - 4;
	const char *species = str(member, "species");
	for (size_t i = 0; i < sizeof species_pitch / sizeof species_pitch[0]; i++)
		if (strstr(species, species_pitch[i].species))
			pitch += species_pitch[i].pitch;
	int range = 50;
	size_t k;
	const json_t *t;
	json_array_foreach(json_object_get(member, "traits"), k, t)
	{
		for (size_t i = 0; i < sizeof trait_range / sizeof trait_range[0]; i++)
			if (json_string_value(t) &&
			    strcmp(json_string_value(t), trait_range[i].trait) == 0)
				range += trait_range[i].range;
	}
	out->pitch = clamp(pitch, 5, 95);
	out->range = clamp(range, 10, 90);
	out->rate = level(rates, sizeof rates / sizeof rates[0], str(voice, "rate"), 160) +
	            (int)((h >> 16) % 11) - 5;
}
