/*
 * The language model engine against its own reference path: checkpoints
 * are refused when malformed, the fast kernels (portable and AVX2) give the
 * reference's scores within a stated tolerance and the same greedy tokens,
 * int8 stays within a stated error of fp32, batching and prefill change
 * nothing, and the batcher serves several callers at once.
 */
#include "lm/lm.h"
#include "lm_support.h"

#include <errno.h>
#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

/* Grouped-query attention (4 heads over 2), a separate classifier. */
static const struct lm_config gqa = {.dim = 64,
                                     .hidden_dim = 192,
                                     .n_layers = 2,
                                     .n_heads = 4,
                                     .n_kv_heads = 2,
                                     .vocab_size = 512,
                                     .seq_len = 96,
                                     .shared_classifier = false};
/* Plain multi-head attention, the classifier shared with the embedding. */
static const struct lm_config mha = {.dim = 128,
                                     .hidden_dim = 256,
                                     .n_layers = 3,
                                     .n_heads = 8,
                                     .n_kv_heads = 8,
                                     .vocab_size = 400,
                                     .seq_len = 64,
                                     .shared_classifier = true};

/* Fast kernels sum in another order, and a key or value that lands near a
 * half-float rounding boundary may then round the other way in the cache
 * (one half ulp, 2^-11 of it): scores agree to this fraction of the largest
 * score's magnitude (plus a floor for scores near zero). */
#define FAST_TOLERANCE 2e-3
/* int8 weights and activations: scores within this fraction of the largest. */
#define INT8_TOLERANCE 0.05

static struct lm_model *open_model(const char *path, bool int8)
{
	struct lm_open_options o = {.int8 = int8};
	struct lm_model *m = NULL;
	struct sv_err err = {0};
	if (lm_model_open(path, &o, &m, &err) < 0)
		fail_msg("%s", err.message);
	return m;
}

static struct lm_engine *engine(const struct lm_model *m, enum lm_kernels k)
{
	struct sv_err err = {0};
	struct lm_engine *e = lm_engine_new(m, 2, k, &err);
	if (!e)
		fail_msg("%s", err.message);
	return e;
}

/* Runs tokens through a fresh stream one step at a time, keeping every
 * position's scores (n × vocab, caller frees). */
static float *scores_of(struct lm_engine *e, const int *tokens, int n)
{
	int vocab = lm_engine_config(e)->vocab_size;
	float *all = malloc(sizeof(float) * (size_t)(n * vocab));
	struct sv_err err = {0};
	struct lm_stream *s = lm_stream_new(e, &err);
	assert_non_null(s);
	for (int i = 0; i < n; i++) {
		assert_int_equal(lm_engine_step(e, &s, &tokens[i], 1, &err), 0);
		memcpy(all + i * vocab, lm_stream_logits(s), sizeof(float) * (size_t)vocab);
	}
	lm_stream_free(s);
	return all;
}

static double max_abs(const float *a, int n)
{
	double m = 0;
	for (int i = 0; i < n; i++)
		m = fmax(m, fabs(a[i]));
	return m;
}

static void assert_close(const float *want, const float *got, int n, double tolerance)
{
	double bound = tolerance * max_abs(want, n) + 1e-5;
	for (int i = 0; i < n; i++)
		if (fabs((double)want[i] - (double)got[i]) > bound)
			fail_msg("score %d: %g against %g (bound %g)", i, (double)got[i],
			         (double)want[i], bound);
}

static const int sample_tokens[] = {1, 300, 17, 42, 42, 260, 5, 99, 300, 7, 18, 250};
#define NSAMPLE ((int)(sizeof sample_tokens / sizeof sample_tokens[0]))

/* ---- loading ---- */

static void expect_refused(const char *path, const char *code)
{
	struct lm_model *m = NULL;
	struct sv_err err = {0};
	assert_int_equal(lm_model_open(path, NULL, &m, &err), -1);
	assert_null(m);
	assert_string_equal(err.code, code);
	assert_true(strlen(err.message) > 0);
}

static void copy_prefix(const char *from, const char *to, long len, const char *extra,
                        size_t nextra)
{
	FILE *in = fopen(from, "rb"), *out = fopen(to, "wb");
	assert_non_null(in);
	assert_non_null(out);
	for (long i = 0; i < len; i++) {
		int ch = fgetc(in);
		assert_true(ch != EOF);
		fputc(ch, out);
	}
	if (nextra)
		fwrite(extra, 1, nextra, out);
	fclose(in);
	fclose(out);
}

static long file_size(const char *path)
{
	FILE *f = fopen(path, "rb");
	fseek(f, 0, SEEK_END);
	long n = ftell(f);
	fclose(f);
	return n;
}

static void test_malformed_checkpoints_are_refused(void **state)
{
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, &gqa, 7), 0);
	char q8[320], bad[320];
	snprintf(q8, sizeof q8, "%s/q8.bin", f.dir);
	snprintf(bad, sizeof bad, "%s/bad.bin", f.dir);
	struct sv_err err = {0};
	assert_int_equal(lm_model_quantize(f.model, q8, 0, &err), 0);
	const char *files[] = {f.model, q8};
	for (int k = 0; k < 2; k++) {
		long size = file_size(files[k]);
		/* Truncated anywhere (header included), or one byte too long. */
		long cuts[] = {0, 3, 20, 27, 28, 40, 255, 256, size / 2, size - 4, size - 1};
		for (size_t i = 0; i < sizeof cuts / sizeof cuts[0]; i++) {
			copy_prefix(files[k], bad, cuts[i], NULL, 0);
			expect_refused(bad, cuts[i] == 0 ? "invalid_model" : "invalid_model");
		}
		copy_prefix(files[k], bad, size, "x", 1);
		expect_refused(bad, "invalid_model");
	}
	/* Impossible shapes: heads not dividing dim, kv heads above heads, zero layers. */
	int32_t headers[][7] = {{64, 192, 2, 5, 5, 512, 96},
	                        {64, 192, 2, 4, 8, 512, 96},
	                        {64, 192, 0, 4, 2, 512, 96},
	                        {-64, 192, 2, 4, 2, 512, 96},
	                        {64, 192, 2, 4, 2, 0, 96},
	                        {64, 192, 2, 4, 2, 512, -1},
	                        {1 << 30, 1 << 30, 1 << 30, 1, 1, 1 << 30, 1 << 30}};
	for (size_t i = 0; i < sizeof headers / sizeof headers[0]; i++) {
		FILE *out = fopen(bad, "wb");
		fwrite(headers[i], sizeof(int32_t), 7, out);
		fwrite(headers[i], sizeof(int32_t), 7, out); /* some bytes after */
		fclose(out);
		expect_refused(bad, "invalid_model");
	}
	char missing[320];
	snprintf(missing, sizeof missing, "%s/none.bin", f.dir);
	expect_refused(missing, "io");
	unlink(q8);
	unlink(bad);
	lm_support_files_remove(&f);
}

/* ---- the fast paths against the reference ---- */

static void check_kernels(const struct lm_config *c, enum lm_kernels k)
{
	if (!lm_kernels_supported(k))
		skip();
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, c, 11), 0);
	struct lm_model *m = open_model(f.model, false);
	struct lm_engine *ref = engine(m, LM_KERNELS_REFERENCE), *fast = engine(m, k);
	float *want = scores_of(ref, sample_tokens, NSAMPLE);
	float *got = scores_of(fast, sample_tokens, NSAMPLE);
	for (int i = 0; i < NSAMPLE; i++)
		assert_close(want + i * c->vocab_size, got + i * c->vocab_size, c->vocab_size,
		             FAST_TOLERANCE);
	free(want);
	free(got);
	lm_engine_free(ref);
	lm_engine_free(fast);
	lm_model_free(m);
	lm_support_files_remove(&f);
}

static void test_portable_matches_reference(void **state)
{
	check_kernels(&gqa, LM_KERNELS_PORTABLE);
	check_kernels(&mha, LM_KERNELS_PORTABLE);
}

static void test_avx2_matches_reference(void **state)
{
	check_kernels(&gqa, LM_KERNELS_AVX2);
	check_kernels(&mha, LM_KERNELS_AVX2);
}

static void test_avxvnni_matches_reference(void **state)
{
	check_kernels(&gqa, LM_KERNELS_AVXVNNI);
	check_kernels(&mha, LM_KERNELS_AVXVNNI);
}

/* Greedy decoding from a prompt: the tokens chosen, n of them. */
static void greedy(struct lm_engine *e, int *out, int n)
{
	struct sv_err err = {0};
	struct lm_stream *s = lm_stream_new(e, &err);
	struct lm_sampler g;
	assert_int_equal(lm_sampler_init(&g, lm_engine_config(e)->vocab_size, 0, 0, 1, &err), 0);
	assert_int_equal(lm_engine_prefill(e, s, sample_tokens, 4, &err), 0);
	for (int i = 0; i < n; i++) {
		out[i] = lm_sampler_sample(&g, lm_stream_logits(s));
		assert_int_equal(lm_engine_step(e, &s, &out[i], 1, &err), 0);
	}
	lm_sampler_clear(&g);
	lm_stream_free(s);
}

static void test_greedy_tokens_are_the_same_on_every_path(void **state)
{
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, &gqa, 3), 0);
	for (int int8 = 0; int8 < 2; int8++) {
		struct lm_model *m = open_model(f.model, int8);
		int want[48], got[48], distinct = 0;
		struct lm_engine *ref = engine(m, LM_KERNELS_REFERENCE);
		greedy(ref, want, 48);
		lm_engine_free(ref);
		for (int i = 0; i < 48; i++) {
			bool seen = false;
			for (int j = 0; j < i; j++)
				seen |= want[j] == want[i];
			distinct += !seen;
		}
		assert_true(distinct > 3); /* a real sequence, not one token repeated */
		enum lm_kernels paths[] = {LM_KERNELS_PORTABLE, LM_KERNELS_AVX2,
		                           LM_KERNELS_AVXVNNI};
		for (size_t p = 0; p < sizeof paths / sizeof paths[0]; p++) {
			if (!lm_kernels_supported(paths[p]))
				continue;
			struct lm_engine *e = engine(m, paths[p]);
			greedy(e, got, 48);
			assert_memory_equal(want, got, sizeof want);
			lm_engine_free(e);
		}
		lm_model_free(m);
	}
	lm_support_files_remove(&f);
}

/* ---- int8 ---- */

static void test_int8_stays_near_fp32(void **state)
{
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, &mha, 5), 0);
	char q8[320];
	snprintf(q8, sizeof q8, "%s/q8.bin", f.dir);
	struct sv_err err = {0};
	assert_int_equal(lm_model_quantize(f.model, q8, 64, &err), 0);
	/* A quarter of the bytes (plus the scales). */
	assert_true(file_size(q8) < file_size(f.model) / 3);
	struct lm_model *fp = open_model(f.model, false), *file8 = open_model(q8, false),
	                *load8 = open_model(f.model, true);
	assert_int_equal(lm_model_config(file8)->group_size, 64);
	assert_int_equal(lm_model_config(load8)->group_size, 64);
	struct lm_engine *e32 = engine(fp, LM_KERNELS_REFERENCE);
	struct lm_engine *ef = engine(file8, LM_KERNELS_REFERENCE);
	struct lm_engine *el = engine(load8, LM_KERNELS_AUTO);
	float *want = scores_of(e32, sample_tokens, NSAMPLE);
	float *from_file = scores_of(ef, sample_tokens, NSAMPLE);
	float *on_load = scores_of(el, sample_tokens, NSAMPLE);
	int n = NSAMPLE * mha.vocab_size;
	assert_close(want, from_file, n, INT8_TOLERANCE);
	/* Quantized on load or from the file: the same weights, so the same
	 * scores up to the fast kernels' order of summing. */
	assert_close(from_file, on_load, n, FAST_TOLERANCE);
	free(want);
	free(from_file);
	free(on_load);
	lm_engine_free(e32);
	lm_engine_free(ef);
	lm_engine_free(el);
	lm_model_free(fp);
	lm_model_free(file8);
	lm_model_free(load8);
	/* An int8 file cannot be quantized again; a group that does not divide dim is refused. */
	assert_int_equal(lm_model_quantize(q8, q8, 0, &err), -1);
	assert_int_equal(lm_model_quantize(f.model, q8, 48, &err), -1);
	assert_string_equal(err.field, "group_size");
	unlink(q8);
	lm_support_files_remove(&f);
}

/* ---- batching and prefill ---- */

static void test_batched_streams_match_single_streams(void **state)
{
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, &gqa, 9), 0);
	for (int int8 = 0; int8 < 2; int8++) {
		struct lm_model *m = open_model(f.model, int8);
		struct lm_engine *e = engine(m, LM_KERNELS_AUTO);
		struct sv_err err = {0};
		enum { B = 5, STEPS = 6 };
		struct lm_stream *s[B];
		float *alone[B];
		int tokens[B][STEPS];
		for (int b = 0; b < B; b++) {
			for (int i = 0; i < STEPS; i++)
				tokens[b][i] = (b * 37 + i * 11 + 3) % gqa.vocab_size;
			alone[b] = scores_of(e, tokens[b], STEPS);
			s[b] = lm_stream_new(e, &err);
		}
		/* The streams start at different times: stream b joins at step b. */
		for (int t = 0; t < STEPS + B - 1; t++) {
			struct lm_stream *now[B];
			int tok[B], n = 0;
			for (int b = 0; b < B; b++) {
				int i = t - b;
				if (i < 0 || i >= STEPS)
					continue;
				now[n] = s[b];
				tok[n++] = tokens[b][i];
			}
			assert_int_equal(lm_engine_step(e, now, tok, n, &err), 0);
			for (int k = 0; k < n; k++) {
				int b = 0;
				while (s[b] != now[k])
					b++;
				assert_close(alone[b] + (t - b) * gqa.vocab_size,
				             lm_stream_logits(now[k]), gqa.vocab_size,
				             FAST_TOLERANCE);
			}
		}
		/* A stream twice in one step, and a token outside the vocabulary, are refused. */
		struct lm_stream *twice[2] = {s[0], s[0]};
		int two[2] = {1, 2}, outside = gqa.vocab_size;
		assert_int_equal(lm_engine_step(e, twice, two, 2, &err), -1);
		assert_int_equal(lm_engine_step(e, s, &outside, 1, &err), -1);
		assert_string_equal(err.field, "token");
		for (int b = 0; b < B; b++) {
			free(alone[b]);
			lm_stream_free(s[b]);
		}
		lm_engine_free(e);
		lm_model_free(m);
	}
	lm_support_files_remove(&f);
}

static void test_prefill_matches_steps_and_the_stream_fills(void **state)
{
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, &mha, 13), 0);
	struct lm_model *m = open_model(f.model, false);
	struct lm_engine *e = engine(m, LM_KERNELS_AUTO);
	struct sv_err err = {0};
	int tokens[40];
	for (int i = 0; i < 40; i++)
		tokens[i] = (i * 29 + 1) % mha.vocab_size;
	float *steps = scores_of(e, tokens, 40);
	struct lm_stream *s = lm_stream_new(e, &err);
	assert_int_equal(lm_engine_prefill(e, s, tokens, 40, &err), 0); /* 16 + 16 + 8 */
	assert_int_equal(lm_stream_pos(s), 40);
	assert_close(steps + 39 * mha.vocab_size, lm_stream_logits(s), mha.vocab_size,
	             FAST_TOLERANCE);
	/* The stream holds seq_len tokens and no more. */
	for (int i = 40; i < mha.seq_len; i++)
		assert_int_equal(lm_engine_step(e, &s, &tokens[i % 40], 1, &err), 0);
	assert_int_equal(lm_engine_step(e, &s, &tokens[0], 1, &err), -1);
	assert_string_equal(err.field, "steps");
	lm_stream_reset(s);
	assert_int_equal(lm_engine_step(e, &s, &tokens[0], 1, &err), 0);
	free(steps);
	lm_stream_free(s);
	lm_engine_free(e);
	lm_model_free(m);
	lm_support_files_remove(&f);
}

/* ---- the batcher ---- */

struct caller {
	struct lm_batcher *b;
	const char *prompt;
	int max_tokens;
	struct sv_buf text;
	struct lm_result res;
	int rc;
};

static int collect(void *ctx, const char *piece)
{
	return sv_buf_puts(ctx, piece) < 0;
}

static void *call(void *arg)
{
	struct caller *c = arg;
	struct lm_request r = {.prompt = c->prompt,
	                       .max_tokens = c->max_tokens,
	                       .temperature = 0,
	                       .on_piece = collect,
	                       .ctx = &c->text};
	struct sv_err err = {0};
	c->rc = lm_batcher_run(c->b, &r, &c->res, &err);
	return NULL;
}

static void test_batcher_serves_callers_together(void **state)
{
	struct lm_support_files f;
	assert_int_equal(lm_support_files_make(&f, &gqa, 21), 0);
	struct lm_model *m = open_model(f.model, false);
	struct lm_engine *e = engine(m, LM_KERNELS_AUTO);
	struct lm_tokenizer *t = NULL;
	struct sv_err err = {0};
	assert_int_equal(lm_tokenizer_open(f.tokenizer, gqa.vocab_size, &t, &err), 0);
	struct lm_batcher *b = lm_batcher_new(e, t, &err);
	assert_non_null(b);
	static const char *prompts[] = {
	    "Once upon a time", "The little fox", "In the sea",
	    "A kind dragon",    "Stars",          "Hello there, friend"};
	enum { N = 6 };
	struct caller alone[N], together[N];
	pthread_t threads[N];
	for (int i = 0; i < N; i++) {
		alone[i] = (struct caller){.b = b, .prompt = prompts[i], .max_tokens = 10 + 3 * i};
		sv_buf_init(&alone[i].text);
		call(&alone[i]);
		assert_int_equal(alone[i].rc, 0);
		together[i] =
		    (struct caller){.b = b, .prompt = prompts[i], .max_tokens = 10 + 3 * i};
		sv_buf_init(&together[i].text);
	}
	for (int i = 0; i < N; i++)
		pthread_create(&threads[i], NULL, call, &together[i]);
	for (int i = 0; i < N; i++) {
		pthread_join(threads[i], NULL);
		assert_int_equal(together[i].rc, 0);
		assert_true(together[i].res.completion_tokens <= 10 + 3 * i);
		assert_int_equal(together[i].res.completion_tokens, alone[i].res.completion_tokens);
		assert_string_equal(together[i].text.data ? together[i].text.data : "",
		                    alone[i].text.data ? alone[i].text.data : "");
		sv_buf_free(&alone[i].text);
		sv_buf_free(&together[i].text);
	}
	/* Bad requests are refused with the field named. */
	struct lm_request r = {.prompt = "hi", .max_tokens = 0};
	struct lm_result res;
	assert_int_equal(lm_batcher_run(b, &r, &res, &err), -1);
	assert_string_equal(err.field, "max_tokens");
	r.max_tokens = 4;
	r.temperature = -1;
	assert_int_equal(lm_batcher_run(b, &r, &res, &err), -1);
	assert_string_equal(err.field, "temperature");
	lm_batcher_free(b);
	lm_tokenizer_free(t);
	lm_engine_free(e);
	lm_model_free(m);
	lm_support_files_remove(&f);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_malformed_checkpoints_are_refused),
	    cmocka_unit_test(test_portable_matches_reference),
	    cmocka_unit_test(test_avx2_matches_reference),
	    cmocka_unit_test(test_avxvnni_matches_reference),
	    cmocka_unit_test(test_greedy_tokens_are_the_same_on_every_path),
	    cmocka_unit_test(test_int8_stays_near_fp32),
	    cmocka_unit_test(test_batched_streams_match_single_streams),
	    cmocka_unit_test(test_prefill_matches_steps_and_the_stream_fills),
	    cmocka_unit_test(test_batcher_serves_callers_together),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
