/*
 * Normalisation before matching: undoes the ways children's text (or someone
 * testing the filter) disguises a word, keeping for every output byte the
 * original bytes it came from so matches map back to the input.
 *
 * Stages: decode UTF-8 and fold each code point (NFKC, case fold, marks
 * stripped, zero-width characters dropped, look-alike letters from other
 * scripts read as Latin); read leetspeak inside words that have letters; join
 * letters spelled out one by one ("k i l l", "k.i.l.l"); then emit, with
 * every separator run as one space and every run of a repeated letter as one
 * letter plus its run length.
 */
#include "moderate/internal.h"

#include <stdlib.h>
#include <string.h>
#include <utf8proc.h>

enum { U_SEP, U_LETTER, U_DIGIT, U_LEET, U_DROP };

struct unit {
	uint32_t cp;
	uint32_t s;  /* its original bytes: [s, s + len) */
	uint8_t len; /* a code point's bytes: at most 4 */
	uint8_t kind;
};

struct units {
	struct unit *u;
	size_t n, cap;
};

/* Room for at least want more units. */
static int grow(struct units *us, size_t want)
{
	size_t cap = us->cap ? us->cap : 256;
	while (cap - us->n < want)
		cap *= 2;
	if (cap == us->cap)
		return 0;
	struct unit *u = realloc(us->u, cap * sizeof(*u));
	if (!u)
		return -1;
	us->u = u;
	us->cap = cap;
	return 0;
}

static int push(struct units *us, uint32_t cp, uint32_t s, uint32_t e, uint8_t kind)
{
	if (us->n == us->cap && grow(us, 1))
		return -1;
	us->u[us->n++] = (struct unit){cp, s, (uint8_t)(e - s), kind};
	return 0;
}

/* Letters from Cyrillic and Greek that look like Latin ones, after case
 * folding, and Latin letters that keep their stroke through the folding of
 * marks (ƒ, ł, ø): the usual ways to slip a word past an ASCII filter. */
static uint32_t lookalike(uint32_t cp)
{
	switch (cp) {
	case 0x0430:
		return 'a'; /* а */
	case 0x0435:
		return 'e'; /* е */
	case 0x043e:
		return 'o'; /* о */
	case 0x0440:
		return 'p'; /* р */
	case 0x0441:
		return 'c'; /* с */
	case 0x0443:
		return 'y'; /* у */
	case 0x0445:
		return 'x'; /* х */
	case 0x0456:
		return 'i'; /* і */
	case 0x0458:
		return 'j'; /* ј */
	case 0x0455:
		return 's'; /* ѕ */
	case 0x043a:
		return 'k'; /* к */
	case 0x043c:
		return 'm'; /* м */
	case 0x043d:
		return 'h'; /* н */
	case 0x04bb:
		return 'h'; /* һ */
	case 0x0442:
		return 't'; /* т */
	case 0x0432:
		return 'b'; /* в */
	case 0x0451:
		return 'e'; /* ё */
	case 0x03bf:
		return 'o'; /* ο */
	case 0x03b1:
		return 'a'; /* α */
	case 0x03b5:
		return 'e'; /* ε */
	case 0x03b9:
		return 'i'; /* ι */
	case 0x03ba:
		return 'k'; /* κ */
	case 0x03bd:
		return 'v'; /* ν */
	case 0x03c1:
		return 'p'; /* ρ */
	case 0x03c4:
		return 't'; /* τ */
	case 0x03c5:
		return 'u'; /* υ */
	case 0x03c7:
		return 'x'; /* χ */
	case 0x03b7:
		return 'n'; /* η */
	case 0x03b2:
		return 'b'; /* β */
	case 0x0261:
		return 'g'; /* ɡ */
	case 0x0251:
		return 'a'; /* ɑ */
	case 0x0131:
		return 'i'; /* dotless ı */
	case 0x0192:
		return 'f'; /* ƒ */
	case 0x0142:
		return 'l'; /* ł */
	case 0x00f8:
		return 'o'; /* ø */
	default:
		return cp;
	}
}

static bool zero_width(uint32_t cp)
{
	return cp == 0x200b || cp == 0x200c || cp == 0x200d || cp == 0x2060 || cp == 0xfeff ||
	       cp == 0x00ad || cp == 0x180e;
}

static uint8_t classify(uint32_t cp)
{
	if (cp < 0x80) {
		if (cp >= 'a' && cp <= 'z')
			return U_LETTER;
		if (cp >= '0' && cp <= '9')
			return U_DIGIT;
		if (cp == '@' || cp == '$' || cp == '!' || cp == '|' || cp == '*')
			return U_LEET;
		return U_SEP;
	}
	if (cp == 0x20ac || cp == 0x00a3) /* € for e, £ for l */
		return U_LEET;
	utf8proc_category_t c = utf8proc_category((utf8proc_int32_t)cp);
	if (c >= UTF8PROC_CATEGORY_LU && c <= UTF8PROC_CATEGORY_LO)
		return U_LETTER;
	if (c == UTF8PROC_CATEGORY_ND)
		return U_DIGIT;
	if (c == UTF8PROC_CATEGORY_MN || c == UTF8PROC_CATEGORY_MC || c == UTF8PROC_CATEGORY_ME)
		return U_DROP; /* a mark the folding left (unassigned mappings) */
	return U_SEP;
}

/* Stage 1: decode and fold every code point. */
static int fold(const char *s, size_t len, struct units *us)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		if (p[i] < 0x80) { /* the common case, without utf8proc */
			if (us->n == us->cap && grow(us, len - i))
				return -1;
			/* A run of ASCII bytes, as long as there is room. */
			size_t room = us->cap - us->n;
			size_t end = len - i < room ? len : i + room;
			struct unit *u = us->u + us->n;
			size_t k = i;
			for (; k < end && p[k] < 0x80; k++) {
				uint32_t c = p[k];
				if (c >= 'A' && c <= 'Z')
					c += 'a' - 'A';
				*u++ = (struct unit){c, (uint32_t)k, 1, classify(c)};
			}
			us->n += k - i;
			i = k;
			continue;
		}
		utf8proc_int32_t cp;
		utf8proc_ssize_t n = utf8proc_iterate(p + i, (utf8proc_ssize_t)(len - i), &cp);
		if (n <= 0) { /* an invalid byte separates words */
			if (push(us, ' ', (uint32_t)i, (uint32_t)i + 1, U_SEP))
				return -1;
			i++;
			continue;
		}
		uint32_t st = (uint32_t)i, en = (uint32_t)(i + (size_t)n);
		i += (size_t)n;
		if (zero_width((uint32_t)cp))
			continue;
		utf8proc_int32_t out[16];
		int last = 0;
		utf8proc_ssize_t k = utf8proc_decompose_char(
		    cp, out, 16,
		    UTF8PROC_DECOMPOSE | UTF8PROC_COMPAT | UTF8PROC_CASEFOLD | UTF8PROC_STRIPMARK |
		        UTF8PROC_IGNORE,
		    &last);
		if (k < 0 || k > 16) {
			out[0] = cp;
			k = 1;
		}
		for (utf8proc_ssize_t j = 0; j < k; j++) {
			uint32_t c = lookalike((uint32_t)out[j]);
			uint8_t kind = classify(c);
			if (kind == U_DROP || zero_width(c))
				continue;
			if (push(us, c, st, en, kind))
				return -1;
		}
	}
	return 0;
}

static uint32_t leet(uint32_t c, bool one_as_l)
{
	switch (c) {
	case '0':
		return 'o';
	case '1':
		return one_as_l ? 'l' : 'i';
	case '3':
		return 'e';
	case '4':
		return 'a';
	case '5':
		return 's';
	case '7':
		return 't';
	case '@':
		return 'a';
	case '$':
		return 's';
	case '!':
		return 'i';
	case '|':
	case 0x00a3:
		return 'l';
	case 0x20ac:
		return 'e';
	default:
		return 0;
	}
}

/* Stage 2: inside a word that has a letter, digits and symbols that stand
 * for letters become those letters; elsewhere ("2024", "$5") they stay. A
 * '!' ending a word is punctuation ("hello!"). */
static void read_leet(struct units *us, bool one_as_l, bool *used_one)
{
	struct unit *u = us->u;
	size_t i = 0;
	while (i < us->n) {
		if (u[i].kind == U_SEP) {
			i++;
			continue;
		}
		size_t j = i;
		bool letter = false, other = false;
		while (j < us->n && u[j].kind != U_SEP) {
			letter |= u[j].kind == U_LETTER;
			other |= u[j].kind != U_LETTER;
			j++;
		}
		if (!other) { /* a word of letters only, as most are: nothing to read */
			i = j;
			continue;
		}
		/* A '*' masking letters inside a word ("f*ck", "sh**") stays as a
		 * letter of its own that the lexicon spells, when the word has two
		 * letters in a row; between single letters ("k*i*l*l") it joins. */
		bool pair = false;
		for (size_t k = i; k + 1 < j && !pair; k++)
			pair = u[k].kind != U_LEET && u[k + 1].kind != U_LEET;
		for (size_t k = i; k < j; k++) {
			if (u[k].kind == U_LETTER)
				continue;
			if (u[k].cp == '*') {
				bool inside = pair && k > i && (k + 1 < j || u[k - 1].cp == '*');
				u[k].kind = inside ? U_LETTER : U_SEP;
				continue;
			}
			uint32_t c = letter ? leet(u[k].cp, one_as_l) : 0;
			if (u[k].cp == '!' && k + 1 == j)
				c = 0;
			if (c) {
				*used_one |= u[k].cp == '1';
				u[k].cp = c;
				u[k].kind = U_LETTER;
			} else if (u[k].kind == U_LEET) {
				u[k].kind = U_SEP;
			}
		}
		i = j;
	}
}

static bool joiner(uint32_t c)
{
	return c == ' ' || c == '.' || c == '-' || c == '_' || c == '*' || c == '\t';
}

/* Stage 3: three or more single letters in a row, each apart from the next
 * by one to three spacing characters, are one word spelled out. */
/* A word cut by dots, dashes or underscores into short pieces, two or more
 * of them single letters ("dr.u.n.k", "f-u-ck"), is one word. */
static void join_pieces(struct units *us)
{
	struct unit *u = us->u;
	size_t n = us->n, i = 0;
	while (i < n) {
		if (u[i].kind != U_LETTER) {
			i++;
			continue;
		}
		size_t j = i, pieces = 0, singles = 0, longest = 0;
		bool ok = true;
		while (j < n) {
			size_t k = j;
			while (k < n && u[k].kind == U_LETTER)
				k++;
			if (k == j) {
				ok = false;
				break;
			}
			pieces++;
			singles += k - j == 1;
			if (k - j > longest)
				longest = k - j;
			j = k;
			if (j + 1 < n && u[j].kind == U_SEP &&
			    (u[j].cp == '.' || u[j].cp == '-' || u[j].cp == '_' ||
			     u[j].cp == '*') &&
			    u[j + 1].kind == U_LETTER)
				j++;
			else
				break;
		}
		if (ok && pieces >= 3 && singles >= 2 && longest <= 3)
			for (size_t k = i; k < j; k++)
				if (u[k].kind == U_SEP)
					u[k].kind = U_DROP;
		i = j > i ? j : i + 1;
	}
}

static void join_letters(struct units *us, bool skip_article, bool *article)
{
	struct unit *u = us->u;
	size_t n = us->n;
	size_t i = 0;
	join_pieces(us);
	while (i < n) {
		bool single = u[i].kind == U_LETTER && (i == 0 || u[i - 1].kind == U_SEP) &&
		              (i + 1 == n || u[i + 1].kind == U_SEP);
		if (!single) {
			/* nothing up to the next separator can be a single letter:
			 * each has a neighbour before it */
			for (i++; i < n && u[i - 1].kind != U_SEP;)
				i++;
			continue;
		}
		/* Follow the chain of single letters. */
		size_t last = i, before_last = i, count = 1;
		for (;;) {
			size_t j = last + 1, gap = 0;
			while (j < n && u[j].kind == U_SEP && joiner(u[j].cp) && gap < 4) {
				j++;
				gap++;
			}
			if (gap == 0 || gap > 3 || j >= n || u[j].kind != U_LETTER ||
			    (j + 1 < n && u[j + 1].kind != U_SEP))
				break;
			before_last = last;
			last = j;
			count++;
		}
		/* "a g u n": the chain may begin with the word "a" or "I"; the
		 * second pass leaves that letter out (and a last "u" or "r"). */
		size_t from = i;
		if (count >= 4 && (u[i].cp == 'a' || u[i].cp == 'i')) {
			*article = true;
			if (skip_article) {
				from = i + 1;
				while (u[from].kind == U_SEP)
					from++;
			}
		}
		/* "d r u g s r fun": it may end with the word "u" or "r" too. */
		size_t to = last;
		if (count >= 4 && (u[last].cp == 'u' || u[last].cp == 'r')) {
			*article = true;
			if (skip_article)
				to = before_last;
		}
		if (count >= 3)
			for (size_t k = from; k < to; k++)
				if (u[k].kind == U_SEP)
					u[k].kind = U_DROP;
		i = last + 1;
	}
}

static int reserve(struct sv_norm *n, size_t need)
{
	if (need <= n->cap)
		return 0;
	size_t cap = n->cap ? n->cap : 256;
	while (cap < need)
		cap *= 2;
	char *t = realloc(n->text, cap + 1);
	if (t)
		n->text = t;
	uint32_t *s = realloc(n->start, cap * sizeof(*s));
	if (s)
		n->start = s;
	uint32_t *e = realloc(n->end, cap * sizeof(*e));
	if (e)
		n->end = e;
	uint8_t *r = realloc(n->run, cap);
	if (r)
		n->run = r;
	if (!t || !s || !e || !r)
		return -1;
	n->cap = cap;
	return 0;
}

/* Text-speak read as the words it stands for, so "smash ur face" meets the
 * lexicon's "smash your face". Each replacement fits in four bytes per
 * letter it replaces (the room emit reserves). */
static const struct {
	const char *word, *means;
} textspeak[] = {
    {"u", "you"},
    {"ur", "your"},
    {"r", "are"},
    {"ya", "you"},
    {"yr", "your"},
    {"im", "i m"},
    {"ima", "i m going to"},
    {"imma", "i m going to"},
    {"gonna", "going to"},
    {"wanna", "want to"},
    {"gotta", "got to"},
    {"tmrw", "tomorrow"},
    {"tmr", "tomorrow"},
    {"coz", "because"},
    {"cuz", "because"},
    {"thru", "through"},
    {"plz", "please"},
    {"pls", "please"},
};

/* What the word of letters u[i..j) stands for, or NULL. */
static const char *textspeak_of(const struct unit *u, size_t i, size_t j)
{
	char w[8];
	/* No text-speak word is longer, and each starts with one of these. */
	const uint32_t starts = 1u << ('c' - 'a') | 1u << ('g' - 'a') | 1u << ('i' - 'a') |
	                        1u << ('p' - 'a') | 1u << ('r' - 'a') | 1u << ('t' - 'a') |
	                        1u << ('u' - 'a') | 1u << ('w' - 'a') | 1u << ('y' - 'a');
	if (j - i > 5 || u[i].cp < 'a' || u[i].cp > 'z' || !(starts & (1u << (u[i].cp - 'a'))))
		return NULL;
	for (size_t k = i; k < j; k++) {
		if (u[k].cp < 'a' || u[k].cp > 'z')
			return NULL;
		w[k - i] = (char)u[k].cp;
	}
	w[j - i] = '\0';
	for (size_t k = 0; k < sizeof textspeak / sizeof textspeak[0]; k++)
		if (textspeak[k].word[0] == w[0] && strcmp(w, textspeak[k].word) == 0 &&
		    strlen(textspeak[k].means) <= 4 * (j - i))
			return textspeak[k].means;
	return NULL;
}

/* Stage 4: write the bytes. */
static int emit(const struct units *us, struct sv_norm *n)
{
	if (reserve(n, us->n * 4 + 1))
		return -1;
	const struct unit *u = us->u;
	size_t o = 0, i = 0;
	while (i < us->n) {
		if (u[i].kind == U_DROP) {
			i++;
			continue;
		}
		if (u[i].kind == U_SEP) {
			size_t j = i;
			while (j < us->n && (u[j].kind == U_SEP || u[j].kind == U_DROP))
				j++;
			if (o > 0 && j < us->n) { /* no space at either end */
				n->text[o] = ' ';
				n->start[o] = u[i].s;
				n->end[o] = u[j - 1].s + u[j - 1].len;
				n->run[o] = 1;
				o++;
			}
			i = j;
			continue;
		}
		/* A whole word of text-speak, as the words it stands for. */
		size_t w = i;
		const char *means = NULL;
		if (u[i].kind == U_LETTER && (i == 0 || u[i - 1].kind == U_SEP)) {
			while (w < us->n && u[w].kind == U_LETTER && w - i < 6)
				w++;
			if (w == us->n || u[w].kind == U_SEP)
				means = textspeak_of(u, i, w);
		}
		if (means) {
			for (const char *c = means; *c; c++, o++) {
				n->text[o] = *c;
				n->start[o] = u[i].s;
				n->end[o] = u[w - 1].s + u[w - 1].len;
				n->run[o] = 1;
			}
			i = w;
			continue;
		}
		/* A run of one letter, across dropped joiners ("k i l l"). */
		size_t j = i + 1, count = 1, lastu = i;
		while (j < us->n) {
			if (u[j].kind == U_DROP) {
				j++;
				continue;
			}
			if (u[j].kind == U_SEP || u[j].cp != u[i].cp)
				break;
			lastu = j;
			count++;
			j++;
		}
		unsigned char b[4] = {(unsigned char)u[i].cp};
		utf8proc_ssize_t k =
		    u[i].cp < 0x80 ? 1 : utf8proc_encode_char((utf8proc_int32_t)u[i].cp, b);
		for (utf8proc_ssize_t q = 0; q < k; q++) {
			n->text[o] = (char)b[q];
			n->start[o] = u[i].s;
			n->end[o] = u[lastu].s + u[lastu].len;
			n->run[o] = count > 255 ? 255 : (uint8_t)count;
			o++;
		}
		i = lastu + 1;
	}
	n->text[o] = '\0';
	n->len = o;
	return 0;
}

void sv_moderate_norm_init(struct sv_norm *n)
{
	memset(n, 0, sizeof(*n));
}

void sv_moderate_norm_free(struct sv_norm *n)
{
	free(n->text);
	free(n->start);
	free(n->end);
	free(n->run);
	free(n->units);
	memset(n, 0, sizeof(*n));
}

int sv_moderate_normalise(const char *s, size_t len, bool one_as_l, struct sv_norm *n)
{
	struct units us = {n->units, 0, n->units_cap};
	n->len = 0;
	n->used_one = false;
	int rc = -1;
	if (len > UINT32_MAX - 1 || fold(s, len, &us))
		goto out;
	read_leet(&us, one_as_l, &n->used_one);
	join_letters(&us, one_as_l, &n->used_one);
	rc = emit(&us, n);
	if (rc == 0 && n->len == 0 && reserve(n, 1) == 0)
		n->text[0] = '\0';
out:
	n->units = us.u;
	n->units_cap = us.cap;
	return rc;
}
