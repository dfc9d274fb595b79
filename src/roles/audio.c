/*
 * The audio role's narrator: opened in a process that takes audio jobs (or
 * by `generate --audio`), from --tts and --no-music, and the options that
 * choose them.
 */
#include "narrate/narrate.h"
#include "roles/internal.h"

#include <getopt.h>
#include <string.h>

int sv_roles_audio_option(const char *cmd, int ch, struct sv_roles_common *c)
{
	switch (ch) {
	case SV_OPT_NO_AUDIO:
		c->no_audio = true;
		return 0;
	case SV_OPT_NO_MUSIC:
		c->no_music = true;
		return 0;
	case SV_OPT_TTS:
		if (strcmp(optarg, "espeak-ng") == 0 || strcmp(optarg, "flite") == 0) {
			c->tts = optarg;
			return 0;
		}
		sv_roles_usage_error(cmd, "--tts: '%s' is not espeak-ng or flite", optarg);
		return 2;
	}
	return -1;
}

static bool takes_audio(const struct sv_app *app)
{
	for (int i = 0; i < app->nkinds; i++)
		if (strcmp(app->kinds[i], SV_JOB_KIND_AUDIO) == 0)
			return true;
	return false;
}

int sv_roles_audio_open(struct sv_app *app, const struct sv_roles_common *opts, bool force,
                        struct sv_err *err)
{
	if (!force && !takes_audio(app))
		return 0;
	struct sv_narrate_options o = {.tts = opts->tts, .music = !opts->no_music, .mp3 = true};
	app->narrator = sv_narrator_new(&o, err);
	return app->narrator ? 0 : -1;
}

void sv_roles_audio_close(struct sv_app *app)
{
	sv_narrator_free(app->narrator);
	app->narrator = NULL;
}
