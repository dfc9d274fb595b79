/* Fuzzes the moderator: any bytes as text to check and to soften, at every
 * age. Matches must lie inside the text, softening must map every offset
 * into the softened text in order, and a text with nothing to soften must
 * come back unchanged. */
#include "moderate/moderate.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static struct sv_moderator *mod;

static void check_matches(const struct sv_moderate_result *r, size_t size)
{
	for (size_t i = 0; i < r->nmatches; i++)
		if (r->matches[i].start >= r->matches[i].end || r->matches[i].end > size)
			abort();
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	if (!mod && !(mod = sv_moderate_new("en", NULL)))
		abort();
	static const char *const ages[] = {"3-5", "6-8", "9-12"};
	const char *text = (const char *)data;
	struct sv_buf out;
	sv_buf_init(&out);
	for (size_t a = 0; a < 3; a++) {
		struct sv_moderate_result r;
		struct sv_err err;
		if (sv_moderate_check(mod, text, size, ages[a], &r, &err) < 0)
			continue;
		check_matches(&r, size);
		struct sv_moderate_softened edits;
		if (sv_moderate_soften(mod, text, size, ages[a], a == 1 ? SV_MODERATE_OURS : 0,
		                       &out, &edits, &r, &err) < 0)
			continue;
		check_matches(&r, out.len);
		if (edits.nedits == 0 &&
		    (out.len != size || (size && memcmp(out.data, text, size))))
			abort();
		size_t last = 0;
		for (size_t at = 0; at <= size; at++) {
			size_t to = sv_moderate_softened_offset(&edits, at);
			if (to < last || to > out.len)
				abort();
			last = to;
		}
	}
	sv_buf_free(&out);
	return 0;
}
