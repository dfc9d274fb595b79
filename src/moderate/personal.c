/*
 * Personal data a child should not put in a story: e-mail addresses, phone
 * numbers and street addresses, found in the original bytes (they are ASCII
 * shapes, and the offsets are then exact).
 */
#include "moderate/internal.h"

#include <ctype.h>
#include <string.h>
#include <strings.h>

static bool alnum(unsigned char c)
{
	return isascii(c) && isalnum(c);
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
		if (isalpha(p[k]))
			tld++;
	if (tld < 2 || tld != b - dot - 1)
		return false;
	*st = a;
	*en = b;
	return true;
}

/* A phone number from start: digits in groups joined by single spaces,
 * dashes, dots or parentheses, with a leading '+' allowed. Seven digits or
 * more, and one group of three or more, so years and counting ("1 2 3 4 5 6
 * 7") are not numbers. */
static bool phone_at(const char *s, size_t len, size_t start, size_t *en)
{
	const unsigned char *p = (const unsigned char *)s;
	size_t i = start, digits = 0, group = 0, best = 0, last_digit = 0, gap = 0;
	if (p[i] == '+' || p[i] == '(')
		i++;
	for (; i < len; i++) {
		if (isdigit(p[i])) {
			digits++;
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
	if (digits < 7 || digits > 15 || best < 3)
		return false;
	if (last_digit + 1 < len && isalpha(p[last_digit + 1]))
		return false;
	*en = last_digit + 1;
	if (*en < len && p[*en] == ')')
		(*en)++;
	return true;
}

static size_t word_end(const unsigned char *p, size_t len, size_t i)
{
	while (i < len && isascii(p[i]) && isalpha(p[i]))
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
	if (!isupper(w[0]))
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
	while (i < len && isdigit(p[i]))
		i++;
	if (i - start > 5 || (i < len && isalpha(p[i]) && word_end(p, len, i) - i > 1))
		return false;
	if (i < len && isalpha(p[i])) /* "12b" */
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

int sv_moderate_personal(const char *s, size_t len, sv_personal_hit_fn hit, void *ctx)
{
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
		           (isdigit(p[i]) || p[i] == '+' || p[i] == '(')) {
			if (phone_at(s, len, i, &en) ||
			    (isdigit(p[i]) && address_at(s, len, i, &en)))
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
