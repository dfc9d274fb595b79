/* `storyverse catalog`: prints the catalog as JSON. */
#include "roles/internal.h"
#include "roles/roles.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char usage[] =
    "usage: storyverse catalog [--lang LANG]\n"
    "\n"
    "Prints the catalog (universes, characters, themes, morals, ages, lengths) as JSON.\n"
    "  --lang LANG   language of the catalog (default: en)\n";

int sv_roles_cmd_catalog(int argc, char **argv)
{
	const char *lang = "en";
	for (int i = 1; i < argc; i++) {
		if (strcmp(argv[i], "--help") == 0 || strcmp(argv[i], "-h") == 0) {
			fputs(usage, stdout);
			return 0;
		} else if (strcmp(argv[i], "--lang") == 0 && i + 1 < argc) {
			lang = argv[++i];
		} else {
			sv_roles_usage_error("catalog", "unknown option '%s' (see --help)",
			                     argv[i]);
			return 2;
		}
	}
	struct sv_err err;
	struct sv_catalog *c = sv_story_catalog_new(lang, &err);
	if (!c) {
		sv_roles_usage_error("catalog", "--lang: %s", err.message);
		return 2;
	}
	json_t *doc = sv_story_catalog_json(c);
	int rc = doc && json_dumpf(doc, stdout, JSON_INDENT(2) | JSON_PRESERVE_ORDER) == 0 ? 0 : 1;
	fputc('\n', stdout);
	json_decref(doc);
	sv_story_catalog_free(c);
	return rc;
}
