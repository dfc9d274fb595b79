/*
 * Input moderation in the story role: the free text a request brings — the
 * child's name and a custom character's name, species and traits — is
 * checked for the story's age group before anything is stored. A refusal
 * names the field and the category, never the text itself.
 */
#include "moderate/moderate.h"
#include "roles/internal.h"

#include <stdio.h>
#include <string.h>

int sv_roles_moderate_open(struct sv_app *app, struct sv_err *err)
{
	app->moderator = sv_moderate_new("en", err);
	return app->moderator ? 0 : -1;
}

void sv_roles_moderate_close(struct sv_app *app)
{
	sv_moderate_free(app->moderator);
	app->moderator = NULL;
}

static const char *first_category(unsigned bits)
{
	for (int i = 0; i < 32; i++)
		if (bits & (1u << i))
			return sv_moderate_category_name(i);
	return "unsafe";
}

int sv_roles_moderate_request(const struct sv_app *app, const struct sv_story_params *p,
                              const char **field, const char **category, struct sv_err *err)
{
	if (!app->moderator)
		return 0;
	char traits[SV_STORY_TRAITS_MAX * (SV_STORY_WORD_MAX + 2)] = "";
	for (int i = 0; i < p->custom.n_traits; i++) {
		size_t at = strlen(traits);
		snprintf(traits + at, sizeof traits - at, "%s%s", i ? ", " : "",
		         p->custom.traits[i]);
	}
	const struct {
		const char *field, *text;
	} fields[] = {
	    {"child_name", p->child_name},
	    {"custom.name", p->custom.name},
	    {"custom.species", p->custom.species},
	    {"custom.traits", traits},
	};
	for (size_t i = 0; i < sizeof fields / sizeof fields[0]; i++) {
		if (!fields[i].text[0])
			continue;
		struct sv_moderate_result res;
		if (sv_moderate_check(app->moderator, fields[i].text, strlen(fields[i].text),
		                      p->age[0] ? p->age : NULL, &res, err) < 0)
			return -1;
		if (!res.allowed) {
			*field = fields[i].field;
			*category = first_category(res.categories);
			return 1;
		}
	}
	return 0;
}
