/*
 * Streamed responses, internal to the http module: a libmicrohttpd callback
 * response that polls a struct sv_http_stream. When a poll adds nothing the
 * connection is suspended (it holds no pool thread) and a ticker thread
 * resumes it interval_ms later. Stopping ends every stream.
 */
#ifndef SV_HTTP_STREAM_H
#define SV_HTTP_STREAM_H

#include "http/http.h"

#include <microhttpd.h>

struct sv_http_streams;

/* At most max streams open at once. NULL with err filled. */
struct sv_http_streams *sv_http_streams_new(unsigned max, struct sv_err *err);
/* Ends the open streams and refuses new ones; call before MHD_stop_daemon,
 * and sv_http_streams_free after it. */
void sv_http_streams_stop(struct sv_http_streams *ss);
void sv_http_streams_free(struct sv_http_streams *ss);

/* The response for st on connection c. NULL when too many streams are open
 * (*busy set) or memory runs out; st->done has then run already. */
struct MHD_Response *sv_http_stream_response(struct sv_http_streams *ss, struct MHD_Connection *c,
                                             const struct sv_http_stream *st, int *busy);

#endif
