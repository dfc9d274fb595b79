/*
 * Unit tests for the lm tokenizer and sampler: round trips through a
 * generated tokenizer (ASCII, UTF-8 by byte fallback, empty text), BOS and
 * EOS, exact merges on a tokenizer built by hand, refusal of malformed or
 * truncated tokenizer data, and the sampler's greedy, seeded, nucleus and
 * plain draws and its argument checks.
 */
#include "lm/lm.h"

#include <math.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

#include "lm_support.h"

/* ---- a tokenizer built by hand, in memory ---- */

struct builder {
	unsigned char *data;
	size_t len, cap;
	int count;
};

static void put(struct builder *b, const void *p, size_t n)
{
	if (b->len + n > b->cap) {
		b->cap = (b->len + n) * 2;
		b->data = realloc(b->data, b->cap);
		assert_non_null(b->data);
	}
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put_i32(struct builder *b, int32_t v)
{
	put(b, &v, sizeof(v));
}

static void put_token(struct builder *b, float score, const char *s)
{
	put(b, &score, sizeof(score));
	put_i32(b, (int32_t)strlen(s));
	put(b, s, strlen(s));
	b->count++;
}

/* <unk>, <s>, </s> and the 256 byte tokens, after max_token_length. */
static void put_base(struct builder *b, int32_t max_token_length)
{
	put_i32(b, max_token_length);
	put_token(b, 0, "<unk>");
	put_token(b, 0, "\n<s>\n");
	put_token(b, 0, "\n</s>\n");
	for (int i = 0; i < 256; i++) {
		char hex[8];
		snprintf(hex, sizeof(hex), "<0x%02X>", i);
		put_token(b, 0, hex);
	}
}

/* Ids of the hand-built tokenizer's pieces after the bytes. */
enum { SP = 259, A, B, C, D, AB, BC, ABC, CD, SP_A, HAND_VOCAB };

static struct builder hand_built(void)
{
	struct builder b = {0};
	put_base(&b, 6);
	put_token(&b, -10, " ");
	put_token(&b, -11, "a");
	put_token(&b, -12, "b");
	put_token(&b, -13, "c");
	put_token(&b, -14, "d");
	put_token(&b, 1.0f, "ab");
	put_token(&b, 5.0f, "bc");
	put_token(&b, 2.0f, "abc");
	put_token(&b, 0.0f, "cd");
	put_token(&b, 0.5f, " a");
	assert_int_equal(b.count, HAND_VOCAB);
	return b;
}

static struct lm_tokenizer *parse_or_fail(const struct builder *b)
{
	struct lm_tokenizer *t = NULL;
	struct sv_err err = {0};
	if (lm_tokenizer_parse(b->data, b->len, b->count, &t, &err) < 0)
		fail_msg("parse: %s: %s", err.code, err.message);
	return t;
}

static void expect_tokens(const struct lm_tokenizer *t, const char *text, bool bos, bool eos,
                          const int *want, int n)
{
	int got[64];
	struct sv_err err = {0};
	int k = lm_tokenizer_encode(t, text, bos, eos, got, 64, &err);
	if (k < 0)
		fail_msg("encode '%s': %s", text, err.message);
	for (int i = 0; i < k && i < n; i++)
		if (got[i] != want[i])
			fail_msg("encode '%s': token %d is %d, want %d", text, i, got[i], want[i]);
	assert_int_equal(k, n);
}

static void encode_prefers_highest_scoring_merges(void **state)
{
	struct builder b = hand_built();
	struct lm_tokenizer *t = parse_or_fail(&b);
	assert_int_equal(lm_tokenizer_vocab_size(t), HAND_VOCAB);
	/* bc (5) beats ab (1), then abc (2) beats " a" (0.5). */
	expect_tokens(t, "abc", false, false, (int[]){SP, ABC}, 2);
	/* No bd: ab (1) beats " a" (0.5); " ab" does not exist. */
	expect_tokens(t, "abd", false, false, (int[]){SP, AB, D}, 3);
	expect_tokens(t, "cd c", false, false, (int[]){SP, CD, SP, C}, 4);
	expect_tokens(t, "a", false, false, (int[]){SP_A}, 1);
	/* Not in the vocabulary: UTF-8 bytes (é is C3 A9) and a newline. */
	expect_tokens(t, "\xc3\xa9\n", true, true,
	              (int[]){LM_TOKEN_BOS, SP, 0xC3 + 3, 0xA9 + 3, '\n' + 3, LM_TOKEN_EOS}, 6);
	expect_tokens(t, "", true, false, (int[]){LM_TOKEN_BOS}, 1);
	expect_tokens(t, "", false, false, NULL, 0);

	assert_string_equal(lm_tokenizer_decode(t, 0, SP_A), " a");
	assert_string_equal(lm_tokenizer_decode(t, LM_TOKEN_BOS, SP_A), "a");
	assert_string_equal(lm_tokenizer_decode(t, LM_TOKEN_BOS, SP), "");
	assert_string_equal(lm_tokenizer_decode(t, SP, 'x' + 3), "x");
	/* A byte token's space is a real one, kept even after BOS. */
	assert_string_equal(lm_tokenizer_decode(t, LM_TOKEN_BOS, ' ' + 3), " ");
	assert_int_equal((unsigned char)lm_tokenizer_decode(t, 0, 0xFF + 3)[0], 0xFF);
	assert_int_equal(strlen(lm_tokenizer_decode(t, 0, 0xFF + 3)), 1);
	assert_string_equal(lm_tokenizer_decode(t, 0, -1), "");
	assert_string_equal(lm_tokenizer_decode(t, 0, HAND_VOCAB), "");
	assert_string_equal(lm_tokenizer_decode(t, 0, 0), "<unk>");
	lm_tokenizer_free(t);
	free(b.data);
}

static void encode_too_small_max_is_an_error(void **state)
{
	struct builder b = hand_built();
	struct lm_tokenizer *t = parse_or_fail(&b);
	int tokens[8];
	for (int i = 0; i < 8; i++)
		tokens[i] = -7;
	struct sv_err err = {0};
	/* BOS, " ", c, d, " ", c... is more than 3. */
	assert_int_equal(lm_tokenizer_encode(t, "cd cd cd", true, true, tokens, 3, &err), -1);
	assert_string_equal(err.code, "limit");
	for (int i = 0; i < 8; i++)
		assert_int_equal(tokens[i], -7);
	assert_int_equal(lm_tokenizer_encode(t, "a", true, true, tokens, 0, &err), -1);
	assert_int_equal(lm_tokenizer_encode(t, "a", true, true, tokens, 3, &err), 3);
	assert_int_equal(tokens[3], -7);
	assert_int_equal(lm_tokenizer_encode(t, NULL, true, true, tokens, 3, &err), -1);
	lm_tokenizer_free(t);
	free(b.data);
}

/* ---- malformed data ---- */

static void expect_invalid(const void *data, size_t len, int vocab, const char *code)
{
	/* An exact-size copy, so that the sanitizers catch any read past it. */
	void *copy = malloc(len ? len : 1);
	assert_non_null(copy);
	if (len)
		memcpy(copy, data, len);
	struct lm_tokenizer *t = (struct lm_tokenizer *)&t;
	struct sv_err err = {0};
	if (lm_tokenizer_parse(copy, len, vocab, &t, &err) != -1)
		fail_msg("%zu bytes, vocab %d: parsed", len, vocab);
	assert_null(t);
	assert_string_equal(err.code, code);
	assert_true(err.message[0] != '\0');
	free(copy);
}

static void parse_rejects_every_truncation(void **state)
{
	struct builder b = hand_built();
	for (size_t len = 0; len < b.len; len++)
		expect_invalid(b.data, len, b.count, "invalid_tokenizer");
	/* More tokens asked for than the data holds. */
	expect_invalid(b.data, b.len, b.count + 1, "invalid_tokenizer");
	expect_invalid(b.data, b.len, 1 << 30, "invalid_tokenizer");
	/* Fewer is fine: the rest is ignored, as llama2.c does. */
	struct lm_tokenizer *t = NULL;
	struct sv_err err = {0};
	assert_int_equal(lm_tokenizer_parse(b.data, b.len, b.count - 1, &t, &err), 0);
	lm_tokenizer_free(t);
	for (int v = -1; v < 3; v++)
		expect_invalid(b.data, b.len, v, "invalid_value");
	expect_invalid(NULL, 0, 300, "invalid_tokenizer");
	free(b.data);
}

/* A copy of the hand-built data with the int32 at byte offset at replaced. */
static void expect_invalid_with(size_t at, int32_t value)
{
	struct builder b = hand_built();
	memcpy(b.data + at, &value, sizeof(value));
	expect_invalid(b.data, b.len, b.count, "invalid_tokenizer");
	free(b.data);
}

static void parse_rejects_bad_fields(void **state)
{
	/* max_token_length: zero, negative, absurd, smaller than a piece. */
	expect_invalid_with(0, 0);
	expect_invalid_with(0, -5);
	expect_invalid_with(0, 1 << 30);
	expect_invalid_with(0, 3);
	/* The first token's length (after max_token_length and its score):
	 * negative, huge, past the end. */
	expect_invalid_with(8, -1);
	expect_invalid_with(8, INT32_MIN);
	expect_invalid_with(8, INT32_MAX);
	expect_invalid_with(8, 6); /* within max_token_length, but shifts the rest */
	/* A NaN score. */
	float nan = NAN;
	int32_t bits;
	memcpy(&bits, &nan, sizeof(bits));
	expect_invalid_with(4, bits);

	/* Random bytes: nothing crashes, and anything parsed can encode. */
	struct sv_rng r;
	sv_rng_seed(&r, 7);
	for (int i = 0; i < 2000; i++) {
		size_t len = sv_rng_below(&r, 3000);
		unsigned char *data = malloc(len ? len : 1);
		for (size_t k = 0; k < len; k++)
			data[k] = (unsigned char)sv_rng_below(&r, 256);
		if (len >= 4 && i % 2) /* a plausible max_token_length, to get further */
			memcpy(data, &(int32_t){8}, 4);
		struct lm_tokenizer *t = NULL;
		struct sv_err err = {0};
		if (lm_tokenizer_parse(data, len, 3 + (int)sv_rng_below(&r, 40), &t, &err) == 0) {
			int tokens[64];
			lm_tokenizer_encode(t, "hello \xe2\x98\x83", true, true, tokens, 64, &err);
			lm_tokenizer_free(t);
		} else {
			assert_string_equal(err.code, "invalid_tokenizer");
		}
		free(data);
	}
}

/* ---- a generated tokenizer ---- */

static char dir[64];
static char path[128];
static struct lm_tokenizer *gen; /* 32000 tokens, like llama2's */

static int generated_setup(void **state)
{
	snprintf(dir, sizeof(dir), "/tmp/sv-lm-tok-XXXXXX");
	if (!mkdtemp(dir))
		return -1;
	snprintf(path, sizeof(path), "%s/tokenizer.bin", dir);
	if (lm_support_write_tokenizer(path, 32000, 11) < 0)
		return -1;
	struct sv_err err = {0};
	if (lm_tokenizer_open(path, 32000, &gen, &err) < 0) {
		fprintf(stderr, "open: %s\n", err.message);
		return -1;
	}
	return 0;
}

static int generated_teardown(void **state)
{
	lm_tokenizer_free(gen);
	gen = NULL;
	unlink(path);
	rmdir(dir);
	return 0;
}

/* decode over the tokens, skipping BOS and EOS themselves. */
static char *decode_all(const struct lm_tokenizer *t, const int *tokens, int n)
{
	struct sv_buf out;
	sv_buf_init(&out);
	int prev = -1;
	for (int i = 0; i < n; i++) {
		if (tokens[i] != LM_TOKEN_BOS && tokens[i] != LM_TOKEN_EOS)
			sv_buf_puts(&out, lm_tokenizer_decode(t, prev, tokens[i]));
		prev = tokens[i];
	}
	if (!out.data)
		sv_buf_append(&out, "", 0);
	return sv_buf_steal(&out);
}

static int round_trip(const char *text)
{
	int n = (int)strlen(text) + 3;
	int *tokens = malloc((size_t)n * sizeof(*tokens));
	struct sv_err err = {0};
	int k = lm_tokenizer_encode(gen, text, true, true, tokens, n, &err);
	if (k < 0)
		fail_msg("encode: %s", err.message);
	assert_int_equal(tokens[0], LM_TOKEN_BOS);
	assert_int_equal(tokens[k - 1], LM_TOKEN_EOS);
	for (int i = 0; i < k; i++)
		assert_true(tokens[i] >= 0 && tokens[i] < 32000);
	char *back = decode_all(gen, tokens, k);
	assert_string_equal(back, text);
	free(back);
	free(tokens);
	return k;
}

static void generated_tokenizer_round_trips(void **state)
{
	const char *story = "Once upon a time, there was a little girl named Lily. She liked to "
	                    "play in the park with her friend Tom. One day, they saw a big red "
	                    "ball! \"Can we play?\" she said. Tom was very happy.";
	int k = round_trip(story);
	/* Merges happened: far fewer tokens than bytes. */
	assert_true(k < (int)strlen(story) / 2);
	round_trip("  two leading spaces, and trailing ones  ");
	/* Not in the vocabulary: byte fallback, newlines and tabs included. */
	round_trip("na\xc3\xafve caf\xc3\xa9 \xe2\x98\x83 \xf0\x9d\x84\x9e\nnew line\ttab ~`|");
	/* Invalid UTF-8 survives too: it is only bytes. */
	round_trip("\xff\xfe \x80\x80\x80\x80\x80 \xc3");
	round_trip("x");
	assert_int_equal(round_trip(""), 2);

	/* BOS and EOS only when asked; no dummy prefix for empty text. */
	int tokens[8];
	struct sv_err err = {0};
	assert_int_equal(lm_tokenizer_encode(gen, "", false, false, tokens, 8, &err), 0);
	assert_int_equal(lm_tokenizer_encode(gen, "", false, true, tokens, 8, &err), 1);
	assert_int_equal(tokens[0], LM_TOKEN_EOS);
	int a = lm_tokenizer_encode(gen, " the", false, false, tokens, 8, &err);
	assert_int_equal(lm_tokenizer_encode(gen, " the", true, false, tokens, 8, &err), a + 1);
	assert_int_equal(tokens[0], LM_TOKEN_BOS);
	assert_true(tokens[1] != LM_TOKEN_BOS);
	/* "the" is one piece, " the" with its dummy prefix before it. */
	assert_int_equal(lm_tokenizer_encode(gen, "the", false, false, tokens, 8, &err), 1);
	assert_string_equal(lm_tokenizer_decode(gen, 0, tokens[0]), " the");

	/* A long prompt encodes and round-trips. */
	struct sv_buf long_text;
	sv_buf_init(&long_text);
	for (int i = 0; i < 40; i++)
		sv_buf_puts(&long_text, story);
	round_trip(long_text.data);
	sv_buf_free(&long_text);
}

static void generated_tokenizer_is_exact_and_distinct(void **state)
{
	/* Exactly 32000 tokens: one more is past the end. */
	FILE *f = fopen(path, "rb");
	assert_non_null(f);
	fseek(f, 0, SEEK_END);
	long size = ftell(f);
	fseek(f, 0, SEEK_SET);
	unsigned char *data = malloc((size_t)size);
	assert_int_equal(fread(data, 1, (size_t)size, f), (size_t)size);
	fclose(f);
	expect_invalid(data, (size_t)size, 32001, "invalid_tokenizer");

	/* Every piece is distinct and merges score in decreasing order. */
	int max_len;
	memcpy(&max_len, data, 4);
	size_t at = 4;
	float prev_score = INFINITY;
	char **pieces = calloc(32000, sizeof(*pieces));
	for (int i = 0; i < 32000; i++) {
		float score;
		int32_t len;
		memcpy(&score, data + at, 4);
		memcpy(&len, data + at + 4, 4);
		assert_true(len > 0 && len <= max_len);
		pieces[i] = strndup((const char *)data + at + 8, (size_t)len);
		at += 8 + (size_t)len;
		if (i >= 259 + 95) {
			assert_true(score < prev_score);
			prev_score = score;
		}
	}
	assert_int_equal(at, (size_t)size);
	qsort(pieces, 32000, sizeof(*pieces), (int (*)(const void *, const void *))strcmp);
	for (int i = 1; i < 32000; i++)
		if (strcmp(pieces[i - 1], pieces[i]) == 0)
			fail_msg("piece '%s' twice", pieces[i]);
	for (int i = 0; i < 32000; i++)
		free(pieces[i]);
	free(pieces);
	free(data);

	struct sv_err err = {0};
	struct lm_tokenizer *t = (struct lm_tokenizer *)&t;
	assert_int_equal(lm_tokenizer_open("/nonexistent/tokenizer.bin", 32000, &t, &err), -1);
	assert_null(t);
	assert_string_equal(err.code, "io");
}

static long file_size(const char *p)
{
	FILE *f = fopen(p, "rb");
	if (!f)
		return -1;
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

static void support_files_have_the_shape(void **state)
{
	struct lm_config c = {.dim = 16,
	                      .hidden_dim = 40,
	                      .n_layers = 2,
	                      .n_heads = 4,
	                      .n_kv_heads = 2,
	                      .vocab_size = 400,
	                      .seq_len = 8,
	                      .shared_classifier = false};
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, &c, 5), 0);
	/* Header, then the weights of lm_support.h's layout (kv_dim 8, head 4). */
	long floats = 400 * 16 + 2 * 16 + 2 * 16 * 16 * 2 + 2 * 8 * 16 * 2 + 2 * 16 +
	              3 * 2 * 40 * 16 + 16 + 8 * 4 + 400 * 16;
	assert_int_equal(file_size(f.model), 28 + 4 * floats);
	FILE *m = fopen(f.model, "rb");
	int32_t header[7];
	assert_int_equal(fread(header, sizeof(header), 1, m), 1);
	fclose(m);
	assert_int_equal(header[5], -400); /* not shared */
	struct lm_tokenizer *t = NULL;
	struct sv_err err = {0};
	assert_int_equal(lm_tokenizer_open(f.tokenizer, 400, &t, &err), 0);
	lm_tokenizer_free(t);
	char dir_copy[256];
	snprintf(dir_copy, sizeof(dir_copy), "%s", f.dir);
	lm_support_files_remove(&f);
	assert_int_equal(access(dir_copy, F_OK), -1);
}

/* ---- sampler ---- */

static void sampler_greedy_picks_argmax(void **state)
{
	struct lm_sampler s;
	struct sv_err err = {0};
	assert_int_equal(lm_sampler_init(&s, 4, 0.0f, 0.9f, 1, &err), 0);
	float logits[4] = {1, 5, 3, 5};
	assert_int_equal(lm_sampler_sample(&s, logits), 1);
	float neg[4] = {-9, -3, -3, -8};
	assert_int_equal(lm_sampler_sample(&s, neg), 1);
	lm_sampler_clear(&s);
	assert_null(s.scratch);
}

static void fill_random_logits(float *logits, int n, uint64_t seed)
{
	struct sv_rng r;
	sv_rng_seed(&r, seed);
	for (int i = 0; i < n; i++)
		logits[i] = (float)sv_rng_range(&r, -3, 3);
}

static void sampler_same_seed_same_sequence(void **state)
{
	struct lm_sampler a, b, c;
	struct sv_err err = {0};
	assert_int_equal(lm_sampler_init(&a, 100, 1.0f, 0.9f, 42, &err), 0);
	assert_int_equal(lm_sampler_init(&b, 100, 1.0f, 0.9f, 42, &err), 0);
	assert_int_equal(lm_sampler_init(&c, 100, 1.0f, 0.9f, 43, &err), 0);
	int differs = 0;
	float la[100], lb[100], lc[100];
	for (int i = 0; i < 200; i++) {
		fill_random_logits(la, 100, (uint64_t)i);
		memcpy(lb, la, sizeof(la));
		memcpy(lc, la, sizeof(la));
		int x = lm_sampler_sample(&a, la);
		assert_int_equal(x, lm_sampler_sample(&b, lb));
		differs |= x != lm_sampler_sample(&c, lc);
	}
	assert_true(differs);
	lm_sampler_clear(&a);
	lm_sampler_clear(&b);
	lm_sampler_clear(&c);
}

/* llama2.c's xorshift64*, to check the sampler draws the same numbers. */
static uint32_t xorshift(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

static void sampler_uses_llama2c_random_numbers(void **state)
{
	/* 256 equal logits: each has probability 1/256 exactly, so the pick is
	 * the top 8 bits of each random number. */
	struct lm_sampler s;
	struct sv_err err = {0};
	assert_int_equal(lm_sampler_init(&s, 256, 1.0f, 1.0f, 12345, &err), 0);
	uint64_t rng = 12345;
	for (int i = 0; i < 500; i++) {
		float logits[256] = {0};
		assert_int_equal(lm_sampler_sample(&s, logits), (int)(xorshift(&rng) >> 24));
	}
	lm_sampler_clear(&s);

	/* Seed 0 is not stuck at token 0. */
	assert_int_equal(lm_sampler_init(&s, 256, 1.0f, 0.0f, 0, &err), 0);
	int nonzero = 0;
	for (int i = 0; i < 20; i++) {
		float logits[256] = {0};
		nonzero += lm_sampler_sample(&s, logits) != 0;
	}
	assert_true(nonzero > 10);
	lm_sampler_clear(&s);
}

static void sampler_top_p_stays_in_nucleus(void **state)
{
	struct lm_sampler s;
	struct sv_err err = {0};
	/* One token with almost all the mass. */
	assert_int_equal(lm_sampler_init(&s, 100, 1.0f, 0.5f, 3, &err), 0);
	for (int i = 0; i < 1000; i++) {
		float logits[100] = {0};
		logits[7] = 20.0f;
		assert_int_equal(lm_sampler_sample(&s, logits), 7);
	}
	lm_sampler_clear(&s);

	/* 0.5, 0.3, 0.2 with top_p 0.7: the nucleus is the first two, drawn
	 * in proportion 5:3. */
	assert_int_equal(lm_sampler_init(&s, 3, 1.0f, 0.7f, 5, &err), 0);
	int seen[3] = {0};
	for (int i = 0; i < 8000; i++) {
		float logits[3] = {logf(0.5f), logf(0.3f), logf(0.2f)};
		seen[lm_sampler_sample(&s, logits)]++;
	}
	assert_int_equal(seen[2], 0);
	assert_true(fabs(seen[0] / 8000.0 - 0.625) < 0.03);
	lm_sampler_clear(&s);

	/* A flat distribution leaves every token under the cutoff: still fine. */
	assert_int_equal(lm_sampler_init(&s, 2, 1.0f, 0.05f, 5, &err), 0);
	for (int i = 0; i < 100; i++) {
		float logits[2] = {0, 0};
		int k = lm_sampler_sample(&s, logits);
		assert_true(k == 0 || k == 1);
	}
	lm_sampler_clear(&s);
	/* One token: always it. */
	assert_int_equal(lm_sampler_init(&s, 1, 1.0f, 0.5f, 5, &err), 0);
	float one[1] = {3};
	assert_int_equal(lm_sampler_sample(&s, one), 0);
	lm_sampler_clear(&s);
}

static void check_distribution(float temperature, const double *want)
{
	struct lm_sampler s;
	struct sv_err err = {0};
	assert_int_equal(lm_sampler_init(&s, 4, temperature, 1.0f, 99, &err), 0);
	int seen[4] = {0};
	const int draws = 40000;
	for (int i = 0; i < draws; i++) {
		float logits[4] = {logf(0.1f), logf(0.2f), logf(0.3f), logf(0.4f)};
		seen[lm_sampler_sample(&s, logits)]++;
	}
	for (int k = 0; k < 4; k++)
		if (fabs(seen[k] / (double)draws - want[k]) > 0.015)
			fail_msg("temperature %g: token %d drawn %.3f, want %.3f",
			         (double)temperature, k, seen[k] / (double)draws, want[k]);
	lm_sampler_clear(&s);
}

static void sampler_plain_matches_softmax(void **state)
{
	check_distribution(1.0f, (double[]){0.1, 0.2, 0.3, 0.4});
	/* At temperature 2 the probabilities go as the square roots. */
	double r[4] = {sqrt(0.1), sqrt(0.2), sqrt(0.3), sqrt(0.4)};
	double sum = r[0] + r[1] + r[2] + r[3];
	for (int k = 0; k < 4; k++)
		r[k] /= sum;
	check_distribution(2.0f, r);
	/* A tiny temperature is greedy, not NaN. */
	struct lm_sampler s;
	struct sv_err err = {0};
	assert_int_equal(lm_sampler_init(&s, 4, 1e-40f, 0.9f, 1, &err), 0);
	float logits[4] = {1, 2, 4, 3};
	assert_int_equal(lm_sampler_sample(&s, logits), 2);
	lm_sampler_clear(&s);
}

static void expect_init_error(int vocab, float temperature, float top_p, const char *field)
{
	struct lm_sampler s;
	struct sv_err err = {0};
	assert_int_equal(lm_sampler_init(&s, vocab, temperature, top_p, 1, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, field);
	assert_null(s.scratch);
	lm_sampler_clear(&s); /* harmless after a failed init */
}

static void sampler_rejects_invalid_arguments(void **state)
{
	expect_init_error(0, 1.0f, 0.9f, "vocab_size");
	expect_init_error(-5, 1.0f, 0.9f, "vocab_size");
	expect_init_error(10, -0.1f, 0.9f, "temperature");
	expect_init_error(10, NAN, 0.9f, "temperature");
	expect_init_error(10, INFINITY, 0.9f, "temperature");
	expect_init_error(10, 1.0f, -0.01f, "top_p");
	expect_init_error(10, 1.0f, 1.01f, "top_p");
	expect_init_error(10, 1.0f, NAN, "top_p");
	struct lm_sampler s;
	struct sv_err err = {0};
	assert_int_equal(lm_sampler_init(&s, 10, 0.0f, 0.0f, 1, &err), 0);
	lm_sampler_clear(&s);
	assert_int_equal(lm_sampler_init(&s, 10, 2.0f, 1.0f, 1, &err), 0);
	lm_sampler_clear(&s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(encode_prefers_highest_scoring_merges),
	    cmocka_unit_test(encode_too_small_max_is_an_error),
	    cmocka_unit_test(parse_rejects_every_truncation),
	    cmocka_unit_test(parse_rejects_bad_fields),
	    cmocka_unit_test(generated_tokenizer_round_trips),
	    cmocka_unit_test(generated_tokenizer_is_exact_and_distinct),
	    cmocka_unit_test(support_files_have_the_shape),
	    cmocka_unit_test(sampler_greedy_picks_argmax),
	    cmocka_unit_test(sampler_same_seed_same_sequence),
	    cmocka_unit_test(sampler_uses_llama2c_random_numbers),
	    cmocka_unit_test(sampler_top_p_stays_in_nucleus),
	    cmocka_unit_test(sampler_plain_matches_softmax),
	    cmocka_unit_test(sampler_rejects_invalid_arguments),
	};
	return cmocka_run_group_tests(tests, generated_setup, generated_teardown);
}
