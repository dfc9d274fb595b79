/*
 * Readability of English text: sentences, words, syllables, and the
 * Flesch-Kincaid grade built on them.
 *
 *   grade = 0.39 * words / sentences + 11.8 * syllables / words - 15.59
 *
 * Sentences end at '.', '!', '?' or an ellipsis (closing quotes and brackets
 * may follow), and at every line break. A mark does not end a sentence before
 * a lower-case word when it closes a quotation ("Help!" cried Pip) or is an
 * ellipsis, nor after a title such as "Mr.". Words are counted the way
 * sv_story_count_words counts them.
 *
 * Syllables are estimated from spelling: groups of vowels, less a silent e
 * (and the silent -es and -ed), plus the vowel pairs that are said as two
 * (li-on, qui-et, go-ing, fly-ing). The rules are a table of tiny patterns;
 * suffixes (-ly, -ful, -ness, ...) and compounds (some-, home-, ...) are
 * counted part by part so their inner silent e stays silent. Nothing here
 * allocates.
 */
#include "story/story.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))
#define WORD_MAX 48

/* ---- syllables of one lower-case word ---- */

static int is_vowel(char ch)
{
	return ch == 'a' || ch == 'e' || ch == 'i' || ch == 'o' || ch == 'u' || ch == 'y';
}

/* Whether pattern element e (a letter, 'V' vowel, 'C' consonant, or a
 * [set] / [^set]) matches ch; *len gets the element's length. */
static int element_matches(const char *e, char ch, size_t *len)
{
	if (e[0] == '[') {
		int negate = e[1] == '^';
		const char *set = e + 1 + negate;
		const char *close = strchr(set, ']');
		*len = (size_t)(close - e) + 1;
		int in = ch && memchr(set, ch, (size_t)(close - set)) != NULL;
		return ch && (negate ? !in : in);
	}
	*len = 1;
	if (e[0] == 'V')
		return is_vowel(ch);
	if (e[0] == 'C')
		return ch && !is_vowel(ch);
	return e[0] == ch;
}

static int matches_at(const char *pat, const char *w, size_t n, size_t at)
{
	for (const char *e = pat; *e; at++) {
		if (*e == '$')
			return at == n;
		size_t len;
		if (at >= n || !element_matches(e, w[at], &len))
			return 0;
		e += len;
	}
	return 1;
}

/* How many letters an element-by-element pattern spans, and whether it ends with '$'. */
static size_t pattern_length(const char *pat, int *anchored)
{
	size_t k = 0;
	for (const char *e = pat; *e && *e != '$'; k++)
		e += e[0] == '[' ? (size_t)(strchr(e, ']') - e) + 1 : 1;
	*anchored = pat[strlen(pat) - 1] == '$';
	return k;
}

/* How often pat occurs in w; '^' anchors it at the start, '$' at the end. */
static int occurrences(const char *pat, const char *w, size_t n)
{
	if (pat[0] == '^')
		return matches_at(pat + 1, w, n, 0);
	int anchored;
	size_t len = pattern_length(pat, &anchored);
	if (len > n)
		return 0;
	if (anchored)
		return matches_at(pat, w, n, n - len);
	int k = 0;
	for (size_t at = 0; at + len <= n; at++)
		k += matches_at(pat, w, n, at);
	return k;
}

/* Corrections to the count of vowel groups, applied once per occurrence. */
static const struct {
	const char *pattern;
	int delta;
} rules[] = {
    /* a silent e at the end, but not in -ble, -tle, -tre (ta-ble, cen-tre) */
    {"Ce$", -1},
    {"[^aeiouylrw]le$", +1},
    {"[^aeiouyr]re$", +1},
    /* silent -es (hopes), but said after s, x, z, ch, sh, ce, ge and in -bles */
    {"Ces$", -1},
    {"[sxzcg]es$", +1},
    {"[cs]hes$", +1},
    {"[^aeiouylrw]les$", +1},
    {"[^aeiouyr]res$", +1},
    /* silent -ed (jumped), but said after t and d and in -bled, -dred */
    {"[^aeiouytd]ed$", -1},
    {"[^aeiouylrw]led$", +1},
    {"[^aeiouyr]red$", +1},
    {"[^r]gue$", -1},
    {"que$", -1},
    /* vowel pairs said as two syllables */
    {"[^cts]ia", +1},
    {"^ia", +1},
    {"[^tscxgh]io", +1},
    {"llio", -1},
    {"llia", -1},
    {"nion", -1},
    {"iet", +1},
    {"ier$", +1},
    {"iers$", +1},
    {"iest$", +1},
    {"[^gq]ua", +1},
    {"[^gq]uel$", +1},
    {"iu", +1},
    {"eum$", +1},
    {"oe[mt]", +1},
    {"[aeiou]ing$", +1},
    {"[aeiou]ings$", +1},
    {"[aeiou][^aeiouy]ea$", +1},
    {"[aeiou][^aeiouy]eas$", +1},
    {"^creat[ei]", +1},
    {"^reali", +1},
    {"ire$", +1}, /* fi-re, ti-red, as dictionaries have it */
    {"ired$", +1},
    {"ires$", +1},
    {"^hour", +1},
    {"[^aeiouy]lour$", +1},
    {"^our", +1},
    {"CCling$", +1}, /* bub-bling, twin-kling */
    {"^every", -1},  /* ev-ry-one */
    {"^evening", -1},
    /* y between sounds: be-yond, play-er, fly-ing, any-one; not eye, played */
    {"[aeiou]y[aeiou]", +1},
    {"[aeiou]ye$", -1},
    {"[aeiou]yes$", -1},
    {"[aeiou]yed$", -1},
    {"Cy[ie]", +1},
    {"Cye$", -1},
    {"Cyes$", -1},
    {"Cyed$", -1},
    {"Cyone", +1},
};

/* Endings counted on their own, so the stem keeps its silent e (love-ly). */
static const char *const suffixes[] = {
    "fully", "lessly", "ness", "less", "ment", "ments", "ful", "ly", "some",
};

/* Beginnings of compounds with a silent e inside (some-thing, home-sick). */
static const char *const compound_starts[] = {
    "some", "home",  "fire",  "life",  "time",  "side", "stone", "bone",  "nose",  "love", "lone",
    "hide", "space", "place", "snake", "cake",  "game", "make",  "note",  "wise",  "like", "care",
    "safe", "tide",  "shore", "grape", "plate", "base", "face",  "whale", "hedge", "fare",
};

/* Words the rules get wrong. */
static const struct {
	const char *word;
	int syllables;
} exceptions[] = {
    {"maybe", 2}, {"flea", 1}, {"fleas", 1}, {"recipe", 3}, {"anemone", 4}, {"crooked", 2},
};

static int vowel_groups(const char *w, size_t n)
{
	int groups = 0;
	for (size_t i = 0; i < n; i++) {
		int v = is_vowel(w[i]) && !(i == 0 && w[i] == 'y' && n > 1 && is_vowel(w[1]));
		int prev = i > 0 && is_vowel(w[i - 1]) && !(i == 1 && w[0] == 'y');
		groups += v && !prev;
	}
	return groups;
}

static int has_vowel(const char *w, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (is_vowel(w[i]))
			return 1;
	}
	return 0;
}

static int count_word(const char *w, size_t n);

/* A split into two parts counted on their own, or 0 when there is none. */
static int split_count(const char *w, size_t n)
{
	for (size_t i = 0; i < COUNT(suffixes); i++) {
		size_t k = strlen(suffixes[i]);
		if (n >= k + 4 && memcmp(w + n - k, suffixes[i], k) == 0)
			return count_word(w, n - k) + count_word(w + n - k, k);
	}
	for (size_t i = 0; i < COUNT(compound_starts); i++) {
		size_t k = strlen(compound_starts[i]);
		if (n >= k + 2 && memcmp(w, compound_starts[i], k) == 0 && !is_vowel(w[k]) &&
		    has_vowel(w + k, n - k))
			return count_word(w, k) + count_word(w + k, n - k);
	}
	return 0;
}

static int count_word(const char *w, size_t n)
{
	for (size_t i = 0; i < COUNT(exceptions); i++) {
		if (strlen(exceptions[i].word) == n && memcmp(exceptions[i].word, w, n) == 0)
			return exceptions[i].syllables;
	}
	int parts = split_count(w, n);
	if (parts)
		return parts;
	int k = vowel_groups(w, n);
	for (size_t i = 0; i < COUNT(rules); i++)
		k += rules[i].delta * occurrences(rules[i].pattern, w, n);
	return k < 1 ? 1 : k;
}

/* ---- syllables of a written word: case, apostrophes, hyphens, digits ---- */

/* A contraction's ending: n't adds a syllable after a consonant (did-n't,
 * is-n't) but not after a vowel (don't, can't); 's adds one after a hiss
 * (fox's); the rest ('ll, 're, 've, 'm, 'd) add none. */
static int clitic_syllables(const char *stem, size_t n, const char *clitic)
{
	if (strcmp(clitic, "t") == 0 && n > 1 && stem[n - 1] == 'n') {
		char last = stem[n - 2];
		int more = !is_vowel(last) || (last == 'e' && n > 4);
		return count_word(stem, n - 1) + more;
	}
	int hiss = n && strchr("sxz", stem[n - 1]) != NULL;
	return count_word(stem, n) + (strcmp(clitic, "s") == 0 && hiss);
}

/* One hyphen-free part of a word, already lower-case letters and apostrophes. */
static int part_syllables(const char *w, size_t n)
{
	const char *apo = memchr(w, '\'', n);
	if (!apo)
		return count_word(w, n);
	char clitic[WORD_MAX] = "";
	size_t stem = (size_t)(apo - w), rest = n - stem - 1;
	if (rest >= sizeof(clitic))
		return count_word(w, stem) + 1;
	memcpy(clitic, apo + 1, rest);
	clitic[rest] = '\0';
	static const char *const known[] = {"s", "t", "ll", "re", "ve", "m", "d"};
	for (size_t i = 0; i < COUNT(known); i++) {
		if (strcmp(clitic, known[i]) == 0)
			return stem ? clitic_syllables(w, stem, clitic) : 1;
	}
	return (stem ? count_word(w, stem) : 0) + (rest ? part_syllables(apo + 1, rest) : 0);
}

/* Counting syllables is the realiser's hot path (it weighs every sentence it
 * might write), and a story uses few distinct words: each thread keeps the
 * answers for recent words. */
#define CACHE_SLOTS 1024

static _Thread_local struct {
	char word[16];
	int syllables;
} cache[CACHE_SLOTS];

static int cached_syllables(const char *w, size_t n)
{
	if (n >= sizeof(cache[0].word))
		return part_syllables(w, n);
	uint32_t h = 2166136261u;
	for (size_t i = 0; i < n; i++)
		h = (h ^ (unsigned char)w[i]) * 16777619u;
	size_t slot = h & (CACHE_SLOTS - 1);
	if (memcmp(cache[slot].word, w, n) == 0 && cache[slot].word[n] == '\0')
		return cache[slot].syllables;
	int k = part_syllables(w, n);
	memcpy(cache[slot].word, w, n);
	cache[slot].word[n] = '\0';
	cache[slot].syllables = k;
	return k;
}

/* Reads the next character of a word: letters lower-cased, the curly
 * apostrophe made straight, anything else 0; returns how many bytes it used. */
static size_t normalise_byte(const char *s, size_t left, char *out)
{
	unsigned char ch = (unsigned char)s[0];
	if (left >= 3 && memcmp(s, "\xe2\x80\x99", 3) == 0) {
		*out = '\'';
		return 3;
	}
	*out = isalpha(ch) ? (char)tolower(ch) : ch == '\'' ? '\'' : 0;
	return 1;
}

int sv_story_syllables(const char *word, size_t len)
{
	int total = 0;
	char part[WORD_MAX];
	size_t n = 0;
	for (size_t i = 0; i <= len;) {
		char ch = 0;
		size_t used = i < len ? normalise_byte(word + i, len - i, &ch) : 1;
		total += i < len && isdigit((unsigned char)word[i]); /* "12": about one a digit */
		if (ch && n < sizeof(part))
			part[n++] = ch;
		if (!ch) { /* a hyphen, a mark or the end: count the part so far */
			while (n && part[0] == '\'') /* 'em, 'twas */
				memmove(part, part + 1, --n);
			while (n && part[n - 1] == '\'') /* the friends' */
				n--;
			total += n ? cached_syllables(part, n) : 0;
			n = 0;
		}
		i += used;
	}
	return total;
}

/* ---- sentences and words ---- */

struct token {
	const char *s;
	size_t n;
	int line_before; /* a line break between this token and the one before */
};

static const char *next_token(const char *p, struct token *t)
{
	t->line_before = 0;
	while (*p && isspace((unsigned char)*p))
		t->line_before |= *p++ == '\n';
	t->s = p;
	while (*p && !isspace((unsigned char)*p))
		p++;
	t->n = (size_t)(p - t->s);
	return p;
}

static int is_word(const struct token *t)
{
	for (size_t i = 0; i < t->n; i++) {
		unsigned char ch = (unsigned char)t->s[i];
		if (isalnum(ch) || ch >= 0x80)
			return 1;
	}
	return 0;
}

static int ends_with(const char *s, size_t n, const char *tail)
{
	size_t k = strlen(tail);
	return n >= k && memcmp(s + n - k, tail, k) == 0;
}

/* Strips closing quotes and brackets off the end; returns how many bytes are left. */
static size_t strip_closers(const char *s, size_t n, int *closed)
{
	static const char *const closers[] = {"\"", "'", ")", "]", "\xe2\x80\x9d", "\xe2\x80\x99"};
	*closed = 0;
	for (int again = 1; again && n;) {
		again = 0;
		for (size_t i = 0; i < COUNT(closers); i++) {
			if (ends_with(s, n, closers[i])) {
				n -= strlen(closers[i]);
				*closed = again = 1;
			}
		}
	}
	return n;
}

static int is_title(const char *s, size_t n)
{
	static const char *const titles[] = {"Mr.", "Mrs.", "Ms.", "Dr.", "St."};
	for (size_t i = 0; i < COUNT(titles); i++) {
		if (n == strlen(titles[i]) && memcmp(s, titles[i], n) == 0)
			return 1;
	}
	return 0;
}

static int starts_lower(const struct token *t)
{
	for (size_t i = 0; i < t->n; i++) {
		unsigned char ch = (unsigned char)t->s[i];
		if (isalnum(ch) || ch >= 0x80)
			return islower(ch) != 0;
	}
	return 0;
}

/* Whether the sentence ends after token t, with next the token after it. */
static int ends_sentence(const struct token *t, const struct token *next)
{
	if (!next->n || next->line_before)
		return 1;
	int closed;
	size_t n = strip_closers(t->s, t->n, &closed);
	int ellipsis = ends_with(t->s, n, "...") || ends_with(t->s, n, "\xe2\x80\xa6");
	if (!ellipsis && !(n && strchr(".!?", t->s[n - 1])))
		return 0;
	if ((closed || ellipsis) && starts_lower(next))
		return 0;
	return closed || !is_title(t->s, n);
}

void sv_story_sentences(const char *text, sv_story_sentence_fn fn, void *ctx)
{
	struct token t, next;
	const char *p = next_token(text, &t), *start = NULL;
	struct sv_story_text_stats st = {1, 0, 0};
	while (t.n) {
		p = next_token(p, &next);
		if (!start)
			start = t.s;
		if (is_word(&t)) {
			st.words++;
			st.syllables += sv_story_syllables(t.s, t.n);
		}
		if (ends_sentence(&t, &next)) {
			if (st.words)
				fn(ctx, start, (size_t)(t.s + t.n - start), &st);
			start = NULL;
			st.words = st.syllables = 0;
		}
		t = next;
	}
}

static void add_sentence(void *ctx, const char *s, size_t len,
                         const struct sv_story_text_stats *one)
{
	struct sv_story_text_stats *st = ctx;
	st->sentences++;
	st->words += one->words;
	st->syllables += one->syllables;
}

void sv_story_text_stats(const char *text, struct sv_story_text_stats *st)
{
	memset(st, 0, sizeof(*st));
	sv_story_sentences(text, add_sentence, st);
}

double sv_story_fk_grade_of(const struct sv_story_text_stats *st)
{
	if (st->sentences == 0 || st->words == 0)
		return 0.0;
	return 0.39 * st->words / st->sentences + 11.8 * st->syllables / st->words - 15.59;
}

double sv_story_fk_grade(const char *text)
{
	struct sv_story_text_stats st;
	sv_story_text_stats(text, &st);
	return sv_story_fk_grade_of(&st);
}
