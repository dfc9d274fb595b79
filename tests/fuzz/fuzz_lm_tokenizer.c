/* Fuzzes the tokenizer.bin parser: any bytes as a tokenizer (the first two
 * choose the vocabulary size); what parses must encode and decode. */
#include "lm/lm.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (size < 2)
		return 0;
	/* 3..514 tokens: BOS and EOS need three, and byte fallback past 259
	 * needs more. */
	int vocab = 3 + (int)((data[0] | (unsigned)data[1] << 8) % 512);
	struct lm_tokenizer *t = NULL;
	struct sv_err err;
	if (lm_tokenizer_parse(data + 2, size - 2, vocab, &t, &err) < 0) {
		if (strcmp(err.code, "invalid_tokenizer") != 0)
			abort();
		return 0;
	}
	static const char *const texts[] = {"", "a", "Once upon a time, the cat sat.",
	                                    "caf\xc3\xa9 \xe2\x98\x83\n\xff\x80 ab ab"};
	for (size_t i = 0; i < sizeof(texts) / sizeof(texts[0]); i++) {
		int tokens[64];
		int n = lm_tokenizer_encode(t, texts[i], true, true, tokens, 64, &err);
		if (n < 0 && strcmp(err.code, "limit") != 0)
			abort();
		int prev = -1;
		for (int k = 0; k < n; k++) {
			if (tokens[k] < 0 || tokens[k] >= vocab)
				abort();
			const char *s = lm_tokenizer_decode(t, prev, tokens[k]);
			if (!s)
				abort();
			(void)strlen(s);
			prev = tokens[k];
		}
	}
	/* Out-of-range ids decode to "". */
	if (lm_tokenizer_decode(t, 1, vocab)[0] || lm_tokenizer_decode(t, 1, -1)[0])
		abort();
	lm_tokenizer_free(t);
	return 0;
}
