/*
 * The sampler: picks the next token from the model's scores, greedily or
 * at a temperature with optional nucleus (top-p) truncation. It follows
 * llama2.c's run.c step for step, random numbers included, so the same seed
 * and the same logits pick the same tokens.
 */
#include "lm/lm.h"

#include <math.h>
#include <stdlib.h>
#include <string.h>

/* Seed 0 would leave xorshift stuck at 0 forever, so it stands for this
 * fixed state (the 64-bit golden ratio) instead. */
#define SEED_ZERO_STATE 0x9E3779B97F4A7C15ull

int lm_sampler_init(struct lm_sampler *s, int vocab_size, float temperature, float top_p,
                    uint64_t seed, struct sv_err *err)
{
	memset(s, 0, sizeof(*s));
	if (vocab_size <= 0)
		return sv_err_set(err, "invalid_value", "vocab_size",
		                  "vocab_size must be positive, not %d", vocab_size);
	if (!(temperature >= 0.0f) || !isfinite(temperature))
		return sv_err_set(err, "invalid_value", "temperature",
		                  "temperature must be a finite number >= 0, not %g",
		                  (double)temperature);
	if (!(top_p >= 0.0f && top_p <= 1.0f))
		return sv_err_set(err, "invalid_value", "top_p", "top_p must be in [0, 1], not %g",
		                  (double)top_p);
	s->scratch = malloc((size_t)vocab_size * sizeof(*s->scratch));
	if (!s->scratch)
		return sv_err_set(err, "nomem", "", "out of memory for a sampler of %d tokens",
		                  vocab_size);
	s->vocab_size = vocab_size;
	s->temperature = temperature;
	s->top_p = top_p;
	s->rng = seed ? seed : SEED_ZERO_STATE;
	return 0;
}

void lm_sampler_clear(struct lm_sampler *s)
{
	free(s->scratch);
	memset(s, 0, sizeof(*s));
}

/* xorshift64*, exactly llama2.c's random_u32. */
static uint32_t random_u32(uint64_t *state)
{
	*state ^= *state >> 12;
	*state ^= *state << 25;
	*state ^= *state >> 27;
	return (uint32_t)((*state * 0x2545F4914F6CDD1Dull) >> 32);
}

/* In [0, 1), with 24 random bits. */
static float random_f32(uint64_t *state)
{
	return (float)(random_u32(state) >> 8) / 16777216.0f;
}

/* The first of the largest. */
static int argmax(const float *x, int n)
{
	int best = 0;
	for (int i = 1; i < n; i++)
		if (x[i] > x[best])
			best = i;
	return best;
}

static int sample_multinomial(const float *p, int n, float coin)
{
	float cdf = 0.0f;
	for (int i = 0; i < n; i++) {
		cdf += p[i];
		if (coin < cdf)
			return i;
	}
	return n - 1; /* rounding left the sum a little under 1 */
}

/* Descending probability; equal ones by index, so the order does not depend
 * on the C library's qsort. */
static int compare_prob(const void *pa, const void *pb)
{
	const struct lm_prob *a = pa, *b = pb;
	if (a->p != b->p)
		return a->p > b->p ? -1 : 1;
	return (a->index > b->index) - (a->index < b->index);
}

static int sample_top_p(const float *p, int n, float top_p, struct lm_prob *cand, float coin)
{
	if (n == 1)
		return 0;
	/* Tokens below this cannot be in the nucleus (the ones above it already
	 * hold more than top_p), so only these need sorting. */
	const float cutoff = (1.0f - top_p) / (float)(n - 1);
	int m = 0;
	for (int i = 0; i < n; i++)
		if (p[i] >= cutoff)
			cand[m++] = (struct lm_prob){p[i], i};
	if (m == 0) {
		/* A nearly flat distribution can leave every token under the
		 * cutoff (llama2.c reads before its array then): keep them all. */
		for (int i = 0; i < n; i++)
			cand[m++] = (struct lm_prob){p[i], i};
	}
	qsort(cand, (size_t)m, sizeof(*cand), compare_prob);

	float mass = 0.0f;
	int last = m - 1;
	for (int i = 0; i < m; i++) {
		mass += cand[i].p;
		if (mass > top_p) {
			last = i;
			break;
		}
	}
	float r = coin * mass;
	float cdf = 0.0f;
	for (int i = 0; i <= last; i++) {
		cdf += cand[i].p;
		if (r < cdf)
			return cand[i].index;
	}
	return cand[last].index;
}

int lm_sampler_sample(struct lm_sampler *s, float *logits)
{
	const int n = s->vocab_size;
	if (s->temperature == 0.0f)
		return argmax(logits, n);
	/* Softmax, in llama2.c's order of operations. A tiny temperature can
	 * overflow the scaled logits, and then it is greedy. */
	int top = argmax(logits, n);
	for (int i = 0; i < n; i++)
		logits[i] /= s->temperature;
	float max = logits[top];
	if (!isfinite(max))
		return top;
	float sum = 0.0f;
	for (int i = 0; i < n; i++) {
		logits[i] = expf(logits[i] - max);
		sum += logits[i];
	}
	for (int i = 0; i < n; i++)
		logits[i] /= sum;
	float coin = random_f32(&s->rng);
	if (s->top_p > 0.0f && s->top_p < 1.0f)
		return sample_top_p(logits, n, s->top_p, s->scratch, coin);
	return sample_multinomial(logits, n, coin);
}
