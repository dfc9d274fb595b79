/*
 * roles: the wiring of the modules into the things the binary can be — the
 * command-line sub-commands and the server roles (gateway + story API and the
 * workers, in one process or each in its own: serve --roles, worker --kind). The only module that
 * knows them all.
 */
#ifndef SV_ROLES_H
#define SV_ROLES_H

/* Each sub-command takes the arguments after its name (argv[0] is the command
 * name) and returns the process exit status: 0 ok, 1 failure, 2 bad usage. */
int sv_roles_cmd_catalog(int argc, char **argv);
int sv_roles_cmd_eval(int argc, char **argv);
int sv_roles_cmd_generate(int argc, char **argv);
int sv_roles_cmd_lm(int argc, char **argv);
int sv_roles_cmd_migrate(int argc, char **argv);
int sv_roles_cmd_moderate(int argc, char **argv);
int sv_roles_cmd_review(int argc, char **argv);
int sv_roles_cmd_serve(int argc, char **argv);
int sv_roles_cmd_sheet(int argc, char **argv);
int sv_roles_cmd_worker(int argc, char **argv);
/* backup and restore, in cmd_backup.c */
int sv_roles_cmd_backup(int argc, char **argv);
int sv_roles_cmd_restore(int argc, char **argv);

#endif
