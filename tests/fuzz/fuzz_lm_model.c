/* Fuzzes the checkpoint loader: any bytes as a model file (fp32 legacy or
 * int8 "ak42"), opened as it is and quantized on load; what opens must run a
 * step on the reference path. The bytes go through a memory file so the
 * real open-and-map path is the one fuzzed. */
#include "lm/lm.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

static bool expected(const struct sv_err *err)
{
	return strcmp(err->code, "invalid_model") == 0 || strcmp(err->code, "invalid_value") == 0;
}

static void run_one_step(const struct lm_model *m)
{
	struct sv_err err;
	struct lm_engine *e = lm_engine_new(m, 1, LM_KERNELS_REFERENCE, &err);
	struct lm_stream *s = e ? lm_stream_new(e, &err) : NULL;
	if (!e || !s)
		abort();
	int token = LM_TOKEN_BOS;
	if (lm_engine_step(e, &s, &token, 1, &err) < 0)
		abort();
	lm_stream_free(s);
	lm_engine_free(e);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	static int fd = -1;
	static char path[64];
	if (fd < 0) {
		fd = memfd_create("lm-model", 0);
		if (fd < 0)
			abort();
		snprintf(path, sizeof path, "/proc/self/fd/%d", fd);
	}
	if (ftruncate(fd, 0) < 0 || (size && pwrite(fd, data, size, 0) != (ssize_t)size))
		abort();
	for (int int8 = 0; int8 < 2; int8++) {
		struct lm_open_options o = {.int8 = int8};
		struct lm_model *m = NULL;
		struct sv_err err;
		if (lm_model_open(path, &o, &m, &err) < 0) {
			if (!expected(&err))
				abort();
			continue;
		}
		run_one_step(m);
		lm_model_free(m);
	}
	return 0;
}
