/*
 * The server: libmicrohttpd with an internal thread pool. The access callback
 * gathers the body (refusing more than SV_HTTP_BODY_MAX), then runs the
 * request through request ids, limits, routing and the handler, and finally
 * logs the request and counts it in the metrics. Streamed answers are
 * handed to stream.c.
 */
#include "http/http.h"
#include "http/stream.h"

#include <arpa/inet.h>
#include <microhttpd.h>
#include <netinet/in.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

struct sv_http_server {
	struct MHD_Daemon *daemon;
	const struct sv_http_route *routes;
	void *ctx;
	struct sv_metrics *metrics;
	struct sv_http_streams *streams;
};

/* Per-request state kept by libmicrohttpd between calls of the access callback. */
struct pending {
	int64_t start_ns;
	struct sv_buf body;
	int too_large;
};

static void mhd_log(void *cls, const char *fmt, va_list ap)
{
	struct sv_buf b;
	sv_buf_init(&b);
	sv_buf_vprintf(&b, fmt, ap);
	while (b.len && b.data[b.len - 1] == '\n')
		b.data[--b.len] = '\0';
	sv_log(SV_LOG_WARN, "http server", json_pack("{s:s}", "detail", b.data ? b.data : ""));
	sv_buf_free(&b);
}

static void completed(void *cls, struct MHD_Connection *c, void **con_cls,
                      enum MHD_RequestTerminationCode toe)
{
	struct pending *p = *con_cls;
	if (p) {
		sv_buf_free(&p->body);
		free(p);
		*con_cls = NULL;
	}
}

const char *sv_http_query(const struct sv_http_request *req, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)req->conn,
	                                   MHD_GET_ARGUMENT_KIND, name);
}

const char *sv_http_header(const struct sv_http_request *req, const char *name)
{
	return MHD_lookup_connection_value((struct MHD_Connection *)req->conn, MHD_HEADER_KIND,
	                                   name);
}

/* A client's request id is kept when it is short and plain; otherwise we make one. */
static void request_id(struct MHD_Connection *c, char out[65])
{
	const char *given = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "X-Request-Id");
	size_t n = given ? strlen(given) : 0;
	if (n > 0 && n <= 64 &&
	    strspn(given, "abcdefghijklmnopqrstuvwxyzABCDEFGHIJKLMNOPQRSTUV"
	                  "WXYZ0123456789-_.") == n) {
		memcpy(out, given, n + 1);
		return;
	}
	if (sv_random_hex(out, 16) < 0)
		strcpy(out, "unknown");
}

static int is_json(const char *content_type)
{
	if (!content_type)
		return 0;
	size_t n = strlen("application/json");
	return strncasecmp(content_type, "application/json", n) == 0 &&
	       (content_type[n] == '\0' || content_type[n] == ';' || content_type[n] == ' ');
}

/* Finds the route and runs it, or answers 404/405/415 itself. Returns the route's
 * pattern (for metrics) or a fixed label. */
static const char *dispatch(struct sv_http_server *s, struct sv_http_request *req,
                            struct sv_http_response *res)
{
	const char *method = strcmp(req->method, "HEAD") == 0 ? "GET" : req->method;
	char allow[64] = "";
	size_t plen = strlen(req->path);
	char *scratch = malloc(plen + 1);
	if (!scratch) {
		sv_http_error(res, 503, "unavailable", NULL, "out of memory");
		return "unmatched";
	}
	const char *label = "unmatched";
	const struct sv_http_route *hit = NULL;
	for (const struct sv_http_route *r = s->routes; r->method; r++) {
		if (!sv_http_route_match(r->pattern, req->path, scratch, req->params,
		                         &req->nparams))
			continue;
		if (!hit && strcmp(label, "unmatched") == 0)
			label = r->pattern;
		if (strcmp(r->method, method) == 0) {
			hit = r;
			label = r->pattern;
			break;
		}
		if (!strstr(allow, r->method) &&
		    strlen(allow) + strlen(r->method) + 3 < sizeof(allow))
			snprintf(allow + strlen(allow), sizeof(allow) - strlen(allow), "%s%s",
			         allow[0] ? ", " : "", r->method);
	}
	if (hit && hit->json_body && !is_json(sv_http_header(req, "Content-Type"))) {
		sv_http_error(res, 415, "unsupported_media_type", NULL,
		              "send the body as application/json");
	} else if (hit) {
		hit->handler(s->ctx, req, res);
	} else if (allow[0]) {
		sv_http_set_header(res, "Allow", allow);
		sv_http_error(res, 405, "method_not_allowed", NULL,
		              "%s is not allowed here (use %s)", req->method, allow);
	} else {
		sv_http_error(res, 404, "not_found", NULL, "no such route: %s", req->path);
	}
	free(scratch);
	return label;
}

static void account(struct sv_http_server *s, const struct sv_http_request *req, int status,
                    const char *label, double seconds)
{
	if (s->metrics) {
		char labels[256];
		snprintf(labels, sizeof(labels), "route=\"%s\",method=\"%s\",status=\"%d\"", label,
		         req->method, status);
		sv_metrics_add(s->metrics, "storyverse_http_requests_total", labels, 1);
		snprintf(labels, sizeof(labels), "route=\"%s\"", label);
		sv_metrics_observe(s->metrics, "storyverse_http_request_duration_seconds", labels,
		                   seconds);
	}
	sv_log(status >= 500 ? SV_LOG_ERROR : SV_LOG_INFO, "request",
	       json_pack("{s:s,s:s,s:s,s:i,s:f}", "request_id", req->request_id, "method",
	                 req->method, "path", req->path, "status", status, "duration_ms",
	                 seconds * 1e3));
}

/* The stream's response, or NULL after turning res into a 503 answer. */
static struct MHD_Response *stream_response(struct sv_http_server *s, struct MHD_Connection *c,
                                            struct sv_http_response *res)
{
	int busy;
	struct MHD_Response *r = sv_http_stream_response(s->streams, c, &res->stream, &busy);
	memset(&res->stream, 0, sizeof(res->stream)); /* the stream owns ctx now */
	if (!r)
		sv_http_error(res, 503, "unavailable", NULL,
		              busy ? "too many open streams; try again later" : "out of memory");
	return r;
}

/* The response for a body held in res (static, built, or empty). */
static struct MHD_Response *body_response(struct sv_http_response *res)
{
	if (res->static_body)
		return MHD_create_response_from_buffer(res->static_len, (void *)res->static_body,
		                                       MHD_RESPMEM_PERSISTENT);
	if (!res->body.len)
		return MHD_create_response_from_buffer(0, (void *)"", MHD_RESPMEM_PERSISTENT);
	size_t len = res->body.len; /* read before sv_buf_steal empties the buffer */
	return MHD_create_response_from_buffer(len, sv_buf_steal(&res->body),
	                                       MHD_RESPMEM_MUST_FREE);
}

static enum MHD_Result send_response(struct sv_http_server *s, struct MHD_Connection *c,
                                     struct sv_http_response *res, const char *rid)
{
	struct MHD_Response *r = res->stream.poll ? stream_response(s, c, res) : NULL;
	if (!r)
		r = body_response(res);
	if (!r)
		return MHD_NO;
	if (res->content_type)
		MHD_add_response_header(r, "Content-Type", res->content_type);
	MHD_add_response_header(r, "X-Request-Id", rid);
	MHD_add_response_header(r, "X-Content-Type-Options", "nosniff");
	for (int i = 0; i < res->nheaders; i++)
		MHD_add_response_header(r, res->headers[i][0], res->headers[i][1]);
	enum MHD_Result ok = MHD_queue_response(c, (unsigned)res->status, r);
	MHD_destroy_response(r);
	return ok;
}

static void response_free(struct sv_http_response *res)
{
	if (res->stream.done) /* a stream never handed to the server */
		res->stream.done(res->stream.ctx);
	sv_buf_free(&res->body);
	for (int i = 0; i < res->nheaders; i++) {
		free(res->headers[i][0]);
		free(res->headers[i][1]);
	}
}

static enum MHD_Result access_cb(void *cls, struct MHD_Connection *c, const char *url,
                                 const char *method, const char *version, const char *upload,
                                 size_t *upload_size, void **con_cls)
{
	struct sv_http_server *s = cls;
	struct pending *p = *con_cls;
	if (!p) {
		p = calloc(1, sizeof(*p));
		if (!p)
			return MHD_NO;
		p->start_ns = sv_time_mono_ns();
		const char *cl = MHD_lookup_connection_value(c, MHD_HEADER_KIND, "Content-Length");
		if (cl && strtoull(cl, NULL, 10) > SV_HTTP_BODY_MAX)
			p->too_large = 1;
		*con_cls = p;
		return MHD_YES;
	}
	if (*upload_size) {
		if (!p->too_large && p->body.len + *upload_size > SV_HTTP_BODY_MAX)
			p->too_large = 1;
		if (!p->too_large && sv_buf_append(&p->body, upload, *upload_size) < 0)
			return MHD_NO;
		*upload_size = 0;
		return MHD_YES;
	}

	char rid[65];
	request_id(c, rid);
	struct sv_http_request req = {.method = method,
	                              .path = url,
	                              .body = p->body.data ? p->body.data : "",
	                              .body_len = p->body.len,
	                              .request_id = rid,
	                              .conn = (struct sv_http_conn *)c};
	struct sv_http_response res = {.status = 200};
	const char *label = "unmatched";
	if (p->too_large)
		sv_http_error(&res, 413, "body_too_large", NULL, "the body is over %zu bytes",
		              SV_HTTP_BODY_MAX);
	else
		label = dispatch(s, &req, &res);
	enum MHD_Result ok = send_response(s, c, &res, rid);
	account(s, &req, res.status, label, (double)(sv_time_mono_ns() - p->start_ns) / 1e9);
	response_free(&res);
	return ok;
}

int sv_http_parse_listen(const char *listen, void *storage, unsigned *len, struct sv_err *err)
{
	const char *colon = strrchr(listen, ':');
	char host[64];
	char *end;
	unsigned long port = colon ? strtoul(colon + 1, &end, 10) : 0;
	if (!colon || colon[1] == '\0' || *end != '\0' || port > 65535 ||
	    (size_t)(colon - listen) >= sizeof(host))
		return sv_err_set(err, "invalid_value", "listen",
		                  "'%s' is not ADDR:PORT (for example 127.0.0.1:8080)", listen);
	memcpy(host, listen, (size_t)(colon - listen));
	host[colon - listen] = '\0';
	memset(storage, 0, sizeof(struct sockaddr_in6));
	struct sockaddr_in *v4 = storage;
	struct sockaddr_in6 *v6 = storage;
	size_t hl = strlen(host);
	if (hl > 2 && host[0] == '[' && host[hl - 1] == ']') {
		host[hl - 1] = '\0';
		if (inet_pton(AF_INET6, host + 1, &v6->sin6_addr) == 1) {
			v6->sin6_family = AF_INET6;
			v6->sin6_port = htons((uint16_t)port);
			*len = sizeof(*v6);
			return 0;
		}
	} else if (inet_pton(AF_INET, host, &v4->sin_addr) == 1) {
		v4->sin_family = AF_INET;
		v4->sin_port = htons((uint16_t)port);
		*len = sizeof(*v4);
		return 0;
	}
	return sv_err_set(err, "invalid_value", "listen",
	                  "'%s' is not ADDR:PORT with a numeric address (127.0.0.1:8080, "
	                  "[::1]:8080, 0.0.0.0:8080)",
	                  listen);
}

struct sv_http_server *sv_http_server_start(const struct sv_http_config *cfg,
                                            const struct sv_http_route *routes, void *ctx,
                                            struct sv_metrics *metrics, struct sv_err *err)
{
	struct sockaddr_in6 addr = {0};
	unsigned addrlen = 0;
	if (sv_http_parse_listen(cfg->listen, &addr, &addrlen, err) < 0)
		return NULL;
	struct sv_http_server *s = calloc(1, sizeof(*s));
	if (!s) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	s->routes = routes;
	s->ctx = ctx;
	s->metrics = metrics;
	if (!(s->streams = sv_http_streams_new(cfg->max_streams, err))) {
		free(s);
		return NULL;
	}
	if (metrics) {
		sv_metrics_declare(metrics, "storyverse_http_requests_total", "counter",
		                   "HTTP requests by route, method and status.");
		sv_metrics_declare(metrics, "storyverse_http_request_duration_seconds", "histogram",
		                   "HTTP request latency by route.");
	}
	unsigned flags = MHD_USE_INTERNAL_POLLING_THREAD | MHD_USE_EPOLL | MHD_USE_ERROR_LOG |
	                 MHD_ALLOW_SUSPEND_RESUME;
	if (addr.sin6_family == AF_INET6)
		flags |= MHD_USE_IPv6;
	/* The logger comes first so that MHD reports nothing through its own. */
	s->daemon = MHD_start_daemon(
	    flags, 0, NULL, NULL, access_cb, s, MHD_OPTION_EXTERNAL_LOGGER, mhd_log, NULL,
	    MHD_OPTION_SOCK_ADDR, &addr, MHD_OPTION_THREAD_POOL_SIZE,
	    (unsigned)(cfg->threads ? cfg->threads : 2), MHD_OPTION_CONNECTION_TIMEOUT,
	    (unsigned)(cfg->connection_timeout_s ? cfg->connection_timeout_s : 30),
	    MHD_OPTION_CONNECTION_LIMIT, (unsigned)1000, MHD_OPTION_NOTIFY_COMPLETED, completed,
	    NULL, MHD_OPTION_END);
	if (!s->daemon) {
		sv_err_set(err, "io", "listen",
		           "cannot listen on %s (in use, or not an address "
		           "of this machine)",
		           cfg->listen);
		sv_http_streams_free(s->streams);
		free(s);
		return NULL;
	}
	return s;
}

unsigned sv_http_server_port(const struct sv_http_server *s)
{
	const union MHD_DaemonInfo *info =
	    MHD_get_daemon_info(s->daemon, MHD_DAEMON_INFO_BIND_PORT);
	return info ? info->port : 0;
}

void sv_http_server_stop(struct sv_http_server *s)
{
	if (!s)
		return;
	sv_http_streams_stop(s->streams);
	MHD_stop_daemon(s->daemon);
	sv_http_streams_free(s->streams);
	free(s);
}
