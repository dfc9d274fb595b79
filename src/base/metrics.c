/*
 * A small metrics registry: families (counter, gauge, histogram) of labelled
 * series, guarded by one mutex, rendered in the Prometheus text format.
 * Series are few (routes x statuses), so lookups are linear scans.
 */
#include "base/base.h"

#include <pthread.h>
#include <stdlib.h>
#include <string.h>

static const double buckets[] = {0.0005, 0.001, 0.0025, 0.005, 0.01, 0.025,
                                 0.05,   0.1,   0.25,   0.5,   1,    2.5};
#define NBUCKETS (sizeof(buckets) / sizeof(buckets[0]))

struct series {
	char *labels;
	double value; /* counters and gauges; the sum for histograms */
	uint64_t count;
	uint64_t bucket[NBUCKETS];
	struct series *next;
};

struct family {
	char *name, *type, *help;
	struct series *series;
	struct family *next;
};

struct sv_metrics {
	pthread_mutex_t lock;
	struct family *families, *last;
};

struct sv_metrics *sv_metrics_new(void)
{
	struct sv_metrics *m = calloc(1, sizeof(*m));
	if (m)
		pthread_mutex_init(&m->lock, NULL);
	return m;
}

void sv_metrics_free(struct sv_metrics *m)
{
	if (!m)
		return;
	for (struct family *f = m->families, *fn; f; f = fn) {
		fn = f->next;
		for (struct series *s = f->series, *sn; s; s = sn) {
			sn = s->next;
			free(s->labels);
			free(s);
		}
		free(f->name);
		free(f->type);
		free(f->help);
		free(f);
	}
	pthread_mutex_destroy(&m->lock);
	free(m);
}

static struct family *find_family(struct sv_metrics *m, const char *name)
{
	for (struct family *f = m->families; f; f = f->next)
		if (strcmp(f->name, name) == 0)
			return f;
	return NULL;
}

int sv_metrics_declare(struct sv_metrics *m, const char *name, const char *type, const char *help)
{
	pthread_mutex_lock(&m->lock);
	int rc = 0;
	if (!find_family(m, name)) {
		struct family *f = calloc(1, sizeof(*f));
		if (f) {
			f->name = strdup(name);
			f->type = strdup(type);
			f->help = strdup(help);
		}
		if (!f || !f->name || !f->type || !f->help) {
			if (f) {
				free(f->name);
				free(f->type);
				free(f->help);
				free(f);
			}
			rc = -1;
		} else if (m->last) {
			m->last->next = f;
			m->last = f;
		} else {
			m->families = m->last = f;
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc;
}

/* Called with the lock held. Returns NULL for undeclared families or no memory. */
static struct series *find_series(struct sv_metrics *m, const char *name, const char *labels)
{
	struct family *f = find_family(m, name);
	if (!f)
		return NULL;
	struct series **tail = &f->series;
	for (struct series *s = f->series; s; s = s->next) {
		if (strcmp(s->labels, labels) == 0)
			return s;
		tail = &s->next;
	}
	struct series *s = calloc(1, sizeof(*s));
	if (!s || !(s->labels = strdup(labels))) {
		free(s);
		return NULL;
	}
	*tail = s;
	return s;
}

void sv_metrics_add(struct sv_metrics *m, const char *name, const char *labels, double delta)
{
	pthread_mutex_lock(&m->lock);
	struct series *s = find_series(m, name, labels);
	if (s)
		s->value += delta;
	pthread_mutex_unlock(&m->lock);
}

void sv_metrics_set(struct sv_metrics *m, const char *name, const char *labels, double value)
{
	pthread_mutex_lock(&m->lock);
	struct series *s = find_series(m, name, labels);
	if (s)
		s->value = value;
	pthread_mutex_unlock(&m->lock);
}

void sv_metrics_observe(struct sv_metrics *m, const char *name, const char *labels, double value)
{
	pthread_mutex_lock(&m->lock);
	struct series *s = find_series(m, name, labels);
	if (s) {
		s->value += value;
		s->count++;
		for (size_t i = 0; i < NBUCKETS; i++)
			if (value <= buckets[i])
				s->bucket[i]++;
	}
	pthread_mutex_unlock(&m->lock);
}

static int render_histogram(struct sv_buf *out, const char *name, const struct series *s)
{
	const char *sep = s->labels[0] ? "," : "";
	int rc = 0;
	for (size_t i = 0; i < NBUCKETS; i++)
		rc |= sv_buf_printf(out, "%s_bucket{%s%sle=\"%g\"} %llu\n", name, s->labels, sep,
		                    buckets[i], (unsigned long long)s->bucket[i]);
	rc |= sv_buf_printf(out, "%s_bucket{%s%sle=\"+Inf\"} %llu\n", name, s->labels, sep,
	                    (unsigned long long)s->count);
	const char *open = s->labels[0] ? "{" : "", *close = s->labels[0] ? "}" : "";
	rc |= sv_buf_printf(out, "%s_sum%s%s%s %.9g\n", name, open, s->labels, close, s->value);
	rc |= sv_buf_printf(out, "%s_count%s%s%s %llu\n", name, open, s->labels, close,
	                    (unsigned long long)s->count);
	return rc;
}

int sv_metrics_render(struct sv_metrics *m, struct sv_buf *out)
{
	int rc = 0;
	pthread_mutex_lock(&m->lock);
	for (struct family *f = m->families; f; f = f->next) {
		rc |= sv_buf_printf(out, "# HELP %s %s\n# TYPE %s %s\n", f->name, f->help, f->name,
		                    f->type);
		for (struct series *s = f->series; s; s = s->next) {
			if (strcmp(f->type, "histogram") == 0)
				rc |= render_histogram(out, f->name, s);
			else if (s->labels[0])
				rc |= sv_buf_printf(out, "%s{%s} %.17g\n", f->name, s->labels,
				                    s->value);
			else
				rc |= sv_buf_printf(out, "%s %.17g\n", f->name, s->value);
		}
	}
	pthread_mutex_unlock(&m->lock);
	return rc ? -1 : 0;
}
