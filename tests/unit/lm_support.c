/*
 * Small random language models for the tests and benchmarks (see
 * lm_support.h): a legacy llama2.c checkpoint and a tokenizer.bin, both
 * drawn from a seed.
 */
#include "lm_support.h"

#include <errno.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* ---- the checkpoint ---- */

/* Writes count floats drawn uniformly from [center - spread, center + spread). */
static int write_uniform(FILE *f, struct sv_rng *r, size_t count, float center, float spread)
{
	float chunk[4096];
	while (count > 0) {
		size_t k = count < 4096 ? count : 4096;
		for (size_t i = 0; i < k; i += 2) {
			/* Two 32-bit draws per 64 random bits: cheap enough for 440 MB. */
			uint64_t bits = sv_rng_next(r);
			chunk[i] = center + spread * ((float)(uint32_t)bits * 0x1p-31f - 1.0f);
			if (i + 1 < k)
				chunk[i + 1] =
				    center +
				    spread * ((float)(uint32_t)(bits >> 32) * 0x1p-31f - 1.0f);
		}
		if (fwrite(chunk, sizeof(float), k, f) != k)
			return -1;
		count -= k;
	}
	return 0;
}

static bool shape_ok(const struct lm_config *c)
{
	return c->dim > 0 && c->hidden_dim > 0 && c->n_layers > 0 && c->n_heads > 0 &&
	       c->n_kv_heads > 0 && c->vocab_size > 0 && c->seq_len > 0 &&
	       c->dim % c->n_heads == 0 && c->n_heads % c->n_kv_heads == 0 &&
	       (c->dim / c->n_heads) % 2 == 0;
}

int lm_support_write_model(const char *path, const struct lm_config *c, uint64_t seed)
{
	if (!shape_ok(c)) {
		errno = EINVAL;
		return -1;
	}
	FILE *f = fopen(path, "wb");
	if (!f)
		return -1;
	char *buffer = malloc(1 << 20);
	if (buffer)
		setvbuf(f, buffer, _IOFBF, 1 << 20);

	const size_t dim = (size_t)c->dim, hidden = (size_t)c->hidden_dim, L = (size_t)c->n_layers;
	const size_t vocab = (size_t)c->vocab_size, seq = (size_t)c->seq_len;
	const size_t head_size = dim / (size_t)c->n_heads;
	const size_t kv_dim = dim * (size_t)c->n_kv_heads / (size_t)c->n_heads;
	int32_t header[7] = {c->dim,        c->hidden_dim, c->n_layers, c->n_heads,
	                     c->n_kv_heads, c->vocab_size, c->seq_len};
	/* llama2.c marks a separate classifier by a negative vocab_size. */
	if (!c->shared_classifier)
		header[5] = -c->vocab_size;

	struct sv_rng r;
	sv_rng_seed(&r, seed);
	/* Linear layers keep the variance of what they read (uniform with
	 * variance 1/fan_in), so each block adds about as much as the residual
	 * holds and the output depends on more than the current token. */
	const float in_dim = sqrtf(3.0f / (float)dim), in_hidden = sqrtf(3.0f / (float)hidden);
	int rc = fwrite(header, sizeof(header), 1, f) == 1 ? 0 : -1;
	if (rc == 0)
		/* Token embeddings of norm about 0.5: small beside what the blocks
		 * add, so that with a shared classifier a token's own embedding
		 * does not outscore the rest and greedy decoding does not lock onto
		 * one token (larger ones did, in a trial with the reference ops). */
		rc = write_uniform(f, &r, vocab * dim, 0.0f, 0.5f * in_dim);
	if (rc == 0)
		rc = write_uniform(f, &r, L * dim, 1.0f, 0.2f); /* rms_att */
	if (rc == 0)
		rc = write_uniform(f, &r, L * dim * dim, 0.0f, in_dim); /* wq */
	if (rc == 0)
		rc = write_uniform(f, &r, L * kv_dim * dim, 0.0f, in_dim); /* wk */
	if (rc == 0)
		rc = write_uniform(f, &r, L * kv_dim * dim, 0.0f, in_dim); /* wv */
	if (rc == 0)
		rc = write_uniform(f, &r, L * dim * dim, 0.0f, in_dim); /* wo */
	if (rc == 0)
		rc = write_uniform(f, &r, L * dim, 1.0f, 0.2f); /* rms_ffn */
	if (rc == 0)
		rc = write_uniform(f, &r, L * hidden * dim, 0.0f, in_dim); /* w1 */
	if (rc == 0)
		rc = write_uniform(f, &r, L * dim * hidden, 0.0f, in_hidden); /* w2 */
	if (rc == 0)
		rc = write_uniform(f, &r, L * hidden * dim, 0.0f, in_dim); /* w3 */
	if (rc == 0)
		rc = write_uniform(f, &r, dim, 1.0f, 0.2f); /* rms_final */
	/* The rotary tables llama2.c's legacy files carry (engines recompute them). */
	for (int part = 0; rc == 0 && part < 2; part++) {
		for (size_t pos = 0; rc == 0 && pos < seq; pos++) {
			for (size_t i = 0; rc == 0 && i < head_size / 2; i++) {
				double freq =
				    1.0 / pow(10000.0, (double)(2 * i) / (double)head_size);
				double a = (double)pos * freq;
				float v = (float)(part == 0 ? cos(a) : sin(a));
				rc = fwrite(&v, sizeof(v), 1, f) == 1 ? 0 : -1;
			}
		}
	}
	if (rc == 0 && !c->shared_classifier)
		rc = write_uniform(f, &r, vocab * dim, 0.0f, in_dim); /* wcls */
	int saved = errno;
	if (fclose(f) != 0 && rc == 0) {
		saved = errno;
		rc = -1;
	}
	free(buffer);
	if (rc < 0) {
		unlink(path);
		errno = saved ? saved : EIO;
	}
	return rc;
}

/* ---- the tokenizer ---- */

#define MAX_PIECE 16 /* longest merged piece the generator makes */

/* Common words of children's stories, most common first: the merges that
 * spell them come first and so score highest. */
static const char *const words[] = {
    " the",   " and",    " a",     " to",    " was",      " he",     " she",    " it",     " of",
    " in",    " they",   " said",  " you",   " her",      " his",    " with",   " on",     " had",
    " that",  " for",    " is",    " day",   " so",       " but",    " were",   " one",    " there",
    " we",    " little", " big",   " happy", " saw",      " up",     " not",    " play",   " very",
    " all",   " what",   " Lily",  " Tim",   " Tom",      " Sue",    " at",     " friend", " mom",
    " want",  " time",   " go",    " do",    " can",      " like",   " them",   " be",     " have",
    " once",  " upon",   " went",  " found", " then",     " away",   " toy",    " tree",   " dog",
    " cat",   " ball",   " park",  " home",  " help",     " good",   " fun",    " an",     " new",
    " thank", " sad",    " look",  " this",  " came",     " out",    " from",   " me",     " my",
    " are",   " made",   " him",   " did",   " together", " every",  " know",   " see",    " too",
    " how",   " sun",    " sky",   " bird",  " fish",     " red",    " blue",   " ran",    " jump",
    " laugh", " smile",  " girl",  " boy",   " named",    " house",  " garden", " water",  " small",
    " brave", " magic",  " story", " night", ".",         ",",       "!",       "?",       "\"",
    "'s",     " \"",     "ing",    "ed",     "er",        "ly",      "es",      "est",     "ful",
    "ness",   "ion",     "'t",     " don",   " didn",     " couldn", " It",     " The",    " He",
    " She",   " They",   " One",   " Once",  " When",     " But",    " So",     " Then",   " After",
};

/* Parts of English-looking syllables, commoner ones repeated. */
static const char *const onsets[] = {
    "",  "",  "",  "b",  "c",  "d",  "f",  "g",  "h",  "l",  "m",  "n",  "p",  "r",  "s",
    "t", "t", "w", "th", "st", "ch", "sh", "br", "tr", "pl", "gr", "fl", "cl", "sp", "wh",
};
static const char *const nuclei[] = {
    "a", "a", "e", "e", "i", "o", "o", "u", "ea", "oo", "ai", "ou", "ee", "ie", "y",
};
static const char *const codas[] = {
    "",   "",   "",   "",   "n",  "t",  "d",  "r",  "s",   "l",  "m",  "k", "p",
    "ng", "nd", "st", "ll", "ck", "ts", "rt", "sh", "ing", "ed", "er", "y",
};

#define PICK(r, a) (a)[sv_rng_below((r), sizeof(a) / sizeof((a)[0]))]

/* The pieces made so far, with a hash set to keep them distinct. */
struct vocab {
	int cap, n;   /* n pieces of at most cap */
	char **piece; /* piece[i] for the merged tokens only */
	int *slot;    /* open addressing: index into piece, or -1 */
	int nslot;    /* a power of two */
};

static uint64_t hash_str(const char *s)
{
	return sv_hash64(s, strlen(s), 0);
}

static bool vocab_has(const struct vocab *v, const char *s)
{
	for (size_t h = hash_str(s) & (size_t)(v->nslot - 1);;
	     h = (h + 1) & (size_t)(v->nslot - 1)) {
		if (v->slot[h] < 0)
			return false;
		if (strcmp(v->piece[v->slot[h]], s) == 0)
			return true;
	}
}

static int vocab_add(struct vocab *v, const char *s, size_t n)
{
	char *copy = malloc(n + 1);
	if (!copy)
		return -1;
	memcpy(copy, s, n);
	copy[n] = '\0';
	size_t h = hash_str(copy) & (size_t)(v->nslot - 1);
	while (v->slot[h] >= 0)
		h = (h + 1) & (size_t)(v->nslot - 1);
	v->slot[h] = v->n;
	v->piece[v->n++] = copy;
	return 0;
}

/* Adds s (printable ASCII) and whatever shorter pieces it is merged from,
 * each a merge of two pieces already present, until the vocabulary is full. */
static int add_word(struct vocab *v, const char *s)
{
	size_t n = strlen(s);
	char tmp[MAX_PIECE + 1];
	if (n > MAX_PIECE)
		n = MAX_PIECE;
	memcpy(tmp, s, n);
	tmp[n] = '\0';
	if (n <= 1 || vocab_has(v, tmp) || v->n >= v->cap)
		return 0;
	/* Split where the first part is longest and both parts exist. */
	for (size_t k = n - 1; k >= 1; k--) {
		char a[MAX_PIECE + 1];
		memcpy(a, tmp, k);
		a[k] = '\0';
		if (vocab_has(v, a) && vocab_has(v, tmp + k))
			return vocab_add(v, tmp, n);
	}
	/* Neither split exists: make the word less its last letter first. */
	char prefix[MAX_PIECE + 1];
	memcpy(prefix, tmp, n - 1);
	prefix[n - 1] = '\0';
	if (add_word(v, prefix) < 0)
		return -1;
	if (v->n >= v->cap || vocab_has(v, tmp))
		return 0;
	return vocab_add(v, tmp, n);
}

/* Adds the merge of pieces a and b when both exist and there is room. */
static int add_merge(struct vocab *v, const char *a, const char *b)
{
	char ab[2 * MAX_PIECE + 1];
	size_t la = strlen(a), lb = strlen(b);
	if (la + lb > MAX_PIECE || v->n >= v->cap || !vocab_has(v, a) || !vocab_has(v, b))
		return 0;
	memcpy(ab, a, la);
	memcpy(ab + la, b, lb + 1);
	return vocab_has(v, ab) ? 0 : vocab_add(v, ab, la + lb);
}

/* A made-up word of one to three English-looking syllables, usually after
 * a space: each syllable is spelled by merges of its letters, and the word
 * by merges of whole syllables, as BPE on English text tends to find. */
static int add_pseudo_word(struct vocab *v, struct sv_rng *r)
{
	uint32_t roll = sv_rng_below(r, 20);
	int syllables = roll < 10 ? 1 : roll < 17 ? 2 : 3;
	char word[MAX_PIECE + 1] = "";
	for (int i = 0; i < syllables; i++) {
		char syl[MAX_PIECE + 1];
		size_t n = 0;
		if (i == 0 && sv_rng_below(r, 5) != 0)
			syl[n++] = ' ';
		const char *parts[3] = {PICK(r, onsets), PICK(r, nuclei), PICK(r, codas)};
		for (int k = 0; k < 3; k++) {
			memcpy(syl + n, parts[k], strlen(parts[k]));
			n += strlen(parts[k]);
		}
		syl[n] = '\0';
		if (add_word(v, syl) < 0)
			return -1;
		if (i == 0) {
			memcpy(word, syl, n + 1);
			continue;
		}
		if (strlen(word) + n > MAX_PIECE)
			break;
		if (add_merge(v, word, syl) < 0)
			return -1;
		strcat(word, syl);
	}
	return 0;
}

static int write_piece(FILE *f, float score, const char *s)
{
	int32_t len = (int32_t)strlen(s);
	if (fwrite(&score, sizeof(score), 1, f) != 1 || fwrite(&len, sizeof(len), 1, f) != 1)
		return -1;
	return fwrite(s, 1, (size_t)len, f) == (size_t)len ? 0 : -1;
}

int lm_support_write_tokenizer(const char *path, int vocab, uint64_t seed)
{
	const int fixed = 3 + 256 + 95; /* specials, bytes, printable ASCII */
	if (vocab < fixed) {
		errno = EINVAL;
		return -1;
	}
	struct vocab v = {.cap = vocab - 259}; /* the specials and bytes are not in v */
	v.nslot = 1;
	while (v.nslot < 2 * vocab)
		v.nslot *= 2;
	v.piece = calloc((size_t)vocab, sizeof(*v.piece));
	v.slot = malloc((size_t)v.nslot * sizeof(*v.slot));
	int rc = v.piece && v.slot ? 0 : -1;
	if (rc == 0) {
		memset(v.slot, 0xff, (size_t)v.nslot * sizeof(*v.slot));
		/* The single characters: present, but never merges. */
		for (int c = 0x20; rc == 0 && c < 0x7f; c++) {
			char ch = (char)c;
			rc = vocab_add(&v, &ch, 1);
		}
	}
	for (size_t i = 0; rc == 0 && i < sizeof(words) / sizeof(words[0]); i++)
		rc = add_word(&v, words[i]);
	struct sv_rng r;
	sv_rng_seed(&r, seed);
	/* Made-up words until the vocabulary is full; there are millions of
	 * them, but give up rather than loop forever on an absurd vocab. */
	for (long tries = 0; rc == 0 && v.n < v.cap; tries++) {
		int before = v.n;
		rc = add_pseudo_word(&v, &r);
		if (v.n > before)
			tries = 0;
		else if (tries > 1000000) {
			errno = ERANGE;
			rc = -1;
		}
	}

	FILE *f = rc == 0 ? fopen(path, "wb") : NULL;
	if (rc == 0 && !f)
		rc = -1;
	if (rc == 0) {
		int32_t max_len = 6; /* "<0x00>" */
		for (int i = 95; i < v.n; i++)
			if ((int32_t)strlen(v.piece[i]) > max_len)
				max_len = (int32_t)strlen(v.piece[i]);
		rc = fwrite(&max_len, sizeof(max_len), 1, f) == 1 ? 0 : -1;
		/* llama2.c's exporter writes BOS and EOS this way. */
		const char *specials[3] = {"<unk>", "\n<s>\n", "\n</s>\n"};
		for (int i = 0; rc == 0 && i < 3; i++)
			rc = write_piece(f, 0.0f, specials[i]);
		for (int b = 0; rc == 0 && b < 256; b++) {
			char hex[8];
			snprintf(hex, sizeof(hex), "<0x%02X>", b);
			rc = write_piece(f, 0.0f, hex);
		}
		/* Single characters score below every merge; merges score by
		 * their order, the first highest. */
		for (int i = 0; rc == 0 && i < 95; i++)
			rc = write_piece(f, -1e6f - (float)i, v.piece[i]);
		for (int i = 95; rc == 0 && i < v.n; i++)
			rc = write_piece(f, -(float)(i - 95), v.piece[i]);
		int saved = errno;
		if (fclose(f) != 0 && rc == 0) {
			saved = errno;
			rc = -1;
		}
		if (rc < 0) {
			unlink(path);
			errno = saved ? saved : EIO;
		}
	}
	for (int i = 0; v.piece && i < v.n; i++)
		free(v.piece[i]);
	free(v.piece);
	free(v.slot);
	if (rc < 0 && !errno)
		errno = ENOMEM;
	return rc;
}

/* ---- files for one test ---- */

int lm_support_files_make(struct lm_support_files *f, const struct lm_config *c, uint64_t seed)
{
	memset(f, 0, sizeof(*f));
	snprintf(f->dir, sizeof(f->dir), "/tmp/sv-lm-XXXXXX");
	if (!mkdtemp(f->dir)) {
		f->dir[0] = '\0';
		return -1;
	}
	snprintf(f->model, sizeof(f->model), "%s/model.bin", f->dir);
	snprintf(f->tokenizer, sizeof(f->tokenizer), "%s/tokenizer.bin", f->dir);
	int rc = lm_support_write_model(f->model, c, seed);
	if (rc == 0 && c->vocab_size >= 3 + 256 + 95)
		rc = lm_support_write_tokenizer(f->tokenizer, c->vocab_size, seed);
	else if (rc == 0)
		f->tokenizer[0] = '\0'; /* too few tokens for a tokenizer: model only */
	if (rc < 0) {
		int saved = errno;
		lm_support_files_remove(f);
		errno = saved;
	}
	return rc;
}

void lm_support_files_remove(struct lm_support_files *f)
{
	if (f->model[0])
		unlink(f->model);
	if (f->tokenizer[0])
		unlink(f->tokenizer);
	if (f->dir[0])
		rmdir(f->dir);
	memset(f, 0, sizeof(*f));
}
