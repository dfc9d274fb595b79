/*
 * The espeak-ng text-to-speech provider: speaks a sentence or a few in a
 * voice and variant ("en-us+f3"), with pitch, range and rate, and takes the
 * word timings from espeak-ng's own word events.
 *
 * espeak-ng runs in a helper process, never in this one. espeak-ng 1.51
 * keeps state between calls that no API resets (the pitch-flutter phase is
 * a function-static in wavegen.c; the echo buffer and other synthesis
 * state carry over from the previous text), so in one process the same
 * text spoken twice gives different samples and lengths, and whatever was
 * spoken before changes the next. So each call is synthesised by a
 * process forked from a helper that initialised espeak-ng and never spoke:
 * every call starts from the same state and the output is a pure function
 * of the inputs. The helper is this program itself, started afresh through
 * /proc/self/exe (a constructor below takes it over before main), because
 * forking this process directly is unsafe once it has threads: a child can
 * inherit an allocator lock another thread held (AddressSanitizer's
 * allocator does not guard fork) and hang. The helper also keeps espeak-ng's
 * setlocale() out of this process. Calls are serialised: one helper.
 */
#include "narrate/narrate.h"

#include <errno.h>
#include <espeak-ng/speak_lib.h>
#include <math.h>
#include <pthread.h>
#include <signal.h>
#include <spawn.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

extern char **environ;

#define WORKER_ENV  "SV_ESPEAK_WORKER"
#define FRAME_REPLY 0x52504c59u /* a synthesis follows */
#define FRAME_DONE  0x444f4e45u /* the helper's word on the last request */

#define ESPEAK_RATE_MIN 80
#define ESPEAK_RATE_MAX 450

/* What the child reports before its samples and words. */
enum {
	CHILD_OK = 0,
	CHILD_NO_INIT = 1,
	CHILD_NO_VOICE = 2,
	CHILD_SYNTH = 3,
	CHILD_NOMEM = 4,
	CHILD_RUNAWAY = 5
};

/* A request: the voice, then text_len bytes of text. */
struct request {
	char name[32];
	int32_t pitch, range, rate;
	uint32_t text_len;
};

struct child_head {
	int32_t status;
	int32_t rate;
	uint32_t nsamples;
	uint32_t nwords;
};

/* A word event as the child passes it on: characters, and samples at the
 * synthesiser's rate from the start of this text. */
struct child_word {
	int32_t text_position; /* 1-based, in characters */
	int32_t length;        /* characters */
	int32_t sample;
};

struct collect {
	int16_t *s;
	size_t n, cap;
	struct child_word *w;
	size_t nw, capw;
	size_t limit; /* samples: more than any reading of the text could need */
	int failed;   /* CHILD_NOMEM or CHILD_RUNAWAY */
};

static struct collect *g_collect; /* the child's only synthesis */

static int synth_cb(short *wav, int n, espeak_EVENT *ev)
{
	struct collect *c = g_collect;
	if (n > 0 && wav) {
		/* Some espeak-ng versions speak certain inputs forever: stop. */
		if (c->n + (size_t)n > c->limit) {
			c->failed = CHILD_RUNAWAY;
			return 1;
		}
		if (c->n + (size_t)n > c->cap) {
			size_t cap = c->cap ? c->cap : 65536;
			while (cap < c->n + (size_t)n)
				cap *= 2;
			int16_t *s = realloc(c->s, cap * sizeof *s);
			if (!s) {
				c->failed = CHILD_NOMEM;
				return 1;
			}
			c->s = s;
			c->cap = cap;
		}
		memcpy(c->s + c->n, wav, (size_t)n * sizeof *wav);
		c->n += (size_t)n;
	}
	for (; ev && ev->type != espeakEVENT_LIST_TERMINATED; ev++) {
		/* Word events without a position or length are not words in the
		 * text (espeak-ng emits such markers at some clause ends). */
		if (ev->type != espeakEVENT_WORD || ev->text_position <= 0 || ev->length <= 0)
			continue;
		if (c->nw == c->capw) {
			size_t cap = c->capw ? 2 * c->capw : 64;
			struct child_word *w = realloc(c->w, cap * sizeof *w);
			if (!w) {
				c->failed = CHILD_NOMEM;
				return 1;
			}
			c->w = w;
			c->capw = cap;
		}
		c->w[c->nw++] = (struct child_word){ev->text_position, ev->length, ev->sample};
	}
	return 0;
}

static int write_all(int fd, const void *p, size_t len)
{
	const char *b = p;
	while (len) {
		/* A socket: a helper gone must give an error, not SIGPIPE. */
		ssize_t k = send(fd, b, len, MSG_NOSIGNAL);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		len -= (size_t)k;
	}
	return 0;
}

static int read_all(int fd, void *p, size_t len)
{
	char *b = p;
	while (len) {
		ssize_t k = read(fd, b, len);
		if (k < 0 && errno == EINTR)
			continue;
		if (k <= 0)
			return -1;
		b += k;
		len -= (size_t)k;
	}
	return 0;
}

static int clampi(int v, int lo, int hi)
{
	return v < lo ? lo : v > hi ? hi : v;
}

/* Runs in a process forked from the helper: synthesises and writes a reply
 * frame (head, samples, words) to fd. Never returns. */
static void child_run(int fd, int rate, const struct request *r, const char *text)
{
	struct collect c = {0};
	struct child_head h = {CHILD_OK, rate, 0, 0};
	if (rate <= 0) {
		h.status = CHILD_NO_INIT;
		goto out;
	}
	/* Even at 80 words a minute a character takes well under half a
	 * second to say. */
	c.limit = (size_t)rate * (10 + strlen(text) / 2);
	g_collect = &c;
	espeak_SetSynthCallback(synth_cb);
	if (espeak_SetVoiceByName(r->name) != EE_OK) {
		h.status = CHILD_NO_VOICE;
		goto out;
	}
	espeak_SetParameter(espeakPITCH, clampi(r->pitch, 0, 100), 0);
	espeak_SetParameter(espeakRANGE, clampi(r->range, 0, 100), 0);
	espeak_SetParameter(espeakRATE, clampi(r->rate, ESPEAK_RATE_MIN, ESPEAK_RATE_MAX), 0);
	/* Voices with breath or Klatt noise draw from rand(): seed it so the
	 * noise is the same every time. */
	srand(1);
	espeak_ERROR e =
	    espeak_Synth(text, strlen(text) + 1, 0, POS_CHARACTER, 0, espeakCHARS_UTF8, NULL, NULL);
	if (c.failed)
		h.status = c.failed;
	else if (e != EE_OK)
		h.status = CHILD_SYNTH;
	else {
		h.nsamples = (uint32_t)c.n;
		h.nwords = (uint32_t)c.nw;
	}
out:;
	uint32_t frame = FRAME_REPLY;
	if (write_all(fd, &frame, sizeof frame) == 0 && write_all(fd, &h, sizeof h) == 0 &&
	    h.status == CHILD_OK && write_all(fd, c.s, c.n * sizeof *c.s) == 0)
		write_all(fd, c.w, c.nw * sizeof *c.w);
	_exit(0);
}

/* The helper: initialises espeak-ng once, then for each request forks a
 * process that speaks it from that untouched state, and says when it is
 * done. Single-threaded where it forks, so forking is safe here. Ends when
 * the socket closes. */
static void worker_main(int fd)
{
	/* The synthesiser's own playback thread is not wanted: synchronous. */
	int rate = espeak_Initialize(AUDIO_OUTPUT_SYNCHRONOUS, 0, NULL, 0);
	if (rate > 0)
		espeak_SetVoiceByName("en"); /* loads the English dictionary once */
	for (;;) {
		struct request r;
		if (read_all(fd, &r, sizeof r) < 0 || r.text_len > (1u << 24))
			break;
		char *text = malloc((size_t)r.text_len + 1);
		if (!text || read_all(fd, text, r.text_len) < 0)
			break;
		text[r.text_len] = 0;
		r.name[sizeof r.name - 1] = 0;
		uint32_t done[2] = {FRAME_DONE, 1};
		pid_t pid = fork();
		if (pid == 0)
			child_run(fd, rate, &r, text);
		free(text);
		if (pid > 0) {
			int st = 0;
			while (waitpid(pid, &st, 0) < 0 && errno == EINTR)
				;
			done[1] = WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : 1;
		}
		if (write_all(fd, done, sizeof done) < 0)
			break;
	}
	_exit(0); /* no exit handlers: they belong to the program, not the helper */
}

/* When this program was started as the helper, be the helper. */
__attribute__((constructor)) static void worker_entry(void)
{
	const char *e = getenv(WORKER_ENV);
	if (!e)
		return;
	int fd = atoi(e);
	unsetenv(WORKER_ENV);
	worker_main(fd);
}

/* Byte offset of each character of text (and of its end), as espeak-ng
 * counts characters: one per UTF-8 sequence, one per stray byte. */
static size_t *char_offsets(const char *text, size_t len, size_t *nchars)
{
	size_t *off = malloc((len + 1) * sizeof *off);
	if (!off)
		return NULL;
	size_t i = 0, n = 0;
	while (i < len) {
		off[n++] = i;
		size_t k = sv_utf8_len((const unsigned char *)text + i, len - i);
		i += k ? k : 1;
	}
	off[n] = len;
	*nchars = n;
	return off;
}

static int is_word_byte(unsigned char ch)
{
	/* Letters, digits, apostrophes and every byte of a multibyte character
	 * belong to words; ASCII punctuation and space do not. */
	return ch >= 0x80 || (ch >= '0' && ch <= '9') ||
	       ((ch | 0x20) >= 'a' && (ch | 0x20) <= 'z') || ch == '\'';
}

static size_t to_out_rate(int64_t s, int rate)
{
	/* The resampler's own ratio, rounded to the nearest output sample. */
	return (size_t)llround((double)s * SV_NARRATE_RATE / rate);
}

/* Where the sound in [from, to) of p's new audio ends: one past the last
 * sample above a quiet threshold, or from + 1 when all of it is quiet. */
static size_t sound_end(const struct sv_pcm *p, size_t base, size_t from, size_t to)
{
	const float quiet = 0.004f; /* about -48 dBFS */
	for (size_t i = to; i > from + 1; i--)
		if (fabsf(p->s[base + i - 1]) > quiet)
			return i;
	return from + 1;
}

static int add_words(const char *text, const struct child_word *cw, size_t ncw, int rate,
                     const struct sv_pcm *pcm, size_t base, struct sv_words *words,
                     struct sv_err *err)
{
	size_t len = strlen(text), nchars = 0;
	size_t *off = char_offsets(text, len, &nchars);
	if (!off)
		return sv_err_set(err, "nomem", "", "out of memory");
	size_t total = pcm->n - base;
	size_t last_char = 0, last_sample = 0;
	size_t first = words->n;
	for (size_t i = 0; i < ncw; i++) {
		size_t c0 = (size_t)cw[i].text_position - 1;
		size_t c1 = c0 + (size_t)cw[i].length;
		if (c0 >= nchars)
			continue;
		if (c1 > nchars)
			c1 = nchars;
		size_t b0 = off[c0], b1 = off[c1];
		/* The word's own bytes, without punctuation around it. */
		while (b0 < b1 && !is_word_byte((unsigned char)text[b0]))
			b0++;
		while (b1 > b0 && !is_word_byte((unsigned char)text[b1 - 1]))
			b1--;
		size_t s0 = to_out_rate(cw[i].sample, rate);
		if (b0 == b1 || b0 < last_char || s0 < last_sample || s0 >= total)
			continue; /* out of order or outside the audio: not a word we can place */
		struct sv_word w = {b0, b1, s0, 0};
		if (sv_words_push(words, &w) < 0) {
			free(off);
			return sv_err_set(err, "nomem", "", "out of memory");
		}
		last_char = b1;
		last_sample = s0 + 1;
	}
	free(off);
	/* A word lasts until the next begins, less the pause after it. */
	for (size_t i = first; i < words->n; i++) {
		size_t next = i + 1 < words->n ? words->w[i + 1].sample_start : total;
		words->w[i].sample_end = sound_end(pcm, base, words->w[i].sample_start, next);
	}
	return 0;
}

static pthread_mutex_t g_lock = PTHREAD_MUTEX_INITIALIZER;
static int g_sock = -1; /* to the helper, under g_lock */
static pid_t g_pid;

static void helper_stop(void)
{
	if (g_sock < 0)
		return;
	close(g_sock);
	kill(g_pid, SIGKILL);
	while (waitpid(g_pid, NULL, 0) < 0 && errno == EINTR)
		;
	g_sock = -1;
}

static int helper_start(struct sv_err *err)
{
	int sv[2];
	if (socketpair(AF_UNIX, SOCK_STREAM | SOCK_CLOEXEC, 0, sv) < 0)
		return sv_err_set(err, "internal", "", "espeak-ng: socketpair: %s",
		                  strerror(errno));
	/* The helper's end, at a fixed descriptor without close-on-exec. */
	int target = sv[1] == 100 ? 101 : 100;
	char env_fd[32];
	snprintf(env_fd, sizeof env_fd, WORKER_ENV "=%d", target);
	size_t n = 0;
	while (environ && environ[n])
		n++;
	char **envp = malloc((n + 2) * sizeof *envp);
	if (!envp) {
		close(sv[0]);
		close(sv[1]);
		return sv_err_set(err, "nomem", "", "out of memory");
	}
	for (size_t i = 0; i < n; i++)
		envp[i] = environ[i];
	envp[n] = env_fd;
	envp[n + 1] = NULL;
	char *argv[] = {"storyverse-espeak", NULL};
	posix_spawn_file_actions_t fa;
	posix_spawn_file_actions_init(&fa);
	posix_spawn_file_actions_adddup2(&fa, sv[1], target);
	int rc = posix_spawn(&g_pid, "/proc/self/exe", &fa, NULL, argv, envp);
	posix_spawn_file_actions_destroy(&fa);
	free(envp);
	close(sv[1]);
	if (rc != 0) {
		close(sv[0]);
		return sv_err_set(err, "internal", "", "espeak-ng: starting the helper: %s",
		                  strerror(rc));
	}
	g_sock = sv[0];
	return 0;
}

/* Sends one request and reads the reply: the head, samples and words (s, w
 * malloc'd), then the helper's word that it is done. -1 with err filled;
 * the helper is stopped when the stream can no longer be trusted. */
static int helper_call(const struct sv_voice *v, const char *text, struct child_head *h,
                       int16_t **s, struct child_word **w, struct sv_err *err)
{
	if (g_sock < 0 && helper_start(err) < 0)
		return -1;
	struct request r = {.pitch = v->pitch, .range = v->range, .rate = v->rate};
	snprintf(r.name, sizeof r.name, "%s", v->name);
	r.text_len = (uint32_t)strlen(text);
	uint32_t frame = 0, ok = 1;
	if (write_all(g_sock, &r, sizeof r) < 0 || write_all(g_sock, text, r.text_len) < 0 ||
	    read_all(g_sock, &frame, sizeof frame) < 0)
		goto broken;
	if (frame == FRAME_DONE) { /* the synthesis died before replying */
		if (read_all(g_sock, &ok, sizeof ok) < 0)
			goto broken;
		sv_err_set(err, "internal", "", "espeak-ng failed on the text");
		return -1;
	}
	if (frame != FRAME_REPLY || read_all(g_sock, h, sizeof *h) < 0)
		goto broken;
	if (h->status == CHILD_OK) {
		/* Nothing sensible is longer than an hour. */
		if (h->nsamples > (uint32_t)h->rate * 3600u || h->nwords > h->nsamples)
			goto broken;
		*s = malloc(h->nsamples ? h->nsamples * sizeof **s : 1);
		*w = malloc(h->nwords ? h->nwords * sizeof **w : 1);
		if (!*s || !*w) {
			sv_err_set(err, "nomem", "", "out of memory");
			helper_stop(); /* the reply is still in the socket */
			return -1;
		}
		if (read_all(g_sock, *s, h->nsamples * sizeof **s) < 0 ||
		    read_all(g_sock, *w, h->nwords * sizeof **w) < 0)
			goto broken;
	}
	if (read_all(g_sock, &frame, sizeof frame) < 0 || frame != FRAME_DONE ||
	    read_all(g_sock, &ok, sizeof ok) < 0)
		goto broken;
	return 0;
broken:
	helper_stop();
	return sv_err_set(err, "internal", "", "espeak-ng: the helper process stopped");
}

static int espeak_speak(void *self, const struct sv_voice *v, const char *text, struct sv_pcm *pcm,
                        struct sv_words *words, struct sv_err *err)
{
	(void)self;
	if (!text[0])
		return 0;
	struct child_head h = {0};
	int16_t *s = NULL;
	struct child_word *w = NULL;
	pthread_mutex_lock(&g_lock);
	int rc = helper_call(v, text, &h, &s, &w, err);
	pthread_mutex_unlock(&g_lock);
	if (rc < 0)
		goto done;
	rc = -1;
	switch (h.status) {
	case CHILD_OK:
		break;
	case CHILD_NO_VOICE:
		sv_err_set(err, "invalid_value", "voice", "espeak-ng has no voice \"%s\"", v->name);
		goto done;
	case CHILD_NOMEM:
		sv_err_set(err, "nomem", "", "out of memory");
		goto done;
	case CHILD_RUNAWAY:
		sv_err_set(err, "internal", "", "espeak-ng would not stop speaking the text");
		goto done;
	default:
		sv_err_set(err, "internal", "", "espeak-ng could not %s",
		           h.status == CHILD_NO_INIT ? "start (is espeak-ng-data installed?)"
		                                     : "speak the text");
		goto done;
	}
	size_t base = pcm->n, nwords0 = words->n;
	if (sv_pcm_append_resampled(pcm, s, h.nsamples, h.rate, err) < 0)
		goto done;
	if (add_words(text, w, h.nwords, h.rate, pcm, base, words, err) < 0) {
		pcm->n = base;
		words->n = nwords0;
		goto done;
	}
	rc = 0;
done:
	free(s);
	free(w);
	return rc;
}

/* No state of its own: every call starts a fresh synthesiser. */
static char espeak_self;

void *sv_tts_espeak_new(struct sv_err *err)
{
	(void)err;
	return &espeak_self;
}

static void espeak_free(void *self)
{
	(void)self;
}

const struct sv_tts_ops sv_tts_espeak_ops = {
    .name = "espeak-ng",
    .speak = espeak_speak,
    .free = espeak_free,
};
