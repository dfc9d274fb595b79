/*
 * Unit tests for the OpenAI-compatible text provider, the parts that need no
 * server: which base URLs it takes, where it sends requests (seen in the
 * message of a failed connection), and how it gives up on a port that
 * nothing listens on — after its retries, in bounded time, leaving out alone.
 */
#include "textgen/textgen.h"

#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cmocka.h>

#include "port_support.h"

static void *provider(const char *base, bool chat, bool stream, int retries, struct sv_err *err)
{
	struct sv_textgen_openai_options o = {
	    .base_url = base,
	    .api_key = "sk-test",
	    .model = "m",
	    .chat = chat,
	    .stream = stream,
	    .timeout_ms = 2000,
	    .retries = retries,
	};
	return sv_textgen_openai_new(&o, err);
}

static const struct sv_textgen_request request = {
    .system = "You write children's stories.",
    .prompt = "Write page 1.",
    .lead = "Once upon a time",
    .max_tokens = 32,
    .temperature = 0.7,
    .top_p = 0.9,
    .seed = 42,
};

static void test_ops_are_named_openai(void **state)
{
	(void)state;
	assert_string_equal(sv_textgen_openai_ops.name, "openai");
	assert_non_null(sv_textgen_openai_ops.write);
	assert_non_null(sv_textgen_openai_ops.free);
}

static void test_bad_base_url_is_rejected(void **state)
{
	(void)state;
	static const char *const bad[] = {
	    "",
	    "localhost:8081",
	    "ftp://127.0.0.1:8081",
	    "file:///etc/passwd",
	    "http://",
	    "http:///v1",
	    "http://exa mple.com",
	    "http://127.0.0.1:8081/v1?x=1",
	    "http://127.0.0.1:99999",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct sv_err err = {0};
		void *p = provider(bad[i], false, false, 0, &err);
		if (p)
			fail_msg("'%s' was taken", bad[i]);
		assert_string_equal(err.code, "invalid_value");
		assert_string_equal(err.field, "base_url");
	}
	struct sv_err err = {0};
	struct sv_textgen_openai_options none = {.model = "m"};
	assert_null(sv_textgen_openai_new(&none, &err));
	assert_string_equal(err.field, "base_url");
}

/* Writes to a closed port; returns how long it took in ms, the error in err. */
static double write_closed(void *p, struct sv_buf *out, struct sv_err *err)
{
	int64_t t0 = sv_time_mono_ns();
	assert_int_equal(sv_textgen_openai_ops.write(p, &request, out, err), -1);
	return (double)(sv_time_mono_ns() - t0) / 1e6;
}

static void test_base_url_with_or_without_slash_and_v1(void **state)
{
	(void)state;
	int port = sv_test_free_port();
	assert_true(port > 0);
	static const char *const forms[] = {"", "/", "/v1", "/v1/", "//v1//"};
	for (size_t i = 0; i < sizeof(forms) / sizeof(forms[0]); i++) {
		for (int chat = 0; chat <= 1; chat++) {
			char base[128], want[128];
			snprintf(base, sizeof(base), "http://127.0.0.1:%d%s", port, forms[i]);
			snprintf(want, sizeof(want), "POST http://127.0.0.1:%d/v1/%s:", port,
			         chat ? "chat/completions" : "completions");
			struct sv_err err = {0};
			void *p = provider(base, chat, false, 0, &err);
			if (!p)
				fail_msg("'%s' was refused: %s", base, err.message);
			struct sv_buf out;
			sv_buf_init(&out);
			write_closed(p, &out, &err);
			if (!strstr(err.message, want))
				fail_msg("'%s': message '%s' lacks '%s'", base, err.message, want);
			sv_buf_free(&out);
			sv_textgen_openai_ops.free(p);
		}
	}
}

static void test_closed_port_fails_upstream_after_retries(void **state)
{
	(void)state;
	int port = sv_test_free_port();
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d", port);
	for (int stream = 0; stream <= 1; stream++) {
		struct sv_err err = {0};
		void *p = provider(base, stream, stream, 3, &err);
		assert_non_null(p);
		struct sv_buf out;
		sv_buf_init(&out);
		assert_int_equal(sv_buf_puts(&out, "kept"), 0);
		double ms = write_closed(p, &out, &err);
		assert_string_equal(err.code, "upstream");
		assert_string_equal(err.field, "text_provider");
		if (!strstr(err.message, "(4 attempts)"))
			fail_msg("message '%s' does not count the attempts", err.message);
		/* backoff 100 + 200 + 400 ms between the four refused connections */
		assert_true(ms >= 650);
		assert_true(ms < 5000);
		assert_string_equal(out.data, "kept");
		assert_int_equal(out.len, 4);
		sv_buf_free(&out);
		sv_textgen_openai_ops.free(p);
	}
}

static void test_no_retries_fails_at_once(void **state)
{
	(void)state;
	int port = sv_test_free_port();
	char base[64];
	snprintf(base, sizeof(base), "http://127.0.0.1:%d/v1", port);
	struct sv_err err = {0};
	void *p = provider(base, false, false, 0, &err);
	assert_non_null(p);
	struct sv_buf out;
	sv_buf_init(&out);
	double ms = write_closed(p, &out, &err);
	assert_string_equal(err.code, "upstream");
	assert_null(strstr(err.message, "attempts"));
	assert_true(ms < 1000);
	assert_int_equal(out.len, 0);
	sv_buf_free(&out);
	sv_textgen_openai_ops.free(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_ops_are_named_openai),
	    cmocka_unit_test(test_bad_base_url_is_rejected),
	    cmocka_unit_test(test_base_url_with_or_without_slash_and_v1),
	    cmocka_unit_test(test_closed_port_fails_upstream_after_retries),
	    cmocka_unit_test(test_no_retries_fails_at_once),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
