/*
 * Post-processing of a model's page text, the same for every provider.
 *
 * sv_textgen_clean runs raw output through three stages, each a few small
 * functions:
 *   1. bytes (sanitise): invalid UTF-8, control characters, the model's own
 *      tokens (<|endoftext|> ends the text, others are dropped) and inline
 *      markdown (*, `, __, ~~) go;
 *   2. lines: heading, quote and bullet marks, rules, and a chat preamble
 *      ("Sure! Here is the page:", "Page 3:") go; lines are folded into
 *      paragraphs separated by one blank line;
 *   3. the text: quotes around all of it, an unfinished last sentence and the
 *      sentences beyond max_words go, and the first letter is capitalised.
 * Then the checks (length, the hero named) and the speaker spans.
 *
 * Words and sentences are counted by the story module's readability code, so
 * a model's page is measured exactly like a grammar page, and spans follow
 * docs/story-format.md: the bytes between the quote marks, without them.
 */
#include "story/story.h"
#include "textgen/textgen.h"

#include <ctype.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define COUNT(a)  (sizeof(a) / sizeof((a)[0]))
#define TAG_REACH 60 /* bytes after a closing quote mark where "said Pip" may be */
#define TOKEN_MAX 40 /* longest <|...|> token that is dropped */

/* Tokens that end a model's answer: what follows them is not the page. */
static const char *const end_tokens[] = {
    "<|endoftext|>", "<|im_end|>", "<|eot_id|>", "<|end_of_text|>", "<|end|>", "</s>", "<eos>",
};

/* Tokens dropped where they stand; any other <|...|> is dropped too. */
static const char *const drop_tokens[] = {
    "<|im_start|>assistant", "<s>", "<bos>", "<pad>", "<unk>", "[INST]", "[/INST]",
};

/* How chat models open an answer: a first line that starts so and ends with ':'. */
static const char *const preambles[] = {
    "here is", "here's", "here are", "sure",       "certainly",     "of course",
    "okay",    "ok",     "alright",  "absolutely", "great",         "below is",
    "page",    "text",   "story",    "the page",   "the following", "chapter",
};

/* Labels cut off the start of the first line, with a number: "Page 3: Pip woke." */
static const char *const labels[] = {"page", "text", "story"};

/* Marks that may close a sentence after its . ! or ? */
static const char *const closers[] = {"\"", "'", ")", "\xe2\x80\x9d", "\xe2\x80\x99"};

#define LDQUO    "\xe2\x80\x9c" /* “ */
#define RDQUO    "\xe2\x80\x9d" /* ” */
#define ELLIPSIS "\xe2\x80\xa6"

static int nomem(struct sv_err *err)
{
	sv_err_set(err, "nomem", "", "out of memory");
	return -1;
}

static bool starts(const char *s, size_t n, const char *with)
{
	size_t k = strlen(with);
	return n >= k && memcmp(s, with, k) == 0;
}

/* ---- UTF-8 ---- */

static uint32_t utf8_cp(const unsigned char *s, size_t n)
{
	static const unsigned char lead_mask[] = {0, 0x7f, 0x1f, 0x0f, 0x07};
	uint32_t cp = s[0] & lead_mask[n];
	for (size_t i = 1; i < n; i++)
		cp = cp << 6 | (s[i] & 0x3f);
	return cp;
}

/* Letters and digits of any script; punctuation and spaces are not. */
static bool word_cp(uint32_t cp)
{
	if (cp < 0x80)
		return isalnum((int)cp) != 0;
	return !(cp <= 0xbf || cp == 0xd7 || cp == 0xf7 || (cp >= 0x2000 && cp <= 0x206f) ||
	         (cp >= 0x3000 && cp <= 0x303f));
}

/* Whether the character that starts at pos (a valid text) is part of a word. */
static bool word_at(const char *t, size_t len, size_t pos)
{
	if (pos >= len)
		return false;
	const unsigned char *u = (const unsigned char *)t + pos;
	size_t n = sv_utf8_len(u, len - pos);
	return n && word_cp(utf8_cp(u, n));
}

/* Whether the character that ends just before pos is part of a word. */
static bool word_before(const char *t, size_t len, size_t pos)
{
	if (pos == 0)
		return false;
	size_t at = pos - 1;
	while (at > 0 && ((unsigned char)t[at] & 0xc0) == 0x80)
		at--;
	return word_at(t, len, at);
}

/* ---- stage 1: bytes ---- */

/* The length of a model token at s (0: none); *end tells whether it ends the text. */
static size_t token_at(const char *s, size_t left, bool *end)
{
	*end = false;
	for (size_t i = 0; i < COUNT(end_tokens); i++) {
		if (starts(s, left, end_tokens[i]))
			return *end = true, strlen(end_tokens[i]);
	}
	for (size_t i = 0; i < COUNT(drop_tokens); i++) {
		if (starts(s, left, drop_tokens[i]))
			return strlen(drop_tokens[i]);
	}
	if (!starts(s, left, "<|"))
		return 0;
	for (size_t i = 2; i + 1 < left && i < TOKEN_MAX; i++) {
		if (s[i] == '|' && s[i + 1] == '>')
			return i + 2;
		if (isspace((unsigned char)s[i]))
			return 0;
	}
	return 0;
}

/* Whether the '_' at s[i] marks emphasis rather than joins a word (snake_case). */
static bool emphasis_underscore(const struct sv_buf *o, const char *s, size_t i, size_t n)
{
	bool before = o->len && isalnum((unsigned char)o->data[o->len - 1]);
	bool after = i + 1 < n && isalnum((unsigned char)s[i + 1]);
	return !(before && after);
}

/* One ASCII byte s[i] into o: controls dropped or made spaces, inline markup dropped. */
static int put_ascii(struct sv_buf *o, const char *s, size_t i, size_t n)
{
	char c = s[i];
	if (c == '\r')
		return i + 1 < n && s[i + 1] == '\n' ? 0 : sv_buf_puts(o, "\n");
	if (c == '\t')
		return sv_buf_puts(o, " ");
	if ((c < 0x20 && c != '\n') || c == 0x7f || c == '*' || c == '`')
		return 0;
	if (c == '~' && ((i + 1 < n && s[i + 1] == '~') || (i > 0 && s[i - 1] == '~')))
		return 0;
	if (c == '_' && emphasis_underscore(o, s, i, n))
		return 0;
	return sv_buf_append(o, &c, 1);
}

/* One valid non-ASCII character into o: invisible ones dropped, odd spaces made plain. */
static int put_other(struct sv_buf *o, const char *s, size_t len)
{
	uint32_t cp = utf8_cp((const unsigned char *)s, len);
	if (cp == 0xa0 || (cp >= 0x2000 && cp <= 0x200a) || cp == 0x202f || cp == 0x3000)
		return sv_buf_puts(o, " ");
	if (cp == 0x2028 || cp == 0x2029)
		return sv_buf_puts(o, "\n");
	if (cp <= 0x9f || cp == 0xad || (cp >= 0x200b && cp <= 0x200f) ||
	    (cp >= 0x202a && cp <= 0x202e) || (cp >= 0x2060 && cp <= 0x2064) || cp == 0xfeff)
		return 0;
	return sv_buf_append(o, s, len);
}

static int sanitise(const char *s, struct sv_buf *o)
{
	size_t n = strlen(s);
	for (size_t i = 0; i < n;) {
		bool end;
		size_t k = token_at(s + i, n - i, &end);
		if (end)
			break;
		if (k) {
			i += k;
			continue;
		}
		k = sv_utf8_len((const unsigned char *)s + i, n - i);
		int rc = k == 1 ? put_ascii(o, s, i, n) : k ? put_other(o, s + i, k) : 0;
		if (rc < 0)
			return -1;
		i += k ? k : 1; /* an invalid byte is skipped alone */
	}
	return 0;
}

/* ---- stage 2: lines into paragraphs ---- */

struct lines {
	struct sv_buf *out;
	bool started; /* a line of the page is in out */
	bool blank;   /* a blank line came since the last line of the page */
};

static void trim(const char **s, size_t *n)
{
	while (*n && isspace((unsigned char)(*s)[0]))
		(*s)++, (*n)--;
	while (*n && isspace((unsigned char)(*s)[*n - 1]))
		(*n)--;
}

/* Strips heading, quote and bullet marks; true when the line was a heading. */
static bool strip_marks(const char **s, size_t *n)
{
	bool heading = false;
	for (bool again = true; again && *n;) {
		size_t k = 0;
		while (k < *n && (*s)[k] == '#')
			k++;
		heading |= k > 0;
		if (k == 0 &&
		    ((*s)[0] == '>' || (*n > 1 && strchr("-+", (*s)[0]) && (*s)[1] == ' ')))
			k = 1;
		again = k > 0;
		*s += k, *n -= k;
		trim(s, n);
	}
	return heading;
}

/* ---, ===, ___: a markdown rule. */
static bool is_rule(const char *s, size_t n)
{
	if (n < 3)
		return false;
	for (size_t i = 0; i < n; i++) {
		if (!strchr("-=_ ", s[i]))
			return false;
	}
	return true;
}

/* Whether s starts with word (any case) as a whole word. */
static bool starts_word(const char *s, size_t n, const char *word)
{
	size_t k = strlen(word);
	return n >= k && strncasecmp(s, word, k) == 0 && (n == k || !isalnum((unsigned char)s[k]));
}

static bool is_preamble(const char *s, size_t n)
{
	if (n == 0 || s[n - 1] != ':')
		return false;
	for (size_t i = 0; i < COUNT(preambles); i++) {
		if (starts_word(s, n, preambles[i]))
			return true;
	}
	return false;
}

/* "Page 3: Pip woke." -> "Pip woke." */
static void strip_label(const char **s, size_t *n)
{
	for (size_t i = 0; i < COUNT(labels); i++) {
		size_t k = strlen(labels[i]);
		if (!starts_word(*s, *n, labels[i]))
			continue;
		while (k < *n && ((*s)[k] == ' ' || isdigit((unsigned char)(*s)[k])))
			k++;
		if (k < *n && (*s)[k] == ':') {
			*s += k + 1, *n -= k + 1;
			trim(s, n);
		}
		return;
	}
}

/* Whether the text ends a sentence: . ! ? or an ellipsis, then closing marks. */
static bool ends_sentence(const char *s, size_t n)
{
	for (bool again = true; again && n;) {
		again = false;
		for (size_t i = 0; i < COUNT(closers); i++) {
			size_t k = strlen(closers[i]);
			if (n >= k && memcmp(s + n - k, closers[i], k) == 0)
				n -= k, again = true;
		}
	}
	return (n && strchr(".!?", s[n - 1])) || (n >= 3 && memcmp(s + n - 3, ELLIPSIS, 3) == 0);
}

/* Appends a line of the page, its runs of spaces folded. */
static int put_line(struct lines *l, const char *s, size_t n)
{
	const char *sep = !l->started ? "" : l->blank ? "\n\n" : " ";
	if (sv_buf_puts(l->out, sep) < 0)
		return -1;
	for (size_t i = 0; i < n; i++) {
		if (s[i] == ' ' && i + 1 < n && s[i + 1] == ' ')
			continue;
		if (sv_buf_append(l->out, s + i, 1) < 0)
			return -1;
	}
	l->started = true;
	l->blank = false;
	return 0;
}

static int take_line(struct lines *l, const char *s, size_t n)
{
	trim(&s, &n);
	bool heading = strip_marks(&s, &n);
	if (!l->started && n)
		strip_label(&s, &n);
	/* a title, a rule or the chat's preamble is no part of the page */
	if (n == 0 || is_rule(s, n) || (heading && !ends_sentence(s, n)) ||
	    (!l->started && is_preamble(s, n))) {
		l->blank = true;
		return 0;
	}
	return put_line(l, s, n);
}

static int paragraphs(const struct sv_buf *in, struct sv_buf *out)
{
	struct lines l = {.out = out};
	const char *s = in->data ? in->data : "";
	for (;;) {
		const char *nl = strchr(s, '\n');
		size_t n = nl ? (size_t)(nl - s) : strlen(s);
		if (take_line(&l, s, n) < 0)
			return -1;
		if (!nl)
			return 0;
		s = nl + 1;
	}
}

/* ---- stage 3: the text as a whole ---- */

static void cut_at(struct sv_buf *t, size_t n)
{
	while (n && isspace((unsigned char)t->data[n - 1]))
		n--;
	t->len = n;
	t->data[n] = '\0';
}

/* A quote mark at t[i]: 1 straight, 2 opening curly, 3 closing curly (*n its bytes); 0 none. */
static int quote_mark(const char *t, size_t len, size_t i, size_t *n)
{
	*n = 1;
	if (t[i] == '"')
		return 1;
	*n = 3;
	if (starts(t + i, len - i, LDQUO))
		return 2;
	return starts(t + i, len - i, RDQUO) ? 3 : 0;
}

/* Whether t[from, to) holds a double quote mark. */
static bool has_quote(const char *t, size_t len, size_t from, size_t to)
{
	size_t n;
	for (size_t i = from; i < to; i++) {
		if (quote_mark(t, len, i, &n))
			return true;
	}
	return false;
}

/* Quotes around the whole text that hold no others are the model's, not speech. */
static void unwrap(struct sv_buf *t)
{
	size_t a, b;
	int open = t->len ? quote_mark(t->data, t->len, 0, &a) : 0;
	if (open != 1 && open != 2)
		return;
	b = t->len >= a + 3 && starts(t->data + t->len - 3, 3, RDQUO) ? 3 : 1;
	if (t->len < a + b || quote_mark(t->data, t->len, t->len - b, &b) != open + (open == 2) ||
	    has_quote(t->data, t->len, a, t->len - b))
		return;
	size_t lead = a;
	while (lead < t->len - b && isspace((unsigned char)t->data[lead]))
		lead++;
	memmove(t->data, t->data + lead, t->len - b - lead);
	cut_at(t, t->len - b - lead);
}

/* Past the closing marks that start at t[j]. */
static size_t skip_closers(const char *t, size_t len, size_t j)
{
	for (size_t k = 0; k < COUNT(closers); k++) {
		if (starts(t + j, len - j, closers[k]))
			return skip_closers(t, len, j + strlen(closers[k]));
	}
	return j;
}

/* Cuts what follows the last sentence end (a mark, closers, then a space or the end). */
static void cut_unfinished(struct sv_buf *t)
{
	size_t keep = 0;
	for (size_t i = 0; i < t->len; i++) {
		size_t j;
		if (starts(t->data + i, t->len - i, ELLIPSIS))
			j = i + strlen(ELLIPSIS);
		else if (strchr(".!?", t->data[i]))
			j = i + 1;
		else
			continue;
		j = skip_closers(t->data, t->len, j);
		if (j == t->len || isspace((unsigned char)t->data[j]))
			keep = j;
	}
	cut_at(t, keep);
}

struct budget {
	const char *text;
	int max, words; /* the limit; the words of the sentences kept so far */
	int total;      /* the words of the whole text */
	size_t keep;    /* where the last sentence kept ends */
	bool full;      /* a sentence did not fit: keep no more */
};

static void weigh(void *ctx, const char *s, size_t len, const struct sv_story_text_stats *st)
{
	struct budget *b = ctx;
	b->total += st->words;
	if (b->full || (b->keep && b->words + st->words > b->max)) {
		b->full = true;
		return;
	}
	b->words += st->words;
	b->keep = (size_t)(s + len - b->text);
}

/* Cuts whole sentences off the end until max words are left (but keeps one). */
static void cut_to_words(struct sv_buf *t, int max)
{
	if (max <= 0 || t->len == 0)
		return;
	struct budget b = {.text = t->data, .max = max};
	sv_story_sentences(t->data, weigh, &b);
	if (b.total > max)
		cut_at(t, b.keep);
}

static void capitalise(struct sv_buf *t)
{
	for (size_t i = 0; i < t->len; i++) {
		unsigned char c = (unsigned char)t->data[i];
		if (isalnum(c) || c >= 0x80) {
			if (c >= 'a' && c <= 'z')
				t->data[i] = (char)toupper(c);
			return;
		}
	}
}

/* ---- names ---- */

/* Where name occurs as a whole word in t[from, to), the first (or the last); -1: nowhere. */
static long find_name(const char *t, size_t len, size_t from, size_t to, const char *name,
                      bool last)
{
	size_t k = strlen(name);
	long found = -1;
	for (size_t i = from; k && i + k <= to; i++) {
		if (memcmp(t + i, name, k) != 0 || word_before(t, len, i) || word_at(t, len, i + k))
			continue;
		found = (long)i;
		if (!last)
			break;
	}
	return found;
}

bool sv_textgen_names(const char *text, size_t len, const char *name)
{
	return find_name(text, len, 0, len, name, false) >= 0;
}

/* The name (index into want->names) nearest the edge of t[from, to); -1: none. */
static int nearest_name(const char *t, size_t len, size_t from, size_t to,
                        const struct sv_textgen_check *want, bool last)
{
	int best = -1;
	long at = -1;
	for (int i = 0; i < want->nnames; i++) {
		if (!want->names[i])
			continue;
		long p = find_name(t, len, from, to, want->names[i], last);
		if (p >= 0 && (at < 0 || (last ? p > at : p < at)))
			best = i, at = p;
	}
	return best;
}

/* ---- the checks ---- */

static int rejected(struct sv_err *err, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

static int rejected(struct sv_err *err, const char *fmt, ...)
{
	char why[300];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(why, sizeof(why), fmt, ap);
	va_end(ap);
	sv_err_set(err, "rejected", "text", "%s", why);
	return 1;
}

static int check(const struct sv_buf *t, const struct sv_textgen_check *want, struct sv_err *err)
{
	if (t->len == 0)
		return rejected(err, "no whole sentence is left: the text is too short");
	struct sv_story_text_stats st;
	sv_story_text_stats(t->data, &st);
	if (st.words < want->min_words)
		return rejected(err, "%d words, fewer than %d", st.words, want->min_words);
	const char *hero = want->nnames > 0 ? want->names[0] : NULL;
	if (hero && hero[0] && find_name(t->data, t->len, 0, t->len, hero, false) < 0)
		return rejected(err, "the text does not name %.60s", hero);
	return 0;
}

/* ---- speaker spans ---- */

/* Where the tag after a closing mark at from may end: the sentence, line or next quote. */
static size_t tag_end(const char *t, size_t len, size_t from)
{
	size_t i = from;
	while (i < len && !strchr(".!?\n\"", t[i]) && !starts(t + i, len - i, LDQUO))
		i++;
	size_t reach = from + TAG_REACH;
	return i < reach ? i : reach < len ? reach : len;
}

/* Where the sentence holding an opening mark at to starts. */
static size_t lead_start(const char *t, size_t to)
{
	size_t i = to;
	while (i > 0 && !strchr(".!?\n\"", t[i - 1]) &&
	       !(i >= 3 && (starts(t + i - 3, 3, LDQUO) || starts(t + i - 3, 3, RDQUO))))
		i--;
	return i;
}

struct spans_state {
	const char *text;
	size_t len;
	const struct sv_textgen_check *want;
	json_t *arr;
	const char *last; /* the speaker of the span before, in this paragraph */
	size_t last_para; /* where that span's paragraph starts */
};

static const char *role_of(const struct sv_textgen_check *want, int i)
{
	return i >= 0 && want->roles && want->roles[i] ? want->roles[i] : "narrator";
}

/* Who says the quote that opens at open and whose closing mark ends before after:
 * a name in a lead-in tag (Pip said, "...), else in a tag after it ("..." said
 * Pip), else before it in its sentence; its role, else the speaker before. */
static const char *speaker(struct spans_state *s, size_t open, size_t after, size_t para)
{
	const char *t = s->text;
	size_t from = lead_start(t, open), to = open;
	while (to > from && t[to - 1] == ' ')
		to--;
	bool lead_in = to > from && strchr(",:", t[to - 1]);
	int before = nearest_name(t, s->len, from, open, s->want, true);
	int who = lead_in ? before : -1;
	if (who < 0)
		who = nearest_name(t, s->len, after, tag_end(t, s->len, after), s->want, false);
	if (who < 0)
		who = before;
	if (who >= 0)
		return role_of(s->want, who);
	/* "Hello," said Pip. "Come in." - the second part is still Pip's */
	return s->last && s->last_para == para ? s->last : "narrator";
}

static int add_span(struct spans_state *s, size_t open, size_t start, size_t end, size_t after,
                    size_t para)
{
	bool words = false;
	for (size_t i = start; i < end && !words; i++)
		words = word_at(s->text, s->len, i);
	if (!words)
		return 0;
	const char *who = speaker(s, open, after, para);
	json_t *one =
	    json_pack("{s:i,s:i,s:s}", "start", (int)start, "end", (int)end, "speaker", who);
	if (!one || json_array_append_new(s->arr, one) < 0)
		return -1;
	s->last = who;
	s->last_para = para;
	return 0;
}

/* Pairs the quote marks of each paragraph; an unclosed quote has no span. */
static int find_spans(struct spans_state *s)
{
	size_t para = 0, open = 0, start = 0;
	bool in = false;
	for (size_t i = 0; i < s->len;) {
		size_t n;
		int mark = quote_mark(s->text, s->len, i, &n);
		if (s->text[i] == '\n') {
			para = i + 1;
			in = false;
		} else if (mark && !in && mark != 3) {
			in = true;
			open = i;
			start = i + n;
		} else if (mark && in && mark != 2) {
			in = false;
			if (add_span(s, open, start, i, i + n, para) < 0)
				return -1;
		}
		i += mark ? n : 1;
	}
	return 0;
}

/* ---- the whole ---- */

static int clean_text(const char *raw, int max_words, struct sv_buf *out)
{
	struct sv_buf a;
	sv_buf_init(&a);
	out->len = 0;
	if (sv_buf_puts(out, "") < 0 || sanitise(raw ? raw : "", &a) < 0 || paragraphs(&a, out) < 0)
		return sv_buf_free(&a), -1;
	sv_buf_free(&a);
	unwrap(out);
	cut_unfinished(out);
	cut_to_words(out, max_words);
	capitalise(out);
	return 0;
}

int sv_textgen_clean(const char *raw, const struct sv_textgen_check *want, struct sv_buf *out,
                     json_t **spans, struct sv_err *err)
{
	*spans = NULL;
	if (clean_text(raw, want->max_words, out) < 0)
		return nomem(err);
	int rc = check(out, want, err);
	if (rc)
		return rc;
	struct spans_state s = {.text = out->data, .len = out->len, .want = want};
	s.arr = json_array();
	if (!s.arr || find_spans(&s) < 0) {
		json_decref(s.arr);
		return nomem(err);
	}
	*spans = s.arr;
	return 0;
}
