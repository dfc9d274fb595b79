/*
 * http: the HTTP server on libmicrohttpd (a thread pool; each request runs
 * its handler on one of the pool's threads) and a small router.
 *
 * The server owns the cross-cutting concerns so handlers need not: request
 * ids, body size limits, JSON content-type checks, 404/405 answers, JSON
 * error bodies, access logs and request metrics.
 *
 * A handler may answer with a stream instead of a body (Server-Sent Events,
 * for instance): the server polls it on a pool thread, and between polls the
 * connection is suspended, so an open stream holds no thread.
 */
#ifndef SV_HTTP_H
#define SV_HTTP_H

#include "base/base.h"

#include <jansson.h>
#include <stddef.h>

#define SV_HTTP_BODY_MAX    ((size_t)64 * 1024)
#define SV_HTTP_MAX_PARAMS  4
#define SV_HTTP_MAX_HEADERS 8
#define SV_HTTP_MAX_STREAMS 256 /* open streams at once, unless configured */

struct sv_http_server;
struct sv_http_conn; /* the underlying connection, opaque to handlers */

struct sv_http_request {
	const char *method;
	const char *path; /* without the query string */
	const char *body; /* NUL-terminated; "" when there is none */
	size_t body_len;
	const char *request_id;
	/* The values of the {name} segments of the route pattern, in order. */
	const char *params[SV_HTTP_MAX_PARAMS];
	int nparams;
	struct sv_http_conn *conn;
};

/* Appends what is new to out: 0 to go on, 1 when out holds the last bytes, -1
 * to cut the connection. */
typedef int (*sv_http_stream_poll)(void *ctx, struct sv_buf *out);

/* A streamed body. poll runs at once, then again every interval_ms for as
 * long as it adds nothing; when the server stops, the stream ends. done
 * releases ctx in every case, also when the stream is refused (503, too many
 * open) and never polled. */
struct sv_http_stream {
	sv_http_stream_poll poll; /* set: the response is this stream */
	void (*done)(void *ctx);
	void *ctx;
	unsigned interval_ms;
};

struct sv_http_response {
	int status;
	const char *content_type;         /* static string */
	struct sv_buf body;               /* owned by the server once the handler returns */
	const unsigned char *static_body; /* or: a body that outlives the server */
	size_t static_len;
	char *headers[SV_HTTP_MAX_HEADERS][2]; /* owned copies */
	int nheaders;
	struct sv_http_stream stream; /* or: a streamed body (poll set) */
};

typedef void (*sv_http_handler)(void *ctx, const struct sv_http_request *req,
                                struct sv_http_response *res);

struct sv_http_route {
	const char *method;  /* "GET", "POST", "DELETE" */
	const char *pattern; /* "/api/v1/stories/{id}"; a {name} matches one path segment */
	sv_http_handler handler;
	int json_body; /* when set, the request must be application/json */
};

struct sv_http_config {
	const char *listen; /* "ADDR:PORT" (IPv4) or "[ADDR]:PORT" (IPv6) */
	unsigned threads;   /* size of the thread pool */
	unsigned connection_timeout_s;
	unsigned max_streams; /* 0: SV_HTTP_MAX_STREAMS */
};

/* Starts serving; routes (terminated by an entry with a NULL method) and ctx must
 * outlive the server. metrics may be NULL. Returns NULL with err filled. */
struct sv_http_server *sv_http_server_start(const struct sv_http_config *cfg,
                                            const struct sv_http_route *routes, void *ctx,
                                            struct sv_metrics *metrics, struct sv_err *err);
/* Stops accepting, ends the open streams, finishes the requests in flight,
 * frees the server. */
void sv_http_server_stop(struct sv_http_server *s);
/* The port actually bound (useful with port 0). */
unsigned sv_http_server_port(const struct sv_http_server *s);

/* Parses "ADDR:PORT"; returns -1 with err naming field "listen" when malformed. */
int sv_http_parse_listen(const char *listen, void *sockaddr_storage, unsigned *len,
                         struct sv_err *err);

/* Request accessors. */
const char *sv_http_query(const struct sv_http_request *req, const char *name);
const char *sv_http_header(const struct sv_http_request *req, const char *name);

/* Response helpers. */
void sv_http_set_header(struct sv_http_response *res, const char *name, const char *value);
/* Sets a JSON body (steals the reference to body). */
void sv_http_json(struct sv_http_response *res, int status, json_t *body);
/* Sets {"error":{"code","message","field"?}}; field may be NULL or "". */
void sv_http_error(struct sv_http_response *res, int status, const char *code, const char *field,
                   const char *fmt, ...) __attribute__((format(printf, 5, 6)));

/* Matches a path against a pattern, filling params (pointers into buf, a
 * scratch copy of path of at least strlen(path)+1 bytes). Returns 1 on match. */
int sv_http_route_match(const char *pattern, const char *path, char *buf,
                        const char *params[SV_HTTP_MAX_PARAMS], int *nparams);

#endif
