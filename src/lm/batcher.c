/*
 * Continuous batching: one thread owns the engine and, step after step,
 * decodes one token for every request in flight. Callers on other threads
 * hand a request in and wait; it joins at the next step with a free stream
 * (its prompt prefilled first), gets its pieces through its callback, and
 * leaves when it ends — so a request never waits for another to finish,
 * and every weight read serves all of them.
 */
#include "lm/lm.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

struct job {
	const struct lm_request *r;
	struct lm_result *res;
	struct sv_err *err;
	int *tokens, ntokens; /* the prompt, encoded by the caller */
	struct lm_sampler sampler;
	struct lm_stream *stream; /* while in flight */
	int token;                /* the last token fed */
	int rc;
	bool done;
	struct job *next;
};

struct lm_batcher {
	struct lm_engine *e;
	const struct lm_tokenizer *t;
	pthread_t thread;
	pthread_mutex_t lock;
	pthread_cond_t work, finished;
	struct job *head, *tail; /* waiting to join, under lock */
	bool stop;
	/* The decoding thread's own: */
	struct lm_stream *streams[LM_MAX_BATCH];
	struct job *active[LM_MAX_BATCH];
	int nactive;
};

static void finish(struct lm_batcher *b, struct job *j, const char *reason, int rc)
{
	j->rc = rc;
	if (rc == 0)
		j->res->finish_reason = reason;
	pthread_mutex_lock(&b->lock);
	j->done = true;
	pthread_cond_broadcast(&b->finished);
	pthread_mutex_unlock(&b->lock);
}

/* Gives a job a stream and runs its prompt; 0 when it is in flight. */
static int admit(struct lm_batcher *b, struct job *j)
{
	struct lm_stream *s = b->streams[b->nactive];
	if (!s && !(s = b->streams[b->nactive] = lm_stream_new(b->e, j->err)))
		return -1;
	lm_stream_reset(s);
	if (lm_engine_prefill(b->e, s, j->tokens, j->ntokens, j->err) < 0)
		return -1;
	j->stream = s;
	j->token = j->tokens[j->ntokens - 1];
	b->active[b->nactive++] = j;
	return 0;
}

/* Takes the sampled token of active job i; false when the job has ended. */
static bool advance(struct lm_batcher *b, struct job *j, int next)
{
	const struct lm_request *r = j->r;
	if (next == LM_TOKEN_BOS || next == LM_TOKEN_EOS) {
		finish(b, j, "stop", 0);
		return false;
	}
	const char *piece = lm_tokenizer_decode(b->t, j->token, next);
	j->token = next;
	j->res->completion_tokens++;
	if (r->on_piece && r->on_piece(r->ctx, piece) != 0) {
		finish(b, j, "stop", 0);
		return false;
	}
	if (j->res->completion_tokens >= r->max_tokens ||
	    lm_stream_pos(j->stream) >= lm_engine_config(b->e)->seq_len) {
		finish(b, j, "length", 0);
		return false;
	}
	return true;
}

/* One step: every active job samples, then the ones going on are decoded together. */
static void step(struct lm_batcher *b)
{
	struct lm_stream *streams[LM_MAX_BATCH];
	int tokens[LM_MAX_BATCH], n = 0, kept = 0;
	struct lm_stream *spare[LM_MAX_BATCH];
	int nspare = 0;
	for (int i = 0; i < b->nactive; i++) {
		struct job *j = b->active[i];
		struct lm_stream *s = j->stream;
		if (advance(b, j, lm_sampler_sample(&j->sampler, lm_stream_logits(s)))) {
			b->active[kept] = j;
			streams[kept++] = s;
			tokens[n++] = j->token;
		} else {
			spare[nspare++] = s;
		}
	}
	b->nactive = kept;
	/* Streams stay in slots: in-flight first, free ones after. */
	memcpy(b->streams, streams, sizeof(struct lm_stream *) * (size_t)kept);
	memcpy(b->streams + kept, spare, sizeof(struct lm_stream *) * (size_t)nspare);
	if (n == 0)
		return;
	struct sv_err err = {0};
	if (lm_engine_step(b->e, streams, tokens, n, &err) == 0)
		return;
	/* Tokens and streams were checked on the way in: only a full stream
	 * fails here, and advance() ends those first. Fail them all rather than loop. */
	for (int i = 0; i < b->nactive; i++) {
		if (b->active[i]->err)
			*b->active[i]->err = err;
		finish(b, b->active[i], NULL, -1);
	}
	b->nactive = 0;
}

static void *batcher_main(void *arg)
{
	struct lm_batcher *b = arg;
	pthread_mutex_lock(&b->lock);
	for (;;) {
		while (!b->stop && !b->head && b->nactive == 0)
			pthread_cond_wait(&b->work, &b->lock);
		if (b->stop)
			break;
		while (b->head && b->nactive < LM_MAX_BATCH) {
			struct job *j = b->head;
			b->head = j->next;
			if (!b->head)
				b->tail = NULL;
			pthread_mutex_unlock(&b->lock);
			if (admit(b, j) < 0)
				finish(b, j, NULL, -1);
			pthread_mutex_lock(&b->lock);
		}
		pthread_mutex_unlock(&b->lock);
		if (b->nactive > 0)
			step(b);
		pthread_mutex_lock(&b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < b->nactive; i++) {
		sv_err_set(b->active[i]->err, "unavailable", "",
		           "the language model is shutting down");
		finish(b, b->active[i], NULL, -1);
	}
	b->nactive = 0;
	return NULL;
}

struct lm_batcher *lm_batcher_new(struct lm_engine *e, const struct lm_tokenizer *t,
                                  struct sv_err *err)
{
	struct lm_batcher *b = calloc(1, sizeof *b);
	if (!b) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	b->e = e;
	b->t = t;
	pthread_mutex_init(&b->lock, NULL);
	pthread_cond_init(&b->work, NULL);
	pthread_cond_init(&b->finished, NULL);
	if (pthread_create(&b->thread, NULL, batcher_main, b) != 0) {
		pthread_mutex_destroy(&b->lock);
		pthread_cond_destroy(&b->work);
		pthread_cond_destroy(&b->finished);
		free(b);
		sv_err_set(err, "io", "", "cannot start the language model's thread");
		return NULL;
	}
	return b;
}

void lm_batcher_free(struct lm_batcher *b)
{
	if (!b)
		return;
	pthread_mutex_lock(&b->lock);
	b->stop = true;
	pthread_cond_broadcast(&b->work);
	pthread_mutex_unlock(&b->lock);
	pthread_join(b->thread, NULL);
	/* Whoever still waits to join is told, then the slots go. */
	pthread_mutex_lock(&b->lock);
	for (struct job *j = b->head; j; j = j->next) {
		sv_err_set(j->err, "unavailable", "", "the language model is shutting down");
		j->rc = -1;
		j->done = true;
	}
	b->head = b->tail = NULL;
	pthread_cond_broadcast(&b->finished);
	pthread_mutex_unlock(&b->lock);
	for (int i = 0; i < LM_MAX_BATCH; i++)
		lm_stream_free(b->streams[i]);
	pthread_mutex_destroy(&b->lock);
	pthread_cond_destroy(&b->work);
	pthread_cond_destroy(&b->finished);
	free(b);
}

static int check_request(const struct lm_batcher *b, const struct lm_request *r, struct sv_err *err)
{
	if (!r->prompt)
		return sv_err_set(err, "invalid_value", "prompt", "a prompt is required");
	if (r->max_tokens < 1 || r->max_tokens > lm_engine_config(b->e)->seq_len)
		return sv_err_set(err, "invalid_value", "max_tokens",
		                  "max_tokens must be from 1 to %d (the model's length)",
		                  lm_engine_config(b->e)->seq_len);
	return 0;
}

int lm_batcher_run(struct lm_batcher *b, const struct lm_request *r, struct lm_result *res,
                   struct sv_err *err)
{
	*res = (struct lm_result){0};
	if (check_request(b, r, err) < 0)
		return -1;
	const struct lm_config *c = lm_engine_config(b->e);
	struct job j = {.r = r, .res = res, .err = err};
	int max = (int)strlen(r->prompt) + 3;
	if (max > c->seq_len)
		max = c->seq_len;
	if (!(j.tokens = malloc(sizeof(int) * (size_t)max)))
		return sv_err_set(err, "nomem", "", "out of memory");
	j.ntokens = lm_tokenizer_encode(b->t, r->prompt, true, false, j.tokens, max, err);
	if (j.ntokens < 0 || j.ntokens >= c->seq_len) {
		free(j.tokens);
		return sv_err_set(err, "invalid_value", "prompt",
		                  "the prompt is longer than the model reads (%d tokens)",
		                  c->seq_len);
	}
	if (lm_sampler_init(&j.sampler, c->vocab_size, r->temperature, r->top_p, r->seed, err) <
	    0) {
		free(j.tokens);
		return -1;
	}
	res->prompt_tokens = j.ntokens;
	pthread_mutex_lock(&b->lock);
	if (b->stop) {
		j.rc = sv_err_set(err, "unavailable", "", "the language model is shutting down");
	} else {
		if (b->tail)
			b->tail->next = &j;
		else
			b->head = &j;
		b->tail = &j;
		pthread_cond_signal(&b->work);
		while (!j.done)
			pthread_cond_wait(&b->finished, &b->lock);
	}
	pthread_mutex_unlock(&b->lock);
	lm_sampler_clear(&j.sampler);
	free(j.tokens);
	return j.rc;
}
