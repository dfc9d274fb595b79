/*
 * lm: a small transformer inference engine for the CPU, for checkpoints in
 * llama2.c's shape (RMSNorm, rotary positions, grouped-query attention,
 * SwiGLU feed-forward), and the tokenizer and sampler around it.
 *
 * A model is opened from a file, memory-mapped: llama2.c's legacy fp32
 * layout (a header of seven int32, then the weights), or its int8 layout
 * ("ak42" version 2: group-wise int8 weights with an fp32 scale per group),
 * which `lm_model_quantize` writes. fp32 weights may also be quantized as
 * they load. An engine pairs an opened model with a thread pool and a set of
 * kernels (the plain reference path, a portable one, or AVX2/FMA chosen from
 * the CPU's features). Streams hold one sequence each (its key/value cache
 * and position); one engine step runs one token of several streams together,
 * so every weight is read once for all of them.
 *
 * Nothing here reads the environment or prints; errors come back in an
 * sv_err. Ownership: each _new/_open has its _free; an engine borrows its
 * model, and a stream borrows its engine, so free them in reverse order.
 */
#ifndef SV_LM_H
#define SV_LM_H

#include "base/base.h"

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define LM_MAX_BATCH   16 /* streams (or prompt tokens) in one engine step */
#define LM_MAX_THREADS 64

/* The shape of a model, as its file's header gives it. */
struct lm_config {
	int dim;        /* width of the residual stream */
	int hidden_dim; /* width of the feed-forward layer */
	int n_layers;
	int n_heads;
	int n_kv_heads; /* fewer than n_heads: grouped-query attention */
	int vocab_size;
	int seq_len;            /* the longest sequence the model was made for */
	bool shared_classifier; /* the output layer is the token embedding */
	int group_size;         /* int8 weights: values per scale; 0 for fp32 */
};

/* ---- models (model.c) ---- */

struct lm_model;

struct lm_open_options {
	bool int8;      /* quantize fp32 weights as they load */
	int group_size; /* for int8 on load; 0 picks the largest of 64, 32, ... that fits */
};

/* Opens a checkpoint. A file whose header does not match its size, or whose
 * shape is impossible, is an "invalid_model" error naming the problem. */
int lm_model_open(const char *path, const struct lm_open_options *opt, struct lm_model **out,
                  struct sv_err *err);
void lm_model_free(struct lm_model *m);
const struct lm_config *lm_model_config(const struct lm_model *m);
/* Bytes of weights the model reads per token (for speed reports). */
size_t lm_model_weight_bytes(const struct lm_model *m);

/* Writes an fp32 checkpoint at in as an int8 one at out (group_size 0:
 * as lm_open_options). The output is written to a temporary file and
 * renamed, so a failure leaves nothing half-written. */
int lm_model_quantize(const char *in, const char *out, int group_size, struct sv_err *err);

/* ---- tokenizer (tokenizer.c) ---- */

struct lm_tokenizer;

#define LM_TOKEN_BOS 1
#define LM_TOKEN_EOS 2

/* Reads llama2.c's tokenizer.bin for a model of vocab_size tokens:
 * int32 max_token_length, then per token float score, int32 length, bytes. */
int lm_tokenizer_open(const char *path, int vocab_size, struct lm_tokenizer **out,
                      struct sv_err *err);
/* The same from memory (copied), for tests and fuzzing. */
int lm_tokenizer_parse(const void *data, size_t len, int vocab_size, struct lm_tokenizer **out,
                       struct sv_err *err);
void lm_tokenizer_free(struct lm_tokenizer *t);
int lm_tokenizer_vocab_size(const struct lm_tokenizer *t);

/* Byte-pair encodes text (UTF-8; a leading space is added as sentencepiece
 * does), with BOS and/or EOS when asked. Writes at most max tokens; returns
 * the count, or -1 with err filled when they do not fit. */
int lm_tokenizer_encode(const struct lm_tokenizer *t, const char *text, bool bos, bool eos,
                        int *tokens, int max, struct sv_err *err);
/* The text of token after prev (the leading space after BOS is dropped;
 * byte tokens "<0x0A>" become their byte). The pointer stays valid while t
 * lives; the returned piece may be "" and is not necessarily printable. */
const char *lm_tokenizer_decode(const struct lm_tokenizer *t, int prev, int token);

/* ---- sampler (sampler.c) ---- */

struct lm_sampler {
	int vocab_size;
	float temperature; /* 0: greedy */
	float top_p;       /* in (0, 1) keeps the smallest set of tokens with that mass; else all */
	uint64_t rng;      /* xorshift state, from the seed */
	struct lm_prob {
		float p;
		int index;
	} * scratch; /* vocab_size entries, owned */
};

int lm_sampler_init(struct lm_sampler *s, int vocab_size, float temperature, float top_p,
                    uint64_t seed, struct sv_err *err);
void lm_sampler_clear(struct lm_sampler *s);
/* Picks the next token from logits (which it may overwrite). */
int lm_sampler_sample(struct lm_sampler *s, float *logits);

/* ---- engine (engine.c) ---- */

enum lm_kernels {
	LM_KERNELS_AUTO,      /* the fastest this CPU runs */
	LM_KERNELS_REFERENCE, /* one plain function per operation, one thread, one stream at a time
	                       */
	LM_KERNELS_PORTABLE,  /* plain C, threaded and batched */
	LM_KERNELS_AVX2,      /* AVX2 and FMA intrinsics */
	LM_KERNELS_AVXVNNI,   /* AVX2 with AVX-VNNI's int8 dot products */
};

/* "auto", "reference", "portable", "avx2", "avxvnni"; lm_kernels_parse
 * returns -1 for others. */
const char *lm_kernels_name(enum lm_kernels k);
int lm_kernels_parse(const char *s, enum lm_kernels *out);
/* Whether this CPU can run k. */
bool lm_kernels_supported(enum lm_kernels k);

struct lm_engine;
struct lm_stream;

/* threads 0: one per online CPU (at most LM_MAX_THREADS). */
struct lm_engine *lm_engine_new(const struct lm_model *m, int threads, enum lm_kernels kernels,
                                struct sv_err *err);
void lm_engine_free(struct lm_engine *e);
/* The kernels in use (never AUTO) and the threads. */
enum lm_kernels lm_engine_kernels(const struct lm_engine *e);
int lm_engine_threads(const struct lm_engine *e);
const struct lm_config *lm_engine_config(const struct lm_engine *e);

/* A sequence: its key/value cache (half floats, head by head; the OS
 * gives it memory as it fills)
 * and its position. */
struct lm_stream *lm_stream_new(const struct lm_engine *e, struct sv_err *err);
void lm_stream_free(struct lm_stream *s);
void lm_stream_reset(struct lm_stream *s); /* back to position 0 */
int lm_stream_pos(const struct lm_stream *s);
/* The scores for the next token after the last step (vocab_size floats),
 * valid until the stream's next step. */
float *lm_stream_logits(struct lm_stream *s);

/* Runs tokens[i] through streams[i] at its position, for n streams (at most
 * LM_MAX_BATCH, each at most once), then advances each. -1 with err filled
 * when a token is out of range or a stream is full (seq_len). */
int lm_engine_step(struct lm_engine *e, struct lm_stream *const *streams, const int *tokens, int n,
                   struct sv_err *err);
/* Runs n prompt tokens through one stream, LM_MAX_BATCH at a time; only
 * the last one's logits are computed. */
int lm_engine_prefill(struct lm_engine *e, struct lm_stream *s, const int *tokens, int n,
                      struct sv_err *err);

/* ---- continuous batching (batcher.c) ---- */

/* A thread that owns an engine and decodes every request it is given as one
 * batch: requests join when a stream is free (their prompt prefilled) and
 * leave when they finish, so callers on many threads share each step. */
struct lm_batcher;

struct lm_request {
	const char *prompt; /* encoded with BOS */
	int max_tokens;     /* continuation tokens at most (the model's seq_len also bounds it) */
	float temperature, top_p;
	uint64_t seed;
	/* Called on the batcher's thread with each decoded piece, in order;
	 * returning non-zero ends the request ("stop"). May be NULL. */
	int (*on_piece)(void *ctx, const char *piece);
	void *ctx;
};

struct lm_result {
	int prompt_tokens, completion_tokens;
	const char *finish_reason; /* "stop" (end of text or on_piece) or "length" */
};

/* Borrows the engine and tokenizer (which outlive it) and starts its thread. */
struct lm_batcher *lm_batcher_new(struct lm_engine *e, const struct lm_tokenizer *t,
                                  struct sv_err *err);
/* Ends the thread. Call it once no caller is inside lm_batcher_run (stop
 * the callers first); requests still queued fail with "unavailable". */
void lm_batcher_free(struct lm_batcher *b);
/* Runs a request to its end, blocking the caller; 0 with res filled, or -1
 * with err filled (a bad request: "invalid_value" naming the field). */
int lm_batcher_run(struct lm_batcher *b, const struct lm_request *r, struct lm_result *res,
                   struct sv_err *err);

#endif
