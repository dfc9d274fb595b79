/*
 * Streamed responses: libmicrohttpd asks the content reader for bytes; the
 * reader polls the handler's stream and, when that has nothing new, suspends
 * the connection and parks it with the ticker, a thread that resumes each
 * parked connection when its interval has passed. So an open stream costs a
 * socket and a little memory, never a pool thread, and nothing spins.
 *
 * Stopping sets a flag the readers check and resumes every parked
 * connection; each reader then ends its stream, so libmicrohttpd can stop.
 */
#include "http/stream.h"

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>

#define BLOCK_SIZE 4096
#define DRAIN_NS   ((int64_t)2000000000) /* how long stopping waits for streams to end */

struct stream {
	struct sv_http_streams *owner;
	struct MHD_Connection *conn;
	struct sv_http_stream st;
	struct sv_buf out; /* polled bytes not yet handed to libmicrohttpd */
	size_t off;
	int ended;           /* the poll said it was the last */
	int64_t due_ns;      /* when parked: when to resume */
	struct stream *next; /* in the owner's parked list */
};

struct sv_http_streams {
	pthread_mutex_t lock;
	pthread_cond_t cond;
	pthread_t ticker;
	int ticking;
	atomic_int stopping;
	atomic_uint open;
	unsigned max;
	struct stream *parked; /* suspended connections, under lock */
};

/* ---- the ticker ---- */

/* Resumes the parked streams due by now (all of them when all is set). */
static void resume_due(struct sv_http_streams *ss, int64_t now, int all)
{
	struct stream **pp = &ss->parked;
	while (*pp) {
		struct stream *s = *pp;
		if (all || s->due_ns <= now) {
			*pp = s->next;
			s->next = NULL;
			MHD_resume_connection(s->conn);
		} else {
			pp = &s->next;
		}
	}
}

/* Sleeps until the earliest parked stream is due, or until signalled. */
static void wait_next(struct sv_http_streams *ss)
{
	if (!ss->parked) {
		pthread_cond_wait(&ss->cond, &ss->lock);
		return;
	}
	int64_t due = ss->parked->due_ns;
	for (struct stream *s = ss->parked; s; s = s->next)
		if (s->due_ns < due)
			due = s->due_ns;
	struct timespec until = {(time_t)(due / 1000000000), (long)(due % 1000000000)};
	pthread_cond_timedwait(&ss->cond, &ss->lock, &until);
}

static void *ticker_main(void *arg)
{
	struct sv_http_streams *ss = arg;
	pthread_mutex_lock(&ss->lock);
	while (!atomic_load(&ss->stopping)) {
		resume_due(ss, sv_time_mono_ns(), 0);
		wait_next(ss);
	}
	resume_due(ss, 0, 1);
	pthread_mutex_unlock(&ss->lock);
	return NULL;
}

/* Suspends the connection until the stream's interval has passed; -1 when
 * the server is stopping (the stream ends instead). */
static int park(struct stream *s)
{
	struct sv_http_streams *ss = s->owner;
	pthread_mutex_lock(&ss->lock);
	if (atomic_load(&ss->stopping)) {
		pthread_mutex_unlock(&ss->lock);
		return -1;
	}
	s->due_ns = sv_time_mono_ns() + (int64_t)s->st.interval_ms * 1000000;
	s->next = ss->parked;
	ss->parked = s;
	MHD_suspend_connection(s->conn);
	pthread_cond_signal(&ss->cond);
	pthread_mutex_unlock(&ss->lock);
	return 0;
}

/* ---- the content reader ---- */

/* Whether the client has closed its end: a suspended connection is not
 * watched, so a stream would otherwise learn it only at its next write. */
static int client_gone(struct MHD_Connection *c)
{
	const union MHD_ConnectionInfo *info =
	    MHD_get_connection_info(c, MHD_CONNECTION_INFO_CONNECTION_FD);
	if (!info)
		return 0;
	char byte;
	ssize_t n = recv(info->connect_fd, &byte, 1, MSG_PEEK | MSG_DONTWAIT);
	return n == 0 || (n < 0 && errno != EAGAIN && errno != EWOULDBLOCK && errno != EINTR);
}

/* Polls for new bytes: -1 to cut the connection, 1 when the stream is over
 * and nothing is left to send, 0 otherwise (new bytes or none yet). */
static int refill(struct stream *s)
{
	s->out.len = 0;
	s->off = 0;
	if (s->out.data)
		s->out.data[0] = '\0';
	if (s->ended || atomic_load(&s->owner->stopping))
		return 1;
	if (client_gone(s->conn))
		return -1;
	int rc = s->st.poll(s->st.ctx, &s->out);
	if (rc < 0)
		return -1;
	if (rc > 0)
		s->ended = 1;
	return s->ended && s->out.len == 0 ? 1 : 0;
}

static ssize_t read_cb(void *cls, uint64_t pos, char *buf, size_t max)
{
	struct stream *s = cls;
	if (s->off == s->out.len) {
		int rc = refill(s);
		if (rc < 0)
			return MHD_CONTENT_READER_END_WITH_ERROR;
		if (rc > 0)
			return MHD_CONTENT_READER_END_OF_STREAM;
		if (s->out.len == 0)
			return park(s) < 0 ? MHD_CONTENT_READER_END_OF_STREAM : 0;
	}
	size_t n = s->out.len - s->off;
	if (n > max)
		n = max;
	memcpy(buf, s->out.data + s->off, n);
	s->off += n;
	return (ssize_t)n;
}

static void free_cb(void *cls)
{
	struct stream *s = cls;
	if (s->st.done)
		s->st.done(s->st.ctx);
	sv_buf_free(&s->out);
	atomic_fetch_sub(&s->owner->open, 1);
	free(s);
}

/* ---- the interface ---- */

struct MHD_Response *sv_http_stream_response(struct sv_http_streams *ss, struct MHD_Connection *c,
                                             const struct sv_http_stream *st, int *busy)
{
	*busy = 0;
	if (atomic_fetch_add(&ss->open, 1) >= ss->max || atomic_load(&ss->stopping)) {
		atomic_fetch_sub(&ss->open, 1);
		*busy = 1;
		if (st->done)
			st->done(st->ctx);
		return NULL;
	}
	struct stream *s = calloc(1, sizeof(*s));
	if (!s) {
		atomic_fetch_sub(&ss->open, 1);
		if (st->done)
			st->done(st->ctx);
		return NULL;
	}
	s->owner = ss;
	s->conn = c;
	s->st = *st;
	if (!s->st.interval_ms)
		s->st.interval_ms = 200;
	sv_buf_init(&s->out);
	struct MHD_Response *r =
	    MHD_create_response_from_callback(MHD_SIZE_UNKNOWN, BLOCK_SIZE, read_cb, s, free_cb);
	if (!r)
		free_cb(s);
	return r;
}

struct sv_http_streams *sv_http_streams_new(unsigned max, struct sv_err *err)
{
	struct sv_http_streams *ss = calloc(1, sizeof(*ss));
	if (!ss) {
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	ss->max = max ? max : SV_HTTP_MAX_STREAMS;
	pthread_condattr_t attr;
	pthread_condattr_init(&attr);
	pthread_condattr_setclock(&attr, CLOCK_MONOTONIC);
	pthread_mutex_init(&ss->lock, NULL);
	pthread_cond_init(&ss->cond, &attr);
	pthread_condattr_destroy(&attr);
	if (pthread_create(&ss->ticker, NULL, ticker_main, ss) != 0) {
		sv_err_set(err, "io", "", "cannot start the stream ticker");
		sv_http_streams_free(ss);
		return NULL;
	}
	ss->ticking = 1;
	return ss;
}

/* Waits a little for the resumed streams to send their ends, so that their
 * clients see them end rather than cut; bounded by DRAIN_NS. */
static void drain(struct sv_http_streams *ss)
{
	int64_t until = sv_time_mono_ns() + DRAIN_NS;
	struct timespec tick = {0, 10000000};
	while (atomic_load(&ss->open) > 0 && sv_time_mono_ns() < until)
		nanosleep(&tick, NULL);
}

void sv_http_streams_stop(struct sv_http_streams *ss)
{
	if (!ss || !ss->ticking)
		return;
	pthread_mutex_lock(&ss->lock);
	atomic_store(&ss->stopping, 1);
	pthread_cond_signal(&ss->cond);
	pthread_mutex_unlock(&ss->lock);
	pthread_join(ss->ticker, NULL);
	ss->ticking = 0;
	drain(ss);
}

void sv_http_streams_free(struct sv_http_streams *ss)
{
	if (!ss)
		return;
	sv_http_streams_stop(ss);
	pthread_cond_destroy(&ss->cond);
	pthread_mutex_destroy(&ss->lock);
	free(ss);
}
