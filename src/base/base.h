/*
 * base: the small things every module needs and nothing else provides.
 *
 * Growable strings (sv_buf), structured errors (sv_err), JSON-lines logging,
 * a seeded deterministic random generator, clocks, random ids, a metrics
 * registry that renders the Prometheus text format, and the files embedded
 * into the binary at build time (catalog data, web page).
 *
 * Nothing here knows about stories, HTTP or storage.
 */
#ifndef SV_BASE_H
#define SV_BASE_H

#include <jansson.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SV_VERSION "0.1.0"

/* ---- growable byte buffer; always NUL-terminated; owner calls sv_buf_free ---- */
struct sv_buf {
	char *data;
	size_t len;
	size_t cap;
};

void sv_buf_init(struct sv_buf *b);
void sv_buf_free(struct sv_buf *b);
/* The append functions return 0, or -1 when memory runs out (the buffer is unchanged). */
int sv_buf_append(struct sv_buf *b, const void *data, size_t len);
int sv_buf_puts(struct sv_buf *b, const char *s);
int sv_buf_printf(struct sv_buf *b, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
int sv_buf_vprintf(struct sv_buf *b, const char *fmt, va_list ap);
/* Appends s escaped for an HTML text node or attribute value. */
int sv_buf_html(struct sv_buf *b, const char *s);
/* Hands the bytes to the caller (free() them) and leaves b empty. */
char *sv_buf_steal(struct sv_buf *b);

/* ---- errors: a machine code, the offending field (may be empty), a sentence ---- */
struct sv_err {
	char code[32];  /* e.g. "invalid_json", "unknown_id", "invalid_value", "io" */
	char field[48]; /* the input field at fault, "" when none */
	char message[400];
};

void sv_err_clear(struct sv_err *e);
/* Fills e (which may be NULL). */
void sv_err_fill(struct sv_err *e, const char *code, const char *field, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
/* Fills e and is -1, so callers can `return sv_err_set(...)`: a macro, so
 * that the -1 is plain to the compiler and the static analyzer too. */
#define sv_err_set(e, code, field, ...)                                                            \
	({                                                                                         \
		sv_err_fill((e), (code), (field), __VA_ARGS__);                                    \
		-1;                                                                                \
	})

/* ---- UTF-8 (buf.c) ---- */
/* The length of the valid UTF-8 sequence at s (left bytes available), or 0
 * when it is not one (overlong forms, surrogates and code points past
 * U+10FFFF are not). */
size_t sv_utf8_len(const unsigned char *s, size_t left);
/* Appends s (len bytes) with every byte that is not part of a valid
 * sequence replaced by U+FFFD. */
int sv_buf_utf8(struct sv_buf *b, const char *s, size_t len);

/* ---- libcurl: its global set-up, once, before any request (curl.c) ---- */
/* 0, or -1 with err filled ("internal", naming field). */
int sv_curl_init(const char *field, struct sv_err *err);

/* ---- logging: one JSON object per line on stderr ---- */
enum sv_log_level { SV_LOG_DEBUG, SV_LOG_INFO, SV_LOG_WARN, SV_LOG_ERROR };

void sv_log_set_level(enum sv_log_level level);
/* Parses "debug|info|warn|error"; returns -1 on anything else. */
int sv_log_parse_level(const char *s, enum sv_log_level *out);
/* Writes {"ts","level","msg",...fields}. Steals the reference to fields (may be NULL). */
void sv_log(enum sv_log_level level, const char *msg, json_t *fields);

/* ---- deterministic random numbers (splitmix64 seeding a xoshiro256**) ---- */
struct sv_rng {
	uint64_t s[4];
};

void sv_rng_seed(struct sv_rng *r, uint64_t seed);
uint64_t sv_rng_next(struct sv_rng *r);
/* Uniform in [0, n); n must be > 0. */
uint32_t sv_rng_below(struct sv_rng *r, uint32_t n);
/* Uniform in [0, 1), 53 bits. */
double sv_rng_unit(struct sv_rng *r);
/* Uniform in [lo, hi). */
double sv_rng_range(struct sv_rng *r, double lo, double hi);
/* A stable 64-bit hash of bytes (FNV-1a), for deriving seeds from strings. */
uint64_t sv_hash64(const void *data, size_t len, uint64_t seed);

/* ---- time ---- */
int64_t sv_time_unix_ms(void);
int64_t sv_time_mono_ns(void);

/* Writes 2*nbytes lowercase hex characters of OS randomness plus NUL into out. */
int sv_random_hex(char *out, size_t nbytes);

/* ---- metrics registry (thread-safe) ---- */
struct sv_metrics;

struct sv_metrics *sv_metrics_new(void);
void sv_metrics_free(struct sv_metrics *m);
/* Declares a family once; help and type ("counter", "gauge", "histogram") go in # HELP/# TYPE. */
int sv_metrics_declare(struct sv_metrics *m, const char *name, const char *type, const char *help);
/* labels is a Prometheus label set without braces, e.g. `route="/x",status="200"`, or "". */
void sv_metrics_add(struct sv_metrics *m, const char *name, const char *labels, double delta);
void sv_metrics_set(struct sv_metrics *m, const char *name, const char *labels, double value);
/* Histograms use fixed latency buckets in seconds. */
void sv_metrics_observe(struct sv_metrics *m, const char *name, const char *labels, double value);
/* Appends the whole registry in the Prometheus text exposition format. */
int sv_metrics_render(struct sv_metrics *m, struct sv_buf *out);

/* ---- files embedded at build time (data/, web/) ---- */
struct sv_asset {
	const char *name; /* path relative to the repository root, e.g. "web/index.html" */
	const unsigned char *data;
	size_t len;
};

/* Returns the asset or NULL. The data is static and not NUL-terminated. */
const struct sv_asset *sv_asset_find(const char *name);
/* All assets, terminated by an entry whose name is NULL. */
const struct sv_asset *sv_asset_all(void);

#endif
