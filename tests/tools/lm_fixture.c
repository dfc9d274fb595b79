/*
 * storyverse-lm-fixture: writes a random llama2.c checkpoint (and
 * optionally a tokenizer.bin) of a given shape, for benchmarks and manual
 * runs of the lm engine. The same arguments and seed give the same bytes.
 */
#include "lm_support.h"

#include <errno.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: storyverse-lm-fixture --dim N --hidden N --layers N --heads N --kv-heads N "
    "--vocab N --seq-len N [--unshared] [--seed N] --model OUT [--tokenizer OUT]";

static int bad(const char *what, const char *arg)
{
	fprintf(stderr, "storyverse-lm-fixture: %s%s%s (%s)\n", what, arg ? ": " : "",
	        arg ? arg : "", "see --help");
	return 2;
}

static int parse_int(const char *s, int *out)
{
	char *end;
	errno = 0;
	long v = strtol(s, &end, 10);
	if (errno || end == s || *end || v <= 0 || v > INT_MAX)
		return -1;
	*out = (int)v;
	return 0;
}

int main(int argc, char **argv)
{
	struct lm_config c = {.shared_classifier = true};
	uint64_t seed = 1;
	const char *model = NULL, *tokenizer = NULL;
	struct {
		const char *flag;
		int *value;
	} ints[] = {
	    {"--dim", &c.dim},         {"--hidden", &c.hidden_dim},   {"--layers", &c.n_layers},
	    {"--heads", &c.n_heads},   {"--kv-heads", &c.n_kv_heads}, {"--vocab", &c.vocab_size},
	    {"--seq-len", &c.seq_len},
	};
	const size_t n_ints = sizeof(ints) / sizeof(ints[0]);
	for (int i = 1; i < argc; i++) {
		const char *a = argv[i];
		if (strcmp(a, "--help") == 0 || strcmp(a, "-h") == 0) {
			puts(usage);
			return 0;
		}
		if (strcmp(a, "--unshared") == 0) {
			c.shared_classifier = false;
			continue;
		}
		if (i + 1 >= argc)
			return bad("missing value or unknown option", a);
		const char *v = argv[++i];
		bool known = false;
		for (size_t k = 0; k < n_ints; k++) {
			if (strcmp(a, ints[k].flag) == 0) {
				if (parse_int(v, ints[k].value) < 0)
					return bad("expected a positive integer after", a);
				known = true;
			}
		}
		if (known)
			continue;
		if (strcmp(a, "--seed") == 0) {
			char *end;
			errno = 0;
			seed = strtoull(v, &end, 10);
			if (errno || end == v || *end || v[0] == '-')
				return bad("expected an unsigned integer after", a);
		} else if (strcmp(a, "--model") == 0) {
			model = v;
		} else if (strcmp(a, "--tokenizer") == 0) {
			tokenizer = v;
		} else {
			return bad("unknown option", a);
		}
	}
	for (size_t k = 0; k < n_ints; k++)
		if (*ints[k].value == 0)
			return bad("missing", ints[k].flag);
	if (!model)
		return bad("missing", "--model");
	if (c.dim % c.n_heads || c.n_heads % c.n_kv_heads || (c.dim / c.n_heads) % 2)
		return bad("impossible shape: need dim divisible by heads, heads by kv-heads, "
		           "and an even head size",
		           NULL);
	if (tokenizer && c.vocab_size < 3 + 256 + 95)
		return bad("a tokenizer needs --vocab of at least 354", NULL);

	if (lm_support_write_model(model, &c, seed) < 0) {
		fprintf(stderr, "storyverse-lm-fixture: cannot write %s: %s\n", model,
		        strerror(errno));
		return 1;
	}
	if (tokenizer && lm_support_write_tokenizer(tokenizer, c.vocab_size, seed) < 0) {
		fprintf(stderr, "storyverse-lm-fixture: cannot write %s: %s\n", tokenizer,
		        strerror(errno));
		return 1;
	}
	return 0;
}
