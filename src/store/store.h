/*
 * store: durable metadata and the job queue.
 *
 * One interface, backends behind a table of function pointers chosen from the
 * database URL ("sqlite:PATH" today). Stories, their pages and their jobs live
 * together so that creating a story and its first job is one transaction, and
 * finishing a job and marking its story ready is another.
 *
 * Jobs carry a lease: a worker that claims one owns it until lease_until; a
 * worker that dies simply lets the lease lapse and the next claim takes the
 * job again. Failures retry with exponential backoff, then dead-letter.
 *
 * A struct sv_store is safe to use from many threads at once.
 */
#ifndef SV_STORE_H
#define SV_STORE_H

#include "base/base.h"

#include <jansson.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

struct sv_store;

/* The schema every backend migrates to (each keeps one migration per version). */
#define SV_STORE_SCHEMA_VERSION 4

#define SV_STORE_ID_LEN 32 /* story ids are 32 lowercase hex characters */

/* A story is queued, generating, then ready or failed; output moderation may
 * hold it in review on the way, where a person approves it (it goes on) or
 * rejects it (never delivered). */
#define SV_STORE_NSTATUSES 6

/* A story row. Strings are owned by the struct: release with sv_store_story_clear. */
struct sv_store_story {
	char id[SV_STORE_ID_LEN + 1];
	char status[16];                /* one of sv_store_statuses */
	int64_t seq;                    /* insertion order, used as the list cursor */
	int64_t created_at, updated_at; /* unix milliseconds */
	char *params;                   /* JSON text */
	char *title;                    /* NULL until ready */
	char *story;                    /* JSON text of the whole story, NULL until ready */
	char *error;                    /* NULL unless failed or rejected */
	char *review;                   /* JSON text: why it was held for review, else NULL */
};

void sv_store_story_clear(struct sv_store_story *s);

struct sv_store_job {
	int64_t id;
	char kind[16];
	char story_id[SV_STORE_ID_LEN + 1];
	int attempts; /* including the current one */
	int max_attempts;
};

/* A stored file of a story (its HTML export today; pictures and narration
 * later): a name unique within the story and the blob that holds its bytes. */
struct sv_store_media {
	char name[64];
	char blob[64 + 1]; /* a blob key: hex SHA-256 */
	char content_type[64];
	int64_t size;
};

/* What changed, for the processes waiting on it: a job of a kind became
 * runnable (payload: the kind), or a story moved on (payload: its id). An
 * empty payload means "anything may have changed" (a listener reconnected). */
enum sv_store_event { SV_STORE_EVENT_JOB, SV_STORE_EVENT_STORY };
typedef void (*sv_store_event_fn)(void *ctx, enum sv_store_event event, const char *payload);

/* The backend contract. Every function returns 0 on success, -1 on error
 * (err filled), and where documented 1 for "not found" / "nothing to do". */
struct sv_store_ops {
	const char *scheme;
	void *(*open)(const char *location, struct sv_err *err);
	void (*close)(void *impl);
	int (*ping)(void *impl, struct sv_err *err);
	int (*schema_version)(void *impl, int *version, struct sv_err *err);
	int (*story_create)(void *impl, const char *id, const char *params, const char *job_kind,
	                    int max_attempts, int64_t now, struct sv_err *err);
	int (*story_get)(void *impl, const char *id, struct sv_store_story *out,
	                 struct sv_err *err);
	int (*story_list)(void *impl, int64_t before_seq, int limit, struct sv_store_story *out,
	                  int *count, struct sv_err *err);
	int (*story_delete)(void *impl, const char *id, struct sv_err *err);
	int (*story_counts)(void *impl, int64_t counts[SV_STORE_NSTATUSES], struct sv_err *err);
	int (*jobs_queued)(void *impl, const char *kind, int64_t *count, struct sv_err *err);
	int (*page_count)(void *impl, const char *story_id, int64_t *count, struct sv_err *err);
	int (*job_claim)(void *impl, const char *kind, const char *worker, int64_t now,
	                 int64_t lease_ms, struct sv_store_job *out, struct sv_err *err);
	int (*job_heartbeat)(void *impl, const struct sv_store_job *job, const char *worker,
	                     int64_t now, int64_t lease_ms, struct sv_err *err);
	int (*page_put)(void *impl, const char *story_id, int number, const char *page,
	                struct sv_err *err);
	int (*job_succeed)(void *impl, const struct sv_store_job *job, const char *worker,
	                   const char *title, const char *story, int64_t now, struct sv_err *err);
	int (*job_hand_on)(void *impl, const struct sv_store_job *job, const char *worker,
	                   const char *title, const char *story, const char *next_kind, int64_t now,
	                   struct sv_err *err);
	int (*job_fail)(void *impl, const struct sv_store_job *job, const char *worker,
	                const char *message, int64_t now, int64_t retry_at, struct sv_err *err);
	int (*job_hold)(void *impl, const struct sv_store_job *job, const char *worker,
	                const char *title, const char *story, const char *review,
	                const char *next_kind, int64_t now, struct sv_err *err);
	int (*review_list)(void *impl, struct sv_store_story *out, int max, int *count,
	                   struct sv_err *err);
	/* As sv_store_review_decide; queued says the kind of the job an approval
	 * queued ("" when none), for the front's events. */
	int (*review_decide)(void *impl, const char *id, bool approve, const char *note,
	                     int64_t now, char queued[16], struct sv_err *err);
	int (*media_put)(void *impl, const char *story_id, const struct sv_store_media *m,
	                 struct sv_err *err);
	int (*media_get)(void *impl, const char *story_id, const char *name,
	                 struct sv_store_media *out, struct sv_err *err);
	int (*media_list)(void *impl, const char *story_id, struct sv_store_media *out, int max,
	                  int *count, struct sv_err *err);
	/* Optional: delivers the events of every process sharing the database to fn
	 * from a thread of the backend's own, until close. NULL when the backend
	 * has no way to hear other processes (the front then tells only this one). */
	int (*listen)(void *impl, sv_store_event_fn fn, void *ctx, struct sv_err *err);
	/* Optional, for backup: writes a consistent snapshot of the whole database
	 * as files under dir (an empty folder that exists). Returns the number of
	 * stories in the snapshot, or -1. */
	int (*dump)(void *impl, const char *dir, struct sv_err *err);
	/* Optional, for restore: loads what dump of the same backend wrote under
	 * dir into this database, in one transaction; the database must hold no
	 * stories ("conflict" if it does). Returns the number of stories loaded, or -1. */
	int (*load)(void *impl, const char *dir, struct sv_err *err);
};

/* Opens "sqlite:PATH" (creating the file) or "postgres://USER@HOST:PORT/DB", and
 * applies the schema migrations. */
struct sv_store *sv_store_open(const char *url, struct sv_err *err);
void sv_store_close(struct sv_store *s);

/* The statuses, in the order of the counts returned by sv_store_story_counts:
 * queued, generating, review, ready, failed, rejected. */
extern const char *const sv_store_statuses[SV_STORE_NSTATUSES];

int sv_store_ping(struct sv_store *s, struct sv_err *err);
/* The newest schema migration applied to the database. */
int sv_store_schema_version(struct sv_store *s, int *version, struct sv_err *err);
/* Stores a queued story and its first job atomically. */
int sv_store_story_create(struct sv_store *s, const char *id, const char *params,
                          const char *job_kind, int max_attempts, int64_t now, struct sv_err *err);
/* 0 and *out filled, 1 when there is no such story, -1 on error. */
int sv_store_story_get(struct sv_store *s, const char *id, struct sv_store_story *out,
                       struct sv_err *err);
/* Newest first, stories with seq < before_seq (0: from the newest); out holds
 * room for limit rows, *count says how many were filled. Rows carry no story text. */
int sv_store_story_list(struct sv_store *s, int64_t before_seq, int limit,
                        struct sv_store_story *out, int *count, struct sv_err *err);
/* 0 deleted (with its pages and jobs), 1 not found. */
int sv_store_story_delete(struct sv_store *s, const char *id, struct sv_err *err);
int sv_store_story_counts(struct sv_store *s, int64_t counts[SV_STORE_NSTATUSES],
                          struct sv_err *err);
int sv_store_jobs_queued(struct sv_store *s, const char *kind, int64_t *count, struct sv_err *err);
/* How many pages of a story are stored so far (0 for an unknown story). */
int sv_store_page_count(struct sv_store *s, const char *story_id, int64_t *count,
                        struct sv_err *err);

/* Takes the oldest runnable job of a kind (queued and due, or running with a
 * lapsed lease) and leases it to worker. 0 claimed, 1 none runnable. */
int sv_store_job_claim(struct sv_store *s, const char *kind, const char *worker, int64_t now,
                       int64_t lease_ms, struct sv_store_job *out, struct sv_err *err);
/* Extends the lease; 1 when the worker no longer holds it. */
int sv_store_job_heartbeat(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                           int64_t now, int64_t lease_ms, struct sv_err *err);
/* Stores one page; storing the same page again replaces it, never duplicates it. */
int sv_store_page_put(struct sv_store *s, const char *story_id, int number, const char *page,
                      struct sv_err *err);
/* Marks the job done and its story ready with the story text (NULL title or
 * story keeps what an earlier job stored), atomically.
 * 1 when the worker no longer holds the lease (nothing changes). */
int sv_store_job_succeed(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                         const char *title, const char *story, int64_t now, struct sv_err *err);
/* Marks the job done, stores the story's title and text (NULL keeps what is
 * there) and queues its next job of next_kind, atomically: the story stays
 * generating until the last job of its pipeline succeeds. 1 when the worker
 * no longer holds the lease (nothing changes). */
int sv_store_job_hand_on(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                         const char *title, const char *story, const char *next_kind, int64_t now,
                         struct sv_err *err);
/* Records a failed attempt: the job is queued again at retry_at, or, after
 * its last attempt, dead-lettered and its story marked failed. */
int sv_store_job_fail(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                      const char *message, int64_t now, int64_t retry_at, struct sv_err *err);
/* Marks the job done and holds its story for review, atomically: status
 * review, title and story stored (NULL keeps what is there), review the
 * reason (JSON text, required), next_kind the job that approval queues
 * (NULL: approval makes the story ready). 1 when the worker no longer holds
 * the lease (nothing changes); -1 also without a review, or with a next_kind
 * that does not fit struct sv_store_job's kind. */
int sv_store_job_hold(struct sv_store *s, const struct sv_store_job *job, const char *worker,
                      const char *title, const char *story, const char *review,
                      const char *next_kind, int64_t now, struct sv_err *err);

/* ---- the review queue: stories that output moderation held for a person ---- */

/* Stories waiting for review, oldest first (by seq); out holds room for max rows,
 * *count says how many were filled. Rows carry params, title and review, not the story text. */
int sv_store_review_list(struct sv_store *s, struct sv_store_story *out, int max, int *count,
                         struct sv_err *err);
/* Decides a story held for review, atomically. Approve: with a review_next kind the
 * story goes back to generating and a job of that kind is queued (max_attempts as the
 * text job had; same as job_hand_on does), else it becomes ready. Reject: the story
 * becomes rejected with note (or "rejected in review") as its error. The review
 * column is kept either way (it is the record of why). 0, 1 when there is no story
 * with that id waiting for review, -1. */
int sv_store_review_decide(struct sv_store *s, const char *id, bool approve, const char *note,
                           int64_t now, struct sv_err *err);

/* Records a media file of a story (replacing one of the same name). */
int sv_store_media_put(struct sv_store *s, const char *story_id, const struct sv_store_media *m,
                       struct sv_err *err);
/* 0 and *out filled, 1 when the story has no media of that name. */
int sv_store_media_get(struct sv_store *s, const char *story_id, const char *name,
                       struct sv_store_media *out, struct sv_err *err);
/* The media of a story by name; out holds room for max rows. */
int sv_store_media_list(struct sv_store *s, const char *story_id, struct sv_store_media *out,
                        int max, int *count, struct sv_err *err);

/* Calls fn (from any thread; keep it short, it must not call the store) for
 * every event: on PostgreSQL those of all processes, through LISTEN/NOTIFY;
 * on SQLite those of this process. At most 8 subscribers, for the store's life. */
int sv_store_subscribe(struct sv_store *s, sv_store_event_fn fn, void *ctx, struct sv_err *err);
/* Whether subscribers hear the changes of other processes too (after a
 * subscribe on a backend with LISTEN/NOTIFY); when not, those who follow
 * another process's work must look at the store often. */
bool sv_store_hears_others(struct sv_store *s);

/* The delay before attempt n+1 (n >= 1): base * 2^(n-1), capped. */
int64_t sv_store_backoff_ms(int attempts, int64_t base_ms, int64_t cap_ms);

/* ---- blobs: content-addressed bytes (images, audio, exports) ----
 *
 * A second interface beside the metadata store, chosen from its own URL:
 * "file:DIR" (a directory tree) or "s3://BUCKET?endpoint=URL&region=R" (any
 * S3-compatible server, signed with AWS Signature V4 from AWS_ACCESS_KEY_ID,
 * AWS_SECRET_ACCESS_KEY and, when set, AWS_SESSION_TOKEN). A blob's key is the
 * lowercase hex SHA-256 of its bytes, so storing the same bytes twice is one
 * blob, and a stored blob never changes. A struct sv_blobs is safe to use from
 * many threads at once. */

struct sv_blobs;

#define SV_BLOB_KEY_LEN 64 /* hex SHA-256 */

struct sv_blob_ops {
	const char *scheme;
	void *(*open)(const char *location, struct sv_err *err);
	void (*close)(void *impl);
	/* Stores data under key unless a blob with that key is already there. */
	int (*put)(void *impl, const char *key, const void *data, size_t len, struct sv_err *err);
	/* 0 with the bytes appended to out, 1 when there is no such blob. */
	int (*get)(void *impl, const char *key, struct sv_buf *out, struct sv_err *err);
	/* Calls fn for every stored key (in no particular order) until fn returns non-zero,
	 * which is then returned. */
	int (*list)(void *impl, int (*fn)(void *ctx, const char *key), void *ctx,
	            struct sv_err *err);
};

/* Opens "file:DIR" (creating DIR) or "s3://BUCKET?endpoint=…&region=…". */
struct sv_blobs *sv_store_blobs_open(const char *url, struct sv_err *err);
void sv_store_blobs_close(struct sv_blobs *b);
/* The key of data: its SHA-256 in hex, NUL-terminated. */
void sv_store_blob_key(const void *data, size_t len, char key[SV_BLOB_KEY_LEN + 1]);
/* Stores data and writes its key. A failed write leaves no blob behind. */
int sv_store_blob_put(struct sv_blobs *b, const void *data, size_t len,
                      char key[SV_BLOB_KEY_LEN + 1], struct sv_err *err);
/* 0 with the blob's bytes appended to out, 1 when there is none, -1 on error
 * (also when the stored bytes no longer match their key). */
int sv_store_blob_get(struct sv_blobs *b, const char *key, struct sv_buf *out, struct sv_err *err);
int sv_store_blob_list(struct sv_blobs *b, int (*fn)(void *ctx, const char *key), void *ctx,
                       struct sv_err *err);
/* Whether s is a well-formed blob key. */
bool sv_store_blob_key_valid(const char *s);

/* ---- backup and restore ----
 *
 * One archive file (a gzip'd pax tar) holds a consistent snapshot of the
 * database and every blob. Backup runs beside a live system: the blobs are
 * listed after the snapshot is taken, and since a blob is stored before any
 * row names it and never changes, every blob the snapshot names is in the
 * archive. Restore wants a database of the same backend and schema version
 * that holds no stories ("conflict" otherwise), and checks every blob against
 * its key: the archive is untrusted input. */

struct sv_store_backup_info {
	char backend[16]; /* "sqlite" or "postgres" */
	int schema_version;
	int64_t stories, blobs;
};

/* The backend's name as a backup records it: "sqlite" or "postgres". */
const char *sv_store_backend(struct sv_store *s);
/* The backend's own snapshot of the database as files under dir, and its
 * loading back (see dump and load in struct sv_store_ops): the parts of a
 * backup that sv_store_backup and sv_store_restore wrap. */
int sv_store_dump(struct sv_store *s, const char *dir, struct sv_err *err);
int sv_store_load(struct sv_store *s, const char *dir, struct sv_err *err);

/* Writes the archive to path (through path.tmp, renamed into place only when
 * whole); info, when not NULL, says what it holds. */
int sv_store_backup(struct sv_store *s, struct sv_blobs *b, const char *path,
                    struct sv_store_backup_info *info, struct sv_err *err);
/* Puts the blobs of the archive at path into b, then its database into s;
 * a failure leaves s as it was (and at most some blobs, which nothing names). */
int sv_store_restore(struct sv_store *s, struct sv_blobs *b, const char *path,
                     struct sv_store_backup_info *info, struct sv_err *err);
/* Reads only what an archive says it holds, to check it before opening anything. */
int sv_store_backup_info(const char *path, struct sv_store_backup_info *info, struct sv_err *err);

#endif
