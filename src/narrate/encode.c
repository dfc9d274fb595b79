/*
 * Encoding the narration: Ogg Opus (libopusenc) with a title and chapter
 * comments, MP3 (LAME) behind an ID3v2.4 tag with chapter frames built
 * here, and plain 16-bit WAV.
 *
 * Every encoder writes into memory and gives the same bytes for the same
 * input: the Ogg serial number is fixed, and LAME has no randomness of its
 * own. On failure out is left as it was.
 */
#include "narrate/narrate.h"

#include <lame/lame.h>
#include <math.h>
#include <opus/opusenc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Speech over a soft music bed: 40 kb/s VBR keeps both clean at 24 kHz
 * (the band ends at 12 kHz here anyway). Complexity 5 of 10 costs little
 * quality at this rate. 60 ms frames: a third as many packets, so less
 * overhead per packet in bytes and in time (libopus has a fixed cost per
 * encode call that dominated with 20 ms frames); latency does not matter
 * for a file. */
#define OPUS_BITRATE    40000
#define OPUS_COMPLEXITY 5
#define OPUS_FRAME      OPUS_FRAMESIZE_60_MS
/* Any fixed number: Ogg wants a serial per stream, libopusenc picks a
 * random one, and the same story must give the same file. */
#define OPUS_SERIAL 0x53564e41 /* "SVNA" */

/* MP3: VBR -V5 (some 30-50 kb/s for mono at 24 kHz); algorithm quality 5
 * is LAME's own default trade of speed for quality. */
#define MP3_VBR_QUALITY  5.0f
#define MP3_ALGO_QUALITY 5

/* The ID3 CTOC frame counts its children in one byte; the Vorbis chapter
 * comments number them with three digits. */
#define MP3_MAX_CHAPTERS  255
#define OPUS_MAX_CHAPTERS 999

/* Leaves out as it was before a failed encode (sv_buf stays NUL-terminated). */
static int undo(struct sv_buf *out, size_t len)
{
	out->len = len;
	if (out->data)
		out->data[len] = '\0';
	return -1;
}

/* Chapters must lie within the audio, in order. */
static int check_chapters(const struct sv_pcm *p, const struct sv_chapter *ch, size_t nch,
                          size_t max, struct sv_err *err)
{
	if (nch > max)
		return sv_err_set(err, "invalid_value", "chapters", "at most %zu chapters", max);
	for (size_t i = 0; i < nch; i++) {
		if (ch[i].start > p->n)
			return sv_err_set(err, "invalid_value", "chapters",
			                  "chapter %zu starts after the end of the audio", i + 1);
		if (i > 0 && ch[i].start < ch[i - 1].start)
			return sv_err_set(err, "invalid_value", "chapters",
			                  "chapter %zu starts before chapter %zu", i + 1, i);
	}
	return 0;
}

static uint64_t sample_ms(size_t sample)
{
	return ((uint64_t)sample * 1000 + SV_NARRATE_RATE / 2) / SV_NARRATE_RATE;
}

/* ---- Opus ---- */

struct opus_sink {
	struct sv_buf *out;
	bool failed;
};

static int opus_write(void *user, const unsigned char *ptr, opus_int32 len)
{
	struct opus_sink *k = user;
	if (sv_buf_append(k->out, ptr, (size_t)len) < 0) {
		k->failed = true;
		return 1;
	}
	return 0;
}

static int opus_close(void *user)
{
	(void)user;
	return 0;
}

/* Adds tag=value with the value made valid UTF-8 (Vorbis comments must be). */
static int add_comment(OggOpusComments *c, const char *tag, const char *value)
{
	struct sv_buf v;
	sv_buf_init(&v);
	int rc = sv_buf_utf8(&v, value, strlen(value));
	if (rc == 0)
		rc = ope_comments_add(c, tag, v.data ? v.data : "") == OPE_OK ? 0 : -1;
	sv_buf_free(&v);
	return rc;
}

static int opus_comments(OggOpusComments *c, const char *title, const struct sv_chapter *ch,
                         size_t nch)
{
	if (title && *title && add_comment(c, "TITLE", title) < 0)
		return -1;
	for (size_t i = 0; i < nch; i++) {
		char tag[32], when[32];
		uint64_t ms = sample_ms(ch[i].start);
		snprintf(tag, sizeof tag, "CHAPTER%03zu", i + 1);
		snprintf(when, sizeof when, "%02u:%02u:%02u.%03u", (unsigned)(ms / 3600000),
		         (unsigned)(ms / 60000 % 60), (unsigned)(ms / 1000 % 60),
		         (unsigned)(ms % 1000));
		if (ope_comments_add(c, tag, when) != OPE_OK)
			return -1;
		snprintf(tag, sizeof tag, "CHAPTER%03zuNAME", i + 1);
		if (add_comment(c, tag, ch[i].title ? ch[i].title : "") < 0)
			return -1;
	}
	return 0;
}

int sv_encode_opus(const struct sv_pcm *p, const char *title, const struct sv_chapter *ch,
                   size_t nch, struct sv_buf *out, struct sv_err *err)
{
	if (p->n == 0)
		return sv_err_set(err, "invalid_value", "audio", "no audio to encode");
	if (check_chapters(p, ch, nch, OPUS_MAX_CHAPTERS, err) < 0)
		return -1;
	size_t start = out->len;
	OggOpusComments *c = ope_comments_create();
	if (!c || opus_comments(c, title, ch, nch) < 0) {
		ope_comments_destroy(c);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	struct opus_sink sink = {.out = out};
	OpusEncCallbacks cb = {.write = opus_write, .close = opus_close};
	int e = OPE_OK;
	OggOpusEnc *enc = ope_encoder_create_callbacks(&cb, &sink, c, SV_NARRATE_RATE, 1, 0, &e);
	ope_comments_destroy(c); /* the encoder keeps its own copy */
	if (!enc)
		return sv_err_set(err, "internal", "", "opus encoder: %s", ope_strerror(e));
	if ((e = ope_encoder_ctl(enc, OPE_SET_SERIALNO(OPUS_SERIAL))) != OPE_OK ||
	    (e = ope_encoder_ctl(enc, OPUS_SET_BITRATE(OPUS_BITRATE))) != OPE_OK ||
	    (e = ope_encoder_ctl(enc, OPUS_SET_VBR(1))) != OPE_OK ||
	    (e = ope_encoder_ctl(enc, OPUS_SET_COMPLEXITY(OPUS_COMPLEXITY))) != OPE_OK ||
	    (e = ope_encoder_ctl(enc, OPUS_SET_EXPERT_FRAME_DURATION(OPUS_FRAME))) != OPE_OK)
		goto fail;
	/* In slices: the library counts samples in an int. */
	for (size_t at = 0; at < p->n;) {
		size_t k = p->n - at < (size_t)1 << 20 ? p->n - at : (size_t)1 << 20;
		if ((e = ope_encoder_write_float(enc, p->s + at, (int)k)) != OPE_OK)
			goto fail;
		at += k;
	}
	/* A failed write may not surface as an error code: checked as well. */
	if ((e = ope_encoder_drain(enc)) != OPE_OK || sink.failed)
		goto fail;
	ope_encoder_destroy(enc);
	return 0;
fail:
	ope_encoder_destroy(enc);
	undo(out, start);
	if (sink.failed)
		return sv_err_set(err, "nomem", "", "out of memory");
	return sv_err_set(err, "internal", "", "opus encoder: %s", ope_strerror(e));
}

/* ---- ID3v2.4 ---- */

/* 28 bits in four 7-bit bytes: ID3v2.4 sizes, so no byte looks like a sync. */
static void put_synchsafe(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)(v >> 21 & 0x7f);
	b[1] = (unsigned char)(v >> 14 & 0x7f);
	b[2] = (unsigned char)(v >> 7 & 0x7f);
	b[3] = (unsigned char)(v & 0x7f);
}

static void put_be32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)(v >> 24);
	b[1] = (unsigned char)(v >> 16);
	b[2] = (unsigned char)(v >> 8);
	b[3] = (unsigned char)v;
}

/* Starts a frame: id and room for its header; the size is filled in by
 * frame_end. Returns the header's offset. */
static size_t frame_begin(struct sv_buf *b, const char *id, int *rc)
{
	size_t at = b->len;
	unsigned char h[10] = {0};
	memcpy(h, id, 4);
	if (sv_buf_append(b, h, sizeof h) < 0)
		*rc = -1;
	return at;
}

static void frame_end(struct sv_buf *b, size_t at, int *rc)
{
	if (*rc < 0)
		return;
	size_t body = b->len - at - 10;
	if (body >= (size_t)1 << 28) {
		*rc = -1;
		return;
	}
	put_synchsafe((unsigned char *)b->data + at + 4, (uint32_t)body);
}

/* TIT2: encoding 3 (UTF-8), then the text, made valid UTF-8. */
static void frame_text(struct sv_buf *b, const char *id, const char *text, int *rc)
{
	size_t at = frame_begin(b, id, rc);
	if (*rc == 0 && sv_buf_append(b, "\x03", 1) < 0)
		*rc = -1;
	if (*rc == 0 && sv_buf_utf8(b, text, strlen(text)) < 0)
		*rc = -1;
	frame_end(b, at, rc);
}

/* The tag: TIT2, then a CHAP per chapter (ids chp1, chp2, ...; times in ms,
 * byte offsets unused) each with its TIT2, and a top-level ordered CTOC
 * listing them, as the ID3v2 Chapter Frame Addendum lays out. */
static int id3_tag(struct sv_buf *b, const char *title, const struct sv_chapter *ch, size_t nch,
                   size_t nsamples)
{
	int rc = 0;
	size_t at = b->len;
	static const unsigned char head[10] = {'I', 'D', '3', 4, 0, 0, 0, 0, 0, 0};
	if (sv_buf_append(b, head, sizeof head) < 0)
		return -1;
	if (title && *title)
		frame_text(b, "TIT2", title, &rc);
	for (size_t i = 0; i < nch && rc == 0; i++) {
		size_t f = frame_begin(b, "CHAP", &rc);
		char id[16];
		int idn = snprintf(id, sizeof id, "chp%zu", i + 1);
		unsigned char t[16];
		size_t end = i + 1 < nch ? ch[i + 1].start : nsamples;
		put_be32(t, (uint32_t)sample_ms(ch[i].start));
		put_be32(t + 4, (uint32_t)sample_ms(end));
		put_be32(t + 8, 0xffffffffu);
		put_be32(t + 12, 0xffffffffu);
		if (rc == 0 && (sv_buf_append(b, id, (size_t)idn + 1) < 0 ||
		                sv_buf_append(b, t, sizeof t) < 0))
			rc = -1;
		if (rc == 0)
			frame_text(b, "TIT2", ch[i].title ? ch[i].title : "", &rc);
		frame_end(b, f, &rc);
	}
	if (nch > 0 && rc == 0) {
		size_t f = frame_begin(b, "CTOC", &rc);
		/* flags: top-level (0x02) and ordered (0x01); then the count. */
		unsigned char flags[2] = {0x03, (unsigned char)nch};
		if (rc == 0 && (sv_buf_append(b, "toc", 4) < 0 || sv_buf_append(b, flags, 2) < 0))
			rc = -1;
		for (size_t i = 0; i < nch && rc == 0; i++) {
			char id[16];
			int idn = snprintf(id, sizeof id, "chp%zu", i + 1);
			if (sv_buf_append(b, id, (size_t)idn + 1) < 0)
				rc = -1;
		}
		frame_end(b, f, &rc);
	}
	if (rc < 0)
		return -1;
	size_t body = b->len - at - 10;
	if (body >= (size_t)1 << 28)
		return -1;
	put_synchsafe((unsigned char *)b->data + at + 6, (uint32_t)body);
	return 0;
}

/* ---- MP3 ---- */

int sv_encode_mp3(const struct sv_pcm *p, const char *title, const struct sv_chapter *ch,
                  size_t nch, struct sv_buf *out, struct sv_err *err)
{
	if (p->n == 0)
		return sv_err_set(err, "invalid_value", "audio", "no audio to encode");
	if (check_chapters(p, ch, nch, MP3_MAX_CHAPTERS, err) < 0)
		return -1;
	size_t start = out->len;
	if (id3_tag(out, title, ch, nch, p->n) < 0) {
		undo(out, start);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	size_t audio = out->len; /* where LAME's first frame goes */

	lame_global_flags *gf = lame_init();
	if (!gf) {
		undo(out, start);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	lame_set_num_channels(gf, 1);
	lame_set_mode(gf, MONO);
	lame_set_in_samplerate(gf, SV_NARRATE_RATE);
	lame_set_out_samplerate(gf, SV_NARRATE_RATE);
	lame_set_VBR(gf, vbr_default);
	lame_set_VBR_quality(gf, MP3_VBR_QUALITY);
	lame_set_quality(gf, MP3_ALGO_QUALITY);
	/* Our own tag goes first; the Xing/LAME frame LAME reserves is kept:
	 * it carries the delay and padding that make playback gapless. */
	lame_set_write_id3tag_automatic(gf, 0);
	lame_set_bWriteVbrTag(gf, 1);
	const char *why = "out of memory";
	unsigned char *mp3 = NULL;
	if (lame_init_params(gf) < 0) {
		why = "cannot set up the encoder";
		goto fail;
	}
	/* LAME's worst case for a slice: 1.25 times the samples plus 7200. */
	enum { SLICE = 8192 };
	size_t room = SLICE + SLICE / 4 + 7200;
	mp3 = malloc(room);
	if (!mp3)
		goto fail;
	for (size_t at = 0; at < p->n; at += SLICE) {
		int k = (int)(p->n - at < SLICE ? p->n - at : SLICE);
		/* Mono: the right channel is ignored, but must not be NULL. */
		int got =
		    lame_encode_buffer_ieee_float(gf, p->s + at, p->s + at, k, mp3, (int)room);
		if (got < 0) {
			why = "encoding failed";
			goto fail;
		}
		if (sv_buf_append(out, mp3, (size_t)got) < 0)
			goto fail;
	}
	int got = lame_encode_flush(gf, mp3, (int)room);
	if (got < 0) {
		why = "encoding failed";
		goto fail;
	}
	if (sv_buf_append(out, mp3, (size_t)got) < 0)
		goto fail;
	/* The finished Xing/LAME frame replaces the empty one at the start. */
	size_t tag = lame_get_lametag_frame(gf, mp3, room);
	if (tag > room || tag > out->len - audio) {
		why = "the LAME tag does not fit";
		goto fail;
	}
	memcpy(out->data + audio, mp3, tag);
	free(mp3);
	lame_close(gf);
	return 0;
fail:
	free(mp3);
	lame_close(gf);
	undo(out, start);
	return sv_err_set(err, strcmp(why, "out of memory") == 0 ? "nomem" : "internal", "",
	                  "mp3: %s", why);
}

/* ---- WAV ---- */

static void put_le32(unsigned char *b, uint32_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
	b[2] = (unsigned char)(v >> 16);
	b[3] = (unsigned char)(v >> 24);
}

static void put_le16(unsigned char *b, uint16_t v)
{
	b[0] = (unsigned char)v;
	b[1] = (unsigned char)(v >> 8);
}

/* Empty audio gives a valid WAV with no samples. */
int sv_encode_wav(const struct sv_pcm *p, struct sv_buf *out, struct sv_err *err)
{
	if (p->n > (UINT32_MAX - 36) / 2)
		return sv_err_set(err, "invalid_value", "audio", "too long for a WAV file");
	uint32_t data = (uint32_t)(p->n * 2);
	unsigned char h[44];
	memcpy(h, "RIFF", 4);
	put_le32(h + 4, 36 + data);
	memcpy(h + 8, "WAVEfmt ", 8);
	put_le32(h + 16, 16); /* fmt chunk size */
	put_le16(h + 20, 1);  /* PCM */
	put_le16(h + 22, 1);  /* mono */
	put_le32(h + 24, SV_NARRATE_RATE);
	put_le32(h + 28, SV_NARRATE_RATE * 2); /* bytes per second */
	put_le16(h + 32, 2);                   /* bytes per frame */
	put_le16(h + 34, 16);                  /* bits per sample */
	memcpy(h + 36, "data", 4);
	put_le32(h + 40, data);
	size_t start = out->len;
	if (sv_buf_append(out, h, sizeof h) < 0)
		return sv_err_set(err, "nomem", "", "out of memory");
	unsigned char chunk[4096];
	size_t k = 0;
	for (size_t i = 0; i < p->n; i++) {
		float x = p->s[i];
		x = isnan(x) ? 0.0f : x > 1.0f ? 1.0f : x < -1.0f ? -1.0f : x;
		put_le16(chunk + k, (uint16_t)(int16_t)lrintf(x * 32767.0f));
		k += 2;
		if (k == sizeof chunk || i + 1 == p->n) {
			if (sv_buf_append(out, chunk, k) < 0) {
				undo(out, start);
				return sv_err_set(err, "nomem", "", "out of memory");
			}
			k = 0;
		}
	}
	return 0;
}
