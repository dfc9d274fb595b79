/* Unit tests for base: buffers, errors, rng, metrics rendering, embedded assets. */
#include "base/base.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

static void buf_grows_and_formats(void **state)
{
	struct sv_buf b;
	sv_buf_init(&b);
	for (int i = 0; i < 1000; i++)
		assert_int_equal(sv_buf_printf(&b, "%d,", i), 0);
	assert_true(strncmp(b.data, "0,1,2,", 6) == 0);
	assert_int_equal(b.len, strlen(b.data));
	char *s = sv_buf_steal(&b);
	assert_null(b.data);
	free(s);
	sv_buf_free(&b);
}

static void buf_escapes_html(void **state)
{
	struct sv_buf b;
	sv_buf_init(&b);
	sv_buf_html(&b, "<a href=\"x\">Tom & Jerry's</a>");
	assert_string_equal(b.data, "&lt;a href=&quot;x&quot;&gt;Tom &amp; Jerry&#39;s&lt;/a&gt;");
	sv_buf_free(&b);
}

static void err_set_fills_and_returns_minus_one(void **state)
{
	struct sv_err e;
	assert_int_equal(sv_err_set(&e, "unknown_id", "hero", "no hero '%s'", "zed"), -1);
	assert_string_equal(e.code, "unknown_id");
	assert_string_equal(e.field, "hero");
	assert_string_equal(e.message, "no hero 'zed'");
	assert_int_equal(sv_err_set(NULL, "x", NULL, "y"), -1);
}

static void rng_is_deterministic_and_bounded(void **state)
{
	struct sv_rng a, b, c;
	sv_rng_seed(&a, 42);
	sv_rng_seed(&b, 42);
	sv_rng_seed(&c, 43);
	int differs = 0;
	for (int i = 0; i < 100; i++) {
		uint64_t x = sv_rng_next(&a);
		assert_true(x == sv_rng_next(&b));
		differs |= x != sv_rng_next(&c);
	}
	assert_true(differs);
	int seen[7] = {0};
	for (int i = 0; i < 7000; i++) {
		uint32_t v = sv_rng_below(&a, 7);
		assert_true(v < 7);
		seen[v]++;
	}
	for (int i = 0; i < 7; i++)
		assert_true(seen[i] > 800 && seen[i] < 1200);
}

static void hash_is_stable(void **state)
{
	assert_true(sv_hash64("abc", 3, 0) == sv_hash64("abc", 3, 0));
	assert_true(sv_hash64("abc", 3, 0) != sv_hash64("abd", 3, 0));
	assert_true(sv_hash64("abc", 3, 0) != sv_hash64("abc", 3, 1));
}

static void random_hex_is_hex(void **state)
{
	char a[33], b[33];
	assert_int_equal(sv_random_hex(a, 16), 0);
	assert_int_equal(sv_random_hex(b, 16), 0);
	assert_int_equal(strlen(a), 32);
	assert_int_equal(strspn(a, "0123456789abcdef"), 32);
	assert_string_not_equal(a, b);
}

static void metrics_render_prometheus(void **state)
{
	struct sv_metrics *m = sv_metrics_new();
	assert_non_null(m);
	sv_metrics_declare(m, "req_total", "counter", "Requests.");
	sv_metrics_declare(m, "lat_seconds", "histogram", "Latency.");
	sv_metrics_add(m, "req_total", "route=\"/a\"", 1);
	sv_metrics_add(m, "req_total", "route=\"/a\"", 2);
	sv_metrics_add(m, "undeclared", "", 1);
	sv_metrics_observe(m, "lat_seconds", "", 0.003);
	sv_metrics_observe(m, "lat_seconds", "", 3);
	struct sv_buf b;
	sv_buf_init(&b);
	assert_int_equal(sv_metrics_render(m, &b), 0);
	assert_non_null(strstr(b.data, "# TYPE req_total counter\n"));
	assert_non_null(strstr(b.data, "req_total{route=\"/a\"} 3\n"));
	assert_non_null(strstr(b.data, "lat_seconds_bucket{le=\"0.005\"} 1\n"));
	assert_non_null(strstr(b.data, "lat_seconds_bucket{le=\"+Inf\"} 2\n"));
	assert_non_null(strstr(b.data, "lat_seconds_count 2\n"));
	assert_null(strstr(b.data, "undeclared"));
	sv_buf_free(&b);
	sv_metrics_free(m);
}

static void assets_are_embedded(void **state)
{
	const struct sv_asset *a = sv_asset_find("web/index.html");
	assert_non_null(a);
	assert_true(a->len > 100);
	assert_null(sv_asset_find("web/nope.html"));
}

static void log_level_parses(void **state)
{
	enum sv_log_level l;
	assert_int_equal(sv_log_parse_level("WARN", &l), 0);
	assert_int_equal(l, SV_LOG_WARN);
	assert_int_equal(sv_log_parse_level("loud", &l), -1);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(buf_grows_and_formats),
	    cmocka_unit_test(buf_escapes_html),
	    cmocka_unit_test(err_set_fills_and_returns_minus_one),
	    cmocka_unit_test(rng_is_deterministic_and_bounded),
	    cmocka_unit_test(hash_is_stable),
	    cmocka_unit_test(random_hex_is_hex),
	    cmocka_unit_test(metrics_render_prometheus),
	    cmocka_unit_test(assets_are_embedded),
	    cmocka_unit_test(log_level_parses),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
