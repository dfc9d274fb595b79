/*
 * Route patterns and response helpers. A pattern is a path whose segments are
 * literals or {name} placeholders; a placeholder matches one non-empty segment.
 */
#include "http/http.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int sv_http_route_match(const char *pattern, const char *path, char *buf,
                        const char *params[SV_HTTP_MAX_PARAMS], int *nparams)
{
	*nparams = 0;
	strcpy(buf, path);
	const char *p = pattern;
	char *s = buf;
	while (*p && *s) {
		if (*p == '{') {
			const char *close = strchr(p, '}');
			if (!close || *nparams == SV_HTTP_MAX_PARAMS)
				return 0;
			char *end = strchrnul(s, '/');
			if (end == s)
				return 0;
			params[(*nparams)++] = s;
			p = close + 1;
			int more = *end == '/';
			*end = '\0';
			s = more ? end + 1 : end;
			if (more) {
				if (*p != '/')
					return 0;
				p++;
			}
			continue;
		}
		if (*p != *s)
			return 0;
		p++;
		s++;
	}
	return *p == '\0' && *s == '\0';
}

void sv_http_set_header(struct sv_http_response *res, const char *name, const char *value)
{
	if (res->nheaders == SV_HTTP_MAX_HEADERS)
		return;
	char *n = strdup(name), *v = strdup(value);
	if (!n || !v) {
		free(n);
		free(v);
		return;
	}
	res->headers[res->nheaders][0] = n;
	res->headers[res->nheaders][1] = v;
	res->nheaders++;
}

void sv_http_json(struct sv_http_response *res, int status, json_t *body)
{
	res->status = status;
	res->content_type = "application/json; charset=utf-8";
	res->body.len = 0;
	char *text = body ? json_dumps(body, JSON_COMPACT | JSON_PRESERVE_ORDER) : NULL;
	json_decref(body);
	if (!text || sv_buf_puts(&res->body, text) < 0 || sv_buf_puts(&res->body, "\n") < 0) {
		res->status = 500;
		res->body.len = 0;
		sv_buf_puts(&res->body, "{\"error\":{\"code\":\"internal\",\"message\":\"out of "
		                        "memory\"}}\n");
	}
	free(text);
}

void sv_http_error(struct sv_http_response *res, int status, const char *code, const char *field,
                   const char *fmt, ...)
{
	char message[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(message, sizeof(message), fmt, ap);
	va_end(ap);
	json_t *err = json_pack("{s:s,s:s}", "code", code, "message", message);
	if (err && field && *field)
		json_object_set_new(err, "field", json_string(field));
	sv_http_json(res, status, json_pack("{s:o}", "error", err));
}
