/*
 * A persistent thread pool for the engine's parallel loops. A token runs
 * some sixty parallel loops, each a few tens of microseconds, so waking
 * threads through the kernel each time would cost more than the work:
 * workers spin on a generation counter for a while after each loop and only
 * then sleep on a condition variable. The caller runs its share as thread 0.
 */
#include "lm/internal.h"

#include <pthread.h>
#include <stdatomic.h>
#include <stdlib.h>
#include <string.h>

#define SPIN_ROUNDS 200000 /* about a millisecond of polling before sleeping */

struct lm_pool {
	int threads;
	pthread_t *ids;
	lm_pool_fn fn;
	void *ctx;
	atomic_uint generation; /* bumped for each loop */
	atomic_int done;        /* workers finished with this generation */
	atomic_int stop;
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int sleepers; /* under lock */
};

struct worker_arg {
	struct lm_pool *pool;
	int index;
};

static inline void relax(void)
{
#if defined(__x86_64__) || defined(__i386__)
	__builtin_ia32_pause();
#endif
}

/* Waits until the generation moves past seen; returns it. */
static unsigned await_generation(struct lm_pool *p, unsigned seen)
{
	for (int i = 0; i < SPIN_ROUNDS; i++) {
		unsigned g = atomic_load_explicit(&p->generation, memory_order_acquire);
		if (g != seen)
			return g;
		relax();
	}
	pthread_mutex_lock(&p->lock);
	p->sleepers++;
	unsigned g;
	while ((g = atomic_load_explicit(&p->generation, memory_order_acquire)) == seen)
		pthread_cond_wait(&p->wake, &p->lock);
	p->sleepers--;
	pthread_mutex_unlock(&p->lock);
	return g;
}

static void *worker_main(void *arg)
{
	struct worker_arg a = *(struct worker_arg *)arg;
	free(arg);
	struct lm_pool *p = a.pool;
	unsigned seen = 0;
	for (;;) {
		seen = await_generation(p, seen);
		if (atomic_load_explicit(&p->stop, memory_order_acquire))
			return NULL;
		p->fn(p->ctx, a.index, p->threads);
		atomic_fetch_add_explicit(&p->done, 1, memory_order_release);
	}
}

static void bump(struct lm_pool *p)
{
	atomic_fetch_add_explicit(&p->generation, 1, memory_order_acq_rel);
	pthread_mutex_lock(&p->lock);
	if (p->sleepers > 0)
		pthread_cond_broadcast(&p->wake);
	pthread_mutex_unlock(&p->lock);
}

struct lm_pool *lm_pool_new(int threads, struct sv_err *err)
{
	if (threads < 1 || threads > LM_MAX_THREADS) {
		sv_err_set(err, "invalid_value", "threads", "threads must be from 1 to %d",
		           LM_MAX_THREADS);
		return NULL;
	}
	struct lm_pool *p = calloc(1, sizeof *p);
	if (!p || !(p->ids = calloc((size_t)threads, sizeof *p->ids))) {
		free(p);
		sv_err_set(err, "nomem", "", "out of memory");
		return NULL;
	}
	p->threads = 1;
	pthread_mutex_init(&p->lock, NULL);
	pthread_cond_init(&p->wake, NULL);
	for (int i = 1; i < threads; i++) {
		struct worker_arg *a = malloc(sizeof *a);
		if (a)
			*a = (struct worker_arg){p, i};
		if (!a || pthread_create(&p->ids[i], NULL, worker_main, a) != 0) {
			free(a);
			lm_pool_free(p);
			sv_err_set(err, "io", "threads", "cannot start thread %d", i);
			return NULL;
		}
		p->threads++;
	}
	return p;
}

void lm_pool_free(struct lm_pool *p)
{
	if (!p)
		return;
	atomic_store_explicit(&p->stop, 1, memory_order_release);
	bump(p);
	for (int i = 1; i < p->threads; i++)
		pthread_join(p->ids[i], NULL);
	pthread_mutex_destroy(&p->lock);
	pthread_cond_destroy(&p->wake);
	free(p->ids);
	free(p);
}

int lm_pool_threads(const struct lm_pool *p)
{
	return p->threads;
}

void lm_pool_run(struct lm_pool *p, lm_pool_fn fn, void *ctx)
{
	if (p->threads == 1) {
		fn(ctx, 0, 1);
		return;
	}
	p->fn = fn;
	p->ctx = ctx;
	atomic_store_explicit(&p->done, 0, memory_order_relaxed);
	bump(p);
	fn(ctx, 0, p->threads);
	while (atomic_load_explicit(&p->done, memory_order_acquire) < p->threads - 1)
		relax();
}
