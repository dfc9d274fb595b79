/* A stand-in ComfyUI server for the unit tests: tests/lib/comfyui_standin.mjs
 * run by node on a free loopback port. Every wait is bounded. */
#ifndef COMFYUI_SUPPORT_H
#define COMFYUI_SUPPORT_H

#include "node_support.h"

#include <jansson.h>
#include <stddef.h>

struct comfyui_server {
	struct node_child node;
};

/* Starts the stand-in with extra switches (a NULL-terminated list such as
 * {"--fail", NULL}, or NULL): 0 once it listens, -1 (message on stderr) otherwise. */
int comfyui_support_start(struct comfyui_server *s, const char *const *switches);
/* Stops the server (bounded waits); safe to call twice. */
void comfyui_support_stop(struct comfyui_server *s);
/* Writes the server's base URL, http://127.0.0.1:PORT, into url. */
void comfyui_support_url(const struct comfyui_server *s, char *url, size_t n);
/* The last body POSTed to its /prompt (new reference), or NULL. */
json_t *comfyui_support_last_prompt(const struct comfyui_server *s);
/* A loopback port that nothing listens on (just released by us). */
int comfyui_support_closed_port(void);

#endif
