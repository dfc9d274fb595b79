/*
 * Shared between the files of the roles module only: the running server's
 * state, the API routes, the text workers and small command-line helpers.
 */
#ifndef SV_ROLES_INTERNAL_H
#define SV_ROLES_INTERNAL_H

#include "base/base.h"
#include "http/http.h"
#include "store/store.h"
#include "story/story.h"

#include <pthread.h>
#include <signal.h>
#include <stdbool.h>
#include <stddef.h>

#define SV_JOB_KIND_TEXT    "text"
#define SV_JOB_KIND_IMAGE   "image"
#define SV_JOB_KIND_AUDIO   "audio"
#define SV_JOB_KINDS_MAX    4
#define SV_JOB_MAX_ATTEMPTS 5
#define SV_JOB_LEASE_MS     60000
/* How many times a model is asked again for a page that moderation refuses. */
#define SV_TEXT_REWRITES      2
#define SV_JOB_BACKOFF_MS     1000
#define SV_JOB_BACKOFF_CAP_MS 60000

/* The options every process role takes (serve, worker). */
struct sv_roles_common {
	const char *listen;         /* --listen ADDR:PORT */
	const char *data;           /* --data DIR: home of the default database and blobs */
	const char *database;       /* --database URL, NULL: sqlite:DATA/storyverse.db */
	const char *blobs;          /* --blobs URL, NULL: file:DATA/blobs */
	long lease_s;               /* --lease-seconds */
	bool no_images;             /* --no-images: stories get words only, no image stage */
	const char *image_provider; /* --image-provider local|comfyui (NULL: local) */
	const char *comfyui_url;    /* --comfyui-url URL */
	const char *text_provider;  /* --text-provider grammar|local|openai (NULL: grammar) */
	const char *lm_model;       /* --lm-model FILE: serve /v1/completions, and write with it */
	const char *lm_tokenizer;   /* --lm-tokenizer FILE */
	long lm_threads;            /* --lm-threads N (0: one per CPU) */
	bool lm_int8;               /* --lm-int8: quantize fp32 weights as they load */
	const char *openai_model;   /* --openai-model NAME */
	const char *openai_api;     /* --openai-api chat|completions (NULL: chat) */
	bool no_audio;              /* --no-audio: stories are not read aloud */
	const char *tts;            /* --tts espeak-ng|flite (NULL: espeak-ng) */
	bool no_music;              /* --no-music: narration without the music bed */
};

/* The long-only options' codes (beyond any short option's or a command's own). */
enum {
	SV_OPT_TEXT_PROVIDER = 0x200,
	SV_OPT_LM_MODEL,
	SV_OPT_LM_TOKENIZER,
	SV_OPT_LM_THREADS,
	SV_OPT_LM_INT8,
	SV_OPT_OPENAI_MODEL,
	SV_OPT_OPENAI_API,
	SV_OPT_NO_AUDIO,
	SV_OPT_TTS,
	SV_OPT_NO_MUSIC,
};

/* The long options of sv_roles_common_option, for a command's option table. */
#define SV_ROLES_COMMON_OPTIONS                                                                    \
	{"listen", required_argument, NULL, 'l'}, {"data", required_argument, NULL, 'd'},          \
	    {"database", required_argument, NULL, 'D'}, {"blobs", required_argument, NULL, 'B'},   \
	    {"lease-seconds", required_argument, NULL, 'L'},                                       \
	    {"log-level", required_argument, NULL, 'v'}, {"no-images", no_argument, NULL, 'I'},    \
	    {"image-provider", required_argument, NULL, 'P'},                                      \
	    {"comfyui-url", required_argument, NULL, 'U'}, SV_ROLES_TEXT_OPTIONS,                  \
	    SV_ROLES_AUDIO_OPTIONS

/* The narration options, for serve, worker and generate. */
#define SV_ROLES_AUDIO_OPTIONS                                                                     \
	{"no-audio", no_argument, NULL, SV_OPT_NO_AUDIO},                                          \
	    {"tts", required_argument, NULL, SV_OPT_TTS},                                          \
	{                                                                                          \
		"no-music", no_argument, NULL, SV_OPT_NO_MUSIC                                     \
	}
#define SV_ROLES_AUDIO_USAGE                                                                       \
	"  --tts P              the speech synthesiser: espeak-ng (the default) or flite\n"        \
	"  --no-music           narration without the quiet music underneath\n"

/* The text provider and language model options, for serve, worker and generate. */
#define SV_ROLES_TEXT_OPTIONS                                                                      \
	{"text-provider", required_argument, NULL, SV_OPT_TEXT_PROVIDER},                          \
	    {"lm-model", required_argument, NULL, SV_OPT_LM_MODEL},                                \
	    {"lm-tokenizer", required_argument, NULL, SV_OPT_LM_TOKENIZER},                        \
	    {"lm-threads", required_argument, NULL, SV_OPT_LM_THREADS},                            \
	    {"lm-int8", no_argument, NULL, SV_OPT_LM_INT8},                                        \
	    {"openai-model", required_argument, NULL, SV_OPT_OPENAI_MODEL},                        \
	{                                                                                          \
		"openai-api", required_argument, NULL, SV_OPT_OPENAI_API                           \
	}

#define SV_ROLES_TEXT_USAGE                                                                        \
	"  --text-provider P    who writes the pages: grammar (the default), local (the\n"         \
	"                       language model below) or openai (an OpenAI-compatible\n"           \
	"                       server at $STORYVERSE_OPENAI_BASE_URL, key in\n"                   \
	"                       $STORYVERSE_OPENAI_API_KEY)\n"                                     \
	"  --lm-model FILE      a llama2.c checkpoint: serves /v1/completions and writes\n"        \
	"                       pages with --text-provider local\n"                                \
	"  --lm-tokenizer FILE  its tokenizer.bin\n"                                               \
	"  --lm-threads N       the model's threads (default: one per CPU)\n"                      \
	"  --lm-int8            quantize an fp32 model to int8 as it loads\n"                      \
	"  --openai-model NAME  the model the openai provider asks for (default: default)\n"       \
	"  --openai-api API     chat (the default: /v1/chat/completions) or completions\n"

/* The usage lines of the common options (after --listen, which differs): those
 * naming where things are kept, then all of them. */
/* The image provider options, for serve, worker and generate. */
#define SV_ROLES_PICTURES_USAGE                                                                    \
	"  --image-provider P   local (draw here, the default) or comfyui (ask a ComfyUI\n"        \
	"                       server for each page, drawing here when it cannot answer)\n"       \
	"  --comfyui-url URL    the ComfyUI server (default: http://127.0.0.1:8188)\n"

#define SV_ROLES_STORE_USAGE                                                                       \
	"  --data DIR           where stories are kept (default: ./data)\n"                        \
	"  --database URL       the store: sqlite:PATH or postgres://USER@HOST:PORT/DB\n"          \
	"                       (default: sqlite:DATA/storyverse.db)\n"                            \
	"  --blobs URL          pictures, sound and exports: file:DIR or\n"                        \
	"                       s3://BUCKET?endpoint=URL&region=REGION (default: "                 \
	"file:DATA/blobs)\n"
#define SV_ROLES_LOG_USAGE "  --log-level LEVEL    debug, info, warn or error (default: info)\n"
#define SV_ROLES_COMMON_USAGE                                                                      \
	SV_ROLES_STORE_USAGE                                                                       \
	"  --lease-seconds N    how long a worker holds a job before another may take it\n"        \
	"                       (default: 60)\n"                                                   \
	"  --no-images          words only: text workers finish stories without "                  \
	"pictures\n"                                                                               \
	"  --no-audio           stories are not read aloud (no audio "                             \
	"stage)\n" SV_ROLES_PICTURES_USAGE SV_ROLES_TEXT_USAGE SV_ROLES_AUDIO_USAGE                \
	    SV_ROLES_LOG_USAGE

/* Handles one of the common options: 0 taken, 2 after a one-line usage
 * error, -1 when ch is not one of them. */
int sv_roles_common_option(const char *cmd, int ch, struct sv_roles_common *c);

/* Everything a serving process holds; owned by cmd_serve, shared by the
 * handlers and the workers. */
struct sv_app {
	struct sv_catalog *catalog;
	struct sv_store *store;
	struct sv_blobs *blobs;
	struct sv_metrics *metrics;
	char *catalog_json; /* the catalog rendered once: GET /api/v1/catalog */

	/* Workers sleep on wake until a story is created or a second passes. */
	pthread_mutex_t lock;
	pthread_cond_t wake;
	int stopping;
	int nworkers;
	pthread_t *workers;
	struct sv_roles_held *held; /* the job each worker holds, for the heartbeat */
	pthread_t heartbeat;
	pthread_cond_t heartbeat_wake; /* signalled (with lock) to stop the heartbeat */
	bool heartbeat_running;
	/* The story event streams open now (events.c). */
	pthread_mutex_t follow_lock;
	struct sv_roles_follow *follows;
	char instance[24]; /* this process's id, prefix of worker names */
	/* The job kinds the workers take, the earlier first (a story's later stages
	 * wait for its earlier ones, so finishing books comes before starting them). */
	const char *kinds[SV_JOB_KINDS_MAX];
	int nkinds;
	json_t *catalog_doc; /* the catalog as JSON: palettes for the pictures */
	bool images;         /* stories go on to the image stage (not --no-images) */
	struct sv_illustrate_remote *remote; /* --image-provider comfyui, else NULL */
	struct sv_roles_lm *lm;              /* --lm-model: the engine behind /v1/completions */
	struct sv_textgen *textgen;          /* who writes the pages (--text-provider) */
	bool audio;                          /* stories go on to the audio stage (not --no-audio) */
	struct sv_moderator *moderator;      /* checks what a request brings */
	struct sv_narrator *narrator;        /* when this process takes audio jobs */
	int64_t lease_ms; /* how long a claimed job stays leased (default: SV_JOB_LEASE_MS) */
	/* Fault injection for the tests: a pause between storing a story's pages
	 * and completing its job, from STORYVERSE_FAULT_JOB_DELAY_MS (default 0). */
	long fault_delay_ms;
};

/* The moderator of the story role (moderation.c). */
int sv_roles_moderate_open(struct sv_app *app, struct sv_err *err);
void sv_roles_moderate_close(struct sv_app *app);
/* Checks the free text of validated parameters for their age group: 0 when
 * all is fine, 1 with *field and *category (static strings) for the first
 * that is not, -1 with err filled. */
int sv_roles_moderate_request(const struct sv_app *app, const struct sv_story_params *p,
                              const char **field, const char **category, struct sv_err *err);
/* Handles one of the narration options: 0 taken, 2 after a one-line usage
 * error, -1 when ch is not one of them. */
int sv_roles_audio_option(const char *cmd, int ch, struct sv_roles_common *c);
/* Opens the narrator into app when it takes audio jobs (or always, with force). */
int sv_roles_audio_open(struct sv_app *app, const struct sv_roles_common *opts, bool force,
                        struct sv_err *err);
void sv_roles_audio_close(struct sv_app *app);
/* Handles one of the text options: 0 taken, 2 after a one-line usage
 * error, -1 when ch is not one of them. */
int sv_roles_text_option(const char *cmd, int ch, struct sv_roles_common *c);
/* Opens the language model (when --lm-model) and the text provider into app. */
int sv_roles_text_open(struct sv_app *app, const struct sv_roles_common *opts, struct sv_err *err);
void sv_roles_text_close(struct sv_app *app);
/* POST /v1/completions and GET /v1/models (503 without a model). */
void sv_roles_completions(void *ctx, const struct sv_http_request *req,
                          struct sv_http_response *res);
void sv_roles_models(void *ctx, const struct sv_http_request *req, struct sv_http_response *res);

/* Opens the catalog, the store and blobs the options name (creating --data
 * when a default needs it), the metrics (every job family declared) and the
 * store's events; set kind before. sv_roles_app_close releases what was
 * opened, also after a failed open. */
int sv_roles_app_open(struct sv_app *app, const struct sv_roles_common *opts, struct sv_err *err);
void sv_roles_app_close(struct sv_app *app);
/* "sqlite:DATA/storyverse.db", the default --database. */
void sv_roles_default_database(const char *data, char *out, size_t n);
/* Opens the store of --database, or the default under --data when it is
 * NULL, for the commands that need only the store; url (n bytes) says which. */
struct sv_store *sv_roles_store_open(const char *data, const char *database, char *url, size_t n,
                                     struct sv_err *err);
/* The database URL the options name (the default under --data when none);
 * the data folder is created for the default. */
int sv_roles_database_url(const struct sv_roles_common *opts, char *out, size_t n,
                          struct sv_err *err);
/* The blob store URL the options name (file:DATA/blobs when none); the data
 * folder is created for the default. */
int sv_roles_blobs_url(const struct sv_roles_common *opts, char *out, size_t n, struct sv_err *err);
/* Starts what a process role runs (opts are the command's own options). */
typedef int (*sv_roles_start_fn)(struct sv_app *app, const void *opts, struct sv_http_server **http,
                                 struct sv_err *err);
/* Runs a process role: blocks the stop signals, starts it, waits for SIGTERM or
 * SIGINT, then stops the HTTP server and the workers (the workers first when
 * drain_first, so jobs in hand finish while /healthz still answers) and closes
 * the app. Returns the exit status. */
int sv_roles_run(const char *cmd, sv_roles_start_fn start, const void *opts, int drain_first);
/* Reports a start-up failure; returns 2 when it names an option, else 1. */
int sv_roles_start_error(const char *cmd, const struct sv_err *err);

/* The routes of the gateway and story roles, NULL-terminated. */
extern const struct sv_http_route sv_roles_routes[];
/* GET /api/v1/stories/{id}/events: the story's progress as Server-Sent Events. */
void sv_roles_story_events(void *ctx, const struct sv_http_request *req,
                           struct sv_http_response *res);
/* Only /healthz, /readyz and /metrics: what a worker process serves. */
extern const struct sv_http_route sv_roles_health_routes[];

/* Marks the event streams of story id (every stream when id is "") to look
 * at the store again: called for the store's story events. */
void sv_roles_events_changed(struct sv_app *app, const char *id);

/* Whether kind is a job kind of the pipeline (each has a worker). */
bool sv_roles_job_kind(const char *kind);
/* The i-th known job kind, NULL past the last. */
const char *sv_roles_job_kind_at(size_t i);

/* The stored story a request continues (its "continue_from"): *prev is a new
 * reference, or NULL when the request names none (or names it with the wrong
 * type, which reading the parameters reports). Returns 0; -1 with err naming
 * continue_from when there is no such story (unknown_id) or it is not ready
 * yet (invalid_value); -2 when the store fails. */
int sv_roles_load_previous(struct sv_app *app, const json_t *request, json_t **prev,
                           struct sv_err *err);

/* Whether this process's workers take jobs of kind ("" : any). */
bool sv_roles_takes_kind(const struct sv_app *app, const char *kind);
/* Starts n threads taking jobs of app->kinds. */
int sv_roles_workers_start(struct sv_app *app, int n, struct sv_err *err);
void sv_roles_workers_stop(struct sv_app *app);

/* ---- pictures (pictures.c) ---- */

#define SV_ROLES_PICTURES_DIR "images" /* where a story's pictures go, beside story.html */

/* Keeps one file of a story (its name like "images/page-01.png"): 0, or -1
 * with err filled. */
typedef int (*sv_roles_file_fn)(void *ctx, const char *name, const char *content_type,
                                const void *data, size_t len, struct sv_err *err);
/* Records in the story document what its pictures are: each page's "picture"
 * and the story's "cover", {"image","thumbnail","alt"}. */
int sv_roles_pictures_describe(json_t *story, struct sv_err *err);
/* Draws the cover and every page in the story's style, each with its
 * thumbnail, handing every PNG to put; progress (may be NULL) after each page. */
struct sv_illustrate_remote;
/* remote, when not NULL, is asked for each page first (the cover is always
 * drawn here, for its title); a page it cannot give is drawn here. */
int sv_roles_pictures_draw(const json_t *story, const json_t *catalog,
                           struct sv_illustrate_remote *remote, sv_roles_file_fn put, void *ctx,
                           void (*progress)(void *ctx, int done, int total), struct sv_err *err);
/* Opens the image provider --image-provider names: 0 with *out NULL for
 * "local", a ComfyUI remote at url for "comfyui"; -1 with err naming the option. */
int sv_roles_image_provider(const char *provider, const char *url,
                            struct sv_illustrate_remote **out, struct sv_err *err);

/* Whether id looks like a story id: SV_STORE_ID_LEN lowercase hex characters. */
bool sv_roles_story_id_valid(const char *id);

/* A random seed for generation when none was given (53 bits, like JSON numbers). */
uint64_t sv_roles_random_seed(void);

struct option;
/* Handles one option (its value in optarg): 0 when taken, 2 after a one-line
 * usage error, -1 when the option is not one of the command's. */
typedef int (*sv_roles_option_fn)(int ch, void *ctx);
/* Parses argv with getopt_long and opts (where --help is 'h', answered with
 * usage on stdout), handing every other option to handle. Returns 0 to run, 1
 * when --help was printed, 2 on bad usage (the message already printed). */
int sv_roles_getopt(const char *cmd, const char *usage, int argc, char **argv,
                    const struct option *opts, sv_roles_option_fn handle, void *ctx);
/* The same, leaving the arguments after the options (from optind) to the
 * caller instead of refusing them. */
int sv_roles_getopt_operands(const char *cmd, const char *usage, int argc, char **argv,
                             const struct option *opts, sv_roles_option_fn handle, void *ctx);
/* Sets the log level from --log-level: 0, or 2 after a one-line message. */
int sv_roles_parse_log_level(const char *cmd, const char *arg);

/* Reports what getopt_long (run with opterr = 0 and a leading ':' in its
 * option string) returned for a bad option; returns the exit status 2. */
int sv_roles_bad_option(const char *cmd, int ch, char **argv);
/* Returns 2 after a one-line message when arguments are left after the
 * options, 0 otherwise. */
int sv_roles_no_operands(const char *cmd, int argc, char **argv);

/* Parses a whole number from min to max for --flag: 0, or the exit status 2
 * after a one-line message. */
int sv_roles_parse_count(const char *cmd, const char *flag, const char *s, long min, long max,
                         long *out);

/* Prints "storyverse CMD: message" on stderr as one line. */
void sv_roles_usage_error(const char *cmd, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

#endif
