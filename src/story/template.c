/*
 * Template syntax and small English text helpers.
 *
 * A template is plain text with {tokens}: {hero}, {Hero.they}, {a:object},
 * {A:weather}, {T:thing}. This file knows which tokens exist (so the catalog can reject a
 * data file with a misspelt token when it loads) and how to fix up text:
 * a/an, Title Case, capitals at the start of sentences, counting words.
 * What a token means for a given story is realise.c's business.
 */
#include "story/internal.h"

#include <ctype.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>

/* Roles first (their index is the ROLE_* value), then the aliases. */
static const char *const role_idents[] = {
    "hero",   "sidekick", "child",   "guide",   "friend", "rival",
    "mentor", "custom",   "chooser", "thinker", "caller", "other",
};

static const char *const word_idents[] = {
    "universe",      "world",          "home",      "home_desc",    "far",           "place",
    "place_desc",    "thing",          "snack",     "critter",      "goal",          "group",
    "obstacle",      "time",           "object",    "object2",      "barrier",       "weather",
    "sound",         "light",          "creature",  "creature_one", "move",          "word",
    "worlds",        "route",          "far_world", "greeting",     "meaning",       "festival",
    "festival_desc", "festival_party", "culture",   "dish",         "culture_place", "thread",
    "old_thread",    "old_title",      "old_far",   "old_friend",
};

static const char *const role_attrs[] = {
    "poss", "they",    "them",  "their", "self",   "was",    "is",
    "has",  "species", "looks", "trait", "trait2", "trait3", "home",
};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

static int index_of(const char *const *list, size_t n, const char *s)
{
	for (size_t i = 0; i < n; i++) {
		if (strcmp(list[i], s) == 0)
			return (int)i;
	}
	return -1;
}

static int copy_lower(char *dst, size_t cap, const char *s, size_t n, int *cap_first)
{
	if (n == 0 || n >= cap)
		return -1;
	for (size_t i = 0; i < n; i++) {
		unsigned char ch = (unsigned char)s[i];
		if (!isalnum(ch) && ch != '_')
			return -1;
		dst[i] = (char)tolower(ch);
	}
	dst[n] = '\0';
	if (cap_first)
		*cap_first = isupper((unsigned char)s[0]) != 0;
	return 0;
}

int sv_story_token_parse(const char *s, struct sv_token *t)
{
	memset(t, 0, sizeof(*t));
	if (s[0] != '{')
		return -1;
	const char *end = strchr(s, '}');
	if (!end)
		return -1;
	const char *p = s + 1;
	int cap_article = 0;
	if ((p[0] == 'a' || p[0] == 'A' || p[0] == 'T') && p[1] == ':') {
		t->mod = p[0] == 'T' ? 'T' : 'a';
		cap_article = p[0] == 'A';
		p += 2;
	}
	const char *dot = memchr(p, '.', (size_t)(end - p));
	const char *ident_end = dot ? dot : end;
	if (copy_lower(t->ident, sizeof(t->ident), p, (size_t)(ident_end - p), &t->cap) < 0)
		return -1;
	if (dot && copy_lower(t->attr, sizeof(t->attr), dot + 1, (size_t)(end - dot - 1), NULL) < 0)
		return -1;
	t->cap |= cap_article; /* {A:x} is "A x" or "An x" */
	return (int)(end - s + 1);
}

int sv_story_token_role(const char *ident)
{
	int i = index_of(role_idents, COUNT(role_idents), ident);
	return i < 0 ? ROLE_NONE : i;
}

static int check_token(const struct sv_token *t)
{
	if (sv_story_token_role(t->ident) != ROLE_NONE)
		return t->attr[0] == '\0' || index_of(role_attrs, COUNT(role_attrs), t->attr) >= 0;
	return t->attr[0] == '\0' && index_of(word_idents, COUNT(word_idents), t->ident) >= 0;
}

int sv_story_template_check(const char *s, char *why, size_t why_len)
{
	for (const char *p = s; *p; p++) {
		if (*p == '}') {
			snprintf(why, why_len, "stray '}'");
			return -1;
		}
		if (*p != '{')
			continue;
		struct sv_token t;
		int n = sv_story_token_parse(p, &t);
		if (n < 0 || !check_token(&t)) {
			int len = (int)strcspn(p, "}") + 1;
			snprintf(why, why_len, "unknown token '%.*s'", len > 40 ? 40 : len, p);
			return -1;
		}
		p += n - 1;
	}
	return 0;
}

/* Words that start with a vowel letter but a consonant sound, and the reverse. */
static const char *const a_before[] = {"uni", "use", "usu", "one", "eu"};
static const char *const an_before[] = {"hour", "honest", "heir"};

static int starts_with_any(const char *s, const char *const *list, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		if (strncasecmp(s, list[i], strlen(list[i])) == 0)
			return 1;
	}
	return 0;
}

const char *sv_story_article(const char *phrase)
{
	if (starts_with_any(phrase, a_before, COUNT(a_before)))
		return "a";
	if (starts_with_any(phrase, an_before, COUNT(an_before)))
		return "an";
	return strchr("aeiouAEIOU", phrase[0]) && phrase[0] ? "an" : "a";
}

static const char *const small_words[] = {
    "a", "an", "the", "of", "and", "in", "on", "at", "to", "for", "with", "from", "by",
};

int sv_story_title_case(struct sv_buf *out, const char *s)
{
	while (*s) {
		size_t sp = strspn(s, " ");
		if (sv_buf_append(out, s, sp) < 0)
			return -1;
		s += sp;
		size_t n = strcspn(s, " ");
		char word[32];
		int small = 0;
		if (n < sizeof(word)) {
			memcpy(word, s, n);
			word[n] = '\0';
			small = index_of(small_words, COUNT(small_words), word) >= 0;
		}
		size_t start = out->len;
		if (sv_buf_append(out, s, n) < 0)
			return -1;
		if (!small && n)
			out->data[start] = (char)toupper((unsigned char)out->data[start]);
		s += n;
	}
	return 0;
}

/* Upper-cases the first letter of the text and of each sentence after ". ", "! " or "? ",
 * but not after an ellipsis, so "beginning with... everything" stays as written. */
void sv_story_capitalise_sentences(char *s)
{
	int want = 1;
	for (char *p = s; *p; p++) {
		unsigned char ch = (unsigned char)*p;
		if (want && isalpha(ch)) {
			*p = (char)toupper(ch);
			want = 0;
		} else if (want && (ch & 0x80)) {
			want = 0; /* a non-ASCII letter: leave its case alone */
		} else if ((ch == '.' || ch == '!' || ch == '?') && p[1] == ' ') {
			want = !(ch == '.' && p > s && p[-1] == '.');
		} else if (ch != ' ' && ch != '"' && ch != '\'') {
			want = 0;
		}
	}
}

int sv_story_count_words(const char *s)
{
	int n = 0, in_word = 0, counted = 0;
	for (const unsigned char *p = (const unsigned char *)s;; p++) {
		if (*p == '\0' || isspace(*p)) {
			n += in_word && counted;
			in_word = counted = 0;
			if (*p == '\0')
				break;
			continue;
		}
		in_word = 1;
		if (isalnum(*p) || *p >= 0x80)
			counted = 1;
	}
	return n;
}
