/*
 * The Aho–Corasick automaton over normalised bytes: every lexicon term and
 * allowed phrase, built once into a dense transition table so a scan costs
 * one table look-up per byte. Bytes that occur in no pattern share one class,
 * which keeps the table small.
 */
#include "moderate/internal.h"

#include <stdlib.h>
#include <string.h>

struct sv_ac {
	uint8_t cls[256];  /* byte -> class; 0 for bytes in no pattern */
	size_t ncls;       /* classes, 0 included */
	int32_t *delta;    /* [state * ncls + class] -> state, while building */
	uint16_t *delta16; /* the same, when every state fits in 16 bits (half the cache) */
	size_t nstates;
	uint32_t *out_off; /* [state], into out: the patterns ending here */
	uint32_t *out_len; /* [state] */
	uint32_t *out;
	size_t npat;
	size_t *plen;
	uint8_t **prun;  /* each pattern's run lengths */
	uint8_t *within; /* [pattern]: found inside words too (enum sv_ac_within) */
	bool *swithin;   /* [state]: some pattern ending here is found inside words */
};

void sv_moderate_ac_free(struct sv_ac *ac)
{
	if (!ac)
		return;
	free(ac->delta);
	free(ac->delta16);
	free(ac->out_off);
	free(ac->out_len);
	free(ac->out);
	if (ac->prun)
		for (size_t i = 0; i < ac->npat; i++)
			free(ac->prun[i]);
	free(ac->prun);
	free(ac->plen);
	free(ac->within);
	free(ac->swithin);
	free(ac);
}

/* Numbers the states breadth first, root first: text spends most of its
 * steps in shallow states, which then share cache lines. bfs holds every
 * state but the root, in breadth-first order. */
static int renumber(struct sv_ac *ac, const uint32_t *bfs, size_t nbfs)
{
	size_t n = ac->nstates, ncls = ac->ncls;
	uint32_t *id = malloc(n * sizeof(*id));
	int32_t *delta = malloc(n * ncls * sizeof(*delta));
	uint32_t *off = malloc(n * sizeof(*off)), *cnt = malloc(n * sizeof(*cnt));
	if (!id || !delta || !off || !cnt || nbfs + 1 != n) {
		free(id);
		free(delta);
		free(off);
		free(cnt);
		return -1;
	}
	id[0] = 0;
	for (size_t k = 0; k < nbfs; k++)
		id[bfs[k]] = (uint32_t)(k + 1);
	for (size_t old = 0; old < n; old++) {
		size_t to = id[old];
		for (size_t c = 0; c < ncls; c++)
			delta[to * ncls + c] = (int32_t)id[ac->delta[old * ncls + c]];
		off[to] = ac->out_off[old];
		cnt[to] = ac->out_len[old];
	}
	free(id);
	free(ac->delta);
	free(ac->out_off);
	free(ac->out_len);
	ac->delta = delta;
	if (n <= UINT16_MAX + 1 && (ac->delta16 = malloc(n * ncls * sizeof(*ac->delta16)))) {
		for (size_t k = 0; k < n * ncls; k++)
			ac->delta16[k] = (uint16_t)delta[k];
		free(ac->delta);
		ac->delta = NULL;
	}
	ac->out_off = off;
	ac->out_len = cnt;
	return 0;
}

struct sv_ac *sv_moderate_ac_build(size_t npat, char *const *text, uint8_t *const *run,
                                   const size_t *len, const uint8_t *within)
{
	struct sv_ac *ac = calloc(1, sizeof(*ac));
	if (!ac)
		return NULL;
	ac->npat = npat;
	ac->plen = calloc(npat ? npat : 1, sizeof(*ac->plen));
	ac->prun = calloc(npat ? npat : 1, sizeof(*ac->prun));
	ac->within = calloc(npat ? npat : 1, sizeof(*ac->within));
	if (!ac->plen || !ac->prun || !ac->within)
		goto fail;
	if (within)
		memcpy(ac->within, within, npat * sizeof(*within));
	size_t total = 1;
	ac->ncls = 1;
	for (size_t i = 0; i < npat; i++) {
		ac->plen[i] = len[i];
		ac->prun[i] = malloc(len[i] ? len[i] : 1);
		if (!ac->prun[i])
			goto fail;
		memcpy(ac->prun[i], run[i], len[i]);
		total += len[i];
		for (size_t k = 0; k < len[i]; k++) {
			unsigned char b = (unsigned char)text[i][k];
			if (!ac->cls[b])
				ac->cls[b] = (uint8_t)ac->ncls++;
			if (ac->ncls > 255)
				goto fail;
		}
	}
	/* The trie: at most one state per pattern byte, plus the root. -1 is "no edge". */
	ac->delta = malloc(total * ac->ncls * sizeof(*ac->delta));
	int32_t *fail_link = calloc(total, sizeof(*fail_link));
	uint32_t *ends = calloc(total, sizeof(*ends)); /* patterns ending here, counted */
	uint32_t *queue = malloc(total * sizeof(*queue));
	ac->out_off = calloc(total, sizeof(*ac->out_off));
	ac->out_len = calloc(total, sizeof(*ac->out_len));
	if (!ac->delta || !fail_link || !ends || !queue || !ac->out_off || !ac->out_len) {
		free(fail_link);
		free(ends);
		free(queue);
		goto fail;
	}
	memset(ac->delta, 0xff, total * ac->ncls * sizeof(*ac->delta));
	size_t nstates = 1;
	int32_t *term_state = malloc((npat ? npat : 1) * sizeof(*term_state));
	if (!term_state) {
		free(fail_link);
		free(ends);
		free(queue);
		goto fail;
	}
	for (size_t i = 0; i < npat; i++) {
		int32_t s = 0;
		for (size_t k = 0; k < len[i]; k++) {
			size_t c = ac->cls[(unsigned char)text[i][k]];
			int32_t *t = &ac->delta[(size_t)s * ac->ncls + c];
			if (*t < 0)
				*t = (int32_t)nstates++;
			s = *t;
		}
		term_state[i] = s;
	}
	ac->nstates = nstates;
	/* Breadth first: fail links, and the missing edges filled in from them. */
	size_t qh = 0, qt = 0;
	fail_link[0] = 0;
	for (size_t c = 0; c < ac->ncls; c++) {
		int32_t *t = &ac->delta[c];
		if (*t < 0) {
			*t = 0;
		} else {
			fail_link[*t] = 0;
			queue[qt++] = (uint32_t)*t;
		}
	}
	while (qh < qt) {
		uint32_t s = queue[qh++];
		for (size_t c = 0; c < ac->ncls; c++) {
			int32_t *t = &ac->delta[(size_t)s * ac->ncls + c];
			int32_t f = ac->delta[(size_t)fail_link[s] * ac->ncls + c];
			if (*t < 0) {
				*t = f;
			} else {
				fail_link[*t] = f;
				queue[qt++] = (uint32_t)*t;
			}
		}
	}
	/* Outputs: a state reports its own patterns and those of its fail chain. */
	for (size_t i = 0; i < npat; i++)
		ends[term_state[i]]++;
	size_t nout = 0;
	for (size_t s = 0; s < nstates; s++)
		for (int32_t f = (int32_t)s;; f = fail_link[f]) {
			nout += ends[f];
			if (f == 0)
				break;
		}
	ac->out = malloc((nout ? nout : 1) * sizeof(*ac->out));
	if (!ac->out) {
		free(fail_link);
		free(ends);
		free(queue);
		free(term_state);
		goto fail;
	}
	size_t o = 0;
	for (size_t s = 0; s < nstates; s++) {
		ac->out_off[s] = (uint32_t)o;
		for (int32_t f = (int32_t)s;; f = fail_link[f]) {
			if (ends[f])
				for (size_t i = 0; i < npat; i++)
					if (term_state[i] == f)
						ac->out[o++] = (uint32_t)i;
			if (f == 0)
				break;
		}
		ac->out_len[s] = (uint32_t)(o - ac->out_off[s]);
	}
	free(fail_link);
	free(ends);
	free(term_state);
	int rc = renumber(ac, queue, qt);
	free(queue);
	if (rc < 0 || !(ac->swithin = calloc(ac->nstates, sizeof(*ac->swithin))))
		goto fail;
	for (size_t st = 0; st < ac->nstates; st++)
		for (uint32_t k = 0; k < ac->out_len[st]; k++)
			ac->swithin[st] |= ac->within[ac->out[ac->out_off[st] + k]] != SV_AC_WHOLE;
	return ac;
fail:
	sv_moderate_ac_free(ac);
	return NULL;
}

/* A letter the pattern has once may appear once or stretched (3+ times, the
 * evasion), but not doubled, which is another word ("as" is not "ass"); a
 * doubled letter needs at least two, a tripled one three ("kk" is "ok"). */
static bool runs_fit(const uint8_t *pr, const uint8_t *tr, size_t len)
{
	for (size_t k = 0; k < len; k++) {
		if (pr[k] >= 2 ? tr[k] < (pr[k] > 3 ? 3 : pr[k]) : tr[k] == 2)
			return false;
	}
	return true;
}

int sv_moderate_ac_scan(const struct sv_ac *ac, const struct sv_norm *n, sv_ac_hit_fn hit,
                        void *ctx)
{
	const unsigned char *t = (const unsigned char *)n->text;
	const int32_t *delta = ac->delta;
	const uint16_t *delta16 = ac->delta16;
	const size_t ncls = ac->ncls;
	int32_t s = 0;
	for (size_t i = 0; i < n->len; i++) {
		size_t at = (size_t)s * ncls + ac->cls[t[i]];
		s = delta16 ? delta16[at] : delta[at];
		uint32_t cnt = ac->out_len[s];
		if (!cnt)
			continue;
		/* Whole words only, but for the few found inside words: every
		 * non-space byte of the normalised text is a word byte. */
		bool word_end = i + 1 == n->len || t[i + 1] == ' ';
		if (!word_end && !ac->swithin[s])
			continue;
		const uint32_t *o = &ac->out[ac->out_off[s]];
		for (uint32_t k = 0; k < cnt; k++) {
			size_t p = o[k], l = ac->plen[p];
			size_t st = i + 1 - l;
			bool word_start = st == 0 || t[st - 1] == ' ';
			/* Begun by it, a word is a swear's compound when what follows
			 * starts with a consonant (or e, y: "shite", "shitty");
			 * "Shitij", "Shitanshu" are names. */
			unsigned char next = word_end ? 0 : t[i + 1];
			bool compound = !(next == 'a' || next == 'i' || next == 'o' || next == 'u');
			if (ac->within[p] == SV_AC_WHOLE  ? !(word_start && word_end)
			    : ac->within[p] == SV_AC_EDGE ? !((word_start && compound) || word_end)
			                                  : false)
				continue;
			if (!runs_fit(ac->prun[p], &n->run[st], l))
				continue;
			int rc = hit(p, st, i + 1, ctx);
			if (rc)
				return rc;
		}
	}
	return 0;
}
