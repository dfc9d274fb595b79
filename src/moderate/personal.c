/*
 * Personal data a child should not put in a story: e-mail addresses (also
 * disguised: "jo [at] example [dot] com"), phone numbers (also digit by digit
 * or in words), street addresses, British postcodes and @handles, found in
 * the original bytes (they are ASCII shapes, and the offsets are then exact).
 */
#include "moderate/internal.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

/* ASCII classes from a table: these finders look at every byte, and
 * <ctype.h> costs a call per byte. */
enum { C_DIGIT = 1, C_LOWER = 2, C_UPPER = 4 };

#define C_RANGE13(from, cls)                                                                       \
	[(from)] = (cls), [(from) + 1] = (cls), [(from) + 2] = (cls), [(from) + 3] = (cls),        \
	[(from) + 4] = (cls), [(from) + 5] = (cls), [(from) + 6] = (cls), [(from) + 7] = (cls),    \
	[(from) + 8] = (cls), [(from) + 9] = (cls), [(from) + 10] = (cls), [(from) + 11] = (cls),  \
	[(from) + 12] = (cls)

static const uint8_t ascii_class[256] = {
    C_RANGE13('A', C_UPPER), C_RANGE13('N', C_UPPER), C_RANGE13('a', C_LOWER),
    C_RANGE13('n', C_LOWER), ['0'] = C_DIGIT,         ['1'] = C_DIGIT,
    ['2'] = C_DIGIT,         ['3'] = C_DIGIT,         ['4'] = C_DIGIT,
    ['5'] = C_DIGIT,         ['6'] = C_DIGIT,         ['7'] = C_DIGIT,
    ['8'] = C_DIGIT,         ['9'] = C_DIGIT};

static inline bool a_digit(unsigned char c)
{
	return ascii_class[c] & C_DIGIT;
}

static inline bool a_upper(unsigned char c)
{
	return ascii_class[c] & C_UPPER;
}

static inline bool a_alpha(unsigned char c)
{
	return ascii_class[c] & (C_LOWER | C_UPPER);
}

static inline bool alnum(unsigned char c)
{
	return ascii_class[c] != 0;
}

static bool email_local(unsigned char c)
{
	return alnum(c) || c == '.' || c == '_' || c == '%' || c == '+' || c == '-';
}

/* An e-mail address around the '@' at at: local part, a domain with a dot
 * and a top-level part of two or more letters. */
static bool email_at(const char *s, size_t len, size_t at, size_t *st, size_t *en)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t a = at;
	while (a > 0 && email_local(p[a - 1]))
		a--;
	size_t b = at + 1, dot = 0;
	while (b < len && (alnum(p[b]) || p[b] == '.' || p[b] == '-'))
		b++;
	while (b > at + 1 && (p[b - 1] == '.' || p[b - 1] == '-')) /* a full stop after it */
		b--;
	for (size_t k = at + 1; k < b; k++)
		if (p[k] == '.')
			dot = k;
	if (a == at || !dot || dot >= b)
		return false;
	size_t tld = 0;
	for (size_t k = dot + 1; k < b; k++)
		if (a_alpha(p[k]))
			tld++;
	if (tld < 2 || tld != b - dot - 1)
		return false;
	*st = a;
	*en = b;
	return true;
}

/* Numbers one after another going up or down by the same step, or one
 * number said again and again: counting ("1 2 3 4 5", "2 4 6 8 10",
 * "five five five five"). */
static bool counting(const long *v, size_t n)
{
	if (n < 3)
		return false;
	bool same = true;
	for (size_t i = 2; i < n; i++)
		same &= v[i] - v[i - 1] == v[1] - v[0];
	return same;
}

/* Every group a later year than the one before ("1066 1215 1666"): a list
 * of dates. */
static bool years(const long *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if (v[i] < 1000 || v[i] > 2100 || (i && v[i] <= v[i - 1]))
			return false;
	return n > 1;
}

/* Four groups of four digits or more, up to 19 digits: a card number. */
static bool card(const uint8_t *len, size_t n, size_t digits)
{
	bool fours = n >= 4 && digits <= 19;
	for (size_t i = 0; i + 1 < n && fours; i++)
		fours = len[i] == 4;
	return fours;
}

/* A phone number from start: digits in groups joined by single spaces,
 * dashes, dots or parentheses, with a leading '+' allowed. Seven to fifteen
 * digits (a card's four groups of four up to nineteen); digits one by one
 * only when they do not count ("1 2 3 4 5 6 7"), and a rising list of years
 * is none. */
static bool phone_at(const char *s, size_t len, size_t start, size_t *en)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = start, digits = 0, group = 0, best = 0, last_digit = 0, gap = 0, ngroups = 0;
	long groups[16];
	uint8_t lens[16]; /* digits in each group */
	if (p[i] == '+' || p[i] == '(')
		i++;
	for (; i < len; i++) {
		if (a_digit(p[i])) {
			digits++;
			if (group == 0 && ngroups < 16) {
				lens[ngroups] = 0;
				groups[ngroups++] = 0;
			}
			if (groups[ngroups - 1] < 100000)
				groups[ngroups - 1] = groups[ngroups - 1] * 10 + (p[i] - '0');
			if (lens[ngroups - 1] < 255)
				lens[ngroups - 1]++;
			group++;
			if (group > best)
				best = group;
			last_digit = i;
			gap = 0;
		} else if ((p[i] == ' ' || p[i] == '-' || p[i] == '.' || p[i] == '(' ||
		            p[i] == ')') &&
		           gap < 2) {
			group = 0;
			gap++;
		} else {
			break;
		}
	}
	/* Digits one by one ("5 5 5 0 1 6 2") make a number when they are not
	 * counting ("1 2 3 4 5 6 7 8 9 10"). */
	if (digits < 7 || (digits > 15 && !card(lens, ngroups, digits)) ||
	    (best < 3 && counting(groups, ngroups)) || years(groups, ngroups))
		return false;
	if (last_digit + 1 < len && a_alpha(p[last_digit + 1]))
		return false;
	*en = last_digit + 1;
	if (*en < len && p[*en] == ')')
		(*en)++;
	return true;
}

static size_t word_end(const unsigned char *p, size_t len, size_t i)
{
	while (i < len && a_alpha(p[i]))
		i++;
	return i;
}

/* Street words: these always; the ones in "weak" only capitalised, since
 * "the seven dwarfs drive home" is no address. */
static bool street_word(const unsigned char *w, size_t n)
{
	static const char *const strong[] = {
	    "street",    "st",   "road",     "rd",      "avenue",  "ave", "lane",   "ln",
	    "boulevard", "blvd", "crescent", "terrace", "highway", "hwy", "street."};
	static const char *const weak[] = {"drive", "dr", "way",    "place", "pl",     "close",
	                                   "court", "ct", "square", "row",   "gardens"};
	for (size_t i = 0; i < sizeof(strong) / sizeof(strong[0]); i++)
		if (strlen(strong[i]) == n && strncasecmp((const char *)w, strong[i], n) == 0)
			return true;
	if (!a_upper(w[0]))
		return false;
	for (size_t i = 0; i < sizeof(weak) / sizeof(weak[0]); i++)
		if (strlen(weak[i]) == n && strncasecmp((const char *)w, weak[i], n) == 0)
			return true;
	return false;
}

/* A street address from the number at start: 1 to 5 digits, one or two
 * words, then a street word ("221 Baker Street", "12 oak lane"). */
static bool address_at(const char *s, size_t len, size_t start, size_t *en)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = start;
	while (i < len && a_digit(p[i]))
		i++;
	if (i - start > 5 || (i < len && a_alpha(p[i]) && word_end(p, len, i) - i > 1))
		return false;
	if (i < len && a_alpha(p[i])) /* "12b" */
		i++;
	for (int words = 0; words < 3; words++) {
		if (i >= len || p[i] != ' ')
			return false;
		i++;
		size_t e = word_end(p, len, i);
		if (e == i)
			return false;
		if (words > 0 && street_word(p + i, e - i)) {
			*en = e;
			return true;
		}
		i = e;
	}
	return false;
}

/* ---- e-mail addresses written to dodge a filter: "jake [at] example [dot]
 * org", "tom at example dot com", "m i a @ example . com" ---- */

enum { T_WORD, T_AT, T_DOT, T_BREAK };

struct tok {
	size_t s, e;
	int kind;
};

static bool word_is(const unsigned char *p, size_t s, size_t e, const char *w)
{
	return e - s == strlen(w) && strncasecmp((const char *)p + s, w, e - s) == 0;
}

static bool tld(const unsigned char *p, size_t s, size_t e)
{
	static const char *const v[] = {"com", "org", "net", "edu", "gov", "io",   "co",
	                                "uk",  "us",  "ca",  "au",  "de",  "info", "me"};
	for (size_t i = 0; i < sizeof(v) / sizeof(v[0]); i++)
		if (word_is(p, s, e, v[i]))
			return true;
	return false;
}

static bool email_char(unsigned char c)
{
	return alnum(c) || c == '_' || c == '%' || c == '+' || c == '-';
}

/* The next token from *i: a word, "@" or "at", "." or "dot" (either maybe in
 * brackets), or anything else, a break. Spaces are skipped. */
static bool next_tok(const unsigned char *p, size_t len, size_t *i, struct tok *t)
{
	while (*i < len && (p[*i] == ' ' || p[*i] == '\t'))
		(*i)++;
	if (*i >= len)
		return false;
	size_t a = *i;
	unsigned char c = p[a];
	if (c == '[' || c == '(' || c == '{') { /* [at], (dot) */
		size_t b = a + 1;
		while (b < len && p[b] == ' ')
			b++;
		size_t ws = b;
		while (b < len && a_alpha(p[b]))
			b++;
		size_t we = b;
		while (b < len && p[b] == ' ')
			b++;
		if (b < len && (p[b] == ']' || p[b] == ')' || p[b] == '}') &&
		    (word_is(p, ws, we, "at") || word_is(p, ws, we, "dot"))) {
			*t = (struct tok){a, b + 1, word_is(p, ws, we, "at") ? T_AT : T_DOT};
			*i = b + 1;
			return true;
		}
		*t = (struct tok){a, a + 1, T_BREAK};
		*i = a + 1;
		return true;
	}
	if (c == '@' || c == '.') {
		*t = (struct tok){a, a + 1, c == '@' ? T_AT : T_DOT};
		*i = a + 1;
		return true;
	}
	if (email_char(c)) {
		size_t b = a;
		while (b < len && email_char(p[b]))
			b++;
		int kind = word_is(p, a, b, "at") ? T_AT : word_is(p, a, b, "dot") ? T_DOT : T_WORD;
		*t = (struct tok){a, b, kind};
		*i = b;
		return true;
	}
	*t = (struct tok){a, a + 1, T_BREAK};
	*i = a + 1;
	return true;
}

/* Whether s has the word w (lowercase) anywhere, in any case. */
static bool has_word(const unsigned char *p, size_t len, const char *w)
{
	size_t n = strlen(w);
	for (size_t i = 0; i + n <= len; i++) {
		size_t k = 0;
		while (k < n && (p[i + k] | 0x20) == (unsigned char)w[k])
			k++;
		if (k == n && (i == 0 || !a_alpha(p[i - 1])) &&
		    (i + n == len || !a_alpha(p[i + n])))
			return true;
	}
	return false;
}

/* Whether a disguised address can be in s: an "@", or the words "at" and
 * "dot" ("tom at example dot com"). Most text has neither. */
static bool has_at(const unsigned char *p, size_t len)
{
	return memchr(p, '@', len) || (has_word(p, len, "at") && has_word(p, len, "dot"));
}

static int disguised_emails(const char *s, size_t len, sv_personal_hit_fn hit, void *ctx)
{
	const unsigned char *p = (const unsigned char *)s;
	if (!has_at(p, len))
		return 0;
	struct tok t[8]; /* a window of the last tokens */
	size_t nt = 0, i = 0;
	struct tok cur;
	/* Local part: the word before "at", with single letters spelled out
	 * before it; then the domain: words joined by dots, ending in a
	 * top-level domain. */
	while (next_tok(p, len, &i, &cur)) {
		if (cur.kind != T_AT || nt == 0 || t[nt - 1].kind != T_WORD) {
			if (nt == 8) {
				memmove(t, t + 1, 7 * sizeof(t[0]));
				nt--;
			}
			t[nt++] = cur;
			continue;
		}
		size_t first = nt - 1;
		while (first > 0 && t[first - 1].kind == T_WORD &&
		       t[first - 1].e - t[first - 1].s == 1 && t[first].e - t[first].s == 1)
			first--;
		size_t start = t[first].s, j = i, end = 0, words = 0;
		bool disguised = cur.s > t[nt - 1].e || cur.e - cur.s > 1;
		/* "at" as a plain word needs a disguised dot too: "visit us at
		 * example.com" is a web address, not someone's e-mail. */
		bool at_word = p[cur.s] == 'a' || p[cur.s] == 'A', dot_disguised = false;
		struct tok d;
		size_t k = j;
		for (;;) {
			size_t before = k;
			if (!next_tok(p, len, &k, &d) || d.kind != T_WORD)
				break;
			disguised |= d.s > before;
			words++;
			if (words >= 2 && tld(p, d.s, d.e))
				end = d.e;
			size_t k2 = k;
			struct tok dot;
			if (!next_tok(p, len, &k2, &dot) || dot.kind != T_DOT)
				break;
			disguised |= dot.s > k || dot.e - dot.s > 1;
			dot_disguised |= dot.s > k || dot.e - dot.s > 1;
			k = k2;
		}
		if (end && disguised && (!at_word || dot_disguised)) {
			int rc = hit(start, end, ctx);
			if (rc)
				return rc;
			i = end;
			nt = 0;
			continue;
		}
		if (nt == 8) {
			memmove(t, t + 1, 7 * sizeof(t[0]));
			nt--;
		}
		t[nt++] = cur;
	}
	return 0;
}

/* ---- a phone number in words: "zero seven seven zero ..." ---- */

/* A phone number told in words, or in digits and words mixed, or with
 * letters o for zeros, or spaced out past the digit finder ("0 seven 7 0 0,
 * nine hundred, 4 6 1", "o7 7oo 9oo 321", "0 7 9 1 1 - 2 3 4 - 5 6 7"):
 * nine digits or more (seven when all are words, or all digits spaced out
 * one by one), not counting. */
enum { N_NONE, N_DIGITS, N_WORD, N_TIMES, N_HUNDRED };

/* What the token [s, e) is to such a number; *d the digit of a word. */
static int number_token(const unsigned char *p, size_t s, size_t e, int *d)
{
	if (a_digit(p[s]) || (p[s] | 0x20) == 'o') {
		size_t digits = 0, k = s;
		for (; k < e && (a_digit(p[k]) || (p[k] | 0x20) == 'o'); k++)
			digits += a_digit(p[k]) != 0;
		if (digits)
			return k == e ? N_DIGITS : N_NONE;
	}
	/* The words of a number, as a table: each is short ("hundred" the
	 * longest) and starts with one of a few letters. */
	static const struct {
		char word[8];
		uint8_t len, kind, digit;
	} words[] = {
	    {"zero", 4, N_WORD, 0},      {"one", 3, N_WORD, 1},     {"two", 3, N_WORD, 2},
	    {"three", 5, N_WORD, 3},     {"four", 4, N_WORD, 4},    {"five", 4, N_WORD, 5},
	    {"six", 3, N_WORD, 6},       {"seven", 5, N_WORD, 7},   {"eight", 5, N_WORD, 8},
	    {"nine", 4, N_WORD, 9},      {"oh", 2, N_WORD, 0},      {"o", 1, N_WORD, 0},
	    {"nought", 6, N_WORD, 0},    {"double", 6, N_TIMES, 0}, {"triple", 6, N_TIMES, 0},
	    {"hundred", 7, N_HUNDRED, 0}};
	const uint32_t firsts = 1u << ('z' - 'a') | 1u << ('o' - 'a') | 1u << ('t' - 'a') |
	                        1u << ('f' - 'a') | 1u << ('s' - 'a') | 1u << ('e' - 'a') |
	                        1u << ('n' - 'a') | 1u << ('d' - 'a') | 1u << ('h' - 'a');
	unsigned char c = p[s] | 0x20;
	if (e - s > 7 || c < 'a' || c > 'z' || !(firsts & (1u << (c - 'a'))))
		return N_NONE;
	char w[8];
	for (size_t k = s; k < e; k++)
		w[k - s] = (char)(p[k] | 0x20);
	for (size_t i = 0; i < sizeof words / sizeof words[0]; i++)
		if (words[i].len == e - s && memcmp(words[i].word, w, e - s) == 0) {
			*d = words[i].digit;
			return words[i].kind;
		}
	return N_NONE;
}

struct spoken {
	long v[16];
	size_t n, first, last;
	bool odd, all_words;   /* odd: words, or o for zero */
	bool wide, long_group; /* digits spaced wide; a group of two or more */
	int times;             /* after "double": the next digit twice */
};

static void spoken_add(struct spoken *sp, long d)
{
	for (int k = 0; k < (sp->times ? sp->times : 1); k++, sp->n++)
		if (sp->n < 16)
			sp->v[sp->n] = d;
	sp->times = 0;
}

static int spoken_end(struct spoken *sp, sv_personal_hit_fn hit, void *ctx)
{
	if (sp->n == 0 && sp->times == 0)
		return 0; /* nothing begun (most words): nothing to clear */
	/* digits alone, one by one and spaced wide ("0 7 9 1 1 - 2 3 4"), are a
	 * number too; groups spaced wide are years and scores */
	bool wide_digits = sp->wide && !sp->long_group;
	bool enough = sp->n >= 9 || ((sp->all_words || wide_digits) && sp->n >= 7);
	bool odd = sp->odd || wide_digits;
	int rc = odd && enough && sp->n <= 15 && !counting(sp->v, sp->n < 16 ? sp->n : 16)
	             ? hit(sp->first, sp->last, ctx)
	             : 0;
	*sp = (struct spoken){.all_words = true};
	return rc;
}

static int phone_words(const char *s, size_t len, sv_personal_hit_fn hit, void *ctx)
{
	const unsigned char *p = (const unsigned char *)s;
	struct spoken sp = {.all_words = true};
	for (size_t i = 0;;) {
		/* the next token, and whether only separators come before it */
		size_t a = i;
		bool joined = true;
		for (; a < len && !alnum(p[a]); a++)
			joined &= p[a] == ' ' || p[a] == ',' || p[a] == '-' || p[a] == '.' ||
			          p[a] == '(' || p[a] == ')';
		size_t b = a;
		while (b < len && alnum(p[b]))
			b++;
		int d = 0, kind = a < len ? number_token(p, a, b, &d) : N_NONE;
		bool empty = sp.n == 0 && sp.times == 0;
		if (!joined || kind == N_NONE || (kind == N_HUNDRED && sp.n == 0)) {
			int rc = spoken_end(&sp, hit, ctx);
			if (rc || a >= len)
				return rc;
			empty = true;
			if (kind == N_NONE || kind == N_HUNDRED) {
				i = b > a ? b : a + 1;
				continue;
			}
		}
		if (empty)
			sp.first = a;
		else if (a > sp.last + 2)
			sp.wide = true; /* spaced wider than the digit finder reads */
		if (kind == N_DIGITS) {
			sp.long_group |= b - a > 1;
			for (size_t k = a; k < b; k++) {
				sp.odd |= !a_digit(p[k]);
				spoken_add(&sp, a_digit(p[k]) ? p[k] - '0' : 0);
			}
			sp.all_words = false;
		} else {
			sp.odd = true;
			if (kind == N_WORD)
				spoken_add(&sp, d);
			else if (kind == N_TIMES)
				sp.times = (p[a] | 0x20) == 'd' ? 2 : 3;
			else /* "nine hundred": two zeros */
				for (int k = 0; k < 2; k++)
					spoken_add(&sp, 0);
		}
		sp.last = b;
		i = b;
	}
}

/* Whether the name of an app people message on ends just before at. */
static bool app_before(const unsigned char *p, size_t at)
{
	static const char *const apps[] = {"tiktok",   "insta",   "instagram", "snap",
	                                   "snapchat", "discord", "roblox",    "youtube",
	                                   "twitter",  "twitch",  "whatsapp",  "telegram",
	                                   "kik",      "ig",      "yt"};
	size_t e = at;
	while (e > 0 && (p[e - 1] == ' ' || p[e - 1] == ':' || p[e - 1] == '-'))
		e--;
	size_t s = e;
	while (s > 0 && a_alpha(p[s - 1]))
		s--;
	for (size_t k = 0; k < sizeof apps / sizeof apps[0]; k++)
		if (word_is(p, s, e, apps[k]))
			return true;
	return false;
}

/* A social-media handle: "@name" starting a word, three or more letters,
 * digits or underscores with a letter among them. */
static bool handle_at(const unsigned char *p, size_t len, size_t at, size_t *en)
{
	if (at > 0 && (alnum(p[at - 1]) || p[at - 1] == '_'))
		return false;
	size_t i = at + 1;
	bool letter = false;
	while (i < len && (alnum(p[i]) || p[i] == '_')) {
		letter |= a_alpha(p[i]) != 0;
		i++;
	}
	/* "@theme.call" is a reference in a template, not a handle, unless an
	 * app is named just before it ("tiktok @mia.dances") */
	bool dotted = i + 1 < len && p[i] == '.' && alnum(p[i + 1]);
	if (i - at - 1 < 3 || !letter || (dotted && !app_before(p, at)))
		return false;
	while (i + 1 < len && (p[i] == '.' || p[i] == '_') && alnum(p[i + 1]))
		for (i++; i < len && (alnum(p[i]) || p[i] == '_');)
			i++;
	*en = i;
	return true;
}

/* A gaming tag, "name#1234": a name and four digits. */
static bool tag_at(const unsigned char *p, size_t len, size_t hash, size_t *st, size_t *en)
{
	size_t a = hash;
	while (a > 0 && (alnum(p[a - 1]) || p[a - 1] == '_' || p[a - 1] == '.'))
		a--;
	size_t b = hash + 1;
	while (b < len && a_digit(p[b]))
		b++;
	if (hash - a < 2 || b - hash - 1 != 4 || (b < len && alnum(p[b])))
		return false;
	*st = a;
	*en = b;
	return true;
}

/* A British postcode in capitals: "LS99 9ZZ", "SW1A 1AA". */
static bool postcode_at(const unsigned char *p, size_t len, size_t i, size_t *en)
{
	if (i > 0 && alnum(p[i - 1]))
		return false;
	size_t k = i, letters = 0;
	while (k < len && a_upper(p[k]) && letters < 3) {
		k++;
		letters++;
	}
	if (letters < 1 || letters > 2 || k >= len || !a_digit(p[k]))
		return false;
	k++;
	if (k < len && (a_digit(p[k]) || a_upper(p[k])))
		k++;
	if (k >= len || p[k] != ' ')
		return false;
	k++;
	if (k + 3 > len || !a_digit(p[k]) || !a_upper(p[k + 1]) || !a_upper(p[k + 2]))
		return false;
	k += 3;
	if (k < len && alnum(p[k]))
		return false;
	*en = k;
	return true;
}

static int personal_scan(const char *s, size_t len, sv_personal_hit_fn hit, void *ctx)
{
	int wrc = phone_words(s, len, hit, ctx);
	if (wrc)
		return wrc;
	{
		const unsigned char *q = (const unsigned char *)s;
		for (size_t i = 0; i < len; i++) {
			size_t en;
			size_t st = i;
			if ((q[i] == '@' && handle_at(q, len, i, &en)) ||
			    (q[i] == '#' && tag_at(q, len, i, &st, &en)) ||
			    (a_upper(q[i]) && postcode_at(q, len, i, &en))) {
				int rc = hit(st, en, ctx);
				if (rc)
					return rc;
				i = en - 1;
			}
		}
	}
	int drc = disguised_emails(s, len, hit, ctx);
	if (drc)
		return drc;
	const unsigned char *p = (const unsigned char *)s;
	size_t skip_to = 0; /* past the last finding, so one thing is reported once */
	for (size_t i = 0; i < len; i++) {
		size_t st = i, en = 0;
		int rc = 0;
		if (p[i] == '@') {
			if (email_at(s, len, i, &st, &en) && st >= skip_to)
				rc = hit(st, en, ctx);
			else
				en = 0;
		} else if (i >= skip_to && (i == 0 || !alnum(p[i - 1])) &&
		           (a_digit(p[i]) || p[i] == '+' || p[i] == '(')) {
			if (phone_at(s, len, i, &en) ||
			    (a_digit(p[i]) && address_at(s, len, i, &en)))
				rc = hit(i, en, ctx);
			else
				en = 0;
		}
		if (rc)
			return rc;
		if (en) {
			skip_to = en;
			i = en - 1;
		}
	}
	return 0;
}

/* ---- zero-width characters hidden between digits or letters ---- */

/* The length of an invisible character at p (zero-width space, non-joiner,
 * joiner, word joiner, byte-order mark), or 0. */
static size_t invisible(const unsigned char *p, size_t left)
{
	if (left >= 3 && p[0] == 0xe2 && p[1] == 0x80 && p[2] >= 0x8b && p[2] <= 0x8d)
		return 3;
	if (left >= 3 && p[0] == 0xe2 && p[1] == 0x81 && p[2] == 0xa0)
		return 3;
	if (left >= 3 && p[0] == 0xef && p[1] == 0xbb && p[2] == 0xbf)
		return 3;
	return 0;
}

struct unhidden {
	const uint32_t *at; /* per byte of the copy: its offset in the original */
	size_t n;           /* bytes in the copy */
	sv_personal_hit_fn hit;
	void *ctx;
};

static int unhidden_hit(size_t start, size_t end, void *ctx)
{
	struct unhidden *u = ctx;
	if (start >= end || end > u->n)
		return 0; /* the finders report spans inside the copy */
	return u->hit(u->at[start], u->at[end - 1] + 1, u->ctx);
}

int sv_moderate_personal(const char *s, size_t len, sv_personal_hit_fn hit, void *ctx)
{
	const unsigned char *p = (const unsigned char *)s;
	bool hidden = false; /* every invisible character starts 0xe2 or 0xef */
	for (const unsigned char *q = memchr(p, 0xe2, len); q && !hidden;
	     q = memchr(q + 1, 0xe2, len - (size_t)(q + 1 - p)))
		hidden = invisible(q, len - (size_t)(q - p)) > 0;
	for (const unsigned char *q = memchr(p, 0xef, len); q && !hidden;
	     q = memchr(q + 1, 0xef, len - (size_t)(q + 1 - p)))
		hidden = invisible(q, len - (size_t)(q - p)) > 0;
	if (!hidden || len > UINT32_MAX)
		return personal_scan(s, len, hit, ctx);
	/* Read it as if they were not there, reporting the original offsets. */
	char *copy = malloc(len + 1);
	uint32_t *at = malloc((len + 1) * sizeof(*at));
	if (!copy || !at) {
		free(copy);
		free(at);
		return -1;
	}
	size_t n = 0;
	for (size_t i = 0; i < len;) {
		size_t k = invisible(p + i, len - i);
		if (k) {
			i += k;
			continue;
		}
		copy[n] = s[i];
		at[n++] = (uint32_t)i++;
	}
	copy[n] = '\0';
	struct unhidden u = {at, n, hit, ctx};
	int rc = personal_scan(copy, n, unhidden_hit, &u);
	free(copy);
	free(at);
	return rc;
}
