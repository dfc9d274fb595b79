/* Fuzzes the router and the listen-address parser with arbitrary paths. */
#include "http/http.h"

#include <netinet/in.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

static const char *const patterns[] = {"/api/v1/stories/{id}", "/api/v1/stories", "/{file}",
                                       "/a/{x}/b/{y}", "/"};

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *path = malloc(size + 1);
	char *scratch = malloc(size + 1);
	if (!path || !scratch)
		abort();
	memcpy(path, data, size);
	path[size] = '\0';
	const char *params[SV_HTTP_MAX_PARAMS];
	int n;
	for (size_t i = 0; i < sizeof(patterns) / sizeof(patterns[0]); i++)
		sv_http_route_match(patterns[i], path, scratch, params, &n);
	struct sockaddr_in6 addr;
	unsigned len;
	sv_http_parse_listen(path, &addr, &len, NULL);
	free(path);
	free(scratch);
	return 0;
}
