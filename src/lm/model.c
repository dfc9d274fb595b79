/*
 * Checkpoints: opening llama2.c's two layouts memory-mapped, quantizing
 * fp32 weights to group-wise int8 (as they load, or into a file).
 *
 * Legacy fp32: seven int32 (dim, hidden_dim, n_layers, n_heads, n_kv_heads,
 * vocab_size — negative when the classifier has its own weights — and
 * seq_len), then the fp32 tensors in a fixed order. int8 ("ak42" version 2):
 * a 256-byte header (magic, version, the seven int32, a shared-classifier
 * byte, the group size), the fp32 norms, then each weight matrix as int8
 * values followed by its fp32 scales. The header must describe the file's
 * exact size; anything else is refused before a weight is read.
 */
#include "lm/internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <unistd.h>

#define LEGACY_HEADER 28
#define Q8_HEADER     256
#define Q8_MAGIC      0x616b3432u /* "ak42" */
#define Q8_VERSION    2

/* Bounds far above any model this engine is for; they keep every size
 * computation below within 64 bits. */
#define MAX_DIM    65536
#define MAX_LAYERS 1024
#define MAX_VOCAB  (1 << 21)
#define MAX_SEQ    (1 << 20)

/* Returns -1 itself rather than sv_err_set's -1, which the static analyzer
 * cannot see from here: it then knows every error path ends in a failure. */
static int invalid(struct sv_err *err, const char *path, const char *why)
{
	sv_err_set(err, "invalid_model", "model", "%s is not a usable checkpoint: %s", path, why);
	return -1;
}

int lm_group_size_for(const struct lm_config *c)
{
	int gs = 64;
	while (gs > 1 && (c->dim % gs != 0 || c->hidden_dim % gs != 0))
		gs /= 2;
	return gs;
}

/* Checks a header's shape; NULL when it is possible, else why not. */
static const char *check_shape(const struct lm_config *c)
{
	if (c->dim <= 0 || c->dim > MAX_DIM || c->hidden_dim <= 0 || c->hidden_dim > 4 * MAX_DIM)
		return "dim or hidden_dim out of range";
	if (c->n_layers <= 0 || c->n_layers > MAX_LAYERS)
		return "n_layers out of range";
	if (c->n_heads <= 0 || c->n_heads > c->dim || c->dim % c->n_heads != 0)
		return "n_heads must divide dim";
	if ((c->dim / c->n_heads) % 2 != 0)
		return "the head size must be even";
	if (c->n_kv_heads <= 0 || c->n_kv_heads > c->n_heads || c->n_heads % c->n_kv_heads != 0)
		return "n_kv_heads must divide n_heads";
	if (c->vocab_size < 3 || c->vocab_size > MAX_VOCAB)
		return "vocab_size out of range";
	if (c->seq_len <= 0 || c->seq_len > MAX_SEQ)
		return "seq_len out of range";
	return NULL;
}

/* Values in each kind of tensor, per layer where it repeats. */
struct sizes {
	uint64_t embed, attn, kv, ffn, norm, rope;
};

static struct sizes sizes_of(const struct lm_config *c)
{
	uint64_t dim = (uint64_t)c->dim,
	         kv_dim = dim * (uint64_t)c->n_kv_heads / (uint64_t)c->n_heads;
	return (struct sizes){
	    .embed = (uint64_t)c->vocab_size * dim,
	    .attn = dim * dim,
	    .kv = kv_dim * dim,
	    .ffn = (uint64_t)c->hidden_dim * dim,
	    .norm = dim,
	    .rope = (uint64_t)c->seq_len * (dim / (uint64_t)c->n_heads) / 2,
	};
}

/* Weight values of the matrices: the embedding (and classifier), then per layer. */
static uint64_t matrix_values(const struct lm_config *c, const struct sizes *z)
{
	uint64_t per_layer = 2 * z->attn + 2 * z->kv + 3 * z->ffn;
	return z->embed * (c->shared_classifier ? 1 : 2) + (uint64_t)c->n_layers * per_layer;
}

static uint64_t legacy_size(const struct lm_config *c)
{
	struct sizes z = sizes_of(c);
	uint64_t floats =
	    matrix_values(c, &z) + (2 * (uint64_t)c->n_layers + 1) * z.norm + 2 * z.rope;
	return LEGACY_HEADER + 4 * floats;
}

static uint64_t q8_size(const struct lm_config *c)
{
	struct sizes z = sizes_of(c);
	uint64_t values = matrix_values(c, &z);
	uint64_t norms = (2 * (uint64_t)c->n_layers + 1) * z.norm;
	return Q8_HEADER + 4 * norms + values + 4 * (values / (uint64_t)c->group_size);
}

/* ---- laying tensors over the bytes of a file (or of our own buffer) ---- */

struct cursor {
	const char *p;
};

static const float *take_f32(struct cursor *c, uint64_t n)
{
	const float *f = (const float *)(const void *)c->p;
	c->p += n * sizeof(float);
	return f;
}

static struct lm_tensor take_matrix_f32(struct cursor *c, int rows, int cols)
{
	return (struct lm_tensor){
	    .f = take_f32(c, (uint64_t)rows * (uint64_t)cols), .rows = rows, .cols = cols};
}

static struct lm_tensor take_matrix_q8(struct cursor *c, int rows, int cols, int gs)
{
	uint64_t n = (uint64_t)rows * (uint64_t)cols;
	struct lm_tensor t = {
	    .q = (const int8_t *)c->p, .rows = rows, .cols = cols, .group_size = gs};
	c->p += n;
	t.s = take_f32(c, n / (uint64_t)gs);
	return t;
}

/* The layers' matrices in file order: every wq, every wk, ... (each kind
 * for all layers, then the next kind). */
static const struct matrix_slot {
	size_t offset;  /* in struct lm_layer */
	int rows, cols; /* 0 dim, 1 kv_dim, 2 hidden_dim */
} slots[] = {
    {offsetof(struct lm_layer, wq), 0, 0}, {offsetof(struct lm_layer, wk), 1, 0},
    {offsetof(struct lm_layer, wv), 1, 0}, {offsetof(struct lm_layer, wo), 0, 0},
    {offsetof(struct lm_layer, w1), 2, 0}, {offsetof(struct lm_layer, w2), 0, 2},
    {offsetof(struct lm_layer, w3), 2, 0},
};
#define NSLOTS (sizeof(slots) / sizeof(slots[0]))

static int slot_dim(const struct lm_config *c, int which)
{
	int d[3] = {c->dim, c->dim * c->n_kv_heads / c->n_heads, c->hidden_dim};
	return d[which];
}

static struct lm_tensor *slot_of(struct lm_layer *l, size_t s)
{
	return (struct lm_tensor *)(void *)((char *)l + slots[s].offset);
}

static void lay_legacy(struct lm_model *m, const char *base)
{
	const struct lm_config *c = &m->cfg;
	struct sizes z = sizes_of(c);
	struct cursor cur = {base + LEGACY_HEADER};
	m->embed = take_matrix_f32(&cur, c->vocab_size, c->dim);
	/* The legacy order interleaves norms with matrices. */
	for (int l = 0; l < c->n_layers; l++)
		m->layers[l].rms_att = take_f32(&cur, z.norm);
	for (size_t s = 0; s < NSLOTS; s++) {
		if (slots[s].offset == offsetof(struct lm_layer, w1))
			for (int l = 0; l < c->n_layers; l++)
				m->layers[l].rms_ffn = take_f32(&cur, z.norm);
		for (int l = 0; l < c->n_layers; l++)
			*slot_of(&m->layers[l], s) = take_matrix_f32(
			    &cur, slot_dim(c, slots[s].rows), slot_dim(c, slots[s].cols));
	}
	m->rms_final = take_f32(&cur, z.norm);
	take_f32(&cur, 2 * z.rope); /* precomputed rotations: computed instead */
	m->cls = c->shared_classifier ? m->embed : take_matrix_f32(&cur, c->vocab_size, c->dim);
}

static void lay_q8(struct lm_model *m, const char *base)
{
	const struct lm_config *c = &m->cfg;
	struct sizes z = sizes_of(c);
	struct cursor cur = {base + Q8_HEADER};
	for (int l = 0; l < c->n_layers; l++)
		m->layers[l].rms_att = take_f32(&cur, z.norm);
	for (int l = 0; l < c->n_layers; l++)
		m->layers[l].rms_ffn = take_f32(&cur, z.norm);
	m->rms_final = take_f32(&cur, z.norm);
	m->embed = take_matrix_q8(&cur, c->vocab_size, c->dim, c->group_size);
	for (size_t s = 0; s < NSLOTS; s++)
		for (int l = 0; l < c->n_layers; l++)
			*slot_of(&m->layers[l], s) =
			    take_matrix_q8(&cur, slot_dim(c, slots[s].rows),
			                   slot_dim(c, slots[s].cols), c->group_size);
	m->cls = c->shared_classifier ? m->embed
	                              : take_matrix_q8(&cur, c->vocab_size, c->dim, c->group_size);
}

/* ---- reading headers ---- */

static int32_t i32_at(const char *p, size_t off)
{
	int32_t v;
	memcpy(&v, p + off, sizeof v);
	return v;
}

static void config_from(struct lm_config *c, const char *p)
{
	c->dim = i32_at(p, 0);
	c->hidden_dim = i32_at(p, 4);
	c->n_layers = i32_at(p, 8);
	c->n_heads = i32_at(p, 12);
	c->n_kv_heads = i32_at(p, 16);
	c->vocab_size = i32_at(p, 20);
	c->seq_len = i32_at(p, 24);
}

/* Fills m->cfg from the file's first bytes and checks the file's size;
 * returns 1 for the int8 layout, 0 for legacy, -1 with err filled. */
static int read_header(struct lm_model *m, const char *p, size_t len, const char *path,
                       struct sv_err *err)
{
	struct lm_config *c = &m->cfg;
	uint32_t magic = 0;
	if (len >= 4)
		memcpy(&magic, p, 4);
	int q8 = magic == Q8_MAGIC;
	if (len < (q8 ? Q8_HEADER : LEGACY_HEADER))
		return invalid(err, path, "the file is shorter than its header");
	if (q8) {
		if (i32_at(p, 4) != Q8_VERSION)
			return invalid(err, path,
			               "only version 2 (int8) of the ak42 layout is known");
		config_from(c, p + 8);
		c->shared_classifier = p[36] != 0;
		c->group_size = i32_at(p, 37);
	} else {
		config_from(c, p);
		c->shared_classifier = c->vocab_size > 0;
		if (c->vocab_size < 0 && c->vocab_size > -MAX_VOCAB)
			c->vocab_size = -c->vocab_size;
	}
	const char *why = check_shape(c);
	if (why)
		return invalid(err, path, why);
	if (q8 && (c->group_size < 4 || c->group_size > 4096 ||
	           (c->group_size & (c->group_size - 1)) != 0 || c->dim % c->group_size != 0 ||
	           c->hidden_dim % c->group_size != 0))
		return invalid(
		    err, path,
		    "the group size must be a power of two from 4, dividing dim and hidden_dim");
	uint64_t want = q8 ? q8_size(c) : legacy_size(c);
	if ((uint64_t)len != want) {
		sv_err_set(err, "invalid_model", "model",
		           "%s is not a usable checkpoint: its header describes %llu bytes but "
		           "the file has %zu (truncated, or not this format)",
		           path, (unsigned long long)want, len);
		return -1;
	}
	return q8;
}

/* ---- quantizing ---- */

static size_t q8_bytes(const struct lm_tensor *t, int gs)
{
	size_t n = (size_t)t->rows * (size_t)t->cols;
	return n + sizeof(float) * (n / (size_t)gs);
}

/* Quantizes t into dst (values then scales); returns the tensor over dst. */
static struct lm_tensor quantize_into(char *dst, const struct lm_tensor *t, int gs)
{
	size_t n = (size_t)t->rows * (size_t)t->cols;
	int8_t *q = (int8_t *)dst;
	float *s = (float *)(void *)(dst + n);
	for (int r = 0; r < t->rows; r++) {
		size_t off = (size_t)r * (size_t)t->cols;
		lm_ref_quantize(q + off, s + off / (size_t)gs, t->f + off, t->cols, gs);
	}
	return (struct lm_tensor){
	    .q = q, .s = s, .rows = t->rows, .cols = t->cols, .group_size = gs};
}

/* Every matrix of m, in the int8 file's order: a new array the caller
 * frees, its length in *count; NULL when memory runs out. */
static struct lm_tensor **matrices_of(struct lm_model *m, size_t *count)
{
	struct lm_tensor **out =
	    calloc(2 + NSLOTS * (size_t)m->cfg.n_layers, sizeof(struct lm_tensor *));
	if (!out)
		return NULL;
	size_t n = 0;
	out[n++] = &m->embed;
	for (size_t s = 0; s < NSLOTS; s++)
		for (int l = 0; l < m->cfg.n_layers; l++)
			out[n++] = slot_of(&m->layers[l], s);
	if (!m->cfg.shared_classifier)
		out[n++] = &m->cls;
	*count = n;
	return out;
}

static int pick_group_size(const struct lm_config *c, int asked, const char *path,
                           struct sv_err *err)
{
	int gs = asked ? asked : lm_group_size_for(c);
	if (gs < 4 || (gs & (gs - 1)) != 0 || c->dim % gs != 0 || c->hidden_dim % gs != 0)
		return sv_err_set(
		    err, "invalid_value", "group_size",
		    "%s cannot be quantized in groups of %d: the group size must be a "
		    "power of two from 4 that divides dim (%d) and hidden_dim (%d)",
		    path, gs, c->dim, c->hidden_dim);
	return gs;
}

/* Replaces m's fp32 weights by int8 ones in one owned buffer, norms
 * copied in too, and lets the file go. */
static int quantize_loaded(struct lm_model *m, int asked, const char *path, struct sv_err *err)
{
	int gs = pick_group_size(&m->cfg, asked, path, err);
	if (gs < 0)
		return -1;
	struct lm_config *c = &m->cfg;
	size_t norm_floats = (2 * (size_t)c->n_layers + 1) * (size_t)c->dim;
	size_t nmat;
	struct lm_tensor **mats = matrices_of(m, &nmat);
	if (!mats)
		return sv_err_set(err, "nomem", "", "out of memory");
	size_t total = norm_floats * sizeof(float);
	for (size_t i = 0; i < nmat; i++)
		total += q8_bytes(mats[i], gs);
	char *buf = malloc(total);
	if (!buf) {
		free(mats);
		return sv_err_set(err, "nomem", "", "out of memory for the int8 weights");
	}
	float *norms = (float *)(void *)buf;
	for (int l = 0; l < c->n_layers; l++) {
		float *a = norms + (size_t)(2 * l) * (size_t)c->dim, *f = a + c->dim;
		memcpy(a, m->layers[l].rms_att, sizeof(float) * (size_t)c->dim);
		memcpy(f, m->layers[l].rms_ffn, sizeof(float) * (size_t)c->dim);
		m->layers[l].rms_att = a;
		m->layers[l].rms_ffn = f;
	}
	float *fin = norms + (size_t)(2 * c->n_layers) * (size_t)c->dim;
	memcpy(fin, m->rms_final, sizeof(float) * (size_t)c->dim);
	m->rms_final = fin;
	char *p = buf + norm_floats * sizeof(float);
	for (size_t i = 0; i < nmat; i++) {
		struct lm_tensor t = quantize_into(p, mats[i], gs);
		p += q8_bytes(mats[i], gs);
		*mats[i] = t;
	}
	if (c->shared_classifier)
		m->cls = m->embed;
	free(mats);
	c->group_size = gs;
	m->owned = buf;
	munmap(m->map, m->map_len);
	m->map = NULL;
	return 0;
}

/* Makes every int8 matrix's bias table (see struct lm_tensor): a pass
 * over the weights at load instead of one per step. */
static int add_biases(struct lm_model *m, struct sv_err *err)
{
	size_t nmat, total = 0;
	struct lm_tensor **mats = matrices_of(m, &nmat);
	if (!mats)
		return sv_err_set(err, "nomem", "", "out of memory");
	for (size_t i = 0; i < nmat; i++)
		total += (size_t)mats[i]->rows * (size_t)(mats[i]->cols / mats[i]->group_size);
	if (total == 0) {
		/* Not for a checked shape (every matrix has a group); nothing to
		 * tabulate, and malloc(0) need not return a usable pointer. */
		free(mats);
		return 0;
	}
	int32_t *p = m->biases = malloc(total * sizeof *p);
	if (!p) {
		free(mats);
		return sv_err_set(err, "nomem", "", "out of memory for the int8 bias tables");
	}
	for (size_t i = 0; i < nmat; i++) {
		lm_tensor_bias(p, mats[i]);
		mats[i]->bias = p;
		p += (size_t)mats[i]->rows * (size_t)(mats[i]->cols / mats[i]->group_size);
	}
	if (m->cfg.shared_classifier)
		m->cls = m->embed;
	free(mats);
	return 0;
}

/* ---- opening ---- */

static int map_file(const char *path, void **map, size_t *len, struct sv_err *err)
{
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return sv_err_set(err, "io", "model", "cannot open %s: %s", path, strerror(errno));
	struct stat st;
	int rc = fstat(fd, &st);
	if (rc < 0 || !S_ISREG(st.st_mode) || st.st_size == 0) {
		close(fd);
		return rc < 0 ? sv_err_set(err, "io", "model", "cannot read %s: %s", path,
		                           strerror(errno))
		              : invalid(err, path, "not a regular, non-empty file");
	}
	*len = (size_t)st.st_size;
	*map = mmap(NULL, *len, PROT_READ, MAP_PRIVATE, fd, 0);
	close(fd);
	if (*map == MAP_FAILED)
		return sv_err_set(err, "io", "model", "cannot map %s: %s", path, strerror(errno));
	return 0;
}

int lm_model_open(const char *path, const struct lm_open_options *opt, struct lm_model **out,
                  struct sv_err *err)
{
	*out = NULL;
	struct lm_model *m = calloc(1, sizeof *m);
	if (!m) {
		sv_err_set(err, "nomem", "", "out of memory");
		return -1;
	}
	if (map_file(path, &m->map, &m->map_len, err) < 0) {
		free(m);
		return -1;
	}
	int q8 = read_header(m, m->map, m->map_len, path, err);
	if (q8 < 0) {
		lm_model_free(m);
		return -1;
	}
	/* read_header checked n_layers >= 1. */
	if (!(m->layers = calloc((size_t)m->cfg.n_layers, sizeof *m->layers))) {
		sv_err_set(err, "nomem", "", "out of memory");
		lm_model_free(m);
		return -1;
	}
	if (q8)
		lay_q8(m, m->map);
	else
		lay_legacy(m, m->map);
	if ((!q8 && opt && opt->int8 && quantize_loaded(m, opt->group_size, path, err) < 0) ||
	    (m->cfg.group_size && add_biases(m, err) < 0)) {
		lm_model_free(m);
		return -1;
	}
	/* Decoding reads every weight in order for each token: read ahead. */
	if (m->map)
		madvise(m->map, m->map_len, MADV_WILLNEED);
	*out = m;
	return 0;
}

void lm_model_free(struct lm_model *m)
{
	if (!m)
		return;
	if (m->map)
		munmap(m->map, m->map_len);
	free(m->owned);
	free(m->biases);
	free(m->layers);
	free(m);
}

const struct lm_config *lm_model_config(const struct lm_model *m)
{
	return &m->cfg;
}

static size_t tensor_bytes(const struct lm_tensor *t)
{
	size_t n = (size_t)t->rows * (size_t)t->cols;
	return t->f ? n * sizeof(float) : n + sizeof(float) * (n / (size_t)t->group_size);
}

size_t lm_model_weight_bytes(const struct lm_model *m)
{
	size_t total = tensor_bytes(&m->cls);
	for (int l = 0; l < m->cfg.n_layers; l++)
		for (size_t s = 0; s < NSLOTS; s++)
			total += tensor_bytes(slot_of(&m->layers[l], s));
	return total;
}

/* ---- writing an int8 file ---- */

static int write_all(FILE *f, const void *p, size_t n)
{
	return fwrite(p, 1, n, f) == n ? 0 : -1;
}

static int write_q8(FILE *f, struct lm_model *m, int gs)
{
	const struct lm_config *c = &m->cfg;
	char header[Q8_HEADER] = {0};
	uint32_t magic = Q8_MAGIC;
	int32_t fields[9] = {Q8_VERSION,    c->dim,     c->hidden_dim,
	                     c->n_layers,   c->n_heads, c->n_kv_heads,
	                     c->vocab_size, c->seq_len, 0};
	memcpy(header, &magic, 4);
	memcpy(header + 4, fields, 8 * sizeof(int32_t));
	header[36] = c->shared_classifier ? 1 : 0;
	int32_t g = gs;
	memcpy(header + 37, &g, 4);
	int rc = write_all(f, header, sizeof header);
	size_t dim = (size_t)c->dim * sizeof(float);
	for (int l = 0; rc == 0 && l < c->n_layers; l++)
		rc = write_all(f, m->layers[l].rms_att, dim);
	for (int l = 0; rc == 0 && l < c->n_layers; l++)
		rc = write_all(f, m->layers[l].rms_ffn, dim);
	if (rc == 0)
		rc = write_all(f, m->rms_final, dim);
	size_t nmat = 0;
	struct lm_tensor **mats = rc == 0 ? matrices_of(m, &nmat) : NULL;
	if (rc == 0 && !mats) {
		errno = ENOMEM;
		rc = -1;
	}
	char *buf = NULL;
	for (size_t i = 0; rc == 0 && i < nmat; i++) {
		size_t bytes = q8_bytes(mats[i], gs);
		char *grown = realloc(buf, bytes);
		if (!grown) {
			rc = -1;
			errno = ENOMEM;
			break;
		}
		buf = grown;
		quantize_into(buf, mats[i], gs);
		rc = write_all(f, buf, bytes);
	}
	free(buf);
	free(mats);
	return rc;
}

int lm_model_quantize(const char *in, const char *out, int group_size, struct sv_err *err)
{
	struct lm_model *m;
	if (lm_model_open(in, NULL, &m, err) < 0)
		return -1;
	if (m->cfg.group_size) {
		lm_model_free(m);
		return sv_err_set(err, "invalid_value", "model", "%s is already int8", in);
	}
	int gs = pick_group_size(&m->cfg, group_size, in, err);
	if (gs < 0) {
		lm_model_free(m);
		return -1;
	}
	size_t tmplen = strlen(out) + 16;
	char *tmp = malloc(tmplen);
	FILE *f = NULL;
	if (tmp) {
		snprintf(tmp, tmplen, "%s.tmp%d", out, (int)getpid());
		f = fopen(tmp, "wb");
	}
	int rc = f ? write_q8(f, m, gs) : -1;
	int saved = errno;
	if (f && (fflush(f) != 0 || fsync(fileno(f)) != 0))
		rc = -1, saved = errno;
	if (f && fclose(f) != 0 && rc == 0)
		rc = -1, saved = errno;
	if (rc == 0 && rename(tmp, out) != 0)
		rc = -1, saved = errno;
	if (rc < 0) {
		if (f)
			unlink(tmp);
		sv_err_set(err, "io", "out", "cannot write %s: %s", out,
		           strerror(tmp ? saved : ENOMEM));
	}
	free(tmp);
	lm_model_free(m);
	return rc;
}
