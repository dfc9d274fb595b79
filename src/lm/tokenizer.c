/*
 * The tokenizer: llama2.c's tokenizer.bin (scored pieces), sentencepiece-style
 * byte-pair encoding with byte fallback, and decoding of one token at a time.
 *
 * The file is untrusted: every length is checked against the data before it
 * is read, and anything malformed is an "invalid_tokenizer" error.
 */
#include "lm/lm.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

/* Bounds on what a tokenizer may declare: real ones have pieces of a few
 * dozen bytes; these only keep nonsense from sizing allocations. */
#define MAX_TOKEN_LENGTH (1 << 16)
#define MAX_FILE_BYTES   ((size_t)1 << 30)

struct lm_tokenizer {
	int vocab_size;
	int max_len;  /* the longest piece actually present, in bytes */
	char *blob;   /* every piece, each NUL-terminated */
	size_t *off;  /* piece i is blob + off[i] */
	int *len;     /* its length (pieces may hold NUL bytes, so not strlen) */
	float *score; /* higher merges first */
	struct entry {
		const char *p;
		int len, id;
	} * sorted;          /* every piece ordered by its bytes, then by id: for lookup */
	const char **text;   /* what decode returns: the piece, or its byte */
	char bytes[256 * 2]; /* byte b as a NUL-terminated string at bytes + 2b */
};

static const char *piece(const struct lm_tokenizer *t, int id)
{
	return t->blob + t->off[id];
}

/* Orders pieces by their bytes, a prefix first, then equal ones by id. */
static int compare_piece(const char *a, int alen, const char *b, int blen)
{
	int c = memcmp(a, b, (size_t)(alen < blen ? alen : blen));
	if (c)
		return c;
	return (alen > blen) - (alen < blen);
}

static int compare_entries(const void *pa, const void *pb)
{
	const struct entry *a = pa, *b = pb;
	int c = compare_piece(a->p, a->len, b->p, b->len);
	return c ? c : (a->id > b->id) - (a->id < b->id);
}

/* The id of the piece s[0..n), the lowest when it appears twice, or -1. */
static int lookup(const struct lm_tokenizer *t, const char *s, int n)
{
	int lo = 0, hi = t->vocab_size; /* first index whose piece is >= s */
	while (lo < hi) {
		int mid = lo + (hi - lo) / 2;
		if (compare_piece(t->sorted[mid].p, t->sorted[mid].len, s, n) < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	if (lo < t->vocab_size && compare_piece(t->sorted[lo].p, t->sorted[lo].len, s, n) == 0)
		return t->sorted[lo].id;
	return -1;
}

static int hex_digit(char c)
{
	if (c >= '0' && c <= '9')
		return c - '0';
	if (c >= 'A' && c <= 'F')
		return c - 'A' + 10;
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/* The byte of a piece "<0xHH>", or -1. */
static int byte_piece(const char *p, int n)
{
	if (n != 6 || memcmp(p, "<0x", 3) != 0 || p[5] != '>')
		return -1;
	int hi = hex_digit(p[3]), lo = hex_digit(p[4]);
	return hi < 0 || lo < 0 ? -1 : hi * 16 + lo;
}

void lm_tokenizer_free(struct lm_tokenizer *t)
{
	if (!t)
		return;
	free(t->blob);
	free(t->off);
	free(t->len);
	free(t->score);
	free(t->sorted);
	free(t->text);
	free(t);
}

static int32_t read_i32(const unsigned char *p)
{
	int32_t v;
	memcpy(&v, p, sizeof(v));
	return v;
}

int lm_tokenizer_parse(const void *data, size_t len, int vocab_size, struct lm_tokenizer **out,
                       struct sv_err *err)
{
	*out = NULL;
	/* BOS and EOS are ids 1 and 2, so a vocabulary has at least three. */
	if (vocab_size < 3)
		return sv_err_set(err, "invalid_value", "vocab_size",
		                  "a tokenizer needs at least 3 tokens, not %d", vocab_size);
	if (!data || len < 4)
		return sv_err_set(err, "invalid_tokenizer", "",
		                  "tokenizer data is %zu bytes, too short for its header", len);
	const unsigned char *p = data, *end = p + len;
	/* Each token takes at least 8 bytes (score and length): a quick bound
	 * that also keeps a huge vocab_size from sizing the allocations. */
	if ((len - 4) / 8 < (size_t)vocab_size)
		return sv_err_set(err, "invalid_tokenizer", "",
		                  "tokenizer data of %zu bytes cannot hold %d tokens", len,
		                  vocab_size);
	int32_t max_token_length = read_i32(p);
	p += 4;
	if (max_token_length < 1 || max_token_length > MAX_TOKEN_LENGTH)
		return sv_err_set(err, "invalid_tokenizer", "",
		                  "tokenizer max_token_length %d is not in 1..%d",
		                  (int)max_token_length, MAX_TOKEN_LENGTH);

	struct lm_tokenizer *t = calloc(1, sizeof(*t));
	size_t n = (size_t)vocab_size;
	/* The pieces' bytes are what is left after the fixed fields, plus a NUL each. */
	size_t blob_cap = len - 4 - 8 * n + n;
	if (t) {
		t->vocab_size = vocab_size;
		t->blob = malloc(blob_cap);
		t->off = malloc(n * sizeof(*t->off));
		t->len = malloc(n * sizeof(*t->len));
		t->score = malloc(n * sizeof(*t->score));
		t->sorted = malloc(n * sizeof(*t->sorted));
		t->text = malloc(n * sizeof(*t->text));
	}
	if (!t || !t->blob || !t->off || !t->len || !t->score || !t->sorted || !t->text) {
		lm_tokenizer_free(t);
		return sv_err_set(err, "nomem", "",
		                  "out of memory reading a tokenizer of %d tokens", vocab_size);
	}

	size_t used = 0;
	for (int i = 0; i < vocab_size; i++) {
		if ((size_t)(end - p) < 8) {
			lm_tokenizer_free(t);
			return sv_err_set(err, "invalid_tokenizer", "",
			                  "tokenizer data ends inside token %d of %d", i,
			                  vocab_size);
		}
		float score;
		memcpy(&score, p, sizeof(score));
		int32_t n_bytes = read_i32(p + 4);
		p += 8;
		if (isnan(score)) {
			lm_tokenizer_free(t);
			return sv_err_set(err, "invalid_tokenizer", "",
			                  "tokenizer token %d has a score that is not a number", i);
		}
		if (n_bytes < 0 || n_bytes > max_token_length) {
			lm_tokenizer_free(t);
			return sv_err_set(err, "invalid_tokenizer", "",
			                  "tokenizer token %d has length %d, not in 0..%d "
			                  "(max_token_length)",
			                  i, (int)n_bytes, (int)max_token_length);
		}
		/* The piece, and at least the fixed fields of the tokens after it
		 * (which also keeps the pieces within blob_cap). */
		if ((size_t)(end - p) < (size_t)n_bytes + 8 * (size_t)(vocab_size - i - 1)) {
			lm_tokenizer_free(t);
			return sv_err_set(
			    err, "invalid_tokenizer", "",
			    "tokenizer data ends before token %d of %d (%d bytes long) and the "
			    "ones after it",
			    i, vocab_size, (int)n_bytes);
		}
		t->off[i] = used;
		t->len[i] = n_bytes;
		t->score[i] = score;
		memcpy(t->blob + used, p, (size_t)n_bytes);
		t->blob[used + (size_t)n_bytes] = '\0';
		used += (size_t)n_bytes + 1;
		p += n_bytes;
		if (n_bytes > t->max_len)
			t->max_len = n_bytes;
	}
	/* Bytes after the last token are ignored, as llama2.c does: a file may
	 * hold more tokens than the model uses. */

	for (int b = 0; b < 256; b++) {
		t->bytes[2 * (size_t)b] = (char)b;
		t->bytes[2 * (size_t)b + 1] = '\0';
	}
	for (int i = 0; i < vocab_size; i++) {
		int b = byte_piece(piece(t, i), t->len[i]);
		t->text[i] = b >= 0 ? t->bytes + 2 * (size_t)b : piece(t, i);
		t->sorted[i] = (struct entry){piece(t, i), t->len[i], i};
	}
	qsort(t->sorted, n, sizeof(*t->sorted), compare_entries);
	*out = t;
	return 0;
}

int lm_tokenizer_open(const char *path, int vocab_size, struct lm_tokenizer **out,
                      struct sv_err *err)
{
	*out = NULL;
	FILE *f = fopen(path, "rb");
	if (!f)
		return sv_err_set(err, "io", "", "cannot open tokenizer %.200s: %s", path,
		                  strerror(errno));
	struct stat st;
	if (fstat(fileno(f), &st) < 0 || !S_ISREG(st.st_mode)) {
		fclose(f);
		return sv_err_set(err, "io", "", "tokenizer %.200s is not a regular file", path);
	}
	if ((uint64_t)st.st_size > MAX_FILE_BYTES) {
		fclose(f);
		return sv_err_set(err, "invalid_tokenizer", "",
		                  "tokenizer %.200s is %lld bytes, too big", path,
		                  (long long)st.st_size);
	}
	size_t size = (size_t)st.st_size;
	unsigned char *data = malloc(size ? size : 1);
	if (!data) {
		fclose(f);
		return sv_err_set(err, "nomem", "", "out of memory reading tokenizer %.200s", path);
	}
	size_t got = fread(data, 1, size, f);
	int read_failed = ferror(f);
	fclose(f);
	if (read_failed || got != size) {
		free(data);
		return sv_err_set(err, "io", "", "cannot read tokenizer %.200s", path);
	}
	int rc = lm_tokenizer_parse(data, size, vocab_size, out, err);
	free(data);
	if (rc < 0 && err && strcmp(err->code, "invalid_tokenizer") == 0) {
		/* Name the file: the caller may have several. */
		char msg[sizeof(err->message)];
		snprintf(msg, sizeof(msg), "%s", err->message);
		sv_err_set(err, "invalid_tokenizer", "", "%.150s: %.240s", path, msg);
	}
	return rc;
}

int lm_tokenizer_vocab_size(const struct lm_tokenizer *t)
{
	return t->vocab_size;
}

/* The token of the merge of a and b, or -1 when the vocabulary lacks it. */
static int merge_of(const struct lm_tokenizer *t, int a, int b, char *buf)
{
	int la = t->len[a], lb = t->len[b];
	if (la + lb > t->max_len)
		return -1; /* no piece is that long */
	memcpy(buf, piece(t, a), (size_t)la);
	memcpy(buf + la, piece(t, b), (size_t)lb);
	return lookup(t, buf, la + lb);
}

int lm_tokenizer_encode(const struct lm_tokenizer *t, const char *text, bool bos, bool eos,
                        int *tokens, int max, struct sv_err *err)
{
	if (!text)
		return sv_err_set(err, "invalid_value", "text", "no text to encode");
	size_t n = strlen(text);
	if (n > (size_t)INT_MAX / 2)
		return sv_err_set(err, "limit", "text", "a text of %zu bytes is too long to encode",
		                  n);
	/* At most one token per byte, plus the dummy prefix. */
	size_t cap = n + 1;
	int *tok = malloc(cap * sizeof(*tok));
	int *merge = malloc(cap * sizeof(*merge)); /* merge[i]: of tok[i] and tok[i+1], or -1 */
	char *buf = malloc((size_t)t->max_len + 1);
	if (!tok || !merge || !buf) {
		free(tok);
		free(merge);
		free(buf);
		return sv_err_set(err, "nomem", "", "out of memory encoding %zu bytes", n);
	}

	int count = 0;
	/* sentencepiece's dummy prefix: text starts as if after a space, so
	 * the first word gets the same pieces as the others. */
	const char *s = text;
	bool prefix = n > 0;
	while (prefix || *s) {
		const char *cp = prefix ? " " : s;
		int cp_len = 1;
		/* A codepoint: a lead byte and up to three continuation bytes. */
		while (cp_len < 4 && ((unsigned char)cp[cp_len] & 0xC0) == 0x80)
			cp_len++;
		int id = lookup(t, cp, cp_len);
		if (id >= 0) {
			tok[count++] = id;
		} else {
			/* Byte fallback: byte b is token b + 3; a vocabulary too small
			 * for byte tokens gets <unk> (0) instead. */
			for (int i = 0; i < cp_len; i++) {
				int b = (unsigned char)cp[i] + 3;
				tok[count++] = b < t->vocab_size ? b : 0;
			}
		}
		if (prefix)
			prefix = false;
		else
			s += cp_len;
	}

	/* Merge the best-scoring adjacent pair until none merges; the first of
	 * equal scores wins, as in llama2.c. Each pair's merge is looked up once
	 * and again only when a neighbour changes. */
	for (int i = 0; i + 1 < count; i++)
		merge[i] = merge_of(t, tok[i], tok[i + 1], buf);
	for (;;) {
		int best = -1;
		float best_score = 0.0f;
		for (int i = 0; i + 1 < count; i++) {
			if (merge[i] >= 0 && (best < 0 || t->score[merge[i]] > best_score)) {
				best = i;
				best_score = t->score[merge[i]];
			}
		}
		if (best < 0)
			break;
		tok[best] = merge[best];
		count--;
		memmove(tok + best + 1, tok + best + 2, (size_t)(count - best - 1) * sizeof(*tok));
		if (count - best - 2 > 0)
			memmove(merge + best + 1, merge + best + 2,
			        (size_t)(count - best - 2) * sizeof(*merge));
		if (best + 1 < count)
			merge[best] = merge_of(t, tok[best], tok[best + 1], buf);
		if (best > 0)
			merge[best - 1] = merge_of(t, tok[best - 1], tok[best], buf);
	}

	int total = count + (bos ? 1 : 0) + (eos ? 1 : 0);
	int rc = total;
	if (total > max || (total > 0 && !tokens)) {
		rc = sv_err_set(err, "limit", "text",
		                "the text is %d tokens, more than the %d allowed", total,
		                max < 0 ? 0 : max);
	} else {
		int k = 0;
		if (bos)
			tokens[k++] = LM_TOKEN_BOS;
		memcpy(tokens + k, tok, (size_t)count * sizeof(*tok));
		k += count;
		if (eos)
			tokens[k++] = LM_TOKEN_EOS;
	}
	free(tok);
	free(merge);
	free(buf);
	return rc;
}

const char *lm_tokenizer_decode(const struct lm_tokenizer *t, int prev, int token)
{
	if (!t || token < 0 || token >= t->vocab_size)
		return "";
	const char *s = t->text[token];
	/* The dummy prefix's space belongs to no word the caller wrote (a byte
	 * token's space, "<0x20>", is kept, as llama2.c does). */
	bool is_byte = s != piece(t, token);
	if (prev == LM_TOKEN_BOS && s[0] == ' ' && !is_byte)
		s++;
	return s;
}
