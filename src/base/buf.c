/*
 * Growable NUL-terminated byte buffers and structured errors.
 * A buffer doubles its capacity as it grows; an allocation failure leaves it unchanged.
 */
#include "base/base.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void sv_buf_init(struct sv_buf *b)
{
	b->data = NULL;
	b->len = 0;
	b->cap = 0;
}

void sv_buf_free(struct sv_buf *b)
{
	free(b->data);
	sv_buf_init(b);
}

static int reserve(struct sv_buf *b, size_t extra)
{
	if (b->len + extra + 1 <= b->cap)
		return 0;
	size_t cap = b->cap ? b->cap : 64;
	while (cap < b->len + extra + 1) {
		if (cap > SIZE_MAX / 2)
			return -1;
		cap *= 2;
	}
	char *p = realloc(b->data, cap);
	if (!p)
		return -1;
	b->data = p;
	b->cap = cap;
	return 0;
}

int sv_buf_append(struct sv_buf *b, const void *data, size_t len)
{
	if (reserve(b, len) < 0)
		return -1;
	if (len)
		memcpy(b->data + b->len, data, len);
	b->len += len;
	b->data[b->len] = '\0';
	return 0;
}

int sv_buf_puts(struct sv_buf *b, const char *s)
{
	return sv_buf_append(b, s, strlen(s));
}

int sv_buf_vprintf(struct sv_buf *b, const char *fmt, va_list ap)
{
	va_list copy;
	va_copy(copy, ap);
	int n = vsnprintf(NULL, 0, fmt, copy);
	va_end(copy);
	if (n < 0 || reserve(b, (size_t)n) < 0)
		return -1;
	vsnprintf(b->data + b->len, (size_t)n + 1, fmt, ap);
	b->len += (size_t)n;
	return 0;
}

int sv_buf_printf(struct sv_buf *b, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	int rc = sv_buf_vprintf(b, fmt, ap);
	va_end(ap);
	return rc;
}

int sv_buf_html(struct sv_buf *b, const char *s)
{
	for (; *s; s++) {
		const char *rep = NULL;
		switch (*s) {
		case '&':
			rep = "&amp;";
			break;
		case '<':
			rep = "&lt;";
			break;
		case '>':
			rep = "&gt;";
			break;
		case '"':
			rep = "&quot;";
			break;
		case '\'':
			rep = "&#39;";
			break;
		}
		if (rep ? sv_buf_puts(b, rep) : sv_buf_append(b, s, 1))
			return -1;
	}
	return 0;
}

char *sv_buf_steal(struct sv_buf *b)
{
	char *p = b->data;
	if (!p)
		p = calloc(1, 1);
	sv_buf_init(b);
	return p;
}

void sv_err_clear(struct sv_err *e)
{
	if (e)
		memset(e, 0, sizeof(*e));
}

void sv_err_fill(struct sv_err *e, const char *code, const char *field, const char *fmt, ...)
{
	if (!e)
		return;
	snprintf(e->code, sizeof(e->code), "%s", code ? code : "error");
	snprintf(e->field, sizeof(e->field), "%s", field ? field : "");
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->message, sizeof(e->message), fmt, ap);
	va_end(ap);
}

size_t sv_utf8_len(const unsigned char *s, size_t left)
{
	unsigned char c = s[0];
	size_t n = c < 0x80                 ? 1
	           : c >= 0xc2 && c <= 0xdf ? 2
	           : c >= 0xe0 && c <= 0xef ? 3
	           : c >= 0xf0 && c <= 0xf4 ? 4
	                                    : 0;
	if (n == 0 || n > left)
		return 0;
	for (size_t i = 1; i < n; i++) {
		if ((s[i] & 0xc0) != 0x80)
			return 0;
	}
	/* overlong forms, surrogates and code points past U+10FFFF */
	if ((c == 0xe0 && s[1] < 0xa0) || (c == 0xed && s[1] > 0x9f) ||
	    (c == 0xf0 && s[1] < 0x90) || (c == 0xf4 && s[1] > 0x8f))
		return 0;
	return n;
}

int sv_buf_utf8(struct sv_buf *b, const char *s, size_t len)
{
	const unsigned char *u = (const unsigned char *)s;
	size_t i = 0;
	while (i < len) {
		size_t n = sv_utf8_len(u + i, len - i);
		int rc = n ? sv_buf_append(b, s + i, n) : sv_buf_append(b, "\xef\xbf\xbd", 3);
		if (rc < 0)
			return -1;
		i += n ? n : 1;
	}
	return 0;
}
