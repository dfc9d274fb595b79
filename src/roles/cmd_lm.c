/*
 * `storyverse lm`: the language model engine from the command line.
 * `generate` prints a prompt and its continuation the way llama2.c's `run`
 * does, so the two can be compared token for token; `bench` measures
 * prefill and decode speed (its last line is the aggregate decode speed);
 * `quantize` writes an fp32 checkpoint as int8.
 */
#include "lm/lm.h"
#include "roles/internal.h"
#include "roles/roles.h"

#include <ctype.h>
#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>

static const char usage[] =
    "usage: storyverse lm generate --model M --tokenizer T --prompt P [options]\n"
    "       storyverse lm bench --model M --tokenizer T [--steps N] [--batch B] [options]\n"
    "       storyverse lm quantize IN OUT [--group-size N]\n"
    "\n"
    "Runs a llama2.c-format checkpoint on the CPU.\n"
    "  --model FILE        checkpoint: llama2.c fp32, or int8 from `lm quantize`\n"
    "  --tokenizer FILE    llama2.c tokenizer.bin\n"
    "  --prompt TEXT       generate: the text to continue (default empty)\n"
    "  --temperature T     0 is greedy (default 1.0)\n"
    "  --top-p P           nucleus sampling mass, 0 to 1 (default 0.9)\n"
    "  --seed N            sampling seed (default 1)\n"
    "  --steps N           generate: tokens in all, prompt included (default 256);\n"
    "                      bench: tokens decoded per stream (default 128)\n"
    "  --threads N         threads (default: one per CPU)\n"
    "  --int8              quantize fp32 weights to int8 as they load\n"
    "  --batch B           bench: streams decoded together, 1 to 16 (default 1)\n"
    "  --kernels K         auto (default), avxvnni, avx2, portable or reference\n"
    "  --group-size N      quantize: values per scale (default 64, or less to fit)\n";

struct lm_opts {
	const char *model, *tokenizer, *prompt;
	double temperature, top_p;
	long seed, steps, threads, batch, group_size;
	bool int8, steps_set;
	enum lm_kernels kernels;
};

static int parse_real(const char *flag, const char *s, double lo, double hi, double *out)
{
	char *end;
	errno = 0;
	double v = strtod(s, &end);
	if (errno || *end || !*s || !isfinite(v) || v < lo || v > hi) {
		sv_roles_usage_error("lm", "--%s: '%s' is not a number from %g to %g", flag, s, lo,
		                     hi);
		return 2;
	}
	*out = v;
	return 0;
}

static int parse_option(int ch, void *ctx)
{
	struct lm_opts *o = ctx;
	switch (ch) {
	case 'm':
		o->model = optarg;
		return 0;
	case 'k':
		o->tokenizer = optarg;
		return 0;
	case 'p':
		o->prompt = optarg;
		return 0;
	case 't':
		return parse_real("temperature", optarg, 0, 100, &o->temperature);
	case 'P':
		return parse_real("top-p", optarg, 0, 1, &o->top_p);
	case 's':
		return sv_roles_parse_count("lm", "seed", optarg, 0, 0x7fffffffffffffffL, &o->seed);
	case 'n':
		o->steps_set = true;
		return sv_roles_parse_count("lm", "steps", optarg, 1, 1 << 20, &o->steps);
	case 'T':
		return sv_roles_parse_count("lm", "threads", optarg, 1, LM_MAX_THREADS,
		                            &o->threads);
	case 'b':
		return sv_roles_parse_count("lm", "batch", optarg, 1, LM_MAX_BATCH, &o->batch);
	case 'g':
		return sv_roles_parse_count("lm", "group-size", optarg, 4, 4096, &o->group_size);
	case 'q':
		o->int8 = true;
		return 0;
	case 'K':
		if (lm_kernels_parse(optarg, &o->kernels) == 0)
			return 0;
		sv_roles_usage_error("lm",
		                     "--kernels: '%s' is not one of auto, avxvnni, avx2, portable, "
		                     "reference",
		                     optarg);
		return 2;
	default:
		return -1;
	}
}

static int parse(int argc, char **argv, struct lm_opts *o)
{
	static const struct option opts[] = {
	    {"model", required_argument, NULL, 'm'},  {"tokenizer", required_argument, NULL, 'k'},
	    {"prompt", required_argument, NULL, 'p'}, {"temperature", required_argument, NULL, 't'},
	    {"top-p", required_argument, NULL, 'P'},  {"seed", required_argument, NULL, 's'},
	    {"steps", required_argument, NULL, 'n'},  {"threads", required_argument, NULL, 'T'},
	    {"batch", required_argument, NULL, 'b'},  {"group-size", required_argument, NULL, 'g'},
	    {"int8", no_argument, NULL, 'q'},         {"kernels", required_argument, NULL, 'K'},
	    {"help", no_argument, NULL, 'h'},         {0}};
	*o =
	    (struct lm_opts){.prompt = "", .temperature = 1.0, .top_p = 0.9, .seed = 1, .batch = 1};
	return sv_roles_getopt_operands("lm", usage, argc, argv, opts, parse_option, o);
}

static int need_model(const struct lm_opts *o)
{
	if (!o->model || !o->tokenizer) {
		sv_roles_usage_error("lm",
		                     "--model FILE and --tokenizer FILE are required (see --help)");
		return 2;
	}
	return 0;
}

static int fail(const struct sv_err *err)
{
	fprintf(stderr, "storyverse lm: %s\n", err->message);
	return err->code[0] && strcmp(err->code, "io") != 0 && strcmp(err->code, "nomem") != 0 ? 2
	                                                                                       : 1;
}

/* What every command that runs the model opens. */
struct session {
	struct lm_model *model;
	struct lm_tokenizer *tok;
	struct lm_engine *engine;
};

static void session_close(struct session *s)
{
	lm_engine_free(s->engine);
	lm_tokenizer_free(s->tok);
	lm_model_free(s->model);
}

static int session_open(struct session *s, const struct lm_opts *o, struct sv_err *err)
{
	*s = (struct session){0};
	struct lm_open_options oo = {.int8 = o->int8};
	if (lm_model_open(o->model, &oo, &s->model, err) < 0 ||
	    lm_tokenizer_open(o->tokenizer, lm_model_config(s->model)->vocab_size, &s->tok, err) <
	        0 ||
	    !(s->engine = lm_engine_new(s->model, (int)o->threads, o->kernels, err))) {
		session_close(s);
		return -1;
	}
	return 0;
}

/* Prints a piece unless it is a lone unprintable byte (as llama2.c does). */
static void print_piece(const char *piece)
{
	if (!piece[0])
		return;
	if (!piece[1] && !isprint((unsigned char)piece[0]) && !isspace((unsigned char)piece[0]))
		return;
	fputs(piece, stdout);
}

static int encode_prompt(const struct session *s, const char *prompt, int **tokens, int *n,
                         struct sv_err *err)
{
	int max = (int)strlen(prompt) + 3;
	*tokens = malloc(sizeof(int) * (size_t)max);
	if (!*tokens)
		return sv_err_set(err, "nomem", "", "out of memory");
	*n = lm_tokenizer_encode(s->tok, prompt, true, false, *tokens, max, err);
	return *n < 0 ? -1 : 0;
}

static int run_generate(const struct lm_opts *o)
{
	struct sv_err err = {0};
	struct session s;
	if (session_open(&s, o, &err) < 0)
		return fail(&err);
	const struct lm_config *c = lm_model_config(s.model);
	int steps = o->steps_set ? (int)o->steps : 256;
	if (steps > c->seq_len)
		steps = c->seq_len;
	int *prompt = NULL, n = 0;
	struct lm_sampler sampler = {0};
	struct lm_stream *st = NULL;
	int rc = encode_prompt(&s, o->prompt, &prompt, &n, &err);
	if (rc == 0)
		rc = lm_sampler_init(&sampler, c->vocab_size, (float)o->temperature,
		                     (float)o->top_p, (uint64_t)o->seed, &err);
	if (rc == 0 && !(st = lm_stream_new(s.engine, &err)))
		rc = -1;
	if (rc == 0 && n > steps)
		rc = sv_err_set(&err, "invalid_value", "steps",
		                "the prompt is %d tokens, more than --steps %d", n, steps);
	/* The prompt goes in as one batch; its pieces print as they would have
	 * one by one. */
	if (rc == 0)
		rc = lm_engine_prefill(s.engine, st, prompt, n, &err);
	for (int i = 1; rc == 0 && i < n; i++)
		print_piece(lm_tokenizer_decode(s.tok, prompt[i - 1], prompt[i]));
	int64_t t0 = sv_time_mono_ns(), made = 0;
	int token = n > 0 ? prompt[n - 1] : LM_TOKEN_BOS;
	/* As llama2.c counts: a token is sampled after each of the first steps
	 * positions (the prompt's last included); BOS ends the text. */
	while (rc == 0) {
		int next = lm_sampler_sample(&sampler, lm_stream_logits(st));
		if (next == LM_TOKEN_BOS)
			break;
		print_piece(lm_tokenizer_decode(s.tok, token, next));
		fflush(stdout);
		token = next;
		made++;
		if (lm_stream_pos(st) >= steps)
			break;
		rc = lm_engine_step(s.engine, &st, &token, 1, &err);
	}
	if (rc == 0) {
		putchar('\n');
		double secs = (double)(sv_time_mono_ns() - t0) / 1e9;
		if (made > 1 && secs > 0)
			fprintf(stderr, "achieved tok/s: %.1f\n", (double)made / secs);
	}
	lm_stream_free(st);
	lm_sampler_clear(&sampler);
	free(prompt);
	session_close(&s);
	return rc == 0 ? 0 : fail(&err);
}

static double peak_rss_mb(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_maxrss / 1024.0;
}

/* A prompt long enough to measure prefill with. */
static const char bench_prompt[] =
    "Once upon a time, in a quiet village by the sea, a little fox named Pip found a shiny "
    "blue shell on the sand. She wondered where it had come from, so she asked the wise old "
    "turtle who lived beside the rocks, and together they set off along the shore.";

static int bench_decode(struct session *s, struct lm_stream **streams, int batch, int steps,
                        double *secs, struct sv_err *err)
{
	int tokens[LM_MAX_BATCH];
	struct lm_sampler greedy = {0};
	if (lm_sampler_init(&greedy, lm_engine_config(s->engine)->vocab_size, 0, 0, 1, err) < 0)
		return -1;
	int rc = 0;
	int64_t t0 = sv_time_mono_ns();
	for (int i = 0; rc == 0 && i < steps; i++) {
		for (int b = 0; b < batch; b++)
			tokens[b] = lm_sampler_sample(&greedy, lm_stream_logits(streams[b]));
		rc = lm_engine_step(s->engine, streams, tokens, batch, err);
	}
	*secs = (double)(sv_time_mono_ns() - t0) / 1e9;
	lm_sampler_clear(&greedy);
	return rc;
}

static int run_bench(const struct lm_opts *o)
{
	struct sv_err err = {0};
	struct session s;
	if (session_open(&s, o, &err) < 0)
		return fail(&err);
	const struct lm_config *c = lm_model_config(s.model);
	int batch = (int)o->batch, steps = o->steps_set ? (int)o->steps : 128;
	int *prompt = NULL, n = 0, rc = encode_prompt(&s, bench_prompt, &prompt, &n, &err);
	if (rc == 0 && n + steps > c->seq_len)
		rc = sv_err_set(
		    &err, "invalid_value", "steps",
		    "--steps %d and a %d-token prompt do not fit the model's %d positions", steps,
		    n, c->seq_len);
	struct lm_stream *streams[LM_MAX_BATCH] = {0};
	for (int b = 0; rc == 0 && b < batch; b++)
		if (!(streams[b] = lm_stream_new(s.engine, &err)))
			rc = -1;
	double prefill = 0, decode = 0;
	for (int b = 0; rc == 0 && b < batch; b++) {
		int64_t t0 = sv_time_mono_ns();
		rc = lm_engine_prefill(s.engine, streams[b], prompt, n, &err);
		prefill += (double)(sv_time_mono_ns() - t0) / 1e9;
	}
	if (rc == 0)
		rc = bench_decode(&s, streams, batch, steps, &decode, &err);
	if (rc == 0) {
		printf("model       dim %d, hidden %d, %d layers, %d/%d heads, vocab %d, %s\n",
		       c->dim, c->hidden_dim, c->n_layers, c->n_heads, c->n_kv_heads, c->vocab_size,
		       c->group_size ? "int8" : "fp32");
		printf("weights     %.1f MB read per step\n",
		       (double)lm_model_weight_bytes(s.model) / 1e6);
		printf("kernels     %s, %d threads, batch %d\n",
		       lm_kernels_name(lm_engine_kernels(s.engine)), lm_engine_threads(s.engine),
		       batch);
		printf("prefill     %d tokens x %d in %.3f s: %.1f tok/s\n", n, batch, prefill,
		       (double)n * batch / prefill);
		printf("decode      %d tokens x %d in %.3f s: %.1f tok/s per stream\n", steps,
		       batch, decode, (double)steps / decode);
		printf("memory      %.1f MB peak resident\n", peak_rss_mb());
		printf("%.1f tok/s\n", (double)steps * batch / decode);
	}
	for (int b = 0; b < batch; b++)
		lm_stream_free(streams[b]);
	free(prompt);
	session_close(&s);
	return rc == 0 ? 0 : fail(&err);
}

static int run_quantize(const struct lm_opts *o, int argc, char **argv)
{
	if (argc - optind != 2) {
		sv_roles_usage_error("lm", "quantize takes IN and OUT (see --help)");
		return 2;
	}
	struct sv_err err = {0};
	if (lm_model_quantize(argv[optind], argv[optind + 1], (int)o->group_size, &err) < 0)
		return fail(&err);
	return 0;
}

int sv_roles_cmd_lm(int argc, char **argv)
{
	if (argc < 2) {
		fputs(usage, stderr);
		return 2;
	}
	const char *sub = argv[1];
	if (strcmp(sub, "--help") == 0 || strcmp(sub, "-h") == 0) {
		fputs(usage, stdout);
		return 0;
	}
	struct lm_opts o;
	int rc = parse(argc - 1, argv + 1, &o);
	if (rc)
		return rc == 1 ? 0 : rc;
	if (strcmp(sub, "quantize") == 0)
		return run_quantize(&o, argc - 1, argv + 1);
	if (strcmp(sub, "generate") != 0 && strcmp(sub, "bench") != 0) {
		sv_roles_usage_error(
		    "lm", "unknown command '%s' (choose generate, bench or quantize)", sub);
		return 2;
	}
	if ((rc = sv_roles_no_operands("lm", argc - 1, argv + 1)) || (rc = need_model(&o)))
		return rc;
	return strcmp(sub, "generate") == 0 ? run_generate(&o) : run_bench(&o);
}
