/*
 * The local provider: a request's lead is continued by our own engine,
 * through the batcher, so every story being written at once shares each
 * step of the model.
 */
#include "textgen/textgen.h"

#include <stdlib.h>

struct local {
	struct lm_batcher *batcher; /* borrowed */
};

void *sv_textgen_local_new(struct lm_batcher *b, struct sv_err *err)
{
	struct local *l = calloc(1, sizeof *l);
	if (!l) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	l->batcher = b;
	return l;
}

static int append_piece(void *ctx, const char *piece)
{
	return sv_buf_puts(ctx, piece) < 0 ? 1 : 0;
}

static int local_write(void *self, const struct sv_textgen_request *r, struct sv_buf *out,
                       struct sv_err *err)
{
	struct local *l = self;
	struct lm_request req = {
	    .prompt = r->lead ? r->lead : "",
	    .max_tokens = r->max_tokens,
	    .temperature = (float)r->temperature,
	    .top_p = (float)r->top_p,
	    .seed = r->seed,
	    .on_piece = append_piece,
	    .ctx = out,
	};
	struct lm_result res;
	return lm_batcher_run(l->batcher, &req, &res, err);
}

static void local_free(void *self)
{
	free(self);
}

const struct sv_textgen_ops sv_textgen_local_ops = {"local", local_write, local_free};
