/*
 * storyverse: one binary, many sub-commands. Each command lives in its own
 * file under src/roles/; this table is the only list of them.
 */
#include "base/base.h"
#include "roles/roles.h"

#include <stdio.h>
#include <string.h>

static const struct command {
	const char *name;
	int (*run)(int argc, char **argv);
	const char *summary;
} commands[] = {
    {"serve", sv_roles_cmd_serve, "run the web page, the API and the story workers"},
    {"worker", sv_roles_cmd_worker, "take jobs of one kind (text) from the queue"},
    {"migrate", sv_roles_cmd_migrate, "bring the database schema up to date"},
    {"backup", sv_roles_cmd_backup, "write the stories and their media into one archive"},
    {"restore", sv_roles_cmd_restore, "put a backup into an empty database and blob store"},
    {"generate", sv_roles_cmd_generate, "write one story into a folder"},
    {"catalog", sv_roles_cmd_catalog, "print the universes, characters, themes and morals"},
    {"sheet", sv_roles_cmd_sheet, "draw a character's sheet: every expression"},
    {"lm", sv_roles_cmd_lm, "run a language model: generate, bench, quantize"},
    {"moderate", sv_roles_cmd_moderate, "check children's text for unsafe content"},
    {"review", sv_roles_cmd_review, "stories held by moderation: list, approve, reject"},
    {"eval", sv_roles_cmd_eval, "measure how a sample of stories reads, per age band"},
};

static void help(FILE *to)
{
	fprintf(to, "usage: storyverse <command> [options]\n"
	            "       storyverse <command> --help\n"
	            "       storyverse --version\n\n"
	            "StoryVerse makes personalised storybooks for children.\n\ncommands:\n");
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(to, "  %-10s %s\n", commands[i].name, commands[i].summary);
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		help(stderr);
		return 2;
	}
	const char *cmd = argv[1];
	if (strcmp(cmd, "--help") == 0 || strcmp(cmd, "-h") == 0 || strcmp(cmd, "help") == 0) {
		help(stdout);
		return 0;
	}
	if (strcmp(cmd, "--version") == 0 || strcmp(cmd, "version") == 0) {
		printf("storyverse %s\n", SV_VERSION);
		return 0;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		if (strcmp(cmd, commands[i].name) == 0)
			return commands[i].run(argc - 1, argv + 1);
	fprintf(stderr, "storyverse: unknown command '%s' (choose one of:", cmd);
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++)
		fprintf(stderr, " %s", commands[i].name);
	fprintf(stderr, ")\n");
	return 2;
}
