/*
 * Lookup of the files embedded at build time; the table itself is generated
 * into the build folder by cmake/embed.cmake.
 */
#include "base/base.h"

#include <string.h>

const struct sv_asset *sv_asset_find(const char *name)
{
	for (const struct sv_asset *a = sv_asset_all(); a->name; a++) {
		if (strcmp(a->name, name) == 0)
			return a;
	}
	return NULL;
}
