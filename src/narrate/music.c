/*
 * Music beds: a short piece composed for a page's mood and rendered with
 * libfluidsynth from a General MIDI soundfont.
 *
 * How the composition works: a table gives each mood a feel (major or
 * minor, tempo, 3/4 lullaby or 4/4, how busy the tune is, and General MIDI
 * programs for a lead, a pad, an accompaniment pattern and a bass). From
 * the seed (mixed with the mood) we pick a key, a lead instrument and a
 * four-bar chord progression, one chord a bar, sometimes re-picked every
 * eight bars. Each bar then gets a bass note on the chord's root, a held
 * pad chord, the feel's accompaniment (a lullaby broken chord, a rising
 * arpeggio, oom-pah, a staccato pulse or block chords) and a melody in
 * phrases of two to four bars: rhythms from small per-metre tables, chord
 * tones on strong beats, steps between them, a long chord tone to close
 * each phrase, and now and then a phrase of rest.
 *
 * Rendering goes bar by bar: the bar's note-ons and -offs are sorted and
 * the synth is run up to each one, so every note starts at its exact
 * sample. Those samples are on fluidsynth's own 64-sample block grid (2.7
 * ms), because the synth only applies events between blocks: snapping to it
 * makes the result independent of how the output is chunked. The stereo
 * output is mixed to mono, the notes stop a second before the end so the
 * release and reverb ring out under the fade-out, and the whole is faded
 * in and out and scaled to peak at -6 dBFS.
 *
 * A synth is not safe to share, a reset one does not quite return to its
 * first state, and loading the soundfont takes ~25 ms. So each render makes
 * a fresh synth (~1 ms) and lends it a soundfont already loaded from a
 * small pool, one synth per soundfont at a time (fluidsynth counts a
 * sample's users without atomics); renders thus run in parallel and are
 * deterministic.
 *
 * Speed: rendering time is mostly fluidsynth's voices, so the feels avoid
 * programs that stack many voices a note (TimGM6mb's strings ensemble uses
 * five), pads play two notes, releases are shortened, interpolation is
 * linear and polyphony is capped at 24.
 */
#include "narrate/internal.h"
#include "narrate/narrate.h"

#include <fluidsynth.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define DEFAULT_SOUNDFONT "/usr/share/sounds/sf2/TimGM6mb.sf2"

#define TPB         4    /* composing grid: ticks per beat (sixteenth notes) */
#define BLOCK       64   /* fluidsynth's internal block: events land on its edges */
#define CHUNK       1024 /* frames per fluid_synth_write_float call */
#define MAX_NOTES   96   /* notes one bar can hold, with room to spare */
#define MAX_SECONDS 3600.0

enum { CH_LEAD, CH_PAD, CH_ACC, CH_BASS, CHANNELS };

enum accomp {
	ACC_LULLABY, /* broken chord in eighths: 1 5 8 10 8 5 */
	ACC_ARP,     /* rising arpeggio in eighths */
	ACC_OOMPAH,  /* low root on the downbeat, the chord on the other beats */
	ACC_PULSE,   /* staccato root and fifth by turns on the eighths */
	ACC_BLOCK,   /* the chord struck on the strong beats and held */
};

enum progs { PROG_MAJOR, PROG_LULLABY, PROG_MINOR };

struct feel {
	const char *mood;
	bool minor;
	uint8_t beats; /* per bar: 3 for lullabies, else 4 */
	uint8_t bpm;
	uint8_t key;     /* pitch class of the tonic before the seed's shift */
	uint8_t busy;    /* 0 sparse, 1 moderate, 2 lively melody rhythms */
	uint8_t vel;     /* the lead's velocity; the rest sit under it */
	uint8_t prog;    /* enum progs */
	int8_t lead[2];  /* GM programs (0-based), one picked by seed */
	int8_t pad, acc; /* -1: none */
	uint8_t style;   /* enum accomp */
	int8_t bass;
};

/* GM programs used below (0-based): 0 piano, 8 celesta, 9 glockenspiel,
 * 10 music box, 11 vibraphone, 12 marimba, 13 xylophone, 24 nylon guitar,
 * 32 acoustic bass, 42 cello, 43 contrabass, 44 tremolo strings,
 * 45 pizzicato strings, 46 harp, 50 synth strings, 56 trumpet, 61 brass, 68 oboe, 69 English horn,
 * 70 bassoon, 71 clarinet, 73 flute, 74 recorder, 89 warm pad. Every mood in data/en/beats.json has
 * a row, and a few more that stories and pictures use. */
static const struct feel feels[] = {
    /* mood          minor 3/4 bpm key busy vel prog          lead      pad acc style        bass */
    {"sleepy", false, 3, 63, 5, 0, 78, PROG_LULLABY, {10, 8}, 89, 46, ACC_LULLABY, 42},
    {"peaceful", false, 3, 69, 7, 0, 80, PROG_LULLABY, {8, 73}, 89, 46, ACC_LULLABY, 42},
    {"calm", false, 3, 72, 2, 0, 82, PROG_LULLABY, {73, 46}, 89, 46, ACC_LULLABY, 42},
    {"bedtime", false, 3, 60, 5, 0, 76, PROG_LULLABY, {10, 8}, 89, 46, ACC_LULLABY, 42},
    {"dreamy", false, 3, 66, 3, 0, 78, PROG_LULLABY, {8, 11}, 89, 46, ACC_LULLABY, 42},
    {"cheerful", false, 4, 116, 0, 2, 92, PROG_MAJOR, {12, 13}, -1, 45, ACC_OOMPAH, 32},
    {"happy", false, 4, 112, 7, 2, 92, PROG_MAJOR, {12, 73}, -1, 45, ACC_OOMPAH, 32},
    {"sunny", false, 4, 108, 7, 1, 88, PROG_MAJOR, {73, 9}, -1, 24, ACC_ARP, 32},
    {"joyful", false, 4, 124, 2, 2, 94, PROG_MAJOR, {13, 12}, -1, 0, ACC_OOMPAH, 32},
    {"friendly", false, 4, 104, 5, 1, 88, PROG_MAJOR, {71, 11}, -1, 24, ACC_OOMPAH, 32},
    {"excited", false, 4, 132, 2, 2, 94, PROG_MAJOR, {9, 13}, -1, 45, ACC_PULSE, 32},
    {"surprised", false, 4, 120, 10, 2, 90, PROG_MAJOR, {9, 12}, -1, 45, ACC_ARP, 32},
    {"curious", false, 4, 100, 0, 1, 86, PROG_MAJOR, {71, 70}, -1, 45, ACC_PULSE, 32},
    {"adventurous", false, 4, 112, 2, 1, 92, PROG_MAJOR, {73, 56}, 50, 45, ACC_ARP, 43},
    {"brave", false, 4, 108, 10, 1, 94, PROG_MAJOR, {56, 61}, 50, 45, ACC_PULSE, 43},
    {"proud", false, 4, 96, 3, 1, 92, PROG_MAJOR, {61, 56}, 50, 0, ACC_BLOCK, 43},
    {"hopeful", false, 4, 92, 7, 1, 86, PROG_MAJOR, {73, 68}, 89, 0, ACC_ARP, 32},
    {"thoughtful", false, 4, 80, 5, 0, 82, PROG_MAJOR, {0, 11}, 89, 24, ACC_ARP, 32},
    {"determined", true, 4, 104, 9, 1, 92, PROG_MINOR, {61, 68}, 50, 45, ACC_PULSE, 43},
    {"worried", true, 4, 92, 4, 1, 84, PROG_MINOR, {71, 68}, 89, 45, ACC_PULSE, 42},
    {"tense", true, 4, 100, 2, 1, 86, PROG_MINOR, {68, 71}, 44, 45, ACC_PULSE, 43},
    {"scared", true, 4, 96, 11, 1, 84, PROG_MINOR, {71, 70}, 44, 45, ACC_PULSE, 43},
    {"stormy", true, 4, 112, 7, 1, 88, PROG_MINOR, {68, 61}, 44, 45, ACC_PULSE, 43},
    {"spooky", true, 4, 84, 4, 0, 82, PROG_MINOR, {8, 11}, 89, 46, ACC_ARP, 42},
    {"sad", true, 4, 66, 9, 0, 80, PROG_MINOR, {68, 71}, 89, 0, ACC_ARP, 42},
    {"gloomy", true, 4, 70, 2, 0, 80, PROG_MINOR, {69, 71}, 89, 46, ACC_BLOCK, 43},
};

/* Unknown moods: soft, unhurried and in a major key. */
static const struct feel gentle = {"gentle",   false,    4,  84, 0,       0, 82,
                                   PROG_MAJOR, {73, 46}, 89, 46, ACC_ARP, 42};

/* Four-bar progressions as scale degrees (0 = I or i). */
static const uint8_t major_progs[][4] = {
    {0, 4, 5, 3}, /* I-V-vi-IV */
    {0, 5, 3, 4}, /* I-vi-IV-V */
    {1, 4, 0, 0}, /* ii-V-I */
    {0, 3, 0, 4}, /* I-IV-I-V */
    {0, 2, 3, 4}, /* I-iii-IV-V */
};
static const uint8_t lullaby_progs[][4] = {
    {0, 3, 0, 4}, /* I-IV-I-V */
    {0, 5, 3, 4}, /* I-vi-IV-V */
    {0, 3, 1, 4}, /* I-IV-ii-V */
    {0, 0, 3, 4}, /* I-I-IV-V */
};
static const uint8_t minor_progs[][4] = {
    {0, 5, 2, 6}, /* i-VI-III-VII */
    {0, 3, 4, 0}, /* i-iv-v-i */
    {0, 6, 5, 6}, /* i-VII-VI-VII */
    {0, 3, 6, 2}, /* i-iv-VII-III */
    {0, 5, 3, 4}, /* i-VI-iv-v */
};

static const int8_t major_scale[7] = {0, 2, 4, 5, 7, 9, 11};
static const int8_t minor_scale[7] = {0, 2, 3, 5, 7, 8, 10}; /* natural: softer than harmonic */

/* Melody rhythms in ticks, 0-terminated, by metre and busyness. */
static const uint8_t rhythm4[3][6][7] = {
    {{8, 8}, {12, 4}, {16}, {4, 4, 8}, {8, 4, 4}, {8, 8}},
    {{4, 4, 4, 4}, {8, 4, 4}, {4, 4, 8}, {6, 2, 4, 4}, {4, 2, 2, 8}, {8, 8}},
    {{2, 2, 4, 4, 4},
     {4, 2, 2, 4, 4},
     {2, 2, 2, 2, 4, 4},
     {4, 4, 2, 2, 4},
     {6, 2, 6, 2},
     {4, 4, 4, 4}},
};
static const uint8_t rhythm3[3][6][7] = {
    {{8, 4}, {12}, {4, 8}, {6, 2, 4}, {8, 4}, {12}},
    {{4, 4, 4}, {6, 2, 4}, {4, 8}, {8, 4}, {4, 2, 2, 4}, {4, 4, 4}},
    {{2, 2, 4, 4}, {4, 2, 2, 2, 2}, {4, 4, 2, 2}, {4, 4, 4}, {6, 2, 4}, {2, 2, 2, 2, 4}},
};
/* A phrase's last bar: a long note to close on. */
static const uint8_t cadence4[3][4] = {{4, 4, 8}, {8, 8}, {16}};
static const uint8_t cadence3[3][4] = {{4, 8}, {12}, {8, 4}};

#define COUNT(a) (sizeof(a) / sizeof((a)[0]))

/* The melody moves between these scale steps above its tonic. */
#define MEL_LO 2
#define MEL_HI 11

/* ---- composing ---- */

struct note {
	uint16_t on, off; /* ticks from the bar's start; off <= the bar's length */
	uint8_t ch, key, vel;
};

struct bar {
	struct note n[MAX_NOTES];
	size_t count;
};

struct composer {
	const struct feel *f;
	struct sv_rng rng;
	const int8_t *scale;
	const uint8_t (*progs)[4];
	size_t nprogs;
	const uint8_t *prog;
	int tonic; /* pitch class */
	int lead;  /* GM program */
	int mel;   /* the melody's last scale step above its tonic */
	int bar_ticks;
	size_t bar; /* bars composed so far */
	int phrase_left;
	bool phrase_rest;
};

static const struct feel *feel_for(const char *mood)
{
	for (size_t i = 0; mood && i < COUNT(feels); i++) {
		if (strcasecmp(feels[i].mood, mood) == 0)
			return &feels[i];
	}
	return &gentle;
}

static void composer_init(struct composer *c, const char *mood, uint64_t seed)
{
	memset(c, 0, sizeof *c);
	c->f = feel_for(mood);
	/* The mood goes into the seed so two moods that share a feel still differ. */
	const char *m = mood ? mood : "";
	sv_rng_seed(&c->rng, sv_hash64(m, strlen(m), seed));
	c->scale = c->f->minor ? minor_scale : major_scale;
	switch (c->f->prog) {
	case PROG_LULLABY:
		c->progs = lullaby_progs;
		c->nprogs = COUNT(lullaby_progs);
		break;
	case PROG_MINOR:
		c->progs = minor_progs;
		c->nprogs = COUNT(minor_progs);
		break;
	default:
		c->progs = major_progs;
		c->nprogs = COUNT(major_progs);
	}
	static const int shifts[] = {0, 2, 5, 7};
	c->tonic = (c->f->key + shifts[sv_rng_below(&c->rng, COUNT(shifts))]) % 12;
	c->lead = (int)c->f->lead[sv_rng_below(&c->rng, 2)]; /* -1 stays -1: no instrument */
	c->prog = c->progs[sv_rng_below(&c->rng, (uint32_t)c->nprogs)];
	c->mel = 7;
	c->bar_ticks = c->f->beats * TPB;
}

/* Semitones of scale step i above the tonic (i may be negative). */
static int step_pitch(const struct composer *c, int i)
{
	int oct = i >= 0 ? i / 7 : -((6 - i) / 7);
	return 12 * oct + c->scale[i - 7 * oct];
}

/* pc placed in [lo, lo + 12). */
static int place(int pc, int lo)
{
	return lo + ((pc - lo) % 12 + 12) % 12;
}

static bool is_chord_tone(int step, int degree)
{
	int r = ((step - degree) % 7 + 7) % 7;
	return r == 0 || r == 2 || r == 4;
}

static void add(struct bar *b, int on, int off, int ch, int key, int vel)
{
	if (b->count == MAX_NOTES || off <= on || key < 0 || key > 127)
		return;
	vel = vel < 1 ? 1 : vel > 127 ? 127 : vel;
	b->n[b->count++] =
	    (struct note){(uint16_t)on, (uint16_t)off, (uint8_t)ch, (uint8_t)key, (uint8_t)vel};
}

/* The next melody step: the chord tone nearest the last step when the note
 * falls on a strong beat (sometimes the second nearest, for shape), else a
 * step or a skip, leaning back towards the middle of the range. */
static int next_step(struct composer *c, int degree, bool strong)
{
	int cur = c->mel;
	if (strong) {
		int best = -1, second = -1;
		for (int d = 0; d <= MEL_HI - MEL_LO; d++) {
			for (int sgn = -1; sgn <= 1; sgn += 2) {
				int s = cur + sgn * d;
				if (s < MEL_LO || s > MEL_HI || !is_chord_tone(s, degree))
					continue;
				if (best < 0)
					best = s;
				else if (second < 0 && s != best)
					second = s;
			}
			if (second >= 0)
				break;
		}
		if (best == cur && second >= 0 && sv_rng_unit(&c->rng) < 0.5)
			return second;
		if (second >= 0 && sv_rng_unit(&c->rng) < 0.25)
			return second;
		return best;
	}
	int size = sv_rng_unit(&c->rng) < 0.75 ? 1 : 2;
	int middle = (MEL_LO + MEL_HI) / 2;
	double up = 0.5 + (double)(middle - cur) * 0.08;
	int s = cur + (sv_rng_unit(&c->rng) < up ? size : -size);
	if (s < MEL_LO)
		s = MEL_LO + 1;
	if (s > MEL_HI)
		s = MEL_HI - 1;
	return s;
}

static void melody(struct composer *c, int degree, bool last, struct bar *b)
{
	const struct feel *f = c->f;
	if (c->phrase_left == 0) {
		static const int lengths[] = {2, 4, 4, 3};
		c->phrase_left = lengths[sv_rng_below(&c->rng, COUNT(lengths))];
		/* A phrase of rest now and then lets the accompaniment breathe. */
		c->phrase_rest = c->bar > 0 && sv_rng_unit(&c->rng) < 0.15;
	}
	bool end = c->phrase_left == 1 || last;
	c->phrase_left--;
	if (c->phrase_rest)
		return;
	const uint8_t *r;
	if (end)
		r = f->beats == 3 ? cadence3[sv_rng_below(&c->rng, COUNT(cadence3))]
		                  : cadence4[sv_rng_below(&c->rng, COUNT(cadence4))];
	else
		r = f->beats == 3 ? rhythm3[f->busy][sv_rng_below(&c->rng, COUNT(rhythm3[0]))]
		                  : rhythm4[f->busy][sv_rng_below(&c->rng, COUNT(rhythm4[0]))];
	int base = place(c->tonic, 60); /* the melody's tonic: C4..B4 */
	int t = 0;
	for (size_t i = 0; r[i] && t < c->bar_ticks; i++) {
		int dur = r[i];
		bool final = end && !r[i + 1];
		bool strong = t % (2 * TPB) == 0 || final;
		/* Short rests, never on the downbeat or the closing note. */
		if (t > 0 && !final && sv_rng_unit(&c->rng) < 0.08) {
			t += dur;
			continue;
		}
		int s = next_step(c, degree, strong);
		if (final) {
			/* Close on the chord's root where it is in range. */
			for (int d = MEL_LO; d <= MEL_HI; d++) {
				if ((d - degree) % 7 == 0 && abs(d - c->mel) <= 4)
					s = d;
			}
		}
		c->mel = s;
		int accent = t == 0 ? 8 : t % TPB == 0 ? 2 : -4;
		int vel = f->vel + accent + (int)sv_rng_below(&c->rng, 7) - 3;
		add(b, t, t + dur, CH_LEAD, base + step_pitch(c, s), vel);
		t += dur;
	}
}

static void accompany(struct composer *c, int degree, struct bar *b)
{
	const struct feel *f = c->f;
	int root_pc = (c->tonic + c->scale[degree]) % 12;
	int third = step_pitch(c, degree + 2) - step_pitch(c, degree);
	int fifth = step_pitch(c, degree + 4) - step_pitch(c, degree);
	int n = c->bar_ticks, e = TPB / 2; /* an eighth */
	int v = f->vel - 18;

	int bass = place(root_pc, 36); /* C2..B2 */
	add(b, 0, n, CH_BASS, bass, f->vel - 12);

	if (f->pad >= 0) {
		int p = place(root_pc, 55); /* close voicing around middle C */
		int pv = f->vel - 26;
		/* Root and third: the fifth is in the bass's overtones and the
		 * accompaniment, and each pad note costs several voices. */
		add(b, 0, n, CH_PAD, p, pv);
		add(b, 0, n, CH_PAD, p + third, pv);
	}
	if (f->acc < 0)
		return;
	int r = place(root_pc, 48); /* C3..B3 */
	switch (f->style) {
	case ACC_LULLABY: {
		const int up3[] = {0, fifth, 12, 12 + third, 12, fifth};
		const int up4[] = {0, fifth, 12, 12 + third, 12 + fifth, 12 + third, 12, fifth};
		const int *pat = f->beats == 3 ? up3 : up4;
		/* Each note rings on for a beat, as a harp's strings would. */
		for (int i = 0; i * e < n; i++)
			add(b, i * e, i * e + TPB > n ? n : i * e + TPB, CH_ACC, r + pat[i],
			    v - (i % 2 ? 6 : 0));
		break;
	}
	case ACC_ARP: {
		const int pat[] = {0, third, fifth, 12};
		for (int i = 0; i * e < n; i++)
			add(b, i * e, i * e + e, CH_ACC, r + pat[i % 4], v - (i % 2 ? 6 : 0));
		break;
	}
	case ACC_OOMPAH:
		add(b, 0, TPB, CH_ACC, r, v + 4);
		for (int beat = 1; beat < f->beats; beat++) {
			int t = beat * TPB;
			add(b, t, t + e, CH_ACC, r + 12 + third, v - 6);
			add(b, t, t + e, CH_ACC, r + 12 + fifth, v - 6);
		}
		break;
	case ACC_PULSE:
		/* Root and fifth by turns: one string at a time keeps it light. */
		for (int t = 0; t < n; t += e)
			add(b, t, t + 1, CH_ACC, r + (t % TPB ? fifth : 0), v - (t % TPB ? 8 : 0));
		break;
	case ACC_BLOCK:
		for (int t = 0; t < n; t += 2 * TPB) {
			int len = n - t < 2 * TPB ? n - t : 2 * TPB;
			if (f->beats == 3)
				len = n;
			add(b, t, t + len, CH_ACC, r + 12, v);
			add(b, t, t + len, CH_ACC, r + 12 + third, v);
			add(b, t, t + len, CH_ACC, r + 12 + fifth, v);
			if (f->beats == 3)
				break;
		}
		break;
	}
}

static void compose_bar(struct composer *c, bool last, struct bar *b)
{
	b->count = 0;
	/* Every eight bars the progression may change, for variety over a long page. */
	if (c->bar > 0 && c->bar % 8 == 0 && sv_rng_unit(&c->rng) < 0.5)
		c->prog = c->progs[sv_rng_below(&c->rng, (uint32_t)c->nprogs)];
	int degree = last ? 0 : c->prog[c->bar % 4];
	accompany(c, degree, b);
	melody(c, degree, last, b);
	c->bar++;
}

/* ---- the timeline: ticks to samples ---- */

struct timeline {
	double spt;       /* samples per tick */
	size_t total;     /* samples to produce */
	size_t music_end; /* no note sounds past this; the rest is release and reverb */
};

static size_t snap(double samples)
{
	return (size_t)llround(samples / BLOCK) * BLOCK;
}

static int timeline_init(struct timeline *tl, const struct feel *f, double seconds)
{
	if (!(seconds >= 0.5 && seconds <= MAX_SECONDS))
		return -1;
	tl->spt = SV_NARRATE_RATE * 60.0 / (f->bpm * (double)TPB);
	tl->total = (size_t)llround(seconds * SV_NARRATE_RATE);
	double tail = seconds * 0.2 < 1.0 ? seconds * 0.2 : 1.0;
	tl->music_end = (size_t)((seconds - tail) * SV_NARRATE_RATE) / BLOCK * BLOCK;
	return 0;
}

/* ---- rendering ---- */

enum { EV_OFF, EV_ON };

struct event {
	size_t at;
	uint8_t kind, ch, key, vel;
};

struct slot {
	fluid_settings_t *settings;
	fluid_synth_t *synth;
};

/* A soundfont loaded by a synth of its own, which never renders. */
struct font {
	struct slot owner;
	fluid_sfont_t *sf;
};

#define POOL 8 /* idle soundfonts kept for reuse */

struct sv_music {
	char *path;
	pthread_mutex_t mu;
	struct font idle[POOL];
	size_t nidle;
};

static void quiet_log(int level, const char *message, void *data)
{
	(void)data;
	if (level <= FLUID_WARN)
		sv_log(SV_LOG_DEBUG, "fluidsynth", json_pack("{ss}", "message", message));
}

static pthread_once_t log_once = PTHREAD_ONCE_INIT;

static void set_log(void)
{
	for (int level = FLUID_PANIC; level < LAST_LOG_LEVEL; level++)
		fluid_set_log_function(level, quiet_log, NULL);
}

static fluid_settings_t *make_settings(void)
{
	fluid_settings_t *s = new_fluid_settings();
	if (!s)
		return NULL;
	fluid_settings_setnum(s, "synth.sample-rate", SV_NARRATE_RATE);
	fluid_settings_setnum(s, "synth.gain", 0.4);
	/* A few voices at a time: a small pool keeps the voice loop cheap. */
	fluid_settings_setint(s, "synth.polyphony", 24);
	fluid_settings_setint(s, "synth.cpu-cores", 1);
	/* One thread owns each synth, so fluidsynth's own locking is waste. */
	fluid_settings_setint(s, "synth.threadsafe-api", 0);
	/* Containers rarely allow mlock, and we do not need it offline. */
	fluid_settings_setint(s, "synth.lock-memory", 0);
	fluid_settings_setint(s, "synth.reverb.active", 1);
	fluid_settings_setnum(s, "synth.reverb.room-size", 0.45);
	fluid_settings_setnum(s, "synth.reverb.damp", 0.5);
	fluid_settings_setnum(s, "synth.reverb.width", 0.6);
	fluid_settings_setnum(s, "synth.reverb.level", 0.5);
	fluid_settings_setint(s, "synth.chorus.active", 1);
	fluid_settings_setint(s, "synth.chorus.nr", 3);
	fluid_settings_setnum(s, "synth.chorus.level", 0.6);
	fluid_settings_setnum(s, "synth.chorus.speed", 0.3);
	fluid_settings_setnum(s, "synth.chorus.depth", 4.0);
	return s;
}

/* A synth and its settings, with no soundfont yet; 0 or -1. */
static int make_synth(struct slot *sl, struct sv_err *err)
{
	sl->synth = NULL;
	sl->settings = make_settings();
	if (sl->settings)
		sl->synth = new_fluid_synth(sl->settings);
	if (!sl->synth) {
		delete_fluid_settings(sl->settings);
		sl->settings = NULL;
		return sv_err_set(err, "internal", "", "could not start the music synthesiser");
	}
	return 0;
}

static void drop_synth(struct slot *sl)
{
	delete_fluid_synth(sl->synth);
	delete_fluid_settings(sl->settings);
}

static int load_font(const char *path, struct font *f, struct sv_err *err)
{
	if (make_synth(&f->owner, err) < 0)
		return -1;
	int id = fluid_synth_sfload(f->owner.synth, path, 1);
	if (id == FLUID_FAILED || !(f->sf = fluid_synth_get_sfont_by_id(f->owner.synth, id))) {
		drop_synth(&f->owner);
		return sv_err_set(err, "invalid_value", "soundfont",
		                  "%s could not be loaded as a SoundFont", path);
	}
	return 0;
}

struct sv_music *sv_music_new(const char *soundfont, struct sv_err *err)
{
	const char *path = soundfont ? soundfont : DEFAULT_SOUNDFONT;
	pthread_once(&log_once, set_log);
	/* Checked here for a clear message; fluidsynth would only log it. */
	FILE *f = fopen(path, "rb");
	if (!f) {
		sv_err_set(err, "invalid_value", "soundfont", "cannot read the soundfont %s", path);
		return NULL;
	}
	fclose(f);
	if (!fluid_is_soundfont(path)) {
		sv_err_set(err, "invalid_value", "soundfont", "%s is not a SoundFont 2 file", path);
		return NULL;
	}
	struct sv_music *m = calloc(1, sizeof *m);
	if (!m || !(m->path = strdup(path))) {
		free(m);
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	pthread_mutex_init(&m->mu, NULL);
	if (load_font(path, &m->idle[0], err) < 0) {
		sv_music_free(m);
		return NULL;
	}
	m->nidle = 1;
	return m;
}

void sv_music_free(struct sv_music *m)
{
	if (!m)
		return;
	for (size_t i = 0; i < m->nidle; i++)
		drop_synth(&m->idle[i].owner);
	pthread_mutex_destroy(&m->mu);
	free(m->path);
	free(m);
}

/* A fresh synth playing an idle soundfont (loaded anew when all are busy).
 * A new synth costs ~1 ms where loading costs ~25 ms, and it always starts
 * from the same state, which a reset one does not quite. A soundfont is
 * lent to one synth at a time: fluidsynth counts a sample's users without
 * atomics. */
static int take_synth(struct sv_music *m, struct font *f, struct slot *sl, struct sv_err *err)
{
	pthread_mutex_lock(&m->mu);
	bool got = m->nidle > 0;
	if (got)
		*f = m->idle[--m->nidle];
	pthread_mutex_unlock(&m->mu);
	if (!got && load_font(m->path, f, err) < 0)
		return -1;
	if (make_synth(sl, err) < 0) {
		drop_synth(&f->owner);
		return -1;
	}
	if (fluid_synth_add_sfont(sl->synth, f->sf) == FLUID_FAILED) {
		drop_synth(sl);
		drop_synth(&f->owner);
		return sv_err_set(err, "internal", "", "could not start the music synthesiser");
	}
	return 0;
}

/* Takes the soundfont back before the synth would free it, and keeps it. */
static void give_synth(struct sv_music *m, struct font *f, struct slot *sl)
{
	fluid_synth_remove_sfont(sl->synth, f->sf);
	drop_synth(sl);
	pthread_mutex_lock(&m->mu);
	bool kept = m->nidle < POOL;
	if (kept)
		m->idle[m->nidle++] = *f;
	pthread_mutex_unlock(&m->mu);
	if (!kept)
		drop_synth(&f->owner);
}

struct render {
	fluid_synth_t *synth;
	float *dst;
	size_t pos; /* samples written to dst */
	float l[CHUNK], r[CHUNK];
};

/* Runs the synth up to sample `to`, mixing its stereo output to mono. */
static void advance(struct render *rd, size_t to)
{
	while (rd->pos < to) {
		int n = to - rd->pos < CHUNK ? (int)(to - rd->pos) : CHUNK;
		fluid_synth_write_float(rd->synth, n, rd->l, 0, 1, rd->r, 0, 1);
		float *d = rd->dst + rd->pos;
		for (int i = 0; i < n; i++)
			d[i] = 0.5f * (rd->l[i] + rd->r[i]);
		rd->pos += (size_t)n;
	}
}

/* Orders by time, offs before ons at the same sample (so a repeated key is
 * released before it is struck again), else as composed. */
static void sort_events(struct event *ev, size_t n)
{
	for (size_t i = 1; i < n; i++) {
		struct event e = ev[i];
		size_t j = i;
		while (j > 0 &&
		       (ev[j - 1].at > e.at || (ev[j - 1].at == e.at && ev[j - 1].kind > e.kind))) {
			ev[j] = ev[j - 1];
			j--;
		}
		ev[j] = e;
	}
}

/* Composes bar after bar until the music ends, handing each bar's events
 * (already clipped to music_end) to rd when there is one; returns the
 * number of notes started. */
static size_t perform(struct composer *c, const struct timeline *tl, struct render *rd)
{
	struct bar b;
	struct event ev[2 * MAX_NOTES];
	size_t notes = 0;
	for (;;) {
		size_t start_tick = c->bar * (size_t)c->bar_ticks;
		size_t start = snap((double)start_tick * tl->spt);
		if (start >= tl->music_end)
			break;
		size_t end = snap((double)(start_tick + (size_t)c->bar_ticks) * tl->spt);
		compose_bar(c, end >= tl->music_end, &b);
		size_t ne = 0;
		for (size_t i = 0; i < b.count; i++) {
			const struct note *n = &b.n[i];
			size_t on = snap((double)(start_tick + n->on) * tl->spt);
			size_t off = snap((double)(start_tick + n->off) * tl->spt);
			if (on >= tl->music_end)
				continue;
			if (off > tl->music_end)
				off = tl->music_end;
			if (off <= on)
				off = on + BLOCK;
			ev[ne++] = (struct event){on, EV_ON, n->ch, n->key, n->vel};
			ev[ne++] = (struct event){off, EV_OFF, n->ch, n->key, 0};
			notes++;
		}
		if (!rd)
			continue;
		sort_events(ev, ne);
		for (size_t i = 0; i < ne; i++) {
			advance(rd, ev[i].at);
			if (ev[i].kind == EV_ON)
				fluid_synth_noteon(rd->synth, ev[i].ch, ev[i].key, ev[i].vel);
			else
				fluid_synth_noteoff(rd->synth, ev[i].ch, ev[i].key);
		}
	}
	return notes;
}

static void setup_channels(fluid_synth_t *s, const struct composer *c)
{
	const struct feel *f = c->f;
	const int prog[CHANNELS] = {c->lead, f->pad, f->acc, f->bass};
	const int volume[CHANNELS] = {100, 72, 80, 84};
	const int reverb[CHANNELS] = {50, 60, 45, 25};
	const int chorus[CHANNELS] = {10, 30, 10, 0};
	const float release[CHANNELS] = {-1800, -2400, -3000, -1200};
	/* Linear interpolation: the bed sits quietly under a voice, and the
	 * default 4th-order costs a fifth more time. Set on every render, as a
	 * reset puts the channels back to the default. */
	fluid_synth_set_interp_method(s, -1, FLUID_INTERP_LINEAR);
	for (int ch = 0; ch < CHANNELS; ch++) {
		if (prog[ch] >= 0)
			fluid_synth_program_change(s, ch, prog[ch]);
		fluid_synth_cc(s, ch, 7, volume[ch]);
		fluid_synth_cc(s, ch, 91, reverb[ch]);
		fluid_synth_cc(s, ch, 93, chorus[ch]);
		/* Shorter releases (timecents added to the soundfont's): strings
		 * and pads otherwise ring for seconds after each chord, and the
		 * voices still sounding are most of the rendering time. */
		fluid_synth_set_gen(s, ch, GEN_VOLENVRELEASE, release[ch]);
	}
}

/* Raised-cosine fades (near silence at the very ends), then the peak to
 * -6 dBFS. */
static void shape(float *s, size_t n, double seconds)
{
	double in = seconds * 0.3 < 1.5 ? seconds * 0.3 : 1.5;
	double out = seconds * 0.4 < 2.0 ? seconds * 0.4 : 2.0;
	size_t nin = (size_t)(in * SV_NARRATE_RATE), nout = (size_t)(out * SV_NARRATE_RATE);
	for (size_t i = 0; i < nin && i < n; i++) {
		double g = sin(M_PI / 2 * (double)i / (double)nin);
		s[i] *= (float)(g * g);
	}
	for (size_t i = 0; i < nout && i < n; i++) {
		double g = sin(M_PI / 2 * (double)i / (double)nout);
		s[n - 1 - i] *= (float)(g * g);
	}
	float peak = 0;
	for (size_t i = 0; i < n; i++) {
		float a = fabsf(s[i]);
		if (a > peak)
			peak = a;
	}
	if (peak > 0) {
		float k = 0.5f / peak;
		for (size_t i = 0; i < n; i++)
			s[i] *= k;
	}
}

int sv_music_plan(const char *mood, uint64_t seed, double seconds, struct sv_music_plan *out)
{
	struct composer c;
	struct timeline tl;
	composer_init(&c, mood, seed);
	if (timeline_init(&tl, c.f, seconds) < 0)
		return -1;
	out->known = c.f != &gentle;
	out->bpm = c.f->bpm;
	out->beats_per_bar = c.f->beats;
	out->notes = perform(&c, &tl, NULL);
	return 0;
}

int sv_music_render(struct sv_music *m, const char *mood, uint64_t seed, double seconds,
                    struct sv_pcm *out, struct sv_err *err)
{
	struct composer c;
	struct timeline tl;
	composer_init(&c, mood, seed);
	if (timeline_init(&tl, c.f, seconds) < 0)
		return sv_err_set(err, "invalid_value", "seconds",
		                  "music lasts from 0.5 to %.0f seconds, not %g", MAX_SECONDS,
		                  seconds);
	struct render *rd = malloc(sizeof *rd);
	if (!rd)
		return sv_err_set(err, "nomem", "", "out of memory");
	struct font f;
	struct slot sl;
	if (take_synth(m, &f, &sl, err) < 0) {
		free(rd);
		return -1;
	}
	rd->synth = sl.synth;
	size_t start = out->n;
	if (sv_pcm_silence(out, tl.total) < 0) {
		give_synth(m, &f, &sl);
		free(rd);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	rd->dst = out->s + start;
	rd->pos = 0;
	setup_channels(rd->synth, &c);
	perform(&c, &tl, rd);
	advance(rd, tl.total);
	/* Use up the synth's last block, or its rest would open the next render. */
	if (tl.total % BLOCK)
		fluid_synth_write_float(rd->synth, BLOCK - (int)(tl.total % BLOCK), rd->l, 0, 1,
		                        rd->r, 0, 1);
	give_synth(m, &f, &sl);
	free(rd);
	shape(out->s + start, tl.total, seconds);
	return 0;
}
