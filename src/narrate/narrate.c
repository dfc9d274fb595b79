/*
 * A story read aloud, page by page. Each page's text is cut at its speaker
 * spans: the quoted words go to the speaker's voice, everything else to the
 * narrator's. The synthesiser's word events become the page's timings
 * (byte offsets into the page's text, milliseconds into its audio). Pages
 * get a moment of quiet before and after, a music bed for their mood ducked
 * under the voice, and are brought to the same loudness; each is encoded on
 * its own (for read-along) and all of them together as the story's file,
 * a chapter per page.
 */
#include "narrate/narrate.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define TARGET_LUFS (-16.0)
#define MUSIC_DB    (-20.0) /* the bed under the voice */
#define DUCK_DB     (-10.0) /* and further down while someone speaks */
#define LEAD_MS     400     /* quiet before a page's first word */
#define TAIL_MS     800     /* and after its last */
#define SEGMENT_MS  150     /* between a line of speech and the narration around it */
#define YOUNG_PACE  85      /* percent of the usual pace for ages 3-5 */
#define SLEEPY_PACE 90      /* and for sleepy moods */
#define MAX_VOICES  16
#define SAME_PITCH  8  /* voices of one name closer than this sound alike */
#define PITCH_APART 14 /* how far apart such a voice is moved */

struct sv_narrator {
	const struct sv_tts_ops *tts;
	void *tts_self;
	struct sv_music *music; /* NULL: no music bed */
	bool mp3;
	char provider[16];
};

static const struct {
	const char *name;
	const struct sv_tts_ops *ops;
	void *(*open)(struct sv_err *err);
} providers[] = {
    {"espeak-ng", &sv_tts_espeak_ops, sv_tts_espeak_new},
    {"flite", &sv_tts_flite_ops, sv_tts_flite_new},
};

struct sv_narrator *sv_narrator_new(const struct sv_narrate_options *o, struct sv_err *err)
{
	const char *want = o && o->tts ? o->tts : "espeak-ng";
	size_t i = 0;
	while (i < sizeof providers / sizeof providers[0] && strcmp(providers[i].name, want) != 0)
		i++;
	if (i == sizeof providers / sizeof providers[0]) {
		sv_err_set(err, "invalid_value", "tts",
		           "unknown speech provider '%.40s' (choose "
		           "espeak-ng or flite)",
		           want);
		return NULL;
	}
	struct sv_narrator *n = calloc(1, sizeof *n);
	if (!n) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	n->tts = providers[i].ops;
	n->mp3 = o && o->mp3;
	snprintf(n->provider, sizeof n->provider, "%s", providers[i].name);
	if (!(n->tts_self = providers[i].open(err)) ||
	    (o && o->music && !(n->music = sv_music_new(o->soundfont, err)))) {
		sv_narrator_free(n);
		return NULL;
	}
	return n;
}

void sv_narrator_free(struct sv_narrator *n)
{
	if (!n)
		return;
	if (n->tts_self)
		n->tts->free(n->tts_self);
	sv_music_free(n->music);
	free(n);
}

/* ---- the cast's voices ---- */

struct voices {
	char role[MAX_VOICES][24];
	struct sv_voice voice[MAX_VOICES];
	int n; /* voice 0 is the narrator's */
};

/* Moves a voice that would sound like an earlier one (same name, pitch
 * close) up or down, so every speaker of a story is told apart. */
static void keep_apart(struct voices *v, int k)
{
	for (int tries = 0; tries < MAX_VOICES; tries++) {
		int clash = -1;
		for (int i = 0; i < k && clash < 0; i++)
			if (strcmp(v->voice[i].name, v->voice[k].name) == 0 &&
			    abs(v->voice[i].pitch - v->voice[k].pitch) < SAME_PITCH)
				clash = i;
		if (clash < 0)
			return;
		int p = v->voice[k].pitch;
		v->voice[k].pitch = p + PITCH_APART <= 95 ? p + PITCH_APART : p - 2 * PITCH_APART;
	}
}

static void cast_voices(const json_t *story, const char *provider, struct voices *v)
{
	v->n = 1;
	snprintf(v->role[0], sizeof v->role[0], "narrator");
	sv_narrate_cast(NULL, provider, &v->voice[0]);
	size_t i;
	const json_t *m;
	json_array_foreach(json_object_get(story, "cast"), i, m)
	{
		const char *role = json_string_value(json_object_get(m, "role"));
		if (!role || v->n == MAX_VOICES)
			continue;
		snprintf(v->role[v->n], sizeof v->role[v->n], "%s", role);
		sv_narrate_cast(m, provider, &v->voice[v->n]);
		keep_apart(v, v->n);
		v->n++;
	}
}

static const struct sv_voice *voice_of(const struct voices *v, const char *role)
{
	for (int i = 1; role && i < v->n; i++)
		if (strcmp(v->role[i], role) == 0)
			return &v->voice[i];
	return &v->voice[0];
}

static json_t *voices_json(const struct voices *v)
{
	json_t *o = json_object();
	for (int i = 0; i < v->n; i++)
		json_object_set_new(o, v->role[i],
		                    json_pack("{s:s,s:s,s:i,s:i,s:i}", "provider",
		                              v->voice[i].provider, "name", v->voice[i].name,
		                              "pitch", v->voice[i].pitch, "range",
		                              v->voice[i].range, "rate", v->voice[i].rate));
	return o;
}

/* ---- one page ---- */

struct page_audio {
	struct sv_pcm pcm;
	struct sv_words words; /* byte offsets into the page's text, samples into pcm */
};

static size_t ms_samples(int ms)
{
	return (size_t)ms * SV_NARRATE_RATE / 1000;
}

static bool has_word(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++)
		if ((unsigned char)s[i] >= 0x80 || (s[i] >= '0' && s[i] <= '9') ||
		    ((s[i] | 0x20) >= 'a' && (s[i] | 0x20) <= 'z'))
			return true;
	return false;
}

/* Speaks text[from, to) in voice v (its pace scaled by pace percent) onto the page. */
static int speak_part(struct sv_narrator *n, const struct sv_voice *v, int pace, const char *text,
                      size_t from, size_t to, struct page_audio *pa, struct sv_err *err)
{
	if (!has_word(text + from, to - from))
		return 0;
	char *part = strndup(text + from, to - from);
	if (!part)
		return sv_err_set(err, "nomem", "", "out of memory");
	struct sv_voice paced = *v;
	paced.rate = v->rate * pace / 100;
	if (pa->words.n && sv_pcm_silence(&pa->pcm, ms_samples(SEGMENT_MS)) < 0) {
		free(part);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	size_t base = pa->pcm.n, first = pa->words.n;
	int rc = n->tts->speak(n->tts_self, &paced, part, &pa->pcm, &pa->words, err);
	free(part);
	for (size_t i = first; rc == 0 && i < pa->words.n; i++) {
		struct sv_word *w = &pa->words.w[i];
		w->char_start += from;
		w->char_end += from;
		w->sample_start += base;
		w->sample_end += base;
	}
	return rc;
}

/* The page's text in turns: narration, then each span in its speaker's voice. */
static int speak_page(struct sv_narrator *n, const struct voices *v, int pace, const json_t *page,
                      struct page_audio *pa, struct sv_err *err)
{
	const char *text = json_string_value(json_object_get(page, "text"));
	if (!text)
		return sv_err_set(err, "invalid_value", "pages", "a page has no text");
	size_t len = strlen(text), at = 0, i;
	const json_t *span;
	int rc = sv_pcm_silence(&pa->pcm, ms_samples(LEAD_MS));
	json_array_foreach(json_object_get(page, "spans"), i, span)
	{
		json_int_t start = json_integer_value(json_object_get(span, "start"));
		json_int_t end = json_integer_value(json_object_get(span, "end"));
		if (rc < 0 || start < (json_int_t)at || end <= start || end > (json_int_t)len)
			continue; /* spans out of order or out of the text are read as narration */
		rc = speak_part(n, &v->voice[0], pace, text, at, (size_t)start, pa, err);
		if (rc == 0)
			rc = speak_part(
			    n, voice_of(v, json_string_value(json_object_get(span, "speaker"))),
			    pace, text, (size_t)start, (size_t)end, pa, err);
		at = (size_t)end;
	}
	if (rc == 0)
		rc = speak_part(n, &v->voice[0], pace, text, at, len, pa, err);
	if (rc == 0 && sv_pcm_silence(&pa->pcm, ms_samples(TAIL_MS)) < 0)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	return rc;
}

static int64_t samples_ms(size_t s)
{
	return (int64_t)((double)s * 1000.0 / SV_NARRATE_RATE + 0.5);
}

static char *timings_json(const char *text, const struct sv_words *w)
{
	json_t *words = json_array();
	for (size_t i = 0; i < w->n; i++)
		json_array_append_new(
		    words, json_pack("{s:s%,s:I,s:I,s:I,s:I}", "word", text + w->w[i].char_start,
		                     w->w[i].char_end - w->w[i].char_start, "start_ms",
		                     (json_int_t)samples_ms(w->w[i].sample_start), "end_ms",
		                     (json_int_t)samples_ms(w->w[i].sample_end), "char_start",
		                     (json_int_t)w->w[i].char_start, "char_end",
		                     (json_int_t)w->w[i].char_end));
	json_t *doc = json_pack("{s:o}", "words", words);
	char *s = doc ? json_dumps(doc, JSON_COMPACT) : NULL;
	json_decref(doc);
	return s;
}

static bool sleepy(const char *mood)
{
	static const char *const calm[] = {"sleepy", "calm", "peaceful", "dreamy", "cosy", "quiet"};
	for (size_t i = 0; mood && i < sizeof calm / sizeof calm[0]; i++)
		if (strstr(mood, calm[i]))
			return true;
	return false;
}

/* Puts a page's music under it and brings it to the story's loudness. */
static int finish_page(struct sv_narrator *n, const char *mood, uint64_t seed,
                       struct page_audio *pa, struct sv_err *err)
{
	if (n->music) {
		struct sv_pcm bed = {0};
		int rc = sv_music_render(n->music, mood ? mood : "", seed, sv_pcm_seconds(&pa->pcm),
		                         &bed, err);
		if (rc == 0)
			rc = sv_mix_under(&pa->pcm, &bed, MUSIC_DB, DUCK_DB, err);
		sv_pcm_free(&bed);
		if (rc < 0)
			return -1;
	}
	return sv_normalise(&pa->pcm, TARGET_LUFS, err);
}

static int put(sv_narrate_sink sink, void *ctx, const char *name, const char *type,
               const struct sv_buf *b, struct sv_err *err)
{
	return sink(ctx, name, type, b->data ? b->data : "", b->len, err);
}

/* Reads page i (its chapter title given), hands its files to the sink and
 * adds it to the story's audio. */
static int narrate_page(struct sv_narrator *n, const struct voices *v, int pace, json_t *page,
                        size_t i, const char *title, uint64_t seed, struct sv_pcm *story,
                        sv_narrate_sink sink, void *ctx, struct sv_err *err)
{
	const char *mood =
	    json_string_value(json_object_get(json_object_get(page, "scene"), "mood"));
	struct page_audio pa = {0};
	int rc = speak_page(n, v, sleepy(mood) ? pace * SLEEPY_PACE / 100 : pace, page, &pa, err);
	if (rc == 0)
		rc = finish_page(n, mood, sv_hash64(&i, sizeof i, seed), &pa, err);
	char name[48], timings[48];
	snprintf(name, sizeof name, "audio/page-%02zu.opus", i + 1);
	snprintf(timings, sizeof timings, "audio/page-%02zu.timings.json", i + 1);
	struct sv_chapter whole = {0, title};
	struct sv_buf opus;
	sv_buf_init(&opus);
	if (rc == 0)
		rc = sv_encode_opus(&pa.pcm, title, &whole, 1, &opus, err);
	if (rc == 0)
		rc = put(sink, ctx, name, "audio/ogg", &opus, err);
	char *tj = rc == 0
	               ? timings_json(json_string_value(json_object_get(page, "text")), &pa.words)
	               : NULL;
	if (rc == 0 && !tj)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	if (rc == 0)
		rc = sink(ctx, timings, "application/json", tj, strlen(tj), err);
	if (rc == 0 && sv_pcm_append(story, pa.pcm.s, pa.pcm.n) < 0)
		rc = sv_err_set(err, "nomem", "", "out of memory");
	if (rc == 0)
		json_object_set_new(page, "audio",
		                    json_pack("{s:s,s:s,s:I}", "file", name, "timings", timings,
		                              "duration_ms", (json_int_t)samples_ms(pa.pcm.n)));
	free(tj);
	sv_buf_free(&opus);
	sv_pcm_free(&pa.pcm);
	sv_words_free(&pa.words);
	return rc;
}

/* The whole story in one file (and MP3), a chapter per page. */
static int narrate_whole(struct sv_narrator *n, json_t *story, const struct sv_pcm *pcm,
                         const struct sv_chapter *ch, size_t nch, sv_narrate_sink sink, void *ctx,
                         struct sv_err *err)
{
	const char *title = json_string_value(json_object_get(story, "title"));
	struct sv_buf b;
	sv_buf_init(&b);
	int rc = sv_encode_opus(pcm, title ? title : "", ch, nch, &b, err);
	if (rc == 0)
		rc = put(sink, ctx, "audio/story.opus", "audio/ogg", &b, err);
	b.len = 0;
	if (rc == 0 && n->mp3 &&
	    (rc = sv_encode_mp3(pcm, title ? title : "", ch, nch, &b, err)) == 0)
		rc = put(sink, ctx, "audio/story.mp3", "audio/mpeg", &b, err);
	sv_buf_free(&b);
	return rc;
}

int sv_narrate_story(struct sv_narrator *n, json_t *story, sv_narrate_sink sink, void *ctx,
                     struct sv_err *err)
{
	json_t *pages = json_object_get(story, "pages");
	size_t npages = json_array_size(pages);
	if (npages == 0)
		return sv_err_set(err, "invalid_value", "pages", "the story has no pages to read");
	struct voices v;
	cast_voices(story, n->provider, &v);
	const json_t *params = json_object_get(story, "parameters");
	const char *age = json_string_value(json_object_get(params, "age"));
	int pace = age && strcmp(age, "3-5") == 0 ? YOUNG_PACE : 100;
	uint64_t seed = (uint64_t)json_integer_value(json_object_get(params, "seed"));
	struct sv_chapter *ch = calloc(npages, sizeof *ch);
	char(*titles)[32] = calloc(npages, sizeof *titles);
	struct sv_pcm all = {0};
	int rc = ch && titles ? 0 : sv_err_set(err, "nomem", "", "out of memory");
	for (size_t i = 0; rc == 0 && i < npages; i++) {
		snprintf(titles[i], sizeof titles[i], "Page %zu", i + 1);
		ch[i] = (struct sv_chapter){all.n, titles[i]};
		rc = narrate_page(n, &v, pace, json_array_get(pages, i), i, titles[i], seed, &all,
		                  sink, ctx, err);
	}
	if (rc == 0)
		rc = narrate_whole(n, story, &all, ch, npages, sink, ctx, err);
	if (rc == 0)
		json_object_set_new(story, "audio",
		                    json_pack("{s:s,s:s?,s:I,s:o}", "file", "audio/story.opus",
		                              "mp3", n->mp3 ? "audio/story.mp3" : NULL,
		                              "duration_ms", (json_int_t)samples_ms(all.n),
		                              "voices", voices_json(&v)));
	sv_pcm_free(&all);
	free(ch);
	free(titles);
	return rc;
}
