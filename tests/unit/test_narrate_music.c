/* Unit tests for the music bed: length, determinism, level, fades, every
 * mood the story catalog uses, tempo by mood, bad arguments, parallel
 * renders, and the real-time factor (printed). */
#include "narrate/internal.h"
#include "narrate/narrate.h"

#include <math.h>
#include <pthread.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cmocka.h>

static struct sv_music *music;

static int setup(void **state)
{
	struct sv_err err;
	music = sv_music_new(NULL, &err);
	if (!music)
		fprintf(stderr, "sv_music_new: %s\n", err.message);
	return music ? 0 : -1;
}

static int teardown(void **state)
{
	sv_music_free(music);
	return 0;
}

static void render(const char *mood, uint64_t seed, double seconds, struct sv_pcm *out)
{
	struct sv_err err;
	if (sv_music_render(music, mood, seed, seconds, out, &err) != 0)
		fail_msg("%s: %s", mood, err.message);
}

static double rms(const float *s, size_t n)
{
	double sum = 0;
	for (size_t i = 0; i < n; i++)
		sum += (double)s[i] * s[i];
	return n ? sqrt(sum / (double)n) : 0;
}

static float peak(const float *s, size_t n)
{
	float p = 0;
	for (size_t i = 0; i < n; i++)
		p = fabsf(s[i]) > p ? fabsf(s[i]) : p;
	return p;
}

/* Heard, near -6 dBFS at the peak and never above about -5 dBFS. */
static void check_level(const char *mood, const struct sv_pcm *p)
{
	float pk = peak(p->s, p->n);
	double r = rms(p->s, p->n);
	if (!(pk <= 0.5623f && pk >= 0.45f && r > 0.02))
		fail_msg("%s: peak %.3f rms %.4f", mood, pk, r);
}

static void renders_the_length_asked_and_appends(void **state)
{
	const double lengths[] = {0.5, 2.0, 7.3, 31.25};
	for (size_t i = 0; i < sizeof lengths / sizeof *lengths; i++) {
		struct sv_pcm p = {0};
		assert_int_equal(sv_pcm_silence(&p, 100), 0);
		p.s[0] = 0.25f;
		render("cheerful", 3, lengths[i], &p);
		assert_int_equal(p.n, 100 + (size_t)llround(lengths[i] * SV_NARRATE_RATE));
		assert_true(p.s[0] == 0.25f);
		for (size_t j = 1; j < 100; j++)
			assert_true(p.s[j] == 0.0f);
		sv_pcm_free(&p);
	}
}

static void same_seed_same_samples_else_different(void **state)
{
	struct sv_pcm a = {0}, b = {0}, c = {0}, d = {0};
	render("adventurous", 11, 6, &a);
	render("sleepy", 11, 6, &c); /* in between, so state cannot leak */
	render("adventurous", 11, 6, &b);
	render("adventurous", 12, 6, &d);
	assert_int_equal(a.n, b.n);
	assert_memory_equal(a.s, b.s, a.n * sizeof *a.s);
	assert_int_equal(a.n, c.n);
	assert_true(memcmp(a.s, c.s, a.n * sizeof *a.s) != 0);
	assert_int_equal(a.n, d.n);
	assert_true(memcmp(a.s, d.s, a.n * sizeof *a.s) != 0);
	sv_pcm_free(&a);
	sv_pcm_free(&b);
	sv_pcm_free(&c);
	sv_pcm_free(&d);
}

static void level_and_fades(void **state)
{
	const char *moods[] = {"cheerful", "sleepy", "tense", "sad"};
	for (size_t i = 0; i < sizeof moods / sizeof *moods; i++) {
		struct sv_pcm p = {0};
		render(moods[i], 5, 12, &p);
		check_level(moods[i], &p);
		size_t w = SV_NARRATE_RATE / 20; /* 50 ms */
		double head = rms(p.s, w), tail = rms(p.s + p.n - w, w);
		double mid = rms(p.s + p.n / 2 - 2 * SV_NARRATE_RATE, 4 * SV_NARRATE_RATE);
		if (!(head < 0.05 * mid && tail < 0.05 * mid))
			fail_msg("%s: head %.5f tail %.5f middle %.4f", moods[i], head, tail, mid);
		sv_pcm_free(&p);
	}
}

/* Every mood in the catalog's beats has a feel of its own and renders. */
static void every_catalog_mood_renders(void **state)
{
	const struct sv_asset *a = sv_asset_find("data/en/beats.json");
	assert_non_null(a);
	json_error_t je;
	json_t *doc = json_loadb((const char *)a->data, a->len, 0, &je);
	assert_non_null(doc);
	json_t *moods = json_object_get(doc, "moods");
	assert_true(json_object_size(moods) > 0);
	const char *beat;
	json_t *list;
	size_t seen = 0;
	json_object_foreach(moods, beat, list)
	{
		size_t i;
		json_t *m;
		json_array_foreach(list, i, m)
		{
			const char *mood = json_string_value(m);
			struct sv_music_plan plan;
			assert_int_equal(sv_music_plan(mood, 1, 10, &plan), 0);
			if (!plan.known)
				fail_msg("the catalog mood %s has no feel of its own", mood);
			struct sv_pcm p = {0};
			render(mood, seen, 4, &p);
			check_level(mood, &p);
			sv_pcm_free(&p);
			seen++;
		}
	}
	json_decref(doc);
	/* Anything else gets the gentle default, and renders too. */
	const char *other[] = {"bewildered", "", NULL};
	for (size_t i = 0; i < 3; i++) {
		struct sv_music_plan plan;
		assert_int_equal(sv_music_plan(other[i], 1, 10, &plan), 0);
		assert_false(plan.known);
		struct sv_pcm p = {0};
		render(other[i], 1, 3, &p);
		check_level("default", &p);
		sv_pcm_free(&p);
	}
}

static double onsets_per_second(const char *mood, uint64_t seed)
{
	struct sv_music_plan plan;
	assert_int_equal(sv_music_plan(mood, seed, 120, &plan), 0);
	return (double)plan.notes / 120;
}

static void sleepy_is_slower(void **state)
{
	struct sv_music_plan sleepy, cheerful, hour;
	assert_int_equal(sv_music_plan("sleepy", 1, 60, &sleepy), 0);
	assert_int_equal(sv_music_plan("cheerful", 1, 60, &cheerful), 0);
	assert_int_equal(sleepy.beats_per_bar, 3);
	assert_int_equal(cheerful.beats_per_bar, 4);
	assert_true(sleepy.bpm < cheerful.bpm);
	const char *lively[] = {"cheerful", "excited", "adventurous", "joyful", "tense"};
	for (uint64_t seed = 0; seed < 8; seed++) {
		double s = onsets_per_second("sleepy", seed);
		for (size_t i = 0; i < sizeof lively / sizeof *lively; i++) {
			double o = onsets_per_second(lively[i], seed);
			if (!(s < o))
				fail_msg("seed %llu: sleepy %.2f onsets/s, %s %.2f",
				         (unsigned long long)seed, s, lively[i], o);
		}
	}
	/* The longest bed composes without trouble. */
	assert_int_equal(sv_music_plan("peaceful", 9, 3600, &hour), 0);
	assert_true(hour.notes > 3600);
}

static void bad_arguments_are_rejected(void **state)
{
	struct sv_err err;
	assert_null(sv_music_new("/nonexistent/none.sf2", &err));
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, "soundfont");

	char path[] = "/tmp/sv-music-XXXXXX";
	int fd = mkstemp(path);
	assert_true(fd >= 0);
	assert_int_equal(write(fd, "not a soundfont\n", 16), 16);
	close(fd);
	sv_err_clear(&err);
	assert_null(sv_music_new(path, &err));
	remove(path);
	assert_string_equal(err.code, "invalid_value");
	assert_string_equal(err.field, "soundfont");

	const double bad[] = {0, -1, 0.2, NAN, INFINITY, 3600.5};
	struct sv_pcm p = {0};
	for (size_t i = 0; i < sizeof bad / sizeof *bad; i++) {
		sv_err_clear(&err);
		assert_int_equal(sv_music_render(music, "calm", 1, bad[i], &p, &err), -1);
		assert_string_equal(err.code, "invalid_value");
		assert_string_equal(err.field, "seconds");
		assert_int_equal(p.n, 0);
	}
	struct sv_music_plan plan;
	assert_int_equal(sv_music_plan("calm", 1, 0, &plan), -1);
}

struct job {
	const char *mood;
	uint64_t seed;
	struct sv_pcm out;
	int rc;
};

static void *run_job(void *arg)
{
	struct job *j = arg;
	struct sv_err err;
	j->rc = sv_music_render(music, j->mood, j->seed, 5, &j->out, &err);
	return NULL;
}

/* One sv_music shared by threads gives what it gives alone. */
static void parallel_renders_match(void **state)
{
	struct job jobs[4] = {{.mood = "calm", .seed = 1},
	                      {.mood = "tense", .seed = 2},
	                      {.mood = "calm", .seed = 1},
	                      {.mood = "joyful", .seed = 3}};
	pthread_t t[4];
	for (int i = 0; i < 4; i++)
		assert_int_equal(pthread_create(&t[i], NULL, run_job, &jobs[i]), 0);
	for (int i = 0; i < 4; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i < 4; i++) {
		assert_int_equal(jobs[i].rc, 0);
		struct sv_pcm alone = {0};
		render(jobs[i].mood, jobs[i].seed, 5, &alone);
		assert_int_equal(alone.n, jobs[i].out.n);
		assert_memory_equal(alone.s, jobs[i].out.s, alone.n * sizeof *alone.s);
		sv_pcm_free(&alone);
		sv_pcm_free(&jobs[i].out);
	}
}

static void real_time_factor(void **state)
{
	const char *moods[] = {"adventurous", "sleepy", "excited"};
	double audio = 0, took = 0;
	for (size_t i = 0; i < 3; i++) {
		struct sv_pcm p = {0};
		int64_t t0 = sv_time_mono_ns();
		render(moods[i], 7, 120, &p);
		took += (double)(sv_time_mono_ns() - t0) / 1e9;
		audio += sv_pcm_seconds(&p);
		sv_pcm_free(&p);
	}
	int64_t t0 = sv_time_mono_ns();
	struct sv_err err;
	struct sv_music *m = sv_music_new(NULL, &err);
	double load = (double)(sv_time_mono_ns() - t0) / 1e6;
	assert_non_null(m);
	sv_music_free(m);
	print_message("music: %.0f s rendered in %.2f s: %.0fx real time (sv_music_new %.1f ms)\n",
	              audio, took, audio / took, load);
	/* Far below the aim (300x), so slow sanitizer builds pass too. */
	assert_true(audio / took > 30);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(renders_the_length_asked_and_appends),
	    cmocka_unit_test(same_seed_same_samples_else_different),
	    cmocka_unit_test(level_and_fades),
	    cmocka_unit_test(every_catalog_mood_renders),
	    cmocka_unit_test(sleepy_is_slower),
	    cmocka_unit_test(bad_arguments_are_rejected),
	    cmocka_unit_test(parallel_renders_match),
	    cmocka_unit_test(real_time_factor),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
