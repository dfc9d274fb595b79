/*
 * Tests for narration mixing, loudness and encoding, checked with real
 * decoders: the Opus, MP3 and WAV files decode (opusfile, libmpg123) to the
 * right length and content, carry the title and chapter marks at the right
 * times (the ID3 chapter frames parsed back here), and come out byte for
 * byte the same each time; normalisation reaches its target under a -1 dBFS
 * ceiling; the music bed dips under the voice and comes back in the pauses.
 * The speed of each stage is printed as a real-time factor.
 */
#include "narrate/narrate.h"

#include <math.h>
#include <mpg123.h>
#include <opus/opusfile.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <cmocka.h>

#define RATE    SV_NARRATE_RATE
#define CEILING 0.89125094f /* -1 dBFS */

static void add_tone(struct sv_pcm *p, double seconds, double hz, double amp)
{
	size_t n = (size_t)(seconds * RATE), at = p->n;
	assert_int_equal(sv_pcm_silence(p, n), 0);
	for (size_t i = 0; i < n; i++)
		p->s[at + i] = (float)(amp * sin(2 * M_PI * hz * (double)i / RATE));
}

/* The test signal: 3 s of 440 Hz, then 1 s of silence. */
static void tone_then_silence(struct sv_pcm *p)
{
	add_tone(p, 3.0, 440, 0.5);
	assert_int_equal(sv_pcm_silence(p, RATE), 0);
}

/* Amplitude of the hz component of x[a, b) at rate: phase does not matter,
 * so codec delay does not either. */
static double tone_amp(const float *x, size_t a, size_t b, double hz, double rate)
{
	double re = 0, im = 0;
	for (size_t i = a; i < b; i++) {
		re += x[i] * cos(2 * M_PI * hz * (double)i / rate);
		im += x[i] * sin(2 * M_PI * hz * (double)i / rate);
	}
	return 2 * sqrt(re * re + im * im) / (double)(b - a);
}

static double rms(const float *x, size_t a, size_t b)
{
	double s = 0;
	for (size_t i = a; i < b; i++)
		s += (double)x[i] * x[i];
	return sqrt(s / (double)(b - a));
}

static float peak(const struct sv_pcm *p)
{
	float m = 0;
	for (size_t i = 0; i < p->n; i++)
		if (fabsf(p->s[i]) > m)
			m = fabsf(p->s[i]);
	return m;
}

static double now_s(void)
{
	struct timespec t;
	clock_gettime(CLOCK_MONOTONIC, &t);
	return (double)t.tv_sec + (double)t.tv_nsec / 1e9;
}

static const struct sv_chapter two_chapters[] = {{0, "The Tone"}, {3 * RATE, "The Silence"}};

/* ---- WAV ---- */

static uint32_t le32(const unsigned char *b)
{
	return (uint32_t)b[0] | (uint32_t)b[1] << 8 | (uint32_t)b[2] << 16 | (uint32_t)b[3] << 24;
}

static void test_wav(void **state)
{
	(void)state;
	struct sv_pcm p = {0};
	tone_then_silence(&p);
	p.s[10] = 2.0f; /* clamped, not wrapped */
	p.s[11] = -2.0f;
	struct sv_buf b;
	sv_buf_init(&b);
	struct sv_err err = {0};
	assert_int_equal(sv_encode_wav(&p, &b, &err), 0);
	const unsigned char *d = (const unsigned char *)b.data;
	assert_int_equal(b.len, 44 + 2 * p.n);
	assert_memory_equal(d, "RIFF", 4);
	assert_int_equal(le32(d + 4), b.len - 8);
	assert_memory_equal(d + 8, "WAVEfmt ", 8);
	assert_int_equal(d[20] | d[21] << 8, 1);
	assert_int_equal(d[22] | d[23] << 8, 1);
	assert_int_equal(le32(d + 24), RATE);
	assert_int_equal(d[34] | d[35] << 8, 16);
	assert_memory_equal(d + 36, "data", 4);
	assert_int_equal(le32(d + 40), 2 * p.n);
	const unsigned char *s = d + 44;
	for (size_t i = 0; i < p.n; i += 997) {
		if (i == 10 || i == 11)
			continue;
		int16_t v = (int16_t)(s[2 * i] | s[2 * i + 1] << 8);
		assert_true(abs(v - (int)lrintf(p.s[i] * 32767)) <= 0);
	}
	assert_int_equal((int16_t)(s[20] | s[21] << 8), 32767);
	assert_int_equal((int16_t)(s[22] | s[23] << 8), -32767);

	/* Empty audio: a valid WAV with no samples. */
	struct sv_pcm none = {0};
	struct sv_buf e;
	sv_buf_init(&e);
	assert_int_equal(sv_encode_wav(&none, &e, &err), 0);
	assert_int_equal(e.len, 44);
	assert_int_equal(le32((const unsigned char *)e.data + 40), 0);
	sv_buf_free(&e);
	sv_buf_free(&b);
	sv_pcm_free(&p);
}

/* ---- Opus ---- */

static void test_opus_decodes_with_tags(void **state)
{
	(void)state;
	struct sv_pcm p = {0};
	tone_then_silence(&p);
	struct sv_buf b;
	sv_buf_init(&b);
	assert_int_equal(sv_buf_puts(&b, "keep"), 0); /* appended after what is there */
	struct sv_err err = {0};
	assert_int_equal(sv_encode_opus(&p, "A Tone", two_chapters, 2, &b, &err), 0);
	assert_memory_equal(b.data, "keepOggS", 8);

	int oe = 0;
	OggOpusFile *of = op_open_memory((const unsigned char *)b.data + 4, b.len - 4, &oe);
	assert_non_null(of);
	assert_int_equal(op_channel_count(of, -1), 1);
	ogg_int64_t total = op_pcm_total(of, -1); /* always 48 kHz */
	assert_true(fabs((double)total / 48000 - 4.0) <= 0.05);

	const OpusTags *tags = op_tags(of, -1);
	assert_non_null(tags);
	assert_string_equal(opus_tags_query(tags, "TITLE", 0), "A Tone");
	assert_string_equal(opus_tags_query(tags, "CHAPTER001", 0), "00:00:00.000");
	assert_string_equal(opus_tags_query(tags, "CHAPTER001NAME", 0), "The Tone");
	assert_string_equal(opus_tags_query(tags, "CHAPTER002", 0), "00:00:03.000");
	assert_string_equal(opus_tags_query(tags, "CHAPTER002NAME", 0), "The Silence");
	assert_null(opus_tags_query(tags, "CHAPTER003", 0));
	assert_non_null(tags->vendor); /* libopusenc's own */

	float *pcm = malloc((size_t)total * sizeof *pcm);
	assert_non_null(pcm);
	size_t got = 0;
	while (got < (size_t)total) {
		int r = op_read_float(of, pcm + got, (int)((size_t)total - got), NULL);
		assert_true(r >= 0);
		if (r == 0)
			break;
		got += (size_t)r;
	}
	assert_int_equal(got, (size_t)total);
	/* The tone is there at its level; the silence is silent. */
	double a = tone_amp(pcm, 48000 / 2, 48000 * 5 / 2, 440, 48000);
	assert_true(a > 0.4 && a < 0.6);
	assert_true(rms(pcm, 48000 * 16 / 5, 48000 * 39 / 10) < 0.005);
	op_free(of);
	free(pcm);
	sv_buf_free(&b);
	sv_pcm_free(&p);
}

/* ---- MP3 ---- */

static uint32_t synchsafe(const unsigned char *b)
{
	return (uint32_t)b[0] << 21 | (uint32_t)b[1] << 14 | (uint32_t)b[2] << 7 | b[3];
}

static uint32_t be32(const unsigned char *b)
{
	return (uint32_t)b[0] << 24 | (uint32_t)b[1] << 16 | (uint32_t)b[2] << 8 | b[3];
}

/* A TIT2 frame's text (UTF-8 encoding byte, then the text). */
static void check_tit2(const unsigned char *f, size_t len, const char *want)
{
	assert_true(len >= 10);
	assert_memory_equal(f, "TIT2", 4);
	uint32_t size = synchsafe(f + 4);
	assert_true(10 + size <= len);
	assert_int_equal(f[10], 3);
	assert_int_equal(size - 1, strlen(want));
	assert_memory_equal(f + 11, want, size - 1);
}

/* Walks the ID3v2.4 tag: TIT2, the CHAP frames with their times and titles,
 * the CTOC. Returns the tag's length. */
static size_t check_id3(const unsigned char *d, size_t len)
{
	assert_true(len > 10);
	assert_memory_equal(d, "ID3", 3);
	assert_int_equal(d[3], 4);
	assert_int_equal(d[4], 0);
	assert_int_equal(d[5], 0);
	size_t tag = 10 + synchsafe(d + 6);
	assert_true(tag <= len);
	int chaps = 0, toc = 0, title = 0;
	for (size_t at = 10; at + 10 <= tag && d[at] != 0;) {
		const unsigned char *f = d + at;
		uint32_t size = synchsafe(f + 4);
		assert_true(at + 10 + size <= tag);
		const unsigned char *body = f + 10;
		if (memcmp(f, "TIT2", 4) == 0) {
			check_tit2(f, 10 + size, "A Tone");
			title++;
		} else if (memcmp(f, "CHAP", 4) == 0) {
			static const uint32_t start[] = {0, 3000}, end[] = {3000, 4000};
			static const char *names[] = {"The Tone", "The Silence"};
			char id[16];
			snprintf(id, sizeof id, "chp%d", chaps + 1);
			assert_string_equal((const char *)body, id);
			const unsigned char *t = body + strlen(id) + 1;
			assert_int_equal(be32(t), start[chaps]);
			assert_int_equal(be32(t + 4), end[chaps]);
			assert_int_equal(be32(t + 8), 0xffffffffu);
			assert_int_equal(be32(t + 12), 0xffffffffu);
			check_tit2(t + 16, (size_t)(body + size - (t + 16)), names[chaps]);
			chaps++;
		} else if (memcmp(f, "CTOC", 4) == 0) {
			assert_string_equal((const char *)body, "toc");
			assert_int_equal(body[4], 0x03); /* top-level, ordered */
			assert_int_equal(body[5], 2);
			assert_string_equal((const char *)body + 6, "chp1");
			assert_string_equal((const char *)body + 11, "chp2");
			assert_int_equal(size, 16);
			toc++;
		} else {
			fail_msg("unexpected frame %.4s", (const char *)f);
		}
		at += 10 + size;
	}
	assert_int_equal(title, 1);
	assert_int_equal(chaps, 2);
	assert_int_equal(toc, 1);
	return tag;
}

struct decoded {
	short *s;
	size_t n;
	long rate;
	int channels;
	long delay, padding;
	struct mpg123_frameinfo2 info;
};

static void mp3_decode(const struct sv_buf *b, bool gapless, struct decoded *out)
{
	int e = 0;
	mpg123_handle *mh = mpg123_new(NULL, &e);
	assert_non_null(mh);
	assert_int_equal(
	    mpg123_param(mh, gapless ? MPG123_ADD_FLAGS : MPG123_REMOVE_FLAGS, MPG123_GAPLESS, 0),
	    MPG123_OK);
	assert_int_equal(mpg123_open_feed(mh), MPG123_OK);
	assert_int_equal(mpg123_feed(mh, (const unsigned char *)b->data, b->len), MPG123_OK);
	*out = (struct decoded){0};
	size_t cap = 0;
	unsigned char chunk[16384];
	for (;;) {
		size_t done = 0;
		int r = mpg123_read(mh, chunk, sizeof chunk, &done);
		if (r == MPG123_NEW_FORMAT) {
			int enc = 0;
			assert_int_equal(mpg123_getformat(mh, &out->rate, &out->channels, &enc),
			                 MPG123_OK);
			assert_int_equal(enc, MPG123_ENC_SIGNED_16);
		} else if (r != MPG123_OK && r != MPG123_NEED_MORE && r != MPG123_DONE) {
			fail_msg("mpg123: %s", mpg123_plain_strerror(r));
		}
		size_t k = done / sizeof(short);
		if (out->n + k > cap) {
			cap = (out->n + k) * 2;
			out->s = realloc(out->s, cap * sizeof *out->s);
			assert_non_null(out->s);
		}
		if (k > 0)
			memcpy(out->s + out->n, chunk, k * sizeof(short));
		out->n += k;
		if (r == MPG123_NEED_MORE || r == MPG123_DONE)
			break;
	}
	double unused;
	assert_int_equal(mpg123_getstate(mh, MPG123_ENC_DELAY, &out->delay, &unused), MPG123_OK);
	assert_int_equal(mpg123_getstate(mh, MPG123_ENC_PADDING, &out->padding, &unused),
	                 MPG123_OK);
	assert_int_equal(mpg123_info2(mh, &out->info), MPG123_OK);
	mpg123_delete(mh);
}

static void test_mp3_decodes_with_chapters(void **state)
{
	(void)state;
	struct sv_pcm p = {0};
	tone_then_silence(&p);
	struct sv_buf b;
	sv_buf_init(&b);
	struct sv_err err = {0};
	assert_int_equal(sv_encode_mp3(&p, "A Tone", two_chapters, 2, &b, &err), 0);
	size_t tag = check_id3((const unsigned char *)b.data, b.len);
	/* LAME wrote no tag of its own: the audio starts with a frame sync. */
	assert_true((unsigned char)b.data[tag] == 0xff &&
	            ((unsigned char)b.data[tag + 1] & 0xe0) == 0xe0);
	assert_null(memmem(b.data + tag, b.len - tag, "ID3", 3));
	assert_null(memmem(b.data + tag, b.len - tag, "TAG", 3));

	struct decoded g, raw;
	mp3_decode(&b, true, &g);
	mp3_decode(&b, false, &raw);
	assert_int_equal(g.rate, RATE);
	assert_int_equal(g.channels, 1);
	assert_int_equal(g.info.version, MPG123_2_0);
	assert_int_equal(g.info.layer, 3);
	assert_int_equal(g.info.mode, MPG123_M_MONO);
	print_message("mp3: %zu bytes, %zu samples in, %zu decoded gapless, %zu raw; "
	              "delay %ld, padding %ld\n",
	              b.len, p.n, g.n, raw.n, g.delay, g.padding);
	/* The LAME tag's delay and padding account for the raw length... */
	assert_true(g.delay > 0 && g.padding >= 0);
	assert_true(labs((long)raw.n - (long)(p.n + (size_t)g.delay + (size_t)g.padding)) <=
	            2 * 576);
	/* ... and gapless decoding gives back the input's length. */
	assert_true(fabs((double)g.n / RATE - 4.0) <= 0.05);
	assert_true(labs((long)g.n - (long)p.n) <= 2 * 576);

	float *f = malloc(g.n * sizeof *f);
	assert_non_null(f);
	for (size_t i = 0; i < g.n; i++)
		f[i] = (float)g.s[i] / 32768.0f;
	double a = tone_amp(f, RATE / 2, RATE * 5 / 2, 440, RATE);
	assert_true(a > 0.4 && a < 0.6);
	assert_true(rms(f, RATE * 16 / 5, RATE * 39 / 10) < 0.005);
	free(f);
	free(g.s);
	free(raw.s);
	sv_buf_free(&b);
	sv_pcm_free(&p);
}

/* ---- all three ---- */

static void test_encoders_are_deterministic(void **state)
{
	(void)state;
	struct sv_pcm p = {0};
	tone_then_silence(&p);
	struct sv_err err = {0};
	for (int kind = 0; kind < 3; kind++) {
		struct sv_buf x, y;
		sv_buf_init(&x);
		sv_buf_init(&y);
		for (int round = 0; round < 2; round++) {
			struct sv_buf *b = round ? &y : &x;
			int rc = kind == 0 ? sv_encode_opus(&p, "A Tone", two_chapters, 2, b, &err)
			         : kind == 1 ? sv_encode_mp3(&p, "A Tone", two_chapters, 2, b, &err)
			                     : sv_encode_wav(&p, b, &err);
			assert_int_equal(rc, 0);
		}
		assert_int_equal(x.len, y.len);
		assert_memory_equal(x.data, y.data, x.len);
		sv_buf_free(&x);
		sv_buf_free(&y);
	}
	sv_pcm_free(&p);
}

static void test_bad_input_is_refused(void **state)
{
	(void)state;
	struct sv_pcm none = {0}, p = {0};
	tone_then_silence(&p);
	struct sv_buf b;
	sv_buf_init(&b);
	assert_int_equal(sv_buf_puts(&b, "before"), 0);
	struct sv_err err = {0};
	assert_int_equal(sv_encode_opus(&none, "x", NULL, 0, &b, &err), -1);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, "audio");
	err = (struct sv_err){0};
	assert_int_equal(sv_encode_mp3(&none, "x", NULL, 0, &b, &err), -1);
	assert_string_equal(err.field, "audio");

	const struct sv_chapter late[] = {{0, "a"}, {p.n + 1, "b"}};
	const struct sv_chapter backwards[] = {{RATE, "a"}, {0, "b"}};
	err = (struct sv_err){0};
	assert_int_equal(sv_encode_opus(&p, "x", late, 2, &b, &err), -1);
	assert_string_equal(err.field, "chapters");
	err = (struct sv_err){0};
	assert_int_equal(sv_encode_mp3(&p, "x", backwards, 2, &b, &err), -1);
	assert_string_equal(err.field, "chapters");
	/* Nothing was left behind in out. */
	assert_int_equal(b.len, 6);
	assert_string_equal(b.data, "before");

	/* No title and no chapters: still a valid file. */
	sv_buf_free(&b);
	sv_buf_init(&b);
	assert_int_equal(sv_encode_mp3(&p, NULL, NULL, 0, &b, &err), 0);
	assert_memory_equal(b.data, "ID3", 3);
	sv_buf_free(&b);
	sv_buf_init(&b);
	assert_int_equal(sv_encode_opus(&p, NULL, NULL, 0, &b, &err), 0);
	assert_memory_equal(b.data, "OggS", 4);
	sv_buf_free(&b);
	sv_pcm_free(&p);
}

/* ---- loudness ---- */

static void test_silence_stays_silence(void **state)
{
	(void)state;
	struct sv_pcm p = {0};
	assert_int_equal(sv_pcm_silence(&p, 2 * RATE), 0);
	struct sv_err err = {0};
	double l = 0;
	assert_int_equal(sv_loudness(&p, &l, &err), 0);
	assert_true(isinf(l) && l < 0);
	assert_int_equal(sv_normalise(&p, -16, &err), 0);
	assert_true(peak(&p) == 0.0f);
	sv_pcm_free(&p);
}

static void test_tone_normalised_to_target(void **state)
{
	(void)state;
	struct sv_pcm p = {0};
	add_tone(&p, 5.0, 440, 0.05);
	struct sv_err err = {0};
	double before, after;
	assert_int_equal(sv_loudness(&p, &before, &err), 0);
	assert_true(before < -25);
	assert_int_equal(sv_normalise(&p, -16, &err), 0);
	assert_int_equal(sv_loudness(&p, &after, &err), 0);
	assert_true(fabs(after + 16) <= 0.5);
	assert_true(peak(&p) <= CEILING);
	sv_pcm_free(&p);
}

static void add_square(struct sv_pcm *p, double seconds, double hz, float amp)
{
	size_t n = (size_t)(seconds * RATE), at = p->n;
	assert_int_equal(sv_pcm_silence(p, n), 0);
	for (size_t i = 0; i < n; i++)
		p->s[at + i] = fmod((double)i * hz / RATE, 1.0) < 0.5 ? amp : -amp;
}

static void test_square_is_limited(void **state)
{
	(void)state;
	struct sv_err err = {0};
	double l;
	/* A loud square at -16: under the ceiling, on target. */
	struct sv_pcm p = {0};
	add_square(&p, 5.0, 220, 1.0f);
	assert_int_equal(sv_normalise(&p, -16, &err), 0);
	assert_true(peak(&p) <= CEILING);
	assert_int_equal(sv_loudness(&p, &l, &err), 0);
	assert_true(fabs(l + 16) <= 0.5);
	sv_pcm_free(&p);

	/* Pushed to -0.5 LUFS the square needs a peak above the ceiling: the
	 * limiter holds it there and the loudness ends a little under. */
	p = (struct sv_pcm){0};
	add_square(&p, 5.0, 220, 0.3f);
	assert_int_equal(sv_normalise(&p, -0.5, &err), 0);
	assert_true(peak(&p) <= CEILING);
	assert_true(peak(&p) > CEILING * 0.98f);
	assert_int_equal(sv_loudness(&p, &l, &err), 0);
	assert_true(l < -0.5 && l > -3);
	sv_pcm_free(&p);
}

/* A tone with short loud clicks: normalising lifts the tone about 8 dB,
 * the limiter catches the clicks, and the tone away from them keeps one
 * level (the limiter is local, not a whole-signal turn-down). */
static void test_limiter_is_local(void **state)
{
	(void)state;
	struct sv_pcm p = {0}, plain = {0};
	add_tone(&p, 5.0, 440, 0.1);
	add_tone(&plain, 5.0, 440, 0.1);
	for (size_t c = RATE / 4; c + RATE / 2000 < p.n; c += RATE / 2)
		for (size_t i = 0; i < RATE / 2000; i++)
			p.s[c + i] = i < RATE / 4000 ? 0.9f : -0.9f;
	struct sv_err err = {0};
	double tone, after;
	assert_int_equal(sv_loudness(&plain, &tone, &err), 0);
	assert_int_equal(sv_normalise(&p, -16, &err), 0);
	assert_true(peak(&p) <= CEILING);
	assert_int_equal(sv_loudness(&p, &after, &err), 0);
	assert_true(fabs(after + 16) <= 0.5);
	/* Between clicks (from 150 ms after one to 50 ms before the next) the
	 * tone is where the gain that brings the tone alone to -16 puts it
	 * (the limited clicks add a little loudness of their own), and the same
	 * in every gap. */
	double g = pow(10, (-16 - tone) / 20), first = 0;
	for (size_t c = RATE / 4; c + RATE / 2 < p.n; c += RATE / 2) {
		double a = tone_amp(p.s, c + RATE * 15 / 100, c + RATE * 45 / 100, 440, RATE);
		if (first == 0)
			first = a;
		assert_true(fabs(20 * log10(a / (0.1 * g))) < 0.5);
		assert_true(fabs(20 * log10(a / first)) < 0.1);
	}
	/* Right at a click the gain is down. */
	float at = 0;
	for (size_t i = RATE / 4 - 2; i < RATE / 4 + RATE / 2000 + 2; i++)
		at = fabsf(p.s[i]) > at ? fabsf(p.s[i]) : at;
	assert_true(at > CEILING * 0.95f);
	sv_pcm_free(&plain);
	sv_pcm_free(&p);
}

/* ---- mixing ---- */

/* Speech stand-in: noise bursts, 0.5 s on and 0.5 s off. */
static void bursts(struct sv_pcm *p, double seconds)
{
	struct sv_rng r;
	sv_rng_seed(&r, 7);
	size_t n = (size_t)(seconds * RATE);
	assert_int_equal(sv_pcm_silence(p, n), 0);
	for (size_t i = 0; i < n; i++)
		if (i % RATE < RATE / 2)
			p->s[i] = (float)sv_rng_range(&r, -0.35, 0.35);
}

static void test_music_ducks_under_speech(void **state)
{
	(void)state;
	struct sv_pcm speech = {0}, music = {0}, mixed = {0};
	bursts(&speech, 6.0);
	add_tone(&music, 1.3, 440, 0.5); /* shorter: looped (whole cycles, so joins are smooth) */
	assert_int_equal(sv_pcm_append(&mixed, speech.s, speech.n), 0);
	struct sv_err err = {0};
	assert_int_equal(sv_mix_under(&mixed, &music, -20, -10, &err), 0);
	assert_int_equal(mixed.n, speech.n);

	/* What the mixer added: the music alone. */
	float *m = malloc(mixed.n * sizeof *m);
	assert_non_null(m);
	for (size_t i = 0; i < mixed.n; i++)
		m[i] = mixed.s[i] - speech.s[i];
	/* Peak-normalised to -20 dBFS, outside speech it is at 0.1. */
	for (size_t k = 0; k + 1 < 6; k++) {
		size_t on = k * RATE, off = on + RATE / 2;
		double during = rms(m, on + RATE * 3 / 10, off);
		double pause = rms(m, off + RATE * 3 / 10, off + RATE * 4 / 10);
		double voice = rms(speech.s, on + RATE * 3 / 10, off);
		if (k == 0)
			print_message("mix: music %.1f dBFS under speech (%.1f dBFS), %.1f dBFS in "
			              "pauses\n",
			              20 * log10(during), 20 * log10(voice), 20 * log10(pause));
		/* It comes back up in the pauses ... */
		assert_true(pause > 1.6 * during);
		/* ... and is well under the voice where both play. */
		assert_true(during < voice / 5);
		assert_true(pause < 0.1 * 1.01);
	}
	/* Ducked by about duck_db at the bottom of the dip. */
	double bottom = tone_amp(m, RATE + RATE * 3 / 10, RATE + RATE / 2, 440, RATE);
	assert_true(fabs(20 * log10(bottom / 0.1) + 10) < 1.0);
	/* No gaps at the loop joins: every 20 ms keeps the music going, up to
	 * the fade at the end. */
	for (size_t a = 0; a + RATE / 50 <= mixed.n - RATE * 3 / 10; a += RATE / 50)
		assert_true(rms(m, a, a + RATE / 50) > 0.01);
	free(m);

	/* Longer music is cut; silent or no music changes nothing. */
	struct sv_pcm long_music = {0}, copy = {0};
	add_tone(&long_music, 10.0, 220, 0.5);
	assert_int_equal(sv_pcm_append(&copy, speech.s, speech.n), 0);
	assert_int_equal(sv_mix_under(&copy, &long_music, -20, -10, &err), 0);
	assert_int_equal(copy.n, speech.n);
	struct sv_pcm none = {0};
	assert_int_equal(sv_mix_under(&speech, &none, -20, -10, &err), 0);
	/* A full-scale voice plus music stays within [-1, 1], by scaling, not
	 * clipping. */
	struct sv_pcm loud = {0};
	add_square(&loud, 2.0, 100, 1.0f);
	assert_int_equal(sv_mix_under(&loud, &music, -6, -10, &err), 0);
	assert_true(peak(&loud) <= 1.0f);
	assert_true(peak(&loud) > 0.99f);
	sv_pcm_free(&loud);
	assert_int_equal(sv_mix_under(&speech, &music, -20, 3, &err), -1);
	assert_string_equal(err.field, "duck_db");

	sv_pcm_free(&long_music);
	sv_pcm_free(&copy);
	sv_pcm_free(&speech);
	sv_pcm_free(&music);
	sv_pcm_free(&mixed);
}

/* ---- speed ---- */

static void test_speed(void **state)
{
	(void)state;
	const double secs = 60;
	struct sv_pcm speech = {0}, music = {0};
	bursts(&speech, secs);
	add_tone(&music, 20.0, 330, 0.5);
	struct sv_err err = {0};

	double t0 = now_s();
	assert_int_equal(sv_mix_under(&speech, &music, -20, -10, &err), 0);
	assert_int_equal(sv_normalise(&speech, -16, &err), 0);
	double t1 = now_s();
	struct sv_chapter ch[] = {{0, "One"}, {20 * RATE, "Two"}, {40 * RATE, "Three"}};
	struct sv_buf o, m;
	sv_buf_init(&o);
	sv_buf_init(&m);
	assert_int_equal(sv_encode_opus(&speech, "Speed", ch, 3, &o, &err), 0);
	double t2 = now_s();
	assert_int_equal(sv_encode_mp3(&speech, "Speed", ch, 3, &m, &err), 0);
	double t3 = now_s();
	print_message("real time: mix+normalise %.0fx, opus %.0fx (%.1f kb/s), mp3 %.0fx "
	              "(%.1f kb/s)\n",
	              secs / (t1 - t0), secs / (t2 - t1), (double)o.len * 8 / secs / 1000,
	              secs / (t3 - t2), (double)m.len * 8 / secs / 1000);
	sv_buf_free(&o);
	sv_buf_free(&m);
	sv_pcm_free(&speech);
	sv_pcm_free(&music);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_wav),
	    cmocka_unit_test(test_opus_decodes_with_tags),
	    cmocka_unit_test(test_mp3_decodes_with_chapters),
	    cmocka_unit_test(test_encoders_are_deterministic),
	    cmocka_unit_test(test_bad_input_is_refused),
	    cmocka_unit_test(test_silence_stays_silence),
	    cmocka_unit_test(test_tone_normalised_to_target),
	    cmocka_unit_test(test_square_is_limited),
	    cmocka_unit_test(test_limiter_is_local),
	    cmocka_unit_test(test_music_ducks_under_speech),
	    cmocka_unit_test(test_speed),
	};
	return cmocka_run_group_tests_name("narrate_encode", tests, NULL, NULL);
}
