/*
 * narrate: a story read aloud. The narrator has one voice and every
 * speaking character a distinct one that fits its catalog entry, spoken by
 * a text-to-speech provider behind one table (espeak-ng or flite); the
 * synthesiser's own word events give each page's word timings for
 * read-along; a quiet music bed for the page's mood is composed here and
 * rendered with libfluidsynth and a General MIDI soundfont; speech and music
 * are mixed (the music ducked under the voice), brought to about -16 LUFS
 * (libebur128) and encoded as Ogg Opus with a chapter per page (libopusenc)
 * and as MP3 (LAME).
 *
 * All audio here is mono float PCM at SV_NARRATE_RATE, samples in [-1, 1].
 * Everything is a pure function of its inputs: the same story, options and
 * seed give the same samples.
 *
 * Ownership: each _new has its _free; PCM buffers and word lists belong to
 * the caller, who frees them with sv_pcm_free / sv_words_free.
 */
#ifndef SV_NARRATE_H
#define SV_NARRATE_H

#include "base/base.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define SV_NARRATE_RATE 24000 /* Hz: one of Opus's own rates, and MPEG-2 Layer III's */

/* ---- sound in memory (pcm.c) ---- */

struct sv_pcm {
	float *s;
	size_t n, cap; /* samples held, room for */
};

void sv_pcm_free(struct sv_pcm *p);
/* 0, or -1 when memory runs out (p unchanged). */
int sv_pcm_append(struct sv_pcm *p, const float *s, size_t n);
int sv_pcm_silence(struct sv_pcm *p, size_t n);
/* Appends in (n samples at in_rate Hz), resampled to SV_NARRATE_RATE
 * (speexdsp): n * SV_NARRATE_RATE / in_rate samples, rounded; 16-bit input
 * is what synthesisers give. */
int sv_pcm_append_resampled(struct sv_pcm *p, const int16_t *in, size_t n, int in_rate,
                            struct sv_err *err);
double sv_pcm_seconds(const struct sv_pcm *p);

/* ---- voices and speech (tts_espeak.c, tts_flite.c) ---- */

/* A voice as a provider speaks it. */
struct sv_voice {
	char provider[16]; /* "espeak-ng" or "flite" */
	char name[32]; /* espeak-ng: a voice and variant, "en-us+f3"; flite: slt, rms, awb, kal16 */
	int pitch;     /* 0-100; 50 is the voice's own */
	int range;     /* 0-100: how far the pitch moves (espeak-ng; flite ignores it) */
	int rate;      /* words per minute */
};

/* One spoken word: bytes [char_start, char_end) of the text given to speak,
 * and samples [sample_start, sample_end) of the audio appended for it,
 * counted from where that audio begins. */
struct sv_word {
	size_t char_start, char_end;
	size_t sample_start, sample_end;
};

struct sv_words {
	struct sv_word *w;
	size_t n, cap;
};
void sv_words_free(struct sv_words *w);
int sv_words_push(struct sv_words *w, const struct sv_word *one);

struct sv_tts_ops {
	const char *name;
	/* Speaks text (UTF-8: a sentence or a few) in voice v: appends its audio
	 * to pcm and one entry per word spoken to words, in order, taken from
	 * the synthesiser's own events. Safe to call from several threads. */
	int (*speak)(void *self, const struct sv_voice *v, const char *text, struct sv_pcm *pcm,
	             struct sv_words *words, struct sv_err *err);
	void (*free)(void *self);
};

void *sv_tts_espeak_new(struct sv_err *err);
extern const struct sv_tts_ops sv_tts_espeak_ops;
void *sv_tts_flite_new(struct sv_err *err);
extern const struct sv_tts_ops sv_tts_flite_ops;

/* ---- music (music.c) ---- */

struct sv_music;

/* Loads a General MIDI soundfont (NULL: the one Debian's timgm6mb-soundfont
 * installs). */
struct sv_music *sv_music_new(const char *soundfont, struct sv_err *err);
void sv_music_free(struct sv_music *m);
/* Composes and renders `seconds` of music for a story mood ("cheerful",
 * "sleepy", "worried", ... any string: unknown moods get a gentle default)
 * from seed: a chord progression, a simple melody over it, a lullaby or an
 * adventure feel by mood; faded in and out. Appends to out, peaking near
 * -6 dBFS (the mixer sets the level). */
int sv_music_render(struct sv_music *m, const char *mood, uint64_t seed, double seconds,
                    struct sv_pcm *out, struct sv_err *err);

/* ---- mixing and loudness (mix.c) ---- */

/* Adds music under speech (over speech's length; music is looped or cut to
 * fit) at music_db relative to full scale, lowered by a further duck_db
 * wherever the voice is speaking (a smooth envelope follows the speech).
 * The result replaces speech's samples. */
int sv_mix_under(struct sv_pcm *speech, const struct sv_pcm *music, double music_db, double duck_db,
                 struct sv_err *err);
/* Integrated loudness (EBU R128, LUFS) of p. */
int sv_loudness(const struct sv_pcm *p, double *lufs, struct sv_err *err);
/* Scales p to target_lufs, then keeps its peaks at or below -1 dBFS. */
int sv_normalise(struct sv_pcm *p, double target_lufs, struct sv_err *err);

/* ---- encoding (encode.c) ---- */

struct sv_chapter {
	size_t start; /* sample */
	const char *title;
};

/* Ogg Opus of p with a title and chapter marks (CHAPTERnnn comments),
 * appended to out. */
int sv_encode_opus(const struct sv_pcm *p, const char *title, const struct sv_chapter *ch,
                   size_t nch, struct sv_buf *out, struct sv_err *err);
/* MP3 of p (LAME), with an ID3v2 tag holding the title and a chapter frame
 * per chapter, appended to out. */
int sv_encode_mp3(const struct sv_pcm *p, const char *title, const struct sv_chapter *ch,
                  size_t nch, struct sv_buf *out, struct sv_err *err);
/* 16-bit PCM WAV, appended to out. */
int sv_encode_wav(const struct sv_pcm *p, struct sv_buf *out, struct sv_err *err);

/* ---- the story read aloud (cast.c, narrate.c) ---- */

/* The voice of a story's cast member (an entry of the story's "cast"), or
 * of the narrator when member is NULL, for provider ("espeak-ng" or
 * "flite"). Derived from the entry alone (id, pronoun, species, voice
 * pitch and rate, traits), so a character sounds the same in every story
 * and episode. */
void sv_narrate_cast(const json_t *member, const char *provider, struct sv_voice *out);

struct sv_narrate_options {
	const char *tts;       /* "espeak-ng" (default) or "flite" */
	const char *soundfont; /* NULL: the default */
	bool music;            /* a music bed under the voice */
	bool mp3;              /* story.mp3 besides story.opus */
};

struct sv_narrator;

struct sv_narrator *sv_narrator_new(const struct sv_narrate_options *o, struct sv_err *err);
void sv_narrator_free(struct sv_narrator *n);

/* Receives one file: its name under the story ("audio/page-01.opus"), its
 * content type and bytes. */
typedef int (*sv_narrate_sink)(void *ctx, const char *name, const char *content_type,
                               const void *data, size_t len, struct sv_err *err);

/* Reads a story document aloud: for each page audio/page-NN.opus and
 * audio/page-NN.timings.json ({"words":[{"word","start_ms","end_ms",
 * "char_start","char_end"}]}, offsets into the page's text), then
 * audio/story.opus (and .mp3) with a chapter per page. Adds to each page
 * of the story an "audio" member ({"file","timings","duration_ms"}) and to
 * the story an "audio" member ({"file","mp3"?,"duration_ms","voices"}).
 * Safe to call from several threads with one narrator. */
int sv_narrate_story(struct sv_narrator *n, json_t *story, sv_narrate_sink sink, void *ctx,
                     struct sv_err *err);

#endif
