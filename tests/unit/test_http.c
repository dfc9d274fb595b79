/* Unit tests for the router and the listen-address parser. */
#include "http/http.h"

#include <netinet/in.h>
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <string.h>

#include <cmocka.h>

static int match(const char *pattern, const char *path, const char **params, int *n)
{
	static char buf[256];
	return sv_http_route_match(pattern, path, buf, params, n);
}

static void literal_routes_match_exactly(void **state)
{
	const char *p[SV_HTTP_MAX_PARAMS];
	int n;
	assert_true(match("/healthz", "/healthz", p, &n));
	assert_int_equal(n, 0);
	assert_false(match("/healthz", "/healthz/", p, &n));
	assert_false(match("/healthz", "/health", p, &n));
	assert_true(match("/", "/", p, &n));
	assert_false(match("/", "", p, &n));
}

static void placeholders_capture_one_segment(void **state)
{
	const char *p[SV_HTTP_MAX_PARAMS];
	int n;
	assert_true(match("/api/v1/stories/{id}", "/api/v1/stories/abc", p, &n));
	assert_int_equal(n, 1);
	assert_string_equal(p[0], "abc");
	assert_false(match("/api/v1/stories/{id}", "/api/v1/stories/", p, &n));
	assert_false(match("/api/v1/stories/{id}", "/api/v1/stories/a/b", p, &n));
	assert_true(match("/a/{x}/b/{y}", "/a/1/b/2", p, &n));
	assert_int_equal(n, 2);
	assert_string_equal(p[0], "1");
	assert_string_equal(p[1], "2");
	assert_false(match("/a/{x}/b/{y}", "/a/1/c/2", p, &n));
	assert_false(match("/{file}", "/a/b", p, &n));
}

static void listen_addresses_parse(void **state)
{
	struct sockaddr_in6 addr;
	unsigned len;
	struct sv_err err;
	assert_int_equal(sv_http_parse_listen("127.0.0.1:8080", &addr, &len, &err), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in));
	assert_int_equal(sv_http_parse_listen("[::1]:0", &addr, &len, &err), 0);
	assert_int_equal(len, sizeof(struct sockaddr_in6));
	const char *bad[] = {"localhost", "127.0.0.1", "127.0.0.1:", "127.0.0.1:70000",
	                     "1.2.3:80",  "host:80",   "[::1:80",    ":80x"};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		assert_int_equal(sv_http_parse_listen(bad[i], &addr, &len, &err), -1);
		assert_string_equal(err.field, "listen");
	}
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(literal_routes_match_exactly),
	    cmocka_unit_test(placeholders_capture_one_segment),
	    cmocka_unit_test(listen_addresses_parse),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
